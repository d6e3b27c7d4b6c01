// Command-line text of `netpulse synth` (owned by synth): the number and time forms its
// options take, and the line it prints on success. The CLI (src/cli/synth.ts) wires them.

import { statSync } from 'node:fs';
import { AnalyzerError } from '../errors.js';
import { parseDecimal } from './anomalies.js';
import type { Truth } from './truth.js';

function bad(message: string): AnalyzerError {
  return new AnalyzerError('ERR_BAD_OPTION', message);
}

/**
 * A number option: decimal digits with optional "_" separators, a fraction or an
 * exponent ("1_000_000", "0.3", "1e6"), the same forms as in anomaly specs. Ranges are
 * checked by generate(), which knows them.
 */
export function parseNumberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = parseDecimal(text);
  if (!Number.isFinite(v)) throw bad(`--${name} "${text}": not a number; give decimal digits, e.g. 1000000, 1_000_000 or 1e6`);
  return v;
}

const ISO_UTC = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.0*)?)?Z$/;

/** --start: epoch seconds (the number forms above) or a whole-second UTC time that exists. */
export function parseStartOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!text.includes('-')) return parseNumberOption('start', text);
  const m = ISO_UTC.exec(text);
  const f = (m ?? []).slice(1).map((x) => Number(x ?? 0));
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = f;
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls over (February 30 -> March 1, 24:00 -> the next day): refuse what does not round-trip.
  const exists =
    m !== null && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
  if (!exists) throw bad(`--start "${text}": not a time; give epoch seconds or a whole-second UTC time that exists, like 2024-01-01T00:00:00Z`);
  return t.getTime() / 1000;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * The success line. The size is the file's on disk (for gzip, the compressed size, with
 * the capture's own size labelled beside it); for stdout, the bytes before compression.
 */
export function synthSummary(out: string, truth: Truth, truthPath: string | null, seconds: number): string {
  const f = truth.file;
  let size = mb(f.bytes);
  if (out !== '-' && f.gzip) {
    let disk: number | null = null;
    try {
      disk = statSync(out).size;
    } catch {
      // removed or replaced since: say only what was written
    }
    size = disk === null ? `${mb(f.bytes)} uncompressed` : `${mb(disk)}, ${mb(f.bytes)} uncompressed`;
  } else if (f.gzip) {
    size = `${mb(f.bytes)} uncompressed`;
  }
  return (
    `netpulse synth: wrote ${out === '-' ? 'stdout' : out} (${f.format}${f.gzip ? ', gzip' : ''}, ${truth.packets} packets, ` +
    `${size}, ${truth.seconds.length} s, ${truth.anomalies.length} ${truth.anomalies.length === 1 ? 'anomaly' : 'anomalies'})` +
    `${truthPath === null ? '' : ` and ${truthPath}`} in ${seconds.toFixed(2)} s\n`
  );
}
