// The aggregator on scripted packets whose answers are known by construction: epoch
// seconds, zero rows and gaps, the reorder allowance and late packets, per-host statistics
// against a brute-force computation, per-second top hosts, eviction bounds.

import { describe, expect, it } from 'vitest';
import { Aggregator, FOLD_PACKETS, type AggregatorOptions } from '../../src/aggregate/aggregator.js';
import { LOG_SPILL_PACKETS } from '../../src/aggregate/second-window.js';
import { formatIpv4 } from '../../src/aggregate/address.js';
import type { Gap, HostStats, SecondSummary, SizeStats } from '../../src/aggregate/summary.js';
import { ipv4Sender } from '../helpers/aggregate.js';

const BASE: AggregatorOptions = { maxHosts: 100_000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2 };

interface Out {
  summaries: SecondSummary[];
  gaps: Gap[];
}

function harness(o: Partial<AggregatorOptions> = {}): { agg: Aggregator; out: Out; send: (tsMicros: number, src: number, dst: number, size: number) => void } {
  const out: Out = { summaries: [], gaps: [] };
  const agg = new Aggregator({ ...BASE, ...o }, { summary: (s) => out.summaries.push(s), gap: (g) => out.gaps.push(g) });
  const send = ipv4Sender(agg, 6);
  return { agg, out, send };
}

const S = 1_000_000;

/** Brute-force size statistics (population stdev, nearest-rank percentiles). */
function brute(sizes: number[]): SizeStats {
  const v = [...sizes].sort((a, b) => a - b);
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const stdev = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const rank = (p: number): number => v[Math.max(1, Math.ceil((p / 100) * n)) - 1] ?? 0;
  return { count: n, mean, stdev, min: v[0] ?? 0, max: v[n - 1] ?? 0, p50: rank(50), p95: rank(95), p99: rank(99) };
}

function expectSize(got: SizeStats | null, want: SizeStats, exactPercentiles: boolean): void {
  expect(got).not.toBeNull();
  if (!got) return;
  expect(got.count).toBe(want.count);
  expect(got.min).toBe(want.min);
  expect(got.max).toBe(want.max);
  expect(Math.abs(got.mean - want.mean)).toBeLessThanOrEqual(1e-9 * want.mean);
  expect(Math.abs(got.stdev - want.stdev)).toBeLessThanOrEqual(1e-9 * Math.max(1, want.stdev));
  for (const k of ['p50', 'p95', 'p99'] as const) {
    if (exactPercentiles) expect(got[k]).toBe(want[k]);
    else expect(Math.abs(got[k] - want[k])).toBeLessThanOrEqual(0.01 * want[k]);
  }
}

describe('seconds', () => {
  it('are epoch-aligned, with zero rows for empty seconds inside the capture', () => {
    const { agg, out, send } = harness();
    send(100.1 * S, 1, 2, 100);
    send(100.9 * S, 1, 2, 200);
    send(103.2 * S, 2, 1, 300);
    agg.flush();
    expect(out.summaries.map((s) => [s.ts, s.packets, s.bytes])).toEqual([
      [100, 2, 300],
      [101, 0, 0],
      [102, 0, 0],
      [103, 1, 300],
    ]);
    expect(out.gaps).toEqual([]);
  });

  it('report a run of empty seconds longer than the bound once, as a gap', () => {
    const { agg, out, send } = harness({ maxGapSeconds: 5 });
    send(100 * S, 1, 2, 100);
    send(104 * S, 1, 2, 100); // 3 empty seconds: zero rows
    send(1_000_000 * S, 1, 2, 100); // ~1e6 empty seconds: one gap
    agg.flush();
    expect(out.summaries.map((s) => s.ts)).toEqual([100, 101, 102, 103, 104, 1_000_000]);
    expect(out.gaps).toEqual([{ from: 105, to: 999_999 }]);
    expect(agg.report(10).gaps).toBe(1);
  });

  // The bound is on the run's whole length, whatever the reorder allowance: a run of
  // bound + 1 empty seconds is a gap, a run of bound is zero rows (a run of up to bound +
  // reorder used to come out as zero rows, as the allowance had closed only part of it).
  for (const reorderSeconds of [0, 2, 5]) {
    it(`a run of exactly maxGap + 1 empty seconds is a gap, maxGap is zero rows (reorder ${reorderSeconds})`, () => {
      for (const [empty, gap] of [[7, true], [6, false]] as const) {
        const { agg, out, send } = harness({ maxGapSeconds: 6, reorderSeconds });
        send(100.5 * S, 1, 2, 100);
        send((101 + empty + 0.5) * S, 1, 2, 100); // seconds 101 .. 100 + empty are empty
        send((102 + empty + 0.5) * S, 1, 2, 100);
        agg.flush();
        const zeros = out.summaries.filter((x) => x.packets === 0).map((x) => x.ts);
        if (gap) {
          expect(out.gaps).toEqual([{ from: 101, to: 100 + empty }]);
          expect(zeros).toEqual([]);
        } else {
          expect(out.gaps).toEqual([]);
          expect(zeros).toEqual(Array.from({ length: empty }, (_, i) => 101 + i));
        }
      }
    });
  }

  it('work before 1970 too (negative seconds): a capture entirely before the epoch lost every second and host', () => {
    const { agg, out, send } = harness();
    send(-100.5 * S, 1, 2, 100); // second -101 (epoch-aligned: floor)
    send(-100.2 * S, 2, 1, 200);
    send(-98.9 * S, 1, 2, 300); // second -99
    agg.flush();
    expect(out.summaries.map((x) => [x.ts, x.packets, x.bytes])).toEqual([
      [-101, 2, 300],
      [-100, 0, 0],
      [-99, 1, 300],
    ]);
    const r = agg.report(10);
    expect(r.packets).toBe(3);
    expect(r.hosts.map((h) => [h.tx.packets, h.tx.bytes, h.rx.packets, h.rx.bytes])).toEqual([
      [2, 400, 1, 200],
      [1, 200, 2, 400],
    ]);
    expect(agg.lastSecond()).toBe(-99);
  });

  it('keep a second open for the reorder allowance; older packets count as late in the newest second', () => {
    const { agg, out, send } = harness({ reorderSeconds: 2 });
    send(105.0 * S, 1, 2, 100);
    send(104.5 * S, 1, 2, 100); // within the allowance: its own second
    send(103.9 * S, 1, 2, 100); // 103 >= 105 - 2: still open
    send(108.0 * S, 1, 2, 100); // closes 103..105
    send(104.0 * S, 1, 2, 100); // 104 < 108 - 2: late, counted in 108
    agg.flush();
    const rows = out.summaries.map((s) => [s.ts, s.packets, s.late]);
    expect(rows).toEqual([
      [103, 1, 0],
      [104, 1, 0],
      [105, 1, 0],
      [106, 0, 0],
      [107, 0, 0],
      [108, 2, 1],
    ]);
    const r = agg.report(10);
    expect(r.late).toBe(1);
    expect(out.summaries.reduce((n, s) => n + s.packets, 0)).toBe(r.packets);
  });

  it('on a clock (live), quiet seconds close on time with zero rows', () => {
    const { agg, out } = harness({ reorderSeconds: 0 });
    agg.startAt(50.2 * S);
    agg.tick(50.9 * S);
    expect(out.summaries).toEqual([]);
    agg.tick(53.1 * S);
    expect(out.summaries.map((s) => [s.ts, s.packets])).toEqual([
      [50, 0],
      [51, 0],
      [52, 0],
    ]);
  });
});

describe('hosts', () => {
  it('match a brute-force computation of every host and direction, across folds', () => {
    const { agg, out, send } = harness();
    let seed = 99;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const sizes = new Map<string, number[]>();
    const perSecond = new Map<number, Map<string, number[]>>();
    const note = (m: Map<string, number[]>, k: string, v: number): void => {
      const a = m.get(k) ?? [];
      a.push(v);
      m.set(k, a);
    };
    const N = FOLD_PACKETS + 50_000; // crosses a fold
    for (let i = 0; i < N; i++) {
      const ts = 1000 * S + Math.floor((i / N) * 20 * S);
      const src = 0x0a000000 + Math.floor(rnd() ** 2 * 60);
      const dst = 0x0a000000 + Math.floor(rnd() * 60);
      // mostly IMIX-like, a long tail up to jumbo frames
      const r = rnd();
      const size = r < 0.5 ? 60 + Math.floor(rnd() * 10) : r < 0.9 ? 500 + Math.floor(rnd() * 1014) : 1514 + Math.floor(rnd() * 7500);
      send(ts, src, dst, size);
      note(sizes, `${formatIpv4(src)} tx`, size);
      note(sizes, `${formatIpv4(dst)} rx`, size);
      const sec = Math.floor(ts / S);
      const m = perSecond.get(sec) ?? new Map<string, number[]>();
      perSecond.set(sec, m);
      note(m, `${formatIpv4(src)} tx`, size);
      note(m, `${formatIpv4(dst)} rx`, size);
    }
    agg.flush();
    const r = agg.report(Infinity);
    expect(r.packets).toBe(N);
    expect(r.hosts.length).toBe(60);
    for (const h of r.hosts) {
      for (const d of ['tx', 'rx'] as const) {
        const want = sizes.get(`${h.addr} ${d}`) ?? [];
        expect(h[d].packets).toBe(want.length);
        expect(h[d].bytes).toBe(want.reduce((a, b) => a + b, 0));
        if (want.length > 0) expectSize(h[d].size, brute(want), false);
      }
    }
    // hosts are listed by bytes, largest first
    const bytes = r.hosts.map((h: HostStats) => h.tx.bytes + h.rx.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
    // every second's top hosts: exact statistics from that second's packets
    for (const s of out.summaries) {
      const m = perSecond.get(s.ts);
      if (!m) continue;
      expect(s.hosts.length).toBe(10);
      for (const h of s.hosts) {
        for (const d of ['tx', 'rx'] as const) {
          const want = m.get(`${h.addr} ${d}`) ?? [];
          expect(h[d].packets).toBe(want.length);
          if (want.length > 0) expectSize(h[d].size, brute(want), true);
        }
      }
    }
  });

  it('count new hosts in the second they first appear', () => {
    const { agg, out, send } = harness();
    send(10 * S, 1, 2, 60);
    send(10.5 * S, 1, 3, 60);
    send(11 * S, 1, 2, 60);
    send(12 * S, 4, 5, 60);
    agg.flush();
    expect(out.summaries.map((s) => [s.ts, s.newHosts, s.newHostAddrs])).toEqual([
      [10, 3, ['0.0.0.1', '0.0.0.2', '0.0.0.3']],
      [11, 0, []],
      [12, 2, ['0.0.0.4', '0.0.0.5']],
    ]);
  });

  it('stay within maxHosts under a flood of spoofed sources, evicting the least active and keeping the busy ones', () => {
    const { agg, send } = harness({ maxHosts: 200 });
    const server = 0xc0a80001;
    const client = 0xc0a80002;
    let spoofed = 0x01000000;
    for (let sec = 0; sec < 100; sec++) {
      for (let i = 0; i < 20; i++) send((sec + i / 20) * S, client, server, 1000);
      for (let i = 0; i < 500; i++) send((sec + i / 500) * S, spoofed++, server, 60);
    }
    agg.flush();
    const r = agg.report(5);
    expect(r.hostsTracked).toBeLessThanOrEqual(200);
    expect(r.packets).toBe(100 * 520);
    // spoofed hosts churn through the table or, while every slot is busy this second, go
    // untracked (counted, never silent)
    expect(r.evictedHosts).toBeGreaterThan(1000);
    expect(r.untrackedPackets).toBeGreaterThan(1000);
    expect(r.evictedHosts + r.untrackedPackets).toBeGreaterThanOrEqual(50_000 - 200);
    // the client and server keep exact counts through all the churn
    const byAddr = new Map(r.hosts.map((h) => [h.addr, h]));
    expect(byAddr.get('192.168.0.2')?.tx.packets).toBe(2000);
    expect(byAddr.get('192.168.0.1')?.rx.packets).toBe(100 * 520);
    expect(byAddr.get('192.168.0.2')?.tx.size?.count).toBe(2000);
    expect(byAddr.get('192.168.0.1')?.rx.size?.count).toBe(100 * 520);
  });

  it('never give a new host the sizes of the evicted host whose id it takes', () => {
    const { agg, send } = harness({ maxHosts: 2 });
    // second 1: A -> B with big packets; second 10: C -> B with small ones (A is idle: evicted)
    for (let i = 0; i < 10; i++) send(1 * S + i, 0xa, 0xb, 1400);
    for (let i = 0; i < 10; i++) send(10 * S + i, 0xc, 0xb, 64);
    agg.flush();
    const r = agg.report(10);
    const c = r.hosts.find((h) => h.addr === '0.0.0.12');
    expect(c?.tx.packets).toBe(10);
    expect(c?.tx.size).toMatchObject({ count: 10, min: 64, max: 64, mean: 64 });
    expect(r.evictedHosts).toBe(1);
  });
  it('keep exact counts, means and extremes when the histogram memory runs out (percentiles lose precision, never order)', () => {
    // 32 KiB of histogram pairs for 200 hosts with hundreds of distinct sizes each: blocks
    // cannot grow, histograms fall back to coarser buckets, at last to the reserved floor
    // block (6 buckets). Hosts 0-99 send 40-1500 bytes (6 powers of two: always room),
    // hosts 100-199 a wider range that cannot fit (values join a neighbouring bucket).
    const { agg, send } = harness({ histogramBytes: 32 << 10 });
    let seed = 5;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const sizes = new Map<string, number[]>();
    for (let i = 0; i < 200_000; i++) {
      const h = i % 200;
      const src = 0x0a000000 + h;
      const size = h < 100 ? 40 + Math.floor(rnd() * 1461) : 40 + Math.floor(rnd() * 9000) + (rnd() < 0.01 ? 70_000 : 0);
      send(S + i, src, 0x0b000000, size);
      const k = formatIpv4(src);
      const a = sizes.get(k) ?? [];
      a.push(size);
      sizes.set(k, a);
    }
    agg.flush();
    const r = agg.report(Infinity);
    let checked = 0;
    for (const h of r.hosts) {
      const want = sizes.get(h.addr);
      if (!want) continue;
      const b = brute(want);
      const got = h.tx.size;
      expect(got).not.toBeNull();
      if (!got) continue;
      expect(got.count).toBe(b.count);
      expect(got.min).toBe(b.min);
      expect(got.max).toBe(b.max);
      expect(Math.abs(got.mean - b.mean)).toBeLessThanOrEqual(1e-9 * b.mean);
      expect(got.min).toBeLessThanOrEqual(got.p50);
      expect(got.p50).toBeLessThanOrEqual(got.p95);
      expect(got.p95).toBeLessThanOrEqual(got.p99);
      expect(got.p99).toBeLessThanOrEqual(got.max);
      if (want.every((v) => v <= 1500)) {
        // power-of-two buckets at worst: within a factor of two of the exact nearest rank
        for (const k of ['p50', 'p95', 'p99'] as const) {
          expect(got[k]).toBeGreaterThanOrEqual(b[k] / 2);
          expect(got[k]).toBeLessThanOrEqual(b[k] * 2);
        }
      }
      checked++;
    }
    expect(checked).toBe(200);
    // the set-up did reach the last resort: values joined a neighbouring bucket
    expect(agg.hosts.folded).toBeGreaterThan(0);
  });
});

describe('a second with more packets than its log holds (LOG_SPILL_PACKETS)', () => {
  it("counts every packet exactly; the top hosts' sizes cover all of the second (the part handed on early too), as the report's", () => {
    const { agg, out, send } = harness({ topHosts: 3 });
    const A = 0x0a000001;
    const B = 0x0a000002;
    const C = 0x0a000003;
    // one second: 1,000,000 packets A->B of 100 bytes fill the log, then 300,000 of 200 bytes
    // A->B and 1,000 of 60 bytes C->A (the log now holds only these; the rest was handed on)
    for (let i = 0; i < LOG_SPILL_PACKETS; i++) send(10 * S + (i % 900_000), A, B, 100);
    for (let i = 0; i < 300_000; i++) send(10 * S + 900_000 + (i % 1000), A, B, 200);
    for (let i = 0; i < 1000; i++) send(10 * S + 999_000 + i, C, A, 60);
    agg.flush();
    const s = out.summaries.find((x) => x.ts === 10);
    const a = s?.hosts.find((h) => h.addr === formatIpv4(A));
    expect(a?.tx.packets).toBe(1_300_000);
    expect(a?.tx.bytes).toBe(1_000_000 * 100 + 300_000 * 200);
    expectSize(a?.tx.size ?? null, brute([...new Array<number>(1_000_000).fill(100), ...new Array<number>(300_000).fill(200)]), true);
    expectSize(a?.rx.size ?? null, brute(new Array<number>(1000).fill(60)), true);
    const report = agg.report(Infinity);
    const ra = report.hosts.find((h) => h.addr === formatIpv4(A));
    expect(ra?.tx.size?.count).toBe(1_300_000);
    expect(ra?.tx.size?.min).toBe(100);
    expect(ra?.tx.size?.max).toBe(200);
    expect(ra?.tx.size?.mean).toBeCloseTo((1_000_000 * 100 + 300_000 * 200) / 1_300_000, 9);
  });
});
