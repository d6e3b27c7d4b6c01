// port-scan detector: one source making unanswered attempts at many ports of one host
// (Port_Scan) or at one port of many hosts (Address_Scan; ARP requests count as a port of
// their own, so ARP sweeps are address scans). Like Zeek's scan policy it counts attempts
// that were not answered: an open port's SYN-ACK takes its attempt back, which keeps busy
// clients (a browser reaching fifty web servers) out of it; a bare RST from the prober
// right after (SYN scanners, banner grabbers) makes it count again. Fixed-size tables, two
// generations of `window` seconds each; the count of a pair is the larger of the two.
// A source crossing a limit is judged one second later, with the answers that arrived
// meanwhile taken into account (a burst of connections is answered within an RTT).

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
    if (by > 0 && this.pairs.inserted) this.counts[i] = 0;
    const n = (this.counts[i] ?? 0) + by;
    this.counts[i] = n;
    return n;
  }
}

/** Addresses kept as numbers until an alert needs their text. */
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
  copy(from: number, to: number): void {
    this.keys[to] = this.keys[from] ?? 0;
    this.version[to] = this.version[from] ?? 0;
    this.words.copyWithin(to * 4, from * 4, from * 4 + 4);
  }
  text(i: number): string {
    return this.version[i] === 6 ? formatIpv6(this.words.subarray(i * 4, i * 4 + 4)) : formatIpv4(this.keys[i] ?? 0);
  }
}

/** Sources that crossed a limit: (src, kind, target) -> index, with the packet second. */
class Flags {
  readonly table = new KeyTable(MAX_FLAGS * 4);
  readonly index: Int32Array;
  readonly slot = new Int32Array(MAX_FLAGS);
  readonly sec = new Float64Array(MAX_FLAGS);
  readonly src = new AddrPool(MAX_FLAGS);
  readonly dst = new AddrPool(MAX_FLAGS);
  /** 0: Port_Scan (ports of one host); 1: Address_Scan (hosts on one port). */
  readonly kind = new Uint8Array(MAX_FLAGS);
  readonly port = new Int32Array(MAX_FLAGS);
  n = 0;

  constructor() {
    this.index = new Int32Array(this.table.capacity);
  }

  /** First crossing wins: a source already waiting keeps its (earlier) second. */
  add(src: number, kind: number, target: number, port: number, sec: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    const slot = this.table.upsert(src, kind, target);
    if (slot < 0 || !this.table.inserted) return;
    if (this.n >= MAX_FLAGS) {
      this.table.delete(slot);
      return;
    }
    const i = this.n++;
    this.index[slot] = i;
    this.slot[i] = slot;
    this.sec[i] = sec;
    this.src.set(i, src, version, s6);
    this.kind[i] = kind;
    this.port[i] = port;
    if (kind === 0) this.dst.set(i, target, version, d6);
  }

  /** Drop entry i by moving the last entry into its place. */
  remove(i: number): void {
    this.table.delete(this.slot[i] ?? 0);
    const last = --this.n;
    if (i === last) return;
    const slot = this.slot[last] ?? 0;
    this.index[slot] = i;
    this.slot[i] = slot;
    this.sec[i] = this.sec[last] ?? 0;
    this.src.copy(last, i);
    this.dst.copy(last, i);
    this.kind[i] = this.kind[last] ?? 0;
    this.port[i] = this.port[last] ?? 0;
  }
}

export class PortScanDetector implements Detector {
  readonly name = 'port-scan';
  private cur: Generation;
  private prev: Generation;
  /** Sources over a limit, judged one second after (answers may still be on their way). */
  private readonly flags = new Flags();
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
    this.packet = (p, ts) => this.onPacket(p, ts);
  }

  /** Packet time of the packet being handled (read only when a source crosses a limit). */
  private tsMicros = 0;

  private onPacket(p: DecodedPacket, tsMicros: number): void {
    this.tsMicros = tsMicros;
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
      } else if ((f & (RST | ACK | SYN)) === RST) {
        // A bare RST from the prober to an open port that answered: what SYN scanners
        // (nmap -sS, masscan) and banner grabbers send. The probe counts again. Stacks
        // aborting a real connection send RST+ACK.
        this.reprobe(p);
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

  private reprobe(p: DecodedPacket): void {
    const port = p.dstPort;
    if (port < 0) return;
    const v6 = p.ipVersion === 6;
    const src = v6 ? key6(p.src6) : p.src4 >>> 0;
    const dst = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    const g = this.cur.attempts.find(src, dst, port) >= 0 ? this.cur : this.prev;
    const slot = g.attempts.find(src, dst, port);
    if (slot < 0 || g.answered[slot] !== 1) return;
    g.answered[slot] = 0;
    const nPorts = g.bump(src, dst, ANY, 1);
    const nHosts = g.bump(src, 0, port, 1);
    this.check(src, dst, port, nPorts, nHosts, p.ipVersion, v6 ? p.src6 : null, v6 ? p.dst6 : null);
  }

  private record(src: number, dst: number, port: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    const g = this.cur;
    const slot = g.attempts.upsert(src, dst, port);
    if (slot < 0 || !g.attempts.inserted) return;
    g.answered[slot] = 0;
    const nPorts = g.bump(src, dst, ANY, 1);
    const nHosts = g.bump(src, 0, port, 1);
    this.check(src, dst, port, nPorts, nHosts, version, s6, d6);
  }

  /** Flag the source when a count has reached its limit (in either generation). */
  private check(src: number, dst: number, port: number, nPorts: number, nHosts: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    const { ports, hosts } = this.cfg;
    if (port !== ARP_PORT && (nPorts >= ports || this.prev.count(src, dst, ANY) >= ports)) {
      this.flags.add(src, 0, dst, port, Math.floor(this.tsMicros / 1e6), version, s6, d6);
    }
    if (nHosts >= hosts || this.prev.count(src, 0, port) >= hosts) {
      this.flags.add(src, 1, port, port, Math.floor(this.tsMicros / 1e6), version, s6, d6);
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

  /** Distinct unanswered targets of a flagged source now (the larger generation). */
  private countNow(f: Flags, i: number): number {
    const src = f.src.keys[i] ?? 0;
    if (f.kind[i] === 0) {
      const dst = f.dst.keys[i] ?? 0;
      return Math.max(this.cur.count(src, dst, ANY), this.prev.count(src, dst, ANY));
    }
    const port = f.port[i] ?? 0;
    return Math.max(this.cur.count(src, 0, port), this.prev.count(src, 0, port));
  }

  /** Mark the sources flagged at or before second `upTo` and still over their limit as
   *  anomalous in second ts; they leave the flag list either way. */
  private judge(ts: number, upTo: number): void {
    const f = this.flags;
    const span = this.cfg.window * 2;
    for (let i = 0; i < f.n; ) {
      if ((f.sec[i] ?? 0) > upTo) {
        i++;
        continue;
      }
      const count = this.countNow(f, i);
      const src = f.src.text(i);
      if (f.kind[i] === 0) {
        if (count >= this.cfg.ports) {
          this.tracker.anomalous(ts, 'Port_Scan', src, 'distinct_ports', {
            value: count,
            threshold: this.cfg.ports,
            baseline: null,
            message: `${src} made unanswered or reset attempts at ${count} ports of ${f.dst.text(i)} within about ${span} s`,
          });
        }
      } else if (count >= this.cfg.hosts) {
        const port = f.port[i] ?? 0;
        const what = port === ARP_PORT ? 'ARP requests for' : `attempts at port ${port} of`;
        this.tracker.anomalous(ts, 'Address_Scan', src, 'distinct_hosts', {
          value: count,
          threshold: this.cfg.hosts,
          baseline: null,
          message: `${src} made unanswered or reset ${what} ${count} hosts within about ${span} s`,
        });
      }
      f.remove(i);
    }
  }

  observe(s: SecondSummary): readonly Alert[] {
    const ts = s.ts;
    this.judge(ts, ts - 1);
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

  /** End of input: judge every waiting source now (no answer can come any more). */
  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    if (this.flags.n > 0) {
      this.judge(lastTs, Infinity);
      this.tracker.step(lastTs, out);
    }
    this.tracker.finish(lastTs, out);
    return out;
  }
}
