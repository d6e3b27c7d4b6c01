// Detectors and alert sinks (detect).
export type { Alert, AlertState, Severity } from './detect/alert.js';
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
export { addDetectOptions, detectConfigFromOptions } from './cli/detect-options.js';
