// Packet-size statistics from exact values (per-second logs) and nearest-rank percentiles.
import type { SizeStats } from './summary.js';

/** Nearest rank: the smallest value with at least p% of the values at or below it. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1] ?? 0;
}

/** Sort in place; insertion sort for the short arrays a second's top hosts have. */
function sortNumbers(values: Uint32Array): void {
  const n = values.length;
  if (n > 48) {
    values.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = values[i] ?? 0;
    let j = i - 1;
    while (j >= 0 && (values[j] ?? 0) > v) {
      values[j + 1] = values[j] ?? 0;
      j--;
    }
    values[j + 1] = v;
  }
}

/** Exact statistics of values (sorted in place). Population stdev; Welford for stability. */
export function exactSizeStats(values: Uint32Array): SizeStats {
  sortNumbers(values);
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    const d = v - mean;
    mean += d / (i + 1);
    m2 += d * (v - mean);
  }
  const n = values.length;
  return {
    count: n,
    mean,
    stdev: n > 0 ? Math.sqrt(m2 / n) : 0,
    min: values[0] ?? 0,
    max: values[n - 1] ?? 0,
    p50: nearestRank(values, 50),
    p95: nearestRank(values, 95),
    p99: nearestRank(values, 99),
  };
}

/**
 * Exact statistics of `tail` (single values, sorted in place) together with distinct sorted
 * values vals[from, to) occurring cnts[i] times each (a spilled second's sizes).
 */
export function mergedSizeStats(tail: Uint32Array, vals: Uint32Array, cnts: Float64Array, from: number, to: number): SizeStats {
  sortNumbers(tail);
  let n = tail.length;
  let sum = 0;
  for (let i = 0; i < tail.length; i++) sum += tail[i] ?? 0;
  for (let i = from; i < to; i++) {
    n += cnts[i] ?? 0;
    sum += (vals[i] ?? 0) * (cnts[i] ?? 0);
  }
  const mean = n > 0 ? sum / n : 0;
  let m2 = 0;
  for (let i = 0; i < tail.length; i++) m2 += ((tail[i] ?? 0) - mean) ** 2;
  for (let i = from; i < to; i++) m2 += (cnts[i] ?? 0) * ((vals[i] ?? 0) - mean) ** 2;
  // nearest ranks, walking both sorted sequences in step
  const ranks = [1, Math.max(1, Math.ceil(0.5 * n)), Math.max(1, Math.ceil(0.95 * n)), Math.max(1, Math.ceil(0.99 * n)), n];
  const at = [0, 0, 0, 0, 0];
  let x = 0;
  let y = from;
  let cum = 0;
  let r = 0;
  while (r < ranks.length && (x < tail.length || y < to)) {
    const vx = x < tail.length ? (tail[x] ?? 0) : Infinity;
    const vy = y < to ? (vals[y] ?? 0) : Infinity;
    let v: number;
    if (vx <= vy) {
      v = vx;
      cum += 1;
      x++;
    } else {
      v = vy;
      cum += cnts[y] ?? 0;
      y++;
    }
    while (r < ranks.length && cum >= (ranks[r] ?? 0)) at[r++] = v;
  }
  return {
    count: n,
    mean,
    stdev: n > 0 ? Math.sqrt(m2 / n) : 0,
    min: at[0] ?? 0,
    max: at[4] ?? 0,
    p50: at[1] ?? 0,
    p95: at[2] ?? 0,
    p99: at[3] ?? 0,
  };
}
