// The Alert contract: what detectors emit and every sink (console, NDJSON, webhook,
// Alertmanager, feed) receives. A condition is raised once and resolved once.

export type Severity = 'info' | 'warning' | 'critical';
export type AlertState = 'raised' | 'resolved';

export interface Alert {
  /** Unique per alert message (a raise and its resolve have different ids, same key). */
  id: string;
  /** Epoch seconds of the packet time that raised or resolved it. */
  ts: number;
  state: AlertState;
  /** Detector that produced it ("threshold", "zscore", "new-host", ...). */
  detector: string;
  /** Zeek-style note name ("Host_Bytes_Spike"). */
  note: string;
  severity: Severity;
  /** Identifier of the condition: detector + note + host (two alerts with the same key
   *  are the same condition). */
  key: string;
  /** The host concerned, or null for global conditions. */
  host: string | null;
  /** The metric observed ("bytes/s", "packets/s", "distinct_ports", ...). */
  metric: string;
  /** Observed value that broke the limit (or the value at resolve time). */
  value: number;
  /** The fixed limit broken, when the detector uses one. */
  threshold: number | null;
  /** Baseline it was scored against, when the detector uses one. */
  baseline: { mean: number; stdev: number; z: number } | null;
  /** One-line human message. */
  message: string;
  /** Epoch second the condition started (equals ts on a raise). */
  since: number;
}
