// Capture-only child for bench/live.mjs (owner: live capture): opens the interface in one of
// three ways and counts frames, so the cost of each layer of the cap path can be told apart.
//   stock:    cap as shipped, an EventEmitter 'packet' listener (allocates per packet)
//   override: cap with emit() overridden, as LiveSource does, counting only
//   source:   LiveSource (frame stamped with Date.now, handler called), counting only
//   pipeline: LiveSource feeding the whole analysis (decode, aggregate, stats), no output
// argv: mode device bufferBytes holdMs. With holdMs > 0 the event loop is blocked that long
// right after open, so the ring fills; the drain that follows is timed (the ceiling).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { LiveSource } from '../dist/capture/live.js';
import { Analysis } from '../dist/pipeline.js';
import { DEFAULTS } from '../dist/config.js';

const [mode = 'source', device = 'lo', bufArg = String(256 * 1024 * 1024), holdArg = '0'] = process.argv.slice(2);
const bufferSize = Number(bufArg);
const holdMs = Number(holdArg);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let packets = 0;
// cap keeps only a raw pointer to the Buffer given to open(): it must stay reachable (a
// module-level const that no function uses is not enough: V8 may drop it after evaluation)
const retained = [];
globalThis.netpulseBenchRetained = retained;
let count = () => packets;
let stop;
let estimate = null;

if (mode === 'pipeline') {
  const src = new LiveSource({ device, bufferSize });
  src.open();
  const analysis = new Analysis(src, {
    aggregate: {
      maxHosts: DEFAULTS.maxHosts,
      topHosts: DEFAULTS.topHosts,
      maxGapSeconds: DEFAULTS.maxGapSeconds,
      reorderSeconds: 0,
      histogramBytes: DEFAULTS.histogramMiB * 1024 * 1024,
    },
    reportHosts: DEFAULTS.reportHosts,
  });
  const done = analysis.run();
  count = () => src.stats().packets;
  stop = async () => {
    src.stop();
    await done;
    packets = src.stats().packets;
    estimate = src.stats().droppedEstimate;
  };
} else if (mode === 'source') {
  const src = new LiveSource({ device, bufferSize });
  src.open();
  const done = src.start(() => {
    packets++;
  });
  stop = async () => {
    src.stop();
    await done;
    estimate = src.stats().droppedEstimate;
  };
} else {
  const { Cap } = createRequire(import.meta.url)('cap');
  const buf = Buffer.alloc(65535);
  let c;
  if (mode === 'stock') {
    c = new Cap();
    c.on('packet', () => {
      packets++;
    });
  } else {
    class Fast extends Cap {
      emit() {
        packets++;
        return true;
      }
    }
    c = new Fast();
  }
  retained.push(c, buf);
  c.open(device, '', bufferSize, buf);
  const keepAlive = setInterval(() => {}, 1000);
  stop = async () => {
    clearInterval(keepAlive);
    c.close();
  };
}
out({ type: 'open', mode });
if (holdMs > 0) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
  // Spin on immediates: each one runs after a poll phase, so the time between two checks
  // that saw the count grow is the time cap spent draining the ring (plus one loop turn).
  let last = performance.now();
  let seen = count();
  let busy = 0;
  let idle = 0;
  const check = () => {
    const now = performance.now();
    const c = count();
    if (c > seen) {
      busy += now - last;
      seen = c;
      idle = 0;
    } else if (seen > 0) {
      idle++;
    }
    last = now;
    if (idle < 2000) setImmediate(check);
    else out({ type: 'drain', packets: seen, ms: busy });
  };
  setImmediate(check);
}
const finish = async () => {
  await stop();
  out({ type: 'end', packets, droppedEstimate: estimate });
  process.exit(0);
};
process.once('SIGINT', finish);
process.once('SIGTERM', finish);
