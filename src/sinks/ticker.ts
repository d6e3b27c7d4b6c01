// Human output while a live or paced run goes on: one line per second on a stream.
import type { Message } from '../schema.js';
import { tickerLine } from './report-text.js';
import type { Sink } from './sink.js';

export class TickerSink implements Sink {
  constructor(private readonly out: NodeJS.WritableStream) {}

  publish(msg: Message): void {
    if (msg.type === 'summary') this.out.write(`${tickerLine(msg)}\n`);
    else if (msg.type === 'gap') this.out.write(`-- no packets from ${msg.from} to ${msg.to} (${msg.to - msg.from + 1} s) --\n`);
  }

  async close(): Promise<void> {}
}
