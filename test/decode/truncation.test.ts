// Truncation sweep: every fixture frame cut to every length L, with caplen = wirelen = L and
// with caplen = L under the real wire length (then a cut reads as snaplen_truncated).
// Decoding never throws and reads nothing outside [offset, offset + caplen): the same cut in
// different surrounding bytes decodes the same. Every cut shorter than the frame's outermost
// IP datagram (as its header declares) or, without IP, than the bytes the annotation says the
// frame needs, is a truncated_* anomaly (except cuts that leave a whole frame of the same
// kind: Expect.completeAt); longer cuts only lose padding or trailers, so they decode exactly
// like the whole frame. A second sweep shortens the IP datagram itself into its L4 header.

import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decoder.js';
import { createDecodedPacket } from '../../src/decode/packet.js';
import { FIXTURES, bytesOf, difference, frameOver, l4At, reading, type Reading } from './fixtures/catalog.js';
import type { Fixture } from './fixtures/fixture.js';

/** Bytes around the frame: enough that a stray read before or after lands in them. */
const PAD = 29;
const TAIL = 64;

/**
 * Where the frame stops being truncated: the end of the outermost IP datagram as its header
 * declares it (IPv4 total length, IPv6 40 + payload length; 0 means "to the end of the
 * frame", as segmentation offload and jumbograms leave it), or the annotation's `needs`.
 */
function wholeAt(f: Fixture, b: Uint8Array): number | 'never' {
  const ip = f.expect.ip;
  const u16 = (i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (ip?.version === 4) return u16(ip.at + 2) === 0 ? b.length : ip.at + u16(ip.at + 2);
  if (ip?.version === 6) return u16(ip.at + 4) === 0 ? b.length : ip.at + 40 + u16(ip.at + 4);
  if (f.expect.needs === undefined) throw new Error(`${f.name}: a frame without IP needs 'needs'`);
  return f.expect.needs;
}

/**
 * The same cut when the record says the wire had more (caplen < wirelen): the capture's
 * snapshot length cut it, and every "ran out" anomaly (truncated_*) is counted under the one
 * name snaplen_truncated (src/decode/decoder.ts); anything else is unchanged.
 */
function snapped(r: Reading): Reading {
  return r.anomaly.startsWith('truncated_') ? { ...r, anomaly: 'snaplen_truncated' } : r;
}

/** Buffers holding the frame at PAD, each with other bytes around it. */
function surroundings(b: Uint8Array): { name: string; buf: Uint8Array; fill: Uint8Array | null }[] {
  const size = PAD + b.length + TAIL;
  let seed = 0x9e3779b9;
  const random = new Uint8Array(size).map(() => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed >>> 24;
  });
  // the real continuation of the frame after the cut: a decoder reading past caplen would
  // find plausible bytes there and report less than it should
  const rest = new Uint8Array(size).fill(0xff);
  rest.set(b, PAD);
  return [
    { name: 'rest of the frame', buf: rest, fill: null },
    { name: 'zeros', buf: new Uint8Array(size), fill: new Uint8Array(size) },
    { name: '0xff', buf: new Uint8Array(size).fill(0xff), fill: new Uint8Array(size).fill(0xff) },
    { name: 'random', buf: random.slice(), fill: random },
  ];
}

describe('every cut of every fixture', () => {
  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const b = bytesOf(f);
    const whole = wholeAt(f, b);
    const out = createDecodedPacket();
    decodeFrame(frameOver(f.linktype, b, 0, b.length, f.wirelen), out);
    const full = reading(out, 0);
    const around = surroundings(b);
    const failures: string[] = [];

    for (let len = 0; len <= b.length; len++) {
      // the reference: exactly len bytes in a buffer of their own
      const alone = b.slice(0, len);
      decodeFrame(frameOver(f.linktype, alone, 0, len, len), out);
      const ref: Reading = reading(out, 0);

      for (const s of around) {
        if (s.fill !== null) s.buf.set(b.subarray(0, len), PAD);
        for (const wirelen of [len, Math.max(len, f.wirelen)]) {
          let r: Reading;
          try {
            decodeFrame(frameOver(f.linktype, s.buf, PAD, len, wirelen), out);
            r = reading(out, PAD);
          } catch (e) {
            failures.push(`L=${len} in ${s.name}, wirelen ${wirelen}: threw ${String(e)}`);
            continue;
          }
          const d = difference(r, wirelen > len ? snapped(ref) : ref);
          if (d !== null) failures.push(`L=${len} in ${s.name}, wirelen ${wirelen}: ${d}`);
        }
        if (s.fill !== null) s.buf.set(s.fill.subarray(PAD, PAD + len), PAD);
      }

      if (f.expect.completeAt?.includes(len) === true) {
        // a shorter frame of the same kind, whole in itself (see Expect.completeAt)
        if (ref.ipVersion !== 0) failures.push(`L=${len}: a cut at a boundary of the link header read IP`);
      } else if (whole === 'never') {
        if (ref.anomaly === 'none') failures.push(`L=${len}: no anomaly for a frame that always is one`);
      } else if (len < whole) {
        // a cut is the bytes running out (truncated_*), whatever layer it falls in
        if (!ref.anomaly.startsWith('truncated_')) failures.push(`L=${len}: anomaly ${ref.anomaly}, but the frame is whole only at ${whole}`);
      } else {
        const d = difference(ref, full);
        if (d !== null) failures.push(`L=${len} (whole at ${whole}): decodes unlike the whole frame, ${d}`);
      }
    }
    expect(whole === 'never' || whole <= b.length, 'the annotation asks for more bytes than the fixture has').toBe(true);
    expect({ failures: failures.length, first: failures.slice(0, 12) }).toEqual({ failures: 0, first: [] });
  });
});

/**
 * The smallest upper-layer header and the anomaly for less: TCP 20 bytes (RFC 9293 3.1), UDP
 * and UDP-Lite 8 (RFC 768, RFC 3828 3), the SCTP common header 12 (RFC 9260 3.1), ICMP and
 * ICMPv6 type, code and checksum 4 (RFC 792, RFC 4443 2.1).
 */
const L4: Record<number, { size: number; anomaly: string }> = {
  6: { size: 20, anomaly: 'truncated_tcp' },
  17: { size: 8, anomaly: 'truncated_udp' },
  136: { size: 8, anomaly: 'truncated_udp' },
  132: { size: 12, anomaly: 'truncated_sctp' },
  1: { size: 4, anomaly: 'truncated_icmp' },
  58: { size: 4, anomaly: 'truncated_icmpv6' },
};

// Not a capture cut this time: the IP header itself says the datagram ends k bytes into the
// upper-layer header (and so do the PPPoE, NFLOG, 802.3 and A-MSDU lengths around it), so every
// length field agrees and only the upper-layer header is short. Its own anomaly must say so.
describe('datagrams whose declared length ends inside the upper-layer header', () => {
  const cases = FIXTURES.filter((f) => l4At(f, bytesOf(f)) >= 0);

  it.each(cases.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const b = bytesOf(f);
    const ip = f.expect.ip;
    const l4 = L4[ip?.proto ?? -1];
    if (ip === undefined || l4 === undefined) throw new Error(`${f.name}: no upper-layer header to cut`);
    const at = l4At(f, b);
    const out = createDecodedPacket();
    const failures: string[] = [];
    for (let k = 0; k < l4.size; k++) {
      const end = at + k;
      const cut = b.slice(0, end);
      const put16 = (i: number, v: number): void => {
        cut[i] = v >> 8;
        cut[i + 1] = v & 0xff;
      };
      if (ip.version === 4) put16(ip.at + 2, end - ip.at);
      else put16(ip.at + 4, end - ip.at - 40);
      if (f.expect.layers.includes('pppoe')) {
        // RFC 2516 4: version/type 0x11 and code 0 start the session header, before a 2-byte PPP
        // protocol field or (RFC 1661 6.5) a compressed 1-byte one
        const at = b[ip.at - 8] === 0x11 && b[ip.at - 7] === 0x00 ? ip.at - 8 : ip.at - 7;
        put16(at + 4, end - at - 6);
      }
      if (f.linktype === 239) put16Le(cut, ip.at - 4, end - (ip.at - 4)); // the NFULA_PAYLOAD TLV
      // an IEEE 802.3 length (below 0x0600 where the EtherType goes) covers the LLC data after it
      if (f.linktype === 1 && ((b[12] ?? 0) << 8 | (b[13] ?? 0)) < 0x0600) put16(12, end - 14);
      // an A-MSDU subframe (destination, source, length) holds the LLC/SNAP header (8) and datagram
      if (f.linktype === 105 && isAmsdu(b)) put16(ip.at - 10, end - (ip.at - 8));
      decodeFrame(frameOver(f.linktype, cut, 0, end, end), out);
      const r = reading(out, 0);
      if (r.anomaly !== l4.anomaly) failures.push(`${k} bytes of the ${l4.size}-byte header: anomaly ${r.anomaly}`);
    }
    expect(failures).toEqual([]);
  });
});

/** A bare 802.11 QoS data frame (type 2, subtype bit 8) whose QoS control has the A-MSDU bit. */
function isAmsdu(b: Uint8Array): boolean {
  const fc0 = b[0] ?? 0;
  const qosAt = ((b[1] ?? 0) & 3) === 3 ? 30 : 24;
  return ((fc0 >> 2) & 3) === 2 && (fc0 & 0x80) !== 0 && ((b[qosAt] ?? 0) & 0x80) !== 0;
}

function put16Le(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = v >> 8;
}
