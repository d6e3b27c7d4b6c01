// The hello history is bounded in bytes as well as in summaries: a summary's size grows with
// --top, so --feed-history 86400 --top 100 held 750 MB after 20,000 seconds, and --top has no limit. Past the budget
// the oldest summaries go first; the newest is always kept; variants count too.

import { describe, expect, it } from 'vitest';
import { HISTORY_MAX_BYTES, Hub, MAX_VARIANTS } from '../../src/feed/hub.js';
import { pubSummary, summary } from './helpers.js';

const T0 = 1_700_000_000;

describe('feed history', () => {
  it('keeps at most its byte budget of summaries, oldest dropped first', () => {
    const budget = 1 << 20;
    const hub = new Hub({ history: 86_400, historyBytes: budget, highWaterBytes: 1 << 20, maxLagMs: 10_000, closeGraceMs: 5000 });
    for (let i = 0; i < 2000; i++) pubSummary(hub, summary(T0 + i, 100));
    const held = hub.history.reduce((n, e) => n + e.buf.length + [...(e.variants?.values() ?? [])].reduce((m, v) => m + v.length, 0), 0);
    expect(held).toBeLessThanOrEqual(budget);
    expect(hub.history.length).toBeGreaterThan(10);
    expect(hub.history.length).toBeLessThan(2000);
    // the newest are kept, in order
    const seqs = hub.history.map((e) => e.seq);
    expect(seqs[seqs.length - 1]).toBe(2000);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 2000 - seqs.length + 1 + i));
    // variants asked for by hellos stay within the budget too
    for (let limit = 1; limit <= MAX_VARIANTS + 2; limit++) for (const e of hub.history) hub.bufFor(e, limit);
    const after = hub.history.reduce((n, e) => n + e.buf.length + [...(e.variants?.values() ?? [])].reduce((m, v) => m + v.length, 0), 0);
    expect(after).toBeLessThanOrEqual(budget);
    expect(hub.historyBytes).toBe(after);
  });

  it('the count limit still applies under the budget, and the default budget is 64 MiB', () => {
    const hub = new Hub({ history: 5, highWaterBytes: 1 << 20, maxLagMs: 10_000, closeGraceMs: 5000 });
    for (let i = 0; i < 20; i++) pubSummary(hub, summary(T0 + i, 3));
    expect(hub.history.map((e) => e.seq)).toEqual([16, 17, 18, 19, 20]);
    expect(HISTORY_MAX_BYTES).toBe(64 * 1024 * 1024);
  });
});
