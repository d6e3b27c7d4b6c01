// Ethernet II and IEEE 802.3 framing: an EtherType (>= 0x0600) or a length followed by
// 802.2 LLC, with SNAP carrying an EtherType. Also the 802.3br mPacket wrapper.
//
//   | destination (6) | source (6) | EtherType or length (2) | payload ...

import { weird } from './anomaly.js';
import { u16be, u8 } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export function decodeEthernet(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 14) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchEthertype(u16be(b, off + 12), b, off + 14, end, out);
}

/** 802.2 LLC after an 802.3 length; SNAP (AA AA 03, OUI, EtherType) continues by EtherType. */
export function decodeLlc(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 3) {
    weird(out, ANOMALY.truncated_llc_header);
    out.nonIp = NONIP.other;
    return;
  }
  if (u8(b, off) === 0xaa && u8(b, off + 1) === 0xaa && u8(b, off + 2) === 0x03) {
    if (end - off < 8) {
      weird(out, ANOMALY.truncated_llc_header);
      out.nonIp = NONIP.other;
      return;
    }
    const type = u16be(b, off + 6);
    if (type >= 0x0600) {
      dispatchEthertype(type, b, off + 8, end, out);
      return;
    }
  }
  // STP, CDP, DTP, NetBIOS, IPX ...: not IP
  out.nonIp = NONIP.other;
}

/** LINKTYPE_ETHERNET_MPACKET (802.3br): preamble (7) and SMD (1) before an Ethernet frame. */
export function decodeMpacket(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 8) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  const smd = u8(b, off + 7);
  // SMD-E (express) or SMD-S0..S3 (first fragment of a preemptable frame) start a frame.
  if (smd === 0xd5 || smd === 0xe6 || smd === 0x4c || smd === 0x7f || smd === 0xb3) decodeEthernet(b, off + 8, end, out);
  else out.nonIp = NONIP.other;
}
