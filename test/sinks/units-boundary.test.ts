// Decimal units at their boundaries (README: "bytes in decimal units (1 kB = 1000 B, one
// decimal below 100)"): a value that rounds to 1000 of a unit is shown in the next one.
// Before, 999,999 B read "1000 kB" in the report and 999,996 B "1000.0 kB" in watch.

import { describe, expect, it } from 'vitest';
import { fmtBytes } from '../../src/feed/watch-view.js';
import { formatBits, formatBytes } from '../../src/sinks/report-text.js';

describe('decimal units at their boundaries', () => {
  it.each([
    [999, '999 B'],
    [999.6, '1.0 kB'],
    [99_949, '99.9 kB'],
    [99_960, '100 kB'],
    [999_499, '999 kB'],
    [999_999, '1.0 MB'],
    [1_000_000, '1.0 MB'],
    [999_999_999_999, '1.0 TB'],
  ])('report bytes %d -> %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it.each([
    [124.9, '999 bit/s'],
    [124.99, '1.0 kbit/s'],
    [124_999.9, '1.0 Mbit/s'],
    [12_500_000, '100 Mbit/s'],
  ])('report rate %d bytes/s -> %s', (n, text) => {
    expect(formatBits(n)).toBe(text);
  });

  it.each([
    [999_996, '1.00 MB'],
    [9_996, '10.0 kB'],
    [1_000, '1.00 kB'],
    [999, '999 B'],
  ])('watch bytes %d -> %s', (n, text) => {
    expect(fmtBytes(n)).toBe(text);
  });
});
