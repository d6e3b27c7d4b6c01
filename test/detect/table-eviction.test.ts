// Crafted keys against the detectors' fixed tables: the slot of a key is a public, unseeded
// mix (src/detect/addr.ts mixKey), so a sender who knows the code can pick ~24 addresses
// whose keys share a victim's home slot and fill its 24-slot probe window. A full window used
// to refuse the victim's entry (a SYN flood to it, a port scan by it went unreported); it now
// evicts the least useful unprotected entry of the window. The addresses are computed here
// with the same mix the tables use, and the attack is driven through the detect stage.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { mixKey } from '../../src/detect/addr.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { KeyTable } from '../../src/detect/table.js';
import { F, onlyDetector, raised, second, tcp } from './helpers.js';

const MAX_PROBE = 24;

/** Home slot of (a, b, c) in a KeyTable of `capacity` slots: the table's own formula. */
function home(capacity: number, a: number, b: number, c: number): number {
  return (mixKey(a) ^ Math.imul(mixKey(b), 0x9e3779b1) ^ Math.imul(c + 0x632be5ab, 0x85ebca6b)) & (capacity - 1);
}

function ip(x: number): string {
  return `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

function parse(s: string): number {
  return s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** `n` distinct IPv4 addresses (not in `avoid`) whose key (with b, c) has home slot `target`. */
function craft(n: number, capacity: number, b: number, c: number, target: number, avoid: number[]): number[] {
  const out: number[] = [];
  let r = 12345;
  while (out.length < n) {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    const x = (r | 0x01000000) >>> 0;
    if (avoid.includes(x) || out.includes(x)) continue;
    if (home(capacity, x, b, c) === target) out.push(x);
  }
  return out;
}

function run(stage: DetectStage, ts: number, packets: readonly DecodedPacket[]): readonly Alert[] {
  const hook = stage.packetHook;
  if (hook === null) throw new Error('needs packets');
  for (const p of packets) hook(p, ts * 1e6 + 1000, 60);
  return stage.observe(second(ts, { packets: packets.length }));
}

describe('KeyTable eviction', () => {
  const CAP = 64;
  /** Keys (a, 0, 0) that all start their probe at slot 5 of a 64-slot table. */
  const keys = craft(MAX_PROBE + 4, CAP, 0, 0, 5, []);

  it('the test computes the table home slots the way the table does', () => {
    const t = new KeyTable(CAP);
    for (const k of keys) expect(t.home(k, 0, 0)).toBe(home(CAP, k, 0, 0));
  });

  it('without a weigh function a full window refuses (the old behaviour)', () => {
    const t = new KeyTable(CAP);
    for (let i = 0; i < MAX_PROBE; i++) expect(t.upsert(keys[i]!, 0, 0)).toBe((5 + i) & (CAP - 1));
    expect(t.upsert(keys[MAX_PROBE]!, 0, 0)).toBe(-1);
    expect(t.refused).toBe(1);
    expect(t.evicted).toBe(0);
  });

  it('evicts the least useful live entry of the window, never a protected one, ties to the oldest', () => {
    const weight = new Float64Array(CAP);
    const t = new KeyTable(CAP, (s) => weight[s]!);
    for (let i = 0; i < MAX_PROBE; i++) {
      const s = t.upsert(keys[i]!, 0, 0);
      expect(t.inserted).toBe(true);
      expect(t.reused).toBe(false);
      weight[s] = 10 + i;
    }
    // the least useful entry is protected: the next least goes
    const s0 = t.find(keys[0]!, 0, 0);
    const s7 = t.find(keys[7]!, 0, 0);
    const s9 = t.find(keys[9]!, 0, 0);
    const s12 = t.find(keys[12]!, 0, 0);
    weight[s0] = -1;
    weight[s7] = 2;
    weight[s9] = 1;
    weight[s12] = 1;
    const size = t.size;
    const s = t.upsert(keys[MAX_PROBE]!, 0, 0);
    expect(s).toBe(s9); // weight 1, and older than key 12 (also 1)
    expect(t.inserted).toBe(true);
    expect(t.reused).toBe(true);
    expect(t.evictedA).toBe(keys[9]);
    expect(t.evicted).toBe(1);
    expect(t.refused).toBe(0);
    expect(t.size).toBe(size);
    expect(t.find(keys[9]!, 0, 0)).toBe(-1);
    expect(t.find(keys[MAX_PROBE]!, 0, 0)).toBe(s9);
    expect(t.find(keys[0]!, 0, 0)).toBe(s0);
    // ties go to the oldest: the key just put in slot s9 (weight 1) is newer than key 12
    weight[s9] = 1;
    expect(t.upsert(keys[MAX_PROBE + 2]!, 0, 0)).toBe(s12);
    expect(t.evictedA).toBe(keys[12]);
    weight[s12] = 5;
    expect(t.upsert(keys[12]!, 0, 0)).toBe(s9);
    expect(t.evictedA).toBe(keys[MAX_PROBE]);
    expect(t.evicted).toBe(3);
    // an existing key is found, not evicted for
    expect(t.upsert(keys[3]!, 0, 0)).toBe(t.find(keys[3]!, 0, 0));
    expect(t.inserted).toBe(false);
    // every entry protected: refused, nothing evicted
    weight.fill(-1);
    expect(t.upsert(keys[MAX_PROBE + 1]!, 0, 0)).toBe(-1);
    expect(t.inserted).toBe(false);
    expect(t.refused).toBe(1);
    expect(t.evicted).toBe(3);
    expect(t.find(keys[0]!, 0, 0)).toBe(s0);
    expect(t.find(keys[12]!, 0, 0)).toBe(s9);
  });
});

describe('crafted addresses filling a probe window', () => {
  it('a SYN flood to a host whose window was filled by crafted destinations is still raised', () => {
    const VICTIM = '10.10.10.10';
    const v = parse(VICTIM);
    // syn-flood's per-second destination table: 2 x 4096 slots, keys (dst, 0, 0)
    const CAP = 8192;
    const crafted = craft(2 * MAX_PROBE, CAP, 0, 0, home(CAP, v, 0, 0), [v]);
    // the crafted destinations do fill the victim's window: a plain table refuses it
    const plain = new KeyTable(CAP);
    for (const x of crafted.slice(0, MAX_PROBE)) expect(plain.upsert(x, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(plain.upsert(v, 0, 0)).toBe(-1);

    const stage = createDetectStage(onlyDetector((c) => (c.synFlood.enabled = true)));
    const out: Alert[] = [];
    for (let t = 0; t < 4; t++) {
      // each second: 24 crafted destinations first, then the flood with 24 more crafted
      // destinations interleaved among its first SYNs
      const pkts: DecodedPacket[] = [];
      for (const x of crafted.slice(0, MAX_PROBE)) pkts.push(tcp('203.0.113.9', 40000, ip(x), 80, F.SYN));
      for (let i = 0; i < 500; i++) {
        const s = (Math.imul(i + t * 7919, 2654435761) >>> 0) | 0x01000000;
        pkts.push(tcp(ip(s), 1024 + (s % 60000), VICTIM, 80, F.SYN));
        const x = crafted[MAX_PROBE + i];
        if (x !== undefined) pkts.push(tcp('203.0.113.9', 40001, ip(x), 80, F.SYN));
      }
      out.push(...run(stage, 100 + t, pkts));
    }
    for (let t = 4; t < 7; t++) out.push(...run(stage, 100 + t, []));
    expect(raised(out).map((a) => [a.note, a.host])).toEqual([['SYN_Flood', VICTIM]]);
    expect(raised(out)[0]?.value).toBe(500);
  });

  it('a port scan by a host whose pair window was filled by crafted pairs is still raised', () => {
    const SCANNER = '192.168.1.71';
    const TARGET = '192.168.1.1';
    const s = parse(SCANNER);
    const v = parse(TARGET);
    // port-scan's pair table: tableSize / 2 = 16,384 slots, keys (src, dst, ANY = -1);
    // the crafted pairs are spoofed sources probing the same target
    const CAP = 16_384;
    const crafted = craft(2 * MAX_PROBE, CAP, v, -1, home(CAP, s, v, -1), [s, v]);
    const plain = new KeyTable(CAP);
    for (const x of crafted.slice(0, MAX_PROBE)) expect(plain.upsert(x, v, -1)).toBeGreaterThanOrEqual(0);
    expect(plain.upsert(s, v, -1)).toBe(-1);

    const stage = createDetectStage(onlyDetector((c) => (c.portScan.enabled = true)));
    const pkts: DecodedPacket[] = [];
    for (const x of crafted.slice(0, MAX_PROBE)) pkts.push(tcp(ip(x), 40000, TARGET, 7, F.SYN));
    for (let port = 1; port <= 20; port++) {
      pkts.push(tcp(SCANNER, 40000 + port, TARGET, port, F.SYN));
      pkts.push(tcp(TARGET, port, SCANNER, 40000 + port, F.RST | F.ACK));
      // more crafted pairs while the scan runs
      for (const x of crafted.slice(MAX_PROBE + (port - 1), MAX_PROBE + port)) pkts.push(tcp(ip(x), 40000, TARGET, 7, F.SYN));
    }
    const out = [...run(stage, 100, pkts)];
    for (let t = 101; t <= 103; t++) out.push(...run(stage, t, []));
    expect(raised(out).map((a) => [a.note, a.host, a.value])).toEqual([['Port_Scan', SCANNER, 20]]);
  });
});
