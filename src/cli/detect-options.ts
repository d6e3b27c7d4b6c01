// The detector and alert options every analysing command shares (replay, live): added to a
// commander command, then turned (with --config FILE) into validated settings.
// Precedence: defaults < config file < command-line options.

import { closeSync, openSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import {
  DETECTOR_KEYS,
  DETECTOR_NAMES,
  applyConfigFile,
  redactUrl,
  urlProblem,
  defaultAlertSinkConfig,
  defaultDetectConfig,
  defaultHttpSink,
  hostLimitRule,
  networks,
  MAX_RATE_LIMIT,
  type AlertSinkConfig,
  type DetectConfig,
  type DetectorName,
  type HostLimits,
} from '../detect/config.js';
import { createDetectStage, type DetectStage } from '../detect/stage.js';
import { createThreadedDetectStage, type AsyncDetectStage } from '../detect/thread.js';
import { parseByteRate, parseCountRate, parseDuration, parseNumber } from '../detect/units.js';
import { AnalyzerError, ConfigError, EXIT } from '../errors.js';
import { alertSinkProblems, alertSinksFailed, createAlertSinks } from '../sinks/alert-sinks.js';
import type { Sink } from '../sinks/sink.js';

export interface DetectOptionsConfig {
  detect: DetectConfig;
  sinks: AlertSinkConfig;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

export function addDetectOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON file of detector and alert settings (README "Detectors and alerts")')
    .option('--detectors <list>', `run only these detectors, comma-separated, "none" or "all" (${DETECTOR_NAMES.join(', ')})`)
    .option(
      '--threshold <spec>',
      'a limit per second, repeatable: bytes=1MB/s, packets=50k/s (all traffic); rx-bytes=, tx-bytes=, rx-packets=, tx-packets=, host-bytes=, host-packets= (every host); METRIC@HOST-OR-CIDR=VALUE for some hosts; VALUE "off" removes a limit',
      collect,
    )
    .option('--zscore <z>', 'z-score at or above which a second is anomalous (default 6)')
    .option('--baseline <method>', 'z-score baseline: mean (mean and stdev) or median (robust: median and MAD)')
    .option('--known-hosts <file>', 'file of known hosts for the new-host detector; read at start, appended as hosts are learned')
    .option('--local-net <cidr>', 'network whose new hosts are alerted, repeatable or comma-separated (default RFC 1918, fc00::/7, fe80::/10)', collect)
    .option('--learn <duration>', 'new-host learning period in capture time, e.g. 120s or 2m (default 300 s)')
    .option('--allow <host-or-cidr>', 'never alert about these hosts or networks, repeatable or comma-separated', collect)
    .option('--alert-rate <n/period>', 'global limit on raised alerts, e.g. 30/60s (default); the excess becomes one "alerts suppressed" alert')
    .option('--alerts <file>', 'append every alert to FILE as NDJSON, written through per alert')
    .option('--webhook <url>', 'POST every alert as JSON (Slack-compatible "text" plus the full alert)')
    .option('--alertmanager <url>', 'push alerts to Prometheus Alertmanager (v2 API), e.g. http://127.0.0.1:9093')
    .option('--sensor <name>', 'sensor name for Alertmanager labels and webhook text (default: the host name)')
    .option('--no-console-alerts', 'do not print alerts on stderr as they happen')
    .option('--detect-thread', 'run the detectors on a thread of their own (same results; pays off only with a spare core, README "Detectors on a thread")');
}

/** The message names the option and its value; no subject, or the line would name it twice. */
function optionError(option: string, value: string, what: string): ConfigError {
  return new ConfigError(`${option} "${value}": ${what}`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Largest config file read: settings are a few kilobytes (host limit tables a few more). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's bytes, read at most `max` (a device such as /dev/zero ends too). */
function readBounded(path: string, max: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) return null;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Read and parse --config FILE; a missing, unreadable or oversized file or bad JSON is one line. */
export function readConfigFile(path: string): unknown {
  if (path === '') throw new ConfigError('--config "": names no file; give the path of a JSON settings file');
  let bytes: Buffer | null;
  try {
    bytes = readBounded(path, MAX_CONFIG_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AnalyzerError('ERR_FILE_NOT_FOUND', 'config file not found; check the --config path', { subject: path });
    throw new AnalyzerError('ERR_FILE_ACCESS', `cannot read the config file (${code ?? 'error'})`, { subject: path, cause: e });
  }
  if (bytes === null) {
    throw new AnalyzerError('ERR_CONFIG', `the config file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; is it the right file?`, { subject: path });
  }
  let text: string;
  try {
    // JSON is UTF-8: other bytes (Latin-1, UTF-16) became U+FFFD in names and URLs unnoticed
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError('is not UTF-8 text (JSON files are UTF-8); save it as UTF-8', { subject: path });
  }
  try {
    // a byte-order mark (Windows editors write one) is not JSON but means nothing: skip it
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  } catch (e) {
    // the parser quotes the text around the fault: control bytes (NUL, ESC) stay out of the line
    const why = (e instanceof Error ? e.message : String(e)).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    throw new ConfigError(`not valid JSON (${why}); fix the config file`, { subject: path });
  }
}

const SPEC_METRICS: Record<string, readonly (keyof HostLimits)[] | 'global-bytes' | 'global-packets'> = {
  bytes: 'global-bytes',
  packets: 'global-packets',
  'tx-bytes': ['txBytes'],
  'rx-bytes': ['rxBytes'],
  'tx-packets': ['txPackets'],
  'rx-packets': ['rxPackets'],
  'host-bytes': ['txBytes', 'rxBytes'],
  'host-packets': ['txPackets', 'rxPackets'],
};

/** Apply one --threshold SPEC to c. */
export function applyThresholdSpec(spec: string, d: DetectConfig): void {
  const m = /^([a-z-]+)(?:@([^=]+))?=(.+)$/.exec(spec.trim());
  const bad: (what: string) => never = (what) => {
    throw optionError('--threshold', spec, what);
  };
  if (m === null) bad('write METRIC=VALUE or METRIC@HOST=VALUE, e.g. bytes=1MB/s or rx-packets@10.0.0.5=5k/s');
  const [, metric = '', where, valueText = ''] = m;
  const target = SPEC_METRICS[metric];
  if (target === undefined) bad(`unknown metric "${metric}" (known: ${Object.keys(SPEC_METRICS).join(', ')})`);
  const isBytes = metric.endsWith('bytes');
  const value = valueText === 'off' ? null : isBytes ? parseByteRate(valueText) : parseCountRate(valueText);
  if (value === undefined || (value === null && valueText !== 'off')) {
    bad(isBytes ? 'the value must be a byte rate like 1MB/s, 100Mbit/s or 5000, or "off"' : 'the value must be a rate like 10k/s or 5000, or "off"');
  }
  if (where === undefined) {
    if (target === 'global-bytes') d.threshold.global.bytes = value;
    else if (target === 'global-packets') d.threshold.global.packets = value;
    else for (const k of target) d.threshold.host[k] = value;
    return;
  }
  const keys: readonly (keyof HostLimits)[] =
    target === 'global-bytes' ? ['txBytes', 'rxBytes'] : target === 'global-packets' ? ['txPackets', 'rxPackets'] : target;
  const limits: Partial<HostLimits> = {};
  for (const k of keys) limits[k] = value;
  // A later --threshold for the same host adds to its rule; rules given first win.
  const existing = d.threshold.hosts.find((r) => r.match === where);
  if (existing !== undefined) Object.assign(existing.limits, limits);
  else d.threshold.hosts.unshift(hostLimitRule(where, limits, `--threshold "${spec}"`));
}

/** Turn parsed options (plus --config FILE) into validated detector and sink settings. */
export function detectConfigFromOptions(opts: Readonly<Record<string, unknown>>): DetectOptionsConfig {
  const detect = defaultDetectConfig();
  const sinks = defaultAlertSinkConfig(hostname());
  const configPath = str(opts.config);
  if (configPath !== undefined) applyConfigFile(readConfigFile(configPath), configPath, detect, sinks);

  const only = str(opts.detectors);
  if (only !== undefined) {
    const names = only.split(',').map((s) => s.trim()).filter((s) => s !== '');
    // an empty list (an unset shell variable) must not turn detection off unnoticed
    if (names.length === 0) throw optionError('--detectors', only, `names no detector (known: ${DETECTOR_NAMES.join(', ')}, none, all)`);
    const chosen = new Set<DetectorName>();
    for (const n of names) {
      if (n === 'none' || n === 'all') continue;
      const hit = DETECTOR_NAMES.find((x) => x === n);
      if (hit === undefined) throw optionError('--detectors', only, `unknown detector "${n}" (known: ${DETECTOR_NAMES.join(', ')}, none, all)`);
      chosen.add(hit);
    }
    const all = names.includes('all');
    // "none,zscore" ran zscore: a list that says both is refused rather than guessed at
    if (names.includes('none') && names.length > 1) throw optionError('--detectors', only, '"none" cannot be combined with other names (give "none" alone to run no detector)');
    for (const name of DETECTOR_NAMES) detect[DETECTOR_KEYS[name]].enabled = all || chosen.has(name);
  }

  for (const spec of strs(opts.threshold)) applyThresholdSpec(spec, detect);

  const z = str(opts.zscore);
  if (z !== undefined) {
    const n = parseNumber(z, 0.5, 1000);
    if (n === null) throw optionError('--zscore', z, 'must be a number from 0.5 to 1000');
    detect.zscore.threshold = n;
  }
  const method = str(opts.baseline);
  if (method !== undefined) {
    if (method !== 'mean' && method !== 'median') throw optionError('--baseline', method, 'must be mean or median');
    detect.zscore.method = method;
  }
  const known = str(opts.knownHosts);
  if (known !== undefined) {
    // as "new-host.knownHosts": an empty path (an unset shell variable) quietly kept no file
    if (known === '') throw optionError('--known-hosts', known, 'names no file');
    detect.newHost.knownHosts = known;
  }
  const nets = strs(opts.localNet);
  // an empty value (an unset shell variable) kept the default networks without a word
  if (opts.localNet !== undefined && nets.length === 0) throw optionError('--local-net', '', 'names no network (e.g. --local-net 10.0.0.0/8)');
  if (nets.length > 0) detect.newHost.localNets = networks(nets, '--local-net');
  const learn = str(opts.learn);
  if (learn !== undefined) {
    const n = parseDuration(learn);
    if (n === null) throw optionError('--learn', learn, 'must be a duration like 120, 90s or 5m');
    detect.newHost.learn = n;
  }
  const allow = strs(opts.allow);
  if (opts.allow !== undefined && allow.length === 0) throw optionError('--allow', '', 'names no host or network (e.g. --allow 10.0.0.5)');
  if (allow.length > 0) detect.allow = networks([...detect.allow.texts, ...allow], '--allow');
  const rate = str(opts.alertRate);
  if (rate !== undefined) {
    const m = /^(\d+)\s*\/\s*(.+)$/.exec(rate);
    const per = m === null ? null : parseDuration(m[2]);
    const max = m === null ? 0 : Number(m[1]);
    if (m === null || per === null || per < 1 || max < 1) {
      throw optionError('--alert-rate', rate, 'write N/PERIOD, e.g. 30/60s or 100/5m (at least 1 alert per at least 1 s)');
    }
    // the same bound as "alerts.rateLimit.max" (the option took 1e20)
    if (max > MAX_RATE_LIMIT) throw optionError('--alert-rate', rate, `N must be at most ${MAX_RATE_LIMIT}`);
    detect.rateLimit = { max, per };
  }

  const urlOption = (option: string, v: string): string => {
    const problem = urlProblem(v);
    if (problem !== null) throw optionError(option, redactUrl(v), problem);
    return v;
  };
  const file = str(opts.alerts);
  if (file !== undefined) {
    // as "alerts.file": an empty path was an output failure (exit 6) naming no file
    if (file === '') throw optionError('--alerts', file, 'names no file');
    sinks.file = file;
  }
  const webhook = str(opts.webhook);
  if (webhook !== undefined) sinks.webhook = { ...(sinks.webhook ?? defaultHttpSink(webhook)), url: urlOption('--webhook', webhook) };
  const am = str(opts.alertmanager);
  if (am !== undefined) {
    sinks.alertmanager = { ...(sinks.alertmanager ?? { ...defaultHttpSink(am), resendSeconds: 60 }), url: urlOption('--alertmanager', am) };
  }
  const sensor = str(opts.sensor);
  if (sensor !== undefined) {
    // as in the config file: an empty name would label every alert from nowhere
    if (sensor.trim() === '') throw optionError('--sensor', sensor, 'must not be empty');
    sinks.sensor = sensor;
  }
  // with --json the alerts are in the NDJSON stream already: no second copy on stderr
  if (opts.consoleAlerts === false || opts.json === true) sinks.console = false;
  return { detect, sinks };
}

/** How often a run looks at the known-hosts list's health (full, not writable) to say so. */
const KNOWN_HOSTS_CHECK_MS = 2000;

/** What a command needs from the detector options: the stage, the alert sinks, and a way
 *  to list delivery problems at the end (webhook failures, unwritable alerts file). */
export interface Detection {
  /** null when every detector is off (--detectors none); on a thread of its own with
   *  --detect-thread (unless the worker script is missing). */
  readonly detect: DetectStage | AsyncDetectStage | null;
  readonly sinks: Sink[];
  problems(): string[];
  /** After the run: writes problems() to stderr and returns the exit status, `code` unless
   *  the detector thread failed (alerts are missing: not a clean run, EXIT.internal). */
  settle(code: number): number;
}

/**
 * For replay and live: `addDetectOptions(cmd)` when defining the command, then in its
 * action `const d = detectionFromOptions(opts)` and `runCommand({ ..., detect: d.detect,
 * sinks: d.sinks })`; print `d.problems()` after the run. Bad options throw ConfigError.
 */
export function detectionFromOptions(opts: Readonly<Record<string, unknown>>): Detection {
  const { detect, sinks } = detectConfigFromOptions(opts);
  // Built here even when it runs on a thread: a bad setting or known-hosts file is a
  // one-line error before anything starts, and it says which detectors run.
  const stage = createDetectStage(detect);
  const alertSinks = createAlertSinks(sinks);
  const threaded = stage.detectors.length > 0 && opts.detectThread === true ? createThreadedDetectStage(opts, stage) : null;
  // with a thread, this one only validated: let it go (its tables are megabytes)
  const inThread = threaded === null ? stage : null;
  // What the known-hosts list can go wrong with, said as it happens (a sensor runs for
  // months: the end of the run is no time to learn it) and again at the end.
  const khError = (): string | null => {
    const kh = threaded !== null ? threaded.knownHostsError() : (inThread?.stats().knownHostsError ?? null);
    return kh === null
      ? null
      : `could not write the known-hosts file (${kh}): hosts learned in this run will be new again next time; check the directory and its permissions (with --user, the new user must be able to write it)`;
  };
  const nh = detect.newHost;
  const notKept = nh.knownHosts !== null ? `neither remembered nor written to ${nh.knownHosts}` : 'not remembered';
  /** Hosts the full list could not keep so far (0: it is not full). */
  const notKeptCount = (): number => (threaded !== null ? threaded.knownHostsFull() : (inThread?.stats().knownHostsFull ?? 0));
  /** The line for a full list: during the run (`count` null) or after it, with the count. */
  const fullLine = (count: number | null): string =>
    `new-host: the known hosts reached new-host.max (${nh.max}): new hosts ${count === null ? `from now on are ${notKept}` : `seen after that were ${notKept} (${count} times)`}, so they are raised as new again; raise "new-host.max" in the config file or prune the known-hosts file${count === null ? ' (the count follows at the end)' : ''}`;
  const said = { error: false, full: false };
  const check = setInterval(() => {
    if (!said.error) {
      const e = khError();
      if (e !== null) {
        said.error = true;
        process.stderr.write(`netpulse: ${e}\n`);
      }
    }
    if (!said.full && notKeptCount() > 0) {
      said.full = true;
      process.stderr.write(`netpulse: ${fullLine(null)}\n`);
    }
  }, KNOWN_HOSTS_CHECK_MS);
  check.unref();
  const detection: Detection = {
    detect: threaded ?? (inThread !== null && inThread.detectors.length > 0 ? inThread : null),
    sinks: alertSinks,
    problems: () => {
      const p = alertSinkProblems(alertSinks);
      const kh = khError();
      if (kh !== null) p.unshift(kh);
      const full = notKeptCount();
      if (full > 0) p.unshift(fullLine(full));
      const t = threaded?.problem() ?? null;
      return t === null ? p : [`${t}: alerts after that point are missing (run again without --detect-thread)`, ...p];
    },
    settle: (code) => {
      clearInterval(check);
      for (const line of detection.problems()) process.stderr.write(`netpulse: ${line}\n`);
      if (code === EXIT.ok && threaded?.problem() != null) return EXIT.internal;
      // alerts the --alerts file did not take: an output that failed, as stdout's would
      return code === EXIT.ok && alertSinksFailed(alertSinks) ? EXIT.server : code;
    },
  };
  return detection;
}
