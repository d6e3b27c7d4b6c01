// `netpulse live` end to end (owner: live capture): corpus captures are replayed with
// tcpreplay into a veth pair in a private namespace while `netpulse live --json` captures
// the other end; per-host packets and bytes must equal those of `netpulse replay --json`
// on the same file (timestamps differ, counts do not). Then filters, --user, signals and
// every capture error a user can meet, each one line with exit status 5.
// Needs root, iproute2, tcpreplay, tcpdump and a built cap; skips saying why, except in CI.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createVethNs, exited, liveEnvProblem, REPO, requireTools, waitFor, type VethNs } from '../helpers/netns.js';

const CORPUS = join(REPO, '..', 'shared', 'pcaps', 'real');
const MAIN = join(REPO, 'dist', 'bin', 'netpulse.js');
// Ethernet captures with no frame cut by the snapshot length and none above 1514 bytes
const SMALL = join(CORPUS, 'tcpreplay-test.pcap'); // 179 frames, IPv4 TCP/UDP/ICMP
const LARGER = join(CORPUS, 'ppp-example.pcap'); // 4631 frames
// tshark's frame count of SMALL (the corpus's ground truth, ../shared/pcaps/expected): the
// number of frames tcpreplay sends and every whole capture of them must count
const SMALL_TRUTH = join(CORPUS, '..', 'expected', 'tcpreplay-test.pcap.json');
const SMALL_PACKETS = existsSync(SMALL_TRUTH) ? (JSON.parse(readFileSync(SMALL_TRUTH, 'utf8')) as { packets: number }).packets : NaN;

const problem =
  liveEnvProblem(['ip', 'tcpreplay', 'tcpdump', 'unshare']) ??
  (existsSync(SMALL) && existsSync(LARGER) && existsSync(SMALL_TRUTH) ? null : `corpus captures are absent (${CORPUS})`);
if (problem !== null && requireTools) throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but live CLI tests cannot run: ${problem}`);

interface HostTotals {
  addr: string;
  tx: { packets: number; bytes: number };
  rx: { packets: number; bytes: number };
}
interface ReportMsg {
  type: 'report';
  packets: number;
  bytes: number;
  protocols: Record<string, number>;
  hosts: HostTotals[];
  dropped: number | null;
  droppedEstimate: number | null;
}
interface Msg {
  type: string;
  [k: string]: unknown;
}

interface LiveRun {
  pid: number;
  messages: Msg[];
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
}

function messages(text: string): Msg[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Msg);
}

function report(ms: Msg[]): ReportMsg {
  const r = ms.find((m) => m.type === 'report');
  if (r === undefined) throw new Error('no report message');
  return r as unknown as ReportMsg;
}

/** Per-host counts, the thing that must not differ between live and replay. */
function perHost(r: ReportMsg): Record<string, [number, number, number, number]> {
  const out: Record<string, [number, number, number, number]> = {};
  for (const h of r.hosts) out[h.addr] = [h.tx.packets, h.tx.bytes, h.rx.packets, h.rx.bytes];
  return out;
}

/** Run `netpulse live` in the namespace; `during` runs once it says it is capturing. */
async function live(
  net: VethNs,
  args: readonly string[],
  during: (pid: number) => Promise<void> | void,
  {
    signal = 'SIGINT' as NodeJS.Signals | null,
    wrap = [] as string[],
    onStderr = undefined as ((get: () => string) => void) | undefined,
  } = {},
): Promise<LiveRun> {
  const cmd = wrap.length > 0 ? wrap[0] ?? '' : process.execPath;
  const child = net.spawn(cmd, [...wrap.slice(1), ...(wrap.length > 0 ? [process.execPath] : []), MAIN, 'live', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  onStderr?.(err.text);
  const done = exited(child);
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  try {
    await waitFor(() => finished || /capturing on/.test(err.text()), 15_000, 'netpulse live to open');
    await steer();
  } catch (e) {
    // a wait that timed out must not leave the capture running (it keeps its namespace alive)
    if (!finished) child.kill('SIGKILL');
    throw e;
  }
  const { code, signal: sig } = await done;
  return { pid: child.pid ?? -1, messages: messages(out.text()), stdout: out.text(), stderr: err.text(), code, signal: sig };

  async function steer(): Promise<void> {
    if (finished) return;
    await during(child.pid ?? -1);
    if (!finished && signal !== null && args.includes('--json')) {
      // A stop does not drain the kernel ring: signal only once the capture has taken every
      // frame, i.e. two stats messages (one a second) after the traffic ended say the same
      // count. A fixed pause lost the tail of the capture on a loaded machine.
      const statsBefore = messages(out.text()).filter((m) => m.type === 'stats').length;
      const quiet = (): boolean => {
        const counts = messages(out.text()).filter((m) => m.type === 'stats').map((m) => Number(m.packets));
        return counts.length >= statsBefore + 2 && counts.at(-1) === counts.at(-2);
      };
      await waitFor(() => finished || quiet(), 30_000, 'netpulse live to take every frame');
    } else {
      await new Promise((r) => setTimeout(r, 400));
    }
    if (!finished && signal !== null) child.kill(signal);
  }
}

function replayJson(file: string, extra: readonly string[] = []): ReportMsg {
  return report(messages(execFileSync(process.execPath, [MAIN, 'replay', file, '--json', '--hosts', 'all', ...extra], { encoding: 'utf8' })));
}

function tcpreplay(net: VethNs, file: string, pps: number): void {
  net.run('tcpreplay', ['-q', '-i', net.inject, `--pps=${pps}`, file]);
}

/** Exit status and stderr of a command that is expected to fail. */
function fails(cmd: string, args: readonly string[]): { status: number; stderr: string } {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: 0, stderr: '' };
  } catch (e) {
    const x = e as { status: number; stderr: string };
    return { status: x.status, stderr: String(x.stderr) };
  }
}

/** Lets a test read the running command's stderr from inside `during`. */
const run0 = { err: (): string => '' };

describe.skipIf(problem !== null)(`netpulse live${problem === null ? '' : ` (skipped: ${problem})`}`, () => {
  let net: VethNs;
  beforeAll(() => {
    net = createVethNs();
  });
  afterAll(() => net?.destroy());

  it.each([
    ['tcpreplay-test.pcap', SMALL, 1000],
    ['ppp-example.pcap', LARGER, 5000],
  ])('counts per host exactly what replay counts in %s', async (_name, file, pps) => {
    const want = replayJson(file);
    const run = await live(net, ['-i', net.capture, '--json', '--hosts', 'all'], () => tcpreplay(net, file, pps));
    expect(run.code).toBe(0);
    const got = report(run.messages);
    expect(got.packets).toBe(want.packets);
    expect(got.bytes).toBe(want.bytes);
    expect(got.protocols).toEqual(want.protocols);
    expect(perHost(got)).toEqual(perHost(want));
    // cap cannot know kernel drops; the interface counters show none were lost
    expect(got.dropped).toBeNull();
    expect(got.droppedEstimate).toBe(0);
    // the seconds add up to the report: the last one was flushed on SIGINT
    const summaries = run.messages.filter((m) => m.type === 'summary');
    expect(summaries.reduce((n, s) => n + Number(s.packets), 0)).toBe(want.packets);
    // the last lines: the report, then why the run ended
    expect(run.messages.slice(-2).map((m) => m.type)).toEqual(['report', 'end']);
    expect(run.messages.at(-1)).toMatchObject({ type: 'end', reason: 'stopped' });
  });

  it('emits a summary every second even when nothing arrives, and stats with loss and lag', async () => {
    const run = await live(net, ['-i', net.capture, '--json', '--duration', '2.5'], () => undefined, { signal: null });
    expect(run.code).toBe(0);
    const ts = run.messages.filter((m) => m.type === 'summary').map((m) => Number(m.ts));
    expect(ts.length).toBeGreaterThanOrEqual(2);
    expect(ts.every((t, i) => i === 0 || t === (ts[i - 1] ?? 0) + 1)).toBe(true);
    const stats = run.messages.filter((m) => m.type === 'stats');
    expect(stats.length).toBeGreaterThanOrEqual(2);
    expect(stats[0]).toMatchObject({ dropped: null, droppedEstimate: 0 });
    expect(typeof stats[0]?.eventLoopLagMs).toBe('number');
    expect(run.messages.at(-1)).toMatchObject({ type: 'end', reason: 'duration' });
  });

  it('counts only what the BPF filter matches, as tcpdump does on the same file', async () => {
    const filter = 'udp or icmp';
    const want = Number(execFileSync('sh', ['-c', `tcpdump -nr '${SMALL}' '${filter}' 2>/dev/null | wc -l`], { encoding: 'utf8' }).trim());
    const run = await live(net, ['-i', net.capture, '--json', '-f', filter], () => tcpreplay(net, SMALL, 1000));
    const got = report(run.messages);
    expect(got.packets).toBe(want);
    expect(Object.keys(got.protocols).sort()).toEqual(Object.keys(replayJson(SMALL).protocols).filter((p) => /^(ipv4|udp|icmp)$/.test(p)).sort());
    expect(got.droppedEstimate).toBeNull();
  });

  it('stops after --count packets with exit status 0', async () => {
    const run = await live(net, ['-i', net.capture, '--json', '-c', '25'], () => tcpreplay(net, SMALL, 1000), { signal: null });
    expect(run.code).toBe(0);
    expect(report(run.messages).packets).toBe(25);
  });

  it('prints the human report on SIGTERM, with the current second flushed', async () => {
    const run = await live(net, ['-i', net.capture], () => tcpreplay(net, SMALL, 1000), { signal: 'SIGTERM' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\b${SMALL_PACKETS}\\b`));
    expect(run.stdout).toMatch(/live npc/);
  });

  it('drops root with --user nobody: the running process has nobody\'s ids and no capabilities', async () => {
    const uid = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    let status = '';
    const run = await live(net, ['-i', net.capture, '--json', '--user', 'nobody'], (pid) => {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
      tcpreplay(net, SMALL, 1000);
    });
    expect(run.code, `${run.signal} ${run.stderr} ${run.stdout.slice(0, 600)}`).toBe(0);
    expect(run.stdout, run.stderr).toMatch(/"type":"report"/);
    expect(/^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/)).toEqual([uid, uid, uid, uid]);
    expect(/^CapEff:\s+(.*)$/m.exec(status)?.[1]).toBe('0000000000000000');
    expect(run.stderr).toMatch(new RegExp(`dropped root: now running as nobody \\(uid ${uid}`));
    expect(report(run.messages).packets).toBe(SMALL_PACKETS);
  });

  it('serves /metrics with the loss estimate and no drop counter (unknown), and the counts of the capture', async () => {
    let metrics = '';
    const run = await live(net, ['-i', net.capture, '--json', '--serve', '127.0.0.1:0'], async () => {
      tcpreplay(net, SMALL, 1000);
      const feedUrl = (): string | undefined => /serving the dashboard and feed on (\S+)/.exec(run0.err())?.[1];
      await waitFor(() => feedUrl() !== undefined, 15_000, 'the feed URL on stderr');
      const url = feedUrl() ?? '';
      // at least a stats interval and a closed second after the traffic, and then until the
      // capture has counted every frame (a loaded machine can be later than any fixed pause)
      await new Promise((r) => setTimeout(r, 1300));
      // the server listens on the namespace's loopback: ask from inside it
      const scrape = (): string =>
        net.run(process.execPath, ['-e', `fetch(new URL('/metrics', ${JSON.stringify(url)})).then((r) => r.text()).then((t) => process.stdout.write(t))`]);
      await waitFor(() => {
        metrics = scrape();
        return new RegExp(`^netpulse_packets_total ${SMALL_PACKETS}$`, 'm').test(metrics) && /^netpulse_event_loop_lag_seconds /m.test(metrics);
      }, 20_000, `/metrics with all ${SMALL_PACKETS} frames counted and the event-loop lag`);
    }, { onStderr: (get) => (run0.err = get) });
    expect(run.code).toBe(0);
    expect(metrics).toMatch(/^netpulse_dropped_packets_estimated_total 0$/m);
    expect(metrics).not.toMatch(/^netpulse_dropped_packets_total /m);
    expect(metrics).toMatch(/^netpulse_event_loop_lag_seconds [0-9.e-]+$/m);
  });

  /** Capture SMALL in a namespace of its own while `change` is done to the interface. */
  async function deviceChange(change: (ns: VethNs) => void, waitMs: number): Promise<LiveRun> {
    const other = createVethNs();
    try {
      return await live(
        other,
        ['-i', other.capture, '--json'],
        async () => {
          tcpreplay(other, SMALL, 2000);
          change(other);
          await new Promise((r) => setTimeout(r, waitMs));
        },
        { signal: null },
      );
    } finally {
      other.destroy();
    }
  }

  it('ends with ERR_DEVICE_DOWN and exit status 5 when the interface goes down, report first', async () => {
    const run = await deviceChange((ns) => ns.run('ip', ['link', 'set', ns.capture, 'down']), 1200);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(5);
    expect(report(run.messages).packets).toBe(SMALL_PACKETS);
    expect(run.stderr).toMatch(/went down during the capture.*\[ERR_DEVICE_DOWN\]$/m);
  });

  it('ends with ERR_DEVICE_DOWN when the interface is deleted and created again under its name (the socket stays on the old one)', async () => {
    // within one sample of the interface: tcpdump says "The interface disappeared"
    const run = await deviceChange(
      (ns) =>
        ns.run('sh', ['-c', `ip link del ${ns.inject} && ip link add ${ns.inject} type veth peer name ${ns.capture} && ip link set ${ns.inject} up && ip link set ${ns.capture} up`]),
      1500,
    );
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(5);
    expect(report(run.messages).packets).toBe(SMALL_PACKETS);
    expect(run.stderr).toMatch(/was deleted and created again during the capture.*\[ERR_DEVICE_DOWN\]$/m);
  });

  it('ends by itself when the reader of its output goes away (`| head`), as tcpdump does', async () => {
    const t0 = Date.now();
    // a summary a second, with or without traffic: head has its two lines within ~2 s
    const out = net.run('bash', ['-c', `'${process.execPath}' '${MAIN}' live -i ${net.capture} --json 2>/dev/null | head -2; echo "status \${PIPESTATUS[0]}"`]);
    expect(out.trim().split('\n').at(-1)).toBe('status 0');
    expect(out.split('\n').filter((l) => l.startsWith('{'))).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('counts each frame cut by --snaplen once, as snaplen_truncated, with no other anomaly', async () => {
    // the oracle: frames longer than the snapshot length, by tcpdump's own filter on the file
    const longer = Number(/^(\d+) packets/.exec(execFileSync('sh', ['-c', `tcpdump -nr '${SMALL}' --count 'greater 101' 2>/dev/null`], { encoding: 'utf8' }))?.[1]);
    expect(longer).toBeGreaterThan(0);
    const run = await live(net, ['-i', net.capture, '--json', '-s', '100'], () => tcpreplay(net, SMALL, 1000));
    expect(run.code).toBe(0);
    const r = report(run.messages) as ReportMsg & { anomalies: Record<string, number> };
    expect(r.packets).toBe(SMALL_PACKETS);
    expect(r.anomalies).toEqual({ snaplen_truncated: longer });
  });

  describe('errors: one line on stderr, exit status 5', () => {
    const inNs = (args: readonly string[]): { status: number; stderr: string } =>
      fails('ip', ['netns', 'exec', net.ns, process.execPath, MAIN, 'live', ...args]);
    const oneLine = (r: { stderr: string }, code: string): void => {
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:')); // cap's own libpcap warning
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^netpulse: .*\\[${code}\\]$`));
    };

    it('no such interface: lists the ones that exist', () => {
      const r = inNs(['-i', 'nosuch0']);
      expect(r.status).toBe(5);
      oneLine(r, 'ERR_NO_DEVICE');
      expect(r.stderr).toContain(net.capture);
    });

    it('a filter libpcap rejects: its own message', () => {
      const r = inNs(['-i', net.capture, '-f', 'tcp port']);
      expect(r.status).toBe(5);
      oneLine(r, 'ERR_BAD_FILTER');
      expect(r.stderr).toContain("can't parse filter expression: syntax error");
    });

    // libpcap words filter errors many ways; each is the filter's fault, not the interface's
    it.each(['ip proto foo', 'vlan 5000', 'net 10.99.0.0/8', 'ether host zz'])('a filter libpcap rejects in its own words: %s', (filter) => {
      const r = inNs(['-i', net.capture, '-f', filter]);
      expect(r.status).toBe(5);
      oneLine(r, 'ERR_BAD_FILTER');
      expect(r.stderr).toContain(`libpcap rejected the filter "${filter}"`);
    });

    it('no privilege: run as root or with the systemd capabilities, never setcap', () => {
      const r = fails('ip', ['netns', 'exec', net.ns, 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, MAIN, 'live', '-i', net.capture]);
      expect(r.status).toBe(5);
      oneLine(r, 'ERR_CAPTURE_PERMISSION');
      expect(r.stderr).toMatch(/run as root.*AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN.*do not setcap/);
    });

    it('cap not built: how to build it', () => {
      const capBuild = join(REPO, 'node_modules', 'cap', 'build');
      const r = fails('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none '${capBuild}' && exec '${process.execPath}' '${MAIN}' live -i lo`]);
      expect(r.status).toBe(5);
      oneLine(r, 'ERR_CAP_UNAVAILABLE');
      expect(r.stderr).toContain('apt-get install libpcap-dev && npm run build:cap');
    });

    it('replay still works where cap is not built', () => {
      const capBuild = join(REPO, 'node_modules', 'cap', 'build');
      const out = execFileSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none '${capBuild}' && exec '${process.execPath}' '${MAIN}' replay '${SMALL}' --json`], {
        encoding: 'utf8',
      });
      expect(report(messages(out)).packets).toBe(SMALL_PACKETS);
    });

    it('a snapshot length cap cannot honour is a usage error (exit 2)', () => {
      const r = inNs(['-i', net.capture, '--snaplen', '70000']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--snaplen must be at most 65535/);
    });
  });
});
