// ARP and RARP (RFC 826): counted by protocol, never per host (hosts are IP addresses). The
// fixed header says how long the addresses are, so a cut inside them is seen. Ethernet/IPv4
// ARP also fills arpOp/arpSender/arpTarget for the port-scan detector's ARP sweep (detect2).
//
//   | hw type (2) | proto type (2) | hlen | plen | op (2) | sender hw, proto | target hw, proto |

import { weird } from './anomaly.js';
import { u16be, u32be, u8 } from './bytes.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';



export function decodeArp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.layers |= LAYER.arp;
  out.nonIp = NONIP.arp;
  if (end - off < 8 || end - off < 8 + 2 * (u8(b, off + 4) + u8(b, off + 5))) {
    weird(out, ANOMALY.truncated_arp);
    return;
  }
  // Only the one layout whose protocol addresses are IPv4 in known places: htype 1
  // (Ethernet), ptype 0x0800, hlen 6, plen 4. Anything else (IPoIB, IEEE 802, ...) leaves
  // arpOp at -1 and the addresses unread. The length was checked above (8 + 2 x 10 = 28).
  if (u16be(b, off) !== 1 || u16be(b, off + 2) !== 0x0800 || u8(b, off + 4) !== 6 || u8(b, off + 5) !== 4) return;
  out.arpOp = u16be(b, off + 6);
  out.arpSender = u32be(b, off + 14);
  out.arpTarget = u32be(b, off + 24);
}
