// Builds the alert sinks the options ask for (console, --alerts file, --webhook,
// --alertmanager) and describes their delivery problems for the end-of-run report.

import type { AlertSinkConfig } from '../detect/config.js';
import { AlertmanagerSink } from './alertmanager.js';
import { AlertsFileSink } from './alerts-file.js';
import { ConsoleAlertSink } from './console-alerts.js';
import { AnalyzerError } from '../errors.js';
import { printable } from '../text.js';
import type { Sink } from './sink.js';
import { WebhookSink } from './webhook.js';

/** Opens files now: a bad --alerts path fails (ERR_OUTPUT) before any packet is read. */
export function createAlertSinks(config: AlertSinkConfig): Sink[] {
  const sinks: Sink[] = [];
  // the file first: an alert seen on the console (or on stdout) is in the file already, so a
  // kill -9 right after it cannot leave it out
  if (config.file !== null) sinks.push(new AlertsFileSink(config.file));
  if (config.console) sinks.push(new ConsoleAlertSink());
  if (config.webhook !== null) sinks.push(new WebhookSink(config.webhook, config.sensor));
  if (config.alertmanager !== null) sinks.push(new AlertmanagerSink(config.alertmanager, config.sensor));
  return sinks;
}

/** One line per alert sink that lost or failed to deliver something (empty when all is well). */
export function alertSinkProblems(sinks: readonly Sink[]): string[] {
  const lines: string[] = [];
  for (const s of sinks) {
    if (s instanceof AlertsFileSink) {
      const e = alertsFileError(s);
      if (e !== null) lines.push(e.oneLine());
      if (s.reopenError !== null) {
        lines.push(
          `${printable(s.path)}: note: the alerts file was moved or deleted and could not be created again (${s.reopenError}); later alerts went on to the moved file`,
        );
      }
    } else if (s instanceof WebhookSink || s instanceof AlertmanagerSink) {
      const st = s.stats;
      // After Ctrl-C or SIGTERM the command waits for the outputs at most 5 s, less than a
      // webhook's own 2 x timeout + 1 s: what is still queued (or in flight) then is lost
      // without having been counted as failed or dropped, and must be said too.
      const pending = st.queued;
      if (st.failed > 0 || st.dropped > 0 || pending > 0) {
        const name = s instanceof WebhookSink ? 'webhook' : 'alertmanager';
        lines.push(
          `${name}: ${st.delivered} delivered, ${st.failed} failed, ${st.dropped} dropped, ${st.retries} retries` +
            (pending > 0 ? `, ${pending} not sent (still queued when netpulse stopped waiting)` : '') +
            (st.lastError === null ? '' : ` (last error: ${st.lastError})`),
        );
      }
    }
  }
  return lines;
}

/** The alerts file's failure as an error (ERR_OUTPUT: the run's exit status is 6), or null
 *  when every alert was written. */
export function alertsFileError(s: AlertsFileSink): AnalyzerError | null {
  if (s.lost === 0) return null;
  const why = s.error ?? 'closed';
  return new AnalyzerError('ERR_OUTPUT', `cannot write the alerts file (${why}): ${s.lost} alert${s.lost === 1 ? ' was' : 's were'} not written to it; free space or choose another file`, {
    subject: s.path,
  });
}

/** Whether an alerts file lost alerts (the run then exits with status 6, as for stdout). */
export function alertSinksFailed(sinks: readonly Sink[]): boolean {
  return sinks.some((s) => s instanceof AlertsFileSink && alertsFileError(s) !== null);
}
