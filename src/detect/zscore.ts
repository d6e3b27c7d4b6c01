// zscore detector: each second's global bytes/s and packets/s, and every active host's
// packets/s (or bytes/s), scored against a rolling baseline of that series BEFORE the
// second joins it. An anomalous second joins clipped to the threshold while its condition
// is unconfirmed (so natural bursts teach the baseline their size), and stays out once the
// condition is raised (so a long spike cannot become its own normal; a shift lasting a
// whole window is learned and its alert ends). Per-host series are fed from the
// aggregator's view of every host of the second (SecondHosts), keyed by (id, generation),
// in at most hosts.max slots (least recently active evicted); a host absent in a second
// had no traffic: its series gets a zero for it (added when the host next shows up).
// Per host and second nothing is allocated; strings are made only for anomalous hosts.
// A host's second is also anomalous while the host's CUSUM of z (cusumStep) is at or above
// h: a burst of a few sigma that lasts (its single seconds below the threshold, as a few
// heavy flows make them) is raised as the same Host_*_Spike condition, after the same
// raiseAfter seconds, and resolves once the CUSUM falls below h.
// The defaults come from the labelled evaluation (npm run eval). Owned by detect2.

import type { Gap, SecondHosts, SecondSummary } from '../aggregate/summary.js';
import type { Alert } from './alert.js';
import { RollingBaseline, cusumStep, flooredSpread } from './baseline.js';
import type { ZscoreConfig } from './config.js';
import type { Detector } from './detector.js';
import { ListedHosts } from './listed-hosts.js';
import type { Tracker } from './lifecycle.js';
import { coverIndex } from './table.js';
import { formatValue } from './units.js';

/** The last score (reused: scoring allocates nothing). */
interface Scored {
  anomalous: boolean;
  /** Anomalous by the host's CUSUM only (this second's z is below the threshold). */
  sustained: boolean;
  /** The host's CUSUM after this second (0 for global series). */
  s: number;
  z: number;
  center: number;
  sd: number;
}

const NONE = -1;

/**
 * Per-host series in fixed slots: id -> slot through a table indexed by host id (ids are
 * dense, below the aggregator's maxHosts), a typed-array LRU list for eviction, and for
 * each slot the second of its last sample (zeros for the seconds between are added when
 * the host shows up again, at most a window's worth).
 */
class HostSeries {
  /** Host id -> slot + 1 (0: none). Grown by doubling as ids grow. */
  slotOf = new Int32Array(1024);
  readonly id: Int32Array;
  readonly gen: Float64Array;
  readonly last: Float64Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
  /** Each slot's CUSUM of standardised excess (sigma-seconds, 0 when calm). */
  readonly cusum: Float64Array;
  readonly series: (RollingBaseline | undefined)[] = [];
  /** Address text of a slot whose host has (or may have) an open condition; else null. */
  readonly flagged: (string | null)[] = [];
  /** Slots with flagged !== null (few). */
  readonly flaggedSlots: number[] = [];
  head = NONE;
  tail = NONE;
  used = 0;
  evicted = 0;
  /** Host-seconds not scored because every slot was busy (cumulative). */
  untracked = 0;

  constructor(readonly max: number) {
    this.id = new Int32Array(max);
    this.gen = new Float64Array(max);
    this.last = new Float64Array(max);
    this.prev = new Int32Array(max).fill(NONE);
    this.next = new Int32Array(max).fill(NONE);
    this.cusum = new Float64Array(max);
  }

  private unlink(s: number): void {
    const p = this.prev[s] ?? NONE;
    const n = this.next[s] ?? NONE;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private pushFront(s: number): void {
    this.prev[s] = NONE;
    this.next[s] = this.head;
    if (this.head !== NONE) this.prev[this.head] = s;
    this.head = s;
    if (this.tail === NONE) this.tail = s;
  }

  /** The slot of (id, gen), made most recently used; -1 if it has none. */
  find(id: number, gen: number): number {
    const s = (id < this.slotOf.length ? (this.slotOf[id] ?? 0) : 0) - 1;
    if (s < 0 || this.gen[s] !== gen) return -1;
    if (this.head !== s) {
      this.unlink(s);
      this.pushFront(s);
    }
    return s;
  }

  /**
   * A fresh slot for (id, gen): a free one, the id's old one, or the least recently used
   * if that one has been idle more than `minIdle` seconds; else -1 (the host is not
   * tracked this second: with more active hosts than slots, series that are learning are
   * not thrown away for newcomers, which would leave every series in warm-up).
   */
  take(id: number, gen: number, ts: number, minIdle: number): number {
    if (id >= this.slotOf.length) this.slotOf = coverIndex(this.slotOf, id, (n) => new Int32Array(n));
    let s = (this.slotOf[id] ?? 0) - 1;
    if (s >= 0) {
      this.unlink(s); // the id was given to another host (a new generation)
    } else if (this.used < this.max) {
      s = this.used++;
    } else {
      s = this.tail;
      if (ts - (this.last[s] ?? 0) <= minIdle) {
        this.untracked++;
        return -1;
      }
      this.unlink(s);
      this.slotOf[this.id[s] ?? 0] = 0;
      this.evicted++;
    }
    this.slotOf[id] = s + 1;
    this.id[s] = id;
    this.gen[s] = gen;
    this.last[s] = ts;
    this.cusum[s] = 0;
    this.pushFront(s);
    return s;
  }
}

export class ZscoreDetector implements Detector {
  readonly name = 'zscore';
  private readonly gBytes: RollingBaseline;
  private readonly gPackets: RollingBaseline;
  private readonly slots: HostSeries;
  private readonly listed = new ListedHosts();
  private readonly r: Scored = { anomalous: false, sustained: false, s: 0, z: 0, center: 0, sd: 0 };
  private readonly spikeNote: string;
  private readonly dropNote: string;
  private readonly unit: string;
  /** All traffic's usual packets/s (0: unknown or not normalising) and this second's. */
  private usual = 0;
  private now = 0;
  /** The series (metric) each global condition began with, while it is tracked. */
  private readonly globalMetric: Record<'Global_Traffic_Spike' | 'Global_Traffic_Drop', string> = { Global_Traffic_Spike: 'packets/s', Global_Traffic_Drop: 'packets/s' };

  constructor(
    private readonly cfg: ZscoreConfig,
    private readonly tracker: Tracker,
  ) {
    this.gBytes = new RollingBaseline(cfg.window, cfg.method);
    this.gPackets = new RollingBaseline(cfg.window, cfg.method);
    this.slots = new HostSeries(Math.max(1, cfg.hosts.max));
    const packets = cfg.hosts.metric === 'packets';
    this.spikeNote = packets ? 'Host_Packets_Spike' : 'Host_Bytes_Spike';
    this.dropNote = packets ? 'Host_Packets_Drop' : 'Host_Bytes_Drop';
    this.unit = packets ? 'packets/s' : 'bytes/s';
  }

  /** Series evicted to stay within hosts.max (reported). */
  get evicted(): number {
    return this.slots.evicted;
  }

  /** Host-seconds not scored because all hosts.max series were busy (reported). */
  get untracked(): number {
    return this.slots.untracked;
  }

  /**
   * Score x against b into this.r (false during warm-up), then let x join b: as is when
   * normal, clipped to the threshold when anomalous but not yet raised, not at all while
   * `raised` (for at most a whole window). A host series (slot >= 0) also advances its
   * CUSUM, which makes a second anomalous too while it is at or above h; while it is at
   * h / 2 or more the host is suspicious and its seconds stay out as if raised.
   */
  private score(b: RollingBaseline, x: number, absFloor: number, relFloor: number, raised: boolean, slot = -1): boolean {
    const { threshold, warmup, direction, window } = this.cfg;
    if (b.count < warmup) {
      b.push(x);
      return false;
    }
    const r = this.r;
    const center = b.center();
    const sd = flooredSpread(b.spread(), Math.max(absFloor, relFloor * Math.abs(center)));
    // finite whatever the floors (a tiny one over a flat baseline could overflow to Infinity,
    // which JSON cannot carry)
    const z = clampFinite((x - center) / sd);
    const spike = z >= threshold || (direction === 'both' && z <= -threshold);
    let sustained = false;
    let suspicious = false;
    let cs = 0;
    const cu = this.cfg.hosts.cusum;
    if (slot >= 0 && cu.enabled) {
      cs = cusumStep(this.slots.cusum[slot] ?? 0, z, cu.k, cu.h, cu.clip);
      this.slots.cusum[slot] = cs;
      sustained = !spike && cs >= cu.h;
      suspicious = cs >= cu.h / 2;
    }
    const anomalous = spike || sustained;
    if (!anomalous && !suspicious) {
      b.anomalousRun = 0;
      b.push(x);
    } else if (spike && !raised) {
      b.push(z > 0 ? center + threshold * sd : center - threshold * sd);
    } else if (++b.anomalousRun > window) {
      // Raised, or a host half way to h or past it: kept out (a burst must not teach its
      // own baseline), but for at most a whole window, after which it is the new normal.
      b.push(x);
    }
    r.anomalous = anomalous;
    r.sustained = sustained;
    r.s = cs;
    r.z = z;
    r.center = center;
    r.sd = sd;
    return true;
  }

  private mark(ts: number, note: string, host: string | null, metric: string, x: number, r: Scored, also = ''): void {
    const up = r.z > 0;
    // "10.0.0.6 at 76.8 packets/s is 17.4 sigma above ...": the value carries its unit
    const label = host === null ? 'all traffic' : host;
    const message =
      `${label} at ${formatValue(x, metric)} is ${Math.abs(r.z).toFixed(1)} sigma ${up ? 'above' : 'below'} ` +
      `its ${this.cfg.method} baseline ${formatValue(r.center, metric)} (stdev ${formatValue(r.sd, metric)}, last ${this.cfg.window} s)${also}`;
    this.tracker.anomalous(ts, note, host, metric, {
      value: x,
      threshold: null,
      baseline: { mean: r.center, stdev: r.sd, z: r.z },
      message,
    });
  }

  /**
   * All traffic: bytes/s and packets/s each have their baseline, but one condition
   * (Global_Traffic_Spike or _Drop): a flood moves both, and an operator wants one alert.
   * The alert carries the series with the larger |z| and names the other if it broke too.
   */
  private global(s: SecondSummary): void {
    const f = this.cfg.floor;
    const raised = this.tracker.isOpen('Global_Traffic_Spike', null) || this.tracker.isOpen('Global_Traffic_Drop', null);
    const r = this.r;
    const bHit = this.score(this.gBytes, s.bytes, f.bytes, f.relative, raised) && r.anomalous;
    const rb: Scored = { ...r };
    const pHit = this.score(this.gPackets, s.packets, f.packets, f.relative, raised) && r.anomalous;
    const rp: Scored = { ...r };
    // A condition keeps the series it began with: its value, peak and resolve stay in one unit.
    const spikeMetric = this.tracker.tracks('Global_Traffic_Spike', null) ? this.globalMetric.Global_Traffic_Spike : null;
    const dropMetric = this.tracker.tracks('Global_Traffic_Drop', null) ? this.globalMetric.Global_Traffic_Drop : null;
    const valueOf = (m: string | null): number => (m === 'bytes/s' ? s.bytes : s.packets);
    if (!bHit && !pHit) {
      this.tracker.normal('Global_Traffic_Spike', null, valueOf(spikeMetric));
      this.tracker.normal('Global_Traffic_Drop', null, valueOf(dropMetric));
      return;
    }
    const hits: [Scored, number, string][] = [];
    if (bHit) hits.push([rb, s.bytes, 'bytes/s']);
    if (pHit) hits.push([rp, s.packets, 'packets/s']);
    hits.sort((a, b) => Math.abs(b[0].z) - Math.abs(a[0].z));
    const strongest = hits[0] as [Scored, number, string];
    const note = strongest[0].z > 0 ? ('Global_Traffic_Spike' as const) : ('Global_Traffic_Drop' as const);
    const kept = note === 'Global_Traffic_Spike' ? spikeMetric : dropMetric;
    const metric = kept ?? strongest[2];
    this.globalMetric[note] = metric;
    const main: [Scored, number, string] = metric === 'bytes/s' ? [rb, s.bytes, metric] : [rp, s.packets, metric];
    const other: [Scored, number, string] = metric === 'bytes/s' ? [rp, s.packets, 'packets/s'] : [rb, s.bytes, 'bytes/s'];
    const otherHit = metric === 'bytes/s' ? pHit : bHit;
    const also = otherHit ? `; ${formatValue(other[1], other[2])} is ${Math.abs(other[0].z).toFixed(1)} sigma off too` : '';
    this.mark(s.ts, note, null, metric, main[1], main[0], also);
    const otherNote = note === 'Global_Traffic_Spike' ? 'Global_Traffic_Drop' : 'Global_Traffic_Spike';
    this.tracker.normal(otherNote, null, valueOf(otherNote === 'Global_Traffic_Spike' ? spikeMetric : dropMetric));
  }

  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[] {
    const cfg = this.cfg;
    // All traffic's usual level, before this second joins it (see observeHosts).
    this.usual = cfg.hosts.normalize && this.gPackets.count >= cfg.warmup ? this.gPackets.center() : 0;
    this.now = s.packets;
    if (cfg.global) this.global(s);
    else if (cfg.hosts.enabled && cfg.hosts.normalize) {
      // No global alerts, but hosts.normalize still needs all traffic's usual level: the
      // packets series learns as it would with no global condition ever raised.
      this.score(this.gPackets, s.packets, cfg.floor.packets, cfg.floor.relative, false);
    }
    if (cfg.hosts.enabled) this.observeHosts(s.ts, hosts ?? this.listed.over(s.hosts));
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    this.unflag();
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    this.unflag();
    return out;
  }

  /**
   * A gap (no packets at all, reported once; silence raises it) is not a silence of each
   * host: it is left out of their series, or every host back after it would be scored
   * against a window of zeros and raised as a spike. The global series never see it either
   * (no summaries are made for it).
   */
  gap(g: Gap): void {
    const len = g.to - g.from + 1;
    if (len <= 0) return;
    const sl = this.slots;
    for (let s = 0; s < sl.used; s++) {
      const last = sl.last[s] ?? 0;
      if (last < g.from) sl.last[s] = last + len;
    }
  }

  private observeHosts(ts: number, hosts: SecondHosts): void {
    const { floor, metric } = this.cfg.hosts;
    const packets = metric === 'packets';
    const absFloor = packets ? floor.packets : floor.bytes;
    const rel = floor.relative;
    const window = this.cfg.window;
    const sl = this.slots;
    const n = hosts.count;
    for (let i = 0; i < n; i++) {
      const id = hosts.id(i);
      const gen = hosts.generation(i);
      const raw = packets ? hosts.txPackets(i) + hosts.rxPackets(i) : hosts.txBytes(i) + hosts.rxBytes(i);
      const x = raw / this.lift(hosts, i);
      let slot = sl.find(id, gen);
      let b: RollingBaseline | undefined;
      if (slot < 0) {
        slot = sl.take(id, gen, ts - 1, this.cfg.warmup);
        if (slot < 0) continue;
        b = sl.series[slot];
        if (b === undefined) sl.series[slot] = b = new RollingBaseline(window, this.cfg.method);
        else b.reset();
        if ((sl.flagged[slot] ?? null) !== null) this.dropFlag(slot);
      } else {
        b = sl.series[slot] as RollingBaseline;
      }
      // The seconds since its last sample, in which the host had no traffic: zeros.
      const idle = Math.min(ts - (sl.last[slot] ?? ts) - 1, window);
      if (idle > 0) {
        b.pushZeros(idle);
        b.anomalousRun = 0;
        // Silent seconds are no excess: each takes at least k off the CUSUM.
        sl.cusum[slot] = Math.max(0, (sl.cusum[slot] ?? 0) - idle * this.cfg.hosts.cusum.k);
      }
      sl.last[slot] = ts;
      const flagged = sl.flagged[slot] ?? null;
      const raised = flagged !== null && (this.tracker.isOpen(this.spikeNote, flagged) || this.tracker.isOpen(this.dropNote, flagged));
      if (this.score(b, x, absFloor, rel, raised, slot) && this.r.anomalous) {
        const addr = flagged ?? this.flag(slot, hosts.address(i));
        this.mark(ts, this.r.z > 0 || this.r.sustained ? this.spikeNote : this.dropNote, addr, this.unit, x, this.r, this.r.sustained ? this.sustainedText() : '');
      } else if (flagged !== null) {
        this.tracker.normal(this.spikeNote, flagged, x);
        this.tracker.normal(this.dropNote, flagged, x);
      }
    }
    // Flagged hosts absent this second: their current value is 0 (for the resolve message).
    for (const slot of sl.flaggedSlots) {
      const a = sl.flagged[slot] ?? null;
      if (a !== null && sl.last[slot] !== ts) {
        this.tracker.normal(this.spikeNote, a, 0);
        this.tracker.normal(this.dropNote, a, 0);
      }
    }
  }

  /** The message's tail for a second that is anomalous by the CUSUM alone. */
  private sustainedText(): string {
    const { k, h } = this.cfg.hosts.cusum;
    return `; sustained excess: CUSUM ${this.r.s.toFixed(1)} >= ${h} sigma-seconds above ${k} sigma`;
  }

  /**
   * How far the traffic of every other host is above its usual level this second (>= 1):
   * a rise of everything (a busy minute) lifts each host with it and is the global series'
   * business, so host values are scored with it divided out. The host's own packets are
   * left out of it, or a host's burst would divide itself away.
   */
  private lift(hosts: SecondHosts, i: number): number {
    if (this.usual <= 0) return 1;
    const own = hosts.txPackets(i) + hosts.rxPackets(i);
    const others = this.now - own;
    // The host's usual share is small next to all traffic; `usual` stands for the others'.
    return others > this.usual ? others / this.usual : 1;
  }

  private flag(slot: number, addr: string): string {
    this.slots.flagged[slot] = addr;
    this.slots.flaggedSlots.push(slot);
    return addr;
  }

  private dropFlag(slot: number): void {
    const sl = this.slots;
    sl.flagged[slot] = null;
    const k = sl.flaggedSlots.indexOf(slot);
    if (k >= 0) sl.flaggedSlots.splice(k, 1);
  }

  /** Forget flags of hosts whose conditions the tracker no longer holds (after step). */
  private unflag(): void {
    const sl = this.slots;
    for (let k = sl.flaggedSlots.length - 1; k >= 0; k--) {
      const slot = sl.flaggedSlots[k] ?? 0;
      const a = sl.flagged[slot] ?? null;
      if (a === null || (!this.tracker.tracks(this.spikeNote, a) && !this.tracker.tracks(this.dropNote, a))) {
        sl.flagged[slot] = null;
        sl.flaggedSlots.splice(k, 1);
      }
    }
  }

  /** Series currently held (global ones included), for stats. */
  get series(): number {
    return this.slots.used + (this.cfg.global ? 2 : 0);
  }
}

/** z within the doubles: an overflow to +-Infinity becomes +-Number.MAX_VALUE. */
function clampFinite(z: number): number {
  return z > Number.MAX_VALUE ? Number.MAX_VALUE : z < -Number.MAX_VALUE ? -Number.MAX_VALUE : z;
}
