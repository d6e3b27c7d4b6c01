// `netpulse devices` against `tcpdump -D` in a private namespace (owner: live capture):
// same interfaces in the same order, same Up/Running/Loopback state, addresses as `ip`
// reports them. Needs root; skips saying why, except in CI.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVethNs, liveEnvProblem, REPO, requireTools, type VethNs } from '../helpers/netns.js';

const problem = liveEnvProblem(['ip', 'tcpdump']);
if (problem !== null && requireTools) throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but device tests cannot run: ${problem}`);
const MAIN = join(REPO, 'dist', 'bin', 'netpulse.js');

interface Dev {
  name: string;
  up: boolean | null;
  running: boolean | null;
  loopback: boolean;
  netdev: boolean;
  addresses: Array<{ addr: string }>;
}

describe.skipIf(problem !== null)(`netpulse devices${problem === null ? '' : ` (skipped: ${problem})`}`, () => {
  let net: VethNs;
  let downA = '';
  beforeAll(() => {
    net = createVethNs();
    // a second pair, left down, and an address on the capture end
    downA = `${net.inject}d`.slice(-15);
    net.run('ip', ['link', 'add', downA, 'type', 'veth', 'peer', 'name', `${downA}p`.slice(-15)]);
    net.run('ip', ['addr', 'add', '127.3.0.1/24', 'dev', net.capture]);
  });
  afterAll(() => net?.destroy());

  it('lists what tcpdump -D lists, with the same state flags', () => {
    const tcpdump = net
      .run('tcpdump', ['-D'])
      .trim()
      .split('\n')
      .map((l) => {
        const m = /^\d+\.(\S+)(?: \(.*\))? \[(.*)\]$/.exec(l);
        if (m?.[1] === undefined || m[2] === undefined) throw new Error(`unexpected tcpdump -D line: ${l}`);
        return { name: m[1], flags: new Set(m[2].split(', ')) };
      });
    const ours = JSON.parse(net.run(process.execPath, [MAIN, 'devices', '--json'])) as Dev[];
    expect(ours.map((d) => d.name)).toEqual(tcpdump.map((d) => d.name));
    const netdevs = ours.filter((d) => d.netdev);
    expect(netdevs.map((d) => d.name).sort()).toEqual(['lo', net.inject, net.capture, downA, `${downA}p`.slice(-15)].sort());
    for (const d of netdevs) {
      const t = tcpdump.find((x) => x.name === d.name);
      expect({ name: d.name, up: d.up, running: d.running, loopback: d.loopback }).toEqual({
        name: d.name,
        up: t?.flags.has('Up'),
        running: t?.flags.has('Running'),
        loopback: t?.flags.has('Loopback'),
      });
    }
    // libpcap's "any" pseudo-device: tcpdump -D says [Up, Running]; netpulse said [none]
    const anyT = tcpdump.find((x) => x.name === 'any');
    const anyO = ours.find((d) => d.name === 'any');
    if (anyT !== undefined) expect({ up: anyO?.up, running: anyO?.running }).toEqual({ up: anyT.flags.has('Up'), running: anyT.flags.has('Running') });
    expect(ours.find((d) => d.name === downA)?.up).toBe(false);
    expect(ours.find((d) => d.name === net.capture)?.addresses.map((a) => a.addr)).toEqual(['127.3.0.1']);
  });

  it('prints one tcpdump-like line per interface, with prefix lengths', () => {
    const text = net.run(process.execPath, [MAIN, 'devices']);
    expect(text).toMatch(new RegExp(`^\\d+\\.${net.capture} \\[Up, Running\\] 127\\.3\\.0\\.1/24$`, 'm'));
    expect(text).toMatch(/^\d+\.lo \[Up, Running, Loopback\] 127\.0\.0\.1\/8$/m);
  });

  it('says how to get cap when it is not built, in one line with exit status 5', () => {
    // hide cap's build output in a private mount namespace: cap is installed but unbuilt
    const capBuild = join(REPO, 'node_modules', 'cap', 'build');
    let status = 0;
    let stderr = '';
    try {
      execFileSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none '${capBuild}' && exec '${process.execPath}' '${MAIN}' devices`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(status).toBe(5);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/never built.*apt-get install libpcap-dev && npm run build:cap \(where netpulse is installed as a package: npm rebuild netpulse\) \[ERR_CAP_UNAVAILABLE\]$/m);
  });
});
