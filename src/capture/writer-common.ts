// What the pcap and pcapng writers have in common (owned by synth): the record API the
// generator and fixture scripts use. Link-type numbers are LINKTYPE in decode/linktype.ts.

import type { ChunkedOutput } from './writer-output.js';

/**
 * Writes capture records into a ChunkedOutput. Two ways to write a packet:
 * - zero-copy: `const at = w.beginRecord(max)`, write up to `max` frame bytes into
 *   `w.out.buf` at `at` (the room is zeroed), then `w.endRecord(sec, nsec, len, wirelen)`;
 * - copying: `w.writePacket(sec, nsec, bytes, wirelen)`.
 * Timestamps are whole seconds since the epoch plus nanoseconds (0..999,999,999); each
 * format stores them at its own resolution, rounding down.
 */
export interface CaptureWriter {
  readonly out: ChunkedOutput;
  /** Records written so far. */
  readonly records: number;
  beginRecord(maxLen: number): number;
  /** `len` bytes were written; `wirelen` is the original length (>= len). */
  endRecord(sec: number, nsec: number, len: number, wirelen: number, iface?: number): void;
  writePacket(sec: number, nsec: number, bytes: Uint8Array, wirelen?: number, iface?: number): void;
  /** Flush and close the output. */
  close(): Promise<void>;
}

export function checkTime(sec: number, nsec: number): void {
  if (!Number.isInteger(sec) || sec < 0 || sec > 0xffffffff || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) {
    throw new RangeError(`timestamp ${sec}s ${nsec}ns cannot be written (seconds 0..2^32-1, nanoseconds 0..999999999)`);
  }
}
