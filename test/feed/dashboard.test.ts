// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core
// loads / from the feed while the test publishes paced summaries, alerts and an end; the
// charts draw, the hosts table fills, alerts show raised then resolved, the page
// reconnects after a server restart, hosts' risk scores and the run's alert counts show, and a
// screenshot is kept in test-artifacts/feed/.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import type { Report, ReportAlerts } from '../../src/aggregate/summary.js';
import { SCHEMA_VERSION, reportMessage } from '../../src/schema.js';
import { REPORT, alert, fakeView, pub, pubAlert, pubSummary, stats, summary } from './helpers.js';
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
      const rows = await page.$$eval('#hosts tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => (td as Element).textContent)));
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

  it('shows each host\'s risk score and the run\'s alert counts: the analyzer\'s at connect, then each alert, then the report\'s', async () => {
    // what the detect stage reports so far (the fake view's snapshot answers /api/summary)
    const so_far: ReportAlerts = {
      raised: 5, resolved: 3, suppressed: 2, rateLimited: 1, dropped: 0,
      byDetector: { threshold: 4, 'syn-flood': 1 },
      bySeverity: { info: 0, warning: 4, critical: 1 },
      openAtEnd: 2,
      list: [],
    };
    const view = fakeView({ ...REPORT, alerts: so_far });
    const sink = await startFeed(feedConfig({ port: 0 }), view);
    try {
      const s = summary(T0, 3);
      const [h0, h1] = s.hosts;
      if (h0 === undefined || h1 === undefined) throw new Error('fake summary has too few hosts');
      h0.risk = 85; // e.g. serves telnet and docker-api
      h1.risk = 45;
      // the third host has no risk (the field is absent when 0)
      pubSummary(sink, s);
      // raised before the page connects: in the hello's open alerts, and already in the counts above
      pubAlert(sink, alert('raised', 'spike|10.0.0.1', T0, { severity: 'critical' }));
      const page = await browser.ctx.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(sink.url);
      await page.waitForSelector('#hosts tbody tr');
      const risk = await page.$$eval('#hosts tbody tr', (trs) =>
        trs.map((tr) => {
          const c = tr.querySelector('td.risk');
          return { addr: tr.children[0]?.textContent, text: c?.textContent, risk: c?.getAttribute('data-risk'), cls: c?.className };
        }),
      );
      expect(risk).toEqual([
        { addr: '10.0.0.0', text: '85', risk: '85', cls: 'num risk risk-high' },
        { addr: '10.0.0.1', text: '45', risk: '45', cls: 'num risk risk-mid' },
        { addr: '10.0.0.2', text: '–', risk: '0', cls: 'num risk' },
      ]);
      expect(await page.$$eval('#hosts thead th', (ths) => ths.map((t) => t.textContent).slice(0, 2))).toEqual(['host', 'risk']);

      // the run's counts, not the one row this page got
      await page.waitForSelector('#alert-count[data-raised="5"]');
      expect(await page.getAttribute('#alert-count', 'data-open')).toBe('2');
      expect(await page.textContent('#alert-count')).toBe('(run: 5 raised: 1 critical, 4 warning; 2 open; 3 held back)');
      expect(view.calls).toContain(0); // /api/summary?hosts=0: counts without a host list

      // later alerts add to them
      pubAlert(sink, alert('raised', 'scan|10.0.0.9', T0 + 1, { note: 'Port_Scan', host: '10.0.0.9' }));
      await page.waitForSelector('#alert-count[data-raised="6"][data-open="3"]');
      pubAlert(sink, alert('resolved', 'spike|10.0.0.1', T0 + 2, { severity: 'critical', since: T0 }));
      await page.waitForSelector('#alert-count[data-raised="6"][data-open="2"]');
      expect(await page.textContent('#alert-count')).toBe('(run: 6 raised: 1 critical, 5 warning; 2 open; 3 held back)');

      // the final report's counts are the last word
      const final: Report = {
        ...REPORT,
        alerts: { ...so_far, raised: 7, resolved: 7, suppressed: 0, rateLimited: 0, bySeverity: { info: 1, warning: 5, critical: 1 }, openAtEnd: 0 },
      };
      pub(sink, reportMessage(final));
      await page.waitForSelector('#alert-count[data-raised="7"][data-open="0"]');
      expect(await page.textContent('#alert-count')).toBe('(run: 7 raised: 1 critical, 5 warning, 1 info; 0 open)');
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('without detectors, counts what the page received', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView()); // REPORT has no alerts section
    try {
      const page = await browser.ctx.newPage();
      await page.goto(sink.url);
      await page.waitForSelector('#status[data-state="open"]');
      pubAlert(sink, alert('raised', 'a|1', T0));
      pubAlert(sink, alert('raised', 'b|2', T0, { host: '10.0.0.2' }));
      pubAlert(sink, alert('resolved', 'a|1', T0 + 1, { since: T0 }));
      await page.waitForSelector('#alerts li[data-state="resolved"]');
      await page.waitForFunction(() => document.getElementById('alert-count')?.textContent === '(1 raised, 1 resolved)');
      expect(await page.getAttribute('#alert-count', 'data-raised')).toBeNull();
      await page.close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('passes the token from the page URL on to the feed, and says when one is needed', async () => {
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
      // without it the page says what is needed and how to give it, instead of reconnecting
      const bare = await browser.ctx.newPage();
      let attempts = 0;
      bare.on('websocket', () => attempts++);
      await bare.goto(sink.url);
      await bare.waitForSelector('#status[data-state="unauthorized"]');
      expect(await bare.textContent('#status')).toBe('token required');
      expect(await bare.isVisible('#notice')).toBe(true);
      expect(await bare.textContent('#notice')).toBe(
        `This netpulse server requires a token. Open ${sink.url}?token=TOKEN, with TOKEN the --token (or NETPULSE_TOKEN) netpulse was started with.`,
      );
      await tick(2500); // the old page retried after 1 s, then 2 s
      expect(attempts).toBe(1);
      await bare.close();
      // a wrong token is refused the same way, and said to be the wrong one
      const wrong = await browser.ctx.newPage();
      await wrong.goto(`${sink.url}?token=not-the-token-0123456789`);
      await wrong.waitForSelector('#status[data-state="unauthorized"]');
      expect(await wrong.textContent('#notice')).toMatch(/^The token this page was given was refused\. Open /);
      await wrong.close();
    } finally {
      await sink.close();
    }
  }, 60_000);
});
