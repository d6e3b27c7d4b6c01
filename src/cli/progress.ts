// A progress line on stderr while a replay runs, only when stderr is a terminal.
import type { PacketSource } from '../capture/frame.js';
import { formatBytes, formatCount } from '../sinks/report-text.js';

export interface Progress {
  stop(): void;
}

export function startProgress(source: PacketSource, out: NodeJS.WriteStream = process.stderr): Progress {
  if (!out.isTTY) return { stop: () => undefined };
  const t0 = Date.now();
  let lastPackets = 0;
  let lastT = t0;
  let rate = 0;
  const draw = (): void => {
    const s = source.stats();
    const now = Date.now();
    if (now > lastT) rate = ((s.packets - lastPackets) * 1000) / (now - lastT);
    lastPackets = s.packets;
    lastT = now;
    const width = 30;
    let line: string;
    if (s.bytesTotal !== null && s.bytesTotal > 0) {
      const f = Math.min(1, s.rawBytesRead / s.bytesTotal);
      const full = Math.round(f * width);
      const eta = f > 0 ? ((now - t0) / f - (now - t0)) / 1000 : 0;
      line = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(1).padStart(5)}%  ${formatBytes(s.rawBytesRead)}/${formatBytes(s.bytesTotal)}  ${formatCount(s.packets)} pkts  ${formatCount(rate)} pkt/s  ETA ${Math.ceil(eta)} s`;
    } else {
      line = `${formatCount(s.packets)} pkts  ${formatBytes(s.bytesRead)}  ${formatCount(rate)} pkt/s`;
    }
    out.write(`\r${line.slice(0, (out.columns ?? 100) - 1)}\x1b[K`);
  };
  const timer = setInterval(draw, 250);
  return {
    stop: () => {
      clearInterval(timer);
      out.write('\r\x1b[K');
    },
  };
}
