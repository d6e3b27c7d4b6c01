// Capture files and stdin as a PacketSource: one or more inputs read one after another as
// one capture, format detected from the content (pcap, pcapng, snoop; gzip and, where Node
// has it, zstd compression), never from the name. Replay at full speed or paced by packet
// time. Plain files are read straight into the parser's buffer; streams are copied once.

import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
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
  /** Pauses between packets longer than this (wall ms) are cut to 1 s (long capture gaps). */
  readonly maxPauseMs?: number;
  /** Bytes per read from a plain file. */
  readonly chunkBytes?: number;
  /** Replaces process.stdin for "-" (tests feed chunks of any size through this). */
  readonly stdin?: AsyncIterable<Uint8Array>;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;

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
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new AnalyzerError('ERR_FILE_NOT_FOUND', 'no such file: check the path', { subject: path });
    if (code === 'EACCES' || code === 'EPERM') throw new AnalyzerError('ERR_FILE_ACCESS', 'permission denied: make the file readable to this user', { subject: path });
    if (code === 'EISDIR') throw new AnalyzerError('ERR_FILE_ACCESS', 'is a directory, not a capture file: name the files inside it', { subject: path });
    throw new AnalyzerError('ERR_FILE_READ', `cannot open: ${errMessage(e)}`, { subject: path, cause: e });
  }
}

type Compression = 'gzip' | 'zstd' | null;

function compressionOf(b: Uint8Array, p: number): Compression {
  if (b[p] === 0x1f && b[p + 1] === 0x8b) return 'gzip';
  if (b[p] === 0x28 && b[p + 1] === 0xb5 && b[p + 2] === 0x2f && b[p + 3] === 0xfd) return 'zstd';
  return null;
}

function parserFor(q: ByteQueue, subject: string): RecordParser {
  const b = q.buf;
  const p = q.start;
  const b0 = b[p] ?? 0, b1 = b[p + 1] ?? 0, b2 = b[p + 2] ?? 0, b3 = b[p + 3] ?? 0;
  if (isPcapMagic(b0, b1, b2, b3)) return new PcapParser(subject);
  if (q.view.getUint32(p, false) === PCAPNG_SHB) return new PcapngParser(subject);
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
  createZstdDecompress?: () => NodeJS.ReadWriteStream;
}

export class FileSource implements PacketSource {
  readonly clock = 'packet' as const;
  readonly description: string;
  private readonly opts: FileSourceOptions;
  private readonly frame: Frame = createFrame();
  private readonly queue = new ByteQueue(1 << 20, MAX_BLOCK_BYTES + (1 << 20));
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private backpressure: (() => Promise<void> | null) | null = null;
  private pressure: Pressure = { held: false };
  /** parseAvailable stopped for backpressure with records still in the buffer. */
  private midChunk = false;
  private packets = 0;
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
  /** Formats met, for the report ("pcap", "pcapng+gzip", ...). */
  readonly formats: string[] = [];

  constructor(opts: FileSourceOptions) {
    this.opts = opts;
    this.description = `file ${opts.files.join(' ')}`;
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
    // Sizes for progress, when every input is a plain file.
    try {
      for (const f of this.opts.files) {
        if (f === '-') {
          this.bytesTotal = null;
          break;
        }
        const fh = await openFile(f);
        const st = await fh.stat();
        await fh.close();
        if (this.bytesTotal !== null) this.bytesTotal += st.size;
      }
      for (const f of this.opts.files) {
        if (this.stopped) break;
        await this.readOne(f, onFrame);
      }
    } catch (e) {
      this.finishParser();
      if (isAnalyzerError(e)) return { reason: 'error', error: e };
      throw e;
    }
    this.finishParser();
    return { reason: this.stopped ? 'stopped' : 'eof' };
  }

  private finishParser(): void {
    if (this.input) {
      this.rawDone += this.input.rawBytes();
      void this.input.close();
      this.input = null;
    }
    if (this.parser) {
      this.parser.anomalies(this.anomalyCounts);
      const d = this.parser.dropped();
      if (d !== null) this.droppedDone = (this.droppedDone ?? 0) + d;
      this.parser = null;
    }
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
      input = new FileInput(await openFile(path), this.opts.chunkBytes ?? DEFAULT_CHUNK, subject);
    }
    this.input = input;
    while (q.available < 8 && (await input.fill(q, 8 - q.available))) {
      /* gather enough bytes to recognise the format */
    }
    if (q.available === 0) {
      throw new CaptureFormatError('ERR_EMPTY_INPUT', 'input is empty: there is no capture header (did the capture command fail?)', { subject, offset: 0 });
    }
    const compression = compressionOf(q.buf, q.start);
    if (compression) {
      input = await this.decompressing(path, subject, compression, input, q);
      this.input = input;
      q.base = 0;
      q.start = q.end = 0;
      while (q.available < 8 && (await input.fill(q, 8 - q.available))) {
        /* gather enough bytes to recognise the format */
      }
      if (q.available === 0) {
        throw new CaptureFormatError('ERR_EMPTY_INPUT', `${compression} stream decompresses to nothing: there is no capture inside`, { subject, offset: 0 });
      }
    }
    const parser = parserFor(q, subject);
    this.parser = parser;
    this.formats.push(compression ? `${parser.format}+${compression}` : parser.format);
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
      if (!(await input.fill(q, q.need - q.available))) break;
    }
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
      if (wait > maxPause) {
        // A long quiet stretch in the capture: wait a second, not hours.
        this.anchorWall = performance.now() + 1000;
        this.anchorTs = ts;
        wait = 1000;
      }
      if (wait >= 1) {
        // The frame's bytes stay valid while waiting: nothing refills the queue meanwhile.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, wait);
        });
        this.wake = null;
        this.timer = null;
        if (this.stopped) return;
      }
      this.packets++;
      onFrame(frame);
      if (this.stopped) return;
    }
  }

  private async decompressing(path: string, subject: string, kind: 'gzip' | 'zstd', input: ChunkInput, q: ByteQueue): Promise<ChunkInput> {
    let decomp: NodeJS.ReadWriteStream;
    if (kind === 'gzip') decomp = zlib.createGunzip();
    else {
      const make = (zlib as unknown as ZstdZlib).createZstdDecompress;
      if (!make) {
        throw new CaptureFormatError('ERR_UNSUPPORTED_FORMAT', `zstd-compressed capture and this Node (${process.version}) has no zstd: run \`zstd -d\` on it and replay the result, or use Node >= 22.15`, { subject, offset: 0 });
      }
      decomp = make();
    }
    let raw = 0;
    let compressed: Readable;
    if (input instanceof StreamInput) {
      // Bytes already read from stdin go first, then the rest of stdin.
      const prefix = q.buf.slice(q.start, q.end);
      compressed = Readable.from(prependChunk(prefix, input.rest()));
    } else {
      await input.close();
      compressed = createReadStream(path, { highWaterMark: 1 << 20 });
    }
    compressed.on('data', (c: Uint8Array) => (raw += c.length));
    const out = compressed.pipe(decomp as unknown as NodeJS.WritableStream) as unknown as Readable;
    compressed.on('error', (e) => out.destroy(e));
    return new StreamInput(out as AsyncIterable<Uint8Array>, subject, () => raw, () => compressed.destroy());
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
