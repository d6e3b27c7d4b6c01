// Interface counters and flags (owner: live capture): /proc/net/dev parsing checked against
// iproute2's JSON view of the same kernel counters, and the sysfs namespace guard.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { framesSeen, parseProcNetDev, readIfaceCounters, sysfsIsOurs, type NetFs } from '../../src/capture/iface-counters.js';

// The layout documented in the kernel's Documentation/filesystems/proc.rst (/proc/net/dev),
// including a name long enough to run into its first number.
const SAMPLE = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  908188   5596     0    0    0     0          0         0   908188    5596    0    0    0     0       0          0
  eth0:1375103  17405     0    0    0     0          0         0  1703981    5535    0    0    0     3       0          0
verylongname0:12 3 0 4 0 0 0 0 56 7 0 8 0 0 0 0
`;

describe('parseProcNetDev', () => {
  it('reads packets, bytes and drops per interface', () => {
    const m = parseProcNetDev(SAMPLE);
    expect([...m.keys()]).toEqual(['lo', 'eth0', 'verylongname0']);
    expect(m.get('eth0')).toEqual({ rxBytes: 1375103, rxPackets: 17405, rxDropped: 0, txBytes: 1703981, txPackets: 5535, txDropped: 0 });
    expect(m.get('verylongname0')).toEqual({ rxBytes: 12, rxPackets: 3, rxDropped: 4, txBytes: 56, txPackets: 7, txDropped: 8 });
  });

  it('agrees with `ip -s -j link` on this machine for an idle interface', () => {
    let ipJson: string;
    try {
      ipJson = execFileSync('ip', ['-s', '-j', 'link', 'show'], { encoding: 'utf8' });
    } catch {
      if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error('iproute2 is required');
      return; // iproute2 absent: nothing to compare with (the sample test above still runs)
    }
    const ours = readIfaceCounters('lo');
    const theirs = (JSON.parse(ipJson) as Array<{ ifname: string; stats64: { rx: { packets: number }; tx: { packets: number } } }>).find(
      (i) => i.ifname === 'lo',
    );
    expect(ours).not.toBeNull();
    expect(theirs).toBeDefined();
    // loopback may carry other processes' traffic between the two reads: same order of magnitude, never behind
    expect(theirs?.stats64.rx.packets ?? 0).toBeGreaterThanOrEqual(ours?.rxPackets ?? Infinity);
    expect((theirs?.stats64.rx.packets ?? 0) - (ours?.rxPackets ?? 0)).toBeLessThan(10_000);
  });
});

describe('framesSeen', () => {
  const a = { rxPackets: 10, rxBytes: 0, rxDropped: 0, txPackets: 5, txBytes: 0, txDropped: 0 };
  const b = { ...a, rxPackets: 110, txPackets: 25 };
  it('counts both directions, except on loopback where libpcap skips the outgoing copy', () => {
    expect(framesSeen(a, b, false)).toBe(120);
    expect(framesSeen(a, b, true)).toBe(100);
  });
});

describe('sysfsIsOurs', () => {
  const fs = (sys: string[]): NetFs => ({ procNetDev: () => SAMPLE, sysfsNames: () => sys, sysfsFile: () => null });
  it('trusts /sys/class/net only when it lists exactly this namespace\'s interfaces', () => {
    expect(sysfsIsOurs(fs(['eth0', 'lo', 'verylongname0']))).toBe(true);
    expect(sysfsIsOurs(fs(['eth0', 'lo']))).toBe(false);
    expect(sysfsIsOurs(fs(['eth0', 'lo', 'docker0']))).toBe(false);
  });
});
