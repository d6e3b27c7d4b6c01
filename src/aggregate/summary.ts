// What the aggregator hands downstream: one SecondSummary per epoch second and one Report
// at the end. Field names here are the wire contract (README "Output schema"); addresses
// become strings only when these objects are built.

/** Packet-size statistics over wire lengths. stdev is the population standard deviation;
 *  percentiles are nearest-rank, exact below 256 bytes and within 0.6% above. */
export interface SizeStats {
  count: number;
  mean: number;
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface DirectionStats {
  packets: number;
  bytes: number;
  /** null when the host has no packets in this direction. */
  size: SizeStats | null;
}

export interface HostStats {
  /** IPv4 dotted quad or RFC 5952 IPv6 text. */
  addr: string;
  /** Sent: the host was the outermost IP source. */
  tx: DirectionStats;
  /** Received: the host was the outermost IP destination. */
  rx: DirectionStats;
  /** Risk score 0-100 from the services it serves or uses (risky-services detector); absent when 0 or off. */
  risk?: number;
  /** Report only: the risky services behind `risk`. */
  riskServices?: { served: string[]; used: string[] };
}

/** One epoch-aligned second of traffic. */
export interface SecondSummary {
  /** Epoch second: floor(packet time). */
  ts: number;
  packets: number;
  /** Wire bytes (original lengths). */
  bytes: number;
  capturedBytes: number;
  /** Frames by protocol name ("ipv4", "ipv6", "tcp", "udp", "icmp", "arp", "non-ip", "ip-proto-N", ...). */
  protocols: Record<string, number>;
  /** Hosts with traffic this second. */
  activeHosts: number;
  /** Top hosts of this second by bytes (tx + rx). */
  hosts: HostStats[];
  /** Hosts first seen (by the host table) in this second. */
  newHosts: number;
  /** Up to a bounded number of the new hosts' addresses. */
  newHostAddrs: string[];
  /** Decoder and reader anomalies of this second, by name. */
  anomalies: Record<string, number>;
  /** Packets older than the reorder allowance, counted in this second. */
  late: number;
  /** Frames the capture dropped in this second; null when unknown. */
  dropped: number | null;
}

/** A run of empty seconds longer than the gap bound, reported once instead of zero rows. */
export interface Gap {
  /** First empty second. */
  from: number;
  /** Last empty second. */
  to: number;
}

export interface RateStats {
  /** Mean over the seconds of the capture span. */
  avgPacketsPerSec: number;
  avgBytesPerSec: number;
  peakPacketsPerSec: number;
  peakBytesPerSec: number;
  /** Epoch seconds where the peaks happened (null for an empty capture). */
  peakPacketsTs: number | null;
  peakBytesTs: number | null;
}

/** Everything seen from start to end. */
export interface Report {
  packets: number;
  bytes: number;
  capturedBytes: number;
  /** Earliest and latest packet times in epoch seconds (microsecond fraction); null if empty. */
  firstTs: number | null;
  lastTs: number | null;
  /** Number of epoch seconds from the first to the last (inclusive); 0 if empty. */
  seconds: number;
  rates: RateStats;
  protocols: Record<string, number>;
  /** Hosts listed (top N by bytes, or all). */
  hosts: HostStats[];
  /** Hosts in the table at the end (before the top-N cut). */
  hostsTracked: number;
  evictedHosts: number;
  /** IP packets whose hosts were not tracked because a second's host index was full. */
  untrackedPackets: number;
  anomalies: Record<string, number>;
  late: number;
  gaps: number;
  /** Frames the capture dropped; null when unknown. */
  dropped: number | null;
  droppedEstimate: number | null;
  /** Alerts of the run (set by the detect stage when detectors ran). */
  alerts?: ReportAlerts;
}

/** Alert counts for the report: what was raised, resolved and held back. */
export interface ReportAlerts {
  raised: number;
  resolved: number;
  /** Raises held back by per-condition suppression intervals. */
  suppressed: number;
  /** Raises held back by the global rate limit. */
  rateLimited: number;
  /** Conditions not tracked because a detector already tracked its maximum. */
  dropped: number;
  byDetector: Record<string, number>;
  bySeverity: Record<string, number>;
  /** Conditions still raised at the end (resolved by the end of input). */
  openAtEnd: number;
  /**
   * Entries a detector's full table could not take (hosts, pairs or destinations whose state
   * was not kept), by detector; present only when some were refused, so a blind spot is said.
   */
  untracked?: Record<string, number>;
  /** Every raised alert of the run, in order, for the human report (bounded). */
  list: { ts: number; detector: string; note: string; severity: string; host: string | null; message: string; resolvedTs: number | null }[];
}

/**
 * Every host with traffic in the second being closed, for detectors (not serialised). It is
 * BORROWED: valid only during the call that receives it. Numeric, so reading it allocates
 * nothing unless address() is called.
 */
export interface SecondHosts {
  readonly count: number;
  /** Host id in the cumulative table: stable while the host stays tracked. */
  id(i: number): number;
  /** Changes when an id is given to another host after an eviction: (id, generation) is a key. */
  generation(i: number): number;
  address(i: number): string;
  /** The address in numbers, without making its text: out[at] = family (4 or 6), then the
   *  four big-endian words out[at+1..at+5) (IPv4 in the last). Optional (scripted views). */
  copyAddress?(i: number, out: Uint32Array, at: number): void;
  txPackets(i: number): number;
  txBytes(i: number): number;
  rxPackets(i: number): number;
  rxBytes(i: number): number;
  /** Everything above for all hosts at once, in numbers, for handing the second to another
   *  thread: ids, generations, [txPackets, txBytes, rxPackets, rxBytes] per host, and the
   *  address as [family (4 or 6), w0, w1, w2, w3] per host (IPv4 in w3). */
  copyTo?(ids: Int32Array, gens: Float64Array, cnt: Float64Array, addr: Uint32Array): void;
}
