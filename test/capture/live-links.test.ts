// `netpulse live` on link types other than Ethernet (owner: live capture). NFLOG: libpcap
// lists the netfilter log device once, as `nflog` (group 0), but opens any group as
// `nflog:N`, as tcpdump -i nflog:N does; the kernel lets one socket listen on a group, so a
// taken group must be told apart from a missing privilege. The oracle is tcpdump: it opens
// the same names, and with nftables logging the same datagrams to a second group its file
// (read here independently of src/) gives the packet count and wire bytes netpulse must see.
// Needs root, iproute2, tcpdump and a built cap; the traffic test also needs nft
// (apt-get install nftables). Skips saying why, except under NETPULSE_REQUIRE_TOOLS=1.

import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertDistFresh,
  collect,
  createVethNs,
  exited,
  liveEnvProblem,
  readPcapFrames,
  REPO,
  requireTools,
  waitFor,
  type VethNs,
} from '../helpers/netns.js';

const MAIN = join(REPO, 'dist', 'bin', 'netpulse.js');

function hasTool(t: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const problem = liveEnvProblem(['ip', 'tcpdump']);
if (problem !== null && requireTools) throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but live link-type tests cannot run: ${problem}`);
const nftProblem = hasTool('nft') ? null : 'nft is not installed (apt-get install nftables)';
if (problem === null && nftProblem !== null && requireTools) {
  throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but the NFLOG traffic test cannot run: ${nftProblem}`);
}
if (problem !== null) process.stderr.write(`live-links.test.ts: skipped: ${problem}\n`);
else if (nftProblem !== null) process.stderr.write(`live-links.test.ts: NFLOG traffic test skipped: ${nftProblem}\n`);

interface Msg {
  type: string;
  [k: string]: unknown;
}
interface HostTotals {
  addr: string;
  tx: { packets: number; bytes: number };
  rx: { packets: number; bytes: number };
}

function messages(text: string): Msg[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Msg);
}

/** Start a child in the namespace and resolve once `ready` matches its stderr (or it exits). */
async function startIn(net: VethNs, cmd: string, args: readonly string[], ready: RegExp): Promise<{ child: ChildProcess; out: () => string; err: () => string; done: Promise<unknown> }> {
  const child = net.spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const done = exited(child);
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  await waitFor(() => finished || ready.test(err.text()), 15_000, `${cmd} to start`);
  return { child, out: out.text, err: err.text, done };
}

/** Send `n` UDP datagrams of `size` payload bytes to 127.0.0.1:`port` inside the namespace. */
function sendUdp(net: VethNs, n: number, size: number, port: number): void {
  const js = `const s=require('dgram').createSocket('udp4');let i=0;const next=()=>{if(i++===${n})return s.close();s.send(Buffer.alloc(${size},120),${port},'127.0.0.1',()=>setTimeout(next,5));};next();`;
  net.run(process.execPath, ['-e', js]);
}

describe.skipIf(problem !== null)(`netpulse live on NFLOG${problem === null ? '' : ` (skipped: ${problem})`}`, () => {
  let net: VethNs;
  let dir: string;
  beforeAll(() => {
    assertDistFresh(['capture/live', 'capture/cap', 'cli/live']);
    net = createVethNs();
    dir = mkdtempSync(join(tmpdir(), 'np-live-links-'));
  });
  afterAll(() => {
    net?.destroy(); // takes the namespace's nftables table with it
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('names the NFLOG link type it decodes, as tcpdump does, not "Unknown linktype 239"', async () => {
    const np = await startIn(net, process.execPath, [MAIN, 'live', '-i', 'nflog', '--duration', '0.3'], /capturing on|\[ERR_/);
    await np.done;
    expect(np.err()).toMatch(/capturing on nflog \(NFLOG, linktype 239,/);
  });

  it('opens nflog:N, a group other than 0, as tcpdump does', async () => {
    const td = stderrOf(['ip', 'netns', 'exec', net.ns, 'timeout', '1', 'tcpdump', '-i', 'nflog:7', '-w', '/dev/null']);
    expect(td).toMatch(/listening on nflog:7, link-type NFLOG/);
    const np = await startIn(net, process.execPath, [MAIN, 'live', '-i', 'nflog:7', '--json', '--duration', '0.5'], /capturing on|\[ERR_/);
    await np.done;
    expect(np.err()).not.toMatch(/ERR_NO_DEVICE/);
    expect(np.err()).toMatch(/capturing on nflog:7 \(.*linktype 239/);
    expect(messages(np.out()).at(-1)).toMatchObject({ type: 'end', reason: 'duration' });
  });

  it('says an NFLOG group is taken by another listener, not that root is missing, when it is (as root)', async () => {
    // group 0, the listed `nflog`, so that this does not depend on nflog:N opening
    const td = await startIn(net, 'tcpdump', ['-i', 'nflog:0', '-w', '/dev/null'], /listening on/);
    try {
      expect(td.err()).toMatch(/listening on nflog:0/);
      const np = await startIn(net, process.execPath, [MAIN, 'live', '-i', 'nflog', '--duration', '0.5'], /capturing on|\[ERR_/);
      await np.done;
      expect(np.child.exitCode).toBe(5);
      expect(np.err()).not.toMatch(/ERR_CAPTURE_PERMISSION|run as root/);
      expect(np.err()).toMatch(/already has a listener.*\[ERR_CAPTURE_FAILED\]/);
    } finally {
      td.child.kill('SIGINT');
      await td.done;
    }
  });

  it('reports a filter libpcap rejects on NFLOG as ERR_BAD_FILTER with libpcap\'s words, as on other links', async () => {
    // libpcap opens the group before it compiles the filter; the failed probe keeps the group
    const said = stderrOf(['ip', 'netns', 'exec', net.ns, 'timeout', '1', 'tcpdump', '-i', 'nflog:0', '-w', '/dev/null', 'udp']);
    const pcapSays = (said.split('\n').find((l) => l.startsWith('tcpdump: ')) ?? '').replace(/^tcpdump: /, '').trim();
    expect(pcapSays).not.toBe('');
    const np = await startIn(net, process.execPath, [MAIN, 'live', '-i', 'nflog', '-f', 'udp', '--duration', '0.5'], /capturing on|\[ERR_/);
    await np.done;
    expect(np.child.exitCode).toBe(5);
    expect(np.err()).toContain(pcapSays);
    expect(np.err()).toMatch(/\[ERR_BAD_FILTER\]/);
  });

  it.skipIf(nftProblem !== null)(
    `counts what tcpdump captures on a second group logging the same datagrams${nftProblem === null ? '' : ` (skipped: ${nftProblem})`}`,
    async () => {
      const table = 'nptest_links';
      const port = 5999;
      execFileSync('ip', ['netns', 'exec', net.ns, 'nft', '-f', '-'], {
        input: `table inet ${table} {\n chain out {\n type filter hook output priority 0;\n udp dport ${port} log group 11\n udp dport ${port} log group 12\n }\n}\n`,
      });
      const file = join(dir, 'nflog12.pcap');
      const td = await startIn(net, 'tcpdump', ['-i', 'nflog:12', '-U', '-w', file], /listening on/);
      // a filter NFLOG takes (every datagram is longer): the probe that checks it must let
      // the group go again
      const np = await startIn(net, process.execPath, [MAIN, 'live', '-i', 'nflog:11', '-f', 'len > 100', '--json', '--hosts', 'all'], /capturing on|\[ERR_/);
      const sent = 12;
      sendUdp(net, sent, 300, port);
      await new Promise((r) => setTimeout(r, 1200));
      np.child.kill('SIGINT');
      td.child.kill('SIGINT');
      await Promise.all([np.done, td.done]);
      expect(np.err()).toMatch(/capturing on nflog:11/);

      const want = readPcapFrames(file);
      expect(want.linktype).toBe(239);
      expect(want.frames.length).toBe(sent);
      const wantBytes = want.wirelens.reduce((a, b) => a + b, 0);
      const rep = messages(np.out()).find((m) => m.type === 'report');
      expect(rep).toBeDefined();
      expect(rep?.packets).toBe(sent);
      expect(rep?.bytes).toBe(wantBytes);
      expect(rep?.protocols).toEqual({ ipv4: sent, udp: sent });
      const hosts = (rep?.hosts ?? []) as HostTotals[];
      expect(hosts.map((h) => [h.addr, h.tx.packets, h.tx.bytes, h.rx.packets, h.rx.bytes])).toEqual([
        ['127.0.0.1', sent, wantBytes, sent, wantBytes],
      ]);
    },
  );
});

/** Run a command that ends by itself (timeout ends tcpdump); its stderr. */
function stderrOf(argv: readonly string[]): string {
  return spawnSync(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' }).stderr;
}
