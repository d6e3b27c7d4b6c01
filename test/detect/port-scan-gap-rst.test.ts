// port-scan, two cases found by predicting its alerts from tshark's fields on crafted captures:
// - a gap is reported once its end is out of the reorder allowance, after the hook has seen
//   the first packets past it: a scan crossing the limit there was judged at the gap's FIRST
//   second (raised 100 s before its attempts were made); it is judged one second after it
//   crossed, as any other (README: "sources are judged one second after they cross a limit").
// - a bare RST counts as an attempt only when it resets an answer (README: "the prober
//   resets the answer with a bare RST"): RSTs to ports that never answered are no scan.
// Expected values are worked by hand from the README.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, onlyDetector, second, tcp } from './helpers.js';

function pstage(): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.portScan.enabled = true;
      c.portScan.ports = 5;
    }),
  );
}

function hook(stage: DetectStage, t: number, packets: readonly DecodedPacket[]): void {
  const h = stage.packetHook;
  if (h === null) throw new Error('port-scan needs packets');
  for (const p of packets) h(p, Math.round(t * 1e6), 60);
}

const syns = (dst: string, from: number, n: number): DecodedPacket[] =>
  Array.from({ length: n }, (_, i) => tcp('10.0.0.9', 40000, dst, from + i, F.SYN));

describe('port-scan after a gap', () => {
  it('a scan crossing the limit just after a gap is raised one second after it crossed, not at the gap', () => {
    const s = pstage();
    const out: Alert[] = [];
    for (let t = 90; t <= 100; t++) out.push(...s.observe(second(t, { packets: 1 })));
    // the pipeline's order: packets of 201..203 hooked, then the gap 101..200, then 201's close
    hook(s, 201.2, syns('10.0.0.5', 1, 6));
    hook(s, 203.5, [tcp('10.0.0.100', 5000, '10.0.0.101', 6000, F.ACK)]);
    out.push(...s.gap({ from: 101, to: 200 }));
    for (let t = 201; t <= 210; t++) out.push(...s.observe(second(t, { packets: 1 })));
    // 6 unanswered ports in 201 (limit 5): anomalous in 202, resolved 5 quiet seconds later
    expect(out.map((a) => [a.state, a.note, a.host, a.ts, a.since, a.value])).toEqual([
      ['raised', 'Port_Scan', '10.0.0.9', 202, 202, 6],
      ['resolved', 'Port_Scan', '10.0.0.9', 207, 202, 6],
    ]);
  });
});

describe('port-scan and bare RSTs', () => {
  it('bare RSTs to ports that never answered are no attempts', () => {
    const s = pstage();
    hook(
      s,
      100.5,
      Array.from({ length: 10 }, (_, i) => tcp('10.0.0.8', 43000 + i, '10.0.0.66', 200 + i, F.RST)),
    );
    const out: Alert[] = [];
    for (let t = 100; t <= 110; t++) out.push(...s.observe(second(t, { packets: 10 })));
    out.push(...s.finish(110));
    expect(out).toEqual([]);
  });

  it('a SYN scanner resetting the answers of 10 open ports is a scan of 10 ports', () => {
    const s = pstage();
    const pk: DecodedPacket[] = [];
    for (let i = 0; i < 10; i++) {
      pk.push(tcp('10.0.0.9', 41000 + i, '10.0.0.5', 100 + i, F.SYN));
      pk.push(tcp('10.0.0.5', 100 + i, '10.0.0.9', 41000 + i, F.SYN | F.ACK));
      pk.push(tcp('10.0.0.9', 41000 + i, '10.0.0.5', 100 + i, F.RST));
    }
    hook(s, 100.5, pk);
    const out: Alert[] = [];
    for (let t = 100; t <= 110; t++) out.push(...s.observe(second(t, { packets: 30 })));
    expect(out.filter((a) => a.state === 'raised').map((a) => [a.host, a.ts, a.value])).toEqual([['10.0.0.9', 101, 10]]);
  });
});
