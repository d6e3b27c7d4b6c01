// silence: the automatic limit from the quiet runs seen, a fixed limit, gaps, and
// never alerting a source that never had traffic.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { onlyDetector, second } from './helpers.js';

function sstage(edit: (c: DetectConfig) => void = () => undefined): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.silence.enabled = true;
      edit(c);
    }),
  );
}

function run(stage: DetectStage, packets: readonly number[], t0 = 0): Alert[] {
  return packets.flatMap((n, i) => [...stage.observe(second(t0 + i, { packets: n, bytes: n * 100 }))]);
}

describe('silence', () => {
  it('on a busy source, raises after 2 silent seconds and resolves when packets return', () => {
    const stage = sstage();
    const script = [...Array<number>(60).fill(100), 0, 0, 0, 0, 0, 100, 100];
    const out = run(stage, script, 1000);
    expect(out.map((a) => [a.state, a.ts, a.since, a.value])).toEqual([
      ['raised', 1061, 1060, 2],
      ['resolved', 1065, 1060, 0],
    ]);
    expect(out[0]).toMatchObject({ detector: 'silence', note: 'Capture_Silence', host: null, severity: 'critical', threshold: 2 });
  });

  it('learns the normal pauses of a sparse source: 4 s pauses are normal, 12 s are not', () => {
    const stage = sstage();
    const script: number[] = [];
    for (let i = 0; i < 20; i++) script.push(3, 0, 0, 0, 0); // a pause of 4 s every 5 s
    const quiet = run(stage, script);
    expect(quiet).toEqual([]);
    // Limit: 2 * 4 + 1 = 9 s. The script ended in a pause (96..99) that now goes on.
    const out = run(stage, [...Array<number>(12).fill(0), 3], 100);
    expect(out.map((a) => [a.state, a.ts, a.since, a.threshold])).toEqual([
      ['raised', 104, 96, 9],
      ['resolved', 112, 96, 9],
    ]);
  });

  it('uses a fixed limit when configured, and is cautious in the first 30 s', () => {
    const fixed = sstage((c) => (c.silence.seconds = 5));
    const out = run(fixed, [1, 0, 0, 0, 0, 0, 1]);
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 5],
      ['resolved', 6],
    ]);
    const early = sstage();
    expect(run(early, [100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 100])).toEqual([]);
  });

  it('counts a gap as silence: raised at the second the limit was reached, resolved by the next traffic', () => {
    const stage = sstage();
    run(stage, Array<number>(60).fill(50), 0);
    const g = stage.gap({ from: 60, to: 999 });
    expect(g.map((a) => [a.state, a.ts, a.since])).toEqual([['raised', 61, 60]]);
    const back = stage.observe(second(1000, { packets: 5 }));
    expect(back.map((a) => [a.state, a.ts, a.value])).toEqual([['resolved', 1000, 0]]);
  });

  it('never alerts a source that never had traffic', () => {
    const stage = sstage();
    expect(run(stage, Array<number>(100).fill(0))).toEqual([]);
    expect(stage.gap({ from: 100, to: 500 })).toEqual([]);
  });
});
