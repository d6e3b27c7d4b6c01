// The command-line text of `netpulse synth` (src/synth/options.ts): number and time forms,
// checked against the calendar and the README's documented forms, and the success line's
// sizes against the file system.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/synth/generate.js';
import { parseNumberOption, parseStartOption, synthSummary } from '../../src/synth/options.js';

const dir = mkdtempSync(join(tmpdir(), 'netpulse-synth-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('number options: decimal digits, "_" separators, a fraction or an exponent', () => {
  const good: [string, number][] = [
    ['1000', 1000],
    ['1_000_000', 1e6],
    ['1e6', 1e6],
    ['1E9', 1e9],
    ['0.3', 0.3],
    ['.5', 0.5],
  ];
  for (const [text, v] of good) it(`accepts ${text}`, () => expect(parseNumberOption('packets', text)).toBe(v));
  for (const text of ['0x10', '0b101', '0o7', 'Infinity', '', ' 5', '5 ', '+5', '-5', '1e', '1__0', '_1', 'many']) {
    it(`refuses "${text}"`, () => {
      expect(() => parseNumberOption('packets', text)).toThrow(expect.objectContaining({ code: 'ERR_BAD_OPTION', message: expect.stringContaining(`--packets "${text}": not a number`) }));
    });
  }
});

describe('--start: epoch seconds in the same forms, or a UTC time that exists', () => {
  it('takes epoch seconds like the other numbers', () => {
    expect(parseStartOption('1700000000')).toBe(1_700_000_000);
    expect(parseStartOption('1e9')).toBe(1e9);
    expect(parseStartOption('1_700_000_000')).toBe(1_700_000_000);
  });
  it('takes UTC times (epoch values from the calendar)', () => {
    expect(parseStartOption('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseStartOption('2024-01-01T00:00:00Z')).toBe(1_704_067_200);
    expect(parseStartOption('2024-02-29T12:00:00Z')).toBe(1_709_208_000); // leap day
    expect(parseStartOption('2024-01-01T00:00Z')).toBe(1_704_067_200);
    expect(parseStartOption('2024-01-01T00:00:00.000Z')).toBe(1_704_067_200);
  });
  for (const text of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:60Z', '2024-01-01T00:00:00.5Z', '2024-01-01', 'yesterday', '0x10']) {
    it(`refuses ${text}`, () => {
      expect(() => parseStartOption(text)).toThrow(expect.objectContaining({ code: 'ERR_BAD_OPTION', message: expect.stringContaining(`--start "${text}"`) }));
    });
  }
});

describe('the success line', () => {
  const MB = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  it('gives a gzip capture its size on disk, and the uncompressed size labelled', async () => {
    const out = join(dir, 'z.pcap.gz');
    const t = await generate({ out, packets: 20_000, hosts: 50, seconds: 10, truth: false });
    const disk = statSync(out).size;
    expect(disk).toBeLessThan(t.file.bytes / 2);
    const line = synthSummary(out, t, null, 1);
    expect(line).toContain(`gzip, ${t.packets} packets, ${MB(disk)}, ${MB(t.file.bytes)} uncompressed, 10 s`);
  });
  it('gives a plain capture its size (on disk, the same)', async () => {
    const out = join(dir, 'p.pcap');
    const t = await generate({ out, packets: 20_000, hosts: 50, seconds: 10, truth: false });
    expect(synthSummary(out, t, join(dir, 'p.truth.json'), 1.234)).toBe(
      `netpulse synth: wrote ${out} (pcap, ${t.packets} packets, ${MB(statSync(out).size)}, 10 s, 0 anomalies) and ${join(dir, 'p.truth.json')} in 1.23 s\n`,
    );
  });
  it('counts one anomaly in the singular ("1 anomalies" before)', async () => {
    const out = join(dir, 'one.pcap');
    const t = await generate({ out, packets: 2_000, hosts: 20, seconds: 10, truth: false, anomalies: [{ kind: 'silence', at: 4, seconds: 2 }] });
    expect(synthSummary(out, t, null, 1)).toContain(', 10 s, 1 anomaly)');
  });
});
