// syn-flood detector: per destination and second, SYNs received against handshakes
// completed (the client's first ACK after its SYN). A host receiving at least minRate SYN/s
// with `ratio` or more SYNs per completed handshake is flooded, spoofed sources included
// (they never complete). Half-open connections live in a fixed table, cleared every 30 s.
// Seconds are the packets' own: the pipeline may hand over second T after packets of
// T+1 and T+2 (its reorder allowance), so counts are closed by packet time and queued.

import type { SecondSummary } from '../aggregate/summary.js';
import { TCP_FLAGS, type DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import { formatIpv4 } from '../aggregate/address.js';
import { formatIpv6At, key6 } from './addr.js';
import type { SynFloodConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';
import { KeyTable } from './table.js';

const SYN = TCP_FLAGS.SYN;
const ACK = TCP_FLAGS.ACK;
const RST = TCP_FLAGS.RST;
/** Seconds a half-open connection is remembered (the table is cleared this often). */
const HALF_OPEN_TTL = 30;
/** Destinations counted per second at most. */
const MAX_DESTINATIONS = 4096;
/** Entries of the destination-slot cache (a power of two, at most 1024). */
const DST_CACHE = 1024;

/** One destination's closed second, kept until the pipeline closes that second. */
interface SecondResult {
  ts: number;
  host: string;
  syn: number;
  done: number;
}

export class SynFloodDetector implements Detector {
  readonly name = 'syn-flood';
  /** (client, server, clientPort << 16 | serverPort) of SYNs not yet completed. */
  private readonly halfOpen: KeyTable;
  /** Cheap pre-filter: half-open entries per port-pair hash, so most ACKs skip the table. */
  private readonly portFilter = new Int32Array(1 << 16);
  private halfOpenSince = -Infinity;
  /** SYNs in a second from which a destination's handshakes are followed. */
  private readonly track: number;
  /** Packet-time second being counted (-1: none yet). */
  private cur = -1;
  /** Closed seconds' notable destinations, oldest first. */
  private results: SecondResult[] = [];
  /** Destinations under an open flood condition: the last second their SYNs were judged. */
  private readonly flooded = new Map<string, number>();
  private readonly cacheKey = new Float64Array(DST_CACHE).fill(-1);
  private readonly cacheGen = new Float64Array(DST_CACHE).fill(-1);
  /** Bumped whenever the destination table is cleared (invalidates the cache). */
  private dstGen = 0;
  private readonly cacheSlot = new Int32Array(DST_CACHE);
  /** Destinations of the second being counted. */
  private readonly dst = new KeyTable(MAX_DESTINATIONS * 2);
  private readonly syn: Int32Array;
  private readonly completed: Int32Array;
  private readonly version: Uint8Array;
  private readonly words: Uint32Array;
  readonly packet: (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

  constructor(
    private readonly cfg: SynFloodConfig,
    private readonly tracker: Tracker,
  ) {
    this.halfOpen = new KeyTable(cfg.tableSize);
    this.track = Math.max(1, Math.floor(cfg.minRate / 10));
    const n = this.dst.capacity;
    this.syn = new Int32Array(n);
    this.completed = new Int32Array(n);
    this.version = new Uint8Array(n);
    this.words = new Uint32Array(n * 4);
    this.packet = (p, ts) => this.onPacket(p, ts);
  }

  /** Half-open connections and destinations not tracked because a table was full. */
  get untracked(): number {
    return this.halfOpen.refused + this.dst.refused;
  }

  private onPacket(p: DecodedPacket, tsMicros: number): void {
    if (p.ipProto !== 6 || p.ipVersion === 0) return;
    const f = p.tcpFlags & (SYN | ACK | RST);
    if (f === SYN) {
      const sec = Math.floor(tsMicros / 1e6);
      if (sec > this.cur) this.roll(sec);
      this.onSyn(p);
    } else if (f === ACK) {
      // Only busy destinations have half-open entries; on ordinary traffic there are none.
      if (this.halfOpen.size === 0) return;
      const h = portHash(p.srcPort, p.dstPort);
      if (this.portFilter[h] === 0) return;
      const src = p.ipVersion === 4 ? p.src4 >>> 0 : key6(p.src6);
      const dst = p.ipVersion === 4 ? p.dst4 >>> 0 : key6(p.dst6);
      const slot = this.halfOpen.find(src, dst, ((p.srcPort << 16) | p.dstPort) >>> 0);
      if (slot < 0) return;
      this.halfOpen.delete(slot);
      this.portFilter[h] = (this.portFilter[h] ?? 1) - 1;
      const d = this.dst.find(dst, 0, 0);
      if (d >= 0) this.completed[d] = (this.completed[d] ?? 0) + 1;
    }
  }

  private onSyn(p: DecodedPacket): void {
    const v6 = p.ipVersion === 6;
    const dst = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    // A direct-mapped cache of this second's destination slots in front of the table.
    const c = (Math.imul(dst | 0, 0x9e3779b1) >>> 22) & (DST_CACHE - 1);
    let d: number;
    let fresh = false;
    if (this.cacheKey[c] === dst && this.cacheGen[c] === this.dstGen) {
      d = this.cacheSlot[c] ?? 0;
    } else {
      d = this.dst.upsert(dst, 0, 0);
      if (d < 0) return;
      fresh = this.dst.inserted;
      this.cacheKey[c] = dst;
      this.cacheGen[c] = this.dstGen;
      this.cacheSlot[c] = d;
    }
    if (fresh) {
      this.syn[d] = 0;
      this.completed[d] = 0;
      this.version[d] = p.ipVersion;
      if (v6) this.words.set(p.dst6, d * 4);
    }
    const n = (this.syn[d] ?? 0) + 1;
    this.syn[d] = n;
    // Handshakes are followed only for destinations busy enough to be judged this second
    // (a tenth of minRate SYNs): the rest of the traffic costs one counter, not a table.
    // A busy server's first few handshakes go uncounted, which can only hide a flood.
    if (n < this.track || p.srcPort < 0) return;
    const src = v6 ? key6(p.src6) : p.src4 >>> 0;
    const slot = this.halfOpen.upsert(src, dst, ((p.srcPort << 16) | p.dstPort) >>> 0);
    if (slot >= 0 && this.halfOpen.inserted) {
      const h = portHash(p.srcPort, p.dstPort);
      const c = this.portFilter[h] ?? 0;
      this.portFilter[h] = c + 1;
    }
  }

  private text(d: number): string {
    return this.version[d] === 6 ? formatIpv6At(this.words, d * 4) : formatIpv4(this.dst.ka[d] ?? 0);
  }

  /** Close the second being counted (its results wait for the pipeline) and start `sec`. */
  private roll(sec: number): void {
    if (this.cur >= 0) this.closeSecond();
    this.cur = sec;
    if (this.halfOpenSince < 0) this.halfOpenSince = sec;
    if (sec - this.halfOpenSince >= HALF_OPEN_TTL) {
      this.halfOpen.clear();
      this.portFilter.fill(0);
      this.halfOpenSince = sec;
    }
  }

  private closeSecond(): void {
    const t = this.dst;
    // Destinations far below the limit cannot be flooded; they are not kept.
    const notable = Math.max(1, this.cfg.minRate / 10);
    if (t.size > 0) {
      for (let d = 0; d < t.capacity; d++) {
        if (!t.live(d) || (this.syn[d] ?? 0) < notable) continue;
        this.results.push({ ts: this.cur, host: this.text(d), syn: this.syn[d] ?? 0, done: this.completed[d] ?? 0 });
      }
    }
    t.clear();
    this.dstGen++;
  }

  observe(s: SecondSummary): readonly Alert[] {
    const { minRate, ratio } = this.cfg;
    if (this.cur >= 0 && this.cur <= s.ts) {
      this.closeSecond();
      this.cur = -1;
    }
    const later: SecondResult[] = [];
    for (const r of this.results) {
      if (r.ts > s.ts) {
        later.push(r);
      } else if (r.syn >= minRate && r.syn >= ratio * r.done) {
        this.flooded.set(r.host, s.ts);
        this.tracker.anomalous(s.ts, 'SYN_Flood', r.host, 'syn/s', {
          value: r.syn,
          threshold: minRate,
          baseline: null,
          message: `${r.host} received ${r.syn} SYNs in one second with ${r.done} handshakes completed (flood: >= ${minRate} SYN/s and >= ${ratio} SYNs per handshake)`,
        });
      } else {
        if (this.flooded.has(r.host)) this.flooded.set(r.host, s.ts);
        this.tracker.normal('SYN_Flood', r.host, r.syn);
      }
    }
    // A flooded destination with too few SYNs to be listed this second had (nearly) none:
    // its resolve must say so, not repeat the last flood second's rate.
    for (const [host, last] of this.flooded) {
      if (last >= s.ts) continue;
      this.tracker.normal('SYN_Flood', host, 0);
      this.flooded.delete(host);
    }
    this.results = later;
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }
}

function portHash(a: number, b: number): number {
  return (Math.imul(a, 0x9e37) ^ b) & 0xffff;
}
