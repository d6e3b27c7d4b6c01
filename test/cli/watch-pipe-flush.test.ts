// `netpulse watch URL --json --until-end | slow-reader`: every message the server sent must
// reach the reader, even when the reader is still busy when the feed ends. The watcher used
// to exit as soon as the end arrived, and what the pipe could not take yet (all but the
// first 64 KiB) was lost. Oracle: the messages this test's own server sent, counted here.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { MIN_HELLO, closeWsServers, wsServer } from '../helpers/plain-ws.js';

afterEach(closeWsServers);

describe('watch --json --until-end into a slow pipe', () => {
  it('passes every message through before exiting 0', async () => {
    const wss = await wsServer();
    const N = 3000;
    const pad = 'x'.repeat(300);
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify(MIN_HELLO));
      for (let i = 0; i < N; i++) ws.send(JSON.stringify({ type: 'summary', v: 1, seq: i + 1, ts: 1_700_000_000 + i, packets: i, bytes: i, pad }));
      ws.send(JSON.stringify({ type: 'end', v: 1, seq: N + 1, reason: 'eof' }));
    });
    const { port } = wss.address() as AddressInfo;
    const child = spawn(process.execPath, [CLI, 'watch', `ws://127.0.0.1:${port}/feed`, '--json', '--until-end'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // the reader is busy for the first 2 s: nothing is read, the pipe (64 KiB) fills up
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2000);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    clearTimeout(timer);
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // the hello, every summary, the end
    expect(lines).toHaveLength(N + 2);
    const seqs = lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: N + 2 }, (_, i) => i));
  }, 40_000);
});
