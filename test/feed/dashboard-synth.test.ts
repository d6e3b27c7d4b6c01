// The dashboard against the real command on a synthetic capture: `netpulse synth` writes a
// short capture with a labelled SYN flood, `netpulse replay - --speed 5 --serve 0 --json`
// serves it, and headless Chromium must show the flood's alert (note and host as the truth
// file names them) raised, then resolved, while the charts grow and the hosts table fills.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, drawnPixels, launchBrowser } from './browser.js';
import { tool } from './tools.js';

const CLI = join(process.cwd(), 'dist', 'bin', 'netpulse.js');
const chromiumPath = tool('/usr/bin/chromium', 'chromium');
const tsharkPath = tool('/usr/bin/tshark', 'tshark');

/** The README's detector table ("notes (Zeek-style)"): the note each synth anomaly kind
 *  is alerted as, by which detector. */
const NOTE_OF_KIND: Record<string, { detector: string; note: string }> = {
  'syn-flood': { detector: 'syn-flood', note: 'SYN_Flood' },
};

/** Weights of a few risky services (README, "Default risky-service table"); a host that
 *  serves one scores at least its weight. */
const RISKY_TCP: Record<number, number> = { 23: 50, 21: 30, 445: 20, 3389: 25, 5900: 30, 6379: 30 };

/** What the test needs from netpulse-synth-truth (README "Truth file"). */
interface Truth {
  packets: number;
  seconds: { ts: number; packets: number; bytes: number }[];
  hosts: { addr: string }[];
  anomalies: { kind: string; start: number; end: number; hosts: string[] }[];
}

/** What the page showed, in order, as a MutationObserver in the page saw it (so a state
 *  that lasted one frame is not missed by polling). */
interface Seen {
  points: number;
  alerts: string[];
}

// Installed before the dashboard's own script: logs every change of the chart's point
// count and of the alert list (note|host|state|since|ts per row) into window.__seen.
const RECORDER = `
  window.__seen = [];
  document.addEventListener('DOMContentLoaded', function () {
    var last = '';
    function look() {
      var c = document.getElementById('chart-bytes');
      var points = c ? Number(c.getAttribute('data-points')) : 0;
      var alerts = Array.from(document.querySelectorAll('#alerts li'), function (li) {
        return [li.dataset.note, li.dataset.host, li.dataset.state, li.dataset.since, li.dataset.ts].join('|');
      });
      var key = points + ' ' + alerts.join(',');
      if (key !== last) { last = key; window.__seen.push({ points: points, alerts: alerts }); }
    }
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true });
    look();
  });
`;

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

function readUrl(child: ChildProcessWithoutNullStreams, log: { stderr: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL on stderr within 10 s: ${log.stderr}`)), 10_000);
    child.stderr.on('data', () => {
      const m = /serving the dashboard and feed on (http:\/\/\S+)/.exec(log.stderr);
      if (m?.[1] !== undefined) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`netpulse exited (${String(code)}) before serving: ${log.stderr}`)));
  });
}

describe.skipIf(chromiumPath === null)('dashboard on `netpulse replay --serve` of a synthetic SYN flood', () => {
  it('shows the labelled flood raised then resolved, while the charts grow and the hosts table fills', async () => {
    // `npm test` builds first; a missing build is a failure, not a skip
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'netpulse-dash-synth-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const pcap = join(dir, 'flood.pcapng');
    // 20 s of light traffic (30 hosts); host 1 flooded with 300 spoofed SYN/s from second 8
    // for 3 s; host 0 sweeps telnet on 20 hosts from second 16 (they answer: risky servers)
    const synth = spawnSync(
      process.execPath,
      [CLI, 'synth', pcap, '--packets', '400', '--hosts', '30', '--seconds', '20', '--seed', '7',
        '--syn-flood', '8:1:300:3', '--sweep', '16:0:23:20:10', '-q'],
      { encoding: 'utf8' },
    );
    expect(synth.status, synth.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(dir, 'flood.truth.json'), 'utf8')) as Truth;
    const flood = truth.anomalies.find((a) => a.kind === 'syn-flood');
    if (flood === undefined) throw new Error('the truth file labels no syn-flood');
    const flooded = flood.hosts[0];
    const expectedNote = NOTE_OF_KIND[flood.kind];
    if (flooded === undefined || expectedNote === undefined) throw new Error('truth file: flood without a host');

    const browser = await launchBrowser();
    cleanup.push(() => browser.close());

    // The real command. The capture comes on stdin once the page is connected, so the page
    // sees the whole replay whatever the machine's load (a file would start playing at once).
    const child = spawn(process.execPath, [CLI, 'replay', '-', '--speed', '5', '--serve', '0', '--json'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // 'close': the process has exited and its stdout has been read to the end
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    cleanup.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const log = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (log.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (log.stderr += d));
    const url = await readUrl(child, log);

    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.addInitScript({ content: RECORDER });
    await page.goto(url);
    await page.waitForSelector('#status[data-state="open"]');
    expect(await page.getAttribute('#chart-bytes', 'data-points')).toBe('0');

    child.stdin.end(readFileSync(pcap));
    const row = `#alerts li[data-note="${expectedNote.note}"][data-host="${flooded}"]`;
    await page.waitForSelector(`${row}[data-state="raised"]`, { timeout: 15_000 });
    await page.waitForSelector(`${row}[data-state="resolved"]`, { timeout: 15_000 });
    await page.waitForSelector('#mode[data-mode="ended"]', { timeout: 15_000 });
    // the report has gone out (the counts are the report's once the page shows them)
    await page.waitForFunction(() => document.getElementById('alert-count')?.getAttribute('data-open') === '0');

    // raised, then resolved: the page's own record, in order
    const seen = (await page.evaluate('window.__seen')) as Seen[];
    const stateOf = (s: Seen): string | null => {
      const a = s.alerts.find((x) => x.startsWith(`${expectedNote.note}|${flooded}|`));
      return a === undefined ? null : (a.split('|')[2] ?? null);
    };
    const states = seen.map(stateOf).filter((s, i, all) => s !== null && s !== all[i - 1]);
    expect(states).toEqual(['raised', 'resolved']);
    const firstRaised = seen.find((s) => stateOf(s) === 'raised');
    // the charts were still growing when the alert appeared, one point at a time
    expect(firstRaised?.points).toBeGreaterThan(0);
    expect(firstRaised?.points).toBeLessThan(truth.seconds.length);
    const points = seen.map((s) => s.points).filter((p, i, all) => p !== all[i - 1]);
    expect(points.length).toBeGreaterThan(3);
    for (let i = 1; i < points.length; i++) expect(points[i]).toBeGreaterThan(points[i - 1] ?? Infinity);
    expect(points[points.length - 1]).toBe(truth.seconds.length);

    // the alert's times lie where the truth file puts the flood
    const li = await page.$(`${row}[data-state="resolved"]`);
    const since = Number(await li?.getAttribute('data-since'));
    const resolvedAt = Number(await li?.getAttribute('data-ts'));
    expect(since).toBeGreaterThanOrEqual(flood.start);
    expect(since).toBeLessThan(flood.end);
    expect(resolvedAt).toBeGreaterThanOrEqual(flood.end);
    const text = await li?.textContent();
    expect(text).toContain(`${expectedNote.note} ${flooded}`);
    expect(text).toContain(expectedNote.detector);

    // the figures are the truth file's: every second charted, totals, the last second's rate
    expect(await drawnPixels(page, '#chart-bytes')).toBeGreaterThan(500);
    expect(await drawnPixels(page, '#chart-packets')).toBeGreaterThan(500);
    await page.waitForFunction((n) => document.getElementById('h-packets')?.textContent === n, truth.packets.toLocaleString('en-US'));
    const last = truth.seconds[truth.seconds.length - 1];
    expect(await page.textContent('#h-pps')).toBe(String(last?.packets));
    const rows = await page.$$eval('#hosts tbody tr', (trs) =>
      trs.map((tr) => ({ addr: tr.children[0]?.textContent ?? '', risk: Number(tr.querySelector('td.risk')?.getAttribute('data-risk')) })),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(truth.hosts.map((h) => h.addr)).toContain(r.addr);

    const pageRaised = await page.getAttribute('#alert-count', 'data-raised');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-synth-flood.png'), fullPage: true });
    expect(errors).toEqual([]);

    // Ctrl-C: the command exits 0 after a finished replay and the page sees the close
    child.kill('SIGINT');
    const [code] = await closed;
    expect(code, log.stderr).toBe(0);
    await page.waitForSelector('#status[data-state="closed"]');
    await page.close();

    // the same run's NDJSON (stdout, complete now): the page's last hosts and risk scores,
    // and its alert counts
    const ndjson = log.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = ndjson.filter((m) => m.type === 'summary') as { hosts: { addr: string; risk?: number }[] }[];
    const lastHosts = summaries[summaries.length - 1]?.hosts ?? [];
    expect(rows).toEqual(lastHosts.map((h) => ({ addr: h.addr, risk: h.risk ?? 0 })));
    const report = ndjson.find((m) => m.type === 'report') as { alerts?: { raised: number } } | undefined;
    expect(report?.alerts?.raised).toBeGreaterThanOrEqual(1);
    expect(pageRaised).toBe(String(report?.alerts?.raised));

    // risk against the README's table: a host that served risky services (SYN-ACKs from
    // their ports, found by tshark) scores at least the sum of their weights (at most 100)
    if (tsharkPath !== null) {
      const filter = `tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport in {${Object.keys(RISKY_TCP).join(',')}}`;
      const ts = spawnSync(tsharkPath, ['-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport'], {
        encoding: 'utf8',
      });
      expect(ts.status, ts.stderr).toBe(0);
      const served = new Map<string, Set<number>>();
      for (const line of ts.stdout.split('\n')) {
        const [v4, v6, port] = line.split('\t');
        const addr = v4 || v6;
        if (!addr) continue;
        served.set(addr, (served.get(addr) ?? new Set()).add(Number(port)));
      }
      const floor = (addr: string): number => {
        let w = 0;
        for (const p of served.get(addr) ?? []) w += RISKY_TCP[p] ?? 0;
        return Math.min(100, w);
      };
      const risky = rows.filter((r) => floor(r.addr) > 0);
      expect(risky.length, `no risky server among ${rows.map((r) => r.addr).join(' ')}`).toBeGreaterThan(0);
      for (const r of risky) expect(r.risk, r.addr).toBeGreaterThanOrEqual(floor(r.addr));
    }
  }, 30_000);
});
