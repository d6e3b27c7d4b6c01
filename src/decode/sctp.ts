// SCTP common header (RFC 9260 3.1: ports, verification tag, checksum: 12 bytes): only the
// ports, for scan detection and services.
import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { ANOMALY, type DecodedPacket } from './packet.js';

export function decodeSctp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.l4Offset = off;
  if (end - off >= 4) {
    out.srcPort = u16be(b, off);
    out.dstPort = u16be(b, off + 2);
  }
  if (end - off < 12) weird(out, ANOMALY.truncated_sctp);
}
