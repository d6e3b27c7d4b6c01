// Dropping root after the capture handle is open (owner: live capture), the way tcpdump -Z,
// darkstat and Suricata do it: supplementary groups, then gid, then uid, then prove that
// root cannot be regained. The open packet socket keeps working; nothing else needs root.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CaptureError } from '../errors.js';

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface DroppedTo extends UserEntry {
  /** Supplementary groups after the drop. */
  groups: number[];
}

/** Parse one passwd(5) line: name:password:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): UserEntry | null {
  const f = line.trim().split(':');
  if (f.length < 7) return null;
  const [name, , uid, gid] = f;
  if (name === undefined || uid === undefined || gid === undefined) return null;
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return null;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** Look a user up through NSS (`getent passwd`), falling back to /etc/passwd. */
export function lookupUser(name: string): UserEntry | null {
  if (name === '' || name.includes(':') || name.includes('\n')) return null;
  try {
    const out = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const entry = parsePasswdLine(out.split('\n')[0] ?? '');
    if (entry !== null && entry.name === name) return entry;
  } catch {
    // getent exits 2 for an unknown user, or is missing: try the file
  }
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const entry = parsePasswdLine(line);
      if (entry !== null && entry.name === name) return entry;
    }
  } catch {
    // no passwd file either
  }
  return null;
}

/** Effective capability mask (CapEff of /proc/self/status), or null where unreadable. */
export function effectiveCapabilities(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] === undefined ? null : BigInt(`0x${m[1]}`);
  } catch {
    return null;
  }
}

/**
 * Become `name` for good: initgroups, setgid, setuid (setuid as root sets the real, effective
 * and saved ids, and the kernel clears the capabilities). Throws ERR_DROP_PRIVILEGES if the
 * process is not root, the user is unknown, or root could still be regained afterwards.
 */
export function dropPrivileges(name: string): DroppedTo {
  // initgroups(3) exists on POSIX Node but is missing from @types/node 20
  const p: NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void } = process;
  if (p.geteuid === undefined || p.setuid === undefined || p.setgid === undefined || p.initgroups === undefined) {
    throw new CaptureError('ERR_DROP_PRIVILEGES', '--user is only supported on POSIX systems; leave it out');
  }
  if (p.geteuid() !== 0) {
    throw new CaptureError(
      'ERR_DROP_PRIVILEGES',
      `--user ${name} needs netpulse to start as root (it opens the interface as root, then becomes ${name}); run it as root, or drop --user when capabilities come from systemd`,
    );
  }
  const user = lookupUser(name);
  if (user === null) {
    throw new CaptureError('ERR_DROP_PRIVILEGES', `--user: no such user "${name}"; name an existing unprivileged account (e.g. nobody)`);
  }
  if (user.uid === 0) {
    throw new CaptureError('ERR_DROP_PRIVILEGES', `--user ${name} is root (uid 0): name an unprivileged account`);
  }
  try {
    p.initgroups(user.name, user.gid);
    p.setgid(user.gid);
    p.setuid(user.uid);
  } catch (e) {
    throw new CaptureError('ERR_DROP_PRIVILEGES', `could not become ${name}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  // Prove it: every id changed, and root is gone for good.
  let regained = false;
  try {
    p.setuid(0);
    regained = true;
  } catch {
    // expected: EPERM
  }
  const caps = effectiveCapabilities();
  if (
    regained ||
    p.getuid?.() !== user.uid ||
    p.geteuid() !== user.uid ||
    p.getgid?.() !== user.gid ||
    p.getegid?.() !== user.gid ||
    (caps !== null && caps !== 0n)
  ) {
    throw new CaptureError('ERR_DROP_PRIVILEGES', `dropping root to ${name} did not take effect; refusing to run with privileges`);
  }
  return { ...user, groups: p.getgroups?.() ?? [] };
}
