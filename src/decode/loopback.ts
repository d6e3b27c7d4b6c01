// BSD loopback encapsulations: NULL (4-byte address family in the capturing host's byte
// order) and LOOP (the same in network byte order). IPv6's family number differs by OS.

import { weird } from './anomaly.js';
import { u32be, u32le } from './bytes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

function dispatchFamily(family: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  switch (family) {
    case 2:
      decodeIpv4(b, off, end, out);
      return;
    // (tcpdump.org LINKTYPE_NULL; 23 is IPX there, and 10 is no value of it: tshark reads
    // neither as IPv6)
    case 24: // NetBSD, OpenBSD, BSD/OS, Npcap
    case 28: // FreeBSD, DragonFly
    case 30: // macOS
      decodeIpv6(b, off, end, out);
      return;
    default:
      out.nonIp = NONIP.other;
  }
}

export function decodeNull(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  let family = u32le(b, off);
  // Written on a big-endian host: the small number sits in the high bytes.
  if ((family & 0xffff0000) !== 0) family = u32be(b, off);
  dispatchFamily(family, b, off + 4, end, out);
}

export function decodeLoop(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchFamily(u32be(b, off), b, off + 4, end, out);
}
