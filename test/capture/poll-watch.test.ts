// The /proc parsers behind "is the capture socket still polled" (owner: live capture), on
// the kernel's own formats (fs/eventpoll.c ep_show_fdinfo, net/packet/af_packet.c
// packet_seq_show), and on this process's real epoll: a socket the loop watches is listed.

import { createSocket } from 'node:dgram';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packetInodes, realCapturePoll, watchedFds } from '../../src/capture/poll-watch.js';

describe('poll-watch', () => {
  it('reads the watched fds of an epoll fdinfo', () => {
    const text = 'pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\ntfd:       17 events:       19 data:               11  pos:0 ino:40e sdev:10\ntfd:       19 events:       19 data:               13  pos:0 ino:3673a2 sdev:9\n';
    expect([...watchedFds(text)]).toEqual([17, 19]);
    expect(watchedFds('pos:\t0\nflags:\t02\n').size).toBe(0);
  });

  it('reads the socket inodes of /proc/net/packet', () => {
    const text = 'sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n0000000029eb1fe2 3      3    0003   2     1 0      0      3568546\n';
    expect([...(packetInodes(text) ?? [])]).toEqual(['3568546']);
    expect(packetInodes(null)).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')("finds a socket the event loop polls in this process's epoll", async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      await new Promise((r) => setTimeout(r, 50)); // the loop adds it to epoll when it next polls
      const fd = readdirSync('/proc/self/fd')
        .map(Number)
        .find((n) => {
          try {
            return /^socket:/.test(readlinkSync(`/proc/self/fd/${n}`)) && (sock as unknown as { _handle: { fd: number } })._handle.fd === n;
          } catch {
            return false;
          }
        });
      expect(fd).toBeDefined();
      expect(realCapturePoll.epollsWatching(fd ?? -1)?.length).toBeGreaterThan(0);
    } finally {
      sock.close();
    }
  });
});
