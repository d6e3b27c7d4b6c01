export {};
// synth: synthetic captures with labelled anomalies, and the capture writers.
export { generate, type SynthOptions, type SynthParams } from './synth/generate.js';
export { parseAnomaly, ANOMALY_KINDS, type AnomalySpec, type AnomalyKind } from './synth/anomalies.js';
export type { Truth, TruthAnomaly, TruthHost, TruthSecond } from './synth/truth.js';
export { PcapWriter, type PcapWriterOptions } from './capture/pcap-writer.js';
export { PcapngWriter, type PcapngInterface, type PcapngWriterOptions } from './capture/pcapng-writer.js';
export { openOutput, ChunkedOutput, type OutputOptions } from './capture/writer-output.js';
export type { CaptureWriter } from './capture/writer-common.js';
