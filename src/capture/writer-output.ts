// Where the capture writers put their bytes: one large reusable buffer, flushed whole to a
// file (synchronous writes), a stream (stdout) or a gzip stream. Owned by synth; used by
// the pcap and pcapng writers, the generator and the fixture script.

import { closeSync, createWriteStream, openSync, write, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Transform, type TransformOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { AnalyzerError } from '../errors.js';

export interface OutputOptions {
  /** Compress with gzip (deflate level `gzipLevel`, default 6). */
  readonly gzip?: boolean;
  readonly gzipLevel?: number;
  /** Size of the reusable buffer in bytes (default 1 MiB). */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK = 1 << 20;
/** Buffers per file target: one being filled, the others being written. */
const FILE_BUFFERS = 4;

/**
 * A byte sink with one big buffer. Writers ask for room with `ensure(n)`, write into
 * `buf` at the returned position and move `pos` on. Bytes handed out by `ensure` are
 * always zero, so writers never clear padding or payload themselves.
 *
 * `buf` may be replaced by `ensure` (stream targets hand the full buffer to the stream),
 * so read `buf` and `view` after calling it, never before.
 */
export class ChunkedOutput {
  buf: Buffer;
  view: DataView;
  pos = 0;
  /** Uncompressed bytes accepted so far (flushed or buffered). */
  private flushedBytes = 0;
  private readonly chunkSize: number;
  private readonly fd: number | null;
  private readonly stream: Writable | null;
  private readonly done: Promise<void> | null;
  private failure: AnalyzerError | null = null;
  private waiting: Promise<void> | null = null;
  private closed = false;
  /** File targets: zeroed buffers ready for use, and positioned writes still running. */
  private readonly spare: Buffer[] = [];
  private inflight = 0;
  private wake: (() => void) | null = null;
  readonly description: string;

  /** @internal use openOutput(). */
  constructor(target: { fd: number } | { stream: Writable; done: Promise<void> | null }, description: string, chunkSize: number) {
    this.chunkSize = chunkSize;
    this.buf = Buffer.alloc(chunkSize);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.description = description;
    if ('fd' in target) {
      this.fd = target.fd;
      this.stream = null;
      this.done = null;
      for (let i = 1; i < FILE_BUFFERS; i++) this.spare.push(Buffer.alloc(chunkSize));
    } else {
      this.fd = null;
      this.stream = target.stream;
      this.done = target.done;
      this.stream.on('error', (e: unknown) => {
        this.failure ??= outputError(this.description, e);
      });
      // Swallow here: the failure is reported through ensure(), drain() and close().
      this.done?.catch((e: unknown) => {
        this.failure ??= outputError(this.description, e);
      });
    }
  }

  /** Total bytes accepted (before compression). */
  get bytes(): number {
    return this.flushedBytes + this.pos;
  }

  /** Room for n more bytes at the returned position (zeroed). Flushes when the buffer is full. */
  ensure(n: number): number {
    if (this.pos + n <= this.buf.length) return this.pos;
    this.flush();
    if (n > this.buf.length) this.replaceBuffer(Math.max(n, this.chunkSize));
    return this.pos;
  }

  /** Copy bytes in. */
  write(bytes: Uint8Array): void {
    const p = this.ensure(bytes.length);
    this.buf.set(bytes, p);
    this.pos = p + bytes.length;
  }

  /**
   * True when the producer should `await drain()`: a stream asked to wait, or every
   * file buffer is being written. Producers that never wait still work (file targets then
   * write synchronously); waiting lets generation overlap the disk writes.
   */
  get needsDrain(): boolean {
    return this.waiting !== null || (this.fd !== null && this.spare.length === 0 && this.inflight > 0);
  }

  /** Resolves when the target can take more (at once when it can already). */
  async drain(): Promise<void> {
    if (this.waiting !== null) await this.waiting;
    while (this.fd !== null && this.spare.length === 0 && this.inflight > 0 && this.failure === null) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.check();
  }

  /** Hand everything buffered to the target. */
  flush(): void {
    this.check();
    if (this.pos === 0) return;
    const n = this.pos;
    if (this.fd !== null) {
      const at = this.flushedBytes;
      const next = this.spare.pop();
      if (next === undefined) {
        // No free buffer: write this one synchronously (positions are explicit, so the
        // order of completion of the writes in flight does not matter) and reuse it.
        try {
          let off = 0;
          while (off < n) off += writeSync(this.fd, this.buf, off, n - off, at + off);
        } catch (e) {
          throw (this.failure = outputError(this.description, e));
        }
        this.buf.fill(0, 0, n);
      } else {
        this.writeAt(this.buf, 0, n, at, n);
        this.buf = next;
        this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
      }
    } else if (this.stream !== null) {
      // The stream keeps the buffer: give it away and start a fresh (zeroed) one.
      const chunk = this.buf.subarray(0, n);
      this.replaceBuffer(this.chunkSize);
      const s = this.stream;
      if (!s.write(chunk) && this.waiting === null) {
        this.waiting = new Promise<void>((resolve) => {
          const go = (): void => {
            s.off('drain', go);
            s.off('close', go);
            s.off('error', go);
            this.waiting = null;
            resolve();
          };
          s.on('drain', go);
          s.on('close', go);
          s.on('error', go);
        });
      }
    }
    this.flushedBytes += n;
    this.pos = 0;
  }

  /** Flush, finish the target and wait until everything is written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== null) {
      while (this.inflight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
      try {
        closeSync(this.fd);
      } catch (e) {
        throw outputError(this.description, e);
      }
      this.check();
      return;
    }
    const s = this.stream;
    if (s === null) return;
    if (this.done !== null) {
      s.end();
      await this.done.catch(() => undefined);
    } else {
      // stdout and other caller-owned streams: do not end them, but wait until everything
      // written has been handed to the OS (an empty write's callback runs after the rest),
      // so a caller may exit right after.
      await new Promise<void>((resolve) => {
        if (s.destroyed || !s.writable) resolve();
        else
          s.write(Buffer.alloc(0), (e) => {
            if (e) this.failure ??= outputError(this.description, e);
            resolve();
          });
      });
      // A synchronous stream (stdout on a file: \`> /dev/full\`) reports a failed write with an
      // 'error' event on a later tick, after the callbacks: give it that turn before check().
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.check();
  }

  /** Close a file target without flushing (used when generation failed half-way). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) {
      const fd = this.fd;
      const closeLater = (): void => {
        if (this.inflight > 0) {
          this.wake = closeLater;
          return;
        }
        try {
          closeSync(fd);
        } catch {
          // already failing; the first error is the one reported
        }
      };
      closeLater();
    } else if (this.done !== null) {
      this.stream?.destroy();
    }
  }

  /** One positioned write on the thread pool; the buffer returns to `spare` when done. */
  private writeAt(b: Buffer, off: number, len: number, at: number, used: number): void {
    const fd = this.fd;
    if (fd === null) return;
    this.inflight++;
    write(fd, b, off, len, at, (err, wrote) => {
      if (err === null && wrote < len) {
        this.inflight--;
        this.writeAt(b, off + wrote, len - wrote, at + wrote, used);
        return;
      }
      this.inflight--;
      if (err !== null) this.failure ??= outputError(this.description, err);
      b.fill(0, 0, used);
      this.spare.push(b);
      const w = this.wake;
      this.wake = null;
      w?.();
    });
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private replaceBuffer(size: number): void {
    this.buf = Buffer.alloc(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
}

function outputError(subject: string, e: unknown): AnalyzerError {
  const code = (e as { code?: unknown } | null)?.code;
  const why =
    code === 'EPIPE'
      ? 'the reader closed the pipe before the capture was complete'
      : code === 'ENOSPC'
        ? 'the disk is full; free some space or write elsewhere'
        : `${e instanceof Error ? e.message : String(e)}; check the path and free space`;
  return new AnalyzerError('ERR_OUTPUT', `cannot write the capture: ${why}`, { subject, cause: e });
}

/** True for the failure a pipe reader causes by stopping early (`netpulse synth - | head`). */
export function isBrokenPipe(e: unknown): boolean {
  return e instanceof AnalyzerError && (e.cause as { code?: unknown } | undefined)?.code === 'EPIPE';
}

/**
 * Open `dest` for writing: a file path, "-" for stdout, or a caller-owned Writable
 * (which is not ended on close). Fails at once with ERR_OUTPUT when the file cannot be created.
 */
export function openOutput(dest: string | Writable, opts: OutputOptions = {}): ChunkedOutput {
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  const description = typeof dest === 'string' ? (dest === '-' ? 'stdout' : dest) : 'stream';
  const gzip = opts.gzip === true;
  if (typeof dest === 'string' && dest !== '-') {
    let fd: number;
    try {
      fd = openSync(dest, 'w');
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const why =
        code === 'ENOENT'
          ? 'its directory does not exist'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : e instanceof Error
                ? e.message
                : String(e);
      throw new AnalyzerError('ERR_OUTPUT', `cannot create the output file: ${why}; choose another path`, {
        subject: dest,
        cause: e,
      });
    }
    if (!gzip) return new ChunkedOutput({ fd }, description, chunk);
    const file = createWriteStream('', { fd, highWaterMark: chunk });
    return gzipped(file, description, chunk, opts.gzipLevel, true);
  }
  const sink = typeof dest === 'string' ? process.stdout : dest;
  if (!gzip) return new ChunkedOutput({ stream: sink, done: null }, description, chunk);
  return gzipped(sink, description, chunk, opts.gzipLevel, false);
}

function gzipped(sink: Writable, description: string, chunk: number, level: number | undefined, endSink: boolean): ChunkedOutput {
  // A deep input queue lets the producer run ahead while zlib works on the thread pool
  // (zlib streams take Transform options; ZlibOptions does not list them).
  const options: ZlibOptions & TransformOptions = { level: level ?? 6, chunkSize: 256 * 1024, highWaterMark: 8 * chunk };
  const gz = createGzip(options);
  // zlib writes the build's operating system into the gzip header (3 on Linux, 19 on
  // macOS, 10 on Windows); set it to 255 ("unknown") so output does not depend on it.
  let seen = 0;
  const osByte = new Transform({
    transform(data: Buffer, _enc, cb): void {
      if (seen <= 9 && seen + data.length > 9) data[9 - seen] = 255;
      seen += data.length;
      cb(null, data);
    },
  });
  const done = endSink
    ? pipeline(gz, osByte, sink)
    : pipeline(gz, osByte, sink, { end: false });
  return new ChunkedOutput({ stream: gz, done }, description, chunk);
}
