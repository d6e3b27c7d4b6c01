// The hello names the server's run (README "Messages"): the same random id on every
// connection to one server, another after a restart, and when it started serving. A client
// that reconnects (netpulse watch --reconnect, the dashboard) tells a restarted server, whose
// counts start again from zero, from the same one by it. Oracles: the clock read around the
// start, and two servers started one after the other.
import { afterEach, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { connect, fakeView, feedUrl } from './helpers.js';

const open: FeedSink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(): Promise<FeedSink> {
  const s = await startFeed(feedConfig({ port: 0 }), fakeView());
  open.push(s);
  return s;
}

async function serverOf(sink: FeedSink): Promise<{ run: string; started: number }> {
  const c = await connect(feedUrl(sink.url));
  const hello = await c.waitFor((m) => m.type === 'hello');
  c.ws.close();
  return hello.server as { run: string; started: number };
}

describe('the hello names the run', () => {
  it('one id per server, on every connection; another for the next server; started is when it began', async () => {
    const before = Date.now() / 1000;
    const a = await start();
    const after = Date.now() / 1000;
    const first = await serverOf(a);
    const again = await serverOf(a);
    expect(first.run).toMatch(/^[0-9a-f]{16}$/);
    expect(again.run).toBe(first.run);
    expect(again.started).toBe(first.started);
    expect(first.started).toBeGreaterThanOrEqual(before);
    expect(first.started).toBeLessThanOrEqual(after);
    const b = await start();
    const other = await serverOf(b);
    expect(other.run).toMatch(/^[0-9a-f]{16}$/);
    expect(other.run).not.toBe(first.run);
    expect(other.started).toBeGreaterThanOrEqual(first.started);
  });
});
