// Rolling baselines over the last W samples of one series: mean and population stdev
// (Welford with removal, re-summed every W pushes so rounding cannot drift), or the robust
// median and MAD over a sorted copy of the window. Fixed memory per series.

import { zScore } from 'simple-statistics';
import type { BaselineMethod } from './config.js';

/** 1 / Phi^-1(3/4): scales a MAD to estimate the stdev of normal data. */
export const MAD_SCALE = 1.4826;

export class RollingBaseline {
  private readonly ring: Float64Array;
  /** Ascending copy of the window (median method only). */
  private readonly sorted: Float64Array | null;
  private next = 0;
  count = 0;
  /** Consecutive anomalous samples kept out of the window (see ZscoreDetector.score). */
  anomalousRun = 0;
  private mu = 0;
  private m2 = 0;
  private sinceResum = 0;

  constructor(
    readonly window: number,
    readonly method: BaselineMethod,
  ) {
    this.ring = new Float64Array(window);
    this.sorted = method === 'median' ? new Float64Array(window) : null;
  }

  /** Forget every sample (the series is given to another host); memory is kept. */
  reset(): void {
    this.next = 0;
    this.count = 0;
    this.anomalousRun = 0;
    this.mu = 0;
    this.m2 = 0;
    this.sinceResum = 0;
  }

  push(x: number): void {
    const w = this.window;
    if (this.count === w) {
      const old = this.ring[this.next] ?? 0;
      this.ring[this.next] = x;
      this.next = (this.next + 1) % w;
      // Replace old by x: remove, then add.
      const n = this.count;
      const d0 = old - this.mu;
      this.mu -= d0 / (n - 1);
      this.m2 -= d0 * (old - this.mu);
      const d1 = x - this.mu;
      this.mu += d1 / n;
      this.m2 += d1 * (x - this.mu);
      if (this.sorted !== null) this.sortedReplace(old, x);
    } else {
      this.ring[this.next] = x;
      this.next = (this.next + 1) % w;
      this.count++;
      const d = x - this.mu;
      this.mu += d / this.count;
      this.m2 += d * (x - this.mu);
      if (this.sorted !== null) this.sortedInsert(x, this.count - 1);
    }
    if (++this.sinceResum >= w) this.resum();
  }

  /**
   * k samples of 0 (seconds a host was silent). A silence as long as the window leaves a
   * window of zeros: set it at once instead of k pushes (sparse hosts are the common case).
   */
  pushZeros(k: number): void {
    if (k < this.window) {
      for (let i = 0; i < k; i++) this.push(0);
      return;
    }
    this.ring.fill(0);
    this.sorted?.fill(0);
    this.next = 0;
    this.count = this.window;
    this.mu = 0;
    this.m2 = 0;
    this.sinceResum = 0;
  }

  /** Recompute mean and M2 exactly from the window (two passes). */
  private resum(): void {
    this.sinceResum = 0;
    const n = this.count;
    let s = 0;
    for (let i = 0; i < n; i++) s += this.ring[i] ?? 0;
    const mu = n > 0 ? s / n : 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const d = (this.ring[i] ?? 0) - mu;
      m2 += d * d;
    }
    this.mu = mu;
    this.m2 = m2;
  }

  mean(): number {
    return this.mu;
  }

  /** Population standard deviation of the window. */
  stdev(): number {
    return this.count > 0 ? Math.sqrt(Math.max(0, this.m2) / this.count) : 0;
  }

  median(): number {
    const s = this.sorted;
    const n = this.count;
    if (s === null || n === 0) return this.mu;
    const h = n >> 1;
    return n % 2 === 1 ? (s[h] ?? 0) : ((s[h - 1] ?? 0) + (s[h] ?? 0)) / 2;
  }

  /** Median absolute deviation from the median (unscaled). */
  mad(): number {
    const s = this.sorted;
    const n = this.count;
    if (s === null || n === 0) return 0;
    const med = this.median();
    // Deviations grow outward from the median: merge the two sides and stop half way.
    let hi = lowerBound(s, n, med);
    let lo = hi - 1;
    const target = n >> 1;
    let prev = 0;
    let cur = 0;
    for (let k = 0; k <= target; k++) {
      const dl = lo >= 0 ? med - (s[lo] ?? 0) : Infinity;
      const dh = hi < n ? (s[hi] ?? 0) - med : Infinity;
      prev = cur;
      if (dl <= dh) {
        cur = dl;
        lo--;
      } else {
        cur = dh;
        hi++;
      }
    }
    return n % 2 === 1 ? cur : (prev + cur) / 2;
  }

  /** Centre and spread for scoring, by the configured method (spread not yet floored). */
  center(): number {
    return this.method === 'median' ? this.median() : this.mu;
  }

  spread(): number {
    return this.method === 'median' ? MAD_SCALE * this.mad() : this.stdev();
  }

  private sortedInsert(x: number, len: number): void {
    const s = this.sorted;
    if (s === null) return;
    const i = upperBound(s, len, x);
    s.copyWithin(i + 1, i, len);
    s[i] = x;
  }

  private sortedReplace(old: number, x: number): void {
    const s = this.sorted;
    if (s === null) return;
    const n = this.count;
    let i = lowerBound(s, n, old);
    // Remove old at i, then insert x, shifting only the span between the two positions.
    let j = lowerBound(s, n, x);
    if (j > i) {
      j--;
      s.copyWithin(i, i + 1, j + 1);
    } else if (j < i) {
      s.copyWithin(j + 1, j, i);
    }
    i = j;
    s[i] = x;
  }
}

/** First index in s[0, n) with s[i] >= x. */
function lowerBound(s: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((s[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in s[0, n) with s[i] > x. */
function upperBound(s: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((s[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * z of x against (center, spread), with the spread floored: a flat baseline (stdev 0)
 * must not turn noise into an infinite score. simple-statistics' zScore does not guard it.
 */
export function guardedZ(x: number, center: number, spread: number, floor: number): { z: number; sd: number } {
  const sd = Math.max(spread, floor, Number.MIN_VALUE);
  return { z: zScore(x, center, sd), sd };
}

/** The spread used for scoring: at least the floor (and never 0). Allocation-free form of guardedZ's sd. */
export function flooredSpread(spread: number, floor: number): number {
  return Math.max(spread, floor, Number.MIN_VALUE);
}

/**
 * One second of Page's one-sided CUSUM on a standardised series:
 * `S' = min(h + k, max(0, S + min(z, clip) - k))`. A second adds evidence only beyond the
 * allowance k (sigma); clipping z makes it robust to one heavy second (it adds at most
 * clip - k), and the cap h + k lets one second back at the baseline (z = 0) leave S at h
 * while two bring it below, so S falls under h within seconds of the excess ending.
 * A non-finite z (a zero spread) counts as clip when positive and clears S when negative.
 *
 *     cusumStep(0, 5, 2, 15, 4) === 2;  cusumStep(14, 4, 2, 15, 4) === 16;  cusumStep(17, 9, 2, 15, 4) === 17
 */
export function cusumStep(s: number, z: number, k: number, h: number, clip: number): number {
  const next = s + (z < clip ? z : clip) - k;
  return next <= 0 ? 0 : next > h + k ? h + k : next;
}
