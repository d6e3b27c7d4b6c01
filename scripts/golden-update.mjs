#!/usr/bin/env node
// Regenerates the golden files beside the project's own captures in pcaps/ from tshark's
// per-frame fields: `npm run golden:update` (needs tshark; the tests that read the goldens
// do not). Seconds are floor(frame.time_epoch), bytes are frame.len (wire length), hosts are
// the outermost IP header's source (tx) and destination (rx), as in ../shared/pcaps/expected.

import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = new URL('../pcaps/', import.meta.url).pathname;
const FIELDS = [
  'frame.time_epoch',
  'frame.len',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'sctp.srcport',
  'sctp.dstport',
  'tcp.flags',
  'vlan.id',
];

const version = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0];

function sizeStats(v) {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const stdev = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const rank = (p) => s[Math.max(1, Math.ceil((p / 100) * n)) - 1];
  return { count: n, mean, stdev, min: s[0], max: s[n - 1], p50: rank(50), p95: rank(95), p99: rank(99) };
}

for (const name of readdirSync(DIR).sort()) {
  if (!/\.(pcap|pcapng)(\.gz)?$/.test(name)) continue;
  const out = execFileSync('tshark', ['-n', '-r', join(DIR, name), '-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=\t', ...FIELDS.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const frames = [];
  const seconds = new Map();
  const hosts = new Map();
  let packets = 0;
  let bytes = 0;
  const host = (a) => {
    let h = hosts.get(a);
    if (!h) hosts.set(a, (h = { addr: a, tx: [], rx: [] }));
    return h;
  };
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [epoch, len, protocols, ipSrc, ipDst, ip6Src, ip6Dst, tcpS, tcpD, udpS, udpD, sctpS, sctpD, flags, vlan] = line.split('\t');
    const size = Number(len);
    // the string has nanosecond digits: split it instead of trusting a double
    const sec = Number(epoch.split('.')[0]);
    packets++;
    bytes += size;
    const s = seconds.get(sec) ?? { ts: sec, packets: 0, bytes: 0 };
    s.packets++;
    s.bytes += size;
    seconds.set(sec, s);
    const first = protocols.split(':').find((p) => p === 'ip' || p === 'ipv6');
    const src = first === 'ip' ? ipSrc : first === 'ipv6' ? ip6Src : '';
    const dst = first === 'ip' ? ipDst : first === 'ipv6' ? ip6Dst : '';
    if (src && dst) {
      host(src).tx.push(size);
      host(dst).rx.push(size);
    }
    frames.push({
      len: size,
      src: src || null,
      dst: dst || null,
      sport: Number(tcpS || udpS || sctpS) || null,
      dport: Number(tcpD || udpD || sctpD) || null,
      tcpFlags: flags ? Number(flags) : null,
      vlan: vlan ? Number(vlan) : null,
    });
  }
  const golden = {
    capture: name,
    packets,
    bytes,
    seconds: [...seconds.values()].sort((a, b) => a.ts - b.ts),
    hosts: [...hosts.values()]
      .sort((a, b) => (a.addr < b.addr ? -1 : 1))
      .map((h) => ({
        addr: h.addr,
        tx: { packets: h.tx.length, bytes: h.tx.reduce((a, b) => a + b, 0), size: sizeStats(h.tx) },
        rx: { packets: h.rx.length, bytes: h.rx.reduce((a, b) => a + b, 0), size: sizeStats(h.rx) },
      })),
    frames,
  };
  const header = `# golden for ${name} from ${version}; regenerate with: npm run golden:update (do not edit)`;
  writeFileSync(join(DIR, `${name}.golden`), `${header}\n${JSON.stringify(golden)}\n`);
  process.stdout.write(`${name}: ${packets} frames\n`);
}
