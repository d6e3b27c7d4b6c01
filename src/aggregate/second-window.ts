// One open epoch second. Per packet it counts totals, protocols, anomalies and, for each
// host (by cumulative host id), tx/rx packets and bytes, and appends (source, destination,
// wire length) to a log. When it closes the aggregator adds its counts to the cumulative
// table, takes its top hosts with exact size statistics from the log, and hands the log
// on for the deferred size folding. Windows are recycled; their arrays grow with the table.

import { ANOMALY_COUNT } from '../decode/packet.js';
import { PROTO_SLOTS } from './protocols.js';
import { SpillSizes } from './spill-sizes.js';

/** Log entries kept for one second before they are handed on early (12 bytes each). */
export const LOG_SPILL_PACKETS = 1_000_000;

/**
 * Per host id: in how many open seconds it has traffic (shared by the aggregator's windows),
 * so "is this host in a second still open?" is one read, however many seconds are open.
 */
export class OpenCounts {
  n: Int32Array;
  constructor(cap: number) {
    this.n = new Int32Array(cap);
  }
  grow(cap: number): void {
    if (cap <= this.n.length) return;
    const m = new Int32Array(cap);
    m.set(this.n);
    this.n = m;
  }
}

export class SecondWindow {
  sec = 0;
  packets = 0;
  bytes = 0;
  captured = 0;
  late = 0;
  newHosts = 0;
  /** Packets with a host that could not be tracked (the host table was full of active hosts). */
  untracked = 0;
  /** Part of the log was handed on early: its sizes, per host, are in `spill`. */
  spilled = false;
  /** Exact sizes of the log handed on early (per host and direction, counted). */
  spill: SpillSizes | null = null;
  readonly proto = new Float64Array(PROTO_SLOTS);
  readonly anomalies = new Float64Array(ANOMALY_COUNT);
  /**
   * stamp[id] - base: host id's slot in cnt when >= 0 (slots of earlier seconds in this
   * window's life are below base). 4 bytes per table id; the counts take room only for the
   * hosts active in this second, so an open second costs 4 bytes per id of the host table
   * plus 36 per active host, not 36 per id (with --reorder 300 and 100,000 hosts, 301 open
   * seconds took 1.1 GB).
   */
  private stamp: Int32Array;
  private base = 1;
  /** per active slot: tx packets, tx bytes, rx packets, rx bytes */
  cnt: Float64Array;
  /** ids of the hosts with traffic in this second, by slot */
  active: Int32Array;
  activeLen = 0;
  /** per packet: source id + 1, destination id + 1 (0: not tracked), wire length */
  log: Uint32Array;
  logLen = 0;
  newHostAddrs: string[] = [];

  private readonly open: OpenCounts | null;

  /** `open`: counts to keep of the hosts active in each open second (null: none kept). */
  constructor(cap: number, open: OpenCounts | null = null) {
    this.open = open;
    this.stamp = new Int32Array(cap);
    this.active = new Int32Array(Math.min(cap, 1024));
    this.cnt = new Float64Array(this.active.length * 4);
    this.log = new Uint32Array(3 * 4096);
  }

  /** The host table grew to `cap` ids. */
  grow(cap: number): void {
    if (cap <= this.stamp.length) return;
    const m = new Int32Array(cap);
    m.set(this.stamp);
    this.stamp = m;
  }

  /** The second closed: its hosts are no longer active in it. */
  release(): void {
    const o = this.open;
    if (o === null) return;
    const a = this.active;
    const n = o.n;
    for (let i = 0; i < this.activeLen; i++) {
      const id = a[i] ?? 0;
      n[id] = (n[id] ?? 0) - 1;
    }
  }

  reset(sec: number): void {
    this.sec = sec;
    this.packets = 0;
    this.bytes = 0;
    this.captured = 0;
    this.late = 0;
    this.newHosts = 0;
    this.untracked = 0;
    this.spilled = false;
    this.spill?.clear();
    this.proto.fill(0);
    this.anomalies.fill(0);
    this.base += this.activeLen;
    if (this.base > 0x40000000) {
      // every stamp is below base; start again from the bottom
      this.stamp.fill(0);
      this.base = 1;
    }
    this.activeLen = 0;
    this.logLen = 0;
    this.newHostAddrs = [];
  }

  isActive(id: number): boolean {
    return this.slotOf(id) >= 0;
  }

  /** Host id's slot in cnt (counts at cnt[4 * slot]), or -1 when it has no traffic here. */
  slotOf(id: number): number {
    const k = (this.stamp[id] ?? 0) - this.base;
    return k >= 0 ? k : -1;
  }

  private touch(id: number): number {
    const k = (this.stamp[id] ?? 0) - this.base;
    if (k >= 0) return k;
    return this.enter(id);
  }

  /** A host's first packet in this second: its slot, counts zeroed. */
  private enter(id: number): number {
    const n = this.activeLen;
    if (n === this.active.length) this.widen();
    this.active[n] = id;
    this.stamp[id] = this.base + n;
    const o = this.open;
    if (o !== null) o.n[id] = (o.n[id] ?? 0) + 1;
    const c = this.cnt;
    c[n * 4] = 0;
    c[n * 4 + 1] = 0;
    c[n * 4 + 2] = 0;
    c[n * 4 + 3] = 0;
    this.activeLen = n + 1;
    return n;
  }

  private widen(): void {
    const n = this.active.length;
    const a = new Int32Array(n * 2);
    a.set(this.active);
    this.active = a;
    const c = new Float64Array(n * 2 * 4);
    c.set(this.cnt);
    this.cnt = c;
  }

  /**
   * Count an IP packet between two hosts (ids, -1 when a host is not tracked). Returns
   * false when the log is full and must be handed on before the next packet.
   */
  addHosts(src: number, dst: number, wire: number): boolean {
    if (src >= 0) {
      const k = this.touch(src) * 4;
      const c = this.cnt;
      c[k] = (c[k] ?? 0) + 1;
      c[k + 1] = (c[k + 1] ?? 0) + wire;
    }
    if (dst >= 0) {
      const k = this.touch(dst) * 4 + 2;
      const c = this.cnt;
      c[k] = (c[k] ?? 0) + 1;
      c[k + 1] = (c[k + 1] ?? 0) + wire;
    }
    if (src < 0 || dst < 0) this.untracked++;
    let n = this.logLen;
    if (n + 3 > this.log.length) {
      const l = new Uint32Array(this.log.length * 2);
      l.set(this.log);
      this.log = l;
    }
    const log = this.log;
    log[n++] = src + 1;
    log[n++] = dst + 1;
    log[n++] = wire;
    this.logLen = n;
    return n < 3 * LOG_SPILL_PACKETS;
  }

  /** Bytes sent + received by the host in `slot`. */
  bytesAt(slot: number): number {
    return (this.cnt[slot * 4 + 1] ?? 0) + (this.cnt[slot * 4 + 3] ?? 0);
  }
}
