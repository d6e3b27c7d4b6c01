// --alertmanager URL: pushes alerts to Prometheus Alertmanager's v2 API (POST
// /api/v2/alerts). A raise is sent with startsAt and no endsAt and re-sent every
// `resendSeconds` while it lasts (Alertmanager resolves alerts it stops hearing about);
// a resolve is sent with endsAt. Labels come from the alert's identifier (alertname =
// note, detector, host), its severity and the sensor name, so several sensors can share
// one deduplicating, routing Alertmanager.

import type { HttpSinkConfig } from '../detect/config.js';
import type { Alert } from '../detect/alert.js';
import type { Message } from '../schema.js';
import { DeliveryQueue, type DeliveryOptions, type DeliveryStats } from './webhook.js';
import type { Sink } from './sink.js';

/** One element of the POST /api/v2/alerts body (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

/** The alerts endpoint for a base URL ("http://am:9093" or already ".../api/v2/alerts"):
 *  the path is extended, a query kept, a fragment (never sent) dropped. */
export function alertsEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // checked when the options were read; as it was, for fetch to refuse
    const s = url.replace(/\/+$/, '');
    return s.endsWith('/api/v2/alerts') ? s : `${s}/api/v2/alerts`;
  }
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/api/v2/alerts') ? path : `${path}/api/v2/alerts`;
  u.hash = '';
  return u.toString();
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

export function toPostable(a: Alert, sensor: string): PostableAlert {
  const labels: Record<string, string> = {
    alertname: a.note,
    detector: a.detector,
    severity: a.severity,
    sensor,
  };
  if (a.host !== null) labels.host = a.host;
  const annotations: Record<string, string> = {
    summary: a.message,
    key: a.key,
    metric: a.metric,
    value: String(a.value),
  };
  if (a.threshold !== null) annotations.threshold = String(a.threshold);
  if (a.baseline !== null) {
    annotations.baseline_mean = String(a.baseline.mean);
    annotations.baseline_stdev = String(a.baseline.stdev);
    annotations.z = String(a.baseline.z);
  }
  const p: PostableAlert = { labels, annotations, startsAt: iso(a.since) };
  // Alertmanager refuses endsAt before startsAt; a resolve is never before its start.
  if (a.state === 'resolved') p.endsAt = iso(Math.max(a.ts, a.since));
  return p;
}

export class AlertmanagerSink implements Sink {
  readonly queue: DeliveryQueue;
  /** Raised and not yet resolved, by key: re-sent every resendSeconds. */
  private readonly active = new Map<string, PostableAlert>();
  private pending: PostableAlert[] = [];
  private flushScheduled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    cfg: HttpSinkConfig & { resendSeconds: number },
    private readonly sensor: string,
    tuning: Partial<DeliveryOptions> = {},
  ) {
    this.queue = new DeliveryQueue({ ...cfg, url: alertsEndpoint(cfg.url), ...tuning });
    this.timer = setInterval(() => this.resend(), cfg.resendSeconds * 1000);
    this.timer.unref();
  }

  publish(msg: Message, _json?: string): void {
    if (msg.type !== 'alert') return;
    const p = toPostable(msg, this.sensor);
    if (msg.state === 'raised') this.active.set(msg.key, p);
    else this.active.delete(msg.key);
    this.pending.push(p);
    // Alerts of one second arrive together: send them as one request.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    // counted in alerts, not requests: a lost batch of 40 is 40 lost alerts
    this.queue.push(JSON.stringify(this.pending), this.pending.length);
    this.pending = [];
  }

  private resend(): void {
    if (this.active.size > 0) this.queue.push(JSON.stringify([...this.active.values()]), this.active.size);
  }

  get stats(): DeliveryStats {
    return this.queue.stats;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await this.queue.close();
  }
}
