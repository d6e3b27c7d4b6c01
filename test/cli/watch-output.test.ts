// `netpulse watch URL --json` into an output that cannot take it (stdout on a full disk,
// /dev/full): README "Errors and exit statuses": output that cannot be written is one
// ERR_OUTPUT line, exit status 6. It used to exit 0 once the server closed, with nothing
// said, every message lost. Oracle: the kernel (every write to /dev/full fails with
// ENOSPC); the server here is a plain ws server that sends a hello and then a summary.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { MIN_HELLO, closeWsServers, wsServer } from '../helpers/plain-ws.js';

afterEach(closeWsServers);

describe.runIf(existsSync('/dev/full'))('watch --json into a full disk', () => {
  it('is one ERR_OUTPUT line, exit status 6', async () => {
    const wss = await wsServer();
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify(MIN_HELLO));
      // the server then shuts down as a finished netpulse does (1001)
      setTimeout(() => ws.close(1001, 'server shutting down'), 500);
    });
    const { port } = wss.address() as AddressInfo;
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [CLI, 'watch', `ws://127.0.0.1:${port}/feed`, '--json'], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    clearTimeout(timer);
    expect(stderr).toBe('netpulse: stdout: cannot write the output (ENOSPC): it is incomplete; free space or send it elsewhere [ERR_OUTPUT]\n');
    expect(status).toBe(6);
  });
});
