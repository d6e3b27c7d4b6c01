// Sparse packet-size histograms for many hosts in one flat array of (bucket, count) pairs,
// interleaved so a probe touches one cache line. Each histogram is a small open-addressed
// block whose size is a power of two; blocks come from free lists by size, then from a
// bump pointer, never past a hard limit: all histograms together stay bounded.

export const MIN_CLASS = 2; // 4 pairs
export const MAX_CLASS = 11; // 2048 pairs: room for 1536 buckets at 3/4 load
/**
 * 8 pairs: the block every host direction can get even when the limit is reached (from a
 * reserve sized by the host cap), so no host is left without percentiles.
 */
export const FLOOR_CLASS = 3;

export class HistogramPool {
  /** pair p: [2p] = bucket lower bound, [2p + 1] = count (0 marks an empty slot) */
  data: Float64Array;
  private top = 0;
  private readonly limit: number;
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
   * `floor` request of FLOOR_CLASS: the limit plus the reserve).
   */
  alloc(cls: number, floor = false): number {
    const limit = floor && cls === FLOOR_CLASS ? this.limit + this.reserve : this.limit;
    const size = 1 << cls;
    const list = this.free[cls];
    let off: number;
    if (list !== undefined && list.length > 0) {
      off = list.pop() ?? 0;
      // a reused block still holds its old pairs; fresh memory is zero already
      this.data.fill(0, 2 * off, 2 * (off + size));
      return off;
    } else {
      if (this.top + size > limit) return -1;
      if (2 * (this.top + size) > this.data.length) {
        let n = this.data.length;
        while (n < 2 * (this.top + size)) n *= 2;
        if (n > 2 * limit) n = 2 * limit;
        const d = new Float64Array(n);
        d.set(this.data.subarray(0, 2 * this.top));
        this.data = d;
      }
      off = this.top;
      this.top += size;
    }
    return off;
  }

  release(off: number, cls: number): void {
    this.free[cls]?.push(off);
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}
