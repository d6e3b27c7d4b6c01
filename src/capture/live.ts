// The live PacketSource (owner: live capture): libpcap through `cap`, frames stamped on
// arrival (clock 'wall'), capture health from the kernel's interface counters because cap
// has no pcap_stats. The per-packet path is cap's emit(): it allocates nothing.

import { existsSync, readdirSync } from 'node:fs';
import { AnalyzerError, CaptureError } from '../errors.js';
import { capBuildAborts, linktypeFromCapName, loadCap, type CapHandle, type CapModule } from './cap.js';
import { defaultDevice, findDevice, listDevices, type DeviceInfo } from './devices.js';
import type { Frame, FrameHandler, PacketSource, SourceEnd, SourceEndReason, SourceStats } from './frame.js';
import { createFrame } from './frame.js';
import {
  framesSeen,
  IFF,
  readIfaceCounters,
  readIfaceFlags,
  readOffloads,
  realNetFs,
  sysfsIsOurs,
  type IfaceCounters,
  type NetFs,
} from './iface-counters.js';
import { realCapturePoll, type CapturePoll } from './poll-watch.js';
import { dropPrivileges, type DroppedTo } from './privileges.js';

/** cap sets libpcap's snapshot length to 65535 and cannot change it (native-notes/cap-api.md). */
export const CAP_SNAPLEN = 65535;
/** Kernel ring size: ~0.6 s of 100k pps of 1500-byte frames, so bursts and GC pauses fit. */
export const DEFAULT_BUFFER_SIZE = 64 * 1024 * 1024;
/** How often interface counters are sampled and the interface's state is checked. */
export const DEFAULT_MONITOR_MS = 500;
/** Ring of the throwaway handle that checks a BPF filter before the real open. */
const FILTER_CHECK_BUFFER = 256 * 1024;
/** Samples that look for the epoll watching the capture socket before giving up on it. */
const POLL_SEARCHES = 10;
/** The longest delay Node's timers take. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LiveOptions {
  /** Interface to open; default: the first one that is up and not loopback. */
  device?: string | undefined;
  /** BPF filter expression ('' or absent: everything). */
  filter?: string | undefined;
  /** Bytes kept per frame, 1..65535 (default 65535). Longer frames are cut and counted. */
  snaplen?: number | undefined;
  /** Kernel buffer (TPACKET ring) in bytes. */
  bufferSize?: number | undefined;
  /** Stop after this many frames (reason 'count'). */
  count?: number | undefined;
  /** Stop after this many milliseconds of capture (reason 'duration'). */
  durationMs?: number | undefined;
  /** Become this user right after the interface is open (needs root). */
  user?: string | undefined;
  /** Interval of counter samples and interface checks (tests shorten it). */
  monitorMs?: number | undefined;
}

/** Everything the source takes from the OS, so tests can replace it (bandwhich-style fakes). */
export interface LiveOs {
  loadCap(): CapModule;
  fs: NetFs;
  dropPrivileges(name: string): DroppedTo;
  /** Arrival time of a frame, epoch milliseconds. */
  nowMs(): number;
  /** Offloads on for an interface (ethtool -k), null when unknown. */
  offloads(iface: string): string[] | null;
  /** Whether the event loop still polls the capture socket; absent: not checked. */
  capturePoll?: CapturePoll;
}

export const realLiveOs: LiveOs = {
  loadCap,
  fs: realNetFs,
  dropPrivileges,
  nowMs: Date.now,
  offloads: readOffloads,
  capturePoll: realCapturePoll,
};

/** What open() found and did; the CLI prints parts of it. */
export interface LiveOpenInfo {
  device: string;
  /** LINKTYPE_* of the interface, and cap's own name for it. */
  linktype: number;
  linktypeName: string;
  snaplen: number;
  bufferSize: number;
  filter: string;
  /** Set when --user dropped root. */
  droppedTo: DroppedTo | null;
  /** Whether loss can be estimated (no filter, interface counters readable). */
  estimatesLoss: boolean;
  /** False when libpcap.so (libpcap-dev) is absent: cap then cannot turn immediate mode on. */
  immediateMode: boolean | null;
  /** True when this cap build aborts the process if the interface goes down. */
  capAbortsOnDeviceDown: boolean | null;
  /** Offloads on (tso, gso, gro, ...), null when unknown; see ringFrames. */
  offloads: string[] | null;
  /**
   * About how many frames the kernel ring holds. cap turns on immediate mode, so libpcap
   * uses TPACKET_V2 with fixed slots: 64 KiB each when offloads are on, MTU-sized otherwise.
   */
  ringFrames: number | null;
}

/**
 * Every cap handle ever made stays referenced until the process exits. Once closed (or after
 * a failed open) cap drops its own reference, and when the GC then collects the object its
 * C++ destructor runs Nan::AsyncResource's destructor inside a V8 weak callback, which
 * crashes Node 20 (SIGSEGV in AsyncWrap::EmitDestroy; seen here under load), or touches an
 * uninitialised uv_poll_t after a failed open. A handle costs a few hundred bytes once closed
 * (pcap_close frees the ring). Buffers given to cap.open() are kept too: cap keeps only a raw
 * pointer to them. See native-notes/cap-api.md.
 */
const retainedHandles: Array<CapHandle | Buffer> = [];

export class LiveSource implements PacketSource {
  readonly clock = 'wall' as const;

  private readonly os: LiveOs;
  private readonly opts: LiveOptions;
  private readonly frame: Frame = createFrame();
  private handle: CapHandle | null = null;
  private info: LiveOpenInfo | null = null;
  private device: DeviceInfo | null = null;
  private trustSysfs = false;

  // per-packet state (numbers only)
  private handler: FrameHandler | null = null;
  private delivered = 0;
  private truncated = 0;
  private countLimit = -1;

  // lifecycle
  private ended = false;
  private resolveEnd: ((end: SourceEnd) => void) | null = null;
  private rejectEnd: ((e: unknown) => void) | null = null;
  private monitor: NodeJS.Timeout | null = null;
  private durationTimer: NodeJS.Timeout | null = null;

  // loss estimate: interface counters at start, previous raw difference, current estimate
  private base: IfaceCounters | null = null;
  /** The last counters read: they only grow while the interface lives. */
  private last: IfaceCounters | null = null;
  /** The interface's index at open (sysfs, when it is ours): a new interface of the same
   *  name has another, and the capture socket stays bound to the old one. */
  private ifindex: string | null = null;
  private prevRaw = 0;
  private estimate: number | null = null;

  // the capture socket's fd (the packet socket open() made), and the epoll fds seen
  // watching it: once seen, losing them means libuv stopped polling it (see poll-watch.ts)
  private pollFd: number | null = null;
  private pollEpolls: number[] = [];
  private pollSearches = 0;

  constructor(opts: LiveOptions = {}, os: LiveOs = realLiveOs) {
    this.opts = opts;
    this.os = os;
  }

  get description(): string {
    return `live ${this.info?.device ?? this.opts.device ?? '(default interface)'}`;
  }

  /** Details of the open capture (null before open()). */
  get openInfo(): LiveOpenInfo | null {
    return this.info;
  }

  /**
   * Open the interface (and drop privileges when asked). Throws CaptureError: the CLI calls
   * this before anything is printed, so a failure is one line and nothing else. Frames that
   * arrive between open() and start() are not counted.
   */
  open(): LiveOpenInfo {
    if (this.info !== null) return this.info;
    const snaplen = this.opts.snaplen ?? CAP_SNAPLEN;
    const bufferSize = this.opts.bufferSize ?? DEFAULT_BUFFER_SIZE;
    const filter = this.opts.filter ?? '';
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > CAP_SNAPLEN) {
      throw new AnalyzerError('ERR_BAD_OPTION', `snapshot length must be an integer from 1 to ${CAP_SNAPLEN} (cap's fixed maximum)`);
    }
    if (!Number.isInteger(bufferSize) || bufferSize < 65536 || bufferSize > 2 ** 31 - 1) {
      throw new AnalyzerError('ERR_BAD_OPTION', 'buffer size must be from 64 KiB to 2 GiB');
    }
    const cap = this.os.loadCap();
    const devices = listDevices(cap, this.os.fs);
    const dev = this.opts.device === undefined ? defaultDevice(devices) : resolveDevice(devices, this.opts.device);

    if (filter !== '') {
      // A rejected filter leaks the handle (cap opens the socket before compiling the
      // filter and cannot be closed safely after), so try it on a small throwaway ring.
      const probe = new cap.Cap();
      const probeBuffer = Buffer.alloc(64);
      retainedHandles.push(probe, probeBuffer);
      try {
        probe.open(dev.name, filter, FILTER_CHECK_BUFFER, probeBuffer);
      } catch (e) {
        const err = openError(e, dev.name, filter);
        // libpcap words its filter errors many ways ("unknown ip proto 'foo'", "mask length
        // must be <= 32", "VLAN tag 5000 greater than maximum 4095", ...): if the interface
        // opens without the filter, it was the filter.
        // The failed probe cannot be closed (see above): on a netfilter device it keeps its
        // NFLOG group or NFQUEUE queue, which the kernel gives to one socket only, so the
        // bare open then finds it taken; the probe got that far, so the filter was at fault.
        if (err.code === 'ERR_CAPTURE_FAILED') {
          const bare = bareOpenError(cap, dev.name);
          if (bare === null || (groupTaken(bare) && !groupTaken(e))) throw badFilter(e, dev.name, filter);
        }
        throw err;
      }
      probe.close();
    }

    // cap keeps only a raw pointer to this buffer and copies every frame into it: it must
    // outlive the handle. frame.bytes holds it, and the handle (retained forever) holds this.
    const buffer = Buffer.alloc(snaplen);
    retainedHandles.push(buffer);
    const handle = this.makeHandle(cap);
    const socketsBefore = this.os.capturePoll?.packetSocketFds() ?? null;
    let linkName: string;
    try {
      linkName = handle.open(dev.name, filter, bufferSize, buffer);
    } catch (e) {
      throw openError(e, dev.name, filter);
    }
    const socketsAfter = socketsBefore === null ? null : (this.os.capturePoll?.packetSocketFds() ?? null);
    const fresh = socketsAfter?.filter((fd) => !(socketsBefore ?? []).includes(fd)) ?? [];
    // one new packet socket: libpcap's (a netfilter device has none, and is not checked)
    this.pollFd = fresh.length === 1 ? (fresh[0] ?? null) : null;
    this.handle = handle;
    this.device = dev;
    const linktype = linktypeFromCapName(linkName);
    if (linktype === null) {
      this.closeHandle();
      throw new CaptureError('ERR_CAPTURE_FAILED', `libpcap reported a link type netpulse cannot name: ${linkName}`, {
        subject: dev.name,
      });
    }
    this.frame.linktype = linktype;
    this.frame.bytes = buffer;
    this.frame.offset = 0;
    this.frame.iface = 0;

    let droppedTo: DroppedTo | null = null;
    if (this.opts.user !== undefined) {
      try {
        droppedTo = this.os.dropPrivileges(this.opts.user);
      } catch (e) {
        this.closeHandle();
        throw e;
      }
    }

    this.trustSysfs = dev.netdev && sysfsIsOurs(this.os.fs);
    const estimatesLoss = filter === '' && dev.netdev && readIfaceCounters(dev.name, this.os.fs) !== null;
    const offloads = dev.netdev ? this.os.offloads(dev.name) : null;
    const mtu = this.trustSysfs ? Number(this.os.fs.sysfsFile(dev.name, 'mtu') ?? NaN) : NaN;
    this.info = {
      device: dev.name,
      linktype,
      linktypeName: linkName,
      snaplen,
      bufferSize,
      filter,
      droppedTo,
      estimatesLoss,
      immediateMode: libpcapDevLinkPresent(),
      capAbortsOnDeviceDown: capBuildAborts(),
      offloads,
      ringFrames: ringFrames(bufferSize, snaplen, offloads, mtu),
    };
    return this.info;
  }

  /** A cap handle whose emit() is our packet path: cap looks emit up once, in its constructor. */
  private makeHandle(cap: CapModule): CapHandle {
    // the native side calls emit() with the handle as `this`, so the source is captured once here
    const source = this;
    class LiveCap extends cap.Cap {
      override emit(type: string, nbytes: number, truncated: boolean): boolean {
        if (type === 'packet') source.onPacket(nbytes, truncated);
        return true;
      }
    }
    const handle = new LiveCap();
    retainedHandles.push(handle);
    return handle;
  }

  /** THE HOT PATH: one call per frame from cap's uv_poll callback. No allocation. */
  private onPacket(nbytes: number, truncated: boolean): void {
    const h = this.handler;
    if (h === null || this.ended) return;
    const f = this.frame;
    f.tsMicros = this.os.nowMs() * 1000;
    f.caplen = nbytes;
    // cap reports only the captured length; with the full snapshot length it is the wire
    // length. A frame cut by a smaller --snaplen is counted at its cut length (README).
    f.wirelen = nbytes;
    f.cut = truncated;
    if (truncated) this.truncated++;
    this.delivered++;
    try {
      h(f);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (this.delivered === this.countLimit) this.finish('count');
  }

  start(onFrame: FrameHandler): Promise<SourceEnd> {
    if (this.handler !== null || this.resolveEnd !== null) {
      return Promise.reject(new Error('LiveSource.start() called twice'));
    }
    return new Promise<SourceEnd>((resolve, reject) => {
      this.resolveEnd = resolve;
      this.rejectEnd = reject;
      if (this.ended) {
        // stop() came before start()
        this.resolveEnd = null;
        this.rejectEnd = null;
        resolve({ reason: 'stopped' });
        return;
      }
      try {
        this.open();
      } catch (e) {
        if (e instanceof AnalyzerError) this.finish('error', e);
        else this.fail(e);
        return;
      }
      const count = this.opts.count;
      this.countLimit = count !== undefined && count > 0 ? count : -1;
      this.base = this.info?.estimatesLoss === true && this.device !== null ? readIfaceCounters(this.device.name, this.os.fs) : null;
      this.last = this.device !== null && this.device.netdev ? readIfaceCounters(this.device.name, this.os.fs) : null;
      this.ifindex = this.trustSysfs && this.device !== null ? (this.os.fs.sysfsFile(this.device.name, 'ifindex')?.trim() ?? null) : null;
      this.estimate = this.base === null ? null : 0;
      this.handler = onFrame;
      // This interval also keeps the event loop alive if libuv stops cap's poll handle.
      this.monitor = setInterval(() => this.tick(), this.opts.monitorMs ?? DEFAULT_MONITOR_MS);
      const ms = this.opts.durationMs;
      if (ms !== undefined && ms > 0) this.armDuration(performance.now() + ms);
    });
  }

  stop(): void {
    this.finish('stopped');
  }

  /** Ends the capture at `deadline` (performance.now() ms). Node's timers take at most
   *  2^31 - 1 ms (24.8 days; longer ones fire at once), so a long --duration is re-armed. */
  private armDuration(deadline: number): void {
    const left = deadline - performance.now();
    if (left <= 0) {
      this.finish('duration');
      return;
    }
    this.durationTimer = setTimeout(() => this.armDuration(deadline), Math.min(Math.ceil(left), MAX_TIMER_MS));
  }

  stats(): SourceStats {
    return {
      packets: this.delivered,
      bytesRead: 0,
      bytesTotal: null,
      rawBytesRead: 0,
      dropped: null, // cap has no pcap_stats(): kernel drops are unknown, never 0
      droppedEstimate: this.estimate,
      readerAnomalies: this.truncated > 0 ? { snaplen_truncated: this.truncated } : {},
    };
  }

  /** Sample the interface: update the loss estimate, notice the interface going away. */
  private tick(): void {
    if (this.ended || this.device === null || !this.device.netdev) return;
    const name = this.device.name;
    const now = readIfaceCounters(name, this.os.fs);
    if (now === null) {
      this.finish('error', deviceDown(name, 'disappeared', 'create it again or pick another interface (netpulse devices), and start netpulse again'));
      return;
    }
    // Deleted and created again under the same name between two samples: libpcap's socket
    // is still bound to the old interface and would capture nothing from now on, silently
    // (tcpdump stops with "The interface disappeared"). A new index says so; where sysfs is
    // not ours, counters going backwards do (they only grow while an interface lives).
    const last = this.last;
    const index = this.trustSysfs ? this.os.fs.sysfsFile(name, 'ifindex') : null;
    if (
      (this.ifindex !== null && index !== null && index.trim() !== this.ifindex) ||
      (last !== null && (wentBack(last.rxPackets, now.rxPackets) || wentBack(last.txPackets, now.txPackets)))
    ) {
      this.finish('error', deviceDown(name, 'was deleted and created again'));
      return;
    }
    this.last = now;
    if (this.trustSysfs) {
      const flags = readIfaceFlags(name, this.os.fs);
      if (flags !== null && (flags & IFF.UP) === 0) {
        this.finish('error', deviceDown(name, 'went down'));
        return;
      }
    }
    if (this.pollStopped()) {
      // down and up again between two samples (or down where /sys is not ours): the socket
      // got ENETDOWN, libuv stopped polling it, and nothing would be captured from now on
      this.finish('error', deviceDown(name, 'went down (if only for a moment)', 'libpcap\'s socket stops delivering then, so nothing more would be captured; start netpulse again'));
      return;
    }
    this.sample(now, false);
  }

  /** True once the epoll that watched the capture socket no longer does. */
  private pollStopped(): boolean {
    const poll = this.os.capturePoll;
    if (poll === undefined || this.pollFd === null) return false;
    const watching = poll.epollsWatching(this.pollFd, this.pollEpolls);
    if (watching === null) return false;
    if (watching.length > 0) {
      // the loop adds the socket to its epoll on its next turn after open(): known from then
      this.pollEpolls = watching;
      return false;
    }
    if (this.pollEpolls.length > 0) return true;
    // never seen watched (found by listing every fd, so not for long): not checked
    if (++this.pollSearches >= POLL_SEARCHES) this.pollFd = null;
    return false;
  }

  /**
   * Loss estimate = frames the interface counted minus frames we captured. Frames still
   * queued in the kernel ring look lost for a moment, so between samples we report the
   * smaller of the last two differences (real loss never shrinks, a passing backlog does),
   * and never less than before, so /metrics can expose it as a counter. Only a backlog that
   * lasts more than one sample can inflate it. The final sample (at the end) is taken as
   * is: exact once the ring has drained, and what was still queued then was never analysed.
   */
  private sample(now: IfaceCounters, final: boolean): void {
    if (this.base === null || this.device === null) return;
    const raw = Math.max(0, framesSeen(this.base, now, this.device.loopback) - this.delivered);
    this.estimate = final ? raw : Math.max(this.estimate ?? 0, Math.min(this.prevRaw, raw));
    this.prevRaw = raw;
  }

  private finish(reason: SourceEndReason, error?: AnalyzerError): void {
    if (this.ended) return;
    this.ended = true;
    if (this.monitor !== null) clearInterval(this.monitor);
    if (this.durationTimer !== null) clearTimeout(this.durationTimer);
    this.monitor = null;
    this.durationTimer = null;
    if (this.base !== null && this.device !== null) {
      const now = readIfaceCounters(this.device.name, this.os.fs);
      if (now !== null) this.sample(now, reason !== 'count');
      else if (reason === 'count') this.estimate = Math.min(this.prevRaw, this.estimate ?? 0);
    }
    this.closeHandle();
    const resolve = this.resolveEnd;
    this.resolveEnd = null;
    this.rejectEnd = null;
    resolve?.(error === undefined ? { reason } : { reason, error });
  }

  /** A bug downstream (the frame handler threw): stop capturing and reject start(). */
  private fail(e: unknown): void {
    const reject = this.rejectEnd;
    this.rejectEnd = null;
    this.resolveEnd = null;
    this.finish('error');
    reject?.(e);
  }

  private closeHandle(): void {
    const h = this.handle;
    this.handle = null;
    // Safe inside emit(): cap defers pcap_close until its dispatch loop returns.
    h?.close();
  }
}

/**
 * Slots of libpcap's TPACKET_V2 ring (pcap-linux.c create_ring): a slot holds the frame
 * header (tpacket2_hdr + sockaddr_ll, 52 bytes, aligned) plus the largest frame, which is
 * cap's fixed 65535 unless the interface is Ethernet without offloads (then MTU + 18).
 */
export function ringFrames(bufferSize: number, _snaplen: number, offloads: string[] | null, mtu: number): number | null {
  if (offloads === null) return null;
  const largest = offloads.length > 0 || !Number.isFinite(mtu) ? CAP_SNAPLEN : Math.min(CAP_SNAPLEN, mtu + 18);
  const slot = align16(align16(52) + 16 + largest); // + room for a VLAN tag libpcap re-inserts
  return Math.floor(bufferSize / slot);
}

function align16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * The device called `name`. libpcap lists the netfilter devices once, as `nflog` and
 * `nfqueue` (group 0), but opens any group as `nflog:N` / `nfqueue:N`, N = 0..65535
 * (pcap-netfilter-linux.c), as tcpdump -i nflog:N does: such a name is the listed device
 * with its group. Anything else not listed is ERR_NO_DEVICE, listing the devices.
 */
export function resolveDevice(devices: readonly DeviceInfo[], name: string): DeviceInfo {
  const m = /^(nflog|nfqueue):(\d{1,5})$/.exec(name);
  if (m?.[1] !== undefined && Number(m[2]) <= 65535) {
    const base = devices.find((d) => d.name === m[1]);
    if (base !== undefined) return { ...base, name };
  }
  return findDevice(devices, name);
}

/** Map cap's open() failures (libpcap's messages) to stable codes and one-line fixes. */
export function openError(e: unknown, device: string, filter: string): CaptureError {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  const detail = { subject: device, cause: e };
  if (/can't parse filter expression|syntax error|illegal|unknown (host|port|proto)|not a valid|expression rejects/i.test(msg)) {
    return badFilter(e, device, filter);
  }
  // The kernel lets one socket listen on an NFLOG group: binding a taken group fails with
  // EPERM. Without CAP_NET_ADMIN libpcap fails earlier (NFULNL_CFG_CMD_PF_UNBIND), so this
  // message means the privilege was there and the group is taken.
  if (GROUP_TAKEN.test(msg)) {
    const fix = device.startsWith('nfqueue')
      ? 'stop it, or queue to another number and capture nfqueue:M'
      : 'stop it, or log to a second group as well (nft: log group M; iptables: -j NFLOG --nflog-group M) and capture nflog:M';
    const what = device.startsWith('nfqueue') ? 'NFQUEUE queue' : 'NFLOG group';
    return new CaptureError(
      'ERR_CAPTURE_FAILED',
      `the ${what} already has a listener (${msg}; the kernel allows one: tcpdump, ulogd or another netpulse): ${fix}`,
      detail,
    );
  }
  if (/permission|not permitted|EPERM|EACCES|don't have permission/i.test(msg)) {
    return new CaptureError(
      'ERR_CAPTURE_PERMISSION',
      `capturing needs root or CAP_NET_RAW+CAP_NET_ADMIN (${msg}): run as root (add --user NAME to drop root once the interface is open), or under systemd with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN; do not setcap the node binary`,
      detail,
    );
  }
  if (/no such device|doesn't exist|does not exist/i.test(msg)) {
    return new CaptureError('ERR_NO_DEVICE', `no such interface (${msg}); see netpulse devices`, detail);
  }
  if (/not up/i.test(msg)) {
    return new CaptureError('ERR_DEVICE_DOWN', `the interface is down (${msg}): bring it up (ip link set ${device} up) or pick another with -i`, detail);
  }
  return new CaptureError('ERR_CAPTURE_FAILED', `libpcap could not open the interface: ${msg}`, detail);
}

/** A counter that went back: not a 32-bit wrap (some drivers' counters wrap at 2^32). */
function wentBack(before: number, after: number): boolean {
  return after < before && before < 2 ** 32 - 2 ** 30;
}

function badFilter(e: unknown, device: string, filter: string): CaptureError {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  return new CaptureError('ERR_BAD_FILTER', `libpcap rejected the filter "${filter}": ${msg}`, { subject: device, cause: e });
}

/** Why the interface does not open with no filter, or null when it does (a throwaway
 *  handle, kept like every other). */
function bareOpenError(cap: CapModule, device: string): unknown {
  const probe = new cap.Cap();
  const buffer = Buffer.alloc(64);
  retainedHandles.push(probe, buffer);
  try {
    probe.open(device, '', FILTER_CHECK_BUFFER, buffer);
  } catch (e) {
    return e ?? new Error('open failed');
  }
  probe.close();
  return null;
}

/** libpcap's words when an NFLOG group or NFQUEUE queue already has a listener. */
const GROUP_TAKEN = /Can't listen on group index/i;

function groupTaken(e: unknown): boolean {
  return GROUP_TAKEN.test(e instanceof Error ? e.message : String(e));
}

function deviceDown(device: string, what: string, fix = `bring it back (ip link set ${device} up) and start netpulse again`): CaptureError {
  return new CaptureError('ERR_DEVICE_DOWN', `the interface ${what} during the capture; ${fix}`, { subject: device });
}

/**
 * cap turns on immediate mode through dlopen("libpcap.so"), a name only libpcap-dev
 * installs; without it frames wait in the kernel for up to cap's 1 s read timeout and are
 * stamped late. Null when unknown (not Linux).
 */
export function libpcapDevLinkPresent(): boolean | null {
  if (process.platform !== 'linux') return null;
  const dirs = ['/lib', '/usr/lib', '/usr/local/lib', '/lib64', '/usr/lib64'];
  for (const d of ['/lib', '/usr/lib']) {
    try {
      for (const sub of readdirSync(d)) if (sub.endsWith('-linux-gnu') || sub.endsWith('-linux-musl')) dirs.push(`${d}/${sub}`);
    } catch {
      // absent
    }
  }
  return dirs.some((d) => existsSync(`${d}/libpcap.so`));
}
