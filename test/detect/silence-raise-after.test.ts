// silence with raiseAfter > 1: a silence that arrives as one `gap` (no summaries for its
// seconds) must be raised exactly as the same silence given as zero rows would be
// (README lifecycle: raised after `raiseAfter` consecutive anomalous seconds).
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { onlyDetector, second } from './helpers.js';

function sstage(raiseAfter: number, seconds: number | 'auto' = 'auto'): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.silence.enabled = true;
      c.silence.raiseAfter = raiseAfter;
      c.silence.seconds = seconds;
    }),
  );
}

function busy(stage: DetectStage, from: number, to: number): Alert[] {
  const out: Alert[] = [];
  for (let t = from; t < to; t++) out.push(...stage.observe(second(t, { packets: 50, bytes: 5000 })));
  return out;
}

describe('silence raiseAfter across a gap', () => {
  for (const raiseAfter of [1, 2, 3, 5]) {
    it(`raiseAfter ${raiseAfter}: a gap raises at the same second as zero rows`, () => {
      // Oracle: the same 40 s silence as zero rows (one summary per second).
      const rows = sstage(raiseAfter);
      busy(rows, 0, 60);
      const rowAlerts: Alert[] = [];
      for (let t = 60; t < 100; t++) rowAlerts.push(...rows.observe(second(t)));
      rowAlerts.push(...busy(rows, 100, 101));

      const gapped = sstage(raiseAfter);
      busy(gapped, 0, 60);
      const gapAlerts = [...gapped.gap({ from: 60, to: 99 }), ...busy(gapped, 100, 101)];

      // busy link: limit 2 s, so the silence is anomalous from second 61 on
      const expected = [
        ['raised', 61 + raiseAfter - 1, 60],
        ['resolved', 100, 60],
      ];
      expect(rowAlerts.map((a) => [a.state, a.ts, a.since])).toEqual(expected);
      expect(gapAlerts.map((a) => [a.state, a.ts, a.since])).toEqual(expected);
    });
  }

  it('a gap too short for raiseAfter raises nothing (as zero rows would not)', () => {
    const s = sstage(5, 10);
    busy(s, 0, 60);
    // limit 10: anomalous from second 69; the gap 60..72 holds 4 anomalous seconds, 5 needed
    expect([...s.gap({ from: 60, to: 72 }), ...busy(s, 73, 74)]).toEqual([]);
  });
});
