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
  /** mark[id] === epoch: host id has traffic in this second */
  private mark: Int32Array;
  private epoch = 0;
  /** per host id: tx packets, tx bytes, rx packets, rx bytes (valid when marked) */
  cnt: Float64Array;
  /** ids of the hosts with traffic in this second */
  active: Int32Array;
  activeLen = 0;
  /** per packet: source id + 1, destination id + 1 (0: not tracked), wire length */
  log: Uint32Array;
  logLen = 0;
  newHostAddrs: string[] = [];

  constructor(cap: number) {
    this.mark = new Int32Array(cap);
    this.cnt = new Float64Array(cap * 4);
    this.active = new Int32Array(Math.min(cap, 1024));
    this.log = new Uint32Array(3 * 4096);
  }

  /** The host table grew to `cap` ids. */
  grow(cap: number): void {
    if (cap <= this.mark.length) return;
    const m = new Int32Array(cap);
    m.set(this.mark);
    this.mark = m;
    const c = new Float64Array(cap * 4);
    c.set(this.cnt);
    this.cnt = c;
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
    this.epoch++;
    this.activeLen = 0;
    this.logLen = 0;
    this.newHostAddrs = [];
  }

  isActive(id: number): boolean {
    return this.mark[id] === this.epoch;
  }

  private touch(id: number): void {
    if (this.mark[id] === this.epoch) return;
    this.mark[id] = this.epoch;
    const c = this.cnt;
    c[id * 4] = 0;
    c[id * 4 + 1] = 0;
    c[id * 4 + 2] = 0;
    c[id * 4 + 3] = 0;
    if (this.activeLen === this.active.length) {
      const a = new Int32Array(this.active.length * 2);
      a.set(this.active);
      this.active = a;
    }
    this.active[this.activeLen++] = id;
  }

  /**
   * Count an IP packet between two hosts (ids, -1 when a host is not tracked). Returns
   * false when the log is full and must be handed on before the next packet.
   */
  addHosts(src: number, dst: number, wire: number): boolean {
    const c = this.cnt;
    if (src >= 0) {
      this.touch(src);
      c[src * 4] = (c[src * 4] ?? 0) + 1;
      c[src * 4 + 1] = (c[src * 4 + 1] ?? 0) + wire;
    }
    if (dst >= 0) {
      this.touch(dst);
      c[dst * 4 + 2] = (c[dst * 4 + 2] ?? 0) + 1;
      c[dst * 4 + 3] = (c[dst * 4 + 3] ?? 0) + wire;
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

  bytesOf(id: number): number {
    return (this.cnt[id * 4 + 1] ?? 0) + (this.cnt[id * 4 + 3] ?? 0);
  }
}
