// zscore's per-host CUSUM (Page's test on the host's z): the step on scripted values, and
// the detector on seeded Gaussian series whose expected behaviour follows from the formula
// S' = min(h + k, max(0, S + min(z, clip) - k)), anomalous while S >= h, raised after
// raiseAfter anomalous seconds. Expected times and bounds are derived here, not recorded.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { cusumStep } from '../../src/detect/baseline.js';
import { defaultDetectConfig, type CusumConfig, type DetectConfig } from '../../src/detect/config.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { host, onlyDetector, raised, resolved, second } from './helpers.js';

const DEFAULT = defaultDetectConfig().zscore;

/** Seeded N(0, 1) (mulberry32 + Box-Muller): the same sequence on every machine. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Host series only (no global series, no normalising), floors as given, CUSUM as given. */
function hstage(cusum: Partial<CusumConfig> = {}, edit: (c: DetectConfig) => void = () => undefined): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.zscore.enabled = true;
      c.zscore.global = false;
      c.zscore.hosts.normalize = false;
      // The floors are tested on their own below; here z is the plain standardised value.
      c.zscore.hosts.floor = { relative: 0, bytes: 1, packets: 1e-9 };
      Object.assign(c.zscore.hosts.cusum, cusum);
      edit(c);
    }),
  );
}

/** Feed packets/s per host and second; `values(t)` gives [address, packets] pairs. */
function feed(stage: DetectStage, t0: number, n: number, values: (t: number) => [string, number][]): Alert[] {
  const out: Alert[] = [];
  for (let t = t0; t < t0 + n; t++) {
    const hs = values(t).map(([a, p]) => host(a, [p, p * 100]));
    out.push(...stage.observe(second(t, { hosts: hs, packets: hs.reduce((s, h) => s + h.tx.packets, 0) })));
  }
  return out;
}

describe('cusumStep', () => {
  it('adds min(z, clip) - k, floors at 0 and caps at h + k', () => {
    const k = 2;
    const h = 15;
    const clip = 4;
    let s = 0;
    const trace: number[] = [];
    for (const z of [1, 5, 3, 9, -1, 0.5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, -3]) {
      s = cusumStep(s, z, k, h, clip);
      trace.push(s);
    }
    // By hand: 1 is below k (0); 5 is clipped to 4 (+2); 3 (+1); 9 clipped (+2); -1 (-3);
    // 0.5 (-1.5); then +2 per 4 up to the cap h + k = 17; a second at z = 0 leaves S at
    // h = 15, the next takes it below; -3 takes 5 off.
    expect(trace).toEqual([0, 2, 3, 5, 2, 0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5, 17, 15, 13, 8]);
  });

  it('never yields NaN: a zero spread makes z infinite, which counts as clip or clears S', () => {
    expect(cusumStep(3, Infinity, 2, 15, 4)).toBe(5);
    expect(cusumStep(3, -Infinity, 2, 15, 4)).toBe(0);
    expect(cusumStep(17, Infinity, 2, 15, 4)).toBe(17);
  });

  it('cannot reach h from 0 in fewer than ceil(h / (clip - k)) seconds, whatever the z', () => {
    const { k, h, clip } = DEFAULT.hosts.cusum;
    const need = Math.ceil(h / (clip - k));
    let s = 0;
    for (let i = 1; i < need; i++) s = cusumStep(s, 1e9, k, h, clip);
    expect(s).toBeLessThan(h);
    expect(cusumStep(s, 1e9, k, h, clip)).toBeGreaterThanOrEqual(h);
  });
});

describe('zscore per-host CUSUM', () => {
  const W = DEFAULT.window;
  const MEAN = 100;
  const SD = 10;

  /** A host at MEAN +- SD (Gaussian) for `quiet` seconds, then MEAN + sigma * SD + noise for `len`. */
  function excess(stage: DetectStage, sigma: number, quiet: number, len: number, after = 40, seed = 7): Alert[] {
    const g = gaussian(seed);
    return feed(stage, 0, quiet + len + after, (t) => {
      const lift = t >= quiet && t < quiet + len ? sigma * SD : 0;
      return [['10.0.0.7', MEAN + lift + SD * g()]];
    });
  }

  it('raises a sustained 5-sigma excess as Host_Packets_Spike, when S first could, and resolves within 10 s of its end', () => {
    const { k, h, clip } = DEFAULT.hosts.cusum;
    const { raiseAfter, resolveAfter } = DEFAULT;
    const quiet = W + 20;
    const out = excess(hstage(), 5, quiet, 30);
    const up = raised(out);
    expect(up.map((a) => [a.detector, a.note, a.host])).toEqual([['zscore', 'Host_Packets_Spike', '10.0.0.7']]);
    // z is about 5 each second, never above clip = 4 once clipped: S grows by at most
    // clip - k = 2 per second and reaches h = 15 after 8 seconds at the earliest, i.e. the
    // first anomalous second is quiet + 7, the raise raiseAfter - 1 later (quiet + 9). A
    // second of the noise below z = 4 (16 %) may delay it by one.
    const first = quiet + Math.ceil(h / (clip - k)) - 1 + (raiseAfter - 1);
    expect(up[0]?.ts).toBeGreaterThanOrEqual(first);
    expect(up[0]?.ts).toBeLessThanOrEqual(first + 2);
    expect(up[0]?.since).toBe((up[0]?.ts ?? 0) - (raiseAfter - 1));
    expect(up[0]?.message).toMatch(/sustained excess: CUSUM \d+\.\d >= 15 sigma-seconds above 2 sigma/);
    // Below the per-second threshold (6): only the CUSUM can have raised it.
    expect(up[0]?.baseline?.z).toBeLessThan(DEFAULT.threshold);
    expect(up[0]?.baseline?.mean).toBeCloseTo(MEAN, -1);
    // After the end S <= h + k falls below h once the noise has taken more than k off
    // (about 2 s), then resolveAfter normal seconds resolve it.
    const down = resolved(out);
    expect(down).toHaveLength(1);
    const end = quiet + 30;
    expect(down[0]?.ts).toBeGreaterThanOrEqual(end + resolveAfter - 1);
    expect((down[0]?.ts ?? Infinity) - end).toBeLessThanOrEqual(10);
  });

  it('with h small enough, the same statistic raises a 5-sigma excess within 3 s (the defaults trade this for false alerts)', () => {
    // k = 1, clip 5: z is 5 +- 1, so about +4 per second; S >= h = 4 after the first or
    // second second of it (z1 + z2 >= 6: all but 0.2 % of draws), raised 2 s later.
    const quiet = W + 20;
    const up = raised(excess(hstage({ k: 1, h: 4, clip: 5 }), 5, quiet, 30));
    expect(up).toHaveLength(1);
    expect((up[0]?.ts ?? Infinity) - quiet).toBeLessThanOrEqual(3);
  });

  it('does not raise on stationary Gaussian noise; without the allowance k it does', () => {
    const { k, h } = DEFAULT.hosts.cusum;
    const HOSTS = 5;
    const SECONDS = 20_000;
    // The bound, from the math: for i.i.d. N(mu, s^2) steps, P(S ever reaches h from 0) <=
    // exp(-2 (k - mu) h / s^2) (Lundberg's inequality, the martingale exp(lambda sum(z - k))
    // with lambda = 2 (k - mu) / s^2). The baseline is estimated from 300 samples, so z's
    // mean is off by at most ~0.25 and its stdev by at most 20 % (several standard errors);
    // clipping only lowers the steps. Union over every start (host-second):
    const perStart = Math.exp((-2 * (k - 0.25) * h) / 1.2 ** 2);
    const expected = HOSTS * SECONDS * perStart;
    expect(expected).toBeLessThan(1e-6);
    const run = (cusum: Partial<CusumConfig>): Alert[] => {
      const gs = Array.from({ length: HOSTS }, (_, i) => gaussian(100 + i));
      return feed(hstage(cusum, (c) => (c.zscore.suppress = 0)), 0, SECONDS, () =>
        gs.map((g, i): [string, number] => [`10.0.1.${i + 1}`, MEAN + SD * g()]),
      );
    };
    expect(raised(run({}))).toEqual([]);
    // Control: with k = 0 S is a reflected random walk of zero drift and reaches 15 in about
    // h^2 = 225 seconds; over 20,000 it must raise, or the test above proves nothing.
    expect(raised(run({ k: 0 })).length).toBeGreaterThan(HOSTS);
  });

  it('handles a zero stdev: the floors make z finite and S grows by the predicted steps', () => {
    // Flat at 10 packets/s (stdev 0): the default floors give sd = max(0.5 x 10, 3) = 5.
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.zscore.enabled = true;
        c.zscore.global = false;
        c.zscore.hosts.normalize = false;
      }),
    );
    const t0 = W + 10;
    // 26 packets/s: z = 16 / 5 = 3.2 at first, below the threshold: +1.2 per second. The
    // first seconds join the baseline until S reaches h / 2 (then the host is suspicious),
    // which can only lower z: S >= 15 after ceil(15 / 1.2) = 13 seconds at the earliest,
    // and the 6 that join move the mean to at most 10.32 and the floor to 5.16 (z >= 3.03,
    // +1.03 per second): 15 at the latest. Raised raiseAfter - 1 = 2 seconds later.
    const out = feed(stage, 0, t0 + 40, (t) => [['10.0.0.9', t >= t0 ? 26 : 10]]);
    const up = raised(out);
    expect(up).toHaveLength(1);
    expect(up[0]?.ts).toBeGreaterThanOrEqual(t0 + 13 - 1 + 2);
    expect(up[0]?.ts).toBeLessThanOrEqual(t0 + 15 - 1 + 2);
    const b = up[0]?.baseline;
    expect(b?.mean).toBeGreaterThanOrEqual(10);
    expect(b?.mean).toBeLessThanOrEqual(10.32);
    // The stdev used is the relative floor, not the window's (near 0) stdev.
    expect(b?.stdev).toBeCloseTo(0.5 * (b?.mean ?? 0), 9);
    expect(Number.isFinite(b?.z)).toBe(true);
    expect(b?.z).toBeCloseTo((26 - (b?.mean ?? 0)) / (b?.stdev ?? 1), 9);
  });

  it('scores nothing during warm-up: an excess inside it is learned, not accumulated', () => {
    const warmup = DEFAULT.warmup;
    const stage = hstage();
    // 10 seconds of 100 then 300 packets/s through the rest of the warm-up and beyond.
    const g = gaussian(3);
    const out = feed(stage, 0, warmup + 30, (t) => [['10.0.0.5', (t < 10 ? MEAN : 3 * MEAN) + SD * g()]]);
    // Had the warm-up seconds been scored, S would have passed h by second 10 + 8 < warmup.
    expect(10 + Math.ceil(DEFAULT.hosts.cusum.h / 2) + DEFAULT.raiseAfter).toBeLessThan(warmup);
    expect(out.filter((a) => a.ts < warmup)).toEqual([]);
  });

  it('takes k off per silent second: a host that goes quiet does not keep its evidence', () => {
    const stage = hstage();
    const g = gaussian(11);
    const quiet = W + 20;
    // 6 s at +5 sigma (S = 12, not yet h), 5 s absent, then 6 s at +5 sigma again. The 5
    // zeros widen the baseline (stdev about 16: z about 3.2, +1.2 per second). Kept, S = 12
    // would pass h in the second run's third second and be raised in its fifth; 5 x k
    // leaves 2, which 6 seconds cannot take to 15.
    const on = (t: number): boolean => (t >= quiet && t < quiet + 6) || (t >= quiet + 11 && t < quiet + 17);
    const out = feed(stage, 0, quiet + 30, (t) => {
      if (t >= quiet + 6 && t < quiet + 11) return [];
      return [['10.0.0.3', MEAN + (on(t) ? 5 * SD : 0) + SD * g()]];
    });
    expect(raised(out)).toEqual([]);
  });

  it('is off with cusum.enabled false: the same excess is then missed (below the threshold)', () => {
    const out = excess(hstage({ enabled: false }), 5, W + 20, 30);
    expect(raised(out)).toEqual([]);
  });
});
