// `netpulse replay FILE...`: analyse capture files (or stdin) and report.
import type { Command } from 'commander';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('analyse pcap/pcapng capture files (or - for stdin)')
    .argument('<files...>', 'capture files; - reads stdin')
    .action(() => {
      throw new Error('replay is being built');
    });
}
