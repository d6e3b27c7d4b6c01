#!/usr/bin/env node
// netpulse command line: one file per command; this file only assembles them and turns
// every failure into one line on stderr and a documented exit status. A command's module
// is loaded only when that command runs (or for the full --help): start-up is part of
// every replay's time.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportFatal } from './exit.js';

type Register = (program: Command) => void;

// stderr carries notes, alert lines and errors: a reader that went away (`2>&1 | head -1`)
// ends them, not the run. An unhandled EPIPE on it killed the process with status 1 and the
// report on stdout was lost.
process.stderr.on('error', () => {});

const COMMANDS: Record<string, () => Promise<Register>> = {
  replay: async () => (await import('./replay.js')).registerReplay,
  live: async () => (await import('./live.js')).registerLive,
  devices: async () => (await import('./devices.js')).registerDevices,
  synth: async () => (await import('./synth.js')).registerSynth,
  watch: async () => (await import('./watch.js')).registerWatch,
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const program = new Command();
program
  .name('netpulse')
  .description('Live packet-capture traffic analyzer: per-second rates, per-host statistics, alerts, a WebSocket feed.')
  .version(version(), '-V, --version')
  .exitOverride()
  // Usage errors (unknown option, missing argument, ...) are one line like every other
  // failure, with a code; subcommands inherit this.
  .configureOutput({
    outputError: (text, write) => write(`netpulse: ${text.trim().replace(/^error: /, '')} (run with --help for usage) [ERR_BAD_OPTION]\n`),
  });

try {
  const named = COMMANDS[process.argv[2] ?? ''];
  // one command named: load only it; otherwise (help, typos) load all so help lists them
  for (const load of named ? [named] : Object.values(COMMANDS)) (await load())(program);
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
