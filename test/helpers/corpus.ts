// Where the shared capture corpus is, and the rule for its absence: suites skip and say
// why, unless NETPULSE_REQUIRE_CORPUS=1 (set by .ci/run), which turns absence into failure.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PCAPS = resolve(process.cwd(), '..', 'shared', 'pcaps');
export const REAL = join(PCAPS, 'real');
export const MALFORMED = join(PCAPS, 'malformed');
export const EXPECTED = join(PCAPS, 'expected');

/** True when the corpus is here; otherwise prints why a suite skips (or throws in CI). */
export function haveCorpus(): boolean {
  if (existsSync(REAL) && existsSync(EXPECTED)) return true;
  if (process.env.NETPULSE_REQUIRE_CORPUS === '1') {
    throw new Error(`${PCAPS} is missing but NETPULSE_REQUIRE_CORPUS=1: clone beside ../shared`);
  }
  process.stderr.write(`skipping corpus suites: ${PCAPS} is absent (put ../shared beside this checkout)\n`);
  return false;
}

export function realFiles(): string[] {
  return existsSync(REAL) ? readdirSync(REAL).sort() : [];
}

export function malformedFiles(): string[] {
  return existsSync(MALFORMED) ? readdirSync(MALFORMED).sort() : [];
}

/** tshark's ground truth for real/NAME (format in ../shared/pcaps/SOURCES.md). */
export interface Truth {
  capture: string;
  packets: number;
  bytes: number;
  seconds: { ts: number; packets: number; bytes: number }[];
  hosts: TruthHost[];
}

export interface TruthSize {
  count: number;
  mean: number;
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface TruthHost {
  addr: string;
  tx: { packets: number; bytes: number; size: TruthSize | null };
  rx: { packets: number; bytes: number; size: TruthSize | null };
}

export function truth(name: string): Truth {
  return JSON.parse(readFileSync(join(EXPECTED, `${name}.json`), 'utf8')) as Truth;
}
