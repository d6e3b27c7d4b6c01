// Inputs that are not plain files: named pipes, /dev/fd/N from a shell's <(...), /dev/stdin
// on a pipe. tshark reads them all; so must replay (they cannot be read at an offset, have no
// size, and a FIFO can be opened only once). Oracle: tshark's ground truth for the capture.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { CLI, ndjson, signalAfter } from '../helpers/cli.js';
import { REAL, haveCorpus, truth } from '../helpers/corpus.js';

const corpus = haveCorpus();

/** Reads `paths` with FileSource: packets, wire bytes and per-second packet counts. */
async function readAll(paths: string[]): Promise<{ packets: number; bytes: number; seconds: Record<number, number>; error: string | null }> {
  let packets = 0;
  let bytes = 0;
  const seconds: Record<number, number> = {};
  const end = await new FileSource({ files: paths }).start((f) => {
    packets++;
    bytes += f.wirelen;
    const s = Math.floor(f.tsMicros / 1e6);
    seconds[s] = (seconds[s] ?? 0) + 1;
  });
  return { packets, bytes, seconds, error: end.error ? `${end.error.code}: ${end.error.message}` : null };
}

function truthSeconds(name: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of truth(name).seconds) out[s.ts] = s.packets;
  return out;
}

/** A FIFO with a writer process that writes `bytes` into it once a reader opens it. */
function fifoWith(dir: string, name: string, bytes: Buffer): string {
  const src = join(dir, `${name}.src`);
  writeFileSync(src, bytes);
  const fifo = join(dir, name);
  execFileSync('mkfifo', [fifo]);
  const w = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', src, fifo], { stdio: 'ignore' });
  w.on('error', () => undefined);
  return fifo;
}

describe.skipIf(!corpus)('inputs that are pipes, not files', () => {
  it('a named pipe (mkfifo) is read once, as a stream: plain pcap after a file, and gzip-compressed pcapng', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-fifo-'));
    const pings = 'zeek-5-pings.pcap';
    const multi = 'ppp-many_interfaces-1.pcapng';
    const plain = fifoWith(dir, 'plain', readFileSync(join(REAL, pings)));
    const got = await readAll([join(REAL, pings), plain]);
    expect(got.error).toBeNull();
    expect(got.packets).toBe(2 * truth(pings).packets);
    expect(got.bytes).toBe(2 * truth(pings).bytes);

    const gz = fifoWith(dir, 'gz', gzipSync(readFileSync(join(REAL, multi))));
    const got2 = await readAll([gz]);
    expect(got2.error).toBeNull();
    expect(got2.packets).toBe(truth(multi).packets);
    expect(got2.bytes).toBe(truth(multi).bytes);
    expect(got2.seconds).toEqual(truthSeconds(multi));
  });

  it('replay <(cat F) and /dev/stdin on a pipe read like "-"', () => {
    const pings = 'zeek-5-pings.pcap';
    const f = join(REAL, pings);
    const t = truth(pings);
    for (const cmd of [
      `node "$1" replay <(cat "$2") --json --hosts all --detectors none`,
      `node "$1" replay <(gzip -c "$2") --json --hosts all --detectors none`,
      `cat "$2" | node "$1" replay /dev/stdin --json --hosts all --detectors none`,
    ]) {
      const r = spawnSync('bash', ['-c', cmd, 'bash', CLI, f], { encoding: 'utf8', timeout: 60_000 });
      expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: '' });
      const report = ndjson(r.stdout).at(-1) as unknown as { packets: number; bytes: number };
      expect([report.packets, report.bytes]).toEqual([t.packets, t.bytes]);
    }
  });
});

describe.skipIf(!corpus)('a named pipe and a stop signal', () => {
  const stopOn = (fifo: string, waitMs: number) =>
    signalAfter(['replay', fifo, '--json', '--detectors', 'none'], { waitMs, signal: 'SIGTERM' });

  it('ends at once on SIGTERM while the writer holds the pipe open and sends nothing (a read was left blocked)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-fifo-stop-'));
    const name = 'zeek-5-pings.pcap';
    const src = join(REAL, name);
    const fifo = join(dir, 'quiet');
    execFileSync('mkfifo', [fifo]);
    // tcpdump -w FIFO on a quiet link: the capture so far, then the pipe stays open
    const w = spawn('sh', ['-c', 'exec 3>"$2"; cat "$1" >&3; sleep 30', 'sh', src, fifo], { stdio: 'ignore' });
    w.on('error', () => undefined);
    try {
      const r = await stopOn(fifo, 1500);
      expect(r.ms).toBeLessThan(3000);
      expect(r.status).toBe(130);
      expect(r.stderr).toContain('interrupted by SIGTERM');
      const report = ndjson(r.stdout).find((m) => m.type === 'report');
      // what was read before the signal is reported (all of it, unless the machine was too slow to read 10 packets in 1.5 s)
      expect(report?.packets).toBeLessThanOrEqual(truth(name).packets);
    } finally {
      w.kill('SIGKILL');
    }
  }, 20_000);

  it('ends at once on SIGTERM while no writer has opened the pipe yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-fifo-stop-'));
    const fifo = join(dir, 'nobody');
    execFileSync('mkfifo', [fifo]);
    const r = await stopOn(fifo, 1000);
    expect(r.ms).toBeLessThan(3000);
    expect(r.status).toBe(130);
    expect(ndjson(r.stdout).find((m) => m.type === 'report')?.packets).toBe(0);
  }, 20_000);
});
