// openOutput('-') on a stdout that fails: a library caller's close() must fail too, with
// ERR_OUTPUT, not report success while the bytes were lost (the disk-full device is the
// oracle: every write to it fails with ENOSPC).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../dist/capture/writer-output.js', import.meta.url));
const SCRIPT = `
  const m = await import(${JSON.stringify(MODULE)});
  const o = m.openOutput('-');
  o.write(Buffer.alloc(1000, 1));
  try { await o.close(); console.error('closed'); } catch (e) { console.error('failed ' + e.code); }
`;

describe.runIf(existsSync('/dev/full'))('openOutput("-") on a failing stdout', () => {
  it('close() fails with ERR_OUTPUT when stdout is /dev/full', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      expect(r.stderr.trim()).toBe('failed ERR_OUTPUT');
    } finally {
      closeSync(fd);
    }
  });

  it('close() succeeds when stdout takes the bytes', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.stderr.toString().trim()).toBe('closed');
    expect(r.stdout.length).toBe(1000);
  });
});
