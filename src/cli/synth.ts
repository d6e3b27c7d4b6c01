// `netpulse synth OUT`: write a synthetic capture with labelled anomalies and its truth
// file (owned by synth). Turns options into SynthOptions; generate() does the work.

import { Option, type Command } from 'commander';
import { isBrokenPipe } from '../capture/writer-output.js';
import { AnalyzerError } from '../errors.js';
import { ANOMALY_KINDS, ANOMALY_SYNTAX, parseAnomaly, type AnomalySpec } from '../synth/anomalies.js';
import { generate, SYNTH_DEFAULTS, truthPathFor, type SynthOptions } from '../synth/generate.js';
import { parseNumberOption as number, parseStartOption, synthSummary } from '../synth/options.js';
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
  burst?: string[];
  newHost?: string[];
  portScan?: string[];
  sweep?: string[];
  synFlood?: string[];
  silence?: string[];
  anomaly?: string[];
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

function bad(message: string): AnalyzerError {
  return new AnalyzerError('ERR_BAD_OPTION', message);
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw bad(`--${name} "${text}": use one of ${allowed.join(', ')}`);
  return text as T;
}

export function synthOptionsFrom(out: string, o: RawOptions): SynthOptions {
  const anomalies: AnomalySpec[] = [];
  const add = (kind: string, list: string[] | undefined): void => {
    for (const t of list ?? []) anomalies.push(parseAnomaly(kind, t));
  };
  add('burst', o.burst);
  add('new-host', o.newHost);
  add('port-scan', o.portScan);
  add('sweep', o.sweep);
  add('syn-flood', o.synFlood);
  add('silence', o.silence);
  for (const t of o.anomaly ?? []) {
    const i = t.indexOf(':');
    if (i < 0) throw bad(`--anomaly "${t}": expected KIND:SPEC, e.g. burst:30:0:5:10 (kinds: ${ANOMALY_KINDS.join(', ')})`);
    anomalies.push(parseAnomaly(t.slice(0, i), t.slice(i + 1)));
  }
  // exactOptionalPropertyTypes: an option the user did not give is left out, not undefined.
  const opt = <K extends keyof SynthOptions>(key: K, v: SynthOptions[K] | undefined): Partial<SynthOptions> =>
    v === undefined ? {} : ({ [key]: v } as Partial<SynthOptions>);
  return {
    out,
    anomalies,
    ...opt('packets', number('packets', o.packets)),
    ...opt('hosts', number('hosts', o.hosts)),
    ...opt('seconds', number('seconds', o.seconds)),
    ...opt('start', parseStartOption(o.start)),
    ...opt('seed', number('seed', o.seed)),
    ...opt('format', oneOf('format', o.format, ['pcap', 'pcapng'] as const)),
    ...opt('resolution', oneOf('resolution', o.resolution, ['us', 'ns'] as const)),
    ...opt('byteOrder', oneOf('byte-order', o.byteOrder, ['le', 'be'] as const)),
    ...opt('gzip', o.gzip),
    ...opt('snaplen', number('snaplen', o.snaplen)),
    ...opt('profile', oneOf<ProfileName>('profile', o.profile, PROFILES)),
    ...opt('period', number('period', o.period)),
    ...opt('vlanShare', number('vlan', o.vlan)),
    ...opt('ipv6Share', number('ipv6', o.ipv6)),
    ...opt('truth', o.truth === undefined && out === '-' ? false : o.truth),
  };
}

const EXAMPLES = `
Anomalies (repeatable; T is whole seconds from the start; HOST is a host number,
0 = the heaviest talker, or an address; IPv6 addresses go in brackets):
  --burst T:HOST:FACTOR:SECONDS            HOST's packets multiplied by FACTOR
  --new-host T[:ADDR[:PPS[:SECONDS]]]      default 192.168.200.N, 10 packets/s, to the end
  --port-scan T:SRC:DST[:PORTS[:PPS]]      default ports 1-1000 at 100 probes/s
  --sweep T:SRC:PORT[:HOSTS[:PPS]]         default 256 hosts at 50 probes/s
  --syn-flood T:DST:PPS[:SECONDS[:PORT]]   default 10 s to port 80; distinct spoofed sources
  --silence T:SECONDS                      no packets at all
  --anomaly KIND:SPEC                      any of them by name (${ANOMALY_KINDS.join(', ')})

Examples:
  netpulse synth out.pcap --packets 1000000 --hosts 10000 --seconds 300 --seed 7
  netpulse synth demo.pcapng --seconds 180 --profile diurnal --burst 60:3:8:10 --port-scan 90:198.51.100.7:0
  netpulse synth big.pcap.gz -n 200000 --seconds 200 --syn-flood 30:10.0.0.1:2000:20 --silence 100:15
  netpulse synth lan.pcap --new-host 40:192.168.1.77:20 --sweep 50:4:22:50:20
  netpulse synth - --packets 1000 | tcpdump -nr - | head
  netpulse synth v6.pcap --ipv6 1 --port-scan '10:[2001:db8::7]:0'
  netpulse synth mem.pcap -n 1e6 --hosts 1000 --seconds 100 --syn-flood 0:0:10000:100

The truth file (default: beside the capture, out.truth.json) lists the anomalies with
their kind, start, end, hosts and intensity, per-second packet and byte totals, and
per-host tx/rx packets and bytes. The same arguments always give the same bytes.
`;

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('write a synthetic capture (pcap or pcapng) with labelled anomalies, and its truth file')
    .argument('<out>', 'capture file to write (.pcap, .pcapng, optionally .gz), or - for stdout')
    .option('-n, --packets <n>', `packets of normal traffic; anomalies add theirs (default ${SYNTH_DEFAULTS.packets}; e.g. -n 1e6)`)
    .option('--hosts <n>', `hosts in the normal traffic, a few heavy talkers and a long tail (default ${SYNTH_DEFAULTS.hosts}; e.g. --hosts 10000)`)
    .option('--seconds <n>', `length of the capture in seconds (default ${SYNTH_DEFAULTS.seconds}; e.g. --seconds 300)`)
    .option('--start <time>', `first second, epoch seconds or UTC (default ${SYNTH_DEFAULTS.start}; e.g. --start 2024-01-01T00:00:00Z)`)
    .option('--seed <n>', `random seed: same arguments, same bytes (default ${SYNTH_DEFAULTS.seed}; e.g. --seed 7)`)
    .option('--profile <name>', `rate profile: ${PROFILES.join(', ')} (default ${SYNTH_DEFAULTS.profile}; e.g. --profile bursty)`)
    .option('--period <s>', 'seconds per cycle of the diurnal profile (default: the capture length; e.g. --period 3600)')
    .option('--vlan <share>', `share of hosts behind an 802.1Q tag (default ${SYNTH_DEFAULTS.vlanShare}; e.g. --vlan 0.3)`)
    .option('--ipv6 <share>', `share of hosts that are IPv6 (default ${SYNTH_DEFAULTS.ipv6Share}; e.g. --ipv6 0.5)`)
    .option('--format <fmt>', 'pcap or pcapng (default: pcapng for *.pcapng, else pcap; e.g. --format pcapng)')
    .option('--resolution <res>', 'timestamp resolution, us or ns (default us; e.g. --resolution ns)')
    .option('--byte-order <order>', 'byte order of the file, le or be (default le; e.g. --byte-order be)')
    .option('--gzip', 'compress with gzip (default when the name ends in .gz; e.g. out.pcap --gzip)')
    .option('--snaplen <n>', `cut frames to n bytes, wire lengths kept (default ${SYNTH_DEFAULTS.snaplen}; e.g. --snaplen 128)`)
    .option('--truth <file>', 'truth file (default: out.truth.json beside the capture, none for -; e.g. --truth t.json)')
    .option('--no-truth', 'write no truth file (e.g. out.pcap --no-truth)')
    .addOption(new Option('--burst <spec>', `one host's rate multiplied: ${ANOMALY_SYNTAX.burst} (e.g. --burst 20:0:8:10)`).argParser(collect))
    .addOption(new Option('--new-host <spec>', `a never-seen host starts talking: ${ANOMALY_SYNTAX['new-host']} (e.g. --new-host 30)`).argParser(collect))
    .addOption(new Option('--port-scan <spec>', `SYNs to many ports of a host: ${ANOMALY_SYNTAX['port-scan']} (e.g. --port-scan 40:198.51.100.7:2)`).argParser(collect))
    .addOption(new Option('--sweep <spec>', `one port on many hosts: ${ANOMALY_SYNTAX.sweep} (e.g. --sweep 45:5:445)`).argParser(collect))
    .addOption(new Option('--syn-flood <spec>', `spoofed SYNs to one host: ${ANOMALY_SYNTAX['syn-flood']} (e.g. --syn-flood 50:1:5000)`).argParser(collect))
    .addOption(new Option('--silence <spec>', `all traffic stops: ${ANOMALY_SYNTAX.silence} (e.g. --silence 55:5)`).argParser(collect))
    .addOption(new Option('--anomaly <kind:spec>', 'any anomaly by kind name (e.g. --anomaly burst:20:0:8:10)').argParser(collect))
    .option('-q, --quiet', 'print nothing on success (e.g. -q)')
    .addHelpText('after', EXAMPLES)
    .action(async (out: string, raw: RawOptions) => {
      const opts = synthOptionsFrom(out, raw);
      const t0 = process.hrtime.bigint();
      // With "-", a write that fails after the last buffer was handed over (stdout on a full
      // disk: the error event comes a tick after the writer's close returned) must still
      // fail the run; it is caught here and checked once everything has been written.
      let stdoutError: NodeJS.ErrnoException | null = null;
      const onStdoutError = (e: NodeJS.ErrnoException): void => {
        stdoutError ??= e;
      };
      if (out === '-') process.stdout.on('error', onStdoutError);
      let truth;
      try {
        truth = await generate({ ...opts, keepHosts: false });
        if (out === '-') {
          // the callback of a last (empty) write comes once all before it was written, or failed
          await new Promise<void>((resolve) => {
            if (process.stdout.destroyed) resolve();
            else process.stdout.write('', (e?: Error | null) => {
              if (e) onStdoutError(e as NodeJS.ErrnoException);
              resolve();
            });
          });
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (e) {
        // A reader that stops early (`netpulse synth - | head`) is not a failure of ours.
        if (out === '-' && isBrokenPipe(e)) return;
        throw e;
      }
      if (out === '-') {
        process.stdout.off('error', onStdoutError);
        const failed = stdoutError as NodeJS.ErrnoException | null;
        if (failed !== null && failed.code !== 'EPIPE') {
          const why =
            failed.code === 'ENOSPC' ? 'the disk is full; free some space or write elsewhere' : `${failed.message}; check the path and free space`;
          throw new AnalyzerError('ERR_OUTPUT', `cannot write the capture: ${why}`, { subject: 'stdout', cause: failed });
        }
        if (failed !== null) return; // the reader went away: quietly, as above
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (raw.quiet !== true) {
        const truthPath = opts.truth === false ? null : (opts.truth ?? (out === '-' ? null : truthPathFor(out)));
        process.stderr.write(synthSummary(out, truth, truthPath, secs));
      }
    });
}
