#!/usr/bin/env node
// netpulse command line: one file per command; this file only assembles them and turns
// every failure into one line on stderr and a documented exit status.

import { Command, CommanderError } from 'commander';
import { registerReplay } from './replay.js';
import { registerDevices } from './devices.js';
import { registerLive } from './live.js';
import { registerSynth } from './synth.js';
import { registerWatch } from './watch.js';
import { reportFatal } from './exit.js';

const program = new Command();
program
  .name('netpulse')
  .description('Live packet-capture traffic analyzer: per-second rates, per-host statistics, alerts, a WebSocket feed.')
  .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerReplay(program);
registerDevices(program);
registerLive(program);
registerSynth(program);
registerWatch(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed its message; --help and --version exit 0
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportFatal(e);
  }
}
// Everything has been written and closed: do not wait for idle handles (stdin, sockets).
process.exit(process.exitCode ?? 0);
