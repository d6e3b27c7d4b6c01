// `netpulse synth OUT`: write a synthetic capture with labelled anomalies and its truth
// file (owned by synth). Turns options into SynthOptions; generate() does the work.

import { Option, type Command } from 'commander';
import { AnalyzerError } from '../errors.js';
import { ANOMALY_KINDS, ANOMALY_SYNTAX, parseAnomaly, type AnomalySpec } from '../synth/anomalies.js';
import { generate, SYNTH_DEFAULTS, truthPathFor, type SynthOptions } from '../synth/generate.js';
import { PROFILES, type ProfileName } from '../synth/profile.js';

interface RawOptions {
  packets?: string;
  hosts?: string;
  seconds?: string;
  start?: string;
  seed?: string;
  format?: string;
  resolution?: string;
  byteOrder?: string;
  gzip?: boolean;
  snaplen?: string;
  profile?: string;
  period?: string;
  vlan?: string;
  ipv6?: string;
  truth?: string | false;
  quiet?: boolean;
  burst: string[];
  newHost: string[];
  portScan: string[];
  sweep: string[];
  synFlood: string[];
  silence: string[];
  anomaly: string[];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function bad(message: string): AnalyzerError {
  return new AnalyzerError('ERR_BAD_OPTION', message);
}

/** A number option: digits with optional "_" separators, or exponent form ("1e6"). */
function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(v)) throw bad(`--${name} "${text}": not a number`);
  return v;
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw bad(`--${name} "${text}": use one of ${allowed.join(', ')}`);
  return text as T;
}

/** --start takes epoch seconds or an ISO 8601 UTC time. */
function startTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms % 1000 !== 0) throw bad(`--start "${text}": give epoch seconds or a whole-second UTC time like 2024-01-01T00:00:00Z`);
  return ms / 1000;
}

export function synthOptionsFrom(out: string, o: RawOptions): SynthOptions {
  const anomalies: AnomalySpec[] = [];
  const add = (kind: string, list: string[]): void => {
    for (const t of list) anomalies.push(parseAnomaly(kind, t));
  };
  add('burst', o.burst);
  add('new-host', o.newHost);
  add('port-scan', o.portScan);
  add('sweep', o.sweep);
  add('syn-flood', o.synFlood);
  add('silence', o.silence);
  for (const t of o.anomaly) {
    const i = t.indexOf(':');
    if (i < 0) throw bad(`--anomaly "${t}": expected KIND:SPEC, e.g. burst:30:0:5:10 (kinds: ${ANOMALY_KINDS.join(', ')})`);
    anomalies.push(parseAnomaly(t.slice(0, i), t.slice(i + 1)));
  }
  const fields: Record<string, unknown> = {
    out,
    packets: number('packets', o.packets),
    hosts: number('hosts', o.hosts),
    seconds: number('seconds', o.seconds),
    start: startTime(o.start),
    seed: number('seed', o.seed),
    format: oneOf('format', o.format, ['pcap', 'pcapng'] as const),
    resolution: oneOf('resolution', o.resolution, ['us', 'ns'] as const),
    byteOrder: oneOf('byte-order', o.byteOrder, ['le', 'be'] as const),
    gzip: o.gzip,
    snaplen: number('snaplen', o.snaplen),
    profile: oneOf<ProfileName>('profile', o.profile, PROFILES),
    period: number('period', o.period),
    vlanShare: number('vlan', o.vlan),
    ipv6Share: number('ipv6', o.ipv6),
    truth: o.truth === undefined && out === '-' ? false : o.truth,
    anomalies,
  };
  // exactOptionalPropertyTypes: leave unset options out rather than undefined.
  for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
  return fields as unknown as SynthOptions;
}

const EXAMPLES = `
Anomalies (repeatable; T is whole seconds from the start; HOST is a host number,
0 = the heaviest talker, or an address; IPv6 addresses go in brackets):
  --burst ${ANOMALY_SYNTAX.burst}            one host's traffic multiplied
  --new-host ${ANOMALY_SYNTAX['new-host']}   a never-seen host starts talking (default 192.168.200.N, 10 pps, to the end)
  --port-scan ${ANOMALY_SYNTAX['port-scan']}  SYNs to many ports of one host (default 1000 ports, 100 pps)
  --sweep ${ANOMALY_SYNTAX.sweep}      SYNs to one port on many hosts (default 256 hosts, 50 pps)
  --syn-flood ${ANOMALY_SYNTAX['syn-flood']}  spoofed SYNs, no handshake completed (default 10 s, port 80)
  --silence ${ANOMALY_SYNTAX.silence}                 all traffic stops
  --anomaly KIND:SPEC               the same, by kind name (${ANOMALY_KINDS.join(', ')})

Examples:
  netpulse synth out.pcap --packets 1000000 --hosts 10000 --seconds 300 --seed 7
  netpulse synth demo.pcapng --profile diurnal --burst 60:3:8:10 --port-scan 90:198.51.100.7:0
  netpulse synth big.pcap.gz --packets 200000 --syn-flood 30:10.0.0.1:2000:20 --silence 100:15
  netpulse synth - --packets 1000 | tcpdump -nr - | head
  netpulse synth v6.pcap --ipv6 1 --port-scan '10:[2001:db8::7]:0'

The truth file (default: beside the capture, out.truth.json) lists the anomalies with
their kind, start, end, hosts and intensity, per-second packet and byte totals, and
per-host tx/rx packets and bytes. The same arguments always give the same bytes.
`;

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('write a synthetic capture (pcap or pcapng) with labelled anomalies, and its truth file')
    .argument('<out>', 'capture file to write (.pcap, .pcapng, optionally .gz), or - for stdout')
    .option('-n, --packets <n>', `packets of normal traffic; anomalies add theirs (default ${SYNTH_DEFAULTS.packets})`)
    .option('--hosts <n>', `hosts in the normal traffic, heavy talkers to a long tail (default ${SYNTH_DEFAULTS.hosts})`)
    .option('--seconds <n>', `length of the capture in seconds (default ${SYNTH_DEFAULTS.seconds})`)
    .option('--start <time>', `first second: epoch seconds or 2024-01-01T00:00:00Z (default ${SYNTH_DEFAULTS.start})`)
    .option('--seed <n>', `random seed (default ${SYNTH_DEFAULTS.seed})`)
    .option('--profile <name>', `rate profile: ${PROFILES.join(', ')} (default ${SYNTH_DEFAULTS.profile})`)
    .option('--period <s>', 'diurnal profile: seconds per cycle (default: the capture length)')
    .option('--vlan <share>', `share of hosts behind an 802.1Q tag (default ${SYNTH_DEFAULTS.vlanShare})`)
    .option('--ipv6 <share>', `share of hosts that are IPv6 (default ${SYNTH_DEFAULTS.ipv6Share})`)
    .option('--format <fmt>', 'pcap or pcapng (default: from the file name, else pcap)')
    .option('--resolution <res>', 'timestamp resolution: us or ns (default us)')
    .option('--byte-order <order>', 'le or be (default le)')
    .option('--gzip', 'compress the capture with gzip (default when the name ends in .gz)')
    .option('--snaplen <n>', `cut frames to n bytes; wire lengths are kept (default ${SYNTH_DEFAULTS.snaplen})`)
    .option('--truth <file>', 'where to write the truth file (default: beside the capture; none for -)')
    .option('--no-truth', 'write no truth file')
    .addOption(new Option('--burst <spec>', `one host's rate multiplied: ${ANOMALY_SYNTAX.burst}`).argParser(collect).default([]))
    .addOption(new Option('--new-host <spec>', `a never-seen host starts talking: ${ANOMALY_SYNTAX['new-host']}`).argParser(collect).default([]))
    .addOption(new Option('--port-scan <spec>', `SYNs to many ports: ${ANOMALY_SYNTAX['port-scan']}`).argParser(collect).default([]))
    .addOption(new Option('--sweep <spec>', `one port on many hosts: ${ANOMALY_SYNTAX.sweep}`).argParser(collect).default([]))
    .addOption(new Option('--syn-flood <spec>', `spoofed SYNs to one host: ${ANOMALY_SYNTAX['syn-flood']}`).argParser(collect).default([]))
    .addOption(new Option('--silence <spec>', `all traffic stops: ${ANOMALY_SYNTAX.silence}`).argParser(collect).default([]))
    .addOption(new Option('--anomaly <kind:spec>', 'any anomaly by kind name, e.g. burst:30:0:5:10').argParser(collect).default([]))
    .option('-q, --quiet', 'print nothing on success')
    .addHelpText('after', EXAMPLES)
    .action(async (out: string, raw: RawOptions) => {
      const opts = synthOptionsFrom(out, raw);
      const t0 = process.hrtime.bigint();
      const truth = await generate({ ...opts, keepHosts: false });
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (raw.quiet !== true) {
        const where = out === '-' ? 'stdout' : out;
        const truthPath = opts.truth === false ? null : (opts.truth ?? (out === '-' ? null : truthPathFor(out)));
        const mb = (truth.file.bytes / 1e6).toFixed(1);
        process.stderr.write(
          `netpulse synth: wrote ${where} (${truth.file.format}${truth.file.gzip ? ', gzip' : ''}, ${truth.packets} packets, ` +
            `${mb} MB, ${truth.seconds.length} s, ${truth.anomalies.length} anomalies)` +
            `${truthPath === null ? '' : ` and ${truthPath}`} in ${secs.toFixed(2)} s\n`,
        );
      }
    });
}
