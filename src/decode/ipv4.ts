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
  let ipEnd = off + total;
  const cut = ipEnd > end;
  if (cut) ipEnd = end;
  // The destination: the header's, or the final one of a source route still under way.
  const dstAt = ihl > 20 ? finalDestinationAt(b, off, ihl, ipEnd) : off + 16;
  if (dstAt < 0) {
    // the options ran out before they could be read: the destination is not known
    weird(out, ANOMALY.truncated_ipv4);
    return;
  }
  out.ipVersion = 4;
  out.layers |= LAYER.ipv4;
  out.ipOffset = off;
  out.src4 = u32be(b, off + 12);
  out.dst4 = u32be(b, dstAt);
  const proto = u8(b, off + 9);
  out.ipProto = proto;
  if (cut) weird(out, ANOMALY.truncated_ipv4_payload);
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

const IPOPT_EOL = 0;
const IPOPT_NOP = 1;
const IPOPT_LSRR = 0x83;
const IPOPT_SSRR = 0x89;

/**
 * Where the datagram's final destination is (RFC 791 3.1): with a loose or strict source
 * route whose pointer still points into the route, the last address of the route (the
 * header's destination is only the next hop); otherwise the header's destination at
 * off + 16. -1 when the options end (at `lim`, the captured or declared end) before this
 * can be told. The walk is tshark's (4.0, packet-ip.c get_dst_offset): options are read
 * up to the end of list or the first source route, malformed lengths end it, and a route
 * whose pointer is past its end (or malformed) leaves the header's destination. tshark
 * reads ip.dst from the same place, or shows none when the walk runs out of bytes.
 */
function finalDestinationAt(b: Uint8Array, off: number, ihl: number, lim: number): number {
  let p = off + 20;
  let left = ihl - 20;
  while (left > 0) {
    if (p >= lim) return -1;
    const opt = u8(b, p);
    left--;
    if (opt === IPOPT_EOL) break;
    if (opt === IPOPT_NOP) {
      p++;
      continue;
    }
    if (left === 0) break;
    if (p + 1 >= lim) return -1;
    const len = u8(b, p + 1);
    left--;
    if (len < 2 || len - 2 > left) break;
    if (opt === IPOPT_LSRR || opt === IPOPT_SSRR) {
      if (p + 2 >= lim) return -1;
      const ptr = u8(b, p + 2);
      if (ptr < 4 || (ptr & 3) !== 0 || ptr > len) break;
      const at = p + len - 4;
      return at + 4 <= lim ? at : -1;
    }
    p += len;
    left -= len - 2;
  }
  return off + 16;
}
