// The detect stage on a thread of its own. Replay and live spend most of their time in
// reading, decoding and aggregating on the main thread; the detectors (a packet hook per
// packet, per-host baselines per second) would add half as much again there. Here the main
// thread only copies the fields the hooks read into a shared ring (a few ns per packet) and
// sends each closed second over; a worker runs the very same stage (createDetectStage) and
// answers with the alerts, in order. Results are identical to the in-thread stage: same
// packets, same seconds, same order; only later. The pipeline holds a second's summary back
// until its alerts are in, so the stream's order is the same too.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Gap, Report, ReportAlerts, SecondHosts, SecondSummary } from '../aggregate/summary.js';
import type { DecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import type { AlertCounts } from './lifecycle.js';
import { CTRL, CTRL_SLOTS, DRAIN_EVERY, RING_RECORDS, STRIDE, wanted, writeRecord } from './ring.js';
import type { RiskEntry } from './risky-services.js';
import { AlertBook, type DetectStage, type PacketHook } from './stage.js';
import type { Reply, Request, WorkerInit } from './thread-protocol.js';

/** Closed seconds and gaps sent but not answered, at most (the summaries wait in memory). */
const MAX_OUTSTANDING = 64;
/** A worker that makes no progress for this long while the main thread waits is taken for dead. */
const STALL_MS = 30_000;
const WAIT_SLICE_MS = 200;

type Done = Extract<Reply, { t: 'done' }>;

const GENERIC_FAILURE = 'the detector thread failed';

/** What the pipeline sees: like DetectStage, with answers that come later. */
export interface AsyncDetectStage {
  readonly async: true;
  readonly packetHook: PacketHook | null;
  readonly detectors: readonly string[];
  observe(s: SecondSummary, hosts?: SecondHosts): Promise<readonly Alert[]>;
  gap(g: Gap): Promise<readonly Alert[]>;
  /** End of input: the last alerts; the thread ends after it. */
  finish(lastTs: number): Promise<readonly Alert[]>;
  /** The alert section and risk scores as of the last answer. */
  decorateReport(r: Report): void;
  /** Why the thread stopped early, or null. */
  problem(): string | null;
  /** new-host: why the known-hosts file could not be written (as of the last answer), or null. */
  knownHostsError(): string | null;
  /** new-host: new hosts not remembered because the list was full (as of the last answer). */
  knownHostsFull(): number;
  close(): Promise<void>;
}

/** The compiled worker script; null when it is missing (then detectors run in-thread). */
export function workerScript(): URL | null {
  const candidates = [
    new URL('./worker.js', import.meta.url),
    // this module bundled into dist/bin/ (the command line): tsc's copy beside it
    new URL('../detect/worker.js', import.meta.url),
    // run from src/ by the test runner: the built copy in dist/
    new URL('../../dist/detect/worker.js', import.meta.url),
  ];
  return candidates.find((u) => existsSync(fileURLToPath(u))) ?? null;
}

class ThreadedDetectStage implements AsyncDetectStage {
  readonly async = true as const;
  readonly packetHook: PacketHook | null;
  readonly detectors: readonly string[];
  private readonly worker: Worker;
  private readonly ring: Int32Array;
  private readonly ts: Float64Array;
  private readonly ctrl: Int32Array;
  /** Records written; the ring has room while w < limit. */
  private w = 0;
  private limit = RING_RECORDS;
  /** Records the worker was told to drain. */
  private posted = 0;
  private requests = 0;
  private readonly waiting: ((d: Done | null) => void)[] = [];
  private dead: string | null = null;
  private finished = false;
  private counts: AlertCounts;
  private untracked: Record<string, number> = {};
  private readonly book = new AlertBook();
  private readonly risk = new Map<string, RiskEntry>();
  private khError: string | null = null;
  private khFull = 0;

  constructor(script: URL, opts: Readonly<Record<string, unknown>>, like: DetectStage) {
    this.detectors = like.detectors;
    this.counts = like.stats().alerts;
    const hook = like.packetHook !== null;
    const ring = new SharedArrayBuffer(RING_RECORDS * STRIDE * 4);
    const ts = new SharedArrayBuffer(RING_RECORDS * 8);
    const ctrl = new SharedArrayBuffer(CTRL_SLOTS * 4);
    this.ring = new Int32Array(ring);
    this.ts = new Float64Array(ts);
    this.ctrl = new Int32Array(ctrl);
    // The known-hosts file was read (and its directory checked) at start, on this thread;
    // reading it again there, later, could find it gone (a run is not failed for that).
    const init: WorkerInit = { opts, ring, ts, ctrl, knownHosts: like.initialKnownHosts?.() ?? null };
    synchronousCompilesForNextThread();
    this.worker = new Worker(script, { workerData: init });
    // Only pending answers keep the process alive (an aborted run must still exit).
    this.worker.unref();
    this.worker.on('message', (m: Reply) => this.onReply(m));
    this.worker.on('error', (e: Error) => this.onDead(`the detector thread failed: ${e.message}`));
    this.worker.on('exit', (code) => {
      if (!this.finished || this.waiting.length > 0) this.onDead(`the detector thread ended early (exit code ${code})`);
    });
    this.packetHook = hook ? (p, tsMicros, wirelen) => this.write(p, tsMicros, wirelen) : null;
  }

  private write(p: DecodedPacket, tsMicros: number, wirelen: number): void {
    if (!wanted(p)) return;
    const w = this.w;
    if (w >= this.limit && !this.makeRoom()) return;
    writeRecord(this.ring, this.ts, w & (RING_RECORDS - 1), p, tsMicros, wirelen);
    this.w = w + 1;
    if (((w + 1) & (DRAIN_EVERY - 1)) === 0) this.drainTo(w + 1);
  }

  private drainTo(to: number): void {
    if (this.dead !== null || to <= this.posted) return;
    this.posted = to;
    this.worker.postMessage({ t: 'drain', to } satisfies Request);
  }

  /** Blocks until the worker has consumed enough of the ring; false if it is dead. */
  private makeRoom(): boolean {
    if (this.dead !== null) return false;
    this.drainTo(this.w);
    let since = Date.now();
    let last = Atomics.load(this.ctrl, CTRL.consumed);
    for (;;) {
      const c = Atomics.load(this.ctrl, CTRL.consumed);
      const behind = ((this.w | 0) - c) | 0;
      if (behind < RING_RECORDS) {
        this.limit = this.w - behind + RING_RECORDS;
        return true;
      }
      if (!this.alive(c !== last, since)) return false;
      if (c !== last) {
        last = c;
        since = Date.now();
      }
      Atomics.wait(this.ctrl, CTRL.consumed, c, WAIT_SLICE_MS);
    }
  }

  /** Blocks while too many requests are unanswered; false if the worker is dead. */
  private roomForRequest(): boolean {
    let since = Date.now();
    let last = Atomics.load(this.ctrl, CTRL.answered);
    for (;;) {
      if (this.dead !== null) return false;
      const a = Atomics.load(this.ctrl, CTRL.answered);
      if ((((this.requests | 0) - a) | 0) < MAX_OUTSTANDING) return true;
      if (!this.alive(a !== last, since)) return false;
      if (a !== last) {
        last = a;
        since = Date.now();
      }
      Atomics.wait(this.ctrl, CTRL.answered, a, WAIT_SLICE_MS);
    }
  }

  private alive(progressed: boolean, since: number): boolean {
    if (Atomics.load(this.ctrl, CTRL.failed) === 1) {
      // its error message is still in the queue: say what we know now
      this.onDead(GENERIC_FAILURE);
      return false;
    }
    if (!progressed && Date.now() - since > STALL_MS) {
      this.onDead(`the detector thread stopped answering for ${STALL_MS / 1000} s`);
      return false;
    }
    return true;
  }

  private request(m: Request, transfer: ArrayBuffer[] = []): Promise<Done | null> {
    if (this.dead !== null || !this.roomForRequest()) return Promise.resolve(null);
    this.posted = Math.max(this.posted, m.to);
    this.requests++;
    if (this.waiting.length === 0) this.worker.ref();
    this.worker.postMessage(m, transfer);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private onReply(m: Reply): void {
    if (m.t === 'error') {
      const why = `the detector thread failed: ${m.message}`;
      // it may have been seen dead (its failed flag) before its reason arrived
      if (this.dead === GENERIC_FAILURE) this.dead = why;
      else this.onDead(why);
      return;
    }
    this.counts = m.counts;
    this.untracked = m.untracked;
    this.khError = m.knownHostsError;
    this.khFull = m.knownHostsFull;
    this.book.note(m.alerts);
    for (const e of m.report) {
      // an entry the detector dropped (a forgotten host beyond its bound): forget it here too
      if (e.gone === true) this.risk.delete(e.addr);
      else this.risk.set(e.addr, e);
    }
    const resolve = this.waiting.shift();
    if (this.waiting.length === 0) this.worker.unref();
    resolve?.(m);
  }

  private onDead(why: string): void {
    if (this.dead !== null) return;
    this.dead = why;
    for (const resolve of this.waiting.splice(0)) resolve(null);
    this.worker.unref();
    // a thread that failed ends by itself after its last message (terminating it now would
    // lose that message, the reason); one that stalled is stopped here
    if (Atomics.load(this.ctrl, CTRL.failed) !== 1) void this.worker.terminate();
  }

  async observe(s: SecondSummary, hosts?: SecondHosts): Promise<readonly Alert[]> {
    const n = hosts === undefined ? 0 : hosts.count;
    const ids = new Int32Array(n);
    const gens = new Float64Array(n);
    const cnt = new Float64Array(n * 4);
    let addr: Uint32Array | null = null;
    let texts: string[] | null = null;
    if (hosts !== undefined) {
      if (hosts.copyTo !== undefined) {
        addr = new Uint32Array(n * 5);
        hosts.copyTo(ids, gens, cnt, addr);
      } else {
        texts = new Array<string>(n);
        for (let i = 0; i < n; i++) {
          ids[i] = hosts.id(i);
          gens[i] = hosts.generation(i);
          cnt[i * 4] = hosts.txPackets(i);
          cnt[i * 4 + 1] = hosts.txBytes(i);
          cnt[i * 4 + 2] = hosts.rxPackets(i);
          cnt[i * 4 + 3] = hosts.rxBytes(i);
          texts[i] = hosts.address(i);
        }
      }
    }
    // The top hosts' statistics stay here: with every host above, detectors read only
    // their addresses (new-host, risky-services); that halves what is copied per second.
    const sent = hosts === undefined ? s : { ...s, hosts: s.hosts.map((h) => ({ addr: h.addr })) };
    const transfer = [ids.buffer, gens.buffer, cnt.buffer] as ArrayBuffer[];
    if (addr !== null) transfer.push(addr.buffer as ArrayBuffer);
    const d = await this.request({ t: 'close', to: this.w, s: sent, count: hosts === undefined ? -1 : n, ids, gens, cnt, addr, texts }, transfer);
    if (d === null) return [];
    if (d.risks !== null) {
      for (let i = 0; i < s.hosts.length; i++) {
        const r = d.risks[i] ?? 0;
        const h = s.hosts[i];
        if (r > 0 && h !== undefined) h.risk = r;
      }
    }
    return d.alerts;
  }

  async gap(g: Gap): Promise<readonly Alert[]> {
    const d = await this.request({ t: 'gap', to: this.w, g });
    return d === null ? [] : d.alerts;
  }

  async finish(lastTs: number): Promise<readonly Alert[]> {
    const p = this.request({ t: 'finish', to: this.w, last: lastTs });
    this.finished = true;
    const d = await p;
    return d === null ? [] : d.alerts;
  }

  decorateReport(r: Report): void {
    if (this.risk.size > 0) {
      for (const h of r.hosts) {
        const e = this.risk.get(h.addr);
        if (e === undefined) continue;
        h.risk = e.risk;
        h.riskServices = { served: [...e.served], used: [...e.used] };
      }
    }
    r.alerts = this.book.section(this.counts, this.untracked) satisfies ReportAlerts;
  }

  problem(): string | null {
    return this.dead;
  }

  knownHostsError(): string | null {
    return this.khError;
  }

  knownHostsFull(): number {
    return this.khFull;
  }

  async close(): Promise<void> {
    this.finished = true;
    // a failed thread is ending by itself, its last message (the reason) on the way
    if (Atomics.load(this.ctrl, CTRL.failed) !== 1) await this.worker.terminate();
  }
}

/**
 * Node 20 only (V8 11.3): a worker thread that ends while a background optimizing compile of
 * its code is still running either deadlocks (the compile waits for a garbage collection on
 * the thread, which is waiting for the compile: the run never ends) or aborts the process
 * ("NodePlatform::ForIsolate ... Assertion failed": the compile asks for a thread the platform
 * has let go of). scripts/thread-end-stress.mjs (160 short runs, four at once, two cores)
 * counted 19 such runs before this and none in 480 after; Node 22 had none without it. V8
 * reads this flag when it creates a thread's heap, and the main thread's was created long
 * before: the detector thread then optimizes its code on itself (a few ms per function, on
 * the thread off the packet path) and no background compile of its code can outlive it.
 */
function synchronousCompilesForNextThread(): void {
  if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--no-concurrent-recompilation');
}

/**
 * The detect stage on its own thread, built there from `opts` as `like` was built here
 * (createDetectStage on this thread validates the options and says which detectors run).
 * null when the worker script is missing or the options cannot be sent to a thread: then
 * the caller runs them in-thread.
 */
export function createThreadedDetectStage(opts: Readonly<Record<string, unknown>>, like: DetectStage): AsyncDetectStage | null {
  const script = workerScript();
  if (script === null) return null;
  try {
    structuredClone(opts);
  } catch {
    return null;
  }
  return new ThreadedDetectStage(script, opts, like);
}
