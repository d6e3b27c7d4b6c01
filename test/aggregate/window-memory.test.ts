// An open second's memory follows the hosts active in it, not the size of the host table:
// with --reorder 300 up to 301 seconds are open at once, and each used to hold 36 bytes per
// table id (301 x 36 B x 131,072 ids = 1.4 GB with 100,000 hosts; 10x that at --max-hosts
// 1000000). Now 4 bytes per table id plus 36 per active host; closed windows kept for reuse
// are few.

import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import type { SecondWindow } from '../../src/aggregate/second-window.js';
import type { SecondSummary } from '../../src/aggregate/summary.js';
import { ipv4Sender } from '../helpers/aggregate.js';

const S = 1_000_000;

interface Inside {
  windows: Map<number, SecondWindow>;
  spare: SecondWindow[];
}

describe('open seconds', () => {
  it('cost 4 bytes per table id plus their active hosts, with --reorder 300 and 100,000 hosts', () => {
    const summaries: SecondSummary[] = [];
    const agg = new Aggregator({ maxHosts: 100_000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 300 }, { summary: (s) => summaries.push(s), gap: () => {} });
    const send = ipv4Sender(agg, 17);
    for (let i = 0; i < 99_999; i++) send(1000 * S + i, 0x0b000000 + i, 0x0a000001, 100);
    for (let s = 1; s <= 300; s++) send((1000 + s) * S, 0x0b000000 + s, 0x0a000001, 100);
    const inside = agg as unknown as Inside;
    expect(inside.windows.size).toBe(301);
    const cap = agg.hosts.index.cap;
    expect(cap).toBeGreaterThanOrEqual(99_999);
    let countBytes = 0;
    for (const w of inside.windows.values()) {
      expect(w.cnt.byteLength).toBeLessThanOrEqual(32 * Math.max(1024, 2 * w.activeLen));
      countBytes += w.cnt.byteLength;
    }
    // dense counts would be 301 x 32 B x cap (> 1.2 GB); here about 3.2 MB + 300 x 32 kB
    expect(countBytes).toBeLessThan(32 * 1024 * 1024);
    agg.flush();
    expect(summaries.length).toBe(301);
    expect(summaries[0]?.activeHosts).toBe(100_000);
    expect(summaries[0]?.hosts[0]?.addr).toBe('10.0.0.1');
    expect(summaries[0]?.hosts[0]?.rx.packets).toBe(99_999);
    expect(summaries[300]?.hosts.map((h) => h.addr)).toEqual(['10.0.0.1', '11.0.1.44']);
    // the windows of a burst of open seconds are not all kept for reuse
    expect(inside.spare.length).toBeLessThanOrEqual(4);
  });

  it('a full table finds hosts it may evict without looking through every open second', () => {
    // 301 open seconds, a table of 1000 hosts full, then 20,000 new hosts: each made the
    // table ask, for each of 16 eviction candidates, every open second whether it had the
    // candidate (about 100 million questions; --reorder 300 made a spoofed flood 15x slower)
    const summaries: SecondSummary[] = [];
    const agg = new Aggregator({ maxHosts: 1000, topHosts: 1, maxGapSeconds: 60, reorderSeconds: 300 }, { summary: (s) => summaries.push(s), gap: () => {} });
    const send = ipv4Sender(agg, 17);
    for (let s = 0; s <= 300; s++) send((1000 + s) * S, 0x0a000000 + s, 0x0a000fff, 100);
    const proto = (agg as unknown as Inside).windows.values().next().value as SecondWindow;
    const wproto = Object.getPrototypeOf(proto) as { isActive(id: number): boolean };
    const orig = wproto.isActive;
    let asked = 0;
    wproto.isActive = function (this: SecondWindow, id: number): boolean {
      asked++;
      return orig.call(this, id);
    };
    try {
      // new hosts, each in the newest second or one of the 300 before it
      for (let i = 0; i < 20_000; i++) send((1300 - (i % 301)) * S + 1, 0x0b000000 + i, 0x0a000fff, 100);
    } finally {
      wproto.isActive = orig;
    }
    expect(asked).toBeLessThanOrEqual(20_000);
    agg.flush();
    const r = agg.report(0);
    // every slot held a host with traffic in an open second: none evicted, the newcomers untracked
    expect(r.evictedHosts).toBe(0);
    expect(r.hostsTracked).toBe(1000);
    expect(r.untrackedPackets).toBeGreaterThan(0);
    expect(summaries.reduce((n, s) => n + s.packets, 0)).toBe(301 + 20_000);
  });
});
