// NDJSON on a writer that falls behind (stdout into a slow pipe, owner: sinks): the file
// source waits for it between chunks instead of reading on and piling the output up in
// memory (a sparse 2 M-second capture into `| (sleep 8; cat)` grew to 2.3 GB and failed
// with ENOBUFS), and the output is the same line for line once the writer drains.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { runAnalysis } from '../../src/pipeline.js';
import { NdjsonSink } from '../../src/sinks/ndjson.js';

const dir = mkdtempSync(join(tmpdir(), 'netpulse-backpressure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A classic pcap (libpcap's format, little-endian, µs) of `n` 60-byte UDP frames `step` seconds apart. */
function sparsePcap(n: number, step = 1): string {
  const rec = 16 + 60;
  const b = Buffer.alloc(24 + n * rec);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(65535, 16);
  b.writeUInt32LE(1, 20); // Ethernet
  for (let i = 0; i < n; i++) {
    const o = 24 + i * rec;
    b.writeUInt32LE(1_700_000_000 + i * step, o);
    b.writeUInt32LE(60, o + 8);
    b.writeUInt32LE(60, o + 12);
    const f = o + 16;
    b.writeUInt16BE(0x0800, f + 12);
    b[f + 14] = 0x45;
    b.writeUInt16BE(46, f + 16); // IPv4 total length: 20 + 8 + 18
    b[f + 22] = 64;
    b[f + 23] = 17;
    b.writeUInt32BE(0x0a000001 + (i % 7), f + 26);
    b.writeUInt32BE(0x0a000101, f + 30);
    b.writeUInt16BE(40000, f + 34);
    b.writeUInt16BE(53, f + 36);
    b.writeUInt16BE(26, f + 38);
  }
  const path = join(dir, `sparse-${n}-${step}.pcap`);
  writeFileSync(path, b);
  return path;
}

/** A writer with a small buffer that completes writes only while `flowing`. */
class SlowWriter extends Writable {
  flowing = false;
  lines = 0;
  private parked: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 4096 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    for (const c of chunk) if (c === 10) this.lines++;
    if (this.flowing) done();
    else this.parked.push(() => done());
  }
  resume(): void {
    this.flowing = true;
    for (const p of this.parked.splice(0)) p();
  }
}

describe('NDJSON backpressure', () => {
  it('holds the file source back while the writer is behind, and loses no line', async () => {
    const n = 40_000; // 40,000 seconds: ~6 MB of summaries from a 3 MB capture
    const file = sparsePcap(n);
    const out = new SlowWriter();
    const source = new FileSource({ files: [file], chunkBytes: 64 * 1024 });
    const sink = new NdjsonSink(out, ['summary', 'gap', 'report'], false);
    const aggregate = { maxHosts: 1000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2 };
    const run = runAnalysis(source, { aggregate, reportHosts: 100, statsIntervalMs: 0 }, [sink]);
    await new Promise((r) => setTimeout(r, 300));
    // the writer has taken nothing yet: the source stopped after a chunk or two
    const read = source.stats().packets;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(n / 4);
    out.resume();
    const r = await run;
    await sink.close();
    expect(r.report.packets).toBe(n);
    // one summary per second, then the report: nothing was dropped while waiting
    expect(out.lines).toBe(n + 1);
  });

  it('holds back within a chunk: records 60 s apart make 60 rows each (zero rows up to --max-gap)', async () => {
    const n = 2000; // one 152 KB chunk, 120,000 lines
    const file = sparsePcap(n, 60);
    const out = new SlowWriter();
    const source = new FileSource({ files: [file] });
    const sink = new NdjsonSink(out, ['summary', 'gap', 'report'], false);
    const aggregate = { maxHosts: 1000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2 };
    const run = runAnalysis(source, { aggregate, reportHosts: 100, statsIntervalMs: 0 }, [sink]);
    await new Promise((r) => setTimeout(r, 300));
    // stopped a few records after the writer fell behind, not at the end of the chunk
    expect(source.stats().packets).toBeLessThan(20);
    out.resume();
    const r = await run;
    await sink.close();
    expect(r.report.packets).toBe(n);
    expect(out.lines).toBe((n - 1) * 60 + 1 + 1);
  });

  it('gives the event loop a turn while one chunk makes many messages (Ctrl-C is heard)', async () => {
    const n = 2000;
    const file = sparsePcap(n, 60);
    const source = new FileSource({ files: [file], chunkBytes: 1 << 20 }); // one chunk: no await between records
    // Ctrl-C as soon as the first second is out: it must be heard before the chunk's end
    let asked = false;
    const sink = {
      publish: (): void => {
        if (!asked) setTimeout(() => source.stop(), 0);
        asked = true;
      },
      close: async (): Promise<void> => undefined,
    };
    const aggregate = { maxHosts: 1000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2 };
    const run = runAnalysis(source, { aggregate, reportHosts: 100, statsIntervalMs: 0 }, [sink]);
    const r = await run;
    expect(r.end.reason).toBe('stopped');
    expect(r.report.packets).toBeLessThan(n);
  });

  it('says when it is behind, and that it caught up', async () => {
    const out = new SlowWriter();
    const sink = new NdjsonSink(out, ['summary'], true);
    const line = `{"type":"summary","pad":"${'x'.repeat(5000)}"}`;
    sink.publish({ type: 'summary' } as never, line);
    const b = sink.backlog();
    expect(b).not.toBeNull();
    let done = false;
    void b?.then(() => (done = true));
    out.resume();
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(true);
    expect(sink.backlog()).toBeNull();
  });
});
