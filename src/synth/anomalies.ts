// Labelled anomalies of the synthetic generator (owned by synth): their specifications,
// the command-line text form (KIND T:A:B...), and the packet sources for scans, sweeps
// and SYN floods (bursts and new hosts reuse the normal traffic's FlowPool).

import { AnalyzerError } from '../errors.js';
import { KIND, type PacketSpec } from './frames.js';
import type { HostTable } from './hosts.js';
import { scramble32, type Prng } from './prng.js';

export const ANOMALY_KINDS = ['burst', 'new-host', 'port-scan', 'sweep', 'syn-flood', 'silence'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** Times (`at`) are whole seconds from the start of the capture. Hosts are pool numbers or addresses. */
export type AnomalySpec =
  | { readonly kind: 'burst'; readonly at: number; readonly host: string; readonly factor: number; readonly seconds: number }
  | { readonly kind: 'new-host'; readonly at: number; readonly host?: string; readonly pps?: number; readonly seconds?: number }
  | { readonly kind: 'port-scan'; readonly at: number; readonly src: string; readonly dst: string; readonly ports?: number; readonly pps?: number }
  | { readonly kind: 'sweep'; readonly at: number; readonly src: string; readonly port: number; readonly hosts?: number; readonly pps?: number }
  | { readonly kind: 'syn-flood'; readonly at: number; readonly dst: string; readonly pps: number; readonly seconds?: number; readonly port?: number }
  | { readonly kind: 'silence'; readonly at: number; readonly seconds: number };

/** The text form of each kind, for --help and error messages. */
export const ANOMALY_SYNTAX: Record<AnomalyKind, string> = {
  burst: 'T:HOST:FACTOR:SECONDS',
  'new-host': 'T[:ADDR[:PPS[:SECONDS]]]',
  'port-scan': 'T:SRC:DST[:PORTS[:PPS]]',
  sweep: 'T:SRC:PORT[:HOSTS[:PPS]]',
  'syn-flood': 'T:DST:PPS[:SECONDS[:PORT]]',
  silence: 'T:SECONDS',
};

export const DEFAULTS = {
  newHostPps: 10,
  scanPorts: 1000,
  scanPps: 100,
  sweepHosts: 256,
  sweepPps: 50,
  floodSeconds: 10,
  floodPort: 80,
} as const;

function bad(message: string): AnalyzerError {
  return new AnalyzerError('ERR_BAD_OPTION', message);
}

/** Split on ":" but keep bracketed IPv6 addresses ("[fd00::1]") whole. */
function fields(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of text) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === ':' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    if (ch !== '[' && ch !== ']') cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The number forms synth accepts, on the command line and in anomaly specs: decimal
 * digits with optional "_" separators ("1_000_000"), a fraction, an exponent ("1e6").
 * Anything else (hex, "Infinity", signs, spaces) is NaN, for the caller to refuse.
 */
export function parseDecimal(text: string): number {
  return /^(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(text) ? Number(text.replace(/_/g, '')) : NaN;
}

function num(kind: string, name: string, text: string | undefined, opts: { integer: boolean; min: number; max?: number }): number {
  const v = parseDecimal(text ?? '');
  const ok = Number.isFinite(v) && (!opts.integer || Number.isInteger(v)) && v >= opts.min && (opts.max === undefined || v <= opts.max);
  if (!ok) {
    const range = opts.max === undefined ? `at least ${opts.min}` : `${opts.min} to ${opts.max}`;
    throw bad(`--${kind}: ${name} "${text ?? ''}" must be ${opts.integer ? 'a whole number' : 'a number'} ${range} (${kind} ${ANOMALY_SYNTAX[kind as AnomalyKind] ?? ''})`);
  }
  return v;
}

/** Parse the command-line text of one anomaly ("30:5:4:10" for --burst). */
export function parseAnomaly(kind: string, text: string): AnomalySpec {
  if (!(ANOMALY_KINDS as readonly string[]).includes(kind)) {
    throw bad(`unknown anomaly kind "${kind}": use one of ${ANOMALY_KINDS.join(', ')}`);
  }
  const k = kind as AnomalyKind;
  const f = fields(text);
  const syntax = ANOMALY_SYNTAX[k];
  const [min, max] = ({ burst: [4, 4], 'new-host': [1, 4], 'port-scan': [3, 5], sweep: [3, 5], 'syn-flood': [3, 5], silence: [2, 2] } as const)[k];
  if (f.length < min || f.length > max || f.some((x, i) => x === '' && i < min)) {
    throw bad(`--${k} ${text}: expected ${syntax} (IPv6 addresses in brackets)`);
  }
  const at = num(k, 'T (seconds from the start)', f[0], { integer: true, min: 0 });
  const opt = (i: number): string | undefined => (f[i] === undefined || f[i] === '' ? undefined : f[i]);
  switch (k) {
    case 'burst':
      return {
        kind: k,
        at,
        host: f[1] ?? '',
        factor: num(k, 'FACTOR', f[2], { integer: false, min: 1.01, max: 1e6 }),
        seconds: num(k, 'SECONDS', f[3], { integer: true, min: 1 }),
      };
    case 'new-host': {
      const host = opt(1);
      const pps = opt(2);
      const secs = opt(3);
      return {
        kind: k,
        at,
        ...(host !== undefined ? { host } : {}),
        ...(pps !== undefined ? { pps: num(k, 'PPS', pps, { integer: false, min: 0.01, max: 1e7 }) } : {}),
        ...(secs !== undefined ? { seconds: num(k, 'SECONDS', secs, { integer: true, min: 1 }) } : {}),
      };
    }
    case 'port-scan': {
      const ports = opt(3);
      const pps = opt(4);
      return {
        kind: k,
        at,
        src: f[1] ?? '',
        dst: f[2] ?? '',
        ...(ports !== undefined ? { ports: num(k, 'PORTS', ports, { integer: true, min: 1, max: 65535 }) } : {}),
        ...(pps !== undefined ? { pps: num(k, 'PPS', pps, { integer: false, min: 0.01, max: 1e7 }) } : {}),
      };
    }
    case 'sweep': {
      const hosts = opt(3);
      const pps = opt(4);
      return {
        kind: k,
        at,
        src: f[1] ?? '',
        port: num(k, 'PORT', f[2], { integer: true, min: 1, max: 65535 }),
        ...(hosts !== undefined ? { hosts: num(k, 'HOSTS', hosts, { integer: true, min: 1 }) } : {}),
        ...(pps !== undefined ? { pps: num(k, 'PPS', pps, { integer: false, min: 0.01, max: 1e7 }) } : {}),
      };
    }
    case 'syn-flood': {
      const secs = opt(3);
      const port = opt(4);
      return {
        kind: k,
        at,
        dst: f[1] ?? '',
        pps: num(k, 'PPS', f[2], { integer: false, min: 0.01, max: 1e7 }),
        ...(secs !== undefined ? { seconds: num(k, 'SECONDS', secs, { integer: true, min: 1 }) } : {}),
        ...(port !== undefined ? { port: num(k, 'PORT', port, { integer: true, min: 1, max: 65535 }) } : {}),
      };
    }
    case 'silence':
      return { kind: k, at, seconds: num(k, 'SECONDS', f[1], { integer: true, min: 1 }) };
  }
}

/**
 * Check a specification given through the library API (the command line's text form is
 * checked while parsing): the same ranges as parseAnomaly, as ERR_BAD_OPTION.
 */
export function checkAnomaly(a: AnomalySpec): void {
  const kind = a.kind;
  if (!(ANOMALY_KINDS as readonly string[]).includes(kind)) {
    throw bad(`unknown anomaly kind "${String(kind)}": use one of ${ANOMALY_KINDS.join(', ')}`);
  }
  const n = (name: string, v: number | undefined, o: { integer: boolean; min: number; max?: number }): void => {
    if (v !== undefined) num(kind, name, String(v), o);
  };
  const host = (name: string, v: unknown): void => {
    if (typeof v !== 'string' || v === '') throw bad(`--${kind}: ${name} must be a host number or an address`);
  };
  n('T (seconds from the start)', a.at, { integer: true, min: 0 });
  switch (a.kind) {
    case 'burst':
      host('HOST', a.host);
      n('FACTOR', a.factor, { integer: false, min: 1.01, max: 1e6 });
      n('SECONDS', a.seconds, { integer: true, min: 1 });
      return;
    case 'new-host':
      if (a.host !== undefined) host('ADDR', a.host);
      n('PPS', a.pps, { integer: false, min: 0.01, max: 1e7 });
      n('SECONDS', a.seconds, { integer: true, min: 1 });
      return;
    case 'port-scan':
      host('SRC', a.src);
      host('DST', a.dst);
      n('PORTS', a.ports, { integer: true, min: 1, max: 65535 });
      n('PPS', a.pps, { integer: false, min: 0.01, max: 1e7 });
      return;
    case 'sweep':
      host('SRC', a.src);
      n('PORT', a.port, { integer: true, min: 1, max: 65535 });
      n('HOSTS', a.hosts, { integer: true, min: 1 });
      n('PPS', a.pps, { integer: false, min: 0.01, max: 1e7 });
      return;
    case 'syn-flood':
      host('DST', a.dst);
      n('PPS', a.pps, { integer: false, min: 0.01, max: 1e7 });
      n('SECONDS', a.seconds, { integer: true, min: 1 });
      n('PORT', a.port, { integer: true, min: 1, max: 65535 });
      return;
    case 'silence':
      n('SECONDS', a.seconds, { integer: true, min: 1 });
  }
}

/** Something that emits packets of one kind, a known number in each second. */
export interface PacketSourceSpec {
  /** Packets in each second of the capture (index 0 = the first second). */
  readonly counts: Float64Array;
  /** Called before the first packet of second s. */
  beginSecond(s: number): void;
  next(p: PacketSpec): void;
}

const F = { SYN: 0x02, RST: 0x04, ACK: 0x10 } as const;

/** Per-second counts from a constant rate over [from, to) seconds: cumulative, whole. */
export function constantRate(seconds: number, from: number, to: number, pps: number): Float64Array {
  const out = new Float64Array(seconds);
  let prev = 0;
  for (let s = from; s < to && s < seconds; s++) {
    const upto = Math.floor((s - from + 1) * pps + 1e-9);
    out[s] = upto - prev;
    prev = upto;
  }
  return out;
}

/**
 * A TCP SYN probe run: a port scan (one target, many ports) or a sweep (many targets,
 * one port). A closed port answers RST/ACK; an open one SYN/ACK, which the prober resets.
 */
export class ProbeSource implements PacketSourceSpec {
  readonly counts: Float64Array;
  /** 1 for each probe sent: those that fell in silent seconds are dropped, not shifted. */
  readonly sent: Uint8Array;
  private readonly first: Float64Array;
  private readonly hosts: HostTable;
  private readonly rng: Prng;
  private readonly prober: number;
  private readonly target: Int32Array;
  private readonly port: Uint16Array;
  private readonly open: Uint8Array;
  private readonly sport: number;
  private cursor = 0;
  private phase = 0;
  private seq = 0;
  private reply = 0;

  constructor(seconds: number, from: number, pps: number, prober: number, targets: Int32Array, ports: Uint16Array, open: Uint8Array, hosts: HostTable, rng: Prng, silent: Uint8Array) {
    this.hosts = hosts;
    this.rng = rng;
    this.prober = prober;
    this.target = targets;
    this.port = ports;
    this.open = open;
    this.sport = 32768 + rng.int(28232);
    const n = targets.length;
    const end = from + Math.ceil(n / pps - 1e-9);
    const probes = constantRate(seconds, from, end, pps);
    this.counts = new Float64Array(seconds);
    this.sent = new Uint8Array(n);
    this.first = new Float64Array(seconds);
    let p = 0;
    for (let s = 0; s < seconds; s++) {
      this.first[s] = p;
      const k = Math.min(probes[s] ?? 0, n - p);
      let c = 0;
      for (let i = p; i < p + k; i++) c += this.open[i] === 1 ? 3 : 2;
      if (silent[s] !== 1) this.sent.fill(1, p, p + k);
      this.counts[s] = silent[s] === 1 ? 0 : c;
      p += k;
    }
  }

  beginSecond(s: number): void {
    this.cursor = this.first[s] ?? 0;
    this.phase = 0;
  }

  next(p: PacketSpec): void {
    const i = this.cursor;
    const h = this.hosts;
    const t = this.target[i] ?? 0;
    const port = this.port[i] ?? 0;
    const open = this.open[i] === 1;
    p.kind = KIND.tcp;
    p.family = h.family[this.prober] ?? 4;
    // The tag of the segment the pool host sits on.
    p.vlan = t < h.pool ? (h.vlan[t] ?? -1) : this.prober < h.pool ? (h.vlan[this.prober] ?? -1) : -1;
    p.payload = 0;
    p.mss = 0;
    if (this.phase === 0) {
      this.seq = this.rng.u32();
      h.setSource(p, this.prober);
      h.setDestination(p, t);
      p.sport = this.sport;
      p.dport = port;
      p.flags = F.SYN;
      p.seq = this.seq;
      p.ack = 0;
      p.win = 1024;
      p.mss = 1460;
      this.phase = 1;
    } else if (this.phase === 1) {
      h.setSource(p, t);
      h.setDestination(p, this.prober);
      p.sport = port;
      p.dport = this.sport;
      p.ack = (this.seq + 1) % 4294967296;
      if (open) {
        this.reply = this.rng.u32();
        p.flags = F.SYN | F.ACK;
        p.seq = this.reply;
        p.win = 65160;
        p.mss = p.family === 6 ? 1440 : 1460;
        this.phase = 2;
      } else {
        p.flags = F.RST | F.ACK;
        p.seq = 0;
        p.win = 0;
        this.phase = 0;
        this.cursor = i + 1;
      }
    } else {
      h.setSource(p, this.prober);
      h.setDestination(p, t);
      p.sport = this.sport;
      p.dport = port;
      p.flags = F.RST;
      p.seq = (this.seq + 1) % 4294967296;
      p.ack = 0;
      p.win = 0;
      this.phase = 0;
      this.cursor = i + 1;
    }
  }
}

/** Host ids the truth counter gives to spoofed sources (listed from the spoof log). */
export const SPOOFED_V4 = -2;
export const SPOOFED_V6 = -3;

/** First octets and prefixes a spoofed IPv4 source never uses (private, loopback, multicast, ...). */
function reservedV4(a: number): boolean {
  const o1 = a >>> 24;
  const o2 = (a >>> 16) & 255;
  if (o1 === 0 || o1 === 10 || o1 === 127 || o1 >= 224) return true;
  if (o1 === 100 && (o2 & 0xc0) === 64) return true;
  if (o1 === 169 && o2 === 254) return true;
  if (o1 === 172 && (o2 & 0xf0) === 16) return true;
  if (o1 === 192 && (o2 === 168 || (o2 === 0 && ((a >>> 8) & 255) <= 2))) return true;
  if (o1 === 198 && (o2 === 18 || o2 === 19 || (o2 === 51 && ((a >>> 8) & 255) === 100))) return true;
  if (o1 === 203 && o2 === 0 && ((a >>> 8) & 255) === 113) return true;
  return false;
}

/**
 * Distinct spoofed source addresses: a bijective scramble of a counter, so no two floods
 * and no two packets share a source, and the truth file can list them again afterwards.
 */
export class Spoofer {
  private c4 = 0;
  private c6 = 0;
  private readonly key: number;

  constructor(key: number) {
    this.key = key >>> 0;
  }

  nextV4(): number {
    for (;;) {
      const a = scramble32(this.c4++, this.key);
      if (!reservedV4(a)) return a;
    }
  }

  /** 2001:db8:f100::/48 (the documentation prefix) with a scrambled low word. */
  nextV6(out: Uint32Array): void {
    out[0] = 0x20010db8;
    out[1] = 0xf1000000;
    out[2] = 0;
    out[3] = scramble32(this.c6++, this.key);
  }
}

/** Spoofed-source SYNs to one destination; nobody completes a handshake. */
export class FloodSource implements PacketSourceSpec {
  readonly counts: Float64Array;
  private readonly hosts: HostTable;
  private readonly rng: Prng;
  private readonly dst: number;
  private readonly port: number;
  private readonly spoofer: Spoofer;

  constructor(counts: Float64Array, dst: number, port: number, hosts: HostTable, rng: Prng, spoofer: Spoofer) {
    this.counts = counts;
    this.hosts = hosts;
    this.rng = rng;
    this.dst = dst;
    this.port = port;
    this.spoofer = spoofer;
  }

  beginSecond(): void {}

  next(p: PacketSpec): void {
    const h = this.hosts;
    const rng = this.rng;
    p.kind = KIND.tcp;
    p.family = h.family[this.dst] ?? 4;
    p.vlan = this.dst < h.pool ? (h.vlan[this.dst] ?? -1) : -1;
    h.setDestination(p, this.dst);
    p.srcMac = 0; // through the router
    if (p.family === 6) {
      this.spoofer.nextV6(p.src6);
      p.srcHost = SPOOFED_V6;
    } else {
      p.src4 = this.spoofer.nextV4();
      p.srcHost = SPOOFED_V4;
    }
    p.ttl = 40 + rng.int(200);
    p.sport = 1024 + rng.int(64512);
    p.dport = this.port;
    p.flags = F.SYN;
    p.seq = rng.u32();
    p.ack = 0;
    p.win = rng.float() < 0.5 ? 512 : 65535;
    p.mss = 0;
    p.payload = 0;
  }
}
