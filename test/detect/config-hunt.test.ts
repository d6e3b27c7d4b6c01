// Config-file defects found by an option and configuration bug hunt. Each case states what
// the README (or an outside oracle) says, never what netpulse happened to print.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/cli/detect-options.js';
import { applyConfigFile, defaultAlertSinkConfig, defaultDetectConfig } from '../../src/detect/config.js';
import { ConfigError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';

function apply(json: unknown) {
  const d = defaultDetectConfig();
  const s = defaultAlertSinkConfig('sensor-1');
  applyConfigFile(json, 'netpulse.json', d, s);
  return { d, s };
}

/** README: "an unknown key or a bad value is a one-line error naming it ... exit status 2". */
function expectRefused(json: unknown, key: string): void {
  const e = errorOf(() => apply(json));
  expect(e, `${JSON.stringify(json)} was accepted`).toBeInstanceOf(ConfigError);
  expect(e?.code).toBe('ERR_CONFIG');
  expect(e?.exitCode).toBe(2);
  expect(e?.oneLine()).toContain(`"${key}"`);
  expect(e?.oneLine()).not.toContain('\n');
}

/** Longest delay a Node timer can hold: longer ones fire after 1 ms (Node's documentation). */
const NODE_TIMER_MAX_MS = 2 ** 31 - 1;

function tmpFile(name: string, bytes: Buffer | string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'np-hunt-')), name);
  writeFileSync(file, bytes);
  return file;
}

describe('config file: values a Node timer cannot hold', () => {
  // "alerts.webhook.timeout": "30d" was accepted as 2,592,000,000 ms; setTimeout fires such a
  // delay after 1 ms, so every request "timed out after 2592000000 ms" at once; a resend of
  // "30d" re-sent every raised alert to Alertmanager every millisecond.
  it.each([
    [{ alerts: { webhook: { url: 'http://127.0.0.1:9/', timeout: '30d' } } }, 'alerts.webhook.timeout', (s: ReturnType<typeof apply>['s']) => s.webhook?.timeoutMs],
    [{ alerts: { alertmanager: { url: 'http://127.0.0.1:9093', timeout: '25d' } } }, 'alerts.alertmanager.timeout', (s: ReturnType<typeof apply>['s']) => s.alertmanager?.timeoutMs],
    [{ alerts: { alertmanager: { url: 'http://127.0.0.1:9093', resend: '30d' } } }, 'alerts.alertmanager.resend', (s: ReturnType<typeof apply>['s']) => (s.alertmanager?.resendSeconds ?? 0) * 1000],
  ])('%j is refused naming the key, or kept within a timer', (json, key, ms) => {
    const e = errorOf(() => apply(json));
    if (e === null) {
      // accepted: then the sink must not be handed a delay Node turns into 1 ms
      expect(ms(apply(json).s)).toBeLessThanOrEqual(NODE_TIMER_MAX_MS);
    } else {
      expectRefused(json, key);
    }
  });

  it('still takes the documented forms', () => {
    const { s } = apply({ alerts: { alertmanager: { url: 'http://127.0.0.1:9093', timeout: '5s', resend: '60s' }, webhook: { url: 'http://127.0.0.1:9/', timeout: '1h' } } });
    expect(s.alertmanager).toMatchObject({ timeoutMs: 5000, resendSeconds: 60 });
    expect(s.webhook?.timeoutMs).toBe(3_600_000);
  });
});

describe('config file: numbers are decimal', () => {
  // Number() reads "0x10" as 16, "0b11" as 3, "0o7" as 7: a string setting in hex was taken.
  it.each(['0x10', '0b11', '0o7', 'Infinity', '1e400'])('"zscore.threshold": %j is refused', (v) => {
    expectRefused({ zscore: { threshold: v } }, 'zscore.threshold');
  });

  it('decimal text and JSON numbers still work', () => {
    expect(apply({ zscore: { threshold: '4.5' } }).d.zscore.threshold).toBe(4.5);
    expect(apply({ zscore: { threshold: 5 } }).d.zscore.threshold).toBe(5);
  });
});

describe('config file: networks with host bits set', () => {
  // "10.0.0.5/8" was read as all of 10.0.0.0/8: an allow-list entry for one host silenced
  // alerts about 16 million. libpcap refuses it ("non-network bits set in 10.0.0.5/8"), and so
  // does Python's ipaddress ("has host bits set").
  it.each([
    [{ alerts: { allow: ['10.0.0.5/8'] } }, 'alerts.allow'],
    [{ 'new-host': { localNets: ['192.168.1.1/16'] } }, 'new-host.localNets'],
    [{ 'new-host': { localNets: ['fe80::1/10'] } }, 'new-host.localNets'],
    [{ threshold: { hosts: { '10.1.2.3/24': { bytes: 5 } } } }, 'threshold.hosts.10.1.2.3/24'],
  ])('%j is refused naming the key', (json, key) => {
    expectRefused(json, key);
  });

  it('networks, hosts, /0, /32 and /128 are still fine', () => {
    const { d } = apply({
      alerts: { allow: ['10.0.0.0/8', '10.0.0.5', '10.0.0.5/32', '0.0.0.0/0', '::/0', '2001:db8::1/128', '::ffff:10.0.0.0/104'] },
      'new-host': { localNets: ['fe80::/10', '192.168.0.0/16'] },
    });
    expect(d.allow.hasText('10.200.0.1')).toBe(true);
    expect(d.newHost.localNets.hasText('fe80::9')).toBe(true);
  });
});

describe('config file: values that were quietly read as something else', () => {
  it('"alerts.sensor" blank is refused as --sensor " " is', () => {
    // the CLI refuses a blank --sensor ("would label every alert from nowhere"); the file took it
    expectRefused({ alerts: { sensor: '   ' } }, 'alerts.sensor');
  });

  it.each([null, 'off', 0])('"syn-flood.minRate": %j is refused (it became 0: every unanswered SYN a flood)', (v) => {
    // the README documents minRate as a rate of SYN/s (default 100); null and "off" are the
    // threshold's "no limit" and were read here as 0
    expectRefused({ 'syn-flood': { minRate: v } }, 'syn-flood.minRate');
  });

  it('"syn-flood.minRate" still takes rates', () => {
    expect(apply({ 'syn-flood': { minRate: '1k/s' } }).d.synFlood.minRate).toBe(1000);
    expect(apply({ 'syn-flood': { minRate: 50 } }).d.synFlood.minRate).toBe(50);
  });
});

describe('config file bytes', () => {
  it('a file that is not UTF-8 is refused, not read with replacement characters', () => {
    // Latin-1 "été": the sensor name came out as "\uFFFDt\uFFFD"
    const file = tmpFile('latin1.json', Buffer.concat([Buffer.from('{"alerts":{"sensor":"'), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('"}}')]));
    let json: unknown;
    const e = errorOf(() => {
      json = readConfigFile(file);
    });
    if (e === null) {
      // read some other way: then it must be the name the file holds
      const { s } = apply(json);
      expect(s.sensor).toBe('été');
    } else {
      expect(e.code).toBe('ERR_CONFIG');
      expect(e.exitCode).toBe(2);
      expect(e.oneLine()).toContain(file);
    }
  });

  it('UTF-16 is refused with one clean line', () => {
    const file = tmpFile('u16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{}', 'utf16le')]));
    const e = errorOf(() => readConfigFile(file));
    expect(e?.code).toBe('ERR_CONFIG');
    expect(e?.oneLine()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('bad JSON holding control bytes gives a line without them (no NUL, no terminal escapes)', () => {
    const file = tmpFile('ctl.json', '\u0000\u001b[2J{');
    const e = errorOf(() => readConfigFile(file));
    expect(e?.code).toBe('ERR_CONFIG');
    expect(e?.oneLine()).toContain('not valid JSON');
    expect(e?.oneLine()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('UTF-8 with or without a byte-order mark is read (README: a leading byte-order mark is skipped)', () => {
    const plain = tmpFile('u8.json', '{"alerts":{"sensor":"été"}}');
    const bom = tmpFile('bom.json', '\ufeff{"alerts":{"sensor":"été"}}');
    expect(apply(readConfigFile(plain)).s.sensor).toBe('été');
    expect(apply(readConfigFile(bom)).s.sensor).toBe('été');
  });
});
