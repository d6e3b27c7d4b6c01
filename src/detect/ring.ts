// The packet records the main thread hands to the detector thread: the fields of a
// DecodedPacket the packet hooks read, in a ring of fixed-size records over shared memory.
// One writer (main), one reader (the detector worker). Who may read how far is said by
// messages ("drain up to record N"), so the reader never races the writer; how far the
// reader got is a shared counter the writer waits on when the ring is full.

import { LAYER, type DecodedPacket } from '../decode/packet.js';

/** Int32 slots per record. */
export const STRIDE = 20;
/** Records in the ring (a power of two): 128 Ki records, 10 MiB + 1 MiB of timestamps, room
 *  for the ~60 ms the worker takes to start at 2 M packets/s. */
export const RING_RECORDS = 1 << 17;
/** The writer tells the reader to catch up every this many records (a power of two). */
export const DRAIN_EVERY = 1 << 13;

/** Slots of the control array. */
export const CTRL = {
  /** Records consumed by the reader (int32, wraps; differences are what count). */
  consumed: 0,
  /** Requests (closed seconds, gaps) the reader has answered (int32, wraps). */
  answered: 1,
  /** 1 once the reader has failed: the writer must stop waiting. */
  failed: 2,
} as const;
export const CTRL_SLOTS = 4;

// record layout
const LAYERS = 0;
const IPV = 1;
const PROTO = 2;
const SPORT = 3;
const DPORT = 4;
const FLAGS = 5;
const WIRELEN = 6;
const ARP_OP = 7;
const ARP_S = 8;
const ARP_T = 9;
const SRC4 = 10;
const DST4 = 11;
const SRC6 = 12;
const DST6 = 16;

/** Whether any packet hook can care about the packet: IP or ARP (the rest is not sent). */
export function wanted(p: DecodedPacket): boolean {
  return p.ipVersion !== 0 || (p.layers & LAYER.arp) !== 0;
}

/** Writes one record at index `slot` (already masked). */
export function writeRecord(r: Int32Array, ts: Float64Array, slot: number, p: DecodedPacket, tsMicros: number, wirelen: number): void {
  const o = slot * STRIDE;
  r[o + LAYERS] = p.layers;
  r[o + IPV] = p.ipVersion;
  r[o + PROTO] = p.ipProto;
  r[o + SPORT] = p.srcPort;
  r[o + DPORT] = p.dstPort;
  r[o + FLAGS] = p.tcpFlags;
  r[o + WIRELEN] = wirelen;
  r[o + ARP_OP] = p.arpOp;
  if (p.arpOp >= 0) {
    r[o + ARP_S] = p.arpSender;
    r[o + ARP_T] = p.arpTarget;
  }
  if (p.ipVersion === 6) {
    const s6 = p.src6;
    const d6 = p.dst6;
    r[o + SRC6] = s6[0] ?? 0;
    r[o + SRC6 + 1] = s6[1] ?? 0;
    r[o + SRC6 + 2] = s6[2] ?? 0;
    r[o + SRC6 + 3] = s6[3] ?? 0;
    r[o + DST6] = d6[0] ?? 0;
    r[o + DST6 + 1] = d6[1] ?? 0;
    r[o + DST6 + 2] = d6[2] ?? 0;
    r[o + DST6 + 3] = d6[3] ?? 0;
  } else {
    r[o + SRC4] = p.src4;
    r[o + DST4] = p.dst4;
  }
  ts[slot] = tsMicros;
}

/** Fills `p` from the record at `slot`; returns its wire length. Fields no hook reads keep
 *  their reset values. Addresses come back unsigned, as the decoder gives them. */
export function readRecord(r: Int32Array, slot: number, p: DecodedPacket): number {
  const o = slot * STRIDE;
  p.layers = r[o + LAYERS] ?? 0;
  const v = r[o + IPV] ?? 0;
  p.ipVersion = v;
  p.ipProto = r[o + PROTO] ?? -1;
  p.srcPort = r[o + SPORT] ?? -1;
  p.dstPort = r[o + DPORT] ?? -1;
  p.tcpFlags = r[o + FLAGS] ?? 0;
  const op = r[o + ARP_OP] ?? -1;
  p.arpOp = op;
  if (op >= 0) {
    p.arpSender = (r[o + ARP_S] ?? 0) >>> 0;
    p.arpTarget = (r[o + ARP_T] ?? 0) >>> 0;
  }
  if (v === 6) {
    const s6 = p.src6;
    const d6 = p.dst6;
    s6[0] = r[o + SRC6] ?? 0;
    s6[1] = r[o + SRC6 + 1] ?? 0;
    s6[2] = r[o + SRC6 + 2] ?? 0;
    s6[3] = r[o + SRC6 + 3] ?? 0;
    d6[0] = r[o + DST6] ?? 0;
    d6[1] = r[o + DST6 + 1] ?? 0;
    d6[2] = r[o + DST6 + 2] ?? 0;
    d6[3] = r[o + DST6 + 3] ?? 0;
    p.src4 = 0;
    p.dst4 = 0;
  } else {
    p.src4 = (r[o + SRC4] ?? 0) >>> 0;
    p.dst4 = (r[o + DST4] ?? 0) >>> 0;
  }
  return r[o + WIRELEN] ?? 0;
}
