// threshold: per-host and per-network overrides (README "--threshold METRIC@HOST-OR-CIDR",
// config "threshold.hosts"): a host's own override applies whatever the order the rules
// were written in (the most specific network wins, IPv4 and IPv6, and a more specific rule
// leaves the limits it does not set to the networks around it); and a resolve reports the
// host's value at the time (a host with no traffic in a second is at 0).
import { describe, expect, it } from 'vitest';
import { applyThresholdSpec } from '../../src/cli/detect-options.js';
import { applyConfigFile, defaultAlertSinkConfig, type DetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { hostsView, onlyDetector, raised, resolved, second, type ViewHost } from './helpers.js';

function tstage(edit: (c: DetectConfig) => void) {
  return createDetectStage(
    onlyDetector((c) => {
      c.threshold.enabled = true;
      edit(c);
    }),
  );
}

function fromFile(hosts: Record<string, unknown>) {
  return tstage((c) => applyConfigFile({ threshold: { hosts } }, 't.json', c, defaultAlertSinkConfig('t')));
}

// Each host receives 5000 B/s (5 packets); the generic limit is 12.5 MB/s.
const VIEW: ViewHost[] = [
  { id: 1, addr: '10.0.0.5', tx: [0, 0], rx: [5, 5000] },
  { id: 2, addr: '10.0.0.6', tx: [0, 0], rx: [5, 5000] },
  { id: 3, addr: '2001:db8::5', tx: [0, 0], rx: [5, 5000] },
  { id: 4, addr: '2001:db8::6', tx: [0, 0], rx: [5, 5000] },
];

function alertedHosts(stage: ReturnType<typeof tstage>): [string | null, string, number | null][] {
  const out = stage.observe(second(1, { bytes: 20000, packets: 20 }), hostsView(VIEW));
  return raised(out).map((a) => [a.host, a.note, a.threshold]);
}

describe('threshold overrides: the most specific network wins', () => {
  const net = { '10.0.0.0/8': { rxBytes: 100 }, '2001:db8::/32': { rxBytes: 100 } };
  const one = { '10.0.0.5': { rxBytes: '1MB/s' }, '2001:db8::5': { rxBytes: '1MB/s' } };
  // Only the hosts without their own override (10.0.0.6, 2001:db8::6) break the /8 and /32 limits.
  const expected = [
    ['10.0.0.6', 'Host_Rx_Bytes_Threshold', 100],
    ['2001:db8::6', 'Host_Rx_Bytes_Threshold', 100],
  ];

  it('config file: host rules after the network rules', () => {
    expect(alertedHosts(fromFile({ ...net, ...one }))).toEqual(expected);
  });

  it('config file: host rules before the network rules', () => {
    expect(alertedHosts(fromFile({ ...one, ...net }))).toEqual(expected);
  });

  it('command line: --threshold for the host before or after the one for its network', () => {
    const specs = ['rx-bytes@10.0.0.0/8=100', 'rx-bytes@10.0.0.5=1MB/s', 'rx-bytes@2001:db8::/32=100', 'rx-bytes@2001:db8::5/128=1MB/s'];
    for (const order of [specs, [...specs].reverse()]) {
      const stage = tstage((c) => {
        for (const s of order) applyThresholdSpec(s, c);
      });
      expect(alertedHosts(stage)).toEqual(expected);
    }
  });

  it('a more specific rule keeps the limits it does not set from the networks around it', () => {
    // 10.0.0.0/8 limits packets to 3/s; 10.0.0.5 only relaxes its rx bytes. Both hosts
    // receive 5 packets/s: both are over the /8's packet limit.
    for (const rules of [
      { '10.0.0.0/8': { packets: 3 }, '10.0.0.5': { rxBytes: '1MB/s' } },
      { '10.0.0.5': { rxBytes: '1MB/s' }, '10.0.0.0/8': { packets: 3 } },
    ]) {
      expect(alertedHosts(fromFile(rules))).toEqual([
        ['10.0.0.5', 'Host_Rx_Packets_Threshold', 3],
        ['10.0.0.6', 'Host_Rx_Packets_Threshold', 3],
      ]);
    }
  });

  it('a more specific rule can remove a limit its network sets ("off")', () => {
    for (const rules of [
      { '2001:db8::/32': { rxBytes: 100 }, '2001:db8::/64': { rxBytes: 'off' } },
      { '2001:db8::/64': { rxBytes: 'off' }, '2001:db8::/32': { rxBytes: 100 } },
    ]) {
      expect(alertedHosts(fromFile(rules))).toEqual([]);
    }
  });
});

describe('threshold resolve', () => {
  it('reports 0 for a host that had no traffic in the resolving seconds', () => {
    const stage = tstage((c) => (c.threshold.host.rxBytes = 1000));
    const out = [...stage.observe(second(1, { bytes: 5000, packets: 5 }), hostsView([{ id: 1, addr: '10.0.0.5', tx: [0, 0], rx: [5, 5000] }]))];
    // 10.0.0.5 goes quiet; another host keeps the capture going.
    for (let t = 2; t <= 8; t++) out.push(...stage.observe(second(t, { bytes: 10, packets: 1 }), hostsView([{ id: 2, addr: '10.0.0.6', tx: [1, 10] }])));
    expect(raised(out).map((a) => [a.ts, a.value])).toEqual([[1, 5000]]);
    const r = resolved(out);
    expect(r.map((a) => [a.ts, a.value])).toEqual([[6, 0]]);
    expect(r[0]?.message).toBe('Host_Rx_Bytes_Threshold on 10.0.0.5 resolved after 5 s: peak 5000 B/s, now 0 B/s');
  });

  it('reports the host value of its last second when it is still active', () => {
    const stage = tstage((c) => (c.threshold.host.rxBytes = 1000));
    const out: ReturnType<typeof stage.observe>[number][] = [];
    for (let t = 1; t <= 7; t++) {
      const rx = t === 1 ? 5000 : 900 - t;
      out.push(...stage.observe(second(t, { bytes: rx, packets: 5 }), hostsView([{ id: 1, addr: '10.0.0.5', tx: [0, 0], rx: [5, rx] }])));
    }
    expect(resolved(out).map((a) => [a.ts, a.value])).toEqual([[6, 894]]);
  });
});

describe('threshold message at the limit', () => {
  it('a value just over the limit reads as over it, not as equal to it', () => {
    const stage = tstage((c) => (c.threshold.global.bytes = 12.5e6));
    const out = raised(stage.observe(second(1, { bytes: 12_500_001, packets: 9000 })));
    expect(out.map((a) => [a.value, a.threshold, a.message])).toEqual([
      [12_500_001, 12.5e6, 'all traffic: 12500001 B/s over the limit of 12500000 B/s'],
    ]);
    // values far apart keep the short form
    const far = tstage((c) => (c.threshold.global.bytes = 1e6));
    expect(raised(far.observe(second(1, { bytes: 2.5e6, packets: 9000 })))[0]?.message).toBe('all traffic: 2.5 MB/s over the limit of 1 MB/s');
  });
});

describe('threshold conditions across a gap', () => {
  // README: a run of more than --max-gap empty seconds is one `gap` instead of zero rows.
  // A limit broken just before the capture went silent ends in the silence either way.
  function overThenQuiet(asGap: boolean) {
    const stage = tstage((c) => {
      c.threshold.global.packets = 100;
      c.threshold.host.rxPackets = 50;
    });
    const out = [];
    const busy = (t: number, n: number) => stage.observe(second(t, { bytes: n * 100, packets: n }), hostsView([{ id: 1, addr: '10.0.0.5', tx: [0, 0], rx: [n, n * 100] }]));
    for (let t = 0; t < 3; t++) out.push(...busy(t, 500));
    if (asGap) out.push(...stage.gap({ from: 3, to: 999 }));
    else for (let t = 3; t < 1000; t++) out.push(...stage.observe(second(t), hostsView([])));
    for (let t = 1000; t < 1010; t++) out.push(...busy(t, 10));
    return out.map((a) => [a.state, a.note, a.ts, a.value, a.message]);
  }

  it('resolves inside the gap, at the second zero rows would, with value 0', () => {
    const rows = overThenQuiet(false);
    expect(rows.map((a) => a.slice(0, 4))).toEqual([
      ['raised', 'Global_Packets_Threshold', 0, 500],
      ['raised', 'Host_Rx_Packets_Threshold', 0, 500],
      ['resolved', 'Global_Packets_Threshold', 7, 0],
      ['resolved', 'Host_Rx_Packets_Threshold', 7, 0],
    ]);
    expect(overThenQuiet(true)).toEqual(rows);
  });
});
