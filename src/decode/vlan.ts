// IEEE 802.1Q / 802.1ad tags and deeper stacks (QinQ, 0x9100 and friends), the Cisco VN-Tag
// and the 802.1ah I-TAG. Tag depth is bounded; the outer two VLAN ids are kept.
//
//   802.1Q: | TCI: pcp(3) dei(1) vid(12) | inner EtherType (2) |

import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeNestedEthernet } from './ethernet.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export const MAX_VLAN_TAGS = 8;

export function decodeVlan(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_vlan_header);
    out.nonIp = NONIP.other;
    return;
  }
  const n = ++out.vlanCount;
  if (n > MAX_VLAN_TAGS) {
    weird(out, ANOMALY.vlan_stack_too_deep);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.vlan;
  const vid = u16be(b, off) & 0x0fff;
  if (n === 1) out.vlanOuter = vid;
  else if (n === 2) out.vlanInner = vid;
  dispatchEthertype(u16be(b, off + 2), b, off + 4, end, out);
}

/** Cisco VN-Tag (0x8926): 4 bytes of tag, then the next EtherType. */
export function decodeVntag(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 6) {
    weird(out, ANOMALY.truncated_vntag_header);
    out.nonIp = NONIP.other;
    return;
  }
  dispatchEthertype(u16be(b, off + 4), b, off + 6, end, out);
}

/** 802.1ah provider backbone I-TAG (0x88e7): 4 bytes, then the customer's Ethernet header. */
export function decodeItag(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 4) {
    weird(out, ANOMALY.truncated_vlan_header);
    out.nonIp = NONIP.other;
    return;
  }
  decodeNestedEthernet(b, off + 4, end, out, false);
}
