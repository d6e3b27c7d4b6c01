// Turns any failure into the one line a user sees and the exit status scripts rely on.

import { EXIT, isAnalyzerError } from '../errors.js';

/** Print one line for the failure on stderr and return the exit status to use. */
export function reportFatal(e: unknown): number {
  if (isAnalyzerError(e)) {
    process.stderr.write(`netpulse: ${e.oneLine()}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(
    `netpulse: internal error: ${msg.split('\n')[0] ?? ''} (this is a bug; set NETPULSE_DEBUG=1 for a stack trace and report it)\n`,
  );
  if (process.env.NETPULSE_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT.internal;
}
