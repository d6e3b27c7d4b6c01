// Analysis options: defaults, parsing of option values, validation. Every bad value is a
// ConfigError naming the option and what it accepts. The CLI and the library share this.

import { ConfigError } from './errors.js';

export const DEFAULTS = {
  /** Cumulative host table size; least active hosts are evicted beyond it. */
  maxHosts: 100_000,
  /** Hosts listed in each per-second summary. */
  topHosts: 10,
  /** Hosts listed in the final report. */
  reportHosts: 100,
  /** Runs of empty seconds longer than this are reported as one gap. */
  maxGapSeconds: 60,
  /** Seconds a second stays open for out-of-order packets (replay; live uses 0). */
  reorderSeconds: 2,
  /** Histogram memory for the cumulative host table. */
  histogramMiB: 64,
} as const;

export function parseCount(option: string, value: string, { min = 0, allowAll = false }: { min?: number; allowAll?: boolean } = {}): number {
  if (allowAll && value === 'all') return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(value)) {
    throw new ConfigError(`${option} must be a whole number${allowAll ? ' or "all"' : ''}, got "${value}"`);
  }
  const n = Number(value);
  if (n < min) throw new ConfigError(`${option} must be at least ${min}, got ${value}`);
  // "must be at least 1, got 99999999999999999999" was said of a value far above it
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${option} is too large, got ${value}`);
  return n;
}

export function parseSeconds(option: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new ConfigError(`${option} takes a number of seconds, got "${value}"`);
  return Number(value);
}

/** "max", "realtime" (= 1) or a positive multiple of real time ("10", "0.5", "10x"). */
export function parseSpeed(value: string): 'max' | number {
  if (value === 'max') return 'max';
  if (value === 'realtime') return 1;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new ConfigError(`--speed takes "max", "realtime" or a multiple of real time such as 10, got "${value}"`);
  }
  return n;
}
