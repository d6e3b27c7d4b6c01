// Ctrl-C and SIGTERM: the first asks the run to stop and report; a second one exits at once.
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals): void => {
    seen++;
    if (seen > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
