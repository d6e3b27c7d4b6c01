// The only place that knows every stage: a source pushes frames through the decoder into
// the aggregator; closed seconds go through detection; every message is built and
// serialised once and handed to every sink. The CLI turns options into a call to this.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { PacketSource, SourceEnd, FrameHandler, Frame, Pressure } from './capture/frame.js';
import { Aggregator, type AggregatorOptions } from './aggregate/aggregator.js';
import type { Gap, Report, SecondHosts, SecondSummary } from './aggregate/summary.js';
import { decodeFrame } from './decode/decoder.js';
import { createDecodedPacket } from './decode/packet.js';
import type { Alert } from './detect/alert.js';
import type { DecodedPacket } from './decode/packet.js';
import { alertMessage, gapMessage, reportMessage, serialize, summaryMessage, SCHEMA_VERSION, type Message, type StatsMessage } from './schema.js';
import type { AnalyzerView, Sink } from './sinks/sink.js';

/** What detection looks like from here (src/detect/stage.ts implements it). */
export interface DetectStageLike {
  readonly async?: false;
  readonly packetHook: ((p: DecodedPacket, tsMicros: number, wirelen: number) => void) | null;
  /** `hosts`: every host of the second, borrowed for the call. */
  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[];
  gap?(g: Gap): readonly Alert[];
  finish(lastTs: number): readonly Alert[];
  decorateReport?(r: Report): void;
}

/** Detection on another thread (src/detect/thread.ts): the same calls, answered later. */
export interface AsyncDetectStageLike {
  readonly async: true;
  readonly packetHook: ((p: DecodedPacket, tsMicros: number, wirelen: number) => void) | null;
  observe(s: SecondSummary, hosts?: SecondHosts): Promise<readonly Alert[]>;
  gap(g: Gap): Promise<readonly Alert[]>;
  finish(lastTs: number): Promise<readonly Alert[]>;
  decorateReport(r: Report): void;
  close(): Promise<void>;
}

export interface AnalysisOptions {
  readonly aggregate: AggregatorOptions;
  /** Hosts listed in the report (Infinity: all). */
  readonly reportHosts: number;
  readonly detect?: DetectStageLike | AsyncDetectStageLike | null;
  /** Options as the user gave them, for hello messages (no secrets). */
  readonly shownOptions?: Readonly<Record<string, unknown>>;
  /** Wall-clock period of `stats` messages; 0 disables them. */
  readonly statsIntervalMs?: number;
}

export interface RunResult {
  readonly end: SourceEnd;
  readonly report: Report;
  /** Alerts published during the run (raised and resolved), oldest first, at most 10,000. */
  readonly alerts: readonly Alert[];
}

const MAX_KEPT_ALERTS = 10_000;
/** Messages published before a source that can pause gives the event loop a turn. */
const MESSAGES_PER_TURN = 65_536;
const LAG_RESOLUTION_MS = 10;

/** A running analysis; sinks may be attached before run() (the feed needs the view first). */
export class Analysis implements AnalyzerView {
  readonly source: PacketSource;
  readonly options: Readonly<Record<string, unknown>>;
  private readonly o: AnalysisOptions;
  private readonly agg: Aggregator;
  private readonly sinks: Sink[] = [];
  private readonly alerts: Alert[] = [];
  private lastStats: StatsMessage | null = null;
  private readonly lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  /** Set while an output is behind, or many messages went out without a turn of the event
   *  loop: sources that can pause stop at the next frame (see PacketSource.setBackpressure). */
  private readonly pressure: Pressure = { held: false };
  private sinceTurn = 0;
  /** Threaded detection: summaries and gaps wait here, in order, for their alerts. */
  private held: Promise<void> = Promise.resolve();

  constructor(source: PacketSource, o: AnalysisOptions) {
    this.source = source;
    this.o = o;
    this.options = o.shownOptions ?? {};
    this.agg = new Aggregator(o.aggregate, {
      summary: (s, hosts) => this.onSummary(s, hosts),
      gap: (g) => this.onGap(g),
    });
  }

  addSink(s: Sink): void {
    this.sinks.push(s);
  }

  /** Current cumulative state (AnalyzerView). */
  snapshot(hosts: number): Report {
    const r = this.agg.report(hosts);
    this.addSourceFacts(r);
    this.o.detect?.decorateReport?.(r);
    return r;
  }

  private publish(m: Message): void {
    const json = serialize(m);
    for (const s of this.sinks) s.publish(m, json);
    if (this.pressure.held) return;
    if (++this.sinceTurn >= MESSAGES_PER_TURN) this.pressure.held = true;
    else for (const s of this.sinks) if (s.backlog?.() != null) this.pressure.held = true;
  }

  /** What a held-back source awaits: the first output to catch up, else one turn of the event
   *  loop (so Ctrl-C is heard while a sparse capture makes zero rows); null when not held. */
  private caughtUp(): Promise<void> | null {
    if (!this.pressure.held) return null;
    let behind: Promise<void> | null = null;
    for (const s of this.sinks) behind ??= s.backlog?.() ?? null;
    // a timer, not setImmediate: the loop then passes its poll phase, where signals arrive
    const p = behind ?? new Promise<void>((resolve) => setTimeout(resolve, 0));
    return p.then(() => {
      this.pressure.held = false;
      this.sinceTurn = 0;
    });
  }

  private onSummary(s: SecondSummary, hosts: SecondHosts): void {
    // the summary is built after its alerts are in: they may set risk scores on its hosts
    this.deliver(() => summaryMessage(s), this.o.detect?.observe(s, hosts) ?? []);
  }

  private onGap(g: Gap): void {
    this.deliver(() => gapMessage(g), this.o.detect?.gap?.(g) ?? []);
  }

  /** A summary or gap, then its alerts. From a detector thread the alerts come later: the
   *  pair waits, in order, behind the ones held already; a failure surfaces where run()
   *  awaits the queue, not as an unhandled rejection in between. */
  private deliver(message: () => Message, alerts: readonly Alert[] | Promise<readonly Alert[]>): void {
    if (!(alerts instanceof Promise)) {
      this.publish(message());
      this.publishAlerts(alerts);
      return;
    }
    this.held = this.held.then(async () => {
      const a = await alerts;
      this.publish(message());
      this.publishAlerts(a);
    });
    this.held.catch(() => undefined);
  }

  private publishAlerts(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      if (this.alerts.length >= MAX_KEPT_ALERTS) this.alerts.shift();
      this.alerts.push(a);
      this.publish(alertMessage(a));
    }
  }

  private addSourceFacts(r: Report): void {
    const st = this.source.stats();
    for (const [k, n] of Object.entries(st.readerAnomalies)) r.anomalies[k] = (r.anomalies[k] ?? 0) + n;
    r.dropped = st.dropped;
    r.droppedEstimate = st.droppedEstimate;
  }

  private statsMessage(): StatsMessage {
    const st = this.source.stats();
    const a = this.agg;
    let anomalies = 0;
    for (const n of Object.values(st.readerAnomalies)) anomalies += n;
    const r = a.hosts;
    // The histogram counts its own sampling period; subtract it to get the lag itself.
    const lagMs = this.lag.count > 0 ? Math.max(0, this.lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS) : null;
    this.lag.reset();
    return {
      type: 'stats',
      v: SCHEMA_VERSION,
      at: Date.now(),
      packets: a.packets,
      bytes: a.bytes,
      dropped: st.dropped,
      droppedEstimate: st.droppedEstimate,
      anomalies: anomalies + a.anomalyTotal(),
      late: a.late,
      hostsTracked: r.count,
      evictedHosts: r.evictions,
      eventLoopLagMs: lagMs,
    };
  }

  /** The latest stats message (null before the first). */
  get stats(): StatsMessage | null {
    return this.lastStats;
  }

  async run(): Promise<RunResult> {
    const agg = this.agg;
    const pkt = createDecodedPacket();
    const hook = this.o.detect?.packetHook ?? null;
    // Decided once, not per packet: with or without a detector packet hook.
    const onFrame: FrameHandler =
      hook === null
        ? (f: Frame) => {
            decodeFrame(f, pkt);
            agg.add(f, pkt);
          }
        : (f: Frame) => {
            decodeFrame(f, pkt);
            agg.add(f, pkt);
            hook(pkt, f.tsMicros, f.wirelen);
          };
    const timers: NodeJS.Timeout[] = [];
    const src = this.source as PacketSource & { clockMicros?: () => number | null };
    if (src.clock === 'wall') {
      agg.startAt(Date.now() * 1000);
      timers.push(setInterval(() => agg.tick(Date.now() * 1000), 100));
    } else if (typeof src.clockMicros === 'function') {
      const clock = src.clockMicros.bind(src);
      timers.push(
        setInterval(() => {
          const t = clock();
          if (t !== null) agg.tick(t, true);
        }, 100),
      );
    }
    const every = this.o.statsIntervalMs ?? 1000;
    this.lag.enable();
    if (every > 0) {
      timers.push(
        setInterval(() => {
          this.lastStats = this.statsMessage();
          this.publish(this.lastStats);
        }, every),
      );
    }
    // Outputs that fall behind (stdout into a slow pipe) hold back sources that can wait.
    this.source.setBackpressure?.(() => this.caughtUp(), this.pressure);
    let end: SourceEnd;
    try {
      end = await this.source.start(onFrame);
    } finally {
      for (const t of timers) clearInterval(t);
    }
    agg.flush();
    const lastTs = agg.lastSecond();
    const d = this.o.detect;
    if (d?.async === true) {
      const last = d.finish(lastTs);
      await this.held;
      this.publishAlerts(await last);
      await d.close();
    } else {
      this.publishAlerts(d?.finish(lastTs) ?? []);
    }
    const report = this.snapshot(this.o.reportHosts);
    this.lastStats = this.statsMessage();
    this.lag.disable();
    this.publish(this.lastStats);
    this.publish(reportMessage(report));
    this.publish({
      type: 'end',
      v: SCHEMA_VERSION,
      reason: end.reason,
      error: end.error ? { code: end.error.code, message: end.error.oneLine() } : null,
    });
    return { end, report, alerts: this.alerts };
  }
}

/** Run a whole analysis with the given sinks. */
export async function runAnalysis(source: PacketSource, o: AnalysisOptions, sinks: readonly Sink[]): Promise<RunResult> {
  const a = new Analysis(source, o);
  for (const s of sinks) a.addSink(s);
  return a.run();
}
