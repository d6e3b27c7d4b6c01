// The detect stage the pipeline calls: one per-packet hook composed at configuration time
// from the detectors that need packets, then closed seconds, gaps and the end of input.
// Owns the shared alert gate (ids, allow-list, rate limit) and the report's alert section.

import type { Gap, Report, ReportAlerts, SecondHosts, SecondSummary } from '../aggregate/summary.js';
import type { DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import type { DetectConfig, LifecycleConfig } from './config.js';
import type { Detector } from './detector.js';
import { AlertGate, Tracker, type AlertCounts } from './lifecycle.js';
import { NewHostDetector, type KnownHosts } from './new-host.js';
import { PortScanDetector } from './port-scan.js';
import { RiskyServicesDetector, type RiskEntry } from './risky-services.js';
import { SilenceDetector } from './silence.js';
import { SynFloodDetector } from './syn-flood.js';
import { ThresholdDetector } from './threshold.js';
import { ZscoreDetector } from './zscore.js';

export type PacketHook = (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

/** Counters for the CLI's end-of-run line and the feed's stats. */
export interface DetectStats {
  alerts: AlertCounts;
  /** Conditions raised right now. */
  open: number;
  /** Per detector: entries its fixed tables could not take (floods beyond table size). */
  untracked: Record<string, number>;
  /** new-host: hosts known, learned in the learning period, file write failure. */
  knownHosts: number | null;
  knownHostsError: string | null;
  /** new-host: new hosts not remembered because the list held new-host.max hosts. */
  knownHostsFull: number;
  /** zscore: host series held and evicted. */
  zscoreSeries: number | null;
  zscoreEvicted: number | null;
}

export interface DetectStage {
  /** null when no enabled detector needs packets; else called for every decoded packet. */
  readonly packetHook: PacketHook | null;
  /** Names of the enabled detectors, in the order they run. */
  readonly detectors: readonly string[];
  /** Every closed second in time order; returns the alerts (raised/resolved) it caused.
   *  Sets `risk` on s.hosts when risky-services runs. */
  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[];
  /** A run of empty seconds reported once instead of zero summaries (replay gaps). */
  gap(g: Gap): readonly Alert[];
  /** End of input: resolves every condition still raised. */
  finish(lastTs: number): readonly Alert[];
  /** Adds the alert section and host risk scores to the final report. */
  decorateReport(r: Report): void;
  stats(): DetectStats;
  /** risky-services' report entries that changed since the last call (for a copy of the
   *  report decoration kept on another thread); [] when it does not run. */
  reportChanges(): RiskEntry[];
  /** new-host's known-hosts file as read at start (once; null without one): a detector
   *  thread starts from it rather than read the file again, later. */
  initialKnownHosts?(): KnownHosts | null;
}

/** Raised alerts kept for the report's list. */
const REPORT_LIST_MAX = 1000;

interface Parts {
  threshold?: ThresholdDetector;
  zscore?: ZscoreDetector;
  newHost?: NewHostDetector;
  portScan?: PortScanDetector;
  synFlood?: SynFloodDetector;
  risky?: RiskyServicesDetector;
  silence?: SilenceDetector;
}

export function createDetectStage(config: DetectConfig): DetectStage {
  const gate = new AlertGate(config.allow, config.rateLimit);
  const tracker = (name: string, c: LifecycleConfig): Tracker => new Tracker(name, c, gate, config.maxOpen);
  const parts: Parts = {};
  const list: Detector[] = [];
  // Order matters only for the order of alerts within one second.
  if (config.silence.enabled) list.push((parts.silence = new SilenceDetector(config.silence, tracker('silence', config.silence))));
  if (config.threshold.enabled) {
    list.push((parts.threshold = new ThresholdDetector(config.threshold, tracker('threshold', config.threshold))));
  }
  if (config.zscore.enabled) list.push((parts.zscore = new ZscoreDetector(config.zscore, tracker('zscore', config.zscore))));
  if (config.synFlood.enabled) {
    list.push((parts.synFlood = new SynFloodDetector(config.synFlood, tracker('syn-flood', config.synFlood))));
  }
  if (config.portScan.enabled) {
    list.push((parts.portScan = new PortScanDetector(config.portScan, tracker('port-scan', config.portScan))));
  }
  if (config.newHost.enabled) list.push((parts.newHost = new NewHostDetector(config.newHost, tracker('new-host', config.newHost))));
  if (config.riskyServices.enabled) {
    list.push((parts.risky = new RiskyServicesDetector(config.riskyServices, tracker('risky-services', config.riskyServices))));
  }

  const book = new AlertBook();
  /** Entries each detector's full tables refused (state not kept), by detector; zscore's
   *  count is of host-seconds past its series cap (it follows the busiest hosts by design). */
  const untrackedOf = (withZscore: boolean): Record<string, number> => {
    const untracked: Record<string, number> = {};
    if (parts.portScan !== undefined) untracked['port-scan'] = parts.portScan.untracked;
    if (parts.synFlood !== undefined) untracked['syn-flood'] = parts.synFlood.untracked;
    if (parts.risky !== undefined) untracked['risky-services'] = parts.risky.untracked;
    if (withZscore && parts.zscore !== undefined) untracked.zscore = parts.zscore.untracked;
    return untracked;
  };
  let lastTs = -Infinity;

  const collect = (into: Alert[], alerts: readonly Alert[]): void => {
    for (const a of alerts) into.push(a);
    book.note(alerts);
  };

  return {
    packetHook: composeHooks(list),
    detectors: list.map((d) => d.name),

    observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[] {
      lastTs = s.ts;
      const out: Alert[] = [];
      for (const d of list) collect(out, d.observe(s, hosts));
      const rollup: Alert[] = [];
      gate.step(s.ts, rollup);
      collect(out, rollup);
      return out;
    },

    gap(g: Gap): readonly Alert[] {
      const out: Alert[] = [];
      if (parts.silence !== undefined) collect(out, parts.silence.gap(g));
      if (parts.threshold !== undefined) collect(out, parts.threshold.gap(g));
      parts.zscore?.gap(g);
      if (parts.portScan !== undefined) collect(out, parts.portScan.gap(g));
      lastTs = Math.max(lastTs, g.to);
      return out;
    },

    finish(last: number): readonly Alert[] {
      const ts = Math.max(Math.floor(last), lastTs === -Infinity ? Math.floor(last) : lastTs);
      const out: Alert[] = [];
      for (const d of list) if (d.finish !== undefined) collect(out, d.finish(ts));
      const rollup: Alert[] = [];
      gate.step(ts, rollup, true);
      collect(out, rollup);
      return out;
    },

    decorateReport(r: Report): void {
      parts.risky?.decorateReport(r);
      r.alerts = book.section(gate.counts, untrackedOf(false));
    },

    reportChanges(): RiskEntry[] {
      return parts.risky?.takeReportChanges() ?? [];
    },

    initialKnownHosts(): KnownHosts | null {
      return parts.newHost?.takeInitial() ?? null;
    },

    stats(): DetectStats {
      const untracked = untrackedOf(true);
      return {
        alerts: { ...gate.counts, byDetector: { ...gate.counts.byDetector }, bySeverity: { ...gate.counts.bySeverity } },
        open: gate.counts.raised - gate.counts.resolved,
        untracked,
        knownHosts: parts.newHost?.knownCount ?? null,
        knownHostsError: parts.newHost?.writeError ?? null,
        knownHostsFull: parts.newHost?.overflow ?? 0,
        zscoreSeries: parts.zscore?.series ?? null,
        zscoreEvicted: parts.zscore?.evicted ?? null,
      };
    },
  };
}

/** The report's alert section, kept from the stream of alerts (raised and resolved) and the
 *  gate's counts; the threaded stage keeps one on the main thread from the worker's replies. */
export class AlertBook {
  private readonly list: ReportAlerts['list'] = [];
  private readonly index = new Map<string, number>();

  note(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      if (a.state === 'raised') {
        if (this.list.length < REPORT_LIST_MAX) {
          this.index.set(a.key, this.list.length);
          this.list.push({
            ts: a.ts,
            detector: a.detector,
            note: a.note,
            severity: a.severity,
            host: a.host,
            message: a.message,
            resolvedTs: null,
          });
        }
      } else {
        const i = this.index.get(a.key);
        const entry = i === undefined ? undefined : this.list[i];
        if (entry !== undefined && entry.resolvedTs === null) entry.resolvedTs = a.ts;
        this.index.delete(a.key);
      }
    }
  }

  section(c: AlertCounts, untracked: Readonly<Record<string, number>> = {}): ReportAlerts {
    const refused = Object.entries(untracked).filter(([, n]) => n > 0);
    return {
      raised: c.raised,
      resolved: c.resolved,
      suppressed: c.suppressed,
      rateLimited: c.rateLimited,
      dropped: c.dropped,
      byDetector: { ...c.byDetector },
      bySeverity: { ...c.bySeverity },
      // every raise not yet resolved, as stats().open counts them (the list stops at
      // REPORT_LIST_MAX entries: counting it said 1000 with 10,000 open, or 0 with 233)
      openAtEnd: c.raised - c.resolved,
      list: this.list.map((x) => ({ ...x })),
      ...(refused.length > 0 ? { untracked: Object.fromEntries(refused) } : {}),
    };
  }
}

/** One hook for all packet detectors, fixed at configuration time (no per-packet lookup). */
function composeHooks(list: readonly Detector[]): PacketHook | null {
  const hooks: PacketHook[] = [];
  for (const d of list) if (d.packet !== undefined) hooks.push(d.packet.bind(d));
  // Unrolled for the usual counts: a loop over an array of hooks is a megamorphic call
  // site the compiler cannot inline through, paid once per packet.
  const [a, b, c, d, e] = hooks;
  if (a === undefined) return null;
  if (b === undefined) return a;
  if (c === undefined) {
    return (p, t, w) => {
      a(p, t, w);
      b(p, t, w);
    };
  }
  if (d === undefined) {
    return (p, t, w) => {
      a(p, t, w);
      b(p, t, w);
      c(p, t, w);
    };
  }
  if (e === undefined) {
    return (p, t, w) => {
      a(p, t, w);
      b(p, t, w);
      c(p, t, w);
      d(p, t, w);
    };
  }
  if (hooks.length === 5) {
    return (p, t, w) => {
      a(p, t, w);
      b(p, t, w);
      c(p, t, w);
      d(p, t, w);
      e(p, t, w);
    };
  }
  return (p, t, w) => {
    for (let i = 0; i < hooks.length; i++) hooks[i]?.(p, t, w);
  };
}
