// The dashboard as an operator sees it, in headless Chromium (playwright-core): what the
// charts draw (times in UTC whatever the browser's time zone, rate axes from zero with whole
// ticks, a break at a gap also when the gap came before the page connected, the last five
// minutes by time), units, the page before the first second, and a phone-width window.
// Screenshots go to test-artifacts/feed/.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed } from '../../src/feed/server.js';
import { SCHEMA_VERSION } from '../../src/schema.js';
import { REPORT, alert, fakeView, pub, pubAlert, pubSummary, summary } from './helpers.js';
import { ARTIFACTS, CHROMIUM_ARGS } from './browser.js';
import { tool } from './tools.js';

const T0 = 1_700_000_000; // 2023-11-14 22:13:20Z (17:13:20 in New York)
const chromiumPath = tool('/usr/bin/chromium', 'chromium');

interface Drawn {
  /** fraction of the plot's height (0 top, 1 bottom) of the highest and lowest line pixel */
  top: number;
  bottom: number;
  /** line pixels in each tenth of the plot's width */
  columns: number[];
}

/** Where the chart's line (its stroke colour, opaque) is drawn inside the plot area. */
function drawnLine(page: Page, chart: string, rgb: [number, number, number]): Promise<Drawn> {
  return page.$eval(
    chart,
    (el, rgb) => {
      const canvas = el.querySelector('canvas');
      const over = el.querySelector('.u-over');
      if (!canvas || !over) throw new Error('no chart');
      const c = canvas.getBoundingClientRect();
      const o = over.getBoundingClientRect();
      const sx = canvas.width / c.width;
      const sy = canvas.height / c.height;
      const x0 = Math.round((o.left - c.left) * sx);
      const y0 = Math.round((o.top - c.top) * sy);
      const w = Math.round(o.width * sx);
      const h = Math.round(o.height * sy);
      const d = canvas.getContext('2d')!.getImageData(x0, y0, w, h).data;
      let top = 1;
      let bottom = 0;
      const columns = new Array<number>(10).fill(0);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (y * w + x) * 4;
          const near = Math.abs(d[i]! - rgb[0]) + Math.abs(d[i + 1]! - rgb[1]) + Math.abs(d[i + 2]! - rgb[2]) < 40;
          if (!near || d[i + 3]! < 200) continue;
          top = Math.min(top, y / h);
          bottom = Math.max(bottom, y / h);
          columns[Math.min(9, Math.floor((10 * x) / w))]!++;
        }
      }
      return { top, bottom, columns };
    },
    rgb,
  );
}
const BYTES_RGB: [number, number, number] = [0x4f, 0xb3, 0xff];

describe.skipIf(chromiumPath === null)('dashboard as an operator sees it (headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser.close();
  });

  const open = async (url: string, opts: { width?: number; timezoneId?: string } = {}) => {
    const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1400, height: 1000 }, timezoneId: opts.timezoneId ?? 'UTC' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // (the test's own canvas readback draws Chrome's willReadFrequently hint)
      if (m.type() === 'error' || (m.type() === 'warning' && !m.text().includes('willReadFrequently'))) errors.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    return { page, errors, close: () => ctx.close() };
  };

  it('writes chart times in UTC like the rest of the page, in a browser set to New York time', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      for (let i = 0; i < 30; i++) pubSummary(sink, summary(T0 + i, 3, 10 + (i % 7)));
      const { page, errors, close } = await open(sink.url, { timezoneId: 'America/New_York' });
      await page.waitForSelector('#chart-bytes[data-points="30"]');
      expect(await page.textContent('#h-ts')).toBe('2023-11-14 22:13:49Z');
      // hover the newest second: the legend's time is that second, as the tile writes it
      const over = await page.$('#chart-bytes .u-over');
      const box = await over!.boundingBox();
      await page.mouse.move(box!.x + box!.width - 1, box!.y + box!.height / 2);
      const legendTime = await page.$eval('#chart-bytes .u-legend .u-series:first-child .u-value', (e) => e.textContent);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-new-york.png') });
      expect(legendTime).toBe('2023-11-14 22:13:49Z');
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('draws rates from zero: 1,000 packets/s with a dip to 990 is not a fall to nothing', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      for (let i = 0; i < 30; i++) pubSummary(sink, summary(T0 + i, 3, i === 15 ? 990 : 1000 + (i % 3)));
      const { page, close } = await open(sink.url);
      await page.waitForSelector('#chart-bytes[data-points="30"]');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-from-zero.png') });
      const line = await drawnLine(page, '#chart-bytes', BYTES_RGB);
      // 990..1,002 on an axis from 0: the whole line is in the top fifth of the plot
      expect(line.bottom).toBeLessThan(0.2);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('breaks the line at a gap that came before the page connected (it is in no message of the hello)', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      // seconds 0-19, a gap (no summaries for 60 s, said once by a gap message), seconds 80-99
      for (let i = 0; i < 20; i++) pubSummary(sink, summary(T0 + i, 3, 10));
      pub(sink, { type: 'gap', v: SCHEMA_VERSION, from: T0 + 20, to: T0 + 79 });
      for (let i = 80; i < 100; i++) pubSummary(sink, summary(T0 + i, 3, 10));
      const { page, errors, close } = await open(sink.url);
      await page.waitForSelector('#chart-bytes[data-points="40"]');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-gap-in-history.png') });
      const before = await drawnLine(page, '#chart-bytes', BYTES_RGB);
      // 100 s wide: seconds 20..79 are columns 2..7; nothing is drawn across them
      expect(before.columns[0]).toBeGreaterThan(0);
      expect(before.columns[9]).toBeGreaterThan(0);
      expect(before.columns.slice(3, 7)).toEqual([0, 0, 0, 0]);
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('keeps the last 5 minutes by time: a capture years after another is not squeezed to the chart\'s edge', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      for (let i = 0; i < 20; i++) pubSummary(sink, summary(T0 + i, 3, 10));
      const { page, errors, close } = await open(sink.url);
      await page.waitForSelector('#chart-bytes[data-points="20"]');
      // a second capture years later (replay a.pcap b.pcap): the chart shows the last five
      // minutes, not nine years with two slivers of data at its ends
      pub(sink, { type: 'gap', v: SCHEMA_VERSION, from: T0 + 20, to: T0 + 300_000_000 - 1 });
      for (let i = 0; i < 20; i++) pubSummary(sink, summary(T0 + 300_000_000 + i, 3, 10));
      await page.waitForFunction(() => document.getElementById('h-ts')?.textContent === '2033-05-18 03:33:39Z');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-gap-years.png') });
      const after = await drawnLine(page, '#chart-bytes', BYTES_RGB);
      // the 20 s after the gap fill the right third of a minute-wide axis; the capture before
      // the gap is out of the window, not a sliver at the left edge
      expect(after.columns.slice(7).every((n) => n > 0)).toBe(true);
      expect(after.columns.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('keeps an alert that is still raised on the list while 250 others come and go (new hosts)', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      pubSummary(sink, summary(T0, 2, 10));
      const { page, errors, close } = await open(sink.url);
      await page.waitForSelector('#status[data-state="open"]');
      pubAlert(sink, alert('raised', 'syn-flood/SYN_Flood/10.0.0.1', T0, { note: 'SYN_Flood', severity: 'critical', detector: 'syn-flood' }));
      await page.waitForSelector('#alerts li[data-note="SYN_Flood"]');
      for (let i = 0; i < 250; i++) {
        const key = `new-host/New_Host/10.9.${i >> 8}.${i & 255}`;
        const over = { note: 'New_Host', severity: 'info' as const, detector: 'new-host', host: `10.9.${i >> 8}.${i & 255}` };
        pubAlert(sink, alert('raised', key, T0 + 1 + i, over));
        pubAlert(sink, alert('resolved', key, T0 + 11 + i, { ...over, since: T0 + 1 + i }));
      }
      await page.waitForSelector('#alerts li[data-host="10.9.0.249"][data-state="resolved"]');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alert-churn.png') });
      // the flood is still raised: it is still listed, once, and the list stays bounded
      expect(await page.$$eval('#alerts li[data-note="SYN_Flood"]', (l) => l.map((e) => e.getAttribute('data-state')))).toEqual(['raised']);
      expect(await page.$$eval('#alerts li', (l) => l.length)).toBeLessThanOrEqual(201);
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('lists the alerts that came and went before the page connected (after a replay ended, or a reconnect), once each', async () => {
    const flood = { ts: T0 + 5, detector: 'syn-flood', note: 'SYN_Flood', severity: 'critical', host: '10.0.0.1', message: 'SYN flood on 10.0.0.1', resolvedTs: T0 + 15 };
    const scan = { ts: T0 + 20, detector: 'port-scan', note: 'Port_Scan', severity: 'warning', host: '10.0.0.9', message: 'port scan from 10.0.0.9', resolvedTs: T0 + 30 };
    const risky = { ts: T0 + 2, detector: 'risky-services', note: 'Risky_Services', severity: 'warning', host: '10.0.0.6', message: 'risky services on 10.0.0.6', resolvedTs: null };
    const view = fakeView({
      ...REPORT,
      alerts: {
        raised: 3, resolved: 2, suppressed: 0, rateLimited: 0, dropped: 0,
        byDetector: { 'syn-flood': 1, 'port-scan': 1, 'risky-services': 1 },
        bySeverity: { info: 0, warning: 2, critical: 1 },
        openAtEnd: 1,
        list: [risky, flood, scan],
      },
    });
    const sink = await startFeed(feedConfig({ port: 0 }), view);
    try {
      pubSummary(sink, summary(T0 + 40, 2, 10));
      // the one still raised is in the hello
      pubAlert(sink, alert('raised', 'risky-services/Risky_Services/10.0.0.6', T0 + 2, { note: 'Risky_Services', detector: 'risky-services', host: '10.0.0.6', message: risky.message }));
      const { page, errors, close } = await open(sink.url);
      await page.waitForSelector('#alert-count[data-raised="3"]');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alerts-before-connect.png') });
      const rows = () => page.$$eval('#alerts li', (l) => l.map((e) => `${e.getAttribute('data-note')} ${e.getAttribute('data-state')}`));
      expect(await rows()).toEqual(['Risky_Services raised', 'Port_Scan resolved', 'SYN_Flood resolved']);
      expect(await page.textContent('#alerts li[data-note="SYN_Flood"]')).toContain('since 2023-11-14 22:13:25Z, resolved 2023-11-14 22:13:35Z');
      // the final report names the same alerts again: no second row
      pub(sink, { type: 'report', v: SCHEMA_VERSION, ...view.snapshot(0) });
      await page.waitForTimeout(200);
      expect(await rows()).toEqual(['Risky_Services raised', 'Port_Scan resolved', 'SYN_Flood resolved']);
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('rounds before choosing the unit: 999,999 B is 1.00 MB, not 1000.0 kB', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      const s = summary(T0, 2, 10);
      s.bytes = 999_990;
      s.hosts[0]!.tx.bytes = 999_999;
      pubSummary(sink, s);
      const { page, close } = await open(sink.url);
      await page.waitForSelector('#hosts tbody tr');
      expect(await page.textContent('#h-bps')).toBe('1.00 MB');
      expect(await page.$eval('#hosts tbody tr td:nth-child(4)', (e) => e.textContent)).toBe('1.00 MB');
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('says it is waiting for data before the first second, instead of two blank panels', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      const { page, close } = await open(sink.url);
      await page.waitForSelector('#status[data-state="open"]');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-before-first-second.png') });
      expect(await page.locator('#chart-bytes').locator('xpath=..').textContent()).toContain('waiting for the first second of traffic');
      pubSummary(sink, summary(T0, 2, 10));
      await page.waitForSelector('#chart-bytes[data-points="1"]');
      await page.waitForTimeout(100);
      expect(await page.locator('.chart-empty:visible').count()).toBe(0);
      // one second on a minute-wide axis (uPlot alone widens a lone point to a day of ticks)
      const span = await page.evaluate(() => {
        const x = (window as unknown as { netpulse: { charts: { bytes: { scales: { x: { min: number; max: number } } } } } }).netpulse.charts.bytes.scales.x;
        return x.max - x.min;
      });
      expect(span).toBe(60);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('fits a phone-width window: the hosts table with IPv6 addresses scrolls in its panel, the page does not', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      const s = summary(T0, 10, 10);
      s.hosts.forEach((h, i) => {
        h.addr = `2001:db8:f100:1234:5678:9abc:def0:${(0x1000 + i).toString(16)}`;
      });
      pubSummary(sink, s);
      const { page, errors, close } = await open(sink.url, { width: 390 });
      await page.waitForSelector('#hosts tbody tr');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(await overflow()).toBe(0);
      // the addresses are whole, in a table that scrolls sideways
      expect(await page.$eval('#hosts tbody tr td', (e) => e.textContent)).toBe('2001:db8:f100:1234:5678:9abc:def0:1000');
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);

  it('follows a desktop window made narrower (still two charts side by side) without a sideways scroll', async () => {
    const sink = await startFeed(feedConfig({ port: 0 }), fakeView());
    try {
      for (let i = 0; i < 10; i++) pubSummary(sink, summary(T0 + i, 3, 10));
      const { page, errors, close } = await open(sink.url, { width: 1400 });
      await page.waitForSelector('#chart-bytes[data-points="10"]');
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(await overflow()).toBe(0);
      await page.setViewportSize({ width: 1000, height: 1000 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrowed.png'), fullPage: true });
      expect(await overflow()).toBe(0);
      expect(errors).toEqual([]);
      await close();
    } finally {
      await sink.close();
    }
  }, 60_000);
});
