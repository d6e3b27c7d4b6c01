// /api/summary's report is the run's report: after a replay ends (still serving), it is the
// very report message the run wrote as the last line of --json, type and v included.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

describe('/api/summary after a replay', () => {
  it('gives the report message of --json, whole with hosts=all and its first 10 hosts by default', async () => {
    const child = spawn(process.execPath, [CLI, 'replay', 'pcaps/demo.pcapng', '--json', '--hosts', 'all', '--serve', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = once(child, 'close') as Promise<[number | null]>;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      let m: RegExpExecArray | null = null;
      for (let i = 0; i < 300 && (m = /still serving (http:\/\/\S+)/.exec(err)) === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(m, err).not.toBeNull();
      const base = m?.[1] ?? '';
      const all = (await (await fetch(`${base}api/summary?hosts=all`)).json()) as { report: { hosts: unknown[] } };
      const top = (await (await fetch(`${base}api/summary`)).json()) as { report: { hosts: unknown[] } };
      child.kill('SIGINT');
      expect((await closed)[0], err).toBe(0);
      const report = JSON.parse(out.trimEnd().split('\n').at(-1) ?? '{}') as { type: string; hosts: unknown[] };
      expect(report.type).toBe('report');
      expect(report.hosts.length).toBeGreaterThan(10);
      expect(all.report).toEqual(report);
      expect(top.report).toEqual({ ...report, hosts: report.hosts.slice(0, 10) });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
