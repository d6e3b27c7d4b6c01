// --webhook URL: each alert POSTed as JSON with a Slack-compatible `text` and the full
// alert message. Delivery never blocks packet processing: a bounded queue (the oldest is
// dropped and counted when full), one request at a time, a timeout per request (the whole
// exchange, response body included), bounded retries with exponential backoff on network
// errors, timeouts, 429 and 5xx (a Retry-After is honoured, up to a minute). Redirects are
// not followed, and at most 64 KiB of a response body is read.

import type { HttpSinkConfig } from '../detect/config.js';
import type { Message } from '../schema.js';
import { formatAlertLine } from './console-alerts.js';
import type { Sink } from './sink.js';

/** Counts are of alerts: an item (one request) may carry several (Alertmanager batches). */
export interface DeliveryStats {
  /** Alerts in requests that got a 2xx. */
  delivered: number;
  /** Alerts given up after the last retry or on a non-retryable status. */
  failed: number;
  /** Alerts dropped because the queue was full, or still queued when close() gave up. */
  dropped: number;
  /** Attempts after a first failure (requests, not alerts). */
  retries: number;
  /** Alerts waiting right now (the request in flight included). */
  queued: number;
  /** The last failure, for the end-of-run line ("HTTP 500", "timeout after 5000 ms", "ECONNREFUSED"). */
  lastError: string | null;
}

export interface DeliveryOptions extends HttpSinkConfig {
  /** First backoff in ms; doubled per retry, capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How long close() waits for the queue to drain before dropping the rest. */
  closeTimeoutMs?: number;
  headers?: Record<string, string>;
}

/** A request body and the number of alerts it carries. */
interface Item {
  body: string;
  alerts: number;
}

/** Most of a response body read (so that a short answer leaves the connection reusable);
 *  a longer or endless one is cut off: only the status matters. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Longest Retry-After honoured (a 429 or 503 saying "come back in an hour" gets a minute). */
const MAX_RETRY_AFTER_MS = 60_000;

/** POSTs bodies in order, one at a time; shared by the webhook and Alertmanager sinks. */
export class DeliveryQueue {
  private readonly items: Item[] = [];
  private running = false;
  private closing = false;
  private inflight: AbortController | null = null;
  private wake: (() => void) | null = null;
  private idle: (() => void) | null = null;
  readonly stats: DeliveryStats = { delivered: 0, failed: 0, dropped: 0, retries: 0, queued: 0, lastError: null };
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly closeTimeoutMs: number;

  constructor(private readonly opts: DeliveryOptions) {
    this.backoffMs = opts.backoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? Math.min(30_000, opts.timeoutMs * 2 + 1000);
  }

  /** Queue a body carrying `alerts` alerts; returns at once. */
  push(body: string, alerts = 1): void {
    if (this.closing) {
      this.stats.dropped += alerts;
      return;
    }
    // The item in flight (items[0] while running) is not the queue's to drop.
    const busy = this.running ? 1 : 0;
    if (this.items.length - busy >= this.opts.queue) {
      const [old] = this.items.splice(busy, 1);
      this.stats.dropped += old?.alerts ?? 0;
      this.stats.queued -= old?.alerts ?? 0;
    }
    this.items.push({ body, alerts });
    this.stats.queued += alerts;
    if (!this.running) void this.run();
  }

  private updateQueued(): void {
    let n = 0;
    for (const it of this.items) n += it.alerts;
    this.stats.queued = n;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const item = this.items[0];
        if (item === undefined) break;
        const ok = await this.deliver(item.body);
        // close() may have dropped the queue meanwhile: only shift what we sent.
        if (this.items[0] === item) this.items.shift();
        this.updateQueued(); // once per request: the queue is at most opts.queue long
        if (ok) this.stats.delivered += item.alerts;
        else this.stats.failed += item.alerts;
      }
    } finally {
      this.running = false;
      this.idle?.();
    }
  }

  /** One item with its retries; true when delivered. */
  private async deliver(body: string): Promise<boolean> {
    let waitMs = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (this.closing && this.closeDeadlinePassed()) return false;
        this.stats.retries++;
        // the server's Retry-After when it gave one and asks for longer than our backoff
        await this.sleep(Math.max(waitMs, Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1))));
      }
      const r = await this.post(body);
      if (r === 'ok') return true;
      if (r === 'fatal' || attempt >= this.opts.retries) return false;
      waitMs = typeof r === 'number' ? r : 0;
    }
  }

  private closeDeadline = Infinity;
  private closeDeadlinePassed(): boolean {
    return Date.now() >= this.closeDeadline;
  }

  /** One request: 'ok', 'fatal', 'retry', or a retry after the server's Retry-After (ms). */
  private async post(body: string): Promise<'ok' | 'retry' | 'fatal' | number> {
    const ac = new AbortController();
    this.inflight = ac;
    const timer = setTimeout(() => ac.abort(TIMEOUT), this.opts.timeoutMs);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        body,
        signal: ac.signal,
        // A 301, 302 or 303 made fetch re-send the request as a GET without the alert, and
        // count the answer to that as delivered; a redirect is a wrong URL, said as such.
        redirect: 'manual',
      });
      // Read a short body so the connection can be reused; it is not used. The status is
      // the answer: a long or endless body neither fills memory nor turns a 2xx into a
      // timeout (and a duplicate on retry).
      await drain(res);
      if (res.ok) return 'ok';
      if (res.status >= 300 && res.status < 400) {
        this.stats.lastError = `HTTP ${res.status} redirect, not followed (give the URL it points to)`;
        return 'fatal';
      }
      this.stats.lastError = `HTTP ${res.status}`;
      if (res.status === 429 || res.status >= 500) {
        const after = retryAfterMs(res.headers.get('retry-after'));
        return after ?? 'retry';
      }
      return 'fatal';
    } catch (e) {
      if (!ac.signal.aborted) this.stats.lastError = errorText(e);
      else if (ac.signal.reason === TIMEOUT) this.stats.lastError = `timeout after ${this.opts.timeoutMs} ms`;
      // given up at close: the earlier failure (if any) says more than the abort
      else this.stats.lastError ??= `still pending when netpulse exited (gave up after ${this.closeTimeoutMs} ms)`;
      return 'retry';
    } finally {
      clearTimeout(timer);
      this.inflight = null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /** Wait for the queue to drain, at most closeTimeoutMs; then drop what is left. Never rejects. */
  async close(): Promise<void> {
    this.closing = true;
    this.closeDeadline = Date.now() + this.closeTimeoutMs;
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        // Give up: drop the waiting items and abort the one in flight (counted as failed).
        const keep = this.running ? 1 : 0;
        for (const it of this.items.slice(keep)) this.stats.dropped += it.alerts;
        this.items.length = Math.min(this.items.length, keep);
        this.updateQueued();
        this.inflight?.abort(CLOSED);
        this.wake?.();
      }, this.closeTimeoutMs);
      this.idle = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** Reads at most MAX_RESPONSE_BYTES of a response body and cancels the rest; never throws. */
async function drain(res: Response): Promise<void> {
  const body = res.body;
  if (body === null) return;
  const reader = body.getReader();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      n += value.byteLength;
      if (n > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  } catch {
    // aborted by the timeout or reset: the status is already known
  }
}

/** A Retry-After header (seconds, or an HTTP date) in ms, capped; null when absent or bad. */
function retryAfterMs(v: string | null, now = Date.now()): number | null {
  if (v === null) return null;
  const t = v.trim();
  let ms: number;
  if (/^\d+$/.test(t)) ms = Number(t) * 1000;
  else {
    const at = Date.parse(t);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** Why a request was aborted: its own timeout, or close() giving up on it. */
const TIMEOUT = 'timeout';
const CLOSED = 'closed';

/** The useful part of a fetch failure: the system error code (ECONNREFUSED, ENOTFOUND),
 *  else the cause's own words ("bad port": fetch refuses ports such as 9 or 25), not just
 *  "fetch failed". A code of undici's or TLS's own (UND_ERR_SOCKET,
 *  DEPTH_ZERO_SELF_SIGNED_CERT) means little alone: its words follow it. */
function errorText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code !== undefined) {
      const words = cause.message ?? '';
      // ECONNREFUSED and Node's ERR_SSL_* say enough (and OpenSSL's words are a dump)
      const alone = /^E[A-Z]+$/.test(cause.code) || cause.code.startsWith('ERR_') || words === '';
      return alone ? cause.code : `${cause.code} (${words.split('\n')[0]})`;
    }
    if (cause?.message !== undefined && cause.message !== '') return `${e.message}: ${cause.message}`;
    return e.message;
  }
  return String(e);
}

export class WebhookSink implements Sink {
  readonly queue: DeliveryQueue;

  constructor(
    cfg: HttpSinkConfig,
    private readonly sensor: string,
    tuning: Partial<DeliveryOptions> = {},
  ) {
    this.queue = new DeliveryQueue({ ...cfg, ...tuning });
  }

  publish(msg: Message, json: string): void {
    if (msg.type !== 'alert') return;
    const text = `[${this.sensor}] ${formatAlertLine(msg, false)}`;
    // The alert's JSON text is the pipeline's, reused as is.
    this.queue.push(`{"text":${JSON.stringify(text)},"alert":${json}}`);
  }

  get stats(): DeliveryStats {
    return this.queue.stats;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
