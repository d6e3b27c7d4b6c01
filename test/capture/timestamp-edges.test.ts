// Timestamps and the less common formats, checked against the specifications' arithmetic
// (exact BigInt floors) and, where tshark computes the same thing exactly, against tshark's
// frame.time_epoch / frame.len / frame.cap_len: pcapng if_tsresol finer than 10^-12 and
// 2^-32, negative if_tsoffset before 1970; Solaris snoop's datalink codes (DLPI's, not
// LINKTYPE_*), record padding, cumulative drops and the oddities the pcap reader counts.
// The tshark cross-checks need tshark (they skip and say so without it, unless
// NETPULSE_REQUIRE_TOOLS=1, as in CI).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { pcapngBlock } from '../helpers/pcapng.js';

function haveTshark(): boolean {
  if (spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('tshark is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install tshark');
  process.stderr.write('skipping the tshark cross-check of timestamp edges: tshark not installed (apt-get install tshark)\n');
  return false;
}
const TSHARK = haveTshark();

interface Got {
  frames: { ts: number; caplen: number; wirelen: number; linktype: number }[];
  error: string | null;
  dropped: number | null;
  anomalies: Record<string, number>;
}

async function read(b: Buffer, chunk = b.length): Promise<Got> {
  const frames: Got['frames'] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
  }
  const src = new FileSource({ files: ['-'], stdin: gen() });
  const end = await src.start((f) => frames.push({ ts: f.tsMicros, caplen: f.caplen, wirelen: f.wirelen, linktype: f.linktype }));
  const st = src.stats();
  return { frames, error: end.error?.code ?? null, dropped: st.dropped, anomalies: st.readerAnomalies };
}

const tmp = mkdtempSync(join(tmpdir(), 'np-tsedge-'));
let fileNo = 0;

/** tshark's time (floored to whole microseconds, from its decimal text) and lengths per frame. */
function tshark(b: Buffer): { ts: number; wirelen: number; caplen: number }[] {
  const path = join(tmp, `f${fileNo++}`);
  writeFileSync(path, b);
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [t, len, cap] = line.split('\t');
      const [s, frac] = (t as string).split('.');
      expect(s).toMatch(/^\d+$/); // only non-negative times are compared as text
      return { ts: Number(BigInt(s as string) * 1_000_000n + BigInt(((frac ?? '') + '000000').slice(0, 6))), wirelen: Number(len), caplen: Number(cap) };
    });
}

// ---- pcapng ----

function ethUdp(n: number): Buffer {
  const b = Buffer.alloc(n);
  b.set([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00], 0);
  b.set([0x45, 0, 0, n - 14, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  b.writeUInt16BE(1000, 34);
  b.writeUInt16BE(2000, 36);
  b.writeUInt16BE(n - 34, 38);
  return b;
}

function shb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeBigInt64LE(-1n, 8);
  return pcapngBlock(0x0a0d0d0a, body);
}

function idb(tsresol: number, tsoffset?: bigint): Buffer {
  const opts: Buffer[] = [];
  const r = Buffer.alloc(8);
  r.writeUInt16LE(9, 0);
  r.writeUInt16LE(1, 2);
  r.writeUInt8(tsresol, 4);
  opts.push(r);
  if (tsoffset !== undefined) {
    const o = Buffer.alloc(12);
    o.writeUInt16LE(14, 0);
    o.writeUInt16LE(8, 2);
    o.writeBigInt64LE(tsoffset, 4);
    opts.push(o);
  }
  const head = Buffer.alloc(8);
  head.writeUInt16LE(1, 0);
  return pcapngBlock(1, Buffer.concat([head, ...opts, Buffer.alloc(4)]));
}

function epb(units: bigint, data: Buffer, iface = 0): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(iface, 0);
  h.writeUInt32LE(Number(units >> 32n), 4);
  h.writeUInt32LE(Number(units & 0xffffffffn), 8);
  h.writeUInt32LE(data.length, 12);
  h.writeUInt32LE(data.length, 16);
  return pcapngBlock(6, Buffer.concat([h, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
}

/** Units at the edges of a second and of a microsecond, at a time within 2^53 microseconds. */
function edgeUnits(perSec: bigint): bigint[] {
  const max = (1n << 64n) - 1n;
  let sec = 1_700_000_000n;
  while (sec * perSec > max - perSec) sec /= 2n;
  const us = perSec / 1_000_000n; // units per microsecond (0 when coarser)
  const fr = [0n, 1n, perSec / 2n, perSec / 2n - 1n, perSec - 1n, (perSec * 3n) / 4n + 1n];
  if (us > 1n) fr.push(us - 1n, us, 123_456n * us - 1n, 999_999n * us, 999_999n * us - 1n);
  return [...new Set(fr.filter((f) => f >= 0n && f < perSec).map((f) => sec * perSec + f))];
}

/** What the specification says: floor(units / unitsPerSecond) in microseconds. */
const floorMicros = (units: bigint, perSec: bigint): number => Number((units * 1_000_000n) / perSec);

const RESOLUTIONS: { code: number; perSec: bigint; name: string }[] = [
  ...Array.from({ length: 20 }, (_, n) => ({ code: n, perSec: 10n ** BigInt(n), name: `10^-${n}` })),
  ...Array.from({ length: 63 }, (_, i) => ({ code: 0x80 | (i + 1), perSec: 2n ** BigInt(i + 1), name: `2^-${i + 1}` })),
];

describe('pcapng if_tsresol: every decimal and binary resolution floors exactly to the microsecond', () => {
  it.each(RESOLUTIONS)('$name', async ({ code, perSec }) => {
    const units = edgeUnits(perSec);
    const file = Buffer.concat([shb(), idb(code), ...units.map((u) => epb(u, ethUdp(60)))]);
    const got = await read(file);
    expect(got.error).toBeNull();
    // e.g. 2^-33: 1700000000 s + (2^33 - 1) units is 1700000000.99999999988 s, in second
    // 1700000000, not 1700000001; 10^-17: 5 * 10^16 units is 0.5 s exactly, not 0.499999 s.
    expect(got.frames.map((f) => f.ts)).toEqual(units.map((u) => floorMicros(u, perSec)));
  });

  it.skipIf(!TSHARK)('agrees with tshark wherever tshark computes exactly (10^-0..10^-10, 2^-1..2^-34), one interface each', async () => {
    // tshark 4.0 multiplies the fraction by 10^9 in 64 bits: past 10^-10 and 2^-34 that
    // overflows and its times are wrong, so finer resolutions are checked above only.
    const exact = RESOLUTIONS.filter((r) => r.perSec <= 10n ** 10n || r.perSec <= 2n ** 34n);
    const file = Buffer.concat([
      shb(),
      ...exact.map((r) => idb(r.code)),
      ...exact.flatMap((r, i) => edgeUnits(r.perSec).map((u) => epb(u, ethUdp(60), i))),
    ]);
    const got = await read(file);
    expect(got.error).toBeNull();
    expect(got.frames.map((f) => ({ ts: f.ts, wirelen: f.wirelen, caplen: f.caplen }))).toEqual(tshark(file));
  });

  it('a negative if_tsoffset before 1970: times are floored, as the seconds are', async () => {
    // 10^-9 with -10 s: 9.999999999 s stored is -0.000000001 s, floored to -1 us (second -1);
    // 8.9998 s is -1.0002 s (second -2). tshark shows them as -1.999999999 and -2.999800000
    // (its whole part floored, the fraction added), the same instants.
    const file = Buffer.concat([shb(), idb(9, -10n), epb(9_999_999_999n, ethUdp(60)), epb(8_999_800_000n, ethUdp(60)), epb(10_000_000_000n, ethUdp(60))]);
    const got = await read(file);
    expect(got.frames.map((f) => f.ts)).toEqual([-1, -1_000_200, 0]);
    expect(got.frames.map((f) => Math.floor(f.ts / 1e6))).toEqual([-1, -2, 0]);
  });
});

// ---- snoop (RFC 1761; big-endian) ----

function snoop(network: number, recs: { sec: number; usec: number; data: Buffer; orig?: number; drops?: number; pad?: number | undefined }[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(2, 0);
  head.writeUInt32BE(network >>> 0, 4);
  const parts: Buffer[] = [Buffer.from('snoop\0\0\0', 'latin1'), head];
  for (const r of recs) {
    const base = 24 + r.data.length;
    const recLen = r.pad === undefined ? (base + 3) & ~3 : base + r.pad;
    const h = Buffer.alloc(24);
    h.writeUInt32BE(r.orig ?? r.data.length, 0);
    h.writeUInt32BE(r.data.length, 4);
    h.writeUInt32BE(recLen, 8);
    h.writeUInt32BE(r.drops ?? 0, 12);
    h.writeUInt32BE(r.sec >>> 0, 16);
    h.writeUInt32BE(r.usec >>> 0, 20);
    parts.push(h, r.data, Buffer.alloc(recLen - base));
  }
  return Buffer.concat(parts);
}

const SNOOP_RECS = [
  { sec: 1_700_000_000, usec: 1, data: ethUdp(60) },
  { sec: 1_700_000_000, usec: 999_999, data: ethUdp(61), drops: 5 },
  { sec: 1_700_000_001, usec: 500_000, data: ethUdp(63), orig: 1500, drops: 9 },
  { sec: 0x80000000, usec: 0, data: ethUdp(62), drops: 9 }, // 2038: seconds are unsigned
];

describe('snoop', () => {
  it('datalink codes are DLPI DL_* values: 4 and 0 are Ethernet, 0x12 (DL_IPATM) is SunATM, not IP over InfiniBand', async () => {
    const link = async (network: number): Promise<number> => (await read(snoop(network, SNOOP_RECS.slice(0, 1)))).frames[0]!.linktype;
    expect(await link(4)).toBe(1);
    expect(await link(0)).toBe(1);
    expect(await link(8)).toBe(10);
    // DL_IPATM: frames start with SunATM's 4-byte flags/VPI/VCI header (tshark: ATM PDUs),
    // LINKTYPE_SUNATM's layout. LINKTYPE_IPOIB's 44-byte header would be read from ATM bytes.
    expect(await link(0x12)).toBe(123);
    // DL_IB (0x1a) has a 4-byte header that no LINKTYPE has: an unsupported link, counted as such.
    expect(await link(0x1a)).toBe(0xffff);
  });

  it.each([
    ['records padded to 4 bytes', undefined],
    ['records without padding', 0],
    ['records with a 20-byte trailer (Shomiti-style)', 20],
  ] as const)('%s: times, lengths, cumulative drops, in one piece and byte by byte', async (_name, pad) => {
    const file = snoop(4, SNOOP_RECS.map((r) => ({ ...r, pad })));
    const whole = await read(file);
    expect(whole.error).toBeNull();
    expect(whole.frames.map((f) => [f.ts, f.caplen, f.wirelen])).toEqual([
      [1_700_000_000_000_001, 60, 60],
      [1_700_000_000_999_999, 61, 61],
      [1_700_000_001_500_000, 63, 1500],
      [2_147_483_648_000_000, 62, 62],
    ]);
    expect(whole.dropped).toBe(9); // cumulative: the last record's count
    expect(await read(file, 1)).toEqual(whole);
    if (TSHARK) expect(tshark(file)).toEqual(whole.frames.map((f) => ({ ts: f.ts, wirelen: f.wirelen, caplen: f.caplen })));
  });

  it('a file cut anywhere reports the records before the cut, then a truncation error', async () => {
    const file = snoop(4, SNOOP_RECS.slice(0, 2));
    const first = 16 + ((24 + 60 + 3) & ~3);
    // (under 8 bytes the magic is incomplete: not recognised as a capture at all)
    for (let k = 8; k < file.length; k++) {
      const got = await read(file.subarray(0, k), 1);
      const want = k < first ? 0 : 1;
      expect({ k, n: got.frames.length, error: got.error }).toEqual({ k, n: want, error: k === 16 || k === first ? null : 'ERR_PCAP_TRUNCATED_RECORD' });
    }
  });

  it('counts what the pcap reader counts: captured length over the original, a microsecond field of a second or more', async () => {
    const file = snoop(4, [
      { sec: 1_700_000_000, usec: 1, data: ethUdp(60), orig: 40 },
      { sec: 1_700_000_000, usec: 1_500_000, data: ethUdp(60) },
    ]);
    const got = await read(file);
    // kept as the file says (tshark: frame.len 40, frame.cap_len 60), the fraction carried
    expect(got.frames.map((f) => [f.ts, f.caplen, f.wirelen])).toEqual([
      [1_700_000_000_000_001, 60, 40],
      [1_700_000_001_500_000, 60, 60],
    ]);
    expect(got.anomalies).toEqual({ caplen_exceeds_wirelen: 1, bad_timestamp_fraction: 1 });
  });
});
