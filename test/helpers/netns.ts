// Network namespaces and veth pairs for live-capture tests (owner: live capture). Each pair
// lives in its own namespace with a unique name, IPv6 off and no addresses, so the kernel
// sends nothing of its own and the only frames are the ones a test injects. Deleting the
// namespace deletes the pair; it happens in afterAll, on process exit, and for namespaces
// left by a crashed run (their pid is gone).

import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PREFIX = 'nptest';
const live = new Set<string>();

export interface VethNs {
  /** Namespace name. */
  readonly ns: string;
  /** The end frames are injected into. */
  readonly inject: string;
  /** The end that is captured. */
  readonly capture: string;
  /** Run a command inside the namespace, synchronously; returns stdout. */
  run(cmd: string, args: readonly string[]): string;
  /** Spawn a command inside the namespace. */
  spawn(cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** rx/tx packet counters of an interface inside the namespace (from `ip -s -j link`). */
  counters(iface: string): { rxPackets: number; txPackets: number };
  destroy(): void;
}

/** Why live tests cannot run here, or null when they can. */
export function liveEnvProblem(tools: readonly string[] = ['ip', 'tcpreplay']): string | null {
  if (process.platform !== 'linux') return 'live capture tests need Linux';
  if (process.getuid?.() !== 0) return 'live capture tests need root (network namespaces, raw sockets)';
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    } catch {
      return `${t} is not installed (apt-get install ${t === 'ip' ? 'iproute2' : t})`;
    }
  }
  try {
    createRequire(import.meta.url)('cap');
  } catch (e) {
    return `the cap binding does not load (${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}): apt-get install libpcap-dev && npm run build:cap`;
  }
  if (!existsSync(join(REPO, 'dist', 'capture', 'live.js'))) return 'dist/ is not built (npm test builds it)';
  return null;
}

/** True when the live suites must not skip (CI). */
export const requireTools = process.env.NETPULSE_REQUIRE_TOOLS === '1';

/** Throw when dist/ is older than src/ (children run the built code). */
export function assertDistFresh(files: readonly string[]): void {
  for (const f of files) {
    const src = join(REPO, 'src', `${f}.ts`);
    const out = join(REPO, 'dist', `${f}.js`);
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
      throw new Error(`dist/${f}.js is older than src/${f}.ts: run npm run build (npm test does)`);
    }
  }
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete namespaces that earlier runs of these tests left behind (their process is gone). */
export function sweepStale(): void {
  let list = '';
  try {
    list = ip(['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (m?.[1] !== undefined && !pidAlive(Number(m[1]))) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
  }
}

let seq = 0;

/** A fresh namespace with a veth pair, both ends up, IPv6 off, no addresses. */
export function createVethNs(mtu = 1500): VethNs {
  sweepStale();
  seq += 1;
  const tag = `${process.pid.toString(36)}${seq.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const ns = `${PREFIX}-${process.pid}-${tag}`;
  const inject = `npi${tag}`.slice(0, 15);
  const capture = `npc${tag}`.slice(0, 15);
  ip(['netns', 'add', ns]);
  live.add(ns);
  try {
    const inNs = (args: readonly string[]): string => ip(['netns', 'exec', ns, ...args]);
    inNs(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    inNs(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip(['-n', ns, 'link', 'add', inject, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', capture, 'mtu', String(mtu)]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', ns, 'link', 'set', inject, 'up']);
    ip(['-n', ns, 'link', 'set', capture, 'up']);
  } catch (e) {
    destroyNs(ns);
    throw e;
  }
  return {
    ns,
    inject,
    capture,
    run: (cmd, args) =>
      execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    spawn: (cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts),
    counters: (iface) => {
      const j = JSON.parse(ip(['-n', ns, '-s', '-j', 'link', 'show', 'dev', iface])) as Array<{
        stats64: { rx: { packets: number }; tx: { packets: number } };
      }>;
      const s = j[0]?.stats64;
      if (s === undefined) throw new Error(`no stats for ${iface}`);
      return { rxPackets: s.rx.packets, txPackets: s.tx.packets };
    },
    destroy: () => destroyNs(ns),
  };
}

function destroyNs(ns: string): void {
  if (!live.delete(ns)) return;
  try {
    ip(['netns', 'del', ns]);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const ns of [...live]) destroyNs(ns);
});

/** Frames of a classic pcap file, read here (independently of src/) for comparisons. */
export function readPcapFrames(path: string): { linktype: number; frames: Buffer[]; wirelens: number[] } {
  const b = readFileSync(path);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const frames: Buffer[] = [];
  const wirelens: number[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const incl = u32(o + 8);
    wirelens.push(u32(o + 12));
    frames.push(b.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return { linktype: u32(20), frames, wirelens };
}

/** Wait for a child to exit; resolves with its code and signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Collect a stream into a string. */
export function collect(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let s = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    s += d;
  });
  return { text: () => s };
}

/** Resolve once `pred` holds for the text collected so far (polls every 20 ms). */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
