// Every annotated fixture decoded whole: each field of the DecodedPacket against what tcpdump
// (or tshark) printed for that frame (fixtures/*.ts); every link type the decoder claims to
// read has a fixture, and every entry of the three dispatch tables is reached by one; and
// the hex-dump parser the fixtures rely on.

import { describe, expect, it } from 'vitest';
import { decodeFrame, supportedLinktypes } from '../../src/decode/decoder.js';
import { ETHERTYPE_DECODERS, IPPROTO_DECODERS, LINKTYPE_DECODERS, type LayerDecoder } from '../../src/decode/dispatch.js';
import { createDecodedPacket } from '../../src/decode/packet.js';
import { FIXTURES, bytesOf, difference, expectedReading, frameOver, l4At, reading } from './fixtures/catalog.js';
import { parseHexdump, tcpdumpFlags } from './fixtures/fixture.js';

describe('annotated fixtures decode to what tcpdump and tshark read', () => {
  it('has uniquely named fixtures whose bytes fit their wire length', () => {
    const names = FIXTURES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of FIXTURES) expect(bytesOf(f).length, f.name).toBeLessThanOrEqual(f.wirelen);
  });

  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const b = bytesOf(f);
    const want = expectedReading(f.expect, l4At(f, b));
    if (f.expect.ip !== undefined) {
      // the annotation's offset must point at an IP header of the annotated version
      expect((b[f.expect.ip.at] ?? 0) >> 4).toBe(f.expect.ip.version);
    }
    const out = createDecodedPacket();
    // alone in its buffer
    decodeFrame(frameOver(f.linktype, b, 0, b.length, f.wirelen), out);
    expect(reading(out, 0)).toEqual(want);
    // and inside a larger buffer at an odd offset, after a packet that set every field
    const big = new Uint8Array(b.length + 100).fill(0x45);
    big.set(b, 37);
    decodeFrame(frameOver(f.linktype, big, 37, b.length, f.wirelen), out);
    expect(reading(out, 37)).toEqual(want);
  });

  it('has a fixture for every link type the decoder reads', () => {
    const covered = new Set(FIXTURES.map((f) => f.linktype));
    expect(supportedLinktypes().filter((t) => !covered.has(t))).toEqual([]);
  });

  it('reaches every entry of the dispatch tables (link type, EtherType, IP protocol) from some fixture', () => {
    // count the calls through each table entry while every fixture is decoded, then put them back
    const reached: string[] = [];
    const counted = (name: string, d: LayerDecoder): LayerDecoder => (b, off, end, out) => {
      reached.push(name);
      d(b, off, end, out);
    };
    const links = new Map(LINKTYPE_DECODERS);
    const ethertypes = [...ETHERTYPE_DECODERS];
    const ipprotos = [...IPPROTO_DECODERS];
    const entries: string[] = [];
    try {
      for (const [t, d] of links) {
        LINKTYPE_DECODERS.set(t, counted(`link type ${t}`, d));
        entries.push(`link type ${t}`);
      }
      ethertypes.forEach((d, t) => {
        if (d === undefined) return;
        ETHERTYPE_DECODERS[t] = counted(`EtherType 0x${t.toString(16)}`, d);
        entries.push(`EtherType 0x${t.toString(16)}`);
      });
      ipprotos.forEach((d, p) => {
        if (d === undefined) return;
        IPPROTO_DECODERS[p] = counted(`IP protocol ${p}`, d);
        entries.push(`IP protocol ${p}`);
      });
      const out = createDecodedPacket();
      for (const f of FIXTURES) decodeFrame(frameOver(f.linktype, bytesOf(f), 0, bytesOf(f).length, f.wirelen), out);
    } finally {
      for (const [t, d] of links) LINKTYPE_DECODERS.set(t, d);
      ethertypes.forEach((d, t) => (ETHERTYPE_DECODERS[t] = d));
      ipprotos.forEach((d, p) => (IPPROTO_DECODERS[p] = d));
    }
    expect(entries.length).toBeGreaterThan(30);
    expect(entries.filter((e) => !reached.includes(e))).toEqual([]);
  });

  it('has a fixture for a link type the decoder does not read', () => {
    const supported = new Set(supportedLinktypes());
    const unsupported = FIXTURES.filter((f) => !supported.has(f.linktype));
    expect(unsupported.length).toBeGreaterThan(0);
    for (const f of unsupported) expect(f.expect.anomaly).toBe('unsupported_link_type');
  });

  it('every reading differs from a fresh packet in some field (no fixture is vacuous)', () => {
    const fresh = reading(createDecodedPacket(), 0);
    for (const f of FIXTURES) expect(difference(expectedReading(f.expect, -1), fresh), f.name).not.toBeNull();
  });
});

describe('the hex dump parser', () => {
  const dump = `
	0x0000:  0800 276e cf4a 0a00 2700 0000 0800 4500  ..'n.J..'.....E.
	0x0010:  0040 42                                  .@B`;

  it('reads tcpdump -XX lines, ignoring the ASCII column', () => {
    expect([...parseHexdump(dump)]).toEqual([
      0x08, 0x00, 0x27, 0x6e, 0xcf, 0x4a, 0x0a, 0x00, 0x27, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x40, 0x42,
    ]);
  });

  it('rejects a dump whose offsets do not follow the bytes', () => {
    expect(() => parseHexdump(dump.replace('0x0010', '0x0020'))).toThrow(/offset/);
    // a line with a byte too few: the next offset no longer follows
    expect(() => parseHexdump(dump.replace('0800 4500  ..', '0800 45    ..'))).toThrow(/offset/);
    expect(() => parseHexdump(dump.replace('0800 4500  ..', '0800 45x0  ..'))).toThrow(/bad hex/);
    expect(() => parseHexdump(`${dump}\n\t0x0013:  00`)).toThrow(/short line/);
    expect(() => parseHexdump('0x0000 0800')).toThrow(/not a tcpdump/);
  });

  it("turns tcpdump's flag letters into the TCP flag byte", () => {
    expect(tcpdumpFlags('S')).toBe(0x02);
    expect(tcpdumpFlags('S.')).toBe(0x12);
    expect(tcpdumpFlags('FP.')).toBe(0x19);
    expect(tcpdumpFlags('SEW')).toBe(0xc2);
    expect(() => tcpdumpFlags('X')).toThrow();
  });
});
