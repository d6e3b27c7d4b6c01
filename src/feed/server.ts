// The feed's one HTTP server (owned by the feed): the dashboard at /, the WebSocket /feed,
// Prometheus /metrics, /api/summary, /api/hosts and /healthz. The pipeline publishes every
// message through the returned FeedSink; close() sends close frames and frees the port.

import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AnalyzerError } from '../errors.js';
import { SCHEMA_VERSION, reportMessage, type Message } from '../schema.js';
import type { AnalyzerView, Sink } from '../sinks/sink.js';
import { hostAllowed, originAllowed, presentedToken, tokenMatches } from './auth.js';
import { feedConfig, isLoopbackHost, type FeedConfig } from './config.js';
import { FeedClient, Hub, type Entry } from './hub.js';
import {
  ALL_TOPICS_MASK,
  CLOSE,
  TOPICS,
  TOPIC_BIT,
  isTopic,
  maskToTopics,
  topicsToMask,
  type Topic,
} from './messages.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { loadAssets, type Asset } from './static.js';

/** The sink the pipeline publishes to, plus where the dashboard is. */
export interface FeedSink extends Sink {
  /** The dashboard's URL, e.g. http://127.0.0.1:8080/ (the feed is at url + "feed"). */
  readonly url: string;
}

/** Control messages are tiny; anything larger is closed by ws with 1009. */
export const MAX_CONTROL_PAYLOAD = 4096;
/** Control messages per client per 10 s before it is closed with 1008. */
const MAX_CONTROL_PER_WINDOW = 20;
const CONTROL_WINDOW_MS = 10_000;
const MAINTAIN_MS = 250;
const COMMA = Buffer.from(',');
const NULL = Buffer.from('null');
/** Hosts per summary a client may ask for. */
const MAX_HOSTS_PARAM = 1000;
/** Hosts in /api/summary's report when the request names no number. */
const DEFAULT_REPORT_HOSTS = 10;

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // fall through: a bundled copy without package.json still serves
  }
  return '0.0.0';
}

/** A client-input problem: turned into an HTTP status before upgrade, or a close code after. */
class BadRequest extends Error {}

function parseHostsParam(v: string | null): number {
  if (v === null || v === '' || v === 'all') return -1;
  if (!/^\d+$/.test(v) || Number(v) > MAX_HOSTS_PARAM) {
    throw new BadRequest(`hosts must be a whole number from 0 to ${MAX_HOSTS_PARAM} or "all"`);
  }
  return Number(v);
}

function parseTopicsParam(v: string | null): number {
  if (v === null || v === '' || v === 'all') return ALL_TOPICS_MASK;
  const list: Topic[] = [];
  for (const t of v.split(',')) {
    const name = t.trim();
    if (!isTopic(name)) throw new BadRequest(`unknown topic "${name.slice(0, 32)}"; topics are ${TOPICS.join(', ')}`);
    list.push(name);
  }
  return topicsToMask(list);
}

function formatUrl(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

function tokenRequired(host: string, address: string): AnalyzerError {
  return new AnalyzerError(
    'ERR_TOKEN_REQUIRED',
    `${host} resolves to ${address}, which is not a loopback address: serving there exposes the feed to the network; give --token (at least 16 characters, e.g. from openssl rand -hex 16) or serve on 127.0.0.1`,
  );
}

/** Close reasons are limited to 123 bytes by RFC 6455. */
function reason(s: string): string {
  return Buffer.byteLength(s) <= 123 ? s : `${s.slice(0, 110)}...`;
}

class FeedServer implements FeedSink {
  url = '';
  private readonly hub: Hub;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly assets: Map<string, Asset>;
  private readonly version = packageVersion();
  /** This run, as the hello names it: a client can tell a restarted server from a reconnection. */
  private readonly run = randomBytes(8).toString('hex');
  private readonly started = Date.now() / 1000;
  private timer: NodeJS.Timeout | null = null;
  private lastPing = Date.now();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly config: FeedConfig,
    private readonly view: AnalyzerView,
  ) {
    this.hub = new Hub(config);
    this.assets = loadAssets();
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_e, socket: Duplex) => socket.destroy());
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CONTROL_PAYLOAD,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  async listen(): Promise<void> {
    const { host, port } = this.config;
    const listenError = (e: NodeJS.ErrnoException): AnalyzerError => {
      const why =
        e.code === 'EADDRINUSE'
          ? 'the port is in use; choose another with --serve PORT (or 0 for any free port)'
          : e.code === 'EACCES'
            ? 'permission denied; ports below 1024 need root, choose a port above 1023'
            : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
              ? 'no such local address; give an address of this machine, e.g. 127.0.0.1'
              : `${e.code ?? 'error'}: ${e.message}`;
      return new AnalyzerError('ERR_LISTEN', `cannot serve on ${host}:${port}: ${why}`, { cause: e });
    };
    // A name is resolved here, as listen() would resolve it (the first address), and the
    // address itself is bound: "localhost" (or any name that passed as loopback) that
    // resolves to an address others can reach must not be served without a token.
    const address = await new Promise<string>((resolve, reject) => {
      dns.lookup(host, (e, a) => (e ? reject(listenError(e)) : resolve(a)));
    });
    if (this.config.token === null && !isLoopbackHost(address)) throw tokenRequired(host, address);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => reject(listenError(e));
      this.http.once('error', onError);
      this.http.listen(port, address, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    const bound = this.http.address();
    if (this.config.token === null && (typeof bound !== 'object' || bound === null || !isLoopbackHost(bound.address))) {
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      throw tokenRequired(host, typeof bound === 'object' && bound !== null ? bound.address : String(bound));
    }
    // Later server errors (rare: EMFILE on accept) must not crash the analyzer.
    this.http.on('error', () => undefined);
    const addr = this.http.address();
    const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port;
    this.url = formatUrl(host, actualPort);
    this.timer = setInterval(() => this.maintain(), MAINTAIN_MS);
    this.timer.unref();
  }

  publish(msg: Message, json: string): void {
    if (this.closing !== null) return;
    this.hub.publish(msg, json);
  }

  private maintain(): void {
    this.hub.maintain();
    const now = Date.now();
    if (now - this.lastPing < this.config.heartbeatMs) return;
    this.lastPing = now;
    for (const c of this.hub.clients) {
      if (c.closing) continue;
      if (!c.alive) {
        c.closing = true;
        this.hub.counters.disconnects.heartbeat++;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  // ---- HTTP ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      this.plain(res, 400, 'bad request URL');
      return;
    }
    if (!hostAllowed(this.config.host, req.headers.host)) {
      this.plain(res, 403, 'this server answers only to localhost names (Host header refused)');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      this.plain(res, 405, 'only GET and HEAD are served');
      return;
    }
    const path = url.pathname;
    if (path === '/healthz') {
      this.json(res, 200, {
        status: 'ok',
        seq: this.hub.seq,
        clients: this.hub.clients.size,
        ended: this.hub.endEntry !== null,
      });
      return;
    }
    const asset = this.assets.get(path);
    if (asset !== undefined) {
      res.writeHead(200, {
        'Content-Type': asset.type,
        'Content-Length': asset.body.length,
        // A browser's cache entry is keyed by the URL, and /?token=T is how the token is
        // handed to the page: that URL must not be written to the cache.
        'Cache-Control': url.search === '' ? 'no-cache' : 'no-store',
        'Content-Security-Policy':
          "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (path === '/metrics' || path === '/api/summary' || path === '/api/hosts') {
      if (this.config.token !== null && !tokenMatches(this.config.token, presentedToken(req, url))) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="netpulse"');
        this.plain(res, 401, 'token required: send Authorization: Bearer TOKEN or ?token=TOKEN');
        return;
      }
      try {
        this.dataRoute(path, url, res);
      } catch (e) {
        if (e instanceof BadRequest) this.plain(res, 400, e.message);
        else this.plain(res, 500, 'the analyzer could not answer (see the netpulse process output)');
      }
      return;
    }
    if (path === '/feed') {
      this.plain(res, 426, 'this is a WebSocket endpoint: connect with a WebSocket client');
      return;
    }
    this.plain(res, 404, 'not found: try /, /feed, /metrics, /api/summary, /api/hosts, /healthz');
  }

  private dataRoute(path: string, url: URL, res: ServerResponse): void {
    if (path === '/metrics') {
      const body = renderMetrics({
        version: this.version,
        source: this.view.source,
        report: this.view.snapshot(this.config.metricsHosts),
        hub: this.hub,
      });
      res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    if (path === '/api/summary') {
      const param = url.searchParams.get('hosts');
      const hosts = parseHostsParam(param);
      const last = this.hub.lastSummary;
      this.json(res, 200, {
        v: SCHEMA_VERSION,
        seq: this.hub.seq,
        source: { description: this.view.source.description, clock: this.view.source.clock },
        ended: this.hub.endEntry !== null,
        // the stream's report message (type, v), as `last` is its summary message
        report: reportMessage(this.view.snapshot(hosts >= 0 ? hosts : param === 'all' ? this.reportHosts() : DEFAULT_REPORT_HOSTS)),
        last: last === null ? null : (JSON.parse(this.hub.bufFor(last, hosts).toString('utf8')) as unknown),
      });
      return;
    }
    const limitText = url.searchParams.get('limit');
    let limit = 100;
    if (limitText !== null) {
      if (!/^\d+$/.test(limitText) || Number(limitText) > 100_000) {
        throw new BadRequest('limit must be a whole number from 0 to 100000');
      }
      limit = Number(limitText);
    }
    const r = this.view.snapshot(limit);
    this.json(res, 200, {
      v: SCHEMA_VERSION,
      hostsTracked: r.hostsTracked,
      evictedHosts: r.evictedHosts,
      hosts: r.hosts,
    });
  }

  /** Hosts the analyzer's own report lists (its shown reportHosts: a number or "all"). */
  private reportHosts(): number {
    const n = this.view.options.reportHosts;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : Infinity;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }

  private plain(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${text}\n`);
  }

  // ---- WebSocket ----

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string, extra = ''): void => {
      const body = `${text}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n${extra}` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (this.closing !== null) return refuse(503, 'server shutting down');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(400, 'bad request URL');
    }
    if (url.pathname !== '/feed') return refuse(404, 'the WebSocket endpoint is /feed');
    const host = req.headers.host;
    if (!hostAllowed(this.config.host, host)) return refuse(403, 'Host header refused');
    if (!originAllowed(req.headers.origin, host, this.config.allowOrigins)) {
      return refuse(403, 'origin not allowed: open the dashboard from this server or start it with --allow-origin');
    }
    if (this.config.token !== null && !tokenMatches(this.config.token, presentedToken(req, url))) {
      return refuse(401, 'token required: send Authorization: Bearer TOKEN or ?token=TOKEN', 'WWW-Authenticate: Bearer realm="netpulse"\r\n');
    }
    if (this.hub.clients.size >= this.config.maxClients) return refuse(503, 'too many clients');
    let topics: number;
    let hosts: number;
    try {
      topics = parseTopicsParam(url.searchParams.get('topics'));
      hosts = parseHostsParam(url.searchParams.get('hosts'));
    } catch (e) {
      return refuse(400, e instanceof Error ? e.message : 'bad request');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, topics, hosts));
  }

  private accept(ws: WebSocket, topics: number, hosts: number): void {
    const hub = this.hub;
    const c = new FeedClient(ws, topics, hosts);
    hub.clients.add(c);
    hub.counters.connections++;
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onControl(c, data, isBinary));
    ws.on('error', () => {
      // ws closes the connection itself (1009 for oversize, 1002 for protocol errors)
      if (!c.closing) {
        c.closing = true;
        hub.counters.disconnects.protocol++;
      }
    });
    ws.on('close', () => {
      hub.clients.delete(c);
      if (!c.closing) {
        c.closing = true;
        hub.counters.disconnects.client++;
      }
    });
    hub.sendParts(c, this.hello(c));
  }

  private onControl(c: FeedClient, data: RawData, isBinary: boolean): void {
    if (c.closing) return;
    if (isBinary) {
      this.hub.disconnect(c, CLOSE.unsupportedData, 'binary messages are not accepted', 'protocol');
      return;
    }
    const now = Date.now();
    if (now - c.controlWindowStart > CONTROL_WINDOW_MS) {
      c.controlWindowStart = now;
      c.controlCount = 0;
    }
    if (++c.controlCount > MAX_CONTROL_PER_WINDOW) {
      this.hub.disconnect(c, CLOSE.policyViolation, 'too many control messages', 'protocol');
      return;
    }
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      let req: unknown;
      try {
        req = JSON.parse(text);
      } catch {
        throw new BadRequest('control message is not JSON');
      }
      this.applySubscribe(c, req);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      this.hub.disconnect(c, CLOSE.policyViolation, reason(e.message), 'protocol');
      return;
    }
    // The reply is a fresh hello: the state in force for the new subscription.
    this.hub.sendParts(c, this.hello(c));
  }

  private applySubscribe(c: FeedClient, req: unknown): void {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new BadRequest('control message must be a JSON object');
    const r = req as Record<string, unknown>;
    if (r.type !== 'subscribe') throw new BadRequest('unknown control message type; only "subscribe" is accepted');
    for (const k of Object.keys(r)) {
      if (k !== 'type' && k !== 'topics' && k !== 'hosts') throw new BadRequest(`unknown field "${k.slice(0, 32)}" in subscribe`);
    }
    let topics = c.topics;
    let hosts = c.hosts;
    if (r.topics !== undefined) {
      if (!Array.isArray(r.topics) || r.topics.length > TOPICS.length) throw new BadRequest('topics must be an array of topic names');
      const list: Topic[] = [];
      for (const t of r.topics as unknown[]) {
        if (!isTopic(t)) throw new BadRequest(`unknown topic; topics are ${TOPICS.join(', ')}`);
        list.push(t);
      }
      topics = topicsToMask(list);
    }
    if (r.hosts !== undefined) {
      if (r.hosts === null) hosts = -1;
      else if (typeof r.hosts === 'number' && Number.isInteger(r.hosts) && r.hosts >= 0 && r.hosts <= MAX_HOSTS_PARAM) hosts = r.hosts;
      else throw new BadRequest(`hosts must be null or a whole number from 0 to ${MAX_HOSTS_PARAM}`);
    }
    c.topics = topics;
    c.hosts = hosts;
  }

  /** The hello for one client, in parts: the envelope is new, the messages in it are the
   *  shared encoded copies (neither re-serialised nor copied). */
  private hello(c: FeedClient): Buffer[] {
    const hub = this.hub;
    const want = (bit: number): boolean => (c.topics & bit) !== 0;
    const head = {
      type: 'hello',
      v: SCHEMA_VERSION,
      seq: hub.seq,
      server: { name: 'netpulse', version: this.version, run: this.run, started: this.started },
      source: { description: this.view.source.description, clock: this.view.source.clock },
      options: this.view.options,
      topics: maskToTopics(c.topics),
      hosts: c.hosts < 0 ? null : c.hosts,
    };
    const parts: Buffer[] = [Buffer.from(`${JSON.stringify(head).slice(0, -1)},"summaries":[`)];
    const list = (entries: Iterable<Entry>, hosts: number): void => {
      let first = true;
      for (const e of entries) {
        if (!first) parts.push(COMMA);
        parts.push(hub.bufFor(e, hosts));
        first = false;
      }
    };
    if (want(TOPIC_BIT.summary)) list(hub.history, c.hosts);
    parts.push(Buffer.from('],"alerts":['));
    if (want(TOPIC_BIT.alert)) list(hub.openAlerts.values(), -1);
    parts.push(Buffer.from('],"stats":'));
    parts.push(want(TOPIC_BIT.stats) && hub.lastStats !== null ? hub.lastStats.buf : NULL);
    parts.push(Buffer.from(',"end":'));
    parts.push(want(TOPIC_BIT.end) && hub.endEntry !== null ? hub.endEntry.buf : NULL);
    parts.push(Buffer.from('}'));
    return parts;
  }

  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const gone = [...this.hub.clients].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === c.ws.CLOSED) resolve();
          else c.ws.once('close', () => resolve());
          this.hub.disconnect(c, CLOSE.goingAway, 'server shutting down', 'shutdown');
        }),
    );
    await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const c of this.hub.clients) c.ws.terminate();
    this.http.closeAllConnections();
    await closed;
  }
}

/**
 * Start the feed's HTTP server and return the sink the pipeline publishes to. Rejects with
 * ERR_LISTEN (address in use, no permission) or ERR_TOKEN_REQUIRED (non-loopback, no token).
 */
export async function startFeed(config: FeedConfig, view: AnalyzerView): Promise<FeedSink> {
  const server = new FeedServer(feedConfig(config), view);
  await server.listen();
  return server;
}
