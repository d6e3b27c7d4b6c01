// Sparse packet-size histograms for many hosts in one flat array of (bucket, count) pairs,
// interleaved so a probe touches one cache line. Each histogram is a small open-addressed
// block whose size is a power of two; blocks come from free lists by size, then from a
// bump pointer, then from a larger free block split in halves, never past a hard limit:
// all histograms together stay bounded. The owner compacts the pool (compacted()) when
// freed blocks are plenty but none fits, so memory freed by evicted hosts is not lost.

export const MIN_CLASS = 2; // 4 pairs
/**
 * 8192 pairs: room for 6144 buckets at 3/4 load, more than the 3328 buckets of every 32-bit
 * wire length at full precision (256 exact values, then 128 buckets for each of 24 powers
 * of two), so no host loses precision for want of a bigger block (with 2048 pairs, sizes
 * spread over 1..2^31 fell to 5 bits: percentiles 1.6% off with memory to spare).
 */
export const MAX_CLASS = 13;
/**
 * Largest block chosen up front from a batch's estimated new buckets (an upper bound: it
 * counts buckets the histogram may hold already); bigger blocks only when a bucket truly
 * does not fit, so estimates never take 4096- or 8192-pair blocks for fewer buckets.
 */
export const PRESIZE_CLASS = 11;
/**
 * 8 pairs: the block every host direction can get even when the limit is reached (from a
 * reserve sized by the host cap), so no host is left without percentiles.
 */
export const FLOOR_CLASS = 3;

export class HistogramPool {
  /** pair p: [2p] = bucket lower bound, [2p + 1] = count (0 marks an empty slot) */
  data: Float64Array;
  private top = 0;
  /** Pairs on the free lists: released, not handed out again yet. */
  freePairs = 0;
  readonly limit: number;
  private readonly reserve: number;
  private readonly free: number[][] = [];

  /**
   * limitPairs: the most pairs (16 bytes each) held in blocks of any class; reservePairs:
   * how far past it FLOOR_CLASS blocks may still go (one per host direction at most).
   */
  constructor(initialPairs: number, limitPairs: number, reservePairs = 0) {
    this.data = new Float64Array(2 * Math.max(1 << MAX_CLASS, Math.min(initialPairs, limitPairs)));
    this.limit = limitPairs;
    this.reserve = reservePairs;
    for (let c = 0; c <= MAX_CLASS; c++) this.free.push([]);
  }

  /**
   * Pair offset of a zeroed block of 2^cls pairs, or -1 when the limit is reached (for a
   * `floor` request of FLOOR_CLASS: the limit plus the reserve). A free block of the class
   * first, then fresh memory below the limit, then a larger free block split in halves
   * (its other halves go to the free lists), at last (floor) the reserve.
   */
  alloc(cls: number, floor = false): number {
    const size = 1 << cls;
    const list = this.free[cls];
    if (list !== undefined && list.length > 0) {
      const off = list.pop() ?? 0;
      this.freePairs -= size;
      // a reused block still holds its old pairs; fresh memory is zero already
      this.data.fill(0, 2 * off, 2 * (off + size));
      return off;
    }
    if (this.top + size <= this.limit) return this.bump(size, this.limit);
    for (let c = cls + 1; c <= MAX_CLASS; c++) {
      const big = this.free[c];
      if (big === undefined || big.length === 0) continue;
      const off = big.pop() ?? 0;
      this.freePairs -= 1 << c;
      for (let k = c - 1; k >= cls; k--) {
        this.free[k]?.push(off + (1 << k));
        this.freePairs += 1 << k;
      }
      this.data.fill(0, 2 * off, 2 * (off + size));
      return off;
    }
    if (floor && cls === FLOOR_CLASS && this.top + size <= this.limit + this.reserve) return this.bump(size, this.limit + this.reserve);
    return -1;
  }

  private bump(size: number, limit: number): number {
    if (2 * (this.top + size) > this.data.length) {
      let n = this.data.length;
      while (n < 2 * (this.top + size)) n *= 2;
      if (n > 2 * limit) n = 2 * limit;
      const d = new Float64Array(n);
      d.set(this.data.subarray(0, 2 * this.top));
      this.data = d;
    }
    const off = this.top;
    this.top += size;
    return off;
  }

  release(off: number, cls: number): void {
    this.free[cls]?.push(off);
    this.freePairs += 1 << cls;
  }

  /** Fresh memory handed out so far: blocks start below this. */
  get end(): number {
    return this.top;
  }

  /**
   * The owner moved every block in use down to [0, top), in order: the free lists are void
   * and fresh memory starts at top.
   */
  compacted(top: number): void {
    // fresh memory is handed out as zero: clear what the moved blocks left behind
    this.data.fill(0, 2 * top, 2 * this.top);
    for (const l of this.free) l.length = 0;
    this.freePairs = 0;
    this.top = top;
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}
