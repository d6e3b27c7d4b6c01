// Alerts for sink tests, built by the real lifecycle so they have every contract field.
import type { Alert } from '../../src/detect/alert.js';
import { CidrSet } from '../../src/detect/addr.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';
import { alertMessage, serialize, type AlertMessage } from '../../src/schema.js';

/** A raise at ts and its resolve at ts + 3, for `host`. */
export function raiseAndResolve(host: string | null, ts = 1_700_000_000, note = 'Host_Bytes_Spike'): [AlertMessage, AlertMessage] {
  const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
  const t = new Tracker('zscore', { enabled: true, raiseAfter: 1, resolveAfter: 3, suppress: 0, severity: 'critical' }, gate, 10);
  const out: Alert[] = [];
  t.anomalous(ts, note, host, 'bytes/s', { value: 5e6, threshold: null, baseline: { mean: 1e6, stdev: 1e5, z: 40 }, message: 'spike' });
  t.step(ts, out);
  for (let i = 1; i <= 3; i++) t.step(ts + i, out);
  const [r, s] = out;
  if (r === undefined || s === undefined) throw new Error('expected a raise and a resolve');
  return [alertMessage(r), alertMessage(s)];
}

export function json(m: AlertMessage): string {
  return serialize(m);
}
