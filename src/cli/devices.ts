// `netpulse devices`: the interfaces libpcap can capture on, like `tcpdump -D`, with their
// addresses and state (owner: live capture).
import type { Command } from 'commander';
import { loadCap } from '../capture/cap.js';
import { formatDevices, listDevices } from '../capture/devices.js';
import { AnalyzerError } from '../errors.js';

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('list the interfaces netpulse live can capture on (like tcpdump -D)')
    .option('--json', 'print one JSON array instead of one line per interface')
    .action(async (opts: { json?: boolean }) => {
      const devices = listDevices(loadCap());
      const text = `${opts.json === true ? JSON.stringify(devices) : formatDevices(devices)}\n`;
      // A list that cannot be written (stdout on a full disk) is ERR_OUTPUT, as for the other
      // commands; a reader that closed the pipe (`| head -1`) is not a failure.
      let failed: NodeJS.ErrnoException | null = null;
      const onError = (e: NodeJS.ErrnoException): void => {
        failed ??= e;
      };
      process.stdout.on('error', onError);
      await new Promise<void>((resolve) => {
        process.stdout.write(text, (e?: Error | null) => {
          if (e) onError(e as NodeJS.ErrnoException);
          resolve();
        });
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
      process.stdout.off('error', onError);
      const f = failed as NodeJS.ErrnoException | null;
      if (f !== null && f.code !== 'EPIPE') {
        throw new AnalyzerError('ERR_OUTPUT', `cannot write the output (${f.code ?? f.message}): it is incomplete; free space or send it elsewhere`, {
          subject: 'stdout',
          cause: f,
        });
      }
    });
}
