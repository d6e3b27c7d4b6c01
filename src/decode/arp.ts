// ARP and RARP (RFC 826): counted by protocol, never per host (hosts are IP addresses). The
// fixed header says how long the addresses are, so a cut inside them is seen.
//
//   | hw type (2) | proto type (2) | hlen | plen | op (2) | sender hw, proto | target hw, proto |

import { weird } from './anomaly.js';
import { u8 } from './bytes.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export function decodeArp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.layers |= LAYER.arp;
  out.nonIp = NONIP.arp;
  if (end - off < 8 || end - off < 8 + 2 * (u8(b, off + 4) + u8(b, off + 5))) weird(out, ANOMALY.truncated_arp);
}
