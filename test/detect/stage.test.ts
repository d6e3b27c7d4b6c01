// The stage as the pipeline sees it: hook composition, the alert message contract,
// the report section, and every detector on at once over ordinary traffic.
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/aggregate/summary.js';
import { defaultDetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { alertMessage, serialize } from '../../src/schema.js';
import { F, host, onlyDetector, second, tcp } from './helpers.js';

describe('detect stage', () => {
  it('has no packet hook when no enabled detector needs packets', () => {
    expect(createDetectStage(onlyDetector((c) => (c.zscore.enabled = true))).packetHook).toBeNull();
    expect(createDetectStage(onlyDetector((c) => (c.synFlood.enabled = true))).packetHook).toBeTypeOf('function');
    expect(createDetectStage(defaultDetectConfig()).detectors).toEqual([
      'silence',
      'threshold',
      'zscore',
      'syn-flood',
      'port-scan',
      'new-host',
      'risky-services',
    ]);
  });

  it('emits alerts whose JSON carries every contract field', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.global.packets = 10;
      }),
    );
    const [a] = stage.observe(second(1_700_000_000, { packets: 20 }));
    if (a === undefined) throw new Error('expected an alert');
    const json = JSON.parse(serialize(alertMessage(a))) as Record<string, unknown>;
    expect(json).toEqual({
      type: 'alert',
      v: 1,
      id: expect.any(String) as string,
      ts: 1_700_000_000,
      state: 'raised',
      detector: 'threshold',
      note: 'Global_Packets_Threshold',
      severity: 'warning',
      key: 'threshold/Global_Packets_Threshold',
      host: null,
      metric: 'packets/s',
      value: 20,
      threshold: 10,
      baseline: null,
      message: 'all traffic: 20 packets/s over the limit of 10 packets/s',
      since: 1_700_000_000,
    });
  });

  it('adds the alert section to the report, resolving what is open at the end', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.global.packets = 10;
      }),
    );
    stage.observe(second(5, { packets: 20 }));
    stage.observe(second(6, { packets: 20 }));
    const end = stage.finish(6.5);
    expect(end.map((a) => [a.state, a.ts])).toEqual([['resolved', 6]]);
    const r = { hosts: [] } as unknown as Report;
    stage.decorateReport(r);
    expect(r.alerts).toMatchObject({ raised: 1, resolved: 1, byDetector: { threshold: 1 }, bySeverity: { warning: 1 }, openAtEnd: 0 });
    expect(r.alerts?.list).toEqual([
      {
        ts: 5,
        detector: 'threshold',
        note: 'Global_Packets_Threshold',
        severity: 'warning',
        host: null,
        message: expect.stringContaining('20 packets/s') as string,
        resolvedTs: 6,
      },
    ]);
  });

  it('with every detector on, ordinary steady traffic raises nothing', () => {
    const c = defaultDetectConfig();
    const stage = createDetectStage(c);
    const hook = stage.packetHook;
    if (hook === null) throw new Error('expected a hook');
    const alerts = [];
    for (let t = 0; t < 400; t++) {
      for (let i = 0; i < 20; i++) {
        const client = `192.168.0.${10 + (i % 5)}`;
        const port = 40000 + ((t * 20 + i) % 20000);
        hook(tcp(client, port, '93.184.216.34', 443, F.SYN), t * 1e6 + i * 1000, 74);
        hook(tcp('93.184.216.34', 443, client, port, F.SYN | F.ACK), t * 1e6 + i * 1000 + 10, 74);
        hook(tcp(client, port, '93.184.216.34', 443, F.ACK), t * 1e6 + i * 1000 + 20, 66);
      }
      const hs = [host('192.168.0.10', [12, 1000 + (t % 7) * 10], [12, 5e4]), host('93.184.216.34', [60, 3e5], [60, 5000])];
      alerts.push(...stage.observe(second(t, { packets: 120 + (t % 5), bytes: 3.1e5 + (t % 11) * 1000, hosts: hs, activeHosts: 7 })));
    }
    alerts.push(...stage.finish(400));
    expect(alerts).toEqual([]);
  });
});

describe('report.alerts.openAtEnd', () => {
  it('counts every raise not yet resolved, past the 1000 alerts the list holds', async () => {
    const { AlertBook } = await import('../../src/detect/stage.js');
    const book = new AlertBook();
    const raised = Array.from({ length: 1500 }, (_, i) => ({ state: 'raised', key: `k${i}`, ts: 1, detector: 'new-host', note: 'New_Host', severity: 'info', host: `10.0.${i >> 8}.${i & 255}`, message: 'm' }));
    book.note(raised as never);
    // resolve 300 of the listed ones and 200 of those past the list
    const resolved = [...raised.slice(0, 300), ...raised.slice(1200, 1400)].map((a) => ({ ...a, state: 'resolved', ts: 2 }));
    book.note(resolved as never);
    const counts = { raised: 1500, resolved: 500, suppressed: 0, rateLimited: 0, dropped: 0, byDetector: { 'new-host': 1500 }, bySeverity: { info: 1500, warning: 0, critical: 0 } };
    const s = book.section(counts);
    // before: 700 (the list's 1000 minus its 300 resolved), not the 1000 still open
    expect(s.openAtEnd).toBe(1000);
    expect(s.list).toHaveLength(1000);
  });
});
