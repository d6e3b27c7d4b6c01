// LiveSource against real traffic (owner: live capture): a capture from the corpus is
// replayed with tcpreplay into one end of a veth pair in a private network namespace and
// captured on the other end. The oracle is the capture file itself (record bytes, read
// here independently), tcpdump's own filter on the same file, and the kernel's counters.
// Needs root, iproute2, tcpreplay and a built cap; skips saying why, except in CI.

import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { existsSync } from 'node:fs';
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

const CORPUS = join(REPO, '..', 'shared', 'pcaps', 'real');
// 179 Ethernet frames, none cut by the snapshot length (tcpreplay sends what was captured).
const FILE = join(CORPUS, 'tcpreplay-test.pcap');
const CHILD = join(REPO, 'test', 'helpers', 'live-child.mjs');

const problem = liveEnvProblem(['ip', 'tcpreplay', 'tcpdump']) ?? (existsSync(FILE) ? null : `corpus file ${FILE} is absent`);
if (problem !== null && requireTools) {
  throw new Error(`NETPULSE_REQUIRE_TOOLS=1 but live capture tests cannot run: ${problem}`);
}

interface EndLine {
  type: 'end';
  reason: string;
  code: string | null;
  line: string | null;
  stats: { packets: number; dropped: number | null; droppedEstimate: number | null; readerAnomalies: Record<string, number> };
  linktype: number;
  frames: Array<[number, number, number]>;
  firstTs: number | null;
  lastTs: number | null;
  monotonic: boolean;
}

interface Run {
  open: Record<string, unknown> | null;
  end: EndLine | null;
  error: { code: string; message: string; line: string } | null;
  stderr: string;
  exit: { code: number | null; signal: string | null };
}

function parseLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Start the child capturing with `opts`, run `during` once it has opened, then SIGINT it
 * (unless it ends by itself: count, duration, error) and collect what it said.
 */
async function capture(net: VethNs, opts: Record<string, unknown>, during: () => Promise<void> | void, wrap: string[] = []): Promise<Run> {
  const child = net.spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length > 0 ? [process.execPath] : []), CHILD, JSON.stringify({ device: net.capture, monitorMs: 100, ...opts })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const done = exited(child);
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  await waitFor(() => finished || /"type":"(open|error)"/.test(out.text()), 10_000, 'the capture to open');
  if (!finished && /"type":"open"/.test(out.text())) {
    await during();
    await new Promise((r) => setTimeout(r, 300)); // let the last frames arrive
    if (!finished) child.kill('SIGINT');
  }
  const exit = await done;
  const lines = parseLines(out.text());
  return {
    open: lines.find((l) => l.type === 'open') ?? null,
    end: (lines.find((l) => l.type === 'end') as EndLine | undefined) ?? null,
    error: (lines.find((l) => l.type === 'error') as Run['error'] | undefined) ?? null,
    stderr: err.text(),
    exit,
  };
}

function replay(net: VethNs, file: string, pps: number): number {
  const text = net.run('tcpreplay', ['-q', '-i', net.inject, `--pps=${pps}`, file]);
  const m = /Successful packets:\s+(\d+)/.exec(text);
  if (m?.[1] === undefined) throw new Error(`tcpreplay said: ${text}`);
  return Number(m[1]);
}

const expected = existsSync(FILE) ? readPcapFrames(FILE) : { linktype: 1, frames: [], wirelens: [] };
const expectedFrames = expected.frames.map((b) => [b.length, b.length, crc32(b)]);

describe.skipIf(problem !== null)(`live capture on a veth pair${problem === null ? '' : ` (skipped: ${problem})`}`, () => {
  let net: VethNs;
  beforeAll(() => {
    assertDistFresh(['capture/live', 'capture/cap', 'capture/devices', 'capture/iface-counters', 'capture/privileges']);
    net = createVethNs();
  });
  afterAll(() => net?.destroy());

  it('captures every replayed frame, byte for byte and in order, stamped on arrival, and stops on SIGINT', async () => {
    const t0 = Date.now() * 1000;
    let sent = 0;
    const run = await capture(net, {}, () => {
      sent = replay(net, FILE, 1000);
    });
    const t1 = Date.now() * 1000;
    expect(sent).toBe(expected.frames.length);
    expect(run.end?.reason).toBe('stopped');
    expect(run.end?.linktype).toBe(expected.linktype);
    expect(run.end?.frames).toEqual(expectedFrames);
    expect(run.end?.stats.packets).toBe(sent);
    // cap cannot read kernel drops: unknown, not 0; the interface counters say nothing was lost
    expect(run.end?.stats.dropped).toBeNull();
    expect(run.end?.stats.droppedEstimate).toBe(0);
    expect(run.end?.monotonic).toBe(true);
    expect(run.end?.firstTs).toBeGreaterThanOrEqual(t0);
    expect(run.end?.lastTs).toBeLessThanOrEqual(t1);
  });

  it('counts only what the BPF filter matches (tcpdump applies the same filter to the file) and estimates no loss', async () => {
    const filter = 'tcp and not port 80';
    const want = Number(execFileSync('sh', ['-c', `tcpdump -nr '${FILE}' '${filter}' 2>/dev/null | wc -l`], { encoding: 'utf8' }).trim());
    expect(want).toBeGreaterThan(0);
    expect(want).toBeLessThan(expected.frames.length);
    const run = await capture(net, { filter }, () => {
      replay(net, FILE, 1000);
    });
    expect(run.end?.frames.length).toBe(want);
    expect(run.end?.stats.droppedEstimate).toBeNull(); // the interface counters include what the filter rejected
  });

  it('stops after --count frames exactly', async () => {
    const run = await capture(net, { count: 50 }, () => {
      replay(net, FILE, 1000);
    });
    expect(run.end?.reason).toBe('count');
    expect(run.end?.frames).toEqual(expectedFrames.slice(0, 50));
  });

  it('cuts frames at a smaller snapshot length and counts the cut ones', async () => {
    const snaplen = 100;
    const run = await capture(net, { snaplen }, () => {
      replay(net, FILE, 1000);
    });
    const want = expected.frames.map((b) => Math.min(b.length, snaplen));
    expect(run.end?.frames.map((f) => f[0])).toEqual(want);
    expect(run.end?.stats.readerAnomalies.snaplen_truncated).toBe(expected.frames.filter((b) => b.length > snaplen).length);
  });

  it('estimates loss as exactly the frames the interface saw but the capture missed', async () => {
    // a 64 KiB ring and a handler that spends 2 ms per frame cannot keep up with 2000 pps
    const before = net.counters(net.capture);
    const run = await capture(net, { bufferSize: 65536, holdMs: 2 }, async () => {
      replay(net, FILE, 2000);
      replay(net, FILE, 2000);
      await new Promise((r) => setTimeout(r, 1000)); // the slow handler drains the ring
    });
    const after = net.counters(net.capture);
    const seen = after.rxPackets - before.rxPackets + (after.txPackets - before.txPackets);
    expect(seen).toBe(2 * expected.frames.length);
    const captured = run.end?.frames.length ?? -1;
    expect(captured).toBeLessThan(seen);
    expect(run.end?.stats.droppedEstimate).toBe(seen - captured);
  });

  it('ends with ERR_DEVICE_DOWN, without crashing, when the interface goes down', async () => {
    const other = createVethNs();
    try {
      const run = await capture(other, {}, async () => {
        other.run('ip', ['link', 'set', other.capture, 'down']);
        await new Promise((r) => setTimeout(r, 500));
      });
      expect(run.exit.signal).toBeNull();
      expect(run.end?.reason).toBe('error');
      expect(run.end?.code).toBe('ERR_DEVICE_DOWN');
    } finally {
      other.destroy();
    }
  });

  it('ends with ERR_DEVICE_DOWN when the interface is deleted', async () => {
    const other = createVethNs();
    try {
      const run = await capture(other, {}, async () => {
        other.run('ip', ['link', 'del', other.inject]); // takes its peer with it
        await new Promise((r) => setTimeout(r, 500));
      });
      expect(run.exit.signal).toBeNull();
      expect(run.end?.code).toBe('ERR_DEVICE_DOWN');
    } finally {
      other.destroy();
    }
  });

  it('drops root to --user nobody right after opening, and keeps capturing', async () => {
    const want = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    const wantGid = execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim();
    const run = await capture(net, { user: 'nobody' }, () => {
      replay(net, FILE, 1000);
    });
    expect(String(run.open?.uid).split(/\s+/)).toEqual([want, want, want, want]); // real, effective, saved, fs
    expect(String(run.open?.gid).split(/\s+/)).toEqual([wantGid, wantGid, wantGid, wantGid]);
    expect(run.open?.capEff).toBe('0000000000000000');
    expect(run.end?.frames).toEqual(expectedFrames);
  });

  it('reports a missing interface with ERR_NO_DEVICE and lists the ones that exist', async () => {
    const run = await capture(net, { device: 'nosuch0' }, () => undefined);
    expect(run.error?.code).toBe('ERR_NO_DEVICE');
    expect(run.error?.message).toContain(net.capture);
  });

  it('reports a filter libpcap rejects with ERR_BAD_FILTER and libpcap\'s own words', async () => {
    let pcapSays = '';
    try {
      execFileSync('tcpdump', ['-d', 'tcp port'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (e) {
      const lines = String((e as { stderr?: string }).stderr ?? '').split('\n');
      pcapSays = (lines.find((l) => l.startsWith('tcpdump: ')) ?? '').replace(/^tcpdump: /, '').trim();
    }
    expect(pcapSays).not.toBe('');
    const run = await capture(net, { filter: 'tcp port' }, () => undefined);
    expect(run.error?.code).toBe('ERR_BAD_FILTER');
    expect(run.error?.message).toContain(pcapSays);
  });

  it('reports a missing privilege with ERR_CAPTURE_PERMISSION and how to grant it', async () => {
    const run = await capture(net, {}, () => undefined, ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all']);
    expect(run.error?.code).toBe('ERR_CAPTURE_PERMISSION');
    expect(run.error?.message).toMatch(/AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN/);
  });
});
