// Linux NFLOG (LINKTYPE_NFLOG): a 4-byte header (address family, version, resource id) then
// TLVs whose length and type are in the capturing host's byte order (little-endian here,
// big-endian tried when that does not fit). The packet is the NFULA_PAYLOAD TLV.

import { weird } from './anomaly.js';
import { u16be, u16le, u8 } from './bytes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

const NFULA_PAYLOAD = 9;

export function decodeNflog(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_nflog);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  const family = u8(b, off);
  // Byte order of the TLV headers: little-endian unless the first TLV only fits big-endian.
  let le = true;
  if (end - off >= 8) {
    const l = u16le(b, off + 4);
    if (l < 4 || off + 4 + l > end) {
      const bl = u16be(b, off + 4);
      if (bl >= 4 && off + 4 + bl <= end) le = false;
    }
  }
  let p = off + 4;
  for (let guard = 0; end - p >= 4 && guard < 1024; guard++) {
    const len = le ? u16le(b, p) : u16be(b, p);
    const type = (le ? u16le(b, p + 2) : u16be(b, p + 2)) & 0x7fff;
    if (len < 4) {
      weird(out, ANOMALY.bad_nflog_tlv);
      out.nonIp = NONIP.other;
      return;
    }
    if (type === NFULA_PAYLOAD) {
      let pend = p + len;
      if (pend > end) pend = end; // snapped by the capture length
      if (family === 2) decodeIpv4(b, p + 4, pend, out);
      else if (family === 10) decodeIpv6(b, p + 4, pend, out);
      else out.nonIp = NONIP.other;
      return;
    }
    if (p + len > end) {
      // the TLV runs past the captured bytes: they ran out (a snapshot length, or a cut)
      weird(out, ANOMALY.truncated_nflog);
      out.nonIp = NONIP.other;
      return;
    }
    p += (len + 3) & ~3;
  }
  // Ending exactly after a TLV is a whole record without payload (copy range 0); ending
  // inside a TLV header or its padding is a cut.
  if (end - p < 4 && p !== end) weird(out, ANOMALY.truncated_nflog);
  out.nonIp = NONIP.other;
}
