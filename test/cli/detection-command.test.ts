// The command path a replay takes with detectors: options parsed by commander, the detect
// stage and alert sinks from detectionFromOptions, the shared runCommand, a real capture.
// Oracle: the tshark ground truth of the capture (the flood's first second and packets).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { addDetectOptions, detectionFromOptions } from '../../src/cli/detect-options.js';
import { addAnalysisOptions, commonFromOptions, type CommonCliOptions } from '../../src/cli/options.js';
import { runCommand } from '../../src/cli/run-analysis.js';

const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/pcaps');
const have = existsSync(join(CORPUS, 'real'));
if (!have && process.env.NETPULSE_REQUIRE_CORPUS !== '1') console.warn(`skipping the detection command test: ${CORPUS} is absent`);

describe.skipIf(!have && process.env.NETPULSE_REQUIRE_CORPUS !== '1')('replay with detectors, through the command path', () => {
  it('writes the SYN flood to --alerts FILE, the --json stream and the report', async () => {
    const name = 'ddos-pkt.TCP.synflood.spoofed.pcap';
    const file = join(mkdtempSync(join(tmpdir(), 'np-cmd-')), 'alerts.ndjson');
    const cmd = addDetectOptions(addAnalysisOptions(new Command('replay').argument('<files...>').exitOverride(), false));
    cmd.parse([join(CORPUS, 'real', name), '--json', '--alerts', file, '--no-console-alerts'], { from: 'user' });
    const opts = cmd.opts();
    const d = detectionFromOptions(opts);
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const code = await runCommand({
      source: new FileSource({ files: [join(CORPUS, 'real', name)] }),
      common: commonFromOptions(opts as unknown as CommonCliOptions),
      live: false,
      paced: false,
      detect: d.detect,
      sinks: d.sinks,
      stdout: out,
    });
    expect(code).toBe(0);
    expect(d.problems()).toEqual([]);
    const truth = JSON.parse(readFileSync(join(CORPUS, 'expected', `${name}.json`), 'utf8')) as { seconds: { ts: number; packets: number }[] };
    const first = truth.seconds[0];
    const fromFile = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const flood = fromFile.filter((a) => a.detector === 'syn-flood');
    // Every packet of this capture is a SYN to 10.10.10.10 (tshark), so the first second's count is the oracle.
    expect(flood.map((a) => [a.state, a.host])).toEqual([
      ['raised', '10.10.10.10'],
      ['resolved', '10.10.10.10'],
    ]);
    expect(flood[0]).toMatchObject({ type: 'alert', v: 1, ts: first?.ts, value: first?.packets });
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const streamed = lines.filter((m) => m.type === 'alert');
    expect(streamed).toEqual(fromFile);
    const report = lines.find((m) => m.type === 'report') as { alerts?: { raised: number; resolved: number } } | undefined;
    expect(report?.alerts).toMatchObject({ raised: fromFile.filter((a) => a.state === 'raised').length, resolved: fromFile.filter((a) => a.state === 'resolved').length });
  });
});
