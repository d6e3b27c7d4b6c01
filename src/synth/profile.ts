// Rate profiles of the synthetic background traffic (owned by synth): how many packets
// fall in each second. Only +, -, *, /, sqrt and floor are used (all exactly rounded in
// IEEE 754), so the counts are the same on every machine and JavaScript engine.

import type { Prng } from './prng.js';

export const PROFILES = ['constant', 'diurnal', 'bursty'] as const;
export type ProfileName = (typeof PROFILES)[number];

/**
 * Packets per second for `total` packets over `silent.length` seconds: the profile's
 * shape, Poisson-like noise around it, no packets in silent seconds, and exactly `total`
 * in all. Throws RangeError when every second is silent but packets remain.
 */
export function backgroundCounts(total: number, profile: ProfileName, period: number, silent: Uint8Array, rng: Prng): Float64Array {
  const n = silent.length;
  const shape = new Float64Array(n);
  let high = false;
  for (let s = 0; s < n; s++) {
    let x: number;
    if (profile === 'diurnal') {
      // One cycle per period, starting at the daily mean and rising; +-60%, with jitter.
      x = (1 + 0.6 * sinTurns(s / period)) * (1 + 0.05 * rng.normal());
    } else if (profile === 'bursty') {
      // Two-state Markov modulation (bursts of 4 s on average, about one a minute at
      // three times the base rate) and heavy multiplicative noise.
      if (high) high = rng.float() >= 0.25;
      else high = rng.float() < 0.015;
      x = (high ? 3 : 1) * (1 + 0.25 * rng.normal());
    } else {
      x = 1;
    }
    shape[s] = silent[s] === 1 ? 0 : x > 0.02 ? x : 0.02;
  }
  let sum = 0;
  for (let s = 0; s < n; s++) sum += shape[s] ?? 0;
  const counts = new Float64Array(n);
  if (total === 0) return counts;
  if (sum === 0) throw new RangeError('no second left for the background traffic');
  const noisy = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const lambda = (total * (shape[s] ?? 0)) / sum;
    if (lambda === 0) continue;
    // Poisson-like spread around the expected count.
    const x = lambda + Math.sqrt(lambda) * rng.normal();
    noisy[s] = x > 0 ? x : 0;
  }
  return spread(noisy, total);
}

/**
 * Whole counts per second whose running sum follows the real-valued `rates`, scaled so
 * the counts add up to exactly `total` (when given) or to floor(sum of rates).
 */
export function spread(rates: Float64Array, total?: number): Float64Array {
  const n = rates.length;
  let sum = 0;
  for (let s = 0; s < n; s++) sum += rates[s] ?? 0;
  const out = new Float64Array(n);
  if (sum === 0) return out;
  const want = total ?? Math.floor(sum + 1e-9);
  let cum = 0;
  let prev = 0;
  let last = -1;
  for (let s = 0; s < n; s++) {
    const r = rates[s] ?? 0;
    cum += r;
    if (r > 0) last = s;
    const upto = Math.min(want, Math.floor((want * cum) / sum + 1e-9));
    out[s] = upto - prev;
    prev = upto;
  }
  // Rounding may leave the last few packets: they go to the last second that has traffic.
  if (prev < want && last >= 0) out[last] = (out[last] ?? 0) + (want - prev);
  return out;
}

/** sin(2 pi t) from a polynomial (no Math.sin: its last bit may differ between engines). */
export function sinTurns(t: number): number {
  let x = t - Math.floor(t); // [0, 1)
  let sign = 1;
  if (x >= 0.5) {
    x -= 0.5;
    sign = -1;
  }
  if (x > 0.25) x = 0.5 - x; // sin(pi - a) = sin(a)
  const a = 2 * Math.PI * x; // [0, pi/2]
  const a2 = a * a;
  // Taylor series to a^13: error below 1e-10 on [0, pi/2].
  const p =
    a *
    (1 +
      a2 *
        (-1 / 6 +
          a2 * (1 / 120 + a2 * (-1 / 5040 + a2 * (1 / 362880 + a2 * (-1 / 39916800 + a2 * (1 / 6227020800)))))));
  return sign * p;
}
