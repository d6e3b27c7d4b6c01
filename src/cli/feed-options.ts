// The feed's command-line options (owned by the feed), shared by `replay` and `live`:
// addFeedOptions adds them to a command, feedConfigFromOptions turns them into a FeedConfig.

import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { FEED_DEFAULTS, feedConfig, parseServe, type FeedConfig } from '../feed/config.js';

export function addFeedOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--serve <[host:]port>',
        'serve the dashboard, WebSocket /feed, /metrics and /api on HOST:PORT (default host 127.0.0.1; port 0 = any free port)',
      ),
    )
    .addOption(
      new Option('--token <token>', 'secret required by /feed, /api and /metrics (needed off loopback; at least 16 characters)').env(
        'NETPULSE_TOKEN',
      ),
    )
    .addOption(
      new Option('--allow-origin <origin>', 'also let browser pages from this origin open /feed (repeatable)').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(new Option('--feed-history <n>', 'summaries kept for a new client\'s snapshot').default(String(FEED_DEFAULTS.history)))
    .addOption(new Option('--metrics-hosts <k>', 'hosts given their own series in /metrics').default(String(FEED_DEFAULTS.metricsHosts)))
    .addOption(new Option('--max-clients <n>', 'WebSocket clients served at once').default(String(FEED_DEFAULTS.maxClients)));
}

/** What addFeedOptions adds to a command's parsed options (extend your options type with it). */
export interface FeedCliOptions {
  serve?: string;
  token?: string;
  allowOrigin?: string[];
  feedHistory?: string;
  metricsHosts?: string;
  maxClients?: string;
}

function intOption(opts: Readonly<Record<string, unknown>>, key: string, flag: string, fallback: number): number {
  const v = opts[key];
  if (v === undefined) return fallback;
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^\d+$/.test(s)) throw new ConfigError(`${flag} must be a whole number (got "${String(v)}")`);
  return Number(s);
}

/** The feed's configuration from parsed options, or null when --serve was not given. */
export function feedConfigFromOptions(parsed: FeedCliOptions): FeedConfig | null {
  // checked at run time too: commander hands over whatever the command line held
  const opts = parsed as Readonly<Record<string, unknown>>;
  const serve = opts.serve;
  if (serve === undefined || serve === false) {
    // nothing is served, but a bad value is still one line, not ignored unseen
    // ("--feed-history -5" or "--max-clients 0" passed until the day --serve was added)
    const origins = opts.allowOrigin;
    feedConfig({
      port: 0,
      allowOrigins: origins === undefined ? [] : Array.isArray(origins) ? origins.map(String) : [String(origins)],
      history: intOption(opts, 'feedHistory', '--feed-history', FEED_DEFAULTS.history),
      metricsHosts: intOption(opts, 'metricsHosts', '--metrics-hosts', FEED_DEFAULTS.metricsHosts),
      maxClients: intOption(opts, 'maxClients', '--max-clients', FEED_DEFAULTS.maxClients),
    });
    return null;
  }
  if (typeof serve !== 'string') throw new ConfigError('--serve needs [HOST:]PORT, e.g. --serve 8080');
  const { host, port } = parseServe(serve);
  const token = opts.token;
  if (token !== undefined && typeof token !== 'string') throw new ConfigError('--token needs a value');
  const origins = opts.allowOrigin;
  const allowOrigins = origins === undefined ? [] : Array.isArray(origins) ? origins.map(String) : [String(origins)];
  return feedConfig({
    host,
    port,
    token: token === undefined || token === '' ? null : token,
    allowOrigins,
    history: intOption(opts, 'feedHistory', '--feed-history', FEED_DEFAULTS.history),
    metricsHosts: intOption(opts, 'metricsHosts', '--metrics-hosts', FEED_DEFAULTS.metricsHosts),
    maxClients: intOption(opts, 'maxClients', '--max-clients', FEED_DEFAULTS.maxClients),
  });
}
