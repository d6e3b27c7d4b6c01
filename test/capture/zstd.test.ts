// zstd-compressed captures (README "Replay": zstd on Node >= 22.15). Oracle: the same capture
// read uncompressed. Node 22's own zstd stream decodes only the first of several frames
// written to it at once and ends a frame cut short without an error (Node 24 does neither),
// so what is checked here must hold on every Node that has zstd; on one without it (Node 20)
// the refusal is one line.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunks, readCapture } from '../helpers/file-source.js';
import { run } from '../helpers/cli.js';

type Compress = (b: Uint8Array, o?: { params?: Record<number, number> }) => Buffer;
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: Compress }).zstdCompressSync;
const hasZstd = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
/** ZSTD_c_checksumFlag (zlib.constants has it where Node has zstd). */
const CHECKSUM_FLAG = 201;

const DEMO = join(process.cwd(), 'pcaps', 'demo.pcapng');
const SMALL = join(process.cwd(), 'pcaps', 'fx-ipv4-frag.pcapng');

interface Got {
  packets: number;
  bytes: number;
  seconds: Record<number, number>;
  error: string | null;
}

async function read(files: string[], stdin?: AsyncIterable<Uint8Array>): Promise<Got> {
  const { error, ...tally } = await readCapture(files, stdin);
  return { ...tally, error: error ? `${error.code}: ${error.message}` : null };
}

async function* split(b: Uint8Array, at: number): AsyncGenerator<Uint8Array> {
  yield b.subarray(0, at);
  yield b.subarray(at);
}

function zstd(b: Uint8Array, checksum = true): Buffer {
  return (zstdCompressSync as Compress)(b, { params: { [CHECKSUM_FLAG]: checksum ? 1 : 0 } });
}

/** A skippable frame (RFC 8878 3.1.2) of n bytes of payload. */
function skippable(n: number): Buffer {
  const b = Buffer.alloc(8 + n, 0xaa);
  b.writeUInt32LE(0x184d2a53, 0);
  b.writeUInt32LE(n, 4);
  return b;
}

function tmpFile(bytes: Uint8Array): string {
  const f = join(mkdtempSync(join(tmpdir(), 'np-zstd-')), 'x.pcapng.zst');
  writeFileSync(f, bytes);
  return f;
}

/** The same bytes from a file and from stdin in odd and large chunks. */
async function everyWay(bytes: Uint8Array): Promise<Got[]> {
  return [await read([tmpFile(bytes)]), await read(['-'], chunks(bytes, 4093)), await read(['-'], chunks(bytes, 1 << 16))];
}

describe.skipIf(!hasZstd)('zstd-compressed captures, on a Node that has zstd', () => {
  const plain = readFileSync(DEMO);

  it('one frame, with and without a checksum: as the plain capture', async () => {
    const want = await read([DEMO]);
    expect(want.error).toBeNull();
    for (const bytes of [zstd(plain), zstd(plain, false)]) {
      for (const got of await everyWay(bytes)) expect(got).toEqual(want);
    }
  });

  it('several frames and skippable frames (pzstd, cat a.zst b.zst): every frame is read', async () => {
    const want = await read([DEMO]);
    const cut = 1_000_003;
    const multi = Buffer.concat([zstd(plain.subarray(0, cut)), skippable(16), zstd(plain.subarray(cut, cut + 7), false), skippable(0), zstd(plain.subarray(cut + 7))]);
    for (const got of await everyWay(multi)) expect(got).toEqual(want);
  });

  it('a small capture in 1-byte chunks and split at every point', async () => {
    const want = await read([SMALL]);
    const small = readFileSync(SMALL);
    const bytes = Buffer.concat([zstd(small.subarray(0, 100)), zstd(small.subarray(100))]);
    expect(await read(['-'], chunks(bytes, 1))).toEqual(want);
    for (let at = 1; at < bytes.length; at++) expect(await read(['-'], split(bytes, at))).toEqual(want);
  });

  it('cut short inside a frame: what was decompressed, then ERR_DECOMPRESS saying where it was cut', async () => {
    const want = await read([DEMO]);
    const whole = zstd(plain);
    // inside the checksum every block is complete: every packet, then the error
    for (const got of await everyWay(whole.subarray(0, whole.length - 2))) {
      expect(got).toEqual({ ...want, error: `ERR_DECOMPRESS: compressed data is corrupt (the file ends inside zstd frame 1, at compressed byte ${whole.length - 2}: it was cut short): everything before it was counted; decompress it by hand to see how much is readable` });
    }
    for (const at of [5, 8, 100_001, whole.length - 9]) {
      for (const got of await everyWay(whole.subarray(0, at))) {
        expect(got.error).toMatch(new RegExp(`^ERR_DECOMPRESS: .*the file ends inside zstd frame 1, at compressed byte ${at}: it was cut short`));
        expect(got.packets).toBeLessThan(want.packets);
      }
    }
    // cut inside the second frame: all of the first is counted
    const first = zstd(plain.subarray(0, 1_000_003));
    const firstOnly = await read(['-'], chunks(Buffer.concat([first, skippable(4)]), 4093));
    const two = Buffer.concat([first, zstd(plain.subarray(1_000_003))]);
    const got = await read([tmpFile(two.subarray(0, first.length + 50_000))]);
    expect(got.error).toMatch(/^ERR_DECOMPRESS: .*the file ends inside zstd frame 2, at compressed byte \d+: it was cut short/);
    expect(got.packets).toBeGreaterThanOrEqual(firstOnly.packets - 1);
  });

  it('a bad checksum and data after the last frame are ERR_DECOMPRESS (exit status 3), not a read error', async () => {
    const want = await read([DEMO]);
    const whole = zstd(plain);
    const bad = Buffer.from(whole);
    bad[bad.length - 1]! ^= 0x01;
    for (const got of await everyWay(bad)) {
      expect(got.error).toMatch(/^ERR_DECOMPRESS: compressed data is corrupt \(.*checksum.*, in zstd frame 1\)/);
    }
    for (const got of await everyWay(Buffer.concat([whole, Buffer.from('not zstd at all')]))) {
      expect(got).toEqual({ ...want, error: `ERR_DECOMPRESS: compressed data is corrupt (data after zstd frame 1 is not zstd (compressed byte ${whole.length})): everything before it was counted; decompress it by hand to see how much is readable` });
    }
  });

  it('the CLI replays a .zst as the plain file, and Node prints no warning', () => {
    const f = tmpFile(zstd(plain));
    const a = run(['replay', DEMO]);
    const b = run(['replay', f]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const rest = (s: string): string => s.slice(s.indexOf('\n'));
    expect(b.stdout.split('\n')[0]).toBe(`netpulse report: file ${f} [pcapng+zstd]`);
    expect(rest(b.stdout)).toBe(rest(a.stdout));
    expect(b.stderr).toBe(a.stderr);
  });
});

describe.skipIf(hasZstd)('zstd-compressed captures, on a Node without zstd', () => {
  it('are refused with one line saying what to do, exit status 3', () => {
    // a zstd frame of the 8 bytes "netpulse", made by zstd 1.5.4 --no-check
    const frame = Buffer.from('28b52ffd00584100006e657470756c7365', 'hex');
    const f = tmpFile(frame);
    const r = run(['replay', f]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`netpulse: ${f}: offset 0: zstd-compressed capture and this Node (${process.version}) has no zstd: run \`zstd -d\` on it and replay the result, or use Node >= 22.15 [ERR_UNSUPPORTED_FORMAT]\n`);
  });
});
