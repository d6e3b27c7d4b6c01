// The human report printed at the end of a run (and the per-second ticker line for live
// and paced runs): plain text for a terminal, widths fixed so columns line up.

import type { HostStats, Report, SecondSummary, SizeStats } from '../aggregate/summary.js';
import type { Alert } from '../detect/alert.js';
import { decimalUnits } from '../text.js';

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Decimal units, as network tools count: 1 kB = 1000 B. */
export function formatBytes(n: number): string {
  return decimalUnits(n, BYTE_UNITS, oneDecimalBelow100);
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
const BIT_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
/** Three significant digits from 100 up, one decimal below ("99.9", "100", not "100.0"). */
const oneDecimalBelow100 = (v: number): number => (v >= 99.95 ? 0 : 1);

/** A rate below one: "0.48", or "<0.01" (never "0" for a rate that is not zero). */
function smallRate(n: number): string {
  return n < 0.01 ? '<0.01' : n.toFixed(2);
}

/** Packets per second: a whole number, or below one two decimals (a sparse capture's average is not "0"). */
export function formatPacketRate(n: number): string {
  return n > 0 && n < 0.995 ? `${smallRate(n)} pkt/s` : `${formatCount(n)} pkt/s`;
}

export function formatBits(bytesPerSec: number): string {
  const b = bytesPerSec * 8;
  if (b > 0 && b < 0.995) return `${smallRate(b)} bit/s`;
  return decimalUnits(b, BIT_UNITS, oneDecimalBelow100);
}

/** Date and time of day of an epoch second, UTC: ["2024-01-01", "12:00:00"]. Years past
 *  9999 or before year 0 keep their sign and six digits ("+010209-01-27"), as ISO 8601
 *  writes them; the time of day is always there. */
function dayAndTime(sec: number): [string, string] {
  // past what a Date holds (year 275760): the epoch seconds themselves
  if (!Number.isFinite(sec) || Math.abs(sec * 1000) > 8.64e15) return ['epoch', String(sec)];
  const iso = new Date(sec * 1000).toISOString();
  const t = iso.indexOf('T');
  return [iso.slice(0, t), iso.slice(t + 1, t + 9)];
}

export function formatTime(epochSec: number): string {
  const ms = epochSec * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `${epochSec} (epoch s)`;
  // the second is floor(t), before 1970 too (a Date truncates its milliseconds toward zero:
  // -1.0002 s is 23:59:58.999800, not 23:59:59.999800)
  let sec = Math.floor(epochSec);
  let us = Math.round((epochSec - sec) * 1e6);
  if (us >= 1_000_000) {
    sec += 1;
    us -= 1_000_000;
  }
  if (Math.abs(sec * 1000) > 8.64e15) return `${epochSec} (epoch s)`;
  const [day, time] = dayAndTime(sec);
  // a whole epoch second (a peak, an alert) needs no fraction
  return Number.isInteger(epochSec) ? `${day} ${time} UTC` : `${day} ${time}.${String(us).padStart(6, '0')} UTC`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function sizeCols(s: SizeStats | null): string {
  if (s === null) return '';
  return [s.mean.toFixed(1), s.stdev.toFixed(1), String(s.min), String(s.p50), String(s.p95), String(s.p99), String(s.max)]
    .map((x, i) => lpad(x, i < 2 ? 8 : 6))
    .join(' ');
}

function hostRows(h: HostStats, addrWidth: number, packetsWidth: number): string[] {
  const row = (label: string, dir: 'tx' | 'rx'): string => {
    const d = h[dir];
    return `  ${pad(label, addrWidth)}  ${dir}  ${lpad(formatCount(d.packets), packetsWidth)}  ${lpad(formatBytes(d.bytes), 9)}  ${sizeCols(d.size)}`.trimEnd();
  };
  return [row(h.addr, 'tx'), row('', 'rx')];
}

function shares(counts: Record<string, number>, total: number): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'none';
  return entries.map(([k, n]) => `${k} ${formatCount(n)}${total > 0 ? ` (${((100 * n) / total).toFixed(1)}%)` : ''}`).join(', ');
}

export interface ReportContext {
  readonly source: string;
  readonly formats?: readonly string[];
  readonly alerts: readonly Alert[];
  readonly reportHosts: number;
  /** The host table's cap (--max-hosts), to say when it was reached. */
  readonly maxHosts?: number;
}

export function renderReport(r: Report, ctx: ReportContext): string {
  const out: string[] = [];
  out.push(`netpulse report: ${ctx.source}${ctx.formats && ctx.formats.length > 0 ? ` [${[...new Set(ctx.formats)].join(', ')}]` : ''}`);
  if (r.firstTs === null || r.lastTs === null) {
    out.push('  no packets');
  } else {
    out.push(`  span       ${formatTime(r.firstTs)} .. ${formatTime(r.lastTs)} (${formatCount(r.seconds)} s)`);
  }
  out.push(`  packets    ${formatCount(r.packets)}   wire bytes ${formatCount(r.bytes)} (${formatBytes(r.bytes)})   captured bytes ${formatCount(r.capturedBytes)}`);
  const q = r.rates;
  out.push(`  average    ${formatPacketRate(q.avgPacketsPerSec)}   ${formatBits(q.avgBytesPerSec)}`);
  out.push(
    `  peak       ${formatPacketRate(q.peakPacketsPerSec)}${q.peakPacketsTs !== null ? ` at ${formatTime(q.peakPacketsTs)}` : ''}   ${formatBits(q.peakBytesPerSec)}${q.peakBytesTs !== null ? ` at ${formatTime(q.peakBytesTs)}` : ''}`,
  );
  out.push(`  protocols  ${shares(r.protocols, r.packets)}`);
  out.push(`  anomalies  ${shares(r.anomalies, 0)}`);
  out.push(`  late       ${formatCount(r.late)} packets older than the reorder allowance   gaps ${formatCount(r.gaps)}`);
  out.push(`  drops      ${r.dropped === null ? 'unknown (the source does not say)' : formatCount(r.dropped)}${r.droppedEstimate !== null ? `   estimated loss ${formatCount(r.droppedEstimate)}` : ''}`);
  const capped = r.evictedHosts > 0 || r.untrackedPackets > 0;
  out.push(
    `  hosts      ${formatCount(r.hostsTracked)} tracked, ${formatCount(r.evictedHosts)} evicted${r.untrackedPackets > 0 ? `, ${formatCount(r.untrackedPackets)} packets untracked` : ''}${
      capped ? `   (host table full${ctx.maxHosts !== undefined ? ` at --max-hosts ${formatCount(ctx.maxHosts)}` : ''}: per-host figures are incomplete; raise --max-hosts to keep more)` : ''
    }`,
  );
  if (r.hosts.length > 0) {
    const shown = r.hosts.length < r.hostsTracked ? `top ${r.hosts.length} of ${formatCount(r.hostsTracked)} by bytes` : 'all, by bytes';
    out.push('');
    out.push(`  Hosts (${shown}; sizes are wire lengths in bytes)`);
    const w = Math.max(15, ...r.hosts.map((h) => h.addr.length));
    // wide enough for the largest count (a day on a busy link passes 100,000,000 packets)
    const pw = Math.max(10, ...r.hosts.map((h) => Math.max(formatCount(h.tx.packets).length, formatCount(h.rx.packets).length)));
    out.push(`  ${pad('HOST', w)}  DIR ${lpad('PACKETS', pw)}  ${lpad('BYTES', 9)}  ${['MEAN', 'STDEV'].map((x) => lpad(x, 8)).join(' ')} ${['MIN', 'P50', 'P95', 'P99', 'MAX'].map((x) => lpad(x, 6)).join(' ')}`);
    for (const h of r.hosts) out.push(...hostRows(h, w, pw));
  }
  // The report's own alert section when there is one (what --json says: every raise counted,
  // the first ones listed with their resolve times); the alerts handed in otherwise. The run
  // keeps only its last 10,000 alert messages, so counting those said "4154 raised" for 5846.
  const book = r.alerts;
  let rows: { ts: number; severity: string; note: string; message: string; resolvedTs: number | null }[];
  let nRaised: number;
  let nResolved: number;
  if (book !== undefined) {
    rows = book.list;
    nRaised = book.raised;
    nResolved = book.resolved;
  } else {
    const raised = ctx.alerts.filter((a) => a.state === 'raised');
    rows = raised.slice(0, 50).map((a) => ({
      ts: a.ts,
      severity: a.severity,
      note: a.note,
      message: a.message,
      resolvedTs: ctx.alerts.find((b) => b.key === a.key && b.state === 'resolved' && b.ts >= a.ts)?.ts ?? null,
    }));
    nRaised = raised.length;
    nResolved = ctx.alerts.length - raised.length;
  }
  if (nRaised > 0 || nResolved > 0) {
    out.push('');
    out.push(`  Alerts (${formatCount(nRaised)} raised, ${formatCount(nResolved)} resolved)`);
    const shown = rows.slice(0, 50);
    for (const a of shown) {
      const [day, time] = dayAndTime(a.ts);
      // the time alone when resolved the same day, else the date too
      let resolvedText = '';
      if (a.resolvedTs !== null) {
        const [rday, rtime] = dayAndTime(a.resolvedTs);
        resolvedText = rday === day ? rtime : `${rday} ${rtime}`;
      }
      out.push(`  ${day} ${time}  ${pad(a.severity, 8)} ${pad(a.note, 24)} ${a.message}${a.resolvedTs !== null ? `  (resolved ${resolvedText})` : '  (still raised)'}`);
    }
    if (nRaised > shown.length) out.push(`  ... ${formatCount(nRaised - shown.length)} more (see --json or --alerts FILE)`);
  }
  // a detector whose table was full saw less than the capture held: say where
  const blind = Object.entries(book?.untracked ?? {});
  if (blind.length > 0) {
    out.push('');
    out.push(`  Not tracked (detector tables full): ${blind.map(([d, n]) => `${d} ${formatCount(n)}`).join(', ')} (raise their tableSize or maxHosts)`);
  }
  return `${out.join('\n')}\n`;
}

/** One line per second for live and paced runs. */
export function tickerLine(s: SecondSummary): string {
  const top = s.hosts[0];
  return `${dayAndTime(s.ts)[1]}  ${lpad(formatCount(s.packets), 9)} pkt/s  ${lpad(formatBits(s.bytes), 12)}  hosts ${lpad(formatCount(s.activeHosts), 7)}${top ? `  top ${top.addr} ${formatBytes(top.tx.bytes + top.rx.bytes)}` : ''}${s.late > 0 ? `  late ${s.late}` : ''}`;
}
