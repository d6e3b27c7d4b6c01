// Adversarial host addresses: the aggregator's address index hashes with a seed per process,
// so addresses chosen from the public code to share one home slot do not make every lookup
// walk one long probe run (60,000 such IPv4 sources made replay 40x slower: 69 us a packet).
// Checked by where the addresses land, not by timing: a run's home slots are what a lookup walks.

import { describe, expect, it } from 'vitest';
import { AddressIndex, hashV4 } from '../../src/aggregate/address-index.js';

/** The unkeyed hash the index used: mix32(a ^ 4), and its inverse. */
const inv = (m: number): number => {
  let x = m;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(m, x));
  return x;
};
function unmix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, inv(0xc2b2ae35)) >>> 0;
  h = (h ^ (h >>> 13) ^ (h >>> 26)) >>> 0;
  h = Math.imul(h, inv(0x85ebca6b)) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function addresses(n: number, crafted: boolean): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  let r = 7;
  while (out.length < n) {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    // crafted: the old hash's home slot (mod 2^18) below 8 for every address
    const a = crafted ? (unmix32(((r & ~0x3ffff) | (r & 7)) >>> 0) ^ 4) >>> 0 : r;
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(a);
  }
  return out;
}

const SLOTS = 1 << 18;

describe('adversarial addresses', () => {
  it('addresses that share a home slot under the public hash spread over the seeded one', () => {
    const crafted = addresses(30_000, true);
    // the public hash put all 30,000 in 8 home slots (each lookup then walked ~15,000 slots);
    // a seeded hash spreads them as it spreads random addresses (about 28,400 distinct of 2^18)
    const homes = new Set(crafted.map((a) => hashV4(a) & (SLOTS - 1)));
    const random = new Set(addresses(30_000, false).map((a) => hashV4(a) & (SLOTS - 1)));
    expect(homes.size).toBeGreaterThan(0.9 * random.size);
  });

  it('the index still finds every crafted address, and ids do not depend on the seed', () => {
    const crafted = addresses(30_000, true);
    const ix = new AddressIndex(100_000, 16_384, () => undefined);
    const ids = crafted.map((a) => ix.idV4(a));
    // ids are handed out in order of first sight, whatever slots the hash gives
    expect(ids).toEqual(crafted.map((_, i) => i));
    expect(crafted.map((a) => ix.idV4(a))).toEqual(ids);
  });
});
