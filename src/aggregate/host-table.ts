// The cumulative host table: per host and direction (tx = outermost IP source, rx =
// destination) packets, bytes, Welford mean and variance, min, max and a sparse size
// histogram, in one 128-byte record per host so an update touches few cache lines.
// Bounded: at maxHosts the least active host is evicted (and counted); histograms share
// a pool with a hard limit and lose precision rather than grow past it.

import { formatIpv4, formatIpv6 } from './address.js';
import { AddressIndex } from './address-index.js';
import { FLOOR_CLASS, HistogramPool, MAX_CLASS, MIN_CLASS, PRESIZE_CLASS } from './histogram-pool.js';
import { bucketLow, bucketWidth } from './quantize.js';
import type { DirectionStats, HostStats, SizeStats } from './summary.js';
import { SMALL_TOP, TopK, smallTop } from './top.js';

/** Precision of size histograms (quantize.ts): exact below 256, within 1/256 above. */
export const SIZE_BITS = 7;
const EVICTION_SAMPLE = 16;

// Two records per host. `hot` (4 doubles: tx packets, tx bytes, rx packets, rx bytes) is
// touched every second a host is active and stays small enough for the cache; `rec`
// (16 doubles: size statistics, tx at 0, rx at 8) only when sizes are folded in.
const HOT = 4;
const STRIDE = 16;
const SN = 0; // sizes folded so far
const MEAN = 1;
const M2 = 2;
const MIN = 3;
const MAX = 4;
const HOFF = 5; // histogram block (pair offset), -1 none
const HMETA = 6; // cls | bits << 8 | used << 16
export const TX = 0;
export const RX = 8;

export interface HostTableOptions {
  maxHosts: number;
  /** Told when ids grow (owners of arrays indexed by host id grow them). */
  onGrow?: (cap: number) => void;
  /** Hosts that must not be evicted now (they have traffic in a second still open). */
  pinned?: (id: number) => boolean;
  /** Most histogram pairs (16 bytes each) for all hosts together. */
  histogramPairs: number;
}

// scratch for re-bucketing one histogram (at most 2^MAX_CLASS pairs)
const scratch = new Float64Array(2 << MAX_CLASS);
/** Slots of the largest block: a histogram slot index fits below it. */
const SLOT_SPAN = 1 << MAX_CLASS;
// scratch for ordering one histogram's buckets (percentiles)
const sortScratch = new Float64Array(SLOT_SPAN);
/** Buckets below this are counted in a dense scratch before they reach a histogram. */
const DENSE_KEYS = 1 << 16;
const dense = new Uint32Array(DENSE_KEYS);
const touched = new Uint32Array(DENSE_KEYS);

export class HostTable {
  readonly index: AddressIndex;
  readonly pool: HistogramPool;
  private rec: Float64Array;
  private hot: Float64Array;
  lastSec: Float64Array;
  firstSec: Float64Array;
  /** Fold-buffer position when the host took its id: older pending sizes were another's. */
  since: Float64Array;
  /** Position the next pending size will get (never resets). */
  position = 0;
  /** Insertion number of each id's current host (ids are reused after evictions). */
  generation: Float64Array;
  private inserts = 0;
  evictions = 0;
  /** Values folded into a neighbouring bucket because no histogram memory was left. */
  folded = 0;
  /** New hosts refused because every evictable candidate was busy. */
  refused = 0;
  /** Times the histogram pool was compacted (memory freed in blocks of the wrong sizes). */
  compactions = 0;
  private cursor = 0;
  private readonly pinned: (id: number) => boolean;

  constructor(o: HostTableOptions) {
    const initial = Math.min(o.maxHosts, 16384);
    const onGrow = o.onGrow;
    this.pinned = o.pinned ?? (() => false);
    this.index = new AddressIndex(o.maxHosts, initial, (cap) => {
      this.growRecords(cap);
      onGrow?.(cap);
    });
    // the pool's pages are touched only as histograms fill them: start big, copy less
    this.pool = new HistogramPool(1 << 20, o.histogramPairs, 2 * o.maxHosts * (1 << FLOOR_CLASS));
    this.rec = new Float64Array(initial * STRIDE);
    this.hot = new Float64Array(initial * HOT);
    this.lastSec = new Float64Array(initial);
    this.firstSec = new Float64Array(initial);
    this.since = new Float64Array(initial);
    this.generation = new Float64Array(initial);
  }

  get count(): number {
    return this.index.count;
  }

  private growRecords(cap: number): void {
    const r = new Float64Array(cap * STRIDE);
    r.set(this.rec);
    this.rec = r;
    const h = new Float64Array(cap * HOT);
    h.set(this.hot);
    this.hot = h;
    const l = new Float64Array(cap);
    l.set(this.lastSec);
    this.lastSec = l;
    const f = new Float64Array(cap);
    f.set(this.firstSec);
    this.firstSec = f;
    const q = new Float64Array(cap);
    q.set(this.since);
    this.since = q;
    const g = new Float64Array(cap);
    g.set(this.generation);
    this.generation = g;
  }

  /**
   * Id for an IPv4 address, inserting it (and evicting the least active host when the
   * table is full) if new; `inserted` then says it was new. `keep`: an id that must not
   * be evicted for it (the packet's other host, not yet counted in any second).
   */
  idV4(a: number, sec: number, keep = -1): number {
    let id = this.index.idV4(a);
    if (id < 0) {
      if (!this.evictOne(keep)) return -1;
      id = this.index.idV4(a);
    }
    if (this.index.inserted) this.init(id, sec);
    return id;
  }

  /** Id for an IPv6 address (four big-endian words), as idV4. */
  idV6(w: Uint32Array, sec: number, keep = -1): number {
    let id = this.index.idV6(w);
    if (id < 0) {
      if (!this.evictOne(keep)) return -1;
      id = this.index.idV6(w);
    }
    if (this.index.inserted) this.init(id, sec);
    return id;
  }

  get inserted(): boolean {
    return this.index.inserted;
  }

  private init(id: number, sec: number): void {
    const r = this.rec;
    const o = id * STRIDE;
    r.fill(0, o, o + STRIDE);
    this.hot.fill(0, id * HOT, id * HOT + HOT);
    r[o + HOFF] = -1;
    r[o + HMETA] = 256 * SIZE_BITS;
    r[o + RX + HOFF] = -1;
    r[o + RX + HMETA] = 256 * SIZE_BITS;
    this.firstSec[id] = sec;
    this.lastSec[id] = sec;
    this.since[id] = this.position;
    this.generation[id] = ++this.inserts;
  }

  /**
   * Evict the least active of a sample of hosts (fewest packets, then longest idle), never
   * one with traffic in a second still open, nor `keep`. False when none could go (the new
   * host is then refused and its packets counted as untracked).
   */
  private evictOne(keep: number): boolean {
    const ix = this.index;
    const r = this.rec;
    let victim = -1;
    let vPk = Infinity;
    let vLast = Infinity;
    for (let k = 0; k < EVICTION_SAMPLE; k++) {
      const id = this.cursor;
      this.cursor = this.cursor + 1 >= ix.end ? 0 : this.cursor + 1;
      if (ix.fam[id] === 0 || id === keep || this.pinned(id)) continue;
      const p = (this.hot[id * HOT] ?? 0) + (this.hot[id * HOT + 2] ?? 0);
      const last = this.lastSec[id] ?? 0;
      if (p < vPk || (p === vPk && last < vLast)) {
        victim = id;
        vPk = p;
        vLast = last;
      }
    }
    if (victim < 0) {
      this.refused++;
      return false;
    }
    for (const d of [TX, RX]) {
      const off = r[victim * STRIDE + d + HOFF] ?? -1;
      if (off >= 0) this.pool.release(off, (r[victim * STRIDE + d + HMETA] ?? 0) % 256);
    }
    ix.remove(victim);
    this.evictions++;
    return true;
  }

  /** Exact packet and byte counts of one host for one closed second. */
  addCounts(id: number, txPk: number, txBy: number, rxPk: number, rxBy: number, sec: number): void {
    const h = this.hot;
    const o = id * HOT;
    h[o] = (h[o] ?? 0) + txPk;
    h[o + 1] = (h[o + 1] ?? 0) + txBy;
    h[o + 2] = (h[o + 2] ?? 0) + rxPk;
    h[o + 3] = (h[o + 3] ?? 0) + rxBy;
    if (sec > (this.lastSec[id] ?? 0)) this.lastSec[id] = sec;
  }

  /**
   * Fold `count` wire lengths, sizes[start .. start + count), into host id's size
   * statistics in direction d (TX or RX): Welford mean and variance, min, max, histogram.
   * Called a host at a time, so its record and histogram stay in cache for the batch.
   */
  addSizes(id: number, d: number, sizes: Uint32Array, start: number, count: number): void {
    if (count === 0) return;
    const r = this.rec;
    const o = id * STRIDE + d;
    // The batch's own count, mean, squared deviations, min and max (two passes over a few
    // cached values, no division per value), merged into the running ones by the
    // parallel-variance formula (Chan, Golub, LeVeque): as stable as Welford per value.
    const e = start + count;
    let sum = 0;
    let bmin = Infinity;
    let bmax = -Infinity;
    for (let i = start; i < e; i++) {
      const v = sizes[i] ?? 0;
      sum += v;
      if (v < bmin) bmin = v;
      if (v > bmax) bmax = v;
    }
    const bmean = sum / count;
    let bm2 = 0;
    for (let i = start; i < e; i++) {
      const dv = (sizes[i] ?? 0) - bmean;
      bm2 += dv * dv;
    }
    const na = r[o + SN] ?? 0;
    const n = na + count;
    let mean = bmean;
    let m2 = bm2;
    let min = bmin;
    let max = bmax;
    if (na > 0) {
      const ma = r[o + MEAN] ?? 0;
      const delta = bmean - ma;
      mean = ma + (delta * count) / n;
      m2 = (r[o + M2] ?? 0) + bm2 + (delta * delta * na * count) / n;
      min = Math.min(min, r[o + MIN] ?? 0);
      max = Math.max(max, r[o + MAX] ?? 0);
    }
    // The histogram. Count the batch per bucket first (a dense scratch for the usual
    // sizes): a host's batch has far fewer distinct buckets than values, so the block is
    // sized for what it will hold and each bucket reaches the hash once.
    const bits = (((r[o + HMETA] ?? 0) | 0) >> 8) & 0xff;
    let nt = 0;
    let wide = 0;
    // new buckets among the wide values, for sizing blocks only: changes of key, an upper
    // bound on the distinct ones (a run of one large size, a TSO frame size, counts once)
    let wideKeys = 0;
    let lastWide = -1;
    for (let i = start; i < e; i++) {
      const key = bucketLow(sizes[i] ?? 0, bits);
      if (key < DENSE_KEYS) {
        const c = dense[key] ?? 0;
        dense[key] = c + 1;
        if (c === 0) touched[nt++] = key;
      } else {
        wide++;
        if (key !== lastWide) {
          wideKeys++;
          lastWide = key;
        }
      }
    }
    if ((r[o + HOFF] ?? -1) < 0) {
      // first sizes of this host: a block that can take them without growing
      let cls = MIN_CLASS;
      const want = Math.ceil(((nt + wideKeys + 1) * 4) / 3);
      while (cls < PRESIZE_CLASS && 1 << cls < want) cls++;
      let off = this.alloc(cls);
      // memory is short: a smaller block (precision goes first), at last the reserved floor
      while (off < 0 && cls > FLOOR_CLASS) off = this.alloc(--cls);
      if (off < 0) off = this.alloc((cls = FLOOR_CLASS), true);
      if (off >= 0) {
        r[o + HOFF] = off;
        r[o + HMETA] = (((r[o + HMETA] ?? 0) | 0) & 0xff00) | cls; // keep bits; used 0
      }
    } else {
      this.reserve(o, nt + wideKeys);
    }
    if ((r[o + HOFF] ?? -1) < 0) {
      this.folded += count;
      for (let k = 0; k < nt; k++) dense[touched[k] ?? 0] = 0;
    } else {
      for (let k = 0; k < nt; k++) {
        const key = touched[k] ?? 0;
        this.histAdd(o, key, bits, dense[key] ?? 0);
        dense[key] = 0;
      }
      for (let i = start; i < e && wide > 0; i++) {
        const key = bucketLow(sizes[i] ?? 0, bits);
        if (key >= DENSE_KEYS) this.histAdd(o, key, bits, 1);
      }
    }
    r[o + SN] = n;
    r[o + MEAN] = mean;
    r[o + M2] = m2;
    r[o + MIN] = min;
    r[o + MAX] = max;
  }

  /**
   * Add `count` values of bucket `key` (taken at `bits` precision) to histogram o; the
   * histogram may have lost precision since, so the key is re-bucketed when it did.
   */
  private histAdd(o: number, key: number, bits: number, count: number): void {
    const r = this.rec;
    let off = r[o + HOFF] ?? -1;
    if (off < 0) return;
    let meta = (r[o + HMETA] ?? 0) | 0;
    for (let attempt = 0; ; attempt++) {
      const nb = (meta >> 8) & 0xff;
      const k = nb === bits ? key : bucketLow(key, nb);
      const cls = meta & 0xff;
      const mask = (1 << cls) - 1;
      const data = this.pool.data;
      for (let j = Math.imul(k, 0x9e3779b1) >>> (32 - cls); ; j = (j + 1) & mask) {
        const p = 2 * (off + j);
        const c = data[p + 1] ?? 0;
        if (c === 0) break;
        if (data[p] === k) {
          data[p + 1] = c + count;
          return;
        }
      }
      // a new bucket: it must fit within 3/4 load (so probes always end at an empty slot)
      if (((meta >> 16) + 1) * 4 <= (mask + 1) * 3) {
        for (let j = Math.imul(k, 0x9e3779b1) >>> (32 - cls); ; j = (j + 1) & mask) {
          const p = 2 * (off + j);
          if ((data[p + 1] ?? 0) === 0) {
            data[p] = k;
            data[p + 1] = count;
            r[o + HMETA] = meta + 65536;
            return;
          }
        }
      }
      if (attempt > 0 || !this.histGrow(o)) {
        // No memory left and no precision left to give: the values join the nearest bucket.
        this.folded += count;
        this.addToNearest(o, k, count);
        return;
      }
      off = r[o + HOFF] ?? -1;
      meta = (r[o + HMETA] ?? 0) | 0;
    }
  }

  private addToNearest(o: number, key: number, count: number): void {
    const r = this.rec;
    const off = r[o + HOFF] ?? 0;
    const cls = (r[o + HMETA] ?? 0) % 256;
    const data = this.pool.data;
    let best = -1;
    for (let i = 2 * off, e = 2 * (off + (1 << cls)); i < e; i += 2) {
      if ((data[i + 1] ?? 0) === 0) continue;
      if (best < 0 || Math.abs((data[i] ?? 0) - key) < Math.abs((data[best] ?? 0) - key)) best = i;
    }
    if (best >= 0) data[best + 1] = (data[best + 1] ?? 0) + count;
  }

  /**
   * A histogram block (HistogramPool.alloc). When none is left but the free lists hold
   * enough for it (blocks of evicted hosts, blocks left by histograms that grew), and at
   * least 1/32 of the pool (so a full pool does not compact for every block), the blocks in
   * use are moved together first: memory freed is memory again, whatever its block sizes.
   */
  private alloc(cls: number, floor = false): number {
    const pool = this.pool;
    let off = pool.alloc(cls, floor);
    if (off < 0 && pool.freePairs >= Math.max(1 << cls, pool.limit >> 5)) {
      this.compact();
      off = pool.alloc(cls, floor);
    }
    return off;
  }

  /** Move every histogram block in use down to the start of the pool, in pool order. */
  private compact(): void {
    const pool = this.pool;
    const r = this.rec;
    const ix = this.index;
    // owner record (+ 1) of the block starting at each 4-pair unit (every block starts on one)
    const owner = new Float64Array((pool.end >> MIN_CLASS) + 1);
    for (let id = 0; id < ix.end; id++) {
      if (ix.fam[id] === 0) continue;
      for (const d of [TX, RX]) {
        const o = id * STRIDE + d;
        const off = r[o + HOFF] ?? -1;
        if (off >= 0) owner[off >> MIN_CLASS] = o + 1;
      }
    }
    const data = pool.data;
    let top = 0;
    for (let k = 0; k < owner.length; k++) {
      const o1 = owner[k] ?? 0;
      if (o1 === 0) continue;
      const o = o1 - 1;
      const off = k << MIN_CLASS;
      const size = 1 << ((r[o + HMETA] ?? 0) % 256);
      if (off !== top) data.copyWithin(2 * top, 2 * off, 2 * (off + size));
      r[o + HOFF] = top;
      top += size;
    }
    pool.compacted(top);
    this.compactions++;
  }

  /** A pending size at fold position pos for id belongs to its current occupant. */
  owns(id: number, pos: number): boolean {
    return this.index.fam[id] !== 0 && pos >= (this.since[id] ?? 0);
  }

  /**
   * About to add up to `more` new buckets: grow the histogram once to a block that can
   * take them, instead of doubling step by step.
   */
  private reserve(o: number, more: number): void {
    const r = this.rec;
    const meta = (r[o + HMETA] ?? 0) | 0;
    const cls = meta & 0xff;
    const used = meta >> 16;
    const want = Math.ceil(((used + more + 1) * 4) / 3);
    let target = cls;
    while (target < PRESIZE_CLASS && 1 << target < want) target++;
    if (target <= cls + 1) return;
    const nOff = this.alloc(target);
    if (nOff >= 0) this.rehash(o, nOff, target, (meta >> 8) & 0xff);
  }

  /**
   * Histogram o needs room for one more bucket within 3/4 load: a block twice the size,
   * else one bit less precision in place. False when even one bit leaves no room.
   */
  private histGrow(o: number): boolean {
    const r = this.rec;
    const meta = r[o + HMETA] ?? 0;
    const cls = meta % 256;
    let bits = Math.floor(meta / 256) % 256;
    if (cls < MAX_CLASS) {
      const off = this.alloc(cls + 1);
      if (off >= 0) {
        this.rehash(o, off, cls + 1, bits);
        return true;
      }
    }
    while (bits > 0) {
      bits--;
      this.rehash(o, r[o + HOFF] ?? 0, cls, bits);
      if ((Math.floor((r[o + HMETA] ?? 0) / 65536) + 1) * 4 <= (1 << cls) * 3) return true;
    }
    return false;
  }

  /** Re-insert histogram o's pairs into block `off` of class `cls` at `bits` precision. */
  private rehash(o: number, off: number, cls: number, bits: number): void {
    const r = this.rec;
    const pool = this.pool;
    const oldOff = r[o + HOFF] ?? 0;
    const oldCls = (r[o + HMETA] ?? 0) % 256;
    let n = 0;
    let data = pool.data;
    for (let i = 2 * oldOff, e = 2 * (oldOff + (1 << oldCls)); i < e; i += 2) {
      const c = data[i + 1] ?? 0;
      if (c === 0) continue;
      scratch[2 * n] = data[i] ?? 0;
      scratch[2 * n + 1] = c;
      n++;
    }
    if (off === oldOff) data.fill(0, 2 * off, 2 * (off + (1 << cls)));
    else pool.release(oldOff, oldCls);
    data = pool.data;
    const mask = (1 << cls) - 1;
    let used = 0;
    for (let k = 0; k < n; k++) {
      const key = bucketLow(scratch[2 * k] ?? 0, bits);
      const add = scratch[2 * k + 1] ?? 0;
      for (let i = Math.imul(key, 0x9e3779b1) >>> (32 - cls); ; i = (i + 1) & mask) {
        const p = 2 * (off + i);
        const c = data[p + 1] ?? 0;
        if (c === 0) {
          data[p] = key;
          data[p + 1] = add;
          used++;
          break;
        }
        if (data[p] === key) {
          data[p + 1] = c + add;
          break;
        }
      }
    }
    r[o + HOFF] = off;
    r[o + HMETA] = cls + 256 * bits + 65536 * used;
  }

  bytesOf(id: number): number {
    return (this.hot[id * HOT + 1] ?? 0) + (this.hot[id * HOT + 3] ?? 0);
  }

  addressOf(id: number): string {
    const ix = this.index;
    if (ix.fam[id] === 4) return formatIpv4(ix.w3[id] ?? 0);
    return formatIpv6(ix.w0[id] ?? 0, ix.w1[id] ?? 0, ix.w2[id] ?? 0, ix.w3[id] ?? 0);
  }

  /** [family, w0, w1, w2, w3] of the host at out[at..at+5) (IPv4 in w3). */
  copyAddress(id: number, out: Uint32Array, at: number): void {
    const ix = this.index;
    out[at] = ix.fam[id] ?? 0;
    out[at + 1] = ix.w0[id] ?? 0;
    out[at + 2] = ix.w1[id] ?? 0;
    out[at + 3] = ix.w2[id] ?? 0;
    out[at + 4] = ix.w3[id] ?? 0;
  }

  /** The top `limit` hosts by bytes (tx + rx), largest first, ties by id. */
  top(limit: number): number[] {
    return topIds(this.index, limit, (id) => this.bytesOf(id));
  }

  hostStats(id: number): HostStats {
    return { addr: this.addressOf(id), tx: this.dirStats(id, TX), rx: this.dirStats(id, RX) };
  }

  private dirStats(id: number, d: number): DirectionStats {
    const h = id * HOT + (d === TX ? 0 : 2);
    const n = this.hot[h] ?? 0;
    return { packets: n, bytes: this.hot[h + 1] ?? 0, size: n === 0 ? null : this.sizeStats(id * STRIDE + d, n) };
  }

  private sizeStats(o: number, packets: number): SizeStats | null {
    const r = this.rec;
    // Sizes not folded yet (snapshot mid-second) are not in the statistics.
    const n = r[o + SN] ?? 0;
    if (n === 0 || packets === 0) return null;
    const min = r[o + MIN] ?? 0;
    const max = r[o + MAX] ?? 0;
    const p = this.percentiles(o, n, min, max);
    return {
      count: n,
      mean: r[o + MEAN] ?? 0,
      stdev: Math.sqrt((r[o + M2] ?? 0) / n),
      min,
      max,
      p50: p[0] ?? min,
      p95: p[1] ?? min,
      p99: p[2] ?? min,
    };
  }

  /** Nearest-rank p50, p95, p99 from the histogram: bucket midpoints clamped to [min, max]. */
  private percentiles(o: number, n: number, min: number, max: number): number[] {
    const r = this.rec;
    const off = r[o + HOFF] ?? -1;
    if (off < 0 || min === max) return [min, min, min];
    const meta = r[o + HMETA] ?? 0;
    const cls = meta % 256;
    const bits = Math.floor(meta / 256) % 256;
    const data = this.pool.data;
    // (bucket, slot) packed in one double, bucket * 2^13 + slot (a block has at most 2^13
    // slots; below 2^45), so a plain numeric sort orders them: no pair objects, no comparator
    const enc = sortScratch;
    let m = 0;
    let total = 0;
    const base = 2 * off;
    for (let j = 0, e = 1 << cls; j < e; j++) {
      const c = data[base + 2 * j + 1] ?? 0;
      if (c > 0) {
        enc[m++] = (data[base + 2 * j] ?? 0) * SLOT_SPAN + j;
        total += c;
      }
    }
    const sorted = enc.subarray(0, m).sort();
    // Counts fall short of n only if histogram memory ran out; ranks then scale.
    const scale = total > 0 ? total / n : 1;
    return [50, 95, 99].map((pct) => {
      const exactRank = Math.max(1, Math.ceil((pct / 100) * n));
      // the smallest and the largest values are known exactly
      if (exactRank === n) return max;
      if (exactRank === 1) return min;
      const rank = Math.max(1, Math.ceil((pct / 100) * n * scale));
      let cum = 0;
      for (let i = 0; i < m; i++) {
        const x = sorted[i] ?? 0;
        const low = Math.floor(x / SLOT_SPAN);
        cum += data[base + 2 * (x - low * SLOT_SPAN) + 1] ?? 0;
        if (cum >= rank) {
          const w = bucketWidth(low, bits);
          const mid = w === 1 ? low : Math.round(low + (w - 1) / 2);
          return Math.min(max, Math.max(min, mid));
        }
      }
      return max;
    });
  }

  get bytes(): number {
    return this.index.bytes + this.rec.byteLength + this.hot.byteLength + this.lastSec.byteLength * 3 + this.pool.bytes;
  }
}

/** Ids of the `limit` largest by value (Infinity: all), largest first, ties by id. */
export function topIds(ix: AddressIndex, limit: number, value: (id: number) => number): number[] {
  const end = ix.end;
  if (limit >= ix.count) {
    const all: number[] = [];
    for (let id = 0; id < end; id++) if (ix.fam[id] !== 0) all.push(id);
    return all.sort((a, b) => value(b) - value(a) || a - b);
  }
  if (limit <= SMALL_TOP) return smallTop(end, limit, (id) => (ix.fam[id] !== 0 ? id : -1), value);
  const top = new TopK(limit, ix.count);
  for (let id = 0; id < end; id++) if (ix.fam[id] !== 0) top.offer(id, value(id));
  return top.result();
}
