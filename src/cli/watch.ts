// `netpulse watch URL`: a terminal client of a netpulse feed (owned by the feed). It redraws
// rates, top hosts and alerts in place, or with --json passes every message through as NDJSON.

import { Option, type Command } from 'commander';
import { AnalyzerError, EXIT } from '../errors.js';
import { TOPICS, isTopic } from '../feed/messages.js';
import { applyMessage, createWatchState, fmtTime, renderWatch, summaryLine } from '../feed/watch-view.js';
import type { Alert } from '../detect/alert.js';
import type { SummaryMessage } from '../schema.js';
import { formatAlertLine } from '../sinks/console-alerts.js';
import { printable } from '../text.js';

interface WatchOptions {
  token?: string;
  json?: boolean;
  topics?: string;
  hosts?: string;
  untilEnd?: boolean;
  reconnect?: boolean;
}

/** No message or ping for this long means the server or the path to it is gone. */
const SILENCE_MS = 75_000;
const REDRAW_MS = 200;
/** A netpulse server sends its hello as soon as it accepts the connection (README: "`hello`
 *  comes first on every connection"); nothing for this long after the handshake is not a feed. */
const HELLO_MS = 10_000;
/** Largest message accepted: a hello holds at most the 64 MiB history and 1,000 alerts. */
const MAX_MESSAGE = 256 * 1024 * 1024;
/** Bytes of a refusing server's body quoted in the error line. */
const REFUSAL_QUOTE = 160;
/** --reconnect: the first retry after this long, doubling up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Is this the first message of a netpulse feed (a hello from a netpulse server)? */
function isNetpulseHello(m: unknown): boolean {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const r = m as Record<string, unknown>;
  const server = r.server;
  return r.type === 'hello' && typeof server === 'object' && server !== null && (server as Record<string, unknown>).name === 'netpulse';
}

/** The run id a netpulse hello names (servers before it was added name none). */
function runOf(m: unknown): string | undefined {
  const server = (m as { server?: { run?: unknown } }).server;
  return typeof server?.run === 'string' ? server.run : undefined;
}

/** Accept ws(s)://host:port[/feed] and, for convenience, the dashboard's http(s) URL. */
export function feedUrlFrom(input: string, topics: string | undefined, hosts: string | undefined): URL {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new AnalyzerError('ERR_BAD_OPTION', `"${input}" is not a URL; give the feed as ws://HOST:PORT/feed`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new AnalyzerError('ERR_BAD_OPTION', `${input}: the feed is a ws:// or wss:// URL, e.g. ws://127.0.0.1:8080/feed`);
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/feed';
  if (topics !== undefined) {
    for (const t of topics.split(',')) {
      if (!isTopic(t.trim())) throw new AnalyzerError('ERR_BAD_OPTION', `--topics: unknown topic "${t}"; topics are ${TOPICS.join(', ')}`);
    }
    u.searchParams.set('topics', topics);
  }
  if (hosts !== undefined) {
    if (!/^\d+$/.test(hosts) || Number(hosts) > 1000) throw new AnalyzerError('ERR_BAD_OPTION', '--hosts must be a whole number from 0 to 1000');
    u.searchParams.set('hosts', hosts);
  }
  return u;
}

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('watch a running netpulse feed in the terminal (or pass it through as NDJSON with --json)')
    .argument('<url>', 'the feed, e.g. ws://127.0.0.1:8080/feed')
    .addOption(new Option('--token <token>', 'the server\'s --token').env('NETPULSE_TOKEN'))
    .option('--json', 'print every message as one JSON line (for jq) instead of the terminal view')
    .option('--topics <list>', `only these message types (${TOPICS.join(',')})`)
    .option('--hosts <n>', 'hosts per summary')
    .option('--until-end', 'exit once the source has ended (a replay finished)')
    .option('--reconnect', 'when the feed cannot be reached or is lost, try again (after 1 s, doubling to 30 s) until Ctrl-C')
    .action(async (url: string, opts: WatchOptions) => {
      process.exitCode = await watch(url, opts);
    });
}

async function watch(input: string, opts: WatchOptions): Promise<number> {
  // --until-end has to see the end even when --topics leaves it out; it is then not printed.
  const hideEnd = opts.untilEnd === true && opts.topics !== undefined && !opts.topics.split(',').some((t) => t.trim() === 'end');
  const url = feedUrlFrom(input, hideEnd ? `${opts.topics},end` : opts.topics, opts.hosts);
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const headers: Record<string, string> = {};
  if (opts.token !== undefined && opts.token !== '') headers.Authorization = `Bearer ${opts.token}`;
  // loaded here, not at start-up: every other command starts faster without ws
  const { default: WebSocket } = await import('ws');

  const out = process.stdout;
  const tty = out.isTTY === true && opts.json !== true;
  const state = createWatchState();
  let dirty = false;
  const tokenGiven = headers.Authorization !== undefined || url.searchParams.has('token');

  // A pty without a size says 0 columns and rows: then assume a classic 80x24.
  const cols = (): number => (out.columns !== undefined && out.columns > 0 ? out.columns : 80);
  const rows = (): number => (out.rows !== undefined && out.rows > 0 ? out.rows : 24);
  // The view lives on the terminal's alternate screen while connected; nothing is drawn
  // once it has been left (drawing then would home the cursor and clear the user's screen).
  let onAltScreen = false;
  const draw = (): void => {
    if (!dirty || !onAltScreen) return;
    dirty = false;
    const lines = renderWatch(state, cols(), rows() - 1);
    out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
  };
  const enterAltScreen = (): void => {
    if (onAltScreen) return;
    onAltScreen = true;
    out.write('\x1b[?1049h\x1b[?25l\x1b[2J');
  };
  /** Back to the normal screen, leaving the last view there (the source's end, the final
   *  rates and alerts stay readable after exit, as tcpdump's closing counts do). */
  const leaveAltScreen = (): void => {
    if (!onAltScreen) return;
    onAltScreen = false;
    out.write('\x1b[?25h\x1b[?1049l');
    if (state.source !== null) out.write(`${renderWatch(state, cols(), rows() - 1).join('\n')}\n`);
  };
  // Without a terminal: a line per second, per alert, per gap and at the end, for a log.
  const plainLine = (type: unknown, m: unknown): string | null => {
    if (type === 'summary') return summaryLine(m as SummaryMessage);
    if (type === 'alert') return formatAlertLine(m as Alert, false);
    if (type === 'gap') {
      const g = m as { from: number; to: number };
      return `-- no packets from ${fmtTime(g.from)} to ${fmtTime(g.to)} (${g.to - g.from + 1} s) --`;
    }
    if (type === 'end') return `-- the source ended (${String((m as { reason?: unknown }).reason)}) --`;
    if (type === 'hello') {
      const end = (m as { end?: { reason?: unknown } | null }).end;
      if (end !== null && end !== undefined) return `-- the source has ended (${String(end.reason)}) --`;
    }
    return null;
  };

  return new Promise<number>((resolve, reject) => {
    let settled = false;
    /** Timers of the whole watch (redraw); conn: those of the current connection. */
    const timers: NodeJS.Timeout[] = [];
    let conn: NodeJS.Timeout[] = [];
    // The current connection and what it has said. With --reconnect a lost one is replaced;
    // events of a replaced socket are ignored (see connect()).
    let ws: InstanceType<typeof WebSocket> | null = null;
    let sawHello = false;
    let sawEnd = false;
    let lastActivity = Date.now();
    /** A netpulse hello came on some connection: the URL is a feed, what fails now is transient. */
    let everHello = false;
    /** Failed attempts since the last hello (the backoff's exponent). */
    let attempt = 0;
    let retryTimer: NodeJS.Timeout | null = null;
    /** The server run the last hello named (undefined: none yet, or a server too old to say). */
    let lastRun: string | undefined;
    let drawing = false;

    const dropConnection = (): void => {
      for (const t of conn) clearInterval(t);
      conn = [];
      const old = ws;
      ws = null;
      if (old !== null && (old.readyState === old.OPEN || old.readyState === old.CONNECTING)) old.terminate();
    };
    const finish = (err: AnalyzerError | null, status: number): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearInterval(t);
      if (retryTimer !== null) clearTimeout(retryTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('resize', onResize);
      if (tty) {
        draw();
        leaveAltScreen();
      }
      dropConnection();
      if (err !== null) reject(err);
      else afterFlush(() => resolve(status));
    };
    /** The feed is lost or out of reach: with --reconnect (and a failure that can pass) try
     *  again after a pause that doubles from 1 s to 30 s; else end with err. */
    const lost = (err: AnalyzerError, status: number, transient = true): void => {
      if (settled) return;
      if (opts.reconnect !== true || !transient) {
        finish(err, status);
        return;
      }
      dropConnection();
      attempt++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt - 1, 5));
      const text = `${err.message} (attempt ${attempt}; reconnecting in ${delay / 1000} s)`;
      // on the view while it is up; before the first connection, a line on stderr
      if (tty && onAltScreen) {
        // what happens next first: a narrow terminal cuts the end of the line
        state.notice = `feed lost, reconnecting in ${delay / 1000} s (attempt ${attempt}): ${err.message}`;
        dirty = true;
        draw();
      } else process.stderr.write(`netpulse: ${printable(text)}\n`);
      retryTimer = setTimeout(() => {
        retryTimer = null;
        connect();
      }, delay);
    };
    // The CLI exits as soon as this resolves: into a pipe whose reader is slower than the
    // feed, what stdout still holds would be lost (`watch --json --until-end | slow reader`
    // lost all but the first 64 KiB). An empty write's callback runs once everything
    // before it is out, or with the error that stopped it (a reader that went away).
    const afterFlush = (then: () => void): void => {
      if (out.writableLength === 0 || out.destroyed) then();
      else out.write('', () => then());
    };
    const onSignal = (): void => {
      if (tty) leaveAltScreen();
      ws?.close(1000, 'watcher stopped');
      finish(null, EXIT.interrupted);
    };
    const onResize = (): void => {
      dirty = true;
      draw();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // `netpulse watch ... --json | head` closes our stdout: that is a normal way to stop.
    // Any other write error (a full disk) loses the output: not a success (README "Errors
    // and exit statuses": ERR_OUTPUT, exit status 6).
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') finish(null, EXIT.ok);
      else {
        ws?.close(1000, 'watcher stopped');
        finish(
          new AnalyzerError('ERR_OUTPUT', `cannot write the output (${e.code ?? e.message}): it is incomplete; free space or send it elsewhere`, {
            subject: 'stdout',
            cause: e,
          }),
          EXIT.server,
        );
      }
    });

    const connect = (): void => {
      if (settled) return;
      const sock = new WebSocket(url, { headers, handshakeTimeout: 10_000, maxPayload: MAX_MESSAGE });
      ws = sock;
      sawHello = false;
      sawEnd = false;
      lastActivity = Date.now();
      /** Still the current connection? (a replaced one's late events change nothing) */
      const current = (): boolean => ws === sock && !settled;

      sock.on('unexpected-response', (_req, res) => {
        if (!current()) {
          res.resume();
          return;
        }
        const status = res.statusCode ?? 0;
        if (status === 401) {
          res.resume();
          finish(
            new AnalyzerError(
              'ERR_TOKEN_REQUIRED',
              tokenGiven
                ? `${shown}: the server refused the token it was given; give the server's own --token (or NETPULSE_TOKEN)`
                : `${shown}: the server wants its token; give --token TOKEN (or set NETPULSE_TOKEN)`,
            ),
            EXIT.usage,
          );
          return;
        }
        // A netpulse server says why in the body's first line (a bad topic, too many clients);
        // anything else that answers plain HTTP is not a feed.
        let body = '';
        let told = false;
        const done = (): void => {
          if (told) return;
          told = true;
          if (!current()) return;
          const said = (body.split('\n')[0] ?? '').trim().slice(0, REFUSAL_QUOTE);
          const why =
            status >= 200 && status < 300
              ? `answered plain HTTP ${status}, not a WebSocket: this is not a netpulse feed; check the host and port`
              : status === 404 && url.pathname !== '/feed'
                ? `has nothing at ${url.pathname} (HTTP 404); the feed is at /feed`
                : `refused the feed (HTTP ${status}${said !== '' ? `: ${said}` : ''}); check the URL and options`;
          // 5xx (too many clients, a proxy whose server is down) can pass; a 4xx will not
          lost(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the server ${why}`), EXIT.server, status >= 500);
        };
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < REFUSAL_QUOTE) body += d;
          if (body.length >= REFUSAL_QUOTE) done();
        });
        res.on('end', done);
        res.on('error', done);
        conn.push(setTimeout(done, 2000));
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (!current()) return;
        const why =
          e.code === 'ECONNREFUSED'
            ? 'connection refused; is netpulse running with --serve on that port?'
            : e.code === 'ENOTFOUND'
              ? 'unknown host'
              : e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
                ? `the server sent a message over ${MAX_MESSAGE / 1024 / 1024} MiB; a netpulse feed's are far smaller`
                : e.code?.startsWith('WS_ERR_') === true
                  ? `the server broke the WebSocket protocol (${e.message})`
                  : e.message;
        // a broken protocol is the server's doing, not the network's: not retried
        lost(new AnalyzerError('ERR_FEED_CONNECT', `cannot read the feed at ${shown}: ${why}`, { cause: e }), EXIT.server, e.code?.startsWith('WS_ERR_') !== true);
      });
      sock.on('open', () => {
        if (!current()) return;
        if (tty) enterAltScreen();
        conn.push(
          setTimeout(() => {
            if (current() && !sawHello) {
              lost(
                new AnalyzerError('ERR_FEED_CONNECT', `${shown}: no hello within ${HELLO_MS / 1000} s of connecting: not a netpulse feed, or the server is stuck; check the URL`),
                EXIT.server,
                everHello,
              );
            }
          }, HELLO_MS),
        );
        conn.push(
          setInterval(() => {
            if (current() && Date.now() - lastActivity > SILENCE_MS) {
              lost(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: nothing heard for ${SILENCE_MS / 1000} s; the server or the network is gone`), EXIT.server);
            }
          }, 5000),
        );
        if (tty && !drawing) {
          drawing = true;
          timers.push(setInterval(draw, REDRAW_MS));
          process.stdout.on('resize', onResize);
        }
      });
      sock.on('ping', () => {
        if (current()) lastActivity = Date.now();
      });
      sock.on('message', (data) => {
        if (!current()) return;
        lastActivity = Date.now();
        const text = String(data);
        let m: unknown;
        try {
          m = JSON.parse(text);
        } catch {
          m = undefined;
        }
        if (!sawHello) {
          // whatever answered the handshake must say it is netpulse before anything is shown
          if (!isNetpulseHello(m)) {
            sock.close(1000, 'watcher done');
            finish(
              new AnalyzerError('ERR_FEED_CONNECT', `${shown}: not a netpulse feed (its first message is not a netpulse hello); check the host, port and path`),
              EXIT.server,
            );
            return;
          }
          sawHello = true;
          everHello = true;
          const run = runOf(m);
          if (attempt > 0) {
            attempt = 0;
            const restarted = lastRun !== undefined && run !== undefined && run !== lastRun;
            if (tty && onAltScreen) state.notice = null;
            else process.stderr.write(`netpulse: connected again to ${printable(shown)}${restarted ? ': the server restarted (a new run, counted from zero)' : ''}\n`);
          }
          lastRun = run;
        }
        if (m === undefined) return;
        const type = typeof m === 'object' && m !== null && 'type' in m ? m.type : undefined;
        if (opts.json === true) {
          if (!(hideEnd && type === 'end')) out.write(`${text}\n`);
        } else {
          applyMessage(state, m);
          dirty = true;
          if (!tty) {
            const line = plainLine(type, m);
            // the feed is another process's word: its text is shown, never obeyed by the terminal
            if (line !== null) out.write(`${printable(line)}\n`);
          }
        }
        if (type === 'end' || (type === 'hello' && typeof m === 'object' && m !== null && 'end' in m && m.end !== null)) {
          sawEnd = true;
          if (opts.untilEnd === true) {
            sock.close(1000, 'watcher done');
            finish(null, EXIT.ok);
          }
        }
      });
      sock.on('close', (code, reason) => {
        if (!current()) return;
        if (!sawHello) {
          // a netpulse server's hello precedes any close frame it sends
          lost(
            new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the server closed the connection before its hello (code ${code}): not a netpulse feed? check the URL`),
            EXIT.server,
            everHello,
          );
          return;
        }
        const r = reason.toString();
        if (code === 1000 || code === 1001 || sawEnd) {
          // the server shut down (or the source had ended): done, unless told to keep following
          if (opts.reconnect === true) lost(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the server closed the feed (code ${code}${r ? `: ${r}` : ''})`), EXIT.server);
          else finish(null, EXIT.ok);
        } else if (code === 1006) {
          lost(
            new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the connection was lost without a close frame (code 1006): the server stopped or the network failed`),
            EXIT.server,
          );
        } else {
          lost(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the feed closed (code ${code}${r ? `: ${r}` : ''})`), EXIT.server);
        }
      });
    };
    connect();
  });
}
