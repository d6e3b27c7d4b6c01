// `netpulse synth` as a user runs it (the built CLI, dist/bin/netpulse.js): byte-identical
// output for the same arguments, stdout and gzip output, --help, and one-line errors
// with exit status 2 for bad arguments.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
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
  // The timeout bounds a regression that writes a huge capture instead of refusing it.
  const r = spawnSync(process.execPath, [MAIN, 'synth', ...args], { cwd: dir, maxBuffer: 1 << 28, timeout: 30_000 });
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

  it('numbers take the documented forms everywhere, --start included', () => {
    expect(run(['forms.pcap', '-n', '1_000', '--seconds', '1e1', '--start', '1e9', '--syn-flood', '1:0:1e2:2']).status).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'forms.truth.json'), 'utf8')) as { params: Record<string, unknown>; seconds: { ts: number }[] };
    expect(t.params).toMatchObject({ packets: 1000, seconds: 10, start: 1e9 });
    expect(t.seconds[0]?.ts).toBe(1e9);
  });

  it('the success line gives a gzip file its size on disk, and the uncompressed size labelled', () => {
    const r = run(['size.pcap.gz', ...ARGS]);
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'size.truth.json'), 'utf8')) as { file: { bytes: number } };
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
    expect(r.stderr).toContain(`, ${mb(statSync(join(dir, 'size.pcap.gz')).size)}, ${mb(t.file.bytes)} uncompressed, `);
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
      if (o === '--help') continue;
      // Each option's help entry (up to the next option) has an "e.g." or is used in an example line.
      const entry = help.slice(help.indexOf(o), help.indexOf('\n  -', help.indexOf(o) + 1));
      expect(entry.includes('e.g.') || new RegExp(`netpulse synth .*${o}\\b`).test(help), o).toBe(true);
    }
    expect(help).toMatch(/^Examples:/m);
  });
});

describe('netpulse synth: bad arguments are one-line errors with exit status 2', () => {
  // [what, arguments, message, output (default bad.pcap)]
  const cases: [string, string[], RegExp, string?][] = [
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
    ['a start date that does not exist', ['--start', '2024-02-30T00:00:00Z'], /--start "2024-02-30T00:00:00Z": not a time/],
    ['packets in hex', ['-n', '0x10'], /--packets "0x10": not a number/],
    ['more sweep targets than hosts', ['--hosts', '20', '--sweep', '5:0:22:50'], /targets/],
    ['a number in hex in an anomaly', ['--burst', '3:0:0x10:2'], /FACTOR "0x10"/],
    // Limits (README): 10^8 packets per anomaly, 2^31 per run, 10^8 spoofed sources in a
    // truth file. Written to /dev/null: a regression must not fill the disk.
    ['a SYN flood of 4.3e9 packets', ['-n', '0', '--hosts', '2', '--seconds', '430', '--syn-flood', '0:0:1e7:430', '--no-truth'], /--syn-flood 0: would add 4300000000 packets, more than the 100000000/, '/dev/null'],
    ['a burst of 1.3e8 packets (48 GB) from 100', ['-n', '100', '--hosts', '2', '--seconds', '2', '--burst', '0:0:1e6:2', '--no-truth'], /--burst 0: would add 133333\d+ packets, more than the 100000000/, '/dev/null'],
    ['a run of more than 2^31 packets', ['-n', '2147483648', '--syn-flood', '0:0:1:1', '--no-truth'], /would have 2147483649 packets, more than the 2147483648/, '/dev/null'],
    ['--packets above 2^31', ['-n', '2147483649', '--no-truth'], /--packets 2147483649: must be a whole number from 0 to 2147483648/, '/dev/null'],
    ['more spoofed sources than a truth file lists', ['-n', '0', '--seconds', '100', '--syn-flood', '0:0:1e6:100', '--syn-flood', '0:1:10:1', '--truth', 'spoofed.json'], /100000010 packets from distinct spoofed sources.*--no-truth/, '/dev/null'],
    // An anomaly that would add no packets (README: "does not fit").
    ['a burst of a host with almost no traffic', ['-n', '1000', '--hosts', '70000', '--seconds', '10', '--burst', '2:10.1.0.1:5:3'], /--burst 2: would add no packets: host 10\.1\.0\.1 has about/],
    ['a SYN flood of half a packet', ['--seconds', '10', '--syn-flood', '1:0:0.5:1'], /--syn-flood 1: would add no packets: 0\.5 packets\/s for 1 s is less than one packet/],
    ['a new host of a fiftieth of a packet', ['--seconds', '10', '--new-host', '1:192.168.9.9:0.01:2'], /--new-host 1: would add no packets/],
    ['a SYN flood inside a silence', ['--seconds', '10', '--syn-flood', '3:0:100:2', '--silence', '3:2'], /--syn-flood 3: would add no packets: .*--silence/],
    ['a port scan inside a silence', ['--seconds', '10', '--port-scan', '3:198.51.100.1:0:10:10', '--silence', '2:3'], /--port-scan 3: would add no packets: .*--silence/],
    ['two new hosts with one address', ['--seconds', '10', '--new-host', '3:192.168.200.1', '--new-host', '5:192.168.200.1'], /--new-host 5: 192\.168\.200\.1 is already the new host of --new-host 3/],
    ['the truth file is the capture', ['--truth', 'bad.pcap'], /--truth bad\.pcap: that is the capture file itself/],
    ['the truth file is the capture, spelt another way', ['--truth', `${dir}/./bad.pcap`], /that is the capture file itself/],
  ];
  for (const [what, args, message, out] of cases) {
    it(what, () => {
      const r = run([out ?? 'bad.pcap', ...args]);
      expect(r.status).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(lines[0]).toMatch(/\[ERR_BAD_OPTION\]$/);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    });
  }

  it('a truth path that is the capture (through a link) leaves an existing capture untouched', () => {
    expect(run(['keep.pcap', '--packets', '500', '--seconds', '5', '--no-truth']).status).toBe(0);
    const before = readFileSync(join(dir, 'keep.pcap'));
    symlinkSync(join(dir, 'keep.pcap'), join(dir, 'link.json'));
    const r = run(['keep.pcap', '--packets', '900', '--seconds', '5', '--truth', 'link.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/that is the capture file itself.*\[ERR_BAD_OPTION\]\n$/);
    expect(readFileSync(join(dir, 'keep.pcap')).equals(before)).toBe(true);
  });

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
