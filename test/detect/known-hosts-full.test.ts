// new-host.max reached in a run: the hosts after it are neither remembered nor written to the
// known-hosts file, so they are raised as new again after a restart. A sensor fills a list of
// 100,000 in a day on a busy network (a 25-minute live soak with address churn filled it and
// went on alerting with not a word said); the run must say so after it, as it says when the
// file cannot be written. The oracle is the capture, built here: 12 sources and one
// destination, all local, are 13 hosts; with max 5, 8 are not remembered and the file lists 5.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { pcapHeader } from '../helpers/pcap.js';

/** One Ethernet/IPv4/UDP frame from 192.168.1.SRC to 192.168.1.200 (checksums left 0). */
function frame(src: number): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + 4);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + 4, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([192, 168, 1, src]).copy(f, 26);
  Buffer.from([192, 168, 1, 200]).copy(f, 30);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(9999, 36);
  f.writeUInt16BE(8 + 4, 38);
  return f;
}

function capture(path: string, sources: number): void {
  const parts = [pcapHeader()];
  for (let i = 0; i < sources; i++) {
    const f = frame(i + 1);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  writeFileSync(path, Buffer.concat(parts));
}

describe('new-host.max reached during a run', () => {
  for (const extra of [[], ['--detect-thread']]) {
    it(`says after the run how many new hosts were not remembered ${extra.join(' ') || 'in-thread'}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'np-known-full-'));
      const pcap = join(dir, 'c.pcap');
      capture(pcap, 12);
      const cfg = join(dir, 'cfg.json');
      writeFileSync(cfg, JSON.stringify({ 'new-host': { max: 5 } }));
      const known = join(dir, 'known');
      const r = run(['replay', pcap, '--json', '--detectors', 'new-host', '--config', cfg, '--known-hosts', known, '--learn', '0s', ...extra]);
      expect(r.status).toBe(0);
      const lines = readFileSync(known, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(5);
      const said = r.stderr.split('\n').filter((l) => l.includes('new-host.max'));
      expect(said).toEqual([
        `netpulse: new-host: the known hosts reached new-host.max (5): new hosts seen after that were neither remembered nor written to ${known} (8 times), so they are raised as new again; raise "new-host.max" in the config file or prune the known-hosts file`,
      ]);
    }, 30_000);
  }

  it('says nothing when the list has room', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-full-'));
    const pcap = join(dir, 'c.pcap');
    capture(pcap, 4);
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ 'new-host': { max: 5 } }));
    const r = run(['replay', pcap, '--json', '--detectors', 'new-host', '--config', cfg, '--learn', '0s']);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('new-host.max');
  }, 30_000);
});
