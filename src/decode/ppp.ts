// PPP (RFC 1661/1662) with optional HDLC address/control bytes and protocol-field
// compression; PPPoE sessions (RFC 2516) carry PPP; Cisco HDLC carries an EtherType.
//
//   PPPoE: | ver/type | code | session id (2) | length (2) | PPP protocol (2) | ...

import { weird } from './anomaly.js';
import { u16be, u8 } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeMpls } from './mpls.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

function dispatchPppProtocol(proto: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  switch (proto) {
    case 0x0021:
      decodeIpv4(b, off, end, out);
      return;
    case 0x0057:
      decodeIpv6(b, off, end, out);
      return;
    case 0x0281:
    case 0x0283:
      decodeMpls(b, off, end, out);
      return;
    default:
      out.nonIp = NONIP.other; // LCP, IPCP, CHAP, ...
  }
}

export function decodePpp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  let p = off;
  if (end - p >= 2 && u8(b, p) === 0xff && u8(b, p + 1) === 0x03) p += 2;
  // 0xff alone: the HDLC address without its control byte (0xff is never a protocol byte)
  if (end - p < 1 || (end - p === 1 && u8(b, p) === 0xff)) {
    weird(out, ANOMALY.truncated_ppp_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.ppp;
  decodePppProtocol(b, p, end, out);
}

/** The PPP protocol field at p, one byte when compressed (RFC 1661 6.5: odd first byte), then what it names. */
function decodePppProtocol(b: Uint8Array, p: number, end: number, out: DecodedPacket): void {
  if (end - p < 1 || ((u8(b, p) & 1) === 0 && end - p < 2)) {
    weird(out, ANOMALY.truncated_ppp_header);
    out.nonIp = NONIP.other;
    return;
  }
  if (u8(b, p) & 1) dispatchPppProtocol(u8(b, p), b, p + 1, end, out);
  else dispatchPppProtocol(u16be(b, p), b, p + 2, end, out);
}

/**
 * PPPoE session (RFC 2516 4): the length covers the PPP protocol field and what follows
 * (the rest of the frame is padding). The protocol field may be compressed to one byte
 * (RFC 2516 7: Protocol-Field-Compression is NOT RECOMMENDED, but allowed), as tshark reads it.
 */
export function decodePppoeSession(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 6) {
    weird(out, ANOMALY.truncated_pppoe_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.pppoe | LAYER.ppp;
  let pend = off + 6 + u16be(b, off + 4);
  if (pend > end) {
    weird(out, ANOMALY.truncated_pppoe_payload);
    pend = end;
  }
  // A length too short for the protocol field ends the payload inside it, as tshark reads it.
  decodePppProtocol(b, off + 6, pend, out);
}

const CHDLC_SLARP = 0x8035;

/** Cisco HDLC: address, control, EtherType (but SLARP). */
export function decodeChdlc(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  const type = u16be(b, off + 2);
  // 0x8035 is SLARP here (Cisco's serial-line address resolution and keepalives), not RARP
  if (type === CHDLC_SLARP) out.nonIp = NONIP.other;
  else dispatchEthertype(type, b, off + 4, end, out);
}
