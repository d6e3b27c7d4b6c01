// The one message schema: NDJSON output (--json), WebSocket feed and webhook all
// serialise through here, so the three always agree. Each message is one JSON object
// with `type` and `v`; each is stringified once and the string is shared.

import type { Gap, Report, SecondSummary } from './aggregate/summary.js';
import type { Alert } from './detect/alert.js';

export const SCHEMA_VERSION = 1 as const;

export interface SummaryMessage extends SecondSummary {
  type: 'summary';
  v: typeof SCHEMA_VERSION;
}

export interface GapMessage extends Gap {
  type: 'gap';
  v: typeof SCHEMA_VERSION;
}

export interface AlertMessage extends Alert {
  type: 'alert';
  v: typeof SCHEMA_VERSION;
}

export interface ReportMessage extends Report {
  type: 'report';
  v: typeof SCHEMA_VERSION;
}

/** Capture health, once a second (feed) and at the end. */
export interface StatsMessage {
  type: 'stats';
  v: typeof SCHEMA_VERSION;
  /** Epoch milliseconds of wall-clock time when the stats were taken. */
  at: number;
  packets: number;
  bytes: number;
  /** Null when the source cannot know (live capture through cap). */
  dropped: number | null;
  droppedEstimate: number | null;
  anomalies: number;
  late: number;
  hostsTracked: number;
  evictedHosts: number;
  /** Event-loop lag in milliseconds (p99 over the last interval), null if not measured. */
  eventLoopLagMs: number | null;
}

export interface EndMessage {
  type: 'end';
  v: typeof SCHEMA_VERSION;
  /** Why the source ended: eof, stopped, count, duration, error. */
  reason: string;
  /** Error code and line when reason is "error". */
  error: { code: string; message: string } | null;
}

export type Message = SummaryMessage | GapMessage | AlertMessage | ReportMessage | StatsMessage | EndMessage;
export type MessageType = Message['type'];

export function summaryMessage(s: SecondSummary): SummaryMessage {
  return { type: 'summary', v: SCHEMA_VERSION, ...s };
}

export function gapMessage(g: Gap): GapMessage {
  return { type: 'gap', v: SCHEMA_VERSION, from: g.from, to: g.to };
}

export function alertMessage(a: Alert): AlertMessage {
  return { type: 'alert', v: SCHEMA_VERSION, ...a };
}

export function reportMessage(r: Report): ReportMessage {
  return { type: 'report', v: SCHEMA_VERSION, ...r };
}

/** Serialise once; the same string goes to stdout, every WebSocket client and the webhook. */
export function serialize(m: Message): string {
  return JSON.stringify(m);
}
