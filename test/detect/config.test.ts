// Config files and human values: every bad key or value is a ConfigError naming the key.
import { describe, expect, it } from 'vitest';
import { applyConfigFile, defaultAlertSinkConfig, defaultDetectConfig } from '../../src/detect/config.js';
import { formatValue, parseByteRate, parseCountRate, parseDuration } from '../../src/detect/units.js';
import { ConfigError } from '../../src/errors.js';

function apply(json: unknown) {
  const d = defaultDetectConfig();
  const s = defaultAlertSinkConfig('sensor-1');
  applyConfigFile(json, 'netpulse.json', d, s);
  return { d, s };
}

function errorOf(json: unknown): ConfigError {
  try {
    apply(json);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('units', () => {
  it('reads byte rates in SI and IEC prefixes, bytes and bits', () => {
    expect(parseByteRate('1MB/s')).toBe(1e6);
    expect(parseByteRate('1MiB/s')).toBe(1048576);
    expect(parseByteRate('100Mbit/s')).toBe(12.5e6);
    expect(parseByteRate('100Mb/s')).toBe(12.5e6);
    expect(parseByteRate('1.5 GB')).toBe(1.5e9);
    expect(parseByteRate(5000)).toBe(5000);
    expect(parseByteRate('fast')).toBeNull();
    expect(parseByteRate(-1)).toBeNull();
  });
  it('reads count rates and durations', () => {
    expect(parseCountRate('10k/s')).toBe(10_000);
    expect(parseCountRate('5000pps')).toBe(5000);
    expect(parseCountRate('2M')).toBe(2e6);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('soon')).toBeNull();
  });
  it('formats values for messages', () => {
    expect(formatValue(1.5e6, 'bytes/s')).toBe('1.5 MB/s');
    expect(formatValue(12_345, 'packets/s')).toBe('12.3k packets/s');
    expect(formatValue(500, 'syn/s')).toBe('500 syn/s');
  });
});

describe('config file', () => {
  it('applies every section over the defaults', () => {
    const { d, s } = apply({
      threshold: { global: { bytes: '1MB/s', packets: '10k/s' }, host: { rxBytes: '50Mbit/s' }, hosts: { '10.0.0.0/8': { bytes: null } } },
      zscore: { threshold: 4, window: 600, warmup: 120, method: 'median', direction: 'both', floor: { relative: 0.2 }, hosts: { max: 50, cusum: { h: 15 } } },
      'new-host': { learn: '5m', knownHosts: '/var/lib/netpulse/known', localNets: ['10.0.0.0/8'] },
      'port-scan': { ports: 10, hosts: 20, window: '2m' },
      'syn-flood': { minRate: '200/s', ratio: 5, severity: 'warning' },
      'risky-services': { alertScore: 60 },
      silence: { seconds: 30 },
      alerts: {
        allow: ['192.0.2.0/24'],
        rateLimit: { max: 10, per: '1m' },
        file: 'alerts.ndjson',
        webhook: { url: 'https://hooks.example/x', timeout: '2s', retries: 5 },
        alertmanager: { url: 'http://127.0.0.1:9093', resend: '30s' },
        sensor: 'edge-1',
        console: false,
      },
    });
    expect(d.threshold.global).toEqual({ bytes: 1e6, packets: 10_000 });
    expect(d.threshold.host.rxBytes).toBe(6.25e6);
    expect(d.threshold.hosts[0]?.limits).toEqual({ txBytes: null, rxBytes: null });
    expect(d.zscore).toMatchObject({ threshold: 4, window: 600, warmup: 120, method: 'median', direction: 'both' });
    expect(d.zscore.floor.relative).toBe(0.2);
    expect(d.zscore.hosts.cusum).toEqual({ enabled: true, k: 2, h: 15, clip: 4 });
    expect(d.newHost.learn).toBe(300);
    expect(d.newHost.localNets.hasText('10.1.2.3')).toBe(true);
    expect(d.newHost.localNets.hasText('192.168.1.1')).toBe(false);
    expect(d.portScan.window).toBe(120);
    expect(d.synFlood).toMatchObject({ minRate: 200, ratio: 5, severity: 'warning' });
    expect(d.silence.seconds).toBe(30);
    expect(d.allow.hasText('192.0.2.77')).toBe(true);
    expect(d.rateLimit).toEqual({ max: 10, per: 60 });
    expect(s).toEqual({
      console: false,
      file: 'alerts.ndjson',
      webhook: { url: 'https://hooks.example/x', timeoutMs: 2000, retries: 5, queue: 1000 },
      alertmanager: { url: 'http://127.0.0.1:9093', timeoutMs: 5000, retries: 3, queue: 1000, resendSeconds: 30 },
      sensor: 'edge-1',
    });
  });

  it.each([
    [{ zscore: { windw: 10 } }, /"zscore\.windw" is not a known setting/],
    [{ zcore: {} }, /"zcore" is not a known setting/],
    [{ zscore: { threshold: 'high' } }, /"zscore\.threshold" must be a number/],
    [{ zscore: { window: 100, warmup: 200 } }, /"zscore\.warmup" \(200\) must not exceed zscore\.window/],
    [{ zscore: { hosts: { cusum: { kk: 1 } } } }, /"zscore\.hosts\.cusum\.kk" is not a known setting \(known here: enabled, k, h, clip\)/],
    [{ zscore: { hosts: { cusum: { h: 0 } } } }, /"zscore\.hosts\.cusum\.h" must be a number/],
    [{ zscore: { hosts: { cusum: { k: 4 } } } }, /"zscore\.hosts\.cusum\.clip" \(4\) must exceed zscore\.hosts\.cusum\.k \(4\)/],
    [{ threshold: { global: { bytes: 'lots' } } }, /"threshold\.global\.bytes" must be a rate in bytes\/s/],
    [{ threshold: { hosts: { '10.0.0.0/40': { bytes: 1 } } } }, /threshold\.hosts\.10\.0\.0\.0\/40.*not an IP address or CIDR/],
    [{ 'new-host': { localNets: ['lan'] } }, /"new-host\.localNets".*"lan" is not an IP address/],
    [{ 'port-scan': { ports: 0 } }, /"port-scan\.ports" must be a whole number from 1/],
    [{ 'syn-flood': { severity: 'panic' } }, /"syn-flood\.severity" must be one of "info", "warning", "critical"/],
    [{ 'risky-services': { ports: { telnet: { weight: 5 } } } }, /"risky-services\.ports\.telnet" must be named "PORT\/tcp"/],
    [{ silence: { minSeconds: 10, maxSeconds: 5 } }, /"silence\.minSeconds" must not exceed/],
    [{ alerts: { webhook: 'ftp://x' } }, /"alerts\.webhook" must be an http:\/\/ or https:\/\/ URL/],
    [{ alerts: { rateLimit: { max: 0 } } }, /"alerts\.rateLimit\.max" must be a whole number/],
    [[], /must hold one JSON object of settings/],
  ])('rejects %j naming the key', (json, re) => {
    const e = errorOf(json);
    expect(e.code).toBe('ERR_CONFIG');
    expect(e.oneLine()).toMatch(re);
    expect(e.oneLine()).toMatch(/^netpulse\.json: /);
    expect(e.oneLine()).not.toContain('\n');
  });
});

describe('risky-services port keys', () => {
  it('"023/tcp" is port 23: removing it removes telnet, and one entry per port whatever the zeros', () => {
    expect(apply({}).d.riskyServices.ports.has('23/tcp')).toBe(true);
    const off = apply({ 'risky-services': { ports: { '023/tcp': null } } }).d.riskyServices.ports;
    expect(off.has('23/tcp')).toBe(false);
    expect(off.has('023/tcp')).toBe(false);
    const set = apply({ 'risky-services': { ports: { '0023/tcp': { name: 'old-telnet', weight: 5 } } } }).d.riskyServices.ports;
    expect(set.get('23/tcp')).toEqual({ name: 'old-telnet', weight: 5 });
    expect([...set.keys()].filter((k) => k.startsWith('0'))).toEqual([]);
  });
});

describe('a config file that is not an object', () => {
  it.each([[[]], [5], [null], ['x']])('%j is one error saying what the file must hold (it named an empty key)', (json) => {
    const e = errorOf(json);
    expect(e.message).toMatch(/^netpulse\.json: must hold one JSON object of settings, like \{"zscore"/);
    expect(e.message).not.toContain('""');
  });
});
