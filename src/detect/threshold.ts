// threshold detector: fixed per-second limits on the whole capture (bytes/s, packets/s)
// and on each host's tx and rx bytes/s and packets/s, with per-host or per-network
// overrides. Reads only the summaries: hosts are those listed for the second (its top hosts).

import type { HostStats, SecondSummary } from '../aggregate/summary.js';
import type { Alert } from './alert.js';
import type { HostLimits, ThresholdConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';
import { formatValue } from './units.js';

type HostMetric = keyof HostLimits;

const HOST_CHECKS: readonly { key: HostMetric; note: string; metric: string; dir: 'tx' | 'rx'; field: 'bytes' | 'packets' }[] = [
  { key: 'txBytes', note: 'Host_Tx_Bytes_Threshold', metric: 'bytes/s', dir: 'tx', field: 'bytes' },
  { key: 'rxBytes', note: 'Host_Rx_Bytes_Threshold', metric: 'bytes/s', dir: 'rx', field: 'bytes' },
  { key: 'txPackets', note: 'Host_Tx_Packets_Threshold', metric: 'packets/s', dir: 'tx', field: 'packets' },
  { key: 'rxPackets', note: 'Host_Rx_Packets_Threshold', metric: 'packets/s', dir: 'rx', field: 'packets' },
];

export class ThresholdDetector implements Detector {
  readonly name = 'threshold';
  /** addr -> effective limits (rules resolved once per address, bounded). */
  private readonly limitsCache = new Map<string, HostLimits>();
  private readonly anyHostLimit: boolean;

  constructor(
    private readonly cfg: ThresholdConfig,
    private readonly tracker: Tracker,
  ) {
    const some = (l: Partial<HostLimits>): boolean => Object.values(l).some((v) => v !== null && v !== undefined);
    this.anyHostLimit = some(cfg.host) || cfg.hosts.some((r) => some(r.limits));
  }

  limitsFor(addr: string): HostLimits {
    let l = this.limitsCache.get(addr);
    if (l !== undefined) return l;
    l = { ...this.cfg.host };
    const rule = this.cfg.hosts.find((r) => r.nets.hasText(addr));
    if (rule !== undefined) {
      for (const [k, v] of Object.entries(rule.limits) as [HostMetric, number | null | undefined][]) {
        if (v !== undefined) l[k] = v;
      }
    }
    if (this.limitsCache.size >= 65536) this.limitsCache.clear();
    this.limitsCache.set(addr, l);
    return l;
  }

  private check(ts: number, note: string, host: string | null, metric: string, value: number, limit: number | null): void {
    if (limit === null) return;
    if (value > limit) {
      const who = host === null ? 'all traffic' : host;
      this.tracker.anomalous(ts, note, host, metric, {
        value,
        threshold: limit,
        baseline: null,
        message: `${who}: ${formatValue(value, metric)} over the limit of ${formatValue(limit, metric)}`,
      });
    } else {
      this.tracker.normal(note, host, value);
    }
  }

  private checkHost(ts: number, h: HostStats): void {
    const l = this.limitsFor(h.addr);
    for (const c of HOST_CHECKS) this.check(ts, c.note, h.addr, c.metric, h[c.dir][c.field], l[c.key]);
  }

  observe(s: SecondSummary): readonly Alert[] {
    const g = this.cfg.global;
    this.check(s.ts, 'Global_Bytes_Threshold', null, 'bytes/s', s.bytes, g.bytes);
    this.check(s.ts, 'Global_Packets_Threshold', null, 'packets/s', s.packets, g.packets);
    if (this.anyHostLimit) for (const h of s.hosts) this.checkHost(s.ts, h);
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    return out;
  }

  finish(lastTs: number): readonly Alert[] {
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }
}
