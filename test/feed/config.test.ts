// Feed configuration: --serve parsing, loopback detection, limits, and the token rule
// (non-loopback needs one), through addFeedOptions/feedConfigFromOptions as the CLI uses them.

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addFeedOptions, feedConfigFromOptions } from '../../src/cli/feed-options.js';
import { feedConfig, isLoopbackHost, parseServe } from '../../src/feed/config.js';
import { isAnalyzerError } from '../../src/errors.js';

const TOKEN = '0123456789abcdef0123';

function parse(args: string[], env: Record<string, string> = {}): ReturnType<typeof feedConfigFromOptions> {
  const saved = process.env.NETPULSE_TOKEN;
  if (env.NETPULSE_TOKEN !== undefined) process.env.NETPULSE_TOKEN = env.NETPULSE_TOKEN;
  else delete process.env.NETPULSE_TOKEN;
  try {
    const cmd = addFeedOptions(new Command('replay').exitOverride().argument('[files...]'));
    cmd.parse(['node', 'replay', ...args]);
    return feedConfigFromOptions(cmd.opts());
  } finally {
    if (saved === undefined) delete process.env.NETPULSE_TOKEN;
    else process.env.NETPULSE_TOKEN = saved;
  }
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAnalyzerError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('--serve [HOST:]PORT', () => {
  it.each([
    ['8080', '127.0.0.1', 8080],
    ['0', '127.0.0.1', 0],
    ['localhost:9000', 'localhost', 9000],
    ['127.0.0.2:80', '127.0.0.2', 80],
    ['[::1]:8080', '::1', 8080],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
  ])('%s -> %s port %d', (spec, host, port) => {
    expect(parseServe(spec)).toEqual({ host, port });
  });

  it.each(['', 'abc', '65536', '-1', ':80', '::1:80', 'host:', 'a b:80', '8080x'])('rejects %j as ERR_CONFIG', (spec) => {
    expect(code(() => parseServe(spec))).toBe('ERR_CONFIG');
  });

  it('knows which addresses are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1', '::2']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('feedConfigFromOptions', () => {
  it('is null without --serve and fills defaults with it', () => {
    expect(parse([])).toBeNull();
    expect(parse(['--serve', '8080'])).toEqual({
      host: '127.0.0.1',
      port: 8080,
      token: null,
      allowOrigins: [],
      history: 300,
      metricsHosts: 10,
      heartbeatMs: 30_000,
      maxLagMs: 10_000,
      closeGraceMs: 5000,
      highWaterBytes: 1 << 20,
      maxClients: 1000,
    });
  });

  it('requires a token off loopback (ERR_TOKEN_REQUIRED), from --token or NETPULSE_TOKEN', () => {
    expect(code(() => parse(['--serve', '0.0.0.0:8080']))).toBe('ERR_TOKEN_REQUIRED');
    expect(code(() => parse(['--serve', '[::]:8080']))).toBe('ERR_TOKEN_REQUIRED');
    expect(code(() => parse(['--serve', 'sensor.example:8080']))).toBe('ERR_TOKEN_REQUIRED');
    expect(parse(['--serve', '0.0.0.0:8080', '--token', TOKEN])?.token).toBe(TOKEN);
    expect(parse(['--serve', '0.0.0.0:8080'], { NETPULSE_TOKEN: TOKEN })?.token).toBe(TOKEN);
    // a token on loopback is allowed, and then enforced
    expect(parse(['--serve', '8080', '--token', TOKEN])?.token).toBe(TOKEN);
  });

  it('rejects short tokens and bad numbers and origins as ERR_CONFIG', () => {
    expect(code(() => parse(['--serve', '8080', '--token', 'short']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--feed-history', '-5']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--feed-history', '1e3']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--metrics-hosts', '5000']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--max-clients', '0']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--allow-origin', 'not a url']))).toBe('ERR_CONFIG');
    expect(code(() => parse(['--serve', '8080', '--allow-origin', 'ftp://x.example']))).toBe('ERR_CONFIG');
  });

  it('normalises allowed origins as browsers send them', () => {
    const c = parse(['--serve', '8080', '--allow-origin', 'HTTPS://Grafana.Example:443/path', '--allow-origin', 'http://a.example:3000']);
    expect(c?.allowOrigins).toEqual(['https://grafana.example', 'http://a.example:3000']);
  });

  it('feedConfig validates library input the same way', () => {
    expect(code(() => feedConfig({ port: 70000 }))).toBe('ERR_CONFIG');
    expect(code(() => feedConfig({ port: 1, heartbeatMs: 0 }))).toBe('ERR_CONFIG');
    expect(code(() => feedConfig({ port: 1, host: '10.1.2.3' }))).toBe('ERR_TOKEN_REQUIRED');
  });
});
