// The pcapng reader's memory is bounded by its limits, not by the file: interface
// description blocks are 20 bytes (gzip packs millions into kilobytes; 20,000,000 of them,
// 2.7 MB gzipped, took 1.9 GB), and statistics blocks for made-up interfaces or in endless
// sections each kept an entry of their own (4,000,000 ISBs, 9 MB gzipped, 417 MB).

import { describe, expect, it } from 'vitest';
import { ByteQueue, STEP } from '../../src/capture/byte-queue.js';
import { createFrame } from '../../src/capture/frame.js';
import { MAX_INTERFACES, PcapngParser } from '../../src/capture/pcapng.js';
import { CaptureFormatError } from '../../src/errors.js';
import { pcapngBlock } from '../helpers/pcapng.js';

const block = pcapngBlock;

const SHB = block(0x0a0d0d0a, Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
const IDB = block(1, Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0, 0])); // Ethernet, snaplen 65535

function isb(iface: number, drops: number): Buffer {
  const body = Buffer.alloc(12 + 12 + 4);
  body.writeUInt32LE(iface >>> 0, 0);
  body.writeUInt16LE(5, 12); // isb_ifdrop
  body.writeUInt16LE(8, 14);
  body.writeBigUInt64LE(BigInt(drops), 16);
  return block(5, body);
}

function epb(iface: number): Buffer {
  const data = Buffer.alloc(60);
  const body = Buffer.alloc(20 + data.length);
  body.writeUInt32LE(iface, 0);
  body.writeUInt32LE(data.length, 12);
  body.writeUInt32LE(data.length, 16);
  data.copy(body, 20);
  return block(6, body);
}

/** Parse a whole buffer; frames counted; the error, if any. */
function parse(b: Buffer): { parser: PcapngParser; frames: number; error: CaptureFormatError | null } {
  const q = new ByteQueue(b.length, b.length);
  q.buf.set(b);
  q.end = b.length;
  const parser = new PcapngParser('test.pcapng');
  const frame = createFrame();
  let frames = 0;
  try {
    while (q.start < q.end) {
      const step = parser.next(q, frame);
      if (step === STEP.needMore) break;
      if (step === STEP.frame) frames++;
    }
  } catch (e) {
    if (e instanceof CaptureFormatError) return { parser, frames, error: e };
    throw e;
  }
  return { parser, frames, error: null };
}

const dropsKept = (p: PcapngParser): number => (p as unknown as { drops: Map<unknown, number> }).drops.size;

describe('pcapng limits', () => {
  it(`a section may describe ${MAX_INTERFACES} interfaces, not one more`, () => {
    const ok = parse(Buffer.concat([SHB, ...Array<Buffer>(MAX_INTERFACES).fill(IDB), epb(MAX_INTERFACES - 1)]));
    expect(ok.error).toBeNull();
    expect(ok.frames).toBe(1);
    const over = parse(Buffer.concat([SHB, ...Array<Buffer>(MAX_INTERFACES + 1).fill(IDB), epb(0)]));
    expect(over.error?.code).toBe('ERR_PCAPNG_BAD_BLOCK');
    expect(over.error?.message).toContain(`more than ${MAX_INTERFACES} interfaces`);
    expect(over.frames).toBe(0);
  });

  it('the limit is per section: each new section starts from none', () => {
    const section = Buffer.concat([SHB, ...Array<Buffer>(1000).fill(IDB), epb(999)]);
    const r = parse(Buffer.concat(Array<Buffer>(100).fill(section)));
    expect(r.error).toBeNull();
    expect(r.frames).toBe(100);
  });

  it('statistics of interfaces never described are not kept', () => {
    const parts = [SHB, IDB, isb(0, 7)];
    for (let i = 1; i <= 100_000; i++) parts.push(isb(i * 7919, 1));
    const r = parse(Buffer.concat(parts));
    expect(r.error).toBeNull();
    expect(dropsKept(r.parser)).toBeLessThanOrEqual(1);
    expect(r.parser.dropped()).toBe(7);
  });

  it("drop counts of earlier sections are summed, not kept one by one; each interface's latest counts", () => {
    const parts: Buffer[] = [];
    for (let s = 0; s < 10_000; s++) parts.push(SHB, IDB, IDB, isb(0, 1), isb(0, 2), isb(1, 3));
    const r = parse(Buffer.concat(parts));
    expect(r.error).toBeNull();
    expect(dropsKept(r.parser)).toBeLessThanOrEqual(2);
    expect(r.parser.dropped()).toBe(10_000 * (2 + 3));
  });

  it('no statistics block with a drop count: dropped is unknown (null)', () => {
    expect(parse(Buffer.concat([SHB, IDB, epb(0)])).parser.dropped()).toBeNull();
  });
});
