// --alerts FILE as an operator's log: rotated by logrotate (rename, then the program's next
// line goes to a new file at the path: logrotate(8)'s "create", the behaviour of Python's
// logging.handlers.WatchedFileHandler), deleted, and killed with SIGKILL right after an
// alert was shown. Every line is checked with JSON.parse (ECMA-404), not netpulse's reader.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertsFileSink } from '../../src/sinks/alerts-file.js';
import { CLI } from '../helpers/cli.js';
import { json, raiseAndResolve } from './helpers.js';

function lines(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

describe('alerts file: rotation and deletion during a run', () => {
  it('after a rename (logrotate create), the next alert goes to a new file at the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-alerts-rot-'));
    const file = join(dir, 'alerts.ndjson');
    const [r, s] = raiseAndResolve('10.0.0.5');
    const sink = new AlertsFileSink(file);
    sink.publish(r, json(r));
    renameSync(file, `${file}.1`);
    sink.publish(s, json(s));
    await sink.close();
    expect(lines(`${file}.1`)).toEqual([JSON.parse(json(r))]);
    expect(lines(file)).toEqual([JSON.parse(json(s))]);
    expect(sink.lost).toBe(0);
  });

  it('after the file is deleted, the next alert creates it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-alerts-del-'));
    const file = join(dir, 'alerts.ndjson');
    const [r, s] = raiseAndResolve('10.0.0.6');
    const sink = new AlertsFileSink(file);
    sink.publish(r, json(r));
    unlinkSync(file);
    sink.publish(s, json(s));
    await sink.close();
    expect(existsSync(file)).toBe(true);
    expect(lines(file)).toEqual([JSON.parse(json(s))]);
  });
});

// a SYN flood on host 1 (10.0.0.2) from the second second on: raised then, while the replay paces on for 10 s
const dir = mkdtempSync(join(tmpdir(), 'np-alerts-kill-'));
const capture = join(dir, 'flood.pcap');
const made = spawnSync(process.execPath, [CLI, 'synth', capture, '--packets', '200', '--hosts', '5', '--seconds', '12', '--syn-flood', '1:1:300:3', '--no-truth'], {
  encoding: 'utf8',
});

describe('alerts file: SIGKILL right after an alert is shown', () => {
  it('leaves that alert as a whole line in the file (the file is written before the console)', async () => {
    expect(made.status, made.stderr).toBe(0);
    const file = join(dir, 'alerts.ndjson');
    const child = spawn(process.execPath, [CLI, 'replay', capture, '--speed', 'realtime', '--detectors', 'syn-flood', '--alerts', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const shown = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no alert shown: ${err}`)), 20_000);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => {
        err += c;
        const line = err.split('\n').find((l) => l.includes(' RAISED '));
        if (line !== undefined) {
          // at once, in the same turn as the line arrived
          child.kill('SIGKILL');
          clearTimeout(t);
          resolve(line);
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(shown).toMatch(/SYN_Flood: 10\.0\.0\.2 received/);
    const got = lines(file) as { state: string; note: string; host: string }[];
    expect(got[0]).toMatchObject({ state: 'raised', note: 'SYN_Flood', host: '10.0.0.2' });
  }, 30_000);
});
