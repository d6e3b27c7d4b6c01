// Human values in options and config files: rates ("1MB/s", "100Mbit/s", "10k/s"),
// durations ("90s", "5m") and plain counts. Each parser returns null on bad input so the
// caller can name the key or option in its one-line error.

// SI prefixes as powers of ten: "4.1M" is read as the decimal text "4.1e6", so it is exactly
// 4100000 (4.1 * 1e6 in floating point is 4099999.9999999995, and a limit one ulp under the
// value written would raise on a second exactly at it).
const SI: Record<string, number> = { '': 0, k: 3, K: 3, M: 6, G: 9, T: 12 };
const IEC: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A decimal number's text times its SI prefix, as the nearest double to the exact product. */
function scaleSI(digits: string, prefix: string): number {
  return Number(`${digits}e${SI[prefix] ?? 0}`);
}

function finite(n: number): number | null {
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * Bytes per second: a number (bytes/s), or text with an SI or IEC prefix and a unit:
 * "1MB/s" = 1e6, "1MiB/s" = 1048576, "100Mbit/s" and "100Mb/s" = 12.5e6 (bits), "/s" optional.
 */
export function parseByteRate(v: unknown): number | null {
  if (typeof v === 'number') return finite(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T)?\s*(B|bytes?|bit|bits|b|bps)?\s*(\/\s*s|ps)?\s*$/.exec(v);
  if (m === null) return null;
  const prefix = m[2] ?? '';
  const iec = IEC[prefix];
  const n = iec === undefined ? scaleSI(m[1]!, prefix) : Number(m[1]) * iec;
  const unit = m[3] ?? 'B';
  const bits = unit === 'bit' || unit === 'bits' || unit === 'b' || unit === 'bps';
  return finite(n / (bits ? 8 : 1));
}

/** Packets (or events) per second: a number, or "10k", "10k/s", "5000pps", "2M/s". */
export function parseCountRate(v: unknown): number | null {
  if (typeof v === 'number') return finite(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(k|K|M|G)?\s*(pps|p\/s|\/s|packets\/s)?\s*$/.exec(v);
  if (m === null) return null;
  return finite(scaleSI(m[1]!, m[2] ?? ''));
}

/** Seconds: a number, or "30s", "5m", "2h", "1d". */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return finite(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(v);
  if (m === null) return null;
  const k: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };
  return finite(Number(m[1]) * (k[m[2] ?? 's'] ?? 1));
}

/** A whole number within [min, max]. */
export function parseInteger(v: unknown, min: number, max: number): number | null {
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return null;
  return n;
}

/** A number within [min, max]: a JSON number, or decimal text ("6", "2.5", ".5", "1e1");
 *  not hex, binary or octal text, which Number() would also take ("0x10" is 16). */
export function parseNumber(v: unknown, min: number, max: number): number | null {
  const n = typeof v === 'string' ? (/^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) ? Number(v) : null) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) return null;
  return n;
}

/** Short human text for a value and its unit, for alert messages: "1.5 MB/s", "12.3k packets/s". */
export function formatValue(value: number, unit: string): string {
  const abs = Math.abs(value);
  const [div, p] = abs >= 1e9 ? [1e9, 'G'] : abs >= 1e6 ? [1e6, 'M'] : abs >= 1e4 ? [1e3, 'k'] : [1, ''];
  const n = value / div;
  const text = Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 1);
  if (unit.startsWith('bytes')) return `${text} ${p}B${unit.slice(5)}`;
  return `${text}${p} ${unit}`;
}
