// The human report (`replay F`) against the JSON report of the same run (`replay F --json`):
// every number the text shows is read back and must be the JSON value, rounded as shown
// (counts exact; "12.7 kB" within half a unit of its last digit, kB = 1000 B, bit/s = 8 x
// bytes/s; times to the microsecond, the date worked out here from the epoch seconds, not
// with a Date), units as labelled. On real captures (a span of nine years, one packet, no IP
// at all, a span under a second, IPv6 addresses wider than the column, a direction with
// `size: null`, evicted hosts, more than 10,000 alert messages) and on pcapngs made here
// (packet times before 1970 and after year 9999).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/aggregate/summary.js';
import { ndjson, run } from '../helpers/cli.js';
import { REAL, haveCorpus } from '../helpers/corpus.js';
import { pcapngBlock } from '../helpers/pcapng.js';

const corpus = haveCorpus();

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** "2011-03-18 19:06:07.096535 UTC" (or "+010209-..." beyond year 9999) as [epoch second, microseconds or null]. */
function parseTime(s: string): [number, number | null] | null {
  const m = /^([+-]\d{6}|\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?(?: UTC)?$/.exec(s.trim());
  if (m === null) return null;
  const sec = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  return [sec, m[7] === undefined ? null : Number(m[7])];
}

const count = (s: string): number => Number(s.replace(/,/g, ''));
const BYTE_UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };
const BIT_UNITS: Record<string, number> = { 'bit/s': 1, 'kbit/s': 1e3, 'Mbit/s': 1e6, 'Gbit/s': 1e9, 'Tbit/s': 1e12 };

/** Every way the text differs from the JSON report. */
function differences(text: string, r: Report): string[] {
  const bad: string[] = [];
  const lines = text.split('\n');
  const line = (label: string): string => lines.find((l) => l.startsWith(`  ${label} `)) ?? '';
  // a number shown with d decimals in unit u stands for [x - u/2 10^-d, x + u/2 10^-d]
  const rounded = (where: string, shown: string, unit: number, value: number): void => {
    const d = shown.includes('.') ? (shown.split('.')[1] ?? '').length : 0;
    if (Math.abs(Number(shown) * unit - value) > 0.5 * 10 ** -d * unit * (1 + 1e-9)) bad.push(`${where}: shows ${shown} x ${unit} for ${value}`);
  };
  const bytes = (where: string, shown: string, value: number): void => {
    const m = /^(\d+(?:\.\d+)?) (B|kB|MB|GB|TB|PB)$/.exec(shown.trim());
    if (m === null) return void bad.push(`${where}: "${shown}" is not a byte count`);
    const u = BYTE_UNITS[m[2] ?? ''] ?? NaN;
    rounded(where, m[1] ?? '', u, value);
    if (u > 1 && value < u) bad.push(`${where}: ${shown} for ${value} (under one ${m[2]})`);
  };
  const bits = (where: string, shown: string, bytesPerSec: number): void => {
    const b = bytesPerSec * 8;
    if (shown.trim() === '<0.01 bit/s') return void (b > 0 && b < 0.01 ? undefined : bad.push(`${where}: <0.01 bit/s for ${b}`));
    const m = /^(\d+(?:\.\d+)?) ([kMGT]?bit\/s)$/.exec(shown.trim());
    if (m === null) return void bad.push(`${where}: "${shown}" is not a bit rate`);
    const u = BIT_UNITS[m[2] ?? ''] ?? NaN;
    rounded(where, m[1] ?? '', u, b);
    if (u > 1 && b < u) bad.push(`${where}: ${shown} for ${b} bit/s`);
  };
  const packetRate = (where: string, shown: string, v: number): void => {
    if (shown.trim() === '<0.01 pkt/s') return void (v > 0 && v < 0.01 ? undefined : bad.push(`${where}: <0.01 pkt/s for ${v}`));
    const m = /^([\d,]+(?:\.\d+)?) pkt\/s$/.exec(shown.trim());
    if (m === null) return void bad.push(`${where}: "${shown}" is not a packet rate`);
    rounded(where, (m[1] ?? '').replace(/,/g, ''), 1, v);
    if (v > 0 && Number((m[1] ?? '').replace(/,/g, '')) === 0) bad.push(`${where}: ${v} shown as 0`);
  };
  // a time to the microsecond (a whole second when shown without a fraction)
  const time = (where: string, shown: string | undefined, v: number | null): void => {
    if (v === null || shown === undefined) return void ((v === null) !== (shown === undefined) ? bad.push(`${where}: "${shown}" for ${v}`) : undefined);
    const t = parseTime(shown);
    if (t === null) return void bad.push(`${where}: "${shown}" is not a date and time`);
    const [sec, us] = t;
    const vsec = Math.floor(v);
    const vus = Math.round((v - vsec) * 1e6);
    if (us === null ? sec !== v : sec * 1e6 + us !== vsec * 1e6 + vus) bad.push(`${where}: "${shown}" for ${v}`);
  };

  if (r.firstTs === null) {
    if (!lines.includes('  no packets')) bad.push('no "no packets" line for an empty capture');
  } else {
    const m = /^ {2}span +(.+) \.\. (.+) \(([\d,]+) s\)$/.exec(line('span'));
    if (m === null) bad.push(`span: "${line('span')}"`);
    else {
      time('span from', m[1], r.firstTs);
      time('span to', m[2], r.lastTs);
      if (count(m[3] ?? '') !== r.seconds) bad.push(`span: ${m[3]} s for ${r.seconds}`);
    }
  }
  const p = /^ {2}packets +([\d,]+) {3}wire bytes ([\d,]+) \((.+)\) {3}captured bytes ([\d,]+)$/.exec(line('packets'));
  if (p === null) bad.push(`packets: "${line('packets')}"`);
  else {
    if (count(p[1] ?? '') !== r.packets || count(p[2] ?? '') !== r.bytes || count(p[4] ?? '') !== r.capturedBytes) bad.push(`packets: "${line('packets')}"`);
    bytes('wire bytes', p[3] ?? '', r.bytes);
  }
  const q = r.rates;
  const avg = /^ {2}average +(.+ pkt\/s) {3}(.+bit\/s)$/.exec(line('average'));
  if (avg === null) bad.push(`average: "${line('average')}"`);
  else {
    packetRate('average packets', avg[1] ?? '', q.avgPacketsPerSec);
    bits('average bits', avg[2] ?? '', q.avgBytesPerSec);
  }
  const pk = /^ {2}peak +(.+? pkt\/s)(?: at (.+? UTC))? {3}(.+?bit\/s)(?: at (.+ UTC))?$/.exec(line('peak'));
  if (pk === null) bad.push(`peak: "${line('peak')}"`);
  else {
    packetRate('peak packets', pk[1] ?? '', q.peakPacketsPerSec);
    time('peak packets at', pk[2], q.peakPacketsTs);
    bits('peak bits', pk[3] ?? '', q.peakBytesPerSec);
    time('peak bits at', pk[4], q.peakBytesTs);
  }
  for (const key of ['protocols', 'anomalies'] as const) {
    const shown = line(key).slice(`  ${key}`.length).trim();
    const got: Record<string, number> = {};
    if (shown !== 'none') {
      for (const part of shown.split(', ')) {
        const m = /^(\S+) ([\d,]+)(?: \((\d+\.\d)%\))?$/.exec(part);
        if (m === null) {
          bad.push(`${key}: "${part}"`);
          continue;
        }
        got[m[1] ?? ''] = count(m[2] ?? '');
        if (m[3] !== undefined) rounded(`${key} ${m[1]} share`, m[3], 1, (100 * (r[key][m[1] ?? ''] ?? 0)) / r.packets);
      }
    }
    if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(r[key]).sort())) bad.push(`${key}: "${shown}" for ${JSON.stringify(r[key])}`);
  }
  const late = /^ {2}late +([\d,]+) packets older than the reorder allowance {3}gaps ([\d,]+)$/.exec(line('late'));
  if (late === null || count(late[1] ?? '') !== r.late || count(late[2] ?? '') !== r.gaps) bad.push(`late: "${line('late')}" for ${r.late}, ${r.gaps}`);
  const drops = line('drops');
  if (r.dropped === null ? !drops.includes('unknown') : count(/drops +([\d,]+)/.exec(drops)?.[1] ?? '') !== r.dropped) bad.push(`drops: "${drops}" for ${r.dropped}`);
  const h = /^ {2}hosts +([\d,]+) tracked, ([\d,]+) evicted(?:, ([\d,]+) packets untracked)?/.exec(line('hosts'));
  if (h === null || count(h[1] ?? '') !== r.hostsTracked || count(h[2] ?? '') !== r.evictedHosts || count(h[3] ?? '0') !== r.untrackedPackets) {
    bad.push(`hosts: "${line('hosts')}" for ${r.hostsTracked}, ${r.evictedHosts}, ${r.untrackedPackets}`);
  }

  // the host table: two rows per host, in the JSON's order
  const at = lines.findIndex((l) => l.startsWith('  Hosts ('));
  if (r.hosts.length > 0 && at < 0) bad.push('no host table');
  if (at >= 0) {
    const head = /^ {2}Hosts \((?:top ([\d,]+) of ([\d,]+)|all),? by bytes/.exec(lines[at] ?? '');
    if (head === null || (head[1] !== undefined ? count(head[1]) !== r.hosts.length || count(head[2] ?? '') !== r.hostsTracked : r.hosts.length !== r.hostsTracked)) bad.push(`host table title: "${lines[at]}"`);
    r.hosts.forEach((host, k) => {
      for (const [j, dir] of (['tx', 'rx'] as const).entries()) {
        const where = `${host.addr} ${dir}`;
        let cells = (lines[at + 2 + 2 * k + j] ?? '').trim().split(/\s+/);
        if (j === 0) {
          if (cells[0] !== host.addr) bad.push(`host ${k}: ${cells[0]} for ${host.addr}`);
          cells = cells.slice(1);
        }
        const d = host[dir];
        if (cells[0] !== dir || count(cells[1] ?? '') !== d.packets) bad.push(`${where}: "${cells.join(' ')}" for ${d.packets} packets`);
        bytes(`${where} bytes`, `${cells[2]} ${cells[3]}`, d.bytes);
        const stats = cells.slice(4);
        if (d.size === null) {
          if (stats.length > 0) bad.push(`${where}: statistics ${stats.join(' ')} for size null`);
          continue;
        }
        if (stats.length !== 7) {
          bad.push(`${where}: statistics "${stats.join(' ')}"`);
          continue;
        }
        const [mean = '', stdev = '', ...ints] = stats;
        rounded(`${where} mean`, mean, 1, d.size.mean);
        rounded(`${where} stdev`, stdev, 1, d.size.stdev);
        const want = [d.size.min, d.size.p50, d.size.p95, d.size.p99, d.size.max];
        if (ints.map(Number).join(' ') !== want.join(' ')) bad.push(`${where}: MIN P50 P95 P99 MAX ${ints.join(' ')} for ${want.join(' ')}`);
      }
    });
  }

  // alerts: the counts, the rows (the JSON list's first 50, with their resolve times) and how many more
  const a = r.alerts;
  const title = lines.findIndex((l) => l.startsWith('  Alerts ('));
  if (a === undefined || a.raised + a.resolved === 0) {
    if (title >= 0) bad.push(`"${lines[title]}" without alerts in the JSON`);
  } else if (title < 0) bad.push(`no Alerts section for ${a.raised} raised`);
  else {
    const t = /^ {2}Alerts \(([\d,]+) raised, ([\d,]+) resolved\)$/.exec(lines[title] ?? '');
    if (t === null || count(t[1] ?? '') !== a.raised || count(t[2] ?? '') !== a.resolved) bad.push(`"${lines[title]}" for ${a.raised} raised, ${a.resolved} resolved`);
    const rows: string[] = [];
    let i = title + 1;
    while ((lines[i] ?? '').startsWith('  2') || (lines[i] ?? '').startsWith('  1') || (lines[i] ?? '').startsWith('  +') || (lines[i] ?? '').startsWith('  -')) rows.push(lines[i++] ?? '');
    const more = /^ {2}\.\.\. ([\d,]+) more/.exec(lines[i] ?? '');
    if (rows.length + (more === null ? 0 : count(more[1] ?? '')) !== a.raised) bad.push(`${rows.length} alert rows and "${lines[i]}" for ${a.raised} raised`);
    rows.forEach((row, k) => {
      const e = a.list[k];
      const m = /^ {2}(\S+ \d\d:\d\d:\d\d) {2}(\S+) +(\S+) +(.*?) {2}\((?:resolved (.+)|still raised)\)$/.exec(row);
      if (e === undefined || m === null) return void bad.push(`alert row ${k}: "${row}" for ${JSON.stringify(e)}`);
      const raisedAt = parseTime(m[1] ?? '');
      if (raisedAt === null || raisedAt[0] !== e.ts || m[2] !== e.severity || m[3] !== e.note || m[4] !== e.message) bad.push(`alert row ${k}: "${row}" for ${JSON.stringify(e)}`);
      if (e.resolvedTs === null) {
        if (m[5] !== undefined) bad.push(`alert row ${k}: resolved ${m[5]} for a raise still open`);
      } else if (m[5] === undefined) bad.push(`alert row ${k}: still raised, resolved at ${e.resolvedTs} in the JSON`);
      else {
        // the time alone when resolved the same day
        const full = parseTime(m[5]) ?? (raisedAt === null ? null : parseTime(`${(m[1] ?? '').split(' ')[0]} ${m[5]}`));
        if (full === null || full[0] !== e.resolvedTs) bad.push(`alert row ${k}: resolved ${m[5]} for ${e.resolvedTs}`);
      }
    });
  }
  return bad;
}

function both(args: readonly string[]): { text: string; report: Report } {
  const text = run(['replay', ...args, '--no-console-alerts']);
  const json = run(['replay', ...args, '--json']);
  expect(text.status, text.stderr).toBe(0);
  expect(json.status, json.stderr).toBe(0);
  const report = ndjson(json.stdout).find((m) => m.type === 'report') as unknown as Report;
  return { text: text.stdout, report };
}

/** A little-endian pcapng of raw-IPv4 (link type 101) UDP packets at the given microsecond counts. */
function pcapng(packets: readonly { units: bigint; size: number; src: number; dst: number }[], tsoffset?: bigint): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(tsoffset === undefined ? 8 : 8 + 12 + 4);
  idb.writeUInt16LE(101, 0);
  if (tsoffset !== undefined) {
    idb.writeUInt16LE(14, 8); // if_tsoffset
    idb.writeUInt16LE(8, 10);
    idb.writeBigInt64LE(tsoffset, 12);
  }
  const blocks = [pcapngBlock(0x0a0d0d0a, shb), pcapngBlock(1, idb)];
  for (const p of packets) {
    const ip = Buffer.alloc(p.size);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(p.size, 2);
    ip.writeUInt8(64, 8);
    ip.writeUInt8(17, 9);
    ip.writeUInt32BE(p.src >>> 0, 12);
    ip.writeUInt32BE(p.dst >>> 0, 16);
    ip.writeUInt16BE(1000, 20);
    ip.writeUInt16BE(53, 22);
    ip.writeUInt16BE(p.size - 20, 24);
    const epb = Buffer.alloc(20 + ((p.size + 3) & ~3));
    epb.writeUInt32LE(Number(p.units >> 32n), 4);
    epb.writeUInt32LE(Number(p.units & 0xffffffffn), 8);
    epb.writeUInt32LE(p.size, 12);
    epb.writeUInt32LE(p.size, 16);
    ip.copy(epb, 20);
    blocks.push(pcapngBlock(6, epb));
  }
  return Buffer.concat(blocks);
}

const dir = mkdtempSync(join(tmpdir(), 'netpulse-report-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the human report shows what the JSON report says', () => {
  it('packet times before 1970: the second is floor(t) (-1.0002 s is 23:59:58.999800)', () => {
    const f = join(dir, 'pre1970.pcapng');
    // if_tsoffset -10 s: 8.9998 s and 9.9995 s stored are -1.0002 s and -0.0005 s
    writeFileSync(f, pcapng([{ units: 8_999_800n, size: 100, src: 0x0a000001, dst: 0x0a000002 }, { units: 9_999_500n, size: 60, src: 0x0a000002, dst: 0x0a000001 }], -10n));
    const { text, report } = both([f]);
    expect(report.firstTs).toBe(-1.0002);
    expect(differences(text, report)).toEqual([]);
    expect(text).toContain('1969-12-31 23:59:58.999800 UTC .. 1969-12-31 23:59:59.999500 UTC');
  });

  it('packet times after year 9999 keep their seconds ("+010209-01-27 06:13:20")', () => {
    const f = join(dir, 'y10k.pcapng');
    const s = 260_000_000_000n * 1_000_000n;
    writeFileSync(f, pcapng([{ units: s + 123_456n, size: 100, src: 0x0a000001, dst: 0x0a000002 }, { units: s + 1_500_000n, size: 60, src: 0x0a000002, dst: 0x0a000001 }]));
    const { text, report } = both([f, '--detectors', 'all', '--threshold', 'host-bytes=50']);
    expect(differences(text, report)).toEqual([]);
    expect(text).toMatch(/span +\+010209-01-27 06:13:20\.\d{6} UTC \.\. \+010209-01-27 06:13:21\.500000 UTC \(2 s\)/);
  });

  it.skipIf(!corpus).each([
    // nine years apart (a gap, alerts resolved on another day), top 3 of 21
    [['zeek-wikipedia.pcap', 'zeek-5-pings.pcap'], ['--hosts', '3']],
    // IPv6 addresses wider than the 15-character column
    [['zeek-icmp6.pcap'], ['--hosts', 'all']],
    // one packet; each host has size null in one direction
    [['ppp-linktype_ipv6.pcap'], []],
    [['zeek-6in4.pcap'], []],
    // no IP at all (netlink)
    [['ppp-microsecs_big_endian.pcap'], []],
    // a span under a second, nanosecond pcap
    [['tcpdump-tcp-handshake-nano.pcap'], ['--hosts', 'all']],
    [['ddos-amp.UDP.bacnet.IOT.37810.pcapng'], ['--hosts', '20']],
    // evicted hosts and untracked packets
    [['ddos-pkt.TCP.synflood.spoofed.pcap'], ['--max-hosts', '50', '--hosts', '7']],
    [['ppp-example.pcap'], ['--hosts', 'all', '--detectors', 'all']],
  ] as const)('%s %s', (names, opts) => {
    const { text, report } = both([...names.map((n) => join(REAL, n)), ...opts]);
    expect(differences(text, report)).toEqual([]);
  });

  it.skipIf(!corpus)('more than 10,000 alert messages: the Alerts section counts and lists them all, as --json does', () => {
    // every host over 100 B/s, no rate limit: 5,845 raises and as many resolves
    const { text, report } = both([join(REAL, 'ddos-amp.UDP.bacnet.IOT.37810.pcapng'), '--detectors', 'threshold', '--threshold', 'host-bytes=100', '--alert-rate', '100000/1s', '--hosts', '1']);
    expect((report.alerts?.raised ?? 0) + (report.alerts?.resolved ?? 0)).toBeGreaterThan(10_000);
    expect(differences(text, report)).toEqual([]);
  });
});
