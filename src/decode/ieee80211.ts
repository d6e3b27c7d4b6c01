// IEEE 802.11 data frames carrying LLC/SNAP (or A-MSDUs of them), behind radiotap or PPI
// headers or bare.
// Management, control, protected and null-data frames carry no IP we can read.

import { weird } from './anomaly.js';
import { u16be, u16le, u32le, u8 } from './bytes.js';
import { dispatchLinktype } from './dispatch.js';
import { decodeLlc } from './ethernet.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export function decodeIeee80211(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  decodeDataFrame(b, off, end, out, false);
}

/** `pad`: the header is padded to a multiple of 4 bytes (radiotap's "data pad" flag). */
function decodeDataFrame(b: Uint8Array, off: number, end: number, out: DecodedPacket, pad: boolean): void {
  if (end - off < 2) {
    weird(out, ANOMALY.truncated_80211_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  const fc0 = u8(b, off);
  const fc1 = u8(b, off + 1);
  const type = (fc0 >> 2) & 3;
  const subtype = (fc0 >> 4) & 15;
  // not data, protected, or a null-data subtype (no body)
  if (type !== 2 || (fc1 & 0x40) !== 0 || (subtype & 4) !== 0) {
    out.nonIp = NONIP.other;
    return;
  }
  let hdr = 24;
  if ((fc1 & 3) === 3) hdr += 6; // four addresses (WDS)
  const qos = (subtype & 8) !== 0;
  const qosAt = hdr;
  if (qos) {
    hdr += 2; // QoS control
    if ((fc1 & 0x80) !== 0) hdr += 4; // HT control
  }
  if (pad) hdr = (hdr + 3) & ~3;
  if (end - off < hdr) {
    weird(out, ANOMALY.truncated_80211_header);
    out.nonIp = NONIP.other;
    return;
  }
  // QoS control bit 7: the body is an A-MSDU (tshark reads a body of 4 bytes or less as LLC
  // instead: no IP fits in it either way, and here it is a subframe header cut short)
  if (qos && (u8(b, off + qosAt) & QOS_AMSDU_PRESENT) !== 0) decodeAmsdu(b, off + hdr, end, out);
  else decodeLlc(b, off + hdr, end, out);
}

const QOS_AMSDU_PRESENT = 0x80;

/**
 * An A-MSDU (IEEE 802.11-2020 9.3.2.2.2): subframes of destination (6), source (6), length (2,
 * big-endian) and that many bytes of LLC, each padded to a multiple of 4 bytes from the start of
 * the body. The outermost IP header is the first one found, as tshark (4.0) finds it: it reads
 * subframe after subframe while more than 14 bytes are left, and stops at the first that runs
 * out of bytes (an exception there; an anomaly here). A length past the end of the frame is
 * read as far as the bytes go, as tshark does.
 */
function decodeAmsdu(b: Uint8Array, body: number, end: number, out: DecodedPacket): void {
  let p = body;
  do {
    if (end - p < 14) {
      weird(out, ANOMALY.truncated_80211_header);
      out.nonIp = NONIP.other;
      return;
    }
    const len = u16be(b, p + 12);
    let msduEnd = p + 14 + len;
    if (msduEnd > end) {
      weird(out, ANOMALY.truncated_8023_payload);
      msduEnd = end;
    }
    out.nonIp = NONIP.none; // what this subframe is, not an earlier one
    decodeLlc(b, p + 14, msduEnd, out);
    if (out.ipVersion !== 0 || out.anomaly !== 0) return;
    p = body + ((p + 14 + len - body + 3) & ~3);
  } while (end - p > 14);
}

export function decodeRadiotap(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 8) {
    weird(out, ANOMALY.truncated_radiotap_header);
    out.nonIp = NONIP.other;
    return;
  }
  const len = u16le(b, off + 2);
  if (len < 8 || len > end - off) {
    weird(out, ANOMALY.truncated_radiotap_header);
    out.nonIp = NONIP.other;
    return;
  }
  decodeDataFrame(b, off + len, end, out, radiotapDataPad(b, off, off + len));
}

/** Radiotap Flags bit 0x20: padding between the 802.11 header and its payload. */
const RADIOTAP_FLAG_DATAPAD = 0x20;

/**
 * The "data pad" bit of radiotap's Flags field (radiotap.org: field 1, after the presence
 * bitmaps, which chain while bit 31 is set, and TSFT, field 0: 8 bytes aligned to 8).
 * [off, hend) is the radiotap header, at least 8 bytes.
 */
function radiotapDataPad(b: Uint8Array, off: number, hend: number): boolean {
  const present = u32le(b, off + 4);
  let p = off + 8;
  for (let w = present; (w & 0x80000000) !== 0; p += 4) {
    if (hend - p < 4) return false;
    w = u32le(b, p);
  }
  if ((present & 2) === 0) return false;
  if ((present & 1) !== 0) p = off + ((p - off + 7) & ~7) + 8;
  return p < hend && (u8(b, p) & RADIOTAP_FLAG_DATAPAD) !== 0;
}

/** PPI (per-packet information): a header naming the link type of what follows. */
export function decodePpi(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 8) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  const len = u16le(b, off + 2);
  const dlt = u32le(b, off + 4);
  if (len < 8 || len > end - off || dlt === 192) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  dispatchLinktype(dlt, b, off + len, end, out);
}
