// The fan-out's per-summary cache of hosts-limited copies, with in-memory clients: whatever
// hosts limits clients ask for (at connect or through subscribe), each summary keeps at most
// MAX_VARIANTS copies, the limits most clients use are encoded once and shared, and every
// client still gets exactly the summary cut to its own limit.

import type { Buffer } from 'node:buffer';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { FeedClient, Hub, MAX_VARIANTS, type Entry } from '../../src/feed/hub.js';
import { ALL_TOPICS_MASK } from '../../src/feed/messages.js';
import { summaryMessage } from '../../src/schema.js';
import { expected, pubSummary, summary } from './helpers.js';

const T0 = 1_700_000_000;
const HOSTS = 200;

/** A client whose socket keeps up and records the buffers it was sent. */
function client(hosts: number): FeedClient & { got: Buffer[] } {
  const got: Buffer[] = [];
  const ws = { bufferedAmount: 0, send: (b: Buffer) => got.push(b) } as unknown as WebSocket;
  return Object.assign(new FeedClient(ws, ALL_TOPICS_MASK, hosts), { got });
}

function variantCount(hub: Hub): number {
  return hub.history.reduce((n, e: Entry) => n + (e.variants?.size ?? 0), 0);
}

describe('hosts-limited summary copies', () => {
  it('stay at most MAX_VARIANTS per summary however many distinct limits clients ask for', () => {
    const hub = new Hub({ history: 30, highWaterBytes: 1 << 20, maxLagMs: 10_000, closeGraceMs: 5000 });
    for (let i = 0; i < 30; i++) pubSummary(hub, summary(T0 + i, HOSTS));
    // the repro: one client per limit 0..199, each reading a hello with the whole history
    for (let limit = 0; limit < HOSTS; limit++) {
      for (const e of hub.history) {
        const buf = hub.bufFor(e, limit);
        if (e.seq % 10 !== 0) continue; // content checked on a few summaries (parsing all is slow)
        const full = expected(summaryMessage(summary(T0 + e.seq - 1, HOSTS)), e.seq) as { hosts: unknown[] };
        expect(JSON.parse(buf.toString('utf8'))).toEqual({ ...full, hosts: full.hosts.slice(0, limit) });
      }
    }
    for (const e of hub.history) expect(e.variants?.size ?? 0).toBeLessThanOrEqual(MAX_VARIANTS);
    expect(variantCount(hub)).toBeLessThanOrEqual(30 * MAX_VARIANTS);
  });

  it('encodes the limits most connected clients use once and shares them; rare ones are cut per client', () => {
    const hub = new Hub({ history: 10, highWaterBytes: 1 << 20, maxLagMs: 10_000, closeGraceMs: 5000 });
    // the rare limits connect first, so first-come caching alone would pick them
    const rare = Array.from({ length: 50 }, (_, i) => client(100 + i));
    const common = [5, 5, 5, 3, 3, 3, 7, 7, 7, 9, 9, 9, 9].map(client);
    const all = [...rare, ...common];
    for (const c of all) hub.clients.add(c);
    const m = pubSummary(hub, summary(T0, HOSTS));
    const e = hub.history[0];
    if (e === undefined) throw new Error('no history');
    expect([...(e.variants?.keys() ?? [])].sort((a, b) => a - b)).toEqual([3, 5, 7, 9]);
    const full = expected(m, 1) as { hosts: unknown[] };
    for (const c of all) {
      expect(c.got).toHaveLength(1);
      expect(JSON.parse(c.got[0]?.toString('utf8') ?? '')).toEqual({ ...full, hosts: full.hosts.slice(0, c.hosts) });
    }
    // one shared buffer per common limit (the same bytes go to each of its clients)
    for (const limit of [3, 5, 7, 9]) {
      const bufs = new Set(common.filter((c) => c.hosts === limit).map((c) => c.got[0]));
      expect(bufs.size).toBe(1);
      expect([...bufs][0]).toBe(e.variants?.get(limit));
    }
  });
});
