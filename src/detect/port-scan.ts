// port-scan detector: one source making unanswered attempts at many ports of one host
// (Port_Scan) or at one port of many hosts (Address_Scan; ARP requests count as a port of
// their own, so ARP sweeps are address scans). Like Zeek's scan policy it counts attempts
// that were not answered: an open port's SYN-ACK takes its attempt back, which keeps busy
// clients (a browser reaching fifty web servers) out of it. Fixed-size tables, two
// generations of `window` seconds each; the count of a pair is the larger of the two.

import type { SecondSummary } from '../aggregate/summary.js';
import { LAYER, TCP_FLAGS, type DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import { formatIpv4, formatIpv6, key6 } from './addr.js';
import type { PortScanConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';
import { KeyTable } from './table.js';

/** The pseudo-port of ARP requests. */
export const ARP_PORT = 65536;
/** Pseudo-port of the per-pair counter (the port slot of the vertical table). */
const ANY = -1;
/** Sources flagged per second at most (the rest are counted, not reported that second). */
const MAX_FLAGS = 256;

const SYN = TCP_FLAGS.SYN;
const ACK = TCP_FLAGS.ACK;
const RST = TCP_FLAGS.RST;

class Generation {
  readonly attempts: KeyTable;
  readonly answered: Uint8Array;
  /** (src, dst, ANY) -> distinct unanswered ports; (src, 0, port) -> distinct unanswered hosts. */
  readonly pairs: KeyTable;
  readonly counts: Int32Array;
  start = -Infinity;

  constructor(size: number) {
    this.attempts = new KeyTable(size);
    this.answered = new Uint8Array(this.attempts.capacity);
    this.pairs = new KeyTable(size >> 1);
    this.counts = new Int32Array(this.pairs.capacity);
  }

  clear(start: number): void {
    this.attempts.clear();
    this.pairs.clear();
    this.start = start;
  }

  count(a: number, b: number, c: number): number {
    const i = this.pairs.find(a, b, c);
    return i < 0 ? 0 : (this.counts[i] ?? 0);
  }

  bump(a: number, b: number, c: number, by: number): number {
    const i = by > 0 ? this.pairs.upsert(a, b, c) : this.pairs.find(a, b, c);
    if (i < 0) return 0;
    if (this.pairs.inserted) this.counts[i] = 0;
    const n = (this.counts[i] ?? 0) + by;
    this.counts[i] = n;
    return n;
  }
}

/** Scratch text-free address holder: key, version, words. */
class AddrPool {
  readonly keys: Float64Array;
  readonly version: Uint8Array;
  readonly words: Uint32Array;
  constructor(n: number) {
    this.keys = new Float64Array(n);
    this.version = new Uint8Array(n);
    this.words = new Uint32Array(n * 4);
  }
  set(i: number, key: number, version: number, w: Uint32Array | null): void {
    this.keys[i] = key;
    this.version[i] = version;
    if (version === 6 && w !== null) this.words.set(w, i * 4);
  }
  text(i: number): string {
    return this.version[i] === 6 ? formatIpv6(this.words.subarray(i * 4, i * 4 + 4)) : formatIpv4(this.keys[i] ?? 0);
  }
}

export class PortScanDetector implements Detector {
  readonly name = 'port-scan';
  private cur: Generation;
  private prev: Generation;
  /** Sources over a limit this second: (src, kind 0 vertical / 1 horizontal, target) -> flag index. */
  private readonly flagged = new KeyTable(MAX_FLAGS * 4);
  private nflags = 0;
  private readonly flagSrc = new AddrPool(MAX_FLAGS);
  private readonly flagDst = new AddrPool(MAX_FLAGS);
  /** flagged table slot -> flag index. */
  private readonly flagIndex = new Int32Array(this.flagged.capacity);
  private readonly flagKind = new Uint8Array(MAX_FLAGS);
  private readonly flagPort = new Int32Array(MAX_FLAGS);
  private readonly flagCount = new Int32Array(MAX_FLAGS);
  /** Attempts not tracked because a table was full (cumulative). */
  get untracked(): number {
    return this.cur.attempts.refused + this.prev.attempts.refused + this.cur.pairs.refused + this.prev.pairs.refused;
  }
  readonly packet: (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

  constructor(
    private readonly cfg: PortScanConfig,
    private readonly tracker: Tracker,
  ) {
    this.cur = new Generation(cfg.tableSize);
    this.prev = new Generation(cfg.tableSize);
    this.packet = (p) => this.onPacket(p);
  }

  private onPacket(p: DecodedPacket): void {
    const v = p.ipVersion;
    if (v === 0) {
      if ((p.layers & LAYER.arp) !== 0) this.onArp(p);
      return;
    }
    const proto = p.ipProto;
    if (proto === 6) {
      const f = p.tcpFlags;
      if ((f & (ACK | RST)) === 0) {
        // SYN, FIN, NULL and Xmas probes: no ACK, no RST.
        if (p.dstPort >= 0) this.attempt(p, p.dstPort);
      } else if ((f & (SYN | ACK)) === (SYN | ACK)) {
        this.answer(p);
      }
    } else if (proto === 17) {
      const sp = p.srcPort;
      const dp = p.dstPort;
      if (dp >= 0 && dp < 1024 && sp >= 1024) this.attempt(p, dp);
      else if (sp >= 0 && sp < 1024 && dp >= 1024) this.answer(p);
    }
  }

  private onArp(p: DecodedPacket): void {
    const spa = p.arpSender >>> 0;
    const tpa = p.arpTarget >>> 0;
    if (spa === 0 || spa === tpa) return; // probes and gratuitous ARP
    if (p.arpOp === 1) this.record(spa, tpa, ARP_PORT, 4, null, null);
    else if (p.arpOp === 2) this.unrecord(tpa, spa, ARP_PORT);
  }

  private attempt(p: DecodedPacket, port: number): void {
    if (p.ipVersion === 4) this.record(p.src4 >>> 0, p.dst4 >>> 0, port, 4, null, null);
    else this.record(key6(p.src6), key6(p.dst6), port, 6, p.src6, p.dst6);
  }

  /** A response from p.src (the target) to p.dst (the prober) from port p.srcPort. */
  private answer(p: DecodedPacket): void {
    if (p.ipVersion === 4) this.unrecord(p.dst4 >>> 0, p.src4 >>> 0, p.srcPort);
    else this.unrecord(key6(p.dst6), key6(p.src6), p.srcPort);
  }

  private record(src: number, dst: number, port: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    const g = this.cur;
    const slot = g.attempts.upsert(src, dst, port);
    if (slot < 0 || !g.attempts.inserted) return;
    g.answered[slot] = 0;
    const nPorts = g.bump(src, dst, ANY, 1);
    const nHosts = g.bump(src, 0, port, 1);
    const { ports, hosts } = this.cfg;
    if (port !== ARP_PORT && (nPorts >= ports || this.prev.count(src, dst, ANY) >= ports)) {
      this.flag(src, 0, dst, port, Math.max(nPorts, this.prev.count(src, dst, ANY)), version, s6, d6);
    }
    if (nHosts >= hosts || this.prev.count(src, 0, port) >= hosts) {
      this.flag(src, 1, port, port, Math.max(nHosts, this.prev.count(src, 0, port)), version, s6, d6);
    }
  }

  private unrecord(src: number, dst: number, port: number): void {
    this.unrecordIn(this.cur, src, dst, port);
    this.unrecordIn(this.prev, src, dst, port);
  }

  private unrecordIn(g: Generation, src: number, dst: number, port: number): void {
    const slot = g.attempts.find(src, dst, port);
    if (slot < 0 || g.answered[slot] === 1) return;
    g.answered[slot] = 1;
    g.bump(src, dst, ANY, -1);
    g.bump(src, 0, port, -1);
  }

  private flag(
    src: number,
    kind: number,
    target: number,
    port: number,
    count: number,
    version: number,
    s6: Uint32Array | null,
    d6: Uint32Array | null,
  ): void {
    const slot = this.flagged.upsert(src, kind, target);
    if (slot < 0) return;
    if (this.flagged.inserted) {
      if (this.nflags >= MAX_FLAGS) return;
      const i = this.nflags++;
      this.flagIndex[slot] = i;
      this.flagSrc.set(i, src, version, s6);
      this.flagKind[i] = kind;
      this.flagPort[i] = port;
      if (kind === 0) this.flagDst.set(i, target, version, d6);
      this.flagCount[i] = count;
    } else {
      const i = this.flagIndex[slot] ?? 0;
      if (count > (this.flagCount[i] ?? 0)) this.flagCount[i] = count;
    }
  }

  observe(s: SecondSummary): readonly Alert[] {
    const ts = s.ts;
    for (let i = 0; i < this.nflags; i++) {
      const src = this.flagSrc.text(i);
      const count = this.flagCount[i] ?? 0;
      const port = this.flagPort[i] ?? 0;
      if (this.flagKind[i] === 0) {
        const dst = this.flagDst.text(i);
        this.tracker.anomalous(ts, 'Port_Scan', src, 'distinct_ports', {
          value: count,
          threshold: this.cfg.ports,
          baseline: null,
          message: `${src} made unanswered attempts at ${count} ports of ${dst} within about ${this.cfg.window * 2} s`,
        });
      } else {
        const what = port === ARP_PORT ? 'ARP requests for' : `attempts at port ${port} of`;
        this.tracker.anomalous(ts, 'Address_Scan', src, 'distinct_hosts', {
          value: count,
          threshold: this.cfg.hosts,
          baseline: null,
          message: `${src} made unanswered ${what} ${count} hosts within about ${this.cfg.window * 2} s`,
        });
      }
    }
    this.nflags = 0;
    this.flagged.clear();
    if (this.cur.start === -Infinity) this.cur.start = ts;
    if (ts - this.cur.start >= this.cfg.window) {
      const old = this.prev;
      this.prev = this.cur;
      this.cur = old;
      this.cur.clear(ts);
    }
    const out: Alert[] = [];
    this.tracker.step(ts, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }
}
