// Decoding allocates nothing: millions of decodes of every fixture (whole and cut short, so
// the anomaly paths run too) must not trigger a single garbage collection. Any per-frame
// object, string, closure or typed-array view would fill the young generation (a few MB)
// within the first hundred thousand frames and show up as a 'gc' performance entry.
//
// How this was checked to fail: adding `const view = b.subarray(off, end);` (unused) at the
// top of decodeIpv4 made this test fail with 14 scavenges (gc kind 1) during the loop, and
// `const one = b.slice(off, off + 1);` with 30; without them it passes with none.

import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { decodeFrame } from '../../src/decode/decoder.js';
import { createDecodedPacket, type DecodedPacket } from '../../src/decode/packet.js';
import { FIXTURES, bytesOf, frameOver } from './fixtures/catalog.js';

const DECODES = 3_000_000;

function mix(): Frame[] {
  const frames: Frame[] = [];
  for (const f of FIXTURES) {
    const b = bytesOf(f);
    // whole, and cut at a few places (inside the link header, the IP header, the L4 header)
    for (const len of new Set([b.length, 1, 13, 20, 30, 40, 60].filter((n) => n <= b.length))) {
      frames.push(frameOver(f.linktype, b, 0, len, f.wirelen));
    }
  }
  return frames;
}

/**
 * The loop measured, also run for the warm-up: what is measured is then code V8 has finished
 * optimising. Newer V8s tier up later and keep compiled code and its metadata on the heap
 * (Node 26: ~380 KB still added during the 3,000,000 decodes after 300,000 decodes of warm-up,
 * in code and trusted space, none of it garbage); after 3,000,000 it is under 10 KB.
 */
function decodeMany(frames: readonly Frame[], out: DecodedPacket, count: number): number {
  const n = frames.length;
  let layers = 0;
  for (let i = 0; i < count; i++) {
    decodeFrame(frames[i % n] as Frame, out);
    layers |= out.layers; // keeps the loop's result alive
  }
  return layers;
}

describe('decoding allocates nothing', () => {
  it(`runs ${DECODES.toLocaleString('en')} decodes without a garbage collection`, async () => {
    const frames = mix();
    const out = createDecodedPacket();
    // warm up: V8 compiles and optimises every path first (that allocates code, not garbage)
    for (let k = 0; k < 100; k++) decodeMany(frames, out, 30_000);
    await new Promise((r) => setTimeout(r, 20));

    const gcs: { kind: number; start: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      // detail.kind: 1 scavenge, 2 mark-sweep-compact, 4 incremental marking, 8 weak callbacks
      for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
        gcs.push({ kind: e.detail?.kind ?? -1, start: e.startTime });
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const layers = decodeMany(frames, out, DECODES);
    const t1 = performance.now();
    const heapAfter = process.memoryUsage().heapUsed;
    // gc entries arrive asynchronously: give them a moment, then keep only those in the loop
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();

    expect(layers).not.toBe(0);
    expect(gcs.filter((g) => g.start >= t0 && g.start <= t1)).toEqual([]);
    expect(heapAfter - heapBefore).toBeLessThan(256 * 1024);
  });
});
