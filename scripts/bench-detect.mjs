#!/usr/bin/env node
// npm run bench:detect: what the detectors cost (owned by detect). The same capture goes
// through the replay pipeline (decode, aggregate, NDJSON to /dev/null, like
// `netpulse replay --json > /dev/null`) with no detectors and with every detector on at
// its defaults; runs alternate, each in a fresh process, and the medians are compared.
// Target: with detectors, at most 15% slower.
//
//   npm run build && npm run bench:detect                 1,000,000 packets, 10,000 hosts (synth)
//   npm run bench:detect -- FILE.pcap [--runs 5]          any capture

import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const args = process.argv.slice(2);

if (args[0] === '--child') {
  // One measured run: --child FILE on|off
  const [, file, mode] = args;
  const { FileSource } = await import(join(dist, 'capture', 'file-source.js'));
  const { runAnalysis } = await import(join(dist, 'pipeline.js'));
  const { NdjsonSink } = await import(join(dist, 'sinks', 'ndjson.js'));
  const { createDetectStage } = await import(join(dist, 'detect', 'stage.js'));
  const { defaultDetectConfig } = await import(join(dist, 'detect', 'config.js'));
  const detect = mode === 'on' ? createDetectStage(defaultDetectConfig()) : null;
  const out = createWriteStream('/dev/null');
  const sink = new NdjsonSink(out, ['summary', 'gap', 'alert', 'report'], false);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const r = await runAnalysis(
    new FileSource({ files: [file] }),
    {
      aggregate: { maxHosts: 100_000, topHosts: 10, maxGapSeconds: 60, reorderSeconds: 2, histogramBytes: 64 << 20 },
      reportHosts: 100,
      detect,
      statsIntervalMs: 0,
    },
    [sink],
  );
  await sink.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  process.stdout.write(
    JSON.stringify({
      packets: r.report.packets,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssMiB: process.resourceUsage().maxRSS / 1024,
      alerts: r.alerts.length,
    }),
  );
  process.exit(0);
}

if (!existsSync(join(dist, 'detect', 'stage.js'))) {
  console.error('bench:detect: build first (npm run build)');
  process.exit(2);
}
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 5;
let file = args.find((a) => !a.startsWith('--') && a !== String(runs));
let made = null;
if (file === undefined) {
  made = join(tmpdir(), `netpulse-bench-detect-${process.pid}`);
  mkdirSync(made, { recursive: true });
  file = join(made, 'bench.pcap');
  const g = spawnSync(
    process.execPath,
    [join(dist, 'bin', 'netpulse.js'), 'synth', file, '-n', '1000000', '--hosts', '10000', '--seconds', '300', '--seed', '7', '--profile', 'bursty', '--no-truth', '-q'],
    { encoding: 'utf8' },
  );
  if (g.status !== 0) {
    console.error(`bench:detect: could not generate a capture (${(g.stderr || g.stdout).trim()}); pass one: npm run bench:detect -- FILE`);
    process.exit(2);
  }
}

function once(mode) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file, mode], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`run failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = [];
const on = [];
once('off'); // warm the page cache
for (let i = 0; i < runs; i++) {
  off.push(once('off'));
  on.push(once('on'));
}
if (made !== null) rmSync(made, { recursive: true, force: true });
// Wall time is what a user waits; CPU time is steadier on a shared machine. Both are shown.
const pps = (r) => r.packets / r.seconds;
const cpps = (r) => r.packets / r.cpuSeconds;
const fmt = (x) => `${(x / 1e6).toFixed(2)} M packets/s`;
const line = (runsOf) =>
  `${fmt(median(runsOf.map(pps)))} wall, ${fmt(median(runsOf.map(cpps)))} per CPU second (peak RSS ${median(runsOf.map((r) => r.rssMiB)).toFixed(0)} MiB)`;
console.log(`capture: ${made === null ? file : 'synth -n 1e6 --hosts 10000 --seconds 300 --profile bursty --seed 7'} (${off[0].packets} packets), ${runs} runs each, alternating`);
console.log(`replay --json, no detectors:   ${line(off)}`);
console.log(`replay --json, every detector: ${line(on)}, ${on[0].alerts} alerts`);
const wall = 1 - median(on.map(pps)) / median(off.map(pps));
const cpu = 1 - median(on.map(cpps)) / median(off.map(cpps));
console.log(`cost of detection: ${(wall * 100).toFixed(1)}% of wall-clock throughput, ${(cpu * 100).toFixed(1)}% of CPU throughput (target: at most 15%) ${Math.min(wall, cpu) <= 0.15 ? 'OK' : 'OVER'}`);
