// NDJSON output: one message per line on a writable (stdout for --json). Lines are
// buffered and written in batches; the JSON text is the one the pipeline made once.

import type { Message, MessageType } from '../schema.js';
import type { Sink } from './sink.js';

export class NdjsonSink implements Sink {
  private buf: string[] = [];
  private size = 0;
  private readonly out: NodeJS.WritableStream;
  private readonly types: ReadonlySet<MessageType>;
  private broken = false;
  private readonly immediate: boolean;
  /** Set while the writer's buffer is full: resolves on 'drain' (or when it breaks). */
  private waiting: Promise<void> | null = null;
  private release: (() => void) | null = null;

  /** immediate: write every line at once (live and paced replay); else in 64 KiB batches. */
  constructor(out: NodeJS.WritableStream, types: Iterable<MessageType>, immediate = false) {
    this.out = out;
    this.immediate = immediate;
    this.types = new Set(types);
    out.on('error', () => {
      // EPIPE and friends: the reader went away; stop writing, never crash.
      this.broken = true;
      this.caughtUp();
    });
  }

  private caughtUp(): void {
    const r = this.release;
    this.waiting = null;
    this.release = null;
    r?.();
  }

  backlog(): Promise<void> | null {
    return this.waiting;
  }

  publish(msg: Message, json: string): void {
    if (this.broken || !this.types.has(msg.type)) return;
    this.buf.push(json);
    this.size += json.length;
    if (this.immediate || this.size > 1 << 16 || msg.type === 'alert' || msg.type === 'report') this.flush();
  }

  flush(): void {
    if (this.buf.length === 0 || this.broken) return;
    const ok = this.out.write(`${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
    if (!ok && this.waiting === null) {
      this.waiting = new Promise<void>((resolve) => {
        this.release = resolve;
      });
      this.out.once('drain', () => this.caughtUp());
    }
  }

  async close(): Promise<void> {
    this.flush();
    if (this.broken) return;
    // Resolve once what was written has left the process (or the stream says it cannot).
    await new Promise<void>((resolve) => {
      if (this.out.write('', () => resolve()) === false) this.out.once('drain', resolve);
    });
  }

  get isBroken(): boolean {
    return this.broken;
  }
}
