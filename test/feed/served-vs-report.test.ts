// What the feed serves (/metrics, /api/*) against the run it serves, on the real replay
// pipeline (FileSource -> Analysis -> feed) and a capture from the shared corpus. The oracle
// is the run's own stream of messages (the `--json` NDJSON), tallied here independently of
// the feed's bookkeeping, and tshark's ground truth where it covers the figure.

import { afterAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/capture/file-source.js';
import { detectionFromOptions } from '../../src/cli/detect-options.js';
import { DEFAULTS } from '../../src/config.js';
import { feedConfig } from '../../src/feed/config.js';
import { startFeed, type FeedSink } from '../../src/feed/server.js';
import { Analysis } from '../../src/pipeline.js';
import type { Message } from '../../src/schema.js';
import type { Sink } from '../../src/sinks/sink.js';
import { corpus } from './tools.js';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** Samples of one metric family: labels text (`{a="b"}` or '') -> value. */
function family(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(name.length, i), Number(line.slice(i + 1)));
  }
  return out;
}

function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

const capture = corpus('ddos-pkt.TCP.synflood.spoofed.pcap');

describe.skipIf(capture === null)('served figures vs the run (ddos-pkt.TCP.synflood.spoofed.pcap)', () => {
  it('netpulse_alerts_active counts every raised, unresolved alert (past the 1000 a hello lists)', async () => {
    const pcap = capture?.pcap ?? '';
    // 37,624 spoofed sources in 24 s: with every address local, no learning period and no
    // rate limit, the new-host detector holds thousands of alerts open at once
    const detection = detectionFromOptions({
      json: true,
      detectors: 'new-host',
      localNet: ['0.0.0.0/0'],
      learn: '0s',
      alertRate: '1000000/1s',
    });
    const source = new FileSource({ files: [pcap], speed: 'max', maxPauseMs: 0 });
    const analysis = new Analysis(source, {
      aggregate: {
        maxHosts: DEFAULTS.maxHosts,
        topHosts: DEFAULTS.topHosts,
        maxGapSeconds: DEFAULTS.maxGapSeconds,
        reorderSeconds: DEFAULTS.reorderSeconds,
        histogramBytes: DEFAULTS.histogramMiB * 1024 * 1024,
      },
      reportHosts: DEFAULTS.reportHosts,
      shownOptions: { speed: 'max' },
      detect: detection.detect,
      statsIntervalMs: 0,
    });
    const feed: FeedSink = await startFeed(feedConfig({ port: 0 }), analysis);
    cleanup.push(() => feed.close());
    analysis.addSink(feed);

    // The oracle: alerts open now, by key, from the messages the run published.
    const open = new Map<string, string>();
    let published = 0;
    const tally = (): Map<string, number> => {
      const t = new Map<string, number>();
      for (const k of open.values()) t.set(k, (t.get(k) ?? 0) + 1);
      return t;
    };
    const checks: { served: Map<string, number>; expected: Map<string, number> }[] = [];
    let holding: Promise<void> | null = null;
    /** Scrape while the source is held back (the pipeline's own backpressure), so the
     *  scrape and the tally see the same instant. */
    const scrape = async (): Promise<void> => {
      for (;;) {
        const before = published;
        const text = await (await fetch(`${feed.url}metrics`)).text();
        if (published !== before) continue; // something was published meanwhile: again
        const served = new Map<string, number>();
        for (const [labels, v] of family(text, 'netpulse_alerts_active')) {
          const m = /detector="([^"]*)",severity="([^"]*)"/.exec(labels);
          if (m !== null && v !== 0) served.set(`${m[1]}/${m[2]}`, v);
        }
        checks.push({ served, expected: tally() });
        return;
      }
    };
    const probe: Sink = {
      publish(msg: Message): void {
        published++;
        if (msg.type === 'alert') {
          if (msg.state === 'raised') open.set(msg.key, `${msg.detector}/${msg.severity}`);
          else open.delete(msg.key);
        } else if (msg.type === 'summary' && holding === null && open.size > 1000 && checks.length < 3) {
          holding = scrape().finally(() => {
            holding = null;
          });
        }
      },
      backlog: () => holding,
      close: () => Promise.resolve(),
    };
    analysis.addSink(probe);
    const result = await analysis.run();

    // at least one scrape saw more than 1000 open (the summary's own alerts follow it, so a
    // scrape may also land after they resolved the lot)
    expect(Math.max(...checks.map((c) => sum(c.expected)))).toBeGreaterThan(1000);
    for (const c of checks) expect(c.served).toEqual(c.expected);
    // the end of input resolves every alert: none active, and as many raised as the report says
    const text = await (await fetch(`${feed.url}metrics`)).text();
    expect(open.size).toBe(0);
    expect(sum(family(text, 'netpulse_alerts_active'))).toBe(0);
    expect(sum(family(text, 'netpulse_alerts_total'))).toBe(result.report.alerts?.raised);
    // and the totals are tshark's
    expect(family(text, 'netpulse_packets_total').get('')).toBe(capture?.expected.packets);
    expect(family(text, 'netpulse_bytes_total').get('')).toBe(capture?.expected.bytes);
  }, 60_000);
});
