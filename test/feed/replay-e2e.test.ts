// The feed on the real replay pipeline (FileSource -> Analysis -> feed), on a capture from
// the shared corpus: summaries over the WebSocket equal `netpulse replay --json` of the same
// file and tshark's per-second counts; a real Prometheus scraping the replay's /metrics
// returns tshark's packet total; the dashboard follows a paced replay in headless Chromium.

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource, type ReplaySpeed } from '../../src/capture/file-source.js';
import { DEFAULTS } from '../../src/config.js';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { detectionFromOptions } from '../../src/cli/detect-options.js';
import { Analysis } from '../../src/pipeline.js';
import { ARTIFACTS, drawnPixels, launchBrowser } from './browser.js';
import { connect, feedUrl, type Recorder } from './helpers.js';
import { corpus, startPrometheus, tool } from './tools.js';

const CLI = join(process.cwd(), 'dist', 'bin', 'netpulse.js');
const capture = corpus('zeek-wikipedia.pcap');
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** What `netpulse replay FILE` does with --serve, through the library. */
async function replayWithFeed(pcap: string, speed: ReplaySpeed, token: string | null = null) {
  const source = new FileSource({ files: [pcap], speed, maxPauseMs: speed === 'max' ? 0 : 1000 });
  const analysis = new Analysis(source, {
    aggregate: {
      maxHosts: DEFAULTS.maxHosts,
      topHosts: DEFAULTS.topHosts,
      maxGapSeconds: DEFAULTS.maxGapSeconds,
      reorderSeconds: DEFAULTS.reorderSeconds,
      histogramBytes: DEFAULTS.histogramMiB * 1024 * 1024,
    },
    reportHosts: DEFAULTS.reportHosts,
    shownOptions: { speed },
    // the default detectors, as the command runs them
    detect: detectionFromOptions({ json: true }).detect,
  });
  const feed: FeedSink = await startFeed(feedConfig({ port: 0, token }), analysis);
  analysis.addSink(feed);
  cleanup.push(() => feed.close());
  return { analysis, feed };
}

function strip(m: Record<string, unknown>): Record<string, unknown> {
  const { seq: _seq, ...rest } = m;
  return rest;
}

describe.skipIf(capture === null)('feed on a real replay (zeek-wikipedia.pcap)', () => {
  const { pcap, expected } = capture ?? { pcap: '', expected: { packets: 0, bytes: 0, seconds: [], hosts: [], capture: '' } };

  it('sends the same summaries and report as `netpulse replay --json`, matching tshark per second', async () => {
    const cli = spawnSync(process.execPath, [CLI, 'replay', pcap, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const ndjson = cli.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

    const { analysis, feed } = await replayWithFeed(pcap, 'max');
    const client: Recorder = await connect(feedUrl(feed.url));
    await client.waitFor((m) => m.type === 'hello');
    await analysis.run();
    await client.waitFor((m) => m.type === 'end');

    const over = (type: string, list: Record<string, unknown>[]) => list.filter((m) => m.type === type);
    const fed = over('summary', client.messages).map(strip);
    expect(fed).toEqual(over('summary', ndjson));
    expect(over('report', client.messages).map(strip)).toEqual(over('report', ndjson));
    // and both agree with tshark's per-second buckets of frame.time_epoch
    expect(fed.map((s) => ({ ts: s.ts, packets: s.packets, bytes: s.bytes }))).toEqual(expected.seconds);
    // seq: strictly increasing by one over everything the client subscribed to (all topics)
    const seqs = client.messages.slice(1).map((m) => m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    client.ws.close();
  });

  const prometheus = tool('/usr/bin/prometheus', 'prometheus');
  it.skipIf(prometheus === null)('a real Prometheus scraping the replay\'s /metrics gets tshark\'s packet and byte totals', async () => {
    const token = 'replay-prometheus-token-0001';
    const { analysis, feed } = await replayWithFeed(pcap, 'max', token);
    await analysis.run(); // the server stays up after the end, as the CLI keeps it
    const prom = await startPrometheus(prometheus ?? 'prometheus', new URL(feed.url).host, token);
    cleanup.push(() => prom.stop());
    const packets = await prom.waitFor('netpulse_packets_total{job="netpulse"}');
    expect(packets, prom.log()).toHaveLength(1);
    expect(Number(packets[0]?.value[1])).toBe(expected.packets);
    const bytes = await prom.query('netpulse_bytes_total{job="netpulse"}');
    expect(Number(bytes[0]?.value[1])).toBe(expected.bytes);
    const ended = await prom.query('netpulse_source_ended{job="netpulse"}');
    expect(ended[0]?.value[1]).toBe('1');
    // per-host series exist only for the top K (10) hosts, and agree with tshark's endpoints
    const hostTx = await prom.query('netpulse_host_packets_total{job="netpulse",direction="tx"}');
    expect(hostTx.length).toBeLessThanOrEqual(10);
    expect(hostTx.length).toBeGreaterThan(0);
    for (const s of hostTx) {
      const h = expected.hosts.find((x) => x.addr === s.metric.host);
      expect(Number(s.value[1]), s.metric.host).toBe(h?.tx.packets);
    }
  }, 90_000);

  const chromiumPath = tool('/usr/bin/chromium', 'chromium');
  it.skipIf(chromiumPath === null)('the dashboard follows a paced replay: every second charted, hosts listed, replay ended', async () => {
    const browser = await launchBrowser();
    cleanup.push(() => browser.close());
    // 7 s of capture at 4x real time: about 2 s of wall time, one summary every ~250 ms
    const { analysis, feed } = await replayWithFeed(pcap, 4);
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(feed.url);
    await page.waitForSelector('#status[data-state="open"]');
    const run = analysis.run();
    // while it plays, the charts grow
    await page.waitForSelector('#chart-bytes:not([data-points="0"])', { timeout: 10_000 });
    const during = Number(await page.getAttribute('#chart-bytes', 'data-points'));
    expect(during).toBeLessThan(expected.seconds.length);
    await run;
    await page.waitForSelector('#mode[data-mode="ended"]');
    expect(await page.getAttribute('#chart-bytes', 'data-points')).toBe(String(expected.seconds.length));
    expect(await drawnPixels(page, '#chart-bytes')).toBeGreaterThan(500);
    expect(await page.textContent('#h-packets')).toBe(String(expected.packets));
    const last = expected.seconds[expected.seconds.length - 1];
    expect(await page.textContent('#h-pps')).toBe(String(last?.packets));
    const addrs = await page.$$eval('#hosts tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(addrs.length).toBeGreaterThan(0);
    for (const a of addrs) expect(expected.hosts.map((h) => h.addr)).toContain(a);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-replay.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);
});
