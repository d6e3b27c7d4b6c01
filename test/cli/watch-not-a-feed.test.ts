// `netpulse watch` pointed at something that is not a netpulse feed, or refused by one: it
// must end with one ERR_FEED_CONNECT / ERR_TOKEN_REQUIRED line and its exit status (README
// "Feed, dashboard and metrics": 6 when it cannot connect or the feed breaks, 2 when the
// server wants a token), never sit on a connection that will not say hello (README: "`hello`
// comes first on every connection") nor pass another server's messages through as the feed's.

import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { exitWithin, spawnCli } from '../helpers/cli.js';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { fakeView } from '../feed/helpers.js';

const CLI = join(process.cwd(), 'dist', 'bin', 'netpulse.js');
const TOKEN = 'watch-test-token-0123456789';

const run = spawnCli;


const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A WebSocket server from the ws library (not netpulse) that does `onConnect` to each client. */
async function otherWsServer(onConnect: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (ws) => onConnect(ws));
  closers.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/feed`;
}

const oneLine = (code: string): RegExp => new RegExp(`^netpulse: [^\\n]*\\[${code}\\]\\n$`);

describe('netpulse watch against what is not a netpulse feed', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p . (npm test does) before these tests`);
  });

  it('a WebSocket server that keeps sending text that is not JSON: exit 6, one line, nothing printed', async () => {
    const url = await otherWsServer((ws) => {
      const t = setInterval(() => ws.send('garbage \x1b[31mred'), 100);
      ws.on('close', () => clearInterval(t));
    });
    for (const args of [['--json'], []]) {
      const w = run(['watch', url, ...args]);
      expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
      expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
      expect(w.stdout()).toBe('');
    }
  });

  it('a WebSocket server sending JSON that is not a netpulse hello: not passed through as the feed, exit 6', async () => {
    const url = await otherWsServer((ws) => {
      const t = setInterval(() => ws.send(JSON.stringify({ type: 'summary', v: 1, ts: 1, packets: 1, seq: 1 })), 100);
      ws.on('close', () => clearInterval(t));
    });
    const w = run(['watch', url, '--json']);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
    expect(w.stdout()).toBe('');
  });

  it('a WebSocket server sending a binary frame first: exit 6', async () => {
    const url = await otherWsServer((ws) => ws.send(Buffer.from([0xff, 0xfe, 0x00, 0x01])));
    const w = run(['watch', url, '--json']);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
  });

  it('a frame announcing 300 MiB: refused from its header (ws maxPayload), exit 6, one line naming the size', async () => {
    // RFC 6455 5.2: FIN + text opcode, payload length 127 then a 64-bit length; no payload follows
    const header = Buffer.from([0x81, 127, 0, 0, 0, 0, 0x12, 0xc0, 0x00, 0x00]);
    const url = await otherWsServer((ws) => (ws as unknown as { _socket: { write: (b: Buffer) => void } })._socket.write(header));
    const w = run(['watch', url, '--json']);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
    expect(w.stderr()).toMatch(/over 256 MiB/);
  });

  it('a WebSocket server that closes normally before any hello: exit 6, not a clean 0', async () => {
    const url = await otherWsServer((ws) => ws.close(1000, 'bye'));
    const w = run(['watch', url, '--json', '--until-end']);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
  });

  it('a WebSocket server that accepts and says nothing: exit 6 within seconds, not the 75 s silence limit', async () => {
    const url = await otherWsServer(() => undefined);
    const w = run(['watch', url]);
    expect(await exitWithin(w, 15_000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
    expect(w.stderr()).toMatch(/hello/);
  }, 20_000);

  it('a plain HTTP server (no WebSocket): exit 6, says it is not a netpulse feed', async () => {
    const http: Server = createServer((_q, s) => s.end('hello from some web server\n'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => http.close(() => r())));
    const w = run(['watch', `http://127.0.0.1:${(http.address() as AddressInfo).port}/`]);
    expect(await exitWithin(w, 5000), w.stderr()).toBe(6);
    expect(w.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
    expect(w.stderr()).toMatch(/not a netpulse feed/);
  });
});

describe('netpulse watch refused by a netpulse server', () => {
  async function server(token: string | null): Promise<FeedSink> {
    const s = await startFeed(feedConfig({ port: 0, token }), fakeView());
    closers.push(() => s.close());
    return s;
  }

  it('a wrong token is named as refused, not as missing (exit 2, ERR_TOKEN_REQUIRED)', async () => {
    const sink = await server(TOKEN);
    const wrong = run(['watch', sink.url, '--token', 'x'.repeat(20)]);
    expect(await exitWithin(wrong, 5000)).toBe(2);
    expect(wrong.stderr()).toMatch(oneLine('ERR_TOKEN_REQUIRED'));
    expect(wrong.stderr()).toMatch(/refused the token/);
    const none = run(['watch', sink.url]);
    expect(await exitWithin(none, 5000)).toBe(2);
    expect(none.stderr()).toMatch(/wants its token; give --token/);
  });

  it('a refusal quotes why the server refused (its 400 body), and a wrong path says where the feed is', async () => {
    const sink = await server(null);
    const feed = `${sink.url.replace('http', 'ws')}feed`;
    const topic = run(['watch', `${feed}?topics=bogus`]);
    expect(await exitWithin(topic, 5000)).toBe(6);
    expect(topic.stderr()).toMatch(oneLine('ERR_FEED_CONNECT'));
    expect(topic.stderr()).toMatch(/HTTP 400: unknown topic "bogus"/);
    const path = run(['watch', `${sink.url.replace('http', 'ws')}fed`]);
    expect(await exitWithin(path, 5000)).toBe(6);
    expect(path.stderr()).toMatch(/HTTP 404.*\/feed/);
  });
});
