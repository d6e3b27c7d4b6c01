// port-scan: counts look back 60-120 s (README: "two generations of `window` seconds each
// ... so they look back 60-120 s by default"), measured in packet time. A capture gap (no
// summaries for its seconds) or files replayed as one capture hours apart must not join
// attempts made before the gap with attempts made after it.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, onlyDetector, raised, second, tcp } from './helpers.js';

const SCANNER = '192.168.1.71';
const TARGET = '192.168.1.1';
const SCANNER6 = 'fd00::71';
const TARGET6 = 'fd00::1';

function pstage(): DetectStage {
  return createDetectStage(onlyDetector((c) => (c.portScan.enabled = true)));
}

function hook(stage: DetectStage, ts: number, packets: readonly DecodedPacket[]): void {
  const h = stage.packetHook;
  if (h === null) throw new Error('port-scan needs packets');
  for (const p of packets) h(p, ts * 1e6, 60);
}

/** 10 unanswered SYNs (< 15 ports, < 25 hosts) from src: ports first..first+9 of dst. */
function probes(src: string, dst: string, first: number): DecodedPacket[] {
  return Array.from({ length: 10 }, (_, i) => tcp(src, 40000 + i, dst, first + i, F.SYN));
}

describe('port-scan window across a gap', () => {
  for (const [label, src, dst] of [
    ['IPv4', SCANNER, TARGET],
    ['IPv6', SCANNER6, TARGET6],
  ] as const) {
    it(`${label}: 10 ports before an hour-long gap and 10 after are two windows of 10, not a scan of 20`, () => {
      const stage = pstage();
      const out: Alert[] = [];
      hook(stage, 100, probes(src, dst, 1));
      out.push(...stage.observe(second(100, { packets: 10 })));
      out.push(...stage.gap({ from: 101, to: 3699 }));
      // As the pipeline runs: the packets after the gap reach the hook before their second closes.
      hook(stage, 3700, probes(src, dst, 11));
      for (let t = 3700; t < 3710; t++) out.push(...stage.observe(second(t, { packets: t === 3700 ? 10 : 0 })));
      expect(raised(out)).toEqual([]);
    });
  }

  it('the same attempts inside one window are a scan (the oracle above is not vacuous)', () => {
    const stage = pstage();
    const out: Alert[] = [];
    hook(stage, 100, probes(SCANNER, TARGET, 1));
    for (let t = 100; t < 130; t++) out.push(...stage.observe(second(t, { packets: 1 })));
    hook(stage, 130, probes(SCANNER, TARGET, 11));
    for (let t = 130; t < 135; t++) out.push(...stage.observe(second(t, { packets: 1 })));
    expect(raised(out).map((a) => [a.note, a.host, a.value])).toEqual([['Port_Scan', SCANNER, 20]]);
  });

  it('a gap shorter than a window keeps the attempts before it (they are still within 60-120 s)', () => {
    const stage = pstage();
    const out: Alert[] = [];
    hook(stage, 100, probes(SCANNER, TARGET, 1));
    out.push(...stage.observe(second(100, { packets: 10 })));
    stage.gap({ from: 101, to: 139 });
    hook(stage, 140, probes(SCANNER, TARGET, 11));
    for (let t = 140; t < 143; t++) out.push(...stage.observe(second(t, { packets: 1 })));
    expect(raised(out).map((a) => [a.note, a.value])).toEqual([['Port_Scan', 20]]);
  });
});

describe('port-scan conditions across a gap', () => {
  /** A sweep of 30 hosts on port 22 in second 200, then quiet: as zero rows or as one gap. */
  function sweepThenQuiet(asGap: boolean): Alert[] {
    const stage = pstage();
    const out: Alert[] = [];
    for (let t = 190; t < 200; t++) out.push(...stage.observe(second(t, { packets: 1 })));
    hook(stage, 200, Array.from({ length: 30 }, (_, i) => tcp('10.9.9.9', 61000, `10.0.1.${i + 1}`, 22, F.SYN)));
    // The pipeline closes second 200 only once a later packet is seen: here the one after the quiet.
    out.push(...stage.observe(second(200, { packets: 30 })));
    if (asGap) out.push(...stage.gap({ from: 201, to: 3599 }));
    else for (let t = 201; t < 3600; t++) out.push(...stage.observe(second(t)));
    hook(stage, 3600, [tcp('10.0.0.7', 50000, '10.0.0.8', 443, F.SYN), tcp('10.0.0.8', 443, '10.0.0.7', 50000, F.SYN | F.ACK)]);
    for (let t = 3600; t < 3610; t++) out.push(...stage.observe(second(t, { packets: t === 3600 ? 2 : 0 })));
    out.push(...stage.finish(3609.5));
    return out;
  }

  it('a scan in the last second before a gap is raised and resolved as it would be over zero rows', () => {
    const rows = sweepThenQuiet(false);
    const expected = [
      ['raised', 'Address_Scan', '10.9.9.9', 201, 30],
      ['resolved', 'Address_Scan', '10.9.9.9', 206, 30],
    ];
    expect(rows.map((a) => [a.state, a.note, a.host, a.ts, a.value])).toEqual(expected);
    const gapped = sweepThenQuiet(true);
    expect(gapped.map((a) => [a.state, a.note, a.host, a.ts, a.value])).toEqual(expected);
    expect(gapped[1]?.message).toBe(rows[1]?.message);
  });
});
