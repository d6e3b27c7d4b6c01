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

/** Is this the first message of a netpulse feed (a hello from a netpulse server)? */
function isNetpulseHello(m: unknown): boolean {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const r = m as Record<string, unknown>;
  const server = r.server;
  return r.type === 'hello' && typeof server === 'object' && server !== null && (server as Record<string, unknown>).name === 'netpulse';
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
  const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000, maxPayload: MAX_MESSAGE });

  const out = process.stdout;
  const tty = out.isTTY === true && opts.json !== true;
  const state = createWatchState();
  let dirty = false;
  let lastActivity = Date.now();
  let sawEnd = false;
  let sawHello = false;
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
    const timers: NodeJS.Timeout[] = [];
    const finish = (err: AnalyzerError | null, status: number): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearInterval(t);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('resize', onResize);
      if (tty) {
        draw();
        leaveAltScreen();
      }
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
      if (err !== null) reject(err);
      else afterFlush(() => resolve(status));
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
      ws.close(1000, 'watcher stopped');
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
        ws.close(1000, 'watcher stopped');
        finish(
          new AnalyzerError('ERR_OUTPUT', `cannot write the output (${e.code ?? e.message}): it is incomplete; free space or send it elsewhere`, {
            subject: 'stdout',
            cause: e,
          }),
          EXIT.server,
        );
      }
    });

    ws.on('unexpected-response', (_req, res) => {
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
      const done = (): void => {
        const said = (body.split('\n')[0] ?? '').trim().slice(0, REFUSAL_QUOTE);
        const why =
          status >= 200 && status < 300
            ? `answered plain HTTP ${status}, not a WebSocket: this is not a netpulse feed; check the host and port`
            : status === 404 && url.pathname !== '/feed'
              ? `has nothing at ${url.pathname} (HTTP 404); the feed is at /feed`
              : `refused the feed (HTTP ${status}${said !== '' ? `: ${said}` : ''}); check the URL and options`;
        finish(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the server ${why}`), EXIT.server);
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < REFUSAL_QUOTE) body += d;
        if (body.length >= REFUSAL_QUOTE) done();
      });
      res.on('end', done);
      res.on('error', done);
      timers.push(setTimeout(done, 2000));
    });
    ws.on('error', (e: NodeJS.ErrnoException) => {
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
      finish(new AnalyzerError('ERR_FEED_CONNECT', `cannot read the feed at ${shown}: ${why}`, { cause: e }), EXIT.server);
    });
    ws.on('open', () => {
      if (tty) enterAltScreen();
      timers.push(
        setTimeout(() => {
          if (!sawHello) {
            finish(
              new AnalyzerError('ERR_FEED_CONNECT', `${shown}: no hello within ${HELLO_MS / 1000} s of connecting: not a netpulse feed, or the server is stuck; check the URL`),
              EXIT.server,
            );
          }
        }, HELLO_MS),
      );
      timers.push(
        setInterval(() => {
          if (Date.now() - lastActivity > SILENCE_MS) {
            finish(new AnalyzerError('ERR_FEED_CONNECT', `${shown}: nothing heard for ${SILENCE_MS / 1000} s; the server or the network is gone`), EXIT.server);
          }
        }, 5000),
      );
      if (tty) {
        timers.push(setInterval(draw, REDRAW_MS));
        process.stdout.on('resize', onResize);
      }
    });
    ws.on('ping', () => {
      lastActivity = Date.now();
    });
    ws.on('message', (data) => {
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
          ws.close(1000, 'watcher done');
          finish(
            new AnalyzerError('ERR_FEED_CONNECT', `${shown}: not a netpulse feed (its first message is not a netpulse hello); check the host, port and path`),
            EXIT.server,
          );
          return;
        }
        sawHello = true;
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
          ws.close(1000, 'watcher done');
          finish(null, EXIT.ok);
        }
      }
    });
    ws.on('close', (code, reason) => {
      if (!sawHello) {
        // a netpulse server's hello precedes any close frame it sends
        finish(
          new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the server closed the connection before its hello (code ${code}): not a netpulse feed? check the URL`),
          EXIT.server,
        );
      } else if (code === 1000 || code === 1001) finish(null, EXIT.ok);
      else if (sawEnd) finish(null, EXIT.ok);
      else if (code === 1006) {
        finish(
          new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the connection was lost without a close frame (code 1006): the server stopped or the network failed`),
          EXIT.server,
        );
      } else {
        const r = reason.toString();
        finish(
          new AnalyzerError('ERR_FEED_CONNECT', `${shown}: the feed closed (code ${code}${r ? `: ${r}` : ''})`),
          EXIT.server,
        );
      }
    });
  });
}
