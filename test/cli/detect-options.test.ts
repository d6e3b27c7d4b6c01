// The shared detector options on a real commander command, through to validated config.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addDetectOptions, detectConfigFromOptions } from '../../src/cli/detect-options.js';
import { AnalyzerError } from '../../src/errors.js';

function parse(args: string[]) {
  const cmd = addDetectOptions(new Command('replay').argument('[files...]').exitOverride());
  cmd.parse(args, { from: 'user' });
  return detectConfigFromOptions(cmd.opts());
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AnalyzerError) return `${e.code} ${e.oneLine()}`;
    throw e;
  }
  return 'no error';
}

describe('detector options', () => {
  it('gives the documented defaults with no options', () => {
    const { detect, sinks } = parse(['a.pcap']);
    expect(detect.zscore.threshold).toBe(6);
    expect(detect.zscore.raiseAfter).toBe(3);
    expect(detect.newHost.learn).toBe(300);
    expect(detect.threshold.global).toEqual({ bytes: null, packets: null });
    expect(sinks.console).toBe(true);
    expect(sinks.file).toBeNull();
  });

  it('reads --threshold specs for all traffic, every host and some hosts', () => {
    const { detect } = parse([
      '--threshold',
      'bytes=1MB/s',
      '--threshold',
      'rx-packets=5k/s,host-bytes=off',
      '--threshold',
      'tx-bytes@10.0.0.5=100kB/s',
      '--threshold',
      'packets@fd00::/8=200',
      'file.pcap',
    ]);
    expect(detect.threshold.global.bytes).toBe(1e6);
    expect(detect.threshold.host).toEqual({ txBytes: null, rxBytes: null, txPackets: 20_000, rxPackets: 5000 });
    expect(detect.threshold.hosts.map((r) => [r.match, r.limits])).toEqual([
      ['fd00::/8', { txPackets: 200, rxPackets: 200 }],
      ['10.0.0.5', { txBytes: 100_000 }],
    ]);
  });

  it('lets options override the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-opt-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ zscore: { threshold: 3, method: 'median' }, alerts: { sensor: 'from-file' } }));
    const { detect, sinks } = parse(['--config', file, '--zscore', '6', '--sensor', 'cli', '--detectors', 'zscore,silence', '--alert-rate', '5/10s']);
    expect(detect.zscore.threshold).toBe(6);
    expect(detect.zscore.method).toBe('median');
    expect(sinks.sensor).toBe('cli');
    expect(detect.zscore.enabled && detect.silence.enabled).toBe(true);
    expect(detect.threshold.enabled || detect.portScan.enabled || detect.newHost.enabled).toBe(false);
    expect(detect.rateLimit).toEqual({ max: 5, per: 10 });
  });

  it('reads sinks and lists', () => {
    const { detect, sinks } = parse([
      '--alerts',
      'out.ndjson',
      '--webhook',
      'http://127.0.0.1:9/hook',
      '--alertmanager',
      'http://127.0.0.1:9093',
      '--no-console-alerts',
      '--allow',
      '10.0.0.1,10.9.0.0/16',
      '--local-net',
      '100.64.0.0/10',
      '--learn',
      '5m',
      '--known-hosts',
      'k.txt',
    ]);
    expect(sinks).toMatchObject({ console: false, file: 'out.ndjson', webhook: { url: 'http://127.0.0.1:9/hook' } });
    expect(sinks.alertmanager).toMatchObject({ url: 'http://127.0.0.1:9093', resendSeconds: 60 });
    expect(detect.allow.hasText('10.9.3.4')).toBe(true);
    expect(detect.newHost.localNets.hasText('100.64.1.1')).toBe(true);
    expect(detect.newHost.localNets.hasText('10.0.0.1')).toBe(false);
    expect(detect.newHost.learn).toBe(300);
    expect(detect.newHost.knownHosts).toBe('k.txt');
  });

  it.each([
    [['--threshold', 'speed=1'], /ERR_CONFIG .*--threshold "speed=1": unknown metric "speed"/],
    [['--threshold', 'bytes=fast'], /ERR_CONFIG .*--threshold "bytes=fast": the value must be a byte rate/],
    [['--threshold', 'rx-bytes@nowhere=1'], /ERR_CONFIG .*"nowhere" is not an IP address/],
    [['--zscore', 'x'], /ERR_CONFIG .*--zscore "x": must be a number/],
    [['--baseline', 'mode'], /ERR_CONFIG .*--baseline "mode"/],
    [['--detectors', 'zscore,magic'], /ERR_CONFIG .*unknown detector "magic"/],
    // an empty list (an unset shell variable) turned every detector off without a word
    [['--detectors', ''], /ERR_CONFIG .*--detectors "": names no detector/],
    [['--detectors', ' , '], /ERR_CONFIG .*--detectors " , ": names no detector/],
    [['--alert-rate', 'lots'], /ERR_CONFIG .*--alert-rate "lots"/],
    [['--webhook', 'slack'], /ERR_CONFIG .*--webhook "slack": must be an http/],
    // fetch refuses credentials in a URL: every alert failed and was retried, and the
    // password was printed with the failures; now refused at once, the password not shown
    [['--webhook', 'http://user:hunter2@127.0.0.1:1/'], /^ERR_CONFIG [^]*--webhook "http:\/\/\*\*\*@127\.0\.0\.1:1\/": must not carry a user name or password[^]*$/],
    [['--alertmanager', 'http://user:hunter2@127.0.0.1:1/'], /--alertmanager "http:\/\/\*\*\*@127\.0\.0\.1:1\/": must not carry/],
    [['--webhook', 'http://127.0.0.1:99999/'], /--webhook "http:\/\/127\.0\.0\.1:99999\/": has port 99999: a port is a number from 1 to 65535/],
    [['--sensor', ''], /ERR_CONFIG .*--sensor "": must not be empty/],
    [['--allow', '10.0.0.0/99'], /ERR_CONFIG .*--allow: "10.0.0.0\/99"/],
    [['--config', '/nonexistent/netpulse.json'], /ERR_FILE_NOT_FOUND \/nonexistent\/netpulse\.json: config file not found/],
    // a device is read only up to the size limit (before: without end)
    [['--config', '/dev/zero'], /ERR_CONFIG \/dev\/zero: the config file is larger than 1 MiB/],
  ])('%j is one line naming the option', (args, re) => {
    const line = codeOf(() => parse(args));
    expect(line).toMatch(re);
    // named once: not "--detectors: --detectors ..." (the subject and the message both)
    expect(line.split(args[0] ?? '').length - 1).toBeLessThanOrEqual(1);
  });

  it('reports bad JSON in the config file with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-opt-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"zscore": {');
    expect(codeOf(() => parse(['--config', file]))).toMatch(/^ERR_CONFIG .*bad\.json: not valid JSON/);
  });

  it('never prints the password of a sink URL', () => {
    expect(codeOf(() => parse(['--webhook', 'http://user:hunter2@127.0.0.1:1/']))).not.toContain('hunter2');
    const dir = mkdtempSync(join(tmpdir(), 'np-opt-'));
    const file = join(dir, 'netpulse.json');
    writeFileSync(file, JSON.stringify({ alerts: { alertmanager: { url: 'http://am:hunter2@127.0.0.1:9093' } } }));
    const line = codeOf(() => parse(['--config', file]));
    expect(line).toMatch(/"alerts\.alertmanager\.url" must not carry a user name or password/);
    expect(line).not.toContain('hunter2');
  });

  it('names the config file once in a bad-setting error (it was printed twice)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-opt-'));
    const file = join(dir, 'netpulse.json');
    writeFileSync(file, '{"zscore": {"windw": 5}}');
    const line = codeOf(() => parse(['--config', file]));
    expect(line).toMatch(/^ERR_CONFIG .*netpulse\.json: "zscore\.windw" is not a known setting \(known here: enabled, /);
    expect(line.split('netpulse.json').length - 1).toBe(1);
  });
});
