// --detect-thread with --known-hosts: the file is read (and its directory checked) once, at
// start, on the main thread. The detector thread must start from that reading, not read
// the file again later: by then it may be gone (a directory renamed, a volume unmounted),
// which is a mid-run write problem to report, never a failed run (exit status 1). The
// oracle: the in-thread stage, which reads the file once, knows the same hosts.
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecondSummary } from '../../src/aggregate/summary.js';
import { detectionFromOptions } from '../../src/cli/detect-options.js';

function second(ts: number, addrs: string[]): SecondSummary {
  return {
    ts,
    packets: addrs.length,
    bytes: 100 * addrs.length,
    capturedBytes: 100 * addrs.length,
    protocols: {},
    activeHosts: addrs.length,
    hosts: addrs.map((addr) => ({ addr, tx: { packets: 1, bytes: 100, size: null }, rx: { packets: 0, bytes: 0, size: null } })),
    newHosts: addrs.length,
    newHostAddrs: addrs,
    anomalies: {},
    late: 0,
    dropped: null,
  };
}

describe('--detect-thread and a known-hosts file', () => {
  it('the thread starts from the hosts read at start, even when the directory is gone before it starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-known-thread-'));
    const sub = join(dir, 'state');
    mkdirSync(sub);
    const file = join(sub, 'known');
    writeFileSync(file, '192.168.1.10\n192.168.1.11\n');
    const d = detectionFromOptions({ detectors: 'new-host', knownHosts: file, learn: '0s', detectThread: true });
    // the worker is still starting: take the directory away under it
    renameSync(sub, `${sub}.gone`);
    const stage = d.detect;
    expect(stage !== null && 'async' in stage && stage.async).toBe(true);
    if (stage === null || !('async' in stage)) return;
    const raised: string[] = [];
    for (const a of await stage.observe(second(1000, ['192.168.1.10', '192.168.1.11', '192.168.1.99']))) if (a.state === 'raised') raised.push(a.host ?? '');
    for (const a of await stage.finish(1000)) if (a.state === 'raised') raised.push(a.host ?? '');
    await stage.close();
    // the two known hosts are not new; the third is
    expect(raised).toEqual(['192.168.1.99']);
    const problems = d.problems();
    expect(problems.filter((p) => p.includes('detector thread'))).toEqual([]);
  }, 30_000);
});
