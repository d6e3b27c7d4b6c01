// threshold and zscore read every host of a second from the aggregator's SecondHosts view
// (not only the summary's top hosts), keyed by (id, generation): scripted sequences whose
// expected alerts follow from the settings (limits, z = (x - mean) / floored stdev).
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { host, hostsView, onlyDetector, raised, resolved, second, type ViewHost } from './helpers.js';

function feed(stage: DetectStage, from: number, seconds: number, view: (t: number) => ViewHost[], packets = (t: number) => 100 + (t % 3)): Alert[] {
  const out: Alert[] = [];
  for (let t = from; t < from + seconds; t++) {
    // the summary lists no hosts at all: only the view names them
    out.push(...stage.observe(second(t, { packets: packets(t), bytes: packets(t) * 500, activeHosts: view(t).length }), hostsView(view(t))));
  }
  return out;
}

describe('threshold over every host of the second', () => {
  it('alerts a host over its limit that is not among the listed top hosts, once, and resolves it', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.host = { txBytes: null, rxBytes: null, txPackets: 1000, rxPackets: null };
      }),
    );
    const quiet: ViewHost = { id: 7, addr: '10.0.0.8', tx: [10, 1000] };
    const loud = (t: number): ViewHost => ({ id: 42, addr: '10.9.9.9', tx: [t >= 5 && t < 8 ? 1500 : 50, 1000] });
    const out = feed(stage, 0, 20, (t) => [quiet, loud(t)]);
    expect(raised(out).map((a) => [a.note, a.host, a.ts, a.value, a.threshold])).toEqual([['Host_Tx_Packets_Threshold', '10.9.9.9', 5, 1500, 1000]]);
    // resolveAfter (5) normal seconds after the last one over (7): at 12, with the value then
    expect(resolved(out).map((a) => [a.host, a.ts, a.value])).toEqual([['10.9.9.9', 12, 50]]);
  });

  it('judges a reused id as its new host (generation), named by its own address', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.threshold.enabled = true;
        c.threshold.raiseAfter = 1;
      }),
    );
    const out = feed(stage, 0, 3, () => [{ id: 3, addr: '10.0.0.3', tx: [25_000, 1000] }]);
    expect(raised(out).map((a) => [a.host, a.note])).toEqual([['10.0.0.3', 'Host_Tx_Packets_Threshold']]);
    // id 3 now names another host (generation 2): it is judged, and named, as itself
    const out2 = feed(stage, 3, 1, () => [{ id: 3, gen: 2, addr: '10.0.0.99', tx: [30_000, 1000] }]);
    expect(raised(out2).map((a) => [a.host, a.value])).toEqual([['10.0.0.99', 30_000]]);
  });
});

describe('zscore over every host of the second', () => {
  const zstage = (normalize: boolean): DetectStage =>
    createDetectStage(
      onlyDetector((c) => {
        c.zscore.enabled = true;
        c.zscore.window = 60;
        c.zscore.warmup = 20;
        c.zscore.raiseAfter = 2;
        c.zscore.hosts = { enabled: true, max: 10, metric: 'packets', floor: { relative: 0.5, bytes: 2000, packets: 3 }, normalize, cusum: { enabled: true, k: 2, h: 15, clip: 4 } };
      }),
    );

  it('keeps a baseline for a host outside the top list and raises its spike', () => {
    const stage = zstage(false);
    // 10.0.0.50: 4, 5 or 6 packets/s (mean 5, stdev 0.82, floored to 3); at 40-44 it sends 40/s:
    // z = (40 - 5) / 3 = 11.7 >= 6 for two seconds: raised at 41.
    const out = feed(stage, 0, 60, (t) => [{ id: 50, addr: '10.0.0.50', tx: [t >= 40 && t < 45 ? 40 : 4 + (t % 3), 500] }]);
    expect(raised(out).map((a) => [a.note, a.host, a.ts, a.value])).toEqual([['Host_Packets_Spike', '10.0.0.50', 41, 40]]);
    expect(raised(out)[0]?.baseline?.mean).toBeCloseTo(5, 0);
  });

  it('counts the seconds a host is absent as zeros (it had no traffic)', () => {
    const stage = zstage(false);
    // Present every fourth second with 12 packets: the baseline is 0, 0, 0, 12 (mean 3,
    // stdev 5.2), so each 12 is z = 1.7: quiet (a baseline of the present seconds only
    // would be flat at 12, mean 12).
    const out = feed(stage, 0, 80, (t) => (t % 4 === 0 ? [{ id: 9, addr: '10.0.0.9', tx: [12, 1200] }] : []));
    expect(out).toEqual([]);
    // 60 packets/s: z = (60 - 3) / 5.2 = 11, then 8.7 once the first joined clipped.
    const spike = feed(stage, 80, 2, () => [{ id: 9, addr: '10.0.0.9', tx: [60, 6000] }]);
    expect(raised(spike).map((a) => [a.host, a.ts])).toEqual([['10.0.0.9', 81]]);
    expect(raised(spike)[0]?.baseline?.mean).toBeGreaterThan(3);
    expect(raised(spike)[0]?.baseline?.mean).toBeLessThan(4);
  });

  it('starts a new series when an id is given to another host (new generation)', () => {
    const stage = zstage(false);
    feed(stage, 0, 40, () => [{ id: 5, addr: '10.0.0.5', tx: [2, 200] }]);
    // id 5 is now 10.0.0.77 sending 100/s: a fresh series in warm-up, not a spike of 10.0.0.5
    const out = feed(stage, 40, 5, () => [{ id: 5, gen: 2, addr: '10.0.0.77', tx: [100, 10_000] }]);
    expect(out).toEqual([]);
  });

  it('divides out a rise of all traffic (normalize), and alerts it without', () => {
    // Three hosts at 5-6 packets/s each while all traffic is 100/s; at 40-44 everything
    // grows sixfold (all traffic 600/s, each host 30-31/s: z = (30 - 5.5) / 3 = 8 without
    // normalising): a busy minute, not one host's burst.
    const view = (t: number): ViewHost[] => {
      const k = t >= 40 && t < 45 ? 6 : 1;
      return [1, 2, 3].map((id) => ({ id, addr: `10.0.0.${id}`, tx: [5 * k + (t % 2), 500] as [number, number] }));
    };
    const packets = (t: number): number => (t >= 40 && t < 45 ? 600 : 100) + (t % 3);
    expect(raised(feed(zstage(true), 0, 60, view, packets)).filter((a) => a.host !== null)).toEqual([]);
    expect(raised(feed(zstage(false), 0, 60, view, packets)).filter((a) => a.host !== null).map((a) => a.host)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
});

describe('new-host over every host of the second', () => {
  // A summary names at most 100 new hosts (MAX_NEW_HOST_ADDRS) and its top hosts; the view has them all.
  const stage = (): DetectStage =>
    createDetectStage(
      onlyDetector((c) => {
        c.newHost.enabled = true;
        c.newHost.learn = 10;
        c.rateLimit = { max: 10_000, per: 60 };
        c.maxOpen = 10_000;
      }),
    );
  const local = (k: number): ViewHost => ({ id: k, addr: `192.168.${k >> 8}.${k & 255}`, tx: [1, 100] });
  const range = (from: number, n: number): ViewHost[] => Array.from({ length: n }, (_, i) => local(from + i));

  it('raises each of 250 local hosts that appear in one second after learning, not only the 100 a summary names', () => {
    const s = stage();
    const out: Alert[] = [];
    // with them, hosts outside the local networks (IPv4 and IPv6) and IPv6 unique-local ones
    const outside: ViewHost[] = [
      { id: 5000, addr: '203.0.113.7', tx: [1, 100] },
      { id: 5001, addr: '2001:db8::7', tx: [1, 100] },
    ];
    const ula: ViewHost[] = [
      { id: 5002, addr: 'fd00::7', tx: [1, 100] },
      { id: 5003, addr: 'fe80::1:7', tx: [1, 100] },
    ];
    for (let t = 0; t < 20; t++) {
      const view = t === 15 ? [...range(1, 5), ...outside, ...range(1000, 250), ...ula] : range(1, 5);
      const names = t === 0 ? view.map((h) => h.addr) : t === 15 ? view.slice(5, 105).map((h) => h.addr) : [];
      out.push(...s.observe(second(t, { packets: view.length, newHostAddrs: names }), hostsView(view)));
    }
    const hosts = raised(out).map((a) => a.host);
    expect(hosts).toHaveLength(252);
    expect(new Set(hosts)).toEqual(new Set([...range(1000, 250), ...ula].map((h) => h.addr)));
    expect(raised(out).every((a) => a.ts === 15)).toBe(true);
  });

  it('learns every host of a second in the learning period, so none of them is "new" when it shows up later', () => {
    const s = stage();
    const out: Alert[] = [];
    for (let t = 0; t < 30; t++) {
      // 300 hosts at once while learning (a summary names 100 of them and a top few); later
      // hosts of that second come back one at a time, each then the top host of its second
      const view = t === 2 ? range(1, 300) : t >= 15 ? [local(101 + ((t * 37) % 200))] : [];
      const names = t === 2 ? view.slice(0, 100).map((h) => h.addr) : [];
      const top = t === 2 ? view.slice(0, 10) : view;
      const listed = top.map((h) => host(h.addr, h.tx));
      out.push(...s.observe(second(t, { packets: view.length, newHostAddrs: names, hosts: listed }), hostsView(view)));
    }
    expect(raised(out)).toEqual([]);
  });
});
