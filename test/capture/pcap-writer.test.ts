// PcapWriter and ChunkedOutput, checked against the pcap file format (header bytes as the
// spec gives them), against tshark (timestamps, lengths, gzip) and against pcap-parser
// (an independent reader of classic microsecond pcap, both byte orders).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { LINKTYPE } from '../../src/decode/linktype.js';
import { openOutput } from '../../src/capture/writer-output.js';
import { AnalyzerError } from '../../src/errors.js';
import { tsharkFields, tsharkSkipReason } from '../synth/tshark.js';

const skip = tsharkSkipReason();
if (skip !== null) console.warn(`skipping pcap writer tshark tests: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'netpulse-pcapw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ParsedPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface PcapParser {
  on(ev: 'globalHeader', f: (h: { magicNumber: number; snapshotLength: number; linkLayerType: number }) => void): PcapParser;
  on(ev: 'packet', f: (p: ParsedPacket) => void): PcapParser;
  on(ev: 'end', f: () => void): PcapParser;
  on(ev: 'error', f: (e: Error) => void): PcapParser;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(file: string): PcapParser };

function parseWithPcapParser(file: string): Promise<{ linktype: number; snaplen: number; packets: ParsedPacket[] }> {
  return new Promise((resolve, reject) => {
    const packets: ParsedPacket[] = [];
    let linktype = -1;
    let snaplen = -1;
    pcapParser
      .parse(file)
      .on('globalHeader', (h) => {
        linktype = h.linkLayerType;
        snaplen = h.snapshotLength;
      })
      .on('packet', (p) => packets.push({ header: p.header, data: Buffer.from(p.data) }))
      .on('error', reject)
      .on('end', () => resolve({ linktype, snaplen, packets }));
  });
}

/** A minimal Ethernet/IPv4/UDP frame of `len` bytes (valid headers, filler payload). */
function udpFrame(len: number, fill: number): Uint8Array {
  const b = new Uint8Array(len).fill(fill);
  const dv = new DataView(b.buffer);
  b.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  dv.setUint16(12, 0x0800);
  b[14] = 0x45;
  b[15] = 0;
  dv.setUint16(16, len - 14);
  dv.setUint32(18, 0);
  b[22] = 64;
  b[23] = 17;
  dv.setUint16(24, 0);
  dv.setUint32(26, 0xc0000201);
  dv.setUint32(30, 0xc0000202);
  dv.setUint16(34, 5000);
  dv.setUint16(36, 6000);
  dv.setUint16(38, len - 34);
  dv.setUint16(40, 0);
  return b;
}

/** Timestamps that exercise rounding and the ends of the ranges. */
const TIMES: [number, number][] = [
  [0, 0],
  [1, 999_999_999],
  [1_700_000_000, 123_456_789],
  [1_700_000_000, 999],
  [2_000_000_000, 500_000_000],
  [4_294_967_295, 999_999_000],
];

function epochText(sec: number, nsec: number, res: 'us' | 'ns'): string {
  const n = res === 'us' ? nsec - (nsec % 1000) : nsec;
  return `${sec}.${String(n).padStart(9, '0')}`;
}

async function writeFile(name: string, opts: ConstructorParameters<typeof PcapWriter>[1], chunkSize?: number): Promise<string> {
  const path = join(dir, name);
  const w = new PcapWriter(openOutput(path, chunkSize === undefined ? {} : { chunkSize }), opts);
  TIMES.forEach(([s, ns], i) => w.writePacket(s, ns, udpFrame(60 + 37 * i, i)));
  await w.close();
  return path;
}

describe('pcap global header, as the format defines it', () => {
  it('little-endian microsecond', async () => {
    const b = readFileSync(await writeFile('h-le-us.pcap', { linktype: LINKTYPE.ETHERNET }));
    expect([...b.subarray(0, 24)]).toEqual([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
  });
  it('big-endian nanosecond with a snaplen and another link type', async () => {
    const b = readFileSync(await writeFile('h-be-ns.pcap', { linktype: LINKTYPE.RAW, resolution: 'ns', byteOrder: 'be', snaplen: 65535 }));
    expect([...b.subarray(0, 24)]).toEqual([0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 101]);
  });
});

describe('pcap records read by pcap-parser (independent reader)', () => {
  for (const byteOrder of ['le', 'be'] as const) {
    it(`microsecond, ${byteOrder}`, async () => {
      const file = await writeFile(`pp-${byteOrder}.pcap`, { linktype: LINKTYPE.ETHERNET, byteOrder, snaplen: 200 });
      const r = await parseWithPcapParser(file);
      expect(r.linktype).toBe(1);
      expect(r.snaplen).toBe(200);
      expect(r.packets).toHaveLength(TIMES.length);
      r.packets.forEach((p, i) => {
        const [s = 0, ns = 0] = TIMES[i] ?? [];
        const len = 60 + 37 * i;
        expect(p.header).toEqual({ timestampSeconds: s, timestampMicroseconds: Math.floor(ns / 1000), capturedLength: Math.min(len, 200), originalLength: len });
        expect(p.data.equals(Buffer.from(udpFrame(len, i).subarray(0, 200)))).toBe(true);
      });
    });
  }

  it('bytes written past the snaplen do not leak into the next record (zero-copy API)', async () => {
    const path = join(dir, 'leak.pcap');
    const w = new PcapWriter(openOutput(path), { linktype: LINKTYPE.ETHERNET, snaplen: 64 });
    const at = w.beginRecord(300);
    w.out.buf.fill(0xee, at, at + 300);
    w.endRecord(10, 0, 300, 300);
    const at2 = w.beginRecord(100);
    w.out.buf.fill(0x11, at2, at2 + 20); // the rest of this record is left as handed out
    w.endRecord(11, 0, 100, 100);
    await w.close();
    const r = await parseWithPcapParser(path);
    expect(r.packets.map((p) => [p.header.capturedLength, p.header.originalLength])).toEqual([
      [64, 300],
      [64, 100],
    ]);
    expect([...(r.packets[1]?.data ?? [])]).toEqual([...Array<number>(20).fill(0x11), ...Array<number>(44).fill(0)]);
  });
});

describe('ChunkedOutput: any chunk size and any target give the same bytes', () => {
  it('tiny chunks (every record flushes, oversized records grow the buffer), a stream, and a file agree', async () => {
    const ref = readFileSync(await writeFile('ref.pcap', { linktype: LINKTYPE.ETHERNET, resolution: 'ns' }));
    for (const chunk of [16, 61, 100, 4096]) {
      expect(readFileSync(await writeFile(`c${chunk}.pcap`, { linktype: LINKTYPE.ETHERNET, resolution: 'ns' }, chunk)).equals(ref)).toBe(true);
    }
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on('data', (d: Buffer) => parts.push(d));
    const w = new PcapWriter(openOutput(sink, { chunkSize: 50 }), { linktype: LINKTYPE.ETHERNET, resolution: 'ns' });
    TIMES.forEach(([s, ns], i) => w.writePacket(s, ns, udpFrame(60 + 37 * i, i)));
    await w.close();
    expect(Buffer.concat(parts).equals(ref)).toBe(true);
  });

  it('many records with a producer that waits (positioned async writes) or never waits', async () => {
    const frames = Array.from({ length: 3000 }, (_, i) => udpFrame(60 + (i % 1400), i & 255));
    const write = async (name: string, wait: boolean): Promise<Buffer> => {
      const path = join(dir, name);
      const w = new PcapWriter(openOutput(path, { chunkSize: 4096 }), { linktype: LINKTYPE.ETHERNET });
      for (let i = 0; i < frames.length; i++) {
        w.writePacket(1_700_000_000 + (i >> 8), (i & 255) * 1000, frames[i] ?? new Uint8Array(60));
        if (wait && w.out.needsDrain) await w.out.drain();
      }
      await w.close();
      return readFileSync(path);
    };
    const a = await write('wait.pcap', true);
    const b = await write('nowait.pcap', false);
    expect(a.equals(b)).toBe(true);
    let expectedSize = 24;
    for (const f of frames) expectedSize += 16 + f.length;
    expect(a.length).toBe(expectedSize);
  });

  it('a path that cannot be created is ERR_OUTPUT, naming the path', () => {
    const bad = join(dir, 'missing', 'x.pcap');
    expect(() => openOutput(bad)).toThrow(AnalyzerError);
    try {
      openOutput(bad);
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_OUTPUT', subject: bad });
    }
  });

  it('timestamps a pcap cannot hold are refused', () => {
    const w = new PcapWriter(openOutput(new PassThrough()), { linktype: 1 });
    expect(() => w.writePacket(-1, 0, new Uint8Array(60))).toThrow(RangeError);
    expect(() => w.writePacket(2 ** 32, 0, new Uint8Array(60))).toThrow(RangeError);
    expect(() => w.writePacket(0, 1e9, new Uint8Array(60))).toThrow(RangeError);
  });
});

describe.skipIf(skip !== null)('pcap read by tshark', () => {
  for (const [res, order] of [
    ['us', 'le'],
    ['us', 'be'],
    ['ns', 'le'],
    ['ns', 'be'],
  ] as const) {
    it(`${res}, ${order}: times, lengths and link type, without a warning`, async () => {
      const file = await writeFile(`t-${res}-${order}.pcap`, { linktype: LINKTYPE.ETHERNET, resolution: res, byteOrder: order });
      const r = tsharkFields(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols', 'udp.dstport']);
      expect(r.warnings).toEqual([]);
      // (tshark guesses at the filler payload by port heuristics: compare the layers we wrote.)
      const rows = r.rows.map(([e, l, c, p = '', port]) => [e, l, c, p.split(':').slice(0, 4).join(':'), port]);
      expect(rows).toEqual(TIMES.map(([s, ns], i) => [epochText(s, ns, res), String(60 + 37 * i), String(60 + 37 * i), 'eth:ethertype:ip:udp', '6000']));
    });
  }

  it('gzip output: tshark reads it, and it decompresses to the plain file', async () => {
    const plain = readFileSync(await writeFile('plain.pcap', { linktype: LINKTYPE.ETHERNET, resolution: 'ns' }));
    const path = join(dir, 'z.pcap.gz');
    const w = new PcapWriter(openOutput(path, { gzip: true }), { linktype: LINKTYPE.ETHERNET, resolution: 'ns' });
    TIMES.forEach(([s, ns], i) => w.writePacket(s, ns, udpFrame(60 + 37 * i, i)));
    await w.close();
    expect(gunzipSync(readFileSync(path)).equals(plain)).toBe(true);
    const r = tsharkFields(path, ['frame.time_epoch']);
    expect(r.warnings).toEqual([]);
    expect(r.rows.map(([e]) => e)).toEqual(TIMES.map(([s, ns]) => epochText(s, ns, 'ns')));
  });
});
