// Rebuilds the optional `cap` binding with -DNDEBUG (owner: live capture). cap 0.2.1 asserts
// on libuv poll errors, so a stock build aborts the whole process when the captured interface
// goes down (mscdex/cap#82); without the assert libuv just stops the poll and netpulse reports
// ERR_DEVICE_DOWN itself. Run by postinstall and by `npm run build:cap`; never fails an install:
// without cap or libpcap headers, live capture is unavailable and replay still works.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const say = (line) => process.stderr.write(`netpulse build:cap: ${line}\n`);

let capDir;
try {
  capDir = dirname(require.resolve('cap/package.json'));
} catch {
  say('cap is not installed (npm skips it when libpcap-dev is missing): live capture is off, replay works.');
  say('to enable it: apt-get install libpcap-dev, then npm ci again (npm removed cap when its build failed)');
  process.exit(0);
}

const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['npm', ['rebuild', 'cap']];
const r = spawnSync(cmd, args, {
  cwd: capDir,
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  env: { ...process.env, CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -DNDEBUG`.trim() },
});
if (r.status !== 0) {
  const why = (r.stderr ?? '').split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  say(`could not rebuild cap (${why.trim()}); live capture keeps the stock build, if any.`);
  process.exit(0);
}
say('cap rebuilt without assertions (see native-notes/building.md).');
