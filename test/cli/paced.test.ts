// Paced replay (`--speed realtime|N`) as a user runs it: the pacing follows packet time, long
// pauses are cut to one second (never lengthened), results are those of `--speed max`, and
// Ctrl-C or SIGTERM ends it promptly with the report even while the input is quiet.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutput } from '../../src/capture/writer-output.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { EXIT } from '../../src/errors.js';
import { ndjson, runAsync, signalAfter } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'np-paced-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = 1_700_000_000;

/** An Ethernet/IPv4/UDP frame from 10.0.0.a to 10.0.0.b. */
function frame(a: number, b: number, len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f[12] = 0x08;
  f[14] = 0x45;
  f[16] = (len - 14) >> 8;
  f[17] = (len - 14) & 0xff;
  f[22] = 64;
  f[23] = 17;
  f.set([10, 0, 0, a], 26);
  f.set([10, 0, 0, b], 30);
  f[37] = 53;
  f[38] = (len - 34) >> 8;
  f[39] = (len - 34) & 0xff;
  return f;
}

/** A pcap with one packet at each time (seconds after START, any order). */
async function capture(name: string, times: readonly number[]): Promise<string> {
  const path = join(dir, name);
  const w = new PcapWriter(openOutput(path), { linktype: 1 });
  times.forEach((t, i) => {
    const ms = Math.round(t * 1000);
    w.writePacket(START + Math.floor(ms / 1000), (ms % 1000) * 1_000_000, frame(1 + (i % 4), 20 + (i % 3), 60 + (i % 40)));
  });
  await w.close();
  return path;
}

async function timed(args: readonly string[], input?: Buffer): Promise<{ ms: number; stdout: string; status: number | null }> {
  const t0 = performance.now();
  const r = await runAsync(args, { ...(input ? { input } : {}), timeoutMs: 60_000 });
  return { ms: performance.now() - t0, stdout: r.stdout, status: r.status };
}

describe('paced replay', () => {
  it('a pause longer than --max-gap is cut to one second, never lengthened (--speed 1000)', async () => {
    // 10 s of traffic with four silences of 65 s (each over the 60 s --max-gap): at 1000x the
    // whole capture is 0.27 s of packet time; each 65 ms pause "cut to one second" took a second
    const times: number[] = [];
    let t = 0;
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < 20; i++) times.push(t + i * 0.1);
      t += 2 + 65;
    }
    const f = await capture('silences.pcap', times);
    const max = await timed(['replay', f, '--json', '--detectors', 'none']);
    const fast = await timed(['replay', f, '--json', '--detectors', 'none', '--speed', '1000']);
    expect(fast.status).toBe(0);
    expect(fast.stdout).toBe(max.stdout);
    expect(ndjson(max.stdout).filter((m) => m.type === 'gap')).toHaveLength(4);
    // ~0.28 s of pacing plus start-up; four 1 s waits would be over 4 s
    expect(fast.ms).toBeLessThan(2500);
  });

  it('--max-gap 0 does not turn every pause between packets into a second', async () => {
    // 40 packets 0.05 s apart (2 s of capture) at 10x: 0.2 s of pacing, not 39 s
    const f = await capture('dense.pcap', Array.from({ length: 40 }, (_, i) => i * 0.05));
    const max = await timed(['replay', f, '--json', '--detectors', 'none', '--max-gap', '0']);
    const paced = await timed(['replay', f, '--json', '--detectors', 'none', '--max-gap', '0', '--speed', '10']);
    expect(paced.status).toBe(0);
    expect(paced.stdout).toBe(max.stdout);
    expect(paced.ms).toBeLessThan(3000);
  });

  it('follows packet time: 20 s of capture at --speed 10 take about 2 s, with a line per second', async () => {
    const f = await capture('twenty.pcap', Array.from({ length: 200 }, (_, i) => i * 0.1 + 0.05));
    const r = await timed(['replay', f, '--detectors', 'none', '--speed', '10']);
    expect(r.status).toBe(0);
    expect(r.ms).toBeGreaterThan(1900);
    expect(r.ms).toBeLessThan(4500);
    // one ticker line per second of the capture before the report
    const ticker = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d +\d+ pkt\/s/.test(l));
    expect(ticker).toHaveLength(20);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`ends promptly on ${signal} with the report while standard input is quiet (--speed 10)`, async () => {
      // a writer that sent a capture's start and then nothing (tcpdump -w - on a quiet link):
      // the replay waited for the next byte of input before it heard the signal
      const f = await capture('quiet.pcap', Array.from({ length: 10 }, (_, i) => i * 0.01));
      const r = await signalAfter(['replay', '-', '--json', '--detectors', 'none', '--speed', '10'], { waitMs: 1500, signal, stdin: readFileSync(f) });
      expect(r.ms).toBeLessThan(3000);
      expect(r.status).toBe(EXIT.interrupted);
      expect(r.stderr).toContain(`interrupted by ${signal}`);
      const report = ndjson(r.stdout).find((m) => m.type === 'report');
      expect(report?.packets).toBe(10);
    });
  }

  it('ends promptly on SIGINT at full speed too while standard input is quiet', async () => {
    const f = await capture('quiet-max.pcap', [0, 0.5, 1]);
    const r = await signalAfter(['replay', '-', '--json', '--detectors', 'none'], { waitMs: 1000, signal: 'SIGINT', stdin: readFileSync(f) });
    expect(r.ms).toBeLessThan(3000);
    expect(r.status).toBe(EXIT.interrupted);
    expect(ndjson(r.stdout).find((m) => m.type === 'report')?.packets).toBe(3);
  });

  it('a pause longer than Node keeps a timer (24.8 days) is waited, not skipped (--speed 0.00001)', async () => {
    // 30 s of packet time at 1/100000 of real time is 34.7 days, within the default --max-gap
    // scaled by the speed (60 s -> 69 days), so it is not cut: the second packet must still
    // be waiting when the run is interrupted. Node fires a timer of over 2^31 - 1 ms after
    // 1 ms (with a TimeoutOverflowWarning): both packets came out at once.
    const f = await capture('overflow-pause.pcap', [0, 30]);
    const r = await signalAfter(['replay', f, '--json', '--detectors', 'none', '--speed', '0.00001'], { waitMs: 1500, signal: 'SIGINT' });
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    expect(r.status).toBe(EXIT.interrupted);
    expect(ndjson(r.stdout).find((m) => m.type === 'report')?.packets).toBe(1);
  });

  it('paces stdin, several files across their boundary and out-of-order packets with the results of --speed max', async () => {
    // time goes back inside the allowance and past it (late), then an 81 s silence, then a
    // second file that starts 1 s after the first ends
    const times: number[] = [];
    for (let t = 0; t < 4; t += 0.137) times.push(t);
    times.push(2.5, 0.8, 3.9, 0.1);
    for (let t = 4; t < 6; t += 0.251) times.push(t);
    times.push(61 + 20, 90, 91, 90.5, 20);
    const a = await capture('ooo-a.pcap', times);
    const b = await capture('ooo-b.pcap', [92, 92.3, 93.7, 93.1, 94]);
    const max = await timed(['replay', a, b, '--json', '--hosts', 'all']);
    const paced = await timed(['replay', a, b, '--json', '--hosts', 'all', '--speed', '10']);
    expect(paced.status).toBe(0);
    expect(paced.stdout).toBe(max.stdout);
    const report = ndjson(max.stdout).find((m) => m.type === 'report');
    expect(report?.late).toBeGreaterThan(0);
    expect(report?.gaps).toBe(1);
    // 6 s, the 75 s pause cut to 1 s, then 13 s: at 10x about 0.6 + 1 + 1.3 = 2.9 s
    expect(paced.ms).toBeGreaterThan(2500);
    expect(paced.ms).toBeLessThan(6000);
    const stdin = await timed(['replay', '-', '--json', '--hosts', 'all', '--speed', '10'], readFileSync(a));
    const maxA = await timed(['replay', a, '--json', '--hosts', 'all']);
    expect(stdin.stdout).toBe(maxA.stdout);
  });
});
