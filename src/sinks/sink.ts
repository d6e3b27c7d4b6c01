// Where messages go: stdout NDJSON, the console, alert files, webhooks, the feed.
// The pipeline builds each message and its JSON text once and hands both to every sink.

import type { Message } from '../schema.js';

export interface Sink {
  /** Must not block: a slow consumer buffers boundedly or drops, and counts it. */
  publish(msg: Message, json: string): void;
  /** True for an output that does not keep a run going once stdout's reader is gone (the
   *  console's alert lines on stderr); alert files, webhooks and the feed do. */
  readonly auxiliary?: boolean;
  /** Flush and release; resolves when everything accepted has been written or given up. */
  close(): Promise<void>;
  /**
   * A sink whose writer applies backpressure (stdout into a slow pipe): a promise that
   * resolves once it has caught up, or null while it keeps up. Sources that can wait
   * (files) wait on it between chunks, so output never piles up in memory.
   */
  backlog?(): Promise<void> | null;
}

/**
 * Read access to the running analysis for sinks that answer questions (the feed's
 * /api, /metrics and hello). Implemented by the pipeline.
 */
export interface AnalyzerView {
  /** "file a.pcap", "live eth0", ... and whether time comes from packets or the wall. */
  readonly source: { readonly description: string; readonly clock: 'packet' | 'wall' };
  /** The effective options, for hello messages (no secrets: tokens are omitted). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The cumulative state so far as a report listing the top `hosts` hosts by bytes. */
  snapshot(hosts: number): import('../aggregate/summary.js').Report;
}
