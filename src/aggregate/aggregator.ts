// The aggregator: frames in, epoch-aligned SecondSummary objects out, plus the cumulative
// host table and totals for the report. Time comes from the packets (or, for live and
// paced sources, from tick()). Seconds stay open for a reorder allowance; older packets
// are counted as late in the newest second. Runs of empty seconds longer than the gap
// bound become one gap instead of zero rows.
//
// Cost model: per packet, one hash lookup per host in the cumulative index and a few
// array updates in the open second; per closed second, work per active host; per
// FOLD_PACKETS packets, a counting sort that folds sizes into per-host statistics a host
// at a time (cache-friendly however many hosts there are).

import type { Frame } from '../capture/frame.js';
import { ANOMALY_COUNT, ANOMALY_NAMES, NONIP, type DecodedPacket } from '../decode/packet.js';
import { HostTable, RX, TX } from './host-table.js';
import { PROTO_IPV4, PROTO_IPV6, PROTO_NONIP_BASE, PROTO_SLOTS, protocolObject } from './protocols.js';
import { OpenCounts, SecondWindow } from './second-window.js';
import { exactSizeStats, mergedSizeStats } from './size-stats.js';
import { SpillSizes } from './spill-sizes.js';
import { SMALL_TOP, TopK, smallTop } from './top.js';
import type { Gap, HostStats, Report, SecondHosts, SecondSummary, SizeStats } from './summary.js';

export interface AggregatorOptions {
  /** Most hosts in the cumulative table (least active evicted beyond). */
  readonly maxHosts: number;
  /** Hosts listed per second. */
  readonly topHosts: number;
  /** Empty runs longer than this many seconds are one gap. */
  readonly maxGapSeconds: number;
  /** Seconds a second stays open for packets that arrive out of order. */
  readonly reorderSeconds: number;
  /** Histogram memory of the cumulative table, in bytes. */
  readonly histogramBytes?: number;
}

export interface AggregatorEvents {
  /** A closed second; `hosts` lists every host with traffic in it (borrowed for the call). */
  summary(s: SecondSummary, hosts: SecondHosts): void;
  gap(g: Gap): void;
}

const PAIR_BYTES = 16;
/** New hosts whose addresses a summary lists (the count is always exact). */
export const MAX_NEW_HOST_ADDRS = 100;
/** Closed windows kept for reuse; more are left to the garbage collector. */
const MAX_SPARE_WINDOWS = 4;
/** Pending sizes are folded into the host table at the latest after this many packets. */
export const FOLD_PACKETS = 1_048_576;

export class Aggregator {
  private readonly o: AggregatorOptions;
  private readonly ev: AggregatorEvents;
  readonly hosts: HostTable;
  private readonly windows = new Map<number, SecondWindow>();
  private readonly spare: SecondWindow[] = [];
  /** Per host id: open seconds it has traffic in (its id is kept while any). */
  private readonly open: OpenCounts;
  private cur: SecondWindow | null = null;
  private curSec = -1;
  /** Highest second seen (by packet or tick); -1 before anything. */
  private hi = -1;
  /** Whether a second has been seen (hi is meaningless before: captures from before 1970 have negative seconds). */
  private started = false;
  /** Every second below this has been emitted (or is in a gap). */
  private nextEmit = -1;
  /**
   * Every second below this is closed: its packets are late. Equal to nextEmit but while a
   * long empty run is held back because its end is still open (nextEmit is then its start).
   */
  private closed = -1;
  /** Earliest second with traffic (or the live start): no zero rows before it. */
  private low = Infinity;
  // totals
  packets = 0;
  bytes = 0;
  captured = 0;
  late = 0;
  gaps = 0;
  untracked = 0;
  private firstMicros = Infinity;
  private lastMicros = -Infinity;
  private readonly proto = new Float64Array(PROTO_SLOTS);
  private readonly anomalies = new Float64Array(ANOMALY_COUNT);
  private peakPackets = 0;
  private peakBytes = 0;
  private peakPacketsTs: number | null = null;
  private peakBytesTs: number | null = null;
  /** pending sizes: (source id + 1, destination id + 1, wire length); id + 1 = 0: none */
  // Sized for a whole fold at once: untouched pages cost nothing, doubling costs copies.
  private pend = new Uint32Array(3 * (FOLD_PACKETS + 4096));
  private pendLen = 0;
  /** Fold position of pend[0] (positions never reset). */
  private foldBase = 0;
  private sort = {
    txStart: new Int32Array(1024),
    rxStart: new Int32Array(1024),
    txPos: new Int32Array(1024),
    rxPos: new Int32Array(1024),
    txSizes: new Uint32Array(FOLD_PACKETS + 4096),
    rxSizes: new Uint32Array(FOLD_PACKETS + 4096),
  };
  private rank = new Int32Array(1024).fill(-1);
  /** topOfWindow's scratch: per listed host and direction, where its sizes start and end. */
  private runStart = new Int32Array(64);
  private runFill = new Int32Array(64);
  private runSizes = new Uint32Array(1 << 16);
  private readonly view: WindowHosts;

  constructor(o: AggregatorOptions, ev: AggregatorEvents) {
    this.o = o;
    this.ev = ev;
    this.view = new WindowHosts(() => this.hosts);
    this.hosts = new HostTable({
      maxHosts: o.maxHosts,
      histogramPairs: Math.floor((o.histogramBytes ?? 64 * 1024 * 1024) / PAIR_BYTES),
      onGrow: (cap) => {
        this.open.grow(cap);
        for (const w of this.windows.values()) w.grow(cap);
        for (const w of this.spare) w.grow(cap);
      },
      // a host with traffic in an open second keeps its id until that second closes
      // (counted, not searched: with --reorder 300 a full table looked through 301 seconds
      // for each of 16 eviction candidates per new host)
      pinned: (id) => (this.open.n[id] ?? 0) > 0,
    });
    this.open = new OpenCounts(this.hosts.index.cap);
  }

  /** Live sources: seconds start now, so a quiet start still yields zero summaries. */
  startAt(nowMicros: number): void {
    if (this.started) return;
    const s = Math.floor(nowMicros / 1_000_000);
    this.started = true;
    this.hi = s;
    this.nextEmit = s;
    this.closed = s;
    this.low = s;
  }

  add(f: Frame, p: DecodedPacket): void {
    const ts = f.tsMicros;
    const wire = f.wirelen;
    const sec = Math.floor(ts / 1_000_000);
    this.packets++;
    this.bytes += wire;
    this.captured += f.caplen;
    if (ts < this.firstMicros) this.firstMicros = ts;
    if (ts > this.lastMicros) this.lastMicros = ts;

    let w: SecondWindow;
    if (sec === this.curSec && this.cur !== null) {
      w = this.cur;
    } else {
      if (!this.started) {
        // Even the first second leaves room for packets that arrive out of order.
        this.started = true;
        this.hi = sec;
        this.nextEmit = sec - this.o.reorderSeconds;
        this.closed = this.nextEmit;
      } else if (sec > this.hi) {
        this.advance(sec - this.o.reorderSeconds, sec);
        this.hi = sec;
      }
      if (sec < this.closed) {
        // Older than the reorder allowance: counted as late in the newest second.
        w = this.windowFor(this.hi);
        w.late++;
        this.late++;
      } else {
        w = this.windowFor(sec);
        this.cur = w;
        this.curSec = sec;
        if (sec < this.low) this.low = sec;
      }
    }
    w.packets++;
    w.bytes += wire;
    w.captured += f.caplen;
    const a = p.anomaly;
    if (a !== 0) {
      w.anomalies[a] = (w.anomalies[a] ?? 0) + 1;
      this.anomalies[a] = (this.anomalies[a] ?? 0) + 1;
    }
    const v = p.ipVersion;
    let slot: number;
    if (v === 0) {
      slot = PROTO_NONIP_BASE + (p.nonIp !== 0 ? p.nonIp : a !== 0 ? NONIP.malformed : NONIP.other);
    } else {
      const vs = v === 4 ? PROTO_IPV4 : PROTO_IPV6;
      w.proto[vs] = (w.proto[vs] ?? 0) + 1;
      this.proto[vs] = (this.proto[vs] ?? 0) + 1;
      slot = p.ipProto >= 0 ? p.ipProto : PROTO_NONIP_BASE + NONIP.malformed;
    }
    w.proto[slot] = (w.proto[slot] ?? 0) + 1;
    this.proto[slot] = (this.proto[slot] ?? 0) + 1;
    if (v === 0) return;

    const t = this.hosts;
    const sec0 = w.sec;
    const sid = v === 4 ? t.idV4(p.src4, sec0) : t.idV6(p.src6, sec0);
    if (t.inserted) this.noteNew(w, sid);
    // the source, maybe new this packet, is not in any second yet: it must not make room
    // for the destination (its id would then be the destination's, and its tx counted there)
    const did = v === 4 ? t.idV4(p.dst4, sec0, sid) : t.idV6(p.dst6, sec0, sid);
    if (t.inserted) this.noteNew(w, did);
    if (!w.addHosts(sid, did, wire)) {
      // A second with a million packets: keep its sizes per host (exact, counted by size),
      // hand its log on now, keep counting.
      (w.spill ??= new SpillSizes()).add(w.log, w.logLen, t.index.end);
      this.handOn(w);
      w.spilled = true;
    }
  }

  private noteNew(w: SecondWindow, id: number): void {
    w.newHosts++;
    if (w.newHostAddrs.length < MAX_NEW_HOST_ADDRS) w.newHostAddrs.push(this.hosts.addressOf(id));
  }

  private windowFor(sec: number): SecondWindow {
    let w = this.windows.get(sec);
    if (w === undefined) {
      w = this.spare.pop() ?? new SecondWindow(this.hosts.index.cap, this.open);
      w.grow(this.hosts.index.cap);
      w.reset(sec);
      this.windows.set(sec, w);
    }
    return w;
  }

  /**
   * Clock-driven sources (live capture, paced replay): the capture has reached nowMicros,
   * so seconds older than the reorder allowance are complete even if no packet says so.
   */
  tick(nowMicros: number, replay = false): void {
    if (!this.started) return;
    const s = Math.floor(nowMicros / 1_000_000);
    if (s <= this.hi) return;
    if (replay) {
      // A paced replay must give what a full-speed one gives: its clock may close the
      // seconds that have packets, but not the silence after the newest one (its length,
      // gap or zero rows, is known only when the next packet comes), and it never moves
      // the newest second (that would make the next packets late).
      this.advance(Math.min(s - this.o.reorderSeconds, this.hi + 1), this.hi);
      return;
    }
    this.advance(s - this.o.reorderSeconds, s);
    this.hi = s;
  }

  /** End of input: emit every second still open. */
  flush(): void {
    if (!this.started) return;
    this.advance(this.hi + 1, this.hi);
  }

  /** Emit every second below `to`, in order; `hi` is the newest second known. */
  private advance(to: number, hi: number): void {
    if (to <= this.closed) return;
    this.closed = to;
    const open = [...this.windows.keys()].filter((s) => s < to).sort((a, b) => a - b);
    for (const s of open) {
      this.emitEmpty(this.nextEmit, s - 1, hi);
      const w = this.windows.get(s);
      if (w !== undefined) this.emitWindow(w);
      this.nextEmit = s + 1;
    }
    this.emitEmpty(this.nextEmit, to - 1, hi);
  }

  /** Seconds from..to (inclusive) had no packets: zero rows, or one gap if too many. */
  private emitEmpty(from: number, to: number, hi: number): void {
    // nothing is empty before the first second with traffic
    if (from < this.low) from = Math.min(this.low, to + 1);
    if (to < from) {
      this.nextEmit = Math.max(this.nextEmit, to + 1);
      return;
    }
    // The silence runs up to the next second that has packets (or the newest known): its
    // whole length decides, not the part the reorder allowance has closed so far (else a
    // run of maxGap + reorder seconds would come out as zero rows).
    let end = hi - 1;
    for (const s of this.windows.keys()) if (s > to && s - 1 < end) end = s - 1;
    if (end < to) end = to;
    if (end - from + 1 > this.o.maxGapSeconds) {
      if (end > to) {
        // Its last seconds are still open: a packet there (within the reorder allowance)
        // shortens it, and may make it zero rows. Decided when they close.
        this.nextEmit = from;
        return;
      }
      // A long silence: report it once.
      this.gaps++;
      this.ev.gap({ from, to: end });
      this.nextEmit = end + 1;
      return;
    }
    for (let s = from; s <= to; s++) this.emitZero(s);
    this.nextEmit = to + 1;
  }

  private emitZero(sec: number): void {
    this.track(sec, 0, 0);
    this.view.window = null;
    this.ev.summary(
      {
      ts: sec,
      packets: 0,
      bytes: 0,
      capturedBytes: 0,
      protocols: {},
      activeHosts: 0,
      hosts: [],
      newHosts: 0,
      newHostAddrs: [],
      anomalies: {},
        late: 0,
        dropped: null,
      },
      this.view,
    );
  }

  private track(sec: number, packets: number, bytes: number): void {
    if (packets > this.peakPackets) {
      this.peakPackets = packets;
      this.peakPacketsTs = sec;
    }
    if (bytes > this.peakBytes) {
      this.peakBytes = bytes;
      this.peakBytesTs = sec;
    }
  }

  private emitWindow(w: SecondWindow): void {
    this.windows.delete(w.sec);
    w.release();
    if (this.cur === w) {
      this.cur = null;
      this.curSec = -1;
    }
    this.track(w.sec, w.packets, w.bytes);
    // exact per-host counts of the second go into the cumulative table now
    const t = this.hosts;
    const c = w.cnt;
    const act = w.active;
    for (let i = 0; i < w.activeLen; i++) {
      const id = act[i] ?? 0;
      t.addCounts(id, c[i * 4] ?? 0, c[i * 4 + 1] ?? 0, c[i * 4 + 2] ?? 0, c[i * 4 + 3] ?? 0, w.sec);
    }
    const hosts = this.topOfWindow(w);
    this.handOn(w);
    this.untracked += w.untracked;
    const s: SecondSummary = {
      ts: w.sec,
      packets: w.packets,
      bytes: w.bytes,
      capturedBytes: w.captured,
      protocols: protocolObject(w.proto),
      activeHosts: w.activeLen,
      hosts,
      newHosts: w.newHosts,
      newHostAddrs: w.newHostAddrs,
      anomalies: anomalyObject(w.anomalies),
      late: w.late,
      dropped: null,
    };
    this.view.window = w;
    this.ev.summary(s, this.view);
    this.view.window = null;
    // a burst of open seconds (--reorder 300) does not leave its windows behind
    if (this.spare.length < MAX_SPARE_WINDOWS) this.spare.push(w);
  }

  /** Move a window's log to the pending sizes (folded later, in bulk). */
  private handOn(w: SecondWindow): void {
    const n = w.logLen;
    if (this.pendLen + n > this.pend.length) {
      let cap = this.pend.length;
      while (cap < this.pendLen + n) cap *= 2;
      const p = new Uint32Array(cap);
      p.set(this.pend.subarray(0, this.pendLen));
      this.pend = p;
    }
    this.pend.set(w.log.subarray(0, n), this.pendLen);
    this.pendLen += n;
    w.logLen = 0;
    this.hosts.position = this.foldBase + this.pendLen / 3;
    if (this.pendLen >= 3 * FOLD_PACKETS) this.fold();
  }

  /** The window's top hosts by bytes, with exact size statistics from its log. */
  private topOfWindow(w: SecondWindow): HostStats[] {
    const limit = this.o.topHosts;
    if (limit === 0 || w.activeLen === 0) return [];
    const c = w.cnt;
    const ids = topOf(w, limit);
    // the listed hosts' count offsets in c
    const at = ids.map((id) => w.slotOf(id) * 4);
    const t = this.hosts;
    if (this.rank.length < t.index.cap) this.rank = new Int32Array(t.index.cap).fill(-1);
    const rank = this.rank;
    // One flat buffer: the listed hosts' tx then rx sizes, each run sized by its packet count
    // (a spilled window's log holds only the second's tail: no run needs more than the log;
    // the sizes handed on early are in w.spill).
    const runs = 2 * ids.length;
    const start = this.runStart.length >= runs + 1 ? this.runStart : (this.runStart = new Int32Array(runs + 1));
    const fill = this.runFill.length >= runs ? this.runFill : (this.runFill = new Int32Array(runs));
    const logged = w.logLen / 3;
    let total = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] ?? 0;
      rank[id] = k;
      start[2 * k] = total;
      fill[2 * k] = total;
      const o = at[k] ?? 0;
      total += Math.min(c[o] ?? 0, logged);
      start[2 * k + 1] = total;
      fill[2 * k + 1] = total;
      total += Math.min(c[o + 2] ?? 0, logged);
    }
    start[runs] = total;
    if (this.runSizes.length < total) this.runSizes = new Uint32Array(Math.max(total, 2 * this.runSizes.length));
    const sizes = this.runSizes;
    const log = w.log;
    for (let i = 0, n = w.logLen; i < n; i += 3) {
      const s = log[i] ?? 0;
      const d = log[i + 1] ?? 0;
      const rs = s > 0 ? (rank[s - 1] ?? -1) : -1;
      const rd = d > 0 ? (rank[d - 1] ?? -1) : -1;
      if (rs < 0 && rd < 0) continue;
      const v = log[i + 2] ?? 0;
      if (rs >= 0) {
        const f = fill[2 * rs] ?? 0;
        if (f < (start[2 * rs + 1] ?? 0)) {
          sizes[f] = v;
          fill[2 * rs] = f + 1;
        }
      }
      if (rd >= 0) {
        const f = fill[2 * rd + 1] ?? 0;
        if (f < (start[2 * rd + 2] ?? 0)) {
          sizes[f] = v;
          fill[2 * rd + 1] = f + 1;
        }
      }
    }
    for (const id of ids) rank[id] = -1;
    const spill = w.spilled ? w.spill : null;
    const stats = (id: number, dir: number, tail: Uint32Array): SizeStats | null => {
      const r = spill === null ? -1 : spill.find(id, dir);
      if (spill !== null && r >= 0) return mergedSizeStats(tail, spill.vals, spill.cnts, spill.start[r] ?? 0, spill.start[r + 1] ?? 0);
      return tail.length > 0 ? exactSizeStats(tail) : null;
    };
    return ids.map((id, k) => {
      const tx0 = start[2 * k] ?? 0;
      const rx0 = start[2 * k + 1] ?? 0;
      const tx = sizes.subarray(tx0, fill[2 * k] ?? tx0);
      const rx = sizes.subarray(rx0, fill[2 * k + 1] ?? rx0);
      return {
        addr: t.addressOf(id),
        tx: { packets: c[(at[k] ?? 0)] ?? 0, bytes: c[(at[k] ?? 0) + 1] ?? 0, size: stats(id, 0, tx) },
        rx: { packets: c[(at[k] ?? 0) + 2] ?? 0, bytes: c[(at[k] ?? 0) + 3] ?? 0, size: stats(id, 1, rx) },
      };
    });
  }

  /**
   * Apply pending sizes to the per-host size statistics, grouped by host (counting sort)
   * so each host's record and histogram are touched once per fold, not once per packet.
   * Sizes of hosts evicted since they were logged go with those hosts.
   */
  fold(): void {
    const n = this.pendLen;
    if (n === 0) return;
    const t = this.hosts;
    const k = t.index.end;
    const m = this.sortScratch(k, n / 3);
    const { txStart, rxStart, txPos, rxPos, txSizes, rxSizes } = m;
    txStart.fill(0, 0, k + 1);
    rxStart.fill(0, 0, k + 1);
    const pend = this.pend;
    const base = this.foldBase;
    for (let i = 0; i < n; i += 3) {
      const pos = base + i / 3;
      const s = pend[i] ?? 0;
      const d = pend[i + 1] ?? 0;
      if (s > 0 && t.owns(s - 1, pos)) txStart[s] = (txStart[s] ?? 0) + 1;
      else pend[i] = 0;
      if (d > 0 && t.owns(d - 1, pos)) rxStart[d] = (rxStart[d] ?? 0) + 1;
      else pend[i + 1] = 0;
    }
    for (let j = 1; j <= k; j++) {
      txStart[j] = (txStart[j] ?? 0) + (txStart[j - 1] ?? 0);
      rxStart[j] = (rxStart[j] ?? 0) + (rxStart[j - 1] ?? 0);
    }
    txPos.set(txStart.subarray(0, k + 1));
    rxPos.set(rxStart.subarray(0, k + 1));
    for (let i = 0; i < n; i += 3) {
      const s = pend[i] ?? 0;
      const d = pend[i + 1] ?? 0;
      const v = pend[i + 2] ?? 0;
      if (s > 0) {
        const p = txPos[s - 1] ?? 0;
        txSizes[p] = v;
        txPos[s - 1] = p + 1;
      }
      if (d > 0) {
        const p = rxPos[d - 1] ?? 0;
        rxSizes[p] = v;
        rxPos[d - 1] = p + 1;
      }
    }
    for (let id = 0; id < k; id++) {
      const tx0 = txStart[id] ?? 0;
      const rx0 = rxStart[id] ?? 0;
      t.addSizes(id, TX, txSizes, tx0, (txStart[id + 1] ?? 0) - tx0);
      t.addSizes(id, RX, rxSizes, rx0, (rxStart[id + 1] ?? 0) - rx0);
    }
    this.foldBase += n / 3;
    this.pendLen = 0;
    t.position = this.foldBase;
  }

  private sortScratch(k: number, n: number): Aggregator['sort'] {
    let m = this.sort;
    if (m.txStart.length < k + 1) {
      const cap = Math.max(k + 1, m.txStart.length * 2);
      m = { ...m, txStart: new Int32Array(cap), rxStart: new Int32Array(cap), txPos: new Int32Array(cap), rxPos: new Int32Array(cap) };
    }
    if (m.txSizes.length < n) {
      const cap = Math.max(n, m.txSizes.length * 2);
      m = { ...m, txSizes: new Uint32Array(cap), rxSizes: new Uint32Array(cap) };
    }
    this.sort = m;
    return m;
  }

  /** Sum of decoder anomalies so far. */
  anomalyTotal(): number {
    let n = 0;
    for (const c of this.anomalies) n += c;
    return n;
  }

  /** Newest second seen (packet time), or -1 when none. */
  lastSecond(): number {
    return this.started ? this.hi : -1;
  }

  /**
   * The cumulative state as a report listing the top `hosts` hosts (Infinity: all). Host
   * counts cover closed seconds; size statistics are folded up to now.
   */
  report(hosts: number): Report {
    this.fold();
    const t = this.hosts;
    const empty = this.packets === 0;
    const seconds = empty ? 0 : Math.floor(this.lastMicros / 1_000_000) - Math.floor(this.firstMicros / 1_000_000) + 1;
    return {
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.captured,
      firstTs: empty ? null : this.firstMicros / 1_000_000,
      lastTs: empty ? null : this.lastMicros / 1_000_000,
      seconds,
      rates: {
        avgPacketsPerSec: seconds > 0 ? this.packets / seconds : 0,
        avgBytesPerSec: seconds > 0 ? this.bytes / seconds : 0,
        peakPacketsPerSec: this.peakPackets,
        peakBytesPerSec: this.peakBytes,
        peakPacketsTs: this.peakPacketsTs,
        peakBytesTs: this.peakBytesTs,
      },
      protocols: protocolObject(this.proto),
      hosts: t.top(hosts).map((id) => t.hostStats(id)),
      hostsTracked: t.count,
      evictedHosts: t.evictions,
      untrackedPackets: this.untracked,
      anomalies: anomalyObject(this.anomalies),
      late: this.late,
      gaps: this.gaps,
      dropped: null,
      droppedEstimate: null,
    };
  }
}

/** SecondHosts over the window being closed (no window: an empty second). */
class WindowHosts implements SecondHosts {
  window: SecondWindow | null = null;
  constructor(private readonly table: () => HostTable) {}
  get count(): number {
    return this.window?.activeLen ?? 0;
  }
  id(i: number): number {
    return this.window?.active[i] ?? -1;
  }
  generation(i: number): number {
    return this.table().generation[this.id(i)] ?? 0;
  }
  address(i: number): string {
    return this.table().addressOf(this.id(i));
  }
  copyAddress(i: number, out: Uint32Array, at: number): void {
    this.table().copyAddress(this.id(i), out, at);
  }
  copyTo(ids: Int32Array, gens: Float64Array, cnt: Float64Array, addr: Uint32Array): void {
    const w = this.window;
    if (w === null) return;
    const t = this.table();
    const n = w.activeLen;
    for (let i = 0; i < n; i++) {
      const id = w.active[i] ?? 0;
      ids[i] = id;
      gens[i] = t.generation[id] ?? 0;
      cnt[i * 4] = w.cnt[i * 4] ?? 0;
      cnt[i * 4 + 1] = w.cnt[i * 4 + 1] ?? 0;
      cnt[i * 4 + 2] = w.cnt[i * 4 + 2] ?? 0;
      cnt[i * 4 + 3] = w.cnt[i * 4 + 3] ?? 0;
      t.copyAddress(id, addr, i * 5);
    }
  }
  private cnt(i: number, k: number): number {
    const w = this.window;
    return w === null ? 0 : (w.cnt[i * 4 + k] ?? 0);
  }
  txPackets(i: number): number {
    return this.cnt(i, 0);
  }
  txBytes(i: number): number {
    return this.cnt(i, 1);
  }
  rxPackets(i: number): number {
    return this.cnt(i, 2);
  }
  rxBytes(i: number): number {
    return this.cnt(i, 3);
  }
}

/** The `limit` largest ids of list[0..len) by value, largest first, ties by id. */
/** The window's `limit` hosts with the most bytes (tx + rx), most first, ties by id. */
function topOf(w: SecondWindow, limit: number): number[] {
  const len = w.activeLen;
  const list = w.active;
  if (limit <= SMALL_TOP) return smallTop(len, limit, (i) => list[i] ?? 0, (i) => w.bytesAt(i));
  const top = new TopK(limit, len);
  for (let i = 0; i < len; i++) top.offer(list[i] ?? 0, w.bytesAt(i));
  return top.result();
}

export function anomalyObject(counts: Float64Array): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 1; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n > 0) o[ANOMALY_NAMES[i] ?? `anomaly_${i}`] = n;
  }
  return o;
}
