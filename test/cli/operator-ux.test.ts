// What an operator reads at 3 a.m.: the human report, the progress bar, the watch view and
// the error lines. Each test states the expectation it holds the output to (README "Replay",
// "Errors and exit statuses", "Feed, dashboard and metrics"; tcpdump/tshark habits where the
// README is silent). The CLI tests run the built CLI (dist/bin/netpulse.js).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import type { HostStats, Report } from '../../src/aggregate/summary.js';
import type { PacketSource, SourceStats } from '../../src/capture/frame.js';
import { emptySourceStats } from '../../src/capture/frame.js';
import { startProgress } from '../../src/cli/progress.js';
import { EXIT } from '../../src/errors.js';
import { renderReport } from '../../src/sinks/report-text.js';
import { CLI, run, runAsync } from '../helpers/cli.js';

const T0 = 1_700_000_000;

// ---------------------------------------------------------------------------------------
// A minimal terminal: enough of what netpulse writes (CR, LF, erase line, SGR, alternate
// screen, cursor home, erase below) to see the screen a user would see.

interface Screen {
  /** The normal screen's lines, scrollback included. */
  main: string[];
  alt: string[];
  onAlt: boolean;
}

function emulate(out: string, columns = 200): Screen {
  const s: Screen = { main: [''], alt: [''], onAlt: false };
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const lines = (): string[] => (s.onAlt ? s.alt : s.main);
  const put = (ch: string): void => {
    const l = lines();
    while (l.length <= row) l.push('');
    let line = l[row] ?? '';
    if (col >= columns) {
      row++;
      col = 0;
      while (l.length <= row) l.push('');
      line = l[row] ?? '';
    }
    line = line.padEnd(col, ' ');
    l[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < out.length; i++) {
    const c = out[i] ?? '';
    if (c === '\r') col = 0;
    else if (c === '\n') {
      row++;
      col = 0;
      while (lines().length <= row) lines().push('');
    } else if (c === '\x1b' && out[i + 1] === '[') {
      const m = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(out.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const [, arg, cmd] = m;
      const l = lines();
      if (cmd === 'K') l[row] = (l[row] ?? '').slice(0, col);
      else if (cmd === 'H') {
        row = 0;
        col = 0;
      } else if (cmd === 'J') {
        l[row] = (l[row] ?? '').slice(0, col);
        l.length = row + 1;
      } else if (cmd === 'h' && arg === '?1049') {
        saved = { row, col };
        s.onAlt = true;
        s.alt = [''];
        row = 0;
        col = 0;
      } else if (cmd === 'l' && arg === '?1049') {
        s.onAlt = false;
        ({ row, col } = saved);
      }
      // SGR (m), cursor visibility (?25h/l), erase display (2J on a fresh alt screen): no text
    } else put(c);
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// The human report

function host(addr: string, packets: number, bytes: number): HostStats {
  const size = { count: packets, mean: bytes / packets, stdev: 0, min: 60, max: 1514, p50: 60, p95: 1514, p99: 1514 };
  return { addr, tx: { packets, bytes, size }, rx: { packets: 0, bytes: 0, size: null } };
}

function report(over: Partial<Report> = {}): Report {
  return {
    packets: 10,
    bytes: 1000,
    capturedBytes: 1000,
    firstTs: T0,
    lastTs: T0 + 1,
    seconds: 2,
    rates: { avgPacketsPerSec: 5, avgBytesPerSec: 500, peakPacketsPerSec: 10, peakBytesPerSec: 1000, peakPacketsTs: T0, peakBytesTs: T0 },
    protocols: { ipv4: 10 },
    hosts: [],
    hostsTracked: 0,
    evictedHosts: 0,
    untrackedPackets: 0,
    anomalies: {},
    late: 0,
    gaps: 0,
    dropped: null,
    droppedEstimate: null,
    ...over,
  } as Report;
}

/** The character columns where each header word of the host table starts and ends. */
function columnsOf(table: string[]): void {
  const header = table[0] ?? '';
  // every row's figures end where the header's titles end (right-aligned columns)
  const ends = [...header.matchAll(/\S+/g)].slice(2).map((m) => (m.index ?? 0) + m[0].length);
  for (const line of table.slice(1)) {
    const cells = [...line.matchAll(/[\d,.]+(?: [kMGTP]?B)?/g)].filter((m) => (m.index ?? 0) > header.indexOf('DIR'));
    for (const c of cells) expect(ends, `"${line}": "${c[0]}" ends at ${(c.index ?? 0) + c[0].length}, not under a title`).toContain((c.index ?? 0) + c[0].length);
  }
}

describe('the human report', () => {
  it("the host table's columns line up for 39-character IPv6 addresses and for counts over 100 million", () => {
    const hosts = [
      host('2001:db8:1234:5678:9abc:def0:1234:5678', 123_456_789, 98_765_432_100),
      host('fe80:1111:2222:3333:4444:5555:6666:7777', 5, 500),
      host('10.0.0.1', 1_000, 64_000),
    ];
    const text = renderReport(report({ hosts, hostsTracked: 3 }), { source: 'file t.pcap', alerts: [], reportHosts: 100 });
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l.trimStart().startsWith('HOST '));
    const table = lines.slice(start, start + 1 + hosts.length * 2).filter((l) => l.trim() !== '');
    expect(table.length).toBe(1 + hosts.length * 2);
    columnsOf(table);
  });

  it('a sparse capture\'s average rate is not printed as "0 pkt/s   0 bit/s"', () => {
    // zeek-wikipedia.pcap then zeek-5-pings.pcap: 146 packets over nine years
    const text = renderReport(
      report({ packets: 146, bytes: 26_240, seconds: 306_979_442, rates: { avgPacketsPerSec: 4.756e-7, avgBytesPerSec: 8.5478e-5, peakPacketsPerSec: 78, peakBytesPerSec: 15_337, peakPacketsTs: T0, peakBytesTs: T0 } }),
      { source: 'file a b', alerts: [], reportHosts: 100 },
    );
    const average = text.split('\n').find((l) => l.trimStart().startsWith('average')) ?? '';
    expect(average).not.toMatch(/\b0 pkt\/s/);
    expect(average).not.toMatch(/\b0 bit\/s/);
    expect(average).toMatch(/<0\.01 pkt\/s\s+<0\.01 bit\/s/);
  });

  it('an alert resolved on another day shows the date it was resolved, not only the time', () => {
    const raised = { id: 'a', key: 'k', ts: T0, state: 'raised', detector: 'silence', note: 'Capture_Silence', severity: 'critical', host: null, metric: 'x', value: 1, threshold: 1, since: T0, message: 'no packets for a long time' };
    const resolved = { ...raised, id: 'b', state: 'resolved', ts: T0 + 3 * 86_400 + 5 };
    const sameDay = { ...raised, id: 'c', key: 'k2', ts: T0 + 10 };
    const sameDayResolved = { ...sameDay, id: 'd', state: 'resolved', ts: T0 + 20 };
    const text = renderReport(report(), { source: 'f', alerts: [raised, resolved, sameDay, sameDayResolved] as never, reportHosts: 100 });
    expect(text).toContain('(resolved 2023-11-17 22:13:25)');
    expect(text).toContain('(resolved 22:13:40)');
  });

  it('says when the host table was full: hosts evicted, packets untracked, and which option to raise', () => {
    const text = renderReport(report({ hostsTracked: 100_000, evictedHosts: 24_279, untrackedPackets: 1_234 }), {
      source: 'f',
      alerts: [],
      reportHosts: 100,
      maxHosts: 100_000,
    } as never);
    const line = text.split('\n').find((l) => l.trimStart().startsWith('hosts')) ?? '';
    expect(line).toContain('24,279 evicted');
    expect(line).toContain('1,234 packets untracked');
    expect(line).toContain('--max-hosts');
  });
});

// ---------------------------------------------------------------------------------------
// The progress bar

interface FakeTty {
  isTTY: boolean;
  columns: number;
  written: string;
  write: (s: string) => boolean;
}

function fakeTty(columns: number): FakeTty & NodeJS.WriteStream {
  const t = {
    isTTY: true,
    columns,
    written: '',
    write(s: string): boolean {
      t.written += s;
      return true;
    },
  };
  return t as unknown as FakeTty & NodeJS.WriteStream;
}

function fakeSource(stats: Partial<SourceStats>): PacketSource {
  return { stats: () => ({ ...emptySourceStats(), ...stats }) } as unknown as PacketSource;
}

describe('the progress bar', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an alert line written while the bar is shown starts on a line of its own, and the bar goes at the end', () => {
    vi.useFakeTimers();
    const tty = fakeTty(120);
    const p = startProgress(fakeSource({ packets: 5000, rawBytesRead: 50e6, bytesTotal: 1e9 }), tty);
    vi.advanceTimersByTime(300);
    // the console alert sink writes to the same stream
    tty.write('2023-11-14 22:13:20Z RAISED   warning  threshold Host_Tx_Bytes_Threshold: 10.0.0.1: too much\n');
    vi.advanceTimersByTime(300);
    p.stop();
    const screen = emulate(tty.written, 120).main.filter((l) => l !== '');
    expect(screen).toEqual(['2023-11-14 22:13:20Z RAISED   warning  threshold Host_Tx_Bytes_Threshold: 10.0.0.1: too much']);
  });

  it('fits an 80-column terminal without losing the ETA, and a terminal that reports 0 columns loses nothing', () => {
    vi.useFakeTimers();
    for (const columns of [80, 0]) {
      const tty = fakeTty(columns);
      const p = startProgress(fakeSource({ packets: 1_090_162, rawBytesRead: 419e6, bytesTotal: 1.15e9 }), tty);
      vi.advanceTimersByTime(300);
      const bar = emulate(tty.written, 1000).main.filter((l) => l !== '').pop() ?? '';
      p.stop();
      expect(bar.length, bar).toBeLessThanOrEqual(79);
      expect(bar, `columns ${columns}`).toMatch(/ETA \d[\d:]* s?$|ETA \d+:\d\d$/);
      expect(bar).toContain('419 MB/1.1 GB');
    }
  });

  it('from stdin (no size) it counts the bytes read from the input, compressed as they come, like the bar for a file', () => {
    vi.useFakeTimers();
    const tty = fakeTty(120);
    // 134 MB of gzip read so far, 1.1 GB once inflated
    const p = startProgress(fakeSource({ packets: 2_947_803, rawBytesRead: 134e6, bytesRead: 1.1e9, bytesTotal: null }), tty);
    vi.advanceTimersByTime(300);
    const bar = emulate(tty.written).main.filter((l) => l !== '').pop() ?? '';
    p.stop();
    expect(bar).toContain('134 MB');
    expect(bar).not.toContain('1.1 GB');
  });
});

// ---------------------------------------------------------------------------------------
// Errors as the built CLI prints them

describe('error lines (built CLI)', () => {
  it('`replay - -` is refused up front: stdin can be read only once (ERR_BAD_OPTION, exit 2)', () => {
    const pcap = Buffer.alloc(24);
    pcap.writeUInt32LE(0xa1b2c3d4, 0);
    pcap.writeUInt16LE(2, 4);
    pcap.writeUInt16LE(4, 6);
    pcap.writeUInt32LE(65535, 16);
    pcap.writeUInt32LE(1, 20);
    for (const args of [['replay', '-', '-'], ['replay', '-', '/dev/stdin', '--json']]) {
      const r = run(args, { input: pcap });
      expect(r.status).toBe(EXIT.usage);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^netpulse: standard input .*read only once.*\[ERR_BAD_OPTION\]\n$/);
    }
  });

  it('a file that cannot be read prints the error line alone, not a report of zeros first (as tcpdump -r and tshark -r)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-ux-'));
    try {
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'hello\n');
      for (const [args, status] of [
        [['replay', join(dir, 'missing.pcap')], EXIT.inputAccess],
        [['replay', text], EXIT.badInput],
        [['replay', '-'], EXIT.badInput],
      ] as const) {
        const r = run(args, { input: '' });
        expect(r.status).toBe(status);
        expect(r.stdout, args.join(' ')).toBe('');
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------
// netpulse watch

const hello = { type: 'hello', v: 1, seq: 0, server: { name: 'netpulse', version: '0.1.0' }, source: { description: 'file t.pcap', clock: 'packet' }, options: {}, topics: [], hosts: null, summaries: [], alerts: [], stats: null, end: null };
const summaryMsg = (ts: number) => ({
  type: 'summary', v: 1, seq: 1, ts, packets: 42, bytes: 4200, capturedBytes: 4200, protocols: { ipv6: 42, udp: 42 }, activeHosts: 2,
  hosts: [{ addr: '2001:db8:1234:5678:9abc:def0:1234:5678', tx: { packets: 42, bytes: 4200, size: { count: 42, mean: 100, stdev: 0, min: 100, max: 100, p50: 100, p95: 100, p99: 100 } }, rx: { packets: 0, bytes: 0, size: null } }],
  newHosts: 0, newHostAddrs: [], anomalies: {}, late: 0, dropped: null,
});
const alertMsg = { type: 'alert', v: 1, seq: 2, id: 'a1', ts: T0 + 1, state: 'raised', detector: 'port-scan', note: 'Port_Scan', severity: 'critical', key: 'k', host: '198.51.100.7', metric: 'ports', value: 500, threshold: 100, since: T0 + 1, message: '198.51.100.7 probed 500 ports of 10.0.0.2' };
const endMsg = { type: 'end', v: 1, seq: 3, reason: 'eof', error: null };

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A feed that sends the messages, then (unless `linger`) closes as a finished server does. */
async function feed(messages: object[], linger = false, every: object | null = null): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    for (const m of messages) ws.send(JSON.stringify(m));
    if (!linger) setTimeout(() => ws.close(1001, 'server shutting down'), 600);
    // a busy feed: the view has something new to draw at any moment
    if (every !== null) {
      const t = setInterval(() => ws.send(JSON.stringify(every)), 20);
      ws.on('close', () => clearInterval(t));
    }
  });
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/feed`;
}

const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
// util-linux's script stands for the terminal; CI (NETPULSE_REQUIRE_TOOLS=1) must not skip these
if (!haveScript) {
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('script (util-linux) is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install bsdutils');
  process.stderr.write('skipping the terminal tests of netpulse watch: script (util-linux) is not installed\n');
}

/** The built CLI on a terminal of the given size (util-linux script), its output as written. */
function onTerminal(args: string[], size: { cols: number; rows: number }, opts: { before?: string; interruptAfter?: number } = {}): Promise<{ status: number | null; out: string }> {
  const cli = `'${process.execPath}' '${CLI}' ${args.map((a) => `'${a}'`).join(' ')}`;
  // timeout -s INT stands for Ctrl-C; --preserve-status passes on netpulse's own status
  const command = opts.interruptAfter === undefined ? cli : `timeout --preserve-status -s INT ${opts.interruptAfter} ${cli}`;
  const cmd = `stty cols ${size.cols} rows ${size.rows}; ${opts.before ?? ''}${command}; echo "[status $?]"`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', () => {
      clearTimeout(timer);
      const m = /\[status (\d+)\]/.exec(out);
      resolve({ status: m ? Number(m[1]) : null, out: out.replace(/\[status \d+\]\s*$/, '') });
    });
  });
}

describe('netpulse watch (built CLI)', () => {
  it('without a terminal, alerts and the end of the source are lines too, not only the per-second lines', async () => {
    const url = await feed([hello, summaryMsg(T0), alertMsg, endMsg]);
    const r = await runAsync(['watch', url, '--until-end'], { timeoutMs: 20_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('2023-11-14 22:13:20Z  42 pkt/s  4.20 kB/s  2 hosts  top 2001:db8:1234:5678:9abc:def0:1234:5678');
    expect(lines[1]).toBe('2023-11-14 22:13:21Z RAISED   critical port-scan Port_Scan: 198.51.100.7 probed 500 ports of 10.0.0.2');
    expect(lines[2]).toBe('-- the source ended (eof) --');
    expect(lines).toHaveLength(3);
  });

  it.runIf(haveScript)('on an 80x24 terminal, the last view stays on the screen after the source ends (--until-end)', async () => {
    const url = await feed([hello, summaryMsg(T0), alertMsg, endMsg], true);
    const r = await onTerminal(['watch', url, '--until-end'], { cols: 80, rows: 24 });
    expect(r.status).toBe(0);
    const screen = emulate(r.out, 80);
    expect(screen.onAlt).toBe(false);
    const text = screen.main.join('\n');
    expect(text).toContain('replay ended (eof)');
    expect(text).toContain('Port_Scan 198.51.100.7');
    // and nothing is wider than the terminal
    for (const l of screen.main) expect(l.length).toBeLessThanOrEqual(80);
  }, 40_000);

  it.runIf(haveScript)('Ctrl-C leaves the terminal as it found it plus the last view: no cursor-home or clear on the normal screen', async () => {
    const url = await feed([hello, summaryMsg(T0), alertMsg], true, { type: 'stats', v: 1, seq: 9, at: 0, packets: 1, bytes: 1, dropped: null, droppedEstimate: null, anomalies: 0, late: 0, hostsTracked: 1, evictedHosts: 0, eventLoopLagMs: 0.1 });
    // the shell's earlier output must survive
    const r = await onTerminal(['watch', url], { cols: 200, rows: 40 }, { before: 'echo EARLIER-OUTPUT; ', interruptAfter: 1.5 });
    expect(r.status).toBe(130);
    const after = r.out.slice(r.out.indexOf('\x1b[?1049l'));
    expect(after).not.toContain('\x1b[H');
    expect(after).not.toContain('\x1b[J');
    const screen = emulate(r.out, 200);
    expect(screen.main.join('\n')).toContain('EARLIER-OUTPUT');
    expect(screen.main.join('\n')).toContain('Port_Scan 198.51.100.7');
  }, 40_000);
});
