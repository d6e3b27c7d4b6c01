// Which external tools the feed's tests need, and the rule for skipping: say why, and never
// skip when NETPULSE_REQUIRE_TOOLS=1 (CI installs them).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REQUIRE_TOOLS = process.env.NETPULSE_REQUIRE_TOOLS === '1';

/** Absolute path of a tool, or null; throws when tools are required but this one is missing. */
export function tool(path: string, apt: string): string | null {
  if (existsSync(path)) return path;
  if (REQUIRE_TOOLS) throw new Error(`${path} is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install ${apt}`);
  process.stderr.write(`skipping: ${path} not installed (apt-get install ${apt}); CI sets NETPULSE_REQUIRE_TOOLS=1\n`);
  return null;
}

/** A loopback port that was free a moment ago (for tools that need a port on the command line). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A capture from ../shared/pcaps/real and its tshark ground truth, or null (skip, saying
 *  why) when the corpus is absent; NETPULSE_REQUIRE_CORPUS=1 turns absence into a failure. */
export function corpus(name: string): { pcap: string; expected: Expected } | null {
  const root = join(process.cwd(), '..', 'shared', 'pcaps');
  const pcap = join(root, 'real', name);
  const exp = join(root, 'expected', `${name}.json`);
  if (existsSync(pcap) && existsSync(exp)) return { pcap, expected: JSON.parse(readFileSync(exp, 'utf8')) as Expected };
  if (process.env.NETPULSE_REQUIRE_CORPUS === '1') throw new Error(`${pcap} missing but NETPULSE_REQUIRE_CORPUS=1`);
  process.stderr.write(`skipping: ${pcap} absent (../shared is not beside this checkout)\n`);
  return null;
}

/** tshark's ground truth for a capture (see ../shared/pcaps/SOURCES.md). */
export interface Expected {
  capture: string;
  packets: number;
  bytes: number;
  seconds: { ts: number; packets: number; bytes: number }[];
  hosts: { addr: string; tx: { packets: number; bytes: number }; rx: { packets: number; bytes: number } }[];
}

export interface Prometheus {
  /** Instant query through the HTTP API. */
  query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Poll until the query returns a series (or the deadline passes). */
  waitFor(q: string, ms?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  log(): string;
  stop(): Promise<void>;
}

/** Debian's prometheus on a loopback port, scraping one target every second. */
export async function startPrometheus(binary: string, target: string, token: string | null): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'netpulse-prom-'));
  const lines = ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: netpulse', '    scrape_interval: 1s'];
  if (token !== null) lines.push('    authorization:', `      credentials: ${token}`);
  lines.push('    static_configs:', `      - targets: ['${target}']`, '');
  writeFileSync(join(dir, 'prometheus.yml'), lines.join('\n'));
  const port = await freePort();
  const proc = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const query: Prometheus['query'] = async (q) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data.result;
  };
  return {
    query,
    async waitFor(q, ms = 30_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        try {
          const res = await query(q);
          if (res.length > 0 || Date.now() > deadline) return res;
        } catch {
          if (Date.now() > deadline) return [];
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
