// The kernel's own view of an interface (owner: live capture): packet counters, to
// estimate capture loss that cap cannot report, and flags, to notice an interface that went
// down. Read at most a few times a second, never per packet.
//
// Counters come from /proc/self/net/dev, which always describes the reading process's own
// network namespace. /sys/class/net describes the namespace of whoever mounted sysfs (under
// `nsenter --net` that is still the host's), so it is used only for flags, and only after
// checking that it lists the same interfaces as /proc/self/net/dev.

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** The dev_get_stats() counters that matter for capture (see proc_net(5), /proc/net/dev). */
export interface IfaceCounters {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

/** IFF_* bits from <linux/if.h>, as /sys/class/net/IFACE/flags shows them. */
export const IFF = {
  UP: 0x1,
  LOOPBACK: 0x8,
  RUNNING: 0x40,
  PROMISC: 0x100,
} as const;

/** Where OS facts come from: the real files, or a fake in tests. */
export interface NetFs {
  /** Text of /proc/self/net/dev, or null when unreadable. */
  procNetDev(): string | null;
  /** Interface names under /sys/class/net, or null when unreadable. */
  sysfsNames(): string[] | null;
  /** Text of /sys/class/net/IFACE/FILE, or null when unreadable. */
  sysfsFile(iface: string, file: string): string | null;
}

export const realNetFs: NetFs = {
  procNetDev: () => readText('/proc/self/net/dev'),
  sysfsNames: () => {
    try {
      return readdirSync('/sys/class/net');
    } catch {
      return null;
    }
  },
  sysfsFile: (iface, file) => (safeName(iface) ? readText(`/sys/class/net/${iface}/${file}`) : null),
};

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Interface names never contain '/', and '.' or '..' would escape the directory. */
function safeName(iface: string): boolean {
  return iface.length > 0 && !iface.includes('/') && iface !== '.' && iface !== '..';
}

/**
 * Parse /proc/net/dev: two header lines, then `name: rx_bytes rx_packets rx_errs rx_drop
 * rx_fifo rx_frame rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop ...`.
 * The name may run into the first number when it is long ("eth0:123"), hence the split on ':'.
 */
export function parseProcNetDev(text: string): Map<string, IfaceCounters> {
  const out = new Map<string, IfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.set(name, {
      rxBytes: f[0] ?? 0,
      rxPackets: f[1] ?? 0,
      rxDropped: f[3] ?? 0,
      txBytes: f[8] ?? 0,
      txPackets: f[9] ?? 0,
      txDropped: f[11] ?? 0,
    });
  }
  return out;
}

/** Counters of one interface in this process's namespace; null if it does not exist here. */
export function readIfaceCounters(iface: string, fs: NetFs = realNetFs): IfaceCounters | null {
  const text = fs.procNetDev();
  if (text === null) return null;
  return parseProcNetDev(text).get(iface) ?? null;
}

/** Names of the interfaces of this process's network namespace (null when /proc is unreadable). */
export function namespaceIfaces(fs: NetFs = realNetFs): Set<string> | null {
  const text = fs.procNetDev();
  return text === null ? null : new Set(parseProcNetDev(text).keys());
}

/** True when /sys/class/net lists exactly this namespace's interfaces, so its files are ours. */
export function sysfsIsOurs(fs: NetFs = realNetFs): boolean {
  const mine = namespaceIfaces(fs);
  const sys = fs.sysfsNames();
  if (mine === null || sys === null || mine.size !== sys.length) return false;
  return sys.every((n) => mine.has(n));
}

/** IFF_* flags of an interface from sysfs (only call when sysfsIsOurs()); null if unknown. */
export function readIfaceFlags(iface: string, fs: NetFs = realNetFs): number | null {
  const text = fs.sysfsFile(iface, 'flags');
  if (text === null) return null;
  const n = Number.parseInt(text.trim(), 16);
  return Number.isFinite(n) ? n : null;
}

/**
 * How many frames a capture on `iface` should have seen between two counter readings.
 * libpcap on Linux sees both directions, except on loopback where it skips the outgoing
 * copy of each packet (it would see everything twice), so there only rx counts.
 */
export function framesSeen(before: IfaceCounters, after: IfaceCounters, loopback: boolean): number {
  const rx = after.rxPackets - before.rxPackets;
  const tx = after.txPackets - before.txPackets;
  return loopback ? rx : rx + tx;
}

/** The offloads libpcap checks (iface_get_offload: TSO, UFO, GSO, GRO, LRO), by ethtool -k name. */
const OFFLOADS: Readonly<Record<string, string>> = {
  'tcp-segmentation-offload': 'tso',
  'udp-fragmentation-offload': 'ufo',
  'generic-segmentation-offload': 'gso',
  'generic-receive-offload': 'gro',
  'large-receive-offload': 'lro',
};

/** Parse `ethtool -k IFACE`: the libpcap-relevant offloads that are on ("tso", "gro", ...). */
export function parseOffloads(text: string): string[] {
  const on: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z-]+):\s+on\b/.exec(line.trim());
    const short = m?.[1] === undefined ? undefined : OFFLOADS[m[1]];
    if (short !== undefined) on.push(short);
  }
  return on;
}

/**
 * Offloads on for `iface`, or null when unknown (no ethtool). With any of them on, libpcap
 * sizes every ring slot for a 64 KiB frame (cap's fixed snapshot length), and merged
 * super-frames reach the capture as one frame.
 */
export function readOffloads(iface: string): string[] | null {
  if (!safeName(iface)) return null;
  try {
    const text = execFileSync('ethtool', ['-k', iface], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 });
    return parseOffloads(text);
  } catch {
    return null;
  }
}
