// Exact packet sizes of a second whose log was handed on early (more than LOG_SPILL_PACKETS
// packets): per host and direction, the distinct wire lengths with their counts, so the
// second's top hosts still get exact statistics when it closes. Bounded by the distinct
// (host, direction, size) triples of the second (hosts of an open second are never
// evicted, so at most 2 x maxHosts keys), not by its packets: each spilled log is merged in.

const DENSE = 1 << 16;
const dense = new Uint32Array(DENSE);
const touched = new Uint32Array(DENSE);

export class SpillSizes {
  /** 2 * host id + direction (0 tx, 1 rx), ascending */
  keys = new Int32Array(0);
  /** pairs of keys[i]: start[i] .. start[i + 1] */
  start = new Int32Array(1);
  /** distinct sizes, ascending within a key */
  vals = new Uint32Array(0);
  cnts = new Float64Array(0);
  runs = 0;

  clear(): void {
    this.keys = new Int32Array(0);
    this.start = new Int32Array(1);
    this.vals = new Uint32Array(0);
    this.cnts = new Float64Array(0);
    this.runs = 0;
  }

  /** Take log entries (source id + 1, destination id + 1, wire length) [0, len); ids < idEnd. */
  add(log: Uint32Array, len: number, idEnd: number): void {
    const nk = 2 * idEnd;
    // counting sort by key, then each key's sizes sorted and run-length encoded
    const pos = new Int32Array(nk + 1);
    for (let i = 0; i < len; i += 3) {
      const s = log[i] ?? 0;
      const d = log[i + 1] ?? 0;
      if (s > 0) pos[2 * (s - 1) + 1] = (pos[2 * (s - 1) + 1] ?? 0) + 1;
      if (d > 0) pos[2 * (d - 1) + 2] = (pos[2 * (d - 1) + 2] ?? 0) + 1;
    }
    let runs = 0;
    for (let k = 1; k <= nk; k++) {
      if ((pos[k] ?? 0) > 0) runs++;
      pos[k] = (pos[k] ?? 0) + (pos[k - 1] ?? 0);
    }
    const total = pos[nk] ?? 0;
    const sizes = new Uint32Array(total);
    const fill = pos.slice(0, nk);
    for (let i = 0; i < len; i += 3) {
      const s = log[i] ?? 0;
      const d = log[i + 1] ?? 0;
      const v = log[i + 2] ?? 0;
      if (s > 0) {
        const k = 2 * (s - 1);
        const p = fill[k] ?? 0;
        sizes[p] = v;
        fill[k] = p + 1;
      }
      if (d > 0) {
        const k = 2 * (d - 1) + 1;
        const p = fill[k] ?? 0;
        sizes[p] = v;
        fill[k] = p + 1;
      }
    }
    const keys = new Int32Array(runs);
    const start = new Int32Array(runs + 1);
    const vals = new Uint32Array(total);
    const cnts = new Float64Array(total);
    let r = 0;
    let m = 0;
    for (let k = 0; k < nk; k++) {
      const a = pos[k] ?? 0;
      const b = pos[k + 1] ?? 0;
      if (a === b) continue;
      keys[r] = k;
      start[r] = m;
      // the usual sizes counted in a dense scratch (only the distinct ones get sorted),
      // larger ones sorted as they are
      let nt = 0;
      let wide = 0;
      for (let i = a; i < b; i++) {
        const v = sizes[i] ?? 0;
        if (v < DENSE) {
          const c = dense[v] ?? 0;
          dense[v] = c + 1;
          if (c === 0) touched[nt++] = v;
        } else sizes[a + wide++] = v; // (v was read: its slot is free)
      }
      const t = touched.subarray(0, nt).sort();
      for (let i = 0; i < nt; i++) {
        const v = t[i] ?? 0;
        vals[m] = v;
        cnts[m++] = dense[v] ?? 0;
        dense[v] = 0;
      }
      const big = sizes.subarray(a, a + wide).sort();
      for (let i = 0; i < wide; i++) {
        const v = big[i] ?? 0;
        if (i > 0 && big[i - 1] === v) cnts[m - 1] = (cnts[m - 1] ?? 0) + 1;
        else {
          vals[m] = v;
          cnts[m++] = 1;
        }
      }
      r++;
    }
    start[r] = m;
    if (this.runs === 0) {
      this.keys = keys;
      this.start = start;
      this.vals = vals.slice(0, m);
      this.cnts = cnts.slice(0, m);
      this.runs = runs;
      return;
    }
    this.merge(keys, start, vals, cnts, runs);
  }

  /** Merge another sorted set of runs into this one. */
  private merge(bk: Int32Array, bs: Int32Array, bv: Uint32Array, bc: Float64Array, bn: number): void {
    const ak = this.keys;
    const as = this.start;
    const av = this.vals;
    const ac = this.cnts;
    const an = this.runs;
    const keys = new Int32Array(an + bn);
    const start = new Int32Array(an + bn + 1);
    const vals = new Uint32Array((as[an] ?? 0) + (bs[bn] ?? 0));
    const cnts = new Float64Array(vals.length);
    let i = 0;
    let j = 0;
    let r = 0;
    let m = 0;
    while (i < an || j < bn) {
      const ka = i < an ? (ak[i] ?? 0) : Infinity;
      const kb = j < bn ? (bk[j] ?? 0) : Infinity;
      keys[r] = Math.min(ka, kb);
      start[r] = m;
      let x = ka <= kb ? (as[i] ?? 0) : 0;
      const xe = ka <= kb ? (as[i + 1] ?? 0) : 0;
      let y = kb <= ka ? (bs[j] ?? 0) : 0;
      const ye = kb <= ka ? (bs[j + 1] ?? 0) : 0;
      while (x < xe || y < ye) {
        const vx = x < xe ? (av[x] ?? 0) : Infinity;
        const vy = y < ye ? (bv[y] ?? 0) : Infinity;
        if (vx <= vy) {
          vals[m] = vx;
          cnts[m] = (ac[x++] ?? 0) + (vx === vy ? (bc[y++] ?? 0) : 0);
        } else {
          vals[m] = vy;
          cnts[m] = bc[y++] ?? 0;
        }
        m++;
      }
      if (ka <= kb) i++;
      if (kb <= ka) j++;
      r++;
    }
    start[r] = m;
    this.keys = keys.slice(0, r);
    this.start = start.slice(0, r + 1);
    this.vals = vals.slice(0, m);
    this.cnts = cnts.slice(0, m);
    this.runs = r;
  }

  /** Index of key 2 * id + dir among the runs, or -1. */
  find(id: number, dir: number): number {
    const key = 2 * id + dir;
    let lo = 0;
    let hi = this.runs - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const k = this.keys[mid] ?? 0;
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
