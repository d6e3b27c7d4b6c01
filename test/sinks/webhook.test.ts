// The webhook sink against a real local HTTP server (node:http): delivery, retry after a
// 500, a timeout, and dead or silent endpoints that never stall the caller.
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookSink } from '../../src/sinks/webhook.js';
import { closeServers, json, raiseAndResolve, serve } from './helpers.js';

afterEach(closeServers);

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fast = { backoffMs: 20, maxBackoffMs: 100 };

describe('webhook', () => {
  it('POSTs JSON with a Slack-compatible text and the full alert, in order', async () => {
    const got: { method: string; type: string; body: string }[] = [];
    const { url } = await serve((req, body, res) => {
      got.push({ method: req.method ?? '', type: req.headers['content-type'] ?? '', body });
      res.end('ok');
    });
    const [r, s] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 2, queue: 10 }, 'edge-1', fast);
    sink.publish(r, json(r));
    sink.publish(s, json(s));
    await sink.close();
    expect(got).toHaveLength(2);
    const bodies = got.map((g) => JSON.parse(g.body) as { text: string; alert: unknown });
    expect(got[0]).toMatchObject({ method: 'POST', type: 'application/json' });
    expect(bodies[0]?.text).toBe('[edge-1] 2023-11-14 22:13:20Z RAISED   critical zscore Host_Bytes_Spike: spike');
    expect(bodies[0]?.alert).toEqual(JSON.parse(json(r)));
    expect(bodies[1]?.alert).toEqual(JSON.parse(json(s)));
    expect(sink.stats).toMatchObject({ delivered: 2, failed: 0, dropped: 0, retries: 0 });
  });

  it('retries after a 500 and delivers', async () => {
    let calls = 0;
    const { url } = await serve((_req, _body, res) => {
      calls++;
      res.statusCode = calls === 1 ? 500 : 204;
      res.end();
    });
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 3, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    expect(calls).toBe(2);
    expect(sink.stats).toMatchObject({ delivered: 1, failed: 0, retries: 1, lastError: 'HTTP 500' });
  });

  it('does not retry a 4xx: the request itself is wrong', async () => {
    let calls = 0;
    const { url } = await serve((_req, _body, res) => {
      calls++;
      res.statusCode = 404;
      res.end();
    });
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 3, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    expect(calls).toBe(1);
    expect(sink.stats).toMatchObject({ delivered: 0, failed: 1, lastError: 'HTTP 404' });
  });

  it('times out a request that gets no answer, then retries', async () => {
    let calls = 0;
    const { url } = await serve((_req, _body, res) => {
      calls++;
      if (calls > 1) res.end('ok'); // the first request is left hanging
    });
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 200, retries: 2, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    expect(calls).toBe(2);
    expect(sink.stats).toMatchObject({ delivered: 1, retries: 1, lastError: 'timeout after 200 ms' });
  });

  it('never stalls on a dead endpoint: publish returns at once, the queue stays bounded, close gives up', async () => {
    // A port that was just free: connection refused.
    const { url, server } = await serve((_req, _body, res) => res.end());
    await new Promise<void>((r) => server.close(() => r()));
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 500, retries: 2, queue: 50 }, 's', { ...fast, closeTimeoutMs: 1000 });
    let ticks = 0;
    const tick = setInterval(() => ticks++, 5);
    for (let i = 0; i < 10_000; i++) sink.publish(r, json(r));
    expect(sink.stats.queued).toBeLessThanOrEqual(51);
    expect(sink.stats.dropped).toBeGreaterThanOrEqual(10_000 - 51);
    await new Promise((res) => setTimeout(res, 200));
    expect(ticks).toBeGreaterThan(5); // the event loop kept running meanwhile
    clearInterval(tick);
    await until(() => sink.stats.failed > 0);
    const t0 = Date.now();
    await sink.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sink.stats.failed).toBeGreaterThan(0);
    expect(sink.stats.lastError).toMatch(/ECONNREFUSED/);
    expect(sink.stats.delivered).toBe(0);
  });

  it('says why fetch refused a request, not only "fetch failed"', async () => {
    // port 9 is on fetch's list of blocked ports: no connection is even tried
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url: 'http://127.0.0.1:9/hook', timeoutMs: 500, retries: 0, queue: 5 }, 's', fast);
    sink.publish(r, json(r));
    await until(() => sink.stats.failed > 0);
    await sink.close();
    expect(sink.stats.lastError).toBe('fetch failed: bad port');
  });

  it('gives up on an endpoint that accepts but never answers, within the close timeout', async () => {
    const { url } = await serve(() => undefined);
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 60_000, retries: 5, queue: 10 }, 's', { ...fast, closeTimeoutMs: 300 });
    for (let i = 0; i < 3; i++) sink.publish(r, json(r));
    await until(() => sink.stats.queued > 0);
    const t0 = Date.now();
    await sink.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(sink.stats.delivered).toBe(0);
    expect(sink.stats.failed + sink.stats.dropped).toBe(3);
    // not "timeout after 60000 ms": 300 ms passed, and close() is what gave up
    expect(sink.stats.lastError).toBe('still pending when netpulse exited (gave up after 300 ms)');
  });
});
