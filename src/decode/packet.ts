// DecodedPacket: the one reusable object the decoder overwrites per frame (owned by the
// caller, never reallocated). Addresses stay numeric here; strings are made per summary.

/** Named observations about bad or odd bytes, counted like Zeek's "weirds", never thrown. */
export const ANOMALY = {
  none: 0,
  unsupported_link_type: 1,
  truncated_link_header: 2,
  truncated_vlan_header: 3,
  vlan_stack_too_deep: 4,
  truncated_mpls_header: 5,
  mpls_stack_too_deep: 6,
  truncated_pppoe_header: 7,
  truncated_ppp_header: 8,
  truncated_ipv4: 9,
  bad_ipv4_version: 10,
  bad_ipv4_header_length: 11,
  bad_ipv4_total_length: 12,
  truncated_ipv4_payload: 13,
  truncated_ipv6: 14,
  bad_ipv6_version: 15,
  truncated_ipv6_payload: 16,
  truncated_ipv6_ext_header: 17,
  ipv6_ext_chain_too_long: 18,
  truncated_tcp: 19,
  bad_tcp_data_offset: 20,
  truncated_udp: 21,
  bad_udp_length: 22,
  truncated_icmp: 23,
  truncated_icmpv6: 24,
  bad_ip_version_raw: 25,
  truncated_nflog: 26,
  bad_nflog_tlv: 27,
  truncated_80211_header: 28,
  truncated_radiotap_header: 29,
  truncated_llc_header: 30,
  truncated_vntag_header: 31,
  truncated_sll_header: 32,
  /** The frame ran out inside a header or payload because the capture's snapshot length cut it
   *  (captured length < wire length): expected, not bad bytes, and counted under this one name. */
  snaplen_truncated: 33,
  // added with the decoder tests (test/decode): cuts the decoders did not see
  truncated_arp: 34,
  truncated_8023_payload: 35,
  truncated_pppoe_payload: 36,
  truncated_mpls_payload: 37,
  truncated_sctp: 38,
  /** Frames inside frames (802.1ah I-TAG, bridged PPP, bridged 802.2 SNAP) nested deeper than
   *  MAX_NESTED_FRAMES (ethernet.ts): the rest is not decoded. */
  encapsulation_too_deep: 39,
} as const;

/** Anomalies that mean "the bytes ran out"; for a frame cut by the snapshot length they
 *  become snaplen_truncated. */
export const RAN_OUT: readonly boolean[] = (() => {
  const r: boolean[] = [];
  for (const [name, code] of Object.entries(ANOMALY)) r[code] = name.startsWith('truncated_');
  return r;
})();

export type AnomalyName = keyof typeof ANOMALY;
export type AnomalyCode = (typeof ANOMALY)[AnomalyName];

/** Code -> name, for summaries (index = code). */
export const ANOMALY_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, code] of Object.entries(ANOMALY)) names[code] = name;
  return names;
})();

export const ANOMALY_COUNT = ANOMALY_NAMES.length;

/** Bits of DecodedPacket.layers. */
export const LAYER = {
  link: 1 << 0,
  vlan: 1 << 1,
  mpls: 1 << 2,
  pppoe: 1 << 3,
  ppp: 1 << 4,
  ipv4: 1 << 5,
  ipv6: 1 << 6,
  tcp: 1 << 7,
  udp: 1 << 8,
  icmp: 1 << 9,
  icmpv6: 1 << 10,
  fragment: 1 << 11,
  arp: 1 << 12,
} as const;

/** Non-IP traffic classes counted per protocol (IP traffic is counted by IP protocol number). */
export const NONIP = {
  none: 0,
  arp: 1,
  other: 2,
  unsupported: 3,
  /** An IP EtherType or link type whose IP header could not be read. */
  malformed: 4,
} as const;

export const NONIP_NAMES: readonly string[] = ['non-ip', 'arp', 'non-ip', 'unsupported-link', 'ip-malformed'];

export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export interface DecodedPacket {
  /** LAYER bits seen in this frame. */
  layers: number;
  /** First anomaly met (ANOMALY code), 0 when the bytes were fine. */
  anomaly: number;
  /** Number of VLAN tags (802.1Q/802.1ad/QinQ) and the outer two ids (-1 when absent). */
  vlanCount: number;
  vlanOuter: number;
  vlanInner: number;
  mplsCount: number;
  /** 0 (no IP), 4 or 6: the OUTERMOST IP header. */
  ipVersion: number;
  /** IPv4 addresses as unsigned 32-bit integers (valid when ipVersion === 4). */
  src4: number;
  dst4: number;
  /** IPv6 addresses as four big-endian 32-bit words (valid when ipVersion === 6). */
  readonly src6: Uint32Array;
  readonly dst6: Uint32Array;
  /** Upper-layer protocol number of the outermost IP header, after IPv6 extensions; -1 if none. */
  ipProto: number;
  /** NONIP class when ipVersion === 0. */
  nonIp: number;
  /** Ports for TCP/UDP on first fragments, -1 otherwise. */
  srcPort: number;
  dstPort: number;
  /** TCP flag byte (TCP_FLAGS bits), 0 when not TCP. */
  tcpFlags: number;
  /** ICMP / ICMPv6 type and code, -1 when absent. */
  icmpType: number;
  icmpCode: number;
  /** Offsets in frame.bytes (absolute, like frame.offset) of the outermost IP and L4 headers, -1 if absent. */
  ipOffset: number;
  l4Offset: number;
  /** ARP over IPv4 (LAYER.arp): operation (1 request, 2 reply; -1 when not ARP) and the
   *  sender and target protocol addresses as uint32. Hosts stay IP-only: the aggregator
   *  ignores these; the port-scan detector uses them to see ARP sweeps. */
  arpOp: number;
  arpSender: number;
  arpTarget: number;
}

export function createDecodedPacket(): DecodedPacket {
  return {
    layers: 0,
    anomaly: 0,
    vlanCount: 0,
    vlanOuter: -1,
    vlanInner: -1,
    mplsCount: 0,
    ipVersion: 0,
    src4: 0,
    dst4: 0,
    src6: new Uint32Array(4),
    dst6: new Uint32Array(4),
    ipProto: -1,
    nonIp: 0,
    srcPort: -1,
    dstPort: -1,
    tcpFlags: 0,
    icmpType: -1,
    icmpCode: -1,
    ipOffset: -1,
    l4Offset: -1,
    arpOp: -1,
    arpSender: 0,
    arpTarget: 0,
  };
}

/** Reset before decoding a frame (src6/dst6 are left as they are: ipVersion says if valid). */
export function resetDecodedPacket(p: DecodedPacket): void {
  p.layers = 0;
  p.anomaly = 0;
  p.vlanCount = 0;
  p.vlanOuter = -1;
  p.vlanInner = -1;
  p.mplsCount = 0;
  p.ipVersion = 0;
  p.src4 = 0;
  p.dst4 = 0;
  p.ipProto = -1;
  p.nonIp = 0;
  p.srcPort = -1;
  p.dstPort = -1;
  p.tcpFlags = 0;
  p.icmpType = -1;
  p.icmpCode = -1;
  p.ipOffset = -1;
  p.l4Offset = -1;
  p.arpOp = -1;
}
