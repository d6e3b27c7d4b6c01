// The alert record as the README's "Detectors and alerts" documents it, checked on real runs
// of every detector: each field present with its type, numbers finite (JSON, ECMA-404, has no
// NaN or Infinity: Python's json module is the oracle where it is installed), one raise and
// one resolve per key, one-line messages, and the same records on stdout (--json), in
// --alerts FILE and in the webhook's bodies. Also: a zscore floor of 0 (a flat baseline's
// stdev 0) must not make z infinite, as the README promises.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { detectConfigFromOptions } from '../../src/cli/detect-options.js';
import { CLI } from '../helpers/cli.js';
import { onlyDetector, second } from './helpers.js';

type Rec = Record<string, unknown>;

const FIELDS = ['type', 'v', 'id', 'ts', 'state', 'detector', 'note', 'severity', 'key', 'host', 'metric', 'value', 'threshold', 'baseline', 'message', 'since'];
const SEVERITY: Record<string, string> = {
  'new-host': 'info',
  threshold: 'warning',
  zscore: 'warning',
  'port-scan': 'warning',
  'risky-services': 'warning',
  'rate-limit': 'warning',
  'syn-flood': 'critical',
  silence: 'critical',
};

function finite(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Every documented field, with the README's types and meanings. */
function checkRecord(a: Rec): void {
  expect(Object.keys(a).sort()).toEqual([...FIELDS].sort());
  expect(a.type).toBe('alert');
  expect(a.v).toBe(1);
  expect(typeof a.id).toBe('string');
  expect(Number.isInteger(a.ts)).toBe(true);
  expect(Number.isInteger(a.since)).toBe(true);
  expect(a.since as number).toBeLessThanOrEqual(a.ts as number);
  if (a.state === 'raised' && a.detector !== 'silence') expect(a.since).toBeLessThanOrEqual(a.ts as number);
  expect(['raised', 'resolved']).toContain(a.state);
  expect(a.severity).toBe(SEVERITY[a.detector as string]);
  expect(a.key).toBe([a.detector, a.note, ...(a.host === null ? [] : [a.host])].join('/'));
  expect(a.host === null || typeof a.host === 'string').toBe(true);
  expect(typeof a.metric).toBe('string');
  expect(finite(a.value)).toBe(true);
  expect(a.threshold === null || finite(a.threshold)).toBe(true);
  if (a.detector === 'zscore') {
    const b = a.baseline as Rec;
    expect(Object.keys(b).sort()).toEqual(['mean', 'stdev', 'z']);
    expect(finite(b.mean) && finite(b.stdev) && finite(b.z)).toBe(true);
    expect(b.stdev as number).toBeGreaterThan(0);
  } else {
    expect(a.baseline).toBeNull();
  }
  // one line, no control characters (C0, DEL, C1, line and paragraph separators)
  expect(a.message).toMatch(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/);
}

const python = spawnSync('python3', ['-c', 'import json']).status === 0;

/** Python's json module, refusing NaN and Infinity, reads every line. */
function pythonAccepts(text: string): void {
  if (!python) return;
  const r = spawnSync(
    'python3',
    ['-c', 'import sys, json\ndef bad(c): raise ValueError(c)\nfor l in sys.stdin: json.loads(l, parse_constant=bad)\nprint("ok")'],
    { input: text, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe('ok');
}

const dir = mkdtempSync(join(tmpdir(), 'np-alert-record-'));
const capture = join(dir, 'all.pcap');
// every detector's anomaly (threshold and global zscore by the options below)
const made = spawnSync(
  process.execPath,
  [CLI, 'synth', capture, '--packets', '20000', '--hosts', '50', '--seconds', '120', '--burst', '70:3:12:20', '--new-host', '80', '--port-scan', '60:5:7', '--sweep', '90:6:22', '--syn-flood', '100:2:500:5', '--silence', '40:15', '--seed', '3', '--no-truth'],
  { encoding: 'utf8' },
);

describe('the alert record on a run of every detector', () => {
  it('is the same on stdout, in --alerts FILE and in the webhook bodies, with every documented field', async () => {
    expect(made.status, made.stderr).toBe(0);
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (b += c));
      req.on('end', () => {
        bodies.push(b);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const file = join(dir, 'alerts.ndjson');
    const args = [CLI, 'replay', capture, '--json', '--learn', '10s', '--threshold', 'packets=400', '--threshold', 'tx-packets=150', '--alert-rate', '14/60s', '--alerts', file, '--webhook', url, '--sensor', 'lab'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const status = await new Promise<number | null>((r) => child.once('close', r));
    server.close();
    expect(err).toBe('');
    expect(status).toBe(0);

    const stdoutAlerts = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec)
      .filter((m) => m.type === 'alert');
    const fileText = readFileSync(file, 'utf8');
    pythonAccepts(out);
    pythonAccepts(fileText);
    const fileAlerts = fileText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
    const hookAlerts = bodies.map((b) => (JSON.parse(b) as { alert: Rec }).alert);
    expect(fileAlerts).toEqual(stdoutAlerts);
    expect(hookAlerts).toEqual(stdoutAlerts);

    const detectors = new Set(stdoutAlerts.map((a) => a.detector));
    for (const d of ['new-host', 'threshold', 'zscore', 'port-scan', 'syn-flood', 'risky-services', 'silence', 'rate-limit']) expect(detectors, d).toContain(d);
    for (const a of stdoutAlerts) checkRecord(a);
    // one raise, then one resolve, per key; ids unique
    const byKey = new Map<string, string[]>();
    for (const a of stdoutAlerts) byKey.set(a.key as string, [...(byKey.get(a.key as string) ?? []), a.state as string]);
    for (const [k, states] of byKey) expect(states, k).toEqual(['raised', 'resolved']);
    expect(new Set(stdoutAlerts.map((a) => a.id)).size).toBe(stdoutAlerts.length);
    // the report counts what was sent
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { alerts: { raised: number; resolved: number } };
    expect(report.alerts.raised).toBe(stdoutAlerts.filter((a) => a.state === 'raised').length);
    expect(report.alerts.resolved).toBe(stdoutAlerts.filter((a) => a.state === 'resolved').length);
  }, 60_000);
});

describe('zscore: z stays a finite number over a flat baseline', () => {
  it('refuses an absolute stdev floor of 0 or off (README: a flat baseline cannot give an infinite z)', () => {
    for (const [key, v] of [
      ['floor', { bytes: 0 }],
      ['floor', { packets: null }],
      ['hosts', { floor: { packets: 0 } }],
      ['hosts', { floor: { bytes: 'off' } }],
    ] as const) {
      const f = join(dir, `z-${key}-${JSON.stringify(v).length}.json`);
      writeFileSync(f, JSON.stringify({ zscore: { [key]: v } }));
      expect(() => detectConfigFromOptions({ config: f }), JSON.stringify(v)).toThrow(/must be more than 0/);
    }
  });

  it('gives a finite z, kept a number through JSON, even with the tiniest floor', () => {
    const stage = createDetectStage(
      onlyDetector((c) => {
        c.zscore.enabled = true;
        c.zscore.warmup = 5;
        c.zscore.hosts.enabled = false;
        c.zscore.floor = { relative: 0, bytes: 5e-324, packets: 5e-324 };
      }),
    );
    const out: Alert[] = [];
    // flat 100 packets/s, 10 kB/s (stdev 0), then five seconds five times higher
    for (let t = 0; t < 40; t++) {
      const spike = t >= 30 && t < 35;
      out.push(...stage.observe(second(1000 + t, { packets: spike ? 500 : 100, bytes: spike ? 50_000 : 10_000 })));
    }
    out.push(...stage.finish(1040));
    expect(out.map((a) => a.state)).toEqual(['raised', 'resolved']);
    for (const a of out) {
      const back = JSON.parse(JSON.stringify(a)) as Alert;
      expect(finite(back.baseline?.z), JSON.stringify(a)).toBe(true);
      expect(back.message).not.toMatch(/Infinity|NaN/);
    }
  });
});
