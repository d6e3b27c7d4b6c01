// --alerts FILE: every alert message as one NDJSON line, appended and written through to
// the OS per alert (a crash loses nothing already alerted). The same JSON text as --json.

import { closeSync, openSync, writeSync } from 'node:fs';
import { AnalyzerError } from '../errors.js';
import type { Message } from '../schema.js';
import type { Sink } from './sink.js';

export class AlertsFileSink implements Sink {
  private fd: number | null;
  /** Alert lines written. */
  written = 0;
  /** Set when a write failed; later alerts are counted as lost. */
  error: string | null = null;
  lost = 0;

  /** Opens (creates) the file for appending now, so a bad path fails before the capture starts. */
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'a');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new AnalyzerError('ERR_OUTPUT', `cannot open the alerts file for appending (${code}); check the path and its permissions`, {
        subject: path,
        cause: e,
      });
    }
  }

  publish(msg: Message, json: string): void {
    if (msg.type !== 'alert') return;
    if (this.fd === null) {
      this.lost++;
      return;
    }
    try {
      writeSync(this.fd, `${json}\n`);
      this.written++;
    } catch (e) {
      this.error = `${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      this.lost++;
      this.release();
    }
  }

  private release(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already reported through `error`, or nothing more to lose
    }
    this.fd = null;
  }

  close(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
