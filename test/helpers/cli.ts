// Runs the built CLI (dist/bin/netpulse.js, made by `npm test` before vitest) as a user would.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(process.cwd(), 'dist', 'bin', 'netpulse.js');

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(args: readonly string[], opts: { input?: Buffer | string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 1 << 30,
    env: { ...process.env, ...opts.env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The same, asynchronously (for tests that run several at once or signal the child). */
export function runAsync(args: readonly string[], opts: { input?: Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}

export interface Msg {
  type: string;
  [k: string]: unknown;
}

export function ndjson(text: string): Msg[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Msg);
}

/**
 * Start the CLI with `args`, write `stdin` to it (and keep its stdin open) if given, send
 * `signal` after `waitMs`, and time how long it takes to exit after the signal (SIGKILL
 * after 10 s: a run that does not stop shows as status null).
 */
export async function signalAfter(
  args: readonly string[],
  o: { waitMs: number; signal: NodeJS.Signals; stdin?: Buffer },
): Promise<Run & { ms: number }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (status, signal) => done({ status, signal })));
  if (o.stdin !== undefined) child.stdin?.write(o.stdin); // stdin stays open
  await new Promise((r) => setTimeout(r, o.waitMs));
  const t0 = performance.now();
  child.kill(o.signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const end = await closed;
  clearTimeout(killer);
  child.stdin?.destroy();
  return { ...end, stdout, stderr, ms: performance.now() - t0 };
}

/** A CLI process still running: its exit status to come and its output so far. */
export interface Spawned {
  code: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  kill: (sig: NodeJS.Signals) => void;
}

/** Starts the CLI without waiting for it (no feed token from the environment). */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NETPULSE_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    code: new Promise((resolve) => child.on('close', (c) => resolve(c ?? -1))),
    stdout: () => out,
    stderr: () => err,
    kill: (sig) => child.kill(sig),
  };
}

/** The exit status, or a note that it was still running `ms` later (then it is killed). */
export async function exitWithin(r: Spawned, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`still running ${ms} ms later`), ms);
  });
  const status = await Promise.race([r.code, late]);
  clearTimeout(timer);
  if (typeof status === 'string') r.kill('SIGKILL');
  return status;
}
