// A detector whose table is full keeps no state for what it refuses: the report says so
// (report.alerts.untracked, by detector) instead of leaving a silent blind spot. The oracle is
// the pigeonhole: 2,000 spoofed SYN sources a second for 5 s cannot all fit a 1,024-entry
// half-open table, and easily fit the default 16,384.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ndjson, run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'np-untracked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function untracked(args: readonly string[]): Record<string, number> | undefined {
  const r = run(['replay', ...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  const report = ndjson(r.stdout).find((m) => m.type === 'report') as unknown as { alerts: { untracked?: Record<string, number> } };
  return report.alerts.untracked;
}

describe('report.alerts.untracked', () => {
  const cap = join(dir, 'flood.pcap');
  const small = join(dir, 'small.json');
  run(['synth', cap, '-n', '2000', '--hosts', '20', '--seconds', '20', '--syn-flood', '5:10.0.0.1:2000:5', '--no-truth']);
  writeFileSync(small, JSON.stringify({ 'syn-flood': { tableSize: 1024 } }));

  it('names the detector whose full table refused entries, in-thread and on the detector thread alike', () => {
    const inThread = untracked([cap, '--config', small]);
    expect(inThread?.['syn-flood']).toBeGreaterThan(0);
    expect(untracked([cap, '--config', small, '--detect-thread'])).toEqual(inThread);
  });

  it('is absent when every table had room', () => {
    expect(untracked([cap])).toBeUndefined();
  });
});

describe('the human report', () => {
  it('says which detector tables were full, with the counts the JSON gives', () => {
    const cap = join(dir, 'flood2.pcap');
    const small = join(dir, 'small2.json');
    run(['synth', cap, '-n', '2000', '--hosts', '20', '--seconds', '20', '--syn-flood', '5:10.0.0.1:2000:5', '--no-truth']);
    writeFileSync(small, JSON.stringify({ 'syn-flood': { tableSize: 1024 } }));
    const n = untracked([cap, '--config', small])?.['syn-flood'] ?? 0;
    const text = run(['replay', cap, '--config', small]).stdout;
    expect(text).toContain(`Not tracked (detector tables full): syn-flood ${n.toLocaleString('en-US')}`);
  });
});

describe('/metrics', () => {
  it('serves the same counts as netpulse_detector_untracked_total{detector}', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/cli.js');
    const cap = join(dir, 'flood3.pcap');
    const small = join(dir, 'small3.json');
    run(['synth', cap, '-n', '2000', '--hosts', '20', '--seconds', '20', '--syn-flood', '5:10.0.0.1:2000:5', '--no-truth']);
    writeFileSync(small, JSON.stringify({ 'syn-flood': { tableSize: 1024 } }));
    const expected = untracked([cap, '--config', small]) ?? {};
    const child = spawn(process.execPath, [CLI, 'replay', cap, '--config', small, '--json', '--serve', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      const t0 = Date.now();
      while (!err.includes('replay finished') && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
      const url = /serving the dashboard and feed on (http:\/\/\S+)/.exec(err)?.[1];
      expect(url, err).toBeDefined();
      const text = await (await fetch(new URL('metrics', url))).text();
      const served = Object.fromEntries([...text.matchAll(/^netpulse_detector_untracked_total\{detector="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
      expect(served).toEqual(expected);
      expect(Object.keys(served).length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGINT');
    }
  });
});
