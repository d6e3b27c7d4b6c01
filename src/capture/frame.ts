// The contract between capture and decode: one reusable Frame per source, pushed through
// a synchronous callback. The bytes are BORROWED: they are valid only until the handler
// returns (the reader reuses its chunk, cap reuses its one buffer). Copy what you keep.

import type { AnalyzerError } from '../errors.js';

export interface Frame {
  /** Whole microseconds since the epoch (nanosecond captures are floored). */
  tsMicros: number;
  /** Bytes present in `bytes` starting at `offset`. */
  caplen: number;
  /** Original length on the wire (pcap orig_len, pcapng original packet length). */
  wirelen: number;
  /** LINKTYPE_* value of the interface the frame came from. */
  linktype: number;
  /** Borrowed view: the frame is bytes[offset, offset + caplen). */
  bytes: Uint8Array;
  offset: number;
  /** pcapng interface id within the file (0 for pcap and live). */
  iface: number;
  /** Cut by the snapshot length while its original length is unknown (live: cap gives
   *  only the captured length, so wirelen is caplen); the source counts such frames. */
  cut: boolean;
}

export type FrameHandler = (f: Frame) => void;

/** Set by the pipeline while its outputs want the source to pause (see setBackpressure). */
export interface Pressure {
  held: boolean;
}

export function createFrame(): Frame {
  return { tsMicros: 0, caplen: 0, wirelen: 0, linktype: 0, bytes: new Uint8Array(0), offset: 0, iface: 0, cut: false };
}

/** Counters a source keeps about itself; read at most once a second. */
export interface SourceStats {
  /** Frames handed to the handler. */
  packets: number;
  /** Input bytes consumed (decompressed bytes for gzip). Files only. */
  bytesRead: number;
  /** Size of the input on disk when known (for progress); compressed size for gzip. */
  bytesTotal: number | null;
  /** Compressed bytes consumed, for progress on gzip files. */
  rawBytesRead: number;
  /** Frames the kernel or interface dropped; null when the source cannot know. */
  dropped: number | null;
  /** Estimated loss when drops are unknown but can be inferred (live); null otherwise. */
  droppedEstimate: number | null;
  /** Reader-level oddities (caplen > wirelen, usec >= 1e6, ...), by anomaly name. */
  readerAnomalies: Record<string, number>;
}

export type SourceEndReason = 'eof' | 'stopped' | 'count' | 'duration' | 'error';

export interface SourceEnd {
  readonly reason: SourceEndReason;
  /** Set when reason is 'error': everything handed out before it stays valid. */
  readonly error?: AnalyzerError;
}

/** Where packets come from: capture files, stdin, a live interface. */
export interface PacketSource {
  /** 'file' sources carry their own time; 'live' ones are stamped on arrival. */
  readonly clock: 'packet' | 'wall';
  /** Human description for hello messages and the report ("file a.pcap", "live eth0"). */
  readonly description: string;
  /**
   * Push every frame to onFrame, synchronously, until the input ends or stop() is called.
   * Input faults resolve with reason 'error' (never reject) so callers can flush first.
   */
  start(onFrame: FrameHandler): Promise<SourceEnd>;
  stop(): void;
  stats(): SourceStats;
  /**
   * Sources that can pause (files, stdin) stop handing out frames as soon as `pressure.held`
   * is set (checked per frame: one field load), then await what `wait` returns before going
   * on: the outputs' backpressure, and turns for the event loop (signals) when one chunk of
   * input makes many messages. Live capture cannot pause.
   */
  setBackpressure?(wait: () => Promise<void> | null, pressure: Pressure): void;
}

export function emptySourceStats(): SourceStats {
  return {
    packets: 0,
    bytesRead: 0,
    bytesTotal: null,
    rawBytesRead: 0,
    dropped: null,
    droppedEstimate: null,
    readerAnomalies: {},
  };
}
