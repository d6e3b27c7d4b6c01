// zscore: warm-up, zero stdev, score-before-join, raise after m / resolve after n, the
// robust variant, per-host series in bounded memory. Expected baselines are recomputed
// with simple-statistics from the script.
import { mean, standardDeviation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { host, onlyDetector, raised, resolved, second } from './helpers.js';

function zstage(edit: (c: DetectConfig) => void = () => undefined): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.zscore.enabled = true;
      c.zscore.hosts.enabled = false;
      c.zscore.window = 60;
      c.zscore.warmup = 20;
      c.zscore.threshold = 5;
      c.zscore.raiseAfter = 2;
      edit(c);
    }),
  );
}

function noisy(i: number): number {
  // Deterministic noise around 1e6 B/s, stdev about 2e4.
  return 1e6 + (((i * 7919) % 101) - 50) * 700;
}

function feed(stage: DetectStage, values: readonly number[], t0 = 0, packets = (_b: number) => 1000): Alert[] {
  return values.flatMap((b, i) => [...stage.observe(second(t0 + i, { bytes: b, packets: packets(b) }))]);
}

/** A stage with only zscore's per-host series (10 of them), raising after one second. */
function hostsOnly(window: number, warmup: number, metric: 'packets' | 'bytes', floor: { relative: number; bytes: number; packets: number }): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.zscore.enabled = true;
      c.zscore.global = false;
      c.zscore.window = window;
      c.zscore.warmup = warmup;
      c.zscore.raiseAfter = 1;
      c.zscore.hosts = { enabled: true, max: 10, metric, floor, normalize: false, cusum: { enabled: true, k: 2, h: 15, clip: 4 } };
    }),
  );
}

describe('zscore', () => {
  it('scores nothing during warm-up, however large', () => {
    const stage = zstage();
    const xs = Array.from({ length: 19 }, (_, i) => (i === 18 ? 1e12 : noisy(i)));
    expect(feed(stage, xs)).toEqual([]);
  });

  it('scores a second against the baseline before it joins it, and reports that baseline', () => {
    const stage = zstage((c) => {
      c.zscore.raiseAfter = 1;
      c.zscore.floor = { relative: 0.001, bytes: 1000, packets: 10 };
    });
    const xs = Array.from({ length: 40 }, (_, i) => noisy(i));
    expect(feed(stage, xs)).toEqual([]);
    const spike = 5e6;
    const out = raised(feed(stage, [spike], 40)).filter((a) => a.note === 'Global_Traffic_Spike');
    expect(out).toHaveLength(1);
    const a = out[0];
    const window = xs.slice(-40);
    expect(a?.baseline?.mean).toBeCloseTo(mean(window), 6);
    expect(a?.baseline?.stdev).toBeCloseTo(standardDeviation(window), 6);
    expect(a?.baseline?.z).toBeCloseTo((spike - mean(window)) / standardDeviation(window), 6);
    expect(a?.value).toBe(spike);
    expect(a?.ts).toBe(40);
    // one line an operator reads: what, how much (with its unit once), against what
    expect(a?.message).toMatch(/^all traffic at 5 MB\/s is \d+\.\d sigma above its mean baseline [\d.]+ [kM]?B\/s \(stdev [\d.]+ [kM]?B\/s, last 60 s\)$/);
  });

  it('raises after m anomalous seconds and resolves after n normal ones, once each', () => {
    const stage = zstage((c) => {
      c.zscore.raiseAfter = 2;
      c.zscore.resolveAfter = 4;
    });
    const xs = Array.from({ length: 60 }, (_, i) => (i >= 30 && i < 45 ? 4e6 : noisy(i)));
    const out = feed(stage, xs).filter((a) => a.note === 'Global_Traffic_Spike');
    expect(out.map((a) => [a.state, a.ts, a.since])).toEqual([
      ['raised', 31, 30],
      ['resolved', 48, 30],
    ]);
  });

  it('a long spike stays out of its baseline for its whole length; a shift lasting a window is learned', () => {
    const stage = zstage((c) => {
      c.zscore.resolveAfter = 1;
      c.zscore.suppress = 0;
    });
    const xs = Array.from({ length: 60 }, (_, i) => noisy(i));
    // 20 s at 4x (window 60): had it joined the baseline, the stdev would swallow it in seconds.
    for (let i = 60; i < 80; i++) xs.push(4e6);
    for (let i = 80; i < 90; i++) xs.push(noisy(i));
    const out = feed(stage, xs).filter((a) => a.note === 'Global_Traffic_Spike');
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 61],
      ['resolved', 80],
    ]);
    // A shift that lasts longer than the window becomes the new normal and the alert ends.
    const shift = feed(stage, Array.from({ length: 300 }, () => 4e6), 90).filter((a) => a.note === 'Global_Traffic_Spike');
    expect(shift.map((a) => a.state)).toEqual(['raised', 'resolved']);
    expect(shift[1]?.ts).toBeGreaterThan(90 + 60);
  });

  it('lets unconfirmed outliers join the baseline clipped (bursts widen it); a raised condition stays out', () => {
    const cfg = (c: DetectConfig): void => {
      c.zscore.raiseAfter = 3;
      c.zscore.window = 300;
      c.zscore.floor = { relative: 0.001, bytes: 1000, packets: 10 };
    };
    // Noise with a 2-second 3x burst every 25 s: never 3 anomalous seconds in a row, so
    // never raised; each burst second joins as a threshold-sized sample.
    const bursty = zstage(cfg);
    const xs = Array.from({ length: 300 }, (_, i) => (i % 25 < 2 && i > 30 ? 3e6 : noisy(i)));
    expect(raised(feed(bursty, xs))).toEqual([]);
    const clean = zstage(cfg);
    feed(clean, Array.from({ length: 300 }, (_, i) => noisy(i)));
    const a = raised(feed(bursty, [3e6, 3e6, 3e6], 300)).find((x) => x.note === 'Global_Traffic_Spike');
    const b = raised(feed(clean, [3e6, 3e6, 3e6], 300)).find((x) => x.note === 'Global_Traffic_Spike');
    // Oracle: the clean window's own stdev (plus the raise's first two seconds, clipped);
    // the bursty one must have grown well past it.
    const cleanSd = standardDeviation(Array.from({ length: 300 }, (_, i) => noisy(i)));
    expect(b?.baseline?.stdev ?? 0).toBeLessThan(1.2 * cleanSd);
    expect(a?.baseline?.stdev ?? 0).toBeGreaterThan(2 * cleanSd);
    expect(a?.baseline?.z ?? Infinity).toBeLessThan((b?.baseline?.z ?? 0) / 2);
  });

  it('floors a zero stdev: a flat baseline does not turn noise into infinity', () => {
    const stage = zstage((c) => {
      c.zscore.raiseAfter = 1;
      c.zscore.floor = { relative: 0.1, bytes: 1000, packets: 10 };
    });
    const flat = Array.from({ length: 30 }, () => 1e6);
    expect(feed(stage, flat, 0, () => 1000)).toEqual([]);
    // +40%: z = 0.4e6 / (0.1 * 1e6) = 4 < 5: quiet (and it joins the baseline).
    expect(feed(stage, [1.4e6], 30, () => 1000)).toEqual([]);
    const out = raised(feed(stage, [1.6e6], 31, () => 1000));
    expect(out.map((a) => a.note)).toEqual(['Global_Traffic_Spike']);
    const w = [...flat, 1.4e6];
    const sd = Math.max(standardDeviation(w), 0.1 * mean(w));
    expect(sd).toBeGreaterThan(standardDeviation(w));
    expect(out[0]?.baseline?.mean).toBeCloseTo(mean(w), 6);
    expect(out[0]?.baseline?.stdev).toBeCloseTo(sd, 6);
    expect(out[0]?.baseline?.z).toBeCloseTo((1.6e6 - mean(w)) / sd, 9);
    expect(Number.isFinite(out[0]?.baseline?.z)).toBe(true);
  });

  it('the robust (median/MAD) baseline sees a level shift that occasional bursts hide from mean/stdev', () => {
    const history = Array.from({ length: 100 }, (_, i) => (i % 20 === 0 ? 2e7 : noisy(i)));
    const shift = [3e6, 3e6, 3e6];
    const run = (method: 'mean' | 'median'): Alert[] => {
      const stage = zstage((c) => {
        c.zscore.window = 100;
        c.zscore.warmup = 100;
        c.zscore.method = method;
      });
      feed(stage, history);
      return raised(feed(stage, shift, 100)).filter((a) => a.note === 'Global_Traffic_Spike');
    };
    // Oracle: with mean/stdev the shift scores far below 5.
    expect((3e6 - mean(history)) / standardDeviation(history)).toBeLessThan(1);
    expect(run('mean')).toEqual([]);
    const m = run('median');
    expect(m).toHaveLength(1);
    expect(m[0]?.message).toMatch(/median baseline/);
  });

  it('alerts drops only when direction is both', () => {
    const xs = Array.from({ length: 40 }, (_, i) => noisy(i));
    const up = zstage((c) => (c.zscore.raiseAfter = 1));
    feed(up, xs);
    expect(feed(up, [1e5], 40)).toEqual([]);
    const both = zstage((c) => {
      c.zscore.raiseAfter = 1;
      c.zscore.direction = 'both';
    });
    feed(both, xs);
    expect(raised(feed(both, [1e5], 40)).map((a) => a.note)).toContain('Global_Traffic_Drop');
  });

  it('keeps a baseline per host (packets/s by default, or bytes/s) and bounds the series held', () => {
    const run = (metric: 'packets' | 'bytes'): DetectStage => {
      const stage = createDetectStage(
        onlyDetector((c) => {
          c.zscore.enabled = true;
          c.zscore.global = false;
          c.zscore.window = 60;
          c.zscore.warmup = 20;
          c.zscore.raiseAfter = 1;
          c.zscore.hosts = { enabled: true, max: 3, metric, floor: { relative: 0.5, bytes: 2000, packets: 5 }, normalize: false, cusum: { enabled: true, k: 2, h: 15, clip: 4 } };
        }),
      );
      const out: Alert[] = [];
      for (let t = 0; t < 40; t++) {
        // 10.0.0.1: ~100 packets/s of ~1000 bytes; at 36 the same packets grow tenfold.
        // 10.0.0.2: 10 packets/s; at 35 it sends 40 packets/s of the same size.
        const hs = [host('10.0.0.1', [100 + (t % 5), noisy(t) / 10]), host('10.0.0.2', [10, 1000])];
        if (t === 35) hs[1] = host('10.0.0.2', [40, 4000]);
        if (t === 36) hs[0] = host('10.0.0.1', [100, 1e6]);
        out.push(...stage.observe(second(t, { hosts: hs })));
      }
      expect(raised(out).map((a) => [a.note, a.host, a.ts])).toEqual(
        metric === 'packets' ? [['Host_Packets_Spike', '10.0.0.2', 35]] : [['Host_Bytes_Spike', '10.0.0.1', 36]],
      );
      expect(raised(out)[0]?.message).toMatch(metric === 'packets' ? /^10\.0\.0\.2 at 40 packets\/s is / : /^10\.0\.0\.1 at 1 MB\/s is /);
      return stage;
    };
    run('bytes');
    const stage = run('packets');
    // Three more hosts, one free slot: the series still learning (seen within warm-up, 20 s)
    // keep theirs; two newcomers are not tracked (counted). Memory stays bounded.
    const three = [host('10.0.0.3', [1, 1]), host('10.0.0.4', [1, 1]), host('10.0.0.5', [1, 1])];
    stage.observe(second(40, { hosts: three }));
    expect(stage.stats().zscoreSeries).toBe(3);
    expect(stage.stats().zscoreEvicted).toBe(0);
    expect(stage.stats().untracked.zscore).toBe(2);
    // Once 10.0.0.1 and .2 have been idle longer than the warm-up, newcomers take their slots.
    stage.observe(second(61, { hosts: three }));
    expect(stage.stats().zscoreSeries).toBe(3);
    expect(stage.stats().zscoreEvicted).toBe(2);
  });

  it('a capture gap is not each host going silent: hosts back after it at their usual rate raise nothing', () => {
    const stage = hostsOnly(60, 20, 'packets', { relative: 0.5, bytes: 2000, packets: 3 });
    const out: Alert[] = [];
    const at = (t: number): void => void out.push(...stage.observe(second(t, { hosts: [host('10.0.0.1', [10 + (t % 3), 1000]), host('10.0.0.2', [20 - (t % 2), 2000])] })));
    for (let t = 0; t < 60; t++) at(t);
    out.push(...stage.gap({ from: 60, to: 659 })); // ten minutes without a packet
    for (let t = 660; t < 680; t++) at(t);
    // before: each host's window was refilled with zeros for the gap, and 10 packets/s read as 10+ sigma
    expect(raised(out)).toEqual([]);
    // a real silence of one host (the other goes on) is still seen: its window has zeros
    const s2: Alert[] = [];
    for (let t = 680; t < 700; t++) s2.push(...stage.observe(second(t, { hosts: [host('10.0.0.2', [20 - (t % 2), 2000])] })));
    for (let t = 700; t < 760; t++) s2.push(...stage.observe(second(t, { hosts: [host('10.0.0.2', [20 - (t % 2), 2000])] })));
    s2.push(...stage.observe(second(760, { hosts: [host('10.0.0.1', [60, 6000]), host('10.0.0.2', [20, 2000])] })));
    expect(raised(s2).map((a) => [a.note, a.host])).toEqual([['Host_Packets_Spike', '10.0.0.1']]);
  });

  it('without a hosts view, hosts missing from the summary list count as idle (quiet here either way)', () => {
    const mk = (complete: boolean) => {
      const stage = hostsOnly(30, 10, 'bytes', { relative: 0.1, bytes: 1000, packets: 10 });
      const out: Alert[] = [];
      for (let t = 0; t < 30; t++) {
        // 10.0.0.1 talks every other second; the seconds it is not listed count as zeros.
        const hs = t % 2 === 0 ? [host('10.0.0.1', [10, 1e6])] : [];
        out.push(...stage.observe(second(t, { hosts: hs, activeHosts: complete ? hs.length : 50 })));
      }
      return out;
    };
    // Complete lists: the baseline alternates 0 and 1e6 (stdev 5e5): 1e6 is 1 sigma, quiet.
    expect(mk(true)).toEqual([]);
    // A list cut to the top hosts (activeHosts 50) is read the same way: still quiet.
    expect(mk(false)).toEqual([]);
  });
});
