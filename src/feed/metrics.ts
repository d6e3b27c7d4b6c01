// Prometheus text exposition (format 0.0.4) for /metrics (owned by the feed). Cardinality
// is bounded: labels come only from fixed sets (protocol and anomaly names, detectors and
// severities, disconnect reasons) and per-host series exist only for the top K hosts.

import type { Report } from '../aggregate/summary.js';
import { DISCONNECT_REASONS, type Hub } from './hub.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsInput {
  readonly version: string;
  readonly source: { readonly description: string; readonly clock: 'packet' | 'wall' };
  /** view.snapshot(K): cumulative totals and the top K hosts. */
  readonly report: Report;
  readonly hub: Hub;
}

type Labels = Readonly<Record<string, string>>;

/** Escape a label value as the exposition format requires. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Writer {
  private readonly out: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly (readonly [Labels, number])[]): void {
    if (samples.length === 0) return;
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const keys = Object.keys(labels);
      const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`;
      this.out.push(`${name}${l} ${fmt(value)}`);
    }
  }

  one(name: string, type: 'counter' | 'gauge', help: string, value: number | null): void {
    if (value === null) return;
    this.family(name, type, help, [[{}, value]]);
  }

  text(): string {
    return `${this.out.join('\n')}\n`;
  }
}

export function renderMetrics(input: MetricsInput): string {
  const { report: r, hub } = input;
  const w = new Writer();
  w.family('netpulse_info', 'gauge', 'Build and source of this netpulse process (always 1).', [
    [{ version: input.version, source: input.source.description, clock: input.source.clock }, 1],
  ]);
  w.one('netpulse_packets_total', 'counter', 'Frames seen since start.', r.packets);
  w.one('netpulse_bytes_total', 'counter', 'Wire bytes (original frame lengths) seen since start.', r.bytes);
  w.one('netpulse_captured_bytes_total', 'counter', 'Captured bytes (possibly truncated by snaplen) since start.', r.capturedBytes);
  w.family(
    'netpulse_protocol_packets_total',
    'counter',
    'Frames by protocol since start.',
    Object.entries(r.protocols).map(([protocol, n]) => [{ protocol }, n] as const),
  );
  const last = hub.lastSummary?.msg;
  if (last !== undefined && last.type === 'summary') {
    w.one('netpulse_packets_per_second', 'gauge', 'Frames in the last closed second.', last.packets);
    w.one('netpulse_bytes_per_second', 'gauge', 'Wire bytes in the last closed second.', last.bytes);
    w.one('netpulse_active_hosts', 'gauge', 'Hosts with traffic in the last closed second.', last.activeHosts);
    w.one('netpulse_last_second_timestamp_seconds', 'gauge', 'Start of the last closed second (packet time, epoch seconds).', last.ts);
  }
  w.one('netpulse_dropped_packets_total', 'counter', 'Frames the capture reported dropped (absent when unknown).', r.dropped);
  w.one(
    'netpulse_dropped_packets_estimated_total',
    'counter',
    'Estimated frames lost when the capture cannot report drops (absent when not estimated).',
    r.droppedEstimate,
  );
  w.family(
    'netpulse_anomalies_total',
    'counter',
    'Malformed or odd frames by anomaly name since start.',
    Object.entries(r.anomalies).map(([name, n]) => [{ name }, n] as const),
  );
  w.one('netpulse_late_packets_total', 'counter', 'Frames older than the reorder allowance, counted in a later second.', r.late);
  w.one('netpulse_gaps_total', 'counter', 'Runs of empty seconds reported as gaps.', r.gaps);
  w.one('netpulse_hosts_tracked', 'gauge', 'Hosts in the host table.', r.hostsTracked);
  w.one('netpulse_hosts_evicted_total', 'counter', 'Hosts evicted from the bounded host table.', r.evictedHosts);
  const hostSamples: (readonly [Labels, number])[] = [];
  const hostPackets: (readonly [Labels, number])[] = [];
  for (const h of r.hosts) {
    hostSamples.push([{ host: h.addr, direction: 'tx' }, h.tx.bytes], [{ host: h.addr, direction: 'rx' }, h.rx.bytes]);
    hostPackets.push([{ host: h.addr, direction: 'tx' }, h.tx.packets], [{ host: h.addr, direction: 'rx' }, h.rx.packets]);
  }
  w.family('netpulse_host_bytes_total', 'counter', 'Wire bytes of the top hosts by bytes, sent (tx) and received (rx).', hostSamples);
  w.family('netpulse_host_packets_total', 'counter', 'Frames of the top hosts by bytes, sent (tx) and received (rx).', hostPackets);

  const raised: (readonly [Labels, number])[] = [];
  for (const [k, n] of hub.counters.alertsRaised) {
    const [detector = '', severity = ''] = k.split('\u0000');
    raised.push([{ detector, severity }, n]);
  }
  w.family('netpulse_alerts_total', 'counter', 'Alerts raised since start, by detector and severity.', raised);
  // every open alert, not only those hello remembers (hub.openAlerts keeps the newest 1000)
  const active = hub.activeAlerts;
  w.family(
    'netpulse_alerts_active',
    'gauge',
    'Alerts raised and not yet resolved, by detector and severity.',
    [...active].map(([k, n]) => {
      const [detector = '', severity = ''] = k.split('\u0000');
      return [{ detector, severity }, n] as const;
    }),
  );
  // a detector's full table refused entries: what it did not see (report.alerts.untracked)
  w.family(
    'netpulse_detector_untracked_total',
    'counter',
    "Entries a detector's full tables refused (state not kept), by detector; absent until one is refused.",
    Object.entries(r.alerts?.untracked ?? {}).map(([detector, n]) => [{ detector }, n] as const),
  );
  const stats = hub.lastStats?.msg;
  if (stats !== undefined && stats.type === 'stats' && stats.eventLoopLagMs !== null) {
    w.one('netpulse_event_loop_lag_seconds', 'gauge', 'Event-loop lag (p99 over the last interval).', stats.eventLoopLagMs / 1000);
  }
  w.one('netpulse_source_ended', 'gauge', '1 once the source has ended (a replay finished), else 0.', hub.endEntry === null ? 0 : 1);

  const c = hub.counters;
  w.one('netpulse_feed_clients', 'gauge', 'WebSocket clients connected to /feed.', hub.clients.size);
  w.one('netpulse_feed_connections_total', 'counter', 'WebSocket connections accepted.', c.connections);
  w.family(
    'netpulse_feed_disconnects_total',
    'counter',
    'WebSocket clients gone, by reason (client, slow, heartbeat, protocol, shutdown).',
    DISCONNECT_REASONS.map((reason) => [{ reason }, c.disconnects[reason]] as const),
  );
  w.one('netpulse_feed_published_messages_total', 'counter', 'Messages published to the feed (each serialised once).', c.published);
  w.one('netpulse_feed_sent_messages_total', 'counter', 'Messages sent to clients (all clients).', c.sentMessages);
  w.one('netpulse_feed_sent_bytes_total', 'counter', 'Bytes of message text sent to clients (all clients).', c.sentBytes);
  w.one('netpulse_feed_skipped_messages_total', 'counter', 'Summaries and stats skipped for lagging clients.', c.skippedMessages);
  w.one('netpulse_feed_lagged_total', 'counter', 'Times a client fell behind the high-water mark.', c.laggedEpisodes);
  w.one('netpulse_feed_buffered_bytes', 'gauge', 'Bytes waiting in client socket buffers (all clients).', hub.bufferedBytes());
  return w.text();
}
