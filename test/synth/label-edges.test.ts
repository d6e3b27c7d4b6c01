// The truth's anomaly labels against tshark where the edges of a window hold none of the
// anomaly's packets: rates under one packet a second and anomalies that start inside a
// --silence. A label's `start` is the second of its first packet and `end` the second
// after its last (README "The truth file"), a scan's or sweep's intensity and targets
// count the probes sent, and its `observed` and `sigma` are recomputed here from
// tshark's per-second counts by the definition of README "npm run eval". A new host is
// one the capture has not shown before its label starts; a silence lies between packets.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/synth/generate.js';
import type { Truth, TruthAnomaly } from '../../src/synth/truth.js';
import { tsharkFields, tsharkSkipReason } from './tshark.js';

const skip = tsharkSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'netpulse-synth-edges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  sec: number;
  /** Outermost IP addresses ('' for ARP) and ARP's sender and target addresses. */
  src: string;
  dst: string;
  arpSrc: string;
  arpDst: string;
  dport: number;
  flags: number;
}

describe.skipIf(skip !== null)('label windows hold exactly the seconds with the anomaly’s packets', () => {
  let truth: Truth;
  let rows: Row[];
  const START = 1_700_000_000;

  beforeAll(async () => {
    const out = join(dir, 'edges.pcap');
    truth = await generate({
      out,
      packets: 3000,
      hosts: 30,
      seconds: 30,
      seed: 5,
      anomalies: [
        { kind: 'silence', at: 1, seconds: 3 },
        // 60 ports at 10/s from 2 s: its first two seconds are silenced.
        { kind: 'port-scan', at: 2, src: '198.51.100.7', dst: '3', ports: 60, pps: 10 },
        // One packet every 4 s: in the window's 4th, 8th and 12th seconds.
        { kind: 'new-host', at: 10, host: '192.168.9.9', pps: 0.25, seconds: 12 },
        // 3 hosts at 0.4/s: probes in the window's 3rd, 5th and 8th seconds; the 5th is silenced.
        { kind: 'sweep', at: 18, src: '4', port: 2323, hosts: 3, pps: 0.4 },
        { kind: 'silence', at: 22, seconds: 1 },
        // One SYN every 2 s: in the window's 2nd, 4th and 6th seconds.
        { kind: 'syn-flood', at: 20, dst: '1', pps: 0.5, seconds: 6, port: 8081 },
      ],
    });
    const run = tsharkFields(out, ['frame.time_epoch', 'ip.src', 'ip.dst', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'tcp.dstport', 'tcp.flags']);
    expect(run.warnings).toEqual([]);
    rows = run.rows.map(([e = '', s = '', d = '', as = '', ad = '', dp = '', fl = '']) => ({
      sec: Number(e.split('.')[0]),
      src: s,
      dst: d,
      arpSrc: as,
      arpDst: ad,
      dport: dp === '' ? -1 : Number(dp),
      flags: fl === '' ? -1 : Number(fl),
    }));
  });

  const label = (kind: string): TruthAnomaly => {
    const a = truth.anomalies.find((x) => x.kind === kind);
    if (a === undefined) throw new Error(`no ${kind} label`);
    return a;
  };
  /** [first second, last second + 1] of the rows, as epoch seconds. */
  const span = (rs: Row[]): [number, number] => [Math.min(...rs.map((r) => r.sec)), Math.max(...rs.map((r) => r.sec)) + 1];

  it('port scan starting inside a silence: from its first probe', () => {
    const a = label('port-scan');
    const probes = rows.filter((r) => r.src === '198.51.100.7' && r.flags === 0x002);
    expect(new Set(probes.map((r) => r.dport)).size).toBe(40); // 20 of the 60 fell in the silence
    expect(a.intensity).toBe(40);
    expect([a.start, a.end]).toEqual(span(probes));
    expect([a.start, a.end]).toEqual([START + 4, START + 8]);
  });

  it('new host at 0.25 packets/s: from its first packet (IP or ARP) to its last', () => {
    const a = label('new-host');
    const mine = rows.filter((r) => [r.src, r.dst, r.arpSrc, r.arpDst].includes('192.168.9.9'));
    expect(mine).toHaveLength(3);
    expect([a.start, a.end]).toEqual(span(mine));
  });

  it('sweep at 0.4 probes/s, one probe silenced: from its first probe to its last, the hosts it reached', () => {
    const a = label('sweep');
    const probes = rows.filter((r) => r.src === a.hosts[0] && r.dport === 2323 && r.flags === 0x002);
    expect(probes).toHaveLength(2);
    expect(new Set(probes.map((r) => r.dst))).toEqual(new Set(a.targets));
    expect(a.intensity).toBe(2);
    expect(a.targets).toHaveLength(2);
    expect([a.start, a.end]).toEqual(span(probes));
    expect([a.start, a.end]).toEqual([START + 20, START + 26]);
  });

  it('SYN flood at 0.5 SYN/s: from its first SYN to its last', () => {
    const a = label('syn-flood');
    const syns = rows.filter((r) => r.dst === a.hosts[0] && r.dport === 8081 && r.flags === 0x002);
    expect(syns).toHaveLength(3);
    expect([a.start, a.end]).toEqual(span(syns));
    expect([a.start, a.end]).toEqual([START + 21, START + 26]);
  });

  it("observed and sigma are the subject's per-second packets over the label's own window", () => {
    const windows = truth.anomalies.map((x) => [x.start, x.end] as const);
    const secs = truth.seconds.map((s) => s.ts);
    const quiet = secs.filter((s) => windows.every(([from, to]) => s < from || s >= to));
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    for (const a of truth.anomalies) {
      const h = a.hosts[0];
      const per = new Map<number, number>();
      for (const r of rows) if (h === undefined || r.src === h || r.dst === h) per.set(r.sec, (per.get(r.sec) ?? 0) + 1);
      const series = (ss: number[]): number[] => ss.map((s) => per.get(s) ?? 0);
      const base = series(quiet);
      const m = mean(base);
      const sd = Math.sqrt(mean(base.map((x) => (x - m) ** 2)));
      const obs = mean(series(secs.filter((s) => s >= a.start && s < a.end)));
      expect(a.observed.packetsPerSec, a.kind).toBeCloseTo(obs, 9);
      if (sd === 0) expect(a.sigma.packets, a.kind).toBeNull(); // an outside scanner: no traffic before
      else expect(a.sigma.packets, a.kind).toBeCloseTo((obs - m) / sd, 9);
    }
  });
});

describe.skipIf(skip !== null)('a new-host label names a host the capture has not shown before', () => {
  const firstSecondOf = (file: string, addr: string): number => {
    const run = tsharkFields(file, ['frame.time_epoch'], ['-Y', `ip.addr == ${addr} || arp.src.proto_ipv4 == ${addr} || arp.dst.proto_ipv4 == ${addr}`]);
    expect(run.warnings).toEqual([]);
    return Math.min(...run.rows.map(([e = '']) => Number(e.split('.')[0])));
  };
  const opts = { packets: 1500, hosts: 20, seconds: 20, seed: 3 } as const;

  for (const [what, earlier] of [
    ['scans from', { kind: 'port-scan', at: 2, src: '198.51.100.7', dst: '3', ports: 20, pps: 10 }],
    ['floods', { kind: 'syn-flood', at: 5, dst: '198.51.100.7', pps: 20, seconds: 2 }],
  ] as const) {
    it(`refuses a new host that another anomaly ${what} before it starts (ERR_BAD_OPTION)`, async () => {
      const out = join(dir, 'not-new.pcap');
      const run = generate({ ...opts, out, anomalies: [earlier, { kind: 'new-host', at: 10, host: '198.51.100.7' }] });
      await expect(run).rejects.toMatchObject({ code: 'ERR_BAD_OPTION', message: expect.stringMatching(/^--new-host 10: 198\.51\.100\.7 would not be new: /) });
    });
  }

  it('takes a new host that goes on to scan: its first packet is in the label’s first second', async () => {
    const out = join(dir, 'new-then-scan.pcap');
    const truth = await generate({
      ...opts,
      out,
      anomalies: [
        { kind: 'new-host', at: 10, host: '198.51.100.7' },
        { kind: 'port-scan', at: 10, src: '198.51.100.7', dst: '3', ports: 20, pps: 10 },
      ],
    });
    const a = truth.anomalies.find((x) => x.kind === 'new-host');
    expect(firstSecondOf(out, '198.51.100.7')).toBe(a?.start);
  });
});

describe.skipIf(skip !== null)('a silence label lies between packets', () => {
  const opts = { packets: 600, hosts: 10, seconds: 20, seed: 9 } as const;

  for (const [what, extra] of [
    ['at the start of the capture', { packets: 600, anomalies: [{ kind: 'silence', at: 0, seconds: 5 }] }],
    ['at its end', { packets: 600, anomalies: [{ kind: 'silence', at: 15, seconds: 5 }] }],
    ['with nothing after it', { packets: 0, anomalies: [{ kind: 'syn-flood', at: 0, dst: '1', pps: 5, seconds: 5 }, { kind: 'silence', at: 10, seconds: 2 }] }],
  ] as const) {
    it(`refuses one ${what} (ERR_BAD_OPTION): the file could not show it`, async () => {
      const run = generate({ ...opts, ...extra, out: join(dir, 'edge-silence.pcap') });
      await expect(run).rejects.toMatchObject({ code: 'ERR_BAD_OPTION', message: expect.stringMatching(/^--silence \d+: no packet comes (before|after) it/) });
    });
  }

  it('takes one with packets on both sides: tshark sees traffic before, none inside, traffic after', async () => {
    const out = join(dir, 'mid-silence.pcap');
    const truth = await generate({ ...opts, out, anomalies: [{ kind: 'silence', at: 8, seconds: 4 }] });
    const [a] = truth.anomalies;
    const secs = tsharkFields(out, ['frame.time_epoch']).rows.map(([e = '']) => Number(e.split('.')[0]));
    expect(secs.some((s) => s < (a?.start ?? 0))).toBe(true);
    expect(secs.filter((s) => s >= (a?.start ?? 0) && s < (a?.end ?? 0))).toEqual([]);
    expect(secs.some((s) => s >= (a?.end ?? Infinity))).toBe(true);
  });
});
