// The known-hosts file as an operator keeps it: a write cut short (a crash, a full disk, a
// file size limit) must not lose the hosts already known nor stop the next start, and every
// form of an address counts as that address. Oracle for "a valid line": node:net's isIP
// (the platform's own address parser), not netpulse's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { CLI } from '../helpers/cli.js';
import { onlyDetector, raised, second } from './helpers.js';

function cfg(file: string): DetectConfig {
  return onlyDetector((c) => {
    c.newHost.enabled = true;
    c.newHost.learn = 60;
    c.newHost.knownHosts = file;
  });
}

/** Each line that is not blank or a comment, as the README's format has it: its first field. */
function listed(text: string): string[] {
  return text
    .split('\n')
    .map((l) => (l.split('#')[0] ?? '').trim().split(/\s+/)[0] ?? '')
    .filter((f) => f !== '');
}

describe('known-hosts file: a write cut short', () => {
  it('keeps the hosts before a torn last line, starts, and sets the fragment aside at the next append', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-torn-'));
    const file = join(dir, 'known');
    // what a crash in the middle of appending "10.1.1.3 1700000002\n" leaves
    writeFileSync(file, '10.1.1.1 1700000000\n10.1.1.2 1700000001\n10.1.');
    const first = createDetectStage(cfg(file));
    expect(first.stats().knownHosts).toBe(2);
    // the file lists hosts: no learning period, 10.1.1.3 (never written whole) is new
    expect(raised(first.observe(second(100, { newHostAddrs: ['10.1.1.1', '10.1.1.2', '10.1.1.3'] }))).map((a) => a.host)).toEqual(['10.1.1.3']);
    first.finish(101);
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    // every line that lists something lists a whole address
    for (const f of listed(text)) expect(isIP(f), f).not.toBe(0);
    expect(listed(text)).toEqual(['10.1.1.1', '10.1.1.2', '10.1.1.3']);
    // the next start reads it and knows all three
    const again = createDetectStage(cfg(file));
    expect(again.stats().knownHosts).toBe(3);
    expect(raised(again.observe(second(200, { newHostAddrs: ['10.1.1.3', '10.1.1.4'] }))).map((a) => a.host)).toEqual(['10.1.1.4']);
  });

  it('also after a power loss left the tail as NUL bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-nul-'));
    const file = join(dir, 'known');
    writeFileSync(file, Buffer.concat([Buffer.from('10.2.0.1 5\n'), Buffer.alloc(4096)]));
    const s = createDetectStage(cfg(file));
    expect(s.stats().knownHosts).toBe(1);
    s.observe(second(100, { newHostAddrs: ['10.2.0.2'] }));
    s.finish(101);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('\u0000');
    expect(listed(text)).toEqual(['10.2.0.1', '10.2.0.2']);
  });

  it('a comment may hold any character, a CR or a line separator included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-cmt-'));
    const file = join(dir, 'known');
    writeFileSync(file, '10.3.0.1 # seen at\rthe door\n# \u2028x\n10.3.0.2\n');
    expect(createDetectStage(cfg(file)).stats().knownHosts).toBe(2);
  });

  it('a bad line in the middle is still refused, and the error line stays short', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-bad-'));
    const file = join(dir, 'known');
    writeFileSync(file, `${'x'.repeat(100_000)}\n10.0.0.1\n`);
    let err: unknown;
    try {
      createDetectStage(cfg(file));
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('ERR_CONFIG');
    expect((err as Error).message.length).toBeLessThan(200);
  });

  it('any text form of an IPv6 address (upper case, uncompressed, zone id) is the host itself (RFC 4291 2.2, RFC 4007 11)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-v6-'));
    const file = join(dir, 'known');
    writeFileSync(file, 'FE80::1\nfe80:0000:0000:0000:0000:0000:0000:0002\nfe80::3%eth0.100\nfd00:0:0:0:0:0:a00:1\n');
    const s = createDetectStage(cfg(file));
    const out = raised(s.observe(second(100, { newHostAddrs: ['fe80::1', 'fe80::2', 'fe80::3', 'fd00::a00:1', 'fe80::4'] })));
    expect(out.map((a) => a.host)).toEqual(['fe80::4']);
  });
});

describe('known-hosts file: the learning period across a restart', () => {
  // README: a new host is raised "after the learning period"; a restart in the middle of it
  // (a crash, an upgrade) must not end it early and raise every host not seen yet
  it('goes on to the end of the period that began with the first host learned', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-learn-'));
    const file = join(dir, 'known');
    const first = createDetectStage(cfg(file)); // learn 60 s
    for (let t = 1000; t < 1020; t++) {
      const addrs = t === 1000 ? ['10.1.1.1'] : t === 1010 ? ['10.1.1.2'] : [];
      expect(raised(first.observe(second(t, { newHostAddrs: addrs })))).toEqual([]);
    }
    // killed at 1020 (no finish): what was learned is in the file
    expect(listed(readFileSync(file, 'utf8'))).toEqual(['10.1.1.1', '10.1.1.2']);
    const again = createDetectStage(cfg(file));
    const out = [];
    for (let t = 1030; t < 1080; t++) {
      const addrs = t === 1030 ? ['10.1.1.3'] : t === 1059 ? ['10.1.1.4'] : t === 1060 ? ['10.1.1.5'] : [];
      out.push(...raised(again.observe(second(t, { newHostAddrs: addrs }))));
    }
    // 10.1.1.3 and .4 came within 60 s of the start (1000): learned; .5 at 1060: new
    expect(out.map((a) => [a.host, a.ts])).toEqual([['10.1.1.5', 1060]]);
  });

  it('a file from a learning period long over (or hand-written) is the learned state at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-over-'));
    const file = join(dir, 'known');
    writeFileSync(file, '10.1.1.1 1000\n10.1.2.1\n');
    expect(raised(createDetectStage(cfg(file)).observe(second(1060, { newHostAddrs: ['10.1.1.9'] }))).map((a) => a.host)).toEqual(['10.1.1.9']);
    // an older capture replayed against it: not a learning period either
    expect(raised(createDetectStage(cfg(file)).observe(second(500, { newHostAddrs: ['10.1.1.8'] }))).map((a) => a.host)).toEqual(['10.1.1.8']);
    writeFileSync(file, '10.1.2.1 seen by hand\n');
    expect(raised(createDetectStage(cfg(file)).observe(second(5, { newHostAddrs: ['10.1.1.9'] }))).map((a) => a.host)).toEqual(['10.1.1.9']);
  });
});

const prlimit = spawnSync('prlimit', ['--version']).status === 0;

describe.skipIf(!prlimit)('known-hosts and alerts files: an append that fails part-way', () => {
  it('leaves only whole lines in both files (a file size limit cuts the write as a full disk does)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-files-full-'));
    const known = join(dir, 'known');
    const alerts = join(dir, 'alerts.ndjson');
    const limit = 3000;
    // pcaps/demo.pcapng: 200 local hosts appearing over its first seconds, most after 1 s
    const r = spawnSync(
      'prlimit',
      [`--fsize=${limit}`, process.execPath, CLI, 'replay', 'pcaps/demo.pcapng', '--json', '--learn', '1s', '--known-hosts', known, '--alerts', alerts, '--alert-rate', '100000/1s'],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 },
    );
    // both files hit the limit
    expect(statSync(known).size).toBeGreaterThan(limit - 200);
    expect(statSync(alerts).size).toBeGreaterThan(limit - 2000);
    const k = readFileSync(known, 'utf8');
    expect(k.endsWith('\n')).toBe(true);
    for (const f of listed(k)) expect(isIP(f), f).not.toBe(0);
    const a = readFileSync(alerts, 'utf8');
    expect(a.endsWith('\n')).toBe(true);
    const lines = a.slice(0, -1).split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    // the lost alerts are an output failure: one line with its code, exit status 6
    expect(r.stderr).toMatch(new RegExp(`^netpulse: ${alerts.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write the alerts file \\(EFBIG\\): \\d+ alerts were not written to it; free space or choose another file \\[ERR_OUTPUT\\]$`, 'm'));
    expect(r.status).toBe(6);
    // and the next start reads the known-hosts file
    const again = spawnSync(process.execPath, [CLI, 'replay', 'pcaps/demo.pcapng', '--json', '--detectors', 'new-host', '--known-hosts', known], {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
  });
});
