// Test helper (owned by synth): run tshark as the independent oracle for files our writers
// and generator produce, and bucket its per-frame fields the way DESIGN.md counts.

import { spawnSync } from 'node:child_process';

/** tshark's note when run as root: about the environment, not the file. */
const ROOT_NOTE = /^Running as user "root" and group "root"\. This could be dangerous\.$/;

export const HAVE_TSHARK = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
export const REQUIRE_TOOLS = process.env.NETPULSE_REQUIRE_TOOLS === '1';

/** Skip reason, or null; throws when CI requires the tools and tshark is missing. */
export function tsharkSkipReason(): string | null {
  if (HAVE_TSHARK) return null;
  if (REQUIRE_TOOLS) throw new Error('NETPULSE_REQUIRE_TOOLS=1 but tshark is not installed (apt-get install tshark)');
  return 'tshark is not installed: these tests use it as the independent reader (CI installs it)';
}

export interface TsharkRun {
  rows: string[][];
  /** stderr without the root note. */
  warnings: string[];
  status: number | null;
}

export function tsharkFields(file: string, fields: readonly string[], extra: readonly string[] = []): TsharkRun {
  const args = ['-n', '-r', file, ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const warnings = (r.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !ROOT_NOTE.test(l));
  const rows = (r.stdout ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  return { rows, warnings, status: r.status };
}

export interface Counted {
  packets: number;
  bytes: number;
}

export interface Tally {
  packets: number;
  bytes: number;
  seconds: Map<number, Counted>;
  hosts: Map<string, { tx: Counted; rx: Counted }>;
  firstEpoch: string | null;
  lastEpoch: string | null;
}

export const TALLY_FIELDS = ['frame.time_epoch', 'frame.len', 'frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst'] as const;

/**
 * Bucket tshark rows (TALLY_FIELDS) by epoch second (from the text, not a float) and by
 * the outermost IP header's addresses, as SOURCES.md's ground truth does.
 */
export function tally(rows: readonly string[][]): Tally {
  const t: Tally = { packets: 0, bytes: 0, seconds: new Map(), hosts: new Map(), firstEpoch: null, lastEpoch: null };
  const host = (a: string): { tx: Counted; rx: Counted } => {
    let h = t.hosts.get(a);
    if (h === undefined) {
      h = { tx: { packets: 0, bytes: 0 }, rx: { packets: 0, bytes: 0 } };
      t.hosts.set(a, h);
    }
    return h;
  };
  for (const [epoch = '', len = '', protocols = '', s4 = '', d4 = '', s6 = '', d6 = ''] of rows) {
    const bytes = Number(len);
    const sec = Number(epoch.split('.')[0]);
    t.packets++;
    t.bytes += bytes;
    t.firstEpoch ??= epoch;
    t.lastEpoch = epoch;
    const c = t.seconds.get(sec) ?? { packets: 0, bytes: 0 };
    c.packets++;
    c.bytes += bytes;
    t.seconds.set(sec, c);
    const layers = protocols.split(':');
    const i4 = layers.indexOf('ip');
    const i6 = layers.indexOf('ipv6');
    let src = '';
    let dst = '';
    if (i4 >= 0 && (i6 < 0 || i4 < i6)) {
      src = s4;
      dst = d4;
    } else if (i6 >= 0) {
      src = s6;
      dst = d6;
    }
    if (src === '') continue;
    const hs = host(src);
    hs.tx.packets++;
    hs.tx.bytes += bytes;
    const hd = host(dst);
    hd.rx.packets++;
    hd.rx.bytes += bytes;
  }
  return t;
}
