// Detectors against the generator's labels (src/synth): every labelled scan, sweep, flood,
// silence and new host is raised within 3 s of its start and resolved within 10 s of its
// end, and nothing unexplained is raised; an anomaly-free hour of bursty traffic raises at
// most one alert (the target). (npm run eval runs the full evaluation, bursts included.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import type { Alert } from '../../src/detect/alert.js';
import { defaultDetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { runAnalysis } from '../../src/pipeline.js';
import { parseAnomaly } from '../../src/synth/anomalies.js';
import { generate } from '../../src/synth/generate.js';
import type { TruthAnomaly } from '../../src/synth/truth.js';

const dir = mkdtempSync(join(tmpdir(), 'np-synth-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function analyse(file: string): Promise<Alert[]> {
  const r = await runAnalysis(
    new FileSource({ files: [file] }),
    {
      aggregate: { maxHosts: 100_000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2, histogramBytes: 16 << 20 },
      reportHosts: 10,
      detect: createDetectStage(defaultDetectConfig()),
      statsIntervalMs: 0,
    },
    [],
  );
  return [...r.alerts];
}

/** The detector built for each kind, and the host it names. */
function detects(a: Alert, an: TruthAnomaly): boolean {
  const who = an.hosts[0];
  switch (an.kind) {
    case 'new-host':
      return a.detector === 'new-host' && a.host === who;
    case 'port-scan':
      return a.detector === 'port-scan' && a.note === 'Port_Scan' && a.host === who;
    case 'sweep':
      return a.detector === 'port-scan' && a.note === 'Address_Scan' && a.host === who;
    case 'syn-flood':
      return a.detector === 'syn-flood' && a.host === who;
    case 'silence':
      return a.detector === 'silence';
    default:
      return false;
  }
}

/** An alert during an anomaly about its hosts (or about all traffic) is explained by it. */
function explained(a: Alert, labels: readonly TruthAnomaly[]): boolean {
  return labels.some(
    (an) => a.ts >= an.start - 2 && a.ts <= an.end + 10 && (a.host === null || an.hosts.includes(a.host) || (an.targets ?? []).includes(a.host)),
  );
}

describe('detectors on labelled synthetic captures', () => {
  it('raises every labelled scan, sweep, flood, silence and new host on time, once, and nothing else', async () => {
    const out = join(dir, 'labelled.pcap');
    const truth = await generate({
      out,
      truth: false,
      packets: 900 * 120,
      hosts: 60,
      seconds: 900,
      seed: 11,
      profile: 'diurnal',
      ipv6Share: 0,
      anomalies: [
        parseAnomaly('new-host', '400:192.168.200.7:10:60'),
        parseAnomaly('port-scan', '500:198.51.100.9:3:200:50'),
        parseAnomaly('sweep', '600:5:445:40:20'),
        parseAnomaly('syn-flood', '700:2:1000:15'),
        parseAnomaly('silence', '800:10'),
      ],
    });
    const alerts = await analyse(out);
    expect(truth.anomalies).toHaveLength(5);
    for (const an of truth.anomalies) {
      const raised = alerts.filter((a) => a.state === 'raised' && detects(a, an) && a.ts >= an.start - 1 && a.ts <= an.end + 3);
      expect(raised, `${an.kind} at ${an.start}`).toHaveLength(1);
      const r = raised[0];
      expect(r?.ts ?? Infinity, `${an.kind} raise latency`).toBeGreaterThanOrEqual(an.start);
      expect((r?.ts ?? Infinity) - an.start, `${an.kind} raise latency`).toBeLessThanOrEqual(3);
      const resolved = alerts.filter((a) => a.state === 'resolved' && a.key === r?.key && a.ts >= (r?.ts ?? 0));
      expect(resolved, `${an.kind} resolve`).toHaveLength(1);
      // A new host is an event: resolved resolveAfter seconds after it is raised.
      if (an.kind !== 'new-host') expect((resolved[0]?.ts ?? Infinity) - an.end, `${an.kind} resolve latency`).toBeLessThanOrEqual(10);
    }
    const judged = alerts.filter((a) => a.state === 'raised' && a.detector !== 'risky-services' && a.detector !== 'rate-limit');
    expect(judged.filter((a) => !explained(a, truth.anomalies)).map((a) => `${a.ts - Number(truth.params.start)} ${a.detector} ${a.note} ${a.host}`)).toEqual([]);
  });

  it('raises at most one alert in an hour of anomaly-free bursty traffic', async () => {
    const out = join(dir, 'quiet.pcap');
    await generate({ out, truth: false, packets: 3600 * 150, hosts: 200, seconds: 3600, seed: 5, profile: 'bursty' });
    const alerts = await analyse(out);
    const judged = alerts.filter((a) => a.state === 'raised' && a.detector !== 'risky-services' && a.detector !== 'rate-limit');
    expect(judged.length, judged.map((a) => `${a.ts} ${a.detector} ${a.note} ${a.host}`).join('; ')).toBeLessThanOrEqual(1);
  });
});
