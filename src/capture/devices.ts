// Capture interfaces as libpcap lists them (through cap), with the up/running/loopback
// state that cap leaves out read from the kernel (owner: live capture). Used by
// `netpulse devices`, by the default-interface choice and by the "no such interface" error.

import type { CapDevice, CapModule } from './cap.js';
import { IFF, namespaceIfaces, readIfaceFlags, realNetFs, sysfsIsOurs, type NetFs } from './iface-counters.js';
import { CaptureError } from '../errors.js';

export interface DeviceAddress {
  addr: string;
  netmask: string | null;
  broadaddr: string | null;
  dstaddr: string | null;
}

export interface DeviceInfo {
  name: string;
  description: string | null;
  addresses: DeviceAddress[];
  /** A network interface of this namespace (false for pseudo devices: any, nflog, dbus-*, ...). */
  netdev: boolean;
  /** IFF_UP / IFF_RUNNING; null when unknown (pseudo devices, or sysfs is another namespace's). */
  up: boolean | null;
  running: boolean | null;
  loopback: boolean;
}

/** Every device libpcap can open, in libpcap's order (up and running first, loopback later). */
export function listDevices(cap: CapModule, fs: NetFs = realNetFs): DeviceInfo[] {
  let raw: CapDevice[];
  try {
    raw = cap.Cap.deviceList();
  } catch (e) {
    throw new CaptureError('ERR_CAPTURE_FAILED', `libpcap could not list devices: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const netdevs = namespaceIfaces(fs);
  const trustSysfs = sysfsIsOurs(fs);
  return raw.map((d) => {
    const netdev = netdevs?.has(d.name) ?? false;
    const flags = netdev && trustSysfs ? readIfaceFlags(d.name, fs) : null;
    // sysfs flags lack IFF_RUNNING, which SIOCGIFFLAGS derives from the operational state
    // (dev_get_flags: up, and operstate "up" or "unknown"), as libpcap reports it
    const oper = flags === null ? null : (fs.sysfsFile(d.name, 'operstate') ?? '').trim();
    const anyDevice = d.name === 'any' && !netdev;
    const loopback = d.flags === 'PCAP_IF_LOOPBACK' || (flags !== null && (flags & IFF.LOOPBACK) !== 0);
    return {
      name: d.name,
      description: d.description ?? null,
      addresses: d.addresses.flatMap((a) =>
        a.addr === undefined
          ? []
          : [{ addr: a.addr, netmask: a.netmask ?? null, broadaddr: a.broadaddr ?? null, dstaddr: a.dstaddr ?? null }],
      ),
      netdev,
      // libpcap lists its "any" pseudo-device as up and running (tcpdump -D: [Up, Running])
      up: flags === null ? (anyDevice ? true : null) : (flags & IFF.UP) !== 0,
      running: flags === null ? (anyDevice ? true : null) : (flags & IFF.UP) !== 0 && (oper === 'up' || oper === 'unknown'),
      loopback,
    };
  });
}

/** The default capture interface: the first network interface that is up and not loopback. */
export function defaultDevice(devices: readonly DeviceInfo[]): DeviceInfo {
  const pick = devices.find((d) => d.netdev && !d.loopback && d.up !== false);
  if (pick === undefined) {
    throw new CaptureError(
      'ERR_NO_DEVICE',
      `no network interface is up besides loopback; name one with -i (interfaces: ${names(devices)})`,
    );
  }
  return pick;
}

/** The device called `name`, or ERR_NO_DEVICE listing the ones that exist. */
export function findDevice(devices: readonly DeviceInfo[], name: string): DeviceInfo {
  const d = devices.find((x) => x.name === name);
  if (d === undefined) {
    throw new CaptureError('ERR_NO_DEVICE', `no such interface "${name}"; interfaces: ${names(devices)} (see netpulse devices)`, {
      subject: name,
    });
  }
  return d;
}

function names(devices: readonly DeviceInfo[]): string {
  return devices.length === 0 ? '(none)' : devices.map((d) => d.name).join(', ');
}

/** Prefix length of a netmask ("255.255.255.0" -> 24, "ffff:ffff::" -> 32), or null. */
export function prefixLength(netmask: string): number | null {
  if (netmask.includes('.')) {
    const parts = netmask.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
    return countBits(parts.map((p) => p.toString(2).padStart(8, '0')).join(''));
  }
  const halves = netmask.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' && halves[1] !== undefined ? halves[1].split(':') : [];
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return countBits(groups.map((g) => Number.parseInt(g, 16).toString(2).padStart(16, '0')).join(''));
}

/** Bits of a contiguous mask; null when the ones are not contiguous. */
function countBits(bits: string): number | null {
  const n = bits.indexOf('0') < 0 ? bits.length : bits.indexOf('0');
  return bits.slice(n).includes('1') ? null : n;
}

/** One line per device, like `tcpdump -D`, with addresses: "1.eth0 [Up, Running] 192.0.2.2/24". */
export function formatDevices(devices: readonly DeviceInfo[]): string {
  return devices
    .map((d, i) => {
      const state: string[] = [];
      if (d.up === true) state.push('Up');
      if (d.running === true) state.push('Running');
      if (d.loopback) state.push('Loopback');
      if (d.up === false) state.push('Down');
      const desc = d.description === null ? '' : ` (${d.description})`;
      const addrs = d.addresses.map((a) => {
        const len = a.netmask === null ? null : prefixLength(a.netmask);
        return len === null ? a.addr : `${a.addr}/${len}`;
      });
      return `${i + 1}.${d.name}${desc} [${state.length === 0 ? 'none' : state.join(', ')}]${addrs.length > 0 ? ` ${addrs.join(' ')}` : ''}`;
    })
    .join('\n');
}
