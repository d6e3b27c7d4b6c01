// new-host with raiseAfter above 1 (found by a bug hunt). The README: every detector takes
// `raiseAfter`, and a condition "is raised once after `raiseAfter` consecutive anomalous
// seconds". A new host is marked only in the second it first appears, so with raiseAfter 2
// or more no new host was ever raised. A new host's condition lasts while it keeps
// sending or receiving: one active for raiseAfter consecutive seconds is raised then (its
// `since` the second it appeared); one gone sooner (a one-off probe) is not.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { host, hostsView, onlyDetector, second, type ViewHost } from './helpers.js';

describe('new-host with raiseAfter > 1', () => {
  for (const view of [true, false]) {
    it(`raises a new host active for raiseAfter consecutive seconds, not a one-second visitor (${view ? 'aggregator view' : 'summary only'})`, () => {
      const stage = createDetectStage(
        onlyDetector((c) => {
          c.newHost.enabled = true;
          c.newHost.learn = 10;
          c.newHost.raiseAfter = 3;
        }),
      );
      const out: Alert[] = [];
      for (let t = 0; t < 40; t++) {
        const hs: ViewHost[] = [{ id: 0, addr: '192.168.1.1', tx: [1, 100] }];
        if (t === 20) hs.push({ id: 1, addr: '192.168.1.7', tx: [1, 60] }); // one second only
        if (t >= 25 && t < 31) hs.push({ id: 2, addr: '192.168.1.8', tx: [2, 120] }); // six seconds
        const summary = second(1000 + t, {
          hosts: hs.map((h) => host(h.addr, h.tx)),
          newHostAddrs: t === 20 ? ['192.168.1.7'] : t === 25 ? ['192.168.1.8'] : t === 0 ? ['192.168.1.1'] : [],
        });
        out.push(...(view ? stage.observe(summary, hostsView(hs)) : stage.observe(summary)));
      }
      out.push(...stage.finish(1039));
      expect(out.map((a) => [a.state, a.host, a.ts, a.since])).toEqual([
        ['raised', '192.168.1.8', 1027, 1025],
        ['resolved', '192.168.1.8', 1037, 1025],
      ]);
    });
  }
});
