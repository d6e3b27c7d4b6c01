// Test fakes for the feed (owned by the feed): an AnalyzerView with a fixed report, message
// builders that go through the real schema module, and a ws client that records messages.

import { once } from 'node:events';
import WebSocket, { type ClientOptions } from 'ws';
import type { HostStats, Report, SecondSummary } from '../../src/aggregate/summary.js';
import type { Alert } from '../../src/detect/alert.js';
import { SCHEMA_VERSION, alertMessage, serialize, summaryMessage, type Message, type StatsMessage } from '../../src/schema.js';
import type { AnalyzerView } from '../../src/sinks/sink.js';

export function host(i: number, bytes: number): HostStats {
  const size = { count: 2, mean: bytes / 2, stdev: 0, min: bytes / 2, max: bytes / 2, p50: bytes / 2, p95: bytes / 2, p99: bytes / 2 };
  return {
    addr: `10.0.${(i >> 8) & 255}.${i & 255}`,
    tx: { packets: 2, bytes, size },
    rx: { packets: 0, bytes: 0, size: null },
  };
}

export function summary(ts: number, hosts = 3, packets = 10): SecondSummary {
  return {
    ts,
    packets,
    bytes: packets * 100,
    capturedBytes: packets * 100,
    protocols: { ipv4: packets, tcp: packets },
    activeHosts: hosts,
    hosts: Array.from({ length: hosts }, (_, i) => host(i, 1000 - i)),
    newHosts: 0,
    newHostAddrs: [],
    anomalies: {},
    late: 0,
    dropped: null,
  };
}

export function alert(state: 'raised' | 'resolved', key: string, ts: number, over: Partial<Alert> = {}): Alert {
  return {
    id: `${key}-${state}-${ts}`,
    ts,
    state,
    detector: 'threshold',
    note: 'Host_Bytes_Spike',
    severity: 'warning',
    key,
    host: '10.0.0.1',
    metric: 'bytes/s',
    value: 5000,
    threshold: 1000,
    baseline: null,
    message: `bytes/s of 10.0.0.1 is 5000 > 1000 (${key})`,
    since: ts,
    ...over,
  };
}

export function stats(packets: number): StatsMessage {
  return {
    type: 'stats',
    v: SCHEMA_VERSION,
    at: 1_700_000_000_000 + packets,
    packets,
    bytes: packets * 100,
    dropped: null,
    droppedEstimate: null,
    anomalies: 1,
    late: 0,
    hostsTracked: 3,
    evictedHosts: 0,
    eventLoopLagMs: 1.5,
  };
}

/** The fake pipeline side: builds messages with the schema module and serialises once. */
export interface Publisher {
  publish(msg: Message, json: string): void;
}

export function pub(sink: Publisher, m: Message): Message {
  sink.publish(m, serialize(m));
  return m;
}
export function pubSummary(sink: Publisher, s: SecondSummary): Message {
  return pub(sink, summaryMessage(s));
}
export function pubAlert(sink: Publisher, a: Alert): Message {
  return pub(sink, alertMessage(a));
}

/** What a client should receive for a published message: the schema's JSON plus seq. */
export function expected(m: Message, seq: number): unknown {
  return { ...(JSON.parse(serialize(m)) as object), seq };
}

export const REPORT: Report = {
  packets: 1234,
  bytes: 567_890,
  capturedBytes: 500_000,
  firstTs: 1_700_000_000.25,
  lastTs: 1_700_000_009.5,
  seconds: 10,
  rates: { avgPacketsPerSec: 123.4, avgBytesPerSec: 56789, peakPacketsPerSec: 300, peakBytesPerSec: 90000, peakPacketsTs: 1_700_000_003, peakBytesTs: 1_700_000_004 },
  protocols: { ipv4: 1200, tcp: 1000, udp: 200, arp: 34 },
  hosts: [host(0, 9000), host(1, 8000), host(2, 7000), host(3, 6000)],
  hostsTracked: 42,
  evictedHosts: 7,
  untrackedPackets: 0,
  anomalies: { truncated_ipv4: 3, bad_tcp_data_offset: 2 },
  late: 5,
  gaps: 1,
  dropped: 11,
  droppedEstimate: null,
};

export function fakeView(report: Report = REPORT): AnalyzerView & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    source: { description: 'file test.pcap', clock: 'packet' },
    options: { speed: 'realtime', topHosts: 10 },
    snapshot(hosts: number): Report {
      calls.push(hosts);
      return { ...report, hosts: report.hosts.slice(0, hosts) };
    },
  };
}

/** A ws client that records every message it receives (parsed). */
export interface Recorder {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when a message matching pred has arrived (checks those already received). */
  waitFor(pred: (m: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

export function feedUrl(baseUrl: string, query = ''): string {
  return `${baseUrl.replace(/^http/, 'ws')}feed${query}`;
}

export async function connect(url: string, opts: ClientOptions = {}): Promise<Recorder> {
  const ws = new WebSocket(url, opts);
  const messages: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    messages.push(m);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.pred(m)) {
        waiters.splice(i, 1);
        w.resolve(m);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await once(ws, 'open');
  return {
    ws,
    messages,
    closed,
    waitFor(pred, ms = 5000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting; got ${messages.map((m) => String(m.type)).join(',')}`)), ms);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
  };
}

/** The HTTP status a refused WebSocket handshake got. */
export function refusedStatus(url: string, opts: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('handshake unexpectedly accepted'));
    });
    ws.on('error', () => undefined);
  });
}

/** How many WebSocket clients a feed server counts now (its /healthz). */
export async function feedClients(sink: { url: string }): Promise<number> {
  return ((await (await fetch(`${sink.url}healthz`)).json()) as { clients: number }).clients;
}

/** Resolve once the feed server counts `n` clients (polls /healthz; throws after `ms`). */
export async function waitFeedClients(sink: { url: string }, n: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await feedClients(sink)) !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} clients`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
