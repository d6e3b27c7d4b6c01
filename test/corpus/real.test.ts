// Every real capture against tshark's ground truth (../shared/pcaps/expected): totals,
// every second's packets and bytes, every host's tx/rx packets and bytes, and size
// statistics (min and max exact, mean and stdev to 1e-6 relative, percentiles within 1%).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostStats, Report, SecondSummary } from '../../src/aggregate/summary.js';
import { ndjson, run } from '../helpers/cli.js';
import { REAL, haveCorpus, realFiles, truth, type TruthSize } from '../helpers/corpus.js';

// skip on the corpus's absence only (haveCorpus throws in CI): an empty or missing real/
// must fail the count below, not skip the suite
const corpus = haveCorpus();
const files = corpus ? realFiles() : [];

function close(actual: number, expected: number, rel: number): boolean {
  return Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected));
}

function checkSize(where: string, got: HostStats['tx']['size'], want: TruthSize | null): string[] {
  if (want === null || got === null) return (want === null) === (got === null) ? [] : [`${where}: size ${JSON.stringify(got)} vs ${JSON.stringify(want)}`];
  const bad: string[] = [];
  for (const k of ['count', 'min', 'max'] as const) if (got[k] !== want[k]) bad.push(`${where}.${k}: ${got[k]} vs ${want[k]}`);
  for (const k of ['mean', 'stdev'] as const) if (!close(got[k], want[k], 1e-6)) bad.push(`${where}.${k}: ${got[k]} vs ${want[k]}`);
  for (const k of ['p50', 'p95', 'p99'] as const) if (Math.abs(got[k] - want[k]) > 0.01 * want[k]) bad.push(`${where}.${k}: ${got[k]} vs ${want[k]}`);
  return bad;
}

describe.skipIf(!corpus)('real captures agree with tshark', () => {
  it('the corpus has the 63 captures the suite was written for', () => {
    expect(files.length).toBe(63);
  });

  it.each(files)('%s', (name) => {
    const r = run(['replay', join(REAL, name), '--json', '--hosts', 'all']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const msgs = ndjson(r.stdout);
    const report = msgs.find((m) => m.type === 'report') as unknown as Report;
    const want = truth(name);
    expect({ packets: report.packets, bytes: report.bytes }).toEqual({ packets: want.packets, bytes: want.bytes });

    // every second tshark saw, and no other non-empty second
    const seconds = new Map<number, [number, number]>();
    for (const m of msgs) {
      if (m.type !== 'summary') continue;
      const s = m as unknown as SecondSummary;
      if (s.packets > 0) seconds.set(s.ts, [s.packets, s.bytes]);
    }
    expect(Object.fromEntries(seconds)).toEqual(Object.fromEntries(want.seconds.map((s) => [s.ts, [s.packets, s.bytes]])));
    // the summaries account for every packet
    const summed = msgs.filter((m) => m.type === 'summary').reduce((n, m) => n + (m as unknown as SecondSummary).packets, 0);
    expect(summed).toBe(want.packets);

    const hosts = new Map(report.hosts.map((h) => [h.addr, h]));
    expect([...hosts.keys()].sort()).toEqual(want.hosts.map((h) => h.addr).sort());
    const bad: string[] = [];
    for (const w of want.hosts) {
      const h = hosts.get(w.addr);
      if (!h) continue;
      for (const d of ['tx', 'rx'] as const) {
        if (h[d].packets !== w[d].packets || h[d].bytes !== w[d].bytes) {
          bad.push(`${w.addr} ${d}: ${h[d].packets}/${h[d].bytes} vs ${w[d].packets}/${w[d].bytes}`);
        }
        bad.push(...checkSize(`${w.addr}.${d}`, h[d].size, w[d].size));
      }
    }
    expect(bad.slice(0, 20)).toEqual([]);
  });
});
