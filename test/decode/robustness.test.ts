// What must hold for any bytes, not just well-formed ones: a decode depends only on the
// frame (not on the packet decoded before it, nor on bytes outside it), never throws, keeps
// its offsets inside the frame, and walks header stacks and chains only to a bound.

import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decoder.js';
import { MAX_NESTED_FRAMES } from '../../src/decode/ethernet.js';
import { MAX_IPV6_EXTENSIONS } from '../../src/decode/ipv6.js';
import { MAX_MPLS_LABELS } from '../../src/decode/mpls.js';
import { createDecodedPacket } from '../../src/decode/packet.js';
import { MAX_VLAN_TAGS } from '../../src/decode/vlan.js';
import { FIXTURES, bytesOf, difference, frameOver, reading, type Reading } from './fixtures/catalog.js';

function fresh(linktype: number, b: Uint8Array, wirelen = b.length): Reading {
  const out = createDecodedPacket();
  decodeFrame(frameOver(linktype, b, 0, b.length, wirelen), out);
  return reading(out, 0);
}

describe('a decode depends on the frame alone', () => {
  it('decodes every fixture the same after any other fixture', () => {
    const out = createDecodedPacket();
    const bad: string[] = [];
    for (const before of FIXTURES) {
      for (const f of FIXTURES) {
        decodeFrame(frameOver(before.linktype, bytesOf(before), 0, bytesOf(before).length, before.wirelen), out);
        decodeFrame(frameOver(f.linktype, bytesOf(f), 0, bytesOf(f).length, f.wirelen), out);
        const d = difference(reading(out, 0), fresh(f.linktype, bytesOf(f), f.wirelen));
        if (d !== null) bad.push(`${f.name} after ${before.name}: ${d}`);
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe('mutated fixtures (seeded): no throw, no stray read, offsets inside the frame', () => {
  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const b = bytesOf(f);
    let seed = 0x2545f491 ^ b.length;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const out = createDecodedPacket();
    const PAD = 13;
    const bad: string[] = [];
    for (let i = 0; i < 300; i++) {
      const m = b.slice();
      // one to three bytes changed, the first 64 bytes (where the headers are) more often
      for (let k = 1 + rnd(3); k > 0; k--) m[rnd(2) === 0 ? rnd(Math.min(64, m.length)) : rnd(m.length)] = rnd(256);
      const len = rnd(4) === 0 ? rnd(m.length + 1) : m.length;
      const ref = fresh(f.linktype, m.slice(0, len), f.wirelen);
      for (const fill of [0x00, 0xff]) {
        const big = new Uint8Array(PAD + m.length + 32).fill(fill);
        big.set(m, PAD); // the mutated continuation after the cut, then the fill
        decodeFrame(frameOver(f.linktype, big, PAD, len, f.wirelen), out);
        const r = reading(out, PAD);
        const d = difference(r, ref);
        if (d !== null) bad.push(`mutant ${i} cut to ${len}, around ${fill}: ${d}`);
      }
      const r = ref;
      const where = `mutant ${i} cut to ${len}`;
      if (r.anomaly.startsWith('code ')) bad.push(`${where}: unnamed anomaly ${r.anomaly}`);
      if (r.ipVersion !== 0 && (r.ipAt < 0 || r.ipAt + (r.ipVersion === 4 ? 20 : 40) > len)) bad.push(`${where}: IP header at ${r.ipAt}`);
      if (r.l4At !== -1 && (r.l4At <= r.ipAt || r.l4At > len)) bad.push(`${where}: L4 header at ${r.l4At}`);
      for (const port of [r.srcPort, r.dstPort]) if (port < -1 || port > 65535) bad.push(`${where}: port ${port}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe('stacks and chains are walked to a bound', () => {
  const eth = (type: number): number[] => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, type >> 8, type & 0xff];
  const ipv4 = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];

  it(`more than ${MAX_VLAN_TAGS} VLAN tags is vlan_stack_too_deep`, () => {
    const tags: number[] = [];
    for (let i = 0; i < MAX_VLAN_TAGS; i++) tags.push(0, i + 1, 0x81, 0x00);
    const ok = Uint8Array.from([...eth(0x8100), ...tags.slice(0, -2), 0x08, 0x00, ...ipv4]);
    expect(fresh(1, ok)).toMatchObject({ anomaly: 'none', vlanCount: MAX_VLAN_TAGS, ipVersion: 4 });
    const deep = Uint8Array.from([...eth(0x8100), ...tags, 0, 99, 0x08, 0x00, ...ipv4]);
    expect(fresh(1, deep)).toMatchObject({ anomaly: 'vlan_stack_too_deep', ipVersion: 0 });
  });

  it(`more than ${MAX_MPLS_LABELS} MPLS labels is mpls_stack_too_deep`, () => {
    const label = (bottom: boolean): number[] => [0, 0x10, bottom ? 1 : 0, 64];
    const stack = (n: number): number[] => Array.from({ length: n }, (_, i) => label(i === n - 1)).flat();
    expect(fresh(1, Uint8Array.from([...eth(0x8847), ...stack(MAX_MPLS_LABELS), ...ipv4]))).toMatchObject({
      anomaly: 'none',
      mplsCount: MAX_MPLS_LABELS,
      ipVersion: 4,
    });
    expect(fresh(1, Uint8Array.from([...eth(0x8847), ...stack(MAX_MPLS_LABELS + 1), ...ipv4]))).toMatchObject({
      anomaly: 'mpls_stack_too_deep',
      ipVersion: 0,
    });
  });

  it(`more than ${MAX_IPV6_EXTENSIONS} IPv6 extension headers is ipv6_ext_chain_too_long`, () => {
    const v6 = (exts: number): Uint8Array => {
      const chain: number[] = [];
      for (let i = 0; i < exts; i++) chain.push(i === exts - 1 ? 59 : 60, 0, 1, 4, 0, 0, 0, 0); // dstopts, PadN 4
      const hdr = [0x60, 0, 0, 0, 0, chain.length, exts === 0 ? 59 : 60, 64, ...Array<number>(32).fill(0)];
      return Uint8Array.from([...hdr, ...chain]);
    };
    expect(fresh(229, v6(MAX_IPV6_EXTENSIONS))).toMatchObject({ anomaly: 'none', ipVersion: 6, ipProto: 59 });
    expect(fresh(229, v6(MAX_IPV6_EXTENSIONS + 1))).toMatchObject({ anomaly: 'ipv6_ext_chain_too_long', ipVersion: 6 });
  });

  it(`frames nested more than ${MAX_NESTED_FRAMES} deep are encapsulation_too_deep, and never exhaust the stack`, () => {
    // 802.1ah I-TAGs, each before a customer Ethernet header (a frame of 14,000 of them threw
    // RangeError: every level was a call)
    const itags = (n: number): number[] => Array.from({ length: n }, () => [0, 0, 0, 0, ...eth(0x88e7)]).flat();
    const nest = (n: number): Uint8Array => Uint8Array.from([...eth(0x88e7), ...itags(n - 1), 0, 0, 0, 0, ...eth(0x0800), ...ipv4]);
    expect(fresh(1, nest(MAX_NESTED_FRAMES))).toMatchObject({ anomaly: 'none', ipVersion: 4 });
    expect(fresh(1, nest(MAX_NESTED_FRAMES + 1))).toMatchObject({ anomaly: 'encapsulation_too_deep', ipVersion: 0 });
    expect(fresh(1, nest(14_000))).toMatchObject({ anomaly: 'encapsulation_too_deep', ipVersion: 0 });
    // PPP bridging Ethernet (BCP) carrying PPPoE carrying PPP bridging Ethernet ...: a cycle of
    // decoders that no length field bounds
    const cycle = (n: number): number[] => {
      if (n === 0) return [...eth(0x0800), ...ipv4];
      const inner = [0x00, 0x31, 0x00, 0x01, ...cycle(n - 1)]; // PPP protocol, BCP flags, MAC type
      return [...eth(0x8864), 0x11, 0, 0, 1, inner.length >> 8, inner.length & 0xff, ...inner];
    };
    expect(fresh(1, Uint8Array.from(cycle(MAX_NESTED_FRAMES)))).toMatchObject({ anomaly: 'none', ipVersion: 4 });
    expect(fresh(1, Uint8Array.from(cycle(MAX_NESTED_FRAMES + 1)))).toMatchObject({ anomaly: 'encapsulation_too_deep', ipVersion: 0 });
    // and the depth is the frame's own: the next frame starts from nothing
    expect(fresh(1, nest(MAX_NESTED_FRAMES))).toMatchObject({ anomaly: 'none', ipVersion: 4 });
  });
});
