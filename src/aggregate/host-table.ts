// The host table: hosts keyed by address (IPv4 as one 32-bit word, IPv6 as four), with
// tx/rx packet and byte counts, Welford mean/variance, min, max and a size histogram per
// direction, all in flat typed arrays (no object per host). Bounded: at `maxHosts` it
// either evicts the least active host (cumulative table) or refuses (per-second tables).

import { formatIpv4, formatIpv6 } from './address.js';
import { HistogramPool, MAX_CLASS, MIN_CLASS } from './histogram-pool.js';
import { bucketLow, bucketWidth } from './quantize.js';
import type { DirectionStats, HostStats, SizeStats } from './summary.js';

/** Precision of size histograms (see quantize.ts). */
export const SIZE_BITS = 7;
const EVICTION_SAMPLE = 16;
const TX = 0;
const RX = 1;

export interface HostTableOptions {
  maxHosts: number;
  /** Evict the least active host when full (else new hosts are refused: id -1). */
  evict: boolean;
  /** Most histogram pairs held by this table (12 bytes each). */
  histogramPairs: number;
  initialHosts?: number;
}

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashV6(a: number, b: number, c: number, d: number): number {
  return mix32(mix32(mix32(mix32(a ^ 0x6) ^ b) ^ c) ^ d);
}

// scratch for re-bucketing one histogram (at most 2^MAX_CLASS pairs)
const scratchKeys = new Uint32Array(1 << MAX_CLASS);
const scratchCounts = new Float64Array(1 << MAX_CLASS);

export class HostTable {
  readonly maxHosts: number;
  private readonly evict: boolean;
  readonly pool: HistogramPool;
  /** Records allocated so far (ids are < cap). */
  private cap: number;
  private nextId = 0;
  private freeIds: Int32Array;
  private freeTop = 0;
  count = 0;
  evictions = 0;
  /** Hosts refused because the table was full (per-second tables). */
  refused = 0;
  /** Values folded into a neighbouring bucket because no histogram memory was left. */
  folded = 0;
  /** Set by idV4/idV6: the last call inserted a new host. */
  inserted = false;
  private cursor = 0;
  private protect = -1;

  private index: Int32Array;
  private mask: number;
  fam: Uint8Array;
  w0: Uint32Array;
  w1: Uint32Array;
  w2: Uint32Array;
  w3: Uint32Array;
  private hash: Uint32Array;
  firstSec: Float64Array;
  lastSec: Float64Array;
  // per direction: index id * 2 + (0 tx | 1 rx)
  pk: Float64Array;
  by: Float64Array;
  private mean: Float64Array;
  private m2: Float64Array;
  private mn: Float64Array;
  private mx: Float64Array;
  private hOff: Int32Array;
  private hCls: Uint8Array;
  private hBits: Uint8Array;
  private hUsed: Uint16Array;

  constructor(o: HostTableOptions) {
    this.maxHosts = Math.max(1, o.maxHosts);
    this.evict = o.evict;
    this.cap = Math.min(this.maxHosts, o.initialHosts ?? 1024);
    this.pool = new HistogramPool(Math.min(o.histogramPairs, 1 << 16), o.histogramPairs);
    const idx = HostTable.indexSize(this.cap);
    this.index = new Int32Array(idx).fill(-1);
    this.mask = idx - 1;
    this.freeIds = new Int32Array(this.cap);
    this.fam = new Uint8Array(this.cap);
    this.w0 = new Uint32Array(this.cap);
    this.w1 = new Uint32Array(this.cap);
    this.w2 = new Uint32Array(this.cap);
    this.w3 = new Uint32Array(this.cap);
    this.hash = new Uint32Array(this.cap);
    this.firstSec = new Float64Array(this.cap);
    this.lastSec = new Float64Array(this.cap);
    const d = this.cap * 2;
    this.pk = new Float64Array(d);
    this.by = new Float64Array(d);
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(d);
    this.mn = new Float64Array(d);
    this.mx = new Float64Array(d);
    this.hOff = new Int32Array(d);
    this.hCls = new Uint8Array(d);
    this.hBits = new Uint8Array(d);
    this.hUsed = new Uint16Array(d);
  }

  private static indexSize(cap: number): number {
    let n = 16;
    while (n < cap * 2) n *= 2;
    return n;
  }

  /** Id of an IPv4 host, inserting it if new; -1 if the table is full and cannot evict. */
  idV4(a: number, sec: number): number {
    const h = mix32(a ^ 0x4);
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = index[i] ?? -1;
      if (id < 0) break;
      if (this.w3[id] === a && this.fam[id] === 4) {
        this.inserted = false;
        return id;
      }
    }
    return this.insert(h, 4, 0, 0, 0, a, sec);
  }

  /** Id of an IPv6 host (w: four big-endian words). */
  idV6(w: Uint32Array, sec: number): number {
    const a = w[0] ?? 0, b = w[1] ?? 0, c = w[2] ?? 0, d = w[3] ?? 0;
    const h = hashV6(a, b, c, d);
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = index[i] ?? -1;
      if (id < 0) break;
      if (this.hash[id] === h && this.w3[id] === d && this.w2[id] === c && this.w1[id] === b && this.w0[id] === a && this.fam[id] === 6) {
        this.inserted = false;
        return id;
      }
    }
    return this.insert(h, 6, a, b, c, d, sec);
  }

  /** Keep `id` from being chosen for eviction until the next call (src while adding dst). */
  protectId(id: number): void {
    this.protect = id;
  }

  private insert(h: number, fam: number, a: number, b: number, c: number, d: number, sec: number): number {
    const id = this.allocId();
    if (id < 0) {
      this.inserted = false;
      this.refused++;
      return -1;
    }
    // Eviction or growth may have moved entries: probe afresh for the empty slot.
    const index = this.index;
    const mask = this.mask;
    let i = h & mask;
    while ((index[i] ?? -1) >= 0) i = (i + 1) & mask;
    index[i] = id;
    this.fam[id] = fam;
    this.w0[id] = a;
    this.w1[id] = b;
    this.w2[id] = c;
    this.w3[id] = d;
    this.hash[id] = h;
    this.firstSec[id] = sec;
    this.lastSec[id] = sec;
    for (let j = id * 2; j < id * 2 + 2; j++) {
      this.pk[j] = 0;
      this.by[j] = 0;
      this.mean[j] = 0;
      this.m2[j] = 0;
      this.mn[j] = 0;
      this.mx[j] = 0;
      this.hOff[j] = -1;
      this.hCls[j] = 0;
      this.hBits[j] = SIZE_BITS;
      this.hUsed[j] = 0;
    }
    this.count++;
    this.inserted = true;
    return id;
  }

  private allocId(): number {
    if (this.freeTop > 0) return this.freeIds[--this.freeTop] ?? -1;
    if (this.nextId < this.cap) return this.nextId++;
    if (this.cap < this.maxHosts) {
      this.grow(Math.min(this.maxHosts, this.cap * 2));
      return this.nextId++;
    }
    if (!this.evict) return -1;
    this.evictOne();
    return this.freeTop > 0 ? (this.freeIds[--this.freeTop] ?? -1) : -1;
  }

  /** Evict the least active of a sample of hosts: fewest packets, then longest idle. */
  private evictOne(): void {
    let victim = -1;
    let vPk = Infinity;
    let vLast = Infinity;
    const n = this.nextId;
    for (let k = 0; k < EVICTION_SAMPLE; k++) {
      const id = this.cursor;
      this.cursor = this.cursor + 1 >= n ? 0 : this.cursor + 1;
      if (this.fam[id] === 0 || id === this.protect) continue;
      const p = (this.pk[id * 2] ?? 0) + (this.pk[id * 2 + 1] ?? 0);
      const last = this.lastSec[id] ?? 0;
      if (p < vPk || (p === vPk && last < vLast)) {
        victim = id;
        vPk = p;
        vLast = last;
      }
    }
    if (victim >= 0) this.remove(victim);
  }

  private remove(id: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = (this.hash[id] ?? 0) & mask;
    while (index[i] !== id) i = (i + 1) & mask;
    // backward-shift deletion keeps linear probing free of tombstones
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = index[j] ?? -1;
      if (e < 0) break;
      const home = (this.hash[e] ?? 0) & mask;
      // e may move into the hole at i if its home is not in (i, j] cyclically
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = e;
        i = j;
      }
    }
    index[i] = -1;
    for (let j2 = id * 2; j2 < id * 2 + 2; j2++) {
      const off = this.hOff[j2] ?? -1;
      if (off >= 0) this.pool.release(off, this.hCls[j2] ?? MIN_CLASS);
      this.hOff[j2] = -1;
    }
    this.fam[id] = 0;
    this.freeIds[this.freeTop++] = id;
    this.count--;
    this.evictions++;
  }

  private grow(cap: number): void {
    const g8 = (a: Uint8Array, n: number): Uint8Array => {
      const r = new Uint8Array(n);
      r.set(a);
      return r;
    };
    const g16 = (a: Uint16Array, n: number): Uint16Array => {
      const r = new Uint16Array(n);
      r.set(a);
      return r;
    };
    const g32 = (a: Uint32Array, n: number): Uint32Array => {
      const r = new Uint32Array(n);
      r.set(a);
      return r;
    };
    const gi = (a: Int32Array, n: number): Int32Array => {
      const r = new Int32Array(n);
      r.set(a);
      return r;
    };
    const gf = (a: Float64Array, n: number): Float64Array => {
      const r = new Float64Array(n);
      r.set(a);
      return r;
    };
    this.fam = g8(this.fam, cap);
    this.w0 = g32(this.w0, cap);
    this.w1 = g32(this.w1, cap);
    this.w2 = g32(this.w2, cap);
    this.w3 = g32(this.w3, cap);
    this.hash = g32(this.hash, cap);
    this.firstSec = gf(this.firstSec, cap);
    this.lastSec = gf(this.lastSec, cap);
    this.freeIds = gi(this.freeIds, cap);
    const d = cap * 2;
    this.pk = gf(this.pk, d);
    this.by = gf(this.by, d);
    this.mean = gf(this.mean, d);
    this.m2 = gf(this.m2, d);
    this.mn = gf(this.mn, d);
    this.mx = gf(this.mx, d);
    this.hOff = gi(this.hOff, d);
    this.hCls = g8(this.hCls, d);
    this.hBits = g8(this.hBits, d);
    this.hUsed = g16(this.hUsed, d);
    this.cap = cap;
    const size = HostTable.indexSize(cap);
    this.index = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let id = 0; id < this.nextId; id++) {
      if (this.fam[id] === 0) continue;
      let i = (this.hash[id] ?? 0) & this.mask;
      while ((this.index[i] ?? -1) >= 0) i = (i + 1) & this.mask;
      this.index[i] = id;
    }
  }

  /** Count one packet of `size` wire bytes sent by host id. */
  addTx(id: number, size: number, sec: number): void {
    this.addDir(id * 2 + TX, size);
    if (sec > (this.lastSec[id] ?? 0)) this.lastSec[id] = sec;
  }

  /** Count one packet of `size` wire bytes received by host id. */
  addRx(id: number, size: number, sec: number): void {
    this.addDir(id * 2 + RX, size);
    if (sec > (this.lastSec[id] ?? 0)) this.lastSec[id] = sec;
  }

  private addDir(j: number, v: number): void {
    const n = (this.pk[j] ?? 0) + 1;
    this.pk[j] = n;
    this.by[j] = (this.by[j] ?? 0) + v;
    // Welford: numerically stable running mean and sum of squared deviations
    const mean = this.mean[j] ?? 0;
    const delta = v - mean;
    const m = mean + delta / n;
    this.mean[j] = m;
    this.m2[j] = (this.m2[j] ?? 0) + delta * (v - m);
    if (n === 1) {
      this.mn[j] = v;
      this.mx[j] = v;
    } else {
      if (v < (this.mn[j] ?? 0)) this.mn[j] = v;
      if (v > (this.mx[j] ?? 0)) this.mx[j] = v;
    }
    this.histAdd(j, v);
  }

  private histAdd(j: number, v: number): void {
    let off = this.hOff[j] ?? -1;
    const pool = this.pool;
    if (off < 0) {
      off = pool.alloc(MIN_CLASS);
      if (off < 0) {
        this.folded++;
        return;
      }
      this.hOff[j] = off;
      this.hCls[j] = MIN_CLASS;
      this.hUsed[j] = 0;
    }
    const key = bucketLow(v, this.hBits[j] ?? SIZE_BITS);
    const cls = this.hCls[j] ?? MIN_CLASS;
    const mask = (1 << cls) - 1;
    const keys = pool.keys;
    const counts = pool.counts;
    for (let i = Math.imul(key, 0x9e3779b1) >>> (32 - cls); ; i = (i + 1) & mask) {
      const c = counts[off + i] ?? 0;
      if (c === 0) {
        keys[off + i] = key;
        counts[off + i] = 1;
        const used = (this.hUsed[j] ?? 0) + 1;
        this.hUsed[j] = used;
        if (used * 4 > (mask + 1) * 3) this.histGrow(j);
        return;
      }
      if (keys[off + i] === key) {
        counts[off + i] = c + 1;
        return;
      }
    }
  }

  /** A histogram is 3/4 full: move it to a block twice the size, or lose a bit of precision. */
  private histGrow(j: number): void {
    const cls = this.hCls[j] ?? MIN_CLASS;
    if (cls < MAX_CLASS) {
      const off = this.pool.alloc(cls + 1);
      if (off >= 0) {
        this.rehash(j, off, cls + 1, this.hBits[j] ?? SIZE_BITS);
        return;
      }
    }
    // No bigger block (largest size, or memory limit): coarser buckets in the same block.
    let bits = this.hBits[j] ?? SIZE_BITS;
    const size = 1 << cls;
    do {
      if (bits === 0) break;
      bits--;
      this.rehash(j, this.hOff[j] ?? 0, cls, bits);
    } while ((this.hUsed[j] ?? 0) * 4 > size * 3);
  }

  /** Re-insert the pairs of histogram j into block `off` of class `cls` at `bits` precision. */
  private rehash(j: number, off: number, cls: number, bits: number): void {
    const pool = this.pool;
    const oldOff = this.hOff[j] ?? 0;
    const oldCls = this.hCls[j] ?? MIN_CLASS;
    let n = 0;
    for (let i = oldOff, e = oldOff + (1 << oldCls); i < e; i++) {
      const c = pool.counts[i] ?? 0;
      if (c === 0) continue;
      scratchKeys[n] = pool.keys[i] ?? 0;
      scratchCounts[n] = c;
      n++;
    }
    if (off === oldOff) pool.counts.fill(0, off, off + (1 << cls));
    else pool.release(oldOff, oldCls);
    const keys = pool.keys;
    const counts = pool.counts;
    const mask = (1 << cls) - 1;
    let used = 0;
    for (let k = 0; k < n; k++) {
      const key = bucketLow(scratchKeys[k] ?? 0, bits);
      const add = scratchCounts[k] ?? 0;
      for (let i = Math.imul(key, 0x9e3779b1) >>> (32 - cls); ; i = (i + 1) & mask) {
        const c = counts[off + i] ?? 0;
        if (c === 0) {
          keys[off + i] = key;
          counts[off + i] = add;
          used++;
          break;
        }
        if (keys[off + i] === key) {
          counts[off + i] = c + add;
          break;
        }
      }
    }
    if (used * 4 > (mask + 1) * 3 && bits === 0) this.folded++;
    this.hOff[j] = off;
    this.hCls[j] = cls;
    this.hBits[j] = bits;
    this.hUsed[j] = used;
  }

  /** Ids of hosts in use, for iteration: ids < end() with fam[id] !== 0. */
  end(): number {
    return this.nextId;
  }

  bytesOf(id: number): number {
    return (this.by[id * 2] ?? 0) + (this.by[id * 2 + 1] ?? 0);
  }

  addressOf(id: number): string {
    if (this.fam[id] === 4) return formatIpv4(this.w3[id] ?? 0);
    return formatIpv6(this.w0[id] ?? 0, this.w1[id] ?? 0, this.w2[id] ?? 0, this.w3[id] ?? 0);
  }

  /** The top `limit` hosts by bytes (tx + rx), largest first; ties by address order of ids. */
  top(limit: number): number[] {
    const end = this.nextId;
    if (limit >= this.count) {
      const all: number[] = [];
      for (let id = 0; id < end; id++) if (this.fam[id] !== 0) all.push(id);
      return all.sort((a, b) => this.bytesOf(b) - this.bytesOf(a) || a - b);
    }
    // small selection: keep the best `limit` in a sorted array
    const best: number[] = [];
    let floor = -1;
    for (let id = 0; id < end; id++) {
      if (this.fam[id] === 0) continue;
      const v = this.bytesOf(id);
      if (best.length === limit && v <= floor) continue;
      let k = best.length;
      while (k > 0 && this.bytesOf(best[k - 1] ?? 0) < v) k--;
      best.splice(k, 0, id);
      if (best.length > limit) best.pop();
      if (best.length === limit) floor = this.bytesOf(best[limit - 1] ?? 0);
    }
    return best;
  }

  hostStats(id: number): HostStats {
    return { addr: this.addressOf(id), tx: this.dirStats(id * 2 + TX), rx: this.dirStats(id * 2 + RX) };
  }

  private dirStats(j: number): DirectionStats {
    const n = this.pk[j] ?? 0;
    return { packets: n, bytes: this.by[j] ?? 0, size: n === 0 ? null : this.sizeStats(j, n) };
  }

  private sizeStats(j: number, n: number): SizeStats {
    const min = this.mn[j] ?? 0;
    const max = this.mx[j] ?? 0;
    const p = this.percentiles(j, n, min, max);
    return {
      count: n,
      mean: this.mean[j] ?? 0,
      stdev: Math.sqrt((this.m2[j] ?? 0) / n),
      min,
      max,
      p50: p[0] ?? min,
      p95: p[1] ?? min,
      p99: p[2] ?? min,
    };
  }

  /** Nearest-rank p50, p95, p99 from the histogram: bucket midpoints clamped to [min, max]. */
  private percentiles(j: number, n: number, min: number, max: number): number[] {
    const off = this.hOff[j] ?? -1;
    if (off < 0 || min === max) return [min, min, min];
    const pool = this.pool;
    const pairs: [number, number][] = [];
    let total = 0;
    for (let i = off, e = off + (1 << (this.hCls[j] ?? MIN_CLASS)); i < e; i++) {
      const c = pool.counts[i] ?? 0;
      if (c > 0) {
        pairs.push([pool.keys[i] ?? 0, c]);
        total += c;
      }
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const bits = this.hBits[j] ?? SIZE_BITS;
    // Counts may fall short of n only if histogram memory ran out (then ranks scale).
    const scale = total > 0 ? total / n : 1;
    return [50, 95, 99].map((pct) => {
      const rank = Math.max(1, Math.ceil((pct / 100) * n * scale));
      let cum = 0;
      for (const [low, c] of pairs) {
        cum += c;
        if (cum >= rank) {
          const w = bucketWidth(low, bits);
          const mid = w === 1 ? low : Math.round(low + (w - 1) / 2);
          return Math.min(max, Math.max(min, mid));
        }
      }
      return max;
    });
  }

  /** Empty the table (per-second tables, at the start of each second). */
  clear(): void {
    this.index.fill(-1);
    for (let id = 0; id < this.nextId; id++) this.fam[id] = 0;
    this.nextId = 0;
    this.freeTop = 0;
    this.count = 0;
    this.refused = 0;
    this.pool.reset();
  }

  /** Approximate bytes held (for memory reporting). */
  get bytes(): number {
    return this.cap * (1 + 4 * 6 + 8 * 2 + 4) + this.cap * 2 * (8 * 6 + 4 + 1 + 1 + 2) + this.index.byteLength + this.pool.bytes;
  }
}
