// Top-host lists (a second's --top, the report's --hosts, /api/hosts?limit) cost
// O(n log limit) whatever the order hosts come in: counted in calls of the value function,
// not timed. Inserting into a sorted list cost O(n x limit): --top 100000 on one second of
// 100,000 hosts with rising byte counts took 15 s, 50,000 hosts 4 s.

import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import { AddressIndex } from '../../src/aggregate/address-index.js';
import { SecondWindow } from '../../src/aggregate/second-window.js';
import { topIds } from '../../src/aggregate/host-table.js';
import { TopK } from '../../src/aggregate/top.js';
import type { SecondSummary } from '../../src/aggregate/summary.js';
import { ipv4Sender } from '../helpers/aggregate.js';

const S = 1_000_000;

/** Brute force: sort everything by value desc, id asc, keep `limit`. */
function bruteTop(vals: number[], limit: number): number[] {
  return vals
    .map((v, id) => ({ v, id }))
    .sort((a, b) => b.v - a.v || a.id - b.id)
    .slice(0, limit)
    .map((x) => x.id);
}

describe('TopK', () => {
  it('agrees with a full sort (value desc, then id asc) for any order, ties and limits', () => {
    let seed = 12345;
    const rnd = (m: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % m;
    };
    for (let trial = 0; trial < 200; trial++) {
      const n = rnd(300);
      const vals = Array.from({ length: n }, () => rnd(trial % 2 === 0 ? 10 : 1_000_000));
      const limit = rnd(n + 5);
      const order = Array.from({ length: n }, (_, i) => i);
      if (trial % 3 === 0) order.reverse();
      else if (trial % 3 === 1) for (let i = n - 1; i > 0; i--) { const j = rnd(i + 1); [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0]; }
      const t = new TopK(limit, n);
      for (const id of order) t.offer(id, vals[id] ?? 0);
      expect(t.result()).toEqual(bruteTop(vals, limit));
    }
  });
});

describe('top lists scale as n log limit', () => {
  it("the report's top hosts (topIds) call the value function once per host, rising values included", () => {
    const n = 20_000;
    const ix = new AddressIndex(n, n, () => {});
    for (let i = 0; i < n; i++) ix.idV4(0x0b000000 + i);
    let calls = 0;
    const value = (id: number): number => {
      calls++;
      return id; // rising with the scan order: every host beats every kept one
    };
    const got = topIds(ix, n / 2, value);
    expect(got.length).toBe(n / 2);
    expect(got[0]).toBe(n - 1);
    expect(got[n / 2 - 1]).toBe(n / 2);
    expect(calls).toBeLessThanOrEqual(2 * n);
  });

  it("a second's --top list calls bytesAt a bounded number of times per host", () => {
    const n = 20_000;
    const summaries: SecondSummary[] = [];
    const agg = new Aggregator({ maxHosts: 100_000, topHosts: n + 1, maxGapSeconds: 60, reorderSeconds: 0 }, { summary: (s) => summaries.push(s), gap: () => {} });
    const send = ipv4Sender(agg, 17);
    // host i sends 64 + i bytes: each new host outranks all before it
    for (let i = 0; i < n; i++) send(100 * S + i, 0x0b000000 + i, 0x0a000001, 64 + (i % 60000));
    const proto = SecondWindow.prototype as unknown as { bytesAt(slot: number): number };
    const orig = proto.bytesAt;
    let calls = 0;
    proto.bytesAt = function (this: SecondWindow, slot: number): number {
      calls++;
      return orig.call(this, slot);
    };
    try {
      agg.flush();
    } finally {
      proto.bytesAt = orig;
    }
    const s = summaries.find((x) => x.ts === 100);
    expect(s?.hosts.length).toBe(n + 1);
    expect(s?.hosts[0]?.addr).toBe('10.0.0.1');
    expect(s?.hosts[1]?.tx.bytes).toBe(64 + n - 1);
    expect(calls).toBeLessThanOrEqual(4 * (n + 1));
  });
});
