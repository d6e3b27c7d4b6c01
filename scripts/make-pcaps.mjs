#!/usr/bin/env node
// Makes the project's own captures in pcaps/ (owned by synth): decoder fixtures built
// byte by byte from the protocol specifications, the README demo (pcaps/demo.pcapng and
// its truth), pcaps/fixtures.json (what each frame is meant to be) and pcaps/README.md.
// Deterministic: running it again gives byte-identical files. Uses the built writers and
// generator (dist/), so run `npm run build` first.
//
//   node scripts/make-pcaps.mjs [OUTDIR]        (default: pcaps/ beside this script)

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { openOutput } = await import(join(root, 'dist/capture/writer-output.js'));
const { PcapWriter } = await import(join(root, 'dist/capture/pcap-writer.js'));
const { PcapngWriter } = await import(join(root, 'dist/capture/pcapng-writer.js'));
const { LINKTYPE } = await import(join(root, 'dist/decode/linktype.js'));
const { generate } = await import(join(root, 'dist/synth/generate.js'));

const outDir = resolve(process.argv[2] ?? join(root, 'pcaps'));
mkdirSync(outDir, { recursive: true });

// ---------------------------------------------------------------------------------------
// Bytes

const cat = (...parts) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const u8 = (...xs) => Uint8Array.from(xs);
const u16 = (x) => u8((x >>> 8) & 255, x & 255);
const u16le = (x) => u8(x & 255, (x >>> 8) & 255);
const u32 = (x) => u8((x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
const u32le = (x) => u8(x & 255, (x >>> 8) & 255, (x >>> 16) & 255, (x >>> 24) & 255);
const zeros = (n) => new Uint8Array(n);
const text = (s) => new TextEncoder().encode(s);
const pattern = (n, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);

function sum16(b, acc = 0) {
  let s = acc;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length % 2 === 1) s += b[b.length - 1] << 8;
  return s;
}
function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function setU16(b, o, x) {
  b[o] = (x >>> 8) & 255;
  b[o + 1] = x & 255;
}

const mac = (s) => Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
const ip4 = (s) => Uint8Array.from(s.split('.').map(Number));
function ip6(s) {
  const [head, tail = ''] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = s.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return cat(...groups.map((g) => u16(parseInt(g, 16))));
}

// ---------------------------------------------------------------------------------------
// Layers (each returns the bytes of its header plus what it carries)

const MAC_A = mac('02:00:00:00:00:0a');
const MAC_B = mac('02:00:00:00:00:0b');
const BROADCAST = mac('ff:ff:ff:ff:ff:ff');

const ETH = { ipv4: 0x0800, arp: 0x0806, vlan: 0x8100, qinq: 0x88a8, ipv6: 0x86dd, mpls: 0x8847, pppoeD: 0x8863, pppoeS: 0x8864 };

/** Ethernet II; tags are [tpid, vid] pairs, outermost first. Short frames are padded to 60 bytes. */
function eth({ dst = MAC_B, src = MAC_A, tags = [], type, payload, pad = 0 }) {
  const tagBytes = tags.map(([tpid, vid, pcp = 0]) => cat(u16(tpid), u16((pcp << 13) | vid)));
  const f = cat(dst, src, ...tagBytes, u16(type), payload);
  if (f.length >= 60) return f;
  return cat(f, new Uint8Array(60 - f.length).fill(pad));
}

/** IPv4 (RFC 791). L4 checksums (TCP/UDP) are filled in with the pseudo-header. */
function ipv4({ src, dst, proto, payload, ttl = 64, id = 0x1234, df = true, mf = false, offset = 0, options = zeros(0), tos = 0 }) {
  const opt = options.length % 4 === 0 ? options : cat(options, zeros(4 - (options.length % 4)));
  const hl = 20 + opt.length;
  const h = cat(u8(0x40 | (hl / 4), tos), u16(hl + payload.length), u16(id), u16((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (offset / 8)), u8(ttl, proto), u16(0), ip4(src), ip4(dst), opt);
  setU16(h, 10, fold(sum16(h)));
  const p = Uint8Array.from(payload);
  // Only a first (or unfragmented) datagram carries the L4 header whose checksum we fill.
  if (offset === 0 && !mf) l4Checksum(p, proto, sum16(cat(ip4(src), ip4(dst), u8(0, proto), u16(p.length))));
  return cat(h, p);
}

/** IPv6 (RFC 8200); `ext` is a list of [type, bytes] extension headers (next header filled in). */
function ipv6({ src, dst, next, payload, hlim = 64, ext = [], flow = 0 }) {
  let body = Uint8Array.from(payload);
  let nh = next;
  const upper = next;
  const hasFragment = ext.some(([t]) => t === 44);
  if (!hasFragment) l4Checksum(body, upper, sum16(cat(ip6(src), ip6(dst), u32(body.length), u32(upper))));
  for (let i = ext.length - 1; i >= 0; i--) {
    const [type, bytes] = ext[i];
    const e = Uint8Array.from(bytes);
    e[0] = nh;
    body = cat(e, body);
    nh = type;
  }
  return cat(u32((6 << 28) | flow), u16(body.length), u8(nh, hlim), ip6(src), ip6(dst), body);
}

function l4Checksum(p, proto, pseudo) {
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 58 ? 2 : -1;
  if (at < 0 || p.length < at + 2) return;
  setU16(p, at, 0);
  let c = fold(sum16(p, pseudo));
  if (proto === 17 && c === 0) c = 0xffff;
  setU16(p, at, c);
}

const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 };

function tcp({ sport, dport, seq = 1000, ack = 0, flags, win = 65535, options = zeros(0), payload = zeros(0), urg = 0 }) {
  const opt = options.length % 4 === 0 ? options : cat(options, zeros(4 - (options.length % 4)));
  const hl = 20 + opt.length;
  return cat(u16(sport), u16(dport), u32(seq), u32(ack), u8((hl / 4) << 4, flags), u16(win), u16(0), u16(urg), opt, payload);
}
const udp = ({ sport, dport, payload = zeros(0) }) => cat(u16(sport), u16(dport), u16(8 + payload.length), u16(0), payload);
function icmp({ type, code = 0, rest = zeros(4), payload = zeros(0) }) {
  const m = cat(u8(type, code), u16(0), rest, payload);
  setU16(m, 2, fold(sum16(m)));
  return m;
}
/** ICMPv6: the checksum needs the IPv6 pseudo-header, filled in by ipv6(). */
const icmp6 = ({ type, code = 0, rest = zeros(4), payload = zeros(0) }) => cat(u8(type, code), u16(0), rest, payload);
function arp({ op, sha, spa, tha = zeros(6), tpa }) {
  return cat(u16(1), u16(0x0800), u8(6, 4), u16(op), sha, ip4(spa), tha, ip4(tpa));
}
const gre = ({ proto, payload }) => cat(u16(0), u16(proto), payload);
const esp = ({ spi, seq, payload }) => cat(u32(spi), u32(seq), payload);

// CRC32c (Castagnoli), reflected, as SCTP (RFC 9260 appendix A) requires.
const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32c(b) {
  let c = 0xffffffff;
  for (const x of b) c = CRC32C[(c ^ x) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function sctp({ sport, dport, vtag, chunks }) {
  const p = cat(u16(sport), u16(dport), u32(vtag), u32(0), ...chunks);
  const c = crc32c(p);
  p.set(u32le(c), 8); // the CRC is stored least significant byte first
  return p;
}
function sctpChunk(type, flags, value) {
  const len = 4 + value.length;
  const c = cat(u8(type, flags), u16(len), value);
  return len % 4 === 0 ? c : cat(c, zeros(4 - (len % 4)));
}

/** MPLS label stack (RFC 3032): labels outermost first; bottom-of-stack set on the last. */
function mpls(labels, payload, ttl = 64) {
  return cat(...labels.map((l, i) => u32(((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | ttl) >>> 0)), payload);
}
/** PPPoE session stage (RFC 2516) carrying one PPP frame with protocol `ppp`. */
function pppoe(session, ppp, payload) {
  return cat(u8(0x11, 0), u16(session), u16(payload.length + 2), u16(ppp), payload);
}

/** Linux cooked capture v1: packet type, ARPHRD_ETHER, link-layer address, protocol. */
const sll = ({ pkttype, addr = MAC_A, proto, payload }) => cat(u16(pkttype), u16(1), u16(6), addr, zeros(2), u16(proto), payload);
/** Linux cooked capture v2: protocol, ifindex, ARPHRD, packet type, address. */
const sll2 = ({ pkttype, ifindex, addr = MAC_A, proto, payload }) => cat(u16(proto), u16(0), u32(ifindex), u16(1), u8(pkttype, 6), addr, zeros(2), payload);

// ---------------------------------------------------------------------------------------
// Frames with their intent: what tshark should call each layer, and the outermost IP pair.

const A4 = '192.0.2.10';
const B4 = '198.51.100.20';
const C4 = '203.0.113.30';
const A6 = '2001:db8::a';
const B6 = '2001:db8:0:1::b';
const C6 = 'fe80::1';

function f(layers, frame, src = null, dst = null) {
  return { layers, frame, src, dst };
}

const v4 = (l4proto, payload, extra = {}) => ipv4({ src: A4, dst: B4, proto: l4proto, payload, ...extra });
const v6 = (next, payload, extra = {}) => ipv6({ src: A6, dst: B6, next, payload, ...extra });
const webSyn = () => tcp({ sport: 40000, dport: 80, flags: F.SYN, options: u8(2, 4, 5, 0xb4, 1, 1, 4, 2) });
const dns = () => udp({ sport: 53000, dport: 53, payload: cat(u16(0x4242), u16(0x0100), u16(1), u16(0), u16(0), u16(0), u8(7), text('example'), u8(3), text('com'), u8(0), u16(1), u16(1)) });
const echo4 = (id, seq) => icmp({ type: 8, rest: cat(u16(id), u16(seq)), payload: pattern(32) });
const echo6 = (id, seq) => icmp6({ type: 128, rest: cat(u16(id), u16(seq)), payload: pattern(32) });

const FIXTURES = [];
/** An Ethernet fixture: written both as .pcap and as .pcapng with the same frames and times. */
function ethernetFixture(name, description, frames) {
  FIXTURES.push({ name, description, linktype: LINKTYPE.ETHERNET, frames, both: true });
}
function otherFixture(name, description, linktype, frames, format = 'pcap', extra = {}) {
  FIXTURES.push({ name, description, linktype, frames, both: false, format, ...extra });
}

ethernetFixture('fx-tcp-flags', 'IPv4 and IPv6 TCP: handshake, data, FIN, RST, URG, ECE/CWR, Xmas and null flags, options', [
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, webSyn()) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ src: MAC_B, dst: MAC_A, type: ETH.ipv4, payload: ipv4({ src: B4, dst: A4, proto: 6, payload: tcp({ sport: 80, dport: 40000, seq: 5000, ack: 1001, flags: F.SYN | F.ACK, options: u8(2, 4, 5, 0xb4) }) }) }), B4, A4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: F.ACK })) }), A4, B4),
  f('eth:ethertype:ip:tcp:http', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: F.PSH | F.ACK, payload: text('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n') })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40000, dport: 80, seq: 1038, ack: 5001, flags: F.FIN | F.ACK })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40001, dport: 81, seq: 7, flags: F.RST })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40002, dport: 82, seq: 8, ack: 9, flags: F.RST | F.ACK })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40003, dport: 83, seq: 9, flags: F.SYN | F.ECE | F.CWR })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40004, dport: 84, seq: 10, flags: F.FIN | F.PSH | F.URG, urg: 1 })) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 40005, dport: 85, seq: 11, flags: 0 })) }), A4, B4),
  f('eth:ethertype:ipv6:tcp', eth({ type: ETH.ipv6, payload: v6(6, tcp({ sport: 40006, dport: 443, flags: F.SYN, options: u8(2, 4, 5, 0xa0) })) }), A6, B6),
  f('eth:ethertype:ipv6:tcp:data', eth({ type: ETH.ipv6, payload: v6(6, tcp({ sport: 40006, dport: 48111, seq: 1001, ack: 1, flags: F.ACK, payload: pattern(1200) })) }), A6, B6),
]);

ethernetFixture('fx-udp-icmp', 'UDP (DNS query), ICMP echo, reply and an unreachable quoting a UDP header, ICMPv6 echo, neighbour solicitation and unreachable', [
  f('eth:ethertype:ip:udp:dns', eth({ type: ETH.ipv4, payload: v4(17, dns()) }), A4, B4),
  f('eth:ethertype:ip:udp:data', eth({ type: ETH.ipv4, payload: v4(17, udp({ sport: 50000, dport: 50001, payload: pattern(500) })) }), A4, B4),
  f('eth:ethertype:ip:icmp:data', eth({ type: ETH.ipv4, payload: v4(1, echo4(7, 1)) }), A4, B4),
  f('eth:ethertype:ip:icmp:data', eth({ src: MAC_B, dst: MAC_A, type: ETH.ipv4, payload: ipv4({ src: B4, dst: A4, proto: 1, payload: icmp({ type: 0, rest: cat(u16(7), u16(1)), payload: pattern(32) }) }) }), B4, A4),
  // The outermost header is C4 -> A4; the quoted A4 -> B4 header must not count.
  f(
    'eth:ethertype:ip:icmp:ip:udp:dns',
    eth({ type: ETH.ipv4, payload: ipv4({ src: C4, dst: A4, proto: 1, payload: icmp({ type: 3, code: 3, payload: v4(17, dns()) }) }) }),
    C4,
    A4,
  ),
  f('eth:ethertype:ipv6:icmpv6:data', eth({ type: ETH.ipv6, payload: v6(58, echo6(9, 1)) }), A6, B6),
  f('eth:ethertype:ipv6:icmpv6', eth({ dst: mac('33:33:ff:00:00:0b'), type: ETH.ipv6, payload: ipv6({ src: C6, dst: 'ff02::1:ff00:b', next: 58, hlim: 255, payload: icmp6({ type: 135, payload: ip6(B6) }) }) }), C6, 'ff02::1:ff00:b'),
  f('eth:ethertype:ipv6:icmpv6:ipv6:udp:data', eth({ type: ETH.ipv6, payload: ipv6({ src: B6, dst: A6, next: 58, payload: icmp6({ type: 1, code: 4, payload: v6(17, udp({ sport: 40053, dport: 33434, payload: pattern(8) })) }) }) }), B6, A6),
]);

ethernetFixture('fx-arp-padding', 'ARP request and reply, and short IPv4/UDP frames padded to 60 bytes (zero and non-zero padding) that must be clipped to the IP total length', [
  f('eth:ethertype:arp', eth({ dst: BROADCAST, type: ETH.arp, payload: arp({ op: 1, sha: MAC_A, spa: A4, tpa: B4 }) })),
  f('eth:ethertype:arp', eth({ src: MAC_B, dst: MAC_A, type: ETH.arp, payload: arp({ op: 2, sha: MAC_B, spa: B4, tha: MAC_A, tpa: A4 }) })),
  f('eth:ethertype:ip:udp:data', eth({ type: ETH.ipv4, payload: v4(17, udp({ sport: 1000, dport: 2000, payload: pattern(4) })) }), A4, B4),
  f('eth:ethertype:ip:udp:data', eth({ type: ETH.ipv4, payload: v4(17, udp({ sport: 1000, dport: 2001, payload: pattern(1) })), pad: 0xa5 }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, tcp({ sport: 1000, dport: 2002, flags: F.ACK })), pad: 0xff }), A4, B4),
]);

ethernetFixture('fx-vlan', '802.1Q single tags (with priority) over IPv4, IPv6 and ARP', [
  f('eth:ethertype:vlan:ethertype:ip:tcp', eth({ tags: [[ETH.vlan, 100]], type: ETH.ipv4, payload: v4(6, webSyn()) }), A4, B4),
  f('eth:ethertype:vlan:ethertype:ipv6:udp:dns', eth({ tags: [[ETH.vlan, 200, 5]], type: ETH.ipv6, payload: v6(17, dns()) }), A6, B6),
  f('eth:ethertype:vlan:ethertype:arp', eth({ dst: BROADCAST, tags: [[ETH.vlan, 4094]], type: ETH.arp, payload: arp({ op: 1, sha: MAC_A, spa: A4, tpa: B4 }) })),
  f('eth:ethertype:vlan:ethertype:ip:icmp:data', eth({ tags: [[ETH.vlan, 1]], type: ETH.ipv4, payload: v4(1, echo4(1, 1)) }), A4, B4),
]);

// tshark names an 802.1ad (0x88a8) tag "ieee8021ad" and an 802.1Q (0x8100) tag "vlan".
ethernetFixture('fx-qinq', '802.1ad + 802.1Q (QinQ), 802.1Q + 802.1Q, and triple tags', [
  f('eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp:dns', eth({ tags: [[ETH.qinq, 10], [ETH.vlan, 100]], type: ETH.ipv4, payload: v4(17, dns()) }), A4, B4),
  f('eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ipv6:tcp', eth({ tags: [[ETH.qinq, 11], [ETH.vlan, 101]], type: ETH.ipv6, payload: v6(6, webSyn()) }), A6, B6),
  f('eth:ethertype:vlan:ethertype:vlan:ethertype:ip:tcp', eth({ tags: [[ETH.vlan, 12], [ETH.vlan, 102]], type: ETH.ipv4, payload: v4(6, webSyn()) }), A4, B4),
  f('eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:vlan:ethertype:ip:icmp:data', eth({ tags: [[ETH.qinq, 13], [ETH.vlan, 103], [ETH.vlan, 1003]], type: ETH.ipv4, payload: v4(1, echo4(2, 1)) }), A4, B4),
]);

// tshark shows a whole label stack as one "mpls" layer.
ethernetFixture('fx-mpls', 'MPLS label stacks of one, two and three labels over IPv4 and IPv6', [
  f('eth:ethertype:mpls:ip:tcp', eth({ type: ETH.mpls, payload: mpls([16], v4(6, webSyn())) }), A4, B4),
  f('eth:ethertype:mpls:ip:udp:dns', eth({ type: ETH.mpls, payload: mpls([1000, 2000], v4(17, dns())) }), A4, B4),
  f('eth:ethertype:mpls:ipv6:tcp', eth({ type: ETH.mpls, payload: mpls([17, 18, 19], v6(6, webSyn())) }), A6, B6),
  f('eth:ethertype:mpls:ipv6:icmpv6:data', eth({ type: ETH.mpls, payload: mpls([1048575], v6(58, echo6(3, 1))) }), A6, B6),
]);

ethernetFixture('fx-pppoe', 'PPPoE session frames carrying IPv4 and IPv6 (and one PPP LCP echo, not IP)', [
  f('eth:ethertype:pppoes:ppp:ip:tcp', eth({ type: ETH.pppoeS, payload: pppoe(0x1234, 0x0021, v4(6, webSyn())) }), A4, B4),
  f('eth:ethertype:pppoes:ppp:ipv6:udp:dns', eth({ type: ETH.pppoeS, payload: pppoe(0x1234, 0x0057, v6(17, dns())) }), A6, B6),
  f('eth:ethertype:pppoes:ppp:ip:icmp:data', eth({ type: ETH.pppoeS, payload: pppoe(0x1234, 0x0021, v4(1, echo4(4, 1))) }), A4, B4),
  f('eth:ethertype:pppoes:ppp:lcp', eth({ type: ETH.pppoeS, payload: pppoe(0x1234, 0xc021, cat(u8(9, 1), u16(8), u32(0x01020304))) })),
]);

ethernetFixture('fx-ipv4-options', 'IPv4 headers with options (router alert, record route, timestamp, NOP padding)', [
  f('eth:ethertype:ip:udp:data', eth({ type: ETH.ipv4, payload: v4(17, udp({ sport: 1, dport: 50002, payload: pattern(12) }), { options: u8(0x94, 4, 0, 0) }) }), A4, B4),
  f('eth:ethertype:ip:tcp', eth({ type: ETH.ipv4, payload: v4(6, webSyn(), { options: cat(u8(7, 11, 4), zeros(8)) }) }), A4, B4),
  f('eth:ethertype:ip:icmp:data', eth({ type: ETH.ipv4, payload: v4(1, echo4(5, 1), { options: cat(u8(1, 0x44, 12, 5, 0), zeros(8)) }) }), A4, B4),
  // The largest header: 60 bytes (IHL 15), 40 bytes of options.
  f('eth:ethertype:ip:udp:dns', eth({ type: ETH.ipv4, payload: v4(17, dns(), { options: cat(u8(7, 39, 4), zeros(36), u8(0)) }) }), A4, B4),
]);

ethernetFixture('fx-ipv4-frag', 'IPv4 fragments: a UDP datagram in three (first carries the ports, the others do not) and a TCP segment in two', [
  // Reassembly is turned off when tshark checks these (ip.defragment:FALSE).
  f('eth:ethertype:ip:udp:data', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: B4, proto: 17, id: 0x4242, df: false, mf: true, offset: 0, payload: cat(u16(50003), u16(50004), u16(8 + 2000), u16(0), pattern(1472)) }) }), A4, B4),
  f('eth:ethertype:ip:data', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: B4, proto: 17, id: 0x4242, df: false, mf: true, offset: 1480, payload: pattern(400, 3) }) }), A4, B4),
  f('eth:ethertype:ip:data', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: B4, proto: 17, id: 0x4242, df: false, mf: false, offset: 1880, payload: pattern(128, 5) }) }), A4, B4),
  f('eth:ethertype:ip:tcp:data', eth({ type: ETH.ipv4, payload: ipv4({ src: B4, dst: A4, proto: 6, id: 0x4343, df: false, mf: true, offset: 0, payload: tcp({ sport: 48112, dport: 40010, flags: F.ACK, payload: pattern(100) }) }) }), B4, A4),
  f('eth:ethertype:ip:data', eth({ type: ETH.ipv4, payload: ipv4({ src: B4, dst: A4, proto: 6, id: 0x4343, df: false, mf: false, offset: 120, payload: pattern(64) }) }), B4, A4),
]);

const hopByHop = (opts) => cat(u8(0, (2 + opts.length + 7) / 8 - 1), opts, zeros((8 - ((2 + opts.length) % 8)) % 8));
const destOpts = (opts) => hopByHop(opts);
const routing = (type, left, addrs) => cat(u8(0, addrs.length * 2, type, left), zeros(4), ...addrs.map(ip6));
const fragment = (offset, more, id) => cat(u8(0, 0), u16(offset | (more ? 1 : 0)), u32(id));

ethernetFixture('fx-ipv6-ext', 'IPv6 extension headers: hop-by-hop, routing (type 2 and segment routing), fragment (first and non-first) and destination options, alone and chained', [
  f('eth:ethertype:ipv6:ipv6.hopopts:icmpv6', eth({ dst: mac('33:33:00:00:00:16'), type: ETH.ipv6, payload: ipv6({ src: A6, dst: 'ff02::16', next: 58, hlim: 1, ext: [[0, hopByHop(u8(5, 2, 0, 0, 1, 0))]], payload: icmp6({ type: 143, rest: cat(u16(0), u16(0)) }) }) }), A6, 'ff02::16'),
  f('eth:ethertype:ipv6:ipv6.routing:tcp', eth({ type: ETH.ipv6, payload: v6(6, webSyn(), { ext: [[43, routing(2, 1, [C6])]] }) }), A6, B6),
  f('eth:ethertype:ipv6:ipv6.routing:udp:dns', eth({ type: ETH.ipv6, payload: v6(17, dns(), { ext: [[43, routing(4, 1, [B6, '2001:db8::99'])]] }) }), A6, B6),
  f('eth:ethertype:ipv6:ipv6.fraghdr:udp:data', eth({ type: ETH.ipv6, payload: v6(17, cat(u16(50005), u16(50006), u16(8 + 1600), u16(0), pattern(1392)), { ext: [[44, fragment(0, true, 0xabcdef01)]] }) }), A6, B6),
  f('eth:ethertype:ipv6:ipv6.fraghdr:data', eth({ type: ETH.ipv6, payload: v6(17, pattern(208, 9), { ext: [[44, fragment(1400, false, 0xabcdef01)]] }) }), A6, B6),
  f('eth:ethertype:ipv6:ipv6.dstopts:udp:data', eth({ type: ETH.ipv6, payload: v6(17, udp({ sport: 50007, dport: 50008, payload: pattern(20) }), { ext: [[60, destOpts(u8(1, 4, 0, 0, 0, 0))]] }) }), A6, B6),
  f('eth:ethertype:ipv6:ipv6.hopopts:ipv6.dstopts:ipv6.routing:ipv6.dstopts:tcp', eth({ type: ETH.ipv6, payload: v6(6, webSyn(), { ext: [[0, hopByHop(u8(1, 4, 0, 0, 0, 0))], [60, destOpts(u8(1, 4, 0, 0, 0, 0))], [43, routing(2, 1, [C6])], [60, destOpts(u8(1, 4, 0, 0, 0, 0))]] }) }), A6, B6),
]);

ethernetFixture('fx-ip-protocols', 'Other IP protocols: GRE carrying IPv4 (the inner header must not count), ESP, SCTP INIT, IPv6 in IPv4, IPv4 in IPv4, and an unassigned protocol', [
  f('eth:ethertype:ip:gre:ip:udp:dns', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: C4, proto: 47, payload: gre({ proto: 0x0800, payload: ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 17, payload: dns() }) }) }) }), A4, C4),
  f('eth:ethertype:ip:esp', eth({ type: ETH.ipv4, payload: v4(50, esp({ spi: 0x1000, seq: 1, payload: pattern(64) })) }), A4, B4),
  f('eth:ethertype:ipv6:esp', eth({ type: ETH.ipv6, payload: v6(50, esp({ spi: 0x2000, seq: 7, payload: pattern(80) })) }), A6, B6),
  f('eth:ethertype:ip:sctp', eth({ type: ETH.ipv4, payload: v4(132, sctp({ sport: 5000, dport: 38412, vtag: 0, chunks: [sctpChunk(1, 0, cat(u32(0x11223344), u32(65536), u16(10), u16(10), u32(1)))] })) }), A4, B4),
  f('eth:ethertype:ip:ipv6:udp:dns', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: C4, proto: 41, payload: ipv6({ src: '2001:db8:6::1', dst: '2001:db8:6::2', next: 17, payload: dns() }) }) }), A4, C4),
  f('eth:ethertype:ip:ip:icmp:data', eth({ type: ETH.ipv4, payload: ipv4({ src: A4, dst: C4, proto: 4, payload: ipv4({ src: '10.3.3.3', dst: '10.4.4.4', proto: 1, payload: echo4(6, 1) }) }) }), A4, C4),
  f('eth:ethertype:ip:data', eth({ type: ETH.ipv4, payload: v4(253, pattern(30)) }), A4, B4),
]);

// Link types other than Ethernet. Payloads: an IPv4 SYN, an IPv6 DNS query, an IPv4 echo.
const L3 = [
  ['ip:tcp', 0x0800, v4(6, webSyn()), A4, B4],
  ['ipv6:udp:dns', 0x86dd, v6(17, dns()), A6, B6],
  ['ip:icmp:data', 0x0800, v4(1, echo4(8, 1)), A4, B4],
];
otherFixture('fx-sll', 'Linux cooked capture (SLL): incoming, broadcast, outgoing; IPv4, IPv6 and ARP', LINKTYPE.LINUX_SLL, [
  ...L3.map(([l, proto, p, s, d], i) => f(`sll:ethertype:${l}`, sll({ pkttype: [0, 1, 4][i], proto, payload: p }), s, d)),
  f('sll:ethertype:arp', sll({ pkttype: 1, proto: 0x0806, payload: arp({ op: 1, sha: MAC_A, spa: A4, tpa: B4 }) })),
]);
otherFixture('fx-sll2', 'Linux cooked capture v2 (SLL2) with interface indexes; IPv4, IPv6 and ARP', LINKTYPE.LINUX_SLL2, [
  ...L3.map(([l, proto, p, s, d], i) => f(`sll:ethertype:${l}`, sll2({ pkttype: [0, 1, 4][i], ifindex: i + 1, proto, payload: p }), s, d)),
  f('sll:ethertype:arp', sll2({ pkttype: 1, ifindex: 2, proto: 0x0806, payload: arp({ op: 1, sha: MAC_A, spa: A4, tpa: B4 }) })),
]);
// BSD loopback: the address family in the host's byte order (NULL) or always big-endian (LOOP).
// IPv6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
const AF = [
  ['ip:tcp', 2, v4(6, webSyn()), A4, B4],
  ['ipv6:udp:dns', 24, v6(17, dns()), A6, B6],
  ['ipv6:tcp', 28, v6(6, webSyn()), A6, B6],
  ['ipv6:icmpv6:data', 30, v6(58, echo6(5, 1)), A6, B6],
];
otherFixture('fx-null-le', 'NULL (BSD loopback), family in little-endian order: IPv4 and the three IPv6 families', LINKTYPE.NULL, AF.map(([l, fam, p, s, d]) => f(`null:${l}`, cat(u32le(fam), p), s, d)));
otherFixture('fx-null-be', 'NULL (BSD loopback), family in big-endian order (a big-endian host), in a big-endian pcap', LINKTYPE.NULL, AF.map(([l, fam, p, s, d]) => f(`null:${l}`, cat(u32(fam), p), s, d)), 'pcap', { byteOrder: 'be' });
otherFixture('fx-null-swapped', 'NULL with the family big-endian inside a little-endian pcap (a capture moved between hosts): readers must recognise the swapped value', LINKTYPE.NULL, AF.map(([l, fam, p, s, d]) => f(`null:${l}`, cat(u32(fam), p), s, d)));
otherFixture('fx-loop', 'LOOP (OpenBSD loopback), family always big-endian', LINKTYPE.LOOP, AF.map(([l, fam, p, s, d]) => f(`null:${l}`, cat(u32(fam), p), s, d)));
otherFixture('fx-raw', 'RAW (101): IPv4 and IPv6 packets with no link header', LINKTYPE.RAW, L3.map(([l, , p, s, d]) => f(`raw:${l}`, p, s, d)));
otherFixture('fx-raw12', 'RAW as link type 12 (OpenBSD DLT_RAW in some files): IPv4 and IPv6', 12, L3.map(([l, , p, s, d]) => f(`raw:${l}`, p, s, d)));
// tshark shows no link layer at all for LINKTYPE_IPV4 and LINKTYPE_IPV6.
otherFixture('fx-linktype-ipv4', 'LINKTYPE_IPV4 (228): IPv4 packets only', LINKTYPE.IPV4, L3.filter(([, proto]) => proto === 0x0800).map(([l, , p, s, d]) => f(l, p, s, d)));
otherFixture('fx-linktype-ipv6', 'LINKTYPE_IPV6 (229): IPv6 packets only', LINKTYPE.IPV6, [
  f('ipv6:udp:dns', v6(17, dns()), A6, B6),
  f('ipv6:tcp', v6(6, webSyn()), A6, B6),
]);

// ---------------------------------------------------------------------------------------
// Time and writing

const T0 = 1_700_000_000;
/** Frame i of a fixture: a quarter second apart, with sub-microsecond digits for ns files. */
const timeOf = (i) => [T0 + Math.floor(i / 4), (i % 4) * 250_000_000 + 123_456 + i * 1_001];

async function writePcap(path, linktype, frames, opts = {}) {
  const w = new PcapWriter(openOutput(path), { linktype, snaplen: 65535, ...opts });
  frames.forEach((x, i) => {
    const [s, ns] = x.time ?? timeOf(i);
    w.writePacket(s, ns, x.frame, x.frame.length);
  });
  await w.close();
}
async function writePcapng(path, ifaces, frames, opts = {}) {
  const w = new PcapngWriter(openOutput(path), { ...opts, interfaces: ifaces });
  frames.forEach((x, i) => {
    const [s, ns] = x.time ?? timeOf(i);
    w.writePacket(s, ns, x.frame, x.frame.length, x.iface ?? 0);
  });
  await w.close();
}

const manifest = { note: 'Written by scripts/make-pcaps.mjs: what each frame of each fixture is meant to be. layers are tshark frame.protocols names; src/dst the outermost IP header.', files: {} };
const readme = [];
/** The time a reader finds in the file, as epoch text with 9 decimals: what was written, cut to the resolution. */
function stored(s, ns, res) {
  if (res.base === 2) {
    const units = (BigInt(ns) << BigInt(res.exp)) / 1_000_000_000n;
    return `${s}.${((units * 1_000_000_000n) >> BigInt(res.exp)).toString().padStart(9, '0')}`;
  }
  const step = 10 ** (9 - res.exp);
  return `${s}.${String(ns - (ns % step)).padStart(9, '0')}`;
}
const US = { base: 10, exp: 6 };
const NS = { base: 10, exp: 9 };
const entry = (file, description, frames, linktype, format, snaplen = 0, resOf = () => (format.endsWith('ns') ? NS : US)) => {
  manifest.files[file] = {
    description,
    format,
    linktype,
    frames: frames.map((x, i) => {
      const [s, ns] = x.time ?? timeOf(i);
      const caplen = snaplen > 0 ? Math.min(snaplen, x.frame.length) : x.frame.length;
      return {
        time: stored(s, ns, resOf(x)),
        len: x.frame.length,
        ...(caplen !== x.frame.length ? { caplen } : {}),
        layers: x.layers,
        src: x.src,
        dst: x.dst,
        ...(x.iface !== undefined ? { iface: x.iface } : {}),
      };
    }),
  };
  readme.push(`- \`${file}\`: ${description} (${frames.length} frames, ${format}).`);
};

for (const fx of FIXTURES) {
  if (fx.both) {
    await writePcap(join(outDir, `${fx.name}.pcap`), fx.linktype, fx.frames);
    entry(`${fx.name}.pcap`, fx.description, fx.frames, fx.linktype, 'pcap us');
    await writePcapng(join(outDir, `${fx.name}.pcapng`), [{ linktype: fx.linktype, snaplen: 0 }], fx.frames);
    entry(`${fx.name}.pcapng`, `the same frames as ${fx.name}.pcap`, fx.frames, fx.linktype, 'pcapng us');
  } else {
    await writePcap(join(outDir, `${fx.name}.pcap`), fx.linktype, fx.frames, fx.byteOrder ? { byteOrder: fx.byteOrder } : {});
    entry(`${fx.name}.pcap`, fx.description, fx.frames, fx.linktype, fx.byteOrder === 'be' ? 'pcap be us' : 'pcap us');
  }
}

const framesOf = (name) => FIXTURES.find((x) => x.name === name).frames;

// File-format variants over a mix of the Ethernet frames above.
const mix = [...framesOf('fx-tcp-flags').slice(0, 4), ...framesOf('fx-udp-icmp').slice(0, 3), ...framesOf('fx-vlan').slice(0, 2), ...framesOf('fx-mpls').slice(0, 2)];
await writePcap(join(outDir, 'fx-nanosecond.pcap'), LINKTYPE.ETHERNET, mix, { resolution: 'ns' });
entry('fx-nanosecond.pcap', 'nanosecond pcap (magic a1b23c4d) with sub-microsecond digits that a microsecond reader floors', mix, LINKTYPE.ETHERNET, 'pcap ns');
await writePcap(join(outDir, 'fx-big-endian.pcap'), LINKTYPE.ETHERNET, mix, { byteOrder: 'be' });
entry('fx-big-endian.pcap', 'big-endian microsecond pcap (magic a1b2c3d4 read as bytes a1 b2 c3 d4)', mix, LINKTYPE.ETHERNET, 'pcap be us');
await writePcap(join(outDir, 'fx-big-endian-ns.pcap'), LINKTYPE.ETHERNET, mix, { byteOrder: 'be', resolution: 'ns' });
entry('fx-big-endian-ns.pcap', 'big-endian nanosecond pcap', mix, LINKTYPE.ETHERNET, 'pcap be ns');
// Cut to 80 bytes: the headers of these frames all fit, their payloads do not.
const cut = [framesOf('fx-tcp-flags')[0], framesOf('fx-udp-icmp')[1], framesOf('fx-ipv4-frag')[0], framesOf('fx-ip-protocols')[1], framesOf('fx-vlan')[0]];
await writePcap(join(outDir, 'fx-snaplen.pcap'), LINKTYPE.ETHERNET, cut, { snaplen: 80 });
entry('fx-snaplen.pcap', 'snapshot length 80: long frames cut (captured length < wire length); wire bytes still count', cut, LINKTYPE.ETHERNET, 'pcap us, snaplen 80', 80);

// Three interfaces of different link types and resolutions in one section, times interleaved.
const multi = [];
const ifaces = [
  { linktype: LINKTYPE.ETHERNET, tsresol: { base: 10, exp: 9 }, name: 'eth0' },
  { linktype: LINKTYPE.RAW, tsresol: { base: 2, exp: 20 }, tsoffset: 1_600_000_000, name: 'tun0' },
  { linktype: LINKTYPE.LINUX_SLL, name: 'any' },
];
const ifaceFrames = [framesOf('fx-tcp-flags'), L3.map(([l, , p, s, d]) => f(`raw:${l}`, p, s, d)), framesOf('fx-sll')];
for (let i = 0; i < 9; i++) {
  const iface = i % 3;
  const src = ifaceFrames[iface][Math.floor(i / 3)];
  multi.push({ ...src, iface, time: [T0 + Math.floor(i / 3), (i % 3) * 300_000_000 + 987_654_321 % 100_000_000 + i] });
}
await writePcapng(join(outDir, 'fx-multi-iface.pcapng'), ifaces, multi);
entry('fx-multi-iface.pcapng', 'three interfaces: Ethernet with if_tsresol 10^-9, RAW with if_tsresol 2^-20 and if_tsoffset 1600000000 s, Linux SLL at the default 10^-6', multi, 'per interface', 'pcapng', 0, (x) => ifaces[x.iface].tsresol ?? US);
await writePcapng(join(outDir, 'fx-pcapng-big-endian.pcapng'), [{ linktype: LINKTYPE.ETHERNET, tsresol: { base: 10, exp: 9 } }], mix, { byteOrder: 'be' });
entry('fx-pcapng-big-endian.pcapng', 'big-endian pcapng (byte-order magic 1a2b3c4d as written by a big-endian host), nanosecond resolution', mix, LINKTYPE.ETHERNET, 'pcapng be ns');

// The README demo: two and a half minutes, a few hundred hosts, labelled anomalies, full
// frames (a snapshot length would make the analyzer count every cut frame as truncated).
const DEMO = {
  packets: 3800,
  hosts: 200,
  seconds: 150,
  seed: 2024,
  profile: 'bursty',
  anomalies: [
    { kind: 'burst', at: 60, host: '2', factor: 8, seconds: 10 },
    { kind: 'port-scan', at: 80, src: '198.51.100.23', dst: '5', ports: 400, pps: 40 },
    { kind: 'sweep', at: 95, src: '12', port: 445, hosts: 80, pps: 20 },
    { kind: 'syn-flood', at: 105, dst: '1', pps: 300, seconds: 6 },
    { kind: 'new-host', at: 120, pps: 5 },
  ],
};
// Written from inside outDir so the truth file records the plain name, wherever outDir is.
process.chdir(outDir);
const demo = await generate({ ...DEMO, out: 'demo.pcapng' });
readme.unshift(
  `- \`demo.pcapng\`: the README demo: ${demo.seconds.length} s of traffic from ${DEMO.hosts} hosts (${demo.packets} packets, bursty profile) with a burst, a port scan, a sweep, a SYN flood and a new host; \`demo.truth.json\` beside it labels them (\`node dist/bin/netpulse.js synth pcaps/demo.pcapng ${synthArgs(DEMO)}\` writes the same file).`,
);

function synthArgs(o) {
  const a = [`--packets ${o.packets}`, `--hosts ${o.hosts}`, `--seconds ${o.seconds}`, `--seed ${o.seed}`, `--profile ${o.profile}`];
  for (const x of o.anomalies) {
    if (x.kind === 'burst') a.push(`--burst ${x.at}:${x.host}:${x.factor}:${x.seconds}`);
    if (x.kind === 'port-scan') a.push(`--port-scan ${x.at}:${x.src}:${x.dst}:${x.ports}:${x.pps}`);
    if (x.kind === 'sweep') a.push(`--sweep ${x.at}:${x.src}:${x.port}:${x.hosts}:${x.pps}`);
    if (x.kind === 'syn-flood') a.push(`--syn-flood ${x.at}:${x.dst}:${x.pps}:${x.seconds}`);
    if (x.kind === 'new-host') a.push(`--new-host ${x.at}::${x.pps}`);
  }
  return a.join(' ');
}

writeFileSync(join(outDir, 'fixtures.json'), `${JSON.stringify(manifest, null, 1)}\n`);
writeFileSync(
  join(outDir, 'README.md'),
  `# pcaps/: the project's own captures

Made by \`node scripts/make-pcaps.mjs\` (after \`npm run build\`); running it again gives
byte-identical files, and a test checks that. Frames are built from the protocol specs,
with documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
\`fixtures.json\` says what every frame is meant to be: tshark's layer names and the
outermost IP source and destination (the host the analyzer must count). The Ethernet
fixtures exist as .pcap and .pcapng with the same frames and times, so both readers must
give identical frames.

${readme.join('\n')}
`,
);
process.stderr.write(`make-pcaps: wrote ${Object.keys(manifest.files).length + 1} captures to ${outDir}\n`);
