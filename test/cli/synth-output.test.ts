// `netpulse synth -` into an output that cannot take it (stdout on a full disk, /dev/full):
// README "Synthetic captures": "an output that cannot be written is [ERR_OUTPUT] (exit
// status 6)". It used to exit 0 and say "wrote stdout (... packets ...)": the stdout
// writer's close resolved before the stream's ENOSPC error arrived. Oracle: the kernel
// (every write to /dev/full fails with ENOSPC), and the same command into a pipe, whose
// bytes are the capture (exit 0).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, run } from '../helpers/cli.js';

describe.runIf(existsSync('/dev/full'))('synth - into a full disk', () => {
  // 1,000 packets fit in one write buffer (written at close); 20,000 need several.
  for (const packets of ['1000', '20000']) {
    it(`is one ERR_OUTPUT line, exit status 6 (${packets} packets)`, () => {
      const full = openSync('/dev/full', 'w');
      const r = spawnSync(process.execPath, [CLI, 'synth', '-', '-n', packets], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      closeSync(full);
      expect(r.stderr).not.toContain('wrote stdout');
      expect(r.stderr).toBe('netpulse: stdout: cannot write the capture: the disk is full; free some space or write elsewhere [ERR_OUTPUT]\n');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.status).toBe(6);
    });
  }

  it('into a pipe the same command succeeds and writes the capture', () => {
    const r = run(['synth', '-', '-n', '1000', '-q']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBeGreaterThan(24);
  });
});
