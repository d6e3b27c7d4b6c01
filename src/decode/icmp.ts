// ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code; quoted headers inside errors are
// not hosts (DESIGN: the outermost IP header alone defines a frame's hosts).
import { weird } from './anomaly.js';
import { u8 } from './bytes.js';
import { ANOMALY, LAYER, type DecodedPacket } from './packet.js';

export function decodeIcmp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.l4Offset = off;
  if (end - off >= 2) {
    out.icmpType = u8(b, off);
    out.icmpCode = u8(b, off + 1);
  }
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_icmp);
    return;
  }
  out.layers |= LAYER.icmp;
}

export function decodeIcmpv6(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.l4Offset = off;
  if (end - off >= 2) {
    out.icmpType = u8(b, off);
    out.icmpCode = u8(b, off + 1);
  }
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_icmpv6);
    return;
  }
  out.layers |= LAYER.icmpv6;
}
