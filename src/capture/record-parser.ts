// The contract between a stream of capture-file bytes and frames: a parser steps over one
// record at a time in a ByteQueue, in place, and counts what is odd but readable.

import type { ByteQueue, Step } from './byte-queue.js';
import type { Frame } from './frame.js';

/** The largest record we accept: libpcap's and wiretap's maximum snapshot length. */
export const MAX_RECORD_BYTES = 262_144;

export interface RecordParser {
  /** "pcap", "pcap-ns", "pcapng", ... for the report. */
  readonly format: string;
  /**
   * Step over the record at q.start. On STEP.frame the frame points into q.buf and stays
   * valid until the next call. Throws CaptureFormatError for bytes it cannot go past.
   */
  next(q: ByteQueue, frame: Frame): Step;
  /** End of input: throws if the bytes left over are a partial record. */
  finish(q: ByteQueue): void;
  /** Adds counts of readable oddities (by anomaly name) to `into`. */
  anomalies(into: Record<string, number>): void;
  /** Frames the capturing system said it dropped (pcapng ISB), null when the file does not say. */
  dropped(): number | null;
}

export function addCount(into: Record<string, number>, name: string, n: number): void {
  if (n > 0) into[name] = (into[name] ?? 0) + n;
}
