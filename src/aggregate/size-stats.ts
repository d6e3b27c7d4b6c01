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
