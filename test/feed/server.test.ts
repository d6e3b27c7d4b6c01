// The feed server against real ws clients and real HTTP requests: hello snapshot, seq order,
// topics, hosts limits, serialise-once, token, origin and Host checks, malformed control
// messages, heartbeats and clean shutdown.

import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import type { Report } from '../../src/aggregate/summary.js';
import { SCHEMA_VERSION, type Message } from '../../src/schema.js';
import {
  REPORT,
  alert,
  connect,
  expected,
  fakeView,
  feedUrl,
  host,
  pub,
  pubAlert,
  pubSummary,
  refusedStatus,
  stats,
  summary,
} from './helpers.js';

const TOKEN = 'feedtesttoken-0123456789';
const T0 = 1_700_000_000;
const open: FeedSink[] = [];

async function start(over: Parameters<typeof feedConfig>[0] extends infer C ? Partial<C> : never = {}): Promise<FeedSink> {
  const sink = await startFeed(feedConfig({ port: 0, ...over }), fakeView());
  open.push(sink);
  return sink;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('hello and live messages', () => {
  it('greets with the last N summaries, the alerts still raised, the latest stats, then streams in seq order', async () => {
    const sink = await start({ history: 3 });
    const published: Message[] = [];
    for (let i = 0; i < 5; i++) published.push(pubSummary(sink, summary(T0 + i)));
    published.push(pubAlert(sink, alert('raised', 'k1', T0 + 2)));
    published.push(pubAlert(sink, alert('raised', 'k2', T0 + 3)));
    published.push(pubAlert(sink, alert('resolved', 'k1', T0 + 4, { since: T0 + 2 })));
    published.push(pub(sink, stats(50)));

    const c = await connect(feedUrl(sink.url));
    const hello = await c.waitFor((m) => m.type === 'hello');
    expect(hello).toMatchObject({
      type: 'hello',
      v: SCHEMA_VERSION,
      seq: 9,
      server: { name: 'netpulse' },
      source: { description: 'file test.pcap', clock: 'packet' },
      options: { speed: 'realtime', topHosts: 10 },
      topics: ['summary', 'gap', 'alert', 'stats', 'report', 'end'],
      hosts: null,
      end: null,
    });
    // oracle: the schema module's own serialisation of what was published, with its seq
    expect(hello.summaries).toEqual([2, 3, 4].map((i) => expected(published[i] as Message, i + 1)));
    expect(hello.alerts).toEqual([expected(published[6] as Message, 7)]);
    expect(hello.stats).toEqual(expected(published[8] as Message, 9));

    const live: Message[] = [
      pubSummary(sink, summary(T0 + 5)),
      pub(sink, { type: 'gap', v: SCHEMA_VERSION, from: T0 + 6, to: T0 + 100 }),
      pub(sink, stats(60)),
      pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null }),
    ];
    await c.waitFor((m) => m.type === 'end');
    expect(c.messages.slice(1)).toEqual(live.map((m, i) => expected(m, 10 + i)));
    // a client arriving after the end learns it from hello
    const late = await connect(feedUrl(sink.url));
    const hello2 = await late.waitFor((m) => m.type === 'hello');
    expect(hello2.end).toEqual(expected(live[3] as Message, 13));
    expect((hello2.summaries as unknown[]).length).toBe(3);
    c.ws.close();
    late.ws.close();
  });

  it('delivers a hello whose history is megabytes (sent in fragments that share the encoded messages)', async () => {
    const sink = await start({ history: 20 });
    const published = Array.from({ length: 25 }, (_, i) => pubSummary(sink, summary(T0 + i, 2000)));
    const c = await connect(feedUrl(sink.url));
    const hello = await c.waitFor((m) => m.type === 'hello');
    expect(hello.summaries).toEqual(published.slice(5).map((m, i) => expected(m, i + 6)));
    // and in the browser's other option, a hosts limit, the variants are made once each
    const d = await connect(feedUrl(sink.url, '?hosts=3'));
    const h2 = await d.waitFor((m) => m.type === 'hello');
    expect((h2.summaries as { hosts: unknown[]; seq: number }[]).map((s) => [s.seq, s.hosts.length])).toEqual(
      published.slice(5).map((_, i) => [i + 6, 3]),
    );
    c.ws.close();
    d.ws.close();
  });

  it('sends only the topics a client picked, and a subscribe message changes them', async () => {
    const sink = await start();
    pubSummary(sink, summary(T0));
    const c = await connect(feedUrl(sink.url, '?topics=alert,end'));
    const hello = await c.waitFor((m) => m.type === 'hello');
    expect(hello.topics).toEqual(['alert', 'end']);
    expect(hello.summaries).toEqual([]);
    pubSummary(sink, summary(T0 + 1));
    pub(sink, stats(1));
    const a = pubAlert(sink, alert('raised', 'x', T0 + 1));
    await c.waitFor((m) => m.type === 'alert');
    expect(c.messages.map((m) => m.type)).toEqual(['hello', 'alert']);
    expect(c.messages[1]).toEqual(expected(a, 4));

    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['summary'], hosts: 1 }));
    const hello2 = await c.waitFor((m) => m.type === 'hello' && m !== hello);
    expect(hello2.topics).toEqual(['summary']);
    expect(hello2.hosts).toBe(1);
    expect((hello2.summaries as { hosts: unknown[] }[]).map((s) => s.hosts.length)).toEqual([1, 1]);
    expect(hello2.alerts).toEqual([]);
    pubAlert(sink, alert('resolved', 'x', T0 + 2));
    const s = pubSummary(sink, summary(T0 + 2));
    const got = await c.waitFor((m) => m.type === 'summary');
    expect(got.seq).toBe(6);
    expect(got.hosts).toEqual((s as { hosts: unknown[] }).hosts.slice(0, 1));
    expect(c.messages.filter((m) => m.type === 'alert')).toHaveLength(1);
    c.ws.close();
  });

  it('cuts summaries to the hosts each client asked for', async () => {
    const sink = await start();
    const clients = await Promise.all(['?hosts=2', '?hosts=0', '', '?hosts=50'].map((q) => connect(feedUrl(sink.url, q))));
    const m = pubSummary(sink, summary(T0, 5));
    const got = await Promise.all(clients.map((c) => c.waitFor((x) => x.type === 'summary')));
    const full = expected(m, 1) as { hosts: unknown[] };
    expect(got[0]).toEqual({ ...full, hosts: full.hosts.slice(0, 2) });
    expect(got[1]).toEqual({ ...full, hosts: [] });
    expect(got[2]).toEqual(full);
    expect(got[3]).toEqual(full);
    for (const c of clients) c.ws.close();
  });

  it('serialises each message once per distinct hosts limit, not once per client', async () => {
    const sink = await start();
    const clients = await Promise.all(
      Array.from({ length: 30 }, (_, i) => connect(feedUrl(sink.url, i % 3 === 0 ? '' : i % 3 === 1 ? '?hosts=1' : '?hosts=2'))),
    );
    const m = summaryMessageOf(summary(T0, 5));
    const json = JSON.stringify(m);
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      sink.publish(m, json);
      // the full text is the pipeline's; one variant each for hosts=1 and hosts=2
      expect(spy.mock.calls.length).toBe(2);
    } finally {
      spy.mockRestore();
    }
    await Promise.all(clients.map((c) => c.waitFor((x) => x.type === 'summary')));
    for (const c of clients) c.ws.close();
  });

  it('refuses unknown topics and bad host counts at the handshake', async () => {
    const sink = await start();
    expect(await refusedStatus(feedUrl(sink.url, '?topics=summary,bogus'))).toBe(400);
    expect(await refusedStatus(feedUrl(sink.url, '?hosts=-1'))).toBe(400);
    expect(await refusedStatus(feedUrl(sink.url, '?hosts=99999'))).toBe(400);
    expect(await refusedStatus(`${sink.url.replace('http', 'ws')}other`)).toBe(404);
  });
});

function summaryMessageOf(s: ReturnType<typeof summary>): Message {
  return { type: 'summary', v: SCHEMA_VERSION, ...s };
}

describe('who may connect', () => {
  it('requires the token when one is set: Bearer header or ?token=, compared exactly', async () => {
    const sink = await start({ token: TOKEN });
    expect(await refusedStatus(feedUrl(sink.url))).toBe(401);
    expect(await refusedStatus(feedUrl(sink.url, `?token=${TOKEN}x`))).toBe(401);
    expect(await refusedStatus(feedUrl(sink.url, `?token=${TOKEN.slice(0, -1)}`))).toBe(401);
    expect(await refusedStatus(feedUrl(sink.url), { headers: { Authorization: 'Bearer nope' } })).toBe(401);
    const a = await connect(feedUrl(sink.url, `?token=${TOKEN}`));
    const b = await connect(feedUrl(sink.url), { headers: { Authorization: `Bearer ${TOKEN}` } });
    await a.waitFor((m) => m.type === 'hello');
    await b.waitFor((m) => m.type === 'hello');
    for (const path of ['metrics', 'api/summary', 'api/hosts']) {
      const no = await fetch(`${sink.url}${path}`);
      expect(no.status).toBe(401);
      expect(no.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${sink.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${sink.url}${path}?token=${TOKEN}`)).status).toBe(200);
    }
    // the dashboard's files and the health check carry no data and stay public
    expect((await fetch(sink.url)).status).toBe(200);
    expect((await fetch(`${sink.url}healthz`)).status).toBe(200);
    a.ws.close();
    b.ws.close();
  });

  it('will not serve a non-loopback address without a token (and does not bind)', async () => {
    await expect(startFeed({ ...feedConfig({ port: 0 }), host: '0.0.0.0' }, fakeView())).rejects.toMatchObject({
      code: 'ERR_TOKEN_REQUIRED',
    });
    await expect(startFeed({ ...feedConfig({ port: 0 }), host: '::' }, fakeView())).rejects.toMatchObject({
      code: 'ERR_TOKEN_REQUIRED',
    });
  });

  it('refuses browser origins other than its own and the allowed ones', async () => {
    const sink = await start({ allowOrigins: ['https://grafana.example:3000'] });
    const self = new URL(sink.url).origin;
    expect(await refusedStatus(feedUrl(sink.url), { origin: 'http://evil.example' })).toBe(403);
    expect(await refusedStatus(feedUrl(sink.url), { origin: 'http://localhost:1' })).toBe(403);
    expect(await refusedStatus(feedUrl(sink.url), { origin: 'null' })).toBe(403);
    const same = await connect(feedUrl(sink.url), { origin: self });
    const allowed = await connect(feedUrl(sink.url), { origin: 'https://grafana.example:3000' });
    await same.waitFor((m) => m.type === 'hello');
    await allowed.waitFor((m) => m.type === 'hello');
    same.ws.close();
    allowed.ws.close();
  });

  it('on a loopback bind, refuses requests addressed to a non-local name (DNS rebinding)', async () => {
    const sink = await start();
    const port = new URL(sink.url).port;
    const { request } = await import('node:http');
    const status = (hostHeader: string, path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: { Host: hostHeader } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`attacker.example:${port}`, '/api/summary')).toBe(403);
    expect(await status(`attacker.example:${port}`, '/')).toBe(403);
    expect(await status(`localhost:${port}`, '/api/summary')).toBe(200);
    expect(await status(`127.0.0.1:${port}`, '/api/summary')).toBe(200);
    expect(await refusedStatus(feedUrl(sink.url), { headers: { Host: `attacker.example:${port}` } })).toBe(403);
  });

  it('refuses connections beyond maxClients with 503', async () => {
    const sink = await start({ maxClients: 2 });
    const a = await connect(feedUrl(sink.url));
    const b = await connect(feedUrl(sink.url));
    expect(await refusedStatus(feedUrl(sink.url))).toBe(503);
    a.ws.close();
    b.ws.close();
  });
});

describe('bad client input closes only that client', () => {
  const cases: [string, (ws: import('ws').WebSocket) => void, number][] = [
    ['not JSON', (ws) => ws.send('{nope'), 1008],
    ['a JSON array', (ws) => ws.send('[1,2]'), 1008],
    ['an unknown type', (ws) => ws.send('{"type":"shutdown"}'), 1008],
    ['an unknown topic', (ws) => ws.send('{"type":"subscribe","topics":["secrets"]}'), 1008],
    ['a bad hosts count', (ws) => ws.send('{"type":"subscribe","hosts":1.5}'), 1008],
    ['an unknown field', (ws) => ws.send('{"type":"subscribe","eval":"x"}'), 1008],
    ['a binary frame', (ws) => ws.send(Buffer.from([1, 2, 3])), 1003],
    ['a message over maxPayload', (ws) => ws.send(`{"type":"subscribe","topics":[],"x":"${'a'.repeat(5000)}"}`), 1009],
  ];
  for (const [what, send, code] of cases) {
    it(`closes a client that sends ${what} with ${code}`, async () => {
      const sink = await start();
      const bad = await connect(feedUrl(sink.url));
      const good = await connect(feedUrl(sink.url));
      await bad.waitFor((m) => m.type === 'hello');
      send(bad.ws);
      const closed = await bad.closed;
      expect(closed.code).toBe(code);
      if (code !== 1009) expect(closed.reason.length).toBeGreaterThan(0);
      const m = pubSummary(sink, summary(T0));
      expect(await good.waitFor((x) => x.type === 'summary')).toEqual(expected(m, 1));
      good.ws.close();
    });
  }

  it('closes a client that floods control messages', async () => {
    const sink = await start();
    const c = await connect(feedUrl(sink.url));
    for (let i = 0; i < 30; i++) c.ws.send('{"type":"subscribe"}');
    expect((await c.closed).code).toBe(1008);
  });
});

describe('connection lifetime', () => {
  it('terminates a client that stops answering heartbeat pings, keeps one that answers', async () => {
    const sink = await start({ heartbeatMs: 100 });
    const deaf = await connect(feedUrl(sink.url), { autoPong: false });
    const fine = await connect(feedUrl(sink.url));
    const closed = await deaf.closed;
    expect(closed.code).toBe(1006); // terminated: no close frame for a dead peer
    expect(fine.ws.readyState).toBe(fine.ws.OPEN);
    const metrics = await (await fetch(`${sink.url}metrics`)).text();
    expect(metrics).toMatch(/^netpulse_feed_disconnects_total\{reason="heartbeat"\} 1$/m);
    fine.ws.close();
  });

  it('close() sends every client a close frame 1001 and releases the port', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    const port = Number(new URL(sink.url).port);
    const clients = await Promise.all([0, 1, 2].map(() => connect(feedUrl(sink.url))));
    await sink.close();
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    const probe = createServer();
    probe.listen(port, '127.0.0.1');
    await once(probe, 'listening');
    probe.close();
    await sink.close(); // idempotent
  });

  it('serves on IPv6 loopback with a bracketed URL', async () => {
    const sink = await start({ host: '::1' });
    expect(sink.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
    const c = await connect(feedUrl(sink.url));
    await c.waitFor((m) => m.type === 'hello');
    expect((await fetch(`${sink.url}healthz`)).status).toBe(200);
    c.ws.close();
  });

  it('reports a port in use as ERR_LISTEN', async () => {
    const sink = await start();
    const port = Number(new URL(sink.url).port);
    await expect(startFeed(feedConfig({ port }), fakeView())).rejects.toMatchObject({ code: 'ERR_LISTEN' });
  });
});

describe('HTTP endpoints', () => {
  it('serves /healthz, /api/summary and /api/hosts from the view and the feed', async () => {
    const view = fakeView();
    const sink = await startFeed(feedConfig({ port: 0 }), view);
    open.push(sink);
    const s = pubSummary(sink, summary(T0, 4));
    const health = (await (await fetch(`${sink.url}healthz`)).json()) as Record<string, unknown>;
    expect(health).toEqual({ status: 'ok', seq: 1, clients: 0, ended: false });
    const api = (await (await fetch(`${sink.url}api/summary?hosts=2`)).json()) as Record<string, unknown>;
    expect(api.report).toEqual({ type: 'report', v: 1, ...REPORT, hosts: REPORT.hosts.slice(0, 2) });
    expect(api.last).toEqual({ ...(expected(s, 1) as object), hosts: (s as { hosts: unknown[] }).hosts.slice(0, 2) });
    expect(api).toMatchObject({ v: 1, seq: 1, ended: false, source: { description: 'file test.pcap', clock: 'packet' } });
    const hosts = (await (await fetch(`${sink.url}api/hosts?limit=3`)).json()) as Record<string, unknown>;
    expect(hosts).toEqual({ v: 1, hostsTracked: 42, evictedHosts: 7, hosts: REPORT.hosts.slice(0, 3) });
    expect((await fetch(`${sink.url}api/hosts?limit=x`)).status).toBe(400);
    expect((await fetch(`${sink.url}nope`)).status).toBe(404);
    expect((await fetch(`${sink.url}feed`)).status).toBe(426);
    expect((await fetch(`${sink.url}api/summary`, { method: 'POST' })).status).toBe(405);
    const page = await fetch(sink.url);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/assets/uplot.js');
    for (const a of ['app.js', 'style.css', 'uplot.js', 'uplot.css']) {
      const r = await fetch(`${sink.url}assets/${a}`);
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(500);
    }
  });

  it('/api/summary?hosts=all lists every host the report has (capped at its reportHosts), the default 10', async () => {
    const many: Report = { ...REPORT, hosts: Array.from({ length: 15 }, (_, i) => host(i, 20_000 - i)) };
    const get = async (sink: FeedSink, q: string): Promise<{ report: Report; last: { hosts: unknown[] } }> =>
      (await (await fetch(`${sink.url}api/summary${q}`)).json()) as { report: Report; last: { hosts: unknown[] } };
    // shown options without reportHosts (a library user): all the analyzer has
    const plain = await startFeed(feedConfig({ port: 0 }), fakeView(many));
    open.push(plain);
    pubSummary(plain, summary(T0, 15));
    const all = await get(plain, '?hosts=all');
    expect(all.report.hosts).toEqual(many.hosts);
    expect(all.last.hosts).toHaveLength(15);
    expect((await get(plain, '')).report.hosts).toEqual(many.hosts.slice(0, 10));
    expect((await get(plain, '?hosts=12')).report.hosts).toEqual(many.hosts.slice(0, 12));
    // the CLI shows its --hosts as reportHosts: all means the report's own list
    for (const [reportHosts, n] of [[12, 12], ['all', 15]] as const) {
      const sink = await startFeed(feedConfig({ port: 0 }), { ...fakeView(many), options: { reportHosts } });
      open.push(sink);
      expect((await get(sink, '?hosts=all')).report.hosts).toEqual(many.hosts.slice(0, n));
    }
  });

  it('answers 500 (and keeps serving) when the view throws', async () => {
    const view = { ...fakeView(), snapshot: (): never => { throw new Error('boom'); } };
    const sink = await startFeed(feedConfig({ port: 0 }), view);
    open.push(sink);
    expect((await fetch(`${sink.url}metrics`)).status).toBe(500);
    expect((await fetch(`${sink.url}healthz`)).status).toBe(200);
  });
});
