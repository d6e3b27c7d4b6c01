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
  let proto: number;
  if (u8(b, p) & 1) {
    proto = u8(b, p); // compressed one-byte protocol field
    p += 1;
  } else {
    if (end - p < 2) {
      weird(out, ANOMALY.truncated_ppp_header);
      out.nonIp = NONIP.other;
      return;
    }
    proto = u16be(b, p);
    p += 2;
  }
  dispatchPppProtocol(proto, b, p, end, out);
}

export function decodePppoeSession(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 8) {
    weird(out, ANOMALY.truncated_pppoe_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.pppoe | LAYER.ppp;
  let pend = off + 6 + u16be(b, off + 4);
  if (pend > end) {
    weird(out, ANOMALY.truncated_pppoe_payload);
    pend = end;
  } else if (pend < off + 8) pend = end;
  dispatchPppProtocol(u16be(b, off + 6), b, off + 8, pend, out);
}

/** Cisco HDLC: address, control, EtherType. */
export function decodeChdlc(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchEthertype(u16be(b, off + 2), b, off + 4, end, out);
}
