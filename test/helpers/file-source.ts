// Reads captures through FileSource (the replay's reader) and tallies what it hands out,
// for the compressed-input suites; and feeds bytes to it as a stream in chunks.
import { FileSource } from '../../src/capture/file-source.js';

export interface Tally {
  packets: number;
  bytes: number;
  /** Packets per epoch second. */
  seconds: Record<number, number>;
}

/** Packets, wire bytes and packets per second read from `files` ('-': `stdin`), and the
 *  error that ended the read (null: none). */
export async function readCapture(
  files: string[],
  stdin?: AsyncIterable<Uint8Array>,
): Promise<Tally & { error: { code: string; message: string } | null }> {
  let packets = 0;
  let bytes = 0;
  const seconds: Record<number, number> = {};
  const end = await new FileSource({ files, ...(stdin ? { stdin } : {}) }).start((f) => {
    packets++;
    bytes += f.wirelen;
    const s = Math.floor(f.tsMicros / 1e6);
    seconds[s] = (seconds[s] ?? 0) + 1;
  });
  return { packets, bytes, seconds, error: end.error ?? null };
}

/** `b` as a stream of `size`-byte chunks. */
export async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}
