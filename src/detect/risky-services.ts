// risky-services detector: a per-host risk score (0-100) from the services it serves or
// uses, by a documented, overridable port table (telnet, SMB, RDP, FTP, ...). A host serves
// a port when it answers from it (source port = the service, destination port above it);
// it uses one when it sends to it. Serving counts the full weight, using `usedFactor` of it;
// a service counts for `window` seconds after it was last seen. Scores appear on the
// summaries' and the report's hosts (`risk`); a host at or above alertScore is alerted.
// A SYN makes its sender a client and a SYN-ACK its sender a server; otherwise the side on
// the service port facing a higher ephemeral port serves.
//
// Packet time: the pipeline closes second T only after packets up to the reorder allowance
// (R s) past it, and the hook goes on up to R + 1 s ahead of the last closed second. A
// sighting after the last closed second waits (pending) until its second closes: the score at
// T uses exactly the sightings at or before T (a service first seen at T + 1 does not count
// at T; one seen long ago and again at T + 1 is judged at T by the old sighting). Pending
// sightings of a host/service are kept as a bit per second from the earliest one (32 s) and
// the latest one, exact for R <= 31 s (default 2, live 0); past 32 s the seconds between
// count as seen, which changes nothing while window >= R. A late packet (older than the last
// closed second) counts from the next closed second at its own time.
//
// Long runs: the host table holds at most `maxHosts` hosts. When an insert finds it full,
// hosts whose every service was last seen `window` seconds ago or more (score 0) and that
// are not alerting are forgotten (at most one sweep per packet second) and the insert is
// retried. A forgotten host's whole-run report entry (risk, served and used names) is kept
// in `archive`, at most ARCHIVE_PER_HOST * maxHosts entries, the oldest forgotten dropped;
// a host seen again takes its entry back (`prior`) and merges it with what it does next.

import type { Report, SecondSummary } from '../aggregate/summary.js';
import { TCP_FLAGS, type DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import { formatIpv4 } from '../aggregate/address.js';
import { formatIpv6At, key6, parseAddr } from './addr.js';
import type { RiskyServicesConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Observation, Tracker } from './lifecycle.js';
import { KeyTable } from './table.js';

/** Hosts re-scored per second at most (the rest wait for their next packet). */
const MAX_TOUCHED = 4096;
/** Entries of the per-packet dedupe cache (a power of two). */
const CACHE = 4096;
/** Forgotten hosts' report entries kept, per `maxHosts`: the oldest forgotten are dropped beyond. */
export const ARCHIVE_PER_HOST = 4;

/** Sightings of one kind (served, or used) per host/service entry, as epoch second + 1 (0:
 *  none; doubles, as epoch seconds pass 2^31 in 2038 and some captures carry stranger times).
 *  `last` holds the latest sighting at or before the last closed second (as of the entry's
 *  last fold); sightings after it wait in `pend` (the earliest), `mask` (bit k: a sighting at
 *  pend + k, k < 32) and `span` (the latest - pend; seconds past pend + 31 count as seen up
 *  to it). Every pending sighting is newer than `last`. */
class Sightings {
  readonly last: Float64Array;
  readonly pend: Float64Array;
  readonly mask: Uint32Array;
  readonly span: Uint32Array;

  constructor(n: number) {
    this.last = new Float64Array(n);
    this.pend = new Float64Array(n);
    this.mask = new Uint32Array(n);
    this.span = new Uint32Array(n);
  }

  clear(from: number, to: number): void {
    this.last.fill(0, from, to);
    this.pend.fill(0, from, to);
    this.mask.fill(0, from, to);
    this.span.fill(0, from, to);
  }

  /** Seen at all (closed or pending). */
  ever(i: number): boolean {
    return (this.last[i] ?? 0) > 0 || (this.pend[i] ?? 0) > 0;
  }

  /** The latest sighting, pending ones included (0: none). */
  latest(i: number): number {
    const p = this.pend[i] ?? 0;
    return p > 0 ? p + (this.span[i] ?? 0) : (this.last[i] ?? 0);
  }

  /** The latest sighting at or before `t` (both +1; 0: none). */
  at(i: number, t: number): number {
    const p = this.pend[i] ?? 0;
    if (p === 0 || p > t) return this.last[i] ?? 0;
    const k = t - p;
    const span = this.span[i] ?? 0;
    if (k >= span) return p + span;
    if (k >= 32) return t;
    // bit 0 (pend itself) is always set: the highest bit at or below k
    return p + 31 - Math.clz32((this.mask[i] ?? 0) & (0xffffffff >>> (31 - k)));
  }

  /** Moves the pending sightings at or before the closed second `c` (+1) into `last`. */
  fold(i: number, c: number): void {
    const p = this.pend[i] ?? 0;
    if (p === 0 || p > c) return;
    const span = this.span[i] ?? 0;
    const end = p + span;
    this.last[i] = this.at(i, c);
    if (end <= c) {
      this.pend[i] = 0;
      this.mask[i] = 0;
      this.span[i] = 0;
      return;
    }
    // What is left starts after c: the mask's bits from there, and the seconds past the old
    // mask (counted as seen) that fall into the new one.
    const q = c + 1;
    const d = q - p;
    let m = d >= 32 ? 0 : (this.mask[i] ?? 0) >>> d;
    if (span >= 32) {
      const lo = Math.max(0, 32 - d);
      const hi = Math.min(31, end - q);
      m |= (0xffffffff >>> (31 - (hi - lo))) << lo;
    }
    const z = 31 - Math.clz32(m & -m);
    this.pend[i] = q + z;
    this.mask[i] = m >>> z;
    this.span[i] = end - (q + z);
  }

  /** A sighting at `s`, the closed second being `c` (both +1; fold first). True when the
   *  entry did not count at `s` before (window `w`): the host's score may rise then. */
  add(i: number, s: number, c: number, w: number): boolean {
    if (s <= c) {
      // late: its second is closed; it counts from the next one, by its own time
      const l = this.last[i] ?? 0;
      if (s <= l) return false;
      this.last[i] = s;
      return true;
    }
    const before = this.at(i, s);
    const on = before === 0 || before <= s - w;
    const p = this.pend[i] ?? 0;
    if (p === 0) {
      this.pend[i] = s;
      this.mask[i] = 1;
      this.span[i] = 0;
    } else if (s < p) {
      // out of order: bits pushed past the mask join the seconds counted as seen
      const d = p - s;
      this.mask[i] = d >= 32 ? 1 : (((this.mask[i] ?? 0) << d) | 1) >>> 0;
      this.span[i] = Math.min(0xffffffff, p + (this.span[i] ?? 0) - s);
      this.pend[i] = s;
    } else {
      const k = s - p;
      if (k < 32) this.mask[i] = ((this.mask[i] ?? 0) | (1 << k)) >>> 0;
      if (k > (this.span[i] ?? 0)) this.span[i] = Math.min(0xffffffff, k);
    }
    return on;
  }
}

/** A host's risk entry of the report: the score over the whole run and its services. */
export interface RiskEntry {
  addr: string;
  risk: number;
  served: string[];
  used: string[];
  /** Set (by takeReportChanges) when the host's entry was dropped: a copy forgets it too. */
  gone?: true;
}

export class RiskyServicesDetector implements Detector {
  readonly name = 'risky-services';
  /** Service names and weights, by service index. */
  readonly services: readonly { name: string; weight: number }[];
  /** Port -> service index (-1: none), per transport. */
  private readonly tcp = new Int8Array(65536).fill(-1);
  private readonly udp = new Int8Array(65536).fill(-1);
  /** Bit per port that is risky over either transport. */
  private readonly anyPort = new Uint8Array(8192);
  private readonly hosts: KeyTable;
  private readonly version: Uint8Array;
  private readonly words: Uint32Array;
  /** When each host served / used each service: [slot * nsvc + svc]. */
  private readonly served: Sightings;
  private readonly used: Sightings;
  /** Hosts with a service that started counting, with its second, waiting for that second
   *  to close (a host stays while it has such seconds pending: until `turnOn`). */
  private readonly touched = new Int32Array(MAX_TOUCHED);
  private readonly touchedSec = new Float64Array(MAX_TOUCHED);
  /** Index + 1 of the host in `touched` (0: not in it). */
  private readonly touchedAt: Int32Array;
  /** Latest second at which a service of the host started counting (while in `touched`). */
  private readonly turnOn: Float64Array;
  /** Slots whose set of services grew since takeReportChanges() (marked once each). */
  private readonly everMark: Uint8Array;
  private readonly everDirty: Int32Array;
  private nEver = 0;
  private ntouched = 0;
  /** Last second closed by the pipeline. */
  private second = 0;
  /** The same + 1 (as sightings are kept), -Infinity before the first. */
  private closed = -Infinity;
  /** Hosts at or above the alert score: slot -> text, score and the observation (rebuilt when the score changes). */
  private readonly hot = new Map<number, { host: string; key: string; score: number; obs: Observation | null }>();
  // A small direct-mapped cache of (src, dst, service, second) already noted: a flow's
  // packets need the host table once per second, not once per packet.
  private readonly cacheA = new Float64Array(CACHE).fill(-1);
  private readonly cacheB = new Float64Array(CACHE);
  private readonly cacheS = new Int32Array(CACHE);
  private readonly cacheSec = new Float64Array(CACHE);
  /** Whole-run entries of forgotten hosts, by address text, oldest forgotten first (bounded). */
  private readonly archive = new Map<string, RiskEntry>();
  private readonly archiveMax: number;
  /** Entries taken back from `archive` by hosts seen again: slot -> entry before the return. */
  private readonly prior = new Map<number, RiskEntry>();
  /** Addresses forgotten or dropped from `archive` since takeReportChanges() (recorded once
   *  it has been called: a thread's copy then needs them). */
  private readonly forgotten = new Set<string>();
  private reportTaken = false;
  /** Packet second (+1) of the last sweep; inserts refused then rescued by a sweep. */
  private lastSweep = -Infinity;
  private rescued = 0;
  readonly packet: (p: DecodedPacket, tsMicros: number, wirelen: number) => void;

  constructor(
    private readonly cfg: RiskyServicesConfig,
    private readonly tracker: Tracker,
  ) {
    const names: string[] = [];
    const weights: number[] = [];
    for (const [portProto, svc] of cfg.ports) {
      let i = names.indexOf(svc.name);
      if (i < 0) {
        i = names.length;
        names.push(svc.name);
        weights.push(svc.weight);
      } else {
        weights[i] = Math.max(weights[i] ?? 0, svc.weight);
      }
      const [port, proto] = portProto.split('/');
      const n = Number(port);
      (proto === 'udp' ? this.udp : this.tcp)[n] = i;
      this.anyPort[n >> 3] = (this.anyPort[n >> 3] ?? 0) | (1 << (n & 7));
    }
    this.services = names.map((name, i) => ({ name, weight: weights[i] ?? 0 }));
    this.hosts = new KeyTable(cfg.maxHosts * 2);
    this.archiveMax = ARCHIVE_PER_HOST * cfg.maxHosts;
    const cap = this.hosts.capacity;
    this.version = new Uint8Array(cap);
    this.words = new Uint32Array(cap * 4);
    this.served = new Sightings(cap * Math.max(1, names.length));
    this.used = new Sightings(cap * Math.max(1, names.length));
    this.touchedAt = new Int32Array(cap);
    this.turnOn = new Float64Array(cap);
    this.everMark = new Uint8Array(cap);
    this.everDirty = new Int32Array(cap);
    this.packet = (p, ts) => this.onPacket(p, ts);
  }

  /** Hosts not scored because the table was full. */
  get untracked(): number {
    return this.hosts.refused - this.rescued;
  }

  private onPacket(p: DecodedPacket, tsMicros: number): void {
    const proto = p.ipProto;
    if (proto !== 6 && proto !== 17) return;
    const sp = p.srcPort;
    const dp = p.dstPort;
    if (sp < 0) return;
    // An 8 KB bitmap of every risky port answers "neither" (nearly every packet) from L1.
    const any = this.anyPort;
    if (((any[sp >> 3] ?? 0) & (1 << (sp & 7))) === 0 && ((any[dp >> 3] ?? 0) & (1 << (dp & 7))) === 0) return;
    const table = proto === 6 ? this.tcp : this.udp;
    const si = table[sp] ?? -1;
    const di = table[dp] ?? -1;
    if (si < 0 && di < 0) return;
    // Who is the server: a SYN comes from the client, a SYN-ACK from the server; otherwise
    // the side on the service port talking to an ephemeral (>= 1024, higher) port. Random
    // source ports of spoofed floods thus never make anyone a "server".
    let serving: boolean;
    const f = proto === 6 ? p.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK) : 0;
    if (f === TCP_FLAGS.SYN) {
      if (di < 0) return;
      serving = false;
    } else if (f === (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) {
      if (si < 0) return;
      serving = true;
    } else if (si >= 0 && dp >= 1024 && dp > sp) {
      serving = true;
    } else if (di >= 0 && sp >= 1024 && sp > dp) {
      serving = false;
    } else {
      return;
    }
    const svc = serving ? si : di;
    const v6 = p.ipVersion === 6;
    const src = v6 ? key6(p.src6) : p.src4 >>> 0;
    const dst = v6 ? key6(p.dst6) : p.dst4 >>> 0;
    const sec = Math.floor(tsMicros / 1e6) + 1;
    const dirSvc = serving ? svc : svc + 64;
    const c = (Math.imul(src | 0, 0x9e3779b1) ^ Math.imul(dst | 0, 0x85ebca6b) ^ Math.imul(dirSvc, 0xc2b2ae35)) >>> 20;
    if (this.cacheA[c] === src && this.cacheB[c] === dst && this.cacheS[c] === dirSvc && this.cacheSec[c] === sec) return;
    this.cacheA[c] = src;
    this.cacheB[c] = dst;
    this.cacheS[c] = dirSvc;
    this.cacheSec[c] = sec;
    if (serving) {
      this.note(src, v6 ? p.src6 : null, svc, sec, this.served);
      this.note(dst, v6 ? p.dst6 : null, svc, sec, this.used);
    } else {
      this.note(src, v6 ? p.src6 : null, svc, sec, this.used);
    }
  }

  private note(key: number, w6: Uint32Array | null, svc: number, sec: number, into: Sightings): void {
    let slot = this.hosts.upsert(key, 0, 0);
    if (slot < 0) {
      // Full: forget idle hosts (once per packet second) and retry.
      if (sec <= this.lastSweep) return;
      this.lastSweep = sec;
      if (this.sweep(sec) === 0) return;
      slot = this.hosts.upsert(key, 0, 0);
      if (slot < 0) return;
      this.rescued++;
    }
    const n = this.services.length;
    if (this.hosts.inserted) {
      this.served.clear(slot * n, slot * n + n);
      this.used.clear(slot * n, slot * n + n);
      this.touchedAt[slot] = 0;
      this.version[slot] = w6 === null ? 4 : 6;
      if (w6 !== null) this.words.set(w6, slot * 4);
      if (this.archive.size > 0) {
        // A forgotten host back: its earlier whole-run entry joins what it does now.
        const addr = this.text(slot);
        const e = this.archive.get(addr);
        if (e !== undefined) {
          this.archive.delete(addr);
          this.prior.set(slot, e);
        }
      }
    }
    const i = slot * n + svc;
    if (this.everMark[slot] === 0 && !into.ever(i)) {
      // A service new to the host in this run: its report entry changes.
      this.everMark[slot] = 1;
      this.everDirty[this.nEver++] = slot;
    }
    const c = this.closed;
    into.fold(i, c);
    // Only a service that starts counting (new to the host, or back after the window) can
    // raise its score: the host is scored when that second closes.
    if (!into.add(i, sec, c, this.cfg.window)) return;
    const ts = sec - 1;
    const at = this.touchedAt[slot] ?? 0;
    if (at > 0) {
      if (ts < (this.touchedSec[at - 1] ?? 0)) this.touchedSec[at - 1] = ts;
      if (ts > (this.turnOn[slot] ?? 0)) this.turnOn[slot] = ts;
    } else if (this.ntouched < MAX_TOUCHED) {
      this.touchedSec[this.ntouched] = ts;
      this.touched[this.ntouched++] = slot;
      this.touchedAt[slot] = this.ntouched;
      this.turnOn[slot] = ts;
    }
  }

  /** Forgets the hosts whose every service was last seen at or before `sec - window` (score
   *  0) and that are neither alerting nor waiting to be scored; keeps their report entries.
   *  Returns how many were forgotten. */
  private sweep(sec: number): number {
    const n = this.services.length;
    const stale = sec - this.cfg.window;
    const cap = this.hosts.capacity;
    let forgot = 0;
    for (let slot = 0; slot < cap; slot++) {
      if (!this.hosts.live(slot) || (this.touchedAt[slot] ?? 0) > 0 || this.hot.has(slot)) continue;
      let idle = true;
      for (let i = slot * n; i < slot * n + n; i++) {
        if (this.served.latest(i) > stale || this.used.latest(i) > stale) {
          idle = false;
          break;
        }
      }
      if (!idle) continue;
      const e = this.entryOf(slot);
      this.prior.delete(slot);
      this.hosts.delete(slot);
      forgot++;
      if (e === null) continue;
      // A slot still listed in everDirty is skipped by takeReportChanges once dead (or
      // reported for the host that takes it next); the forgotten host goes by `forgotten`.
      this.archive.delete(e.addr);
      this.archive.set(e.addr, e);
      if (this.reportTaken) this.forgotten.add(e.addr);
      if (this.archive.size > this.archiveMax) {
        const oldest = this.archive.keys().next().value as string;
        this.archive.delete(oldest);
        if (this.reportTaken) this.forgotten.add(oldest);
      }
    }
    return forgot;
  }

  /** The report entry of the live host in `slot` (risk over the whole run, services ever
   *  served and used, with its entry from before it was forgotten), null without services. */
  private entryOf(slot: number): RiskEntry | null {
    const p = this.prior.get(slot);
    if (p === undefined) {
      const { served, used } = this.servicesOf(slot);
      if (served.length === 0 && used.length === 0) return null;
      return { addr: this.text(slot), risk: this.scoreSlot(slot, 0, Infinity), served, used };
    }
    const n = this.services.length;
    const served: string[] = [];
    const used: string[] = [];
    let score = 0;
    for (let i = 0; i < n; i++) {
      const s = this.services[i];
      const name = s?.name ?? '';
      const w = s?.weight ?? 0;
      if (this.served.ever(slot * n + i) || p.served.includes(name)) {
        served.push(name);
        score += w;
      } else if (this.used.ever(slot * n + i) || p.used.includes(name)) {
        used.push(name);
        score += w * this.cfg.usedFactor;
      }
    }
    return { addr: p.addr, risk: Math.min(100, Math.round(score)), served, used };
  }

  /** Score of the host in `slot` at second `at` from the services last seen at or before it
   *  and after second `since` (both +1; 0 and Infinity: ever). */
  private scoreSlot(slot: number, since: number, at: number): number {
    const n = this.services.length;
    let score = 0;
    for (let i = 0; i < n; i++) {
      const w = this.services[i]?.weight ?? 0;
      if (this.served.at(slot * n + i, at) > since) score += w;
      else if (this.used.at(slot * n + i, at) > since) score += w * this.cfg.usedFactor;
    }
    return Math.min(100, Math.round(score));
  }

  /** Stored seconds are +1 (0 = never); a service counts while seen within the last `window` seconds. */
  private windowStart(ts: number): number {
    return Math.max(0, ts + 1 - this.cfg.window);
  }

  /** Service names the host served and used in this run (seen at or before second `at`, +1;
   *  Infinity: ever). */
  private servicesOf(slot: number, at = Infinity): { served: string[]; used: string[] } {
    const n = this.services.length;
    const served: string[] = [];
    const used: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = this.services[i]?.name ?? '';
      if (this.served.at(slot * n + i, at) > 0) served.push(name);
      else if (this.used.at(slot * n + i, at) > 0) used.push(name);
    }
    return { served, used };
  }

  private text(slot: number): string {
    return this.version[slot] === 6 ? formatIpv6At(this.words, slot * 4) : formatIpv4(this.hosts.keyA(slot));
  }

  private slotOf(addr: string): number {
    const a = parseAddr(addr);
    if (a === null) return -1;
    return this.hosts.find(a.version === 4 ? (a.words[0] ?? 0) : key6(a.words), 0, 0);
  }

  /** Risk score of a host by its text (0 when unknown), as of the last closed second. */
  scoreOf(addr: string): number {
    const slot = this.slotOf(addr);
    return slot < 0 ? 0 : this.scoreSlot(slot, this.windowStart(this.second), this.closed);
  }

  observe(s: SecondSummary): readonly Alert[] {
    const ts = s.ts;
    this.second = ts;
    this.closed = ts + 1;
    const since = this.windowStart(ts);
    // Hosts touched in seconds the pipeline has closed; later ones wait (packet time). A host
    // with a service starting to count in a later second stays, to be scored then too.
    let keep = 0;
    for (let i = 0; i < this.ntouched; i++) {
      const slot = this.touched[i] ?? 0;
      let sec = this.touchedSec[i] ?? 0;
      if (sec <= ts) {
        if (this.scoreSlot(slot, since, ts + 1) >= this.cfg.alertScore && !this.hot.has(slot)) {
          const host = this.text(slot);
          this.hot.set(slot, { host, key: this.tracker.keyOf('Risky_Services', host), score: -1, obs: null });
        }
        if ((this.turnOn[slot] ?? 0) <= ts) {
          this.touchedAt[slot] = 0;
          continue;
        }
        sec = ts + 1;
      }
      this.touched[keep] = slot;
      this.touchedSec[keep++] = sec;
      this.touchedAt[slot] = keep;
    }
    this.ntouched = keep;
    // forEach: no [key, value] array per entry, this runs for every risky host every second.
    this.hot.forEach((h, slot) => {
      const score = this.scoreSlot(slot, since, ts + 1);
      if (score >= this.cfg.alertScore) {
        if (h.obs === null || score !== h.score) {
          const { served, used } = this.servicesOf(slot, ts + 1);
          const list = [...served.map((x) => `serves ${x}`), ...used.map((x) => `uses ${x}`)].join(', ');
          h.score = score;
          h.obs = {
            value: score,
            threshold: this.cfg.alertScore,
            baseline: null,
            message: `${h.host} has risk score ${score} (alert at ${this.cfg.alertScore}): ${list}`,
          };
        }
        this.tracker.anomalous(ts, 'Risky_Services', h.host, 'risk_score', h.obs, h.key);
      } else {
        this.tracker.normal('Risky_Services', h.host, score);
        this.hot.delete(slot);
      }
    });
    // Scores on the summary's hosts: an optional field of HostStats.
    for (const h of s.hosts) {
      const r = this.scoreOf(h.addr);
      if (r > 0) h.risk = r;
    }
    const out: Alert[] = [];
    this.tracker.step(ts, out);
    return out;
  }

  decorateReport(r: Report): void {
    for (const h of r.hosts) {
      const slot = this.slotOf(h.addr);
      if (slot < 0) {
        // A forgotten host: its entry as of when it was forgotten (if not dropped since).
        const e = this.archive.size > 0 ? this.archive.get(h.addr) : undefined;
        if (e === undefined) continue;
        h.risk = e.risk;
        h.riskServices = { served: [...e.served], used: [...e.used] };
        continue;
      }
      if (this.prior.size > 0 && this.prior.has(slot)) {
        const e = this.entryOf(slot);
        if (e === null) continue;
        h.risk = e.risk;
        h.riskServices = { served: e.served, used: e.used };
        continue;
      }
      const { served, used } = this.servicesOf(slot);
      if (served.length === 0 && used.length === 0) continue;
      // The report scores everything seen in the run, not only the last window.
      h.risk = this.scoreSlot(slot, 0, Infinity);
      h.riskServices = { served, used };
    }
  }

  /** Report entries (risk over the whole run, services) of the hosts whose services grew
   *  since the last call: what a copy of decorateReport on another thread needs. */
  takeReportChanges(): RiskEntry[] {
    const out: RiskEntry[] = [];
    this.reportTaken = true;
    // Hosts forgotten since: their kept entry, or gone if dropped (a host seen again since
    // is live, and listed in everDirty: reported below).
    for (const addr of this.forgotten) {
      const e = this.archive.get(addr);
      if (e !== undefined) out.push({ addr, risk: e.risk, served: [...e.served], used: [...e.used] });
      else if (this.slotOf(addr) < 0) out.push({ addr, risk: 0, served: [], used: [], gone: true });
    }
    this.forgotten.clear();
    for (let i = 0; i < this.nEver; i++) {
      const slot = this.everDirty[i] ?? 0;
      this.everMark[slot] = 0;
      // a slot whose host was forgotten (and not taken since) reports nothing
      if (!this.hosts.live(slot)) continue;
      // as decorateReport: a host with no service seen gets no entry
      const e = this.entryOf(slot);
      if (e !== null) out.push(e);
    }
    this.nEver = 0;
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }
}
