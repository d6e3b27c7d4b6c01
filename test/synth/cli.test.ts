// `netpulse synth` as a user runs it (the built CLI, dist/bin/netpulse.js): byte-identical
// output for the same arguments, stdout and gzip output, --help, and one-line errors
// with exit status 2 for bad arguments.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/synth/generate.js';

const MAIN = resolve(import.meta.dirname, '../../dist/bin/netpulse.js');
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);

const dir = mkdtempSync(join(tmpdir(), 'netpulse-synth-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'synth', ...args], { cwd: dir, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

const ARGS = ['--packets', '3000', '--hosts', '40', '--seconds', '20', '--seed', '7', '--burst', '5:0:3:4', '--port-scan', '8:[2001:db8::9]:9:50:25', '--ipv6', '0.3'];

describe('netpulse synth: determinism and outputs', () => {
  it('the same arguments give byte-identical captures and truth files', () => {
    for (const ext of ['pcap', 'pcapng']) {
      expect(run([`a.${ext}`, ...ARGS]).status).toBe(0);
      expect(run([`b.${ext}`, ...ARGS]).status).toBe(0);
      const a = readFileSync(join(dir, `a.${ext}`));
      const b = readFileSync(join(dir, `b.${ext}`));
      expect(a.length).toBeGreaterThan(100_000);
      expect(a.equals(b)).toBe(true);
      const ta = JSON.parse(readFileSync(join(dir, 'a.truth.json'), 'utf8')) as { file: { path: string } };
      const tb = JSON.parse(readFileSync(join(dir, 'b.truth.json'), 'utf8')) as { file: { path: string } };
      ta.file.path = tb.file.path;
      expect(ta).toEqual(tb);
    }
  });

  it('the order of the anomalies does not matter (command line or library)', async () => {
    const common = ['--packets', '2000', '--hosts', '30', '--seconds', '20'];
    const a = ['--new-host', '12', '--burst', '3:0:4:3', '--syn-flood', '6:1:100:2', '--new-host', '15:192.168.1.9', '--anomaly', 'silence:9:2'];
    const b = ['--anomaly', 'silence:9:2', '--new-host', '15:192.168.1.9', '--syn-flood', '6:1:100:2', '--new-host', '12', '--burst', '3:0:4:3'];
    expect(run(['order-a.pcap', ...common, ...a]).status).toBe(0);
    expect(run(['order-b.pcap', ...common, ...b]).status).toBe(0);
    const fa = readFileSync(join(dir, 'order-a.pcap'));
    expect(fa.equals(readFileSync(join(dir, 'order-b.pcap')))).toBe(true);
    await generate({
      out: join(dir, 'order-lib.pcap'),
      packets: 2000,
      hosts: 30,
      seconds: 20,
      anomalies: [
        { kind: 'silence', at: 9, seconds: 2 },
        { seconds: 2, pps: 100, dst: '1', at: 6, kind: 'syn-flood' },
        { kind: 'new-host', at: 15, host: '192.168.1.9' },
        { kind: 'burst', at: 3, host: '0', factor: 4, seconds: 3 },
        { kind: 'new-host', at: 12 },
      ],
    });
    expect(fa.equals(readFileSync(join(dir, 'order-lib.pcap')))).toBe(true);
  });

  it('another seed gives another capture', () => {
    expect(run(['s8.pcap', ...ARGS, '--seed', '8']).status).toBe(0);
    expect(run(['s7.pcap', ...ARGS]).status).toBe(0);
    expect(readFileSync(join(dir, 's8.pcap')).equals(readFileSync(join(dir, 's7.pcap')))).toBe(false);
  });

  it('the library writes the same bytes as the command', async () => {
    expect(run(['cli.pcap', '--packets', '2000', '--hosts', '30', '--seconds', '10', '--seed', '3', '--syn-flood', '4:2:100:3']).status).toBe(0);
    await generate({ out: join(dir, 'lib.pcap'), packets: 2000, hosts: 30, seconds: 10, seed: 3, anomalies: [{ kind: 'syn-flood', at: 4, dst: '2', pps: 100, seconds: 3 }] });
    expect(readFileSync(join(dir, 'lib.pcap')).equals(readFileSync(join(dir, 'cli.pcap')))).toBe(true);
  });

  it('- writes the same capture to stdout, and no truth file unless asked', () => {
    expect(run(['file.pcap', ...ARGS]).status).toBe(0);
    const r = run(['-', ...ARGS]);
    expect(r.status).toBe(0);
    expect(r.stdout.equals(readFileSync(join(dir, 'file.pcap')))).toBe(true);
    expect(existsSync(join(dir, '-.truth.json'))).toBe(false);
    expect(existsSync(join(dir, 'truth.json'))).toBe(false);
    const withTruth = run(['-', ...ARGS, '--truth', 'stdout.truth.json']);
    expect(withTruth.status).toBe(0);
    expect(existsSync(join(dir, 'stdout.truth.json'))).toBe(true);
  });

  it('gzip output is deterministic, decompresses to the plain capture and names no OS', () => {
    expect(run(['plain.pcapng', ...ARGS]).status).toBe(0);
    expect(run(['z1.pcapng.gz', ...ARGS]).status).toBe(0);
    expect(run(['z2.pcapng', ...ARGS, '--gzip']).status).toBe(0);
    const z1 = readFileSync(join(dir, 'z1.pcapng.gz'));
    const z2 = readFileSync(join(dir, 'z2.pcapng'));
    expect(z1.equals(z2)).toBe(true);
    expect([z1[0], z1[1]]).toEqual([0x1f, 0x8b]);
    expect(z1[9]).toBe(255); // RFC 1952 OS field: unknown
    expect(gunzipSync(z1).equals(readFileSync(join(dir, 'plain.pcapng')))).toBe(true);
    const piped = run(['-', ...ARGS, '--gzip', '--format', 'pcapng']);
    expect(piped.status).toBe(0);
    expect(gunzipSync(piped.stdout).equals(readFileSync(join(dir, 'plain.pcapng')))).toBe(true);
  });

  it('--no-truth writes no truth file; --truth puts it elsewhere', () => {
    expect(run(['nt.pcap', ...ARGS, '--no-truth']).status).toBe(0);
    expect(existsSync(join(dir, 'nt.truth.json'))).toBe(false);
    expect(run(['t.pcap', ...ARGS, '--truth', 'elsewhere.json', '-q']).status).toBe(0);
    expect(existsSync(join(dir, 'elsewhere.json'))).toBe(true);
    expect(existsSync(join(dir, 't.truth.json'))).toBe(false);
  });
});

describe('netpulse synth --help', () => {
  it('documents every option with an example', () => {
    const r = spawnSync(process.execPath, [MAIN, 'synth', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const help = r.stdout;
    const options = [...help.matchAll(/^\s+(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1] ?? '');
    expect(options).toEqual(expect.arrayContaining(['--packets', '--hosts', '--seconds', '--seed', '--burst', '--new-host', '--port-scan', '--sweep', '--syn-flood', '--silence', '--gzip', '--format']));
    for (const o of options) {
      if (o === '--help' || o === '--no-truth') continue;
      // Each option's help entry (up to the next option) has an "e.g." or is used in an example line.
      const entry = help.slice(help.indexOf(o), help.indexOf('\n  -', help.indexOf(o) + 1));
      expect(entry.includes('e.g.') || new RegExp(`netpulse synth .*${o}\\b`).test(help), o).toBe(true);
    }
    expect(help).toMatch(/^Examples:/m);
  });
});

describe('netpulse synth: bad arguments are one-line errors with exit status 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown anomaly kind', ['--anomaly', 'meteor:5:1'], /unknown anomaly kind "meteor"/],
    ['anomaly time outside the capture', ['--seconds', '60', '--burst', '60:0:3:5'], /outside the capture/],
    ['anomaly ending after the capture', ['--seconds', '60', '--silence', '55:10'], /after the capture/],
    ['host out of range', ['--hosts', '100', '--burst', '10:100:3:5'], /out of range/],
    ['port scan too long for the capture', ['--seconds', '30', '--port-scan', '25:198.51.100.1:0:1000:100'], /after the capture/],
    ['malformed anomaly', ['--port-scan', '10:1'], /expected T:SRC:DST/],
    ['burst factor not a number', ['--burst', '10:0:lots:5'], /FACTOR/],
    ['packets not a number', ['--packets', 'many'], /--packets "many"/],
    ['negative packets', ['--packets', '-5'], /--packets/],
    ['one host', ['--hosts', '1'], /--hosts 1/],
    ['bad format', ['--format', 'pcapx'], /--format "pcapx"/],
    ['bad share', ['--ipv6', '1.5'], /--ipv6/],
    ['new host already in the pool', ['--new-host', '5:10.0.0.1'], /outside the pool/],
    ['scan across IP versions', ['--port-scan', '5:[2001:db8::1]:0'], /different IP versions/],
    ['bad start time', ['--start', 'yesterday'], /--start/],
    ['more sweep targets than hosts', ['--hosts', '20', '--sweep', '5:0:22:50'], /targets/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = run(['bad.pcap', ...args]);
      expect(r.status).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(lines[0]).toMatch(/\[ERR_BAD_OPTION\]$/);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    });
  }

  it('an unknown option exits with status 2 (commander reports it)', () => {
    expect(run(['bad.pcap', '--meteor']).status).toBe(2);
  });

  it('an output directory that does not exist is one ERR_OUTPUT line (exit status 6)', () => {
    const r = run([join(dir, 'no/such/dir/x.pcap'), '--packets', '10']);
    expect(r.status).toBe(6);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\[ERR_OUTPUT\]$/);
  });

  it('a reader that stops early is not an error', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MAIN}" synth - --packets 200000 | head -c 1000 > /dev/null`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
