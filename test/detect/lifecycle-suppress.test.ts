// Suppression intervals against conditions that outlast them (found by a bug hunt). The
// README: "Per detector, `suppress` seconds after a resolve the same condition is tracked
// but not raised again (flapping)". After those seconds a condition still going on is a
// condition like any other: it is raised (once), not kept silent until it ends.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { CidrSet } from '../../src/detect/addr.js';
import type { LifecycleConfig } from '../../src/detect/config.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';

function cfg(o: Partial<LifecycleConfig> = {}): LifecycleConfig {
  return { enabled: true, raiseAfter: 1, resolveAfter: 5, suppress: 60, severity: 'warning', ...o };
}

const A = '10.0.0.1';

/** anomalous(t) says whether A is anomalous in second 1000 + t. */
function run(t: Tracker, seconds: number, anomalous: (s: number) => boolean): Alert[] {
  const out: Alert[] = [];
  for (let s = 0; s < seconds; s++) {
    if (anomalous(s)) t.anomalous(1000 + s, 'Test_Note', A, 'bytes/s', { value: 100 + s, threshold: 5, baseline: null, message: `m ${s}` });
    t.step(1000 + s, out);
  }
  t.finish(1000 + seconds - 1, out);
  return out;
}

describe('suppression interval', () => {
  it('raises a condition that began within the interval once the interval is over, if it still lasts', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg(), gate, 100);
    // over the limit 0..4 (raised 1000, resolved 1009), again from 20 to 299 without a break
    const out = run(t, 400, (s) => s < 5 || (s >= 20 && s < 300));
    expect(out.map((a) => [a.state, a.ts, a.since])).toEqual([
      ['raised', 1000, 1000],
      ['resolved', 1009, 1000],
      // the interval (60 s from the resolve at 1009) ends at 1069: raised then, since 1020
      ['raised', 1069, 1020],
      ['resolved', 1304, 1020],
    ]);
    expect(gate.counts.suppressed).toBe(1);
  });

  it('still keeps a flapping condition to one raise per interval', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 1 }), gate, 100);
    // anomalous every other second for 200 s: raise, resolve, then at most one raise per 60 s
    const out = run(t, 200, (s) => s % 2 === 0);
    const raises = out.filter((a) => a.state === 'raised').map((a) => a.ts);
    expect(raises).toEqual([1000, 1062, 1124, 1186]);
    expect(out.filter((a) => a.state === 'resolved').length).toBe(4);
  });
});
