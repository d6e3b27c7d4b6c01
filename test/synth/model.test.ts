// The generator's building blocks against independent references: the polynomial sine
// against Math.sin, the alias sampler's frequencies against its weights, per-second
// counts against their exact totals and shapes, the PRNG's range and repeatability, and
// the host address plan against the documented formula.

import { describe, expect, it } from 'vitest';
import { formatIPv6, parseIPv6 } from '../../src/synth/addr.js';
import { AliasTable, HostTable, ipv6HostCount, poolFamilyOf, resolveHost } from '../../src/synth/hosts.js';
import { backgroundCounts, sinTurns, spread } from '../../src/synth/profile.js';
import { Prng, scramble32 } from '../../src/synth/prng.js';

const sum = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0);
const mean = (xs: number[]): number => sum(xs) / xs.length;

describe('sinTurns', () => {
  it('matches Math.sin(2 pi t) to 1e-9 over several turns', () => {
    for (let t = -2; t <= 2; t += 1 / 997) expect(Math.abs(sinTurns(t) - Math.sin(2 * Math.PI * t))).toBeLessThan(1e-9);
  });
});

describe('Prng', () => {
  it('repeats for a seed, differs between seeds, stays in range', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xa = Array.from({ length: 1000 }, () => a.u32());
    expect(Array.from({ length: 1000 }, () => b.u32())).toEqual(xa);
    expect(Array.from({ length: 1000 }, () => c.u32())).not.toEqual(xa);
    const r = new Prng(1);
    for (let i = 0; i < 10000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const k = r.range(3, 9);
      expect(k >= 3 && k <= 9 && Number.isInteger(k)).toBe(true);
    }
  });

  it('is roughly uniform (each decile within 5% of a tenth of 100,000 draws)', () => {
    const r = new Prng(7);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const j = Math.floor(r.float() * 10);
      bins[j] = (bins[j] ?? 0) + 1;
    }
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('scramble32 is a bijection on a sample (no two inputs collide)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) seen.add(scramble32(i, 0x1234));
    expect(seen.size).toBe(200_000);
  });
});

describe('AliasTable', () => {
  it('draws each index in proportion to its weight (1/(i+1), as for host activity)', () => {
    const n = 20;
    const w = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const total = sum(w);
    const t = new AliasTable(w, null);
    const r = new Prng(3);
    const draws = 400_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) {
      const k = t.sample(r);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    counts.forEach((c, i) => {
      const expected = (draws * (w[i] ?? 0)) / total;
      // Five standard deviations of a binomial count.
      expect(Math.abs(c - expected)).toBeLessThan(5 * Math.sqrt(expected));
    });
  });
});

describe('per-second counts', () => {
  const silent = (n: number, from = -1, to = -1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i >= from && i < to ? 1 : 0));

  for (const profile of ['constant', 'diurnal', 'bursty'] as const) {
    it(`${profile}: exactly the total, nothing in silent seconds`, () => {
      const c = backgroundCounts(123_457, profile, 100, silent(100, 40, 50), new Prng(9));
      expect(sum(c)).toBe(123_457);
      expect(Array.from(c.subarray(40, 50))).toEqual(new Array<number>(10).fill(0));
      expect(Array.from(c).every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    });
  }

  it('constant: Poisson-like spread (variance near the mean)', () => {
    const c = Array.from(backgroundCounts(1_000_000, 'constant', 1000, silent(1000), new Prng(5)));
    const m = mean(c);
    const v = mean(c.map((x) => (x - m) ** 2));
    expect(m).toBe(1000);
    expect(v / m).toBeGreaterThan(0.7);
    expect(v / m).toBeLessThan(1.3);
  });

  it('diurnal: the first half-period runs above the mean, the second below (a rising sine)', () => {
    const c = Array.from(backgroundCounts(600_000, 'diurnal', 600, silent(600), new Prng(5)));
    const firstHalf = mean(c.slice(0, 300));
    const secondHalf = mean(c.slice(300));
    expect(firstHalf / secondHalf).toBeGreaterThan(2);
  });

  it('bursty: far more variance than Poisson', () => {
    const c = Array.from(backgroundCounts(600_000, 'bursty', 600, silent(600), new Prng(5)));
    const m = mean(c);
    expect(mean(c.map((x) => (x - m) ** 2)) / m).toBeGreaterThan(20);
  });

  it('spread keeps the running sum of fractional rates', () => {
    const c = spread(Float64Array.from({ length: 10 }, () => 2.5));
    expect(Array.from(c)).toEqual([2, 3, 2, 3, 2, 3, 2, 3, 2, 3]);
  });
});

describe('the host address plan (README)', () => {
  it('IPv4 host i is 10.a.b.c with a.b = i / 254 and c = i % 254 + 1; IPv6 hosts are spread evenly', () => {
    const pool = 100_000;
    const share = 0.1;
    const h = new HostTable(pool, share, 0, 1, []);
    expect(h.text(0)).toBe('10.0.0.1');
    expect(h.text(253)).toBe('10.0.0.254');
    expect(h.text(254)).toBe('10.0.1.1');
    expect(h.text(254 * 256)).toBe('10.1.0.1');
    expect(ipv6HostCount(pool, share)).toBe(10_000);
    expect(poolFamilyOf(9, pool, share)).toBe(6);
    expect(h.text(9)).toBe('fd6e:7075:6c73:1::a');
    expect(h.text(99_999)).toBe('fd6e:7075:6c73:1::1:86a0');
    // And back: an address of the pool resolves to its number.
    expect(resolveHost('10.1.0.1', pool, share, 't')).toEqual({ kind: 'pool', index: 254 * 256, family: 4 });
    expect(resolveHost('fd6e:7075:6c73:1::a', pool, share, 't')).toEqual({ kind: 'pool', index: 9, family: 6 });
    expect(resolveHost('10.0.0.10', pool, share, 't').kind).toBe('external'); // host 9 is IPv6
  });

  it('formats IPv6 as RFC 5952 section 4 requires', () => {
    const f = (s: string): string => {
      const w = parseIPv6(s);
      if (w === null) throw new Error(`unparsable ${s}`);
      return formatIPv6(...w);
    };
    expect(f('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1'); // 4.1 leading zeros, 4.2.1 longest run
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // 4.2.2 a single zero group stays
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1'); // 4.2.3 the longest run
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // 4.2.3 the first of equal runs
    expect(f('0:0:0:0:0:0:0:0')).toBe('::');
    expect(f('FE80::A')).toBe('fe80::a'); // 4.3 lower case
  });
});
