// /api/summary's report is the run's report: after a replay ends (still serving), it is the
// very report message the run wrote as the last line of --json, type and v included.
import { describe, expect, it } from 'vitest';
import { exitWithin, spawnCli } from '../helpers/cli.js';

describe('/api/summary after a replay', () => {
  it('gives the report message of --json, whole with hosts=all and its first 10 hosts by default', async () => {
    const replay = spawnCli(['replay', 'pcaps/demo.pcapng', '--json', '--hosts', 'all', '--serve', '0']);
    try {
      let m: RegExpExecArray | null = null;
      for (let i = 0; i < 300 && (m = /still serving (http:\/\/\S+)/.exec(replay.stderr())) === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(m, replay.stderr()).not.toBeNull();
      const base = m?.[1] ?? '';
      const all = (await (await fetch(`${base}api/summary?hosts=all`)).json()) as { report: { hosts: unknown[] } };
      const top = (await (await fetch(`${base}api/summary`)).json()) as { report: { hosts: unknown[] } };
      replay.kill('SIGINT');
      expect(await exitWithin(replay, 10_000), replay.stderr()).toBe(0);
      const report = JSON.parse(replay.stdout().trimEnd().split('\n').at(-1) ?? '{}') as { type: string; hosts: unknown[] };
      expect(report.type).toBe('report');
      expect(report.hosts.length).toBeGreaterThan(10);
      expect(all.report).toEqual(report);
      expect(top.report).toEqual({ ...report, hosts: report.hosts.slice(0, 10) });
    } finally {
      replay.kill('SIGKILL'); // nothing if it has ended
    }
  }, 30_000);
});
