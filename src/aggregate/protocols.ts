// Per-protocol counters: one slot per IP protocol number, one per non-IP class, one per IP
// version. Names are given only when a summary is built.

import { NONIP_NAMES } from '../decode/packet.js';

const IP_PROTOCOL_NAMES: Record<number, string> = {
  0: 'ipv6-hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipip',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6-in-ip',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  89: 'ospf',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  136: 'udplite',
};

/** Slots: [0, 256) IP protocol numbers; then non-IP classes; then ipv4, ipv6. */
export const PROTO_NONIP_BASE = 256;
export const PROTO_IPV4 = PROTO_NONIP_BASE + NONIP_NAMES.length;
export const PROTO_IPV6 = PROTO_IPV4 + 1;
export const PROTO_SLOTS = PROTO_IPV6 + 1;

export function protocolName(slot: number): string {
  if (slot < PROTO_NONIP_BASE) return IP_PROTOCOL_NAMES[slot] ?? `ip-proto-${slot}`;
  if (slot === PROTO_IPV4) return 'ipv4';
  if (slot === PROTO_IPV6) return 'ipv6';
  return NONIP_NAMES[slot - PROTO_NONIP_BASE] ?? 'non-ip';
}

/** Counters -> {"ipv4": n, "tcp": n, ...}, only non-zero entries, network layer first. */
export function protocolObject(counts: Float64Array): Record<string, number> {
  const o: Record<string, number> = {};
  const v4 = counts[PROTO_IPV4] ?? 0;
  const v6 = counts[PROTO_IPV6] ?? 0;
  if (v4 > 0) o.ipv4 = v4;
  if (v6 > 0) o.ipv6 = v6;
  for (let s = 0; s < PROTO_IPV4; s++) {
    const n = counts[s] ?? 0;
    if (n > 0) o[protocolName(s)] = (o[protocolName(s)] ?? 0) + n;
  }
  return o;
}
