// `generate()`: writes a synthetic capture with labelled anomalies and returns (and
// writes) its truth. The library entry point of synth, used by `netpulse synth`, the
// benchmarks, the fixture script and tests. Deterministic: same options, same bytes.

import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { PcapWriter } from '../capture/pcap-writer.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import type { CaptureWriter } from '../capture/writer-common.js';
import { LINKTYPE } from '../decode/linktype.js';
import { openOutput } from '../capture/writer-output.js';
import { AnalyzerError } from '../errors.js';
import {
  ANOMALY_KINDS,
  ANOMALY_SYNTAX,
  DEFAULTS,
  FloodSource,
  ProbeSource,
  Spoofer,
  checkAnomaly,
  constantRate,
  type AnomalySpec,
  type PacketSourceSpec,
} from './anomalies.js';
import { parseIPv4 } from './addr.js';
import { createPacketSpec, MAX_FRAME, writeFrame } from './frames.js';
import { HostTable, MAX_POOL_HOSTS, ipv6HostCount, resolveHost, type ExternalHost, type HostRef } from './hosts.js';
import { PROFILES, backgroundCounts, spread, type ProfileName } from './profile.js';
import { Prng, streamSeed } from './prng.js';
import { FlowPool } from './traffic.js';
import {
  FRAME_CLASSES,
  TRUTH_FORMAT,
  TRUTH_VERSION,
  TruthCounter,
  HostLister,
  meanStdev,
  writeTruthFile,
  type Truth,
  type TruthAnomaly,
  type TruthHost,
} from './truth.js';

export interface SynthOptions {
  /** A file path, "-" for stdout, or a Writable (not ended). */
  readonly out: string | Writable;
  /** Default: pcapng when the path ends in .pcapng (optionally .gz), else pcap. */
  readonly format?: 'pcap' | 'pcapng';
  /** Timestamp resolution in the file (default 'us'). */
  readonly resolution?: 'us' | 'ns';
  readonly byteOrder?: 'le' | 'be';
  /** gzip the capture (default: the path ends in .gz). */
  readonly gzip?: boolean;
  /** Cut frames to this many bytes (wire lengths are kept); default 262144 (no cut). */
  readonly snaplen?: number;
  /** Packets of normal traffic (anomalies add theirs). Default 100000. */
  readonly packets?: number;
  /** Hosts of normal traffic. Default 100. */
  readonly hosts?: number;
  /** Length of the capture window in seconds. Default 60. */
  readonly seconds?: number;
  /** Epoch second of the first second. Default 1700000000 (2023-11-14T22:13:20Z). */
  readonly start?: number;
  readonly seed?: number;
  readonly profile?: ProfileName;
  /** Diurnal profile: seconds per cycle (default: the capture length). */
  readonly period?: number;
  /** Share of hosts behind an 802.1Q tag (default 0.1). */
  readonly vlanShare?: number;
  /** Share of hosts that are IPv6 (default 0.1). */
  readonly ipv6Share?: number;
  readonly anomalies?: readonly AnomalySpec[];
  /** Truth file path; false for none. Default: beside the capture ("x.pcap" -> "x.truth.json"); none for streams. */
  readonly truth?: string | false;
  /** Keep the per-host list in the returned truth (default true; the file always has it). Pass false for big floods: one object per spoofed source. */
  readonly keepHosts?: boolean;
}

/** Resolved, validated options: what the truth file records as `params`. */
export interface SynthParams {
  format: 'pcap' | 'pcapng';
  resolution: 'us' | 'ns';
  byteOrder: 'le' | 'be';
  gzip: boolean;
  snaplen: number;
  packets: number;
  hosts: number;
  seconds: number;
  start: number;
  seed: number;
  profile: ProfileName;
  period: number;
  vlanShare: number;
  ipv6Share: number;
  anomalies: AnomalySpec[];
}

export const SYNTH_DEFAULTS = {
  packets: 100_000,
  hosts: 100,
  seconds: 60,
  start: 1_700_000_000,
  seed: 1,
  profile: 'constant',
  vlanShare: 0.1,
  ipv6Share: 0.1,
  snaplen: 262144,
} as const;

const MAX_SECONDS = 10_000_000;
/**
 * Most packets one run may write, normal traffic and anomalies together: 2^31 (some
 * 750 GB at the 350-byte average). Beyond it, readers that number frames in signed
 * 32-bit counters fail, the per-second packet picker (32-bit random draws) would skew,
 * and the distinct spoofed IPv4 sources (about 3.7e9) could run out.
 */
export const MAX_RUN_PACKETS = 2 ** 31;
/**
 * Most packets one anomaly may add: 10^8 (some 35 GB of burst traffic). Also the most
 * spoofed sources a truth file lists in all (one line each, and 2 bytes of memory each
 * while generating): beyond it, --no-truth.
 */
export const MAX_ANOMALY_PACKETS = 100_000_000;

function bad(message: string): AnalyzerError {
  return new AnalyzerError('ERR_BAD_OPTION', message);
}

function wholeNumber(name: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw bad(`--${name} ${v}: must be a whole number from ${min} to ${max}`);
  return v;
}

function share(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw bad(`--${name} ${v}: must be a share from 0 to 1`);
  return v;
}

/** The capture path without ".gz" and its extension, plus ".truth.json". */
export function truthPathFor(out: string): string {
  const base = out.replace(/\.gz$/i, '');
  const dot = base.lastIndexOf('.');
  const slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
  return `${dot > slash + 1 ? base.slice(0, dot) : base}.truth.json`;
}

export function resolveParams(o: SynthOptions): SynthParams {
  const path = typeof o.out === 'string' && o.out !== '-' ? o.out : null;
  const plain = path?.replace(/\.gz$/i, '') ?? '';
  const format = o.format ?? (/\.(pcapng|ntar)$/i.test(plain) ? 'pcapng' : 'pcap');
  if (format !== 'pcap' && format !== 'pcapng') throw bad(`--format ${String(format)}: use pcap or pcapng`);
  const resolution = o.resolution ?? 'us';
  if (resolution !== 'us' && resolution !== 'ns') throw bad(`--resolution ${String(resolution)}: use us or ns`);
  const byteOrder = o.byteOrder ?? 'le';
  if (byteOrder !== 'le' && byteOrder !== 'be') throw bad(`--byte-order ${String(byteOrder)}: use le or be`);
  const profile = o.profile ?? SYNTH_DEFAULTS.profile;
  if (!(PROFILES as readonly string[]).includes(profile)) throw bad(`--profile ${String(profile)}: use one of ${PROFILES.join(', ')}`);
  const seconds = wholeNumber('seconds', o.seconds ?? SYNTH_DEFAULTS.seconds, 1, MAX_SECONDS);
  const start = wholeNumber('start', o.start ?? SYNTH_DEFAULTS.start, 0, 0xffffffff - seconds);
  const period = o.period ?? seconds;
  if (!Number.isFinite(period) || period <= 0) throw bad(`--period ${period}: must be a positive number of seconds`);
  const p: SynthParams = {
    format,
    resolution,
    byteOrder,
    gzip: o.gzip ?? (path !== null && /\.gz$/i.test(path)),
    snaplen: wholeNumber('snaplen', o.snaplen ?? SYNTH_DEFAULTS.snaplen, 64, 0x7fffffff),
    packets: wholeNumber('packets', o.packets ?? SYNTH_DEFAULTS.packets, 0, MAX_RUN_PACKETS),
    hosts: wholeNumber('hosts', o.hosts ?? SYNTH_DEFAULTS.hosts, 2, MAX_POOL_HOSTS),
    seconds,
    start,
    seed: wholeNumber('seed', o.seed ?? SYNTH_DEFAULTS.seed, 0, 0xffffffff),
    profile,
    period,
    vlanShare: share('vlan', o.vlanShare ?? SYNTH_DEFAULTS.vlanShare),
    ipv6Share: share('ipv6', o.ipv6Share ?? SYNTH_DEFAULTS.ipv6Share),
    anomalies: [...(o.anomalies ?? [])],
  };
  for (const a of p.anomalies) checkAnomaly(a);
  // The anomalies are a set: their order (on the command line, grouped by option, or in a
  // list) must not change the capture, so they are put in one canonical order.
  const rank = (a: AnomalySpec): number => ANOMALY_KINDS.indexOf(a.kind);
  p.anomalies.sort((x, y) => x.at - y.at || rank(x) - rank(y) || compareText(canonical(x), canonical(y)));
  return p;
}

/** One anomaly, resolved against the host table and the capture window. */
interface Planned {
  spec: AnomalySpec;
  index: number;
  from: number;
  to: number;
  hosts: HostRef[];
  /** Host id (in the final table) whose traffic the anomaly changes; -1 = all traffic. */
  subject: number;
  subjectText: string;
  intensity: number;
  unit: string;
  params: Record<string, number | string>;
  source: PacketSourceSpec | null;
  targets?: string[];
}

const FLOW_CAP = 1024;

/** Write the capture and its truth file; resolve with the truth. */
export async function generate(options: SynthOptions): Promise<Truth> {
  const prm = resolveParams(options);
  const S = prm.seconds;
  const outPath = typeof options.out === 'string' && options.out !== '-' ? options.out : null;
  const truthPath = options.truth === false ? null : (options.truth ?? (outPath !== null ? truthPathFor(outPath) : null));
  if (truthPath !== null && outPath !== null && samePath(truthPath, outPath)) {
    throw bad(`--truth ${truthPath}: that is the capture file itself, and the truth would overwrite it; give another path, or --no-truth`);
  }
  // The spoofed sources are remembered only to list them in the truth's hosts.
  const listHosts = truthPath !== null || options.keepHosts !== false;

  // Externals: hosts that anomalies name outside the pool, in the order of appearance.
  const externals: ExternalHost[] = [];
  const extIndex = new Map<string, number>();
  const idOf = (r: HostRef): number => {
    if (r.kind === 'pool') return r.index;
    const key = hostKey(r.host);
    let k = extIndex.get(key);
    if (k === undefined) {
      k = externals.length;
      externals.push(r.host);
      extIndex.set(key, k);
    }
    return prm.hosts + k;
  };
  const ref = (text: string, what: string): HostRef => resolveHost(text, prm.hosts, prm.ipv6Share, what);
  const tag = (a: AnomalySpec): string => `--${a.kind} ${a.at}`;
  const window = (a: AnomalySpec, secs: number): [number, number] => {
    if (a.at >= S) throw bad(`${tag(a)}: starts at ${a.at} s, outside the capture (0 to ${S - 1} s with --seconds ${S})`);
    if (a.at + secs > S) throw bad(`${tag(a)}: lasts ${secs} s and would end at ${a.at + secs} s, after the capture (${S} s)`);
    return [a.at, a.at + secs];
  };
  const poolOfFamily = (f: 4 | 6, what: string): void => {
    const n = countFamily(prm.hosts, prm.ipv6Share, f);
    if (n === 0) throw bad(`${what}: the normal traffic has no IPv${f} hosts (see --ipv6 and --hosts)`);
  };

  // Default new-host addresses (192.168.200.N for the Nth new host) skip every address
  // an anomaly names, and each other.
  const taken = new Set<string>();
  for (const a of prm.anomalies) {
    for (const text of namedHosts(a)) {
      const h = ref(text, tag(a));
      if (h.kind === 'external') taken.add(hostKey(h.host));
    }
  }
  const defaultNewHost = (a: AnomalySpec, n: number): string => {
    for (let c = n; c <= 254; c++) {
      const key = String(parseIPv4(`192.168.200.${c}`));
      if (taken.has(key)) continue;
      taken.add(key);
      return `192.168.200.${c}`;
    }
    throw bad(`${tag(a)}: no default address is left in 192.168.200.${n} to 192.168.200.254; give the new host an address (${ANOMALY_SYNTAX['new-host']})`);
  };
  const newHostOf = new Map<string, string>();

  const silent = new Uint8Array(S);
  const planned: Planned[] = [];
  let newHostNo = 0;
  prm.anomalies.forEach((a, index) => {
    const base = { spec: a, index, source: null, subject: -1, subjectText: 'all traffic' };
    switch (a.kind) {
      case 'silence': {
        const [from, to] = window(a, a.seconds);
        for (let s = from; s < to; s++) silent[s] = 1;
        planned.push({ ...base, from, to, hosts: [], intensity: a.seconds, unit: 'seconds', params: { at: a.at, seconds: a.seconds } });
        return;
      }
      case 'burst': {
        const h = ref(a.host, tag(a));
        if (h.kind !== 'pool') throw bad(`${tag(a)}: ${a.host} is not a host of the normal traffic; give a number below ${prm.hosts} or a pool address`);
        const [from, to] = window(a, a.seconds);
        planned.push({ ...base, from, to, hosts: [h], intensity: a.factor, unit: 'x rate', params: { at: a.at, host: a.host, factor: a.factor, seconds: a.seconds } });
        return;
      }
      case 'new-host': {
        newHostNo++;
        const text = a.host ?? defaultNewHost(a, newHostNo);
        const h = ref(text, tag(a));
        if (h.kind === 'pool') throw bad(`${tag(a)}: ${text} already talks in the normal traffic; a new host needs an address outside the pool`);
        const first = newHostOf.get(hostKey(h.host));
        if (first !== undefined) throw bad(`${tag(a)}: ${text} is already the new host of ${first}; a host is new only once, so give each --new-host its own address`);
        newHostOf.set(hostKey(h.host), tag(a));
        poolOfFamily(h.host.family, tag(a));
        const secs = a.seconds ?? S - a.at;
        const [from, to] = window(a, secs);
        const pps = a.pps ?? DEFAULTS.newHostPps;
        const local: HostRef = { kind: 'external', host: { ...h.host, local: true } };
        planned.push({ ...base, from, to, hosts: [local], intensity: pps, unit: 'packets/s', params: { at: a.at, host: text, pps, seconds: secs } });
        return;
      }
      case 'port-scan': {
        const src = ref(a.src, tag(a));
        const dst = ref(a.dst, tag(a));
        if (familyOf(src) !== familyOf(dst)) throw bad(`${tag(a)}: ${a.src} and ${a.dst} are of different IP versions`);
        if (sameHost(src, dst)) throw bad(`${tag(a)}: the scanner and its target are the same host`);
        const ports = a.ports ?? DEFAULTS.scanPorts;
        const pps = a.pps ?? DEFAULTS.scanPps;
        const [from, to] = window(a, Math.ceil(ports / pps - 1e-9));
        planned.push({ ...base, from, to, hosts: [src, dst], intensity: ports, unit: 'ports', params: { at: a.at, src: a.src, dst: a.dst, ports, pps } });
        return;
      }
      case 'sweep': {
        const src = ref(a.src, tag(a));
        const fam = familyOf(src);
        poolOfFamily(fam, tag(a));
        const avail = countFamily(prm.hosts, prm.ipv6Share, fam) - (src.kind === 'pool' ? 1 : 0);
        const n = a.hosts ?? Math.min(DEFAULTS.sweepHosts, avail);
        if (n > avail || n < 1) throw bad(`${tag(a)}: ${n} targets asked but the normal traffic has ${avail} other IPv${fam} hosts`);
        const pps = a.pps ?? DEFAULTS.sweepPps;
        const [from, to] = window(a, Math.ceil(n / pps - 1e-9));
        planned.push({ ...base, from, to, hosts: [src], intensity: n, unit: 'hosts', params: { at: a.at, src: a.src, port: a.port, hosts: n, pps } });
        return;
      }
      case 'syn-flood': {
        const dst = ref(a.dst, tag(a));
        const secs = a.seconds ?? DEFAULTS.floodSeconds;
        const [from, to] = window(a, secs);
        const port = a.port ?? DEFAULTS.floodPort;
        planned.push({ ...base, from, to, hosts: [dst], intensity: a.pps, unit: 'packets/s', params: { at: a.at, dst: a.dst, pps: a.pps, seconds: secs, port } });
        return;
      }
      default: {
        const k: string = (a as { kind: string }).kind;
        throw bad(`unknown anomaly kind "${k}": use one of ${ANOMALY_KINDS.join(', ')} (${Object.values(ANOMALY_SYNTAX).join(', ')})`);
      }
    }
  });
  // Register named external hosts (new hosts marked local) in order, then build the table.
  for (const pl of planned) for (const h of pl.hosts) idOf(h);
  const hosts = new HostTable(prm.hosts, prm.ipv6Share, prm.vlanShare, prm.seed, externals);

  // Background traffic.
  const bgRng = new Prng(streamSeed(prm.seed, 1));
  const profRng = new Prng(streamSeed(prm.seed, 2));
  const timeRng = new Prng(streamSeed(prm.seed, 3));
  let bgCounts: Float64Array;
  try {
    bgCounts = backgroundCounts(prm.packets, prm.profile, prm.period, silent, profRng);
  } catch {
    throw bad(`--silence covers the whole capture: no second is left for the ${prm.packets} packets of normal traffic`);
  }
  const avgPps = prm.packets / S;
  const slots = Math.max(4, Math.min(FLOW_CAP, Math.round(avgPps / 4)));
  const background = new FlowPool(hosts, bgRng, slots, -1);
  const P = createPacketSpec();
  background.warmUp(40 * slots, P);

  // Anomaly sources.
  const spoofKey = streamSeed(prm.seed, 4);
  const spoofer = new Spoofer(spoofKey);
  let spoof4 = 0;
  let spoof6 = 0;
  const sources: PacketSourceSpec[] = [];
  let anomalyTotal = 0;
  /** Why an anomaly's source has no packets: all silenced, or too weak to add one. */
  const noPacketsReason = (pl: Planned): string => {
    const a = pl.spec;
    let open = 0;
    for (let s = pl.from; s < pl.to; s++) open += silent[s] === 1 ? 0 : 1;
    const silenced = 'each packet it would send falls in a second emptied by --silence; move one of them';
    if (open === 0) return silenced;
    if (a.kind === 'burst') {
      let normal = 0;
      for (let s = pl.from; s < pl.to; s++) normal += bgCounts[s] ?? 0;
      normal *= hosts.packetShare(pl.subject);
      return (
        `host ${pl.subjectText} has about ${normal.toPrecision(2)} packets of normal traffic in those ${a.seconds} s, so ${a.factor}x adds about ` +
        `${((a.factor - 1) * normal).toPrecision(2)}, less than one; choose a busier host (lower numbers talk more), a larger FACTOR or SECONDS, or more --packets`
      );
    }
    if (a.kind === 'new-host' || a.kind === 'syn-flood') {
      const pps = Number(pl.params.pps);
      const secs = Number(pl.params.seconds);
      if (sum(constantRate(S, pl.from, pl.to, pps)) === 0) return `${pps} packets/s for ${secs} s is less than one packet; raise PPS or SECONDS`;
    }
    return silenced;
  };
  for (const pl of planned) {
    const a = pl.spec;
    const rng = new Prng(streamSeed(prm.seed, 100 + pl.index));
    const ids = pl.hosts.map(idOf);
    const mask = (c: Float64Array): Float64Array => {
      for (let s = 0; s < S; s++) if (silent[s] === 1) c[s] = 0;
      return c;
    };
    switch (a.kind) {
      case 'burst': {
        const h = ids[0] ?? 0;
        const extra = new Float64Array(S);
        const rate = (a.factor - 1) * hosts.packetShare(h);
        for (let s = pl.from; s < pl.to; s++) extra[s] = rate * (bgCounts[s] ?? 0);
        const pool = new FlowPool(hosts, rng, Math.max(2, Math.min(64, Math.round((rate * avgPps) / 4))), h);
        pl.source = flowSource(mask(spread(extra)), pool);
        pl.subject = h;
        break;
      }
      case 'new-host': {
        const h = ids[0] ?? 0;
        const pps = Number(pl.params.pps);
        const pool = new FlowPool(hosts, rng, Math.max(2, Math.min(64, Math.round(pps / 4))), h);
        pl.source = flowSource(mask(constantRate(S, pl.from, pl.to, pps)), pool);
        pl.subject = h;
        break;
      }
      case 'port-scan': {
        const src = ids[0] ?? 0;
        const dst = ids[1] ?? 0;
        const n = Number(pl.params.ports);
        const ports = shuffledPorts(n, rng);
        const open = new Uint8Array(n);
        for (let i = 0; i < n; i++) open[i] = ports[i] === 22 || ports[i] === 80 || ports[i] === 443 ? 1 : 0;
        const probes = new ProbeSource(S, pl.from, Number(pl.params.pps), src, new Int32Array(n).fill(dst), ports, open, hosts, rng, silent);
        pl.source = probes;
        pl.subject = src;
        // Ports whose probe fell in a --silence are not scanned.
        pl.intensity = sum(probes.sent);
        break;
      }
      case 'sweep': {
        const src = ids[0] ?? 0;
        const n = Number(pl.params.hosts);
        const targets = pickTargets(hosts, hosts.family[src] ?? 4, src, n, rng);
        const open = new Uint8Array(n);
        for (let i = 0; i < n; i++) open[i] = rng.float() < 0.3 ? 1 : 0;
        const probes = new ProbeSource(S, pl.from, Number(pl.params.pps), src, targets, new Uint16Array(n).fill(a.port), open, hosts, rng, silent);
        pl.source = probes;
        pl.subject = src;
        // Hosts whose probe fell in a --silence are not swept.
        pl.targets = Array.from(targets, (t) => hosts.text(t)).filter((_, i) => probes.sent[i] === 1);
        pl.intensity = pl.targets.length;
        break;
      }
      case 'syn-flood': {
        const dst = ids[0] ?? 0;
        const counts = mask(constantRate(S, pl.from, pl.to, a.pps));
        let total = 0;
        for (let s = 0; s < S; s++) total += counts[s] ?? 0;
        if (hosts.family[dst] === 6) spoof6 += total;
        else spoof4 += total;
        pl.source = new FloodSource(counts, dst, Number(pl.params.port), hosts, rng, spoofer);
        pl.subject = dst;
        break;
      }
      case 'silence':
        break;
    }
    pl.subjectText = pl.subject >= 0 ? hosts.text(pl.subject) : 'all traffic';
    if (pl.source === null) continue;
    sources.push(pl.source);
    const n = sum(pl.source.counts);
    if (n === 0) throw bad(`${tag(a)}: would add no packets: ${noPacketsReason(pl)}`);
    if (n > MAX_ANOMALY_PACKETS) throw bad(`${tag(a)}: would add ${n} packets, more than the ${MAX_ANOMALY_PACKETS} one anomaly may add; lower its rate or length`);
    anomalyTotal += n;
    // The label spans the seconds that hold the anomaly's packets: a rate under one packet
    // a second, a quiet host's burst or a --silence can leave the first or last seconds of
    // its window empty, and a detector cannot be late for traffic that is not there yet.
    const c = pl.source.counts;
    while ((c[pl.from] ?? 0) === 0) pl.from++;
    while ((c[pl.to - 1] ?? 0) === 0) pl.to--;
  }
  // A silence is a gap between packets: with none before it (or after it), nothing in the
  // file tells it from a capture that starts later (or ends earlier).
  const hasPackets = (s: number): boolean => (bgCounts[s] ?? 0) > 0 || sources.some((src) => (src.counts[s] ?? 0) > 0);
  for (const pl of planned) {
    if (pl.spec.kind !== 'silence') continue;
    let before = false;
    for (let s = 0; s < pl.from && !before; s++) before = hasPackets(s);
    let after = false;
    for (let s = pl.to; s < S && !after; s++) after = hasPackets(s);
    if (!before) throw bad(`${tag(pl.spec)}: no packet comes before it, so the capture cannot show it (it reads as one that starts ${pl.to} s in); start it later or add traffic`);
    if (!after) throw bad(`${tag(pl.spec)}: no packet comes after it, so the capture cannot show it (it reads as one that ends at ${pl.from} s); end it earlier or add traffic`);
  }
  // A new host is never seen before its first packet: no other anomaly may show its address
  // earlier (one that starts talking and then scans is fine).
  for (const pl of planned) {
    if (pl.spec.kind !== 'new-host') continue;
    for (const q of planned) {
      if (q === pl || q.source === null || q.from >= pl.from || !q.hosts.some((r) => idOf(r) === pl.subject)) continue;
      throw bad(
        `${tag(pl.spec)}: ${pl.subjectText} would not be new: ${tag(q.spec)} has packets from or to it at ${q.from} s, before its first at ${pl.from} s; start the new host earlier or the other anomaly later`,
      );
    }
  }
  // Refuse before writing anything: what would be written is known.
  const total = sum(bgCounts) + anomalyTotal;
  if (total > MAX_RUN_PACKETS) {
    throw bad(`the capture would have ${total} packets, more than the ${MAX_RUN_PACKETS} (2^31) one run may write; lower --packets or the anomalies' rates or lengths`);
  }
  if (listHosts && spoof4 + spoof6 > MAX_ANOMALY_PACKETS) {
    throw bad(
      `the SYN floods would send ${spoof4 + spoof6} packets from distinct spoofed sources, more than the ${MAX_ANOMALY_PACKETS} a truth file lists (one line each); use --no-truth, or lower their PPS or SECONDS`,
    );
  }

  const truth = new TruthCounter(S, hosts.count, listHosts ? spoof4 : 0, listHosts ? spoof6 : 0);
  const subjects = planned.map((pl) => (pl.subject >= 0 ? truth.track(pl.subject) : -1));
  // Bytes and packets of each anomaly's own packets.
  const anomPackets = new Float64Array(planned.length);
  const anomBytes = new Float64Array(planned.length);
  const sourceOwner = planned.filter((pl) => pl.source !== null).map((pl) => pl.index);

  // Output.
  // Level 1: a tenth larger than level 6 on these captures, four times faster.
  const out = openOutput(options.out, { gzip: prm.gzip, gzipLevel: 1 });
  const writer: CaptureWriter =
    prm.format === 'pcapng'
      ? new PcapngWriter(out, {
          byteOrder: prm.byteOrder,
          interfaces: [
            {
              linktype: LINKTYPE.ETHERNET,
              snaplen: prm.snaplen,
              name: 'synth0',
              ...(prm.resolution === 'ns' ? { tsresol: { base: 10 as const, exp: 9 } } : {}),
            },
          ],
        })
      : new PcapWriter(out, { linktype: LINKTYPE.ETHERNET, snaplen: prm.snaplen, resolution: prm.resolution, byteOrder: prm.byteOrder });

  const nsrc = sources.length;
  const remaining = new Float64Array(nsrc);
  const snap = prm.snaplen;
  const usec = prm.resolution === 'us';
  try {
    for (let s = 0; s < S; s++) {
      const nb = bgCounts[s] ?? 0;
      let total = nb;
      for (let j = 0; j < nsrc; j++) {
        const src = sources[j];
        const c = src === undefined ? 0 : (src.counts[s] ?? 0);
        remaining[j] = c;
        total += c;
        if (c > 0) src?.beginSecond(s);
      }
      if (total === 0) continue;
      let bgLeft = nb;
      let left = total;
      const sec = prm.start + s;
      const slot = 1e9 / total;
      for (let k = 0; k < total; k++) {
        let nsec = Math.floor((k + timeRng.float()) * slot);
        if (nsec > 999_999_999) nsec = 999_999_999;
        if (usec) nsec -= nsec % 1000;
        // Pick who sends this packet, in proportion to what each still has to send.
        let who = -1;
        if (bgLeft !== left) {
          let r = timeRng.int(left) - bgLeft;
          if (r >= 0) {
            for (who = 0; who < nsrc - 1; who++) {
              r -= remaining[who] ?? 0;
              if (r < 0) break;
            }
          }
        }
        if (who < 0) {
          background.next(P);
          bgLeft--;
        } else {
          sources[who]?.next(P);
          remaining[who] = (remaining[who] ?? 0) - 1;
        }
        left--;
        const at = writer.beginRecord(MAX_FRAME);
        const len = writeFrame(out.buf, out.view, at, P);
        writer.endRecord(sec, nsec, len, len);
        truth.count(s, sec, nsec, P, len, len < snap ? len : snap);
        if (who >= 0) {
          const o = sourceOwner[who] ?? 0;
          anomPackets[o] = (anomPackets[o] ?? 0) + 1;
          anomBytes[o] = (anomBytes[o] ?? 0) + len;
        }
        if (out.needsDrain) await out.drain();
      }
      if (out.needsDrain) await out.drain();
    }
    await writer.close();
  } catch (e) {
    out.abort();
    throw e;
  }

  // Truth.
  const normal = new Uint8Array(S).fill(1);
  for (const pl of planned) for (let s = pl.from; s < pl.to; s++) normal[s] = 0;
  const anomalies: TruthAnomaly[] = planned.map((pl, i) => {
    const j = subjects[i] ?? -1;
    const sp = j >= 0 ? (truth.subjPackets[j] ?? truth.secPackets) : truth.secPackets;
    const sb = j >= 0 ? (truth.subjBytes[j] ?? truth.secBytes) : truth.secBytes;
    const inWindow = new Uint8Array(S);
    for (let s = pl.from; s < pl.to; s++) inWindow[s] = 1;
    const bp = meanStdev(sp, normal);
    const bb = meanStdev(sb, normal);
    const op = meanStdev(sp, inWindow).mean;
    const ob = meanStdev(sb, inWindow).mean;
    const a: TruthAnomaly = {
      kind: pl.spec.kind,
      start: prm.start + pl.from,
      end: prm.start + pl.to,
      hosts: pl.hosts.map((h) => hosts.text(idOf(h))),
      intensity: pl.intensity,
      unit: pl.unit,
      params: pl.params,
      packets: anomPackets[i] ?? 0,
      bytes: anomBytes[i] ?? 0,
      subject: pl.subject >= 0 ? `host ${pl.subjectText} (tx + rx)` : 'all traffic',
      baseline: { packetsPerSec: bp, bytesPerSec: bb },
      observed: { packetsPerSec: op, bytesPerSec: ob },
      sigma: { packets: bp.stdev > 0 ? (op - bp.mean) / bp.stdev : null, bytes: bb.stdev > 0 ? (ob - bb.mean) / bb.stdev : null },
    };
    if (pl.targets !== undefined) a.targets = pl.targets;
    if (pl.spec.kind === 'syn-flood') a.spoofedSources = anomPackets[i] ?? 0;
    return a;
  });

  const frames: Record<string, number> = {};
  FRAME_CLASSES.forEach((name, i) => (frames[name] = truth.frames[i] ?? 0));
  const ts = (sec: number, nsec: number): number | null =>
    sec < 0 ? null : usec ? (sec * 1e6 + Math.floor(nsec / 1000)) / 1e6 : sec + nsec / 1e9;
  const result: Truth = {
    format: TRUTH_FORMAT,
    version: TRUTH_VERSION,
    params: { ...prm, generator: 'netpulse synth' },
    file: {
      path: outPath,
      format: prm.format,
      resolution: prm.resolution,
      byteOrder: prm.byteOrder,
      gzip: prm.gzip,
      linktype: LINKTYPE.ETHERNET,
      snaplen: prm.snaplen,
      bytes: out.bytes,
    },
    packets: truth.packets,
    bytes: truth.bytes,
    capturedBytes: truth.captured,
    firstTs: ts(truth.firstSec, truth.firstNsec),
    lastTs: ts(truth.lastSec, truth.lastNsec),
    frames,
    anomalies,
    seconds: Array.from({ length: S }, (_, s) => ({ ts: prm.start + s, packets: truth.secPackets[s] ?? 0, bytes: truth.secBytes[s] ?? 0 })),
    hosts: [],
  };
  if (listHosts) {
    const lister = new HostLister(truth, hosts, spoofKey);
    const eachHost = (emit: (h: TruthHost) => void): void => lister.forEach(emit);
    if (truthPath !== null) writeTruthFile(truthPath, result, eachHost);
    if (options.keepHosts !== false) eachHost((h) => result.hosts.push(h));
  }
  return result;
}

/** An external host's identity (equal addresses, however written, give equal keys). */
function hostKey(h: ExternalHost): string {
  return h.family === 6 ? h.v6.join(',') : String(h.v4);
}

function sum(xs: Float64Array | Uint8Array): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

/** The hosts an anomaly names (not its defaults). */
function namedHosts(a: AnomalySpec): string[] {
  switch (a.kind) {
    case 'burst':
      return [a.host];
    case 'new-host':
      return a.host === undefined ? [] : [a.host];
    case 'port-scan':
      return [a.src, a.dst];
    case 'sweep':
      return [a.src];
    case 'syn-flood':
      return [a.dst];
    default:
      return [];
  }
}

/** True when two paths name the same file (symbolic links, "./x" and hard links included). */
function samePath(a: string, b: string): boolean {
  const canonical = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      try {
        return join(realpathSync(dirname(p)), basename(p));
      } catch {
        return resolve(p);
      }
    }
  };
  if (canonical(a) === canonical(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.isFile() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** A spec as text with its keys in a fixed order (two equal specs give equal text). */
function canonical(a: AnomalySpec): string {
  const r = a as unknown as Record<string, unknown>;
  return Object.keys(r)
    .sort()
    .map((k) => `${k}=${String(r[k])}`)
    .join(',');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function flowSource(counts: Float64Array, pool: FlowPool): PacketSourceSpec {
  return {
    counts,
    beginSecond(): void {},
    next(p) {
      pool.next(p);
    },
  };
}

function familyOf(r: HostRef): 4 | 6 {
  return r.kind === 'pool' ? r.family : r.host.family;
}

function sameHost(a: HostRef, b: HostRef): boolean {
  if (a.kind === 'pool' && b.kind === 'pool') return a.index === b.index;
  if (a.kind === 'external' && b.kind === 'external') return a.host.family === b.host.family && a.host.v4 === b.host.v4 && a.host.v6.join() === b.host.v6.join();
  return false;
}

function countFamily(pool: number, ipv6Share: number, f: 4 | 6): number {
  const n6 = ipv6HostCount(pool, ipv6Share);
  return f === 6 ? n6 : pool - n6;
}

/** Ports 1..n in a random order (what a scanner tries). */
function shuffledPorts(n: number, rng: Prng): Uint16Array {
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i++) a[i] = i + 1;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i] ?? 0;
    a[i] = a[j] ?? 0;
    a[j] = t;
  }
  return a;
}

/** n distinct pool hosts of family f other than `not`, in a random order. */
function pickTargets(hosts: HostTable, f: number, not: number, n: number, rng: Prng): Int32Array {
  const cand: number[] = [];
  for (let i = 0; i < hosts.pool; i++) if (i !== not && hosts.family[i] === f) cand.push(i);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(cand.length - i);
    const t = cand[i] ?? 0;
    cand[i] = cand[j] ?? 0;
    cand[j] = t;
  }
  return Int32Array.from(cand.slice(0, n));
}

