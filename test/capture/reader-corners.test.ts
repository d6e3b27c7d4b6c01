// Corners of the capture formats found by differential testing against tshark 4.0 and
// libpcap 1.10 (tcpdump 4.99) on crafted files. Each file is laid out here byte by byte from
// the format's definition, so the expected values come from the construction, not from
// netpulse: pcap record headers as libpcap's sf-pcap.c reads them (the captured and original
// lengths were interchanged at version 2.3; before it they are in the other order, and a 2.3
// file may hold either), pcapng options and simple packet blocks as draft-ietf-opsawg-pcapng
// lays them out, snoop headers as RFC 1761 does.

import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import type { Frame } from '../../src/capture/frame.js';
import { pcapngBlock } from '../helpers/pcapng.js';

interface Rec {
  ts: number;
  caplen: number;
  wirelen: number;
  first: number;
}

async function read(bytes: Buffer): Promise<{ recs: Rec[]; error: string | null; offset: number | null }> {
  const recs: Rec[] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  const end = await new FileSource({ files: ['-'], stdin: gen() }).start((f: Frame) =>
    recs.push({ ts: f.tsMicros, caplen: f.caplen, wirelen: f.wirelen, first: f.caplen > 0 ? (f.bytes[f.offset] ?? -1) : -1 }),
  );
  return { recs, error: end.error?.code ?? null, offset: end.error?.offset ?? null };
}

const T0 = 1_700_000_000;

/** A frame of `n` bytes whose first byte is `tag` (the rest does not matter to the reader). */
function frame(n: number, tag: number): Buffer {
  const b = Buffer.alloc(n, 0x11);
  if (n > 0) b[0] = tag;
  return b;
}

// ---- pcap ----

function pcapFile(le: boolean, major: number, minor: number, records: Buffer[]): Buffer {
  const h = Buffer.alloc(24);
  const w32 = (v: number, o: number): number => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  const w16 = (v: number, o: number): number => (le ? h.writeUInt16LE(v, o) : h.writeUInt16BE(v, o));
  w32(0xa1b2c3d4, 0);
  w16(major, 4);
  w16(minor, 6);
  w32(65535, 16);
  w32(1, 20);
  return Buffer.concat([h, ...records]);
}

/** A record header with the two length fields as given (first at byte 8, second at 12). */
function rec(le: boolean, sec: number, usec: number, at8: number, at12: number, data: Buffer): Buffer {
  const h = Buffer.alloc(16);
  const w = (v: number, o: number): number => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w(sec, 0);
  w(usec, 4);
  w(at8, 8);
  w(at12, 12);
  return Buffer.concat([h, data]);
}

describe('pcap format versions (libpcap sf-pcap.c; tshark and tcpdump read these the same)', () => {
  it.each([true, false])('2.3 with the lengths in the old order is read swapped when "captured" > "original" (little-endian %s)', async (le) => {
    // record 1: original 100 first, captured 60 second (pre-2.3 order): 60 bytes follow
    // record 2: both 70 (either order)
    // record 3: in the 2.3 order, captured 40 < original 90
    const f = pcapFile(le, 2, 3, [
      rec(le, T0, 1, 100, 60, frame(60, 1)),
      rec(le, T0 + 1, 2, 70, 70, frame(70, 2)),
      rec(le, T0 + 2, 3, 40, 90, frame(40, 3)),
    ]);
    const r = await read(f);
    expect(r.error).toBeNull();
    expect(r.recs).toEqual([
      { ts: T0 * 1e6 + 1, caplen: 60, wirelen: 100, first: 1 },
      { ts: (T0 + 1) * 1e6 + 2, caplen: 70, wirelen: 70, first: 2 },
      { ts: (T0 + 2) * 1e6 + 3, caplen: 40, wirelen: 90, first: 3 },
    ]);
  });

  it('before 2.3 (2.2, and DG/UX 543.0) the original length always comes first', async () => {
    for (const [major, minor] of [
      [2, 2],
      [2, 0],
      [543, 0],
    ] as const) {
      const f = pcapFile(true, major, minor, [rec(true, T0, 1, 100, 60, frame(60, 1)), rec(true, T0, 2, 90, 90, frame(90, 2))]);
      const r = await read(f);
      expect({ major, minor, ...r }).toEqual({
        major,
        minor,
        error: null,
        offset: null,
        recs: [
          { ts: T0 * 1e6 + 1, caplen: 60, wirelen: 100, first: 1 },
          { ts: T0 * 1e6 + 2, caplen: 90, wirelen: 90, first: 2 },
        ],
      });
    }
  });

  it('2.4 is never swapped: a record with captured > original keeps both as written', async () => {
    const r = await read(pcapFile(true, 2, 4, [rec(true, T0, 1, 80, 60, frame(80, 1))]));
    expect(r.recs).toEqual([{ ts: T0 * 1e6 + 1, caplen: 80, wirelen: 60, first: 1 }]);
  });

  it('major version 1 ("archaic" to libpcap, unsupported to tshark) is refused at the version field', async () => {
    const r = await read(pcapFile(true, 1, 0, [rec(true, T0, 1, 60, 60, frame(60, 1))]));
    expect(r.recs).toEqual([]);
    expect(r.error).toBe('ERR_UNSUPPORTED_FORMAT');
    expect(r.offset).toBe(4);
  });
});

// ---- pcapng ----

const SHB = pcapngBlock(0x0a0d0d0a, Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));

function opt(code: number, value: Buffer, declared = value.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(code, 0);
  h.writeUInt16LE(declared, 2);
  return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}
const i64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
};
const END = Buffer.alloc(4);

function idb(options: Buffer, snaplen = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(1, 0); // Ethernet
  h.writeUInt32LE(snaplen, 4);
  return pcapngBlock(1, Buffer.concat([h, options]));
}

function epb(units: bigint, data: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(Number(units >> 32n), 4);
  h.writeUInt32LE(Number(units & 0xffffffffn), 8);
  h.writeUInt32LE(data.length, 12);
  h.writeUInt32LE(data.length, 16);
  return pcapngBlock(6, Buffer.concat([h, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
}

function spb(orig: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(orig, 0);
  return pcapngBlock(3, Buffer.concat([h, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
}

describe('pcapng interface options that are there twice or have the wrong length (tshark 4.0 reads the file; libpcap refuses it)', () => {
  const units = BigInt(T0) * 1_000_000n + 7n;

  it('a second if_tsresol does not replace the first (the spec allows one): 9 then 6 is nanoseconds', async () => {
    const r = await read(Buffer.concat([SHB, idb(Buffer.concat([opt(9, Buffer.from([9])), opt(9, Buffer.from([6])), END])), epb(units, frame(60, 1))]));
    expect(r.error).toBeNull();
    // T0 * 10^6 + 7 nanoseconds = 1,700,000.000000007 s (tshark: frame.time_epoch 1700000.000000007)
    expect(r.recs.map((x) => x.ts)).toEqual([1_700_000_000_000]);
  });

  it('a second if_tsoffset does not replace the first: 100 then 200 s is 100 s', async () => {
    const r = await read(Buffer.concat([SHB, idb(Buffer.concat([opt(14, i64(100n)), opt(14, i64(200n)), END])), epb(units, frame(60, 1))]));
    expect(r.recs.map((x) => x.ts)).toEqual([(T0 + 100) * 1e6 + 7]);
  });

  it('an if_tsresol whose length is not 1 is not a resolution: microseconds stay', async () => {
    const r = await read(Buffer.concat([SHB, idb(Buffer.concat([opt(9, Buffer.from([9, 0])), END])), epb(units, frame(60, 1))]));
    expect(r.error).toBeNull();
    expect(r.recs.map((x) => x.ts)).toEqual([T0 * 1e6 + 7]);
  });
});

describe('pcapng options that run past their block are corruption (tshark and libpcap stop there)', () => {
  // if_name declared 200 bytes long, 4 present, in a 32-byte block
  const overrun = opt(2, Buffer.from('eth0'), 200);

  it.each([
    ['after if_tsresol', () => Buffer.concat([opt(9, Buffer.from([9])), overrun])],
    ['before if_tsresol', () => Buffer.concat([overrun, opt(9, Buffer.from([9]))])],
  ])('in an interface description block, %s', async (_what, options) => {
    const first = Buffer.concat([SHB, idb(Buffer.from([])), epb(BigInt(T0) * 1_000_000n, frame(60, 1))]);
    const r = await read(Buffer.concat([first, SHB, idb(options()), epb(BigInt(T0) * 1_000_000_000n, frame(60, 2))]));
    expect(r.recs).toEqual([{ ts: T0 * 1e6, caplen: 60, wirelen: 60, first: 1 }]);
    expect(r.error).toBe('ERR_PCAPNG_BAD_BLOCK');
    expect(r.offset).toBe(first.length + SHB.length);
  });

  it('in an interface statistics block', async () => {
    const head = Buffer.concat([SHB, idb(Buffer.from([])), epb(BigInt(T0) * 1_000_000n, frame(60, 1))]);
    const isbBody = Buffer.alloc(12);
    const isb = pcapngBlock(5, Buffer.concat([isbBody, opt(1, Buffer.from('abcd'), 200)]));
    const r = await read(Buffer.concat([head, isb, epb(BigInt(T0) * 1_000_000n + 1n, frame(60, 2))]));
    expect(r.recs.map((x) => x.first)).toEqual([1]);
    expect(r.error).toBe('ERR_PCAPNG_BAD_BLOCK');
    expect(r.offset).toBe(head.length);
  });
});

describe('pcapng simple packet blocks hold min(original length, snaplen) bytes (snaplen 0: no limit)', () => {
  it('with snaplen 64, a 100-byte packet is 64 bytes in the block', async () => {
    const r = await read(Buffer.concat([SHB, idb(Buffer.from([]), 64), spb(100, frame(64, 1)), spb(50, frame(50, 2))]));
    expect(r.error).toBeNull();
    expect(r.recs.map(({ caplen, wirelen, first }) => ({ caplen, wirelen, first }))).toEqual([
      { caplen: 64, wirelen: 100, first: 1 },
      { caplen: 50, wirelen: 50, first: 2 },
    ]);
  });

  it('without a snaplen, a block holding 120 of a 200-byte packet is corrupt', async () => {
    const head = Buffer.concat([SHB, idb(Buffer.from([]), 0), spb(99, frame(99, 1))]);
    const r = await read(Buffer.concat([head, spb(200, frame(120, 2)), spb(60, frame(60, 3))]));
    expect(r.recs.map((x) => x.first)).toEqual([1]);
    expect(r.error).toBe('ERR_PCAPNG_BAD_BLOCK');
    expect(r.offset).toBe(head.length);
  });

  it('with snaplen 150, a block holding 120 of a 200-byte packet is corrupt too', async () => {
    const head = Buffer.concat([SHB, idb(Buffer.from([]), 150)]);
    const r = await read(Buffer.concat([head, spb(200, frame(120, 2))]));
    expect(r.recs).toEqual([]);
    expect(r.error).toBe('ERR_PCAPNG_BAD_BLOCK');
    expect(r.offset).toBe(head.length);
  });
});

// ---- snoop ----

function snoopFile(version: number): Buffer {
  const head = Buffer.alloc(16);
  head.write('snoop\0\0\0', 0, 'latin1');
  head.writeUInt32BE(version, 8);
  head.writeUInt32BE(4, 12); // DL_ETHER
  const rec = Buffer.alloc(24);
  rec.writeUInt32BE(60, 0);
  rec.writeUInt32BE(60, 4);
  rec.writeUInt32BE(84, 8);
  rec.writeUInt32BE(T0, 16);
  rec.writeUInt32BE(1, 20);
  return Buffer.concat([head, rec, frame(60, 1)]);
}

describe('snoop versions: RFC 1761 files are version 2; tshark also reads 3 to 5 (Surveyor, Shomiti) and refuses the rest', () => {
  it.each([2, 3, 4, 5])('version %i is read', async (version) => {
    const r = await read(snoopFile(version));
    expect(r.error).toBeNull();
    expect(r.recs).toEqual([{ ts: T0 * 1e6 + 1, caplen: 60, wirelen: 60, first: 1 }]);
  });

  it.each([0, 1, 6])('version %i is refused at the version field', async (version) => {
    const r = await read(snoopFile(version));
    expect(r.recs).toEqual([]);
    expect(r.error).toBe('ERR_UNSUPPORTED_FORMAT');
    expect(r.offset).toBe(8);
  });
});
