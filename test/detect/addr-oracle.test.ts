// Addresses as the detectors see them, against independent oracles:
// - IPv6 host keys (key6): two addresses with one key are one host to syn-flood, port-scan
//   and risky-services (counters merged, and the alert named after, and allow-listed by, the
//   first of them). The old key could be solved for its last word: the pairs below were
//   found with it in 0.1 s each, the attacker's address inside a /64 of its choosing.
// - CIDR matching (allow-list, --local-net, per-host thresholds): vectors from Python's
//   ipaddress module, `ipaddress.ip_address(a) in ipaddress.ip_network(n, strict=False)`
//   for the first and last address of each network and the one either side, plus the same
//   bytes in the other family (Python 3.11.7; printed by a throwaway script, pasted here).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CidrSet, key6, parseAddr } from '../../src/detect/addr.js';
import { ndjson, run } from '../helpers/cli.js';
import { pcapHeader } from '../helpers/pcap.js';

function words(text: string): Uint32Array {
  const a = parseAddr(text);
  if (a === null || a.version !== 6) throw new Error(`not IPv6: ${text}`);
  return a.words;
}

describe('IPv6 host keys', () => {
  // [address, an address chosen to collide with it under the old key6 (found by solving its
  // last word for the low 32 bits, then trying third words until the high 20 bits matched)]
  it.each([
    ['fe80::1', 'fe80::16:1182:9b6e:8bb9'],
    ['2001:db8:0:1::99', '2001:db8:bad:0:3:8834:5e8e:ff13'],
    ['fd00::10', 'fd00::1:10:657d:88c5:bcf4'],
  ])('%s and the crafted %s are two hosts', (a, b) => {
    expect(key6(words(a))).not.toBe(key6(words(b)));
  });

  it('is HalfSipHash-1-3 (64-bit output) of the four words, 52 bits of it above 2^32', () => {
    // From a Python transcription of the reference HalfSipHash (key 0x243f6a88, 0x85a308d3;
    // the address words fed as four little-endian 32-bit message words; 2^32 * (1 + hi >>> 12)
    // + lo): a fixed function, the same in every run and on the detector thread.
    expect(key6(words('2001:db8:0:1::99'))).toBe(2163462345139805);
    expect(key6(words('fe80::1'))).toBe(1188323650053783);
    expect(key6(words('::'))).toBe(295533538476897);
  });

  it('stays a safe integer >= 2^32 and spreads 100k near-identical addresses without a collision', () => {
    const seen = new Set<number>();
    const w = new Uint32Array(4);
    w[0] = 0x20010db8;
    for (let i = 0; i < 100_000; i++) {
      w[3] = i;
      w[2] = i & 1 ? 0x80000000 : 0;
      const k = key6(w);
      expect(k >= 2 ** 32 && Number.isSafeInteger(k)).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(100_000);
  });
});

/** Ethernet + IPv6 + TCP SYN from src to dst:80. */
function syn6(src: string, dst: string, sport: number): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(80, 2);
  tcp.writeUInt32BE(1, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02;
  tcp.writeUInt16BE(65535, 14);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(6 << 28, 0);
  ip.writeUInt16BE(tcp.length, 4);
  ip[6] = 6;
  ip[7] = 64;
  Buffer.from(words(src).buffer).swap32().copy(ip, 8);
  Buffer.from(words(dst).buffer).swap32().copy(ip, 24);
  const eth = Buffer.from('020202020202040404040404' + '86dd', 'hex');
  return Buffer.concat([eth, ip, tcp]);
}

function pcap(frames: readonly [number, Buffer][]): Buffer {
  const head = pcapHeader();
  const parts = [head];
  for (const [us, f] of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(us / 1e6), 0);
    r.writeUInt32LE(us % 1e6, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  }
  return Buffer.concat(parts);
}

describe('a crafted IPv6 address cannot hide a SYN flood behind the allow-list', () => {
  it('one SYN a second to an allow-listed collider, then 300 to the victim: SYN_Flood on the victim', () => {
    const victim = '2001:db8:0:1::99';
    const decoy = '2001:db8:bad:0:3:8834:5e8e:ff13'; // collided with the victim under the old key
    const frames: [number, Buffer][] = [];
    const t0 = 1_700_000_000 * 1e6;
    for (let s = 0; s < 5; s++) {
      frames.push([t0 + s * 1e6 + 1000, syn6('2001:db8:ffff::7', decoy, 40000)]);
      for (let i = 0; i < 300; i++) frames.push([t0 + s * 1e6 + 2000 + i * 2000, syn6(`2001:db8:ee::${(s * 300 + i + 1).toString(16)}`, victim, 1024 + i)]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'netpulse-key6-'));
    try {
      const file = join(dir, 'flood.pcap');
      writeFileSync(file, pcap(frames));
      const r = run(['replay', file, '--json', '--detectors', 'syn-flood', '--allow', '2001:db8:bad::/48', '--no-console-alerts']);
      expect(r.status, r.stderr).toBe(0);
      const raised = ndjson(r.stdout).filter((m) => m.type === 'alert' && m.state === 'raised');
      expect(raised.map((m) => [m.note, m.host])).toEqual([['SYN_Flood', victim]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CIDR matching agrees with Python ipaddress', () => {
  const vectors: [string, [string, boolean][]][] = [
    ['10.0.0.0/8', [['9.255.255.255', false], ['10.0.0.0', true], ['10.255.255.255', true], ['11.0.0.0', false], ['::ffff:10.0.0.1', false], ['::10.0.0.1', false], ['::a00:1', false]]],
    ['172.16.0.0/12', [['172.15.255.255', false], ['172.16.0.0', true], ['172.31.255.255', true], ['172.32.0.0', false]]],
    ['192.168.0.0/16', [['192.167.255.255', false], ['192.168.0.0', true], ['192.168.255.255', true], ['192.169.0.0', false]]],
    ['fc00::/7', [['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false], ['fc00::', true], ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true], ['fe00::', false], ['252.0.0.1', false]]],
    ['fe80::/10', [['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false], ['fe80::', true], ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true], ['fec0::', false]]],
    ['0.0.0.0/0', [['0.0.0.0', true], ['255.255.255.255', true], ['::', false], ['::ffff:1.2.3.4', false]]],
    ['::/0', [['::', true], ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true], ['0.0.0.0', false], ['255.255.255.255', false]]],
    ['1.2.3.4/32', [['1.2.3.3', false], ['1.2.3.4', true], ['1.2.3.5', false]]],
    ['2001:db8::1/128', [['2001:db8::', false], ['2001:db8::1', true], ['2001:db8::2', false]]],
    ['10.128.0.0/9', [['10.127.255.255', false], ['10.128.0.0', true], ['10.255.255.255', true], ['11.0.0.0', false]]],
    ['2001:db8:0:0:8000::/65', [['2001:db8::7fff:ffff:ffff:ffff', false], ['2001:db8:0:0:8000::', true], ['2001:db8::ffff:ffff:ffff:ffff', true], ['2001:db8:0:1::', false]]],
    ['2001:db8::2/127', [['2001:db8::1', false], ['2001:db8::2', true], ['2001:db8::3', true], ['2001:db8::4', false]]],
    ['::ffff:10.0.0.0/104', [['::ffff:9ff:ffff', false], ['::ffff:a00:0', true], ['::ffff:aff:ffff', true], ['::ffff:b00:0', false], ['10.0.0.1', false], ['10.255.255.255', false]]],
    ['100.64.0.0/10', [['100.63.255.255', false], ['100.64.0.0', true], ['100.127.255.255', true], ['100.128.0.0', false]]],
    ['fe80::/9', [['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false], ['fe80::', true], ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true], ['ff00::', false]]],
  ];
  it.each(vectors)('%s', (net, cases) => {
    const set = new CidrSet([net], 'test');
    for (const [addr, want] of cases) {
      const a = parseAddr(addr);
      expect(a, addr).not.toBeNull();
      // the two ways a host is matched: its text (alerts, the allow-list) and its numbers
      // (new-host's view of every host: family, then four words, IPv4 in the last)
      const w = new Uint32Array(5);
      w[0] = a?.version ?? 0;
      w.set(a?.words ?? [], a?.version === 4 ? 4 : 1);
      expect([addr, set.hasText(addr), set.hasWords(w, 0)]).toEqual([addr, want, want]);
    }
  });
});
