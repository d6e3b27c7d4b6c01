// Runs a LiveSource from dist/ inside a test's network namespace (owner: live capture) and
// reports on stdout, one JSON object a line: {"type":"open",...}, then {"type":"end",...}
// with every frame's length and CRC-32 so the test can compare them with the pcap records.
// argv[2]: LiveOptions as JSON, plus "holdMs" (busy-wait per frame, to force loss).
import { crc32 } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { LiveSource } from '../../dist/capture/live.js';

const opts = JSON.parse(process.argv[2] ?? '{}');
const holdMs = opts.holdMs ?? 0;
delete opts.holdMs;
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const src = new LiveSource(opts);
let info;
try {
  info = src.open();
} catch (e) {
  out({ type: 'error', code: e.code ?? null, message: e.message, line: typeof e.oneLine === 'function' ? e.oneLine() : null });
  process.exit(0);
}
const status = readFileSync('/proc/self/status', 'utf8');
const ids = (k) => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim();
out({ type: 'open', info, uid: ids('Uid'), gid: ids('Gid'), groups: ids('Groups'), capEff: ids('CapEff') });
process.once('SIGINT', () => src.stop());
process.once('SIGTERM', () => src.stop());
const frames = [];
const stamps = [];
const end = await src.start((f) => {
  frames.push([f.caplen, f.wirelen, crc32(f.bytes.subarray(f.offset, f.offset + f.caplen))]);
  stamps.push(f.tsMicros);
  if (holdMs > 0) {
    const t = performance.now() + holdMs;
    while (performance.now() < t);
  }
});
out({
  type: 'end',
  reason: end.reason,
  code: end.error?.code ?? null,
  line: end.error?.oneLine() ?? null,
  stats: src.stats(),
  linktype: info.linktype,
  frames,
  firstTs: stamps[0] ?? null,
  lastTs: stamps.at(-1) ?? null,
  monotonic: stamps.every((t, i) => i === 0 || t >= stamps[i - 1]),
});
