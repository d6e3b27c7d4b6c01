// Shared by `replay` and `live`: wires a source and the parsed options into an Analysis,
// picks the outputs (NDJSON, ticker, report, progress), handles signals and returns the
// exit status. Nothing already counted is lost: the report is printed before any error.

import type { PacketSource } from '../capture/frame.js';
import { AnalyzerError, EXIT } from '../errors.js';
import { Analysis, type AsyncDetectStageLike, type DetectStageLike } from '../pipeline.js';
import type { MessageType } from '../schema.js';
import { NdjsonSink } from '../sinks/ndjson.js';
import { renderReport } from '../sinks/report-text.js';
import type { Sink } from '../sinks/sink.js';
import { TickerSink } from '../sinks/ticker.js';
import type { CommonAnalysis } from './options.js';
import { startProgress } from './progress.js';
import { onStopSignals, signalExitStatus } from './signals.js';

export interface RunCommandOptions {
  readonly source: PacketSource;
  readonly common: CommonAnalysis;
  /** Live capture: Ctrl-C is the normal end (exit 0), stats go to NDJSON too. */
  readonly live: boolean;
  /** Paced replay or live: print a line per second, flush NDJSON per line. */
  readonly paced: boolean;
  readonly detect?: DetectStageLike | AsyncDetectStageLike | null;
  readonly sinks?: readonly Sink[];
  /** Starts the feed once the analysis exists (it needs the view); returns its sink. */
  readonly startFeed?: (a: Analysis) => Promise<Sink & { readonly url: string }>;
  /** Formats read, for the report header (file sources). */
  readonly formats?: () => readonly string[];
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WriteStream;
}

/** After Ctrl-C, SIGTERM or SIGHUP, the longest wait for outputs to take what is left. */
const AFTER_SIGNAL_MS = 5000;

function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const analysis = new Analysis(o.source, {
    aggregate: o.common.aggregate,
    reportHosts: o.common.reportHosts,
    detect: o.detect ?? null,
    shownOptions: o.common.shown,
  });
  // A reader that went away (EPIPE: `| head`) ends the output quietly, and with stdout the
  // only output the run too, as it ends tcpdump (`netpulse live --json | head -2` must not
  // capture on forever; alert files, webhooks and the feed are still served otherwise). Any
  // other write error (a full disk) makes the output incomplete: not a success.
  let outError: NodeJS.ErrnoException | null = null;
  const stdoutOnly = (o.sinks ?? []).every((s) => s.auxiliary === true) && o.startFeed === undefined;
  let readerGone = false;
  const onOutError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE') {
      readerGone = true;
      if (stdoutOnly) o.source.stop();
    } else if (outError === null) {
      outError = e;
    }
  };
  stdout.on('error', onOutError);
  // the alert sinks first: an alert on stdout is in the --alerts file already
  const sinks: Sink[] = [...(o.sinks ?? [])];
  let ndjson: NdjsonSink | null = null;
  if (o.common.json) {
    const types: MessageType[] = ['summary', 'gap', 'alert', 'report'];
    // A live run also says how it is doing and why it ended (count, duration, signal).
    if (o.live) types.push('stats', 'end');
    ndjson = new NdjsonSink(stdout, types, o.paced);
    sinks.push(ndjson);
  } else if (o.paced) {
    sinks.push(new TickerSink(stdout));
  }
  for (const s of sinks) analysis.addSink(s);
  let feed: (Sink & { readonly url: string }) | null = null;
  if (o.startFeed) {
    feed = await o.startFeed(analysis);
    analysis.addSink(feed);
    // a wildcard bind is no address to open: say what to open instead
    const u = new URL(feed.url);
    const any = u.hostname === '0.0.0.0' || u.hostname === '[::]';
    const hint = any ? ` (every address of this host: open http://HOST:${u.port}/?token=TOKEN from another machine)` : '';
    stderr.write(`netpulse: serving the dashboard and feed on ${feed.url}${hint}\n`);
  }

  // One handler for the whole command. While running, the first signal stops the source
  // (then the report); while a finished replay stays on view, it ends the wait; while the
  // outputs close (a webhook may take seconds to give up), it exits at once, as a second
  // signal always does.
  let signal: NodeJS.Signals | null = null;
  let phase: 'run' | 'linger' | 'close' = 'run';
  let endLinger: (() => void) | null = null;
  const offSignals = onStopSignals((s) => {
    if (phase === 'run') {
      signal = s;
      o.source.stop();
    } else if (phase === 'linger') {
      endLinger?.();
    } else {
      stderr.write(`netpulse: ${s} while closing the outputs: exiting now; alerts not yet delivered are lost\n`);
      process.exit(signalExitStatus(s));
    }
  });
  try {
    return await finishCommand();
  } finally {
    offSignals();
  }

  async function finishCommand(): Promise<number> {
    const progress = o.paced || o.live ? { stop: () => undefined } : startProgress(o.source, stderr);
    let result;
    try {
      result = await analysis.run();
    } finally {
      progress.stop();
    }
    // A run that failed before its first packet (a missing file, not a capture) has nothing
    // to report: the error line alone says it, as tcpdump -r and tshark -r do, rather than
    // a screen of zeros that reads like an empty capture. (--json still ends with its report.)
    const nothingRead = result.end.error !== undefined && result.end.error !== null && result.report.packets === 0;
    if (!o.common.json && !nothingRead) {
      stdout.write(
        renderReport(result.report, {
          source: o.source.description,
          formats: o.formats?.() ?? [],
          alerts: result.alerts,
          reportHosts: o.common.reportHosts,
          maxHosts: o.common.aggregate.maxHosts,
        }),
      );
    }
    ndjson?.flush();
    let code: number = EXIT.ok;
    if (result.end.error) {
      stderr.write(`netpulse: ${result.end.error.oneLine()}\n`);
      code = result.end.error.exitCode;
    } else if (signal !== null && !o.live) {
      stderr.write(`netpulse: interrupted by ${signal}; the report covers what was read before it\n`);
      code = EXIT.interrupted;
    }
    if (feed !== null && !o.live && signal === null) {
      // A finished replay stays on view until Ctrl-C.
      stderr.write(`netpulse: replay finished; still serving ${feed.url} (Ctrl-C to exit)\n`);
      phase = 'linger';
      await new Promise<void>((resolve) => {
        endLinger = resolve;
      });
    }
    phase = 'close';
    // Asked to stop, a run does not wait long for a reader that stopped reading (one SIGTERM
    // from a supervisor must end it): what is not taken within AFTER_SIGNAL_MS is given up.
    const deadline = Date.now() + AFTER_SIGNAL_MS;
    const bounded = (p: Promise<unknown>): Promise<unknown> => (signal === null ? p : within(p, Math.max(0, deadline - Date.now())));
    await bounded(Promise.all([...sinks, ...(feed ? [feed] : [])].map((s) => s.close().catch(() => undefined))));
    if (outError === null) {
      // everything written so far has left the process, or failed
      await bounded(
        new Promise<void>((resolve) => {
          // the callback comes once what was queued before it is written, or failed
          stdout.write('', (e?: Error | null) => {
            if (e) onOutError(e as NodeJS.ErrnoException);
            resolve();
          });
        }),
      );
    }
    stdout.off('error', onOutError);
    const late = result.report.late;
    if (late > 0 && !o.live && !readerGone && result.end.error === undefined) {
      // Counted as documented, but a surprise: time went back in a file, or the files were
      // given out of time order. (After an error the error line alone is the last word.)
      const allowance = o.common.aggregate.reorderSeconds;
      stderr.write(
        `netpulse: note: ${late} packet${late === 1 ? ' was' : 's were'} from seconds more than ${allowance} before the newest second seen (--reorder, in whole seconds) and counted as late in the newest second (time went back in the capture; if files are out of time order, give them in order or merge them with mergecap)\n`,
      );
    }
    const failed = outError as NodeJS.ErrnoException | null;
    if (failed !== null && code === EXIT.ok && failed.code !== 'ERR_STREAM_DESTROYED') {
      const e = new AnalyzerError('ERR_OUTPUT', `cannot write the output (${failed.code ?? failed.message}): it is incomplete; free space or send it elsewhere`, { subject: 'stdout' });
      stderr.write(`netpulse: ${e.oneLine()}\n`);
      code = e.exitCode;
    }
    return code;
  }
}
