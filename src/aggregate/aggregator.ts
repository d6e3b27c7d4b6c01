// The aggregator: frames in, epoch-aligned SecondSummary objects out, plus the cumulative
// host table and totals for the report. Time comes from the packets (or, for live and
// paced sources, from tick()). Seconds stay open for a reorder allowance; older packets
// are counted as late in the newest second. Runs of empty seconds longer than the gap
// bound become one gap instead of zero rows.

import type { Frame } from '../capture/frame.js';
import { ANOMALY_COUNT, ANOMALY_NAMES, NONIP, type DecodedPacket } from '../decode/packet.js';
import { formatIpv4, formatIpv6 } from './address.js';
import { HostTable } from './host-table.js';
import { PROTO_IPV4, PROTO_IPV6, PROTO_NONIP_BASE, PROTO_SLOTS, protocolObject } from './protocols.js';
import { MAX_NEW_HOST_ADDRS, SecondWindow } from './second-window.js';
import type { Gap, Report, SecondSummary } from './summary.js';

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
  /** Histogram memory of each open second, in bytes. */
  readonly secondHistogramBytes?: number;
}

export interface AggregatorEvents {
  summary(s: SecondSummary): void;
  gap(g: Gap): void;
}

const PAIR_BYTES = 12;

export class Aggregator {
  private readonly o: AggregatorOptions;
  private readonly ev: AggregatorEvents;
  readonly hosts: HostTable;
  private readonly windows = new Map<number, SecondWindow>();
  private readonly spare: SecondWindow[] = [];
  private cur: SecondWindow | null = null;
  private curSec = -1;
  /** Highest second seen (by packet or tick); -1 before anything. */
  private hi = -1;
  /** Every second below this has been emitted. */
  private nextEmit = -1;
  // totals
  packets = 0;
  bytes = 0;
  captured = 0;
  late = 0;
  gaps = 0;
  private firstMicros = Infinity;
  private lastMicros = -Infinity;
  private firstSec = -1;
  private lastSec = -1;
  private readonly proto = new Float64Array(PROTO_SLOTS);
  private readonly anomalies = new Float64Array(ANOMALY_COUNT);
  private peakPackets = 0;
  private peakBytes = 0;
  private peakPacketsTs: number | null = null;
  private peakBytesTs: number | null = null;

  constructor(o: AggregatorOptions, ev: AggregatorEvents) {
    this.o = o;
    this.ev = ev;
    this.hosts = new HostTable({
      maxHosts: o.maxHosts,
      evict: true,
      histogramPairs: Math.floor((o.histogramBytes ?? 64 * 1024 * 1024) / PAIR_BYTES),
    });
  }

  /** Live sources: seconds start now, so a quiet start still yields zero summaries. */
  startAt(nowMicros: number): void {
    if (this.hi >= 0) return;
    const s = Math.floor(nowMicros / 1_000_000);
    this.hi = s;
    this.nextEmit = s;
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
      if (this.hi < 0) {
        this.hi = sec;
        this.nextEmit = sec;
      } else if (sec > this.hi) {
        this.advance(sec - this.o.reorderSeconds, sec);
        this.hi = sec;
      }
      if (sec < this.nextEmit) {
        // Older than the reorder allowance: counted as late in the newest second.
        w = this.windowFor(this.hi);
        w.late++;
        this.late++;
      } else {
        w = this.windowFor(sec);
        this.cur = w;
        this.curSec = sec;
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
    const wt = w.hosts;
    const sid = v === 4 ? t.idV4(p.src4, sec) : t.idV6(p.src6, sec);
    if (sid >= 0) {
      t.addTx(sid, wire, sec);
      if (t.inserted) this.noteNew(w, t, sid);
      t.protectId(sid);
    }
    const did = v === 4 ? t.idV4(p.dst4, sec) : t.idV6(p.dst6, sec);
    if (did >= 0) {
      t.addRx(did, wire, sec);
      if (t.inserted) this.noteNew(w, t, did);
    }
    t.protectId(-1);
    const wsid = v === 4 ? wt.idV4(p.src4, sec) : wt.idV6(p.src6, sec);
    if (wsid >= 0) wt.addTx(wsid, wire, sec);
    const wdid = v === 4 ? wt.idV4(p.dst4, sec) : wt.idV6(p.dst6, sec);
    if (wdid >= 0) wt.addRx(wdid, wire, sec);
  }

  private noteNew(w: SecondWindow, t: HostTable, id: number): void {
    w.noteNewHost(t.fam[id] ?? 0, t.w0[id] ?? 0, t.w1[id] ?? 0, t.w2[id] ?? 0, t.w3[id] ?? 0);
  }

  private windowFor(sec: number): SecondWindow {
    let w = this.windows.get(sec);
    if (w === undefined) {
      w =
        this.spare.pop() ??
        new SecondWindow(this.o.maxHosts, Math.floor((this.o.secondHistogramBytes ?? 16 * 1024 * 1024) / PAIR_BYTES));
      w.reset(sec);
      this.windows.set(sec, w);
    }
    return w;
  }

  /**
   * Clock-driven sources (live capture, paced replay): the capture has reached nowMicros,
   * so seconds older than the reorder allowance are complete even if no packet says so.
   */
  tick(nowMicros: number): void {
    if (this.hi < 0) return;
    const s = Math.floor(nowMicros / 1_000_000);
    if (s > this.hi) {
      this.advance(s - this.o.reorderSeconds, s);
      this.hi = s;
    }
  }

  /** End of input: emit every second still open. */
  flush(): void {
    if (this.hi < 0) return;
    this.advance(this.hi + 1, this.hi);
  }

  /** Emit every second below `to`, in order; `hi` is the newest second known. */
  private advance(to: number, hi: number): void {
    if (to <= this.nextEmit) return;
    const open = [...this.windows.keys()].filter((s) => s < to).sort((a, b) => a - b);
    for (const s of open) {
      this.emitEmpty(this.nextEmit, s - 1, hi);
      if (s < this.nextEmit) continue; // swallowed by a gap that reached past it
      const w = this.windows.get(s);
      if (w !== undefined) this.emitWindow(w);
      this.nextEmit = s + 1;
    }
    this.emitEmpty(this.nextEmit, to - 1, hi);
    if (to > this.nextEmit) this.nextEmit = to;
  }

  /** Seconds from..to (inclusive) had no packets: zero rows, or one gap if too many. */
  private emitEmpty(from: number, to: number, hi: number): void {
    if (to < from) return;
    if (to - from + 1 > this.o.maxGapSeconds) {
      // A long silence: report it once, up to the next second that has packets.
      let end = hi - 1;
      for (const s of this.windows.keys()) if (s > to && s - 1 < end) end = s - 1;
      if (end < to) end = to;
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
    this.ev.summary({
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
    });
  }

  private track(sec: number, packets: number, bytes: number): void {
    if (this.firstSec < 0) this.firstSec = sec;
    this.lastSec = sec;
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
    if (this.cur === w) {
      this.cur = null;
      this.curSec = -1;
    }
    this.track(w.sec, w.packets, w.bytes);
    const t = w.hosts;
    const newHostAddrs: string[] = [];
    const a = w.newAddrs;
    for (let i = 0; i < Math.min(w.newHosts, MAX_NEW_HOST_ADDRS); i++) {
      const fam = a[i * 5];
      newHostAddrs.push(fam === 4 ? formatIpv4(a[i * 5 + 4] ?? 0) : formatIpv6(a[i * 5 + 1] ?? 0, a[i * 5 + 2] ?? 0, a[i * 5 + 3] ?? 0, a[i * 5 + 4] ?? 0));
    }
    const s: SecondSummary = {
      ts: w.sec,
      packets: w.packets,
      bytes: w.bytes,
      capturedBytes: w.captured,
      protocols: protocolObject(w.proto),
      activeHosts: t.count,
      hosts: t.top(this.o.topHosts).map((id) => t.hostStats(id)),
      newHosts: w.newHosts,
      newHostAddrs,
      anomalies: anomalyObject(w.anomalies),
      late: w.late,
      dropped: null,
    };
    this.spare.push(w);
    this.ev.summary(s);
  }

  /** Sum of decoder anomalies so far. */
  anomalyTotal(): number {
    let n = 0;
    for (const c of this.anomalies) n += c;
    return n;
  }

  /** Newest second seen (packet time), or -1. */
  lastSecond(): number {
    return this.hi;
  }

  /** The cumulative state as a report listing the top `hosts` hosts (Infinity: all). */
  report(hosts: number): Report {
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
      anomalies: anomalyObject(this.anomalies),
      late: this.late,
      gaps: this.gaps,
      dropped: null,
      droppedEstimate: null,
    };
  }
}

export function anomalyObject(counts: Float64Array): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 1; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n > 0) o[ANOMALY_NAMES[i] ?? `anomaly_${i}`] = n;
  }
  return o;
}
