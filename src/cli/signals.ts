// Ctrl-C, SIGTERM and SIGHUP: the first asks the run to stop and report; a second one exits
// at once. SIGHUP (the terminal or ssh session went away) ends the run like SIGTERM, as it
// ends tcpdump with its statistics: left to Node's default, it killed the process with no
// report, no final NDJSON lines and alerts still being written. (Node resets an inherited
// SIG_IGN, so `nohup` never kept netpulse running: use setsid, tmux or systemd.)

import { constants } from 'node:os';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's status for a death by `signal`: 128 + its number (130, 143, 129). */
export function signalExitStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals): void => {
    seen++;
    if (seen > 1) {
      process.stderr.write(`netpulse: second signal (${signal}): exiting now; output not yet written and alerts not yet delivered are lost\n`);
      process.exit(signalExitStatus(signal));
    }
    stop(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}
