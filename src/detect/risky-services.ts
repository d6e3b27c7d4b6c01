// risky-services detector: a per-host risk score (0-100) from the services it serves or
// uses, by a documented, overridable port table (telnet, SMB, RDP, FTP, ...). A host serves
// a port when it answers from it (source port = the service, destination port above it);
// it uses one when it sends to it. Serving counts the full weight, using `usedFactor` of it;
// a service counts for `window` seconds after it was last seen. Scores appear on the
// summaries' and the report's hosts (`risk`); a host at or above alertScore is alerted.
// A SYN makes its sender a client and a SYN-ACK its sender a server; otherwise the side on
// the service port facing a higher ephemeral port serves.
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
  /** Second (+1, so 0 = never) each host last served / used each service: [slot * nsvc + svc]. */
  /** Epoch second + 1 each service was last served / used per host (0: never); doubles, as
   *  epoch seconds pass 2^31 in 2038 (and some captures carry stranger times). */
  private readonly served: Float64Array;
  private readonly used: Float64Array;
  /** Hosts whose services changed, with the packet second, waiting for that second to close. */
  private readonly touched = new Int32Array(MAX_TOUCHED);
  private readonly touchedSec = new Float64Array(MAX_TOUCHED);
  /** 1 while the host is in `touched`. */
  private readonly touchedMark: Uint8Array;
  /** Slots whose set of services grew since takeReportChanges() (marked once each). */
  private readonly everMark: Uint8Array;
  private readonly everDirty: Int32Array;
  private nEver = 0;
  private ntouched = 0;
  /** Last second closed by the pipeline. */
  private second = 0;
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
    this.served = new Float64Array(cap * Math.max(1, names.length));
    this.used = new Float64Array(cap * Math.max(1, names.length));
    this.touchedMark = new Uint8Array(cap);
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

  private note(key: number, w6: Uint32Array | null, svc: number, sec: number, into: Float64Array): void {
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
      this.served.fill(0, slot * n, slot * n + n);
      this.used.fill(0, slot * n, slot * n + n);
      this.touchedMark[slot] = 0;
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
    const prev = into[slot * n + svc] ?? 0;
    if (prev === 0 && this.everMark[slot] === 0) {
      // A service new to the host in this run: its report entry changes.
      this.everMark[slot] = 1;
      this.everDirty[this.nEver++] = slot;
    }
    const first = prev === 0 || prev <= sec - this.cfg.window;
    into[slot * n + svc] = sec;
    // Only a service new to the host (or back after the window) can raise its score.
    if (first && this.touchedMark[slot] === 0 && this.ntouched < MAX_TOUCHED) {
      this.touchedMark[slot] = 1;
      this.touchedSec[this.ntouched] = sec - 1;
      this.touched[this.ntouched++] = slot;
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
      if (!this.hosts.live(slot) || this.touchedMark[slot] === 1 || this.hot.has(slot)) continue;
      let idle = true;
      for (let i = slot * n; i < slot * n + n; i++) {
        if ((this.served[i] ?? 0) > stale || (this.used[i] ?? 0) > stale) {
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
      return { addr: this.text(slot), risk: this.scoreSlot(slot, 0), served, used };
    }
    const n = this.services.length;
    const served: string[] = [];
    const used: string[] = [];
    let score = 0;
    for (let i = 0; i < n; i++) {
      const s = this.services[i];
      const name = s?.name ?? '';
      const w = s?.weight ?? 0;
      if ((this.served[slot * n + i] ?? 0) > 0 || p.served.includes(name)) {
        served.push(name);
        score += w;
      } else if ((this.used[slot * n + i] ?? 0) > 0 || p.used.includes(name)) {
        used.push(name);
        score += w * this.cfg.usedFactor;
      }
    }
    return { addr: p.addr, risk: Math.min(100, Math.round(score)), served, used };
  }

  /** Score of the host in `slot` from services last seen after second `since` (0: ever). */
  private scoreSlot(slot: number, since: number): number {
    const n = this.services.length;
    let score = 0;
    for (let i = 0; i < n; i++) {
      const w = this.services[i]?.weight ?? 0;
      if ((this.served[slot * n + i] ?? 0) > since) score += w;
      else if ((this.used[slot * n + i] ?? 0) > since) score += w * this.cfg.usedFactor;
    }
    return Math.min(100, Math.round(score));
  }

  /** Stored seconds are +1 (0 = never); a service counts while seen within the last `window` seconds. */
  private windowStart(ts: number): number {
    return Math.max(0, ts + 1 - this.cfg.window);
  }

  /** Service names the host served and used (ever, in this run). */
  private servicesOf(slot: number): { served: string[]; used: string[] } {
    const n = this.services.length;
    const served: string[] = [];
    const used: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = this.services[i]?.name ?? '';
      if ((this.served[slot * n + i] ?? 0) > 0) served.push(name);
      else if ((this.used[slot * n + i] ?? 0) > 0) used.push(name);
    }
    return { served, used };
  }

  private text(slot: number): string {
    return this.version[slot] === 6 ? formatIpv6At(this.words, slot * 4) : formatIpv4(this.hosts.ka[slot] ?? 0);
  }

  private slotOf(addr: string): number {
    const a = parseAddr(addr);
    if (a === null) return -1;
    return this.hosts.find(a.version === 4 ? (a.words[0] ?? 0) : key6(a.words), 0, 0);
  }

  /** Risk score of a host by its text (0 when unknown), as of the last closed second. */
  scoreOf(addr: string): number {
    const slot = this.slotOf(addr);
    return slot < 0 ? 0 : this.scoreSlot(slot, this.windowStart(this.second));
  }

  observe(s: SecondSummary): readonly Alert[] {
    const ts = s.ts;
    this.second = ts;
    // Hosts touched in seconds the pipeline has closed; later ones wait (packet time).
    let keep = 0;
    for (let i = 0; i < this.ntouched; i++) {
      const slot = this.touched[i] ?? 0;
      const sec = this.touchedSec[i] ?? 0;
      if (sec > ts) {
        this.touched[keep] = slot;
        this.touchedSec[keep++] = sec;
        continue;
      }
      this.touchedMark[slot] = 0;
      if (this.scoreSlot(slot, this.windowStart(ts)) >= this.cfg.alertScore && !this.hot.has(slot)) {
        const host = this.text(slot);
        this.hot.set(slot, { host, key: this.tracker.keyOf('Risky_Services', host), score: -1, obs: null });
      }
    }
    this.ntouched = keep;
    // forEach: no [key, value] array per entry, this runs for every risky host every second.
    this.hot.forEach((h, slot) => {
      const score = this.scoreSlot(slot, this.windowStart(ts));
      if (score >= this.cfg.alertScore) {
        if (h.obs === null || score !== h.score) {
          const { served, used } = this.servicesOf(slot);
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
      h.risk = this.scoreSlot(slot, 0);
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
