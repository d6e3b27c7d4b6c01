// The Alertmanager sink against a real Alertmanager (Debian's prometheus-alertmanager),
// started here on loopback: a raised alert is listed by its API as active with our
// labels; once resolved it is no longer active.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerSink, alertsEndpoint, toPostable } from '../../src/sinks/alertmanager.js';
import { alertmanagerWanted, json, raiseAndResolve, startAlertmanager, type RunningAlertmanager } from './helpers.js';

const amWanted = alertmanagerWanted('the Alertmanager tests');

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

let am: RunningAlertmanager;

async function activeAlerts(): Promise<GettableAlert[]> {
  const res = await fetch(`${am.base}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
  return (await res.json()) as GettableAlert[];
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`Alertmanager did not reach the expected state in time; its log:\n${am.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(amWanted)('alertmanager (real, on loopback)', () => {
  beforeAll(async () => {
    am = await startAlertmanager();
  }, 30_000);

  afterAll(() => am?.stop());

  it('lists a raised alert as active with labels from the identifier, sensor and host; a resolve ends it', async () => {
    const [r, s] = raiseAndResolve('10.0.0.5', Math.floor(Date.now() / 1000) - 60);
    const sink = new AlertmanagerSink({ url: am.base, timeoutMs: 2000, retries: 2, queue: 100, resendSeconds: 60 }, 'edge-1');
    sink.publish(r, json(r));
    const listed = await until(activeAlerts, (a) => a.some((x) => x.labels.alertname === 'Host_Bytes_Spike'));
    const a = listed.find((x) => x.labels.alertname === 'Host_Bytes_Spike');
    expect(a?.labels).toEqual({ alertname: 'Host_Bytes_Spike', detector: 'zscore', severity: 'critical', sensor: 'edge-1', host: '10.0.0.5' });
    expect(a?.annotations).toMatchObject({ summary: 'spike', key: 'zscore/Host_Bytes_Spike/10.0.0.5', value: '5000000' });
    expect(a?.status.state).toBe('active');
    expect(Date.parse(a?.startsAt ?? '')).toBe(r.since * 1000);

    sink.publish(s, json(s));
    await until(activeAlerts, (list) => !list.some((x) => x.labels.alertname === 'Host_Bytes_Spike'));
    await sink.close();
    expect(sink.stats).toMatchObject({ failed: 0, dropped: 0 });
    expect(sink.stats.delivered).toBeGreaterThanOrEqual(2);
  });

  it('keeps alerts from different hosts and sensors apart (labels are the identity)', async () => {
    const now = Math.floor(Date.now() / 1000) - 30;
    const [r1] = raiseAndResolve('10.0.0.6', now, 'SYN_Flood');
    const [r2] = raiseAndResolve('10.0.0.7', now, 'SYN_Flood');
    const one = new AlertmanagerSink({ url: am.base, timeoutMs: 2000, retries: 2, queue: 100, resendSeconds: 60 }, 'sensor-a');
    const two = new AlertmanagerSink({ url: `${am.base}/api/v2/alerts`, timeoutMs: 2000, retries: 2, queue: 100, resendSeconds: 60 }, 'sensor-b');
    one.publish(r1, json(r1));
    one.publish(r2, json(r2));
    two.publish(r1, json(r1));
    const list = await until(activeAlerts, (a) => a.filter((x) => x.labels.alertname === 'SYN_Flood').length === 3);
    const keys = list
      .filter((x) => x.labels.alertname === 'SYN_Flood')
      .map((x) => `${x.labels.sensor}/${x.labels.host}`)
      .sort();
    expect(keys).toEqual(['sensor-a/10.0.0.6', 'sensor-a/10.0.0.7', 'sensor-b/10.0.0.6']);
    await one.close();
    await two.close();
  });
});

describe('alertmanager payload', () => {
  it('maps raise and resolve to startsAt and endsAt, global alerts without a host label', () => {
    const [r, s] = raiseAndResolve(null, 1_700_000_000, 'Global_Bytes_Spike');
    expect(toPostable(r, 'x')).toMatchObject({ startsAt: '2023-11-14T22:13:20.000Z', labels: { alertname: 'Global_Bytes_Spike', sensor: 'x' } });
    expect(toPostable(r, 'x').endsAt).toBeUndefined();
    expect(toPostable(r, 'x').labels.host).toBeUndefined();
    expect(toPostable(s, 'x')).toMatchObject({ startsAt: '2023-11-14T22:13:20.000Z', endsAt: '2023-11-14T22:13:23.000Z' });
    expect(alertsEndpoint('http://am:9093/')).toBe('http://am:9093/api/v2/alerts');
    expect(alertsEndpoint('http://am:9093/api/v2/alerts')).toBe('http://am:9093/api/v2/alerts');
  });
});
