// LINKTYPE_* values (tcpdump.org/linktypes.html) the decoder understands.
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  PPP: 9,
  PPP_HDLC: 50,
  PPP_ETHER: 51,
  RAW: 101,
  C_HDLC: 104,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  PPI: 192,
  NFLOG: 239,
  IPOIB: 242,
  IPV4: 228,
  IPV6: 229,
  ETHERNET_MPACKET: 274,
  LINUX_SLL2: 276,
} as const;

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS_UNICAST: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_SESSION: 0x8864,
  QINQ_8021AD: 0x88a8,
  PBB_ITAG: 0x88e7,
  VNTAG: 0x8926,
  QINQ_9100: 0x9100,
  QINQ_9200: 0x9200,
  QINQ_9300: 0x9300,
} as const;

export const IPPROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
} as const;
