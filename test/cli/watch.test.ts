// `netpulse watch` as a user runs it (the built CLI in a child process) against a real feed
// server and a real `netpulse replay --serve`: NDJSON pass-through equals what was published,
// --until-end with any topics, token handling, exit statuses and one-line errors; plus the
// terminal view's rendering from scripted messages.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitWithin, spawnCli } from '../helpers/cli.js';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { applyMessage, createWatchState, renderWatch } from '../../src/feed/watch-view.js';
import { SCHEMA_VERSION, alertMessage, serialize, summaryMessage, type Message } from '../../src/schema.js';
import { alert, expected, fakeView, pub, pubAlert, pubSummary, stats, summary, waitFeedClients } from '../feed/helpers.js';
import { corpus } from '../feed/tools.js';

const CLI = join(process.cwd(), 'dist', 'bin', 'netpulse.js');
const T0 = 1_700_000_000;
const TOKEN = 'watch-test-token-0123456789';

const run = spawnCli;

const open: FeedSink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function server(token: string | null = null): Promise<FeedSink> {
  const s = await startFeed(feedConfig({ port: 0, token }), fakeView());
  open.push(s);
  return s;
}

const wiki = corpus('zeek-wikipedia.pcap');


const ws = (sink: FeedSink): string => `${sink.url.replace('http', 'ws')}feed`;

describe('netpulse watch (built CLI)', () => {
  beforeAll(() => {
    // npm test compiles first; a bare `vitest run` on a fresh clone must say so, not skip
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p . (npm test does) before these tests`);
  });

  it('--json --until-end passes every message through as one JSON line, then exits 0', async () => {
    const sink = await server();
    pubSummary(sink, summary(T0));
    const w = run(['watch', ws(sink), '--json', '--until-end']);
    await waitFeedClients(sink, 1);
    const published: Message[] = [
      pubSummary(sink, summary(T0 + 1)),
      pubAlert(sink, alert('raised', 'k', T0 + 1)),
      pub(sink, stats(20)),
      pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null }),
    ];
    expect(await w.code).toBe(0);
    const lines = w.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'hello', seq: 1 });
    expect(lines.slice(1)).toEqual(published.map((m, i) => expected(m, i + 2)));
    expect(w.stderr()).toBe('');
  });

  it('--topics and --hosts reach the server', async () => {
    const sink = await server();
    const w = run(['watch', sink.url, '--json', '--until-end', '--topics', 'summary,end', '--hosts', '1']);
    await waitFeedClients(sink, 1);
    const s = pubSummary(sink, summary(T0, 3));
    pubAlert(sink, alert('raised', 'k', T0));
    pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    expect(await w.code).toBe(0);
    const lines = w.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['hello', 'summary', 'end']);
    const full = expected(s, 1) as { hosts: unknown[] };
    expect(lines[1]).toEqual({ ...full, hosts: full.hosts.slice(0, 1) });
  });

  it('needs the token of a server that has one: exit 2 without, works with --token or NETPULSE_TOKEN', async () => {
    const sink = await server(TOKEN);
    pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
    const no = run(['watch', ws(sink), '--json']);
    expect(await no.code).toBe(2);
    expect(no.stderr()).toMatch(/^netpulse: .*--token.*\[ERR_TOKEN_REQUIRED\]\n$/);
    const wrong = run(['watch', ws(sink), '--json', '--token', 'x'.repeat(20)]);
    expect(await wrong.code).toBe(2);
    const flag = run(['watch', ws(sink), '--json', '--until-end', '--token', TOKEN]);
    expect(await flag.code).toBe(0);
    expect(JSON.parse(flag.stdout().split('\n')[0] ?? '')).toMatchObject({ type: 'hello', end: { reason: 'eof' } });
    const env = run(['watch', ws(sink), '--json', '--until-end'], { NETPULSE_TOKEN: TOKEN });
    expect(await env.code).toBe(0);
  });

  it('reports a refused connection and a bad URL in one line with their exit statuses', async () => {
    const sink = await server();
    const port = new URL(sink.url).port;
    await sink.close();
    const refused = run(['watch', `ws://127.0.0.1:${port}/feed`]);
    expect(await refused.code).toBe(6);
    expect(refused.stderr()).toMatch(/^netpulse: cannot read the feed at .*connection refused.*\[ERR_FEED_CONNECT\]\n$/);
    for (const bad of ['not a url', 'ftp://127.0.0.1/feed']) {
      const r = run(['watch', bad]);
      expect(await r.code).toBe(2);
      expect(r.stderr()).toMatch(/\[ERR_BAD_OPTION\]\n$/);
    }
    const topic = run(['watch', 'ws://127.0.0.1:1/feed', '--topics', 'nope']);
    expect(await topic.code).toBe(2);
  });

  it('exits 0 when the server shuts down, and prints one line per second when stdout is not a terminal', async () => {
    const sink = await server();
    const w = run(['watch', ws(sink)]);
    await waitFeedClients(sink, 1);
    pubSummary(sink, summary(T0 + 5, 2, 42));
    await new Promise((r) => setTimeout(r, 300));
    await sink.close();
    expect(await w.code).toBe(0);
    expect(w.stdout()).toBe('2023-11-14 22:13:25Z  42 pkt/s  4.20 kB/s  2 hosts  top 10.0.0.0\n');
  });

  it.skipIf(wiki === null)('--until-end --topics without end exits once a real replay ends, printing only those topics', async () => {
    const { pcap, expected: truth } = wiki ?? { pcap: '', expected: { seconds: [] } };
    // the real command serving the feed; the capture goes to its stdin once the watcher is in
    const replay = spawn(process.execPath, [CLI, 'replay', '-', '--speed', '5', '--serve', '0', '--json', '--threshold', 'tx-bytes=10000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const replayClosed = once(replay, 'close') as Promise<[number | null]>;
    let ndjson = '';
    let log = '';
    replay.stdout.setEncoding('utf8').on('data', (d: string) => (ndjson += d));
    replay.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    try {
      const deadline = Date.now() + 10_000;
      let m: RegExpExecArray | null = null;
      while ((m = /serving the dashboard and feed on (http:\/\/\S+)/.exec(log)) === null) {
        if (Date.now() > deadline) throw new Error(`no URL from netpulse replay: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const feed = { url: m[1] ?? '' };
      const w = run(['watch', feed.url, '--json', '--until-end', '--topics', 'alert,summary']);
      await waitFeedClients(feed, 1);
      replay.stdin.end(readFileSync(pcap));
      expect(await exitWithin(w, 15_000), w.stderr()).toBe(0);

      // every summary and alert of the run and nothing else: the replay's own NDJSON (the
      // feed's messages are it plus seq), whose seconds are tshark's
      const lines = w.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ type: 'hello', summaries: [] });
      const printed = lines.slice(1).map(({ seq: _seq, ...rest }) => rest);
      // a watcher that comes after the end learns it from its hello
      const late = run(['watch', feed.url, '--json', '--until-end', '--topics', 'summary']);
      expect(await exitWithin(late, 10_000), late.stderr()).toBe(0);
      const lateLines = late.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; summaries: unknown[] });
      expect(lateLines.map((l) => l.type)).toEqual(['hello']);
      expect(lateLines[0]?.summaries).toHaveLength(truth.seconds.length);
      // the replay is still serving after its end; stop it to read its NDJSON to the end
      replay.kill('SIGINT');
      expect((await replayClosed)[0], log).toBe(0);
      const wanted = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((x) => x.type === 'summary' || x.type === 'alert');
      expect(printed).toEqual(wanted);
      expect(printed.filter((x) => x.type === 'alert').map((x) => x.state)).toEqual(['raised', 'resolved']);
      expect(printed.filter((x) => x.type === 'summary').map((x) => ({ ts: x.ts, packets: x.packets, bytes: x.bytes }))).toEqual(truth.seconds);
    } finally {
      if (replay.exitCode === null && replay.signalCode === null) replay.kill('SIGKILL');
    }
  }, 40_000);

  it('stops on SIGINT with status 130', async () => {
    const sink = await server();
    const w = run(['watch', ws(sink), '--json']);
    await waitFeedClients(sink, 1);
    w.kill('SIGINT');
    expect(await w.code).toBe(130);
    expect(w.stderr()).toBe('');
  });
});

describe('terminal view', () => {
  it('shows the source, the rates, the top hosts and the alerts from the messages', () => {
    const st = createWatchState();
    applyMessage(st, JSON.parse(
      `{"type":"hello","v":1,"seq":0,"server":{"name":"netpulse","version":"0"},"source":{"description":"live eth0","clock":"wall"},"options":{},"topics":[],"hosts":null,"summaries":[],"alerts":[],"stats":null,"end":null}`,
    ));
    applyMessage(st, JSON.parse(serialize(summaryMessage(summary(T0, 2, 1500)))));
    applyMessage(st, JSON.parse(serialize(stats(9000))));
    applyMessage(st, JSON.parse(serialize(alertMessage(alert('raised', 'k', T0, { note: 'Port_Scan', host: '10.9.9.9' })))));
    const screen = renderWatch(st, 200, 50).join('\n');
    expect(screen).toContain('live eth0  [live]');
    expect(screen).toContain('150.0 kB/s  1,500 pkt/s  2 hosts');
    expect(screen).toContain('9,000 pkts');
    expect(screen).toMatch(/^10\.0\.0\.0 +2 +1\.00 kB +0 +0 B +500\.0 +500$/m);
    expect(screen).toMatch(/^▲ 2023-11-14 22:13:20Z warning +Port_Scan 10\.9\.9\.9: /m);
    expect(screen).toContain('alerts (1 raised, 0 resolved)');
    // it fits the terminal it is given
    const small = renderWatch(st, 30, 4);
    expect(small).toHaveLength(4);
    for (const l of small) expect(l.length).toBeLessThanOrEqual(30);
  });
  it('on an 80-column terminal, IPv4 hosts keep every column (the host column is as wide as the addresses shown)', () => {
    const st = createWatchState();
    applyMessage(st, JSON.parse(serialize(summaryMessage(summary(T0, 3, 1500)))));
    const lines = renderWatch(st, 80, 24);
    const header = lines.find((l) => l.startsWith('host'));
    expect(header).toMatch(/size mean +p95$/);
    const rows = lines.filter((l) => /^10\.0\.0\.\d/.test(l));
    expect(rows).toHaveLength(3);
    // every row keeps all seven columns, the last (p95) whole, within the 80 columns
    for (const r of rows) {
      expect(r.length).toBeLessThan(80);
      expect(r.replace(/ (B|kB|MB)\b/g, '$1').trim().split(/ +/)).toHaveLength(7);
      expect(r).toMatch(/ \d[\d,]*$/);
    }
    // an IPv6 host widens the column to its address (nothing of the address is cut)
    const s6 = summary(T0 + 1, 1, 10);
    s6.hosts = [{ ...s6.hosts[0]!, addr: '2001:db8:1234:5678:9abc:def0:1234:5678' }];
    applyMessage(st, JSON.parse(serialize(summaryMessage(s6))));
    expect(renderWatch(st, 200, 24).some((l) => l.startsWith('2001:db8:1234:5678:9abc:def0:1234:5678 '))).toBe(true);
  });
});
