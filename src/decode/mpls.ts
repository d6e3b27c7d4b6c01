// MPLS label stacks (RFC 3032), bounded. After the bottom label the payload is named by its
// first nibble, as every dissector does: 4 = IPv4, 6 = IPv6, 0 = a pseudowire control word
// followed by Ethernet (RFC 4448); anything else is left undecoded.
//
//   | label (20) | tc (3) | S (1) | ttl (8) |

import { weird } from './anomaly.js';
import { u8 } from './bytes.js';
import { decodeEthernet } from './ethernet.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export const MAX_MPLS_LABELS = 16;

export function decodeMpls(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  let p = off;
  for (let i = 0; ; i++) {
    if (end - p < 4) {
      weird(out, ANOMALY.truncated_mpls_header);
      out.nonIp = NONIP.other;
      return;
    }
    if (i >= MAX_MPLS_LABELS) {
      weird(out, ANOMALY.mpls_stack_too_deep);
      out.nonIp = NONIP.other;
      return;
    }
    out.layers |= LAYER.mpls;
    out.mplsCount++;
    const bottom = u8(b, p + 2) & 1;
    p += 4;
    if (bottom) break;
  }
  if (p >= end) {
    // the bottom of the stack promises a payload
    weird(out, ANOMALY.truncated_mpls_payload);
    out.nonIp = NONIP.other;
    return;
  }
  switch (u8(b, p) >> 4) {
    case 4:
      decodeIpv4(b, p, end, out);
      return;
    case 6:
      decodeIpv6(b, p, end, out);
      return;
    case 0:
      // the 4-byte control word, then the customer's frame (whose decoder checks its header)
      if (end - p >= 4) decodeEthernet(b, p + 4, end, out);
      else {
        weird(out, ANOMALY.truncated_mpls_payload);
        out.nonIp = NONIP.other;
      }
      return;
    default:
      out.nonIp = NONIP.other;
  }
}
