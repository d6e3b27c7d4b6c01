// Detector and alert settings: the types, the documented defaults (README "Detectors and
// alerts" lists each one), and the validation of a JSON config file, where an unknown key
// or a bad value is a one-line ConfigError naming the key.

import { ConfigError } from '../errors.js';
import type { Severity } from './alert.js';
import { CidrSet, DEFAULT_LOCAL_NETS, formatIpv6At, parseAddr, parseCidr } from './addr.js';
import { parseByteRate, parseCountRate, parseDuration, parseInteger, parseNumber } from './units.js';

/** How one detector's conditions become alerts (see lifecycle.ts). */
export interface LifecycleConfig {
  enabled: boolean;
  /** Consecutive anomalous seconds before a condition is raised. */
  raiseAfter: number;
  /** Consecutive normal seconds before a raised condition is resolved. */
  resolveAfter: number;
  /** Seconds after a resolve during which the same condition (same key) is not raised again. */
  suppress: number;
  severity: Severity;
}

/** Per-second limits for one host; null = no limit. */
export interface HostLimits {
  txBytes: number | null;
  rxBytes: number | null;
  txPackets: number | null;
  rxPackets: number | null;
}

export interface HostLimitRule {
  /** The address or CIDR as written. */
  readonly match: string;
  readonly nets: CidrSet;
  /** Limits for matching hosts; fields left undefined fall back to a wider rule's, then the generic host limits. */
  readonly limits: Partial<HostLimits>;
}

export interface ThresholdConfig extends LifecycleConfig {
  /** Whole-capture limits per second; null = off. */
  global: { bytes: number | null; packets: number | null };
  /** Limits for every host. */
  host: HostLimits;
  /** Limits for particular hosts or networks, over `host`: the most specific network holding a
   *  host wins, its unset limits from the networks around it (see ThresholdDetector). */
  hosts: HostLimitRule[];
}

export type BaselineMethod = 'mean' | 'median';

export interface ZscoreConfig extends LifecycleConfig {
  /** |z| at or above which a second is anomalous. */
  threshold: number;
  /** Samples (seconds) in the rolling baseline. */
  window: number;
  /** Samples needed before anything is scored. */
  warmup: number;
  /** mean/stdev, or the robust median and MAD (scaled by 1.4826 to estimate a stdev). */
  method: BaselineMethod;
  /** Spikes only ('up'), or drops too ('both'). */
  direction: 'up' | 'both';
  /** Global series: the stdev used is at least max(relative * |baseline|, the metric's absolute floor). */
  floor: StdevFloor;
  /** Global bytes/s and packets/s series. */
  global: boolean;
  /** Per-host series (tx + rx) for the hosts listed in each summary, in bounded memory. */
  hosts: {
    enabled: boolean;
    max: number;
    /** packets/s (default: one host's bytes are far heavier-tailed than its packets) or bytes/s. */
    metric: 'packets' | 'bytes';
    floor: StdevFloor;
    /** Divide a host's value by how far all traffic is above its usual level (when it is). */
    normalize: boolean;
    /** Page's one-sided CUSUM on each host's z: a sustained excess of a few sigma. */
    cusum: CusumConfig;
  };
}

/**
 * Per host, S = min(h + k, max(0, S + min(z, clip) - k)) each second (cusumStep); a second
 * is anomalous while S >= h. k and clip are in sigma of the host's own baseline, h in
 * sigma-seconds. Defaults from the labelled evaluation (README "How well they work").
 */
export interface CusumConfig {
  enabled: boolean;
  /** Allowance: the excess per second (sigma) that is not evidence. */
  k: number;
  /** Decision interval: the accumulated excess (sigma-seconds) that is. */
  h: number;
  /** A second adds at most clip - k: one heavy second cannot reach h alone. */
  clip: number;
}

export interface StdevFloor {
  relative: number;
  bytes: number;
  packets: number;
}

export interface NewHostConfig extends LifecycleConfig {
  /** Seconds of capture time during which every host seen is learned, not alerted. */
  learn: number;
  /** File of known hosts, one per line; read at start, appended as hosts are learned. */
  knownHosts: string | null;
  /** The file's hosts as already read at start (the detector thread gets them from the
   *  main thread instead of reading the file a second time, later). */
  knownList?: readonly string[];
  /** With knownList: the earliest second the file says a host was learned (see KnownHosts). */
  knownFirst?: number | null;
  /** Only hosts inside these networks are tracked. */
  localNets: CidrSet;
  /** Most hosts remembered (the file and memory stay bounded). */
  max: number;
}

export interface PortScanConfig extends LifecycleConfig {
  /** Distinct unanswered ports on one host from one source, within the window. */
  ports: number;
  /** Distinct unanswered hosts on one port (or ARP) from one source, within the window. */
  hosts: number;
  /** Seconds over which attempts are counted (two rotating halves of this length). */
  window: number;
  /** Attempt-table slots (fixed memory, about 60 bytes a slot in all); attempts at
   *  services that answered are not tracked, so this bounds unanswered attempts. */
  tableSize: number;
}

export interface SynFloodConfig extends LifecycleConfig {
  /** SYNs per second to one host below which nothing is judged. */
  minRate: number;
  /** SYNs per completed handshake at or above which the host is flooded. */
  ratio: number;
  /** Half-open connection slots. */
  tableSize: number;
}

export interface RiskyService {
  readonly name: string;
  readonly weight: number;
}

export interface RiskyServicesConfig extends LifecycleConfig {
  /** Score (0-100) at or above which a host is alerted. */
  alertScore: number;
  /** Seconds a service stays in a host's score after it was last seen. */
  window: number;
  /** Weight of a service a host only uses (as a client), relative to serving it. */
  usedFactor: number;
  /** "PORT/tcp" or "PORT/udp" -> service; defaults merged with the config's table. */
  ports: Map<string, RiskyService>;
  maxHosts: number;
}

export interface SilenceConfig extends LifecycleConfig {
  /** Silent seconds before raising; 'auto' derives it from the traffic rate seen. */
  seconds: number | 'auto';
  /** Bounds of the automatic value. */
  minSeconds: number;
  maxSeconds: number;
}

export interface DetectConfig {
  threshold: ThresholdConfig;
  zscore: ZscoreConfig;
  newHost: NewHostConfig;
  portScan: PortScanConfig;
  synFlood: SynFloodConfig;
  riskyServices: RiskyServicesConfig;
  silence: SilenceConfig;
  /** Hosts and networks never alerted about. */
  allow: CidrSet;
  /** At most `max` raises per `per` seconds over all detectors; the excess is rolled up. */
  rateLimit: { max: number; per: number };
  /** Conditions tracked per detector at most (raised or pending). */
  maxOpen: number;
}

export interface HttpSinkConfig {
  url: string;
  /** Per request, milliseconds. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Alerts waiting at most; the oldest are dropped (and counted) beyond. */
  queue: number;
}

export interface AlertSinkConfig {
  /** Alert lines on stderr as they happen. */
  console: boolean;
  /** NDJSON file appended with every alert. */
  file: string | null;
  webhook: HttpSinkConfig | null;
  alertmanager: (HttpSinkConfig & { resendSeconds: number }) | null;
  /** Sensor name for Alertmanager labels and webhook text. */
  sensor: string;
}

/** Names as used in alerts, `--detectors` and config files. */
export const DETECTOR_NAMES = [
  'threshold',
  'zscore',
  'new-host',
  'port-scan',
  'syn-flood',
  'risky-services',
  'silence',
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

type DetectorKey = 'threshold' | 'zscore' | 'newHost' | 'portScan' | 'synFlood' | 'riskyServices' | 'silence';

export const DETECTOR_KEYS: Record<DetectorName, DetectorKey> = {
  threshold: 'threshold',
  zscore: 'zscore',
  'new-host': 'newHost',
  'port-scan': 'portScan',
  'syn-flood': 'synFlood',
  'risky-services': 'riskyServices',
  silence: 'silence',
};

/** The default risky-service table: [port/proto, name, weight 0-100]. Serving counts in full. */
export const DEFAULT_RISKY_PORTS: readonly (readonly [string, string, number])[] = [
  ['23/tcp', 'telnet', 50],
  ['2323/tcp', 'telnet-alt', 50],
  ['512/tcp', 'rexec', 50],
  ['513/tcp', 'rlogin', 50],
  ['514/tcp', 'rsh', 50],
  ['2375/tcp', 'docker-api', 60],
  ['21/tcp', 'ftp', 30],
  ['69/udp', 'tftp', 30],
  ['445/tcp', 'smb', 20],
  ['139/tcp', 'netbios-ssn', 15],
  ['137/udp', 'netbios-ns', 10],
  ['3389/tcp', 'rdp', 25],
  ['5900/tcp', 'vnc', 30],
  ['6000/tcp', 'x11', 30],
  ['161/udp', 'snmp', 20],
  ['623/udp', 'ipmi', 40],
  ['111/tcp', 'rpcbind', 20],
  ['111/udp', 'rpcbind', 20],
  ['2049/tcp', 'nfs', 15],
  ['389/tcp', 'ldap', 15],
  ['1433/tcp', 'mssql', 15],
  ['3306/tcp', 'mysql', 15],
  ['5432/tcp', 'postgresql', 10],
  ['6379/tcp', 'redis', 30],
  ['11211/tcp', 'memcached', 30],
  ['11211/udp', 'memcached', 40],
  ['27017/tcp', 'mongodb', 30],
  ['9200/tcp', 'elasticsearch', 25],
  ['502/tcp', 'modbus', 30],
  ['47808/udp', 'bacnet', 20],
  ['1900/udp', 'ssdp', 10],
];

export function defaultRiskyPorts(): Map<string, RiskyService> {
  return new Map(DEFAULT_RISKY_PORTS.map(([k, name, weight]) => [k, { name, weight }]));
}

export function defaultDetectConfig(): DetectConfig {
  return {
    threshold: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 5,
      suppress: 60,
      severity: 'warning',
      global: { bytes: null, packets: null },
      host: { txBytes: 12_500_000, rxBytes: 12_500_000, txPackets: 20_000, rxPackets: 20_000 },
      hosts: [],
    },
    zscore: {
      enabled: true,
      raiseAfter: 3,
      resolveAfter: 5,
      suppress: 60,
      severity: 'warning',
      threshold: 6,
      window: 300,
      warmup: 60,
      method: 'mean',
      direction: 'up',
      floor: { relative: 0.1, bytes: 1000, packets: 10 },
      global: true,
      hosts: {
        enabled: true,
        max: 1000,
        metric: 'packets',
        floor: { relative: 0.5, bytes: 2000, packets: 3 },
        normalize: true,
        cusum: { enabled: true, k: 2, h: 15, clip: 4 },
      },
    },
    newHost: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 10,
      suppress: 0,
      severity: 'info',
      learn: 300,
      knownHosts: null,
      localNets: new CidrSet(DEFAULT_LOCAL_NETS, 'new-host.localNets'),
      max: 100_000,
    },
    portScan: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 5,
      suppress: 60,
      severity: 'warning',
      ports: 15,
      hosts: 25,
      window: 60,
      tableSize: 32_768,
    },
    synFlood: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 5,
      suppress: 60,
      severity: 'critical',
      minRate: 100,
      ratio: 10,
      tableSize: 16_384,
    },
    riskyServices: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 10,
      suppress: 600,
      severity: 'warning',
      alertScore: 80,
      window: 600,
      usedFactor: 0.5,
      ports: defaultRiskyPorts(),
      maxHosts: 4096,
    },
    silence: {
      enabled: true,
      raiseAfter: 1,
      resolveAfter: 1,
      suppress: 0,
      severity: 'critical',
      seconds: 'auto',
      minSeconds: 2,
      maxSeconds: 60,
    },
    allow: new CidrSet([], 'alerts.allow'),
    rateLimit: { max: 30, per: 60 },
    maxOpen: 10_000,
  };
}

export function defaultAlertSinkConfig(sensor: string): AlertSinkConfig {
  return { console: true, file: null, webhook: null, alertmanager: null, sensor };
}

export function defaultHttpSink(url: string): HttpSinkConfig {
  return { url, timeoutMs: 5000, retries: 3, queue: 1000 };
}

// ---------------------------------------------------------------------------------------
// Validation of a parsed JSON config file. `where` is the file name for messages.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ConfigReader {
  constructor(readonly where: string) {}

  fail(key: string, what: string): never {
    // the message names the file: as a subject too it would be printed twice
    throw new ConfigError(`${this.where}: "${key}" ${what}`);
  }

  obj(v: unknown, key: string, allowed: readonly string[]): Obj {
    if (!isObj(v)) this.fail(key, 'must be an object');
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        const path = key === '' ? k : `${key}.${k}`;
        this.fail(path, `is not a known setting (known here: ${allowed.join(', ')})`);
      }
    }
    return v;
  }

  bool(v: unknown, key: string): boolean {
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  int(v: unknown, key: string, min: number, max: number): number {
    const n = parseInteger(v, min, max);
    if (n === null) this.fail(key, `must be a whole number from ${min} to ${max}`);
    return n;
  }

  num(v: unknown, key: string, min: number, max: number): number {
    const n = parseNumber(v, min, max);
    if (n === null) this.fail(key, `must be a number from ${min} to ${max}`);
    return n;
  }

  duration(v: unknown, key: string): number {
    const n = parseDuration(v);
    if (n === null) this.fail(key, 'must be a duration in seconds (a number, or text like "90s", "5m", "1h")');
    return n;
  }

  byteRate(v: unknown, key: string): number | null {
    if (v === null || v === 'off') return null;
    const n = parseByteRate(v);
    if (n === null) this.fail(key, 'must be a rate in bytes/s (a number, or text like "1MB/s", "100Mbit/s"), or null');
    return n;
  }

  countRate(v: unknown, key: string): number | null {
    if (v === null || v === 'off') return null;
    const n = parseCountRate(v);
    if (n === null) this.fail(key, 'must be a rate per second (a number, or text like "10k/s"), or null');
    return n;
  }

  str(v: unknown, key: string): string {
    if (typeof v !== 'string' || v === '') this.fail(key, 'must be a non-empty string');
    return v;
  }

  strList(v: unknown, key: string): string[] {
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
      this.fail(key, 'must be a list of strings');
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, key: string, values: readonly T[]): T {
    const hit = values.find((x) => x === v);
    if (hit === undefined) this.fail(key, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    return hit;
  }

  cidrs(v: unknown, key: string): CidrSet {
    return networks(this.strList(v, key), `${this.where}: "${key}"`);
  }
}

const LIFECYCLE_KEYS = ['enabled', 'raiseAfter', 'resolveAfter', 'suppress', 'severity'] as const;

function readLifecycle(r: ConfigReader, o: Obj, key: string, c: LifecycleConfig): void {
  if (o.enabled !== undefined) c.enabled = r.bool(o.enabled, `${key}.enabled`);
  if (o.raiseAfter !== undefined) c.raiseAfter = r.int(o.raiseAfter, `${key}.raiseAfter`, 1, 3600);
  if (o.resolveAfter !== undefined) c.resolveAfter = r.int(o.resolveAfter, `${key}.resolveAfter`, 1, 3600);
  if (o.suppress !== undefined) c.suppress = r.duration(o.suppress, `${key}.suppress`);
  if (o.severity !== undefined) c.severity = r.oneOf(o.severity, `${key}.severity`, ['info', 'warning', 'critical']);
}

const HOST_LIMIT_KEYS = ['txBytes', 'rxBytes', 'txPackets', 'rxPackets', 'bytes', 'packets'] as const;

/** Host limits; "bytes"/"packets" set both directions at once. */
function readHostLimits(r: ConfigReader, v: unknown, key: string): Partial<HostLimits> {
  const o = r.obj(v, key, HOST_LIMIT_KEYS);
  const out: Partial<HostLimits> = {};
  if (o.bytes !== undefined) out.txBytes = out.rxBytes = r.byteRate(o.bytes, `${key}.bytes`);
  if (o.packets !== undefined) out.txPackets = out.rxPackets = r.countRate(o.packets, `${key}.packets`);
  if (o.txBytes !== undefined) out.txBytes = r.byteRate(o.txBytes, `${key}.txBytes`);
  if (o.rxBytes !== undefined) out.rxBytes = r.byteRate(o.rxBytes, `${key}.rxBytes`);
  if (o.txPackets !== undefined) out.txPackets = r.countRate(o.txPackets, `${key}.txPackets`);
  if (o.rxPackets !== undefined) out.rxPackets = r.countRate(o.rxPackets, `${key}.rxPackets`);
  return out;
}

export function hostLimitRule(match: string, limits: Partial<HostLimits>, what: string): HostLimitRule {
  return { match, nets: networks([match], what), limits };
}

/**
 * A CidrSet of hosts and networks as a user wrote them, refusing a network with host bits
 * set ("10.0.0.5/8"): it was read as the whole 10.0.0.0/8, so an allow-list or a limit for
 * one host silently covered 16 million. libpcap (`net 10.0.0.5/8`) and Python's ipaddress
 * refuse it too. Throws ConfigError naming `what` (the option or key).
 */
export function networks(entries: readonly string[], what: string): CidrSet {
  for (const e of entries) {
    const slash = e.indexOf('/');
    const c = slash < 0 ? null : parseCidr(e);
    const a = c === null ? null : parseAddr(e.slice(0, slash).trim());
    if (c === null || a === null) continue; // CidrSet says what is wrong with it
    if (a.words.every((w, i) => w === c.words[i])) continue;
    const net = c.version === 4 ? v4Text(c.words[0] ?? 0) : formatIpv6At(c.words, 0);
    const host = c.version === 4 ? v4Text(a.words[0] ?? 0) : formatIpv6At(a.words, 0);
    throw new ConfigError(`${what}: "${e}" has host bits set: write the network as ${net}/${c.bits}, or the host alone as ${host}`);
  }
  return new CidrSet(entries, what);
}

function v4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function readThreshold(r: ConfigReader, v: unknown, c: ThresholdConfig): void {
  const o = r.obj(v, 'threshold', [...LIFECYCLE_KEYS, 'global', 'host', 'hosts']);
  readLifecycle(r, o, 'threshold', c);
  if (o.global !== undefined) {
    const g = r.obj(o.global, 'threshold.global', ['bytes', 'packets']);
    if (g.bytes !== undefined) c.global.bytes = r.byteRate(g.bytes, 'threshold.global.bytes');
    if (g.packets !== undefined) c.global.packets = r.countRate(g.packets, 'threshold.global.packets');
  }
  if (o.host !== undefined) Object.assign(c.host, readHostLimits(r, o.host, 'threshold.host'));
  if (o.hosts !== undefined) {
    if (!isObj(o.hosts)) r.fail('threshold.hosts', 'must be an object of "ADDRESS or CIDR": {limits}');
    for (const [match, lim] of Object.entries(o.hosts)) {
      const key = `threshold.hosts.${match}`;
      c.hosts.push(hostLimitRule(match, readHostLimits(r, lim, key), `${r.where}: "${key}"`));
    }
  }
}

function readZscore(r: ConfigReader, v: unknown, c: ZscoreConfig): void {
  const o = r.obj(v, 'zscore', [
    ...LIFECYCLE_KEYS,
    'threshold',
    'window',
    'warmup',
    'method',
    'direction',
    'floor',
    'global',
    'hosts',
  ]);
  readLifecycle(r, o, 'zscore', c);
  if (o.threshold !== undefined) c.threshold = r.num(o.threshold, 'zscore.threshold', 0.5, 1000);
  if (o.window !== undefined) c.window = r.int(o.window, 'zscore.window', 10, 86_400);
  if (o.warmup !== undefined) c.warmup = r.int(o.warmup, 'zscore.warmup', 2, 86_400);
  if (o.method !== undefined) c.method = r.oneOf(o.method, 'zscore.method', ['mean', 'median']);
  if (o.direction !== undefined) c.direction = r.oneOf(o.direction, 'zscore.direction', ['up', 'both']);
  if (o.floor !== undefined) readFloor(r, o.floor, 'zscore.floor', c.floor);
  if (o.global !== undefined) c.global = r.bool(o.global, 'zscore.global');
  if (o.hosts !== undefined) {
    const h = r.obj(o.hosts, 'zscore.hosts', ['enabled', 'max', 'metric', 'floor', 'normalize', 'cusum']);
    if (h.enabled !== undefined) c.hosts.enabled = r.bool(h.enabled, 'zscore.hosts.enabled');
    if (h.max !== undefined) c.hosts.max = r.int(h.max, 'zscore.hosts.max', 1, 100_000);
    if (h.metric !== undefined) c.hosts.metric = r.oneOf(h.metric, 'zscore.hosts.metric', ['packets', 'bytes']);
    if (h.floor !== undefined) readFloor(r, h.floor, 'zscore.hosts.floor', c.hosts.floor);
    if (h.normalize !== undefined) c.hosts.normalize = r.bool(h.normalize, 'zscore.hosts.normalize');
    if (h.cusum !== undefined) {
      const cu = r.obj(h.cusum, 'zscore.hosts.cusum', ['enabled', 'k', 'h', 'clip']);
      if (cu.enabled !== undefined) c.hosts.cusum.enabled = r.bool(cu.enabled, 'zscore.hosts.cusum.enabled');
      if (cu.k !== undefined) c.hosts.cusum.k = r.num(cu.k, 'zscore.hosts.cusum.k', 0, 100);
      if (cu.h !== undefined) c.hosts.cusum.h = r.num(cu.h, 'zscore.hosts.cusum.h', 0.1, 10_000);
      if (cu.clip !== undefined) c.hosts.cusum.clip = r.num(cu.clip, 'zscore.hosts.cusum.clip', 0, 1000);
      const { k, clip } = c.hosts.cusum;
      if (clip <= k) r.fail('zscore.hosts.cusum.clip', `(${clip}) must exceed zscore.hosts.cusum.k (${k}), or no second could add to the CUSUM`);
    }
  }
  if (c.warmup > c.window) r.fail('zscore.warmup', `(${c.warmup}) must not exceed zscore.window (${c.window})`);
}

function readFloor(r: ConfigReader, v: unknown, key: string, f: StdevFloor): void {
  const o = r.obj(v, key, ['relative', 'bytes', 'packets']);
  if (o.relative !== undefined) f.relative = r.num(o.relative, `${key}.relative`, 0, 10);
  if (o.bytes !== undefined) f.bytes = positiveFloor(r, r.byteRate(o.bytes, `${key}.bytes`), `${key}.bytes`);
  if (o.packets !== undefined) f.packets = positiveFloor(r, r.countRate(o.packets, `${key}.packets`), `${key}.packets`);
}

/** An absolute stdev floor is what keeps a flat baseline (stdev 0) from an infinite z: it
 *  cannot be 0 or off (z is a number in every alert, never Infinity or null). */
function positiveFloor(r: ConfigReader, v: number | null, key: string): number {
  if (v === null || !(v > 0)) r.fail(key, 'must be more than 0: a flat baseline (stdev 0) would give an infinite z');
  return v;
}

function readNewHost(r: ConfigReader, v: unknown, c: NewHostConfig): void {
  const o = r.obj(v, 'new-host', [...LIFECYCLE_KEYS, 'learn', 'knownHosts', 'localNets', 'max']);
  readLifecycle(r, o, 'new-host', c);
  if (o.learn !== undefined) c.learn = r.duration(o.learn, 'new-host.learn');
  if (o.knownHosts !== undefined) c.knownHosts = o.knownHosts === null ? null : r.str(o.knownHosts, 'new-host.knownHosts');
  if (o.localNets !== undefined) c.localNets = r.cidrs(o.localNets, 'new-host.localNets');
  if (o.max !== undefined) c.max = r.int(o.max, 'new-host.max', 1, 10_000_000);
}

function readPortScan(r: ConfigReader, v: unknown, c: PortScanConfig): void {
  const o = r.obj(v, 'port-scan', [...LIFECYCLE_KEYS, 'ports', 'hosts', 'window', 'tableSize']);
  readLifecycle(r, o, 'port-scan', c);
  if (o.ports !== undefined) c.ports = r.int(o.ports, 'port-scan.ports', 1, 65_536);
  if (o.hosts !== undefined) c.hosts = r.int(o.hosts, 'port-scan.hosts', 1, 1_000_000);
  if (o.window !== undefined) c.window = r.duration(o.window, 'port-scan.window');
  if (o.tableSize !== undefined) c.tableSize = r.int(o.tableSize, 'port-scan.tableSize', 1024, 1 << 24);
  if (c.window < 1) r.fail('port-scan.window', 'must be at least 1 second');
}

function readSynFlood(r: ConfigReader, v: unknown, c: SynFloodConfig): void {
  const o = r.obj(v, 'syn-flood', [...LIFECYCLE_KEYS, 'minRate', 'ratio', 'tableSize']);
  readLifecycle(r, o, 'syn-flood', c);
  if (o.minRate !== undefined) {
    // a rate, but no "off" (null): that was read as 0, judging every SYN a possible flood
    const n = o.minRate === null || o.minRate === 'off' ? null : parseCountRate(o.minRate);
    if (n === null || n < 1) r.fail('syn-flood.minRate', 'must be a rate of at least 1 SYN/s (a number, or text like "100/s")');
    c.minRate = n;
  }
  if (o.ratio !== undefined) c.ratio = r.num(o.ratio, 'syn-flood.ratio', 1, 1e9);
  if (o.tableSize !== undefined) c.tableSize = r.int(o.tableSize, 'syn-flood.tableSize', 1024, 1 << 24);
}

function readRisky(r: ConfigReader, v: unknown, c: RiskyServicesConfig): void {
  const o = r.obj(v, 'risky-services', [...LIFECYCLE_KEYS, 'alertScore', 'window', 'usedFactor', 'ports', 'maxHosts']);
  readLifecycle(r, o, 'risky-services', c);
  if (o.alertScore !== undefined) c.alertScore = r.num(o.alertScore, 'risky-services.alertScore', 1, 100);
  if (o.window !== undefined) c.window = r.duration(o.window, 'risky-services.window');
  if (o.usedFactor !== undefined) c.usedFactor = r.num(o.usedFactor, 'risky-services.usedFactor', 0, 1);
  if (o.maxHosts !== undefined) c.maxHosts = r.int(o.maxHosts, 'risky-services.maxHosts', 16, 1 << 22);
  if (o.ports !== undefined) {
    if (!isObj(o.ports)) r.fail('risky-services.ports', 'must be an object of "PORT/tcp" or "PORT/udp": {name, weight}');
    for (const [written, spec] of Object.entries(o.ports)) {
      const key = `risky-services.ports.${written}`;
      const m = /^(\d{1,5})\/(tcp|udp)$/.exec(written);
      if (m === null || Number(m[1]) > 65535) r.fail(key, 'must be named "PORT/tcp" or "PORT/udp" (e.g. "23/tcp")');
      // "023/tcp" is port 23: one entry per port, whatever the zeros
      const k = `${Number(m[1])}/${m[2]}`;
      if (spec === null) {
        c.ports.delete(k);
        continue;
      }
      const s = r.obj(spec, key, ['name', 'weight']);
      const weight = r.num(s.weight, `${key}.weight`, 0, 100);
      const name = s.name === undefined ? (c.ports.get(k)?.name ?? k) : r.str(s.name, `${key}.name`);
      if (weight === 0) c.ports.delete(k);
      else c.ports.set(k, { name, weight });
    }
  }
  if (new Set([...c.ports.values()].map((s) => s.name)).size > 64) {
    r.fail('risky-services.ports', 'names more than 64 distinct services');
  }
}

function readSilence(r: ConfigReader, v: unknown, c: SilenceConfig): void {
  const o = r.obj(v, 'silence', [...LIFECYCLE_KEYS, 'seconds', 'minSeconds', 'maxSeconds']);
  readLifecycle(r, o, 'silence', c);
  if (o.seconds !== undefined) c.seconds = o.seconds === 'auto' ? 'auto' : r.int(o.seconds, 'silence.seconds', 1, 86_400);
  if (o.minSeconds !== undefined) c.minSeconds = r.int(o.minSeconds, 'silence.minSeconds', 1, 86_400);
  if (o.maxSeconds !== undefined) c.maxSeconds = r.int(o.maxSeconds, 'silence.maxSeconds', 1, 86_400);
  if (c.minSeconds > c.maxSeconds) r.fail('silence.minSeconds', 'must not exceed silence.maxSeconds');
}

/** Longest webhook or Alertmanager timeout and resend interval (a Node timer holds 24.8 days). */
export const MAX_SINK_SECONDS = 86_400;

function readHttpSink(r: ConfigReader, v: unknown, key: string, extra: readonly string[]): HttpSinkConfig & Obj {
  if (typeof v === 'string') return { ...defaultHttpSink(checkUrl(r, v, key)) };
  const o = r.obj(v, key, ['url', 'timeout', 'retries', 'queue', ...extra]);
  const c = defaultHttpSink(checkUrl(r, o.url, `${key}.url`));
  if (o.timeout !== undefined) c.timeoutMs = Math.round(r.duration(o.timeout, `${key}.timeout`) * 1000);
  if (o.retries !== undefined) c.retries = r.int(o.retries, `${key}.retries`, 0, 20);
  if (o.queue !== undefined) c.queue = r.int(o.queue, `${key}.queue`, 1, 1_000_000);
  if (c.timeoutMs < 1) r.fail(`${key}.timeout`, 'must be at least 1 ms');
  // Node's timers hold at most 2^31 - 1 ms (24.8 days) and fire at once beyond: every
  // request then timed out after 1 ms
  if (c.timeoutMs > MAX_SINK_SECONDS * 1000) r.fail(`${key}.timeout`, `must be at most ${MAX_SINK_SECONDS} s (a day)`);
  return { ...o, ...c };
}

export function checkUrl(r: ConfigReader, v: unknown, key: string): string {
  const s = r.str(v, key);
  const problem = urlProblem(s);
  if (problem !== null) r.fail(key, problem);
  return s;
}

/** Why a sink URL is refused (null: fine), without echoing it (it may hold a password). */
export function urlProblem(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    const port = /^[a-z]+:\/\/[^/]*:(\d+)(?:[/?#]|$)/i.exec(s)?.[1];
    if (port !== undefined && Number(port) > 65535) return `has port ${port}: a port is a number from 1 to 65535`;
    return 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9093';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be an http:// or https:// URL, not ${u.protocol}`;
  if (u.username !== '' || u.password !== '') {
    return 'must not carry a user name or password (fetch refuses them, and they would be printed with errors); use a URL whose path holds the secret, as Slack webhooks do';
  }
  return null;
}

/** The URL with any user name and password replaced, for messages. */
export function redactUrl(s: string): string {
  try {
    const u = new URL(s);
    if (u.username === '' && u.password === '') return s;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    // not a URL, but it may still carry a password (a bad port, an unclosed bracket): never echo it
    return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  }
}

function readAlerts(r: ConfigReader, v: unknown, d: DetectConfig, s: AlertSinkConfig): void {
  const o = r.obj(v, 'alerts', ['allow', 'rateLimit', 'maxOpen', 'console', 'file', 'webhook', 'alertmanager', 'sensor']);
  if (o.allow !== undefined) d.allow = r.cidrs(o.allow, 'alerts.allow');
  if (o.rateLimit !== undefined) {
    const rl = r.obj(o.rateLimit, 'alerts.rateLimit', ['max', 'per']);
    if (rl.max !== undefined) d.rateLimit.max = r.int(rl.max, 'alerts.rateLimit.max', 1, MAX_RATE_LIMIT);
    if (rl.per !== undefined) d.rateLimit.per = r.duration(rl.per, 'alerts.rateLimit.per');
    if (d.rateLimit.per < 1) r.fail('alerts.rateLimit.per', 'must be at least 1 second');
  }
  if (o.maxOpen !== undefined) d.maxOpen = r.int(o.maxOpen, 'alerts.maxOpen', 1, 10_000_000);
  if (o.console !== undefined) s.console = r.bool(o.console, 'alerts.console');
  if (o.file !== undefined) s.file = o.file === null ? null : r.str(o.file, 'alerts.file');
  // null: the default, this machine's host name (as given to defaultAlertSinkConfig)
  if (o.sensor !== undefined && o.sensor !== null) {
    s.sensor = r.str(o.sensor, 'alerts.sensor');
    // as --sensor: a blank name would label every alert from nowhere
    if (s.sensor.trim() === '') r.fail('alerts.sensor', 'must not be blank');
  }
  if (o.webhook !== undefined) {
    s.webhook = o.webhook === null ? null : pickHttp(readHttpSink(r, o.webhook, 'alerts.webhook', []));
  }
  if (o.alertmanager !== undefined) {
    if (o.alertmanager === null) s.alertmanager = null;
    else {
      const h = readHttpSink(r, o.alertmanager, 'alerts.alertmanager', ['resend']);
      const resend = h.resend === undefined ? 60 : r.duration(h.resend, 'alerts.alertmanager.resend');
      if (resend < 1) r.fail('alerts.alertmanager.resend', 'must be at least 1 second');
      // beyond a timer's 24.8 days the interval fired every millisecond, flooding Alertmanager
      if (resend > MAX_SINK_SECONDS) r.fail('alerts.alertmanager.resend', `must be at most ${MAX_SINK_SECONDS} s (a day)`);
      s.alertmanager = { ...pickHttp(h), resendSeconds: resend };
    }
  }
}

function pickHttp(h: HttpSinkConfig): HttpSinkConfig {
  return { url: h.url, timeoutMs: h.timeoutMs, retries: h.retries, queue: h.queue };
}

/** Most raises per period in the global rate limit (file and --alert-rate alike). */
export const MAX_RATE_LIMIT = 1_000_000;

export const CONFIG_FILE_KEYS = [...DETECTOR_NAMES, 'alerts'] as const;

/**
 * Apply a parsed config file (`{"threshold": {...}, "zscore": {...}, ..., "alerts": {...}}`)
 * over the given settings, in place. Throws ConfigError naming the key on any bad input.
 */
export function applyConfigFile(json: unknown, where: string, d: DetectConfig, s: AlertSinkConfig): void {
  const r = new ConfigReader(where);
  if (!isObj(json)) {
    throw new ConfigError(`${where}: must hold one JSON object of settings, like {"zscore": {"threshold": 5}}, not ${Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`}`);
  }
  const o = r.obj(json, '', CONFIG_FILE_KEYS);
  if (o.threshold !== undefined) readThreshold(r, o.threshold, d.threshold);
  if (o.zscore !== undefined) readZscore(r, o.zscore, d.zscore);
  if (o['new-host'] !== undefined) readNewHost(r, o['new-host'], d.newHost);
  if (o['port-scan'] !== undefined) readPortScan(r, o['port-scan'], d.portScan);
  if (o['syn-flood'] !== undefined) readSynFlood(r, o['syn-flood'], d.synFlood);
  if (o['risky-services'] !== undefined) readRisky(r, o['risky-services'], d.riskyServices);
  if (o.silence !== undefined) readSilence(r, o.silence, d.silence);
  if (o.alerts !== undefined) readAlerts(r, o.alerts, d, s);
}
