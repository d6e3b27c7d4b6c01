// Scripted inputs for detector tests: SecondSummary objects and DecodedPacket values built
// the way the aggregator and decoders fill them (numeric addresses, -1 when absent).

import type { HostStats, SecondHosts, SecondSummary } from '../../src/aggregate/summary.js';
import type { Alert } from '../../src/detect/alert.js';
import { parseIpv4, parseIpv6 } from '../../src/detect/addr.js';
import { defaultDetectConfig, type DetectConfig } from '../../src/detect/config.js';
import { LAYER, NONIP, TCP_FLAGS, createDecodedPacket, type DecodedPacket } from '../../src/decode/packet.js';

export function host(addr: string, tx: [number, number], rx: [number, number] = [0, 0]): HostStats {
  return {
    addr,
    tx: { packets: tx[0], bytes: tx[1], size: null },
    rx: { packets: rx[0], bytes: rx[1], size: null },
  };
}

export function second(ts: number, o: Partial<SecondSummary> = {}): SecondSummary {
  const hosts = o.hosts ?? [];
  return {
    ts,
    packets: o.packets ?? 0,
    bytes: o.bytes ?? 0,
    capturedBytes: o.capturedBytes ?? o.bytes ?? 0,
    protocols: o.protocols ?? {},
    activeHosts: o.activeHosts ?? hosts.length,
    hosts,
    newHosts: o.newHosts ?? (o.newHostAddrs ?? []).length,
    newHostAddrs: o.newHostAddrs ?? [],
    anomalies: o.anomalies ?? {},
    late: o.late ?? 0,
    dropped: o.dropped ?? null,
  };
}

/** Every detector off: tests switch on the one they exercise. */
export function onlyDetector(edit: (c: DetectConfig) => void): DetectConfig {
  const c = defaultDetectConfig();
  c.threshold.enabled = false;
  c.zscore.enabled = false;
  c.newHost.enabled = false;
  c.portScan.enabled = false;
  c.synFlood.enabled = false;
  c.riskyServices.enabled = false;
  c.silence.enabled = false;
  edit(c);
  return c;
}

function setAddr(p: DecodedPacket, which: 'src' | 'dst', a: string): void {
  const v4 = parseIpv4(a);
  if (v4 !== null) {
    p.ipVersion = 4;
    if (which === 'src') p.src4 = v4;
    else p.dst4 = v4;
    return;
  }
  const v6 = parseIpv6(a);
  if (v6 === null) throw new Error(`bad test address ${a}`);
  p.ipVersion = 6;
  (which === 'src' ? p.src6 : p.dst6).set(v6);
}

export const F = TCP_FLAGS;

/** A TCP packet as the decoder leaves it. */
export function tcp(src: string, sport: number, dst: string, dport: number, flags: number): DecodedPacket {
  const p = createDecodedPacket();
  setAddr(p, 'src', src);
  setAddr(p, 'dst', dst);
  p.layers = LAYER.link | (p.ipVersion === 4 ? LAYER.ipv4 : LAYER.ipv6) | LAYER.tcp;
  p.ipProto = 6;
  p.srcPort = sport;
  p.dstPort = dport;
  p.tcpFlags = flags;
  return p;
}

export function udp(src: string, sport: number, dst: string, dport: number): DecodedPacket {
  const p = createDecodedPacket();
  setAddr(p, 'src', src);
  setAddr(p, 'dst', dst);
  p.layers = LAYER.link | (p.ipVersion === 4 ? LAYER.ipv4 : LAYER.ipv6) | LAYER.udp;
  p.ipProto = 17;
  p.srcPort = sport;
  p.dstPort = dport;
  return p;
}

/** ARP request (op 1) or reply (op 2) over IPv4. */
export function arp(op: 1 | 2, sender: string, target: string): DecodedPacket {
  const p = createDecodedPacket();
  p.layers = LAYER.link | LAYER.arp;
  p.nonIp = NONIP.arp;
  p.arpOp = op;
  p.arpSender = parseIpv4(sender) ?? 0;
  p.arpTarget = parseIpv4(target) ?? 0;
  return p;
}

export function raised(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => a.state === 'raised');
}

export function resolved(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => a.state === 'resolved');
}

/** One host of a scripted SecondHosts view: its id and generation in the aggregator's table. */
export interface ViewHost {
  id: number;
  gen?: number;
  addr: string;
  tx: [number, number];
  rx?: [number, number];
}

/** A SecondHosts as the aggregator hands it to detectors (every host of the second). */
export function hostsView(list: readonly ViewHost[]): SecondHosts {
  const at = (i: number): ViewHost => {
    const h = list[i];
    if (h === undefined) throw new Error(`no host ${i} in the view`);
    return h;
  };
  return {
    count: list.length,
    id: (i) => at(i).id,
    generation: (i) => at(i).gen ?? 1,
    address: (i) => at(i).addr,
    copyAddress: (i, out, o) => {
      const a = at(i).addr;
      const v4 = parseIpv4(a);
      const v6 = v4 === null ? parseIpv6(a) : null;
      if (v4 === null && v6 === null) throw new Error(`bad test address ${a}`);
      out[o] = v4 !== null ? 4 : 6;
      for (let k = 0; k < 4; k++) out[o + 1 + k] = v4 !== null ? (k === 3 ? v4 : 0) : (v6?.[k] ?? 0);
    },
    txPackets: (i) => at(i).tx[0],
    txBytes: (i) => at(i).tx[1],
    rxPackets: (i) => (at(i).rx ?? [0, 0])[0],
    rxBytes: (i) => (at(i).rx ?? [0, 0])[1],
  };
}
