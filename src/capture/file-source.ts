// Capture files and stdin as a PacketSource: one or more inputs read one after another as
// one capture, format detected from the content (pcap, pcapng, snoop; gzip and, where Node
// has it, zstd compression), never from the name. Replay at full speed or paced by packet
// time. Plain files are read straight into the parser's buffer; streams are copied once.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { closeSync, constants as fsConstants, createReadStream, openSync, writeSync } from 'node:fs';
import { type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { AnalyzerError, CaptureFormatError, isAnalyzerError } from '../errors.js';
import { ByteQueue, STEP } from './byte-queue.js';
import { createFrame, emptySourceStats, type Frame, type FrameHandler, type PacketSource, type Pressure, type SourceEnd, type SourceStats } from './frame.js';
import { PcapParser, isPcapMagic } from './pcap.js';
import { MAX_BLOCK_BYTES, PCAPNG_SHB, PcapngParser } from './pcapng.js';
import { addCount, type RecordParser } from './record-parser.js';
import { SnoopParser, isSnoopMagic } from './snoop.js';

export type ReplaySpeed = 'max' | number;

export interface FileSourceOptions {
  /** Paths; "-" is standard input. */
  readonly files: readonly string[];
  /** 'max' (default) or a multiple of real time (1 = real time). */
  readonly speed?: ReplaySpeed;
  /** Pauses between packets longer than this (wall ms) are cut to 1 s (long capture gaps); a
   *  pause shorter than 1 s is never lengthened. */
  readonly maxPauseMs?: number;
  /** Bytes per read from a plain file. */
  readonly chunkBytes?: number;
  /** Replaces process.stdin for "-" (tests feed chunks of any size through this). */
  readonly stdin?: AsyncIterable<Uint8Array>;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;
/** The longest delay Node's setTimeout keeps (longer ones fire after 1 ms). */
const MAX_TIMER_MS = 0x7fffffff;

/** Something bytes come from: fill() appends to the queue, false at end of input. */
interface ChunkInput {
  /** Append more input to the queue (at least one byte); false at the end of input. */
  fill(q: ByteQueue, want: number): Promise<boolean>;
  close(): Promise<void>;
  /** Bytes consumed from the underlying file (compressed bytes for compressed input). */
  rawBytes(): number;
}

/** Room kept in front of each chunk so a record cut by the chunk's start moves for free. */
const HEADROOM = 1 << 18;

/**
 * A plain file, read ahead: while the parser works on one chunk the thread pool already
 * reads the next into a second buffer, which the queue then adopts (copying only the
 * partial record left at the end of the old one). The old buffer takes the next read.
 */
class FileInput implements ChunkInput {
  private pos = 0;
  private spare: Uint8Array;
  private pending: Promise<number> | null = null;
  private eof = false;
  constructor(private readonly fh: FileHandle, private readonly chunk: number, private readonly subject: string) {
    this.spare = new Uint8Array(HEADROOM + chunk);
  }
  private readAhead(): void {
    const buf = this.spare;
    this.pending = this.fh.read(buf, HEADROOM, buf.length - HEADROOM, this.pos).then((r) => r.bytesRead);
  }
  async fill(q: ByteQueue): Promise<boolean> {
    if (this.eof) return false;
    if (this.pending === null) this.readAhead();
    let n: number;
    try {
      n = await (this.pending ?? Promise.resolve(0));
    } catch (e) {
      throw readError(this.subject, e);
    } finally {
      this.pending = null;
    }
    if (n === 0) {
      this.eof = true;
      return false;
    }
    this.pos += n;
    const buf = this.spare;
    const live = q.available;
    if (live <= HEADROOM) {
      const old = q.adopt(buf, HEADROOM - live, HEADROOM + n);
      this.spare = old.length === buf.length ? old : new Uint8Array(HEADROOM + this.chunk);
    } else if (!q.push(buf.subarray(HEADROOM, HEADROOM + n))) {
      // a record longer than the headroom grows the queue instead (pcapng blocks up to 16 MiB)
      throw tooBig(this.subject, q);
    }
    this.readAhead();
    return true;
  }
  async close(): Promise<void> {
    await this.pending?.catch(() => 0);
    this.pending = null;
    await this.fh.close().catch(() => undefined);
  }
  rawBytes(): number {
    return this.pos;
  }
}

class StreamInput implements ChunkInput {
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(
    src: AsyncIterable<Uint8Array>,
    private readonly subject: string,
    private readonly raw: () => number,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }
  async fill(q: ByteQueue): Promise<boolean> {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.it.next();
    } catch (e) {
      if (isAnalyzerError(e)) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('Z_') || code === 'ERR_ZLIB') {
        throw new CaptureFormatError('ERR_DECOMPRESS', `compressed data is corrupt (${errMessage(e)}): decompress it by hand to see how much is readable`, { subject: this.subject, offset: q.offset });
      }
      throw readError(this.subject, e);
    }
    if (r.done) return false;
    if (!q.push(r.value)) throw tooBig(this.subject, q);
    return true;
  }
  async close(): Promise<void> {
    this.onClose();
    await this.it.return?.().catch(() => undefined);
  }
  /** Lets go of the underlying file (a named pipe) without ending the iterator. */
  release(): void {
    this.onClose();
  }
  rawBytes(): number {
    return this.raw();
  }
  /** The chunks not yet read, from the same iterator (closing it would destroy stdin). */
  async *rest(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

/**
 * A fault ends the replay there, as it ends mergecap: the files after the one at fault are
 * not read, and the error line says so (the report names every file given). A fault found
 * while the files are checked, before any is read, says that nothing was read.
 */
function withFilesNotRead(e: AnalyzerError, files: readonly string[], current: number): AnalyzerError {
  if (files.length < 2) return e;
  if (current < 0) {
    e.message += ' (nothing was read: every file is checked before the first is read)';
    return e;
  }
  const rest = files.slice(current + 1).map((f) => (f === '-' ? '<stdin>' : f));
  if (rest.length === 0) return e;
  const shown = rest.length <= 3 ? rest.join(', ') : `${rest.slice(0, 2).join(', ')} and ${rest.length - 2} more`;
  e.message += ` (the replay stopped here; not read after it: ${shown})`;
  return e;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function tooBig(subject: string, q: ByteQueue): AnalyzerError {
  return new CaptureFormatError('ERR_PCAPNG_BAD_BLOCK', `a record needs more than ${MAX_BLOCK_BYTES} bytes of buffer: the file is corrupt from here`, { subject, offset: q.offset });
}

function readError(subject: string, e: unknown): AnalyzerError {
  const code = (e as { code?: string }).code;
  if (code === 'EISDIR') return new AnalyzerError('ERR_FILE_ACCESS', 'is a directory, not a capture file: name the files inside it', { subject });
  return new AnalyzerError('ERR_FILE_READ', `cannot read: ${errMessage(e)}`, { subject, cause: e });
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw openError(path, e);
  }
}

function openError(path: string, e: unknown): AnalyzerError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return new AnalyzerError('ERR_FILE_NOT_FOUND', 'no such file: check the path', { subject: path });
  if (code === 'EACCES' || code === 'EPERM') return new AnalyzerError('ERR_FILE_ACCESS', 'permission denied: make the file readable to this user', { subject: path });
  if (code === 'EISDIR') return new AnalyzerError('ERR_FILE_ACCESS', 'is a directory, not a capture file: name the files inside it', { subject: path });
  return new AnalyzerError('ERR_FILE_READ', `cannot open: ${errMessage(e)}`, { subject: path, cause: e });
}

/**
 * A named pipe, /dev/stdin on a pipe, `<(zcat x.pcap.gz)` (/dev/fd/N), a socket or a
 * character device: no positioned reads (ESPIPE), no size, and a FIFO must be opened only
 * once (opening it to look and closing it again ends the writer's stream).
 */
function isStream(st: { isFile(): boolean; isDirectory(): boolean }): boolean {
  return !st.isFile() && !st.isDirectory();
}

type Compression = 'gzip' | 'zstd' | null;

function compressionOf(b: Uint8Array, p: number): Compression {
  if (b[p] === 0x1f && b[p + 1] === 0x8b) return 'gzip';
  if (b[p] === 0x28 && b[p + 1] === 0xb5 && b[p + 2] === 0x2f && b[p + 3] === 0xfd) return 'zstd';
  return null;
}

/** `lastTs`: the last packet time of the files before (µs), null before the first packet. */
function parserFor(q: ByteQueue, subject: string, lastTs: number | null): RecordParser {
  const b = q.buf;
  const p = q.start;
  const b0 = b[p] ?? 0, b1 = b[p + 1] ?? 0, b2 = b[p + 2] ?? 0, b3 = b[p + 3] ?? 0;
  if (isPcapMagic(b0, b1, b2, b3)) return new PcapParser(subject);
  // a simple packet block carries no time: it takes the last one seen, in this capture (the
  // files before count: they are one capture), as it does after a second section of one file
  if (q.view.getUint32(p, false) === PCAPNG_SHB) return new PcapngParser(subject, lastTs);
  if (q.available >= 8 && isSnoopMagic(b, p)) return new SnoopParser(subject);
  let text = q.available > 0;
  for (let i = p; i < Math.min(q.end, p + 64); i++) {
    const c = b[i] ?? 0;
    if (!(c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))) text = false;
  }
  const hex = Array.from(b.subarray(p, Math.min(q.end, p + 4)), (x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureFormatError(
    'ERR_PCAP_BAD_MAGIC',
    `not a capture file: ${text ? 'it looks like text' : `it starts with bytes ${hex}`}, not a pcap, pcapng or snoop header (the format is taken from the content, not the name)`,
    { subject, offset: q.offset },
  );
}

interface ZstdZlib {
  createZstdDecompress?: () => Transform;
}

export class FileSource implements PacketSource {
  readonly clock = 'packet' as const;
  /** "file A B C"; after a fault, with the files it left unread (the report's header). */
  get description(): string {
    const base = `file ${this.opts.files.join(' ')}`;
    if (this.unread.length === 0) return base;
    return `${base} (not read after the error: ${this.unread.map((f) => (f === '-' ? '<stdin>' : f)).join(' ')})`;
  }
  /** Files given after the one a fault stopped the replay in. */
  private unread: readonly string[] = [];
  private readonly opts: FileSourceOptions;
  private readonly frame: Frame = createFrame();
  private readonly queue = new ByteQueue(1 << 20, MAX_BLOCK_BYTES + (1 << 20));
  private stopped = false;
  /** The named pipe being opened or read, if the current input is one. */
  private fifo: string | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Ends the wait of the read in progress with false when stop() is called (a wait for
   *  input that may never come). */
  private stopWait: ((more: boolean) => void) | null = null;
  private backpressure: (() => Promise<void> | null) | null = null;
  private pressure: Pressure = { held: false };
  /** parseAvailable stopped for backpressure with records still in the buffer. */
  private midChunk = false;
  private packets = 0;
  /** Index in opts.files of the input being read; -1 while the files are checked. */
  private current = -1;
  /** Input bytes of the files before the current one. */
  private bytesDone = 0;
  private bytesTotal: number | null = 0;
  private rawDone = 0;
  private input: ChunkInput | null = null;
  private readonly anomalyCounts: Record<string, number> = {};
  private parser: RecordParser | null = null;
  private droppedDone: number | null = null;
  // pacing anchor: wall time (ms) and packet time (µs) that correspond
  private anchorWall = -1;
  private anchorTs = 0;
  private lastDueTs = 0;
  /** Formats met, for the report ("pcap", "pcap-ns", "pcapng+gzip", ...). */
  readonly formats: string[] = [];
  /** Where the current input's format goes in `formats` (its parser knows it once it has read
   *  the file header: "pcap" becomes "pcap-ns" or "pcap-modified"), and its compression. */
  private formatAt = -1;
  private compression: Compression = null;

  constructor(opts: FileSourceOptions) {
    this.opts = opts;
  }

  setBackpressure(wait: () => Promise<void> | null, pressure: Pressure): void {
    this.backpressure = wait;
    this.pressure = pressure;
  }

  /** Waits while an output is behind (a slow reader of stdout); stop() ends the wait. */
  private async heldBack(): Promise<void> {
    const b = this.backpressure?.() ?? null;
    if (b === null) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      void b.then(resolve);
    });
    this.wake = null;
  }

  stop(): void {
    this.stopped = true;
    const s = this.stopWait;
    this.stopWait = null;
    s?.(false);
    // still waiting for a writer to open the named pipe: this wakes the open
    if (this.fifo !== null && this.input === null) pokeFifo(this.fifo);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  stats(): SourceStats {
    const s = emptySourceStats();
    s.packets = this.packets;
    s.bytesRead = this.bytesDone + this.queue.offset;
    s.bytesTotal = this.bytesTotal;
    s.rawBytesRead = this.rawDone + (this.input?.rawBytes() ?? 0);
    const anomalies: Record<string, number> = { ...this.anomalyCounts };
    this.parser?.anomalies(anomalies);
    s.readerAnomalies = anomalies;
    const d = this.parser?.dropped() ?? null;
    s.dropped = d === null ? this.droppedDone : (this.droppedDone ?? 0) + d;
    return s;
  }

  /**
   * Capture time (µs) the paced replay has reached, for closing quiet seconds on time;
   * null at full speed or before the first packet.
   */
  clockMicros(): number | null {
    if (this.opts.speed === undefined || this.opts.speed === 'max' || this.anchorWall < 0) return null;
    const t = this.anchorTs + (performance.now() - this.anchorWall) * 1000 * this.opts.speed;
    // Never run ahead of the next packet still waiting to be released.
    return Math.min(t, this.lastDueTs);
  }

  async start(onFrame: FrameHandler): Promise<SourceEnd> {
    const files = this.opts.files;
    // Every file is checked before the first is read (a typo in the last name must not cost a
    // replay of the others first), and sizes are summed for progress when every input is a
    // plain file.
    try {
      for (const f of files) {
        if (f === '-') {
          this.bytesTotal = null;
          continue;
        }
        let st;
        try {
          st = await stat(f);
        } catch (e) {
          throw openError(f, e);
        }
        if (st.isDirectory()) throw openError(f, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
        if (isStream(st)) {
          // opened once, when its turn comes; its size is unknown
          this.bytesTotal = null;
          continue;
        }
        const fh = await openFile(f);
        await fh.close();
        if (this.bytesTotal !== null) this.bytesTotal += st.size;
      }
      for (const f of files) {
        if (this.stopped) break;
        this.current++;
        await this.readOne(f, onFrame);
      }
    } catch (e) {
      this.finishParser();
      if (isAnalyzerError(e)) {
        if (this.current >= 0) this.unread = files.slice(this.current + 1);
        return { reason: 'error', error: withFilesNotRead(e, files, this.current) };
      }
      throw e;
    }
    this.finishParser();
    return { reason: this.stopped ? 'stopped' : 'eof' };
  }

  private finishParser(): void {
    if (this.input) {
      this.rawDone += this.input.rawBytes();
      const fifo = this.stopped ? this.fifo : null;
      // (close() destroys the stream at once: it asks for no more reads)
      void this.input.close();
      this.input = null;
      // Stopped while a named pipe's writer is quiet: a read is still blocked in a libuv
      // thread, and the process cannot exit until it returns (Node joins those threads at
      // exit). One byte written to the pipe ends that read.
      if (fifo !== null) pokeFifo(fifo);
    }
    this.fifo = null;
    if (this.parser) {
      this.noteFormat();
      this.parser.anomalies(this.anomalyCounts);
      const d = this.parser.dropped();
      if (d !== null) this.droppedDone = (this.droppedDone ?? 0) + d;
      this.parser = null;
    }
  }

  private noteFormat(): void {
    if (this.parser === null || this.formatAt < 0) return;
    const f = this.parser.format;
    this.formats[this.formatAt] = this.compression ? `${f}+${this.compression}` : f;
  }

  /**
   * input.fill, or false as soon as stop() is called: a quiet pipe or stdin (`tcpdump -w -` on
   * an idle link, a writer that paused) must not hold Ctrl-C or SIGTERM until it sends more.
   * The abandoned read is left to finishParser's close.
   * Not Promise.race with one promise kept until stop(): each race left a reaction on it,
   * held until stop(), so a long replay from a pipe (tcpdump -w - | netpulse replay -)
   * grew by about 300 bytes per read (64 KiB from a pipe) without bound.
   */
  private fillUnlessStopped(input: ChunkInput, q: ByteQueue, want: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.stopWait = resolve;
      input.fill(q, want).then(
        (more) => {
          if (this.stopWait === resolve) this.stopWait = null;
          resolve(more);
        },
        (e: unknown) => {
          if (this.stopWait === resolve) this.stopWait = null;
          reject(e);
        },
      );
    });
  }

  private async readOne(path: string, onFrame: FrameHandler): Promise<void> {
    const subject = path === '-' ? '<stdin>' : path;
    const q = this.queue;
    // Offsets in messages are per file.
    this.bytesDone += q.base + q.end;
    q.base = 0;
    q.start = q.end = 0;
    let input: ChunkInput;
    if (path === '-') {
      const src = this.opts.stdin ?? (process.stdin as AsyncIterable<Uint8Array>);
      let raw = 0;
      input = new StreamInput(countBytes(src, (n) => (raw += n)), subject, () => raw);
    } else {
      // a named pipe's open waits for a writer: stop() must be able to end that wait
      this.fifo = await stat(path).then((st) => (st.isFIFO() ? path : null)).catch(() => null);
      const fh = await openFile(path);
      if (this.stopped) {
        await fh.close().catch(() => undefined);
        return;
      }
      let stream = false;
      try {
        stream = isStream(await fh.stat());
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw readError(subject, e);
      }
      if (stream) {
        // read as a stream, like stdin: no positioned reads, and gzip goes on from the
        // bytes already taken (the pipe cannot be opened again from its start)
        let raw = 0;
        const rs = fh.createReadStream({ highWaterMark: 1 << 20 });
        input = new StreamInput(countBytes(rs as AsyncIterable<Uint8Array>, (n) => (raw += n)), subject, () => raw, () => void rs.destroy());
      } else {
        input = new FileInput(fh, this.opts.chunkBytes ?? DEFAULT_CHUNK, subject);
      }
    }
    this.input = input;
    while (q.available < 8 && (await this.fillUnlessStopped(input, q, 8 - q.available))) {
      /* gather enough bytes to recognise the format */
    }
    if (this.stopped) return;
    if (q.available === 0) {
      throw new CaptureFormatError('ERR_EMPTY_INPUT', 'input is empty: there is no capture header (did the capture command fail?)', { subject, offset: 0 });
    }
    const compression = compressionOf(q.buf, q.start);
    if (compression) {
      input = await this.decompressing(path, subject, compression, input, q);
      this.input = input;
      q.base = 0;
      q.start = q.end = 0;
      while (q.available < 8 && (await this.fillUnlessStopped(input, q, 8 - q.available))) {
        /* gather enough bytes to recognise the format */
      }
      if (this.stopped) return;
      if (q.available === 0) {
        throw new CaptureFormatError('ERR_EMPTY_INPUT', `${compression} stream decompresses to nothing: there is no capture inside`, { subject, offset: 0 });
      }
    }
    const parser = parserFor(q, subject, this.packets > 0 ? this.frame.tsMicros : null);
    this.parser = parser;
    this.formatAt = this.formats.push(parser.format) - 1;
    this.compression = compression;
    this.noteFormat();
    const paced = this.opts.speed !== undefined && this.opts.speed !== 'max';
    for (;;) {
      if (paced) await this.parsePaced(parser, q, onFrame);
      else this.parseAvailable(parser, q, onFrame);
      if (this.stopped) return;
      await this.heldBack();
      if (this.stopped) return;
      if (this.midChunk) {
        this.midChunk = false;
        continue;
      }
      if (!(await this.fillUnlessStopped(input, q, q.need - q.available))) break;
    }
    // stopped while waiting for input: what was read is counted; a record cut short by the
    // stop is not a truncated file
    if (this.stopped) return;
    parser.finish(q);
    this.finishParser();
  }

  /** The full-speed loop: every record already in the buffer, no awaits (until the
   *  pipeline's outputs hold it back: a sparse capture makes many zero rows per record). */
  private parseAvailable(parser: RecordParser, q: ByteQueue, onFrame: FrameHandler): void {
    const frame = this.frame;
    const pressure = this.pressure;
    for (;;) {
      const s = parser.next(q, frame);
      if (s === STEP.frame) {
        this.packets++;
        onFrame(frame);
        if (this.stopped) return;
        if (pressure.held) {
          this.midChunk = true;
          return;
        }
      } else if (s === STEP.needMore) {
        return;
      }
    }
  }

  /** Paced loop: release each frame at its packet time scaled by the speed. */
  private async parsePaced(parser: RecordParser, q: ByteQueue, onFrame: FrameHandler): Promise<void> {
    const frame = this.frame;
    const speed = this.opts.speed as number;
    const maxPause = this.opts.maxPauseMs ?? 60_000;
    for (;;) {
      const s = parser.next(q, frame);
      if (s === STEP.needMore) return;
      if (s !== STEP.frame) continue;
      const ts = frame.tsMicros;
      if (this.anchorWall < 0) {
        this.anchorWall = performance.now();
        this.anchorTs = ts;
      }
      this.lastDueTs = ts;
      let wait = this.anchorWall + (ts - this.anchorTs) / 1000 / speed - performance.now();
      if (wait > maxPause && wait > 1000) {
        // A long quiet stretch in the capture: wait a second, not hours. A pause already
        // shorter than a second (a high --speed, a small --max-gap) is kept: cutting never
        // lengthens it (at 1000x a 65 s pause is 65 ms, not a second).
        this.anchorWall = performance.now() + 1000;
        this.anchorTs = ts;
        wait = 1000;
      }
      while (wait >= 1) {
        // The frame's bytes stay valid while waiting: nothing refills the queue meanwhile.
        // Node fires a timer of over 2^31 - 1 ms (24.8 days; --speed 0.01 with a day's
        // --max-gap allows 100 days) after 1 ms, so a longer pause is waited in parts.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, Math.min(wait, MAX_TIMER_MS));
        });
        this.wake = null;
        this.timer = null;
        if (this.stopped) return;
        wait = this.anchorWall + (ts - this.anchorTs) / 1000 / speed - performance.now();
      }
      this.packets++;
      onFrame(frame);
      if (this.stopped) return;
    }
  }

  private async decompressing(path: string, subject: string, kind: 'gzip' | 'zstd', input: ChunkInput, q: ByteQueue): Promise<ChunkInput> {
    let makeZstd: (() => Transform) | undefined;
    if (kind === 'zstd') {
      makeZstd = (zlib as unknown as ZstdZlib).createZstdDecompress;
      if (!makeZstd) {
        throw new CaptureFormatError('ERR_UNSUPPORTED_FORMAT', `zstd-compressed capture and this Node (${process.version}) has no zstd: run \`zstd -d\` on it and replay the result, or use Node >= 22.15`, { subject, offset: 0 });
      }
    }
    let raw = 0;
    let src: AsyncIterable<Uint8Array>;
    let release: () => void;
    if (input instanceof StreamInput) {
      // bytes already read from stdin (or a pipe) go first, then the rest of it
      src = prependChunk(q.buf.slice(q.start, q.end), input.rest());
      release = () => input.release();
    } else {
      await input.close();
      const rs = createReadStream(path, { highWaterMark: 1 << 20 });
      src = rs as AsyncIterable<Uint8Array>;
      release = () => void rs.destroy();
    }
    const counted = countBytes(src, (n) => (raw += n));
    if (makeZstd === undefined) return new GzipInput(counted, subject, () => raw, release);
    return new ZstdInput(counted, subject, () => raw, release, makeZstd);
  }
}

type Crc32 = (data: Uint8Array, value?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32?: Crc32 }).crc32;
let crcTable: Uint32Array | null = null;

/** CRC-32 as gzip's trailer has it (zlib.crc32 where Node has it: 20.15, 22.2). */
function crc32(data: Uint8Array, value: number): number {
  if (nativeCrc32) return nativeCrc32(data, value);
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = (t[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Compressed bytes handed to the inflater per write: bounds what one write can expand to. */
const GZ_PIECE = 32 * 1024;

/**
 * Compressed input read piece by piece, its framing walked here and the compressed data
 * handed to a zlib stream: step() makes output (or a fault, or the end); fill() hands every
 * byte made before a fault on first, then throws the fault.
 */
abstract class PieceInput implements ChunkInput {
  protected pend: Uint8Array = new Uint8Array(0);
  protected srcDone = false;
  /** Compressed-stream offset of pend[0]. */
  protected at = 0;
  protected readonly out: Uint8Array[] = [];
  protected fault: string | null = null;
  protected finished = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(
    src: AsyncIterable<Uint8Array>,
    protected readonly subject: string,
    private readonly raw: () => number,
    private readonly release: () => void,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }

  protected abstract step(): Promise<void>;
  /** Let go of the zlib stream, if any. */
  protected abstract drop(): void;

  async fill(q: ByteQueue): Promise<boolean> {
    while (this.out.length === 0) {
      if (this.fault !== null) {
        throw new CaptureFormatError('ERR_DECOMPRESS', `compressed data is corrupt (${this.fault}): everything before it was counted; decompress it by hand to see how much is readable`, { subject: this.subject, offset: q.offset });
      }
      if (this.finished) return false;
      await this.step();
    }
    const c = this.out.shift() as Uint8Array;
    if (!q.push(c)) throw tooBig(this.subject, q);
    return true;
  }

  /** Make pend hold at least n bytes, unless the input ends first. */
  protected async want(n: number): Promise<void> {
    while (this.pend.length < n && !this.srcDone) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await this.it.next();
      } catch (e) {
        throw readError(this.subject, e);
      }
      if (r.done) this.srcDone = true;
      else if (this.pend.length === 0) this.pend = r.value;
      else {
        const b = new Uint8Array(this.pend.length + r.value.length);
        b.set(this.pend, 0);
        b.set(r.value, this.pend.length);
        this.pend = b;
      }
    }
  }

  protected take(n: number): void {
    this.pend = this.pend.subarray(n);
    this.at += n;
  }

  async close(): Promise<void> {
    this.drop();
    this.release();
    await this.it.return?.().catch(() => undefined);
  }

  rawBytes(): number {
    return this.raw();
  }
}

/**
 * gzip (RFC 1952), any number of members, read member by member: the header and the
 * trailer here, the deflate data by zlib's raw inflater. zlib's own gunzip stream drops
 * what it inflated in the call that met a fault (a bad CRC, a corrupt or missing next
 * member: up to 16 KiB), and a stream's async iterator drops what was still buffered;
 * here every byte inflated before a fault is handed on first, as tshark and gzip do, and
 * the fault follows. (Corrupt deflate data inside a member still loses what zlib inflated in
 * the call that met it, at most one 16 KiB output chunk: Node's zlib binding drops it.)
 * Memory: one piece of compressed input is inflated at a time, and only once the parser
 * has taken the output of the one before.
 */
class GzipInput extends PieceInput {
  private z: zlib.InflateRaw | null = null;
  /** The current member's deflate data ended (input was left over, or 'end'). */
  private memberEnded = false;
  private zDone: Promise<void> = Promise.resolve();
  private crc = 0;
  private size = 0;
  private members = 0;

  protected async step(): Promise<void> {
    if (this.z === null) return this.header();
    if (this.memberEnded) return this.trailer();
    await this.want(1);
    if (this.pend.length === 0) {
      // the input ended inside the deflate data: let zlib hand over what it has
      const z = this.z;
      z.end();
      await this.zDone;
      if (this.fault === null) this.fault = `the file ends inside gzip member ${this.members + 1}, at compressed byte ${this.at}: it was cut short`;
      return;
    }
    const z = this.z;
    const piece = this.pend.subarray(0, GZ_PIECE);
    const before = z.bytesWritten;
    // an inflate error destroys the stream, and the write's callback may never come
    await Promise.race([new Promise<void>((resolve) => z.write(piece, () => resolve())), this.zDone]);
    if (this.fault !== null) return;
    const used = z.bytesWritten - before;
    this.take(used);
    if (used < piece.length || z.readableEnded) {
      // the deflate data ended inside this piece; its output is all delivered by 'end'
      this.memberEnded = true;
      await this.zDone;
    }
  }

  private async header(): Promise<void> {
    await this.want(1);
    if (this.members > 0) {
      // zero padding after a member is tolerated (gzip, zlib and tshark do)
      while (this.pend.length > 0 && this.pend[0] === 0) {
        let k = 0;
        while (k < this.pend.length && this.pend[k] === 0) k++;
        this.take(k);
        await this.want(1);
      }
    }
    if (this.pend.length === 0) {
      this.finished = true;
      return;
    }
    const start = this.at;
    await this.want(10);
    const p = this.pend;
    if (p[0] !== 0x1f || (p.length > 1 && p[1] !== 0x8b)) {
      this.fault = `data after gzip member ${this.members} is not gzip (compressed byte ${start})`;
      return;
    }
    if (p.length < 10) {
      this.fault = `the file ends inside a gzip header, at compressed byte ${start}: it was cut short`;
      return;
    }
    if (p[2] !== 8) {
      this.fault = `unknown compression method ${p[2] ?? 0} in the gzip header at compressed byte ${start}`;
      return;
    }
    const flags = p[3] ?? 0;
    if (flags & 0xe0) {
      this.fault = `unknown header flags set in the gzip header at compressed byte ${start}`;
      return;
    }
    let n = 10;
    if (flags & 4) {
      await this.want(n + 2);
      if (this.pend.length >= n + 2) n += 2 + ((this.pend[n] ?? 0) | ((this.pend[n + 1] ?? 0) << 8));
      else n += 2;
    }
    for (const bit of [8, 16]) {
      if (!(flags & bit)) continue;
      for (;;) {
        await this.want(n + 1);
        if (this.pend.length < n + 1) break;
        if (this.pend[n++] === 0) break;
      }
    }
    if (flags & 2) n += 2;
    await this.want(n);
    if (this.pend.length < n) {
      this.fault = `the file ends inside a gzip header, at compressed byte ${start}: it was cut short`;
      return;
    }
    this.take(n);
    this.crc = 0;
    this.size = 0;
    this.memberEnded = false;
    const z = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    this.z = z;
    z.on('data', (c: Uint8Array) => {
      this.out.push(c);
      this.crc = crc32(c, this.crc);
      this.size = (this.size + c.length) % 4294967296;
    });
    this.zDone = new Promise<void>((resolve) => {
      z.on('error', (e: Error) => {
        if (this.fault === null) this.fault = `${e.message}, in gzip member ${this.members + 1}`;
        resolve();
      });
      z.on('end', () => {
        this.memberEnded = true;
        resolve();
      });
      z.on('close', () => resolve());
    });
  }

  private async trailer(): Promise<void> {
    await this.want(8);
    const p = this.pend;
    if (p.length < 8) {
      this.fault = `the file ends inside the trailer of gzip member ${this.members + 1}, at compressed byte ${this.at + p.length}: it was cut short`;
      return;
    }
    const crc = ((p[0] ?? 0) | ((p[1] ?? 0) << 8) | ((p[2] ?? 0) << 16) | ((p[3] ?? 0) << 24)) >>> 0;
    const size = ((p[4] ?? 0) | ((p[5] ?? 0) << 8) | ((p[6] ?? 0) << 16) | ((p[7] ?? 0) << 24)) >>> 0;
    if (crc !== this.crc) {
      this.fault = `bad CRC in the trailer of gzip member ${this.members + 1}, at compressed byte ${this.at}`;
      return;
    }
    if (size !== this.size) {
      this.fault = `wrong length in the trailer of gzip member ${this.members + 1}, at compressed byte ${this.at + 4}`;
      return;
    }
    this.take(8);
    this.drop();
    this.members++;
  }

  protected drop(): void {
    this.z?.destroy();
    this.z = null;
  }
}

/** Frame header sizes by flag (RFC 8878 3.1.1.1): Dictionary_ID, and Frame_Content_Size past the single-segment case. */
const ZSTD_DICT_ID_BYTES = [0, 1, 2, 4] as const;
const ZSTD_CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;

/**
 * zstd (RFC 8878), any number of frames, read frame by frame: the frame and block headers
 * are walked here, each frame is decompressed by a zstd stream of its own, and skippable
 * frames are skipped. Node 22's zstd stream decodes only the first of several frames handed
 * over in one write (later frames are lost without a word) and ends a frame cut short
 * without an error; Node 24 does neither. Walked here, every Node reads every frame and says
 * where a file was cut. Data after the last frame is a fault, as in `zstd -d`. Memory: as in
 * GzipInput, one piece of compressed input at a time, never past the end of its block (a
 * block decompresses to at most 128 KiB).
 */
class ZstdInput extends PieceInput {
  private z: Transform | null = null;
  private zDone: Promise<void> = Promise.resolve();
  /** Compressed bytes of the current block, or of the skippable frame, not yet taken. */
  private left = 0;
  private skipping = false;
  private lastBlock = false;
  /** Checksum bytes after the last block of the current frame (0 or 4). */
  private checksum = 0;
  private frames = 0;

  constructor(
    src: AsyncIterable<Uint8Array>,
    subject: string,
    raw: () => number,
    release: () => void,
    private readonly make: () => Transform,
  ) {
    super(src, subject, raw, release);
  }

  protected async step(): Promise<void> {
    if (this.left > 0) return this.data();
    if (this.skipping) return this.endSkippable();
    if (this.z === null) return this.header();
    if (this.lastBlock) return this.endFrame();
    return this.block();
  }

  private async header(): Promise<void> {
    await this.want(1);
    if (this.pend.length === 0) {
      this.finished = true;
      return;
    }
    await this.want(8);
    const p = this.pend;
    const zstd = [0x28, 0xb5, 0x2f, 0xfd].every((b, i) => i >= p.length || p[i] === b);
    const skippable = ((p[0] ?? 0) & 0xf0) === 0x50 && [0x2a, 0x4d, 0x18].every((b, i) => i + 1 >= p.length || p[i + 1] === b);
    if (!zstd && !skippable) {
      this.fault = `data after zstd frame ${this.frames} is not zstd (compressed byte ${this.at})`;
      return;
    }
    if (skippable) {
      if (p.length < 8) return this.cut();
      this.left = ((p[4] ?? 0) | ((p[5] ?? 0) << 8) | ((p[6] ?? 0) << 16) | ((p[7] ?? 0) << 24)) >>> 0;
      this.skipping = true;
      this.take(8);
      return;
    }
    if (p.length < 5) return this.cut();
    const fhd = p[4] ?? 0;
    const single = (fhd >> 5) & 1;
    const n = 5 + (single ? 0 : 1) + (ZSTD_DICT_ID_BYTES[fhd & 3] ?? 0) + (fhd >> 6 === 0 ? single : (ZSTD_CONTENT_SIZE_BYTES[fhd >> 6] ?? 0));
    await this.want(n);
    if (this.pend.length < n) return this.cut();
    this.checksum = fhd & 4 ? 4 : 0;
    this.lastBlock = false;
    const z = this.make();
    this.z = z;
    z.on('data', (c: Uint8Array) => this.out.push(c));
    this.zDone = new Promise<void>((resolve) => {
      z.on('error', (e: Error) => {
        if (this.fault === null) this.fault = `${e.message}, in zstd frame ${this.frames + 1}`;
        resolve();
      });
      z.on('end', () => resolve());
      z.on('close', () => resolve());
    });
    await this.write(n);
  }

  private async block(): Promise<void> {
    await this.want(3);
    const p = this.pend;
    if (p.length < 3) return this.cut();
    const h = (p[0] ?? 0) | ((p[1] ?? 0) << 8) | ((p[2] ?? 0) << 16);
    const type = (h >> 1) & 3;
    if (type === 3) {
      this.fault = `reserved block type in zstd frame ${this.frames + 1}, at compressed byte ${this.at}`;
      return;
    }
    this.lastBlock = (h & 1) === 1;
    // an RLE block carries one byte, repeated Block_Size times
    this.left = type === 1 ? 1 : h >>> 3;
    await this.write(3);
  }

  private async data(): Promise<void> {
    await this.want(1);
    if (this.pend.length === 0) return this.cut();
    const n = Math.min(this.left, this.pend.length, GZ_PIECE);
    this.left -= n;
    if (this.skipping) this.take(n);
    else await this.write(n);
  }

  private endSkippable(): void {
    this.skipping = false;
    this.frames++;
  }

  private async endFrame(): Promise<void> {
    if (this.checksum > 0) {
      await this.want(this.checksum);
      if (this.pend.length < this.checksum) return this.cut();
      await this.write(this.checksum);
      if (this.fault !== null) return;
    }
    const z = this.z as Transform;
    z.end();
    await this.zDone;
    if (this.fault !== null) return;
    this.drop();
    this.frames++;
  }

  /** The input ended inside a frame: what zstd decompressed so far is handed on, then this. */
  private async cut(): Promise<void> {
    this.fault = `the file ends inside zstd frame ${this.frames + 1}, at compressed byte ${this.at + this.pend.length}: it was cut short`;
    if (this.z === null) return;
    this.z.end();
    await this.zDone;
  }

  /** Hand the first n bytes of pend to zstd. */
  private async write(n: number): Promise<void> {
    const z = this.z as Transform;
    const piece = this.pend.subarray(0, n);
    // a decompression error destroys the stream, and the write's callback may never come
    await Promise.race([new Promise<void>((resolve) => z.write(piece, () => resolve())), this.zDone]);
    this.take(n);
  }

  protected drop(): void {
    this.z?.destroy();
    this.z = null;
  }
}

async function* prependChunk(first: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  yield* rest;
}

async function* countBytes(src: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    add(c.length);
    yield c;
  }
}

/** Collect readable oddities of a finished source into `into`. */
export function mergeCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) addCount(into, k, n);
}

/**
 * Wake whatever of ours waits on named pipe `path` (an open for a writer, a blocked read):
 * open it for writing without blocking and write one byte. Best effort: a pipe already gone,
 * or full (then nothing of ours is blocked reading it), needs nothing.
 */
function pokeFifo(path: string): void {
  let fd = -1;
  try {
    fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    writeSync(fd, Buffer.alloc(1));
  } catch {
    // nothing to wake
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
