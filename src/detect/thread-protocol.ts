// Messages between the main thread (src/detect/thread.ts) and the detector thread
// (src/detect/worker.ts). Requests are answered one reply each, in order.

import type { Alert } from './alert.js';
import type { AlertCounts } from './lifecycle.js';
import type { KnownHosts } from './new-host.js';
import type { RiskEntry } from './risky-services.js';

export interface WorkerInit {
  /** The command's options, from which the worker builds the same DetectConfig. */
  readonly opts: Readonly<Record<string, unknown>>;
  readonly ring: SharedArrayBuffer;
  readonly ts: SharedArrayBuffer;
  readonly ctrl: SharedArrayBuffer;
  /** The known-hosts file as the main thread read it at start (null: none or not read). */
  readonly knownHosts: KnownHosts | null;
}

export type Request =
  /** Run the packet hooks over records up to `to` (exclusive, counted from the start). No reply. */
  | { t: 'drain'; to: number }
  /** A closed second: drain to `to`, then observe it. */
  | {
      t: 'close';
      to: number;
      s: unknown;
      count: number;
      ids: Int32Array;
      gens: Float64Array;
      /** tx packets, tx bytes, rx packets, rx bytes per host. */
      cnt: Float64Array;
      /** [family, w0, w1, w2, w3] per host, or null when `texts` carries the addresses. */
      addr: Uint32Array | null;
      texts: string[] | null;
    }
  | { t: 'gap'; to: number; g: unknown }
  | { t: 'finish'; to: number; last: number };

export type Reply =
  | {
      t: 'done';
      alerts: Alert[];
      counts: AlertCounts;
      /** Entries the detectors' full tables refused, by detector (the report's alerts.untracked). */
      untracked: Record<string, number>;
      /** risky-services' report entries that changed. */
      report: RiskEntry[];
      /** Risk scores set on the summary's hosts (index-aligned; 0: none), close only. */
      risks: number[] | null;
      /** new-host: why the known-hosts file could not be written, if it could not. */
      knownHostsError: string | null;
      /** new-host: new hosts not remembered because the list was full. */
      knownHostsFull: number;
    }
  | { t: 'error'; message: string };
