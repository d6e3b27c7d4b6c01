// Alerts on the console as they happen: one line each on stderr (stdout stays for the
// report or --json), coloured when the stream is a terminal and NO_COLOR is not set.

import type { Alert } from '../detect/alert.js';
import type { Message } from '../schema.js';
import type { Sink } from './sink.js';
import { printable } from '../text.js';

export interface LineStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/** no-color.org: NO_COLOR present and not empty disables colour; so does a non-terminal. */
export function wantColor(stream: LineStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const no = env.NO_COLOR;
  if (no !== undefined && no !== '') return false;
  return stream.isTTY === true;
}

const RESET = '\x1b[0m';
const COLOR: Record<string, string> = {
  critical: '\x1b[1;31m',
  warning: '\x1b[33m',
  info: '\x1b[36m',
  resolved: '\x1b[32m',
};

/** "2024-05-01 12:00:03Z RAISED   warning  zscore Host_Bytes_Spike: message" (the message names the host) */
export function formatAlertLine(a: Alert, color: boolean): string {
  const when = new Date(a.ts * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const state = a.state === 'raised' ? 'RAISED  ' : 'RESOLVED';
  // a watched feed is another process's word: any field may be missing or not a string
  const sev = String(a.severity).padEnd(8);
  const text = printable(`${when} ${state} ${sev} ${String(a.detector)} ${String(a.note)}: ${String(a.message)}`);
  if (!color) return text;
  const c = a.state === 'resolved' ? COLOR.resolved : COLOR[a.severity];
  return `${c ?? ''}${text}${RESET}`;
}

export class ConsoleAlertSink implements Sink {
  /** Lines on stderr: a run whose stdout reader went away need not go on for them. */
  readonly auxiliary = true;
  private readonly color: boolean;

  constructor(
    private readonly stream: LineStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.color = wantColor(stream, env);
  }

  publish(msg: Message, _json?: string): void {
    if (msg.type !== 'alert') return;
    this.stream.write(`${formatAlertLine(msg, this.color)}\n`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
