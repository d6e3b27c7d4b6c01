// The fixtures' annotations against tshark: every fixture frame is written to one pcapng (an
// interface per link type) and tshark's reading of each (outermost IP, the header after it,
// VLAN ids, MPLS labels, ARP) must be what the fixture says. This keeps the hand-read
// annotations honest; fixtures.test.ts then holds the decoder to them without tshark.
// Needs tshark (skips and says so without it, unless NETPULSE_REQUIRE_TOOLS=1, as in CI).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, bytesOf } from './fixtures/catalog.js';
import { tcpdumpFlags, type Fixture } from './fixtures/fixture.js';
import { pcapngBlock } from '../helpers/pcapng.js';

function haveTshark(): boolean {
  if (spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('tshark is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install tshark');
  process.stderr.write('skipping the tshark cross-check of the decoder fixtures: tshark not installed (apt-get install tshark)\n');
  return false;
}

/** pcapng (little-endian): SHB, one IDB per link type, one EPB per fixture, in order. */
function pcapng(fixtures: readonly Fixture[]): Buffer {
  const blocks: Buffer[] = [];
  const block = (type: number, body: Buffer): void => {
    blocks.push(pcapngBlock(type, body));
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  block(0x0a0d0d0a, shb);
  const iface = new Map<number, number>();
  for (const f of fixtures) {
    if (iface.has(f.linktype)) continue;
    iface.set(f.linktype, iface.size);
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(f.linktype, 0);
    block(1, idb);
  }
  for (const f of fixtures) {
    const data = bytesOf(f);
    const epb = Buffer.alloc(20 + ((data.length + 3) & ~3));
    epb.writeUInt32LE(iface.get(f.linktype) ?? 0, 0);
    epb.writeUInt32LE(data.length, 12);
    epb.writeUInt32LE(f.wirelen, 16);
    Buffer.from(data).copy(epb, 20);
    block(6, epb);
  }
  return Buffer.concat(blocks);
}

const FIELDS = [
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.nxt',
  'ipv6.hopopts.nxt',
  'ipv6.routing.nxt',
  'ipv6.fraghdr.nxt',
  'ipv6.dstopts.nxt',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'udp.srcport',
  'udp.dstport',
  'sctp.srcport',
  'sctp.dstport',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
  'ieee8021ad.id',
  'vlan.id',
  'mpls.label',
] as const;
type Field = (typeof FIELDS)[number];
type Row = Record<Field, string[]>;

const IPV6_EXTENSIONS: Record<string, Field> = { '0': 'ipv6.hopopts.nxt', '43': 'ipv6.routing.nxt', '44': 'ipv6.fraghdr.nxt', '60': 'ipv6.dstopts.nxt' };

/** tshark's reading in the fixture's terms (the same shape as Fixture['expect'], minus layers). */
function tsharkReading(r: Row): Record<string, unknown> {
  const protos = r['frame.protocols'][0]?.split(':') ?? [];
  const at = protos.findIndex((p) => p === 'ip' || p === 'ipv6');
  const o: Record<string, unknown> = {};
  const vlans = [...r['ieee8021ad.id'], ...r['vlan.id']].map(Number);
  if (vlans.length > 0) o.vlans = vlans;
  if (r['mpls.label'].length > 0) o.mpls = r['mpls.label'].length;
  if (protos.includes('arp')) o.arp = true;
  if (at < 0) return o;
  // hosts only when tshark shows both addresses of that header, as the ground truth counts them
  // (../shared/pcaps/SOURCES.md; tshark shows ip.src without ip.dst for an IPv4 header cut
  // inside the options it must walk to find the destination)
  const [srcField, dstField]: Field[] = protos[at] === 'ip' ? ['ip.src', 'ip.dst'] : ['ipv6.src', 'ipv6.dst'];
  if (srcField === undefined || dstField === undefined || r[srcField][0] === undefined || r[dstField][0] === undefined) return o;
  let proto: number;
  if (protos[at] === 'ip') {
    proto = Number(r['ip.proto'][0]);
    o.ip = { version: 4, src: r['ip.src'][0], dst: r['ip.dst'][0], proto };
  } else {
    // follow the outer header's extension chain through the first occurrence of each field
    const used: Partial<Record<Field, number>> = {};
    proto = Number(r['ipv6.nxt'][0]);
    for (let field = IPV6_EXTENSIONS[String(proto)]; field !== undefined; field = IPV6_EXTENSIONS[String(proto)]) {
      const i = used[field] ?? 0;
      used[field] = i + 1;
      proto = Number(r[field][i]);
    }
    o.ip = { version: 6, src: r['ipv6.src'][0], dst: r['ipv6.dst'][0], proto };
  }
  // the header right after the outermost IP header (and its extensions), if tshark read one
  const next = protos.slice(at + 1).find((p) => !p.startsWith('ipv6.'));
  if (next === 'tcp') {
    o.ports = [Number(r['tcp.srcport'][0]), Number(r['tcp.dstport'][0])];
    o.tcpFlags = Number(r['tcp.flags'][0]);
  } else if (next === 'udp' || next === 'udplite') o.ports = [Number(r['udp.srcport'][0]), Number(r['udp.dstport'][0])];
  else if (next === 'sctp') o.ports = [Number(r['sctp.srcport'][0]), Number(r['sctp.dstport'][0])];
  else if (next === 'icmp') o.icmp = [Number(r['icmp.type'][0]), Number(r['icmp.code'][0])];
  else if (next === 'icmpv6') o.icmp = [Number(r['icmpv6.type'][0]), Number(r['icmpv6.code'][0])];
  return o;
}

function annotated(f: Fixture): Record<string, unknown> {
  const e = f.expect;
  const o: Record<string, unknown> = {};
  if (e.vlans !== undefined) o.vlans = [...e.vlans];
  if (e.mpls !== undefined) o.mpls = e.mpls;
  if (e.nonIp === 'arp') o.arp = true;
  if (e.ip !== undefined) o.ip = { version: e.ip.version, src: e.ip.src, dst: e.ip.dst, proto: e.ip.proto };
  if (e.ports !== undefined) o.ports = [...e.ports];
  if (e.tcpFlags !== undefined) o.tcpFlags = tcpdumpFlags(e.tcpFlags);
  if (e.icmp !== undefined) o.icmp = [...e.icmp];
  return o;
}

describe.skipIf(!haveTshark())('the fixture annotations agree with tshark', () => {
  let rows: Row[] = [];

  it('tshark reads every fixture frame', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpulse-decode-'));
    const file = join(dir, 'fixtures.pcapng');
    writeFileSync(file, pcapng(FIXTURES));
    // no reassembly: each frame on its own, as the decoder sees it
    const args = ['-n', '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields'];
    // QinQ TPIDs older than 802.1ad that tshark does not know by itself (see fixtures/built.ts)
    args.push('-d', 'ethertype==0x9200,vlan', '-d', 'ethertype==0x9300,vlan');
    args.push('-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,');
    for (const field of FIELDS) args.push('-e', field);
    const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    rows = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const cols = line.split('\t');
        const row = {} as Row;
        FIELDS.forEach((field, i) => (row[field] = cols[i] ? (cols[i] ?? '').split(',') : []));
        return row;
      });
    expect(rows.length).toBe(FIXTURES.length);
  });

  it.each(FIXTURES.map((f, i) => [f.name, f, i] as const))('%s', (_name, f, i) => {
    const row = rows[i];
    if (row === undefined) throw new Error('tshark gave no row for this fixture');
    expect(tsharkReading(row)).toEqual(annotated(f));
  });
});
