#!/usr/bin/env node
// Benchmark of `netpulse synth` (owned by synth): wall time and peak RSS to write the
// replay benchmark's capture (1,000,000 packets, 10,000 hosts, 300 s), median of several
// runs, with reference commands on the same bytes in the same run: `dd` writing as many
// bytes from /dev/zero, and `tcpdump -r F -w G` copying the capture (read + write).
//
//   npm run bench:synth [-- RUNS]        (default 5 runs; needs npm run build)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(root, 'dist/bin/netpulse.js');
const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'netpulse-bench-synth-'));
const out = join(dir, 'bench.pcap');
const ARGS = ['synth', out, '--packets', '1000000', '--hosts', '10000', '--seconds', '300', '--seed', '7', '-q'];
const haveTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Wall seconds and peak RSS (MB, when /usr/bin/time exists) of one command. */
function measure(cmd, args) {
  const full = haveTime ? ['/usr/bin/time', ['-f', '%M', cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const kb = haveTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { secs, mb: kb / 1024 };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const synth = [];
  const dd = [];
  const copy = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    rmSync(out, { force: true });
    synth.push(measure(process.execPath, [MAIN, ...ARGS]));
    bytes = statSync(out).size;
    const blocks = Math.ceil(bytes / (1 << 20));
    rmSync(join(dir, 'dd.bin'), { force: true });
    dd.push(measure('dd', ['if=/dev/zero', `of=${join(dir, 'dd.bin')}`, 'bs=1M', `count=${blocks}`, 'status=none']));
    if (have('tcpdump')) {
      rmSync(join(dir, 'copy.pcap'), { force: true });
      copy.push(measure('tcpdump', ['-n', '-r', out, '-w', join(dir, 'copy.pcap')]));
    }
  }
  const s = median(synth.map((x) => x.secs));
  const line = (name, xs, packets = true) => {
    const t = median(xs.map((x) => x.secs));
    const rss = median(xs.map((x) => x.mb));
    const pps = packets ? `${(1e6 / t / 1e6).toFixed(2)} M packets/s` : '                ';
    return `${name.padEnd(34)} ${t.toFixed(3)} s  ${pps}  ${(bytes / t / 1e6).toFixed(0).padStart(5)} MB/s  peak RSS ${Number.isNaN(rss) ? '?' : rss.toFixed(0)} MB  synth time / this ${(s / t).toFixed(2)}`;
  };
  console.log(`netpulse synth: 1,000,000 packets, 10,000 hosts, 300 s -> ${(bytes / 1e6).toFixed(1)} MB; median of ${runs} runs`);
  console.log(`  runs: ${synth.map((x) => x.secs.toFixed(3)).join(' ')} s`);
  console.log(`  ${line('netpulse synth (with truth file)', synth)}`);
  console.log(`  ${line('dd: the same bytes from /dev/zero', dd, false)}`);
  if (copy.length > 0) console.log(`  ${line('tcpdump -r F -w G (copy)', copy)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
