// netpulse as a library: the stage contracts, the pipeline, the sources, the message schema.
export type { Frame, FrameHandler, PacketSource, SourceEnd, SourceStats } from './capture/frame.js';
export { FileSource, type FileSourceOptions, type ReplaySpeed } from './capture/file-source.js';
export { decodeFrame, supportedLinktypes } from './decode/decoder.js';
export { ANOMALY, LAYER, TCP_FLAGS, createDecodedPacket, type DecodedPacket } from './decode/packet.js';
export { Aggregator, type AggregatorOptions, type AggregatorEvents } from './aggregate/aggregator.js';
export type { DirectionStats, Gap, HostStats, RateStats, Report, SecondSummary, SizeStats } from './aggregate/summary.js';
export type { Alert, AlertState, Severity } from './detect/alert.js';
export type { Detector } from './detect/detector.js';
export { Analysis, runAnalysis, type AnalysisOptions, type RunResult } from './pipeline.js';
export type { AnalyzerView, Sink } from './sinks/sink.js';
export * from './schema.js';
export { AnalyzerError, CaptureError, CaptureFormatError, ConfigError, ERROR_CODES, EXIT, type ErrorCode } from './errors.js';
export { DEFAULTS } from './config.js';
// The live feed (owned by the feed): server, configuration, and the feed-only message types.
export { startFeed, type FeedSink } from './feed/server.js';
export { FEED_DEFAULTS, feedConfig, isLoopbackHost, parseServe, type FeedConfig } from './feed/config.js';
export {
  CLOSE,
  TOPICS,
  type FeedMessage,
  type HelloMessage,
  type LaggedMessage,
  type Sequenced,
  type ServerMessage,
  type SubscribeRequest,
  type Topic,
} from './feed/messages.js';
// synth: synthetic captures with labelled anomalies, and the capture writers.
export { generate, type SynthOptions, type SynthParams } from './synth/generate.js';
export { parseAnomaly, ANOMALY_KINDS, type AnomalySpec, type AnomalyKind } from './synth/anomalies.js';
export type { Truth, TruthAnomaly, TruthHost, TruthSecond } from './synth/truth.js';
export { PcapWriter, type PcapWriterOptions } from './capture/pcap-writer.js';
export { PcapngWriter, type PcapngInterface, type PcapngWriterOptions } from './capture/pcapng-writer.js';
export { openOutput, ChunkedOutput, type OutputOptions } from './capture/writer-output.js';
export type { CaptureWriter } from './capture/writer-common.js';
// Detectors and alert sinks (detect).
export { createDetectStage, type DetectStage, type DetectStats, type PacketHook } from './detect/stage.js';
export {
  applyConfigFile,
  defaultAlertSinkConfig,
  defaultDetectConfig,
  DETECTOR_NAMES,
  type AlertSinkConfig,
  type DetectConfig,
} from './detect/config.js';
export { createAlertSinks, alertSinkProblems } from './sinks/alert-sinks.js';
export { addDetectOptions, detectConfigFromOptions, detectionFromOptions, type Detection } from './cli/detect-options.js';
