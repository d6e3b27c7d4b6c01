// `netpulse replay --json --hosts all` of synthetic captures agrees exactly with their truth
// files, at several sizes, seeds and file kinds (the generator's truth is the oracle for
// the whole replay path: readers, decoders, aggregator, NDJSON).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report, SecondSummary } from '../../src/aggregate/summary.js';
import { generate, type SynthOptions } from '../../src/synth/generate.js';
import type { Truth } from '../../src/synth/truth.js';

const MAIN = resolve(import.meta.dirname, '../../dist/bin/netpulse.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

const dir = mkdtempSync(join(tmpdir(), 'netpulse-synth-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Replayed {
  summaries: Map<number, SecondSummary>;
  gaps: { from: number; to: number }[];
  report: Report;
}

function replay(file: string): Replayed {
  const r = spawnSync(process.execPath, [MAIN, 'replay', file, '--json', '--hosts', 'all'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out: Partial<Replayed> & { summaries: Map<number, SecondSummary>; gaps: { from: number; to: number }[] } = { summaries: new Map(), gaps: [] };
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const m = JSON.parse(line) as { type: string } & Record<string, unknown>;
    if (m.type === 'summary') {
      const s = m as unknown as SecondSummary;
      expect(out.summaries.has(s.ts)).toBe(false);
      out.summaries.set(s.ts, s);
    } else if (m.type === 'gap') out.gaps.push(m as unknown as { from: number; to: number });
    else if (m.type === 'report') out.report = m as unknown as Report;
  }
  if (out.report === undefined) throw new Error('no report message');
  return out as Replayed;
}

function agree(t: Truth, r: Replayed): void {
  const rep = r.report;
  expect(rep.packets).toBe(t.packets);
  expect(rep.bytes).toBe(t.bytes);
  expect(rep.capturedBytes).toBe(t.capturedBytes);
  // The analyzer keeps microseconds; nanosecond truths are floored there.
  expect(Math.abs((rep.firstTs ?? 0) - (t.firstTs ?? 0))).toBeLessThanOrEqual(1e-6);
  expect(Math.abs((rep.lastTs ?? 0) - (t.lastTs ?? 0))).toBeLessThanOrEqual(1e-6);
  expect(rep.anomalies).toEqual({});
  expect(rep.evictedHosts).toBe(0);
  // Every second: a summary with the truth's totals, or a zero second that the replay
  // left out because it is outside the packets' span or inside a reported gap.
  const first = Math.floor(rep.firstTs ?? 0);
  const last = Math.floor(rep.lastTs ?? 0);
  for (const s of t.seconds) {
    const got = r.summaries.get(s.ts);
    if (got !== undefined) {
      expect({ ts: s.ts, packets: got.packets, bytes: got.bytes }).toEqual(s);
    } else {
      expect(s.packets).toBe(0);
      const explained = s.ts < first || s.ts > last || r.gaps.some((g) => s.ts >= g.from && s.ts <= g.to);
      expect(explained, `second ${s.ts} is missing from the replay`).toBe(true);
    }
  }
  expect(r.summaries.size).toBeLessThanOrEqual(t.seconds.length);
  // Every host, exactly.
  const truthHosts = new Map(t.hosts.map((h) => [h.addr, h]));
  expect(rep.hosts.length).toBe(truthHosts.size);
  for (const h of rep.hosts) {
    const want = truthHosts.get(h.addr);
    expect({ addr: h.addr, tx: { packets: h.tx.packets, bytes: h.tx.bytes }, rx: { packets: h.rx.packets, bytes: h.rx.bytes } }).toEqual(want);
  }
  // Frames by protocol.
  for (const k of ['ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'arp'] as const) {
    expect([k, rep.protocols[k] ?? 0]).toEqual([k, t.frames[k] ?? 0]);
  }
}

const CASES: { name: string; file: string; opts: Omit<SynthOptions, 'out'> }[] = [
  { name: '2,000 packets, 20 hosts, seed 1, pcap', file: 'a.pcap', opts: { packets: 2000, hosts: 20, seconds: 10, seed: 1 } },
  {
    name: '30,000 packets, 500 hosts, seed 2, pcapng ns, every anomaly kind',
    file: 'b.pcapng',
    opts: {
      packets: 30000,
      hosts: 500,
      seconds: 90,
      seed: 2,
      resolution: 'ns',
      profile: 'bursty',
      anomalies: [
        { kind: 'burst', at: 10, host: '2', factor: 6, seconds: 8 },
        { kind: 'new-host', at: 20, pps: 30 },
        { kind: 'port-scan', at: 30, src: '203.0.113.9', dst: '4', ports: 1000, pps: 250 },
        { kind: 'sweep', at: 40, src: '7', port: 3389, hosts: 200, pps: 100 },
        { kind: 'syn-flood', at: 50, dst: '1', pps: 3000, seconds: 5 },
        { kind: 'silence', at: 70, seconds: 5 },
      ],
    },
  },
  {
    name: '20,000 packets over 200 s with a silence longer than the gap bound, seed 3, pcap.gz big-endian',
    file: 'c.pcap.gz',
    opts: { packets: 20000, hosts: 300, seconds: 200, seed: 3, byteOrder: 'be', profile: 'diurnal', anomalies: [{ kind: 'silence', at: 60, seconds: 70 }] },
  },
  {
    name: '60,000 packets, 5,000 hosts, half IPv6, 40% VLAN, seed 4, pcapng.gz',
    file: 'd.pcapng.gz',
    opts: { packets: 60000, hosts: 5000, seconds: 30, seed: 4, ipv6Share: 0.5, vlanShare: 0.4, anomalies: [{ kind: 'syn-flood', at: 10, dst: '3', pps: 2000, seconds: 5 }] },
  },
];

describe('netpulse replay --json agrees exactly with the synth truth', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const file = join(dir, c.file);
      const t = await generate({ ...c.opts, out: file, truth: false });
      const r = replay(file);
      agree(t, r);
      // A silence longer than the gap bound (60 s) is one gap message, exactly its window.
      const long = t.anomalies.filter((a) => a.kind === 'silence' && a.end - a.start > 60);
      expect(r.gaps.map((g) => [g.from, g.to])).toEqual(long.map((a) => [a.start, a.end - 1]));
    });
  }
});
