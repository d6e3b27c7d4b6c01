// threshold detector: fixed per-second limits on the whole capture (bytes/s, packets/s)
// and on each host's tx and rx bytes/s and packets/s, with per-host or per-network
// overrides. Hosts come from the aggregator's view of every host of the second
// (SecondHosts), so a host over its limit alerts whether or not it is among the top hosts.
// Per host and second only numbers are compared: a host's rule is resolved once per
// (id, generation), and its address is formatted only when it breaks a limit. Owned by detect2.

import type { Gap, SecondHosts, SecondSummary } from '../aggregate/summary.js';
import type { Alert } from './alert.js';
import type { HostLimits, ThresholdConfig } from './config.js';
import type { Detector } from './detector.js';
import { parseCidr, type Cidr } from './addr.js';
import { ListedHosts } from './listed-hosts.js';
import type { Tracker } from './lifecycle.js';
import { formatValue } from './units.js';

type HostMetric = keyof HostLimits;

/** The four per-host checks, in the order of a host's limit row. */
const HOST_CHECKS: readonly { key: HostMetric; note: string; metric: string }[] = [
  { key: 'txBytes', note: 'Host_Tx_Bytes_Threshold', metric: 'bytes/s' },
  { key: 'rxBytes', note: 'Host_Rx_Bytes_Threshold', metric: 'bytes/s' },
  { key: 'txPackets', note: 'Host_Tx_Packets_Threshold', metric: 'packets/s' },
  { key: 'rxPackets', note: 'Host_Rx_Packets_Threshold', metric: 'packets/s' },
];

/** A value in full, with formatValue's unit spelling: "12500001 B/s", "20001 packets/s". */
function exactValue(value: number, metric: string): string {
  return metric.startsWith('bytes') ? `${value} B${metric.slice(5)}` : `${value} ${metric}`;
}

/** "No limit" in a limit row (every value compares below it). */
const NO_LIMIT = Infinity;

export class ThresholdDetector implements Detector {
  readonly name = 'threshold';
  private readonly anyHostLimit: boolean;
  /** Limit rows, 4 values each (HOST_CHECKS order): row 0 the generic limits, row r + 1 rule r's. */
  private readonly rows: Float64Array;
  /** Host id -> row + 1 for the generation in ruleGen (0: not resolved yet). */
  private rowOf = new Int32Array(1024);
  private ruleGen = new Float64Array(1024);
  /** Host id -> bits of the checks (HOST_CHECKS index) that may have an open condition. */
  private openBits = new Uint8Array(1024);
  /** Host id -> generation of the host the open bits belong to. */
  private openGen = new Float64Array(1024);
  /** Host id -> the last second it was looked at with open bits (for resolves of idle hosts). */
  private seenAt = new Float64Array(1024);
  /** Host id -> its address, for hosts with open bits (few). */
  private readonly openAddr = new Map<number, string>();
  private readonly listed = new ListedHosts();
  /** Each rule's network (prefix length in `bits`). */
  private readonly nets: readonly Cidr[];

  constructor(
    private readonly cfg: ThresholdConfig,
    private readonly tracker: Tracker,
  ) {
    const some = (l: Partial<HostLimits>): boolean => Object.values(l).some((v) => v !== null && v !== undefined);
    this.anyHostLimit = some(cfg.host) || cfg.hosts.some((r) => some(r.limits));
    this.nets = cfg.hosts.map((r) => {
      const c = parseCidr(r.match);
      if (c === null) throw new Error(`threshold: bad network ${r.match}`); // validated by CidrSet already
      return c;
    });
    this.rows = new Float64Array(4 * (cfg.hosts.length + 1));
    for (let r = 0; r <= cfg.hosts.length; r++) {
      const l = r === 0 ? cfg.host : this.limitsOfRule(r - 1);
      HOST_CHECKS.forEach((c, k) => (this.rows[r * 4 + k] = l[c.key] ?? NO_LIMIT));
    }
  }

  /** Whether rule q is at least as wide as rule r and holds r's network. */
  private contains(q: number, r: number): boolean {
    const a = this.nets[q];
    const b = this.nets[r];
    if (a === undefined || b === undefined || a.version !== b.version || a.bits > b.bits) return false;
    for (let i = 0; i < a.words.length; i++) {
      if ((((b.words[i] ?? 0) & (a.masks[i] ?? 0)) >>> 0) !== a.words[i]) return false;
    }
    return true;
  }

  /**
   * The limits of a host whose most specific rule is r: the generic limits, then every rule
   * whose network holds r's, widest first, each over the last (a /32 that sets only tx bytes
   * keeps its /16's packet limit). Of two rules for the same network the first listed wins.
   */
  private limitsOfRule(r: number): HostLimits {
    const l = { ...this.cfg.host };
    const chain: number[] = [];
    for (let q = 0; q < this.cfg.hosts.length; q++) if (this.contains(q, r)) chain.push(q);
    chain.sort((x, y) => (this.nets[x]?.bits ?? 0) - (this.nets[y]?.bits ?? 0) || y - x);
    for (const q of chain) {
      const rule = this.cfg.hosts[q];
      if (rule === undefined) continue;
      for (const [k, v] of Object.entries(rule.limits) as [HostMetric, number | null | undefined][]) {
        if (v !== undefined) l[k] = v;
      }
    }
    return l;
  }

  private check(ts: number, note: string, host: string | null, metric: string, value: number, limit: number | null): void {
    if (limit === null) return;
    if (value > limit) this.over(ts, note, host, metric, value, limit);
    else this.tracker.normal(note, host, value);
  }

  private over(ts: number, note: string, host: string | null, metric: string, value: number, limit: number): void {
    const who = host === null ? 'all traffic' : host;
    let v = formatValue(value, metric);
    let l = formatValue(limit, metric);
    if (v === l) {
      // Just over the limit: rounded alike, the two would read as equal.
      v = exactValue(value, metric);
      l = exactValue(limit, metric);
    }
    this.tracker.anomalous(ts, note, host, metric, {
      value,
      threshold: limit,
      baseline: null,
      message: `${who}: ${v} over the limit of ${l}`,
    });
  }

  private grow(id: number): void {
    let n = this.rowOf.length;
    while (n <= id) n *= 2;
    const r = new Int32Array(n);
    r.set(this.rowOf);
    this.rowOf = r;
    const g = new Float64Array(n);
    g.set(this.ruleGen);
    this.ruleGen = g;
    const b = new Uint8Array(n);
    b.set(this.openBits);
    this.openBits = b;
    const og = new Float64Array(n);
    og.set(this.openGen);
    this.openGen = og;
    const sa = new Float64Array(n);
    sa.set(this.seenAt);
    this.seenAt = sa;
  }

  /** Row offset of host i's limits (rules resolved once per id and generation). */
  private rowOfHost(hosts: SecondHosts, i: number, id: number, gen: number): number {
    if (this.cfg.hosts.length === 0) return 0;
    if (this.ruleGen[id] === gen && (this.rowOf[id] ?? 0) > 0) return ((this.rowOf[id] ?? 1) - 1) * 4;
    const addr = hosts.address(i);
    // The most specific network that holds the host (of equals, the first listed).
    let r = -1;
    for (let q = 0; q < this.cfg.hosts.length; q++) {
      if ((r < 0 || (this.nets[q]?.bits ?? 0) > (this.nets[r]?.bits ?? 0)) && this.cfg.hosts[q]?.nets.hasText(addr) === true) r = q;
    }
    this.rowOf[id] = r + 2; // row r + 1, stored + 1
    this.ruleGen[id] = gen;
    return (r + 1) * 4;
  }

  private observeHosts(ts: number, hosts: SecondHosts): void {
    const rows = this.rows;
    const n = hosts.count;
    for (let i = 0; i < n; i++) {
      const id = hosts.id(i);
      if (id < 0) continue;
      if (id >= this.rowOf.length) this.grow(id);
      const gen = hosts.generation(i);
      const o = this.rowOfHost(hosts, i, id, gen);
      let bits = this.openBits[id] ?? 0;
      if (bits !== 0 && this.openGen[id] !== gen) {
        // The id now names another host: the old one's conditions end by themselves.
        bits = 0;
        this.openAddr.delete(id);
      }
      // Same order as HOST_CHECKS.
      const v0 = hosts.txBytes(i);
      const v1 = hosts.rxBytes(i);
      const v2 = hosts.txPackets(i);
      const v3 = hosts.rxPackets(i);
      if (bits === 0 && v0 <= (rows[o] ?? NO_LIMIT) && v1 <= (rows[o + 1] ?? NO_LIMIT) && v2 <= (rows[o + 2] ?? NO_LIMIT) && v3 <= (rows[o + 3] ?? NO_LIMIT)) {
        continue; // the common case: under every limit, nothing open
      }
      let addr = this.openAddr.get(id);
      if (addr === undefined) {
        addr = hosts.address(i);
        this.openAddr.set(id, addr);
      }
      let nb = bits;
      for (let k = 0; k < 4; k++) {
        const v = k === 0 ? v0 : k === 1 ? v1 : k === 2 ? v2 : v3;
        const limit = rows[o + k] ?? NO_LIMIT;
        const c = HOST_CHECKS[k];
        if (c === undefined) continue;
        if (v > limit) {
          this.over(ts, c.note, addr, c.metric, v, limit);
          nb |= 1 << k;
        } else if ((bits & (1 << k)) !== 0) {
          this.tracker.normal(c.note, addr, v);
        }
      }
      this.openBits[id] = nb;
      this.openGen[id] = gen;
      this.seenAt[id] = ts;
    }
    // Hosts with open conditions and no traffic this second are at 0 (for the resolve).
    for (const [id, addr] of this.openAddr) {
      if (this.seenAt[id] === ts) continue;
      const bits = this.openBits[id] ?? 0;
      for (let k = 0; k < 4; k++) {
        const c = HOST_CHECKS[k];
        if ((bits & (1 << k)) !== 0 && c !== undefined) this.tracker.normal(c.note, addr, 0);
      }
    }
  }

  /** Forget open bits of hosts whose conditions the tracker no longer holds (after step). */
  private unflag(): void {
    for (const [id, addr] of this.openAddr) {
      let nb = this.openBits[id] ?? 0;
      for (let k = 0; k < 4; k++) {
        const c = HOST_CHECKS[k];
        if ((nb & (1 << k)) !== 0 && c !== undefined && !this.tracker.tracks(c.note, addr)) nb &= ~(1 << k);
      }
      this.openBits[id] = nb;
      if (nb === 0) this.openAddr.delete(id);
    }
  }

  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[] {
    const g = this.cfg.global;
    this.check(s.ts, 'Global_Bytes_Threshold', null, 'bytes/s', s.bytes, g.bytes);
    this.check(s.ts, 'Global_Packets_Threshold', null, 'packets/s', s.packets, g.packets);
    if (this.anyHostLimit) this.observeHosts(s.ts, hosts ?? this.listed.over(s.hosts));
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    this.unflag();
    return out;
  }

  /**
   * A run of empty seconds reported once (no summaries for them): seconds with no traffic,
   * every value 0. Stepped until every condition has had `resolveAfter` of them (later
   * seconds of the gap change nothing), so a limit broken before it resolves where zero
   * rows would resolve it.
   */
  gap(g: Gap): readonly Alert[] {
    const out: Alert[] = [];
    if (g.to < g.from) return out;
    const last = Math.min(g.to, g.from + this.cfg.resolveAfter - 1);
    for (let t = g.from; t <= last; t++) {
      this.tracker.normal('Global_Bytes_Threshold', null, 0);
      this.tracker.normal('Global_Packets_Threshold', null, 0);
      for (const [id, addr] of this.openAddr) {
        const bits = this.openBits[id] ?? 0;
        for (let k = 0; k < 4; k++) {
          const c = HOST_CHECKS[k];
          if ((bits & (1 << k)) !== 0 && c !== undefined) this.tracker.normal(c.note, addr, 0);
        }
      }
      this.tracker.step(t, out);
      this.unflag();
    }
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    this.openAddr.clear();
    this.openBits.fill(0);
    return out;
  }
}
