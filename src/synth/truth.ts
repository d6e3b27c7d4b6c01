// The truth file of a synthetic capture (owned by synth): what was written, counted the
// way the analyzer counts (epoch seconds, wire bytes, hosts by the outermost IP header),
// so a replay can be compared with it exactly. Format documented in README "Synthetic captures".

import { closeSync, openSync, writeSync } from 'node:fs';
import { AnalyzerError } from '../errors.js';
import { formatIPv4, formatIPv6 } from './addr.js';
import { SPOOFED_V4, SPOOFED_V6, Spoofer } from './anomalies.js';
import { KIND, type PacketSpec } from './frames.js';
import type { HostTable } from './hosts.js';

export const TRUTH_FORMAT = 'netpulse-synth-truth' as const;
export const TRUTH_VERSION = 1 as const;

export interface Traffic {
  packets: number;
  bytes: number;
}

export interface TruthHost {
  addr: string;
  tx: Traffic;
  rx: Traffic;
}

export interface TruthSecond {
  ts: number;
  packets: number;
  bytes: number;
}

export interface MeanStdev {
  mean: number;
  stdev: number;
}

export interface TruthAnomaly {
  kind: string;
  /** Epoch seconds: the first second with anomalous traffic, and the second after the last. */
  start: number;
  end: number;
  /** Hosts involved (for a sweep the prober; its targets are in `targets`). */
  hosts: string[];
  /** The kind's strength: burst factor, packets/s, ports, targets or seconds (see `unit`). */
  intensity: number;
  unit: string;
  /** The specification as given, with defaults filled in. */
  params: Record<string, number | string>;
  /** Packets and bytes this anomaly added (0 for a silence). */
  packets: number;
  bytes: number;
  targets?: string[];
  spoofedSources?: number;
  /** Whose per-second traffic the anomaly changes, and how it compares with normal seconds. */
  subject: string;
  /** Per-second packets and bytes of the subject outside every anomaly window. */
  baseline: { packetsPerSec: MeanStdev; bytesPerSec: MeanStdev };
  /** Mean per-second packets and bytes of the subject inside this anomaly's window. */
  observed: { packetsPerSec: number; bytesPerSec: number };
  /** (observed - baseline mean) / baseline stdev; null when the baseline does not vary. */
  sigma: { packets: number | null; bytes: number | null };
}

export interface Truth {
  format: typeof TRUTH_FORMAT;
  version: typeof TRUTH_VERSION;
  /** Every generation parameter, defaults included: the same params give the same file. */
  params: Record<string, unknown>;
  file: {
    path: string | null;
    format: 'pcap' | 'pcapng';
    resolution: 'us' | 'ns';
    byteOrder: 'le' | 'be';
    gzip: boolean;
    linktype: number;
    snaplen: number;
    /** Size of the capture before compression. */
    bytes: number;
  };
  packets: number;
  /** Wire bytes. */
  bytes: number;
  capturedBytes: number;
  /** First and last packet times, epoch seconds with the file's resolution (null if empty). */
  firstTs: number | null;
  lastTs: number | null;
  /** Frames by what they carry (each frame once per line that applies). */
  frames: Record<string, number>;
  anomalies: TruthAnomaly[];
  /** Every second of the capture window, zero seconds included. */
  seconds: TruthSecond[];
  /** Every address that sent or received a packet; order unspecified. */
  hosts: TruthHost[];
}

/** Per-packet accounting while generating (typed arrays only, no allocation). */
export class TruthCounter {
  readonly secPackets: Float64Array;
  readonly secBytes: Float64Array;
  readonly txP: Float64Array;
  readonly txB: Float64Array;
  readonly rxP: Float64Array;
  readonly rxB: Float64Array;
  /**
   * Wire sizes of the packets from spoofed sources, in emission order, per family, for
   * listing them as hosts; capacity 0 when they are not listed (nothing is kept).
   */
  readonly spoof4: Uint16Array;
  readonly spoof6: Uint16Array;
  n4 = 0;
  n6 = 0;
  /** Subjects: hosts whose per-second traffic anomalies are measured against. */
  private readonly subjectOf: Int32Array;
  readonly subjPackets: Float64Array[] = [];
  readonly subjBytes: Float64Array[] = [];
  /** Frame classes: ipv4, ipv6, tcp, udp, icmp, icmpv6, arp, vlan. */
  readonly frames = new Float64Array(8);
  packets = 0;
  bytes = 0;
  captured = 0;
  firstSec = -1;
  firstNsec = 0;
  lastSec = -1;
  lastNsec = 0;

  constructor(seconds: number, hostCount: number, spoofCapacity4: number, spoofCapacity6: number) {
    this.secPackets = new Float64Array(seconds);
    this.secBytes = new Float64Array(seconds);
    this.txP = new Float64Array(hostCount);
    this.txB = new Float64Array(hostCount);
    this.rxP = new Float64Array(hostCount);
    this.rxB = new Float64Array(hostCount);
    this.spoof4 = new Uint16Array(spoofCapacity4);
    this.spoof6 = new Uint16Array(spoofCapacity6);
    this.subjectOf = new Int32Array(hostCount).fill(-1);
  }

  /** Track host `id`'s per-second traffic (tx + rx); returns the subject index. */
  track(id: number): number {
    const have = this.subjectOf[id] ?? -1;
    if (have >= 0) return have;
    const i = this.subjPackets.length;
    this.subjectOf[id] = i;
    this.subjPackets.push(new Float64Array(this.secPackets.length));
    this.subjBytes.push(new Float64Array(this.secPackets.length));
    return i;
  }

  count(s: number, sec: number, nsec: number, p: PacketSpec, wire: number, captured: number): void {
    this.packets++;
    this.bytes += wire;
    this.captured += captured;
    this.secPackets[s] = (this.secPackets[s] ?? 0) + 1;
    this.secBytes[s] = (this.secBytes[s] ?? 0) + wire;
    if (this.firstSec < 0) {
      this.firstSec = sec;
      this.firstNsec = nsec;
    }
    this.lastSec = sec;
    this.lastNsec = nsec;
    const f = this.frames;
    if (p.vlan >= 0) f[7] = (f[7] ?? 0) + 1;
    if (p.kind === KIND.arp) {
      f[6] = (f[6] ?? 0) + 1;
      return;
    }
    const v6 = p.family === 6;
    f[v6 ? 1 : 0] = (f[v6 ? 1 : 0] ?? 0) + 1;
    const l4 = p.kind === KIND.tcp ? 2 : p.kind === KIND.udp ? 3 : v6 ? 5 : 4;
    f[l4] = (f[l4] ?? 0) + 1;
    const src = p.srcHost;
    const dst = p.dstHost;
    if (src >= 0) {
      this.txP[src] = (this.txP[src] ?? 0) + 1;
      this.txB[src] = (this.txB[src] ?? 0) + wire;
      const j = this.subjectOf[src] ?? -1;
      if (j >= 0) this.subject(j, s, wire);
    } else if (src === SPOOFED_V4) {
      if (this.n4 < this.spoof4.length) this.spoof4[this.n4++] = wire;
    } else if (src === SPOOFED_V6) {
      if (this.n6 < this.spoof6.length) this.spoof6[this.n6++] = wire;
    }
    if (dst >= 0) {
      this.rxP[dst] = (this.rxP[dst] ?? 0) + 1;
      this.rxB[dst] = (this.rxB[dst] ?? 0) + wire;
      const j = this.subjectOf[dst] ?? -1;
      if (j >= 0 && dst !== src) this.subject(j, s, wire);
    }
  }

  private subject(j: number, s: number, wire: number): void {
    const sp = this.subjPackets[j];
    const sb = this.subjBytes[j];
    if (sp === undefined || sb === undefined) return;
    sp[s] = (sp[s] ?? 0) + 1;
    sb[s] = (sb[s] ?? 0) + wire;
  }
}

export const FRAME_CLASSES = ['ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'arp', 'vlan'] as const;

/**
 * Every host with traffic, one at a time (a million spoofed sources need no million
 * objects at once): pool hosts, spoofed sources (listed again from the same Spoofer
 * sequence), then named external hosts. A spoofed source that equals a named host is
 * counted with that host, once.
 */
export class HostLister {
  private readonly c: TruthCounter;
  private readonly hosts: HostTable;
  private readonly spoofKey: number;
  /** Emission indices of spoofed packets whose source is also a named host. */
  private readonly merged4 = new Set<number>();
  private readonly merged6 = new Set<number>();

  constructor(c: TruthCounter, hosts: HostTable, spoofKey: number) {
    this.c = c;
    this.hosts = hosts;
    this.spoofKey = spoofKey;
    const named4 = new Map<number, number>();
    const named6 = new Map<number, number>();
    for (let id = hosts.pool; id < hosts.count; id++) {
      if (hosts.family[id] === 4) named4.set(hosts.v4[id] ?? 0, id);
      else if (hosts.v6Word(id, 0) === 0x20010db8 && hosts.v6Word(id, 1) === 0xf1000000 && hosts.v6Word(id, 2) === 0) {
        named6.set(hosts.v6Word(id, 3), id);
      }
    }
    if (named4.size === 0 && named6.size === 0) return;
    const sp = new Spoofer(spoofKey);
    const w = new Uint32Array(4);
    for (let i = 0; i < c.n4; i++) {
      const id = named4.get(sp.nextV4());
      if (id === undefined) continue;
      this.merged4.add(i);
      c.txP[id] = (c.txP[id] ?? 0) + 1;
      c.txB[id] = (c.txB[id] ?? 0) + (c.spoof4[i] ?? 0);
    }
    for (let i = 0; i < c.n6; i++) {
      sp.nextV6(w);
      const id = named6.get(w[3] ?? 0);
      if (id === undefined) continue;
      this.merged6.add(i);
      c.txP[id] = (c.txP[id] ?? 0) + 1;
      c.txB[id] = (c.txB[id] ?? 0) + (c.spoof6[i] ?? 0);
    }
  }

  forEach(emit: (h: TruthHost) => void): void {
    const { c, hosts } = this;
    const one = (id: number): void => {
      const tp = c.txP[id] ?? 0;
      const rp = c.rxP[id] ?? 0;
      if (tp === 0 && rp === 0) return;
      emit({ addr: hosts.text(id), tx: { packets: tp, bytes: c.txB[id] ?? 0 }, rx: { packets: rp, bytes: c.rxB[id] ?? 0 } });
    };
    for (let id = 0; id < hosts.pool; id++) one(id);
    const sp = new Spoofer(this.spoofKey);
    for (let i = 0; i < c.n4; i++) {
      const a = sp.nextV4();
      if (!this.merged4.has(i)) emit({ addr: formatIPv4(a), tx: { packets: 1, bytes: c.spoof4[i] ?? 0 }, rx: { packets: 0, bytes: 0 } });
    }
    const w = new Uint32Array(4);
    for (let i = 0; i < c.n6; i++) {
      sp.nextV6(w);
      if (!this.merged6.has(i)) {
        emit({ addr: formatIPv6(w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 0), tx: { packets: 1, bytes: c.spoof6[i] ?? 0 }, rx: { packets: 0, bytes: 0 } });
      }
    }
    for (let id = hosts.pool; id < hosts.count; id++) one(id);
  }
}

/** Mean and population standard deviation of xs[i] for i where include[i] is 1. */
export function meanStdev(xs: Float64Array, include: Uint8Array): MeanStdev {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    if (include[i] !== 1) continue;
    n++;
    sum += xs[i] ?? 0;
  }
  if (n === 0) return { mean: 0, stdev: 0 };
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) {
    if (include[i] !== 1) continue;
    const d = (xs[i] ?? 0) - mean;
    ss += d * d;
  }
  return { mean, stdev: Math.sqrt(ss / n) };
}

/**
 * Write the truth as JSON: the small parts pretty-printed, then one line per second and
 * one per host, streamed in pieces so a million hosts never make one giant string.
 * `t.hosts` is ignored: the hosts come from `eachHost`.
 */
export function writeTruthFile(path: string, t: Truth, eachHost: (emit: (h: TruthHost) => void) => void): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new AnalyzerError('ERR_OUTPUT', `cannot create the truth file: ${e instanceof Error ? e.message : String(e)}; choose another path with --truth`, {
      subject: path,
      cause: e,
    });
  }
  try {
    const { seconds, hosts: _unused, ...head } = t;
    const headText = JSON.stringify(head, null, 2);
    const pieces: string[] = [];
    const put = (s: string): void => {
      pieces.push(s);
      if (pieces.length >= 4096) {
        writeSync(fd, pieces.join(''));
        pieces.length = 0;
      }
    };
    // Reopen the top-level object to append the two long arrays.
    put(`${headText.slice(0, headText.lastIndexOf('}')).trimEnd()},\n  "seconds": [\n`);
    seconds.forEach((s, i) => put(`    ${JSON.stringify(s)}${i + 1 < seconds.length ? ',' : ''}\n`));
    put('  ],\n  "hosts": [');
    let first = true;
    eachHost((h) => {
      put(`${first ? '\n' : ',\n'}    ${JSON.stringify(h)}`);
      first = false;
    });
    put(first ? ']\n}\n' : '\n  ]\n}\n');
    writeSync(fd, pieces.join(''));
  } catch (e) {
    throw new AnalyzerError('ERR_OUTPUT', `cannot write the truth file: ${e instanceof Error ? e.message : String(e)}`, { subject: path, cause: e });
  } finally {
    closeSync(fd);
  }
}
