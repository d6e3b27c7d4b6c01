// `netpulse watch --reconnect`: a watcher that outlives its server. Like `tail -F`, it keeps
// following when the feed cannot be reached or is lost (a sensor restarting, a network
// blip), pausing 1 s, 2 s, 4 s ... up to 30 s between attempts, and says so on stderr; what
// cannot pass by waiting (a refused token, something that is not a netpulse feed) still
// ends it at once with its exit status (README "Feed, dashboard and metrics").

import { existsSync } from 'node:fs';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, exitWithin, ndjson, spawnCli, type Spawned } from '../helpers/cli.js';
import { MIN_HELLO, closeWsServers, wsServer } from '../helpers/plain-ws.js';
import { feedConfig, type FeedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { applyMessage, createWatchState, renderWatch } from '../../src/feed/watch-view.js';
import { SCHEMA_VERSION } from '../../src/schema.js';
import { fakeView, pub, pubSummary, summary, waitFeedClients } from '../feed/helpers.js';
import { freePort } from '../feed/tools.js';

const T0 = 1_700_000_000;
const TOKEN = 'watch-reconnect-token-0123456789';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await closeWsServers();
});

async function feed(c: Partial<FeedConfig> & { port: number }): Promise<FeedSink> {
  const s = await startFeed(feedConfig(c), fakeView());
  open.push(s);
  return s;
}

const wsUrl = (port: number): string => `ws://127.0.0.1:${port}/feed`;


async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const retries = (w: Spawned): string[] => w.stderr().split('\n').filter((l) => / reconnecting in /.test(l));

describe('netpulse watch --reconnect', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p . (npm test does) before these tests`);
  });

  it('follows the feed across a server restart on the same port, then --until-end ends it with 0', async () => {
    const first = await feed({ port: 0 });
    const port = Number(new URL(first.url).port);
    const w = spawnCli(['watch', wsUrl(port), '--json', '--until-end', '--reconnect']);
    await waitFeedClients(first, 1);
    pubSummary(first, summary(T0));
    await until('the first summary passed through', () => w.stdout().includes(`"ts":${T0}`));
    await first.close();
    const second = await feed({ port });
    await waitFeedClients(second, 1);
    pubSummary(second, summary(T0 + 1));
    pub(second, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    expect(await exitWithin(w, 10_000), w.stderr()).toBe(0);
    // everything each server sent, each connection starting with its hello
    expect(ndjson(w.stdout()).map((m) => m.type)).toEqual(['hello', 'summary', 'hello', 'summary', 'end']);
    expect(ndjson(w.stdout()).filter((m) => m.type === 'summary').map((m) => m.ts)).toEqual([T0, T0 + 1]);
    // said on stderr, one line each: why, when it tries again, and that it is back
    const said = retries(w);
    expect(said.length).toBeGreaterThanOrEqual(1);
    expect(said[0]).toMatch(/^netpulse: ws:\/\/127\.0\.0\.1:\d+\/feed: the server closed the feed \(code 100[01][^)]*\) \(attempt 1; reconnecting in 1 s\)$/);
    // another server, another run (the hello's server.run): said, since its counts start again
    expect(w.stderr()).toMatch(
      new RegExp(`^netpulse: connected again to ws://127\\.0\\.0\\.1:${port}/feed: the server restarted \\(a new run, counted from zero\\)$`, 'm'),
    );
  }, 30_000);

  it('a network failure (the same server still running) is reconnected without saying it restarted', async () => {
    const sink = await feed({ port: 0 });
    // a TCP relay in front of the feed: cutting its sockets is the network failing
    const pipes: Socket[] = [];
    const relay = createServer((a) => {
      const b = tcpConnect(Number(new URL(sink.url).port), '127.0.0.1');
      pipes.push(a, b);
      a.pipe(b).pipe(a);
      a.on('error', () => undefined);
      b.on('error', () => undefined);
    });
    relay.listen(0, '127.0.0.1');
    await new Promise((r) => relay.once('listening', r));
    open.push({ close: () => new Promise<void>((r) => relay.close(() => r())) });
    const port = (relay.address() as AddressInfo).port;
    const w = spawnCli(['watch', wsUrl(port), '--json', '--until-end', '--reconnect']);
    await waitFeedClients(sink, 1);
    for (const p of pipes.splice(0)) p.destroy();
    await until('a lost connection said', () => retries(w).length >= 1);
    expect(retries(w)[0]).toMatch(/the connection was lost without a close frame \(code 1006\)[^\n]* \(attempt 1; reconnecting in 1 s\)$/);
    await waitFeedClients(sink, 1);
    pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    expect(await exitWithin(w, 10_000), w.stderr()).toBe(0);
    expect(w.stderr()).toMatch(new RegExp(`^netpulse: connected again to ws://127\\.0\\.0\\.1:${port}/feed$`, 'm'));
    for (const p of pipes.splice(0)) p.destroy();
  }, 30_000);

  it('keeps trying while nothing listens, pausing 1 s, then 2 s, ... and connects once a server comes up', async () => {
    const port = await freePort();
    const w = spawnCli(['watch', wsUrl(port), '--json', '--until-end', '--reconnect']);
    await until('a second failed attempt', () => retries(w).length >= 2);
    const sink = await feed({ port });
    await waitFeedClients(sink, 1);
    pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    expect(await exitWithin(w, 10_000), w.stderr()).toBe(0);
    const said = retries(w);
    // the pause doubles from 1 s; each line names the refusal and the attempt
    said.forEach((l, i) => {
      expect(l).toBe(
        `netpulse: cannot read the feed at ws://127.0.0.1:${port}/feed: connection refused; is netpulse running with --serve on that port? ` +
          `(attempt ${i + 1}; reconnecting in ${Math.min(30, 2 ** i)} s)`,
      );
    });
    expect(ndjson(w.stdout()).map((m) => m.type)).toEqual(['hello', 'end']);
  }, 30_000);

  it('waits out a server that is full (HTTP 503) and joins when a place frees up', async () => {
    const sink = await feed({ port: 0, maxClients: 1 });
    const port = Number(new URL(sink.url).port);
    const holder = spawnCli(['watch', wsUrl(port), '--json']);
    await waitFeedClients(sink, 1);
    const w = spawnCli(['watch', wsUrl(port), '--json', '--until-end', '--reconnect']);
    await until('the second watcher refused', () => retries(w).length >= 1);
    expect(retries(w)[0]).toMatch(/refused the feed \(HTTP 503[^)]*\); check the URL and options \(attempt 1; reconnecting in 1 s\)$/);
    holder.kill('SIGINT');
    expect(await exitWithin(holder, 5000)).toBe(130);
    await waitFeedClients(sink, 1);
    pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    expect(await exitWithin(w, 10_000), w.stderr()).toBe(0);
  }, 30_000);

  it('does not retry what waiting cannot fix: a missing token is exit 2, a server that is not netpulse exit 6', async () => {
    const locked = await feed({ port: 0, token: TOKEN });
    const w = spawnCli(['watch', wsUrl(Number(new URL(locked.url).port)), '--json', '--reconnect']);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(2);
    expect(w.stderr()).toMatch(/^netpulse: [^\n]*the server wants its token[^\n]*\[ERR_TOKEN_REQUIRED\]\n$/);

    const other = await wsServer();
    other.on('connection', (c) => c.send(JSON.stringify({ ...MIN_HELLO, server: { name: 'other' } })));
    const x = spawnCli(['watch', wsUrl((other.address() as AddressInfo).port), '--json', '--reconnect']);
    expect(await exitWithin(x, 5000), x.stderr()).toBe(6);
    expect(x.stderr()).toMatch(/^netpulse: [^\n]*not a netpulse feed[^\n]*\[ERR_FEED_CONNECT\]\n$/);
    expect(x.stdout()).toBe('');
  }, 20_000);

  it('Ctrl-C while waiting to reconnect ends it at once with 130', async () => {
    const port = await freePort();
    const w = spawnCli(['watch', wsUrl(port), '--reconnect']);
    await until('a failed attempt', () => retries(w).length >= 1);
    w.kill('SIGINT');
    expect(await exitWithin(w, 3000), w.stderr()).toBe(130);
  }, 20_000);

  it('the terminal view shows the notice under its title until a hello clears it', () => {
    const st = createWatchState();
    applyMessage(st, { type: 'hello', v: 1, seq: 1, source: { description: 'eth0', clock: 'wall' }, summaries: [], alerts: [] });
    st.notice = 'feed lost, reconnecting in 4 s (attempt 3): ws://h:1/feed: the connection was lost';
    const lines = renderWatch(st, 120, 30);
    expect(lines[1]).toBe('!! feed lost, reconnecting in 4 s (attempt 3): ws://h:1/feed: the connection was lost');
    expect(lines[2]).toMatch(/^rate /);
    // the notice is the watcher's to clear (on the next hello); without one the view is as before
    st.notice = null;
    expect(renderWatch(st, 120, 30)[1]).toMatch(/^rate /);
  });
});
