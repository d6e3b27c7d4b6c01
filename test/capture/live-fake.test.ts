// LiveSource logic with the OS replaced by fakes (owner: live capture): the per-packet path
// allocates nothing, count/stop/duration/errors end the capture once, and the loss
// estimate follows the kernel counters without counting a passing backlog. No root needed.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CapDevice, CapModule } from '../../src/capture/cap.js';
import type { NetFs } from '../../src/capture/iface-counters.js';
import { LiveSource, openError, type LiveOs } from '../../src/capture/live.js';
import type { Frame } from '../../src/capture/frame.js';
import { CaptureError } from '../../src/errors.js';

interface FakeWorld {
  os: LiveOs;
  /** What cap's native dispatch loop does: copy a frame into the buffer, call emit. */
  deliver(bytes: Uint8Array): void;
  handles: FakeHandle[];
  counters: { rx: number; tx: number };
  flags: number;
  present: boolean;
  openError: Error | null;
  /** When set, only opens with a filter fail, with this error (a filter libpcap rejects). */
  filterError: Error | null;
  ifindex: number;
  linkName: string;
  now: number;
}

interface FakeHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  emit(type: string, nbytes: number, truncated: boolean): unknown;
  buffer: Buffer | null;
  closed: boolean;
  filter: string;
}

function fakeWorld(devices: CapDevice[] = [{ name: 'eth9', addresses: [] }]): FakeWorld {
  const w: FakeWorld = {
    handles: [],
    counters: { rx: 1000, tx: 500 },
    flags: 0x1043,
    present: true,
    openError: null,
    filterError: null,
    ifindex: 7,
    linkName: 'ETHERNET',
    now: 1_700_000_000_000,
    deliver(bytes) {
      const h = w.handles.at(-1);
      if (h?.buffer == null || h.closed) throw new Error('no open handle');
      const n = Math.min(bytes.length, h.buffer.length);
      h.buffer.set(bytes.subarray(0, n));
      h.emit('packet', n, n < bytes.length);
    },
    os: undefined as unknown as LiveOs,
  };
  class FakeCap implements FakeHandle {
    buffer: Buffer | null = null;
    closed = false;
    filter = '';
    constructor() {
      w.handles.push(this);
    }
    static deviceList(): CapDevice[] {
      return devices;
    }
    open(_device: string, filter: string, _bufSize: number, buffer: Buffer): string {
      if (w.openError !== null) throw w.openError;
      if (w.filterError !== null && filter !== '') throw w.filterError;
      this.buffer = buffer;
      this.filter = filter;
      return w.linkName;
    }
    close(): boolean {
      this.closed = true;
      return true;
    }
    emit(): unknown {
      return false;
    }
  }
  const fs: NetFs = {
    procNetDev: () =>
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n' +
      (w.present
        ? `  eth9: 9999 ${w.counters.rx}    0    0    0     0          0         0     8888 ${w.counters.tx}    0    0    0     0       0          0\n`
        : ''),
    sysfsNames: () => (w.present ? ['lo', 'eth9'] : ['lo']),
    sysfsFile: (iface, file) =>
      file === 'flags' ? (iface === 'lo' ? '0x9\n' : `0x${w.flags.toString(16)}\n`) : file === 'ifindex' ? `${iface === 'lo' ? 1 : w.ifindex}\n` : null,
  };
  w.os = {
    loadCap: () => ({ Cap: FakeCap }) as unknown as CapModule,
    fs,
    dropPrivileges: () => {
      throw new Error('not in fakes');
    },
    nowMs: () => w.now,
    offloads: () => null,
  };
  return w;
}

const FRAME = new Uint8Array(60).fill(7);

describe('LiveSource with a fake cap', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out one reused frame stamped on arrival, with the link type cap named', async () => {
    const w = fakeWorld();
    w.linkName = 'LINKTYPE_LINUX_SLL';
    const src = new LiveSource({ device: 'eth9' }, w.os);
    expect(src.open().linktype).toBe(113);
    const seen: Array<[number, number, number, number]> = [];
    const frames = new Set<Frame>();
    const done = src.start((f) => {
      frames.add(f);
      seen.push([f.tsMicros, f.caplen, f.wirelen, f.bytes[f.offset] ?? -1]);
    });
    w.deliver(FRAME);
    w.now += 1;
    w.deliver(new Uint8Array(1514).fill(9));
    src.stop();
    expect(await done).toEqual({ reason: 'stopped' });
    expect(seen).toEqual([
      [1_700_000_000_000_000, 60, 60, 7],
      [1_700_000_000_001_000, 1514, 1514, 9],
    ]);
    expect(frames.size).toBe(1);
    expect(w.handles.at(-1)?.closed).toBe(true);
    expect(src.description).toBe('live eth9');
  });

  it('allocates nothing per packet on the cap emit path', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9' }, w.os);
    src.open();
    let n = 0;
    const done = src.start((f) => {
      n += f.caplen;
    });
    const h = w.handles.at(-1);
    if (h === undefined) throw new Error('no handle');
    const warm = (k: number): void => {
      for (let i = 0; i < k; i++) h.emit('packet', 60, false);
    };
    warm(200_000); // let the optimizer settle first
    const gcs: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push(e.startTime);
    });
    obs.observe({ entryTypes: ['gc'] });
    const t0 = performance.now();
    warm(2_000_000); // 16 bytes per packet would be 32 MB: several scavenges
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    src.stop();
    await done;
    expect(n).toBe(60 * 2_200_000);
    expect(gcs.filter((t) => t >= t0 && t <= t1)).toEqual([]);
  });

  it('stops after count frames and ignores later ones', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', count: 3 }, w.os);
    let n = 0;
    const done = src.start(() => {
      n++;
    });
    for (let i = 0; i < 3; i++) w.deliver(FRAME);
    expect(await done).toEqual({ reason: 'count' });
    w.handles.at(-1)?.emit('packet', 60, false); // cap may still be inside its dispatch loop
    expect(n).toBe(3);
    expect(src.stats().packets).toBe(3);
  });

  it('ends on its own after the duration', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', durationMs: 30 }, w.os);
    expect(await src.start(() => undefined)).toEqual({ reason: 'duration' });
  });

  it('keeps capturing for a duration longer than a Node timer takes (2^31 ms, 24.8 days)', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', durationMs: 30 * 86_400_000 }, w.os);
    let end: unknown = null;
    const done = src.start(() => undefined).then((e) => (end = e));
    await new Promise((r) => setTimeout(r, 50));
    expect(end).toBeNull();
    src.stop();
    expect(await done).toEqual({ reason: 'stopped' });
  });

  it('resolves stopped when stop() comes before start()', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9' }, w.os);
    src.stop();
    expect(await src.start(() => undefined)).toEqual({ reason: 'stopped' });
  });

  it('turns open failures into an error end, not a rejection', async () => {
    const w = fakeWorld();
    w.openError = new Error('socket: Operation not permitted');
    const end = await new LiveSource({ device: 'eth9' }, w.os).start(() => undefined);
    expect(end.reason).toBe('error');
    expect(end.error?.code).toBe('ERR_CAPTURE_PERMISSION');
  });

  it('rejects start() when the frame handler throws (a bug, not an input fault) and closes cap', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9' }, w.os);
    const done = src.start(() => {
      throw new TypeError('boom');
    });
    w.deliver(FRAME);
    await expect(done).rejects.toThrow('boom');
    expect(w.handles.at(-1)?.closed).toBe(true);
  });

  it('counts frames cut by a smaller snapshot length', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', snaplen: 100 }, w.os);
    const lens: number[] = [];
    const done = src.start((f) => lens.push(f.caplen));
    w.deliver(FRAME);
    w.deliver(new Uint8Array(1000));
    src.stop();
    await done;
    expect(lens).toEqual([60, 100]);
    expect(src.stats().readerAnomalies).toEqual({ snaplen_truncated: 1 });
  });

  it('estimates loss from interface counters, ignoring a backlog that clears', async () => {
    vi.useFakeTimers();
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', monitorMs: 20 }, w.os);
    const done = src.start(() => undefined);
    const tick = async (): Promise<void> => {
      await vi.advanceTimersByTimeAsync(20); // one counter sample
    };
    // 10 frames reach the interface (rx 6, tx 4), all captured
    w.counters.rx += 6;
    w.counters.tx += 4;
    for (let i = 0; i < 10; i++) w.deliver(FRAME);
    await tick();
    expect(src.stats().droppedEstimate).toBe(0);
    // 50 more arrive but are still queued in the kernel ring for one sample: not loss
    w.counters.rx += 50;
    await tick();
    expect(src.stats().droppedEstimate).toBe(0);
    for (let i = 0; i < 50; i++) w.deliver(FRAME);
    await tick();
    expect(src.stats().droppedEstimate).toBe(0);
    // 30 arrive and only 10 are ever captured: 20 lost, reported once it persists
    w.counters.rx += 30;
    for (let i = 0; i < 10; i++) w.deliver(FRAME);
    await tick();
    await tick();
    expect(src.stats().droppedEstimate).toBe(20);
    expect(src.stats().dropped).toBeNull();
    src.stop();
    vi.useRealTimers();
    await done;
    expect(src.stats().droppedEstimate).toBe(20);
  });

  it('never lowers the estimate while running (a counter for /metrics), and ends exact', async () => {
    vi.useFakeTimers();
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', monitorMs: 20 }, w.os);
    const done = src.start(() => undefined);
    // a backlog of 40 that lasts two samples looks like loss...
    w.counters.rx += 40;
    await vi.advanceTimersByTimeAsync(20);
    await vi.advanceTimersByTimeAsync(20);
    expect(src.stats().droppedEstimate).toBe(40);
    // ...and when it drains, the running estimate does not go down
    for (let i = 0; i < 40; i++) w.deliver(FRAME);
    await vi.advanceTimersByTimeAsync(20);
    expect(src.stats().droppedEstimate).toBe(40);
    src.stop();
    vi.useRealTimers();
    await done;
    expect(src.stats().droppedEstimate).toBe(0);
  });

  it('makes no estimate with a filter: the counters include what the filter rejected', async () => {
    const w = fakeWorld();
    const src = new LiveSource({ device: 'eth9', filter: 'tcp' }, w.os);
    const done = src.start(() => undefined);
    src.stop();
    await done;
    expect(src.openInfo?.estimatesLoss).toBe(false);
    expect(src.stats().droppedEstimate).toBeNull();
  });

  it('ends with ERR_DEVICE_DOWN when the interface loses IFF_UP or disappears', async () => {
    const w1 = fakeWorld();
    const a = new LiveSource({ device: 'eth9', monitorMs: 10 }, w1.os);
    const da = a.start(() => undefined);
    w1.flags &= ~0x1;
    const ea = await da;
    expect(ea.error?.code).toBe('ERR_DEVICE_DOWN');
    expect(ea.error?.oneLine()).toMatch(/^eth9: the interface went down/);

    const w2 = fakeWorld();
    const b = new LiveSource({ device: 'eth9', monitorMs: 10 }, w2.os);
    const db = b.start(() => undefined);
    w2.present = false;
    expect((await db).error?.code).toBe('ERR_DEVICE_DOWN');
  });

  it('ends with ERR_DEVICE_DOWN when the interface is deleted and created again under its name', async () => {
    // a new index (sysfs)
    const w1 = fakeWorld();
    const a = new LiveSource({ device: 'eth9', monitorMs: 10 }, w1.os);
    const da = a.start(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    w1.ifindex = 8;
    const ea = await da;
    expect(ea.error?.code).toBe('ERR_DEVICE_DOWN');
    expect(ea.error?.oneLine()).toMatch(/^eth9: the interface was deleted and created again during the capture/);
    // counters that went back (where sysfs is another namespace's, the index is unknown)
    const w2 = fakeWorld();
    const b = new LiveSource({ device: 'eth9', monitorMs: 10 }, w2.os);
    const db = b.start(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    w2.counters.rx = 3;
    expect((await db).error?.code).toBe('ERR_DEVICE_DOWN');
    // a 32-bit counter that wraps (some drivers) is not a new interface
    const w3 = fakeWorld();
    w3.counters.rx = 2 ** 32 - 10;
    const c = new LiveSource({ device: 'eth9', monitorMs: 10 }, w3.os);
    const dc = c.start(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    w3.counters.rx = 5;
    await new Promise((r) => setTimeout(r, 40));
    c.stop();
    expect(await dc).toEqual({ reason: 'stopped' });
  });

  it('says a filter libpcap rejects in any words is the filter (the interface opens without it)', () => {
    const w = fakeWorld();
    w.filterError = new Error('VLAN tag 5000 greater than maximum 4095');
    try {
      new LiveSource({ device: 'eth9', filter: 'vlan 5000' }, w.os).open();
      expect.unreachable();
    } catch (e) {
      expect((e as CaptureError).code).toBe('ERR_BAD_FILTER');
      expect((e as CaptureError).message).toBe('libpcap rejected the filter "vlan 5000": VLAN tag 5000 greater than maximum 4095');
    }
    // an interface that does not open at all is not the filter's fault
    const v = fakeWorld();
    v.openError = new Error('something else entirely');
    expect(() => new LiveSource({ device: 'eth9', filter: 'tcp' }, v.os).open()).toThrow(/could not open the interface/);
  });

  it('picks the first interface that is up and not loopback, and lists the real ones when asked for a missing one', () => {
    const w = fakeWorld([
      { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [] },
      { name: 'lo', addresses: [], flags: 'PCAP_IF_LOOPBACK' },
      { name: 'eth9', addresses: [] },
    ]);
    expect(new LiveSource({}, w.os).open().device).toBe('eth9');
    try {
      new LiveSource({ device: 'eth0' }, w.os).open();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CaptureError);
      expect((e as CaptureError).code).toBe('ERR_NO_DEVICE');
      expect((e as CaptureError).message).toContain('any, lo, eth9');
    }
  });

  it('rejects option values cap cannot honour', () => {
    const w = fakeWorld();
    expect(() => new LiveSource({ device: 'eth9', snaplen: 70000 }, w.os).open()).toThrow(/65535/);
    expect(() => new LiveSource({ device: 'eth9', bufferSize: 1000 }, w.os).open()).toThrow(/64 KiB/);
  });
});

describe('openError maps libpcap 1.10 messages to stable codes', () => {
  // the messages below are what cap threw here for each case (see test/capture/live.test.ts)
  const cases: Array<[string, string]> = [
    ['No such device exists', 'ERR_NO_DEVICE'],
    ["can't parse filter expression: syntax error", 'ERR_BAD_FILTER'],
    ['socket: Operation not permitted', 'ERR_CAPTURE_PERMISSION'],
    ["You don't have permission to capture on that device", 'ERR_CAPTURE_PERMISSION'],
    ['That device is not up', 'ERR_DEVICE_DOWN'],
    ['something else entirely', 'ERR_CAPTURE_FAILED'],
  ];
  it.each(cases)('%s -> %s', (msg, code) => {
    const e = openError(new Error(msg), 'eth9', 'tcp');
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(5);
    expect(e.oneLine()).not.toContain('\n');
  });
});
