// hosts.normalize with the global series' alerts off (`zscore.global: false`). The README:
// "A host's value is scored with a rise of all *other* traffic above its usual level divided
// out (`hosts.normalize`, on by default): a busy minute lifts every host and is the global
// series' alert, not 200 host alerts." Turning the global alerts off used to turn this off
// too (all traffic's usual level was learned only by the global detector), so a busy second
// raised every host. Hand calculation for the script below (4 hosts at 10 packets/s each,
// then all four at 30 in one second; host floor 50 %, 3 packets/s):
//   not normalised: z = (30 - 10) / max(0, 0.5 x 10, 3) = 4 >= 3, every host raised;
//   normalised: the others' traffic is 120 - 30 = 90 against a usual 40, a lift of 2.25,
//   so 30 / 2.25 = 13.33 and z = 3.33 / 5 = 0.67: nothing raised.
import { describe, expect, it } from 'vitest';
import type { DetectConfig } from '../../src/detect/config.js';
import { createDetectStage } from '../../src/detect/stage.js';
import { host, onlyDetector, raised, second } from './helpers.js';

function run(edit: (c: DetectConfig) => void): string[] {
  const stage = createDetectStage(
    onlyDetector((c) => {
      c.zscore.enabled = true;
      c.zscore.window = 20;
      c.zscore.warmup = 5;
      c.zscore.threshold = 3;
      c.zscore.raiseAfter = 1;
      c.zscore.hosts = {
        enabled: true, max: 100, metric: 'packets', normalize: true,
        floor: { relative: 0.5, bytes: 2000, packets: 3 }, cusum: { enabled: false, k: 2, h: 15, clip: 4 },
      };
      edit(c);
    }),
  );
  const addrs = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
  const at = (t: number, n: number) =>
    second(t, { packets: 4 * n, bytes: 400 * n, hosts: addrs.map((a) => host(a, [n, 100 * n])) });
  const out = [];
  for (let t = 0; t < 20; t++) out.push(...stage.observe(at(t, 10)));
  out.push(...stage.observe(at(20, 30)));
  return raised(out).map((a) => `${a.note} ${a.host ?? ''}`.trim());
}

describe('zscore hosts.normalize', () => {
  it('divides a rise of all traffic out of the host series with the global series on', () => {
    expect(run(() => undefined).filter((n) => n.startsWith('Host_'))).toEqual([]);
  });

  it('does so with the global alerts off too', () => {
    expect(run((c) => (c.zscore.global = false))).toEqual([]);
  });

  it('without normalising, every host of the busy second is raised', () => {
    expect(run((c) => {
      c.zscore.global = false;
      c.zscore.hosts.normalize = false;
    })).toEqual(['Host_Packets_Spike 10.0.0.1', 'Host_Packets_Spike 10.0.0.2', 'Host_Packets_Spike 10.0.0.3', 'Host_Packets_Spike 10.0.0.4']);
  });
});
