// risky-services: scores from the documented default table and from overrides, the
// alert above alertScore, expiry after the window, and the fields on summaries/report.
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/aggregate/summary.js';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { applyConfigFile, defaultAlertSinkConfig, type DetectConfig } from '../../src/detect/config.js';
import { createDetectStage, type DetectStage } from '../../src/detect/stage.js';
import { F, host, onlyDetector, raised, resolved, second, tcp, udp } from './helpers.js';

function rstage(edit: (c: DetectConfig) => void = () => undefined): DetectStage {
  return createDetectStage(
    onlyDetector((c) => {
      c.riskyServices.enabled = true;
      edit(c);
    }),
  );
}

function send(stage: DetectStage, ts: number, packets: readonly DecodedPacket[], hosts: string[] = []): readonly Alert[] {
  for (const p of packets) stage.packetHook?.(p, ts * 1e6, 60);
  return stage.observe(second(ts, { hosts: hosts.map((h) => host(h, [1, 60])) }));
}

/** A client connecting to a service and the server answering from it. */
function session(client: string, server: string, port: number): DecodedPacket[] {
  return [tcp(client, 50123, server, port, F.SYN), tcp(server, port, client, 50123, F.SYN | F.ACK), tcp(client, 50123, server, port, F.ACK)];
}

describe('risky-services', () => {
  it('scores servers in full and clients by usedFactor, and alerts at alertScore', () => {
    const stage = rstage();
    // telnet (50) + ftp (30) served = 80 = the default alert score; the client uses both: 40.
    const out = send(stage, 1, [...session('10.0.0.2', '10.0.0.1', 23), ...session('10.0.0.2', '10.0.0.1', 21)], ['10.0.0.1', '10.0.0.2']);
    expect(raised(out).map((a) => [a.note, a.host, a.value, a.threshold])).toEqual([['Risky_Services', '10.0.0.1', 80, 80]]);
    expect(raised(out)[0]?.message).toContain('serves telnet, serves ftp');
  });

  it('puts the score on the summary hosts and the report hosts', () => {
    const stage = rstage();
    const s = second(1, { hosts: [host('10.0.0.1', [3, 180]), host('10.0.0.2', [3, 180]), host('10.0.0.3', [1, 60])] });
    for (const p of [...session('10.0.0.2', '10.0.0.1', 445), udp('10.0.0.2', 50000, '10.0.0.9', 161)]) stage.packetHook?.(p, 1e6, 60);
    stage.observe(s);
    // smb 20 served; the client: smb 10 + snmp 10 (used).
    expect(s.hosts.map((h) => [h.addr, h.risk])).toEqual([
      ['10.0.0.1', 20],
      ['10.0.0.2', 20],
      ['10.0.0.3', undefined],
    ]);
    const r = { hosts: [host('10.0.0.1', [3, 180]), host('10.0.0.2', [3, 180])] } as unknown as Report;
    stage.decorateReport(r);
    expect(r.hosts[0]).toMatchObject({ risk: 20, riskServices: { served: ['smb'], used: [] } });
    expect(r.hosts[1]).toMatchObject({ risk: 20, riskServices: { served: [], used: ['smb', 'snmp'] } });
  });

  it('keeps scoring after epoch seconds pass 2^31 (19 January 2038)', () => {
    // Seconds were kept in 32-bit integers: from 2038 every service wrapped to "never seen".
    for (const ts of [2_147_483_647, 2_208_988_800, 18_446_744_073_204]) {
      const stage = rstage();
      const out = send(stage, ts, [...session('10.0.0.2', '10.0.0.1', 23), ...session('10.0.0.2', '10.0.0.1', 21)], ['10.0.0.1']);
      expect(raised(out).map((a) => [a.host, a.value])).toEqual([['10.0.0.1', 80]]);
      const r = { hosts: [host('10.0.0.1', [6, 360])] } as unknown as Report;
      stage.decorateReport(r);
      expect(r.hosts[0]).toMatchObject({ risk: 80, riskServices: { served: ['telnet', 'ftp'], used: [] } });
    }
  });

  it('takes a port table from the config file: new services, new weights, removals', () => {
    const c = onlyDetector((x) => (x.riskyServices.enabled = true));
    applyConfigFile(
      { 'risky-services': { alertScore: 30, ports: { '8080/tcp': { name: 'http-alt', weight: 30 }, '23/tcp': null } } },
      't.json',
      c,
      defaultAlertSinkConfig('s'),
    );
    const stage = createDetectStage(c);
    const out = send(stage, 1, [...session('10.0.0.2', '10.0.0.1', 8080), ...session('10.0.0.2', '10.0.0.3', 23)]);
    expect(raised(out).map((a) => [a.host, a.value])).toEqual([['10.0.0.1', 30]]);
  });

  it('forgets a service after the window and resolves the alert', () => {
    const stage = rstage((c) => {
      c.riskyServices.window = 60;
      c.riskyServices.resolveAfter = 1;
    });
    const out: Alert[] = [];
    out.push(...send(stage, 0, [...session('10.0.0.2', '10.0.0.1', 2375), ...session('10.0.0.2', '10.0.0.1', 23)]));
    for (let t = 1; t < 70; t++) out.push(...send(stage, t, []));
    expect(out.map((a) => [a.state, a.host, a.ts])).toEqual([
      ['raised', '10.0.0.1', 0],
      ['resolved', '10.0.0.1', 60],
    ]);
    expect(resolved(out)[0]?.value).toBe(0);
  });

  it('does not take the random source ports of a spoofed flood for services', () => {
    const stage = rstage();
    const pk: DecodedPacket[] = [];
    // SYNs to port 80 from every source port, risky ones included: nobody serves anything.
    for (let sp = 1; sp < 65536; sp += 7) pk.push(tcp(`198.51.100.${sp % 250}`, sp, '10.10.10.10', 80, F.SYN));
    pk.push(tcp('198.51.100.1', 23, '10.10.10.10', 80, F.SYN), tcp('198.51.100.1', 445, '10.10.10.10', 80, F.ACK));
    const s = second(1, { hosts: [host('10.10.10.10', [0, 0], [pk.length, pk.length * 60])] });
    for (const p of pk) stage.packetHook?.(p, 1e6, 60);
    expect(stage.observe(s)).toEqual([]);
    expect(s.hosts[0]?.risk).toBeUndefined();
  });
});
