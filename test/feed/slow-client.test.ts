// Slow and stalled clients: the server never buffers without bound for them, skips them to
// the newest summary with a `lagged` notice, closes them with 4001 if they stay behind (and
// terminates them if they do not read that either), and other clients get every message in
// order meanwhile. The stalled peer is a raw TCP socket that completes the RFC 6455 handshake
// and then never reads.

import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { alert, connect, fakeView, feedUrl, pubAlert, pubSummary, summary } from './helpers.js';

const T0 = 1_700_000_000;
const open: FeedSink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Open /feed with a raw socket and stop reading once the 101 arrived. */
async function stalledPeer(url: string, opts: { recvBuffer?: number } = {}): Promise<{ sock: Socket; closed: Promise<void> }> {
  const u = new URL(url);
  const sock = tcpConnect({ host: u.hostname, port: Number(u.port) });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => undefined);
  sock.write(
    `GET /feed HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => {
    sock.once('data', (d: Buffer) => {
      expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
      resolve();
    });
  });
  sock.pause(); // from here on the kernel buffers fill and the server must cope
  void opts;
  return { sock, closed };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing`);
  return Number(m[1]);
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A feed client, past its hello, whose socket has stopped reading (resume() it later). */
async function pausedClient(url: string): Promise<{ client: Awaited<ReturnType<typeof connect>>; sock: Socket }> {
  let raw: Socket | null = null;
  const client = await connect(feedUrl(url), {
    createConnection: (opts) => {
      raw = tcpConnect(opts as Parameters<typeof tcpConnect>[0]);
      return raw;
    },
  });
  await client.waitFor((m) => m.type === 'hello');
  const sock = raw as Socket | null;
  if (sock === null) throw new Error('no socket');
  sock.pause();
  return { client, sock };
}

describe('slow and stalled clients', () => {
  it('keeps memory bounded for a client that never reads, cuts it off, and others get everything in order', async () => {
    const highWater = 256 * 1024;
    const sink = await startFeed(feedConfig({ port: 0, highWaterBytes: highWater, maxLagMs: 1500, closeGraceMs: 1000 }), fakeView());
    open.push(sink);
    const stalled = await Promise.all([0, 1, 2].map(() => stalledPeer(sink.url)));
    const good = await connect(feedUrl(sink.url));
    await good.waitFor((m) => m.type === 'hello');

    // ~200 kB per summary (2,000 hosts); 400 of them is ~80 MB per stalled client if buffered.
    const big = summary(T0, 2000);
    let peakBuffered = 0;
    for (let i = 0; i < 400; i++) {
      pubSummary(sink, { ...big, ts: T0 + i });
      // a reading client keeps up (in-process, it reads only when the test yields)
      await good.waitFor((m) => m.seq === i + 1);
      if (i % 20 === 19) {
        peakBuffered = Math.max(peakBuffered, await metric(sink.url, 'netpulse_feed_buffered_bytes'));
      }
    }
    const last = await good.waitFor((m) => m.type === 'summary' && m.seq === 400, 20_000);
    expect(last.ts).toBe(T0 + 399);
    const seqs = good.messages.filter((m) => m.type === 'summary').map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(good.messages.some((m) => m.type === 'lagged')).toBe(false);

    // Bounded: ws's own count of queued bytes says each stalled client holds at most the
    // high-water mark plus one message in user space (the rest waits in kernel socket
    // buffers), far below the 80 MB sent. The process's RSS is measured by npm run bench:feed.
    const bound = 3 * (highWater + 250_000) + 2 * 250_000;
    expect(peakBuffered).toBeLessThan(bound);

    // They stay behind, so they are disconnected after maxLagMs; the metric says why.
    const deadline = Date.now() + 10_000;
    while ((await metric(sink.url, 'netpulse_feed_clients')) !== 1 && Date.now() < deadline) await tick(100);
    expect(await metric(sink.url, 'netpulse_feed_clients')).toBe(1);
    // and the peers see their connection end once they read again
    for (const s of stalled) s.sock.resume();
    await Promise.all(stalled.map((s) => s.closed));
    const text = await (await fetch(`${sink.url}metrics`)).text();
    expect(text).toMatch(/^netpulse_feed_disconnects_total\{reason="slow"\} 3$/m);
    expect(await metric(sink.url, 'netpulse_feed_skipped_messages_total')).toBeGreaterThan(100);
    good.ws.close();
    for (const s of stalled) s.sock.destroy();
  }, 60_000);

  it('closes a client behind for longer than the limit with 4001, which it reads once it resumes; a dead one is dropped after the grace period', async () => {
    const sink = await startFeed(
      feedConfig({ port: 0, highWaterBytes: 64 * 1024, maxLagMs: 500, closeGraceMs: 3000 }),
      fakeView(),
    );
    open.push(sink);
    const { client: slow, sock } = await pausedClient(sink.url);
    const dead = await stalledPeer(sink.url);

    const big = summary(T0, 2000);
    for (let i = 0; i < 100 && (await metric(sink.url, 'netpulse_feed_lagged_total')) < 2; i++) {
      for (let j = 0; j < 10; j++) pubSummary(sink, { ...big, ts: T0 + i * 10 + j });
      await tick(2);
    }
    expect(await metric(sink.url, 'netpulse_feed_lagged_total')).toBe(2);
    // both stay behind past maxLagMs: the server gives up on them
    const deadline = Date.now() + 5000;
    while (!/^netpulse_feed_disconnects_total\{reason="slow"\} 2$/m.test(await (await fetch(`${sink.url}metrics`)).text())) {
      if (Date.now() > deadline) throw new Error('not disconnected as slow');
      await tick(50);
    }
    // the one that reads again gets what was queued, then the documented close code
    sock.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4001);
    expect(closed.reason).toMatch(/^too slow/);
    // the one that never reads is terminated after the grace period, freeing its buffers
    const gone = Date.now() + 6000;
    while ((await metric(sink.url, 'netpulse_feed_clients')) !== 0) {
      if (Date.now() > gone) throw new Error('the dead client was not terminated');
      await tick(100);
    }
    dead.sock.destroy();
  }, 30_000);

  it('skips a client that paused to the newest summary with a lagged notice, and still delivers every alert', async () => {
    const sink = await startFeed(feedConfig({ port: 0, highWaterBytes: 64 * 1024, maxLagMs: 30_000 }), fakeView());
    open.push(sink);
    const { client: slow, sock } = await pausedClient(sink.url);

    const big = summary(T0, 2000);
    let n = 0;
    const alertSeqs: number[] = [];
    for (let i = 0; i < 150; i++) {
      pubSummary(sink, { ...big, ts: T0 + i });
      n++;
      if (i % 10 === 5) {
        pubAlert(sink, alert('raised', `k${i}`, T0 + i));
        alertSeqs.push(++n);
      }
      if (i % 10 === 9) await tick(2);
    }
    expect(await metric(sink.url, 'netpulse_feed_lagged_total')).toBe(1);
    sock.resume();
    const lagged = await slow.waitFor((m) => m.type === 'lagged', 20_000);
    const lastSummary = await slow.waitFor((m) => m.type === 'summary' && m.ts === T0 + 149, 20_000);
    expect(lagged.skipped).toBeGreaterThan(0);
    // nothing it received is out of order, and every alert arrived exactly once
    const seqs = slow.messages.filter((m) => typeof m.seq === 'number' && m.type !== 'hello').map((m) => m.seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(slow.messages.filter((m) => m.type === 'alert').map((m) => m.seq)).toEqual(alertSeqs);
    // what was skipped plus what arrived is everything published
    const summaries = slow.messages.filter((m) => m.type === 'summary').length;
    expect(summaries + (lagged.skipped as number)).toBe(150);
    expect(lastSummary.seq).toBe(n);
    // after catching up it streams normally again
    pubSummary(sink, summary(T0 + 150));
    const after = await slow.waitFor((m) => m.type === 'summary' && m.ts === T0 + 150);
    expect(after.seq).toBe(n + 1);
    slow.ws.close();
  }, 60_000);
});
