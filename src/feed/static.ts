// The dashboard's files (owned by the feed), read once at start and served from memory.
// Our own assets live in src/feed/assets (copied to dist/feed/assets by the build); uPlot
// is served from the installed npm package, so nothing comes from a CDN.

import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const OWN = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/assets/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/assets/style.css', 'style.css', 'text/css; charset=utf-8'],
] as const;

/** Where our assets are: beside this module after the build's copy step (dist/feed/, or
 *  ../feed/ from the bundled command line in dist/bin/), or in src/ when running dist/ from a
 *  checkout that was compiled with plain tsc. */
function assetDir(): string {
  const candidates = [
    new URL('./assets/', import.meta.url),
    new URL('../feed/assets/', import.meta.url),
    new URL('../../src/feed/assets/', import.meta.url),
  ];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(join(p, 'index.html'))) return p;
  }
  throw new Error('dashboard assets missing: run npm run build (it copies src/feed/assets to dist/feed/assets)');
}

let cache: Map<string, Asset> | null = null;

export function loadAssets(): Map<string, Asset> {
  if (cache !== null) return cache;
  const dir = assetDir();
  const m = new Map<string, Asset>();
  for (const [route, file, type] of OWN) m.set(route, { type, body: readFileSync(join(dir, file)) });
  const require = createRequire(import.meta.url);
  m.set('/assets/uplot.js', {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')),
  });
  m.set('/assets/uplot.css', {
    type: 'text/css; charset=utf-8',
    body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')),
  });
  cache = m;
  return m;
}
