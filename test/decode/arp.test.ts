// ARP's operation and IPv4 protocol addresses (DecodedPacket.arpOp/arpSender/arpTarget, read by
// the port-scan detector's ARP sweep): the annotated fixtures against what tcpdump printed for
// them, every ARP frame of the real corpus against tshark's arp.* fields, and the layouts and
// cuts that must leave them unset. Owned by detect2 (the other decoder tests are dtests').

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/aggregate/address.js';
import { FileSource } from '../../src/capture/file-source.js';
import { decodeFrame } from '../../src/decode/decoder.js';
import { NONIP, createDecodedPacket, type DecodedPacket } from '../../src/decode/packet.js';
import { REAL, haveCorpus } from '../helpers/corpus.js';
import { FIXTURES, bytesOf, frameOver } from './fixtures/catalog.js';

interface ArpReading {
  op: number;
  sender: string | null;
  target: string | null;
}

function arpOf(p: DecodedPacket): ArpReading {
  if (p.arpOp < 0) return { op: -1, sender: null, target: null };
  return { op: p.arpOp, sender: formatIpv4(p.arpSender), target: formatIpv4(p.arpTarget) };
}

function fixture(name: string): { linktype: number; bytes: Uint8Array; wirelen: number } {
  const f = FIXTURES.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no fixture ${name}`);
  return { linktype: f.linktype, bytes: bytesOf(f), wirelen: f.wirelen };
}

function decode(linktype: number, b: Uint8Array, len = b.length): DecodedPacket {
  const out = createDecodedPacket();
  decodeFrame(frameOver(linktype, b, 0, len, Math.max(len, b.length)), out);
  return out;
}

// What tcpdump printed for the two ARP fixtures (see fixtures/ethernet.ts).
const ANNOTATED: readonly [string, number, ArpReading][] = [
  // "Request who-has 172.16.11.194 tell 172.16.11.1"
  ['ethernet arp request', 14, { op: 1, sender: '172.16.11.1', target: '172.16.11.194' }],
  // "Reply 192.168.123.1 is-at 00:19:06:ea:b8:c1" (gratuitous: target address = sender's)
  ['802.1q arp reply with padding', 18, { op: 2, sender: '192.168.123.1', target: '192.168.123.1' }],
];

describe('ARP operation and protocol addresses', () => {
  it.each(ANNOTATED)('%s reads as tcpdump printed it', (name, _at, want) => {
    const f = fixture(name);
    expect(arpOf(decode(f.linktype, f.bytes))).toEqual(want);
  });

  it('leaves them unset for a later frame that is not ARP (no stale values)', () => {
    const arp = fixture('ethernet arp request');
    const ip = FIXTURES.find((x) => x.expect.ip?.version === 4 && x.linktype === 1);
    if (ip === undefined) throw new Error('no Ethernet IPv4 fixture');
    const out = createDecodedPacket();
    decodeFrame(frameOver(1, arp.bytes, 0, arp.bytes.length, arp.wirelen), out);
    expect(out.arpOp).toBe(1);
    const b = bytesOf(ip);
    decodeFrame(frameOver(ip.linktype, b, 0, b.length, ip.wirelen), out);
    expect(out.arpOp).toBe(-1);
  });

  it.each(ANNOTATED)('%s cut anywhere inside its 28 ARP bytes reads no operation', (name, at) => {
    const f = fixture(name);
    for (let len = 0; len < at + 28; len++) {
      const p = decode(f.linktype, f.bytes.slice(0, len));
      expect(p.arpOp, `cut at ${len}`).toBe(-1);
    }
    // and whole ARP (padding or not) does
    expect(decode(f.linktype, f.bytes.slice(0, at + 28)).arpOp).toBeGreaterThan(0);
  });

  // Layouts other than Ethernet/IPv4 (RFC 826 fields changed one at a time in the request
  // fixture): their protocol addresses are not IPv4 in the usual places, so nothing is read.
  const variants: readonly [string, number, number][] = [
    ['hardware type 6 (IEEE 802)', 0, 0x0006],
    ['protocol type 0x86dd', 2, 0x86dd],
  ];
  it.each(variants)('leaves them unset for %s', (_what, field, value) => {
    const b = fixture('ethernet arp request').bytes.slice();
    b[14 + field] = value >> 8;
    b[14 + field + 1] = value & 0xff;
    const p = decode(1, b);
    expect(p.nonIp).toBe(NONIP.arp); // still counted as ARP
    expect(p.arpOp).toBe(-1);
  });

  it('leaves them unset for other address lengths (hlen 8, plen 16), whole or cut', () => {
    // header 8 + 2 x (8 + 4): the addresses are where an Ethernet/IPv4 reader would not look
    const hlen8 = new Uint8Array(14 + 8 + 24);
    hlen8.set(fixture('ethernet arp request').bytes.subarray(0, 22));
    hlen8[18] = 8;
    expect(decode(1, hlen8).arpOp).toBe(-1);
    expect(decode(1, hlen8).anomaly).toBe(0);
    const plen16 = new Uint8Array(14 + 8 + 44);
    plen16.set(fixture('ethernet arp request').bytes.subarray(0, 22));
    plen16[19] = 16;
    expect(decode(1, plen16).arpOp).toBe(-1);
    expect(decode(1, plen16).anomaly).toBe(0);
  });
});

function haveTshark(): boolean {
  if (spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('tshark is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install tshark');
  process.stderr.write('skipping the tshark cross-check of ARP decoding: tshark not installed (apt-get install tshark)\n');
  return false;
}

// Real captures with ARP: Ethernet (nmap's ARP ping sweep among them), 802.1Q, Linux SLL,
// and IPoIB (whose ARP has 20-byte hardware addresses: tshark reads it, we must not).
const WITH_ARP = ['zeek-nmap-vsn.pcap', 'zeek-icmp_dot1q.pcap', 'tcpdump-dhcp-rfc4388.pcap', 'ppp-sll.pcap', 'tcpdump-ipoib.pcap', 'zeek-wikipedia.pcap'];

describe.skipIf(!haveCorpus() || !haveTshark())('ARP in the real captures agrees with tshark', () => {
  it.each(WITH_ARP)('%s', async (name) => {
    const file = join(REAL, name);
    // tshark: per frame, the outermost ARP's hardware type, hlen, plen, protocol type, opcode, addresses
    const fields = ['arp.hw.type', 'arp.hw.size', 'arp.proto.size', 'arp.proto.type', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'];
    const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f'];
    for (const f of fields) args.push('-e', f);
    const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    // every capture here has ARP in tshark's reading (IPoIB's is not Ethernet/IPv4)
    expect(lines.filter((l) => (l.split('\t')[4] ?? '') !== '').length).toBeGreaterThan(0);
    const want = lines.map((line): ArpReading => {
        const [htype, hlen, plen, ptype, op, spa, tpa] = line.split('\t');
        const ethIpv4 = htype === '1' && hlen === '6' && plen === '4' && Number(ptype) === 0x0800;
        return ethIpv4 && op !== '' ? { op: Number(op), sender: spa ?? null, target: tpa ?? null } : { op: -1, sender: null, target: null };
      });
    const got: ArpReading[] = [];
    const out = createDecodedPacket();
    await new FileSource({ files: [file] }).start((f) => {
      decodeFrame(f, out);
      got.push(arpOf(out));
    });
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
  });
});
