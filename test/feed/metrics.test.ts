// /metrics: checked by promtool (Prometheus' own linter and parser) and scraped by a real
// Prometheus server on loopback, whose PromQL answer must equal the view's packet total.

import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { REPORT, alert, connect, fakeView, feedUrl, pub, pubAlert, pubSummary, stats, summary } from './helpers.js';
import { startPrometheus, tool } from './tools.js';

const T0 = 1_700_000_000;
const TOKEN = 'prometheus-scrape-token-42';
const promtool = tool('/usr/bin/promtool', 'prometheus');
const prometheus = tool('/usr/bin/prometheus', 'prometheus');

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function feedWithData(token: string | null = null): Promise<FeedSink> {
  const sink = await startFeed(feedConfig({ port: 0, metricsHosts: 3, token }), fakeView());
  cleanup.push(() => sink.close());
  pubSummary(sink, summary(T0, 3, 77));
  pubAlert(sink, alert('raised', 'a', T0));
  pubAlert(sink, alert('raised', 'b', T0, { detector: 'zscore', severity: 'critical' }));
  pubAlert(sink, alert('raised', 'c', T0));
  pubAlert(sink, alert('resolved', 'c', T0 + 1));
  pub(sink, stats(99));
  return sink;
}

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('/metrics exposition', () => {
  it('has the totals of the view, bounded per-host series and the feed counters', async () => {
    const sink = await feedWithData();
    const c = await connect(feedUrl(sink.url));
    const res = await fetch(`${sink.url}metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(sample(text, 'netpulse_packets_total')).toBe(REPORT.packets);
    expect(sample(text, 'netpulse_bytes_total')).toBe(REPORT.bytes);
    expect(sample(text, 'netpulse_captured_bytes_total')).toBe(REPORT.capturedBytes);
    expect(sample(text, 'netpulse_protocol_packets_total{protocol="udp"}')).toBe(200);
    expect(sample(text, 'netpulse_anomalies_total{name="truncated_ipv4"}')).toBe(3);
    expect(sample(text, 'netpulse_dropped_packets_total')).toBe(11);
    expect(text).not.toContain('netpulse_dropped_packets_estimated_total');
    expect(sample(text, 'netpulse_late_packets_total')).toBe(5);
    expect(sample(text, 'netpulse_hosts_tracked')).toBe(42);
    expect(sample(text, 'netpulse_hosts_evicted_total')).toBe(7);
    expect(sample(text, 'netpulse_packets_per_second')).toBe(77);
    expect(sample(text, 'netpulse_bytes_per_second')).toBe(7700);
    expect(sample(text, 'netpulse_event_loop_lag_seconds')).toBe(0.0015);
    expect(sample(text, 'netpulse_alerts_total{detector="threshold",severity="warning"}')).toBe(2);
    expect(sample(text, 'netpulse_alerts_total{detector="zscore",severity="critical"}')).toBe(1);
    expect(sample(text, 'netpulse_alerts_active{detector="threshold",severity="warning"}')).toBe(1);
    expect(sample(text, 'netpulse_feed_clients')).toBe(1);
    // per-host series only for the top K = 3 of the view's 4 hosts
    const hosts = new Set([...text.matchAll(/^netpulse_host_bytes_total\{host="([^"]+)"/gm)].map((m) => m[1]));
    expect([...hosts]).toEqual(REPORT.hosts.slice(0, 3).map((h) => h.addr));
    expect(sample(text, `netpulse_host_bytes_total{host="${REPORT.hosts[0]?.addr}",direction="tx"}`)).toBe(9000);
    c.ws.close();
  });

  it.skipIf(promtool === null)('passes promtool check metrics (format and naming conventions)', async () => {
    const sink = await feedWithData();
    const text = await (await fetch(`${sink.url}metrics`)).text();
    const r = spawnSync(promtool ?? 'promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('escapes label values', async () => {
    const view = { ...fakeView(), source: { description: 'file "we\\ird"\nname.pcap', clock: 'packet' as const } };
    const sink = await startFeed(feedConfig({ port: 0 }), view);
    cleanup.push(() => sink.close());
    const text = await (await fetch(`${sink.url}metrics`)).text();
    expect(text).toContain('source="file \\"we\\\\ird\\"\\nname.pcap"');
    if (promtool !== null) {
      const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(r.status).toBe(0);
    }
  });
});

describe.skipIf(prometheus === null)('a real Prometheus scraping /metrics', () => {
  it('scrapes every second with the bearer token; PromQL returns the packet total', async () => {
    const sink = await feedWithData(TOKEN);
    const prom = await startPrometheus(prometheus ?? 'prometheus', new URL(sink.url).host, TOKEN);
    cleanup.push(() => prom.stop());
    const result = await prom.waitFor('netpulse_packets_total{job="netpulse"}');
    expect(result, `prometheus log:\n${prom.log()}`).toHaveLength(1);
    expect(Number(result[0]?.value[1])).toBe(REPORT.packets);
    const up = await prom.query('up{job="netpulse"}');
    expect(up[0]?.value[1]).toBe('1');
    const per = await prom.query('sum by (protocol) (netpulse_protocol_packets_total)');
    expect(Object.fromEntries(per.map((p) => [p.metric.protocol, Number(p.value[1])]))).toEqual(REPORT.protocols);
  }, 60_000);
});
