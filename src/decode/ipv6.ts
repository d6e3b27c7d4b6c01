// IPv6 (RFC 8200) with a bounded walk of the extension-header chain: hop-by-hop, routing,
// fragment, destination options, AH, mobility, HIP, shim6 and the experimental values.
// A payload length of 0 (jumbogram or segmentation offload) means "to the end of the frame".

import { weird } from './anomaly.js';
import { u16be, u32be, u8 } from './bytes.js';
import { dispatchIpProto } from './dispatch.js';
import { ANOMALY, LAYER, type DecodedPacket } from './packet.js';

/** Longest extension-header chain we follow before calling it an anomaly. */
export const MAX_IPV6_EXTENSIONS = 8;

const NH_HOPOPTS = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_DSTOPTS = 60;
const NH_MOBILITY = 135;
const NH_HIP = 139;
const NH_SHIM6 = 140;

export function decodeIpv6(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 40) {
    weird(out, ANOMALY.truncated_ipv6);
    return;
  }
  if (u8(b, off) >> 4 !== 6) {
    weird(out, ANOMALY.bad_ipv6_version);
    return;
  }
  out.ipVersion = 6;
  out.layers |= LAYER.ipv6;
  out.ipOffset = off;
  const s = out.src6;
  const d = out.dst6;
  s[0] = u32be(b, off + 8);
  s[1] = u32be(b, off + 12);
  s[2] = u32be(b, off + 16);
  s[3] = u32be(b, off + 20);
  d[0] = u32be(b, off + 24);
  d[1] = u32be(b, off + 28);
  d[2] = u32be(b, off + 32);
  d[3] = u32be(b, off + 36);
  const plen = u16be(b, off + 4);
  let ipEnd = plen === 0 ? end : off + 40 + plen;
  if (ipEnd > end) {
    weird(out, ANOMALY.truncated_ipv6_payload);
    ipEnd = end;
  }
  let nh = u8(b, off + 6);
  let p = off + 40;
  for (let n = 0; ; n++) {
    let len: number;
    switch (nh) {
      case NH_HOPOPTS:
      case NH_ROUTING:
      case NH_DSTOPTS:
      case NH_MOBILITY:
      case NH_HIP:
      case NH_SHIM6:
      case 253:
      case 254:
        if (ipEnd - p < 2) {
          extensionCut(b, p, ipEnd, nh, n, out);
          return;
        }
        len = (u8(b, p + 1) + 1) * 8;
        break;
      case NH_AH:
        if (ipEnd - p < 2) {
          extensionCut(b, p, ipEnd, nh, n, out);
          return;
        }
        len = (u8(b, p + 1) + 2) * 4;
        break;
      case NH_FRAGMENT:
        if (ipEnd - p < 8) {
          extensionCut(b, p, ipEnd, nh, n, out);
          return;
        }
        out.layers |= LAYER.fragment;
        if ((u16be(b, p + 2) & 0xfff8) !== 0) {
          // non-first fragment: the upper-layer protocol is named, its header is elsewhere
          out.ipProto = u8(b, p);
          return;
        }
        len = 8;
        break;
      default:
        out.ipProto = nh;
        dispatchIpProto(nh, b, p, ipEnd, out);
        return;
    }
    if (n >= MAX_IPV6_EXTENSIONS) {
      weird(out, ANOMALY.ipv6_ext_chain_too_long);
      out.ipProto = nh;
      return;
    }
    if (ipEnd - p < len) {
      extensionCut(b, p, ipEnd, nh, n, out);
      return;
    }
    nh = u8(b, p);
    p += len;
  }
}

/**
 * The extension header of type `nh` at p is cut short (by the capture or by the payload length)
 * at ipEnd. Its first byte, like every extension header's (RFC 8200 4, 4.8), is the Next Header
 * that names what follows it: when that byte is there, it is the upper protocol (or the next
 * extension header, as far as can be told), as tshark reads it and as an IPv4 header cut after
 * its protocol field still names it; only without it is the cut header's own type all we know.
 * `n`: the headers walked before this one.
 */
function extensionCut(b: Uint8Array, p: number, ipEnd: number, nh: number, n: number, out: DecodedPacket): void {
  weird(out, ANOMALY.truncated_ipv6_ext_header);
  // (a header past the chain's limit is not read into, cut or not: see MAX_IPV6_EXTENSIONS)
  out.ipProto = p < ipEnd && n < MAX_IPV6_EXTENSIONS ? u8(b, p) : nh;
}
