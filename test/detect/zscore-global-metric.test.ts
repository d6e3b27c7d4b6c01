// zscore, all traffic: bytes/s and packets/s are one condition (README: "all traffic
// (bytes/s and packets/s, one condition)"). Every alert must be consistent with itself:
// its `value` is in its `metric`, the message's first figure is that value, and a
// resolve's "now" is the current value of the same series.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { onlyDetector, second } from './helpers.js';

function run(script: [number, number][]): Alert[] {
  const stage = createDetectStage(
    onlyDetector((c) => {
      c.zscore.enabled = true;
      c.zscore.hosts.enabled = false;
      c.zscore.warmup = 20;
    }),
  );
  const out: Alert[] = [];
  // 30 s of about 100 kB/s in about 100 packets/s
  for (let t = 0; t < 30; t++) out.push(...stage.observe(second(t, { bytes: 100_000 + (t % 3) * 1000, packets: 100 + (t % 3) })));
  script.forEach(([bytes, packets], i) => out.push(...stage.observe(second(30 + i, { bytes, packets }))));
  return out;
}

const seriesOf = (metric: string, bytes: number, packets: number): number => (metric === 'bytes/s' ? bytes : packets);

describe('zscore global condition: value, metric and message agree', () => {
  it('a spike first seen in bytes/s, then larger in packets/s: raise and resolve stay in one series', () => {
    // 30: 10 MB/s at the usual packet rate; 31-32: 5000 packets/s (and 200 kB/s); then normal.
    const script: [number, number][] = [[10e6, 100], [200_000, 5000], [200_000, 5000], ...Array<[number, number]>(7).fill([100_000, 100])];
    const out = run(script);
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 32],
      ['resolved', 37],
    ]);
    const [up, down] = out as [Alert, Alert];
    // The raise second (32) in the alert's own metric.
    expect(up.value).toBe(seriesOf(up.metric, 200_000, 5000));
    const unit = up.metric === 'bytes/s' ? /^all traffic at 200 kB\/s is / : /^all traffic at 5000 packets\/s is /;
    expect(up.message).toMatch(unit);
    expect(down.metric).toBe(up.metric);
    expect(down.value).toBe(seriesOf(down.metric, 100_000, 100));
  });

  it('a bytes-only spike resolves with the bytes/s value', () => {
    const script: [number, number][] = [[10e6, 100], [10e6, 100], [10e6, 100], ...Array<[number, number]>(6).fill([100_000, 100])];
    const out = run(script);
    expect(out.map((a) => [a.state, a.ts, a.metric, a.value])).toEqual([
      ['raised', 32, 'bytes/s', 10e6],
      ['resolved', 37, 'bytes/s', 100_000],
    ]);
    expect(out[1]?.message).toBe('Global_Traffic_Spike resolved after 5 s: peak 10 MB/s, now 100 kB/s');
  });
});
