// IEEE 802.11 data frames carrying LLC/SNAP, behind radiotap or PPI headers or bare.
// Management, control, protected and null-data frames carry no IP we can read.

import { weird } from './anomaly.js';
import { u16le, u32le, u8 } from './bytes.js';
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
  if ((subtype & 8) !== 0) {
    hdr += 2; // QoS control
    if ((fc1 & 0x80) !== 0) hdr += 4; // HT control
  }
  if (pad) hdr = (hdr + 3) & ~3;
  if (end - off < hdr) {
    weird(out, ANOMALY.truncated_80211_header);
    out.nonIp = NONIP.other;
    return;
  }
  decodeLlc(b, off + hdr, end, out);
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
