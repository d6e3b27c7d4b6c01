// Messages only the feed sends or receives (owned by the feed): the per-connection hello,
// the `lagged` notice, the `seq` every published message carries on the wire, and the
// control messages a client may send. The pipeline's messages are in src/schema.ts.

import {
  SCHEMA_VERSION,
  type AlertMessage,
  type EndMessage,
  type Message,
  type MessageType,
  type StatsMessage,
  type SummaryMessage,
} from '../schema.js';

/** Topics a client can subscribe to: every pipeline message type. */
export const TOPICS = ['summary', 'gap', 'alert', 'stats', 'report', 'end'] as const satisfies readonly MessageType[];
export type Topic = (typeof TOPICS)[number];

/** Bit of a topic in a client's subscription mask. */
export const TOPIC_BIT: Readonly<Record<MessageType, number>> = {
  summary: 1,
  gap: 2,
  alert: 4,
  stats: 8,
  report: 16,
  end: 32,
};
export const ALL_TOPICS_MASK = 63;

/** On the wire, every published message has a `seq`: 1, 2, 3, ... in publish order across
 *  all topics (so a client that picked topics sees gaps; a `lagged` notice says what it missed). */
export type Sequenced<M> = M & { seq: number };
export type FeedMessage = Sequenced<Message>;

/** First message on every connection: who is talking, and the state so far. */
export interface HelloMessage {
  type: 'hello';
  v: typeof SCHEMA_VERSION;
  /** seq of the last message published before this connection (0 if none yet). */
  seq: number;
  /** run: a random id of this server's run, new each time netpulse starts serving (a client
   *  that reconnects and sees another one is watching a new run, counted from zero);
   *  started: when it started serving, epoch seconds. */
  server: { name: 'netpulse'; version: string; run: string; started: number };
  source: { description: string; clock: 'packet' | 'wall' };
  /** The analyzer's effective options (no secrets). */
  options: Readonly<Record<string, unknown>>;
  /** The subscription in force for this connection. */
  topics: Topic[];
  /** Hosts per summary for this connection, null when all the summary has. */
  hosts: number | null;
  /** The last summaries, oldest first (empty unless subscribed to summary). */
  summaries: Sequenced<SummaryMessage>[];
  /** Alerts raised and not yet resolved (empty unless subscribed to alert). */
  alerts: Sequenced<AlertMessage>[];
  /** The latest stats message, if any (null unless subscribed to stats). */
  stats: Sequenced<StatsMessage> | null;
  /** The end message if the source has already ended (null otherwise, or unless subscribed to end). */
  end: Sequenced<EndMessage> | null;
}

/** Sent to a client that fell behind once it catches up: what it missed. What follows is
 *  the newest summary and stats, then every alert, gap, report and end it had not seen. */
export interface LaggedMessage {
  type: 'lagged';
  v: typeof SCHEMA_VERSION;
  /** Messages of the client's topics that were never sent to it (older summaries and stats). */
  skipped: number;
  /** seq of the newest message that was skipped. */
  lastSkippedSeq: number;
}

/** The one control message a client may send: change its subscription. */
export interface SubscribeRequest {
  type: 'subscribe';
  /** New topic list (omit to keep the current one). */
  topics?: Topic[];
  /** Hosts per summary, 0 to 1000, or null for all (omit to keep). */
  hosts?: number | null;
}

/** Everything the feed can send. */
export type ServerMessage = FeedMessage | HelloMessage | LaggedMessage;

/** Close codes the feed uses (RFC 6455 section 7.4 plus the application range). */
export const CLOSE = {
  /** Server shutting down (the dashboard reconnects). */
  goingAway: 1001,
  /** Binary frame: the feed accepts only small JSON text control messages. */
  unsupportedData: 1003,
  /** Malformed or unknown control message, or too many of them. */
  policyViolation: 1008,
  /** Control message over maxPayload (sent by ws itself). */
  messageTooBig: 1009,
  /** The client stayed behind longer than the lag limit. */
  tooSlow: 4001,
  /** No answer to the previous heartbeat ping (connection is terminated, no frame). */
  heartbeat: 4002,
} as const;

export function isTopic(s: unknown): s is Topic {
  return typeof s === 'string' && (TOPICS as readonly string[]).includes(s);
}

export function topicsToMask(topics: readonly Topic[]): number {
  let m = 0;
  for (const t of topics) m |= TOPIC_BIT[t];
  return m;
}

export function maskToTopics(mask: number): Topic[] {
  return TOPICS.filter((t) => (mask & TOPIC_BIT[t]) !== 0);
}
