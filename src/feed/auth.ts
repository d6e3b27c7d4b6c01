// Who may talk to the feed (owned by the feed): the token (constant-time), the Host header
// on loopback binds (defeats DNS rebinding), and the Origin of browser WebSockets.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './config.js';

/** Compares a presented token with the configured one in time independent of where they
 *  differ: both are hashed first, so lengths leak nothing either. */
export function tokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer T` (programs, Prometheus) or `?token=T` (browsers,
 *  whose WebSocket API cannot set headers). */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1] ?? null;
  }
  return url.searchParams.get('token');
}

/** Host part of a Host header or origin authority ("[::1]:8080" -> "::1"). */
function hostOnly(authority: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(authority);
  if (v6) return v6[1] ?? '';
  const i = authority.lastIndexOf(':');
  return i >= 0 ? authority.slice(0, i) : authority;
}

/**
 * On a loopback bind only local names may be used to reach the server: a web page that
 * rebinds its own DNS name to 127.0.0.1 sends its own name as Host and is refused.
 * Non-loopback binds are protected by the token instead.
 */
export function hostAllowed(bindHost: string, hostHeader: string | undefined): boolean {
  if (!isLoopbackHost(bindHost)) return true;
  if (hostHeader === undefined) return true; // HTTP/1.0 clients; browsers always send Host
  return isLoopbackHost(hostOnly(hostHeader));
}

/**
 * Browsers send Origin with every WebSocket handshake and let any page open one, so a
 * page from another site must not read the feed: allow same-origin (Origin's authority is
 * the Host the request was sent to) and the configured origins. Programs send no Origin.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined, allow: readonly string[]): boolean {
  if (origin === undefined) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (allow.includes(u.origin)) return true;
  if (hostHeader === undefined) return false;
  return u.host.toLowerCase() === hostHeader.toLowerCase();
}
