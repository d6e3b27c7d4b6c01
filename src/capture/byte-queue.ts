// A growable window over a byte stream: readers parse records in place between `start` and
// `end`; bytes are copied only when the window is compacted (a record crossed the end of
// what has been read) or when data arrives as someone else's chunk (stdin, gunzip).

export class ByteQueue {
  buf: Uint8Array;
  view: DataView;
  /** First unconsumed byte. */
  start = 0;
  /** One past the last valid byte. */
  end = 0;
  /** Stream offset of buf[0]: the absolute offset of position p is base + p. */
  base = 0;
  /** Bytes the parser needs from `start` before it can make progress (set on NEED_MORE). */
  need = 0;
  private readonly maxCapacity: number;

  constructor(initialCapacity: number, maxCapacity: number) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.maxCapacity = maxCapacity;
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Absolute stream offset of the first unconsumed byte. */
  get offset(): number {
    return this.base + this.start;
  }

  /**
   * Make room for at least `free` more bytes after `end`, keeping unconsumed bytes.
   * Returns false when that would exceed the maximum capacity (the caller reports it).
   */
  reserve(free: number): boolean {
    const live = this.end - this.start;
    if (this.buf.length - this.end >= free) return true;
    if (this.start > 0 && this.buf.length - live >= free) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end = live;
      this.start = 0;
      return true;
    }
    const wanted = live + free;
    if (wanted > this.maxCapacity) return false;
    let cap = this.buf.length;
    while (cap < wanted) cap *= 2;
    if (cap > this.maxCapacity) cap = this.maxCapacity;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(this.start, this.end), 0);
    this.base += this.start;
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.end = live;
    this.start = 0;
    return true;
  }

  /**
   * Continue in another buffer whose bytes [at + available, end) are the next input: the
   * unconsumed bytes are copied in front of them, at [at, at + available). Returns the
   * buffer given up (nothing may still point into it: frames are borrowed per call).
   */
  adopt(buf: Uint8Array, at: number, end: number): Uint8Array {
    const old = this.buf;
    buf.set(old.subarray(this.start, this.end), at);
    this.base += this.start - at;
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.start = at;
    this.end = end;
    return old;
  }

  /** Copy a chunk that arrived from a stream; grows as needed. */
  push(chunk: Uint8Array): boolean {
    if (!this.reserve(chunk.length)) return false;
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    return true;
  }

  /** How many bytes can be written at `end` without compaction (for direct file reads). */
  get freeTail(): number {
    return this.buf.length - this.end;
  }
}

/** What a record parser says after one step. */
export const STEP = {
  /** Not enough bytes: read more (queue.need says how many from start), or EOF. */
  needMore: 0,
  /** A frame was produced. */
  frame: 1,
  /** A non-packet record was consumed (pcapng IDB, ISB, unknown block). */
  skipped: 2,
} as const;

export type Step = (typeof STEP)[keyof typeof STEP];
