// The alert lifecycle shared by every detector: a condition (detector + note + host) is
// raised once after `raiseAfter` anomalous seconds and resolved once after `resolveAfter`
// normal ones. The gate applies the allow-list, per-key suppression and the global rate
// limit, whose excess is rolled into one "Alerts_Suppressed" alert.

import type { Alert, Severity } from './alert.js';
import type { CidrSet } from './addr.js';
import type { LifecycleConfig } from './config.js';
import { formatValue } from './units.js';

/** What a detector saw in an anomalous second. */
export interface Observation {
  value: number;
  threshold: number | null;
  baseline: { mean: number; stdev: number; z: number } | null;
  /** One line, used for the raise. */
  message: string;
  /** When the condition began, if before its first anomalous second (a silence began at its
   *  first empty second, judged anomalous only later). */
  since?: number;
}

const PENDING = 0;
const RAISED = 1;
/** Tracked but not alerted: rate-limited (its resolve is silent too). */
const MUTED = 2;
/** Tracked but not alerted yet: began within its suppression interval. Raised if it still
 *  lasts when the interval is over; its resolve is silent when it ends before. */
const SUPPRESSED = 3;

interface Condition {
  readonly key: string;
  readonly note: string;
  readonly host: string | null;
  readonly metric: string;
  state: number;
  anomalousRun: number;
  normalRun: number;
  /** Second the current anomalous run started. */
  since: number;
  /** Second of the raise (for durations). */
  raisedAt: number;
  /** Second in which the condition was last marked anomalous. */
  markedAt: number;
  obs: Observation;
  peak: number;
  /** Latest value, anomalous or not (reported on resolve). */
  current: number;
}

export interface AlertCounts {
  raised: number;
  resolved: number;
  /** Raises not sent because the same condition was resolved within its suppression interval. */
  suppressed: number;
  /** Raises not sent because of the global rate limit. */
  rateLimited: number;
  /** Conditions not tracked because the detector already tracked maxOpen. */
  dropped: number;
  /** Raised alerts per detector. */
  byDetector: Record<string, number>;
  bySeverity: Record<Severity, number>;
}

/** Shared by all detectors of a stage: ids, allow-list, rate limit, counters. */
export class AlertGate {
  private seq = 0;
  private readonly ring: Float64Array;
  private ringCount = 0;
  private ringNext = 0;
  private rollup: { since: number; count: number; lastDenied: number } | null = null;
  readonly counts: AlertCounts = {
    raised: 0,
    resolved: 0,
    suppressed: 0,
    rateLimited: 0,
    dropped: 0,
    byDetector: {},
    bySeverity: { info: 0, warning: 0, critical: 0 },
  };

  constructor(
    readonly allow: CidrSet,
    readonly rateLimit: { readonly max: number; readonly per: number },
  ) {
    this.ring = new Float64Array(rateLimit.max);
  }

  allowed(host: string | null): boolean {
    return host !== null && this.allow.size > 0 && this.allow.hasText(host);
  }

  /** Whether a raise at `ts` fits in the rate limit; records it when it does. */
  admit(ts: number, out: Alert[]): boolean {
    const { max, per } = this.rateLimit;
    if (this.ringCount < max) {
      this.ring[this.ringNext] = ts;
      this.ringNext = (this.ringNext + 1) % max;
      this.ringCount++;
      return true;
    }
    // The ring holds the last `max` admitted raises; the oldest is at ringNext.
    if ((this.ring[this.ringNext] ?? 0) <= ts - per) {
      this.ring[this.ringNext] = ts;
      this.ringNext = (this.ringNext + 1) % max;
      return true;
    }
    this.counts.rateLimited++;
    if (this.rollup === null) {
      this.rollup = { since: ts, count: 1, lastDenied: ts };
      out.push(
        this.make(ts, 'raised', {
          detector: 'rate-limit',
          note: 'Alerts_Suppressed',
          severity: 'warning',
          key: 'rate-limit/Alerts_Suppressed',
          host: null,
          metric: 'alerts',
          value: 1,
          threshold: max,
          baseline: null,
          message: `alert rate limit reached (${max} per ${per} s): further alerts are suppressed and counted`,
          since: ts,
        }),
      );
    } else {
      this.rollup.count++;
      this.rollup.lastDenied = ts;
    }
    return false;
  }

  /** End of a second: resolve the roll-up once nothing has been denied for a whole period. */
  step(ts: number, out: Alert[], force = false): void {
    const r = this.rollup;
    if (r === null) return;
    const cut = ts - r.lastDenied < this.rateLimit.per;
    if (cut && !force) return;
    this.rollup = null;
    out.push(
      this.make(ts, 'resolved', {
        detector: 'rate-limit',
        note: 'Alerts_Suppressed',
        severity: 'warning',
        key: 'rate-limit/Alerts_Suppressed',
        host: null,
        metric: 'alerts',
        value: r.count,
        threshold: this.rateLimit.max,
        baseline: null,
        // cut short by the end of input, as every condition still raised then says
        message: `${r.count} alerts suppressed by the rate limit (${this.rateLimit.max} per ${this.rateLimit.per} s)${cut ? ' (end of input)' : ''}`,
        since: r.since,
      }),
    );
  }

  make(ts: number, state: 'raised' | 'resolved', a: Omit<Alert, 'id' | 'ts' | 'state'>): Alert {
    this.seq++;
    if (state === 'raised') {
      this.counts.raised++;
      this.counts.byDetector[a.detector] = (this.counts.byDetector[a.detector] ?? 0) + 1;
      this.counts.bySeverity[a.severity]++;
    } else {
      this.counts.resolved++;
    }
    return { id: `${ts}-${this.seq}`, ts, state, ...a };
  }
}

/** One detector's conditions. Detectors mark what is anomalous; step() does the rest. */
export class Tracker {
  private readonly open = new Map<string, Condition>();
  /** key -> second of the last resolve, for suppression. */
  private readonly lastEnded = new Map<string, number>();
  /** note -> what a resolve says in place of "now <value>" (see quietly), and whether the peak goes first. */
  private readonly quietText = new Map<string, { text: string; peak: boolean }>();
  private now = -Infinity;

  constructor(
    readonly detector: string,
    readonly cfg: LifecycleConfig,
    private readonly gate: AlertGate,
    private readonly maxOpen: number,
  ) {}

  keyOf(note: string, host: string | null): string {
    return host === null ? `${this.detector}/${note}` : `${this.detector}/${note}/${host}`;
  }

  /** Number of conditions tracked (pending, raised or muted). */
  get size(): number {
    return this.open.size;
  }

  /** Whether (note, host) is raised or muted right now. */
  isOpen(note: string, host: string | null): boolean {
    const c = this.open.get(this.keyOf(note, host));
    return c !== undefined && c.state !== PENDING;
  }

  /** Whether (note, host) is tracked at all (pending, raised or muted). */
  tracks(note: string, host: string | null): boolean {
    return this.open.has(this.keyOf(note, host));
  }

  /** Open conditions' hosts for this note (for detectors that need to ask "still bad?"). */
  openHosts(note: string): (string | null)[] {
    const out: (string | null)[] = [];
    for (const c of this.open.values()) if (c.note === note) out.push(c.host);
    return out;
  }

  /** Mark (note, host) anomalous in second `ts`. `key` may be passed when the caller keeps
   *  it (keyOf(note, host)) for a condition it marks every second. */
  anomalous(ts: number, note: string, host: string | null, metric: string, obs: Observation, key = this.keyOf(note, host)): void {
    if (this.gate.allowed(host)) return;
    let c = this.open.get(key);
    if (c === undefined) {
      if (this.open.size >= this.maxOpen) {
        this.gate.counts.dropped++;
        return;
      }
      c = {
        key,
        note,
        host,
        metric,
        state: PENDING,
        anomalousRun: 0,
        normalRun: 0,
        since: obs.since ?? ts,
        raisedAt: ts,
        markedAt: -Infinity,
        obs,
        peak: obs.value,
        current: obs.value,
      };
      this.open.set(key, c);
    }
    if (c.markedAt === ts) {
      // Marked twice in one second: keep the stronger observation.
      if (obs.value > c.obs.value) c.obs = obs;
    } else {
      c.obs = obs;
    }
    c.markedAt = ts;
    c.current = c.obs.value;
    if (obs.value > c.peak) c.peak = obs.value;
  }

  /**
   * For conditions whose metric does not fall when they end (port-scan's distinct targets
   * stay counted for their window after the scanning stops): their resolve says `text`
   * ("no new ... for N s") instead of "now <value>", which would repeat the peak. Events
   * (new-host) leave out the peak as well (`peak` false).
   */
  quietly(note: string, text: string, peak = true): void {
    this.quietText.set(note, { text, peak });
  }

  /** Report the current (normal) value of a condition that may be open, for its resolve. */
  normal(note: string, host: string | null, value: number): void {
    const c = this.open.get(this.keyOf(note, host));
    if (c !== undefined) c.current = value;
  }

  /** Close second `ts`: advance every condition, raising and resolving as due. */
  step(ts: number, out: Alert[]): void {
    this.now = ts;
    const { raiseAfter, resolveAfter, suppress } = this.cfg;
    for (const c of this.open.values()) {
      if (c.markedAt === ts) {
        c.anomalousRun++;
        c.normalRun = 0;
        if (c.state === PENDING && c.anomalousRun >= raiseAfter) this.raise(c, ts, out);
        else if (c.state === SUPPRESSED && ts - (this.lastEnded.get(c.key) ?? -Infinity) >= suppress) this.raise(c, ts, out);
      } else {
        c.anomalousRun = 0;
        c.normalRun++;
        if (c.state === PENDING) this.open.delete(c.key);
        else if (c.normalRun >= resolveAfter) this.end(c, ts, out, '');
      }
    }
    // Only resolves within the suppression interval matter: forget older ones (bounded memory).
    if (this.lastEnded.size > 4 * this.maxOpen) {
      for (const [k, t] of this.lastEnded) if (t < ts - suppress) this.lastEnded.delete(k);
    }
  }

  /** End of input: resolve everything still raised. */
  finish(ts: number, out: Alert[]): void {
    const at = Math.max(ts, this.now);
    for (const c of this.open.values()) {
      if (c.state !== PENDING) this.end(c, at, out, ' (end of input)');
    }
    this.open.clear();
  }

  private raise(c: Condition, ts: number, out: Alert[]): void {
    const ended = this.lastEnded.get(c.key);
    c.raisedAt = ts;
    if (ended !== undefined && ts - ended < this.cfg.suppress) {
      if (c.state !== SUPPRESSED) this.gate.counts.suppressed++;
      c.state = SUPPRESSED;
      return;
    }
    if (!this.gate.admit(ts, out)) {
      c.state = MUTED;
      return;
    }
    c.state = RAISED;
    out.push(
      this.gate.make(ts, 'raised', {
        detector: this.detector,
        note: c.note,
        severity: this.cfg.severity,
        key: c.key,
        host: c.host,
        metric: c.metric,
        value: c.obs.value,
        threshold: c.obs.threshold,
        baseline: c.obs.baseline,
        message: c.obs.message,
        since: c.since,
      }),
    );
  }

  private end(c: Condition, ts: number, out: Alert[], why: string): void {
    this.open.delete(c.key);
    // Only a resolve starts a suppression interval: a condition muted by the rate limit (or
    // by an interval still running) was never reported, so its end must not silence the
    // next one.
    if (c.state !== RAISED) return;
    if (this.cfg.suppress > 0) this.lastEnded.set(c.key, ts);
    const subject = c.host === null ? c.note : `${c.note} on ${c.host}`;
    // at the end of input a scan did not go quiet, but a new host is still known from now on
    const q = this.quietText.get(c.note);
    const quiet = q !== undefined && (why === '' || !q.peak) ? q : undefined;
    const peak = `peak ${formatValue(c.peak, c.metric)}`;
    const tail = quiet === undefined ? `${peak}, now ${formatValue(c.current, c.metric)}` : quiet.peak ? `${peak}, ${quiet.text}` : quiet.text;
    out.push(
      this.gate.make(ts, 'resolved', {
        detector: this.detector,
        note: c.note,
        severity: this.cfg.severity,
        key: c.key,
        host: c.host,
        metric: c.metric,
        value: c.current,
        threshold: c.obs.threshold,
        baseline: c.obs.baseline,
        message: `${subject} resolved after ${ts - c.raisedAt} s${why}: ${tail}`,
        since: c.since,
      }),
    );
  }
}
