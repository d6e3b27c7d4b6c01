// The detector thread: the same detect stage as in-thread (createDetectStage), fed from the
// packet ring and from messages that close seconds, report gaps and end the run, in the
// order the main thread sent them. Replies go back in the same order. Started by
// src/detect/thread.ts; not an entry point of its own.

import { parentPort, workerData } from 'node:worker_threads';
import type { Gap, HostStats, SecondHosts, SecondSummary } from '../aggregate/summary.js';
import { formatIpv4, formatIpv6 } from '../aggregate/address.js';
import { detectConfigFromOptions } from '../cli/detect-options.js';
import { createDecodedPacket } from '../decode/packet.js';
import type { Alert } from './alert.js';
import { CTRL, RING_RECORDS, readRecord } from './ring.js';
import { createDetectStage } from './stage.js';
import type { Reply, Request, WorkerInit } from './thread-protocol.js';

/** A closed second's hosts, as sent over (numbers; addresses formatted when asked). */
class ReceivedHosts implements SecondHosts {
  constructor(
    readonly count: number,
    private readonly ids: Int32Array,
    private readonly gens: Float64Array,
    private readonly cnt: Float64Array,
    private readonly addr: Uint32Array | null,
    private readonly texts: string[] | null,
  ) {}
  id(i: number): number {
    return this.ids[i] ?? -1;
  }
  generation(i: number): number {
    return this.gens[i] ?? 0;
  }
  address(i: number): string {
    if (this.texts !== null) return this.texts[i] ?? '';
    const a = this.addr;
    if (a === null) return '';
    const o = i * 5;
    if (a[o] === 4) return formatIpv4(a[o + 4] ?? 0);
    return formatIpv6(a[o + 1] ?? 0, a[o + 2] ?? 0, a[o + 3] ?? 0, a[o + 4] ?? 0);
  }
  copyAddress(i: number, out: Uint32Array, at: number): void {
    const a = this.addr;
    if (a === null) {
      // only texts were sent (a view without numbers): family 0, so the caller uses the text
      out[at] = 0;
      return;
    }
    for (let k = 0; k < 5; k++) out[at + k] = a[i * 5 + k] ?? 0;
  }
  txPackets(i: number): number {
    return this.cnt[i * 4] ?? 0;
  }
  txBytes(i: number): number {
    return this.cnt[i * 4 + 1] ?? 0;
  }
  rxPackets(i: number): number {
    return this.cnt[i * 4 + 2] ?? 0;
  }
  rxBytes(i: number): number {
    return this.cnt[i * 4 + 3] ?? 0;
  }
}

const port = parentPort;
if (port === null) throw new Error('src/detect/worker.ts runs only as a worker thread');
const init = workerData as WorkerInit;
const ring = new Int32Array(init.ring);
const tsRing = new Float64Array(init.ts);
const ctrl = new Int32Array(init.ctrl);
const mask = RING_RECORDS - 1;

const fail = (e: unknown): void => {
  // the reason first: whoever sees the flag finds it queued
  const message = e instanceof Error ? e.message : String(e);
  port.postMessage({ t: 'error', message } satisfies Reply);
  Atomics.store(ctrl, CTRL.failed, 1);
  Atomics.notify(ctrl, CTRL.consumed);
  Atomics.notify(ctrl, CTRL.answered);
};

/** Tests only: fail on this closed second (1-based), to check that a failing thread
 *  neither hangs nor loses the report. */
const failAt = Number(process.env.NETPULSE_DETECT_THREAD_FAIL_AT ?? '0');

try {
  const config = detectConfigFromOptions(init.opts).detect;
  if (init.knownHosts !== null) config.newHost = { ...config.newHost, knownList: init.knownHosts.hosts, knownFirst: init.knownHosts.firstLearned };
  const stage = createDetectStage(config);
  const hook = stage.packetHook;
  const pkt = createDecodedPacket();
  let read = 0;

  const drain = (to: number): void => {
    if (hook !== null) {
      while (read < to) {
        // publish progress every 1024 records so a waiting writer wakes early
        const stop = Math.min(to, read + 1024);
        for (; read < stop; read++) {
          const slot = read & mask;
          const wirelen = readRecord(ring, slot, pkt);
          hook(pkt, tsRing[slot] ?? 0, wirelen);
        }
        Atomics.store(ctrl, CTRL.consumed, read | 0);
        Atomics.notify(ctrl, CTRL.consumed);
      }
    } else {
      read = to;
      Atomics.store(ctrl, CTRL.consumed, read | 0);
      Atomics.notify(ctrl, CTRL.consumed);
    }
  };

  let answered = 0;
  const reply = (alerts: readonly Alert[], extra: Partial<Extract<Reply, { t: 'done' }>> = {}): void => {
    answered++;
    Atomics.store(ctrl, CTRL.answered, answered | 0);
    Atomics.notify(ctrl, CTRL.answered);
    const st = stage.stats();
    port.postMessage({
      t: 'done',
      alerts: alerts as Alert[],
      counts: st.alerts,
      // the report's alerts.untracked: table refusals only (zscore's cap is by design)
      untracked: Object.fromEntries(Object.entries(st.untracked).filter(([k]) => k !== 'zscore')),
      report: stage.reportChanges(),
      risks: null,
      knownHostsError: st.knownHostsError,
      knownHostsFull: st.knownHostsFull,
      ...extra,
    } satisfies Reply);
  };

  port.on('message', (m: Request) => {
    try {
      switch (m.t) {
        case 'drain':
          drain(m.to);
          break;
        case 'close': {
          drain(m.to);
          if (failAt > 0 && answered + 1 === failAt) throw new Error(`failing on purpose at second ${failAt} (NETPULSE_DETECT_THREAD_FAIL_AT)`);
          const s = m.s as SecondSummary;
          const hosts = m.count < 0 ? undefined : new ReceivedHosts(m.count, m.ids, m.gens, m.cnt, m.addr, m.texts);
          const alerts = stage.observe(s, hosts);
          let risks: number[] | null = null;
          for (let i = 0; i < s.hosts.length; i++) {
            const r = (s.hosts[i] as HostStats).risk;
            if (r !== undefined) (risks ??= new Array<number>(s.hosts.length).fill(0))[i] = r;
          }
          reply(alerts, { risks });
          break;
        }
        case 'gap':
          drain(m.to);
          reply(stage.gap(m.g as Gap));
          break;
        case 'finish':
          drain(m.to);
          reply(stage.finish(m.last));
          port.close();
          break;
      }
    } catch (e) {
      fail(e);
      port.close();
    }
  });
} catch (e) {
  fail(e);
  port.close();
}
