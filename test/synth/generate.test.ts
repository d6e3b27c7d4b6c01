// generate(): every kind of file it writes is read by tshark without a warning, and
// tshark's per-frame fields, bucketed independently, agree exactly with the truth file.
// The labelled anomalies are checked against what tshark sees in their windows.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, type SynthOptions } from '../../src/synth/generate.js';
import type { Truth } from '../../src/synth/truth.js';
import { TALLY_FIELDS, tally, tsharkFields, tsharkSkipReason } from './tshark.js';

const skip = tsharkSkipReason();
if (skip !== null) console.warn(`skipping synth tshark tests: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'netpulse-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ANOMALIES: SynthOptions['anomalies'] = [
  { kind: 'burst', at: 5, host: '0', factor: 4, seconds: 5 },
  { kind: 'new-host', at: 12 },
  { kind: 'port-scan', at: 15, src: '198.51.100.7', dst: '3', ports: 120, pps: 60 },
  { kind: 'sweep', at: 20, src: '4', port: 445, hosts: 20, pps: 10 },
  { kind: 'syn-flood', at: 25, dst: '1', pps: 150, seconds: 4 },
  { kind: 'silence', at: 33, seconds: 3 },
];

const base = { packets: 4000, hosts: 60, seconds: 40, seed: 11, anomalies: ANOMALIES } as const;

const KINDS: { name: string; file: string; opts: Partial<SynthOptions> }[] = [
  { name: 'pcap, microseconds', file: 'us.pcap', opts: {} },
  { name: 'pcap, nanoseconds', file: 'ns.pcap', opts: { resolution: 'ns', profile: 'bursty' } },
  { name: 'pcap, big-endian', file: 'be.pcap', opts: { byteOrder: 'be', profile: 'diurnal' } },
  {
    // Half the hosts IPv6 (the odd numbers): the scan, sweep and flood run over IPv6.
    name: 'pcapng, microseconds, IPv6 anomalies',
    file: 'us.pcapng',
    opts: {
      ipv6Share: 0.5,
      anomalies: [
        { kind: 'burst', at: 5, host: '0', factor: 4, seconds: 5 },
        { kind: 'port-scan', at: 15, src: '2001:db8::7', dst: '1', ports: 120, pps: 60 },
        { kind: 'sweep', at: 20, src: '3', port: 22, hosts: 20, pps: 10 },
        { kind: 'syn-flood', at: 25, dst: '1', pps: 150, seconds: 4 },
        { kind: 'new-host', at: 12, host: 'fd6e:7075:6c73:2::99' },
        { kind: 'silence', at: 33, seconds: 3 },
      ],
    },
  },
  { name: 'pcapng, nanoseconds, big-endian', file: 'ns-be.pcapng', opts: { resolution: 'ns', byteOrder: 'be', vlanShare: 0.5 } },
  { name: 'pcap, gzip', file: 'gz.pcap.gz', opts: { seed: 12 } },
  { name: 'pcapng, nanoseconds, gzip', file: 'ns.pcapng.gz', opts: { resolution: 'ns', seed: 13 } },
  { name: 'pcap cut to 96 bytes', file: 'snap.pcap', opts: { snaplen: 96 } },
];

/** Nanoseconds of tshark's epoch text minus those of a truth timestamp (float, so about 1 us of slack). */
function epochDiffNs(text: string | null, t: number | null): number {
  if (text === null || t === null) return text === null && t === null ? 0 : Infinity;
  const [s = '0', f = ''] = text.split('.');
  const nsec = Number(f.padEnd(9, '0'));
  return Math.abs((t - Number(s)) * 1e9 - nsec);
}

function compare(t: Truth, file: string): void {
  const run = tsharkFields(file, TALLY_FIELDS);
  expect(run.status).toBe(0);
  expect(run.warnings).toEqual([]);
  const seen = tally(run.rows);
  expect(seen.packets).toBe(t.packets);
  expect(seen.bytes).toBe(t.bytes);
  for (const s of t.seconds) {
    expect({ ts: s.ts, ...(seen.seconds.get(s.ts) ?? { packets: 0, bytes: 0 }) }).toEqual(s);
  }
  // No frame outside the truth's window.
  for (const ts of seen.seconds.keys()) expect(t.seconds.some((s) => s.ts === ts)).toBe(true);
  const truthHosts = new Map(t.hosts.map((h) => [h.addr, { tx: h.tx, rx: h.rx }]));
  expect(seen.hosts.size).toBe(truthHosts.size);
  for (const [addr, h] of seen.hosts) expect({ addr, ...h }).toEqual({ addr, ...truthHosts.get(addr) });
  expect(epochDiffNs(seen.firstEpoch, t.firstTs)).toBeLessThan(1000);
  expect(epochDiffNs(seen.lastEpoch, t.lastTs)).toBeLessThan(1000);
}

describe.skipIf(skip !== null)('generate() agrees with tshark on every kind of file', () => {
  for (const k of KINDS) {
    it(k.name, async () => {
      const out = join(dir, k.file);
      const t = await generate({ ...base, ...k.opts, out });
      // The truth file on disk is the returned truth.
      const onDisk = JSON.parse(readFileSync(join(dir, k.file.replace(/(\.pcapng|\.pcap)(\.gz)?$/, '.truth.json')), 'utf8')) as Truth;
      expect(onDisk).toEqual(JSON.parse(JSON.stringify(t)));
      expect(t.anomalies).toHaveLength((k.opts.anomalies ?? ANOMALIES)?.length ?? 0);
      compare(t, out);
      if (k.opts.snaplen !== undefined) {
        const cap = tsharkFields(out, ['frame.cap_len', 'frame.len']);
        const captured = cap.rows.reduce((a, [c = '0']) => a + Number(c), 0);
        expect(captured).toBe(t.capturedBytes);
        expect(captured).toBeLessThan(t.bytes);
        expect(cap.rows.every(([c = '0', l = '0']) => Number(c) === Math.min(Number(l), k.opts.snaplen ?? 0))).toBe(true);
      }
    });
  }

  it('a spoofed flood source that is also a named host is one host in the truth', async () => {
    const opts = { packets: 500, hosts: 10, seconds: 10, seed: 5 } as const;
    const flood = { kind: 'syn-flood', at: 2, dst: '0', pps: 50, seconds: 2 } as const;
    const first = await generate({ ...opts, out: join(dir, 'spoof1.pcap'), anomalies: [flood] });
    const spoofed = first.hosts.find((h) => !h.addr.startsWith('10.') && h.tx.packets === 1);
    if (spoofed === undefined) throw new Error('no spoofed source in the truth');
    // Same seed and flood, plus a scan from that very address: the flood's sources repeat.
    const out = join(dir, 'spoof2.pcap');
    const t = await generate({ ...opts, out, anomalies: [flood, { kind: 'port-scan', at: 6, src: spoofed.addr, dst: '1', ports: 10, pps: 10 }] });
    const entries = t.hosts.filter((h) => h.addr === spoofed.addr);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.tx.packets).toBe(1 + 10);
    compare(t, out);
  });

  it('a default new-host address skips the addresses the anomalies name', async () => {
    const out = join(dir, 'newhosts.pcap');
    const t = await generate({
      out,
      packets: 3000,
      hosts: 20,
      seconds: 10,
      anomalies: [
        { kind: 'new-host', at: 3 },
        { kind: 'new-host', at: 5, host: '192.168.200.1' },
        { kind: 'port-scan', at: 1, src: '192.168.200.2', dst: '0', ports: 5, pps: 5 },
      ],
    });
    // The spec: 192.168.200.N for the Nth new host, skipping taken addresses (.1 and .2).
    expect(t.anomalies.filter((a) => a.kind === 'new-host').map((a) => a.hosts[0])).toEqual(['192.168.200.3', '192.168.200.1']);
    const senders = new Set(tsharkFields(out, ['ip.src']).rows.map(([src = '']) => src));
    for (const a of ['192.168.200.1', '192.168.200.2', '192.168.200.3']) expect(senders.has(a), a).toBe(true);
    compare(t, out);
  });

  it('all-IPv6 traffic between two hosts, no VLANs', async () => {
    const out = join(dir, 'v6.pcapng');
    const t = await generate({ out, packets: 800, hosts: 2, seconds: 5, ipv6Share: 1, vlanShare: 0 });
    expect(t.frames.ipv4).toBe(0);
    expect(t.frames.arp).toBe(0);
    expect(t.frames.vlan).toBe(0);
    expect(t.hosts.map((h) => h.addr).sort()).toEqual(['fd6e:7075:6c73:1::1', 'fd6e:7075:6c73:1::2']);
    compare(t, out);
  });
});

describe('generate() checks what the library is given, like the command line', () => {
  const bad: [string, Partial<SynthOptions>][] = [
    ['a negative time', { anomalies: [{ kind: 'silence', at: -1, seconds: 2 }] }],
    ['a fractional time', { anomalies: [{ kind: 'silence', at: 1.5, seconds: 2 }] }],
    ['a burst factor below 1', { anomalies: [{ kind: 'burst', at: 1, host: '0', factor: 0.5, seconds: 2 }] }],
    ['a port out of range', { anomalies: [{ kind: 'sweep', at: 1, src: '0', port: 70000 }] }],
    ['a zero rate', { anomalies: [{ kind: 'syn-flood', at: 1, dst: '0', pps: 0 }] }],
    ['an unknown kind', { anomalies: [{ kind: 'meteor', at: 1 } as unknown as NonNullable<SynthOptions['anomalies']>[number]] }],
    ['a host number out of range', { hosts: 10, anomalies: [{ kind: 'burst', at: 1, host: '10', factor: 2, seconds: 2 }] }],
    ['an anomaly past the end', { seconds: 10, anomalies: [{ kind: 'burst', at: 8, host: '1', factor: 2, seconds: 5 }] }],
    ['fractional packets', { packets: 10.5 }],
    ['one host', { hosts: 1 }],
  ];
  for (const [what, opts] of bad) {
    it(what, async () => {
      await expect(generate({ packets: 100, hosts: 10, seconds: 10, ...opts, out: join(dir, 'never.pcap') })).rejects.toMatchObject({ code: 'ERR_BAD_OPTION' });
    });
  }
});

describe('generate() memory does not grow with a SYN flood when no truth lists its sources', () => {
  it('a 10^8-packet flood with truth: false allocates no per-packet memory', async () => {
    const before = process.memoryUsage().arrayBuffers;
    let during = 0;
    // Stop at the first chunk: by then every buffer of the run is allocated.
    const sink = new Writable({
      write(_chunk, _enc, cb): void {
        during = process.memoryUsage().arrayBuffers;
        cb(new Error('enough'));
      },
    });
    const run = generate({ out: sink, packets: 0, hosts: 2, seconds: 100, truth: false, keepHosts: false, anomalies: [{ kind: 'syn-flood', at: 0, dst: '0', pps: 1e6, seconds: 100 }] });
    await expect(run).rejects.toMatchObject({ code: 'ERR_OUTPUT' });
    expect(during).toBeGreaterThan(0);
    // Two bytes per spoofed source would be 200 MB; the output buffers are a few MB.
    expect(during - before).toBeLessThan(32e6);
  });
});

interface Row {
  sec: number;
  epoch: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  len: number;
}

describe.skipIf(skip !== null)('labelled anomalies are where the truth says', () => {
  let truth: Truth;
  let rows: Row[];
  const find = (kind: string) => {
    const a = truth.anomalies.find((x) => x.kind === kind);
    if (a === undefined) throw new Error(`no ${kind} in the truth`);
    return a;
  };
  const inWindow = (r: Row, a: { start: number; end: number }): boolean => r.sec >= a.start && r.sec < a.end;

  it('generates the capture', async () => {
    const out = join(dir, 'labels.pcap');
    truth = await generate({ ...base, out });
    const run = tsharkFields(out, ['frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'frame.len']);
    expect(run.warnings).toEqual([]);
    rows = run.rows.map(([e = '', s4 = '', d4 = '', s6 = '', d6 = '', sp = '', dp = '', fl = '', len = '']) => ({
      sec: Number(e.split('.')[0]),
      epoch: Number(e),
      src: s4 || s6,
      dst: d4 || d6,
      sport: sp === '' ? -1 : Number(sp),
      dport: dp === '' ? -1 : Number(dp),
      flags: fl === '' ? -1 : Number(fl),
      len: Number(len),
    }));
  });

  it('silence: no frame at all in its window', () => {
    const a = find('silence');
    expect(a.end - a.start).toBe(3);
    expect(rows.filter((r) => inWindow(r, a))).toEqual([]);
  });

  it('port scan: SYNs from the scanner to as many distinct ports of the target, only in its window', () => {
    const a = find('port-scan');
    const [scanner, target] = a.hosts;
    const syns = rows.filter((r) => r.src === scanner && r.dst === target && r.flags === 0x002);
    expect(syns.length).toBe(a.intensity);
    expect(new Set(syns.map((r) => r.dport)).size).toBe(a.intensity);
    expect(syns.every((r) => inWindow(r, a))).toBe(true);
    // Every probe is answered (RST/ACK or SYN/ACK) by the target.
    const answers = rows.filter((r) => r.src === target && r.dst === scanner && (r.flags === 0x014 || r.flags === 0x012));
    expect(answers.length).toBe(a.intensity);
    expect(a.packets).toBe(rows.filter((r) => (r.src === scanner && r.dst === target) || (r.src === target && r.dst === scanner)).length);
  });

  it('sweep: the prober reaches every listed target on the port within its window', () => {
    const a = find('sweep');
    const [prober] = a.hosts;
    const port = Number(a.params.port);
    const hit = new Set(rows.filter((r) => r.src === prober && r.dport === port && r.flags === 0x002 && inWindow(r, a)).map((r) => r.dst));
    expect(a.targets).toHaveLength(a.intensity);
    for (const t of a.targets ?? []) expect(hit.has(t)).toBe(true);
  });

  it('SYN flood: spoofed sources each send one SYN to the victim and nothing else; no handshake', () => {
    const a = find('syn-flood');
    const [victim] = a.hosts;
    const bySrc = new Map<string, Row[]>();
    for (const r of rows) bySrc.set(r.src, [...(bySrc.get(r.src) ?? []), r]);
    const spoofed = [...bySrc.entries()].filter(([, rs]) => rs.length === 1 && rs[0]?.dst === victim && rs[0]?.flags === 0x002 && inWindow(rs[0], a));
    expect(spoofed.length).toBe(a.spoofedSources);
    expect(a.spoofedSources).toBe(150 * 4);
    const spoofedSet = new Set(spoofed.map(([s]) => s));
    expect(rows.some((r) => spoofedSet.has(r.dst))).toBe(false);
  });

  it('new host: never seen before its start, talking inside its window', () => {
    const a = find('new-host');
    const [h] = a.hosts;
    const mine = rows.filter((r) => r.src === h || r.dst === h);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.sec >= a.start)).toBe(true);
    expect(mine.length).toBe(a.packets);
  });

  it("burst: the host's traffic is about FACTOR times its rate outside anomalies", () => {
    const a = find('burst');
    const [h] = a.hosts;
    const windows = truth.anomalies.map((x) => [x.start, x.end] as const);
    const quiet = (sec: number): boolean => windows.every(([s, e]) => sec < s || sec >= e);
    const per = new Map<number, number>();
    for (const r of rows) if (r.src === h || r.dst === h) per.set(r.sec, (per.get(r.sec) ?? 0) + 1);
    const secs = truth.seconds.map((s) => s.ts);
    const normal = secs.filter(quiet).map((s) => per.get(s) ?? 0);
    const burst = secs.filter((s) => s >= a.start && s < a.end).map((s) => per.get(s) ?? 0);
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    const ratio = mean(burst) / mean(normal);
    expect(ratio).toBeGreaterThan(a.intensity * 0.7);
    expect(ratio).toBeLessThan(a.intensity * 1.3);
    // The truth's own baseline/observed figures describe the same series.
    expect(a.observed.packetsPerSec).toBeCloseTo(mean(burst), 6);
    expect(a.baseline.packetsPerSec.mean).toBeCloseTo(mean(normal), 6);
  });
});
