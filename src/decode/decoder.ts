// The decoder: assembles the dispatch tables once and turns a Frame into the caller's
// DecodedPacket. Never throws on bad bytes and allocates nothing per frame.

import type { Frame } from '../capture/frame.js';
import { decodeArp } from './arp.js';
import { ETHERTYPE_DECODERS, IPPROTO_DECODERS, LINKTYPE_DECODERS, dispatchLinktype, setLlcDecoder } from './dispatch.js';
import { decodeEthernet, decodeLlc, decodeMpacket } from './ethernet.js';
import { decodeIcmp, decodeIcmpv6 } from './icmp.js';
import { decodeIeee80211, decodePpi, decodeRadiotap } from './ieee80211.js';
import { decodeIpoib } from './ipoib.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ETHERTYPE, IPPROTO, LINKTYPE } from './linktype.js';
import { decodeLoop, decodeNull } from './loopback.js';
import { decodeMpls } from './mpls.js';
import { decodeNflog } from './nflog.js';
import { ANOMALY, NONIP, RAN_OUT, resetDecodedPacket, type DecodedPacket } from './packet.js';
import { decodeChdlc, decodePpp, decodePppoeSession } from './ppp.js';
import { decodeRawIp } from './raw.js';
import { decodeSctp } from './sctp.js';
import { decodeSll, decodeSll2 } from './sll.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeItag, decodeVlan, decodeVntag } from './vlan.js';

const L = LINKTYPE_DECODERS;
L.set(LINKTYPE.NULL, decodeNull);
L.set(LINKTYPE.ETHERNET, decodeEthernet);
L.set(LINKTYPE.PPP, decodePpp);
L.set(LINKTYPE.PPP_HDLC, decodePpp);
L.set(LINKTYPE.PPP_ETHER, decodePppoeSession);
L.set(LINKTYPE.RAW, decodeRawIp);
L.set(LINKTYPE.RAW_BSD12, decodeRawIp);
L.set(LINKTYPE.RAW_BSD14, decodeRawIp);
L.set(LINKTYPE.C_HDLC, decodeChdlc);
L.set(LINKTYPE.IEEE802_11, decodeIeee80211);
L.set(LINKTYPE.LOOP, decodeLoop);
L.set(LINKTYPE.LINUX_SLL, decodeSll);
L.set(LINKTYPE.IEEE802_11_RADIOTAP, decodeRadiotap);
L.set(LINKTYPE.PPI, decodePpi);
L.set(LINKTYPE.NFLOG, decodeNflog);
L.set(LINKTYPE.IPOIB, decodeIpoib);
L.set(LINKTYPE.IPV4, decodeIpv4);
L.set(LINKTYPE.IPV6, decodeIpv6);
L.set(LINKTYPE.ETHERNET_MPACKET, decodeMpacket);
L.set(LINKTYPE.LINUX_SLL2, decodeSll2);

const E = ETHERTYPE_DECODERS;
E[ETHERTYPE.IPV4] = decodeIpv4;
E[ETHERTYPE.IPV6] = decodeIpv6;
E[ETHERTYPE.ARP] = decodeArp;
E[ETHERTYPE.RARP] = decodeArp;
E[ETHERTYPE.VLAN] = decodeVlan;
E[ETHERTYPE.QINQ_8021AD] = decodeVlan;
E[ETHERTYPE.QINQ_9100] = decodeVlan;
E[ETHERTYPE.QINQ_9200] = decodeVlan;
E[ETHERTYPE.QINQ_9300] = decodeVlan;
E[ETHERTYPE.MPLS_UNICAST] = decodeMpls;
E[ETHERTYPE.MPLS_MULTICAST] = decodeMpls;
E[ETHERTYPE.PPPOE_SESSION] = decodePppoeSession;
E[ETHERTYPE.VNTAG] = decodeVntag;
E[ETHERTYPE.PBB_ITAG] = decodeItag;
setLlcDecoder(decodeLlc);

const P = IPPROTO_DECODERS;
P[IPPROTO.TCP] = decodeTcp;
P[IPPROTO.UDP] = decodeUdp;
P[IPPROTO.UDPLITE] = decodeUdp;
P[IPPROTO.ICMP] = decodeIcmp;
P[IPPROTO.ICMPV6] = decodeIcmpv6;
P[IPPROTO.SCTP] = decodeSctp;

/** Link types the decoder reads (for --help and the README). */
export function supportedLinktypes(): number[] {
  return [...LINKTYPE_DECODERS.keys()].sort((a, b) => a - b);
}

/** Decode one frame into `out` (overwritten). Reads only bytes[offset, offset + caplen). */
export function decodeFrame(f: Frame, out: DecodedPacket): void {
  resetDecodedPacket(out);
  dispatchLinktype(f.linktype, f.bytes, f.offset, f.offset + f.caplen, out);
  if (out.anomaly !== 0 && RAN_OUT[out.anomaly] === true) {
    // Bytes missing because the snapshot length cut the frame are no fault of the frame.
    // A live frame cut by --snaplen is counted by its source (snaplen_truncated) already.
    if (f.caplen < f.wirelen) out.anomaly = ANOMALY.snaplen_truncated;
    else if (f.cut) {
      // Only an IP header that could not be read leaves a frame without IP and without a
      // class (every other layer names one): its class is ip-malformed, which the aggregator
      // tells by the anomaly cleared here (without this it counted the frame as non-ip).
      if (out.ipVersion === 0 && out.nonIp === NONIP.none) out.nonIp = NONIP.malformed;
      out.anomaly = 0;
    }
  }
}
