// The streaming readers: whatever the chunking, the same frames; pcapng timestamps,
// interfaces, sections and block kinds as the pcapng specification lays them out;
// gzip by content; several files as one capture.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import type { Frame } from '../../src/capture/frame.js';
import { REAL, haveCorpus } from '../helpers/corpus.js';

interface Rec {
  ts: number;
  caplen: number;
  wirelen: number;
  linktype: number;
  iface: number;
  sha: string;
}

function rec(f: Frame): Rec {
  return {
    ts: f.tsMicros,
    caplen: f.caplen,
    wirelen: f.wirelen,
    linktype: f.linktype,
    iface: f.iface,
    sha: createHash('sha1').update(f.bytes.subarray(f.offset, f.offset + f.caplen)).digest('hex'),
  };
}

async function readChunks(chunks: Uint8Array[]): Promise<{ recs: Rec[]; error: string | null }> {
  const recs: Rec[] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
  }
  const end = await new FileSource({ files: ['-'], stdin: gen() }).start((f) => recs.push(rec(f)));
  return { recs, error: end.error?.code ?? null };
}

async function readFile(paths: string[], chunkBytes?: number): Promise<{ recs: Rec[]; error: string | null }> {
  const recs: Rec[] = [];
  const end = await new FileSource({ files: paths, ...(chunkBytes ? { chunkBytes } : {}) }).start((f) => recs.push(rec(f)));
  return { recs, error: end.error?.code ?? null };
}

function split(buf: Buffer, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const corpus = haveCorpus();
// pcap LE/BE, us/ns, pcapng LE/BE with several sections and interfaces, snoop (malformed dir)
const SAMPLES = [
  'zeek-5-pings.pcap',
  'tcpdump-isup.pcap',
  'tcpdump-tcp-handshake-nano.pcap',
  'ppp-nanosecs_big_endian.pcap',
  'zeek-pcapng-multi-interface.pcapng',
  'pcapngtg-be-test008.pcapng',
  'ppp-many_interfaces-1.pcapng',
  'zeek-gap-data-missing.pcapng',
];

describe.skipIf(!corpus)('chunking never changes the frames', () => {
  it.each(SAMPLES)('%s in 1-byte chunks, odd chunks, and as a file with tiny reads', async (name) => {
    const path = join(REAL, name);
    const whole = await readFile([path]);
    expect(whole.error).toBeNull();
    expect(whole.recs.length).toBeGreaterThan(0);
    const bytes = readFileSync(path);
    expect(await readChunks(split(bytes, 1))).toEqual(whole);
    expect(await readChunks(split(bytes, 7))).toEqual(whole);
    expect(await readFile([path], 3)).toEqual(whole);
  });

  it('every split point of a pcap and of a pcapng', async () => {
    for (const name of ['zeek-5-pings.pcap', 'zeek-pcapng-multi-interface.pcapng']) {
      const path = join(REAL, name);
      const whole = await readFile([path]);
      const bytes = readFileSync(path);
      for (let k = 0; k <= bytes.length; k++) {
        const got = await readChunks([bytes.subarray(0, k), bytes.subarray(k)]);
        if (JSON.stringify(got) !== JSON.stringify(whole)) expect({ name, k, got }).toEqual({ name, k, got: whole });
      }
    }
  });

  it('gzip is recognised by content, whatever the name, from a file or from stdin', async () => {
    const path = join(REAL, 'ppp-many_interfaces-1.pcapng');
    const whole = await readFile([path]);
    const gz = gzipSync(readFileSync(path));
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'np-gz-'));
    const named = join(dir, 'capture.pcap'); // lies: it is gzip-compressed pcapng
    writeFileSync(named, gz);
    expect(await readFile([named])).toEqual(whole);
    expect(await readChunks(split(gz, 5))).toEqual(whole);
  });

  it('several files are read one after another as one capture', async () => {
    const a = join(REAL, 'zeek-5-pings.pcap');
    const b = join(REAL, 'zeek-pcapng-multi-interface.pcapng');
    const both = await readFile([a, b]);
    const ra = await readFile([a]);
    const rb = await readFile([b]);
    expect(both.recs).toEqual([...ra.recs, ...rb.recs]);
  });
});

// ---- pcapng laid out by hand from the specification (draft-ietf-opsawg-pcapng) ----

class Ng {
  private parts: Buffer[] = [];
  constructor(private le: boolean) {}
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }
  private opt(code: number, value: Buffer): Buffer {
    const pad = (4 - (value.length % 4)) % 4;
    return Buffer.concat([this.u16(code), this.u16(value.length), value, Buffer.alloc(pad)]);
  }
  private block(type: number, body: Buffer): this {
    const len = 12 + body.length;
    this.parts.push(this.u32(type), this.u32(len), body, this.u32(len));
    return this;
  }
  shb(le: boolean): this {
    this.le = le;
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]));
  }
  idb(linktype: number, opts: { tsresol?: number; tsoffset?: number } = {}): this {
    const o: Buffer[] = [];
    if (opts.tsresol !== undefined) o.push(this.opt(9, Buffer.from([opts.tsresol])));
    if (opts.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(BigInt(opts.tsoffset));
      else v.writeBigInt64BE(BigInt(opts.tsoffset));
      o.push(this.opt(14, v));
    }
    if (o.length > 0) o.push(this.u32(0));
    return this.block(1, Buffer.concat([this.u16(linktype), this.u16(0), this.u32(0), ...o]));
  }
  epb(iface: number, ts: bigint, data: Buffer, orig = data.length): this {
    const pad = (4 - (data.length % 4)) % 4;
    return this.block(6, Buffer.concat([this.u32(iface), this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn)), this.u32(data.length), this.u32(orig), data, Buffer.alloc(pad)]));
  }
  pb(iface: number, ts: bigint, data: Buffer): this {
    const pad = (4 - (data.length % 4)) % 4;
    return this.block(2, Buffer.concat([this.u16(iface), this.u16(0), this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn)), this.u32(data.length), this.u32(data.length), data, Buffer.alloc(pad)]));
  }
  spb(data: Buffer): this {
    const pad = (4 - (data.length % 4)) % 4;
    return this.block(3, Buffer.concat([this.u32(data.length), data, Buffer.alloc(pad)]));
  }
  isb(iface: number, ifdrop: number): this {
    const v = Buffer.alloc(8);
    if (this.le) v.writeBigUInt64LE(BigInt(ifdrop));
    else v.writeBigUInt64BE(BigInt(ifdrop));
    return this.block(5, Buffer.concat([this.u32(iface), this.u32(0), this.u32(0), this.opt(5, v), this.u32(0)]));
  }
  custom(): this {
    const data = Buffer.from('opaque vendor data');
    return this.block(0x40000bad, Buffer.concat([this.u32(32473), data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const payload = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + n) & 255));

async function framesOf(b: Buffer): Promise<{ recs: Rec[]; error: string | null; dropped: number | null }> {
  const recs: Rec[] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    yield b;
  }
  const src = new FileSource({ files: ['-'], stdin: gen() });
  const end = await src.start((f) => recs.push(rec(f)));
  return { recs, error: end.error?.code ?? null, dropped: src.stats().dropped };
}

describe('pcapng by the specification', () => {
  it('if_tsresol decimal (10^-9) and binary (2^-20), if_tsoffset, default microseconds', async () => {
    // 1700000000.123456789 s
    const ns = 1_700_000_000_123_456_789n;
    const b = new Ng(true)
      .shb(true)
      .idb(1, { tsresol: 9 })
      .idb(1, { tsresol: 0x80 | 20, tsoffset: 1000 })
      .idb(1)
      .epb(0, ns, payload(60))
      // 2^-20 units: 5.5 s -> 5.5 * 2^20 units, plus the 1000 s offset
      .epb(1, BigInt(5.5 * 2 ** 20), payload(61))
      .epb(2, 1_700_000_001_000_001n, payload(62))
      .bytes();
    const got = await framesOf(b);
    expect(got.error).toBeNull();
    expect(got.recs.map((r) => [r.iface, r.ts])).toEqual([
      [0, 1_700_000_000_123_456], // floored to microseconds
      [1, 1_005_500_000],
      [2, 1_700_000_001_000_001],
    ]);
  });

  it('sections in both byte orders, each with its own interfaces and link types', async () => {
    const le = new Ng(true).shb(true).idb(1).idb(101).epb(1, 10n, payload(40)).epb(0, 11n, payload(41)).bytes();
    const be = new Ng(false).shb(false).idb(113).epb(0, 12n, payload(42)).bytes();
    const got = await framesOf(Buffer.concat([le, be]));
    expect(got.error).toBeNull();
    expect(got.recs.map((r) => [r.linktype, r.iface, r.ts, r.caplen])).toEqual([
      [101, 1, 10, 40],
      [1, 0, 11, 41],
      [113, 0, 12, 42],
    ]);
  });

  it('obsolete packet blocks and simple packet blocks carry packets; custom blocks are skipped; ISB drops are read', async () => {
    const b = new Ng(false).shb(false).idb(1).custom().pb(0, 5_000_000n, payload(50)).spb(payload(51)).isb(0, 7).bytes();
    const got = await framesOf(b);
    expect(got.error).toBeNull();
    expect(got.recs.map((r) => [r.caplen, r.ts])).toEqual([
      [50, 5_000_000],
      [51, 5_000_000], // an SPB has no timestamp: it takes the last one seen
    ]);
    expect(got.dropped).toBe(7);
  });

  it('a packet for an interface the section does not define is an error at that block', async () => {
    const b = new Ng(true).shb(true).idb(1).epb(0, 1n, payload(40)).epb(3, 2n, payload(40)).bytes();
    const got = await framesOf(b);
    expect(got.recs).toHaveLength(1);
    expect(got.error).toBe('ERR_PCAPNG_UNDEFINED_INTERFACE');
  });
});
