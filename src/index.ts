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
