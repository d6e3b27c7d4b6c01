// silence raised inside a `gap` (one line for a long run of empty seconds): the raise at
// second t must say the silence so far, t - first empty second + 1 (README lifecycle: a gap's
// conditions "are raised and resolved inside it as over zero rows"), not the gap's whole
// length, which is not known at t (a 1,274 s gap raised at its 10th second said "no packets
// for 1274 s"; found by predicting silence from tshark's per-second counts on the corpus:
// zeek-mpls-in-vlan.pcap, zeek-radiotap.pcap and three more). The resolve's peak is the
// whole silence, as with zero rows.
import { describe, expect, it } from 'vitest';
import { createDetectStage } from '../../src/detect/stage.js';
import { onlyDetector, second } from './helpers.js';

function stage(raiseAfter: number, seconds: number | 'auto') {
  return createDetectStage(
    onlyDetector((c) => {
      c.silence.enabled = true;
      c.silence.raiseAfter = raiseAfter;
      c.silence.seconds = seconds;
    }),
  );
}

describe('silence raised inside a gap', () => {
  for (const [raiseAfter, seconds, limit] of [
    [1, 'auto', 2],
    [3, 'auto', 2],
    [1, 7, 7],
    [4, 7, 7],
  ] as const) {
    it(`raiseAfter ${raiseAfter}, seconds ${seconds}: value and message are the silence so far`, () => {
      const s = stage(raiseAfter, seconds);
      // 60 busy seconds (no quiet run: the automatic limit is 2 x 0 + 1, at least 2)
      for (let t = 0; t < 60; t++) s.observe(second(t, { packets: 50, bytes: 5000 }));
      const out = [...s.gap({ from: 60, to: 999 }), ...s.observe(second(1000, { packets: 5, bytes: 500 }))];
      // anomalous from second 60 + limit - 1 (the limit-th empty second); raised raiseAfter - 1 later
      const at = 60 + limit - 1 + raiseAfter - 1;
      const quiet = at - 60 + 1;
      expect(out.map((a) => [a.state, a.ts, a.value, a.since])).toEqual([
        ['raised', at, quiet, 60],
        ['resolved', 1000, 0, 60],
      ]);
      expect(out[0]?.message).toBe(`no packets for ${quiet} s (limit ${limit} s): the capture may have stopped`);
      expect(out[1]?.message).toContain('peak 940 seconds');
    });
  }
});
