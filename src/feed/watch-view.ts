// The terminal watcher's state and screen (owned by the feed): pure functions from feed
// messages to lines of text, so `netpulse watch` only does I/O and tests need no terminal.

import type { AlertMessage, StatsMessage, SummaryMessage } from '../schema.js';
import { decimalUnits, printable } from '../text.js';

export { printable };

export interface WatchState {
  source: string | null;
  clock: 'packet' | 'wall' | null;
  ended: string | null;
  seq: number;
  last: SummaryMessage | null;
  /** bytes/s of the last seconds, oldest first (for the sparkline). */
  recent: number[];
  stats: StatsMessage | null;
  /** Alerts by key + since, newest last. */
  alerts: Map<string, AlertMessage>;
  skipped: number;
  /** Set by `watch --reconnect` while the feed is lost: what happened and when it tries again. */
  notice: string | null;
}

const RECENT = 60;
const MAX_ALERTS = 50;

export function createWatchState(): WatchState {
  return { source: null, clock: null, ended: null, seq: 0, last: null, recent: [], stats: null, alerts: new Map(), skipped: 0, notice: null };
}

type Incoming = Record<string, unknown> & { type?: unknown };

function isObj(v: unknown): v is Incoming {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onSummary(st: WatchState, s: SummaryMessage): void {
  st.last = s;
  st.recent.push(s.bytes);
  if (st.recent.length > RECENT) st.recent.shift();
}

function onAlert(st: WatchState, a: AlertMessage): void {
  const id = `${a.key}|${a.since}`;
  st.alerts.delete(id);
  st.alerts.set(id, a);
  if (st.alerts.size > MAX_ALERTS) {
    const first = st.alerts.keys().next();
    if (first.done !== true) st.alerts.delete(first.value);
  }
}

/** Fold one parsed feed message into the state (unknown types are ignored: newer servers). */
export function applyMessage(st: WatchState, m: unknown): void {
  if (!isObj(m)) return;
  if (typeof m.seq === 'number') st.seq = m.seq;
  switch (m.type) {
    case 'hello': {
      const src = isObj(m.source) ? m.source : {};
      st.source = typeof src.description === 'string' ? src.description : '?';
      st.clock = src.clock === 'wall' ? 'wall' : 'packet';
      st.last = null;
      st.recent = [];
      st.alerts = new Map();
      st.ended = null;
      if (Array.isArray(m.summaries)) for (const s of m.summaries) onSummary(st, s as SummaryMessage);
      if (Array.isArray(m.alerts)) for (const a of m.alerts) onAlert(st, a as AlertMessage);
      if (isObj(m.stats)) st.stats = m.stats as unknown as StatsMessage;
      if (isObj(m.end)) st.ended = String(m.end.reason);
      break;
    }
    case 'summary':
      onSummary(st, m as unknown as SummaryMessage);
      break;
    case 'alert':
      onAlert(st, m as unknown as AlertMessage);
      break;
    case 'stats':
      st.stats = m as unknown as StatsMessage;
      break;
    case 'end':
      st.ended = String(m.reason);
      break;
    case 'lagged':
      st.skipped += typeof m.skipped === 'number' ? m.skipped : 0;
      break;
    default:
      break;
  }
}

export function fmtCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a';
  return Math.round(n).toLocaleString('en-US');
}

/** SI bytes: 999 B, 1.00 kB, 12.3 MB. */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a';
  return decimalUnits(n, ['B', 'kB', 'MB', 'GB', 'TB'], (v) => (Math.abs(v) < 9.995 ? 2 : 1));
}

export function fmtTime(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(1, ...v);
  return v.map((x) => BARS[Math.min(7, Math.floor((x / max) * 7.999))] ?? ' ').join('');
}

function pad(s: string, n: number, right = false): string {
  if (s.length >= n) return s.slice(0, n);
  return right ? s.padStart(n) : s.padEnd(n);
}

/** Characters of the source kept in the header however narrow the terminal. */
const SOURCE_MIN = 8;

/** `s` in at most `n` characters: its start and (the larger part) its end around an ellipsis. */
export function fitMiddle(s: string, n: number): string {
  if (s.length <= n) return s;
  if (n <= 1) return s.slice(0, n);
  const start = Math.floor((n - 1) / 3);
  return `${s.slice(0, start)}…${s.slice(s.length - (n - 1 - start))}`;
}

/** The screen: at most `rows` lines, each at most `cols` characters. */
export function renderWatch(st: WatchState, cols: number, rows: number): string[] {
  const lines: string[] = [];
  const kind = st.clock === 'wall' ? 'live' : 'replay';
  const mode = st.ended !== null ? `${kind} ended (${st.ended})` : kind;
  // the state (live, replay, ended) and seq must survive a narrow terminal or a long file
  // name: the source gives way first, cut in the middle (a path's file name is at its end)
  const head = 'netpulse  ';
  const tail = `  [${mode}]  seq ${st.seq}${st.last ? `  ${fmtTime(st.last.ts)}` : ''}`;
  lines.push(`${head}${fitMiddle(printable(st.source ?? 'connecting...'), Math.max(SOURCE_MIN, cols - head.length - tail.length))}${tail}`);
  // the feed is lost: said right under the title, above the last figures it sent
  if (st.notice !== null) lines.push(`!! ${st.notice}`);
  const s = st.last;
  lines.push(
    s
      ? `rate   ${fmtBytes(s.bytes)}/s  ${fmtCount(s.packets)} pkt/s  ${fmtCount(s.activeHosts)} hosts  ${sparkline(st.recent, 30)}`
      : 'rate   waiting for the first second...',
  );
  const t = st.stats;
  if (t) {
    const drops = t.dropped !== null ? fmtCount(t.dropped) : t.droppedEstimate !== null ? `~${fmtCount(t.droppedEstimate)}` : 'n/a';
    lines.push(
      `total  ${fmtCount(t.packets)} pkts  ${fmtBytes(t.bytes)}  drops ${drops}  anomalies ${fmtCount(t.anomalies)}  late ${fmtCount(t.late)}  evicted ${fmtCount(t.evictedHosts)}  lag ${t.eventLoopLagMs === null ? 'n/a' : `${t.eventLoopLagMs.toFixed(1)} ms`}`,
    );
  }
  if (st.skipped > 0) lines.push(`(this terminal fell behind: ${st.skipped} older messages skipped)`);
  if (s) {
    const protos = Object.entries(s.protocols)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${fmtCount(n)}`)
      .join('  ');
    lines.push(`proto  ${protos}`);
    lines.push('');
    // as wide as the longest address shown: IPv4 hosts leave room for every column at 80
    // columns; a 39-character IPv6 address widens it (the line is then cut at the edge)
    const hw = Math.min(39, Math.max(15, ...s.hosts.map((h) => h.addr.length)));
    lines.push(
      `${pad('host', hw)} ${pad('tx pkts', 9, true)} ${pad('tx bytes', 10, true)} ${pad('rx pkts', 9, true)} ${pad('rx bytes', 10, true)} ${pad('size mean', 9, true)} ${pad('p95', 6, true)}`,
    );
    for (const h of s.hosts) {
      const size = h.tx.size ?? h.rx.size;
      lines.push(
        `${pad(h.addr, hw)} ${pad(fmtCount(h.tx.packets), 9, true)} ${pad(fmtBytes(h.tx.bytes), 10, true)} ${pad(fmtCount(h.rx.packets), 9, true)} ${pad(fmtBytes(h.rx.bytes), 10, true)} ${pad(size ? size.mean.toFixed(1) : '-', 9, true)} ${pad(size ? fmtCount(size.p95) : '-', 6, true)}`,
      );
    }
  }
  const alerts = [...st.alerts.values()].reverse();
  const raised = alerts.filter((a) => a.state === 'raised').length;
  lines.push('');
  lines.push(`alerts (${raised} raised, ${alerts.length - raised} resolved)`);
  for (const a of alerts) {
    lines.push(
      `${a.state === 'raised' ? '▲' : '✓'} ${fmtTime(a.ts)} ${pad(a.severity, 8)} ${a.note}${a.host ? ` ${a.host}` : ''}: ${a.message}`,
    );
  }
  return lines
    .slice(0, Math.max(1, rows))
    .map(printable)
    .map((l) => (l.length > cols ? l.slice(0, Math.max(0, cols)) : l));
}

/** One plain line per summary, for a watcher whose stdout is not a terminal. */
export function summaryLine(s: SummaryMessage): string {
  const top = s.hosts[0];
  return printable(`${fmtTime(s.ts)}  ${fmtCount(s.packets)} pkt/s  ${fmtBytes(s.bytes)}/s  ${fmtCount(s.activeHosts)} hosts${top ? `  top ${top.addr}` : ''}`);
}
