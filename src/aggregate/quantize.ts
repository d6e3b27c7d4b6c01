// Packet sizes are kept in histograms with `bits` bits of precision: values below
// 2^(bits+1) exactly, larger ones in buckets 2^(e-bits) wide (e = floor(log2 v)). With the
// default 7 bits a bucket's midpoint is within 1/256 of any value in it.

/** Lower bound of the bucket holding v (v a non-negative integer below 2^32). */
export function bucketLow(v: number, bits: number): number {
  if (v < 1 << (bits + 1)) return v;
  if (v < 0x80000000) {
    const shift = 31 - Math.clz32(v) - bits;
    return (v >>> shift) << shift;
  }
  const width = 2 ** (Math.floor(Math.log2(v)) - bits);
  return Math.floor(v / width) * width;
}

/** Width of the bucket whose lower bound is low. */
export function bucketWidth(low: number, bits: number): number {
  if (low < 2 ** (bits + 1)) return 1;
  const e = low < 0x80000000 ? 31 - Math.clz32(low) : Math.floor(Math.log2(low));
  return 2 ** (e - bits);
}
