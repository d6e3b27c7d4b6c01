// npm run bench:live (owner: live capture). In a private network namespace, replays a
// generated capture into a veth pair at rising fixed rates with tcpreplay and captures the
// other end with netpulse and with `tcpdump -w /dev/null` side by side, in the same run.
// Truth is the kernel's rx counter of the captured end. Then measures the ceiling of the
// cap path by letting the ring fill while the event loop is blocked and timing the drain.
// Needs root, iproute2, tcpreplay, tcpdump and a built cap. Options:
//   --rates 20000,50000,...  --seconds 3  --buffer-mib 64  --capture cli|source  --no-ceiling  --no-rates
//   --netpulse-args "--detect-thread"   (more options for netpulse live)
//   --offloads on   (keep the veth's TSO/GSO on: libpcap then reserves 64 KiB per ring slot)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const RATES = opt('rates', '20000,50000,100000,200000,400000').split(',').map(Number);
const SECONDS = Number(opt('seconds', '3'));
const BUFFER_MIB = Number(opt('buffer-mib', '64'));
const CAPTURE = opt('capture', existsSync(join(REPO, 'dist', 'cli', 'live.js')) ? 'cli' : 'source');
const CEILING = !argv.includes('--no-ceiling');
const RATES_ON = !argv.includes('--no-rates');
const OFFLOADS = opt('offloads', 'off');
// more options for `netpulse live`, e.g. --netpulse-args "--detect-thread" or "--detectors none"
const EXTRA = opt('netpulse-args', '').split(' ').filter((a) => a !== '');

function need(cond, why) {
  if (!cond) {
    process.stderr.write(`bench:live: ${why}\n`);
    process.exit(2);
  }
}
need(process.getuid?.() === 0, 'needs root (network namespaces, raw sockets)');
for (const t of ['ip', 'tcpreplay', 'tcpdump', 'ethtool']) {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
  } catch {
    need(false, `${t} is not installed`);
  }
}
need(existsSync(join(REPO, 'dist', 'capture', 'live.js')), 'run npm run build first');

// ---------------------------------------------------------------------------------------
// A capture of UDP frames between 127/8 hosts (they never leave the namespace, and the
// kernel drops them on arrival), 60..600 bytes, sent to a MAC that is not the veth's.
function generateCapture(path, frames) {
  const chunks = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(1, 20);
  chunks.push(g);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let bytes = 0;
  for (let i = 0; i < frames; i++) {
    const len = 60 + Math.floor(rnd() * 541);
    const f = Buffer.alloc(len);
    Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]).copy(f, 0);
    f[14] = 0x45;
    f.writeUInt16BE(len - 14, 16);
    f[22] = 64;
    f[23] = 17;
    f.writeUInt32BE((127 << 24) | (1 << 16) | (i % 50), 26);
    f.writeUInt32BE((127 << 24) | (2 << 16) | (i % 7), 30);
    f.writeUInt16BE(10000 + (i % 1000), 34);
    f.writeUInt16BE(9, 36);
    f.writeUInt16BE(len - 34, 38);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + Math.floor(i / 1000), 0);
    h.writeUInt32LE((i % 1000) * 1000, 4);
    h.writeUInt32LE(len, 8);
    h.writeUInt32LE(len, 12);
    chunks.push(h, f);
    bytes += len;
  }
  writeFileSync(path, Buffer.concat(chunks));
  return bytes / frames;
}

// ---------------------------------------------------------------------------------------
const ns = `npbench-${process.pid}`;
const A = 'npbencha';
const B = 'npbenchb';
const ip = (...a) => execFileSync('ip', a, { encoding: 'utf8' });
const inNs = (cmd, args) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
function setup() {
  ip('netns', 'add', ns);
  inNs('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  inNs('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  ip('-n', ns, 'link', 'add', A, 'type', 'veth', 'peer', 'name', B);
  for (const i of ['lo', A, B]) ip('-n', ns, 'link', 'set', i, 'up');
  // As on a sensor: with offloads on, libpcap sizes every ring slot for a 64 KiB frame
  // (cap fixes the snapshot length at 65535), so a 64 MiB ring holds ~1000 frames.
  if (OFFLOADS === 'off') inNs('ethtool', ['-K', B, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
}
function teardown() {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // gone
  }
}
process.on('exit', teardown);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

const rxPackets = () => {
  const j = JSON.parse(ip('-n', ns, '-s', '-j', 'link', 'show', 'dev', B));
  return j[0].stats64.rx.packets + j[0].stats64.tx.packets;
};

function start(cmd, args) {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { child, out: '', err: '', done: null };
  child.stdout.setEncoding('utf8').on('data', (d) => (r.out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (r.err += d));
  r.done = new Promise((res) => child.once('exit', res));
  return r;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(pred, ms, what) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function startNetpulse() {
  if (CAPTURE === 'cli') {
    return start(process.execPath, [join(REPO, 'dist', 'bin', 'netpulse.js'), 'live', '-i', B, '--json', '--buffer-size', String(BUFFER_MIB), ...EXTRA]);
  }
  return start(process.execPath, [join(REPO, 'bench', 'live-child.mjs'), 'source', B, String(BUFFER_MIB * 1024 * 1024), '0']);
}
const netpulseReady = (r) => (CAPTURE === 'cli' ? r.out.length > 0 || /listening|capturing/i.test(r.err) : r.out.includes('"open"'));

/** Packets and loss estimate from netpulse's output (its final report, or the child's end line). */
function netpulseResult(r) {
  const msgs = r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const end = msgs.findLast((m) => m.type === 'report' || m.type === 'end' || m.type === 'stats');
  const report = msgs.findLast((m) => m.type === 'report');
  const stats = msgs.findLast((m) => m.type === 'stats');
  if (CAPTURE === 'cli') return { packets: report?.packets ?? stats?.packets, estimate: report?.droppedEstimate ?? stats?.droppedEstimate ?? null };
  return { packets: end?.packets, estimate: end?.droppedEstimate ?? null };
}

async function runRate(file, rate) {
  const np = startNetpulse();
  const td = start('tcpdump', ['-i', B, '-n', '-w', '/dev/null', '-B', String(BUFFER_MIB * 1024)]);
  await until(() => netpulseReady(np) && /listening on/.test(td.err), 15_000, 'netpulse and tcpdump to open');
  await sleep(300);
  const before = rxPackets();
  const limit = rate * SECONDS;
  const multi = Math.max(1, Math.round(rate / 20000));
  const tr = inNs('tcpreplay', ['-q', '-i', A, `--pps=${rate}`, `--pps-multi=${multi}`, `--limit=${limit}`, '--loop=0', '--preload-pcap', file]);
  const sent = Number(/Successful packets:\s+(\d+)/.exec(tr)?.[1] ?? NaN);
  const achieved = Number(/Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(tr)?.[1] ?? NaN);
  await sleep(1500); // both drain their rings
  const delivered = rxPackets() - before;
  np.child.kill('SIGINT');
  td.child.kill('SIGINT');
  await Promise.all([np.done, td.done]);
  const n = netpulseResult(np);
  const tdCaptured = Number(/(\d+) packets? captured/.exec(td.err)?.[1] ?? NaN);
  const tdKernelDrops = Number(/(\d+) packets? dropped by kernel/.exec(td.err)?.[1] ?? NaN);
  return {
    rate,
    achieved,
    sent,
    delivered,
    netpulse: n.packets,
    netpulseLoss: delivered - n.packets,
    netpulseEstimate: n.estimate,
    tcpdump: tdCaptured,
    tcpdumpLoss: delivered - tdCaptured,
    tcpdumpKernelDrops: tdKernelDrops,
  };
}

async function drain(file, mode, packets) {
  const c = start(process.execPath, [join(REPO, 'bench', 'live-child.mjs'), mode, B, String(512 * 1024 * 1024), '4000']);
  await until(() => c.out.includes('"open"'), 15_000, `${mode} child to open`);
  inNs('tcpreplay', ['-q', '-i', A, '--topspeed', `--limit=${packets}`, '--loop=0', '--preload-pcap', file]);
  await until(() => c.out.includes('"drain"'), 30_000, `${mode} drain`);
  c.child.kill('SIGINT');
  await c.done;
  const d = JSON.parse(c.out.split('\n').find((l) => l.includes('"drain"')));
  return { mode, packets: d.packets, ms: d.ms, pps: Math.round((d.packets / d.ms) * 1000), nsPerPacket: Math.round((d.ms * 1e6) / d.packets) };
}

const pct = (part, whole) => (whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : '-');

async function main() {
  const dir = join(REPO, '.bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'live-udp.pcap');
  const avg = generateCapture(file, 20000);
  teardown();
  setup();
  const env = {
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
    capture: CAPTURE,
    bufferMiB: BUFFER_MIB,
    seconds: SECONDS,
    avgFrame: Math.round(avg),
    offloads: OFFLOADS,
  };
  console.log(`bench:live  ${JSON.stringify(env)}`);
  const rows = [];
  for (const rate of RATES_ON ? RATES : []) {
    const r = await runRate(file, rate);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
  console.log('');
  console.log('| target pps | sent pps | delivered | netpulse captured | netpulse loss | netpulse estimate | tcpdump captured | tcpdump loss |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.rate} | ${Math.round(r.achieved)} | ${r.delivered} | ${r.netpulse} | ${r.netpulseLoss} (${pct(r.netpulseLoss, r.delivered)}) | ${r.netpulseEstimate ?? 'n/a'} (${r.netpulseEstimate === null ? '-' : pct(r.netpulseEstimate, r.delivered)}) | ${r.tcpdump} | ${r.tcpdumpLoss} (${pct(r.tcpdumpLoss, r.delivered)}) |`,
    );
  }
  const result = { env, rows, ceiling: [] };
  if (CEILING) {
    console.log('\nceiling: ring filled while the event loop is blocked, then drained in one cap callback');
    console.log('| path | packets | drain ms | packets/s | ns/packet |');
    console.log('|---|---:|---:|---:|---:|');
    for (const mode of ['stock', 'override', 'source', 'pipeline']) {
      const d = await drain(file, mode, 100_000);
      result.ceiling.push(d);
      console.log(`| ${mode} | ${d.packets} | ${d.ms.toFixed(1)} | ${d.pps} | ${d.nsPerPacket} |`);
    }
  }
  writeFileSync(join(dir, 'live-result.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench:live: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
