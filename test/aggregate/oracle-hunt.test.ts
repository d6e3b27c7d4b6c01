// Defects found by comparing the aggregator with independent computations: a brute-force
// model of the documented semantics (epoch seconds, reorder allowance, late packets, gaps;
// per-host counts and exact size statistics), never with what the code printed.

import { describe, expect, it } from 'vitest';
import { Aggregator, type AggregatorOptions } from '../../src/aggregate/aggregator.js';
import { formatIpv4 } from '../../src/aggregate/address.js';
import { LOG_SPILL_PACKETS } from '../../src/aggregate/second-window.js';
import type { Gap, SecondSummary, SizeStats } from '../../src/aggregate/summary.js';
import { ipv4Sender } from '../helpers/aggregate.js';

const BASE: AggregatorOptions = { maxHosts: 100_000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2 };
const S = 1_000_000;

function harness(o: Partial<AggregatorOptions> = {}) {
  const out = { summaries: [] as SecondSummary[], gaps: [] as Gap[], order: [] as string[] };
  const agg = new Aggregator(
    { ...BASE, ...o },
    {
      summary: (s) => {
        out.summaries.push(s);
        out.order.push(`s${s.ts}`);
      },
      gap: (g) => {
        out.gaps.push(g);
        out.order.push(`g${g.from}-${g.to}`);
      },
    },
  );
  const send = ipv4Sender(agg, 17);
  return { agg, out, send };
}

/** Sizes as value -> count; exact statistics from it (population stdev, nearest rank). */
function statsOf(h: Map<number, number>): SizeStats {
  const vals = [...h.keys()].sort((a, b) => a - b);
  let n = 0;
  let sum = 0;
  for (const v of vals) {
    n += h.get(v) ?? 0;
    sum += v * (h.get(v) ?? 0);
  }
  const mean = sum / n;
  let m2 = 0;
  for (const v of vals) m2 += (h.get(v) ?? 0) * (v - mean) ** 2;
  const rank = (p: number): number => {
    const r = Math.max(1, Math.ceil((p * n) / 100));
    let c = 0;
    for (const v of vals) {
      c += h.get(v) ?? 0;
      if (c >= r) return v;
    }
    return NaN;
  };
  return { count: n, mean, stdev: Math.sqrt(m2 / n), min: vals[0] ?? NaN, max: vals[vals.length - 1] ?? NaN, p50: rank(50), p95: rank(95), p99: rank(99) };
}

function expectExact(got: SizeStats | null | undefined, want: SizeStats): void {
  expect(got).toBeTruthy();
  if (!got) return;
  expect([got.count, got.min, got.max, got.p50, got.p95, got.p99]).toEqual([want.count, want.min, want.max, want.p50, want.p95, want.p99]);
  expect(Math.abs(got.mean - want.mean)).toBeLessThanOrEqual(1e-9 * want.mean);
  expect(Math.abs(got.stdev - want.stdev)).toBeLessThanOrEqual(1e-9 * Math.max(1, want.stdev));
}

describe('a full host table: a packet whose source and destination are both new', () => {
  it("never evicts its own source to make room for its destination (the source's tx was counted as the destination's)", () => {
    // --max-hosts 1, one packet 10.0.0.1 -> 10.0.0.2: the source takes the one slot, the
    // destination finds it full. It used to evict the source (0 packets so far, not yet in
    // any second), take its id, and be reported as sending the packet it received.
    const { agg, out, send } = harness({ maxHosts: 1 });
    send(1000 * S, 0x0a000001, 0x0a000002, 100);
    agg.flush();
    const r = agg.report(Infinity);
    expect(r.hosts.map((h) => [h.addr, h.tx.packets, h.rx.packets])).toEqual([['10.0.0.1', 1, 0]]);
    expect(r.untrackedPackets).toBe(1);
    expect(r.evictedHosts).toBe(0);
    expect(out.summaries[0]?.hosts.map((h) => [h.addr, h.tx.packets, h.rx.packets])).toEqual([['10.0.0.1', 1, 0]]);
  });

  for (const maxHosts of [1, 2, 3]) {
    it(`credits no host with traffic it did not send or receive (--max-hosts ${maxHosts}, 12 hosts)`, () => {
      const { agg, out, send } = harness({ maxHosts, reorderSeconds: 0 });
      let seed = 7 + maxHosts;
      const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
      // truth per address and direction (whole run), and per second
      const total = new Map<string, number[]>();
      const perSec = new Map<number, Map<string, number[]>>();
      const note = (m: Map<string, number[]>, k: string, v: number): void => {
        const a = m.get(k) ?? [];
        a.push(v);
        m.set(k, a);
      };
      let t = 5000 * S;
      for (let i = 0; i < 3000; i++) {
        t += Math.floor(rnd() * 300_000);
        const src = 0x0a000000 + Math.floor(rnd() * 12);
        const dst = 0x0a000000 + Math.floor(rnd() * 12);
        // each host sends its own size, so a size in the wrong host's statistics shows
        const size = 100 + (src & 0xff);
        send(t, src, dst, size);
        const m = perSec.get(Math.floor(t / S)) ?? new Map<string, number[]>();
        perSec.set(Math.floor(t / S), m);
        for (const mm of [total, m]) {
          note(mm, `${formatIpv4(src)} tx`, size);
          note(mm, `${formatIpv4(dst)} rx`, size);
        }
      }
      agg.flush();
      const r = agg.report(Infinity);
      expect(r.hostsTracked).toBeLessThanOrEqual(maxHosts);
      // a reported host has at most its true traffic, and only sizes it really had
      for (const h of r.hosts) {
        for (const d of ['tx', 'rx'] as const) {
          const truth = total.get(`${h.addr} ${d}`) ?? [];
          expect(h[d].packets).toBeLessThanOrEqual(truth.length);
          if (h[d].size) {
            expect(h[d].size?.min).toBeGreaterThanOrEqual(Math.min(...truth));
            expect(h[d].size?.max).toBeLessThanOrEqual(Math.max(...truth));
          }
        }
      }
      // a host listed in a second was tracked all that second (never evicted while open): exact
      for (const s of out.summaries) {
        for (const h of s.hosts) {
          for (const d of ['tx', 'rx'] as const) {
            const truth = perSec.get(s.ts)?.get(`${h.addr} ${d}`) ?? [];
            expect([s.ts, h.addr, d, h[d].packets, h[d].bytes]).toEqual([s.ts, h.addr, d, truth.length, truth.reduce((a, b) => a + b, 0)]);
          }
        }
      }
      expect(out.summaries.reduce((n, s) => n + s.packets, 0)).toBe(3000);
    });
  }
});

describe('a long silence whose last seconds are still inside the reorder allowance', () => {
  it('lets a packet within the allowance count in its own second, and ends the gap before it', () => {
    // reorder 2, max-gap 60: packets at 1000.0, 1100.0, then 1099.5 (0.5 s older than the
    // newest: within the allowance). The gap used to be declared 1001..1099 when 1100 came,
    // closing 1099 early: the packet was counted late in 1100.
    const { agg, out, send } = harness({ reorderSeconds: 2, maxGapSeconds: 60 });
    send(1000 * S, 1, 2, 100);
    send(1100 * S, 1, 2, 200);
    send(1099.5 * S, 2, 1, 300);
    agg.flush();
    expect(out.order).toEqual(['s1000', 'g1001-1098', 's1099', 's1100']);
    expect(out.summaries.map((s) => [s.ts, s.packets, s.bytes, s.late])).toEqual([
      [1000, 1, 100, 0],
      [1099, 1, 300, 0],
      [1100, 1, 200, 0],
    ]);
    const r = agg.report(10);
    expect([r.late, r.gaps]).toEqual([0, 1]);
  });

  it('is zero rows when such a packet leaves a run of exactly max-gap empty seconds', () => {
    // max-gap 6, reorder 2: 100.5, then 108.5 (101..107 empty: 7, a gap), then 107.2 (within
    // the allowance): the run is 101..106, 6 seconds: zero rows, no gap
    const { agg, out, send } = harness({ reorderSeconds: 2, maxGapSeconds: 6 });
    send(100.5 * S, 1, 2, 100);
    send(108.5 * S, 1, 2, 100);
    send(107.2 * S, 1, 2, 100);
    agg.flush();
    expect(out.gaps).toEqual([]);
    expect(out.summaries.map((s) => [s.ts, s.packets, s.late])).toEqual([
      [100, 1, 0],
      ...[101, 102, 103, 104, 105, 106].map((t) => [t, 0, 0]),
      [107, 1, 0],
      [108, 1, 0],
    ]);
  });

  it('agrees with a brute-force model of the semantics on scrambled timestamps', () => {
    let seed = 1234;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let run = 0; run < 120; run++) {
      const reorderSeconds = [0, 1, 2, 3, 5][Math.floor(rnd() * 5)] ?? 0;
      const maxGapSeconds = [0, 1, 2, 3, 5, 10][Math.floor(rnd() * 6)] ?? 0;
      const { agg, out, send } = harness({ reorderSeconds, maxGapSeconds });
      const pk: [number, number][] = [];
      let t = 1_000_000 * S + Math.floor(rnd() * 10) * S;
      const n = 1 + Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        if (r < 0.5) t += Math.floor(rnd() * 1_500_000);
        else if (r < 0.7) t += Math.floor(rnd() * 20) * S + ([0, 999_999, 1][Math.floor(rnd() * 3)] ?? 0);
        else t -= Math.floor(rnd() * (reorderSeconds + 2) * S);
        const size = 60 + Math.floor(rnd() * 1400);
        pk.push([t, size]);
        send(t, 1, 2, size);
      }
      agg.flush();
      // model: a packet older than newest - reorder counts (late) in the newest second
      let hi = -Infinity;
      let late = 0;
      const secs = new Map<number, [number, number, number]>();
      for (const [ts, size] of pk) {
        const sec = Math.floor(ts / S);
        let into = sec;
        if (sec > hi) hi = sec;
        else if (sec < hi - reorderSeconds) {
          into = hi;
          late++;
        }
        const e = secs.get(into) ?? [0, 0, 0];
        e[0]++;
        e[1] += size;
        if (into !== sec) e[2]++;
        secs.set(into, e);
      }
      const keys = [...secs.keys()].sort((a, b) => a - b);
      const want: string[] = [];
      keys.forEach((k, i) => {
        const prev = keys[i - 1];
        if (prev !== undefined && k - prev - 1 > maxGapSeconds) want.push(`g${prev + 1}-${k - 1}`);
        else if (prev !== undefined) for (let z = prev + 1; z < k; z++) want.push(`s${z} 0 0 0`);
        const e = secs.get(k) ?? [0, 0, 0];
        want.push(`s${k} ${e[0]} ${e[1]} ${e[2]}`);
      });
      const got: string[] = [];
      let si = 0;
      for (const o of out.order) {
        if (o.startsWith('g')) got.push(o);
        else {
          const s = out.summaries[si++];
          got.push(`s${s?.ts} ${s?.packets} ${s?.bytes} ${s?.late}`);
        }
      }
      expect({ run, reorderSeconds, maxGapSeconds, got }).toEqual({ run, reorderSeconds, maxGapSeconds, got: want });
      expect(agg.report(1).late).toBe(late);
    }
  });
});

describe('a second with more packets than its log holds (LOG_SPILL_PACKETS)', () => {
  it('still gives its top hosts exact size statistics over all of the second', () => {
    const { agg, out, send } = harness({ topHosts: 4 });
    let seed = 42;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const truth = new Map<string, Map<number, number>>();
    const note = (k: string, v: number): void => {
      const m = truth.get(k) ?? new Map<number, number>();
      m.set(v, (m.get(v) ?? 0) + 1);
      truth.set(k, m);
    };
    // 2.3 log-fulls in one second: hosts 1..6, each with its own size mix that changes
    // along the second (so the part handed on early differs from the part kept), a few
    // jumbo sizes on either side of 65536
    const N = Math.floor(2.3 * LOG_SPILL_PACKETS);
    for (let i = 0; i < N; i++) {
      const src = 1 + Math.floor(rnd() * rnd() * 6);
      const dst = 1 + Math.floor(rnd() * 6);
      const r = rnd();
      const size = r < 0.002 ? 65_000 + Math.floor(rnd() * 200_000) : i < N / 2 ? 40 + Math.floor(r * 200) * src : 60 + Math.floor(r * 9000);
      send(77 * S + Math.floor((i / N) * S), src, dst, size);
      note(`${formatIpv4(src)} tx`, size);
      note(`${formatIpv4(dst)} rx`, size);
    }
    agg.flush();
    const s = out.summaries.find((x) => x.ts === 77);
    expect(s?.packets).toBe(N);
    expect(s?.hosts.length).toBe(4);
    for (const h of s?.hosts ?? []) {
      for (const d of ['tx', 'rx'] as const) {
        const m = truth.get(`${h.addr} ${d}`);
        if (m === undefined) {
          expect(h[d].size).toBeNull();
          continue;
        }
        const want = statsOf(m);
        expect(h[d].packets).toBe(want.count);
        expectExact(h[d].size, want);
      }
    }
  });
});
