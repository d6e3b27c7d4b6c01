// --alerts FILE: NDJSON lines, appended across runs, on disk as soon as each alert is published.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnalyzerError } from '../../src/errors.js';
import { AlertsFileSink } from '../../src/sinks/alerts-file.js';
import { json, raiseAndResolve } from './helpers.js';

describe('alerts file', () => {
  it('appends one JSON line per alert, readable before close, after existing content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-alerts-'));
    const file = join(dir, 'alerts.ndjson');
    writeFileSync(file, '{"earlier":true}\n');
    const [r, s] = raiseAndResolve('10.0.0.5');
    const sink = new AlertsFileSink(file);
    sink.publish(r, json(r));
    // Written through: another reader sees it now, with the sink still open.
    expect(readFileSync(file, 'utf8').split('\n')).toEqual(['{"earlier":true}', json(r), '']);
    sink.publish({ type: 'end', v: 1, reason: 'eof', error: null }, '{"type":"end"}');
    sink.publish(s, json(s));
    await sink.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.slice(1).map((l) => JSON.parse(l) as { type: string; state: string })).toEqual([
      expect.objectContaining({ type: 'alert', state: 'raised', key: r.key }),
      expect.objectContaining({ type: 'alert', state: 'resolved', key: r.key }),
    ]);
    expect(sink.written).toBe(2);
  });

  it('fails at construction with ERR_OUTPUT naming the file when it cannot be opened', () => {
    const path = '/nonexistent-dir/alerts.ndjson';
    let err: unknown;
    try {
      new AlertsFileSink(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AnalyzerError);
    expect((err as AnalyzerError).code).toBe('ERR_OUTPUT');
    expect((err as AnalyzerError).oneLine()).toMatch(/^\/nonexistent-dir\/alerts\.ndjson: cannot open the alerts file for appending \(ENOENT\)/);
  });
});
