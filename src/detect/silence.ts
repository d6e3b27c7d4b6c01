// silence detector: no packets at all for N seconds on a source that had traffic. N is
// fixed, or 'auto': twice the longest quiet run of the last 10 minutes plus one, within
// [minSeconds, maxSeconds], so a busy link alerts after 2 s and a chatty-but-sparse one
// does not alert on its normal pauses. Gaps (long empty runs reported once) count too.

import type { Gap, SecondSummary } from '../aggregate/summary.js';
import type { Alert } from './alert.js';
import type { SilenceConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';

/** Quiet runs remembered for the automatic N. */
const HISTORY_SECONDS = 600;
/** Until this much traffic history exists, the automatic N is at least this. */
const EARLY_SECONDS = 30;
const EARLY_MIN = 10;

export class SilenceDetector implements Detector {
  readonly name = 'silence';
  private firstTraffic: number | null = null;
  private zeroRun = 0;
  private runStart = 0;
  /** Completed quiet runs: [end second, length], oldest first. */
  private readonly runs: [number, number][] = [];

  constructor(
    private readonly cfg: SilenceConfig,
    private readonly tracker: Tracker,
  ) {}

  /** Silent seconds needed before raising, at second ts. */
  limit(ts: number): number {
    const { seconds, minSeconds, maxSeconds } = this.cfg;
    if (seconds !== 'auto') return seconds;
    this.prune(ts);
    let longest = 0;
    for (const [, len] of this.runs) if (len > longest) longest = len;
    let n = 2 * longest + 1;
    if (this.firstTraffic !== null && ts - this.firstTraffic < EARLY_SECONDS) n = Math.max(n, EARLY_MIN);
    return Math.min(maxSeconds, Math.max(minSeconds, n));
  }

  /** Forget quiet runs that ended more than HISTORY_SECONDS before ts. */
  private prune(ts: number): void {
    let k = 0;
    while (k < this.runs.length && (this.runs[k]?.[0] ?? 0) < ts - HISTORY_SECONDS) k++;
    if (k > 0) this.runs.splice(0, k);
  }

  /** `seconds` empty seconds from `ts` on; may step the tracker inside a gap (into out). */
  private quiet(ts: number, seconds: number, out: Alert[]): void {
    if (this.firstTraffic === null) return;
    if (this.zeroRun === 0) this.runStart = ts;
    const n = this.limit(this.runStart);
    const before = this.zeroRun;
    this.zeroRun += seconds;
    if (this.zeroRun < n) return;
    // First second at which the run reached n (inside a gap, it is before ts).
    const at = before < n ? this.runStart + n - 1 : ts;
    const last = ts + seconds - 1;
    // The silence so far at second t (inside a gap, not the gap's whole length: a raise in
    // it says what zero rows would have said at that second).
    const mark = (t: number): void => {
      const quiet = t - this.runStart + 1;
      this.tracker.anomalous(t, 'Capture_Silence', null, 'seconds', {
        value: quiet,
        threshold: n,
        baseline: null,
        message: `no packets for ${quiet} s (limit ${n} s): the capture may have stopped`,
        since: this.runStart,
      });
    };
    // Inside a gap every second from `at` on is anomalous: step the first raiseAfter of them
    // one by one (as zero rows would be), so the raise comes `raiseAfter` seconds after the
    // limit was reached; the caller steps `last`. Later seconds change nothing but the count.
    const stepped = Math.min(last, at + this.tracker.cfg.raiseAfter - 1);
    for (let t = at; t < stepped; t++) {
      mark(t);
      this.tracker.step(t, out);
    }
    mark(stepped);
    if (stepped !== last) {
      this.tracker.step(stepped, out);
      mark(last);
    }
  }

  private traffic(ts: number): void {
    if (this.firstTraffic === null) this.firstTraffic = ts;
    if (this.zeroRun > 0) {
      // Runs that raised an alert do not teach the automatic N that silence is normal. Only
      // the automatic N reads them (the last HISTORY_SECONDS): a fixed N keeps none, and old
      // ones go here too, not only when the next quiet run starts (bounded memory).
      if (this.cfg.seconds === 'auto') {
        if (!this.tracker.isOpen('Capture_Silence', null)) this.runs.push([ts - 1, this.zeroRun]);
        this.prune(ts);
      }
      this.tracker.normal('Capture_Silence', null, 0);
      this.zeroRun = 0;
    }
  }

  observe(s: SecondSummary): readonly Alert[] {
    const out: Alert[] = [];
    if (s.packets === 0) this.quiet(s.ts, 1, out);
    else this.traffic(s.ts);
    this.tracker.step(s.ts, out);
    return out;
  }

  /** A run of empty seconds reported once (no summaries for them). */
  gap(g: Gap): readonly Alert[] {
    const out: Alert[] = [];
    const len = g.to - g.from + 1;
    if (len <= 0 || this.firstTraffic === null) return out;
    this.quiet(g.from, len, out);
    this.tracker.step(g.to, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }
}
