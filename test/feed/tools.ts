// Which external tools the feed's tests need, and the rule for skipping: say why, and never
// skip when NETPULSE_REQUIRE_TOOLS=1 (CI installs them).

import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const REQUIRE_TOOLS = process.env.NETPULSE_REQUIRE_TOOLS === '1';

/** Absolute path of a tool, or null; throws when tools are required but this one is missing. */
export function tool(path: string, apt: string): string | null {
  if (existsSync(path)) return path;
  if (REQUIRE_TOOLS) throw new Error(`${path} is missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install ${apt}`);
  process.stderr.write(`skipping: ${path} not installed (apt-get install ${apt}); CI sets NETPULSE_REQUIRE_TOOLS=1\n`);
  return null;
}

/** A loopback port that was free a moment ago (for tools that need a port on the command line). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
