// Address -> dense id, for IPv4 (one 32-bit word) and IPv6 (four words). Open addressing
// with linear probing over interleaved (id, key) slots so a probe touches one cache line;
// IPv6 keys are hashes, confirmed against the stored words. Removal shifts entries back
// (no tombstones). The owner keeps per-id records and is told when ids grow.

import { randomFillSync } from 'node:crypto';

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// The hash is keyed with a random seed per process (per thread): mix32 is public and
// invertible, so with a fixed seed anyone could pick addresses that share one home slot, and
// linear probing then walks the whole run on every lookup (60,000 such IPv4 sources made
// replay 40x slower: 69 us a packet). Ids do not depend on slots, so output does not change.
const SEED = randomFillSync(new Uint32Array(2));
const S0 = (SEED[0] ?? 0) | 0;
const S1 = (SEED[1] ?? 0) | 0;

export function hashV4(a: number): number {
  return mix32(mix32(a ^ S0) ^ S1);
}

export function hashV6(a: number, b: number, c: number, d: number): number {
  return mix32(mix32(mix32(mix32(mix32(a ^ S0) ^ b) ^ c) ^ d) ^ S1);
}

export class AddressIndex {
  readonly maxIds: number;
  private readonly onGrow: (cap: number) => void;
  cap: number;
  count = 0;
  /** One past the highest id handed out; ids below are in use when fam[id] !== 0. */
  end = 0;
  /** Set by idV4/idV6: the last call inserted. */
  inserted = false;
  private freeIds: Int32Array;
  private freeTop = 0;
  /** slot i: [2i] = id or -1, [2i + 1] = key (IPv4 address or IPv6 hash) as int32 */
  private slots: Int32Array;
  private mask: number;
  fam: Uint8Array;
  w0: Uint32Array;
  w1: Uint32Array;
  w2: Uint32Array;
  w3: Uint32Array;

  constructor(maxIds: number, initialIds: number, onGrow: (cap: number) => void) {
    this.maxIds = Math.max(1, maxIds);
    this.cap = Math.max(1, Math.min(this.maxIds, initialIds));
    this.onGrow = onGrow;
    this.freeIds = new Int32Array(this.cap);
    this.fam = new Uint8Array(this.cap);
    this.w0 = new Uint32Array(this.cap);
    this.w1 = new Uint32Array(this.cap);
    this.w2 = new Uint32Array(this.cap);
    this.w3 = new Uint32Array(this.cap);
    const n = AddressIndex.slotCount(this.cap);
    this.slots = new Int32Array(n * 2).fill(-1);
    this.mask = n - 1;
  }

  private static slotCount(cap: number): number {
    let n = 16;
    while (n < cap * 2) n *= 2;
    return n;
  }

  /** Id of an IPv4 address; inserted if new; -1 if the index is full. */
  idV4(a: number): number {
    const key = a | 0;
    const s = this.slots;
    const mask = this.mask;
    for (let i = hashV4(a) & mask; ; i = (i + 1) & mask) {
      const id = s[2 * i] ?? -1;
      if (id < 0) break;
      if (s[2 * i + 1] === key && this.fam[id] === 4) {
        this.inserted = false;
        return id;
      }
    }
    return this.insert(hashV4(a), key, 4, 0, 0, 0, a);
  }

  /** Id of an IPv6 address (four big-endian words); inserted if new; -1 if full. */
  idV6(w: Uint32Array): number {
    const a = w[0] ?? 0, b = w[1] ?? 0, c = w[2] ?? 0, d = w[3] ?? 0;
    const h = hashV6(a, b, c, d);
    const key = h | 0;
    const s = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = s[2 * i] ?? -1;
      if (id < 0) break;
      if (s[2 * i + 1] === key && this.w3[id] === d && this.w2[id] === c && this.w1[id] === b && this.w0[id] === a && this.fam[id] === 6) {
        this.inserted = false;
        return id;
      }
    }
    return this.insert(h, key, 6, a, b, c, d);
  }

  private insert(h: number, key: number, fam: number, a: number, b: number, c: number, d: number): number {
    let id: number;
    if (this.freeTop > 0) id = this.freeIds[--this.freeTop] ?? -1;
    else if (this.end < this.cap) id = this.end++;
    else if (this.cap < this.maxIds) {
      this.grow(Math.min(this.maxIds, this.cap * 2));
      id = this.end++;
    } else {
      this.inserted = false;
      return -1;
    }
    const s = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while ((s[2 * i] ?? -1) >= 0) i = (i + 1) & mask;
    s[2 * i] = id;
    s[2 * i + 1] = key;
    this.fam[id] = fam;
    this.w0[id] = a;
    this.w1[id] = b;
    this.w2[id] = c;
    this.w3[id] = d;
    this.count++;
    this.inserted = true;
    return id;
  }

  private homeOf(id: number): number {
    return this.fam[id] === 4 ? hashV4(this.w3[id] ?? 0) : hashV6(this.w0[id] ?? 0, this.w1[id] ?? 0, this.w2[id] ?? 0, this.w3[id] ?? 0);
  }

  /** Forget id (its slot is reused later). */
  remove(id: number): void {
    const s = this.slots;
    const mask = this.mask;
    let i = this.homeOf(id) & mask;
    while (s[2 * i] !== id) i = (i + 1) & mask;
    // backward-shift deletion: move later entries of the run into the hole when allowed
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = s[2 * j] ?? -1;
      if (e < 0) break;
      const home = this.homeOf(e) & mask;
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        s[2 * i] = e;
        s[2 * i + 1] = s[2 * j + 1] ?? 0;
        i = j;
      }
    }
    s[2 * i] = -1;
    this.fam[id] = 0;
    this.freeIds[this.freeTop++] = id;
    this.count--;
  }

  private grow(cap: number): void {
    const copy32 = (a: Uint32Array): Uint32Array => {
      const r = new Uint32Array(cap);
      r.set(a);
      return r;
    };
    const fam = new Uint8Array(cap);
    fam.set(this.fam);
    this.fam = fam;
    this.w0 = copy32(this.w0);
    this.w1 = copy32(this.w1);
    this.w2 = copy32(this.w2);
    this.w3 = copy32(this.w3);
    const free = new Int32Array(cap);
    free.set(this.freeIds);
    this.freeIds = free;
    this.cap = cap;
    const n = AddressIndex.slotCount(cap);
    const s = new Int32Array(n * 2).fill(-1);
    const mask = n - 1;
    for (let id = 0; id < this.end; id++) {
      if (this.fam[id] === 0) continue;
      const h = this.homeOf(id);
      let i = h & mask;
      while ((s[2 * i] ?? -1) >= 0) i = (i + 1) & mask;
      s[2 * i] = id;
      s[2 * i + 1] = this.fam[id] === 4 ? (this.w3[id] ?? 0) | 0 : h | 0;
    }
    this.slots = s;
    this.mask = mask;
    this.onGrow(cap);
  }

  /** Forget everything, keeping the memory. */
  clear(): void {
    this.slots.fill(-1);
    this.fam.fill(0, 0, this.end);
    this.end = 0;
    this.freeTop = 0;
    this.count = 0;
  }

  get bytes(): number {
    return this.slots.byteLength + this.cap * (1 + 16 + 4);
  }
}
