// Whether the event loop still polls the capture socket (owner: live capture). When the
// interface goes down, the kernel sets ENETDOWN on libpcap's packet socket; libuv sees
// POLLERR, stops cap's poll handle for good and drops the socket from its epoll set, and cap
// (which ignores the status) never reads again. If the interface comes back up before the
// next flags sample, the kernel delivers into the ring again but nothing reads it: the
// capture is dead while everything looks up. /proc/self/fdinfo of the loop's epoll fd lists
// the fds it watches ("tfd: N"), which says so. Read a few times a second, never per packet.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface CapturePoll {
  /** File descriptors of this process's packet sockets, or null when /proc cannot say. */
  packetSocketFds(): number[] | null;
  /** The epoll fds of this process that watch `fd` (empty: none), or null when unknown. */
  epollsWatching(fd: number, candidates?: readonly number[]): number[] | null;
}

export const realCapturePoll: CapturePoll = {
  packetSocketFds() {
    const inodes = packetInodes(readText('/proc/self/net/packet'));
    const fds = fdLinks();
    if (inodes === null || fds === null) return null;
    const out: number[] = [];
    for (const [fd, link] of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1] !== undefined && inodes.has(m[1])) out.push(fd);
    }
    return out;
  },
  epollsWatching(fd, candidates) {
    let epolls: number[];
    if (candidates !== undefined && candidates.length > 0) {
      epolls = [...candidates];
    } else {
      const fds = fdLinks();
      if (fds === null) return null;
      epolls = [...fds].filter(([, link]) => link === 'anon_inode:[eventpoll]').map(([n]) => n);
    }
    const out: number[] = [];
    for (const ep of epolls) {
      const text = readText(`/proc/self/fdinfo/${ep}`);
      if (text !== null && watchedFds(text).has(fd)) out.push(ep);
    }
    return out;
  },
};

/** Socket inodes listed by /proc/net/packet (last column), or null when unreadable. */
export function packetInodes(text: string | null): Set<string> | null {
  if (text === null) return null;
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const inode = line.trim().split(/\s+/).at(-1);
    if (inode !== undefined && /^\d+$/.test(inode)) out.add(inode);
  }
  return out;
}

/** The fds an epoll fd's fdinfo lists as watched ("tfd:       19 events: ..."). */
export function watchedFds(fdinfo: string): Set<number> {
  const out = new Set<number>();
  for (const m of fdinfo.matchAll(/^tfd:\s*(\d+)\s/gm)) out.add(Number(m[1]));
  return out;
}

function fdLinks(): Map<number, string> | null {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  const out = new Map<number, string>();
  for (const n of names) {
    try {
      out.set(Number(n), readlinkSync(`/proc/self/fd/${n}`));
    } catch {
      // closed meanwhile (the fd of the directory listing itself)
    }
  }
  return out;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}
