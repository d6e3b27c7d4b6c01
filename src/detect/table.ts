// Fixed-capacity open-addressing tables for the per-packet hooks: keys are up to two host
// keys and one small integer, slots are indices into caller-owned typed arrays. Nothing
// is allocated after construction; a full table refuses inserts (callers count them).

import { mixKey } from './addr.js';

/** How far an insert or lookup walks before giving up: bounds the cost when nearly full. */
const MAX_PROBE = 24;

export class KeyTable {
  readonly capacity: number;
  private readonly mask: number;
  readonly ka: Float64Array;
  readonly kb: Float64Array;
  readonly kc: Int32Array;
  /** 2*gen: live in this generation; 2*gen+1: deleted; anything else: empty. */
  private readonly marks: Uint32Array;
  private gen = 1;
  /** Live entries. */
  size = 0;
  /** Set by upsert: whether the returned slot was created by that call. */
  inserted = false;
  /** Inserts refused because the probe window was full (cumulative). */
  refused = 0;

  constructor(capacityPow2: number) {
    let cap = 16;
    while (cap < capacityPow2) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.ka = new Float64Array(cap);
    this.kb = new Float64Array(cap);
    this.kc = new Int32Array(cap);
    this.marks = new Uint32Array(cap);
  }

  private slot(a: number, b: number, c: number): number {
    return (mixKey(a) ^ Math.imul(mixKey(b), 0x9e3779b1) ^ Math.imul(c + 0x632be5ab, 0x85ebca6b)) & this.mask;
  }

  /** Slot of (a, b, c) or -1. */
  find(a: number, b: number, c: number): number {
    const live = this.gen * 2;
    let i = this.slot(a, b, c);
    for (let n = 0; n < MAX_PROBE; n++) {
      const m = this.marks[i];
      if (m === live) {
        if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c) return i;
      } else if (m !== live + 1) {
        return -1;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Slot of (a, b, c), created if absent (then `inserted` is true); -1 when full. */
  upsert(a: number, b: number, c: number): number {
    const live = this.gen * 2;
    let i = this.slot(a, b, c);
    let free = -1;
    for (let n = 0; n < MAX_PROBE; n++) {
      const m = this.marks[i];
      if (m === live) {
        if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c) {
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
    if (free < 0) {
      this.refused++;
      this.inserted = false;
      return -1;
    }
    this.marks[free] = live;
    this.ka[free] = a;
    this.kb[free] = b;
    this.kc[free] = c;
    this.size++;
    this.inserted = true;
    return free;
  }

  delete(slot: number): void {
    if (this.marks[slot] === this.gen * 2) {
      this.marks[slot] = this.gen * 2 + 1;
      this.size--;
    }
  }

  live(slot: number): boolean {
    return this.marks[slot] === this.gen * 2;
  }

  /** Forget everything in O(1) (a new generation); the caller resets its value arrays lazily on insert. */
  clear(): void {
    this.gen++;
    if (this.gen >= 0x7fffffff) {
      this.marks.fill(0);
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
