// Top-K selection for host lists (a second's top hosts, the report's, /api/hosts): the
// `limit` ids with the largest values, largest first, equal values by smaller id first.
// A bounded heap keeps the best `limit` seen so far with the worst at its root, so n offers
// cost O(n log limit) whatever their order (inserting into a sorted list cost O(n x limit):
// --top 100000 on a second of 100,000 hosts with rising byte counts took 15 s).

export class TopK {
  private readonly ids: Int32Array;
  private readonly vals: Float64Array;
  private size = 0;
  private readonly cap: number;

  /** `expected`: at most how many ids will be offered (sizes the heap, never past `limit`). */
  constructor(limit: number, expected: number) {
    this.cap = Math.max(0, Math.min(limit, expected));
    this.ids = new Int32Array(this.cap);
    this.vals = new Float64Array(this.cap);
  }

  /** True when (va, ia) ranks below (vb, ib): smaller value, or equal value and larger id. */
  private static worse(va: number, ia: number, vb: number, ib: number): boolean {
    return va < vb || (va === vb && ia > ib);
  }

  offer(id: number, v: number): void {
    const ids = this.ids;
    const vals = this.vals;
    if (this.size < this.cap) {
      // sift up: the root is the worst kept
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pv = vals[p] ?? 0;
        const pi = ids[p] ?? 0;
        if (!TopK.worse(v, id, pv, pi)) break;
        ids[i] = pi;
        vals[i] = pv;
        i = p;
      }
      ids[i] = id;
      vals[i] = v;
      return;
    }
    if (this.cap === 0 || !TopK.worse(vals[0] ?? 0, ids[0] ?? 0, v, id)) return;
    // replace the root and sift down
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      const r = l + 1;
      if (r < n && TopK.worse(vals[r] ?? 0, ids[r] ?? 0, vals[l] ?? 0, ids[l] ?? 0)) c = r;
      const cv = vals[c] ?? 0;
      const ci = ids[c] ?? 0;
      if (!TopK.worse(cv, ci, v, id)) break;
      ids[i] = ci;
      vals[i] = cv;
      i = c;
    }
    ids[i] = id;
    vals[i] = v;
  }

  /** The kept ids, best first. */
  result(): number[] {
    const n = this.size;
    const order: number[] = new Array<number>(n);
    for (let k = 0; k < n; k++) order[k] = k;
    const ids = this.ids;
    const vals = this.vals;
    order.sort((a, b) => (vals[b] ?? 0) - (vals[a] ?? 0) || (ids[a] ?? 0) - (ids[b] ?? 0));
    return order.map((k) => ids[k] ?? 0);
  }
}

/** Up to this limit a sorted list is as cheap as the heap (O(n x limit) is then O(n)). */
export const SMALL_TOP = 64;

/**
 * The `limit` best of `n` ids given by `idAt(i)` (a few of them: `limit` <= SMALL_TOP), best
 * first: value descending, equal values by smaller id first.
 */
export function smallTop(n: number, limit: number, idAt: (i: number) => number, value: (i: number) => number): number[] {
  const best: number[] = [];
  const bestV: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = idAt(i);
    if (id < 0) continue;
    const v = value(i);
    let k = best.length;
    if (k === limit) {
      const fv = bestV[k - 1] ?? 0;
      if (v < fv || (v === fv && id > (best[k - 1] ?? 0))) continue;
    }
    while (k > 0) {
      const bv = bestV[k - 1] ?? 0;
      if (bv > v || (bv === v && (best[k - 1] ?? 0) < id)) break;
      k--;
    }
    best.splice(k, 0, id);
    bestV.splice(k, 0, v);
    if (best.length > limit) {
      best.pop();
      bestV.pop();
    }
  }
  return best;
}
