// The alert lifecycle, scripted second by second: raise once, resolve once, raiseAfter /
// resolveAfter, suppression, allow-list, the global rate limit and its roll-up alert.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { CidrSet } from '../../src/detect/addr.js';
import type { LifecycleConfig } from '../../src/detect/config.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';

function cfg(o: Partial<LifecycleConfig> = {}): LifecycleConfig {
  return { enabled: true, raiseAfter: 1, resolveAfter: 3, suppress: 0, severity: 'warning', ...o };
}

/** Drive one tracker with a script: for each second, the hosts that are anomalous. */
function run(t: Tracker, script: readonly (readonly string[])[], start = 1000): Alert[] {
  const out: Alert[] = [];
  script.forEach((hosts, i) => {
    for (const h of hosts) t.anomalous(start + i, 'Test_Note', h, 'bytes/s', { value: 10 + i, threshold: 5, baseline: null, message: `m ${h}` });
    t.step(start + i, out);
  });
  return out;
}

const A = '10.0.0.1';
const B = '10.0.0.2';

describe('lifecycle', () => {
  it('raises once and resolves once for a condition lasting many seconds', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg(), gate, 100);
    const out = run(t, [[A], [A], [A], [A], [A], [], [], [], [], []]);
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 1000],
      ['resolved', 1007],
    ]);
    const [r, s] = out;
    expect(r?.key).toBe(`test/Test_Note/${A}`);
    expect(s?.key).toBe(r?.key);
    expect(s?.id).not.toBe(r?.id);
    expect(s?.since).toBe(1000);
    expect(r?.value).toBe(10);
    expect(s?.message).toMatch(/resolved after 7 s/);
  });

  it('needs raiseAfter consecutive anomalous seconds; a blip does not raise', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ raiseAfter: 3 }), gate, 100);
    const out = run(t, [[A], [A], [], [A], [A], [A], [A]]);
    expect(out.map((a) => [a.state, a.ts, a.since])).toEqual([['raised', 1005, 1003]]);
  });

  it('stays raised across a short normal gap (resolveAfter) and does not re-raise', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 3 }), gate, 100);
    const out = run(t, [[A], [], [], [A], [], [], []]);
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 1000],
      ['resolved', 1006],
    ]);
  });

  it('keeps hosts apart: each has its own key', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 1 }), gate, 100);
    const out = run(t, [[A, B], [A], []]);
    expect(out.map((a) => [a.state, a.host, a.ts])).toEqual([
      ['raised', A, 1000],
      ['raised', B, 1000],
      ['resolved', B, 1001],
      ['resolved', A, 1002],
    ]);
  });

  it('suppresses a re-raise of the same condition within the suppression interval, and its resolve', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 1, suppress: 10 }), gate, 100);
    // raise 1000, resolve 1001, recur 1003 (within 10 s of 1001): muted; recur 1020: alerted.
    const script: string[][] = [[A], [], [], [A], [A], []];
    for (let i = 0; i < 14; i++) script.push([]);
    script.push([A], []);
    const out = run(t, script);
    expect(out.map((a) => [a.state, a.ts])).toEqual([
      ['raised', 1000],
      ['resolved', 1001],
      ['raised', 1020],
      ['resolved', 1021],
    ]);
    expect(gate.counts.suppressed).toBe(1);
  });

  it('never alerts about allow-listed hosts or networks', () => {
    const gate = new AlertGate(new CidrSet(['10.0.0.0/31'], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 1 }), gate, 100);
    const out = run(t, [[A, B, '10.0.0.0', '10.0.0.3'], []]);
    expect(out.filter((a) => a.state === 'raised').map((a) => a.host)).toEqual([B, '10.0.0.3']);
  });

  it('a condition muted by the rate limit does not start a suppression interval when it ends', () => {
    // suppress 60 s; the limit lets one alert through per 5 s
    const gate = new AlertGate(new CidrSet([], 't'), { max: 1, per: 5 });
    const t = new Tracker('test', cfg({ suppress: 60 }), gate, 100);
    const out: Alert[] = [];
    const mark = (s: number, h: string): void => t.anomalous(s, 'Test_Note', h, 'x', { value: 1, threshold: 0, baseline: null, message: h });
    for (let s = 0; s < 30; s++) {
      // A and B both at 0..4 (only A fits the limit), and again at 20..24 (room again)
      if (s < 5 || (s >= 20 && s < 25)) {
        mark(s, A);
        mark(s, B);
      }
      t.step(s, out);
      gate.step(s, out);
    }
    const raises = out.filter((a) => a.detector === 'test' && a.state === 'raised').map((a) => [a.host, a.ts]);
    // A: raised at 0, resolved at 7, suppressed at 20 (within 60 s of its resolve);
    // B: muted at 0 (rate limit), so at 20 it is raised: it was never reported
    expect(raises).toEqual([
      [A, 0],
      [B, 20],
    ]);
  });

  it('rolls the excess over the rate limit into one Alerts_Suppressed raise and resolve', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 3, per: 10 });
    const t = new Tracker('test', cfg({ resolveAfter: 100 }), gate, 1000);
    const hosts = Array.from({ length: 8 }, (_, i) => `10.1.0.${i}`);
    const out: Alert[] = [];
    // Second 0: 8 conditions at once; only 3 fit.
    for (const h of hosts) t.anomalous(0, 'Test_Note', h, 'x', { value: 1, threshold: 0, baseline: null, message: h });
    t.step(0, out);
    gate.step(0, out);
    const first = out.filter((a) => a.detector === 'test');
    expect(first).toHaveLength(3);
    const roll = out.filter((a) => a.detector === 'rate-limit');
    expect(roll.map((a) => [a.state, a.note])).toEqual([['raised', 'Alerts_Suppressed']]);
    // Seconds 1..10: the limit window passes; a new condition at 10 fits again.
    for (let s = 1; s <= 10; s++) {
      for (const h of hosts) t.anomalous(s, 'Test_Note', h, 'x', { value: 1, threshold: 0, baseline: null, message: h });
      if (s === 10) t.anomalous(s, 'Test_Note', '10.2.0.1', 'x', { value: 1, threshold: 0, baseline: null, message: 'late' });
      t.step(s, out);
      gate.step(s, out);
    }
    const raisedHosts = out.filter((a) => a.detector === 'test' && a.state === 'raised').map((a) => a.host);
    expect(raisedHosts).toEqual([...hosts.slice(0, 3), '10.2.0.1']);
    const rollups = out.filter((a) => a.detector === 'rate-limit');
    expect(rollups.map((a) => [a.state, a.value, a.ts])).toEqual([
      ['raised', 1, 0],
      ['resolved', 5, 10],
    ]);
    expect(rollups[1]?.message).toMatch(/^5 alerts suppressed by the rate limit \(3 per 10 s\)/);
    expect(gate.counts.rateLimited).toBe(5);
    // The muted conditions end silently: resolves only for what was raised.
    const end: Alert[] = [];
    t.finish(11, end);
    expect(end.map((a) => a.host).sort()).toEqual([...hosts.slice(0, 3), '10.2.0.1'].sort());
    expect(end.every((a) => a.state === 'resolved' && a.message.includes('end of input'))).toBe(true);
  });

  it('says "(end of input)" when the end of input cuts a held-back period short, as conditions do', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 1, per: 3600 });
    const t = new Tracker('test', cfg(), gate, 1000);
    const out: Alert[] = [];
    for (const h of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) t.anomalous(0, 'Test_Note', h, 'x', { value: 1, threshold: 0, baseline: null, message: h });
    t.step(0, out);
    gate.step(0, out);
    t.finish(5, out);
    gate.step(5, out, true);
    const rollups = out.filter((a) => a.detector === 'rate-limit');
    expect(rollups.map((a) => [a.state, a.value, a.ts])).toEqual([
      ['raised', 1, 0],
      ['resolved', 2, 5],
    ]);
    expect(rollups[1]?.message).toBe('2 alerts suppressed by the rate limit (1 per 3600 s) (end of input)');
  });

  it('bounds the conditions it tracks and counts the rest', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 1000, per: 60 });
    const t = new Tracker('test', cfg(), gate, 5);
    const out = run(t, [Array.from({ length: 9 }, (_, i) => `10.3.0.${i}`)]);
    expect(out).toHaveLength(5);
    expect(gate.counts.dropped).toBe(4);
    expect(t.size).toBe(5);
  });

  it('reports the value at resolve time when the detector gives it', () => {
    const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
    const t = new Tracker('test', cfg({ resolveAfter: 1 }), gate, 100);
    const out: Alert[] = [];
    t.anomalous(0, 'N', A, 'bytes/s', { value: 5e6, threshold: 1e6, baseline: null, message: 'x' });
    t.step(0, out);
    t.normal('N', A, 2e5);
    t.step(1, out);
    expect(out[1]?.value).toBe(2e5);
    expect(out[1]?.message).toMatch(/peak 5 MB\/s, now 200 kB\/s/);
  });
});
