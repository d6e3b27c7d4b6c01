// Address keys, text and CIDR sets. Oracles: Node's net.BlockList (an independent CIDR
// matcher) and the WHATWG URL parser's IPv6 serialiser (RFC 5952 compression).
import { BlockList, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/aggregate/address.js';
import { CidrSet, formatIpv6At, key6, parseAddr, parseIpv4, parseIpv6 } from '../../src/detect/addr.js';
import { ConfigError } from '../../src/errors.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function randomV6(r: () => number): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // Zero groups are common in real addresses: make runs of them likely.
    const x = r();
    w[i] = x % 3 === 0 ? 0 : x % 3 === 1 ? x & 0xffff : x;
  }
  return w;
}

describe('IPv6 text', () => {
  it('matches the WHATWG URL serialiser (RFC 5952 compression) on random addresses', () => {
    const r = rng(7);
    for (let n = 0; n < 2000; n++) {
      const w = randomV6(r);
      const ours = formatIpv6At(w, 0);
      const oracle = new URL(`http://[${ours}]/`).hostname.slice(1, -1);
      // URL prints mapped and compatible IPv4 in hex; ours are dotted (as tshark): round trip only
      if (!ours.includes('.')) expect(ours).toBe(oracle);
      expect(isIPv6(ours)).toBe(true);
      expect(Array.from(parseIpv6(ours) ?? [])).toEqual(Array.from(w));
    }
  });

  it('parses the forms people write', () => {
    expect(formatIpv6At(parseIpv6('2001:DB8:0:0:0:0:0:1') ?? [], 0)).toBe('2001:db8::1');
    expect(formatIpv6At(parseIpv6('::') ?? [1], 0)).toBe('::');
    expect(formatIpv6At(parseIpv6('::ffff:192.0.2.1') ?? [], 0)).toBe('::ffff:192.0.2.1');
    expect(formatIpv6At(parseIpv6('fe80::1%eth0') ?? [], 0)).toBe('fe80::1');
    for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '::1.2.3']) expect(parseIpv6(bad)).toBeNull();
  });

  it('keys two different addresses apart and the same address alike', () => {
    const a = parseIpv6('2001:db8::1') ?? new Uint32Array(4);
    const b = parseIpv6('2001:db8::2') ?? new Uint32Array(4);
    expect(key6(a)).toBe(key6(Uint32Array.from(a)));
    expect(key6(a)).not.toBe(key6(b));
    expect(key6(a)).toBeGreaterThanOrEqual(2 ** 32);
    expect(Number.isSafeInteger(key6(a))).toBe(true);
  });
});

describe('IPv4 text', () => {
  it('round-trips and rejects bad octets', () => {
    expect(formatIpv4(parseIpv4('192.168.1.255') ?? 0)).toBe('192.168.1.255');
    expect(parseIpv4('256.1.1.1')).toBeNull();
    expect(parseIpv4('1.2.3')).toBeNull();
    expect(parseAddr('10.0.0.1')?.version).toBe(4);
  });
});

describe('CidrSet', () => {
  it('agrees with net.BlockList on random addresses, v4 and v6', () => {
    const nets = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '203.0.113.7', 'fc00::/7', 'fe80::/10', '2001:db8:1::/48'];
    const ours = new CidrSet(nets, 'test');
    const bl = new BlockList();
    for (const n of nets) {
      const [a = '', bits] = n.split('/');
      const type = a.includes(':') ? 'ipv6' : 'ipv4';
      if (bits === undefined) bl.addAddress(a, type);
      else bl.addSubnet(a, Number(bits), type);
    }
    const r = rng(11);
    const samples: string[] = ['10.255.255.255', '11.0.0.0', '172.31.0.1', '172.32.0.1', '203.0.113.7', '203.0.113.8', 'fe80::1', 'fec0::1', '2001:db8:1:ffff::1', '2001:db8:2::1'];
    for (let i = 0; i < 3000; i++) {
      const x = r();
      // Bias towards the configured networks' neighbourhoods.
      const hi = [10, 172, 192, 203, x >>> 24][i % 5] ?? 0;
      samples.push(formatIpv4(((hi << 24) | (x & 0xffffff)) >>> 0));
      const w = randomV6(r);
      w[0] = ([0xfc000000, 0xfe800000, 0x20010db8, w[0] ?? 0][i % 4] ?? 0) | ((w[0] ?? 0) & 0x3ff);
      samples.push(formatIpv6At(w, 0));
    }
    // the numeric form new-host uses ([family, w0..w3] at an offset, as SecondHosts.copyAddress writes it)
    const words = new Uint32Array(8);
    for (const s of samples) {
      const want = bl.check(s, s.includes(':') ? 'ipv6' : 'ipv4');
      expect(ours.hasText(s), s).toBe(want);
      const v4 = parseIpv4(s);
      words.fill(0);
      words[3] = v4 !== null ? 4 : 6;
      if (v4 !== null) words[7] = v4;
      else words.set(parseIpv6(s) ?? [], 4);
      expect(ours.hasWords(words, 3), s).toBe(want);
    }
    words.fill(0);
    expect(ours.hasWords(words, 3)).toBe(false); // family 0: in no set
  });

  it('names the option in its error', () => {
    expect(() => new CidrSet(['10.0.0.0/33'], '--allow')).toThrow(ConfigError);
    expect(() => new CidrSet(['nonsense'], '--allow')).toThrow(/--allow: "nonsense"/);
  });
});
