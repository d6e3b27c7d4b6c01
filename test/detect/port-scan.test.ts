// port-scan: scripted per-packet sequences through the stage's packet hook. Expected
// alerts follow from the script: which attempts were answered and how many targets.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, arp, onlyDetector, raised, resolved, second, tcp, udp } from './helpers.js';

function pstage(edit: (c: DetectConfig) => void = () => undefined): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.portScan.enabled = true;
      edit(c);
    }),
  );
}

function send(stage: DetectStage, ts: number, packets: readonly DecodedPacket[]): readonly Alert[] {
  const hook = stage.packetHook;
  if (hook === null) throw new Error('port-scan needs packets');
  for (const p of packets) hook(p, ts * 1e6, 60);
  return stage.observe(second(ts, { packets: packets.length }));
}

const SCANNER = '192.168.1.71';
const TARGET = '192.168.1.1';

describe('port-scan', () => {
  it('raises Port_Scan when one source probes many closed ports of one host, and resolves after it stops', () => {
    const stage = pstage();
    const probes: DecodedPacket[] = [];
    for (let port = 1; port <= 20; port++) {
      probes.push(tcp(SCANNER, 40000 + port, TARGET, port, F.SYN));
      probes.push(tcp(TARGET, port, SCANNER, 40000 + port, F.RST | F.ACK));
    }
    const out = [...send(stage, 100, probes)];
    for (let t = 101; t <= 110; t++) out.push(...send(stage, t, []));
    // Judged one second later (answers may still come), resolved 5 quiet seconds after.
    expect(out.map((a) => [a.state, a.note, a.host, a.ts])).toEqual([
      ['raised', 'Port_Scan', SCANNER, 101],
      ['resolved', 'Port_Scan', SCANNER, 106],
    ]);
    expect(out[0]?.value).toBe(20);
    expect(out[0]?.threshold).toBe(15);
    expect(out[0]?.message).toContain(`20 ports of ${TARGET}`);
    // The 20 ports stay counted for the window after the scan stops: the resolve says
    // why it ended instead of "now 20 distinct_ports", which read as if it went on.
    expect(out[1]?.message).toBe(`Port_Scan on ${SCANNER} resolved after 5 s: peak 20 distinct_ports, no new unanswered attempts past the limit for 5 s`);
  });

  it('does not count attempts answered with a SYN-ACK (open ports, busy clients)', () => {
    const stage = pstage();
    const pk: DecodedPacket[] = [];
    // A client reaching 60 web servers on 443, every one answering.
    for (let i = 1; i <= 60; i++) {
      const server = `203.0.113.${i}`;
      pk.push(tcp('10.0.0.5', 50000 + i, server, 443, F.SYN));
      pk.push(tcp(server, 443, '10.0.0.5', 50000 + i, F.SYN | F.ACK));
      pk.push(tcp('10.0.0.5', 50000 + i, server, 443, F.ACK));
    }
    // DNS lookups to one resolver: answered UDP.
    for (let i = 0; i < 50; i++) {
      pk.push(udp('10.0.0.5', 30000 + i, '10.0.0.53', 53));
      pk.push(udp('10.0.0.53', 53, '10.0.0.5', 30000 + i));
    }
    expect(send(stage, 1, pk)).toEqual([]);
  });

  it('raises Address_Scan for one port on many hosts, IPv4 and IPv6', () => {
    const stage = pstage();
    const pk: DecodedPacket[] = [];
    for (let i = 1; i <= 30; i++) pk.push(tcp('10.9.9.9', 61000, `10.0.1.${i}`, 22, F.SYN));
    for (let i = 1; i <= 30; i++) pk.push(tcp('fd00::99', 61000, `fd00::1:${i.toString(16)}`, 3389, F.SYN));
    expect(send(stage, 7, pk)).toEqual([]);
    const out = raised(send(stage, 8, []));
    expect(out.map((a) => [a.note, a.host, a.value])).toEqual([
      ['Address_Scan', '10.9.9.9', 30],
      ['Address_Scan', 'fd00::99', 30],
    ]);
    expect(out[1]?.message).toContain('port 3389 of 30 hosts');
  });

  it('sees an ARP sweep as an address scan; replies take attempts back', () => {
    const batch1 = (): DecodedPacket[] => {
      const pk: DecodedPacket[] = [];
      for (let i = 2; i < 60; i++) pk.push(arp(1, SCANNER, `192.168.1.${i}`));
      // 40 of the 58 addresses answer: 18 unanswered < 25.
      for (let i = 2; i < 42; i++) pk.push(arp(2, `192.168.1.${i}`, SCANNER));
      return pk;
    };
    const answered = pstage();
    expect(send(answered, 1, batch1())).toEqual([]);
    expect(send(answered, 2, [])).toEqual([]);
    expect(send(answered, 3, [])).toEqual([]);

    const sweep = pstage();
    expect(send(sweep, 1, batch1())).toEqual([]);
    const more: DecodedPacket[] = [];
    for (let i = 60; i < 80; i++) more.push(arp(1, SCANNER, `192.168.1.${i}`));
    const out = raised(send(sweep, 2, more));
    // 18 + 20 unanswered, less 192.168.1.71: asking for one's own address is not an attempt.
    expect(out.map((a) => [a.note, a.host, a.value])).toEqual([['Address_Scan', SCANNER, 37]]);
    expect(out[0]?.message).toContain('ARP requests for 37 hosts');

    // Gratuitous ARP and probes from 0.0.0.0 are not attempts.
    const quiet = pstage();
    const g: DecodedPacket[] = [];
    for (let i = 2; i < 60; i++) g.push(arp(1, `192.168.1.${i}`, `192.168.1.${i}`), arp(1, '0.0.0.0', `192.168.2.${i}`));
    expect(send(quiet, 1, g)).toEqual([]);
    expect(send(quiet, 2, [])).toEqual([]);
  });

  it('counts across the window: a slow scan is seen when the distinct count reaches the limit', () => {
    const stage = pstage((c) => (c.portScan.window = 60));
    const out: Alert[] = [];
    for (let t = 0; t < 20; t++) out.push(...send(stage, t, [tcp(SCANNER, 40000 + t, TARGET, 1000 + t, F.SYN)]));
    // The 15th port comes at t=14 and is judged at t=15, when the 16th has arrived.
    expect(raised(out).map((a) => [a.note, a.ts, a.value])).toEqual([['Port_Scan', 15, 16]]);
  });

  it('keeps memory fixed under a spoofed flood and counts what it could not track', () => {
    const stage = pstage((c) => (c.portScan.tableSize = 1024));
    const pk: DecodedPacket[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = `${1 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.1`;
      pk.push(tcp(a, 1024 + (i % 5000), '10.10.10.10', 80, F.SYN));
    }
    send(stage, 1, pk);
    expect(stage.stats().untracked['port-scan']).toBeGreaterThan(0);
  });

  it('judges a scan in the last second at the end of input, and resolves it there', () => {
    const stage = pstage();
    const pk: DecodedPacket[] = [];
    for (let i = 1; i <= 30; i++) pk.push(tcp('10.9.9.9', 61000, `10.0.1.${i}`, 22, F.SYN));
    expect(send(stage, 7, pk)).toEqual([]);
    const end = stage.finish(7.9);
    expect(end.map((a) => [a.state, a.host, a.ts])).toEqual([
      ['raised', '10.9.9.9', 7],
      ['resolved', '10.9.9.9', 7],
    ]);
    expect(resolved(end)[0]?.message).toContain('end of input');
  });

  it('judges a source by the second of its packets, not by when the pipeline closes seconds', () => {
    const stage = pstage();
    const hook = stage.packetHook;
    if (hook === null) throw new Error('port-scan needs packets');
    // The sweep happens in second 52; the pipeline closes 50 and 51 only after seeing it.
    for (let i = 1; i <= 30; i++) hook(tcp('10.9.9.9', 61000, `10.0.1.${i}`, 22, F.SYN), 52e6 + i, 60);
    expect(stage.observe(second(50))).toEqual([]);
    expect(stage.observe(second(51))).toEqual([]);
    expect(stage.observe(second(52))).toEqual([]);
    expect(raised(stage.observe(second(53))).map((a) => [a.host, a.ts])).toEqual([['10.9.9.9', 53]]);
  });

  it('counts open ports a SYN scanner resets with a bare RST, but not connections aborted with RST+ACK', () => {
    const synScan = pstage();
    const abort = pstage();
    const a: DecodedPacket[] = [];
    const b: DecodedPacket[] = [];
    for (let port = 1; port <= 20; port++) {
      const open = [tcp(SCANNER, 40000 + port, TARGET, port, F.SYN), tcp(TARGET, port, SCANNER, 40000 + port, F.SYN | F.ACK)];
      a.push(...open, tcp(SCANNER, 40000 + port, TARGET, port, F.RST));
      b.push(...open, tcp(SCANNER, 40000 + port, TARGET, port, F.ACK), tcp(SCANNER, 40000 + port, TARGET, port, F.RST | F.ACK));
    }
    send(synScan, 1, a);
    send(abort, 1, b);
    expect(raised(send(synScan, 2, [])).map((x) => [x.note, x.value])).toEqual([['Port_Scan', 20]]);
    expect(send(abort, 2, [])).toEqual([]);
  });
});
