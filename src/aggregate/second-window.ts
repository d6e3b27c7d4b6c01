// One open epoch second: totals, protocol and anomaly counters, and its own host table.
// Windows are recycled, so an open second costs no allocation once the run is warm.

import { ANOMALY_COUNT } from '../decode/packet.js';
import { HostTable } from './host-table.js';
import { PROTO_SLOTS } from './protocols.js';

/** New hosts whose addresses a summary lists (the count is always exact). */
export const MAX_NEW_HOST_ADDRS = 100;

export class SecondWindow {
  sec = 0;
  packets = 0;
  bytes = 0;
  captured = 0;
  late = 0;
  newHosts = 0;
  readonly proto = new Float64Array(PROTO_SLOTS);
  readonly anomalies = new Float64Array(ANOMALY_COUNT);
  readonly hosts: HostTable;
  /** fam, w0, w1, w2, w3 of up to MAX_NEW_HOST_ADDRS new hosts. */
  readonly newAddrs = new Uint32Array(MAX_NEW_HOST_ADDRS * 5);

  constructor(maxHosts: number, histogramPairs: number) {
    this.hosts = new HostTable({ maxHosts, evict: false, histogramPairs, initialHosts: 256 });
  }

  reset(sec: number): void {
    this.sec = sec;
    this.packets = 0;
    this.bytes = 0;
    this.captured = 0;
    this.late = 0;
    this.newHosts = 0;
    this.proto.fill(0);
    this.anomalies.fill(0);
    this.hosts.clear();
  }

  noteNewHost(fam: number, w0: number, w1: number, w2: number, w3: number): void {
    const i = this.newHosts++;
    if (i < MAX_NEW_HOST_ADDRS) {
      const a = this.newAddrs;
      a[i * 5] = fam;
      a[i * 5 + 1] = w0;
      a[i * 5 + 2] = w1;
      a[i * 5 + 3] = w2;
      a[i * 5 + 4] = w3;
    }
  }
}
