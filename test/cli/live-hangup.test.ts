// `netpulse live` meeting what an operator meets at 3 a.m. (owner: live capture): the ssh
// session that carried it hangs up (SIGHUP), and an interface taken down and up again
// between two samples of its state. Oracles: tcpreplay's own count of what it sent, tcpdump
// capturing the same interface side by side, and the README (exit statuses 0 and 128 + N).
// Needs root, iproute2, tcpreplay, tcpdump and a built cap; skips saying why, except in CI.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertDistFresh, collect, createVethNs, exited, liveEnvProblem, REPO, requireTools, waitFor, type VethNs } from '../helpers/netns.js';

const CORPUS = join(REPO, '..', 'shared', 'pcaps', 'real');
const MAIN = join(REPO, 'dist', 'bin', 'netpulse.js');
const SMALL = join(CORPUS, 'tcpreplay-test.pcap'); // 179 Ethernet frames
const SCAN = join(CORPUS, 'zeek-nmap-vsn.pcap'); // 547 frames; port-scan alerts at any pace

const problem =
  liveEnvProblem(['ip', 'tcpreplay', 'tcpdump']) ?? (existsSync(SMALL) && existsSync(SCAN) ? null : `corpus captures are absent (${CORPUS})`);
if (problem !== null && requireTools) throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but live hang-up tests cannot run: ${problem}`);

interface Msg {
  type: string;
  [k: string]: unknown;
}

function messages(text: string): Msg[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Msg);
}

/** tcpreplay's own count of the frames it sent. */
function tcpreplay(net: VethNs, file: string, pps: number): number {
  const out = net.run('tcpreplay', ['-i', net.inject, `--pps=${pps}`, file]);
  const sent = /Successful packets:\s+(\d+)/.exec(out)?.[1];
  if (sent === undefined) throw new Error(`no count in tcpreplay's output: ${out}`);
  return Number(sent);
}

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startLive(net: VethNs, args: readonly string[]): Promise<Running> {
  const child = net.spawn(process.execPath, [MAIN, 'live', '-i', net.capture, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const done = exited(child);
  let finished = false;
  void done.then(() => (finished = true));
  await waitFor(() => finished || /capturing on/.test(err.text()), 15_000, 'netpulse live to open');
  return { child, out: out.text, err: err.text, done };
}

/** Wait until two stats messages (one a second) after the traffic say the same count. */
async function drained(r: Running): Promise<void> {
  const before = messages(r.out()).filter((m) => m.type === 'stats').length;
  await waitFor(() => {
    const counts = messages(r.out()).filter((m) => m.type === 'stats').map((m) => Number(m.packets));
    return counts.length >= before + 2 && counts.at(-1) === counts.at(-2);
  }, 30_000, 'netpulse live to take every frame');
}

describe.skipIf(problem !== null)(`netpulse live: hang-ups and flaps${problem === null ? '' : ` (skipped: ${problem})`}`, () => {
  let net: VethNs;
  let dir: string;
  beforeAll(() => {
    assertDistFresh(['cli/signals', 'capture/live', 'capture/poll-watch']);
    net = createVethNs();
    dir = mkdtempSync(join(tmpdir(), 'np-hangup-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('ends on SIGHUP (its terminal or ssh session went away) as on SIGTERM: report once, end line, alerts file complete, exit 0', async () => {
    // before: Node's default killed it (status 129) with no report and no end line
    const alerts = join(dir, 'hup-alerts.ndjson');
    const r = await startLive(net, ['--alerts', alerts]);
    const sent = tcpreplay(net, SCAN, 1000);
    await drained(r);
    r.child.kill('SIGHUP');
    const { code, signal } = await r.done;
    expect([code, signal], r.err()).toEqual([0, null]);
    const ms = messages(r.out());
    expect(ms.filter((m) => m.type === 'report')).toHaveLength(1);
    expect(ms.slice(-2).map((m) => m.type)).toEqual(['report', 'end']);
    expect(ms.at(-2)?.packets).toBe(sent);
    // every alert of the stream is in the file, each a whole JSON line
    const streamed = ms.filter((m) => m.type === 'alert');
    expect(streamed.length).toBeGreaterThan(0);
    const lines = readFileSync(alerts, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as Msg).type)).toEqual(streamed.map(() => 'alert'));
  });

  it('exits 129 at once on a second SIGHUP while a webhook that never answers holds the outputs open, and says so', async () => {
    // a webhook server inside the namespace that takes requests and never answers
    const hole = net.spawn(process.execPath, ['-e', "require('http').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const port = collect(hole.stdout);
      await waitFor(() => /^\d+\n/.test(port.text()), 10_000, 'the webhook server');
      const r = await startLive(net, ['--webhook', `http://127.0.0.1:${port.text().trim()}/hook`]);
      tcpreplay(net, SCAN, 1000);
      await drained(r);
      r.child.kill('SIGHUP');
      await waitFor(() => r.out().includes('"type":"end"'), 10_000, 'the report and end line');
      const t0 = Date.now();
      r.child.kill('SIGHUP');
      const { code, signal } = await r.done;
      expect([code, signal]).toEqual([129, null]);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(messages(r.out()).filter((m) => m.type === 'report')).toHaveLength(1);
      expect(r.err()).toMatch(/^netpulse: second signal \(SIGHUP\): exiting now; .*lost$/m);
    } finally {
      hole.kill();
    }
  });

  it('ends with ERR_DEVICE_DOWN, report first, when the interface goes down and up between two samples; tcpdump shows the kernel delivers again', async () => {
    // before: libuv had stopped polling libpcap's socket (POLLERR, ENETDOWN), so netpulse
    // captured nothing more, silently, and a later Ctrl-C exited 0 with half the traffic
    const other = createVethNs();
    const dump = join(dir, 'flap.pcap');
    const tcpdump = other.spawn('tcpdump', ['-i', other.capture, '-w', dump, '-U', '--immediate-mode'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tdErr = collect(tcpdump.stderr);
    try {
      await waitFor(() => /listening on/.test(tdErr.text()), 10_000, 'tcpdump to listen');
      const r = await startLive(other, []);
      const first = tcpreplay(other, SMALL, 1000);
      await drained(r);
      other.run('sh', ['-c', `ip link set ${other.capture} down && ip link set ${other.capture} up`]);
      // veth carries frames again once both ends are up with carrier (operstate UP)
      const operUp = (): boolean =>
        ['inject', 'capture'].every((end) => /"operstate":"UP"/.test(execFileSync('ip', ['-n', other.ns, '-j', 'link', 'show', 'dev', end === 'inject' ? other.inject : other.capture], { encoding: 'utf8' })));
      await waitFor(operUp, 10_000, 'the veth pair to be up again');
      const second = tcpreplay(other, SMALL, 1000);
      let finished = false;
      void r.done.then(() => (finished = true));
      await waitFor(() => finished, 5000, 'netpulse live to end by itself').catch(() => r.child.kill('SIGINT'));
      const { code, signal } = await r.done;
      // the oracle: tcpdump, on the same interface, captures both batches (written per packet)
      const dumped = (): number => Number(/^(\d+) packets/m.exec(execFileSync('tcpdump', ['-r', dump, '--count'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
      await waitFor(() => dumped() >= first + second, 10_000, 'tcpdump to write both batches').catch(() => undefined);
      tcpdump.kill('SIGTERM');
      expect(dumped()).toBe(first + second);
      expect([code, signal], r.err()).toEqual([5, null]);
      const ms = messages(r.out());
      expect(ms.find((m) => m.type === 'report')?.packets).toBe(first);
      expect(ms.at(-1)).toMatchObject({ type: 'end', reason: 'error', error: { code: 'ERR_DEVICE_DOWN' } });
      const errLines = r.err().trim().split('\n').filter((l) => !l.startsWith('Warning:') && !/capturing on|offloads/.test(l));
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(new RegExp(`^netpulse: ${other.capture}: the interface went down .*\\[ERR_DEVICE_DOWN\\]$`));
    } finally {
      if (tcpdump.exitCode === null) tcpdump.kill('SIGKILL');
      other.destroy();
    }
  });
});
