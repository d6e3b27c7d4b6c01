// new-host: learning period, local networks only, and the known-hosts file surviving a
// restart (a second stage reading what the first wrote).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { CidrSet } from '../../src/detect/addr.js';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { ConfigError } from '../../src/errors.js';
import { run, runAsync } from '../helpers/cli.js';
import { host, onlyDetector, raised, resolved, second } from './helpers.js';

function cfg(edit: (c: DetectConfig) => void = () => undefined): DetectConfig {
  return onlyDetector((c) => {
    c.newHost.enabled = true;
    c.newHost.learn = 60;
    edit(c);
  });
}

describe('new-host', () => {
  it('learns during the learning period, then raises each new local host once and resolves it', () => {
    const stage = createDetectStage(cfg((c) => (c.newHost.resolveAfter = 10)));
    const out: Alert[] = [];
    for (let t = 0; t < 100; t++) {
      const hs = [host('192.168.1.1', [1, 100]), host('8.8.8.8', [1, 100])];
      if (t === 30) hs.push(host('192.168.1.2', [1, 100])); // during learning
      if (t >= 70) hs.push(host('192.168.1.3', [1, 100])); // after learning, stays active
      const newAddrs = t === 0 ? ['192.168.1.1', '8.8.8.8'] : t === 30 ? ['192.168.1.2'] : t === 70 ? ['192.168.1.3'] : [];
      if (t === 80) newAddrs.push('203.0.113.9', 'fd00::5'); // internet: ignored; ULA: local
      out.push(...stage.observe(second(1000 + t, { hosts: hs, newHostAddrs: newAddrs })));
    }
    expect(out.map((a) => [a.state, a.host, a.ts])).toEqual([
      ['raised', '192.168.1.3', 1070],
      ['resolved', '192.168.1.3', 1080],
      ['raised', 'fd00::5', 1080],
      ['resolved', 'fd00::5', 1090],
    ]);
    expect(out[0]).toMatchObject({ detector: 'new-host', note: 'New_Host', severity: 'info', key: 'new-host/New_Host/192.168.1.3' });
    expect(out[1]?.message).toBe('New_Host on 192.168.1.3 resolved after 10 s: a known host from now on');
  });

  it('honours --local-net', () => {
    const stage = createDetectStage(
      cfg((c) => {
        c.newHost.learn = 0;
        c.newHost.localNets = new CidrSet(['198.51.100.0/24'], 't');
      }),
    );
    const out = stage.observe(second(5, { newHostAddrs: ['198.51.100.7', '10.0.0.1'] }));
    expect(raised(out).map((a) => a.host)).toEqual(['198.51.100.7']);
  });

  it('adds to a hand-written file that does not end in a newline without joining its last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const file = join(dir, 'known.txt');
    writeFileSync(file, '10.0.0.1'); // no final newline
    const stage = createDetectStage(cfg((c) => (c.newHost.knownHosts = file)));
    stage.observe(second(100, { newHostAddrs: ['10.0.0.9'] }));
    stage.finish(101);
    expect(readFileSync(file, 'utf8').split('\n').map((l) => l.split(' ')[0])).toEqual(['10.0.0.1', '10.0.0.9', '']);
    // and the next run reads it
    const again = createDetectStage(cfg((c) => (c.newHost.knownHosts = file)));
    expect(again.stats().knownHosts).toBe(2);
  });

  it('refuses a known-hosts file listing more hosts than new-host.max (memory stays bounded)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const file = join(dir, 'known.txt');
    writeFileSync(file, Array.from({ length: 11 }, (_, i) => `10.0.0.${i + 1}\n`).join(''));
    expect(() => createDetectStage(cfg((c) => ((c.newHost.knownHosts = file), (c.newHost.max = 10))))).toThrow(
      /lists 11 hosts, more than new-host\.max \(10\)/,
    );
    expect(() => createDetectStage(cfg((c) => ((c.newHost.knownHosts = file), (c.newHost.max = 11))))).not.toThrow();
  });

  it('keeps known hosts in a file that survives a restart (no re-learning, no re-alerting)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const file = join(dir, 'known.txt');
    const first = createDetectStage(cfg((c) => (c.newHost.knownHosts = file)));
    for (let t = 0; t < 10; t++) first.observe(second(t, { newHostAddrs: t === 0 ? ['10.1.1.1', '10.1.1.2'] : [] }));
    // After learning: a new host is alerted and remembered.
    expect(raised(first.observe(second(61, { newHostAddrs: ['10.1.1.3'] }))).map((a) => a.host)).toEqual(['10.1.1.3']);
    first.finish(62);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['10.1.1.1', '10.1.1.2', '10.1.1.3']);

    // Restart: the file is the learned state, so no learning period; only a truly new host raises.
    const second2 = createDetectStage(cfg((c) => (c.newHost.knownHosts = file)));
    const out = second2.observe(second(500, { newHostAddrs: ['10.1.1.1', '10.1.1.3', '10.1.1.4'] }));
    expect(raised(out).map((a) => a.host)).toEqual(['10.1.1.4']);
    expect(second2.stats().knownHosts).toBe(4);
    const ended = resolved(second2.finish(501));
    expect(ended.map((a) => a.host)).toEqual(['10.1.1.4']);
    expect(ended[0]?.message).toBe('New_Host on 10.1.1.4 resolved after 1 s (end of input): a known host from now on');
  });

  it('reads hand-written files (comments, blank lines, uncompressed IPv6) and rejects bad lines with their number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const good = join(dir, 'good.txt');
    writeFileSync(good, '# lab\n\n10.0.0.1   first seen yesterday\nFD00:0:0:0:0:0:0:1\n');
    const stage = createDetectStage(cfg((c) => (c.newHost.knownHosts = good)));
    expect(raised(stage.observe(second(1, { newHostAddrs: ['10.0.0.1', 'fd00::1', 'fd00::2'] }))).map((a) => a.host)).toEqual([
      'fd00::2',
    ]);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '10.0.0.1\nnot-an-address\n');
    expect(() => createDetectStage(cfg((c) => (c.newHost.knownHosts = bad)))).toThrow(ConfigError);
    expect(() => createDetectStage(cfg((c) => (c.newHost.knownHosts = bad)))).toThrow(/line 2: "not-an-address"/);
  });
});

describe('new-host: a known-hosts file that cannot be written', () => {
  it('is an error at start when its directory is missing, or it is a device or a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing-dir', 'known'), /cannot create the known-hosts file: its directory does not exist; create it or choose another path \[ERR_FILE_ACCESS\]$/],
      // /dev/zero would otherwise be read without end
      ['/dev/zero', /the known-hosts file is not a regular file; give the path of a text file \[ERR_FILE_ACCESS\]$/],
      [dir, /the known-hosts file is not a regular file/],
    ];
    for (const [path, message] of cases) {
      const r = run(['replay', 'pcaps/demo.pcapng', '--json', '--known-hosts', path], { timeoutMs: 20_000 });
      expect(r.status).toBe(4);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
  }, 60_000);

  // Through the CLI, in-thread and on the detector thread: the directory vanishes mid-run
  // (as write permission does after --user); the run completes and says, in one line at the
  // end, that the hosts it learned are not saved (before, nothing at all was said).
  for (const extra of [[], ['--detect-thread']]) {
    it(`fails mid-run: said at the end of the run${extra.length > 0 ? ' (--detect-thread)' : ''}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
      const sub = join(dir, 'state');
      mkdirSync(sub);
      const file = join(sub, 'known');
      // 150 s of capture at 100x: new hosts appear until about 1.3 s in
      const pending = runAsync(['replay', 'pcaps/demo.pcapng', '--json', '--known-hosts', file, '--learn', '1s', '--speed', '100', ...extra]);
      // once the run has written the file (so it is past its start-time checks, however
      // slowly a loaded machine started it), its directory goes away
      for (let i = 0; i < 500 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
      renameSync(sub, `${sub}.gone`); // atomic, unlike removing a directory being written to
      const r = await pending;
      expect(r.status).toBe(0);
      const lines = r.stderr.trim().split('\n').filter((l) => l.includes('known-hosts'));
      const line = `netpulse: could not write the known-hosts file (${file}: ENOENT): hosts learned in this run will be new again next time; check the directory and its permissions (with --user, the new user must be able to write it)`;
      // said after the report; and, when the run outlasts the 2 s check after the failure
      // (a slow machine: this one takes about 1.5 s), once during the run too (known-hosts-notice)
      expect([1, 2], r.stderr).toContain(lines.length);
      expect(new Set(lines)).toEqual(new Set([line]));
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ type: 'report' });
    }, 60_000);
  }

  it('says nothing when the file is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-'));
    const file = join(dir, 'known');
    const r = run(['replay', 'pcaps/demo.pcapng', '--json', '--known-hosts', file, '--learn', '1s']);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/known-hosts/);
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThan(10);
  }, 60_000);
});
