#!/usr/bin/env node
// `npm run bench`: netpulse replay throughput and memory on generated captures, beside the
// reference tools run on the same file in the same run (the machine is shared and noisy:
// compare ratios, not absolute times). Targets from the replay issue: >= 2,000,000 packets/s
// end to end, within 2.5x of `tcpdump -r F -w /dev/null`, >= 2x darkstat, >= 15x tshark;
// peak RSS < 200 MB, and < 300 MB on 2,000,000 packets from 1,000,000 distinct hosts.
//
//   npm run bench [-- --runs 5 --packets 1000000 --hosts 10000 --skip-tshark --skip-memory]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/bin/netpulse.js');
const DIR = join(ROOT, '.bench');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    packets: { type: 'string', default: '1000000' },
    hosts: { type: 'string', default: '10000' },
    'skip-tshark': { type: 'boolean', default: false },
    'skip-memory': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);

if (!existsSync(CLI)) {
  console.error('bench: dist/ is missing: run `npm run build` first');
  process.exit(2);
}
if (!existsSync('/usr/bin/time')) {
  console.error('bench: /usr/bin/time is missing (apt-get install time): it measures peak RSS');
  process.exit(2);
}
mkdirSync(DIR, { recursive: true });

const { generate } = await import(join(ROOT, 'dist/synth/generate.js'));

async function capture(name, opts) {
  const path = join(DIR, name);
  if (!existsSync(path)) {
    const t0 = Date.now();
    await generate({ out: path, truth: false, ...opts });
    console.log(`generated ${name} (${(statSync(path).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return path;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

/** Wall seconds and peak RSS (MB) of one command, its output thrown away. */
function measure(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const last = (r.stderr ?? '').trim().split('\n').at(-1) ?? '';
  const [sec, kb] = last.split(' ').map(Number);
  if (r.status !== 0 || !Number.isFinite(sec)) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { sec, rssMb: kb / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const packets = Number(args.packets);
const main = await capture(`replay-${packets}-${args.hosts}.pcap`, { packets, hosts: Number(args.hosts), seconds: 300, seed: 7 });

const tools = [
  { name: 'netpulse replay --json', argv: [process.execPath, CLI, 'replay', main, '--json'], runs: RUNS },
  // detectors are on by default; the replay issue's figure is the pipeline without them
  { name: 'netpulse --detectors none', argv: [process.execPath, CLI, 'replay', main, '--json', '--detectors', 'none'], runs: RUNS },
  // the same detectors on a thread of their own (identical output; needs a spare core)
  { name: 'netpulse --detect-thread', argv: [process.execPath, CLI, 'replay', main, '--json', '--detect-thread'], runs: RUNS },
  ...(which('tcpdump') ? [{ name: 'tcpdump -r F -w /dev/null', argv: ['tcpdump', '-n', '-r', main, '-w', '/dev/null'], runs: RUNS }] : []),
  ...(which('darkstat') ? [{ name: 'darkstat -r F', argv: ['darkstat', '-r', main, '--no-daemon', '--no-dns'], runs: Math.min(RUNS, 3) }] : []),
  ...(which('tshark') && !args['skip-tshark'] ? [{ name: 'tshark -z endpoints,ip', argv: ['tshark', '-n', '-q', '-r', main, '-z', 'endpoints,ip'], runs: 1 }] : []),
];
const results = new Map(tools.map((t) => [t.name, []]));
// interleave the tools so that load from other work on the machine hits them alike
for (let i = 0; i < RUNS; i++) {
  for (const t of tools) if (i < t.runs) results.get(t.name).push(measure(t.argv));
}

const rows = tools.map((t) => {
  const rs = results.get(t.name);
  const sec = median(rs.map((r) => r.sec));
  return { tool: t.name, runs: rs.length, sec, pps: packets / sec, rssMb: Math.max(...rs.map((r) => r.rssMb)) };
});
const np = rows[0];
const bare = rows[1];
console.log(`\n${packets.toLocaleString('en-US')} packets, ${Number(args.hosts).toLocaleString('en-US')} hosts (${main})`);
console.log('tool                         runs   median s     packets/s   peak RSS MB   time / netpulse (default, no detectors)');
for (const r of rows) {
  const ratio = (x) => `${(r.sec / x.sec).toFixed(2)}x`;
  console.log(
    `${r.tool.padEnd(28)} ${String(r.runs).padStart(4)} ${r.sec.toFixed(3).padStart(10)} ${Math.round(r.pps).toLocaleString('en-US').padStart(13)} ${r.rssMb.toFixed(0).padStart(13)}   ${ratio(np)}, ${ratio(bare)}`,
  );
}
const threaded = rows[2];
console.log(`detector cost: ${(((np.sec - bare.sec) / bare.sec) * 100).toFixed(0)}% of the run without detectors; on their own thread: ${(((threaded.sec - bare.sec) / bare.sec) * 100).toFixed(0)}%`);

const out = { date: new Date().toISOString(), node: process.version, packets, hosts: Number(args.hosts), rows };
if (!args['skip-memory']) {
  // normal traffic plus a spoofed SYN flood: 2,000,000 packets from ~1,001,000 addresses
  const many = await capture('hosts-2000000-1000000.pcap', {
    packets: 1_000_000,
    hosts: 1000,
    seconds: 100,
    seed: 11,
    anomalies: [{ kind: 'syn-flood', at: 0, dst: '0', pps: 10_000, seconds: 100 }],
  });
  const m = measure([process.execPath, CLI, 'replay', many, '--json']);
  console.log(`\n2,000,000 packets from 1,000,000 hosts (default host cap): ${m.sec.toFixed(2)} s, peak RSS ${m.rssMb.toFixed(0)} MB`);
  out.memory = m;
}
writeFileSync(join(DIR, 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
