// threshold: global and per-host limits on scripted seconds; the expected alerts follow
// from the limits and the script alone.
import { describe, expect, it } from 'vitest';
import { hostLimitRule } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { host, onlyDetector, raised, resolved, second } from './helpers.js';

describe('threshold', () => {
  it('raises once when all traffic goes over a global limit and resolves 5 s after it ends', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.global.bytes = 1e6;
      }),
    );
    const bytes = [5e5, 2e6, 3e6, 2.5e6, 9e5, 1e5, 1e5, 1e5, 1e5, 1e5, 1e5];
    const all = bytes.flatMap((b, i) => [...stage.observe(second(100 + i, { bytes: b, packets: 10 }))]);
    expect(all.map((a) => [a.state, a.ts, a.note])).toEqual([
      ['raised', 101, 'Global_Bytes_Threshold'],
      ['resolved', 108, 'Global_Bytes_Threshold'],
    ]);
    const r = all[0];
    expect(r).toMatchObject({ detector: 'threshold', host: null, metric: 'bytes/s', value: 2e6, threshold: 1e6, since: 101 });
    expect(all[1]).toMatchObject({ value: 1e5, since: 101 });
  });

  it('checks each listed host tx and rx against the generic and the per-network limits', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.host = { txBytes: 1000, rxBytes: null, txPackets: null, rxPackets: 50 };
        // A stricter limit for one /30, and none at all for one host inside it.
        c.threshold.hosts.push(hostLimitRule('10.0.0.9', { txBytes: null }, 't'));
        c.threshold.hosts.push(hostLimitRule('10.0.0.8/30', { txBytes: 100 }, 't'));
      }),
    );
    const s = second(1, {
      hosts: [
        host('192.0.2.1', [5, 999], [100, 100]), // rx packets 100 > 50
        host('192.0.2.2', [5, 1001], [1, 1]), // tx bytes 1001 > 1000
        host('10.0.0.10', [1, 101]), // in the /30: 101 > 100
        host('10.0.0.9', [9, 1e9]), // no tx limit at all
        host('10.0.0.12', [1, 999]), // outside the /30, under the generic limit
      ],
    });
    const got = raised(stage.observe(s)).map((a) => [a.host, a.note, a.value, a.threshold]);
    expect(got).toEqual([
      ['192.0.2.1', 'Host_Rx_Packets_Threshold', 100, 50],
      ['192.0.2.2', 'Host_Tx_Bytes_Threshold', 1001, 1000],
      ['10.0.0.10', 'Host_Tx_Bytes_Threshold', 101, 100],
    ]);
    const end = stage.finish(1.5);
    expect(resolved(end)).toHaveLength(3);
  });

  it('is silent with its defaults on ordinary traffic', () => {
    const stage = createDetectStage(onlyDetector((c) => (c.threshold.enabled = true)));
    for (let i = 0; i < 100; i++) {
      expect(stage.observe(second(i, { bytes: 5e6, packets: 5000, hosts: [host('10.0.0.1', [2500, 2.5e6], [2500, 2.5e6])] }))).toEqual([]);
    }
  });
});
