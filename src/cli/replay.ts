// `netpulse replay FILE...`: analyse capture files (or "-" for stdin) read one after
// another as one capture, at full speed or paced by packet time.

import type { Command } from 'commander';
import { FileSource } from '../capture/file-source.js';
import { DEFAULTS, parseSpeed } from '../config.js';
import { AnalyzerError } from '../errors.js';
import { addFeedOptions, feedConfigFromOptions, type FeedCliOptions } from './feed-options.js';
import { addDetectOptions, detectionFromOptions } from './detect-options.js';
import { addAnalysisOptions, commonFromOptions, type CommonCliOptions } from './options.js';
import { runCommand } from './run-analysis.js';

interface ReplayCliOptions extends CommonCliOptions, FeedCliOptions {
  speed: string;
}

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .description('analyse pcap, pcapng or snoop files, plain, gzip- or zstd-compressed, or "-" for stdin')
    .argument('<files...>', 'capture files read one after another as one capture; "-" reads stdin')
    .option('--speed <max|realtime|N>', 'pace by packet time: max (as fast as possible), realtime, or N times real time', 'max');
  addAnalysisOptions(cmd, false);
  addFeedOptions(cmd);
  addDetectOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  netpulse replay capture.pcapng                      report: rates, protocols, top hosts
  netpulse replay a.pcap b.pcap.gz --json | jq .      NDJSON: summaries, gaps, alerts, report
  netpulse replay big.pcap --hosts all --json > out.ndjson
  tcpdump -i eth0 -w - | netpulse replay - --speed realtime
  netpulse replay demo.pcapng --speed 10              ten times real time, a line per second
  netpulse replay demo.pcapng --speed realtime --serve 8080   dashboard on http://127.0.0.1:8080/

Seconds are epoch-aligned (floor of the packet time); bytes are wire lengths; a host is the
outermost IP source (tx) or destination (rx). Defaults: --max-gap ${DEFAULTS.maxGapSeconds} s, --reorder ${DEFAULTS.reorderSeconds} s.`,
  );
  cmd.action(async (files: string[], opts: ReplayCliOptions) => {
    checkStdinOnce(files);
    const speed = parseSpeed(opts.speed);
    const common = commonFromOptions(opts);
    common.shown.speed = speed;
    const feed = feedConfigFromOptions(opts);
    const detection = detectionFromOptions(opts as unknown as Readonly<Record<string, unknown>>);
    const source = new FileSource({
      files,
      speed,
      maxPauseMs: speed === 'max' ? 0 : (common.aggregate.maxGapSeconds * 1000) / speed,
    });
    const code = await runCommand({
      source,
      common,
      live: false,
      paced: speed !== 'max',
      formats: () => source.formats,
      // loaded only when asked for: the feed (ws and all) costs ~60 ms of start-up
      ...(feed === null ? {} : { startFeed: async (a) => (await import('../feed/server.js')).startFeed(feed, a) }),
      detect: detection.detect,
      sinks: detection.sinks,
    });
    process.exitCode = detection.settle(code);
  });
}

/** Names of standard input: "-" and the device files that are the same stream. */
const STDIN_NAMES = new Set(['-', '/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/**
 * Standard input is a stream: it can be read only once. Named twice, the second would meet an
 * input already at its end (ERR_EMPTY_INPUT after a whole first pass): a usage error, said up front.
 */
export function checkStdinOnce(files: readonly string[]): void {
  const named = files.filter((f) => STDIN_NAMES.has(f));
  if (named.length > 1) {
    throw new AnalyzerError(
      'ERR_BAD_OPTION',
      `standard input is named ${named.length} times (${named.map((f) => `"${f}"`).join(', ')}), but it can be read only once: name it once, or save it to a file first`,
    );
  }
}
