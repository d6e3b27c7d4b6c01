// The project's own captures in pcaps/ against the golden files tshark made for them
// (`npm run golden:update`; these tests need no tshark): totals, seconds, hosts with size
// statistics, and frame by frame the outermost addresses, ports, TCP flags and VLAN ids.
// The .pcap and .pcapng forms of a fixture must give identical frames.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from '../../src/aggregate/address.js';
import type { Report, SecondSummary } from '../../src/aggregate/summary.js';
import { FileSource } from '../../src/capture/file-source.js';
import { decodeFrame } from '../../src/decode/decoder.js';
import { LAYER, createDecodedPacket } from '../../src/decode/packet.js';
import { ndjson, run } from '../helpers/cli.js';
import type { TruthHost } from '../helpers/corpus.js';

const DIR = join(process.cwd(), 'pcaps');

interface GoldenFrame {
  len: number;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  tcpFlags: number | null;
  vlan: number | null;
}

interface OurFrame extends GoldenFrame {
  vlanInner: number | null;
  fragment: boolean;
}

interface Golden {
  capture: string;
  packets: number;
  bytes: number;
  seconds: { ts: number; packets: number; bytes: number }[];
  hosts: TruthHost[];
  frames: GoldenFrame[];
}

function golden(name: string): Golden {
  const text = readFileSync(join(DIR, `${name}.golden`), 'utf8');
  const [header, body] = text.split('\n');
  expect(header).toMatch(/^# golden for .* regenerate with: npm run golden:update/);
  return JSON.parse(body ?? '') as Golden;
}

const captures = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

describe('pcaps/ against tshark goldens', () => {
  it('every capture has its golden file', () => {
    expect(captures.length).toBeGreaterThan(30);
    for (const c of captures) expect(existsSync(join(DIR, `${c}.golden`)), c).toBe(true);
  });

  it.each(captures)('%s: totals, seconds and hosts', (name) => {
    const g = golden(name);
    const r = run(['replay', join(DIR, name), '--json', '--hosts', 'all']);
    expect(r.status, r.stderr).toBe(0);
    const msgs = ndjson(r.stdout);
    const report = msgs.find((m) => m.type === 'report') as unknown as Report;
    expect([report.packets, report.bytes]).toEqual([g.packets, g.bytes]);
    const seconds = msgs
      .filter((m) => m.type === 'summary')
      .map((m) => m as unknown as SecondSummary)
      .filter((s) => s.packets > 0)
      .map((s) => ({ ts: s.ts, packets: s.packets, bytes: s.bytes }));
    expect(seconds).toEqual(g.seconds);
    const got = [...report.hosts].sort((a, b) => (a.addr < b.addr ? -1 : 1));
    expect(got.map((h) => h.addr)).toEqual(g.hosts.map((h) => h.addr));
    got.forEach((h, i) => {
      const w = g.hosts[i];
      for (const d of ['tx', 'rx'] as const) {
        expect([h[d].packets, h[d].bytes]).toEqual([w?.[d].packets, w?.[d].bytes]);
        const ws = w?.[d].size ?? null;
        const hs = h[d].size;
        if (ws === null || hs === null) expect(hs).toEqual(ws);
        else {
          expect([hs.count, hs.min, hs.max]).toEqual([ws.count, ws.min, ws.max]);
          expect(hs.mean).toBeCloseTo(ws.mean, 6);
          expect(hs.stdev).toBeCloseTo(ws.stdev, 6);
          for (const k of ['p50', 'p95', 'p99'] as const) expect(Math.abs(hs[k] - ws[k])).toBeLessThanOrEqual(0.01 * ws[k]);
        }
      }
    });
  });

  it.each(captures.filter((c) => c !== 'demo.pcapng'))('%s: frame by frame', async (name) => {
    const g = golden(name);
    const p = createDecodedPacket();
    const got: OurFrame[] = [];
    await new FileSource({ files: [join(DIR, name)] }).start((f) => {
      decodeFrame(f, p);
      const v = p.ipVersion;
      const addr = (a: number, w: Uint32Array): string | null =>
        v === 4 ? formatIpv4(a) : v === 6 ? formatIpv6(w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 0) : null;
      got.push({
        len: f.wirelen,
        src: addr(p.src4, p.src6),
        dst: addr(p.dst4, p.dst6),
        sport: p.srcPort >= 0 ? p.srcPort : null,
        dport: p.dstPort >= 0 ? p.dstPort : null,
        tcpFlags: p.ipProto === 6 && p.l4Offset >= 0 ? p.tcpFlags : null,
        vlan: p.vlanOuter >= 0 ? p.vlanOuter : null,
        vlanInner: p.vlanInner >= 0 ? p.vlanInner : null,
        fragment: (p.layers & LAYER.fragment) !== 0,
      });
    });
    expect(got.length).toBe(g.frames.length);
    got.forEach((f, i) => {
      const w = g.frames[i];
      if (!w) return;
      const where = `${name} frame ${i + 1}`;
      expect([f.len, f.src, f.dst], where).toEqual([w.len, w.src, w.dst]);
      // tshark names the first TCP/UDP/SCTP header it finds, which for ICMP errors and tunnels
      // is a quoted or inner one, and shows a fragmented datagram's ports only on the frame
      // that completes it: compare where ours is the outermost header's own, unfragmented
      if (f.sport !== null && !f.fragment) expect([f.sport, f.dport], where).toEqual([w.sport, w.dport]);
      if (f.tcpFlags !== null && w.tcpFlags !== null) expect(f.tcpFlags, where).toBe(w.tcpFlags & 0xff);
      // tshark's vlan.id skips 802.1ad tags: its first id is one of our outer two
      if (w.vlan !== null) expect([f.vlan, f.vlanInner], where).toContain(w.vlan);
    });
  });

  it.each(captures.filter((c) => c.endsWith('.pcap') && captures.includes(`${c}ng`)))('%s and its pcapng twin give identical frames', async (name) => {
    const frames = async (path: string): Promise<string[]> => {
      const out: string[] = [];
      await new FileSource({ files: [path] }).start((f) => {
        out.push(`${f.tsMicros} ${f.caplen} ${f.wirelen} ${f.linktype} ${createHash('sha1').update(f.bytes.subarray(f.offset, f.offset + f.caplen)).digest('hex')}`);
      });
      return out;
    };
    const a = await frames(join(DIR, name));
    expect(a.length).toBeGreaterThan(0);
    expect(await frames(join(DIR, `${name}ng`))).toEqual(a);
  });
});
