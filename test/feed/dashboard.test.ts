// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core
// loads / from the feed while the test publishes paced summaries, alerts and an end; the
// charts draw, the hosts table fills, alerts show raised then resolved, the page
// reconnects after a server restart, and a screenshot is kept in test-artifacts/feed/.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { SCHEMA_VERSION } from '../../src/schema.js';
import { alert, fakeView, pub, pubAlert, pubSummary, stats, summary } from './helpers.js';
import { ARTIFACTS, drawnPixels, launchBrowser } from './browser.js';
import { tool } from './tools.js';

const T0 = 1_700_000_000;
const chromiumPath = tool('/usr/bin/chromium', 'chromium');

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(chromiumPath === null)('dashboard in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser.close();
  });

  it('draws the charts, fills the tables, shows alerts raised then resolved, and the end of a replay', async () => {
    let sink: FeedSink = await startFeed(feedConfig({ port: 0 }), fakeView());
    const port = Number(new URL(sink.url).port);
    try {
      for (let i = 0; i < 20; i++) pubSummary(sink, summary(T0 + i, 4, 10 + i));
      pub(sink, stats(500));
      const page = await browser.ctx.newPage();
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      await page.goto(sink.url);
      await page.waitForSelector('#status[data-state="open"]');
      await page.waitForSelector('#chart-bytes[data-points="20"]');
      expect(await page.textContent('#mode')).toBe('replay');
      expect(await page.textContent('#source')).toContain('file test.pcap');
      expect(await page.textContent('#h-packets')).toBe('500');

      // paced replay: one summary every 100 ms; the charts follow
      for (let i = 20; i < 30; i++) {
        pubSummary(sink, summary(T0 + i, 4, 10 + i));
        await tick(100);
      }
      await page.waitForSelector('#chart-bytes[data-points="30"]');
      expect(await page.getAttribute('#chart-packets', 'data-points')).toBe('30');
      expect(await drawnPixels(page, '#chart-bytes')).toBeGreaterThan(500);
      expect(await drawnPixels(page, '#chart-packets')).toBeGreaterThan(500);
      expect(await page.textContent('#h-pps')).toBe('39');
      const rows = await page.$$eval('#hosts tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
      expect(rows).toHaveLength(4);
      expect(rows[0]?.[0]).toBe('10.0.0.0');
      expect(await page.$$eval('#protocols tbody tr', (trs) => trs.length)).toBe(2);

      pubAlert(sink, alert('raised', 'spike|10.0.0.1', T0 + 30, { message: 'bytes/s of 10.0.0.1 is 5000, over 1000' }));
      await page.waitForSelector('#alerts li[data-state="raised"][data-note="Host_Bytes_Spike"]');
      expect(await page.textContent('#alerts li')).toContain('bytes/s of 10.0.0.1 is 5000, over 1000');
      pubAlert(sink, alert('resolved', 'spike|10.0.0.1', T0 + 33, { since: T0 + 30 }));
      await page.waitForSelector('#alerts li[data-state="resolved"]');
      expect(await page.$$eval('#alerts li', (l) => l.length)).toBe(1);
      pubAlert(sink, alert('raised', 'scan|10.0.0.9', T0 + 34, { note: 'Port_Scan', severity: 'critical', host: '10.0.0.9' }));
      await page.waitForSelector('#alerts li[data-note="Port_Scan"]');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

      pub(sink, { type: 'end', v: SCHEMA_VERSION, reason: 'eof', error: null });
      await page.waitForSelector('#mode[data-mode="ended"]');

      // the server restarts on the same port: the page reconnects by itself and reloads state
      await sink.close();
      await page.waitForSelector('#status[data-state="closed"]');
      sink = await startFeed(feedConfig({ port }), fakeView());
      pubSummary(sink, summary(T0 + 100, 2, 5));
      await page.waitForSelector('#status[data-state="open"]', { timeout: 15_000 });
      await page.waitForSelector('#chart-bytes[data-points="1"]');
      expect(await page.textContent('#mode')).toBe('replay');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('passes the token from the page URL on to the feed', async () => {
    const token = 'dashboard-token-0123456789';
    const sink = await startFeed(feedConfig({ port: 0, token }), fakeView());
    try {
      pubSummary(sink, summary(T0, 2));
      const page = await browser.ctx.newPage();
      await page.goto(`${sink.url}?token=${token}`);
      await page.waitForSelector('#status[data-state="open"]');
      await page.waitForSelector('#chart-bytes[data-points="1"]');
      // the token leaves the address bar (kept for the tab only)
      expect(page.url()).toBe(sink.url);
      await page.close();
      const bare = await browser.ctx.newPage();
      await bare.goto(sink.url);
      await tick(500);
      expect(await bare.getAttribute('#status', 'data-state')).not.toBe('open');
      await bare.close();
    } finally {
      await sink.close();
    }
  }, 60_000);
});
