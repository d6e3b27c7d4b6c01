#!/usr/bin/env node
// The command line as one ES module graph of a few files (dist/bin/), made by `npm run build`
// after tsc. Why: start-up is part of every replay's time, and Node spends ~30 ms resolving,
// reading and compiling the ~85 small modules tsc writes (measured: a one-packet replay took
// 120 ms from dist/cli/main.js, 93 ms from the bundle; `node -e 0` takes 53 ms). Commands
// stay lazily loaded (one chunk each). dist/cli/main.js, the unbundled entry, still works.
//
// Packages with native or optional parts (cap, ws and its optional helpers) and uplot (served
// as a file, never imported) stay outside the bundle and resolve from node_modules as before.

import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).pathname;
const EXTERNAL = ['cap', 'ws', 'uplot', 'bufferutil', 'utf-8-validate'];

rmSync(`${ROOT}dist/bin`, { recursive: true, force: true });
let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (e) {
  // No bundler here (a Node older than 20.19, or no dev dependencies): the command line
  // still works, through a one-line entry that loads the unbundled modules.
  mkdirSync(`${ROOT}dist/bin`, { recursive: true });
  writeFileSync(`${ROOT}dist/bin/netpulse.js`, "#!/usr/bin/env node\nimport '../cli/main.js';\n");
  chmodSync(`${ROOT}dist/bin/netpulse.js`, 0o755);
  console.error(`bundle: rolldown unavailable (${e instanceof Error ? e.message.split('\n')[0] : e}); dist/bin/netpulse.js loads dist/cli/main.js unbundled (starts ~30 ms slower)`);
  process.exit(0);
}
const bundle = await rolldown({
  input: { netpulse: `${ROOT}dist/cli/main.js` },
  platform: 'node',
  external: (id) => id.startsWith('node:') || EXTERNAL.some((p) => id === p || id.startsWith(`${p}/`)),
  logLevel: 'warn',
});
await bundle.write({ dir: `${ROOT}dist/bin`, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' });
await bundle.close();
chmodSync(`${ROOT}dist/bin/netpulse.js`, 0o755);
