// Sparse packet-size histograms for many hosts in two flat arrays. Each histogram is a
// small open-addressed block of (bucket, count) pairs whose size is a power of two; blocks
// come from free lists by size, then from a bump pointer, never past a hard limit, so the
// memory of all histograms together is bounded whatever the traffic.

export const MIN_CLASS = 2; // 4 pairs
export const MAX_CLASS = 9; // 512 pairs

export class HistogramPool {
  /** Bucket lower bounds. */
  keys: Uint32Array;
  /** Counts; 0 marks an empty slot. */
  counts: Float64Array;
  private top = 0;
  private readonly limit: number;
  private readonly free: number[][] = [];

  /** limitPairs: the most (bucket, count) pairs ever held (12 bytes each). */
  constructor(initialPairs: number, limitPairs: number) {
    const n = Math.min(initialPairs, limitPairs);
    this.keys = new Uint32Array(n);
    this.counts = new Float64Array(n);
    this.limit = limitPairs;
    for (let c = 0; c <= MAX_CLASS; c++) this.free.push([]);
  }

  /** Offset of a zeroed block of 2^cls pairs, or -1 when the limit is reached. */
  alloc(cls: number): number {
    const list = this.free[cls];
    if (list !== undefined && list.length > 0) {
      const off = list.pop() ?? -1;
      this.counts.fill(0, off, off + (1 << cls));
      return off;
    }
    const size = 1 << cls;
    if (this.top + size > this.keys.length) {
      if (this.top + size > this.limit) return -1;
      let n = this.keys.length * 2;
      while (n < this.top + size) n *= 2;
      if (n > this.limit) n = this.limit;
      const k = new Uint32Array(n);
      k.set(this.keys.subarray(0, this.top));
      const c = new Float64Array(n);
      c.set(this.counts.subarray(0, this.top));
      this.keys = k;
      this.counts = c;
    }
    const off = this.top;
    this.top += size;
    this.counts.fill(0, off, off + size);
    return off;
  }

  release(off: number, cls: number): void {
    this.free[cls]?.push(off);
  }

  /** Forget every block (per-second tables start each second empty). */
  reset(): void {
    this.top = 0;
    for (const l of this.free) l.length = 0;
  }

  /** Bytes held by the backing arrays. */
  get bytes(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }
}
