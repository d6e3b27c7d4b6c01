// new-host detector: a host inside the local networks never seen before, once the learning
// period is over. Known hosts persist in a file (one address per line, appended as hosts
// are learned) so a restart does not re-learn or re-alert. A new host is an event: it is
// raised in the second it appears and resolved `resolveAfter` seconds later.
// Every host of a closed second is looked at, from the aggregator's view (SecondHosts), once
// per (id, generation): a summary names at most 100 new hosts and its top hosts, and a host
// beyond those (a second in which hundreds of hosts appear) must neither be missed after the
// learning period nor go unlearned during it, to be raised as new when it later shows up.

import { accessSync, closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecondHosts, SecondSummary } from '../aggregate/summary.js';
import { AnalyzerError, ConfigError } from '../errors.js';
import { printable } from '../text.js';
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

/** A known-hosts file as read: its hosts, and the earliest second at which netpulse wrote
 *  that it learned one (the number after the address on the lines it writes; null when no
 *  line has one), from which a learning period cut short by a restart goes on. */
export interface KnownHosts {
  readonly hosts: readonly string[];
  readonly firstLearned: number | null;
}

/**
 * Read a known-hosts file: addresses, one per line; '#' starts a comment; extra fields
 * ignored. A file that does not exist yet is empty, but its directory must be there and
 * writable now (a typo is said at start, not discovered at the end of the run); a device
 * or a directory in its place, or a file too large, is an error before anything is read.
 */
export function readKnownHosts(path: string): KnownHosts {
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
    return { hosts: [], firstLearned: null };
  }
  if (!st.isFile()) throw fileError(path, 'the known-hosts file is not a regular file; give the path of a text file');
  if (st.size > MAX_FILE_BYTES) throw fileError(path, `the known-hosts file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; is it the right file?`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { hosts: [], firstLearned: null };
    throw new AnalyzerError('ERR_FILE_ACCESS', `cannot read the known-hosts file (${code ?? 'error'}); check its permissions`, {
      subject: path,
      cause: e,
    });
  }
  const out: string[] = [];
  let first: number | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const c = lineAddress(lines[i] ?? '');
    if (c === null) continue;
    if (c === false) {
      // A last line without its newline that is no address is a write cut short (a crash or
      // a full disk in the middle of an append): the hosts before it are kept, and the next
      // append sets it aside as a comment (see setAsideTail).
      if (i === lines.length - 1) continue;
      const first = firstField(lines[i] ?? '');
      const shown = first.length > 60 ? `${first.slice(0, 60)}...` : first;
      throw new ConfigError(`line ${i + 1}: "${shown}" is not an IP address; fix or delete that line of the known-hosts file`, {
        subject: path,
      });
    }
    out.push(c);
    const t = learnedAt(lines[i] ?? '');
    if (t !== null && (first === null || t < first)) first = t;
  }
  return { hosts: out, firstLearned: first };
}

/** The second netpulse wrote after the address ("10.0.0.1 1700000000"), or null. */
function learnedAt(line: string): number | null {
  const hash = line.indexOf('#');
  const f = (hash >= 0 ? line.slice(0, hash) : line).trim().split(/\s+/)[1];
  return f !== undefined && /^\d{1,15}$/.test(f) ? Number(f) : null;
}

/** A line's first field: text before '#' (a comment, whatever it holds), trimmed. */
function firstField(line: string): string {
  const hash = line.indexOf('#');
  const t = (hash >= 0 ? line.slice(0, hash) : line).trim();
  return t.split(/\s+/)[0] ?? '';
}

/** The canonical address a known-hosts line lists, null for a blank or comment line, false
 *  for a line that is not an address. */
function lineAddress(line: string): string | null | false {
  const first = firstField(line);
  if (first === '') return null;
  return canonicalAddr(first) ?? false;
}

/**
 * Before the first append to a file whose last line has no newline: a line that lists an
 * address (written by hand) gets its newline; anything else (the remains of an append cut
 * short by a crash or a full disk, which the reader skipped) is cut off and kept as a comment,
 * so it can neither join the first line added nor stop the next start. Returns the text to
 * write first.
 */
function setAsideTail(fd: number): string {
  const size = fstatSync(fd).size;
  if (size === 0) return '';
  const chunk = Buffer.alloc(64 * 1024);
  readSync(fd, chunk, 0, 1, size - 1);
  if (chunk[0] === 0x0a) return '';
  // where the last line starts: after the last newline, looked for backwards a chunk at a time
  let start = 0;
  for (let end = size; end > 0; ) {
    const from = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - from, from);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      start = from + nl + 1;
      break;
    }
    end = from;
  }
  // its first field decides (an address is far shorter than this)
  const n = readSync(fd, chunk, 0, Math.min(256, size - start), start);
  const line = chunk.subarray(0, n).toString('utf8');
  if (lineAddress(line) !== false) return '\n';
  ftruncateSync(fd, start);
  const shown = printable(line.length > 80 || size - start > n ? `${line.slice(0, 80)}...` : line);
  return `# netpulse set aside an incomplete line here (a write cut short): ${shown}\n`;
}

/**
 * Append `text` whole, or not at all: a write that fails part-way (a full disk) is cut back,
 * so no partial line is left for the next line to join.
 */
function appendWhole(path: string, text: string, firstWrite: boolean): void {
  const fd = openSync(path, 'a+');
  try {
    const head = firstWrite ? setAsideTail(fd) : '';
    const buf = Buffer.from(head + text);
    const before = fstatSync(fd).size;
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
    } catch (e) {
      if (done > 0) {
        try {
          ftruncateSync(fd, before);
        } catch {
          // the error below says the file was not written
        }
      }
      throw e;
    }
  } finally {
    closeSync(fd);
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
  private initial: KnownHosts | null;
  /** The earliest second a host in the file was learned at (null: none said). */
  private readonly firstLearned: number | null;
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
    const file: KnownHosts =
      cfg.knownList !== undefined
        ? { hosts: cfg.knownList, firstLearned: cfg.knownFirst ?? null }
        : cfg.knownHosts !== null
          ? readKnownHosts(cfg.knownHosts)
          : { hosts: [], firstLearned: null };
    for (const a of file.hosts) this.known.add(a);
    this.initial = cfg.knownHosts !== null ? file : null;
    this.firstLearned = file.firstLearned;
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
      // A file that already lists hosts is the learned state: no second learning period,
      // unless a restart cut the first one short: a learning period that began with the
      // file's first host learned goes on to its end (packet time, as live runs keep it).
      const f = this.firstLearned;
      if (this.loaded === 0) this.learnUntil = ts + this.cfg.learn;
      else this.learnUntil = f !== null && ts >= f && ts < f + this.cfg.learn ? f + this.cfg.learn : -Infinity;
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
      // a file written by hand may end without a newline, one cut short by a crash in a line
      const first = !this.tailChecked;
      this.tailChecked = true;
      appendWhole(path, this.pendingWrite.join(''), first);
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

  /** The known-hosts file as read at start (once; null without a file). */
  takeInitial(): KnownHosts | null {
    const l = this.initial;
    this.initial = null;
    return l;
  }

  get knownCount(): number {
    return this.known.size;
  }
}
