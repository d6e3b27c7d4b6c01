// Linux "cooked" captures: SLL (16-byte header, protocol last) and SLL2 (20-byte header,
// protocol first). The protocol is an EtherType, or a Linux pseudo-type below 0x0600.

import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeEthernet, decodeLlc } from './ethernet.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';
import { decodePpp } from './ppp.js';

/** Protocol values below 0x0600 are Linux's ETH_P_* pseudo-types (linux/if_ether.h); tshark
 *  (packet-sll.c) reads 3 (ETH_P_ALL: a whole Ethernet frame), 4 (802.2 LLC) and 7
 *  (ETH_P_WAN_PPP: PPP in HDLC-like framing) on; the others carry no IP. */
const SLL_P_ETHERNET = 0x0003;
const SLL_P_802_2 = 0x0004;
const SLL_P_PPPHDLC = 0x0007;
/** ARPHRD_NETLINK (nlmon): the protocol is a netlink family, and the payload netlink messages. */
const ARPHRD_NETLINK = 824;

function dispatchSllProtocol(hatype: number, proto: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (hatype === ARPHRD_NETLINK) out.nonIp = NONIP.other;
  else if (proto >= 0x0600) dispatchEthertype(proto, b, off, end, out);
  else if (proto === SLL_P_802_2) decodeLlc(b, off, end, out);
  else if (proto === SLL_P_ETHERNET) decodeEthernet(b, off, end, out);
  else if (proto === SLL_P_PPPHDLC) decodePpp(b, off, end, out);
  else out.nonIp = NONIP.other;
}

export function decodeSll(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 16) {
    weird(out, ANOMALY.truncated_sll_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchSllProtocol(u16be(b, off + 2), u16be(b, off + 14), b, off + 16, end, out);
}

export function decodeSll2(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 20) {
    weird(out, ANOMALY.truncated_sll_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchSllProtocol(u16be(b, off + 8), u16be(b, off), b, off + 20, end, out);
}
