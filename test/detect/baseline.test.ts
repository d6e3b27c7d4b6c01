// Rolling baselines against simple-statistics computed from scratch over the same window.
import { mean, median, medianAbsoluteDeviation, standardDeviation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { MAD_SCALE, RollingBaseline, guardedZ } from '../../src/detect/baseline.js';

function series(n: number, seed: number): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    // Heavy-ish values with ties and occasional spikes, like bytes/s.
    const base = 1e6 + (s % 5000) * 37;
    out.push(i % 97 === 0 ? base * 20 : i % 5 === 0 ? 1e6 : base);
  }
  return out;
}

describe('RollingBaseline', () => {
  for (const window of [1, 2, 7, 60]) {
    it(`mean/stdev over a window of ${window} match a recomputation at every step`, () => {
      const b = new RollingBaseline(window, 'mean');
      const xs = series(700, window);
      for (let i = 0; i < xs.length; i++) {
        b.push(xs[i] ?? 0);
        const w = xs.slice(Math.max(0, i + 1 - window), i + 1);
        expect(b.count).toBe(w.length);
        expect(b.mean()).toBeCloseTo(mean(w), 3);
        expect(b.stdev()).toBeCloseTo(standardDeviation(w), 3);
      }
    });

    it(`median/MAD over a window of ${window} match a recomputation at every step`, () => {
      const b = new RollingBaseline(window, 'median');
      const xs = series(700, window + 100);
      for (let i = 0; i < xs.length; i++) {
        b.push(xs[i] ?? 0);
        const w = xs.slice(Math.max(0, i + 1 - window), i + 1);
        expect(b.median()).toBe(median(w));
        expect(b.mad()).toBe(medianAbsoluteDeviation(w));
        expect(b.spread()).toBeCloseTo(MAD_SCALE * medianAbsoluteDeviation(w), 6);
      }
    });
  }

  for (const method of ['mean', 'median'] as const) {
    it(`${method}: runs of zeros (silent seconds), short and longer than the window, match a recomputation`, () => {
      const window = 10;
      const b = new RollingBaseline(window, method);
      const xs = series(200, 3);
      const all: number[] = [];
      for (let i = 0; i < xs.length; i++) {
        const zeros = [0, 3, 9, 10, 25][i % 5] ?? 0;
        b.pushZeros(zeros);
        for (let k = 0; k < zeros; k++) all.push(0);
        b.push(xs[i] ?? 0);
        all.push(xs[i] ?? 0);
        const w = all.slice(Math.max(0, all.length - window));
        expect(b.count).toBe(w.length);
        if (method === 'mean') {
          expect(b.mean()).toBeCloseTo(mean(w), 3);
          expect(b.stdev()).toBeCloseTo(standardDeviation(w), 3);
        } else {
          expect(b.median()).toBe(median(w));
          expect(b.mad()).toBe(medianAbsoluteDeviation(w));
        }
      }
    });
  }

  it('does not drift over a long run of large values', () => {
    const b = new RollingBaseline(300, 'mean');
    const xs = series(100_000, 3).map((x) => x * 1000);
    for (const x of xs) b.push(x);
    const w = xs.slice(-300);
    expect(b.mean() / mean(w)).toBeCloseTo(1, 9);
    expect(b.stdev() / standardDeviation(w)).toBeCloseTo(1, 6);
  });

  it('the median baseline ignores a minority of outliers that drag the mean', () => {
    const m = new RollingBaseline(101, 'median');
    const a = new RollingBaseline(101, 'mean');
    for (let i = 0; i < 101; i++) {
      const x = i % 10 === 0 ? 1e9 : 1000 + (i % 3);
      m.push(x);
      a.push(x);
    }
    expect(m.center()).toBe(1001);
    expect(m.spread()).toBeCloseTo(MAD_SCALE * 1, 6);
    expect(a.center()).toBeGreaterThan(1e7);
  });
});

describe('guardedZ', () => {
  it('floors a zero stdev instead of dividing by it', () => {
    const { z, sd } = guardedZ(1100, 1000, 0, 50);
    expect(sd).toBe(50);
    expect(z).toBe(2);
    expect(Number.isFinite(guardedZ(5, 5, 0, 0).z)).toBe(true);
    expect(guardedZ(5, 5, 0, 0).z).toBe(0);
  });
});
