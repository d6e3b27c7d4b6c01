// zscore detector: each second's global bytes/s and packets/s, and each listed host's
// packets/s (or bytes/s), scored against a rolling baseline of that series BEFORE the
// second joins it. An anomalous second joins clipped to the threshold while its condition
// is unconfirmed (so natural bursts teach the baseline their size), and stays out once the
// condition is raised (so a long spike cannot become its own normal; a shift lasting a
// whole window is learned and its alert ends). Per-host series live in a bounded LRU map.
// The defaults (z >= 6 for 3 s, per-host packets with a wider floor) come from the
// labelled evaluation (npm run eval).

import type { SecondSummary } from '../aggregate/summary.js';
import type { Alert } from './alert.js';
import { RollingBaseline, guardedZ } from './baseline.js';
import type { ZscoreConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';
import { formatValue } from './units.js';

interface Scored {
  anomalous: boolean;
  z: number;
  center: number;
  sd: number;
}

export class ZscoreDetector implements Detector {
  readonly name = 'zscore';
  private readonly gBytes: RollingBaseline;
  private readonly gPackets: RollingBaseline;
  /** addr -> series; Map order is least recently active first. */
  private readonly hosts = new Map<string, RollingBaseline>();
  /** Series evicted to stay within hosts.max (reported). */
  evicted = 0;

  constructor(
    private readonly cfg: ZscoreConfig,
    private readonly tracker: Tracker,
  ) {
    this.gBytes = new RollingBaseline(cfg.window, cfg.method);
    this.gPackets = new RollingBaseline(cfg.window, cfg.method);
  }

  /**
   * Score x against b, then let x join b: as is when normal, clipped to the threshold when
   * anomalous but not yet raised, not at all while `raised` (for at most a whole window).
   */
  private score(b: RollingBaseline, x: number, absFloor: number, relFloor: number, raised: boolean): Scored | null {
    const { threshold, warmup, direction, window } = this.cfg;
    if (b.count < warmup) {
      b.push(x);
      return null;
    }
    const center = b.center();
    const { z, sd } = guardedZ(x, center, b.spread(), Math.max(absFloor, relFloor * Math.abs(center)));
    const anomalous = z >= threshold || (direction === 'both' && z <= -threshold);
    if (!anomalous) {
      b.anomalousRun = 0;
      b.push(x);
    } else if (!raised) {
      b.push(z > 0 ? center + threshold * sd : center - threshold * sd);
    } else if (++b.anomalousRun > window) {
      b.push(x);
    }
    return { anomalous, z, center, sd };
  }

  private mark(ts: number, note: string, host: string | null, metric: string, x: number, r: Scored, also = ''): void {
    const up = r.z > 0;
    const label = host === null ? metric : `${host} ${metric}`;
    const message =
      `${label} ${formatValue(x, metric)} is ${Math.abs(r.z).toFixed(1)} sigma ${up ? 'above' : 'below'} ` +
      `its ${this.cfg.method} baseline ${formatValue(r.center, metric)} (stdev ${formatValue(r.sd, metric)}, last ${this.cfg.window} s)${also}`;
    this.tracker.anomalous(ts, note, host, metric, {
      value: x,
      threshold: null,
      baseline: { mean: r.center, stdev: r.sd, z: r.z },
      message,
    });
  }

  /**
   * All traffic: bytes/s and packets/s each have their baseline, but one condition
   * (Global_Traffic_Spike or _Drop): a flood moves both, and an operator wants one alert.
   * The alert carries the series with the larger |z| and names the other if it broke too.
   */
  private global(s: SecondSummary): void {
    const f = this.cfg.floor;
    const raised = this.tracker.isOpen('Global_Traffic_Spike', null) || this.tracker.isOpen('Global_Traffic_Drop', null);
    const rb = this.score(this.gBytes, s.bytes, f.bytes, f.relative, raised);
    const rp = this.score(this.gPackets, s.packets, f.packets, f.relative, raised);
    const hits: [Scored, number, string][] = [];
    if (rb !== null && rb.anomalous) hits.push([rb, s.bytes, 'bytes/s']);
    if (rp !== null && rp.anomalous) hits.push([rp, s.packets, 'packets/s']);
    if (hits.length === 0) {
      this.tracker.normal('Global_Traffic_Spike', null, s.packets);
      this.tracker.normal('Global_Traffic_Drop', null, s.packets);
      return;
    }
    hits.sort((a, b) => Math.abs(b[0].z) - Math.abs(a[0].z));
    const [[r, x, metric], other] = hits as [[Scored, number, string], ...[Scored, number, string][]];
    const also = other === undefined ? '' : `; ${other[2]} ${formatValue(other[1], other[2])} is ${Math.abs(other[0].z).toFixed(1)} sigma off too`;
    this.mark(s.ts, r.z > 0 ? 'Global_Traffic_Spike' : 'Global_Traffic_Drop', null, metric, x, r, also);
  }

  observe(s: SecondSummary): readonly Alert[] {
    const cfg = this.cfg;
    if (cfg.global) this.global(s);
    if (cfg.hosts.enabled) this.observeHosts(s);
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }

  private observeHosts(s: SecondSummary): void {
    const { max, metric, floor } = this.cfg.hosts;
    const packets = metric === 'packets';
    const note = packets ? 'Host_Packets_Spike' : 'Host_Bytes_Spike';
    const drop = packets ? 'Host_Packets_Drop' : 'Host_Bytes_Drop';
    const unit = packets ? 'packets/s' : 'bytes/s';
    const absFloor = packets ? floor.packets : floor.bytes;
    const seen = new Set<string>();
    for (const h of s.hosts) {
      const x = packets ? h.tx.packets + h.rx.packets : h.tx.bytes + h.rx.bytes;
      seen.add(h.addr);
      let b = this.hosts.get(h.addr);
      if (b === undefined) {
        if (this.hosts.size >= max) {
          const oldest = this.hosts.keys().next();
          if (!oldest.done) {
            this.hosts.delete(oldest.value);
            this.evicted++;
          }
        }
        b = new RollingBaseline(this.cfg.window, this.cfg.method);
      } else {
        this.hosts.delete(h.addr);
      }
      this.hosts.set(h.addr, b);
      const raised = this.tracker.isOpen(note, h.addr) || this.tracker.isOpen(drop, h.addr);
      const r = this.score(b, x, absFloor, floor.relative, raised);
      if (r !== null && r.anomalous) this.mark(s.ts, r.z > 0 ? note : drop, h.addr, unit, x, r);
      else this.tracker.normal(note, h.addr, x);
    }
    // Hosts absent from a complete list had no traffic: a real zero sample. When the list
    // was cut to the top hosts, an absent host's value is unknown and no sample is added.
    if (s.hosts.length >= s.activeHosts) {
      for (const [addr, b] of this.hosts) {
        if (seen.has(addr)) continue;
        b.push(0);
        this.tracker.normal(this.cfg.hosts.metric === 'packets' ? 'Host_Packets_Spike' : 'Host_Bytes_Spike', addr, 0);
      }
    }
  }

  /** Series currently held (global ones included), for stats. */
  get series(): number {
    return this.hosts.size + (this.cfg.global ? 2 : 0);
  }
}
