// IPv4 (RFC 791): the header length and total length are checked before use; Ethernet
// padding past the total length is never parsed; only first fragments carry ports.
//
//   0      4      8              16     19                     31
//   |ver   |ihl   | dscp/ecn     | total length                |
//   | identification             |flags| fragment offset       |
//   | ttl         | protocol     | header checksum             |
//   | source address                                           |
//   | destination address                                      |

import { weird } from './anomaly.js';
import { u16be, u32be, u8 } from './bytes.js';
import { dispatchIpProto } from './dispatch.js';
import { ANOMALY, LAYER, type DecodedPacket } from './packet.js';

export function decodeIpv4(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 20) {
    weird(out, ANOMALY.truncated_ipv4);
    return;
  }
  const vihl = u8(b, off);
  if (vihl >> 4 !== 4) {
    weird(out, ANOMALY.bad_ipv4_version);
    return;
  }
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) {
    weird(out, ANOMALY.bad_ipv4_header_length);
    return;
  }
  let total = u16be(b, off + 2);
  // 0 means TCP segmentation offload left the length for the NIC (tshark reads it so too).
  if (total === 0) total = end - off;
  else if (total < ihl) {
    weird(out, ANOMALY.bad_ipv4_total_length);
    return;
  }
  out.ipVersion = 4;
  out.layers |= LAYER.ipv4;
  out.ipOffset = off;
  out.src4 = u32be(b, off + 12);
  out.dst4 = u32be(b, off + 16);
  const proto = u8(b, off + 9);
  out.ipProto = proto;
  let ipEnd = off + total;
  if (ipEnd > end) {
    weird(out, ANOMALY.truncated_ipv4_payload);
    ipEnd = end;
  }
  const frag = u16be(b, off + 6);
  if ((frag & 0x3fff) !== 0) {
    out.layers |= LAYER.fragment;
    // A non-first fragment starts mid-datagram: no upper-layer header to read.
    if ((frag & 0x1fff) !== 0) return;
  }
  if (ihl > ipEnd - off) {
    weird(out, ANOMALY.truncated_ipv4);
    return;
  }
  dispatchIpProto(proto, b, off + ihl, ipEnd, out);
}
