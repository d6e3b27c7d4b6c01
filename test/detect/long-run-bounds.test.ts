// State that must stay bounded over a long run (weeks on a sensor): each component is
// driven directly by a scripted long sequence in packet time (no wall clock), and the size
// of what it keeps is checked against its bound.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';
import { SilenceDetector } from '../../src/detect/silence.js';
import { onlyDetector, second } from './helpers.js';
import { pcapHeader } from '../helpers/pcap.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection. */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A pcap header, then one 60-byte Ethernet/IPv4/UDP record per chunk, as a pipe hands
 *  a slow writer's output over (tcpdump -U -w - | netpulse replay -). */
async function* pipeChunks(records: number): AsyncGenerator<Uint8Array> {
  const head = pcapHeader();
  yield head;
  for (let i = 0; i < records; i++) {
    const r = Buffer.alloc(16 + 60);
    r.writeUInt32LE(1_700_000_000 + Math.floor(i / 100), 0);
    r.writeUInt32LE((i % 100) * 10_000, 4);
    r.writeUInt32LE(60, 8);
    r.writeUInt32LE(60, 12);
    r.writeUInt16BE(0x0800, 16 + 12);
    r[16 + 14] = 0x45;
    r.writeUInt16BE(46, 16 + 16);
    r[16 + 23] = 17;
    r.writeUInt32BE(0x0a000001, 16 + 26);
    r.writeUInt32BE(0x0a000002, 16 + 30);
    yield r;
  }
}

describe('long-run bounds', () => {
  it('replay from a pipe: memory does not grow with the number of reads', async () => {
    // Each read raced the source's stop signal, which stays pending until stop(): every race
    // left a reaction (a promise, two closures, a context) on it, about 300 bytes per read.
    // 150,000 reads leaked about 45 MB, without bound; now the heap stays flat.
    const total = 150_000;
    const marks = new Map<number, number>([
      [30_000, 0],
      [total, 0],
    ]);
    let frames = 0;
    const end = await new FileSource({ files: ['-'], stdin: pipeChunks(total) }).start(() => {
      frames++;
      if (marks.has(frames)) marks.set(frames, heapUsed());
    });
    expect(end.error ?? null).toBeNull();
    expect(frames).toBe(total);
    const growth = (marks.get(total) ?? 0) - (marks.get(30_000) ?? 0);
    // 120,000 reads later: a leak of 300 bytes a read would be 36 MB
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  });

  it('silence with a fixed limit keeps no quiet runs; the automatic limit keeps 10 minutes of them', () => {
    // A sparse link: one second with packets, one without, for 5 days of packet time.
    // With a fixed `seconds` every quiet run was appended and never read nor dropped (the
    // automatic limit's pruning never ran): 216,000 entries here, growing without bound.
    for (const seconds of [5, 'auto'] as const) {
      const cfg = onlyDetector((c) => {
        c.silence.enabled = true;
        c.silence.seconds = seconds;
      });
      const gate = new AlertGate(cfg.allow, cfg.rateLimit);
      const d = new SilenceDetector(cfg.silence, new Tracker('silence', cfg.silence, gate, cfg.maxOpen));
      const runs = (): number => (d as unknown as { runs: unknown[] }).runs.length;
      const days = 5;
      let most = 0;
      for (let t = 0; t < days * 86_400; t++) {
        const n = t % 2 === 0 ? 3 : 0;
        d.observe(second(1_700_000_000 + t, { packets: n, bytes: n * 60 }));
        if (runs() > most) most = runs();
      }
      // runs end at least 2 s apart: at most 300 within the 600 s the automatic limit reads
      if (seconds === 'auto') expect(most).toBeLessThanOrEqual(301);
      else expect(most).toBe(0);
    }
  });
});
