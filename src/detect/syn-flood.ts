// syn-flood detector: per destination and second, SYNs received against handshakes
// completed (the client's first ACK after its SYN). A host receiving at least minRate SYN/s
// with `ratio` or more SYNs per completed handshake is flooded, spoofed sources included
// (they never complete). A handshake counts for the second of its SYN, even when its ACK
// comes in the next one (a burst of connections in a second's last round trip): a second
// that looks flooded is judged at once when its SYNs up to EARLY_US into the second alone
// do (they had a quarter of a second to be answered within it), else once packets a second past its end
// were seen or the pipeline has closed the next second. Half-open connections live in two fixed
// tables of HALF_OPEN_TTL seconds each (an entry lives 2-4 s: handshakes complete within
// a round trip), and a destination already flooded has at most minRate SYNs a second
// followed, so a flood cannot fill the tables and leave other servers' handshakes
// unfollowed (which would make them look flooded). When SYNs could not be followed, the
// ratio is judged on those that were.
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
/** Seconds of one generation of half-open connections (an entry lives 2 to 4 s). */
const HALF_OPEN_TTL = 2;
/** SYNs this far into their second (microseconds) had time to be answered within it. */
const EARLY_US = 750_000;
/** Destinations counted per second at most. */
const MAX_DESTINATIONS = 4096;
/** Entries of the destination-slot cache (a power of two, at most 1024). */
const DST_CACHE = 1024;

/** One destination's closed second, kept until the pipeline closes that second. */
interface SecondResult {
  ts: number;
  /** Numeric key of the destination (for ACKs that complete its handshakes later). */
  key: number;
  host: string;
  syn: number;
  done: number;
  /** SYNs whose handshakes were followed. */
  followed: number;
  /** Whether some SYNs past the first tenth of minRate could not be followed (table
   *  full, or a flooded destination's sample taken): then the ratio is judged on `followed`. */
  sampled: boolean;
  /** Followed SYNs of the first EARLY_US of the second, and those completed within the second. */
  early: number;
  earlyDone: number;
  /** Whether the destination's second before this one looked flooded when it closed (its
   *  own SYNs may have filled the half-open table: see floods()). */
  prevFlood: boolean;
}

/** Half-open connections of one generation. */
class HalfOpen {
  readonly table: KeyTable;
  /** Slot -> packet time (microseconds) of the connection's (latest) SYN. */
  readonly at: Float64Array;
  /** Entries per port-pair hash: a cheap pre-filter, so most ACKs skip the table. */
  readonly ports = new Int32Array(1 << 16);
  constructor(size: number) {
    this.table = new KeyTable(size);
    this.at = new Float64Array(this.table.capacity);
  }
  clear(): void {
    if (this.table.size > 0) this.ports.fill(0);
    this.table.clear();
  }
}

export class SynFloodDetector implements Detector {
  readonly name = 'syn-flood';
  /** (client, server, clientPort << 16 | serverPort) of SYNs not yet completed: this
   *  generation and the previous one. */
  private halfOpen: HalfOpen;
  private halfOpenPrev: HalfOpen;
  private halfOpenSince = -Infinity;
  /** Newest packet-time second seen in a SYN or ACK (-1: none). */
  private clock = -1;
  /** The second closed last, and its notable destinations by key (ACKs still complete them). */
  private lastClosed = -1;
  private lastResults = new Map<number, SecondResult>();
  /** SYNs in a second from which a destination's handshakes are followed. */
  private readonly track: number;
  /** Packet-time second being counted (-1: none yet). */
  private cur = -1;
  /** Closed seconds' notable destinations, oldest first. */
  private results: SecondResult[] = [];
  /** Destinations under an open flood condition: the last second their SYNs were judged. */
  private readonly flooded = new Map<string, number>();
  /** Keys of destinations judged flooded -> the second they last were (their SYNs are
   *  followed up to minRate a second while the flood lasts). */
  private readonly floodedKeys = new Map<number, number>();
  private readonly cacheKey = new Float64Array(DST_CACHE).fill(-1);
  private readonly cacheGen = new Float64Array(DST_CACHE).fill(-1);
  /** Bumped whenever the destination table is cleared (invalidates the cache). */
  private dstGen = 0;
  private readonly cacheSlot = new Int32Array(DST_CACHE);
  /** Destinations of the second being counted. A full probe window gives way: the
   *  destination with the fewest SYNs this second is evicted, never one under a flood
   *  condition (so ~24 crafted destinations sharing a window cannot keep a flooded host out:
   *  displacing it takes more SYNs than it gets). */
  private readonly dst: KeyTable = new KeyTable(MAX_DESTINATIONS * 2, (d) =>
    this.floodedKeys.size > 0 && this.floodedKeys.has(this.dst.keyA(d)) ? -1 : (this.syn[d] ?? 0),
  );
  private readonly syn: Int32Array;
  private readonly completed: Int32Array;
  private readonly followed: Int32Array;
  private readonly sampled: Uint8Array;
  private readonly early: Int32Array;
  private readonly earlyDone: Int32Array;
  /** Per destination slot of this second: whether it is flooded (followed up to minRate). */
  private readonly capped: Uint8Array;
  private readonly version: Uint8Array;
  private readonly words: Uint32Array;
  readonly packet: (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

  constructor(
    private readonly cfg: SynFloodConfig,
    private readonly tracker: Tracker,
  ) {
    this.halfOpen = new HalfOpen(Math.max(16, cfg.tableSize >> 1));
    this.halfOpenPrev = new HalfOpen(Math.max(16, cfg.tableSize >> 1));
    this.track = Math.max(1, Math.floor(cfg.minRate / 10));
    const n = this.dst.capacity;
    this.syn = new Int32Array(n);
    this.completed = new Int32Array(n);
    this.followed = new Int32Array(n);
    this.sampled = new Uint8Array(n);
    this.early = new Int32Array(n);
    this.earlyDone = new Int32Array(n);
    this.capped = new Uint8Array(n);
    this.version = new Uint8Array(n);
    this.words = new Uint32Array(n * 4);
    this.packet = (p, ts) => this.onPacket(p, ts);
  }

  /** Half-open connections and destinations not tracked because a table was full (a
   *  destination only when every entry of its probe window was under a flood condition). */
  get untracked(): number {
    return this.halfOpen.table.refused + this.halfOpenPrev.table.refused + this.dst.refused;
  }

  /** Destinations evicted from a full probe window for a new one (cumulative). */
  get evicted(): number {
    return this.dst.evicted;
  }

  private onPacket(p: DecodedPacket, tsMicros: number): void {
    if (p.ipProto !== 6 || p.ipVersion === 0) return;
    const f = p.tcpFlags & (SYN | ACK | RST);
    if (f === SYN) {
      const sec = Math.floor(tsMicros / 1e6);
      if (sec > this.clock) this.clock = sec;
      if (sec > this.cur) this.roll(sec);
      this.onSyn(p, tsMicros);
    } else if (f === ACK) {
      // Only busy destinations have half-open entries; on ordinary traffic there are none.
      const a = this.halfOpen;
      const b = this.halfOpenPrev;
      if (a.table.size === 0 && b.table.size === 0) return;
      const sec = Math.floor(tsMicros / 1e6);
      if (sec > this.clock) this.clock = sec;
      const h = portHash(p.srcPort, p.dstPort);
      if (a.ports[h] === 0 && b.ports[h] === 0) return;
      const src = p.ipVersion === 4 ? p.src4 >>> 0 : key6(p.src6);
      const dst = p.ipVersion === 4 ? p.dst4 >>> 0 : key6(p.dst6);
      // signed: the table keeps its third key in an Int32Array (client ports >= 32768 set the sign bit)
      const pp = (p.srcPort << 16) | p.dstPort;
      let g = a;
      let slot = a.ports[h] === 0 ? -1 : a.table.find(src, dst, pp);
      if (slot < 0 && b.ports[h] !== 0) {
        g = b;
        slot = b.table.find(src, dst, pp);
      }
      if (slot < 0) return;
      g.table.delete(slot);
      g.ports[h] = (g.ports[h] ?? 1) - 1;
      // The handshake counts for the second of its SYN.
      const synAt = g.at[slot] ?? 0;
      const synSec = Math.floor(synAt / 1e6);
      if (synSec === this.cur) {
        const d = this.dst.find(dst, 0, 0);
        if (d >= 0) {
          this.completed[d] = (this.completed[d] ?? 0) + 1;
          if (sec === synSec && synAt - synSec * 1e6 < EARLY_US) this.earlyDone[d] = (this.earlyDone[d] ?? 0) + 1;
        }
      } else if (synSec === this.lastClosed) {
        const r = this.lastResults.get(dst);
        if (r !== undefined) r.done++;
      }
    }
  }

  private onSyn(p: DecodedPacket, tsMicros: number): void {
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
      if (fresh && this.dst.reused) {
        // The slot was another destination's (evicted): its cache entry must not point here.
        const e = this.dst.evictedA;
        const ce = (Math.imul(e | 0, 0x9e3779b1) >>> 22) & (DST_CACHE - 1);
        if (this.cacheKey[ce] === e) this.cacheKey[ce] = -1;
      }
      this.cacheKey[c] = dst;
      this.cacheGen[c] = this.dstGen;
      this.cacheSlot[c] = d;
    }
    if (fresh) {
      this.syn[d] = 0;
      this.completed[d] = 0;
      this.followed[d] = 0;
      this.sampled[d] = 0;
      this.early[d] = 0;
      this.earlyDone[d] = 0;
      this.capped[d] = this.floodedKeys.size > 0 && this.floodedKeys.has(dst) ? 1 : 0;
      this.version[d] = p.ipVersion;
      if (v6) this.words.set(p.dst6, d * 4);
    }
    const n = (this.syn[d] ?? 0) + 1;
    this.syn[d] = n;
    // Handshakes are followed only for destinations busy enough to be judged this second
    // (a tenth of minRate SYNs): the rest of the traffic costs one counter, not a table.
    // A busy server's first few handshakes go uncounted, which can only hide a flood.
    if (n < this.track || p.srcPort < 0) return;
    // A destination already flooded: a sample of minRate SYNs a second tells whether its
    // handshakes complete again; following all of them would fill the tables.
    if (this.capped[d] === 1 && (this.followed[d] ?? 0) >= this.cfg.minRate) {
      this.sampled[d] = 1;
      return;
    }
    const src = v6 ? key6(p.src6) : p.src4 >>> 0;
    const g = this.halfOpen;
    const slot = g.table.upsert(src, dst, (p.srcPort << 16) | p.dstPort);
    if (slot < 0) {
      this.sampled[d] = 1;
      return;
    }
    this.followed[d] = (this.followed[d] ?? 0) + 1;
    if (tsMicros - this.cur * 1e6 < EARLY_US) this.early[d] = (this.early[d] ?? 0) + 1;
    g.at[slot] = tsMicros;
    if (g.table.inserted) {
      const h = portHash(p.srcPort, p.dstPort);
      g.ports[h] = (g.ports[h] ?? 0) + 1;
    }
  }

  private text(d: number): string {
    return this.version[d] === 6 ? formatIpv6At(this.words, d * 4) : formatIpv4(this.dst.keyA(d));
  }

  /** Close the second being counted (its results wait for the pipeline) and start `sec`. */
  private roll(sec: number): void {
    if (this.cur >= 0) this.closeSecond();
    this.cur = sec;
    if (this.halfOpenSince < 0) this.halfOpenSince = sec;
    if (sec - this.halfOpenSince >= HALF_OPEN_TTL) {
      // The older generation goes; a gap of more than a generation takes both.
      const old = this.halfOpenPrev;
      old.clear();
      if (sec - this.halfOpenSince >= 2 * HALF_OPEN_TTL) this.halfOpen.clear();
      this.halfOpenPrev = this.halfOpen;
      this.halfOpen = old;
      this.halfOpenSince = sec;
    }
  }

  private closeSecond(): void {
    const t = this.dst;
    // Destinations far below the limit cannot be flooded; they are not kept.
    const notable = Math.max(1, this.cfg.minRate / 10);
    const last = new Map<number, SecondResult>();
    if (t.size > 0) {
      for (let d = 0; d < t.capacity; d++) {
        if (!t.live(d) || (this.syn[d] ?? 0) < notable) continue;
        const prev = this.lastResults.get(t.keyA(d));
        const r: SecondResult = {
          ts: this.cur,
          key: t.keyA(d),
          host: this.text(d),
          syn: this.syn[d] ?? 0,
          done: this.completed[d] ?? 0,
          followed: this.followed[d] ?? 0,
          sampled: this.sampled[d] === 1,
          early: this.early[d] ?? 0,
          earlyDone: this.earlyDone[d] ?? 0,
          prevFlood: prev !== undefined && prev.ts === this.cur - 1 && this.floods(prev),
        };
        this.results.push(r);
        last.set(r.key, r);
      }
    }
    this.lastClosed = this.cur;
    this.lastResults = last;
    t.clear();
    this.dstGen++;
  }

  /** Whether a closed second's counts look like a flood (with the handshakes seen so far). */
  private floods(r: SecondResult): boolean {
    const { minRate, ratio } = this.cfg;
    if (r.syn < minRate) return false;
    if (!r.sampled) return r.syn >= ratio * r.done;
    // Not every SYN could be followed: judge the ratio on those that were. Too few to tell
    // is not a flood of this host when another flood filled the table, but is when its own
    // flood of the second before did (a flood's first seconds are followed in full until it
    // is judged, which fills the table for the next second).
    if (r.followed >= this.track) return r.followed >= ratio * r.done;
    return r.prevFlood;
  }

  /** Whether the second's first EARLY_US alone show a flood (their SYNs had 250 ms to be
   *  answered within the second): then no ACK still to come can change the verdict much. */
  private floodsEarly(r: SecondResult): boolean {
    if (r.syn < this.cfg.minRate) return false;
    if (r.early >= this.track) return r.early >= this.cfg.ratio * r.earlyDone;
    // none followed (its own flood filled the table): no ACK to come can change the verdict
    return r.sampled && r.followed < this.track && r.prevFlood;
  }

  observe(s: SecondSummary): readonly Alert[] {
    return this.judge(s.ts, false);
  }

  private judge(ts: number, final: boolean): readonly Alert[] {
    const { minRate, ratio } = this.cfg;
    if (this.cur >= 0 && this.cur <= ts) {
      this.closeSecond();
      this.cur = -1;
    }
    const later: SecondResult[] = [];
    for (const r of this.results) {
      if (r.ts > ts) {
        later.push(r);
      } else if (this.floods(r) && !final && r.ts === ts && this.clock < r.ts + 2 && !this.floodsEarly(r)) {
        // Looks flooded, but the ACKs of its last round trips may still come: judged once
        // packets a second past its end were seen, or with the next second.
        later.push(r);
      } else if (this.floods(r)) {
        this.flooded.set(r.host, ts);
        this.floodedKeys.set(r.key, ts);
        const of = r.sampled ? ` of ${r.followed} followed` : '';
        this.tracker.anomalous(ts, 'SYN_Flood', r.host, 'syn/s', {
          value: r.syn,
          threshold: minRate,
          baseline: null,
          message: `${r.host} received ${r.syn} SYNs in one second with ${r.done} handshakes${of} completed (flood: >= ${minRate} SYN/s and >= ${ratio} SYNs per handshake)`,
          since: r.ts,
        });
      } else {
        if (this.flooded.has(r.host)) this.flooded.set(r.host, ts);
        this.tracker.normal('SYN_Flood', r.host, r.syn);
      }
    }
    // A flooded destination with too few SYNs to be listed this second had (nearly) none:
    // its resolve must say so, not repeat the last flood second's rate.
    for (const [host, last] of this.flooded) {
      if (last >= ts) continue;
      this.tracker.normal('SYN_Flood', host, 0);
      this.flooded.delete(host);
    }
    for (const [key, last] of this.floodedKeys) if (last < ts - 2) this.floodedKeys.delete(key);
    this.results = later;
    const out: Alert[] = [];
    this.tracker.step(ts, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    // Seconds still waiting for their last ACKs: no more packets will come.
    if (this.results.length > 0 || this.cur >= 0) for (const a of this.judge(lastTs, true)) out.push(a);
    this.tracker.finish(lastTs, out);
    return out;
  }
}

function portHash(a: number, b: number): number {
  return (Math.imul(a, 0x9e37) ^ b) & 0xffff;
}
