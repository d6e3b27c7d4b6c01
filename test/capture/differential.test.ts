// An independent second reader: pcap-parser (a devDependency, kept for this role only) must
// agree with our reader on every record of every classic microsecond pcap in the corpus:
// timestamps, lengths and bytes, in order. Where pcap-parser stops silently (cut files)
// ours reports the fault at the same record; where it refuses a file (format version 9.9,
// which tshark and tcpdump read) ours reads it.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { MALFORMED, REAL, haveCorpus, malformedFiles, realFiles } from '../helpers/corpus.js';

interface TheirPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface PcapParser {
  parse(path: string): NodeJS.EventEmitter;
}
const pcapp = createRequire(import.meta.url)('pcap-parser') as PcapParser;

function isClassicMicro(path: string): boolean {
  const b = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  const n = readSync(fd, b, 0, 4, 0);
  closeSync(fd);
  return n === 4 && (b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b2c3d4);
}

interface Rec {
  ts: number;
  caplen: number;
  wirelen: number;
  sha: string;
}

function theirs(path: string): Promise<{ recs: Rec[]; error: string | null }> {
  return new Promise((done) => {
    const recs: Rec[] = [];
    const p = pcapp.parse(path);
    p.on('packet', (k: TheirPacket) => {
      const h = k.header;
      recs.push({
        ts: h.timestampSeconds * 1_000_000 + h.timestampMicroseconds,
        caplen: h.capturedLength,
        wirelen: h.originalLength,
        sha: createHash('sha1').update(k.data).digest('hex'),
      });
    });
    p.on('error', (e: Error) => done({ recs, error: e.message }));
    p.on('end', () => done({ recs, error: null }));
  });
}

async function ours(path: string): Promise<{ recs: Rec[]; error: string | null }> {
  const recs: Rec[] = [];
  const end = await new FileSource({ files: [path] }).start((f) => {
    recs.push({ ts: f.tsMicros, caplen: f.caplen, wirelen: f.wirelen, sha: createHash('sha1').update(f.bytes.subarray(f.offset, f.offset + f.caplen)).digest('hex') });
  });
  return { recs, error: end.error?.code ?? null };
}

// skip on the corpus's absence only (haveCorpus throws in CI): a filter that finds nothing
// must fail the count below, not skip the suite
const corpus = haveCorpus();
const files = corpus
  ? [...realFiles().map((f) => join(REAL, f)), ...malformedFiles().map((f) => join(MALFORMED, f))].filter(isClassicMicro)
  : [];

describe.skipIf(!corpus)('our pcap reader and pcap-parser agree', () => {
  it('finds the classic microsecond pcaps of the corpus', () => {
    expect(files.length).toBeGreaterThan(60);
  });

  it.each(files.map((f) => [f.split('/').slice(-2).join('/'), f]))('%s', async (_name, path) => {
    const [a, b] = await Promise.all([ours(path), theirs(path)]);
    if (b.error !== null) {
      // pcap-parser refuses anything but format version 2.4; we read what tshark reads.
      expect(b.error).toMatch(/only parses libpcap file format 2\.4/);
      expect(a.error).toBeNull();
      return;
    }
    expect(a.recs.length).toBe(b.recs.length);
    expect(a.recs).toEqual(b.recs);
  });
});
