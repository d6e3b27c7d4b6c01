// Console alert lines: colour only on a terminal without NO_COLOR (no-color.org), one line each.
import { describe, expect, it } from 'vitest';
import { ConsoleAlertSink, formatAlertLine, wantColor } from '../../src/sinks/console-alerts.js';
import { raiseAndResolve } from './helpers.js';

function capture(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (s: string) => lines.push(s) } };
}

describe('console alerts', () => {
  it('colours only a terminal, and never with NO_COLOR set and non-empty', () => {
    expect(wantColor({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(wantColor({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(wantColor({ write: () => true }, {})).toBe(false);
    expect(wantColor({ isTTY: true, write: () => true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor({ isTTY: true, write: () => true }, { NO_COLOR: '' })).toBe(true);
  });

  it('writes one line per alert, plain when not a terminal, ignoring other messages', () => {
    const [r, s] = raiseAndResolve('10.0.0.5');
    const { lines, stream } = capture(false);
    const sink = new ConsoleAlertSink(stream, {});
    sink.publish(r);
    sink.publish({ type: 'gap', v: 1, from: 1, to: 2 });
    sink.publish(s);
    expect(lines).toEqual([
      '2023-11-14 22:13:20Z RAISED   critical zscore Host_Bytes_Spike: spike\n',
      `2023-11-14 22:13:23Z RESOLVED critical zscore Host_Bytes_Spike: ${s.message}\n`,
    ]);
    expect(lines.join('')).not.toContain('\x1b[');
  });

  it('colours by severity on a terminal, resolves in green', () => {
    const [r, s] = raiseAndResolve(null);
    expect(formatAlertLine(r, true)).toMatch(/^\x1b\[1;31m.*\x1b\[0m$/);
    expect(formatAlertLine(s, true)).toMatch(/^\x1b\[32m.*\x1b\[0m$/);
    const { lines, stream } = capture(true);
    new ConsoleAlertSink(stream, {}).publish(r);
    expect(lines[0]).toContain('\x1b[');
  });
});
