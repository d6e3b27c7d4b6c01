// risky-services over a long run: many more distinct risky servers over time than
// `maxHosts`, each seen once. Idle, non-alerting hosts are forgotten when the table is full,
// so the newest servers are still scored and raised; hosts still active are kept; the
// report (and the thread's copy fed by takeReportChanges) still carries forgotten hosts'
// whole-run risk and services.
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/aggregate/summary.js';
import type { Alert } from '../../src/detect/alert.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { AlertGate, Tracker } from '../../src/detect/lifecycle.js';
import { RiskyServicesDetector, type RiskEntry } from '../../src/detect/risky-services.js';
import { F, host, onlyDetector, raised, second, tcp } from './helpers.js';

/** A client connecting to a service and the server answering from it. */
function session(client: string, server: string, port: number): DecodedPacket[] {
  return [tcp(client, 50123, server, port, F.SYN), tcp(server, port, client, 50123, F.SYN | F.ACK), tcp(client, 50123, server, port, F.ACK)];
}

const serverOf = (i: number): string => `10.1.${i >> 8}.${i & 255}`;
const ACTIVE_CLIENT = '10.0.0.1';
const ACTIVE_SERVER = '10.9.9.9';
const V6_SERVER = '2001:db8::7';
const RETURNING = '10.2.0.1';

/** N distinct servers, one every 3 s (the table: maxHosts 16, 32 slots; kept entries: 64). */
function run(N: number): { det: RiskyServicesDetector; copy: Map<string, RiskEntry>; out: Alert[]; servers: string[]; report: Report } {
  const c = onlyDetector((x) => {
    x.riskyServices.enabled = true;
    x.riskyServices.maxHosts = 16;
    x.riskyServices.window = 60;
  });
  c.rateLimit = { max: 1e9, per: 1 };
  const det = new RiskyServicesDetector(c.riskyServices, new Tracker('risky-services', c.riskyServices, new AlertGate(c.allow, c.rateLimit), c.maxOpen));
  // What the thread copy holds: takeReportChanges applied as ThreadedDetectStage does.
  const copy = new Map<string, RiskEntry>();
  const out: Alert[] = [];
  const end = 3 * N + 120;
  for (let t = 1; t <= end; t++) {
    const pk: DecodedPacket[] = [];
    // telnet (50) + docker-api (60) served: 100, alerted; the client uses both (55).
    if (t % 3 === 0 && t / 3 <= N) {
      const s = serverOf(t / 3 - 1);
      pk.push(...session(ACTIVE_CLIENT, s, 23), ...session(ACTIVE_CLIENT, s, 2375));
    }
    if (t === 4) pk.push(...session('10.0.0.3', '10.4.0.1', 21), ...session('2001:db8::9', V6_SERVER, 3389));
    if (t === 5) pk.push(...session('10.0.0.3', RETURNING, 445)); // serves smb (20)
    if (t === end - 1) pk.push(...session(RETURNING, '10.3.0.1', 21)); // back, uses ftp (15)
    // Still active: serves telnet (50) every 30 s, well inside the 60 s window.
    if (t % 30 === 1) pk.push(...session('10.0.0.2', ACTIVE_SERVER, 23));
    for (const p of pk) det.packet(p, t * 1e6 + 500, 60);
    out.push(...det.observe(second(t)));
    for (const e of det.takeReportChanges()) {
      if (e.gone === true) copy.delete(e.addr);
      else copy.set(e.addr, e);
    }
    // A host still active is never forgotten: its score never drops between its packets.
    if (t > 1) expect([t, det.scoreOf(ACTIVE_SERVER)]).toEqual([t, 50]);
    if (t > 3 && t < 3 * N + 55) expect([t, det.scoreOf(ACTIVE_CLIENT)]).toEqual([t, 55]);
  }
  const servers = Array.from({ length: N }, (_, i) => serverOf(i));
  const addrs = [...servers, ACTIVE_CLIENT, ACTIVE_SERVER, V6_SERVER, RETURNING, '10.3.0.1', '10.4.0.1', '10.0.0.3'];
  const report = { hosts: addrs.map((a) => host(a, [1, 60])) } as unknown as Report;
  det.decorateReport(report);
  // The thread's copy agrees with decorateReport on every host (absent on both, or equal).
  for (const h of report.hosts) {
    const e = copy.get(h.addr);
    expect([h.addr, e?.risk, e?.served, e?.used]).toEqual([h.addr, h.risk, h.riskServices?.served, h.riskServices?.used]);
  }
  return { det, copy, out, servers, report };
}

describe('risky-services on long runs', () => {
  it('keeps raising new hosts after the table filled, and the report keeps forgotten hosts', () => {
    const { det, out, servers, report } = run(60);
    // Every server was raised, the newest ones included (the old code refused from about the 25th).
    expect(raised(out).map((a) => a.host)).toEqual(servers);
    expect(det.untracked).toBe(0);
    // The report: forgotten hosts keep their whole-run risk and services.
    const by = new Map(report.hosts.map((h) => [h.addr, h]));
    for (const s of servers) expect(by.get(s)).toMatchObject({ risk: 100, riskServices: { served: ['telnet', 'docker-api'], used: [] } });
    expect(by.get(ACTIVE_CLIENT)).toMatchObject({ risk: 55, riskServices: { served: [], used: ['telnet', 'docker-api'] } });
    expect(by.get(ACTIVE_SERVER)).toMatchObject({ risk: 50, riskServices: { served: ['telnet'], used: [] } });
    expect(by.get(V6_SERVER)).toMatchObject({ risk: 25, riskServices: { served: ['rdp'], used: [] } });
    expect(by.get('10.0.0.3')).toMatchObject({ risk: 25, riskServices: { served: [], used: ['ftp', 'smb'] } });
    // Forgotten, then back as a client: both halves of its run.
    expect(by.get(RETURNING)).toMatchObject({ risk: 35, riskServices: { served: ['smb'], used: ['ftp'] } });
  });

  it('keeps at most 4 x maxHosts forgotten entries, the oldest dropped (the thread copy too)', () => {
    const { det, copy, out, servers, report } = run(200);
    expect(raised(out).map((a) => a.host)).toEqual(servers);
    expect(det.untracked).toBe(0);
    const by = new Map(report.hosts.map((h) => [h.addr, h]));
    expect(by.get(servers[0] ?? '')?.risk).toBeUndefined();
    for (const s of servers.slice(-60)) expect(by.get(s)).toMatchObject({ risk: 100, riskServices: { served: ['telnet', 'docker-api'], used: [] } });
    expect(copy.size).toBeLessThanOrEqual(64 + 32);
  });
});
