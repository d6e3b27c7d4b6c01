// `netpulse live`: capture on an interface with libpcap (through cap) and analyse it like a
// replay, one summary per wall-clock second (owner: live capture). The interface is opened
// before anything is printed, so every capture failure is one line and exit status 5.

import type { Command } from 'commander';
import { CAP_SNAPLEN, DEFAULT_BUFFER_SIZE, LiveSource, type LiveOpenInfo } from '../capture/live.js';
import { parseCount, parseSeconds } from '../config.js';
import { LINKTYPE } from '../decode/linktype.js';
import { ConfigError } from '../errors.js';
import { addFeedOptions, feedConfigFromOptions, type FeedCliOptions } from './feed-options.js';
import { addDetectOptions, detectionFromOptions } from './detect-options.js';
import { addAnalysisOptions, commonFromOptions, type CommonCliOptions } from './options.js';
import { runCommand } from './run-analysis.js';

interface LiveCliOptions extends CommonCliOptions, FeedCliOptions {
  interface?: string;
  filter?: string;
  duration?: string;
  count?: string;
  snaplen: string;
  bufferSize: string;
  user?: string;
}

export function registerLive(program: Command): void {
  const cmd = program
    .command('live')
    .description('capture on a network interface with libpcap and analyse it as it arrives (needs root or CAP_NET_RAW)')
    .option('-i, --interface <name>', 'interface to capture on (default: the first one that is up and not loopback; see netpulse devices)')
    .option('-f, --filter <bpf>', 'BPF filter, as tcpdump takes it (e.g. "tcp port 443"); loss is not estimated with a filter')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('-c, --count <n>', 'stop after this many packets')
    .option('-s, --snaplen <bytes>', `bytes kept per packet, 1..${CAP_SNAPLEN}; longer packets are counted at the cut length`, String(CAP_SNAPLEN))
    .option('-B, --buffer-size <MiB>', 'kernel capture buffer; bursts beyond it are dropped', String(DEFAULT_BUFFER_SIZE / 1024 / 1024))
    .option('--user <name>', 'drop root to this user right after the interface is open (like tcpdump -Z)');
  addAnalysisOptions(cmd, true);
  addFeedOptions(cmd);
  addDetectOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  netpulse devices                                   interfaces, addresses and state
  sudo netpulse live -i eth0                         Ctrl-C prints the report
  sudo netpulse live -i eth0 -f 'not port 22' --json --user nobody
  sudo netpulse live --duration 60 --json > minute.ndjson
  sudo netpulse live -i eth0 --user nobody --serve 8080   dashboard on http://127.0.0.1:8080/

Packets are stamped on arrival (cap gives no capture time) and each second is closed by a
timer, so quiet seconds still give zero summaries. Kernel drops are unknown (cap has no
pcap_stats); without a filter, loss is estimated from the interface's own counters.
Ctrl-C or SIGTERM: the current second is flushed, the report printed, exit status 0.`,
  );
  cmd.action(async (opts: LiveCliOptions) => {
    const common = commonFromOptions(opts);
    const snaplen = parseCount('--snaplen', opts.snaplen, { min: 1 });
    if (snaplen > CAP_SNAPLEN) throw new ConfigError(`--snaplen must be at most ${CAP_SNAPLEN} (cap's fixed maximum), got ${snaplen}`);
    const bufferMiB = parseCount('--buffer-size', opts.bufferSize, { min: 1 });
    if (bufferMiB > 2047) throw new ConfigError(`--buffer-size is in MiB and must be below 2048, got ${bufferMiB}`);
    const durationS = opts.duration === undefined ? undefined : parseSeconds('--duration', opts.duration);
    if (durationS === 0) throw new ConfigError('--duration must be more than 0 seconds');
    const count = opts.count === undefined ? undefined : parseCount('--count', opts.count, { min: 1 });
    // checked before the interface is opened; the server itself starts after the open (and
    // after --user dropped root, so a port below 1024 needs CAP_NET_BIND_SERVICE)
    const feed = feedConfigFromOptions(opts);
    // detector settings, the known-hosts and alerts files: checked and opened before the
    // interface (and before --user drops root)
    const detection = detectionFromOptions(opts as unknown as Readonly<Record<string, unknown>>);
    const source = new LiveSource({
      device: opts.interface,
      filter: opts.filter,
      snaplen,
      bufferSize: bufferMiB * 1024 * 1024,
      count,
      durationMs: durationS === undefined ? undefined : durationS * 1000,
      user: opts.user,
    });
    const info = source.open();
    for (const line of openLines(info)) process.stderr.write(`netpulse: ${line}\n`);
    Object.assign(common.shown, {
      interface: info.device,
      filter: info.filter,
      snaplen: info.snaplen,
      bufferMiB,
      ...(durationS === undefined ? {} : { durationSeconds: durationS }),
      ...(count === undefined ? {} : { count }),
      ...(info.droppedTo === null ? {} : { user: info.droppedTo.name }),
    });
    const code = await runCommand({
      source,
      common,
      live: true,
      paced: true,
      ...(feed === null ? {} : { startFeed: async (a) => (await import('../feed/server.js')).startFeed(feed, a) }),
      detect: detection.detect,
      sinks: detection.sinks,
    });
    process.exitCode = detection.settle(code);
  });
}

/** What the user should know once the capture is open: where, as whom, and what limits it. */
export function openLines(info: LiveOpenInfo): string[] {
  const lines: string[] = [];
  const filter = info.filter === '' ? '' : `, filter "${info.filter}"`;
  lines.push(`capturing on ${info.device} (${linktypeLabel(info)}, linktype ${info.linktype}${filter}, ${info.bufferSize / 1024 / 1024} MiB buffer)`);
  if (info.droppedTo !== null) {
    const d = info.droppedTo;
    lines.push(`dropped root: now running as ${d.name} (uid ${d.uid}, gid ${d.gid}, groups ${d.groups.join(',') || 'none'})`);
  }
  if (info.offloads !== null && info.offloads.length > 0) {
    lines.push(
      `warning: ${info.device} has offloads on (${info.offloads.join(', ')}): merged frames count as one and the kernel ring holds only ~${info.ringFrames ?? '?'} frames; on a sensor turn them off: ethtool -K ${info.device} tso off gso off gro off lro off`,
    );
  }
  if (info.immediateMode === false) {
    lines.push('warning: libpcap.so is missing (libpcap-dev), so cap cannot turn on immediate mode: packets may be stamped up to 1 s late; apt-get install libpcap-dev');
  }
  if (info.capAbortsOnDeviceDown === true) {
    lines.push('warning: this cap build aborts netpulse if the interface goes down; rebuild it with npm run build:cap (installed as a package: npm rebuild netpulse)');
  }
  return lines;
}


/** LINKTYPE_* names by value, for the link types netpulse decodes. */
const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(LINKTYPE).map(([name, v]) => [v, name]));

/** cap names five link types and calls every other one "Unknown linktype N", NFLOG and
 *  LINUX_SLL2 among them: those netpulse decodes get their name, as tcpdump shows it. */
function linktypeLabel(info: LiveOpenInfo): string {
  if (!info.linktypeName.startsWith('Unknown linktype')) return info.linktypeName;
  return LINKTYPE_NAMES.get(info.linktype) ?? info.linktypeName;
}
