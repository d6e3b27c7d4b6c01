// `netpulse devices`: the interfaces libpcap can capture on, like `tcpdump -D`, with their
// addresses and state (owner: live capture).
import type { Command } from 'commander';
import { loadCap } from '../capture/cap.js';
import { formatDevices, listDevices } from '../capture/devices.js';

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('list the interfaces netpulse live can capture on (like tcpdump -D)')
    .option('--json', 'print one JSON array instead of one line per interface')
    .action((opts: { json?: boolean }) => {
      const devices = listDevices(loadCap());
      process.stdout.write(`${opts.json === true ? JSON.stringify(devices) : formatDevices(devices)}\n`);
    });
}
