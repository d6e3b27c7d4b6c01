// A progress line on stderr while a replay runs, only when stderr is a terminal.
import type { PacketSource, SourceStats } from '../capture/frame.js';
import { formatBytes, formatCount } from '../sinks/report-text.js';

export interface Progress {
  stop(): void;
}

/** Width assumed when the terminal does not say (a pty without a size reports 0 columns). */
const DEFAULT_COLUMNS = 80;
const BAR_MAX = 30;
const BAR_MIN = 10;

/** Seconds as "42 s", "3:07" or "1:02:05". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The progress line, at most `columns - 1` characters (the last column is left alone so the
 * terminal never wraps). Bytes are the input's own (compressed bytes for compressed input,
 * from a file or from stdin alike); the bar shrinks, then goes, before any figure is cut.
 */
export function progressLine(s: SourceStats, elapsedMs: number, rate: number, columns: number | undefined): string {
  const cols = columns !== undefined && columns > 0 ? columns : DEFAULT_COLUMNS;
  const room = cols - 1;
  let line: string;
  if (s.bytesTotal !== null && s.bytesTotal > 0) {
    const f = Math.min(1, s.rawBytesRead / s.bytesTotal);
    const eta = f > 0 ? (elapsedMs / f - elapsedMs) / 1000 : 0;
    const text = `${(f * 100).toFixed(1).padStart(5)}%  ${formatBytes(s.rawBytesRead)}/${formatBytes(s.bytesTotal)}  ${formatCount(s.packets)} pkts  ${formatCount(rate)} pkt/s  ETA ${f > 0 ? formatEta(eta) : '?'}`;
    const width = Math.min(BAR_MAX, room - text.length - 3);
    if (width >= BAR_MIN) {
      const full = Math.round(f * width);
      line = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${text}`;
    } else {
      line = text;
    }
  } else {
    // stdin, a pipe: no size, so no bar and no ETA
    line = `${formatBytes(s.rawBytesRead)} read  ${formatCount(s.packets)} pkts  ${formatCount(rate)} pkt/s`;
  }
  return line.length > room ? line.slice(0, Math.max(0, room)) : line;
}

export function startProgress(source: PacketSource, out: NodeJS.WriteStream = process.stderr): Progress {
  if (!out.isTTY) return { stop: () => undefined };
  const t0 = Date.now();
  let lastPackets = 0;
  let lastT = t0;
  let rate = 0;
  // Other lines on the same terminal (alerts as they are raised, notes) must not be glued to
  // the end of the bar: while it is shown, any other write first clears it; the next tick
  // draws it again below them.
  const write = out.write;
  let shown = false;
  let drawn = false;
  const raw = (text: string): void => {
    write.call(out, text);
  };
  out.write = function (this: NodeJS.WriteStream, ...args: Parameters<NodeJS.WriteStream['write']>): boolean {
    if (shown) {
      shown = false;
      raw('\r\x1b[K');
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as NodeJS.WriteStream['write'];
  const draw = (): void => {
    const s = source.stats();
    const now = Date.now();
    if (now > lastT) rate = ((s.packets - lastPackets) * 1000) / (now - lastT);
    lastPackets = s.packets;
    lastT = now;
    raw(`\r${progressLine(s, now - t0, rate, out.columns)}\x1b[K`);
    shown = true;
    drawn = true;
  };
  const timer = setInterval(draw, 250);
  return {
    stop: () => {
      clearInterval(timer);
      out.write = write;
      // also clears a "^C" the terminal echoed on the bar's line
      if (drawn) raw('\r\x1b[K');
      shown = false;
    },
  };
}
