// new-host detector: a host inside the local networks never seen before, once the learning
// period is over. Known hosts persist in a file (one address per line, appended as hosts
// are learned) so a restart does not re-learn or re-alert. A new host is an event: it is
// raised in the second it appears and resolved `resolveAfter` seconds later.
// Every host of a closed second is looked at, from the aggregator's view (SecondHosts), once
// per (id, generation): a summary names at most 100 new hosts and its top hosts, and a host
// beyond those (a second in which hundreds of hosts appear) must neither be missed after the
// learning period nor go unlearned during it, to be raised as new when it later shows up.

import { accessSync, appendFileSync, closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecondHosts, SecondSummary } from '../aggregate/summary.js';
import { AnalyzerError, ConfigError } from '../errors.js';
import type { Alert } from './alert.js';
import { formatIpv4 } from '../aggregate/address.js';
import { formatIpv6At, parseAddr } from './addr.js';
import type { NewHostConfig } from './config.js';
import type { Detector } from './detector.js';
import type { Tracker } from './lifecycle.js';
import { coverIndex } from './table.js';

/** Canonical text of an address as the aggregator writes it (dotted IPv4, RFC 5952 IPv6). */
export function canonicalAddr(text: string): string | null {
  const a = parseAddr(text);
  if (a === null) return null;
  return a.version === 4 ? formatIpv4(a.words[0] ?? 0) : formatIpv6At(a.words, 0);
}

/** Largest known-hosts file read (about 50 bytes a host: a million hosts). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Read a known-hosts file: addresses, one per line; '#' starts a comment; extra fields
 * ignored. A file that does not exist yet is empty, but its directory must be there and
 * writable now (a typo is said at start, not discovered at the end of the run); a device
 * or a directory in its place, or a file too large, is an error before anything is read.
 */
export function readKnownHosts(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw fileError(path, `cannot read the known-hosts file (${code ?? 'error'}); check its permissions`, e);
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch (e2) {
      const c2 = (e2 as NodeJS.ErrnoException).code;
      throw fileError(path, `cannot create the known-hosts file: its directory ${c2 === 'ENOENT' ? 'does not exist' : `is not writable (${c2 ?? 'error'})`}; create it or choose another path`, e2);
    }
    return [];
  }
  if (!st.isFile()) throw fileError(path, 'the known-hosts file is not a regular file; give the path of a text file');
  if (st.size > MAX_FILE_BYTES) throw fileError(path, `the known-hosts file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; is it the right file?`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new AnalyzerError('ERR_FILE_ACCESS', `cannot read the known-hosts file (${code ?? 'error'}); check its permissions`, {
      subject: path,
      cause: e,
    });
  }
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] ?? '').replace(/#.*/, '').trim();
    if (t === '') continue;
    const first = t.split(/\s+/)[0] ?? '';
    const c = canonicalAddr(first);
    if (c === null) {
      throw new ConfigError(`line ${i + 1}: "${first}" is not an IP address; fix or delete that line of the known-hosts file`, {
        subject: path,
      });
    }
    out.push(c);
  }
  return out;
}

/** Whether the file is non-empty and its last byte is not a newline. */
function endsOpen(path: string): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function fileError(path: string, message: string, cause?: unknown): AnalyzerError {
  return new AnalyzerError('ERR_FILE_ACCESS', message, { subject: path, ...(cause === undefined ? {} : { cause }) });
}

export class NewHostDetector implements Detector {
  readonly name = 'new-host';
  private readonly known = new Set<string>();
  /** Hosts known when the run started (from the file). */
  readonly loaded: number;
  /** The file's hosts as read at start, until taken for the detector thread. */
  private initial: readonly string[] | null;
  private learnUntil: number | null = null;
  private pendingWrite: string[] = [];
  private tailChecked = false;
  /** Hosts learned during the learning period. */
  learned = 0;
  /** Hosts not remembered because `max` was reached. */
  overflow = 0;
  /** Why the known-hosts file stopped being written, if it did. */
  writeError: string | null = null;
  /** Host id -> generation already looked at (0: none); grown by doubling as ids grow. */
  private seen = new Float64Array(1024);
  /** Scratch for one host's address in numbers (family, four words). */
  private readonly words = new Uint32Array(5);
  /** With raiseAfter > 1: new hosts not raised yet, by address (their first second's
   *  observation), marked again each second they are active until raised or gone. */
  private readonly waiting = new Map<string, { id: number; gen: number; since: number }>();

  constructor(
    private readonly cfg: NewHostConfig,
    private readonly tracker: Tracker,
  ) {
    const list = cfg.knownList ?? (cfg.knownHosts !== null ? readKnownHosts(cfg.knownHosts) : []);
    for (const a of list) this.known.add(a);
    this.initial = cfg.knownHosts !== null ? list : null;
    this.loaded = this.known.size;
    if (this.loaded > cfg.max) {
      // memory stays bounded, and every new host would be raised and never remembered
      throw new ConfigError(
        `the known-hosts file lists ${this.loaded} hosts, more than new-host.max (${cfg.max}); raise "new-host.max" in the config file or prune the file`,
        { subject: cfg.knownHosts ?? '' },
      );
    }
    // An event, not a level: "peak 1 hosts, now 1 hosts" would say nothing.
    tracker.quietly('New_Host', 'a known host from now on', false);
  }

  /** Whether the learning period is over at second `ts` (false before the first summary). */
  learning(ts: number): boolean {
    if (this.learnUntil === null) {
      // A file that already lists hosts is the learned state: no second learning period.
      this.learnUntil = this.loaded > 0 ? -Infinity : ts + this.cfg.learn;
    }
    return ts < this.learnUntil;
  }

  private consider(ts: number, addr: string, learning: boolean): void {
    if (this.known.has(addr) || !this.cfg.localNets.hasText(addr)) return;
    if (this.known.size < this.cfg.max) {
      this.known.add(addr);
      if (this.cfg.knownHosts !== null) this.pendingWrite.push(`${addr} ${ts}\n`);
    } else {
      this.overflow++;
    }
    if (learning) {
      this.learned++;
      return;
    }
    this.mark(ts, addr, ts);
  }

  private mark(ts: number, addr: string, since: number): void {
    this.tracker.anomalous(ts, 'New_Host', addr, 'hosts', {
      value: 1,
      threshold: null,
      baseline: null,
      message: `new host ${addr} on a local network (not seen before${this.loaded > 0 ? ' nor in the known-hosts file' : ''})`,
      since,
    });
  }

  /**
   * raiseAfter > 1: a new host's condition lasts while it is active, so a host seen for
   * fewer consecutive seconds is not raised. Hosts waiting are marked again in each second
   * they have traffic (by id and generation in the aggregator's view, else by address).
   */
  private markWaiting(ts: number, s: SecondSummary, hosts: SecondHosts | undefined): void {
    if (hosts !== undefined) {
      const ids = new Map<number, string>();
      for (const [addr, w] of this.waiting) ids.set(w.id, addr);
      for (let i = 0, n = hosts.count; i < n; i++) {
        const addr = ids.get(hosts.id(i));
        const w = addr === undefined ? undefined : this.waiting.get(addr);
        if (addr !== undefined && w !== undefined && w.gen === hosts.generation(i) && w.since < ts) this.mark(ts, addr, w.since);
      }
    } else {
      for (const h of s.hosts) {
        const w = this.waiting.get(h.addr);
        if (w !== undefined && w.since < ts) this.mark(ts, h.addr, w.since);
      }
    }
  }

  observe(s: SecondSummary, hosts?: SecondHosts): readonly Alert[] {
    const learning = this.learning(s.ts);
    if (hosts !== undefined) {
      for (let i = 0, n = hosts.count; i < n; i++) {
        const id = hosts.id(i);
        if (id < 0) continue;
        if (id >= this.seen.length) this.seen = coverIndex(this.seen, id, (n) => new Float64Array(n));
        const gen = hosts.generation(i);
        if (this.seen[id] === gen) continue;
        this.seen[id] = gen;
        const before = this.cfg.raiseAfter > 1 ? this.tracker.size : 0;
        // outside the local networks (most hosts of a busy link, every spoofed source of a
        // flood): decided from the numbers, no text made
        // (family 0: a view that sent only texts; the text decides below)
        if (hosts.copyAddress !== undefined) {
          hosts.copyAddress(i, this.words, 0);
          if (this.words[0] !== 0 && !this.cfg.localNets.hasWords(this.words, 0)) continue;
        }
        const addr = hosts.address(i);
        this.consider(s.ts, addr, learning);
        if (this.cfg.raiseAfter > 1 && this.tracker.size > before) this.waiting.set(addr, { id, gen, since: s.ts });
      }
    } else {
      // scripted callers without the view: the hosts the summary names
      const before = this.tracker.size;
      for (const a of s.newHostAddrs) this.consider(s.ts, a, learning);
      for (const h of s.hosts) this.consider(s.ts, h.addr, learning);
      if (this.cfg.raiseAfter > 1 && this.tracker.size > before) {
        for (const a of [...s.newHostAddrs, ...s.hosts.map((h) => h.addr)]) {
          if (!this.waiting.has(a) && this.tracker.tracks('New_Host', a) && !this.tracker.isOpen('New_Host', a)) this.waiting.set(a, { id: -1, gen: 0, since: s.ts });
        }
      }
    }
    if (this.waiting.size > 0) this.markWaiting(s.ts, s, hosts);
    this.flush();
    const out: Alert[] = [];
    this.tracker.step(s.ts, out);
    // raised (an event from then on) or gone before raiseAfter seconds: no longer waiting
    for (const a of this.waiting.keys()) {
      if (!this.tracker.tracks('New_Host', a) || this.tracker.isOpen('New_Host', a)) this.waiting.delete(a);
    }
    return out;
  }

  /** Append the hosts learned this second to the file: a crash loses at most one second. */
  private flush(): void {
    const path = this.cfg.knownHosts;
    if (path === null || this.pendingWrite.length === 0 || this.writeError !== null) {
      this.pendingWrite.length = 0;
      return;
    }
    try {
      // a file written by hand may end without a newline: the first line we add must not join it
      if (!this.tailChecked) {
        this.tailChecked = true;
        if (endsOpen(path)) this.pendingWrite.unshift('\n');
      }
      appendFileSync(path, this.pendingWrite.join(''));
    } catch (e) {
      this.writeError = `${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
    this.pendingWrite = [];
  }

  finish(lastTs: number): readonly Alert[] {
    this.flush();
    const out: Alert[] = [];
    this.tracker.finish(lastTs, out);
    return out;
  }

  /** The known-hosts file's hosts as read at start (once; null without a file). */
  takeInitial(): readonly string[] | null {
    const l = this.initial;
    this.initial = null;
    return l;
  }

  get knownCount(): number {
    return this.known.size;
  }
}
