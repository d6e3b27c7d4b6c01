// PPP (RFC 1661/1662) with optional HDLC address/control bytes and protocol-field
// compression, carrying IPv4, IPv6, MPLS, Van Jacobson uncompressed TCP/IP, bridged Ethernet
// (BCP) and unfragmented multilink packets; PPPoE sessions (RFC 2516) carry PPP; Cisco HDLC
// carries an EtherType.
//
//   PPPoE: | ver/type | code | session id (2) | length (2) | PPP protocol (2) | ...

import { weird } from './anomaly.js';
import { u16be, u8 } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeNestedEthernet } from './ethernet.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeMpls } from './mpls.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

/** RFC 1144 3.2.4: an IPv4/TCP header whose protocol byte is the connection slot. (0x002d,
 *  compressed TCP/IP, only differs from an earlier header of the same link: not read.) */
const PPP_VJ_UNCOMPRESSED = 0x002f;
/** RFC 3518 (BCP) bridged LAN frames. */
const PPP_BRIDGED = 0x0031;
/** RFC 1990 multilink: a 4-byte header (tshark's default, long sequence numbers) before a piece of a PPP packet. */
const PPP_MULTILINK = 0x003d;

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
    case PPP_VJ_UNCOMPRESSED:
      decodeVjUncompressed(b, off, end, out);
      return;
    case PPP_BRIDGED:
      decodeBcp(b, off, end, out);
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

/**
 * The PPP protocol field at p, one byte when compressed (RFC 1661 6.5: odd first byte), then what
 * it names. A multilink header (RFC 1990 3) with both the B (first) and E (last) fragment bits
 * set holds a whole packet: its protocol field and data follow (as tshark reads it: it reassembles
 * such a fragment on its own). A fragment without both bits is a piece of a packet split over
 * frames, which tshark reassembles across them and a frame-by-frame decoder cannot: not IP here.
 * A loop, not recursion: multilink headers can repeat.
 */
function decodePppProtocol(b: Uint8Array, p: number, end: number, out: DecodedPacket): void {
  for (;;) {
    if (end - p < 1 || ((u8(b, p) & 1) === 0 && end - p < 2)) {
      weird(out, ANOMALY.truncated_ppp_header);
      out.nonIp = NONIP.other;
      return;
    }
    let proto: number;
    if (u8(b, p) & 1) {
      proto = u8(b, p);
      p += 1;
    } else {
      proto = u16be(b, p);
      p += 2;
    }
    if (proto !== PPP_MULTILINK) {
      dispatchPppProtocol(proto, b, p, end, out);
      return;
    }
    if (end - p < 4) {
      weird(out, ANOMALY.truncated_ppp_header);
      out.nonIp = NONIP.other;
      return;
    }
    if ((u8(b, p) & MP_FIRST_LAST) !== MP_FIRST_LAST) {
      out.nonIp = NONIP.other;
      return;
    }
    p += 4;
  }
}

const MP_FIRST_LAST = 0xc0;

/** A copy of a VJ-uncompressed datagram (grown as needed, kept: no allocation per frame). */
let vjDatagram = new Uint8Array(0);
const IPPROTO_TCP = 6;

/**
 * PPP protocol 0x002f, Van Jacobson "uncompressed TCP" (RFC 1144 3.2.4): a whole TCP/IP header
 * whose IP protocol byte holds the connection slot number instead of 6. tshark (4.0,
 * packet-vj-comp.c) rebuilds the datagram with 6 put back and reads it as IPv4: so do we, on a
 * copy (the capture's bytes are not ours to change, and plain IPv4 pays nothing for this rare
 * case). Offsets into the copy are moved back onto the frame.
 */
function decodeVjUncompressed(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  const n = end - off;
  if (vjDatagram.length < n) vjDatagram = new Uint8Array(Math.max(n, 256, vjDatagram.length * 2));
  const d = vjDatagram;
  for (let i = 0; i < n; i++) d[i] = u8(b, off + i);
  if (n > 9) d[9] = IPPROTO_TCP;
  const ipBefore = out.ipOffset;
  const l4Before = out.l4Offset;
  decodeIpv4(d, 0, n, out);
  if (out.ipOffset !== ipBefore) out.ipOffset += off;
  if (out.l4Offset !== l4Before) out.l4Offset += off;
}

const BCP_FCS_PRESENT = 0x80;
const BCP_BRIDGE_CONTROL = 0x10;
const BCP_PADS = 0x0f;
const BCP_MAC_ETHERNET = 1;

/**
 * A bridged PDU (RFC 3518 4.2): flags (F: the LAN FCS is present; B: bridge control; Pads: bytes
 * of padding at the end), the MAC type, then the LAN frame. tshark (4.0, packet-ppp.c
 * dissect_bcp_bpdu) reads MAC type 1, IEEE 802.3/Ethernet, as an Ethernet frame once the pads
 * (and the FCS with F set) are taken off the end; the other MAC types and bridge control
 * carry no IP.
 */
function decodeBcp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 2) {
    weird(out, ANOMALY.truncated_ppp_header);
    out.nonIp = NONIP.other;
    return;
  }
  const flags = u8(b, off);
  if ((flags & BCP_BRIDGE_CONTROL) !== 0 || u8(b, off + 1) !== BCP_MAC_ETHERNET) {
    out.nonIp = NONIP.other;
    return;
  }
  const pads = flags & BCP_PADS;
  if (end - off - 2 < pads) {
    // fewer bytes than the padding alone: tshark reads no frame
    weird(out, ANOMALY.truncated_ppp_header);
    out.nonIp = NONIP.other;
    return;
  }
  decodeNestedEthernet(b, off + 2, end - pads, out, (flags & BCP_FCS_PRESENT) !== 0);
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
