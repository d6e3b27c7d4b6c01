// Fixed-capacity open-addressing tables for the per-packet hooks: keys are up to two host
// keys and one small integer, slots are indices into caller-owned typed arrays. Nothing
// is allocated after construction. When an insert finds its probe window full, a table
// given a `weigh` function (at construction) evicts the least useful live entry of that
// window (weight -1: protected, never evicted) and gives its slot to the new key; without
// one, or with every entry protected, the insert is refused (callers count them). Eviction is deterministic:
// the smallest weight, ties going to the oldest entry (inserted first), so a key that has
// just come back cannot be pushed out again by one more crafted key of the same weight.

import { mixKey } from './addr.js';

/** How far an insert or lookup walks before giving up: bounds the cost when nearly full. */
const MAX_PROBE = 24;

/** The default `weigh`: every entry protected (a full window refuses). */
const NO_EVICT = (_slot: number): number => -1;

export class KeyTable {
  readonly capacity: number;
  private readonly mask: number;
  /** Slot i's entry at e[4i .. 4i+4): mark, key a, key b, key c. One array, interleaved, so a
   *  probe reads one cache line, not four (the tables are megabytes: each miss was paid
   *  once per array; measured ~20% of the hooks' time). A mark of 2*gen: live in this
   *  generation; 2*gen+1: deleted; anything else: empty. The third key is stored as an
   *  int32 (`c | 0`): pass a signed 32-bit value (`x | 0`, never `x >>> 0` nor a host key),
   *  or it never compares equal to what was stored. Two bugs came from this (unsigned port
   *  pairs, host keys); host keys go in `a` or `b`. */
  private readonly e: Float64Array;
  /** Slot -> insert sequence number of its entry (ties in eviction go to the oldest). */
  private readonly stamp: Float64Array;
  /** [next insert sequence number] (a double that never changes the table's shape). */
  private readonly seq = new Float64Array(1);
  private gen = 1;
  /** Live entries. */
  size = 0;
  /** Set by upsert: whether the returned slot was created by that call. */
  inserted = false;
  /** Inserts refused because the probe window was full (cumulative): with `weigh` set, only
   *  when every entry of the window was protected. */
  refused = 0;
  /** Live entries evicted to make room for a new key (cumulative). */
  evicted = 0;
  /** Set with `inserted` by upsert: whether the slot was taken from an evicted entry (then
   *  evictedA/B/C are its key). Meaningful only when `inserted` is true. */
  reused = false;
  // NaN, not 0: host keys are doubles (most IPv4 keys are past the small-integer range); a
  // field going from small integer to double at the first eviction changed the tables' shape
  // under the optimized hooks ("wrong map" deopts; replays ~5% slower).
  evictedA = NaN;
  evictedB = NaN;
  evictedC = 0;
  /**
   * Usefulness of the live entry in a slot, asked only when an insert finds its window full:
   * the smallest is evicted; -1 protects the entry (the default protects every entry: a full
   * window refuses the insert).
   */
  private readonly weigh: (slot: number) => number;

  constructor(capacityPow2: number, weigh: (slot: number) => number = NO_EVICT) {
    this.weigh = weigh;
    let cap = 16;
    while (cap < capacityPow2) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.e = new Float64Array(cap * 4);
    this.stamp = new Float64Array(cap);
  }

  /** Home slot of (a, b, c): where its probe window starts (the public, unseeded mix). */
  home(a: number, b: number, c: number): number {
    return (mixKey(a) ^ Math.imul(mixKey(b), 0x9e3779b1) ^ Math.imul(c + 0x632be5ab, 0x85ebca6b)) & this.mask;
  }

  /** Slot of (a, b, c) or -1. */
  find(a: number, b: number, c: number): number {
    const live = this.gen * 2;
    let i = this.home(a, b, c);
    const e = this.e;
    for (let n = 0; n < MAX_PROBE; n++) {
      const o = i << 2;
      const m = e[o];
      if (m === live) {
        if (e[o + 1] === a && e[o + 2] === b && e[o + 3] === c) return i;
      } else if (m !== live + 1) {
        return -1;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Slot of (a, b, c), created if absent (then `inserted` is true; `reused` if an entry was
   *  evicted for it); -1 when its window is full and nothing in it may be evicted. */
  upsert(a: number, b: number, c: number): number {
    const live = this.gen * 2;
    let i = this.home(a, b, c);
    let free = -1;
    const e = this.e;
    for (let n = 0; n < MAX_PROBE; n++) {
      const o = i << 2;
      const m = e[o];
      if (m === live) {
        if (e[o + 1] === a && e[o + 2] === b && e[o + 3] === c) {
          this.inserted = false;
          return i;
        }
      } else if (m === live + 1) {
        if (free < 0) free = i;
      } else {
        if (free < 0) free = i;
        break;
      }
      i = (i + 1) & this.mask;
    }
    if (free < 0) return this.evict(a, b, c);
    const o = free << 2;
    e[o] = live;
    e[o + 1] = a;
    e[o + 2] = b;
    e[o + 3] = c | 0;
    const q = this.seq[0] ?? 0;
    this.stamp[free] = q;
    this.seq[0] = q + 1;
    this.size++;
    this.inserted = true;
    this.reused = false;
    return free;
  }

  /**
   * The window of (a, b, c) is full (every slot live, none its key): evict the least useful
   * unprotected entry of it for (a, b, c) and return its slot (then `inserted` and `reused`
   * are true, evictedA/B/C the old key), or refuse: -1 (no `weigh`, or every entry
   * protected). Off the per-packet path: only a full window gets here.
   */
  private evict(a: number, b: number, c: number): number {
    const weigh = this.weigh;
    let best = -1;
    if (weigh !== NO_EVICT) {
      let bestW = Infinity;
      let bestS = Infinity;
      let i = this.home(a, b, c);
      for (let n = 0; n < MAX_PROBE; n++) {
        const w = weigh(i);
        if (w >= 0 && (w < bestW || (w === bestW && (this.stamp[i] ?? 0) < bestS))) {
          bestW = w;
          bestS = this.stamp[i] ?? 0;
          best = i;
        }
        i = (i + 1) & this.mask;
      }
    }
    if (best < 0) {
      this.refused++;
      this.inserted = false;
      return -1;
    }
    const e = this.e;
    const o = best << 2;
    this.evictedA = e[o + 1] ?? 0;
    this.evictedB = e[o + 2] ?? 0;
    this.evictedC = e[o + 3] ?? 0;
    e[o + 1] = a;
    e[o + 2] = b;
    e[o + 3] = c | 0;
    const q = this.seq[0] ?? 0;
    this.stamp[best] = q;
    this.seq[0] = q + 1;
    this.evicted++;
    this.inserted = true;
    this.reused = true;
    return best;
  }

  delete(slot: number): void {
    if (this.e[slot << 2] === this.gen * 2) {
      this.e[slot << 2] = this.gen * 2 + 1;
      this.size--;
    }
  }

  live(slot: number): boolean {
    return this.e[slot << 2] === this.gen * 2;
  }

  /** The keys of the entry in `slot` (live or not). */
  keyA(slot: number): number {
    return this.e[(slot << 2) + 1] ?? 0;
  }
  keyB(slot: number): number {
    return this.e[(slot << 2) + 2] ?? 0;
  }
  keyC(slot: number): number {
    return this.e[(slot << 2) + 3] ?? 0;
  }

  /** Forget everything in O(1) (a new generation); the caller resets its value arrays lazily on insert. */
  clear(): void {
    this.gen++;
    if (this.gen >= 0x7fffffff) {
      for (let i = 0; i < this.e.length; i += 4) this.e[i] = 0;
      this.gen = 1;
    }
    this.size = 0;
  }
}

/** `a` if index `id` is inside it, else a copy twice as long as needed (doubling) to hold it. */
export function coverIndex<T extends Int32Array | Float64Array>(a: T, id: number, make: (n: number) => T): T {
  if (id < a.length) return a;
  let n = Math.max(1, a.length);
  while (n <= id) n *= 2;
  const g = make(n);
  g.set(a);
  return g;
}
