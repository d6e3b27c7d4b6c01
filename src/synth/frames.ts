// Writes one generated Ethernet frame (optional 802.1Q tag; IPv4/IPv6 with TCP, UDP,
// ICMP/ICMPv6, or ARP) straight into the writer's zeroed buffer, checksums included.
// Owned by synth. Per packet: no allocation; payload bytes are left zero.

export const KIND = {
  tcp: 0,
  udp: 1,
  icmp: 2,
  arp: 3,
} as const;

/** The packet to write next; one reusable object, filled by a traffic source. */
export interface PacketSpec {
  kind: number;
  /** 4 or 6 (ignored for ARP). */
  family: number;
  /** 802.1Q VLAN id, or -1 for an untagged frame. */
  vlan: number;
  /** MACs are 02:6e:xx:xx:xx:xx built from a 32-bit id; -1 is ff:ff:ff:ff:ff:ff. */
  srcMac: number;
  dstMac: number;
  src4: number;
  dst4: number;
  readonly src6: Uint32Array;
  readonly dst6: Uint32Array;
  ttl: number;
  sport: number;
  dport: number;
  /** TCP: flags byte, seq, ack, window, MSS option (0 = none). */
  flags: number;
  seq: number;
  ack: number;
  win: number;
  mss: number;
  /** ICMP: type, code, identifier, sequence. ARP: icmpType is the operation. */
  icmpType: number;
  icmpCode: number;
  icmpId: number;
  icmpSeq: number;
  /** Bytes after the L4 header (zeros). */
  payload: number;
  /** IPv4 identification: a counter the writer advances per IPv4 packet. */
  ipId: number;
  /** For the truth file: host ids of the outermost IP source and destination (-1: none). */
  srcHost: number;
  dstHost: number;
}

export function createPacketSpec(): PacketSpec {
  return {
    kind: 0,
    family: 4,
    vlan: -1,
    srcMac: 0,
    dstMac: 0,
    src4: 0,
    dst4: 0,
    src6: new Uint32Array(4),
    dst6: new Uint32Array(4),
    ttl: 64,
    sport: 0,
    dport: 0,
    flags: 0,
    seq: 0,
    ack: 0,
    win: 0,
    mss: 0,
    icmpType: 0,
    icmpCode: 0,
    icmpId: 0,
    icmpSeq: 0,
    payload: 0,
    ipId: 0,
    srcHost: -1,
    dstHost: -1,
  };
}

/** Ethernet frames shorter than this (without FCS) are padded with zeros, as NICs do. */
export const MIN_FRAME = 60;
/** Largest frame the generator writes: 14 + 4 (tag) + 1500. */
export const MAX_FRAME = 1518;

/** IP header + L4 header + payload, i.e. the IP total length (ARP: 28). */
export function ipLength(p: PacketSpec): number {
  if (p.kind === KIND.arp) return 28;
  const l4 = p.kind === KIND.tcp ? (p.mss !== 0 ? 24 : 20) : 8;
  return (p.family === 6 ? 40 : 20) + l4 + p.payload;
}

/** Wire (and captured) length of the frame for `p`. */
export function frameLength(p: PacketSpec): number {
  const n = 14 + (p.vlan >= 0 ? 4 : 0) + ipLength(p);
  return n < MIN_FRAME ? MIN_FRAME : n;
}

/** Write the frame at `o` (the room is zeroed and large enough); returns its length. */
export function writeFrame(buf: Uint8Array, dv: DataView, o: number, p: PacketSpec): number {
  const len = frameLength(p);
  // Ethernet
  writeMac(buf, dv, o, p.dstMac);
  writeMac(buf, dv, o + 6, p.srcMac);
  let q = o + 12;
  if (p.vlan >= 0) {
    dv.setUint16(q, 0x8100);
    dv.setUint16(q + 2, p.vlan & 0x0fff);
    q += 4;
  }
  if (p.kind === KIND.arp) {
    dv.setUint16(q, 0x0806);
    writeArp(buf, dv, q + 2, p);
    return len;
  }
  const ip = q + 2;
  const ipLen = ipLength(p);
  const proto = p.kind === KIND.tcp ? 6 : p.kind === KIND.udp ? 17 : p.family === 6 ? 58 : 1;
  let l4: number;
  // Pseudo-header sum for TCP/UDP/ICMPv6 checksums (ICMPv4 has none).
  let pseudo: number;
  if (p.family === 6) {
    dv.setUint16(q, 0x86dd);
    dv.setUint32(ip, 0x60000000);
    const plen = ipLen - 40;
    dv.setUint16(ip + 4, plen);
    buf[ip + 6] = proto;
    buf[ip + 7] = p.ttl;
    const s = p.src6;
    const d = p.dst6;
    pseudo = plen + proto;
    for (let i = 0; i < 4; i++) {
      const sw = s[i] ?? 0;
      const dw = d[i] ?? 0;
      dv.setUint32(ip + 8 + 4 * i, sw);
      dv.setUint32(ip + 24 + 4 * i, dw);
      pseudo += (sw >>> 16) + (sw & 0xffff) + (dw >>> 16) + (dw & 0xffff);
    }
    l4 = ip + 40;
  } else {
    dv.setUint16(q, 0x0800);
    buf[ip] = 0x45;
    dv.setUint16(ip + 2, ipLen);
    dv.setUint16(ip + 4, p.ipId);
    p.ipId = (p.ipId + 1) & 0xffff;
    dv.setUint16(ip + 6, 0x4000); // DF
    buf[ip + 8] = p.ttl;
    buf[ip + 9] = proto;
    dv.setUint32(ip + 12, p.src4);
    dv.setUint32(ip + 16, p.dst4);
    dv.setUint16(ip + 10, checksum(dv, ip, ip + 20, 0));
    const plen = ipLen - 20;
    pseudo =
      plen + proto + (p.src4 >>> 16) + (p.src4 & 0xffff) + (p.dst4 >>> 16) + (p.dst4 & 0xffff);
    l4 = ip + 20;
  }
  // The payload is all zeros, so checksums only need the headers.
  if (p.kind === KIND.tcp) {
    const hl = p.mss !== 0 ? 24 : 20;
    dv.setUint16(l4, p.sport);
    dv.setUint16(l4 + 2, p.dport);
    dv.setUint32(l4 + 4, p.seq >>> 0);
    dv.setUint32(l4 + 8, p.ack >>> 0);
    buf[l4 + 12] = (hl / 4) << 4;
    buf[l4 + 13] = p.flags;
    dv.setUint16(l4 + 14, p.win);
    if (p.mss !== 0) {
      dv.setUint16(l4 + 20, 0x0204);
      dv.setUint16(l4 + 22, p.mss);
    }
    dv.setUint16(l4 + 16, checksum(dv, l4, l4 + hl, pseudo));
  } else if (p.kind === KIND.udp) {
    dv.setUint16(l4, p.sport);
    dv.setUint16(l4 + 2, p.dport);
    dv.setUint16(l4 + 4, 8 + p.payload);
    const c = checksum(dv, l4, l4 + 8, pseudo);
    dv.setUint16(l4 + 6, c === 0 ? 0xffff : c);
  } else {
    buf[l4] = p.icmpType;
    buf[l4 + 1] = p.icmpCode;
    dv.setUint16(l4 + 4, p.icmpId);
    dv.setUint16(l4 + 6, p.icmpSeq);
    dv.setUint16(l4 + 2, checksum(dv, l4, l4 + 8, p.family === 6 ? pseudo : 0));
  }
  return len;
}

function writeMac(buf: Uint8Array, dv: DataView, o: number, id: number): void {
  if (id < 0) {
    dv.setUint32(o, 0xffffffff);
    dv.setUint16(o + 4, 0xffff);
    return;
  }
  buf[o] = 0x02;
  buf[o + 1] = 0x6e;
  dv.setUint32(o + 2, id >>> 0);
}

function writeArp(buf: Uint8Array, dv: DataView, o: number, p: PacketSpec): void {
  dv.setUint16(o, 1); // Ethernet
  dv.setUint16(o + 2, 0x0800);
  buf[o + 4] = 6;
  buf[o + 5] = 4;
  dv.setUint16(o + 6, p.icmpType); // operation: 1 request, 2 reply
  writeMac(buf, dv, o + 8, p.srcMac);
  dv.setUint32(o + 14, p.src4);
  // A request asks for the target's MAC, so its target hardware address stays zero.
  if (p.icmpType === 2) writeMac(buf, dv, o + 18, p.dstMac);
  dv.setUint32(o + 24, p.dst4);
}

/** Internet checksum of [from, to) (even length) plus a partial sum. */
function checksum(dv: DataView, from: number, to: number, acc: number): number {
  let s = acc;
  for (let i = from; i < to; i += 2) s += dv.getUint16(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
