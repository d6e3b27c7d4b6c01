// Host names and host identity against independent oracles:
// - the report's `addr` of every host of a crafted capture against tshark's ip.src/ipv6.src
//   (needs tshark: skips and says so without it, unless NETPULSE_REQUIRE_TOOLS=1, as in CI);
// - the same addresses against expected texts from Python's ipaddress module (str() of
//   IPv6Address, Python 3.11.7), except IPv4-mapped and IPv4-compatible ones, where
//   netpulse writes the dotted tail as glibc's inet_ntop and tshark do (README, Output schema);
// - AddressIndex against a brute-force map of distinct (family, bytes) pairs, through
//   inserts, removals (eviction), re-insertion, growth and clears.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../src/aggregate/address.js';
import { AddressIndex, hashV6 } from '../../src/aggregate/address-index.js';
import { parseAddr } from '../../src/detect/addr.js';
import { ndjson, run } from '../helpers/cli.js';
import { pcapHeader } from '../helpers/pcap.js';

// [the eight groups as written in the capture, the expected text]
const V6: [string, string][] = [
  ['0:0:0:0:0:0:0:0', '::'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['1:0:0:0:0:0:0:0', '1::'],
  ['0:0:0:0:0:0:0:2', '::2'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group: not compressed
  ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
  ['0:1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
  ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
  ['0:0:1:2:3:4:0:0', '::1:2:3:4:0:0'], // runs at start and end: the first
  ['0:0:0:1:2:0:0:0', '::1:2:0:0:0'],
  ['1:2:0:0:0:3:0:0', '1:2::3:0:0'],
  ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ['FE80:0:0:0:A667:6FF:FEF7:EC54', 'fe80::a667:6ff:fef7:ec54'], // lower case
  ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
  ['fe80:0:0:0:0:ffff:102:304', 'fe80::ffff:102:304'],
  ['2002:c000:204:0:0:0:0:1', '2002:c000:204::1'], // 6to4: hex
  ['64:ff9b:0:0:0:0:102:304', '64:ff9b::102:304'], // NAT64 prefix: hex (as tshark)
  ['0:0:0:0:ffff:0:102:304', '::ffff:0:102:304'], // IPv4-translated: hex (as tshark)
  ['0:0:0:0:1:ffff:102:304', '::1:ffff:102:304'],
  ['0:0:0:0:0:fffe:102:304', '::fffe:102:304'],
  ['0:0:0:0:0:0:0:ffff', '::ffff'], // zero seventh group: hex, as ::1
  ['ff02:0:0:0:0:1:ff00:1', 'ff02::1:ff00:1'],
  // IPv4-mapped (RFC 5952 section 5: mixed notation recommended) and IPv4-compatible:
  // dotted, as tshark and inet_ntop; Python 3.11 writes these in hex (::ffff:102:304)
  ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'],
  ['0:0:0:0:0:ffff:0:0', '::ffff:0.0.0.0'],
  ['0:0:0:0:0:ffff:ffff:ffff', '::ffff:255.255.255.255'],
  ['0:0:0:0:0:0:102:304', '::1.2.3.4'],
  ['0:0:0:0:0:0:1:0', '::0.1.0.0'],
  ['0:0:0:0:0:0:1:1', '::0.1.0.1'],
];
const V4 = ['0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3.4', '169.254.1.1'];

function groupsToWords(g: string): Uint32Array {
  const x = g.split(':').map((h) => parseInt(h, 16));
  return Uint32Array.from([0, 1, 2, 3], (i) => (((x[2 * i] ?? 0) << 16) | (x[2 * i + 1] ?? 0)) >>> 0);
}

describe('IPv6 text against Python ipaddress and inet_ntop', () => {
  it.each(V6)('%s -> %s', (groups, want) => {
    const w = groupsToWords(groups);
    expect(formatIpv6(w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 0)).toBe(want);
    // and back: the text parses to the same bytes (known-hosts file, allow-list)
    expect([...(parseAddr(want)?.words ?? [])]).toEqual([...w]);
  });
});

function haveTshark(): boolean {
  if (spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('tshark is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install tshark');
  process.stderr.write('skipping the tshark cross-check of host addresses: tshark not installed (apt-get install tshark)\n');
  return false;
}

/** Ethernet + IP + UDP 1234 -> 53, four bytes of payload. */
function udp(v6: boolean, src: Uint32Array, dst: Uint32Array): Buffer {
  const u = Buffer.from('04d20035000c0000' + '61626364', 'hex');
  let ip: Buffer;
  if (v6) {
    ip = Buffer.alloc(40);
    ip.writeUInt32BE(6 << 28, 0);
    ip.writeUInt16BE(u.length, 4);
    ip[6] = 17;
    ip[7] = 64;
    for (let i = 0; i < 4; i++) {
      ip.writeUInt32BE(src[i] ?? 0, 8 + 4 * i);
      ip.writeUInt32BE(dst[i] ?? 0, 24 + 4 * i);
    }
  } else {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + u.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.writeUInt32BE(src[0] ?? 0, 12);
    ip.writeUInt32BE(dst[0] ?? 0, 16);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += ip.readUInt16BE(i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    ip.writeUInt16BE(~s & 0xffff, 10);
  }
  const eth = Buffer.from(`020202020202040404040404${v6 ? '86dd' : '0800'}`, 'hex');
  return Buffer.concat([eth, ip, u]);
}

describe.skipIf(!haveTshark())('host addresses agree with tshark', () => {
  it('every source of a crafted capture is one host, named as tshark names it', () => {
    const frames: Buffer[] = [];
    // each IPv6 source twice; the IPv4 sources' bytes also as the last word of an IPv6 one
    // (the same 32 bits in both families must stay two hosts)
    for (const [g] of V6) frames.push(udp(true, groupsToWords(g), groupsToWords('2001:db8:0:0:0:0:0:ffff')));
    for (const [g] of V6) frames.push(udp(true, groupsToWords(g), groupsToWords('2001:db8:0:0:0:0:0:ffff')));
    for (const a of V4) frames.push(udp(false, parseAddr(a)?.words ?? new Uint32Array(1), Uint32Array.of(0xc6336401)));
    const head = pcapHeader();
    const parts = [head];
    frames.forEach((f, i) => {
      const r = Buffer.alloc(16);
      r.writeUInt32LE(1_700_000_000, 0);
      r.writeUInt32LE(i * 100, 4);
      r.writeUInt32LE(f.length, 8);
      r.writeUInt32LE(f.length, 12);
      parts.push(r, f);
    });
    const dir = mkdtempSync(join(tmpdir(), 'netpulse-addr-'));
    try {
      const file = join(dir, 'addrs.pcap');
      writeFileSync(file, Buffer.concat(parts));
      const t = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src'], { encoding: 'utf8' });
      expect(t.status, t.stderr).toBe(0);
      const want = new Map<string, number>();
      for (const line of t.stdout.split('\n')) {
        const [v4 = '', v6 = ''] = line.split('\t');
        const a = v4 !== '' ? v4 : v6;
        if (a !== '') want.set(a, (want.get(a) ?? 0) + 1);
      }
      expect(want.size).toBe(V6.length + V4.length);
      // tshark's texts are the expected ones above
      expect(new Set(want.keys())).toEqual(new Set([...V6.map(([, t]) => t), ...V4]));
      const r = run(['replay', file, '--json', '--hosts', 'all', '--detectors', 'none']);
      expect(r.status, r.stderr).toBe(0);
      const report = ndjson(r.stdout).find((m) => m.type === 'report') as { hosts: { addr: string; tx: { packets: number } }[] } | undefined;
      const got = new Map<string, number>();
      for (const h of report?.hosts ?? []) if (h.tx.packets > 0) got.set(h.addr, h.tx.packets);
      expect(got).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AddressIndex against a brute-force model of (family, bytes)', () => {
  it('one id per live address, never shared, through removal, re-insertion, growth and clears', () => {
    let seed = 99;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const pool: number[][] = [[4, 0], [6, 0, 0, 0, 0], [4, 0xffffffff], [6, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]];
    for (let i = 0; i < 40; i++) {
      const a = (rnd() * 2 ** 32) >>> 0;
      // the same 32 bits as IPv4, IPv4-compatible and IPv4-mapped
      pool.push([4, a], [6, 0, 0, 0, a], [6, 0, 0, 0xffff, a]);
    }
    for (let i = 0; i < 20; i++) {
      // an IPv4 address equal to an IPv6 address's slot key (its hash)
      const w = [6, (rnd() * 2 ** 32) >>> 0, 1, 2, 3];
      pool.push(w, [4, hashV6(w[1] ?? 0, 2, 2, 3) >>> 0], [4, hashV6(w[1] ?? 0, 1, 2, 3) >>> 0]);
    }
    let checks = 0;
    for (const maxIds of [1, 3, 16, 50, 1000]) {
      for (let round = 0; round < 10; round++) {
        const ix = new AddressIndex(maxIds, 1 + Math.floor(rnd() * 8), () => undefined);
        const model = new Map<string, number>();
        for (let step = 0; step < 2000; step++) {
          const p = pool[Math.floor(rnd() * pool.length)] ?? [4, 0];
          const r = rnd();
          if (r < 0.25 && model.size > 0) {
            const keys = [...model.keys()];
            const k = keys[Math.floor(rnd() * keys.length)] ?? '';
            ix.remove(model.get(k) ?? -1);
            model.delete(k);
            continue;
          }
          if (r < 0.27) {
            ix.clear();
            model.clear();
            continue;
          }
          const key = p.join(',');
          const id = p[0] === 4 ? ix.idV4(p[1] ?? 0) : ix.idV6(Uint32Array.from(p.slice(1)));
          const had = model.get(key);
          if (had !== undefined) {
            expect([key, id, ix.inserted]).toEqual([key, had, false]);
          } else if (model.size >= ix.maxIds) {
            expect([key, id]).toEqual([key, -1]);
          } else {
            expect(ix.inserted).toBe(true);
            expect([...model.values()]).not.toContain(id);
            model.set(key, id);
          }
          expect(ix.count).toBe(model.size);
          checks++;
        }
        for (const [key, id] of model) {
          const p = key.split(',').map(Number);
          const stored = p[0] === 4 ? [4, ix.w3[id]] : [6, ix.w0[id], ix.w1[id], ix.w2[id], ix.w3[id]];
          expect([ix.fam[id], ...stored.slice(1)]).toEqual(p);
        }
      }
    }
    expect(checks).toBeGreaterThan(50_000);
  });
});
