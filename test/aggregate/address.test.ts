// Address text: IPv4 dotted quads; IPv6 in RFC 5952 form, checked against the WHATWG URL
// serialiser (which implements RFC 5952 compression) and the RFC's own examples.

import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from '../../src/aggregate/address.js';

function words(text: string): [number, number, number, number] {
  // expand with URL's parser, then read the eight groups
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = host.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = host.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  const w = (i: number): number => (((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0;
  return [w(0), w(2), w(4), w(6)];
}

describe('IPv6 text', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // RFC 5952 4.2.1: longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: a single 0 group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: first of equal runs
    ['2001:DB8::ABCD', '2001:db8::abcd'], // 4.3: lower case
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:a667:6ff:fef7:ec54', 'fe80::a667:6ff:fef7:ec54'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:192.0.2.128', '::ffff:192.0.2.128'], // 5: IPv4-mapped in dotted form
    // IPv4-compatible (::/96): dotted, as tshark (and glibc's inet_ntop) print them, which is
    // what the ground truth holds; these five are tshark's own output for such packets
    ['::102:304', '::1.2.3.4'],
    ['::a00:1', '::10.0.0.1'],
    ['::1:0', '::0.1.0.0'],
    ['::1:1', '::0.1.0.1'],
    ['::ffff:ffff', '::255.255.255.255'],
    ['::2', '::2'], // a zero seventh group: hex, as ::1
  ])('%s -> %s', (input, want) => {
    expect(formatIpv6(...words(input))).toBe(want);
  });

  it('agrees with the URL serialiser on many random addresses (outside ::ffff:0:0/96 and ::/96)', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 5000; i++) {
      // sparse groups so that zero runs of every length and place occur
      const g = Array.from({ length: 8 }, () => (rnd() % 3 === 0 ? rnd() & 0xffff : 0));
      if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && g[6] !== 0))) continue;
      const text = g.map((x) => x.toString(16)).join(':');
      const expected = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      expect(formatIpv6(...words(text))).toBe(expected);
    }
  });
});

describe('IPv4 text', () => {
  it.each([
    [0x0a000001, '10.0.0.1'],
    [0xffffffff, '255.255.255.255'],
    [0, '0.0.0.0'],
    [0xc0a80101, '192.168.1.1'],
  ])('%i -> %s', (n, want) => {
    expect(formatIpv4(n)).toBe(want);
  });
});
