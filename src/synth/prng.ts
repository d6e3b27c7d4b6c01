// Seeded PRNG for the synthetic capture generator (owned by synth). Integer-only
// arithmetic (Math.imul, shifts), so the same seed gives the same stream on every machine.

/** splitmix32 step: turns any 32-bit value into a well-mixed one (seed expansion, hashing). */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed for an independent stream `stream` derived from the user's seed. */
export function streamSeed(seed: number, stream: number): number {
  return mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2f));
}

/**
 * xoshiro128** (Blackman and Vigna): small state, fast in V8, good statistical quality.
 * Separate instances are used per concern (background, each anomaly, timing) so that
 * adding an anomaly does not change the background traffic.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    x = mix32(x);
    this.s0 = x;
    x = mix32(x);
    this.s1 = x;
    x = mix32(x);
    this.s2 = x;
    x = mix32(x);
    this.s3 = x | 1; // never the all-zero state
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = rotl(n3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32 (multiply-shift; the bias is below 2^-32 * n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** Approximately standard normal (Irwin-Hall sum of 12 uniforms): no transcendental functions. */
  normal(): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.float();
    return s - 6;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A bijection on 32-bit integers (xorshift-multiply): distinct inputs give distinct outputs. */
export function scramble32(x: number, key: number): number {
  let z = (x ^ key) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}
