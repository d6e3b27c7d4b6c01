// Rates written with a decimal fraction and an SI prefix are the exact decimal value the
// README defines (k = 10^3, M = 10^6, G = 10^9; bits / 8), not a floating-point product one
// ulp off it: "4.1MB/s" is 4,100,000 bytes/s, so a second of exactly 4,100,000 bytes is not
// over it. Expected values are hand calculations from those definitions.
import { describe, expect, it } from 'vitest';
import { applyThresholdSpec } from '../../src/cli/detect-options.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { parseByteRate, parseCountRate } from '../../src/detect/units.js';
import { host, onlyDetector, second } from './helpers.js';

describe('decimal rates with SI prefixes', () => {
  it('are exact', () => {
    expect(parseByteRate('4.1MB/s')).toBe(4_100_000);
    expect(parseByteRate('1.023k/s')).toBe(1023);
    expect(parseByteRate('1.023kB/s')).toBe(1023);
    expect(parseByteRate('98.344kbit/s')).toBe(12_293); // 98344 / 8
    expect(parseByteRate('.7GB')).toBe(700_000_000);
    expect(parseByteRate('1.5MiB/s')).toBe(1_572_864); // 1.5 x 2^20
    expect(parseCountRate('4.1k/s')).toBe(4100);
    expect(parseCountRate('1.023M')).toBe(1_023_000);
  });

  it('a host exactly at a limit written "1.023k/s" is not over it', () => {
    const c = onlyDetector((d) => (d.threshold.enabled = true));
    c.threshold.host = { txBytes: null, rxBytes: null, txPackets: null, rxPackets: null };
    applyThresholdSpec('tx-bytes=1.023k/s', c);
    applyThresholdSpec('bytes=4.1MB/s', c);
    const stage = createDetectStage(c);
    const at = stage.observe(second(1, { bytes: 4_100_000, packets: 5, hosts: [host('10.0.0.1', [1, 1023])] }));
    expect(at).toEqual([]);
    const over = stage.observe(second(2, { bytes: 4_100_001, packets: 5, hosts: [host('10.0.0.1', [1, 1024])] }));
    expect(over.map((a) => [a.note, a.value, a.threshold])).toEqual([
      ['Global_Bytes_Threshold', 4_100_001, 4_100_000],
      ['Host_Tx_Bytes_Threshold', 1024, 1023],
    ]);
  });
});
