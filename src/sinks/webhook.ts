// --webhook URL: each alert POSTed as JSON with a Slack-compatible `text` and the full
// alert message. Delivery never blocks packet processing: a bounded queue (the oldest is
// dropped and counted when full), one request at a time, a timeout per request, bounded
// retries with exponential backoff on network errors, timeouts, 429 and 5xx.

import type { HttpSinkConfig } from '../detect/config.js';
import type { Message } from '../schema.js';
import { formatAlertLine } from './console-alerts.js';
import type { Sink } from './sink.js';

export interface DeliveryStats {
  /** Requests that got a 2xx. */
  delivered: number;
  /** Items given up after the last retry or on a non-retryable status. */
  failed: number;
  /** Items dropped because the queue was full, or still queued when close() gave up. */
  dropped: number;
  /** Attempts after a first failure. */
  retries: number;
  /** Items waiting right now. */
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

/** POSTs bodies in order, one at a time; shared by the webhook and Alertmanager sinks. */
export class DeliveryQueue {
  private readonly items: string[] = [];
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

  /** Queue a body; returns at once. */
  push(body: string): void {
    if (this.closing) {
      this.stats.dropped++;
      return;
    }
    // The item in flight (items[0] while running) is not the queue's to drop.
    const busy = this.running ? 1 : 0;
    if (this.items.length - busy >= this.opts.queue) {
      this.items.splice(busy, 1);
      this.stats.dropped++;
    }
    this.items.push(body);
    this.stats.queued = this.items.length;
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const body = this.items[0];
        if (body === undefined) break;
        const ok = await this.deliver(body);
        // close() may have dropped the queue meanwhile: only shift what we sent.
        if (this.items[0] === body) this.items.shift();
        this.stats.queued = this.items.length;
        if (ok) this.stats.delivered++;
        else this.stats.failed++;
      }
    } finally {
      this.running = false;
      this.idle?.();
    }
  }

  /** One item with its retries; true when delivered. */
  private async deliver(body: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (this.closing && this.closeDeadlinePassed()) return false;
        this.stats.retries++;
        await this.sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)));
      }
      const r = await this.post(body);
      if (r === 'ok') return true;
      if (r === 'fatal' || attempt >= this.opts.retries) return false;
    }
  }

  private closeDeadline = Infinity;
  private closeDeadlinePassed(): boolean {
    return Date.now() >= this.closeDeadline;
  }

  private async post(body: string): Promise<'ok' | 'retry' | 'fatal'> {
    const ac = new AbortController();
    this.inflight = ac;
    const timer = setTimeout(() => ac.abort(TIMEOUT), this.opts.timeoutMs);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        body,
        signal: ac.signal,
      });
      // Read the body so the connection can be reused; it is not used.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      this.stats.lastError = `HTTP ${res.status}`;
      return res.status === 429 || res.status >= 500 ? 'retry' : 'fatal';
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
        this.stats.dropped += Math.max(0, this.items.length - keep);
        this.items.length = Math.min(this.items.length, keep);
        this.stats.queued = this.items.length;
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

/** Why a request was aborted: its own timeout, or close() giving up on it. */
const TIMEOUT = 'timeout';
const CLOSED = 'closed';

/** The useful part of a fetch failure: the system error code (ECONNREFUSED, ENOTFOUND),
 *  else the cause's own words ("bad port": fetch refuses ports such as 9 or 25), not just
 *  "fetch failed". */
function errorText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code !== undefined) return cause.code;
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
