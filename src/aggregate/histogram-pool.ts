// Sparse packet-size histograms for many hosts in one flat array of (bucket, count) pairs,
// interleaved so a probe touches one cache line. Each histogram is a small open-addressed
// block whose size is a power of two; blocks come from free lists by size, then from a
// bump pointer, never past a hard limit: all histograms together stay bounded.

export const MIN_CLASS = 2; // 4 pairs
export const MAX_CLASS = 11; // 2048 pairs: room for 1536 buckets at 3/4 load

export class HistogramPool {
  /** pair p: [2p] = bucket lower bound, [2p + 1] = count (0 marks an empty slot) */
  data: Float64Array;
  private top = 0;
  private readonly limit: number;
  private readonly free: number[][] = [];

  /** limitPairs: the most pairs ever held (16 bytes each). */
  constructor(initialPairs: number, limitPairs: number) {
    this.data = new Float64Array(2 * Math.max(1 << MAX_CLASS, Math.min(initialPairs, limitPairs)));
    this.limit = limitPairs;
    for (let c = 0; c <= MAX_CLASS; c++) this.free.push([]);
  }

  /** Pair offset of a zeroed block of 2^cls pairs, or -1 when the limit is reached. */
  alloc(cls: number): number {
    const size = 1 << cls;
    const list = this.free[cls];
    let off: number;
    if (list !== undefined && list.length > 0) {
      off = list.pop() ?? 0;
      // a reused block still holds its old pairs; fresh memory is zero already
      this.data.fill(0, 2 * off, 2 * (off + size));
      return off;
    } else {
      if (this.top + size > this.limit) return -1;
      if (2 * (this.top + size) > this.data.length) {
        let n = this.data.length;
        while (n < 2 * (this.top + size)) n *= 2;
        if (n > 2 * this.limit) n = 2 * this.limit;
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
