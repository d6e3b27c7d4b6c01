// A reader of stderr that goes away (`netpulse replay F 2>&1 >report.txt | head -1`) must not
// cost the run: notes and alert lines stop, the report still goes to stdout, status 0 (the
// README: status 1 is a bug). Before, an unhandled EPIPE on stderr ended it with status 1.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

function runWithStderrClosed(args: readonly string[]): Promise<{ status: number | null; stdout: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // close our end of its stderr before it writes anything: every write then fails with EPIPE
  child.stderr.destroy();
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout });
    }),
  );
}

describe('stderr closed by its reader', () => {
  it('a replay whose console alert lines meet a closed stderr still writes its report and exits 0', async () => {
    // without --json the demo's 9 alerts are console lines on stderr, the report on stdout
    const r = await runWithStderrClosed(['replay', 'pcaps/demo.pcapng']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^netpulse report: /m);
    expect(r.stdout).toMatch(/^ *Alerts \(\d+ raised/m);
  });

  it('an error line that cannot be written still gives the documented status (4: missing file)', async () => {
    const r = await runWithStderrClosed(['replay', 'pcaps/no-such-file.pcap']);
    expect(r.status).toBe(4);
  });
});
