// port-scan detector: one source making unanswered attempts at many ports of one host
// (Port_Scan) or at one port of many hosts (Address_Scan; ARP requests count as a port of
// their own, so ARP sweeps are address scans). Like Zeek's scan policy it counts attempts
// that were not answered: an open port's SYN-ACK takes its attempt back, which keeps busy
// clients (a browser reaching fifty web servers) out of it. Services seen answering are
// remembered, so attempts at them are not tracked at all (the tables stay small and
// cache-friendly on busy links); a bare RST from the prober
// right after (SYN scanners, banner grabbers) makes it count again. Fixed-size tables, two
// generations of `window` seconds each; the count of a pair is the larger of the two.
// A source crossing a limit is judged one second later, with the answers that arrived
// meanwhile taken into account (a burst of connections is answered within an RTT).

import type { Gap, SecondSummary } from '../aggregate/summary.js';
import { LAYER, TCP_FLAGS, type DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import { formatIpv4 } from '../aggregate/address.js';
import { formatIpv6At, key6 } from './addr.js';
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
/** Entries of the known-services cache (a power of two). */
const SVC_CACHE = 4096;

function svcSlot(host: number, port: number): number {
  return (Math.imul(host | 0, 0x9e3779b1) ^ Math.imul(port + 1, 0x85ebca6b)) >>> 20;
}

const SYN = TCP_FLAGS.SYN;
const ACK = TCP_FLAGS.ACK;
const RST = TCP_FLAGS.RST;

class Generation {
  readonly attempts: KeyTable;
  readonly answered: Uint8Array;
  /** (src, dst, ANY) -> distinct unanswered ports; (src, 0, port) -> distinct unanswered hosts. */
  readonly pairs: KeyTable;
  readonly counts: Int32Array;
  /** The other generation's count of the pair when this one first saw it (no lookup per attempt). */
  readonly base: Int32Array;
  start = -Infinity;

  constructor(size: number, ports: number, hosts: number) {
    this.attempts = new KeyTable(size);
    this.answered = new Uint8Array(this.attempts.capacity);
    // A full probe window gives way: the pair with the fewest distinct ports (hosts) so far
    // is evicted, never one at its limit (a scan flagged or raised), so crafted pairs sharing
    // a window cannot keep a scanner out: displacing it takes pairs counting more than it.
    this.pairs = new KeyTable(size >> 1, (i) => {
      const n = Math.max(this.counts[i] ?? 0, this.base[i] ?? 0);
      return n >= (this.pairs.keyC(i) === ANY ? ports : hosts) ? -1 : n;
    });
    this.counts = new Int32Array(this.pairs.capacity);
    this.base = new Int32Array(this.pairs.capacity);
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

  /** One more distinct attempt of the pair; returns the larger of this and the other generation's count. */
  up(a: number, b: number, c: number, other: Generation): number {
    const i = this.pairs.upsert(a, b, c);
    if (i < 0) return 0;
    if (this.pairs.inserted) {
      this.counts[i] = 0;
      this.base[i] = other.count(a, b, c);
    }
    const n = (this.counts[i] ?? 0) + 1;
    this.counts[i] = n;
    const b0 = this.base[i] ?? 0;
    return n > b0 ? n : b0;
  }

  /** An attempt of the pair was answered. */
  down(a: number, b: number, c: number): void {
    const i = this.pairs.find(a, b, c);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 1) - 1;
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
    return this.version[i] === 6 ? formatIpv6At(this.words, i * 4) : formatIpv4(this.keys[i] ?? 0);
  }
}

/** Sources that crossed a limit: (src, target, kind) -> index, with the packet seconds in
 *  which they did (each such second makes the second after it anomalous). */
class Flags {
  readonly table = new KeyTable(MAX_FLAGS * 4);
  readonly index: Int32Array;
  readonly slot = new Int32Array(MAX_FLAGS);
  /** First packet second with a crossing not judged yet. */
  readonly sec = new Float64Array(MAX_FLAGS);
  /** Bit k: a crossing in second sec + k (k < 31); later ones are kept as `last`. */
  readonly mask = new Uint32Array(MAX_FLAGS);
  /** Latest second with a crossing. */
  readonly last = new Float64Array(MAX_FLAGS);
  readonly src = new AddrPool(MAX_FLAGS);
  readonly dst = new AddrPool(MAX_FLAGS);
  /** 0: Port_Scan (ports of one host); 1: Address_Scan (hosts on one port). */
  readonly kind = new Uint8Array(MAX_FLAGS);
  readonly port = new Int32Array(MAX_FLAGS);
  n = 0;

  constructor() {
    this.index = new Int32Array(this.table.capacity);
  }

  /** A crossing in second `sec`. The target (a host key, a double) is the table's second
   *  key: its third is an int32, too small for host keys. */
  add(src: number, kind: number, target: number, port: number, sec: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    const slot = this.table.upsert(src, target, kind);
    if (slot < 0) return;
    if (!this.table.inserted) {
      // Waiting already: remember this second too (the hook runs a few seconds ahead of the
      // judged ones, so several seconds of one scan can wait at once).
      const i = this.index[slot] ?? 0;
      const k = sec - (this.sec[i] ?? 0);
      if (k < 0) {
        this.mask[i] = (k <= -31 ? 1 : ((this.mask[i] ?? 0) << -k) | 1) >>> 0;
        this.sec[i] = sec;
      } else if (k < 31) {
        this.mask[i] = ((this.mask[i] ?? 0) | (1 << k)) >>> 0;
      }
      if (sec > (this.last[i] ?? 0)) this.last[i] = sec;
      return;
    }
    if (this.n >= MAX_FLAGS) {
      this.table.delete(slot);
      return;
    }
    const i = this.n++;
    this.index[slot] = i;
    this.slot[i] = slot;
    this.sec[i] = sec;
    this.mask[i] = 1;
    this.last[i] = sec;
    this.src.set(i, src, version, s6);
    this.kind[i] = kind;
    this.port[i] = port;
    if (kind === 0) this.dst.set(i, target, version, d6);
  }

  /** Entry i was judged for its seconds up to `upTo`: whether crossings of later seconds
   *  still wait (then `sec` is the first of them). */
  consume(i: number, upTo: number): boolean {
    const s = this.sec[i] ?? 0;
    const d = upTo - s + 1;
    const rest = d >= 31 ? 0 : (this.mask[i] ?? 0) >>> d;
    if (rest !== 0) {
      const tz = 31 - Math.clz32(rest & -rest);
      this.sec[i] = s + d + tz;
      this.mask[i] = rest >>> tz;
      return true;
    }
    const last = this.last[i] ?? 0;
    if (last > upTo) {
      this.sec[i] = last;
      this.mask[i] = 1;
      return true;
    }
    return false;
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
    this.mask[i] = this.mask[last] ?? 0;
    this.last[i] = this.last[last] ?? 0;
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
  /** (host, 0, port) that answered an attempt (port ARP_PORT: answers ARP). Cleared when full. */
  private readonly services: KeyTable;
  /** Direct-mapped cache in front of `services`: most packets of a busy link go to a few
   *  known services, and an array compare is cheaper than a hash probe. */
  private readonly svcHost = new Float64Array(SVC_CACHE).fill(-1);
  private readonly svcPort = new Int32Array(SVC_CACHE);
  /** Sources over a limit, judged one second after (answers may still be on their way). */
  private readonly flags = new Flags();
  /** Attempts not tracked because a table was full (cumulative; a pair only when every
   *  entry of its probe window was at its limit). */
  get untracked(): number {
    return this.cur.attempts.refused + this.prev.attempts.refused + this.cur.pairs.refused + this.prev.pairs.refused;
  }

  /** Pairs evicted from a full probe window for a new one (cumulative). */
  get evicted(): number {
    return this.cur.pairs.evicted + this.prev.pairs.evicted;
  }
  readonly packet: (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

  constructor(
    private readonly cfg: PortScanConfig,
    private readonly tracker: Tracker,
  ) {
    this.cur = new Generation(cfg.tableSize, cfg.ports, cfg.hosts);
    this.prev = new Generation(cfg.tableSize, cfg.ports, cfg.hosts);
    this.services = new KeyTable(cfg.tableSize >> 1);
    this.packet = (p, ts) => this.onPacket(p, ts);
    // The counts stay up for their window after a scan stops: say what ended it.
    const quiet = `no new unanswered attempts past the limit for ${cfg.resolveAfter} s`;
    tracker.quietly('Port_Scan', quiet);
    tracker.quietly('Address_Scan', quiet);
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
      } else if ((f & (RST | ACK | SYN)) === (RST | ACK)) {
        // A refusal from a service we took for known (attempts at it are not tracked):
        // the host no longer serves the port; the prober's attempt counts as failed.
        this.refused(p);
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
    if (p.arpOp === 1) {
      if (!this.known(tpa, ARP_PORT)) this.record(spa, tpa, ARP_PORT, 4, null, null);
    } else if (p.arpOp === 2) {
      this.answered(spa, tpa, ARP_PORT);
    }
  }

  /** Whether host:port is known to answer (cache first, then the table, which refills the cache). */
  private known(host: number, port: number): boolean {
    const c = svcSlot(host, port);
    if (this.svcHost[c] === host && this.svcPort[c] === port) return true;
    if (this.services.find(host, 0, port) < 0) return false;
    this.svcHost[c] = host;
    this.svcPort[c] = port;
    return true;
  }

  private attempt(p: DecodedPacket, port: number): void {
    const v6 = p.ipVersion === 6;
    const dst = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    // An attempt at a service known to answer is not a failed probe: not tracked.
    if (this.known(dst, port)) return;
    this.record(v6 ? key6(p.src6) : p.src4 >>> 0, dst, port, p.ipVersion, v6 ? p.src6 : null, v6 ? p.dst6 : null);
  }

  /** A response from p.src (the target) to p.dst (the prober) from port p.srcPort. */
  private answer(p: DecodedPacket): void {
    if (p.ipVersion === 4) this.answered(p.src4 >>> 0, p.dst4 >>> 0, p.srcPort);
    else this.answered(key6(p.src6), key6(p.dst6), p.srcPort);
  }

  /**
   * `server`:`port` answered `prober`. The first answer makes the service known and takes
   * the attempt back; later answers need no lookup (attempts at known services are not
   * tracked; two first contacts within one round trip may leave one counted).
   */
  private answered(server: number, prober: number, port: number): void {
    if (this.known(server, port)) return;
    if (this.services.upsert(server, 0, port) < 0) {
      // Full: forget every service (and the cache) and learn them again.
      this.services.clear();
      this.svcHost.fill(-1);
      this.services.upsert(server, 0, port);
    }
    this.unrecord(prober, server, port);
  }

  private refused(p: DecodedPacket): void {
    const port = p.srcPort;
    if (port < 0 || p.dstPort < 0) return;
    const v6 = p.ipVersion === 6;
    const server = v6 ? key6(p.src6) : p.src4 >>> 0;
    if (!this.known(server, port)) return; // tracked attempts already count as unanswered
    const prober = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    this.record(prober, server, port, p.ipVersion, v6 ? p.dst6 : null, v6 ? p.src6 : null);
  }

  private reprobe(p: DecodedPacket): void {
    const port = p.dstPort;
    if (port < 0) return;
    const v6 = p.ipVersion === 6;
    const src = v6 ? key6(p.src6) : p.src4 >>> 0;
    const dst = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    const s6 = v6 ? p.src6 : null;
    const d6 = v6 ? p.dst6 : null;
    this.catchUp(Math.floor(this.tsMicros / 1e6));
    let g = this.cur;
    let slot = g.attempts.find(src, dst, port);
    if (slot < 0) {
      g = this.prev;
      slot = g.attempts.find(src, dst, port);
    }
    // Not tracked: a known service (attempts at it are not), whose answer this resets: the
    // probe counts now. A bare RST to a port never seen answering resets no answer.
    if (slot < 0) {
      if (this.known(dst, port)) this.record(src, dst, port, p.ipVersion, s6, d6);
      return;
    }
    if (g.answered[slot] !== 1) return;
    g.answered[slot] = 0;
    const other = g === this.cur ? this.prev : this.cur;
    const nPorts = g.up(src, dst, ANY, other);
    const nHosts = g.up(src, 0, port, other);
    this.check(src, dst, port, nPorts, nHosts, p.ipVersion, s6, d6);
  }

  /**
   * Rotate the generations at second t (a closed second): a generation takes `window`
   * seconds of attempts and is dropped once it began 2 x window ago.
   */
  private advance(t: number): void {
    const w = this.cfg.window;
    if (this.cur.start === -Infinity) {
      this.cur.start = t;
      return;
    }
    if (t - this.cur.start < w) return;
    const old = this.prev;
    this.prev = this.cur;
    this.cur = old;
    this.cur.clear(t);
    if (t - this.prev.start >= 2 * w) this.prev.clear(t - w);
  }

  /**
   * The hook's packet time t, before an attempt is counted: seconds are closed a few
   * seconds behind the packets (the reorder allowance), which is when the generations
   * rotate; but after a capture gap (no seconds closed for it) the first packets would land
   * in a generation older than 2 x window and be counted with the attempts before the gap.
   */
  private catchUp(t: number): void {
    if (this.cur.start !== -Infinity && t - this.cur.start >= 2 * this.cfg.window) this.advance(t);
  }

  private record(src: number, dst: number, port: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    this.catchUp(Math.floor(this.tsMicros / 1e6));
    const g = this.cur;
    const slot = g.attempts.upsert(src, dst, port);
    if (slot < 0 || !g.attempts.inserted) return;
    g.answered[slot] = 0;
    const nPorts = g.up(src, dst, ANY, this.prev);
    const nHosts = g.up(src, 0, port, this.prev);
    this.check(src, dst, port, nPorts, nHosts, version, s6, d6);
  }

  /** Flag the source when a count (the larger generation's) has reached its limit. */
  private check(src: number, dst: number, port: number, nPorts: number, nHosts: number, version: number, s6: Uint32Array | null, d6: Uint32Array | null): void {
    if (nPorts >= this.cfg.ports && port !== ARP_PORT) {
      this.flags.add(src, 0, dst, port, Math.floor(this.tsMicros / 1e6), version, s6, d6);
    }
    if (nHosts >= this.cfg.hosts) {
      this.flags.add(src, 1, port, port, Math.floor(this.tsMicros / 1e6), version, s6, d6);
    }
  }

  /** An answer to src's attempt at dst:port: found in the current generation, else the previous. */
  private unrecord(src: number, dst: number, port: number): void {
    if (!this.unrecordIn(this.cur, src, dst, port)) this.unrecordIn(this.prev, src, dst, port);
  }

  private unrecordIn(g: Generation, src: number, dst: number, port: number): boolean {
    const slot = g.attempts.find(src, dst, port);
    if (slot < 0) return false;
    if (g.answered[slot] === 1) return true;
    g.answered[slot] = 1;
    g.down(src, dst, ANY);
    g.down(src, 0, port);
    return true;
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
   *  anomalous in second ts; they leave the flag list unless later seconds of theirs wait. */
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
      if (f.consume(i, upTo)) i++;
      else f.remove(i);
    }
  }

  observe(s: SecondSummary): readonly Alert[] {
    const ts = s.ts;
    this.judge(ts, ts - 1);
    this.advance(ts);
    const out: Alert[] = [];
    this.tracker.step(ts, out);
    return out;
  }

  /**
   * A run of empty seconds reported once (no summaries for them): the sources flagged before
   * it are judged in its first second, as that second's close would have judged them, and
   * the conditions then go the way the gap's quiet seconds take them (nothing new is
   * attempted in a gap: each resolves `resolveAfter` seconds after its last mark). The gap is
   * reported once its end is out of the reorder allowance, so the hook has already seen the
   * packets of the first seconds after it: their crossings wait for those seconds' close.
   */
  gap(g: Gap): readonly Alert[] {
    const out: Alert[] = [];
    if (g.to < g.from) return out;
    this.judge(g.from, g.to);
    // the gap's first second may raise; resolveAfter quiet seconds end anything raised
    const last = Math.min(g.to, g.from + this.cfg.resolveAfter);
    for (let t = g.from; t <= last; t++) this.tracker.step(t, out);
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
