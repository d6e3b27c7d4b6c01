// syn-flood on legitimate but demanding traffic (found by a bug hunt): every handshake
// below completes within 60 ms, so the labelled truth is "no flood" for those servers.
// - a burst of connections in the last 50 ms of a second, whose ACKs come in the next one;
// - a legitimate server after (and during) a spoofed flood on another host, which used to
//   fill the half-open table for 30 s and leave the server's handshakes unfollowed.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, onlyDetector, second, tcp } from './helpers.js';

type Timed = [number, DecodedPacket];

function sstage(): DetectStage {
  return createDetectStage(onlyDetector((c) => (c.synFlood.enabled = true)));
}

/** n connections to server:port, SYNs evenly over [from, to) seconds, each completing
 *  (SYN-ACK after rtt/2, ACK after rtt, then a request). */
function connections(server: string, n: number, from: number, to: number, rtt: number, net: number, v6 = false, first = 0): Timed[] {
  const out: Timed[] = [];
  for (let i = first; i < first + n; i++) {
    const t = from + ((to - from) * (i - first)) / n;
    const client = v6 ? `2001:db8:${net}::${(i + 1).toString(16)}` : `198.${net}.${(i >> 8) & 255}.${i & 255}`;
    const port = 10000 + (i % 50000);
    const server6 = server;
    out.push([t, tcp(client, port, server6, 443, F.SYN)]);
    out.push([t + rtt / 2, tcp(server6, 443, client, port, F.SYN | F.ACK)]);
    out.push([t + rtt, tcp(client, port, server6, 443, F.ACK)]);
    out.push([t + rtt + 0.001, tcp(client, port, server6, 443, F.ACK | F.PSH)]);
  }
  return out;
}

function spoofed(victim: string, n: number, from: number, to: number, seed: number): Timed[] {
  const out: Timed[] = [];
  for (let i = 0; i < n; i++) {
    const x = (Math.imul(i + seed * 1_000_003, 2654435761) >>> 0) | 0x01000000;
    const src = `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    out.push([from + ((to - from) * i) / n, tcp(src, 1024 + (x % 60000), victim, 80, F.SYN)]);
  }
  return out;
}

/**
 * Feed packets in time order; close second T once the packet clock passes T + 1 + reorder
 * (replay's reorder allowance of 2, or live's 0 with its timer), then the rest.
 */
function run(stage: DetectStage, packets: Timed[], reorder: number, last: number): Alert[] {
  const hook = stage.packetHook;
  if (hook === null) throw new Error('syn-flood needs packets');
  const sorted = [...packets].sort((a, b) => a[0] - b[0]);
  const out: Alert[] = [];
  let next = Math.floor(sorted[0]?.[0] ?? 0);
  for (const [t, p] of sorted) {
    while (Math.floor(t) > next + reorder) out.push(...stage.observe(second(next++)));
    hook(p, Math.round(t * 1e6), 60);
  }
  while (next <= last) out.push(...stage.observe(second(next++)));
  out.push(...stage.finish(last));
  return out;
}

const keys = (alerts: Alert[]): [string, string | null][] => alerts.filter((a) => a.state === 'raised').map((a) => [a.note, a.host]);

describe('syn-flood on legitimate traffic', () => {
  for (const reorder of [2, 0]) {
    it(`a burst of completed handshakes across a second boundary is no flood (reorder ${reorder})`, () => {
      // 150 SYNs in 5.95..6.0 and 150 in 6.0..6.05, each answered and ACKed 60 ms later.
      const pk = [...connections('10.0.0.80', 300, 1005.95, 1006.05, 0.06, 51)];
      expect(keys(run(sstage(), pk, reorder, 1010))).toEqual([]);
    });

    it(`same over IPv6 (reorder ${reorder})`, () => {
      const pk = [...connections('2001:db8::80', 300, 1005.95, 1006.05, 0.06, 7, true)];
      expect(keys(run(sstage(), pk, reorder, 1010))).toEqual([]);
    });
  }

  it('a legitimate server after a flood on another host is no flood', () => {
    const pk = [...spoofed('10.0.0.1', 40_000, 1002, 1006, 1)];
    for (let s = 1007; s < 1027; s++) pk.push(...connections('10.0.0.80', 200, s, s + 1, 0.02, 51, false, (s - 1007) * 200));
    expect(keys(run(sstage(), pk, 2, 1028))).toEqual([['SYN_Flood', '10.0.0.1']]);
  });

  it('a legitimate server during long floods on other hosts is no flood, and a new flood is still seen', () => {
    const pk: Timed[] = [];
    for (let s = 1000; s < 1040; s++) {
      pk.push(...spoofed('10.0.0.1', 5000, s, s + 1, s));
      pk.push(...spoofed('10.0.0.2', 5000, s, s + 1, s + 7777));
    }
    for (let s = 1010; s < 1030; s++) pk.push(...connections('10.0.0.80', 200, s, s + 1, 0.02, 51, false, (s - 1010) * 200));
    // a third victim from second 1032 on
    for (let s = 1032; s < 1036; s++) pk.push(...spoofed('10.0.0.3', 1000, s, s + 1, s + 555));
    const out = run(sstage(), pk, 2, 1041);
    expect(keys(out).sort()).toEqual([
      ['SYN_Flood', '10.0.0.1'],
      ['SYN_Flood', '10.0.0.2'],
      ['SYN_Flood', '10.0.0.3'],
    ]);
    expect(out.find((a) => a.host === '10.0.0.3' && a.state === 'raised')?.ts).toBe(1032);
  });

  it('a flood is still raised in its first second, in a replay and live', () => {
    const pk = spoofed('10.10.10.10', 500, 1003, 1004, 3);
    const replay = run(sstage(), pk, 2, 1008).filter((a) => a.state === 'raised');
    expect(replay.map((a) => [a.host, a.ts, a.since])).toEqual([['10.10.10.10', 1003, 1003]]);
    const live = run(sstage(), [...pk, [1004.5, tcp('10.9.9.9', 5, '10.9.9.8', 6, F.SYN)]], 0, 1008).filter((a) => a.state === 'raised');
    expect(live.map((a) => [a.host, a.ts, a.since])).toEqual([['10.10.10.10', 1003, 1003]]);
  });
});
