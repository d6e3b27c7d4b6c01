// netpulse as a package another project installs: what `npm pack` ships, the API the README
// documents (`import { generate } from 'netpulse'`, or `dist/synth/generate.js`; the writers;
// the detect stage; the feed's types), importing without side effects, ESM and CommonJS
// (dynamic import) consumers, TypeScript types, and the `netpulse` bin without the optional
// `cap`. The package is packed with `npm pack --ignore-scripts` (dist/ is built by `npm test`)
// and unpacked into node_modules of a scratch project whose dependencies link to ours, so
// nothing is fetched and `cap` is missing, as after a failed optional build.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'np-lib-'));
const project = join(dir, 'app');
let packed: { path: string; size: number }[] = [];

function node(args: readonly string[], cwd = project): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const info = (JSON.parse(out) as { filename: string; files: { path: string; size: number }[] }[])[0];
  if (!info) throw new Error('npm pack printed nothing');
  packed = info.files;
  const pkgDir = join(project, 'node_modules', 'netpulse');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, info.filename), '-C', pkgDir, '--strip-components=1']);
  const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const d of deps) symlinkSync(resolve(ROOT, 'node_modules', d), join(project, 'node_modules', d));
  mkdirSync(join(project, 'node_modules', '@types'));
  symlinkSync(resolve(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', dependencies: { netpulse: '0.1.0' } }));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the installed package', () => {
  it('ships dist, the README and the postinstall script, and no tests, benchmarks, captures or sources', () => {
    const paths = packed.map((f) => f.path);
    for (const needed of ['package.json', 'README.md', 'scripts/build-cap.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/bin/netpulse.js', 'dist/synth/generate.js', 'dist/synth/generate.d.ts', 'dist/feed/assets/index.html']) {
      expect(paths, needed).toContain(needed);
    }
    const unwanted = paths.filter((p) => /^(test|bench|\.bench|pcaps|src|node_modules|test-artifacts|native-notes|\.ci)\//.test(p) || /\.test\.|\.pcap|\.log$|\.tgz$/.test(p));
    expect(unwanted).toEqual([]);
    expect(packed.filter((f) => f.size > 1_000_000).map((f) => f.path)).toEqual([]);
  });

  it('imports without side effects: no output, no listeners, no exit', () => {
    writeFileSync(
      join(project, 'side.mjs'),
      `const events = ['SIGINT', 'SIGTERM', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'warning'];
const count = () => events.map((e) => process.listenerCount(e)).join(',');
const before = count();
const m = await import('netpulse');
await new Promise((r) => setTimeout(r, 50));
process.stderr.write(JSON.stringify({ before, after: count(), exitCode: process.exitCode ?? null, keys: Object.keys(m).length }));
`,
    );
    const r = node(['side.mjs']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const seen = JSON.parse(r.stderr) as { before: string; after: string; exitCode: number | null; keys: number };
    expect(seen.after).toBe(seen.before);
    expect(seen.exitCode).toBeNull();
    expect(seen.keys).toBeGreaterThan(20);
  });

  it("runs the README's library examples, and throws AnalyzerError with codes", () => {
    writeFileSync(
      join(project, 'readme.mjs'),
      `import { generate, PcapWriter, PcapngWriter, openOutput, createDetectStage, createAlertSinks, addDetectOptions, detectionFromOptions, defaultDetectConfig, defaultAlertSinkConfig, FileSource, runAnalysis, AnalyzerError, DEFAULTS } from 'netpulse';
import { generate as generateDeep } from 'netpulse/dist/synth/generate.js';
import { Command } from 'commander';
const out = {};
const truth = await generate({ out: 'x.pcap', packets: 1e4, hosts: 100, seconds: 30, seed: 7, anomalies: [{ kind: 'syn-flood', at: 10, dst: '1', pps: 500 }] });
out.truth = [truth.packets, truth.anomalies[0].kind];
out.deep = (await generateDeep({ out: 'y.pcap', packets: 100, seconds: 5, truth: false })).packets;
const bytes = new Uint8Array(60); bytes[12] = 8;
const w = new PcapWriter(openOutput('w.pcap'), { linktype: 1, resolution: 'ns' });
w.writePacket(1700000000, 5, bytes);
const at = w.beginRecord(60); w.out.buf.set(bytes, at); w.endRecord(1700000001, 0, 60, 60);
await w.close();
const g = new PcapngWriter(openOutput('w.pcapng'), { interfaces: [{ linktype: 1 }] });
g.writePacket(1700000002, 0, bytes); await g.close();
const stage = createDetectStage(defaultDetectConfig());
out.stage = ['packetHook', 'observe', 'gap', 'finish', 'decorateReport', 'stats'].filter((k) => !(k in stage));
out.sinks = createAlertSinks(defaultAlertSinkConfig('test')).length;
const cmd = addDetectOptions(new Command()) ?? new Command();
out.detection = typeof detectionFromOptions(cmd.opts()).settle;
const r = await runAnalysis(new FileSource({ files: ['w.pcap', 'w.pcapng', 'x.pcap'] }), { aggregate: DEFAULTS, reportHosts: 10 }, []);
out.run = [r.end.reason, r.report.packets];
const bad = await runAnalysis(new FileSource({ files: ['missing.pcap'] }), { aggregate: DEFAULTS, reportHosts: 10 }, []);
out.missing = [bad.end.error instanceof AnalyzerError, bad.end.error?.code, bad.end.error?.exitCode];
try { await generate({ out: 'z.pcap', anomalies: [{ kind: 'bogus', at: 1 }] }); } catch (e) { out.bogus = [e instanceof AnalyzerError, e.code]; }
try { openOutput('/nonexistent-dir/z.pcap'); } catch (e) { out.output = [e instanceof AnalyzerError, e.code]; }
console.log(JSON.stringify(out));
`,
    );
    const r = node(['readme.mjs']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.truth).toEqual([expect.any(Number), 'syn-flood']);
    expect(out.deep).toBeGreaterThan(0);
    expect(out.stage).toEqual([]);
    // README: alerts go to the console unless --no-console-alerts; file, webhook and alertmanager default to none
    expect(out.sinks).toBe(1);
    expect(out.detection).toBe('function');
    expect(out.run).toEqual(['eof', 3 + (out.truth as number[])[0]!]);
    expect(out.missing).toEqual([true, 'ERR_FILE_NOT_FOUND', 4]);
    expect(out.bogus).toEqual([true, 'ERR_BAD_OPTION']);
    expect(out.output).toEqual([true, 'ERR_OUTPUT']);
  });

  it('works from a CommonJS project through import()', () => {
    const cjs = join(project, 'cjs');
    mkdirSync(cjs, { recursive: true });
    writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', type: 'commonjs' }));
    writeFileSync(
      join(cjs, 'main.js'),
      `import('netpulse').then(async (np) => {
  const t = await np.generate({ out: 'c.pcap', packets: 100, seconds: 5, truth: false });
  const deep = await import('netpulse/dist/synth/generate.js');
  console.log(t.packets, typeof np.AnalyzerError, typeof deep.generate);
});
`,
    );
    const r = node(['main.js'], cjs);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+ function function$/);
  });

  it('has types a strict TypeScript project (nodenext) accepts', () => {
    writeFileSync(
      join(project, 'check.ts'),
      `import { generate, PcapWriter, PcapngWriter, openOutput, createDetectStage, createAlertSinks, addDetectOptions, detectionFromOptions, defaultDetectConfig, defaultAlertSinkConfig, AnalyzerError, type ErrorCode, type Truth, type HelloMessage, type LaggedMessage, type SubscribeRequest, type Sequenced, type FeedMessage, type ServerMessage, type SummaryMessage, type AlertMessage } from 'netpulse';
import { generate as generateDeep, type SynthOptions } from 'netpulse/dist/synth/generate.js';
import { Command } from 'commander';
const truth: Truth = await generate({ out: 'x.pcap', packets: 1e6, hosts: 10000, seconds: 300, seed: 7, anomalies: [{ kind: 'syn-flood', at: 10, dst: '1', pps: 5000 }] });
const o: SynthOptions = { out: 'y.pcap' };
void generateDeep(o);
const w = new PcapWriter(openOutput('w.pcap'), { linktype: 1, resolution: 'ns' });
w.writePacket(1, 2, new Uint8Array(60));
const at: number = w.beginRecord(60);
w.endRecord(1, 3, 60, 60);
await w.close();
await new PcapngWriter(openOutput('w.pcapng'), { interfaces: [{ linktype: 1 }] }).close();
const stage = createDetectStage(defaultDetectConfig());
const sinks = createAlertSinks(defaultAlertSinkConfig('s'));
const cmd = new Command();
addDetectOptions(cmd);
const det = detectionFromOptions(cmd.opts());
const e: unknown = null;
if (e instanceof AnalyzerError) { const c: ErrorCode = e.code; console.log(c, e.exitCode); }
const req: SubscribeRequest = { type: 'subscribe', topics: ['alert'], hosts: 3 };
type All = [HelloMessage, LaggedMessage, Sequenced<SummaryMessage>, FeedMessage, ServerMessage, AlertMessage];
const none: All | null = null;
console.log(truth.packets, at, stage.observe, sinks.length, det, req, none);
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['check.ts'] }),
    );
    const r = node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs the netpulse bin: --help, and replay without the optional cap (live says why it cannot)', () => {
    expect(existsSync(join(project, 'node_modules', 'cap'))).toBe(false);
    const bin = join(project, 'node_modules', 'netpulse', 'dist', 'bin', 'netpulse.js');
    const help = node([bin, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('replay');
    const replay = node([bin, 'replay', join(ROOT, 'pcaps', 'demo.pcapng'), '--json', '--detectors', 'none']);
    expect(replay.status).toBe(0);
    expect(replay.stdout.trim().split('\n').at(-1)).toContain('"type":"report"');
    const devices = node([bin, 'devices']);
    expect(devices.status).toBe(5);
    expect(devices.stderr).toContain('[ERR_CAP_UNAVAILABLE]');
  });
});
