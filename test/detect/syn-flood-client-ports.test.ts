// syn-flood with clients on ephemeral ports >= 32768 (Linux 32768-60999, Windows 49152-65535):
// the half-open table's third key is (clientPort << 16 | serverPort), which such ports make
// negative as an int32; written unsigned it never matched the table's Int32Array, so no
// handshake from them was ever counted and a busy server looked flooded (found by predicting
// syn-flood from tshark's fields on the corpus: ppp-example.pcap, a browser's 13 connections
// to one web server in a second, all completed, raised SYN_Flood at minRate 5).
// Expected values are the README's definition worked by hand: flooded when SYNs >= minRate
// and SYNs >= ratio x handshakes completed.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { F, onlyDetector, second, tcp } from './helpers.js';

type Timed = [number, DecodedPacket];

/** n SYNs to server:443 spread over second `sec` from client ports port0.., the last
 *  `complete` of them answered and ACKed 20 ms later. */
function traffic(server: string, sec: number, n: number, complete: number, port0: number): Timed[] {
  const out: Timed[] = [];
  for (let i = 0; i < n; i++) {
    const t = sec + (0.5 * i) / n;
    const client = `198.51.${(i >> 8) & 255}.${i & 255}`;
    const port = port0 + i;
    out.push([t, tcp(client, port, server, 443, F.SYN)]);
    if (i >= n - complete) {
      out.push([t + 0.01, tcp(server, 443, client, port, F.SYN | F.ACK)]);
      out.push([t + 0.02, tcp(client, port, server, 443, F.ACK)]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Replay order: second T closes once a packet past T + 2 (the reorder allowance) is seen. */
function run(packets: Timed[], last: number): Alert[] {
  const stage = createDetectStage(onlyDetector((c) => (c.synFlood.enabled = true)));
  const hook = stage.packetHook;
  if (hook === null) throw new Error('syn-flood needs packets');
  const out: Alert[] = [];
  let next = Math.floor(packets[0]?.[0] ?? 0);
  for (const [t, p] of packets) {
    while (Math.floor(t) > next + 2) out.push(...stage.observe(second(next++)));
    hook(p, Math.round(t * 1e6), 60);
  }
  while (next <= last) out.push(...stage.observe(second(next++)));
  out.push(...stage.finish(last));
  return out.filter((a) => a.state === 'raised');
}

describe('syn-flood counts handshakes from client ports >= 32768', () => {
  for (const port0 of [20000, 33000, 49152, 65000 - 300]) {
    it(`300 SYN/s, every handshake completed, client ports from ${port0}: no flood`, () => {
      // 300 SYNs, 300 handshakes: 300 < 10 x 300
      expect(run(traffic('10.0.0.80', 1000, 300, 300, port0), 1005)).toEqual([]);
    });

    it(`300 SYN/s, 35 handshakes completed, client ports from ${port0}: no flood`, () => {
      // 300 < 10 x 35 = 350 (the completed ones are past the first tenth of minRate SYNs)
      expect(run(traffic('10.0.0.80', 1000, 300, 35, port0), 1005)).toEqual([]);
    });

    it(`300 SYN/s, 25 handshakes completed, client ports from ${port0}: flood`, () => {
      // 300 >= 10 x 25 = 250
      const out = run(traffic('10.0.0.80', 1000, 300, 25, port0), 1005);
      expect(out.map((a) => [a.host, a.ts, a.value])).toEqual([['10.0.0.80', 1000, 300]]);
      expect(out[0]?.message).toContain('with 25 handshakes completed');
    });
  }
});

// A flood's first seconds are followed in full until it is judged (the pipeline closes
// seconds a reorder allowance behind the packets), so a big one fills the half-open table
// and none of its next second's SYNs can be followed; that second was "too few to tell" and
// judged no flood, so with raiseAfter 2 a flood of 60,000 then 2,000 spoofed SYN/s was not
// raised (found on ddos-pkt.TCP.synflood.spoofed.pcap: 22,322 then 1,973 SYNs, no ACK at all).
describe('syn-flood whose own first second filled the half-open table', () => {
  it('60,000 then 2,000 spoofed SYNs a second, raiseAfter 2: raised in the second second', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.synFlood.enabled = true;
        c.synFlood.raiseAfter = 2;
      }),
    );
    const hook = stage.packetHook;
    if (hook === null) throw new Error('syn-flood needs packets');
    const pk: Timed[] = [];
    const spoof = (sec: number, n: number): void => {
      for (let i = 0; i < n; i++) {
        const x = (Math.imul(i + sec * 100_003, 2654435761) >>> 0) | 0x01000000;
        pk.push([sec + (0.9 * i) / n, tcp(`${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`, 1024 + (x % 30000), '10.10.10.10', 80, F.SYN)]);
      }
    };
    spoof(100, 60_000);
    spoof(101, 2_000);
    for (const t of [102.5, 103.5, 104.5]) pk.push([t, tcp('10.0.0.1', 5000, '10.0.0.2', 6000, F.SYN)]);
    const out: Alert[] = [];
    let next = 100;
    for (const [t, p] of pk) {
      while (Math.floor(t) > next + 2) out.push(...stage.observe(second(next++)));
      hook(p, Math.round(t * 1e6), 60);
    }
    while (next <= 110) out.push(...stage.observe(second(next++)));
    // both seconds: >= 100 SYNs and no handshake at all (README: flooded), anomalous 100 and 101
    expect(out.filter((a) => a.state === 'raised').map((a) => [a.host, a.ts, a.since, a.value])).toEqual([['10.10.10.10', 101, 100, 2000]]);
  });
});
