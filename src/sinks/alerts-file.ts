// --alerts FILE: every alert message as one NDJSON line, appended and written through to
// the OS per alert (a crash loses nothing already alerted). The same JSON text as --json.
// A line is written whole or not at all: a write that fails part-way (a full disk) is cut
// back, so a later line never joins half a line. A file moved or deleted during the run
// (logrotate's rename and create) is followed by name, as Python's WatchedFileHandler does:
// the next alert goes to a new file at the path, no signal needed.

import { closeSync, fstatSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { AnalyzerError } from '../errors.js';
import type { Message } from '../schema.js';
import type { Sink } from './sink.js';

export class AlertsFileSink implements Sink {
  private fd: number | null;
  /** Alert lines written. */
  written = 0;
  /** The last write failure; alerts that could not be written are counted in `lost`. */
  error: string | null = null;
  lost = 0;
  /** Why the file could not be opened again after it was moved or deleted (the lines went on
   *  to the moved file), if that happened. */
  reopenError: string | null = null;

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
    this.follow();
    const fd = this.fd;
    const line = Buffer.from(`${json}\n`);
    let before = -1;
    let done = 0;
    try {
      before = fstatSync(fd).size;
      while (done < line.length) done += writeSync(fd, line, done, line.length - done);
      this.written++;
    } catch (e) {
      // a line cut short (ENOSPC, EFBIG) is taken back; the next alert tries again
      if (done > 0 && before >= 0) {
        try {
          ftruncateSync(fd, before);
        } catch {
          // nothing more can be done: the error is reported
        }
      }
      this.error = (e as NodeJS.ErrnoException).code ?? String(e);
      this.lost++;
    }
  }

  /** When the path no longer names the open file (moved or deleted), open it again there. */
  private follow(): void {
    if (this.fd === null) return;
    let same: boolean;
    try {
      const a = statSync(this.path);
      const b = fstatSync(this.fd);
      same = a.ino === b.ino && a.dev === b.dev;
    } catch {
      same = false;
    }
    if (same) return;
    let fd: number;
    try {
      fd = openSync(this.path, 'a');
    } catch (e) {
      // keep writing where the lines went so far; said once at the end
      this.reopenError ??= (e as NodeJS.ErrnoException).code ?? String(e);
      return;
    }
    try {
      closeSync(this.fd);
    } catch {
      // the old file is done with either way
    }
    this.fd = fd;
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
