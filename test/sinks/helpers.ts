// Alerts for sink tests, built by the real lifecycle so they have every contract field; local
// endpoints and a real Alertmanager for the sink suites.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../../src/detect/alert.js';
import { CidrSet } from '../../src/detect/addr.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';
import { alertMessage, serialize, type AlertMessage } from '../../src/schema.js';

/** A raise at ts and its resolve at ts + 3, for `host`. */
export function raiseAndResolve(host: string | null, ts = 1_700_000_000, note = 'Host_Bytes_Spike'): [AlertMessage, AlertMessage] {
  const gate = new AlertGate(new CidrSet([], 't'), { max: 100, per: 60 });
  const t = new Tracker('zscore', { enabled: true, raiseAfter: 1, resolveAfter: 3, suppress: 0, severity: 'critical' }, gate, 10);
  const out: Alert[] = [];
  t.anomalous(ts, note, host, 'bytes/s', { value: 5e6, threshold: null, baseline: { mean: 1e6, stdev: 1e5, z: 40 }, message: 'spike' });
  t.step(ts, out);
  for (let i = 1; i <= 3; i++) t.step(ts + i, out);
  const [r, s] = out;
  if (r === undefined || s === undefined) throw new Error('expected a raise and a resolve');
  return [alertMessage(r), alertMessage(s)];
}

export function json(m: AlertMessage): string {
  return serialize(m);
}

// ---- local endpoints and a real Alertmanager, shared by the sink suites ----


export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: Server[] = [];

/** An HTTP endpoint on 127.0.0.1 that hands each request's whole body to `handler`. */
export async function serve(handler: Handler): Promise<{ url: string; port: number; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  return { ...(await listening(server)), server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

/** Listen on a free loopback port; closed by closeServers(). */
export async function listening(server: Server): Promise<{ port: number }> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port };
}

/** For afterEach: close every endpoint started since, open connections included. */
export async function closeServers(): Promise<void> {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** What runCommand does after a signal: close the sink, but wait at most `ms`. */
export async function closeWithin(sink: { close(): Promise<void> }, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([sink.close(), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

export const ALERTMANAGER = 'prometheus-alertmanager';
/** Whether the Alertmanager suites run: installed, or required (then a missing one fails). */
export function alertmanagerWanted(what: string): boolean {
  const have = spawnSync(ALERTMANAGER, ['--version']).status === 0;
  const required = process.env.NETPULSE_REQUIRE_TOOLS === '1';
  if (!have && !required) console.warn(`skipping ${what}: ${ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)`);
  return have || required;
}

export interface RunningAlertmanager {
  readonly base: string;
  log(): string;
  stop(): Promise<void>;
}

/** A real Alertmanager on a free loopback port, ready to take alerts (its API answers). */
export async function startAlertmanager(): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'np-am-'));
  const cfg = join(dir, 'alertmanager.yml');
  writeFileSync(cfg, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const am: ChildProcess = spawn(ALERTMANAGER, [`--config.file=${cfg}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  am.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  am.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (am.exitCode !== null || am.signalCode !== null) return;
    const done = new Promise((r) => am.once('exit', r));
    am.kill('SIGTERM');
    await done;
  };
  const end = Date.now() + 20_000;
  while ((await fetch(`${base}/-/ready`).then((r) => r.status).catch(() => 0)) !== 200) {
    if (Date.now() > end) {
      await stop();
      throw new Error(`Alertmanager did not start; its log:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, log: () => log, stop };
}
