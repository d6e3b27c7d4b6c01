// Options shared by every command that analyses traffic (replay, live): how hosts and
// seconds are counted and what is printed. Each turns into validated AnalysisOptions.

import { Option, type Command } from 'commander';
import { DEFAULTS, parseCount, parseSeconds } from '../config.js';
import { ConfigError } from '../errors.js';
import type { AggregatorOptions } from '../aggregate/aggregator.js';

export interface CommonCliOptions {
  json?: boolean;
  hosts: string;
  top: string;
  maxHosts: string;
  maxGap: string;
  reorder?: string;
  progress?: boolean;
}

export function addAnalysisOptions(cmd: Command, live: boolean): Command {
  return cmd
    .option('--json', 'write NDJSON to stdout: one summary per second, gaps, alerts, then the report (schema in the README)')
    .option('--hosts <n|all>', 'hosts listed in the report, by bytes', String(DEFAULTS.reportHosts))
    .option('--top <n>', 'hosts listed in each per-second summary', String(DEFAULTS.topHosts))
    .option('--max-hosts <n>', 'most hosts kept; beyond it the least active are evicted (and counted)', String(DEFAULTS.maxHosts))
    .option('--max-gap <seconds>', 'runs of empty seconds longer than this are one "gap" message instead of zero rows', String(DEFAULTS.maxGapSeconds))
    .addOption(
      new Option('--reorder <seconds>', 'how long a second stays open for packets that arrive out of time order; older ones count as late')
        .default(live ? '0' : String(DEFAULTS.reorderSeconds)),
    );
}

export interface CommonAnalysis {
  aggregate: AggregatorOptions;
  reportHosts: number;
  json: boolean;
  shown: Record<string, unknown>;
}

/** Most zero rows --max-gap may ask for in one run of empty seconds (a day). */
export const MAX_GAP_LIMIT = 86_400;
/** Longest reorder allowance (every second within it is an open window). */
export const MAX_REORDER = 300;

function maxGapSeconds(value: string): number {
  const s = parseCount('--max-gap', value);
  if (s > MAX_GAP_LIMIT) throw new ConfigError(`--max-gap must be at most ${MAX_GAP_LIMIT} seconds (a day of zero rows; a longer run of empty seconds is one gap message), got ${value}`);
  return s;
}

function reorderSeconds(value: string): number {
  const s = Math.ceil(parseSeconds('--reorder', value));
  if (s > MAX_REORDER) throw new ConfigError(`--reorder must be at most ${MAX_REORDER} seconds (each second within it stays open in memory), got ${value}`);
  return s;
}

export function commonFromOptions(o: CommonCliOptions): CommonAnalysis {
  const aggregate: AggregatorOptions = {
    maxHosts: parseCount('--max-hosts', o.maxHosts, { min: 1 }),
    topHosts: parseCount('--top', o.top),
    // Bounds that keep memory bounded: the zero rows of one empty run are made at once (a day
    // of them is ~10 MB of NDJSON), and every second within the allowance stays open.
    maxGapSeconds: maxGapSeconds(o.maxGap),
    reorderSeconds: reorderSeconds(o.reorder ?? '0'),
    histogramBytes: DEFAULTS.histogramMiB * 1024 * 1024,
  };
  const reportHosts = parseCount('--hosts', o.hosts, { allowAll: true });
  return {
    aggregate,
    reportHosts,
    json: o.json === true,
    shown: {
      maxHosts: aggregate.maxHosts,
      topHosts: aggregate.topHosts,
      maxGapSeconds: aggregate.maxGapSeconds,
      reorderSeconds: aggregate.reorderSeconds,
      reportHosts: Number.isFinite(reportHosts) ? reportHosts : 'all',
    },
  };
}
