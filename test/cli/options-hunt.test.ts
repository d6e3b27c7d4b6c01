// Command-line defects found by an option and configuration bug hunt. The contract is the
// README's: "Every failure a user can cause ... prints one line on stderr ... [ERR_CODE]",
// "2 | bad option or configuration", and for the config file "command-line options override
// it"; where the README is silent, an outside oracle (Node's timer limit, libpcap) is named.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDetectOptions, detectConfigFromOptions } from '../../src/cli/detect-options.js';
import { run, runAsync, type Run } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';

const PCAP = resolve('pcaps', 'fx-arp-padding.pcap');

function parse(args: string[]) {
  const cmd = addDetectOptions(new Command('replay').argument('[files...]').exitOverride());
  cmd.parse(args, { from: 'user' });
  return detectConfigFromOptions(cmd.opts());
}

/** The README's shape for a bad option: one line, naming the option, a code, status 2. */
function expectOptionError(r: Run, option: string): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^netpulse: .*\[ERR_(CONFIG|BAD_OPTION)\]$/);
  expect(lines[0]).toContain(option);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

function tmp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'np-hunt-')), name);
  writeFileSync(file, text);
  return file;
}

describe('empty option values (an unset shell variable) are refused, not ignored', () => {
  // --detectors "" was already refused for this reason; these went through:
  // --local-net "" kept the default networks, --allow "" did nothing, --known-hosts "" kept no
  // file (the config file refuses "knownHosts": ""), --alerts "" and --config "" named no file
  // (a line starting "netpulse: : ...", --alerts "" with exit status 6).
  it.each([['--local-net'], ['--allow'], ['--known-hosts'], ['--alerts'], ['--config']])('%s ""', (option) => {
    expectOptionError(run(['replay', PCAP, '--json', option, '']), option);
  });

  it.each([['--local-net', ','], ['--allow', ' , ']])('%s %j (only separators)', (option, value) => {
    expectOptionError(run(['replay', PCAP, '--json', option, value]), option);
  });
});

describe('CIDR lists', () => {
  // "10.0.0.5/8" was silently all of 10.0.0.0/8: --allow for one host silenced 16 million.
  // libpcap, the capture library netpulse uses, refuses it (tcpdump 'net 10.0.0.5/8':
  // "non-network bits set"); so does Python's ipaddress ("has host bits set").
  it.each([
    ['--allow', '10.0.0.5/8'],
    ['--local-net', '192.168.7.1/16'],
    ['--local-net', 'fd00::1/8'],
    ['--threshold', 'rx-bytes@10.1.2.3/24=1MB/s'],
  ])('%s %s (host bits set) is a bad value', (option, value) => {
    expectOptionError(run(['replay', PCAP, '--json', option, value]), option);
  });

  it('networks, hosts, /0, /32, /128, duplicates and IPv4-mapped IPv6 still parse', () => {
    const { detect } = parse([
      '--allow',
      '10.0.0.5,10.0.0.5/32,2001:db8::1/128,::/0',
      '--local-net',
      '0.0.0.0/0,172.16.0.0/12,172.16.0.0/12,::ffff:10.0.0.0/104',
      '--threshold',
      'rx-bytes@10.1.2.0/24=1MB/s',
    ]);
    expect(detect.allow.hasText('2001:db8::99')).toBe(true); // ::/0
    expect(detect.newHost.localNets.hasText('8.8.8.8')).toBe(true); // 0.0.0.0/0
    expect(detect.threshold.hosts.map((r) => r.match)).toEqual(['10.1.2.0/24']);
  });
});

describe('numbers', () => {
  it('--zscore in hex is a bad value (it was read as 16), as --top 0x10 is', () => {
    // every other number option (--top, --max-hosts, --max-gap, --reorder) refuses "0x10"
    expectOptionError(run(['replay', PCAP, '--json', '--top', '0x10']), '--top');
    expectOptionError(run(['replay', PCAP, '--json', '--zscore', '0x10']), '--zscore');
    expect(parse(['--zscore', '4.5']).detect.zscore.threshold).toBe(4.5);
  });

  it('a count above the largest safe integer is not said to be "at least" too small', () => {
    const r = run(['replay', PCAP, '--json', '--top', '99999999999999999999']);
    expectOptionError(r, '--top');
    // 99999999999999999999 >= 0: "--top must be at least 0" was false
    expect(r.stderr).not.toMatch(/at least 0/);
  });

  it('--alert-rate takes what "alerts.rateLimit.max" takes, and no more', () => {
    // the same setting said two ways: the file refuses 1e20 raises per period, the option took it
    const file = tmp('rl.json', '{"alerts":{"rateLimit":{"max":99999999999999999999}}}');
    expect(errorOf(() => parse(['--config', file]))?.code).toBe('ERR_CONFIG');
    expectOptionError(run(['replay', PCAP, '--json', '--alert-rate', '99999999999999999999/60s']), '--alert-rate');
    expect(parse(['--alert-rate', '1000/60s']).detect.rateLimit).toEqual({ max: 1000, per: 60 });
  });
});

describe('feed options without --serve', () => {
  // checked only with --serve: "--feed-history -5" or "--max-clients 0" passed silently
  it.each([
    ['--feed-history', '-5'],
    ['--feed-history', '1e3'],
    ['--max-clients', '0'],
    ['--metrics-hosts', '100000'],
    ['--allow-origin', 'not an origin'],
  ])('%s %s is a bad value', (option, value) => {
    expectOptionError(run(['replay', PCAP, '--json', option, value]), option);
  });

  it('good values still run', () => {
    const r = run(['replay', PCAP, '--json', '--feed-history', '10', '--max-clients', '5', '--allow-origin', 'https://example.test']);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('alert sinks: durations beyond a Node timer', () => {
  // Node's setTimeout/setInterval hold at most 2^31 - 1 ms and fire after 1 ms beyond. A
  // webhook "timeout": "30d" made every request time out at once; an Alertmanager
  // "resend": "30d" re-sent every raised alert every millisecond.
  let server: Server;
  let port = 0;
  let requests = 0;
  let capture = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      setTimeout(() => res.end('{}'), 50);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const a = server.address();
    port = typeof a === 'object' && a !== null ? a.port : 0;
    const dir = mkdtempSync(join(tmpdir(), 'np-hunt-'));
    capture = join(dir, 'four.pcap');
    // four seconds of traffic: a global packets limit of 1/s is over it in every second
    const s = run(['synth', capture, '-q', '--packets', '400', '--hosts', '10', '--seconds', '4']);
    expect(s.status, s.stderr).toBe(0);
  });
  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
  });

  it('a webhook timeout of 30 days is refused, or waits for an answer that takes 50 ms', async () => {
    const file = tmp('wh.json', JSON.stringify({ alerts: { webhook: { url: `http://127.0.0.1:${port}/hook`, timeout: '30d' } } }));
    const r = await runAsync(['replay', capture, '--config', file, '--threshold', 'packets=1', '--no-console-alerts', '--detectors', 'threshold']);
    if (r.status === 2) {
      expect(r.stderr).toMatch(/"alerts\.webhook\.timeout".*\[ERR_CONFIG\]/);
    } else {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/failed|timeout|TimeoutOverflowWarning/);
    }
  });

  it('an Alertmanager resend of 30 days is refused, or does not resend within the run', async () => {
    const file = tmp('am.json', JSON.stringify({ alerts: { alertmanager: { url: `http://127.0.0.1:${port}`, resend: '30d' } } }));
    requests = 0;
    // paced, seconds closed as they end (--reorder 0): the alert stays raised about 1.5 s
    const r = await runAsync(['replay', capture, '--speed', '2', '--reorder', '0', '--config', file, '--threshold', 'packets=1', '--no-console-alerts', '--detectors', 'threshold']);
    if (r.status === 2) {
      expect(r.stderr).toMatch(/"alerts\.alertmanager\.resend".*\[ERR_CONFIG\]/);
    } else {
      // one raise and one resolve, each posted once (a resend is due only after 30 days)
      expect(r.status, r.stderr).toBe(0);
      expect(requests).toBeLessThanOrEqual(2);
    }
  });
});

describe('--detectors', () => {
  // "none,zscore" ran zscore: the README's "none" means no detector, so a list naming both
  // contradicts itself and is refused instead of one half being picked.
  it.each([['none,zscore'], ['zscore,none'], ['none,all']])('%s is a bad value', (value) => {
    expectOptionError(run(['replay', PCAP, '--json', '--detectors', value]), '--detectors');
  });

  it('none alone runs no detector, all runs every one', () => {
    const none = parse(['--detectors', 'none']);
    const all = parse(['--detectors', 'all']);
    const enabled = (c: typeof none) => Object.values(c.detect).filter((d) => typeof d === 'object' && d !== null && 'enabled' in d && d.enabled === true).length;
    expect(enabled(none)).toBe(0);
    expect(enabled(all)).toBe(7);
  });
});
