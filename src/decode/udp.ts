// UDP header (RFC 768): ports and a checked length.
import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { ANOMALY, LAYER, type DecodedPacket } from './packet.js';

export function decodeUdp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.l4Offset = off;
  const n = end - off;
  if (n >= 4) {
    out.srcPort = u16be(b, off);
    out.dstPort = u16be(b, off + 2);
  }
  if (n < 8) {
    weird(out, ANOMALY.truncated_udp);
    return;
  }
  out.layers |= LAYER.udp;
  const len = u16be(b, off + 4);
  // 0 is legal for IPv6 jumbograms; anything else below the header size is not. In a first
  // fragment the length covers the whole datagram, so it is longer than what is here.
  if (len !== 0 && len < 8) weird(out, ANOMALY.bad_udp_length);
  else if (len > n && (out.layers & LAYER.fragment) === 0) weird(out, ANOMALY.truncated_udp);
}
