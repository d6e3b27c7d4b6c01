// The feed server's configuration (owned by the feed): where it listens, who may connect,
// and the limits that keep a slow or hostile client from costing memory. Built by
// src/cli/feed-options.ts from the command line, or by library users directly.

import { AnalyzerError, ConfigError } from '../errors.js';

export interface FeedConfig {
  /** Address to bind: 127.0.0.1 (default), ::1, localhost, 0.0.0.0, a concrete address. */
  readonly host: string;
  /** TCP port; 0 picks a free one (the FeedSink's url says which). */
  readonly port: number;
  /** Shared secret for /feed, /api/* and /metrics; required on non-loopback binds. */
  readonly token: string | null;
  /** Extra browser origins allowed to open /feed (scheme://host[:port]); same-origin always is. */
  readonly allowOrigins: readonly string[];
  /** Summaries remembered for the hello snapshot (the dashboard's chart history). */
  readonly history: number;
  /** Hosts given per-host series in /metrics (bounded cardinality). */
  readonly metricsHosts: number;
  /** Ping interval; a client that has not answered the previous ping is dropped. */
  readonly heartbeatMs: number;
  /** A client whose socket buffer stays above highWaterBytes this long is disconnected. */
  readonly maxLagMs: number;
  /** A client being closed that has not completed the closing handshake this long after the
   *  close frame was queued (e.g. it still does not read) is terminated. */
  readonly closeGraceMs: number;
  /** Per-client buffered bytes above which the client is "lagging" and skips summaries. */
  readonly highWaterBytes: number;
  /** Connections beyond this are refused with HTTP 503. */
  readonly maxClients: number;
}

export const FEED_DEFAULTS = {
  host: '127.0.0.1',
  token: null,
  allowOrigins: [],
  history: 300,
  metricsHosts: 10,
  heartbeatMs: 30_000,
  maxLagMs: 10_000,
  closeGraceMs: 5000,
  highWaterBytes: 1 << 20,
  maxClients: 1000,
} as const satisfies Omit<FeedConfig, 'port'>;

/** Shortest token accepted: guessing must be hopeless even without rate limits. */
export const MIN_TOKEN_LENGTH = 16;

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Parse `--serve [HOST:]PORT` ("8080", "0.0.0.0:8080", "[::1]:8080", "localhost:0"). */
export function parseServe(spec: string): { host: string; port: number } {
  const s = spec.trim();
  let host: string = FEED_DEFAULTS.host;
  let portText = s;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2] ?? '';
  } else if (s.includes(':')) {
    const i = s.lastIndexOf(':');
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (host.includes(':')) {
      throw new ConfigError(`--serve ${spec}: write an IPv6 address in brackets, e.g. --serve [::1]:8080`);
    }
  }
  if (host === '' || !/^[A-Za-z0-9.:_-]+$/.test(host)) {
    throw new ConfigError(`--serve ${spec}: "${host}" is not a host name or address; use [HOST:]PORT, e.g. --serve 127.0.0.1:8080`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new ConfigError(`--serve ${spec}: the port must be a number from 0 to 65535, e.g. --serve 8080`);
  }
  return { host, port: Number(portText) };
}

/** Normalise an allowed origin to scheme://host[:port] as browsers send it. */
export function normaliseOrigin(origin: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new ConfigError(`--allow-origin ${origin}: not an origin; write it as scheme://host[:port], e.g. https://grafana.example:3000`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`--allow-origin ${origin}: only http and https origins can be allowed`);
  }
  return u.origin;
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got ${String(value)})`);
  }
}

/** Fill defaults and validate; throws ConfigError or ERR_TOKEN_REQUIRED. */
export function feedConfig(input: Partial<FeedConfig> & { readonly port: number }): FeedConfig {
  const c: FeedConfig = {
    ...FEED_DEFAULTS,
    ...input,
    allowOrigins: (input.allowOrigins ?? []).map(normaliseOrigin),
  };
  checkInt('the feed port', c.port, 0, 65535);
  checkInt('--feed-history', c.history, 0, 86_400);
  checkInt('--metrics-hosts', c.metricsHosts, 0, 1000);
  checkInt('the heartbeat interval (ms)', c.heartbeatMs, 50, 3_600_000);
  checkInt('the maximum lag (ms)', c.maxLagMs, 50, 3_600_000);
  checkInt('the close grace period (ms)', c.closeGraceMs, 50, 60_000);
  checkInt('the high-water mark (bytes)', c.highWaterBytes, 1024, 1 << 30);
  checkInt('--max-clients', c.maxClients, 1, 100_000);
  if (c.token !== null && c.token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `--token must be at least ${MIN_TOKEN_LENGTH} characters; generate one with: openssl rand -hex 16`,
    );
  }
  if (c.token === null && !isLoopbackHost(c.host)) {
    throw new AnalyzerError(
      'ERR_TOKEN_REQUIRED',
      `serving on ${c.host} exposes the feed to the network: give --token (at least ${MIN_TOKEN_LENGTH} characters, e.g. from openssl rand -hex 16) or serve on 127.0.0.1`,
    );
  }
  return c;
}
