// The terminal view's first line on a narrow terminal or with a long capture path: whether the
// source is live, a replay, or a replay that has ended (and the feed's seq) must stay on the
// screen; the source's name gives way, cut in the middle so its file name stays readable.

import { describe, expect, it } from 'vitest';
import { applyMessage, createWatchState, fitMiddle, renderWatch } from '../../src/feed/watch-view.js';

const PATH = '/work/shared/pcaps/real/ddos-pkt.TCP.synflood.spoofed.pcap';

function hello(description: string, clock: 'packet' | 'wall', end: boolean): unknown {
  return {
    type: 'hello',
    v: 1,
    seq: 64,
    server: { name: 'netpulse', version: '0.1.0' },
    source: { description, clock },
    options: {},
    topics: ['summary', 'gap', 'alert', 'stats', 'report', 'end'],
    hosts: null,
    summaries: [],
    alerts: [],
    stats: null,
    end: end ? { type: 'end', v: 1, reason: 'eof', error: null, seq: 64 } : null,
  };
}

describe('watch header on a narrow terminal', () => {
  it('keeps "[replay ended (eof)]" and the seq at 80 and 40 columns with a long capture path', () => {
    const st = createWatchState();
    applyMessage(st, hello(`file ${PATH}`, 'packet', true));
    const at80 = renderWatch(st, 80, 24)[0] ?? '';
    expect(at80.length).toBeLessThanOrEqual(80);
    expect(at80).toContain('[replay ended (eof)]  seq 64');
    expect(at80).toMatch(/spoofed\.pcap {2}\[/); // the file name's end survives the cut
    const at40 = renderWatch(st, 40, 24)[0] ?? '';
    expect(at40.length).toBeLessThanOrEqual(40);
    expect(at40).toContain('[replay ended (eof)]');
  });

  it('says a live source has ended once its end arrives (the end message\'s reason)', () => {
    const st = createWatchState();
    applyMessage(st, hello('live eth0', 'wall', false));
    applyMessage(st, { type: 'end', v: 1, reason: 'duration', error: null, seq: 65 });
    expect(renderWatch(st, 80, 24)[0]).toBe('netpulse  live eth0  [live ended (duration)]  seq 65');
  });

  it('leaves a source that fits as it is', () => {
    const st = createWatchState();
    applyMessage(st, hello('live eth0', 'wall', false));
    expect(renderWatch(st, 80, 24)[0]).toBe('netpulse  live eth0  [live]  seq 64');
  });

  it('fitMiddle keeps the start and the longer end around one ellipsis, within n', () => {
    expect(fitMiddle('abcdefghij', 10)).toBe('abcdefghij');
    expect(fitMiddle('abcdefghij', 7)).toBe('ab…ghij');
    for (let n = 0; n <= 12; n++) expect(fitMiddle('abcdefghij', n).length).toBeLessThanOrEqual(Math.max(n, 0));
  });
});
