// Ethernet II and IEEE 802.3 framing: an EtherType (>= 0x0600) or a length followed by
// 802.2 LLC (IP itself, or SNAP carrying an EtherType or a bridged frame). Also the 802.3br
// mPacket wrapper, and Ethernet frames nested in others.
//
//   | destination (6) | source (6) | EtherType or length (2) | payload ...

import { weird } from './anomaly.js';
import { u16be, u8 } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeIpv4 } from './ipv4.js';
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

/** Ethernet frames carried inside another frame (802.1ah I-TAG, PPP BCP, 802.2 SNAP bridged
 *  frames) nest no deeper than this: each level is a call, and the stack is not the frame's to
 *  exhaust. */
export const MAX_NESTED_FRAMES = 8;
let nestedFrames = 0;

/**
 * A whole Ethernet frame inside another one (not the hot path: plain Ethernet is decodeEthernet).
 * `fcs`: the frame ends with a 4-byte FCS, not part of its payload.
 */
export function decodeNestedEthernet(b: Uint8Array, off: number, end: number, out: DecodedPacket, fcs: boolean): void {
  if (nestedFrames >= MAX_NESTED_FRAMES) {
    weird(out, ANOMALY.encapsulation_too_deep);
    out.nonIp = NONIP.other;
    return;
  }
  // a payload too short for the FCS leaves the Ethernet header short too (the decoder says so)
  if (fcs) end = end - off >= 4 ? end - 4 : off;
  nestedFrames++;
  decodeEthernet(b, off, end, out);
  nestedFrames--;
}

/** LLC SAPs and SNAP OUIs that carry IP (as tshark 4.0 reads them, packet-llc.c). */
const SAP_SNAP = 0xaa;
const SAP_IP = 0x06;
const LLC_UI = 0x03;
/** SNAP OUIs whose protocol id is an EtherType: 00-00-00 (RFC 1042) and 00-00-F8 (Cisco 90). */
const OUI_ENCAP_ETHER = 0x000000;
const OUI_CISCO_90 = 0x0000f8;
/** 802.1 bridged frames (RFC 2684 / RFC 1483 6.1): PID 1 an 802.3 frame with its FCS, 7 without,
 *  after 2 bytes of pad. */
const OUI_BRIDGED = 0x0080c2;
const BRIDGED_8023_FCS = 0x0001;
const BRIDGED_8023 = 0x0007;

/**
 * 802.2 LLC (after an 802.3 length, in 802.11 data, SLL protocol 4). The control field is one
 * byte in U frames (low bits 11) and two in I and S frames; only UI (0x03, not with P/F set) and
 * I frames carry data, as tshark reads them. Data follows by DSAP: 0x06 is IPv4 itself (tshark
 * hands it to its IPv4 dissector whatever the SSAP, so an IPv6 header there has no hosts); AA AA is
 * SNAP (OUI, protocol id), which continues by EtherType for OUIs 00-00-00 and 00-00-F8 only
 * (tshark reads Cisco's 00-00-0C, Apple's 08-00-07 and any other OUI's 0x0800 as something else
 * or data) and carries a whole Ethernet frame for the 802.1 bridged PIDs.
 */
export function decodeLlc(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 3) {
    weird(out, ANOMALY.truncated_llc_header);
    out.nonIp = NONIP.other;
    return;
  }
  const dsap = u8(b, off);
  const control = u8(b, off + 2);
  let p: number;
  if ((control & 3) === 3) {
    // U frames: only UI carries data (XID, TEST, SABME ... and UI with P/F set do not)
    if (control !== LLC_UI) {
      out.nonIp = NONIP.other;
      return;
    }
    p = off + 3;
  } else {
    if (end - off < 4) {
      weird(out, ANOMALY.truncated_llc_header);
      out.nonIp = NONIP.other;
      return;
    }
    // S frames (low bits 01) carry none
    if ((control & 1) !== 0) {
      out.nonIp = NONIP.other;
      return;
    }
    p = off + 4;
  }
  if (dsap === SAP_IP) {
    decodeIpv4(b, p, end, out);
    return;
  }
  if (dsap !== SAP_SNAP || u8(b, off + 1) !== SAP_SNAP) {
    // STP, CDP, DTP, NetBIOS, IPX ...: not IP
    out.nonIp = NONIP.other;
    return;
  }
  if (end - p < 5) {
    weird(out, ANOMALY.truncated_llc_header);
    out.nonIp = NONIP.other;
    return;
  }
  const oui = (u8(b, p) << 16) | u16be(b, p + 1);
  const pid = u16be(b, p + 3);
  if (oui === OUI_ENCAP_ETHER || oui === OUI_CISCO_90) {
    if (pid >= 0x0600) dispatchEthertype(pid, b, p + 5, end, out);
    else out.nonIp = NONIP.other;
    return;
  }
  if (oui === OUI_BRIDGED && (pid === BRIDGED_8023 || pid === BRIDGED_8023_FCS)) {
    if (end - p < 7) {
      weird(out, ANOMALY.truncated_llc_header);
      out.nonIp = NONIP.other;
      return;
    }
    decodeNestedEthernet(b, p + 7, end, out, pid === BRIDGED_8023_FCS);
    return;
  }
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
