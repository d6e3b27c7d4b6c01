// gzip-compressed captures that are damaged after their packets: a bad CRC or length in
// the trailer, garbage after the last member, a file cut inside the trailer. tshark (and
// gzip -d) hand out every byte inflated before the fault, then report it; so must replay:
// "everything read before the fault is reported, then one error line". Oracle: tshark's
// ground truth for the plain capture (tshark 4.0.17 reads all 4631 frames of the CRC-broken
// ppp-example.pcap.gz, then says "bad CRC").

import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunks, readCapture } from '../helpers/file-source.js';
import { REAL, haveCorpus, truth } from '../helpers/corpus.js';

const corpus = haveCorpus();

interface Got {
  packets: number;
  bytes: number;
  seconds: Record<number, number>;
  error: string | null;
}

async function read(files: string[], stdin?: AsyncIterable<Uint8Array>): Promise<Got> {
  const { error, ...tally } = await readCapture(files, stdin);
  return { ...tally, error: error?.code ?? null };
}

describe.skipIf(!corpus)('gzip damaged after the packets: all packets, then ERR_DECOMPRESS', () => {
  const name = 'ppp-example.pcap';
  const t = () => truth(name);
  const want = (): Omit<Got, 'error'> => {
    const seconds: Record<number, number> = {};
    for (const s of t().seconds) seconds[s.ts] = s.packets;
    return { packets: t().packets, bytes: t().bytes, seconds };
  };
  const gz = (): Buffer => gzipSync(readFileSync(join(REAL, name)));
  const damaged = (): Record<string, Buffer> => {
    const g = gz();
    const crc = Buffer.from(g);
    crc[crc.length - 8]! ^= 0xff;
    const len = Buffer.from(g);
    len[len.length - 3]! ^= 0x01;
    return {
      'bad CRC': crc,
      'bad length': len,
      'garbage after the member': Buffer.concat([g, Buffer.from('not gzip at all')]),
      'cut inside the trailer': g.subarray(0, g.length - 3),
    };
  };

  it.each(['bad CRC', 'bad length', 'garbage after the member', 'cut inside the trailer'])('%s: from a file and from stdin in odd chunks', async (kind) => {
    const bytes = damaged()[kind] as Buffer;
    const dir = mkdtempSync(join(tmpdir(), 'np-gzbad-'));
    const f = join(dir, 'x.pcap.gz');
    writeFileSync(f, bytes);
    for (const got of [await read([f]), await read(['-'], chunks(bytes, 4093)), await read(['-'], chunks(bytes, 1 << 16))]) {
      expect(got).toEqual({ ...want(), error: 'ERR_DECOMPRESS' });
    }
  });

  it('an intact gzip, several members, and zero padding after the last member read cleanly', async () => {
    const plain = readFileSync(join(REAL, name));
    const cut = 1_000_003;
    const multi = Buffer.concat([gzipSync(plain.subarray(0, cut)), gzipSync(plain.subarray(cut, cut + 7)), gzipSync(plain.subarray(cut + 7)), Buffer.alloc(512)]);
    const dir = mkdtempSync(join(tmpdir(), 'np-gzok-'));
    const f = join(dir, 'x.gz');
    writeFileSync(f, multi);
    expect(await read([f])).toEqual({ ...want(), error: null });
    expect(await read(['-'], chunks(multi, 1000))).toEqual({ ...want(), error: null });
    const small = 'zeek-5-pings.pcap';
    const one = await read(['-'], chunks(gzipSync(readFileSync(join(REAL, small))), 1));
    expect([one.packets, one.bytes, one.error]).toEqual([truth(small).packets, truth(small).bytes, null]);
  });
});
