// alertSinkProblems() after a run whose outputs were not waited for to the end: after
// Ctrl-C or SIGTERM the command gives the sinks at most 5 s (run-analysis.ts), less than a
// webhook's own 2 x timeout + 1 s. Alerts still queued then are lost, and the end-of-run
// line must say so (README: "Failures and drops are counted and listed after the run").
// Oracle: the number of alerts published minus the number the endpoint received.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertmanagerSink } from '../../src/sinks/alertmanager.js';
import { alertSinkProblems } from '../../src/sinks/alert-sinks.js';
import { WebhookSink } from '../../src/sinks/webhook.js';
import { closeServers, closeWithin, json, listening, raiseAndResolve, serve } from './helpers.js';

/** An endpoint that reads requests and never answers (a hung receiver). */
async function silent(): Promise<{ url: string; received: () => number }> {
  let n = 0;
  const server = createServer((req) => {
    req.resume();
    req.on('end', () => n++);
  });
  const { port } = await listening(server);
  return { url: `http://127.0.0.1:${port}`, received: () => n };
}

afterEach(closeServers);

describe('alertSinkProblems after an interrupted close', () => {
  it('webhook: alerts still queued when netpulse stopped waiting are reported as lost', async () => {
    const { url, received } = await silent();
    const sink = new WebhookSink({ url: `${url}/hook`, timeoutMs: 5000, retries: 3, queue: 1000 }, 's');
    const alerts = [...raiseAndResolve('10.0.0.5'), ...raiseAndResolve('10.0.0.6')];
    for (const a of alerts) sink.publish(a, json(a));
    await closeWithin(sink, 300);
    expect(received()).toBeLessThanOrEqual(1); // one request in flight, never answered
    expect(sink.stats.delivered).toBe(0);
    const lines = alertSinkProblems([sink]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^webhook: 0 delivered, /);
    // every alert published is accounted for as not delivered
    expect(lines[0]).toContain(`${alerts.length} not sent`);
  });

  it('alertmanager: the same', async () => {
    const { url } = await silent();
    const sink = new AlertmanagerSink({ url, timeoutMs: 5000, retries: 3, queue: 1000, resendSeconds: 60 }, 's');
    const [r] = raiseAndResolve('10.0.0.5');
    sink.publish(r, json(r));
    await closeWithin(sink, 300);
    const lines = alertSinkProblems([sink]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alertmanager: 0 delivered, .*1 not sent/);
  });

  it('a clean close reports nothing', async () => {
    const { url } = await serve((_req, _body, res) => res.end('ok'));
    const sink = new WebhookSink({ url, timeoutMs: 2000, retries: 1, queue: 10 }, 's');
    const [r, s] = raiseAndResolve('10.0.0.5');
    sink.publish(r, json(r));
    sink.publish(s, json(s));
    await closeWithin(sink, 3000);
    expect(alertSinkProblems([sink])).toEqual([]);
  });
});
