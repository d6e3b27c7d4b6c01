// The feed's fan-out (owned by the feed): numbers every published message, encodes it
// once (summaries also once per hosts-per-summary limit in common use), remembers what a new
// client's hello needs, and sends to each client by topic. A client whose socket buffer
// passes the high-water mark is "lagging": it keeps only the newest summary and stats
// (plus alerts, gaps, report and end, in a bounded queue), gets a `lagged` notice when it
// drains, and is disconnected if it stays behind; other clients never wait for it.

import { Buffer } from 'node:buffer';
import type { WebSocket } from 'ws';
import { SCHEMA_VERSION, type AlertMessage, type Message, type MessageType } from '../schema.js';
import { CLOSE, TOPIC_BIT } from './messages.js';

/** One published message and its serialisations, encoded once as UTF-8 and shared by
 *  every client (ws frames a Buffer without copying it, so N clients hold one copy). */
export interface Entry {
  readonly seq: number;
  readonly type: MessageType;
  readonly msg: Message;
  /** Full JSON with seq. */
  readonly buf: Buffer;
  /** Hosts-limited summary variants, by limit: at most MAX_VARIANTS, made on first use. */
  variants: Map<number, Buffer> | null;
  /** In the hub's history: its bytes (buf and variants) count against the history's budget. */
  held?: boolean;
}

/** Why a client went away, for /metrics. */
export const DISCONNECT_REASONS = ['client', 'slow', 'heartbeat', 'protocol', 'shutdown'] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/** Alerts, gaps, report and end a lagging client may owe before it is cut off. */
const MAX_PENDING = 256;
/** Parts of a hello at least this big are sent as their own fragment instead of copied. */
const FRAGMENT_MIN = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/** Raised alerts remembered for hello (oldest dropped past this). */
const MAX_OPEN_ALERTS = 1000;
/** Hosts-limited variants cached per summary; rarer limits are encoded when sent, so what
 *  clients ask for cannot grow the history beyond this many copies of each summary. */
export const MAX_VARIANTS = 4;
/**
 * Most bytes of encoded summaries (and their cached variants) the history keeps, whatever
 * --feed-history says: a summary's size grows with --top, so N summaries alone bound
 * nothing (20,000 summaries of 100 hosts held 750 MB, and --top has no limit). Past it the oldest go first.
 */
export const HISTORY_MAX_BYTES = 64 * 1024 * 1024;

export class FeedClient {
  readonly ws: WebSocket;
  topics: number;
  /** Hosts per summary; -1 means all. */
  hosts: number;
  alive = true;
  lagging = false;
  lagSince = 0;
  skipped = 0;
  lastSkippedSeq = 0;
  pendingSummary: Entry | null = null;
  pendingStats: Entry | null = null;
  readonly pending: Entry[] = [];
  controlWindowStart = 0;
  controlCount = 0;
  closing = false;

  constructor(ws: WebSocket, topics: number, hosts: number) {
    this.ws = ws;
    this.topics = topics;
    this.hosts = hosts;
  }
}

export interface HubCounters {
  published: number;
  sentMessages: number;
  sentBytes: number;
  skippedMessages: number;
  laggedEpisodes: number;
  connections: number;
  disconnects: Record<DisconnectReason, number>;
  alertsRaised: Map<string, number>;
}

export class Hub {
  readonly clients = new Set<FeedClient>();
  seq = 0;
  /** Newest summaries, oldest first (ring kept as an array: shift is once a second). */
  readonly history: Entry[] = [];
  /** Raised alerts not yet resolved, by alert key: the newest MAX_OPEN_ALERTS, for hello. */
  readonly openAlerts = new Map<string, Entry>();
  /** Every alert raised and not yet resolved, by key: its detector and severity. Not capped
   *  like openAlerts (the detectors bound it, alerts.maxOpen each): /metrics counts from it. */
  private readonly activeKinds = new Map<string, string>();
  /** Alerts raised and not yet resolved, by detector and severity (NUL-joined). */
  readonly activeAlerts = new Map<string, number>();
  lastSummary: Entry | null = null;
  lastStats: Entry | null = null;
  endEntry: Entry | null = null;
  readonly counters: HubCounters = {
    published: 0,
    sentMessages: 0,
    sentBytes: 0,
    skippedMessages: 0,
    laggedEpisodes: 0,
    connections: 0,
    disconnects: { client: 0, slow: 0, heartbeat: 0, protocol: 0, shutdown: 0 },
    alertsRaised: new Map(),
  };
  private readonly historySize: number;
  private readonly historyBudget: number;
  /** Bytes of the history's entries (buf and cached variants). */
  historyBytes = 0;
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly maxLagMs: number;
  private readonly closeGraceMs: number;
  private readonly now: () => number;

  constructor(opts: { history: number; historyBytes?: number; highWaterBytes: number; maxLagMs: number; closeGraceMs: number; now?: () => number }) {
    this.historySize = opts.history;
    this.historyBudget = opts.historyBytes ?? HISTORY_MAX_BYTES;
    this.highWater = opts.highWaterBytes;
    this.lowWater = opts.highWaterBytes >>> 2;
    this.maxLagMs = opts.maxLagMs;
    this.closeGraceMs = opts.closeGraceMs;
    this.now = opts.now ?? Date.now;
  }

  /** Number, remember and fan out one message from the pipeline. */
  publish(msg: Message, json: string): void {
    const seq = ++this.seq;
    const entry: Entry = { seq, type: msg.type, msg, buf: Buffer.from(withSeq(json, seq)), variants: null };
    this.counters.published++;
    this.remember(entry);
    if (msg.type === 'summary') {
      this.cacheCommonVariants(entry);
      this.trimHistory();
    }
    for (const c of this.clients) this.deliver(c, entry);
  }

  /** Fill a new summary's variant slots with the hosts limits most clients use now. */
  private cacheCommonVariants(e: Entry): void {
    const uses = new Map<number, number>();
    for (const c of this.clients) {
      if (c.hosts >= 0 && (c.topics & TOPIC_BIT.summary) !== 0) uses.set(c.hosts, (uses.get(c.hosts) ?? 0) + 1);
    }
    if (uses.size === 0) return;
    const common = [...uses].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, MAX_VARIANTS);
    for (const [hosts] of common) this.bufFor(e, hosts);
  }

  private remember(e: Entry): void {
    const m = e.msg;
    switch (m.type) {
      case 'summary':
        this.lastSummary = e;
        if (this.historySize > 0) {
          e.held = true;
          this.historyBytes += entryBytes(e);
          this.history.push(e);
          this.trimHistory();
        }
        break;
      case 'stats':
        this.lastStats = e;
        break;
      case 'end':
        this.endEntry = e;
        break;
      case 'alert':
        this.rememberAlert(m, e);
        break;
      default:
        break;
    }
  }

  private rememberAlert(a: AlertMessage, e: Entry): void {
    this.countActive(a);
    if (a.state === 'raised') {
      this.openAlerts.delete(a.key);
      this.openAlerts.set(a.key, e);
      if (this.openAlerts.size > MAX_OPEN_ALERTS) {
        const oldest = this.openAlerts.keys().next();
        if (oldest.done !== true) this.openAlerts.delete(oldest.value);
      }
      const k = `${a.detector}\u0000${a.severity}`;
      this.counters.alertsRaised.set(k, (this.counters.alertsRaised.get(k) ?? 0) + 1);
    } else {
      this.openAlerts.delete(a.key);
    }
  }

  /** Keep activeAlerts exact: a key raised again while open counts once, under its newest kind. */
  private countActive(a: AlertMessage): void {
    const was = this.activeKinds.get(a.key);
    if (was !== undefined) {
      // a kind stays at 0 once seen (its series goes to 0 rather than going stale)
      this.activeAlerts.set(was, Math.max(0, (this.activeAlerts.get(was) ?? 0) - 1));
      this.activeKinds.delete(a.key);
    }
    if (a.state !== 'raised') return;
    const k = `${a.detector}\u0000${a.severity}`;
    this.activeKinds.set(a.key, k);
    this.activeAlerts.set(k, (this.activeAlerts.get(k) ?? 0) + 1);
  }

  /** Oldest summaries out past --feed-history entries or the byte budget (the newest stays). */
  private trimHistory(): void {
    const h = this.history;
    let drop = 0;
    let bytes = this.historyBytes;
    while (h.length - drop > this.historySize || (bytes > this.historyBudget && h.length - drop > 1)) {
      const old = h[drop++];
      if (old === undefined) break;
      old.held = false;
      bytes -= entryBytes(old);
    }
    if (drop === 0) return;
    h.splice(0, drop);
    this.historyBytes = bytes;
  }

  /** The JSON a client with this hosts limit gets for an entry: cached while the entry has
   *  a free variant slot, else encoded for this use only. */
  bufFor(e: Entry, hosts: number): Buffer {
    if (hosts < 0 || e.msg.type !== 'summary' || e.msg.hosts.length <= hosts) return e.buf;
    const cached = e.variants?.get(hosts);
    if (cached !== undefined) return cached;
    const s = Buffer.from(withSeq(JSON.stringify({ ...e.msg, hosts: e.msg.hosts.slice(0, hosts) }), e.seq));
    e.variants ??= new Map();
    if (e.variants.size >= MAX_VARIANTS) return s;
    if (e.held === true) {
      // a history entry caches it only within the budget (the history is not trimmed here:
      // a hello may be walking it)
      if (this.historyBytes + s.length > this.historyBudget && this.history.length > 1) return s;
      this.historyBytes += s.length;
    }
    e.variants.set(hosts, s);
    return s;
  }

  private deliver(c: FeedClient, e: Entry): void {
    if ((c.topics & TOPIC_BIT[e.type]) === 0 || c.closing) return;
    if (!c.lagging && c.ws.bufferedAmount > this.highWater) {
      c.lagging = true;
      c.lagSince = this.now();
      this.counters.laggedEpisodes++;
    }
    if (c.lagging) this.queue(c, e);
    else this.send(c, this.bufFor(e, c.hosts));
  }

  private queue(c: FeedClient, e: Entry): void {
    if (e.type === 'summary' || e.type === 'stats') {
      const prev = e.type === 'summary' ? c.pendingSummary : c.pendingStats;
      if (prev !== null) {
        c.skipped++;
        c.lastSkippedSeq = prev.seq;
        this.counters.skippedMessages++;
      }
      if (e.type === 'summary') c.pendingSummary = e;
      else c.pendingStats = e;
      return;
    }
    c.pending.push(e);
    if (c.pending.length > MAX_PENDING) {
      this.disconnect(c, CLOSE.tooSlow, 'too slow: alerts queued beyond the limit', 'slow');
    }
  }

  /**
   * Send one text message made of parts without joining them: big parts (shared encoded
   * messages) go out as their own fragments, so a hello with minutes of history costs a
   * client references, not a copy. Small parts are joined to keep the frame count low.
   */
  sendParts(c: FeedClient, parts: readonly Buffer[]): void {
    const small: Buffer[] = [];
    let smallLen = 0;
    let total = 0;
    const frames: Buffer[] = [];
    for (const p of parts) {
      total += p.length;
      if (p.length < FRAGMENT_MIN) {
        small.push(p);
        smallLen += p.length;
        continue;
      }
      if (smallLen > 0) frames.push(Buffer.concat(small, smallLen));
      small.length = 0;
      smallLen = 0;
      frames.push(p);
    }
    if (smallLen > 0 || frames.length === 0) frames.push(Buffer.concat(small, smallLen));
    for (let i = 0; i < frames.length; i++) {
      c.ws.send(frames[i] ?? EMPTY, { binary: false, fin: i === frames.length - 1 });
    }
    this.counters.sentMessages++;
    this.counters.sentBytes += total;
  }

  /** Send one JSON text frame (a Buffer sent with binary: false is a text frame). */
  send(c: FeedClient, buf: Buffer): void {
    c.ws.send(buf, { binary: false });
    this.counters.sentMessages++;
    this.counters.sentBytes += buf.length;
  }

  /** Called a few times a second: lagging clients that drained get their catch-up,
   *  those behind for too long are disconnected. */
  maintain(): void {
    const now = this.now();
    for (const c of this.clients) {
      if (!c.lagging || c.closing) continue;
      if (c.ws.bufferedAmount <= this.lowWater) this.catchUp(c);
      else if (now - c.lagSince > this.maxLagMs) {
        this.disconnect(c, CLOSE.tooSlow, `too slow: behind for more than ${this.maxLagMs} ms`, 'slow');
      }
    }
  }

  private catchUp(c: FeedClient): void {
    const notice = {
      type: 'lagged',
      v: SCHEMA_VERSION,
      skipped: c.skipped,
      lastSkippedSeq: c.lastSkippedSeq,
    };
    this.send(c, Buffer.from(JSON.stringify(notice)));
    const out: Entry[] = c.pending.splice(0);
    if (c.pendingSummary !== null) out.push(c.pendingSummary);
    if (c.pendingStats !== null) out.push(c.pendingStats);
    out.sort((a, b) => a.seq - b.seq);
    for (const e of out) this.send(c, this.bufFor(e, c.hosts));
    c.pendingSummary = null;
    c.pendingStats = null;
    c.lagging = false;
    c.skipped = 0;
    c.lastSkippedSeq = 0;
  }

  /** Close with a code and reason. The close frame queues behind what the client has not
   *  read yet; if the closing handshake has not completed within the grace period (a dead
   *  or still stalled peer), the connection is terminated and its buffers freed. */
  disconnect(c: FeedClient, code: number, reason: string, why: DisconnectReason): void {
    if (c.closing) return;
    c.closing = true;
    this.counters.disconnects[why]++;
    c.pending.length = 0;
    c.pendingSummary = null;
    c.pendingStats = null;
    c.ws.close(code, reason);
    const t = setTimeout(() => c.ws.terminate(), this.closeGraceMs);
    t.unref();
    c.ws.once('close', () => clearTimeout(t));
  }

  bufferedBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.ws.bufferedAmount;
    return n;
  }
}

/** Put `"seq":N` last in a serialised message object: one string per message, not per client. */
export function withSeq(json: string, seq: number): string {
  return `${json.slice(0, -1)},"seq":${seq}}`;
}

function entryBytes(e: Entry): number {
  let n = e.buf.length;
  if (e.variants !== null) for (const v of e.variants.values()) n += v.length;
  return n;
}
