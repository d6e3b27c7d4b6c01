// Runs `netpulse replay pcaps/demo.pcapng --json --speed 100 --detect-thread` many times,
// several at once, and counts the runs that did not end cleanly with their report: killed
// by a signal (Node 20's V8 aborting as the detector thread ends), or still running after
// 20 s (its deadlock). See "Detectors on a thread" in the README.
//
//   node scripts/thread-end-stress.mjs [--runs 160] [--parallel 4] [--cli dist/bin/netpulse.js] [--node PATH]
//
// About 2.5 minutes for 160 runs on 2 cores. Prints one line per failed run and a total;
// exits 1 if any run failed.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '160' },
    parallel: { type: 'string', default: '4' },
    cli: { type: 'string', default: 'dist/bin/netpulse.js' },
    node: { type: 'string', default: process.execPath },
  },
});
const runs = Number(args.runs);
const parallel = Number(args.parallel);
const cli = resolve(args.cli);
const DEADLINE_MS = 20_000;

function once() {
  return new Promise((done) => {
    const child = spawn(args.node, [cli, 'replay', 'pcaps/demo.pcapng', '--json', '--speed', '100', '--detect-thread'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (tail = (tail + d).slice(-(1 << 20))));
    child.stderr.setEncoding('utf8').on('data', (d) => (err = (err + d).slice(-4096)));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, DEADLINE_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const report = tail.trimEnd().split('\n').at(-1)?.startsWith('{"type":"report"') ?? false;
      const ok = status === 0 && report;
      const why = hung ? `still running after ${DEADLINE_MS / 1000} s` : signal !== null ? `killed by ${signal}` : status !== 0 ? `exit status ${status}` : report ? '' : 'no report';
      done(ok ? null : `${why}${err.includes('Assertion failed') ? ` (${err.match(/Assertion failed[^\n]*/)?.[0]})` : ''}`);
    });
  });
}

let next = 0;
let failed = 0;
async function lane() {
  while (next < runs) {
    const n = ++next;
    const why = await once();
    if (why !== null) {
      failed++;
      console.log(`run ${n}: ${why}`);
    }
  }
}
const t0 = Date.now();
await Promise.all(Array.from({ length: parallel }, lane));
const node = await new Promise((r) => {
  const c = spawn(args.node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let v = '';
  c.stdout.on('data', (d) => (v += d));
  c.on('close', () => r(v.trim()));
});
console.log(`${failed} of ${runs} runs failed (${parallel} at once, Node ${node}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
process.exitCode = failed > 0 ? 1 : 0;
