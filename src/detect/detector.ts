// The contract between aggregate and detect. Detectors see closed seconds in time order;
// the few that need packets (port scans, SYN floods) also get an allocation-free
// per-packet hook, resolved once at configuration time, never looked up per packet.

import type { SecondHosts, SecondSummary } from '../aggregate/summary.js';
import type { DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';

export interface Detector {
  readonly name: string;
  /** Per-packet hook (numeric state only, no allocation). Optional. */
  packet?(p: DecodedPacket, tsMicros: number, wirelen: number): void;
  /**
   * Called once per closed second, in time order (zero seconds included). `hosts` lists
   * every host with traffic in that second (s.hosts only the top ones); it is borrowed:
   * valid only during this call.
   */
  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[];
  /** Called once at the end of input; may resolve conditions still open. */
  finish?(lastTs: number): readonly Alert[];
}
