// PcapngWriter, checked against the pcapng specification (draft-ietf-opsawg-pcapng: block
// layout, lengths, options) with a walker written here from the spec, and against tshark
// (interfaces, link types, if_tsresol decimal and binary, if_tsoffset, both byte orders).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter, type PcapngInterface, type PcapngWriterOptions } from '../../src/capture/pcapng-writer.js';
import { LINKTYPE } from '../../src/decode/linktype.js';
import { openOutput } from '../../src/capture/writer-output.js';
import { tsharkFields, tsharkSkipReason } from '../synth/tshark.js';

const skip = tsharkSkipReason();
if (skip !== null) console.warn(`skipping pcapng writer tshark tests: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'netpulse-pcapngw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Block {
  type: number;
  body: Buffer;
}

/** Walk the blocks of a one-section pcapng file; every length is checked as the spec requires. */
function blocks(file: Buffer): { le: boolean; blocks: Block[] } {
  expect(file.readUInt32BE(0)).toBe(0x0a0d0d0a);
  const bom = file.readUInt32LE(8);
  const le = bom === 0x1a2b3c4d;
  if (!le) expect(file.readUInt32BE(8)).toBe(0x1a2b3c4d);
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const out: Block[] = [];
  let o = 0;
  while (o < file.length) {
    const type = u32(o);
    const len = u32(o + 4);
    expect(len % 4).toBe(0);
    expect(len).toBeGreaterThanOrEqual(12);
    expect(o + len).toBeLessThanOrEqual(file.length);
    expect(u32(o + len - 4)).toBe(len); // trailing length repeats the leading one
    out.push({ type, body: file.subarray(o + 8, o + len - 4) });
    o += len;
  }
  return { le, blocks: out };
}

function options(body: Buffer, from: number, le: boolean): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  let o = from;
  while (o + 4 <= body.length) {
    const code = le ? body.readUInt16LE(o) : body.readUInt16BE(o);
    const len = le ? body.readUInt16LE(o + 2) : body.readUInt16BE(o + 2);
    if (code === 0) {
      expect(len).toBe(0);
      expect(o + 4).toBe(body.length); // opt_endofopt is last
      return m;
    }
    m.set(code, body.subarray(o + 4, o + 4 + len));
    o += 4 + ((len + 3) & ~3);
  }
  expect(o).toBe(body.length);
  return m;
}

function frame(len: number, fill: number): Uint8Array {
  return new Uint8Array(len).fill(fill);
}

/** What tshark shows for a time stored in 2^-exp units (it divides down, truncating). */
function binaryEpoch(sec: number, nsec: number, exp: number): string {
  const units = (BigInt(nsec) << BigInt(exp)) / 1_000_000_000n;
  const ns = (units * 1_000_000_000n) >> BigInt(exp);
  return `${sec}.${ns.toString().padStart(9, '0')}`;
}
function decimalEpoch(sec: number, nsec: number, exp: number): string {
  const step = 10 ** (9 - exp);
  return `${sec}.${String(nsec - (nsec % step)).padStart(9, '0')}`;
}

const TWO_IFACES: PcapngInterface[] = [
  { linktype: LINKTYPE.ETHERNET, tsresol: { base: 10, exp: 9 }, name: 'eth0' },
  { linktype: LINKTYPE.RAW, tsresol: { base: 2, exp: 20 }, tsoffset: 1_600_000_000, snaplen: 80 },
];
const PACKETS: { iface: number; sec: number; nsec: number; len: number }[] = [
  { iface: 0, sec: 1_700_000_000, nsec: 123_456_789, len: 60 },
  { iface: 1, sec: 1_700_000_000, nsec: 999_999_999, len: 41 },
  { iface: 1, sec: 1_700_000_001, nsec: 1, len: 200 },
  { iface: 0, sec: 4_294_967_295, nsec: 999_999_999, len: 63 },
  { iface: 1, sec: 1_600_000_000, nsec: 500_000_000, len: 20 },
];

async function writeTwo(name: string, opts: PcapngWriterOptions): Promise<string> {
  const path = join(dir, name);
  const w = new PcapngWriter(openOutput(path), { ...opts, interfaces: TWO_IFACES });
  for (const p of PACKETS) {
    // RAW frames start with an IPv4 header so tshark has something to dissect.
    const f = frame(p.len, 0);
    if (p.iface === 1) f.set([0x45, 0, 0, p.len, 0, 0, 0x40, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2], 0);
    w.writePacket(p.sec, p.nsec, f, p.len, p.iface);
  }
  await w.close();
  return path;
}

describe('pcapng blocks, as the specification lays them out', () => {
  for (const byteOrder of ['le', 'be'] as const) {
    it(`SHB, two IDBs with options, EPBs (${byteOrder})`, async () => {
      const file = readFileSync(await writeTwo(`spec-${byteOrder}.pcapng`, { byteOrder }));
      const { le, blocks: bs } = blocks(file);
      expect(le).toBe(byteOrder === 'le');
      expect(bs.map((b) => b.type)).toEqual([0x0a0d0d0a, 1, 1, 6, 6, 6, 6, 6]);
      const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const [shb, idb0, idb1, ...epbs] = bs;
      if (shb === undefined || idb0 === undefined || idb1 === undefined) throw new Error('missing blocks');
      // SHB: version 1.0, section length -1 (unknown), shb_userappl.
      expect([u16(shb.body, 4), u16(shb.body, 6)]).toEqual([1, 0]);
      expect(shb.body.subarray(8, 16).equals(Buffer.alloc(8, 0xff))).toBe(true);
      expect(options(shb.body, 16, le).get(4)?.toString()).toBe('netpulse');
      // IDB 0: Ethernet, snaplen 0 (none), if_name eth0, if_tsresol 9 (10^-9).
      expect([u16(idb0.body, 0), u16(idb0.body, 2), u32(idb0.body, 4)]).toEqual([1, 0, 0]);
      const o0 = options(idb0.body, 8, le);
      expect(o0.get(2)?.toString()).toBe('eth0');
      expect([...(o0.get(9) ?? [])]).toEqual([9]);
      // IDB 1: RAW, snaplen 80, if_tsresol 0x80|20 (2^-20), if_tsoffset 1600000000 as int64.
      expect([u16(idb1.body, 0), u32(idb1.body, 4)]).toEqual([101, 80]);
      const o1 = options(idb1.body, 8, le);
      expect([...(o1.get(9) ?? [])]).toEqual([0x80 | 20]);
      const off = o1.get(14) ?? Buffer.alloc(8);
      expect(le ? off.readBigInt64LE(0) : off.readBigInt64BE(0)).toBe(1_600_000_000n);
      // EPBs: interface, 64-bit timestamp in the interface's units, lengths, padding.
      epbs.forEach((b, i) => {
        const p = PACKETS[i];
        if (p === undefined) throw new Error('extra EPB');
        const caplen = p.iface === 1 ? Math.min(p.len, 80) : p.len;
        expect(u32(b.body, 0)).toBe(p.iface);
        const ts = (BigInt(u32(b.body, 4)) << 32n) | BigInt(u32(b.body, 8));
        const expected =
          p.iface === 0
            ? BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec)
            : (BigInt(p.sec - 1_600_000_000) << 20n) + (BigInt(p.nsec) << 20n) / 1_000_000_000n;
        expect(ts).toBe(expected);
        expect([u32(b.body, 12), u32(b.body, 16)]).toEqual([caplen, p.len]);
        expect(b.body.length).toBe(20 + ((caplen + 3) & ~3)); // data padded to 32 bits, no options
        expect(b.body.subarray(20 + caplen).every((x) => x === 0)).toBe(true);
      });
    });
  }

  it('refuses resolutions it cannot write exactly, and unknown interfaces', () => {
    const w = new PcapngWriter(openOutput(join(dir, 'r.pcapng')), {});
    expect(() => w.addInterface({ linktype: 1, tsresol: { base: 10, exp: 12 } })).toThrow(RangeError);
    expect(() => w.addInterface({ linktype: 1, tsresol: { base: 2, exp: 40 } })).toThrow(RangeError);
    expect(() => w.writePacket(1, 0, frame(60, 0), 60, 0)).toThrow(RangeError);
    w.out.abort();
  });
});

describe.skipIf(skip !== null)('pcapng read by tshark', () => {
  for (const byteOrder of ['le', 'be'] as const) {
    it(`two interfaces, Ethernet 10^-9 and RAW 2^-20 with if_tsoffset (${byteOrder})`, async () => {
      const file = await writeTwo(`two-${byteOrder}.pcapng`, { byteOrder });
      const r = tsharkFields(file, ['frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols']);
      expect(r.status).toBe(0);
      expect(r.warnings).toEqual([]);
      const rows = r.rows.map(([i, e, l, c, p = '']) => [i, e, l, c, p.split(':').slice(0, 2).join(':')]);
      expect(rows).toEqual(
        PACKETS.map((p) => [
          String(p.iface),
          p.iface === 0 ? decimalEpoch(p.sec, p.nsec, 9) : binaryEpoch(p.sec, p.nsec, 20),
          String(p.len),
          String(p.iface === 1 ? Math.min(p.len, 80) : p.len),
          p.iface === 0 ? 'eth:ethertype' : 'raw:ip',
        ]),
      );
    });
  }

  it('every decimal resolution from seconds to nanoseconds', async () => {
    const path = join(dir, 'decimal.pcapng');
    const w = new PcapngWriter(openOutput(path), {});
    for (let exp = 0; exp <= 9; exp++) w.addInterface({ linktype: LINKTYPE.ETHERNET, tsresol: { base: 10, exp } });
    for (let exp = 0; exp <= 9; exp++) w.writePacket(1_700_000_000 + exp, 987_654_321, frame(60, exp), 60, exp);
    await w.close();
    const r = tsharkFields(path, ['frame.time_epoch']);
    expect(r.warnings).toEqual([]);
    expect(r.rows.map(([e]) => e)).toEqual(Array.from({ length: 10 }, (_, exp) => decimalEpoch(1_700_000_000 + exp, 987_654_321, exp)));
  });
});
