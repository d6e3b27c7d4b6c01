// The HTTP alert sinks (--webhook, --alertmanager) against misbehaving local endpoints on
// 127.0.0.1: redirects, endless response bodies, 429 with Retry-After, a server that
// closes the connection, and the counts of the end-of-run line, which are of alerts (an
// Alertmanager request carries several). Oracles: what the test's own servers received
// and sent, and the number of alerts the test published.
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alertSinkProblems } from '../../src/sinks/alert-sinks.js';
import { AlertmanagerSink, alertsEndpoint } from '../../src/sinks/alertmanager.js';
import { WebhookSink } from '../../src/sinks/webhook.js';
import { alertmanagerWanted, closeServers, closeWithin, json, raiseAndResolve, serve, startAlertmanager, type RunningAlertmanager } from './helpers.js';

afterEach(closeServers);

const fast = { backoffMs: 10, maxBackoffMs: 50 };

describe('webhook: redirects', () => {
  it.each([301, 302, 303, 307, 308])('a %i is a failure, not a delivery: the alert reaches no one', async (code) => {
    const atTarget: string[] = [];
    const target = await serve((req, body, res) => {
      atTarget.push(`${req.method ?? ''} ${body.length}`);
      res.end('ok');
    });
    let calls = 0;
    const { url } = await serve((_req, _body, res) => {
      calls++;
      res.statusCode = code;
      res.setHeader('location', target.url);
      res.end();
    });
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 2, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    // 301/302/303 made fetch send a GET without the alert elsewhere and count its 200 as delivered
    expect(atTarget).toEqual([]);
    expect(calls).toBe(1); // a wrong URL: retrying does not make it right
    expect(sink.stats).toMatchObject({ delivered: 0, failed: 1 });
    expect(sink.stats.lastError).toBe(`HTTP ${code} redirect, not followed (give the URL it points to)`);
    expect(alertSinkProblems([sink])[0]).toContain(`redirect, not followed`);
  });
});

describe('webhook: response bodies', () => {
  it('a 2xx with an endless body is delivered at once, and the body is not read to the end', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', () => {
        written += chunk.length;
        pump();
      });
      pump();
    });
    const [r] = raiseAndResolve('10.0.0.5');
    const timeoutMs = 1500;
    const sink = new WebhookSink({ url, timeoutMs, retries: 2, queue: 10 }, 's', fast);
    const t0 = Date.now();
    sink.publish(r, json(r));
    await sink.close();
    const took = Date.now() - t0;
    expect(sink.stats).toMatchObject({ delivered: 1, failed: 0, retries: 0 });
    // it was read until the timeout, hundreds of MB in memory (GBs with the default 5 s)
    expect(took).toBeLessThan(timeoutMs / 2);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('webhook: 429 with Retry-After', () => {
  it('waits as long as the server asks before trying again', async () => {
    const times: number[] = [];
    const { url } = await serve((_req, _body, res) => {
      times.push(Date.now());
      const first = times[0] ?? 0;
      if (Date.now() - first < 900) {
        res.statusCode = 429;
        res.setHeader('retry-after', '1');
        res.end('slow down');
      } else res.end('ok');
    });
    const [r] = raiseAndResolve('10.0.0.5');
    // backoff 10, 20 ms: all three attempts fell within the second the server asked for
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 2, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    expect(sink.stats).toMatchObject({ delivered: 1, failed: 0, retries: 1, lastError: 'HTTP 429' });
    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });
});

describe('webhook: error words', () => {
  it('a connection the server closes without answering is said in words, not only UND_ERR_SOCKET', async () => {
    const { url } = await serve((req) => req.socket.destroy());
    const [r] = raiseAndResolve('10.0.0.5');
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 1, queue: 10 }, 's', fast);
    sink.publish(r, json(r));
    await sink.close();
    expect(sink.stats).toMatchObject({ delivered: 0, failed: 1, retries: 1 });
    expect(sink.stats.lastError).toBe('UND_ERR_SOCKET (other side closed)');
  });
});

describe('alertmanager: counts are of alerts, not requests', () => {
  const raises = (n: number): ReturnType<typeof raiseAndResolve>[0][] =>
    Array.from({ length: n }, (_, i) => raiseAndResolve(`10.0.1.${i + 1}`)[0]);

  it('alerts still queued when netpulse stopped waiting: all of them are said', async () => {
    let received = 0;
    const { port } = await serve((_req, body) => {
      received += (JSON.parse(body) as unknown[]).length; // never answered
    });
    const sink = new AlertmanagerSink({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000, retries: 3, queue: 1000, resendSeconds: 60 }, 's');
    const batch = raises(7); // one second's alerts: one request
    for (const a of batch) sink.publish(a, json(a));
    await new Promise((r) => setTimeout(r, 100));
    const more = raises(3);
    for (const a of more) sink.publish(a, json(a));
    await closeWithin(sink, 300);
    expect(received).toBe(7);
    expect(sink.stats.delivered).toBe(0);
    const lines = alertSinkProblems([sink]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alertmanager: 0 delivered, 0 failed, 0 dropped, /);
    expect(lines[0]).toContain(', 10 not sent (still queued');
  });

  it('a full queue drops whole requests and counts every alert in them; delivered and failed likewise', async () => {
    const { port } = await serve((_req, _body, res) => {
      res.statusCode = 400; // refused: not retried
      setTimeout(() => res.end(), 150);
    });
    const sink = new AlertmanagerSink({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000, retries: 0, queue: 1, resendSeconds: 60 }, 's', fast);
    let published = 0;
    for (const n of [4, 5, 6]) {
      for (const a of raises(n)) sink.publish(a, json(a));
      published += n;
      await new Promise((r) => setTimeout(r, 20)); // each its own request
    }
    await sink.close();
    // 4 in flight (failed), 5 pushed out of the one-place queue by 6 (dropped), 6 failed
    expect(sink.stats).toMatchObject({ delivered: 0, failed: 10, dropped: 5, queued: 0 });
    expect(sink.stats.failed + sink.stats.dropped).toBe(published);
  });
});

describe('alertmanager: endpoint from a base URL', () => {
  it('keeps a query and drops a fragment instead of appending the path to them', () => {
    expect(alertsEndpoint('http://127.0.0.1:9093/?tenant=a')).toBe('http://127.0.0.1:9093/api/v2/alerts?tenant=a');
    expect(alertsEndpoint('http://127.0.0.1:9093/#top')).toBe('http://127.0.0.1:9093/api/v2/alerts');
    expect(alertsEndpoint('http://[::1]:9093/am/')).toBe('http://[::1]:9093/am/api/v2/alerts');
    expect(alertsEndpoint('http://127.0.0.1:9093/api/v2/alerts/')).toBe('http://127.0.0.1:9093/api/v2/alerts');
  });
});

// ---- against a real Alertmanager ----

const amWanted = alertmanagerWanted('the real-Alertmanager HTTP edge tests');

describe.runIf(amWanted)('alertmanager (real, on loopback): base URLs with a query or fragment', () => {
  let am: RunningAlertmanager;

  async function untilActive(name: string, ms = 15_000): Promise<Record<string, string>> {
    const end = Date.now() + ms;
    for (;;) {
      const list = await fetch(`${am.base}/api/v2/alerts?active=true`)
        .then((r) => r.json() as Promise<{ labels: Record<string, string> }[]>)
        .catch(() => []);
      const a = list.find((x) => x.labels.alertname === name);
      if (a !== undefined) return a.labels;
      if (Date.now() > end) throw new Error(`Alertmanager did not list ${name} in time; its log:\n${am.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    am = await startAlertmanager();
  }, 30_000);

  afterAll(() => am?.stop());

  it.each([
    ['a fragment', '/#top', 'Edge_Fragment'],
    ['a query', '/?x=1', 'Edge_Query'],
  ])('a base URL with %s reaches the alerts endpoint (it was POSTed to / and refused, HTTP 405)', async (_what, suffix, note) => {
    const [r] = raiseAndResolve('::1', Math.floor(Date.now() / 1000) - 30, note);
    const sink = new AlertmanagerSink({ url: `${am.base}${suffix}`, timeoutMs: 2000, retries: 1, queue: 10, resendSeconds: 60 }, 'edge-v6');
    sink.publish(r, json(r));
    await sink.close();
    expect(sink.stats).toMatchObject({ delivered: 1, failed: 0, lastError: null });
    expect(await untilActive(note)).toMatchObject({ host: '::1', sensor: 'edge-v6' });
  });
});

describe('a URL with a password that does not parse', () => {
  // "http://user:hunter2@127.0.0.1:99999/" was echoed whole in the ERR_CONFIG line: the
  // redaction worked only on URLs that parse
  it.each([['--webhook', 'http://user:hunter2@127.0.0.1:99999/'], ['--alertmanager', 'http://user:hunter2@[::1/']])('%s %s: the error line does not show the password', (option, url) => {
    const r = spawnSync(process.execPath, ['dist/bin/netpulse.js', 'replay', 'pcaps/fx-arp-padding.pcap', '--json', option, url], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(option);
    expect(r.stderr).not.toContain('hunter2');
  });
});
