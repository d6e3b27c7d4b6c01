// `netpulse replay` as a user runs it: stdin, several files, speeds, the human report,
// options, and the one-line errors with their documented exit statuses.

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { CLI, ndjson, run, runAsync } from '../helpers/cli.js';
import { MALFORMED, REAL, haveCorpus, truth } from '../helpers/corpus.js';

const corpus = haveCorpus();
const PINGS = join(REAL, 'zeek-5-pings.pcap');
const WIKI = join(REAL, 'zeek-wikipedia.pcap');

describe.skipIf(!corpus)('replay', () => {
  it('reads stdin ("-"), plain or gzip-compressed, exactly as the file', () => {
    const file = run(['replay', WIKI, '--json', '--hosts', 'all']);
    const piped = run(['replay', '-', '--json', '--hosts', 'all'], { input: readFileSync(WIKI) });
    const gz = run(['replay', '-', '--json', '--hosts', 'all'], { input: gzipSync(readFileSync(WIKI)) });
    expect(file.status).toBe(0);
    expect(piped.stdout).toBe(file.stdout);
    expect(gz.stdout).toBe(file.stdout);
  });

  it('reads several files one after another as one capture', () => {
    const a = truth('zeek-wikipedia.pcap'); // 2009
    const b = truth('zeek-5-pings.pcap'); // 2020
    const forward = ndjson(run(['replay', WIKI, PINGS, '--json', '--hosts', 'all']).stdout);
    const report = forward.find((m) => m.type === 'report');
    expect(report?.packets).toBe(a.packets + b.packets);
    expect(report?.bytes).toBe(a.bytes + b.bytes);
    expect(report?.late).toBe(0);
    // eleven years apart: one gap between them, not 350 million zero rows
    expect(forward.filter((m) => m.type === 'gap')).toHaveLength(1);
    // the other way round time goes back eleven years: the older file's packets are late
    const backward = ndjson(run(['replay', PINGS, WIKI, '--json', '--hosts', 'all']).stdout).find((m) => m.type === 'report');
    expect(backward?.packets).toBe(a.packets + b.packets);
    expect(backward?.late).toBe(a.packets);
  });

  it('says when packets were counted late (files out of time order), and not otherwise', () => {
    const a = truth('zeek-wikipedia.pcap');
    const backward = run(['replay', PINGS, WIKI, '--json']);
    expect(backward.status).toBe(0);
    expect(backward.stderr).toBe(
      `netpulse: note: ${a.packets} packets were from seconds more than 2 before the newest second seen (--reorder, in whole seconds) and counted as late in the newest second (time went back in the capture; if files are out of time order, give them in order or merge them with mergecap)\n`,
    );
    expect(run(['replay', WIKI, PINGS, '--json']).stderr).toBe('');
  });

  it('bounds --max-gap and --reorder, which would otherwise let memory grow with the capture span', () => {
    // before: --max-gap 1e11 across eleven years made 350 million zero rows at once (V8 out of memory)
    const gap = run(['replay', PINGS, WIKI, '--json', '--max-gap', '100000000000']);
    expect(gap.status).toBe(EXIT.usage);
    expect(gap.stderr).toBe('netpulse: --max-gap must be at most 86400 seconds (a day of zero rows; a longer run of empty seconds is one gap message), got 100000000000 [ERR_CONFIG]\n');
    const reorder = run(['replay', PINGS, '--json', '--reorder', '1000']);
    expect(reorder.status).toBe(EXIT.usage);
    expect(reorder.stderr).toMatch(/^netpulse: --reorder must be at most 300 seconds .*\[ERR_CONFIG\]\n$/);
    expect(run(['replay', PINGS, '--json', '--max-gap', '86400', '--reorder', '300']).status).toBe(0);
  });

  it('waits for a slow reader of its output instead of buffering it all (bounded memory)', () => {
    // 4,000 one-second-apart packets (summaries ~0.5 MB) into a pipe whose reader sleeps first
    const dir = mkdtempSync(join(tmpdir(), 'np-slow-'));
    try {
      const file = join(dir, 'sparse.pcap');
      const g = run(['synth', file, '-n', '4000', '--hosts', '4', '--seconds', '4000', '--no-truth', '-q']);
      expect(g.status, g.stderr).toBe(0);
      const direct = run(['replay', file, '--json']);
      const slow = join(dir, 'slow.ndjson');
      const r = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' replay '${file}' --json | (sleep 1; cat > '${slow}'); echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout.trim()).toBe('status 0');
      expect(readFileSync(slow, 'utf8')).toBe(direct.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives identical results at every speed', async () => {
    const max = run(['replay', PINGS, '--json']);
    const ten = await runAsync(['replay', PINGS, '--json', '--speed', '10']);
    expect(ten.status).toBe(0);
    expect(ten.stdout).toBe(max.stdout);
    // real time: the 4 s span of the capture takes about 4 s
    const t0 = Date.now();
    const rt = await runAsync(['replay', PINGS, '--json', '--speed', 'realtime']);
    const took = Date.now() - t0;
    expect(rt.stdout).toBe(max.stdout);
    expect(took).toBeGreaterThan(3500);
  });

  it('gives identical results at every speed across a silence longer than --max-gap', async () => {
    // before: the paced clock closed the silence's first seconds as zero rows before the
    // next packet showed how long it was (a gap at full speed)
    const dir = mkdtempSync(join(tmpdir(), 'np-speed-'));
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    expect(run(['synth', a, '-q', '--no-truth', '-n', '300', '--hosts', '20', '--seconds', '3', '--start', '1700000000']).status).toBe(0);
    expect(run(['synth', b, '-q', '--no-truth', '-n', '300', '--hosts', '20', '--seconds', '3', '--start', '1700000012']).status).toBe(0);
    const args = ['replay', a, b, '--json', '--max-gap', '5'];
    const max = run(args);
    expect(max.stdout).toContain('"type":"gap"');
    const paced = await runAsync([...args, '--speed', '4']);
    expect(paced.status).toBe(0);
    expect(paced.stdout).toBe(max.stdout);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('prints a readable report: span, totals, rates, protocols, hosts with size statistics, anomalies', () => {
    const r = run(['replay', WIKI]);
    expect(r.status).toBe(0);
    const t = truth('zeek-wikipedia.pcap');
    expect(r.stdout).toMatch(/span\s+2\d{3}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} UTC \.\. /);
    expect(r.stdout).toContain(`packets    ${t.packets.toLocaleString('en-US')}`);
    expect(r.stdout).toContain(`wire bytes ${t.bytes.toLocaleString('en-US')}`);
    expect(r.stdout).toMatch(/average\s+[\d,]+ pkt\/s/);
    expect(r.stdout).toMatch(/peak\s+[\d,]+ pkt\/s at /);
    expect(r.stdout).toMatch(/protocols\s+ipv4 \d+/);
    expect(r.stdout).toMatch(/HOST\s+DIR\s+PACKETS\s+BYTES\s+MEAN\s+STDEV\s+MIN\s+P50\s+P95\s+P99\s+MAX/);
    const top = [...t.hosts].sort((a, b) => b.tx.bytes + b.rx.bytes - (a.tx.bytes + a.rx.bytes))[0];
    expect(r.stdout).toContain(`  ${top?.addr ?? '?'} `);
    expect(r.stdout).toMatch(/anomalies\s+/);
    expect(r.stdout).toMatch(/hosts\s+19 tracked, 0 evicted/);
  });

  it('lists the top N hosts by bytes, or all', () => {
    const one = ndjson(run(['replay', WIKI, '--json', '--hosts', '1']).stdout).find((m) => m.type === 'report');
    const all = ndjson(run(['replay', WIKI, '--json', '--hosts', 'all']).stdout).find((m) => m.type === 'report');
    expect((one?.hosts as unknown[]).length).toBe(1);
    expect((all?.hosts as unknown[]).length).toBe(truth('zeek-wikipedia.pcap').hosts.length);
    expect((one?.hosts as { addr: string }[])[0]?.addr).toBe((all?.hosts as { addr: string }[])[0]?.addr);
  });

  it('a truncated capture: the report of what was read, then one line, exit 3', () => {
    const r = run(['replay', join(MALFORMED, 'made-trunc-mid-packet.pcap')]);
    expect(r.status).toBe(EXIT.badInput);
    expect(r.stdout).toContain('packets    178');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/made-trunc-mid-packet\.pcap: offset 71728: .* \[ERR_PCAP_TRUNCATED_RECORD\]/);
  });

  it('exits 143 at once on SIGTERM while a webhook that never answers holds the outputs open', async () => {
    // before: the handlers were gone once the run ended, so the signal killed the process
    const sockets = new Set<Socket>();
    const server = createServer(() => undefined); // takes requests, never answers
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [CLI, 'replay', join(process.cwd(), 'pcaps', 'demo.pcapng'), '--json', '--webhook', `http://127.0.0.1:${port}/hook`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const ended = new Promise<[number | null, string | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
      // the report is out, the webhook still waits for its first answer
      for (let i = 0; i < 200 && !out.includes('"type":"report"'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('"type":"report"');
      const t0 = Date.now();
      child.kill('SIGTERM');
      const [code, sig] = await ended;
      expect([code, sig]).toEqual([143, null]);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(err).toMatch(/^netpulse: SIGTERM while closing the outputs: exiting now; alerts not yet delivered are lost$/m);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('ends a paced replay without --json when the reader goes away, though alerts still go to stderr', () => {
    // before: the console's alert lines kept the run going for the whole 5 s of the demo
    const demo = join(process.cwd(), 'pcaps', 'demo.pcapng');
    const t0 = Date.now();
    const r = spawnSync('bash', ['-c', `node ${CLI} replay ${demo} --speed 30 2>/dev/null | head -2 > /dev/null; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('status 0');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('reads a config file that starts with a byte-order mark (as Windows editors write)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-bom-'));
    try {
      const cfg = join(dir, 'netpulse.json');
      const settings = '{"threshold": {"host": {"txBytes": 10}}}';
      writeFileSync(cfg, `\ufeff${settings}`);
      const r = run(['replay', PINGS, '--json', '--config', cfg]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // the settings took effect: the same as without the mark
      writeFileSync(cfg, settings);
      expect(r.stdout).toBe(run(['replay', PINGS, '--json', '--config', cfg]).stdout);
      expect(ndjson(r.stdout).some((m) => m.type === 'alert' && m.detector === 'threshold')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends within seconds of SIGTERM though the reader of its output stopped reading', async () => {
    // before: the final flush waited for the reader; one SIGTERM from a supervisor never ended it
    const demo = join(process.cwd(), 'pcaps', 'demo.pcapng');
    const child = spawn(process.execPath, [CLI, 'replay', demo, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause(); // the pipe fills and stays full
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const ended = new Promise<[number | null, string | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.stdout.resume(), 15_000); // let the old code end, late
    const [code, sig] = await ended;
    clearTimeout(timer);
    expect([code, sig]).toEqual([130, null]);
    expect(err).toContain('interrupted by SIGTERM');
    expect(Date.now() - t0).toBeLessThan(9000);
  }, 30_000);

  it('stops quietly when the reader of its output goes away (| head)', () => {
    const r = spawnSync('bash', ['-c', `node ${CLI} replay ${WIKI} ${WIKI} ${WIKI} --json --speed max | head -c 100 > /dev/null; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    // no error; at most the note that the same file three times goes back in time
    expect(r.stderr).toMatch(/^(netpulse: note: \d+ packets were from seconds more than 2 before the newest second seen .*\n)?$/);
    expect(r.stdout.trim()).toMatch(/^status (0|141)$/);
  });
});

describe('replay errors', () => {
  it.each([
    [['replay', '/nonexistent/capture.pcap'], EXIT.inputAccess, 'ERR_FILE_NOT_FOUND'],
    [['replay', '/tmp'], EXIT.inputAccess, 'ERR_FILE_ACCESS'],
    [['replay', '-', '--speed', 'fast'], EXIT.usage, 'ERR_CONFIG'],
    [['replay', '-', '--hosts', 'many'], EXIT.usage, 'ERR_CONFIG'],
    [['replay', '-', '--max-hosts', '0'], EXIT.usage, 'ERR_CONFIG'],
  ])('%j -> exit %i %s', (args, status, code) => {
    const r = run(args, { input: '' });
    expect(r.status).toBe(status);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  // A full disk loses the output: that must not end as success (a closed pipe, `| head`, may).
  it.runIf(existsSync('/dev/full'))('an output that cannot be written is one ERR_OUTPUT line, exit status 6', () => {
    const demo = join(process.cwd(), 'pcaps', 'demo.pcapng');
    for (const args of [['--json'], ['--no-console-alerts']]) {
      const full = openSync('/dev/full', 'w');
      const r = spawnSync(process.execPath, [CLI, 'replay', demo, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      closeSync(full);
      expect(r.status).toBe(6);
      expect(r.stderr).toBe('netpulse: stdout: cannot write the output (ENOSPC): it is incomplete; free space or send it elsewhere [ERR_OUTPUT]\n');
    }
  });

  it('an unknown option is a usage error (exit 2) with a hint', () => {
    const r = run(['replay', '--frobnicate', 'x.pcap']);
    expect(r.status).toBe(EXIT.usage);
    expect(r.stderr).toBe("netpulse: unknown option '--frobnicate' (run with --help for usage) [ERR_BAD_OPTION]\n");
    // as is a missing argument: one line with a code, like every other failure
    const none = run(['replay']);
    expect(none.status).toBe(EXIT.usage);
    expect(none.stderr).toBe("netpulse: missing required argument 'files' (run with --help for usage) [ERR_BAD_OPTION]\n");
  });
});
