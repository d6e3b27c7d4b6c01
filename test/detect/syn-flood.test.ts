// syn-flood: scripted packets; a spoofed flood (no handshake completes) against a busy
// legitimate server (every handshake completes) at the same SYN rate.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, onlyDetector, raised, second, tcp } from './helpers.js';

function sstage(): DetectStage {
  return createDetectStage(onlyDetector((c) => (c.synFlood.enabled = true)));
}

function send(stage: DetectStage, ts: number, packets: readonly DecodedPacket[]): readonly Alert[] {
  const hook = stage.packetHook;
  if (hook === null) throw new Error('syn-flood needs packets');
  for (const p of packets) hook(p, ts * 1e6 + 1000, 60);
  return stage.observe(second(ts));
}

function spoofed(victim: string, n: number, seed: number): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  for (let i = 0; i < n; i++) {
    const x = (Math.imul(i + seed * 100_003, 2654435761) >>> 0) | 0x01000000;
    const src = `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    out.push(tcp(src, 1024 + (x % 60000), victim, 80, F.SYN | (i % 2 === 0 ? F.ECE | F.CWR : 0)));
  }
  return out;
}

function handshakes(server: string, n: number, seed: number, withSynAck: boolean): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  for (let i = 0; i < n; i++) {
    const client = `10.${seed}.${(i >> 8) & 255}.${i & 255}`;
    const port = 20000 + i;
    out.push(tcp(client, port, server, 443, F.SYN));
    if (withSynAck) out.push(tcp(server, 443, client, port, F.SYN | F.ACK));
    out.push(tcp(client, port, server, 443, F.ACK));
    out.push(tcp(client, port, server, 443, F.ACK | F.PSH));
  }
  return out;
}

describe('syn-flood', () => {
  it('raises SYN_Flood for spoofed SYNs (SYN/ECN/CWR too) and resolves after the flood', () => {
    const stage = sstage();
    const out: Alert[] = [];
    for (let t = 0; t < 5; t++) out.push(...send(stage, 100 + t, spoofed('10.10.10.10', 500, t)));
    for (let t = 5; t < 12; t++) out.push(...send(stage, 100 + t, []));
    expect(out.map((a) => [a.state, a.note, a.host, a.ts])).toEqual([
      ['raised', 'SYN_Flood', '10.10.10.10', 100],
      ['resolved', 'SYN_Flood', '10.10.10.10', 109],
    ]);
    expect(out[0]).toMatchObject({ detector: 'syn-flood', severity: 'critical', value: 500, threshold: 100 });
    // the resolve reports the rate when it ended (no SYNs at all), beside the peak
    expect(out[1]).toMatchObject({ value: 0 });
    expect(out[1]?.message).toMatch(/peak 500 syn\/s, now 0 syn\/s/);
  });

  it('stays quiet for a busy server whose handshakes complete, with or without the SYN-ACK in view', () => {
    const stage = sstage();
    for (let t = 0; t < 5; t++) {
      expect(send(stage, t, handshakes('10.0.0.80', 500, t + 1, t % 2 === 0))).toEqual([]);
    }
  });

  it('sees a flood hidden among completed handshakes to the same server', () => {
    const stage = sstage();
    // Handshakes are followed once a destination has a tenth of minRate SYNs in the second.
    const mix = [...spoofed('10.0.0.80', 1000, 9), ...handshakes('10.0.0.80', 50, 1, true)];
    const out = raised(send(stage, 1, mix));
    expect(out.map((a) => [a.host, a.value])).toEqual([['10.0.0.80', 1050]]);
    expect(out[0]?.message).toContain('50 handshakes completed');
  });

  it('judges each destination on its own, IPv6 included, and ignores rates under minRate', () => {
    const stage = sstage();
    const v6: DecodedPacket[] = [];
    for (let i = 0; i < 300; i++) v6.push(tcp(`2001:db8::${(i + 1).toString(16)}`, 40000 + i, '2001:db8:ffff::1', 22, F.SYN));
    const out = raised(send(stage, 1, [...v6, ...spoofed('192.0.2.1', 99, 3)]));
    expect(out.map((a) => a.host)).toEqual(['2001:db8:ffff::1']);
  });

  it('counts by packet time when the pipeline closes seconds late (its reorder allowance)', () => {
    const stage = sstage();
    const hook = stage.packetHook;
    if (hook === null) throw new Error('syn-flood needs packets');
    // Packets of seconds 10..12 arrive before the pipeline closes second 10; the flood is in 12.
    for (const p of handshakes('10.0.0.80', 50, 1, true)) hook(p, 10e6 + 5, 60);
    for (const p of handshakes('10.0.0.80', 50, 2, true)) hook(p, 11e6 + 5, 60);
    for (const p of spoofed('10.10.10.10', 400, 1)) hook(p, 12e6 + 5, 60);
    expect(stage.observe(second(10))).toEqual([]);
    expect(stage.observe(second(11))).toEqual([]);
    const out = stage.observe(second(12));
    expect(out.map((a) => [a.state, a.host, a.ts, a.value])).toEqual([['raised', '10.10.10.10', 12, 400]]);
  });

  it('follows handshakes only for destinations with a tenth of minRate SYNs in the second', () => {
    const stage = sstage();
    // 9 SYNs a second to each of 40 servers, all completing: none reaches 10, no table use.
    for (let t = 0; t < 3; t++) {
      const pk: DecodedPacket[] = [];
      for (let s = 0; s < 40; s++) pk.push(...handshakes(`10.1.${s}.1`, 9, t + 1, true));
      expect(send(stage, t, pk)).toEqual([]);
    }
    expect(stage.stats().untracked['syn-flood']).toBe(0);
  });
});
