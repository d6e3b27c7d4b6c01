// The known-hosts list's troubles are said while the run goes on, not only at its end: a
// sensor runs for months, and a list that is full (new-host.max) or a file that cannot be
// written turns every new host into a repeated alert or a forgotten one from then on
// (README "new-host"). Oracles: the generator's truth file (how many local hosts the capture
// has, so how many did not fit), and the wall clock (the notice comes seconds before the
// paced replay ends).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../helpers/cli.js';

let dir = '';
let pcap = '';
let hosts = 0;
const MAX = 5;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'np-kh-'));
  pcap = join(dir, 'lan.pcap');
  // 60 hosts, all on local networks (10.0.0.0/8 and fd6e::/16 unique-local), over 7 seconds
  const r = run(['synth', pcap, '-q', '-n', '3000', '--hosts', '60', '--seconds', '7', '--seed', '5']);
  expect(r.status, r.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'lan.truth.json'), 'utf8')) as { hosts: { addr: string }[] };
  hosts = truth.hosts.length;
  expect(hosts).toBeGreaterThan(MAX);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replay at the capture's pace; each stderr line with the ms since start it arrived at. */
function paced(args: string[]): Promise<{ status: number | null; lines: { at: number; text: string }[]; exitAt: number }> {
  return new Promise((done) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'replay', pcap, '--speed', 'realtime', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: { at: number; text: string }[] = [];
    let buf = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ at: Date.now() - t0, text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    child.on('close', (status) => done({ status, lines, exitAt: Date.now() - t0 }));
  });
}

describe('known-hosts trouble is said as it happens', () => {
  it('a full list: a notice seconds before the end, and the count at the end', async () => {
    const cfg = join(dir, 'max.json');
    writeFileSync(cfg, JSON.stringify({ 'new-host': { max: MAX } }));
    const r = await paced(['--config', cfg]);
    expect(r.status).toBe(0);
    const notice = r.lines.find((l) => l.text.includes('new hosts from now on are not remembered'));
    expect(notice, r.lines.map((l) => l.text).join('\n')).toBeDefined();
    expect(notice?.text).toBe(
      `netpulse: new-host: the known hosts reached new-host.max (${MAX}): new hosts from now on are not remembered, so they are raised as new again; raise "new-host.max" in the config file or prune the known-hosts file (the count follows at the end)`,
    );
    // the capture is 7 s long at its own pace: said while it still ran
    expect(r.exitAt - (notice?.at ?? r.exitAt)).toBeGreaterThan(2000);
    // once during the run; at the end, how many hosts did not fit
    expect(r.lines.filter((l) => l.text.includes('new hosts from now on')).length).toBe(1);
    const end = r.lines.filter((l) => l.text.includes('new hosts seen after that were not remembered'));
    expect(end.map((l) => l.text)).toEqual([
      `netpulse: new-host: the known hosts reached new-host.max (${MAX}): new hosts seen after that were not remembered (${hosts - MAX} times), so they are raised as new again; raise "new-host.max" in the config file or prune the known-hosts file`,
    ]);
  }, 30_000);

  it('a known-hosts file that cannot be written: said during the run and again at the end', async () => {
    // /proc takes no new files, not even from root
    const r = await paced(['--known-hosts', '/proc/netpulse-known-hosts']);
    expect(r.status).toBe(0);
    const said = r.lines.filter((l) => l.text.startsWith('netpulse: could not write the known-hosts file (/proc/netpulse-known-hosts: '));
    expect(said.length, r.lines.map((l) => l.text).join('\n')).toBe(2);
    expect(r.exitAt - (said[0]?.at ?? r.exitAt)).toBeGreaterThan(2000);
  }, 30_000);
});
