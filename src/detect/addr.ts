// Addresses for detectors: numeric keys for the per-packet hooks (no strings, no
// allocation), text for alerts, and CIDR sets for allow-lists and local networks.

import { formatIpv6 } from '../aggregate/address.js';
import { ConfigError } from '../errors.js';
import type { DecodedPacket } from '../decode/packet.js';

/**
 * A host as one number: an IPv4 address is its uint32 value (< 2^32); an IPv6 address is
 * 2^32 plus a 52-bit hash of its four words. Two addresses with one key are one host to a
 * detector (counters merged, and the table keeps the words of the first for its text, so an
 * alert, and the allow-list, see that address), so the hash must not be solvable: the
 * multiply-xorshift it replaced could be inverted in its last word, and an address
 * colliding with any chosen one was found in a /64 of one's own in 0.1 s (a SYN flood then
 * went unreported behind one packet to an allow-listed collider). HalfSipHash-1-3 (64-bit
 * output) under a fixed key cannot be solved that way: a collision with a given address
 * takes about 2^52 trials by brute force (no shortcut is known); chance ones need about
 * 10^8 IPv6 hosts at once to be likely. The key is fixed, not random, so that keys, table
 * order and output are the same in every run and on the detector thread.
 */
export function key4(a: number): number {
  return a >>> 0;
}

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

/**
 * The last two addresses keyed (a packet's source and destination, asked for by several
 * detectors in turn): the hash below costs about 20 ns, a hit here four compares.
 */
const memoW = new Int32Array(8);
const memoK = new Float64Array(2);
let memoNext = 0;
// both slots start as the all-zero address, keyed
memoK[0] = memoK[1] = sipKey6(0, 0, 0, 0);

export function key6(w: Uint32Array): number {
  const w0 = (w[0] ?? 0) | 0;
  const w1 = (w[1] ?? 0) | 0;
  const w2 = (w[2] ?? 0) | 0;
  const w3 = (w[3] ?? 0) | 0;
  const m = memoW;
  if (m[0] === w0 && m[1] === w1 && m[2] === w2 && m[3] === w3) return memoK[0] ?? 0;
  if (m[4] === w0 && m[5] === w1 && m[6] === w2 && m[7] === w3) return memoK[1] ?? 0;
  const k = sipKey6(w0, w1, w2, w3);
  const o = memoNext * 4;
  m[o] = w0;
  m[o + 1] = w1;
  m[o + 2] = w2;
  m[o + 3] = w3;
  memoK[memoNext] = k;
  memoNext ^= 1;
  return k;
}

function sipKey6(w0: number, w1: number, w2: number, w3: number): number {
  // HalfSipHash-1-3, 64-bit output, the four address words as its four message words (a
  // 16-byte message); all arithmetic in int32. Key: the first 64 bits of the fractional part of pi.
  let v0 = 0x243f6a88 | 0;
  let v1 = (0x85a308d3 ^ 0xee) | 0;
  let v2 = (0x6c796765 ^ 0x243f6a88) | 0;
  let v3 = (0x74656462 ^ 0x85a308d3) | 0;
  for (let i = 0; i <= 4; i++) {
    // four address words, then the length block (16 bytes: 16 << 24)
    const m = i === 0 ? w0 : i === 1 ? w1 : i === 2 ? w2 : i === 3 ? w3 : 0x10000000;
    v3 ^= m;
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    v0 ^= m;
  }
  v2 ^= 0xee;
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
  }
  const lo = (v1 ^ v3) >>> 0;
  v1 ^= 0xdd;
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
  }
  const hi = (v1 ^ v3) >>> 12;
  // 2^32 * (1 + 20 bits) + 32 bits: always >= 2^32, always < 2^53.
  return 4294967296 * (1 + hi) + lo;
}

/** Key of the packet's outermost IP source (call only when p.ipVersion is 4 or 6). */
export function srcKey(p: DecodedPacket): number {
  return p.ipVersion === 4 ? p.src4 >>> 0 : key6(p.src6);
}

export function dstKey(p: DecodedPacket): number {
  return p.ipVersion === 4 ? p.dst4 >>> 0 : key6(p.dst6);
}

/** 32-bit mix of a key, for table slots. */
export function mixKey(k: number): number {
  const lo = k >>> 0;
  // IPv4 keys (most of them) skip the division for the high word.
  const hi = k < 4294967296 ? 0 : (k / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Text of the IPv6 address in words w[at, at + 4): the aggregator's RFC 5952 formatter
 * (src/aggregate/address.ts, the one every summary uses), so alerts spell hosts the same way.
 */
export function formatIpv6At(w: ArrayLike<number>, at: number): string {
  return formatIpv6(w[at] ?? 0, w[at + 1] ?? 0, w[at + 2] ?? 0, w[at + 3] ?? 0);
}

/** Parsed address: IPv4 as one word, IPv6 as four big-endian words. */
export interface ParsedAddr {
  readonly version: 4 | 6;
  readonly words: Uint32Array;
}

export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v;
}

export function parseIpv6(s: string): Uint32Array | null {
  let text = s;
  const pct = text.indexOf('%');
  if (pct >= 0) text = text.slice(0, pct);
  let tail: number[] = [];
  // An embedded IPv4 tail ("::ffff:1.2.3.4") supplies the last two groups.
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const parts = text.split('::');
  if (parts.length > 2) return null;
  const parse = (x: string): number[] | null => {
    if (x === '') return [];
    const out: number[] = [];
    for (const h of x.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return null;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  const head = parse(parts[0] ?? '');
  if (head === null) return null;
  let groups: number[];
  if (parts.length === 2) {
    const rest = parse(parts[1] ?? '');
    if (rest === null) return null;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = [...head, ...tail];
  }
  if (groups.length !== 8) return null;
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return w;
}

export function parseAddr(s: string): ParsedAddr | null {
  const v4 = parseIpv4(s);
  if (v4 !== null) return { version: 4, words: Uint32Array.of(v4) };
  if (!s.includes(':')) return null;
  const v6 = parseIpv6(s);
  return v6 === null ? null : { version: 6, words: v6 };
}

export interface Cidr {
  readonly version: 4 | 6;
  readonly words: Uint32Array;
  readonly masks: Uint32Array;
  /** Prefix length. */
  readonly bits: number;
}

function maskWords(version: 4 | 6, bits: number): Uint32Array {
  const n = version === 4 ? 1 : 4;
  const m = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.max(0, Math.min(32, bits - 32 * i));
    m[i] = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  }
  return m;
}

/** Parse "10.0.0.0/8", "fe80::/10" or a bare address (a /32 or /128); null when invalid. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const a = parseAddr(addrText.trim());
  if (a === null) return null;
  const max = a.version === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const t = s.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(t)) return null;
    bits = Number(t);
    if (bits > max) return null;
  }
  const masks = maskWords(a.version, bits);
  const words = new Uint32Array(a.words.length);
  for (let i = 0; i < words.length; i++) words[i] = ((a.words[i] ?? 0) & (masks[i] ?? 0)) >>> 0;
  return { version: a.version, words, masks, bits };
}

/**
 * A set of networks, matched by text (summaries and alerts carry addresses as text) or
 * by the numeric form a per-packet hook holds. Built once from configuration.
 */
export class CidrSet {
  private readonly v4: Cidr[] = [];
  private readonly v6: Cidr[] = [];
  readonly texts: readonly string[];
  private readonly cache = new Map<string, boolean>();

  /** Throws ConfigError naming `what` (the option or key) when an entry is not a network. */
  constructor(entries: readonly string[], what: string) {
    for (const e of entries) {
      const c = parseCidr(e);
      if (c === null) {
        throw new ConfigError(`${what}: "${e}" is not an IP address or CIDR network (e.g. 10.0.0.0/8, fd00::/8)`);
      }
      (c.version === 4 ? this.v4 : this.v6).push(c);
    }
    this.texts = [...entries];
  }

  get size(): number {
    return this.v4.length + this.v6.length;
  }

  has4(a: number): boolean {
    const v = a >>> 0;
    for (const c of this.v4) if (((v & (c.masks[0] ?? 0)) >>> 0) === c.words[0]) return true;
    return false;
  }

  /** The IPv6 address in words w[at, at + 4). */
  has6(w: ArrayLike<number>, at = 0): boolean {
    outer: for (const c of this.v6) {
      for (let i = 0; i < 4; i++) {
        if (((((w[at + i] ?? 0) >>> 0) & (c.masks[i] ?? 0)) >>> 0) !== c.words[i]) continue outer;
      }
      return true;
    }
    return false;
  }

  /** An address as SecondHosts.copyAddress lays it out at w[at]: family (4 or 6), then four
   *  big-endian words (IPv4 in the last). Another family is in no set. */
  hasWords(w: ArrayLike<number>, at: number): boolean {
    const fam = w[at];
    return fam === 4 ? this.has4(w[at + 4] ?? 0) : fam === 6 ? this.has6(w, at + 1) : false;
  }

  /** Text form (memoised: the same few hundred hosts come back every second). */
  hasText(addr: string): boolean {
    const hit = this.cache.get(addr);
    if (hit !== undefined) return hit;
    const a = parseAddr(addr);
    const r = a === null ? false : a.version === 4 ? this.has4(a.words[0] ?? 0) : this.has6(a.words);
    if (this.cache.size >= 65536) this.cache.clear();
    this.cache.set(addr, r);
    return r;
  }
}

/** RFC 1918, IPv6 unique-local (RFC 4193) and link-local: the default "local networks". */
export const DEFAULT_LOCAL_NETS: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fe80::/10'];
