// The npm `cap` binding, typed and loaded lazily (owner: live capture). Replay must work
// where cap was never built, so nothing imports cap statically; every failure to load it
// becomes ERR_CAP_UNAVAILABLE with the fix in one line. See native-notes/ for what cap can
// and cannot do.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CaptureError } from '../errors.js';

/** One address of a device, as cap's deviceList() reports it (strings from inet_ntop). */
export interface CapAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

/** One entry of pcap_findalldevs(); cap keeps only the loopback flag. */
export interface CapDevice {
  name: string;
  description?: string;
  addresses: CapAddress[];
  flags?: string;
}

/** A pcap handle. open() returns a link-type NAME ("ETHERNET", "Unknown linktype 239", ...). */
export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  /** cap reads this once, in its constructor, and calls it for every packet. */
  emit(type: string, nbytes: number, truncated: boolean): unknown;
}

export interface CapConstructor {
  new (): CapHandle;
  deviceList(): CapDevice[];
}

export interface CapModule {
  Cap: CapConstructor;
}

/** The fixes printed with ERR_CAP_UNAVAILABLE (README "Live capture", native-notes/building.md). */
export const CAP_FIX = 'install the libpcap headers and rebuild it: apt-get install libpcap-dev && npm run build:cap (where netpulse is installed as a package: npm rebuild netpulse)';
/** npm removes an optional dependency whose build failed, so then it must be installed again. */
export const CAP_FIX_INSTALL =
  'install the libpcap headers, then install netpulse again: apt-get install libpcap-dev && npm ci (in a checkout; npm install -g netpulse when installed globally)';

let cached: CapModule | undefined;

/** Load cap once; throws ERR_CAP_UNAVAILABLE saying why and how to fix it. */
export function loadCap(): CapModule {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  let mod: unknown;
  try {
    mod = require('cap');
  } catch (e) {
    throw capUnavailable(e);
  }
  if (!isCapModule(mod)) {
    throw new CaptureError('ERR_CAP_UNAVAILABLE', `the "cap" module found does not look like cap 0.2: ${CAP_FIX}`);
  }
  cached = mod;
  return mod;
}

function isCapModule(m: unknown): m is CapModule {
  if (typeof m !== 'object' || m === null || !('Cap' in m)) return false;
  const C: unknown = m.Cap;
  return typeof C === 'function' && 'deviceList' in C && typeof C.deviceList === 'function';
}

/** Turn a require() failure into one line that says which piece is missing. */
export function capUnavailable(e: unknown): CaptureError {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0] ?? '';
  let why: string;
  let fix = CAP_FIX;
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/.test(msg)) {
    why = 'the "cap" module was built for another Node.js version';
  } else if (/Cannot find module 'cap'/.test(first)) {
    why = 'packet capture needs the optional module "cap", which is not installed (npm skips it when it cannot be built)';
    fix = CAP_FIX_INSTALL;
  } else if (/cap\.node/.test(first)) {
    why = 'the "cap" module is installed but its native part was never built';
  } else if (/libpcap\.so/.test(first)) {
    why = `the "cap" module cannot load libpcap (${first.replace(/^.*?(libpcap\.so[^:]*).*$/, '$1')} missing)`;
  } else {
    why = `the "cap" module does not load (${first})`;
  }
  return new CaptureError('ERR_CAP_UNAVAILABLE', `${why}: ${fix}`, { cause: e });
}

/**
 * Whether the loaded cap.node still contains its `assert(status == 0)`: such a build aborts
 * the whole process when the interface goes down mid-capture (mscdex/cap#82). The build made
 * by `npm run build:cap` defines NDEBUG, so libuv's poll error just stops the capture and
 * the live source reports ERR_DEVICE_DOWN. Null when the file cannot be read.
 */
export function capBuildAborts(): boolean | null {
  try {
    const require = createRequire(import.meta.url);
    const file = require.resolve('cap/build/Release/cap.node');
    return readFileSync(file).includes('status == 0');
  } catch {
    return null;
  }
}

/** Link-type names cap returns from open(), as LINKTYPE_* numbers (tcpdump.org linktypes). */
const LINKTYPE_BY_NAME: Readonly<Record<string, number>> = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101, // DLT_RAW is 12 (or 14) by platform; the file and decode value is LINKTYPE_RAW
  IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
};

/** DLT values that differ from their LINKTYPE value (pcap-common.c); the rest are equal. */
const LINKTYPE_BY_DLT: Readonly<Record<number, number>> = {
  12: 101, // DLT_RAW (most platforms)
  14: 101, // DLT_RAW (OpenBSD)
  15: 102, // DLT_SLIP_BSDOS
  16: 103, // DLT_PPP_BSDOS
  17: 117, // DLT_PFLOG (OpenBSD)
  18: 106, // DLT_ATM_CLIP (Linux)
  19: 106, // DLT_ATM_CLIP (others)
};

/** LINKTYPE_* for cap's name of the link type, or null when cap gave something unknown. */
export function linktypeFromCapName(name: string): number | null {
  const known = LINKTYPE_BY_NAME[name];
  if (known !== undefined) return known;
  const m = /^Unknown linktype (\d+)$/.exec(name);
  if (m === null || m[1] === undefined) return null;
  const dlt = Number(m[1]);
  return LINKTYPE_BY_DLT[dlt] ?? dlt;
}
