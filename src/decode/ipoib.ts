// IP over InfiniBand as libpcap captures it (LINKTYPE_IPOIB): a 44-byte header whose
// EtherType sits at offset 40 (after source and destination hardware addresses).
import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

export function decodeIpoib(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 44) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchEthertype(u16be(b, off + 40), b, off + 44, end, out);
}
