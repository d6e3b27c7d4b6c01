// pcapng (draft-ietf-opsawg-pcapng): sections in either byte order, up to MAX_INTERFACES
// interfaces each with its own link type, if_tsresol (decimal or binary) and if_tsoffset;
// EPB, SPB and the obsolete PB carry packets; ISB drop counters are read; every other
// block (NRB, DSB, custom, unknown) is skipped. Blocks are parsed in place.

import { CaptureFormatError } from '../errors.js';
import { STEP, type ByteQueue, type Step } from './byte-queue.js';
import type { Frame } from './frame.js';
import { MAX_RECORD_BYTES, addCount, type RecordParser } from './record-parser.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_ISB = 0x00000005;
const BLOCK_EPB = 0x00000006;
const BOM = 0x1a2b3c4d;
/** Largest block we accept; also bounds what is buffered for one block. */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
/**
 * Most interfaces one section may describe. Each costs a few numbers of state for the rest
 * of its section, and an interface description block is only 20 bytes (a few kilobytes of
 * gzip hold millions): without a limit a small file could take gigabytes. Packet blocks of
 * the obsolete PB name their interface in 16 bits; real captures have a handful.
 */
export const MAX_INTERFACES = 65536;

const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_ISB_IFDROP = 5;

/** How an interface's 64-bit timestamp becomes microseconds. */
const TS = {
  /** units are 10^-n s with n >= 6: exact integer division by `div` = 10^(n-6) */
  decimalDiv: 0,
  /** units are 10^-n s with n < 6: multiply by `div` = 10^(6-n) */
  decimalMul: 1,
  /** units are 2^-n s with n <= 32: exact split into seconds and fraction */
  binary: 2,
  /** units are 2^-n s with n > 32: `param` = 2^(n-32); exact (see fillFrame) */
  binaryFine: 3,
  /** units are 10^-n s with 13 <= n <= 17: exact long division by `param` = 10^(n-6) <= 10^11 */
  decimalLong: 4,
  /** units are 10^-n s with n >= 18: `param` = n - 6; shift by n-6 bits, then divide by 5^(n-6) */
  decimalShift: 5,
} as const;

const TWO32 = 4294967296;

const BLOCK_NAMES: Record<number, string> = {
  [PCAPNG_SHB]: 'section header block',
  [BLOCK_IDB]: 'interface description block',
  [BLOCK_PB]: 'packet block',
  [BLOCK_SPB]: 'simple packet block',
  [BLOCK_ISB]: 'interface statistics block',
  [BLOCK_EPB]: 'enhanced packet block',
};

const MIN_BLOCK: Record<number, number> = {
  [PCAPNG_SHB]: 28,
  [BLOCK_IDB]: 20,
  [BLOCK_PB]: 32,
  [BLOCK_SPB]: 16,
  [BLOCK_ISB]: 24,
  [BLOCK_EPB]: 32,
};

export class PcapngParser implements RecordParser {
  readonly format = 'pcapng';
  private le = true;
  private inSection = false;
  private readonly subject: string;
  // per interface of the current section
  private ifCount = 0;
  private ifLinktype: number[] = [];
  private ifSnaplen: number[] = [];
  private ifMode: number[] = [];
  private ifParam: number[] = [];
  private ifOffsetMicros: number[] = [];
  /** Last timestamp seen, given to SPB packets, which carry none (0 before any). */
  private lastTs: number;
  /** isb_ifdrop by interface of the current section, latest value wins (defined interfaces only). */
  private readonly drops = new Map<number, number>();
  /** Sum of the latest isb_ifdrop per interface of the sections before this one. */
  private dropsBefore = 0;
  /** Whether any ISB gave a drop count. */
  private anyDrops = false;
  // readable oddities
  private caplenOverWirelen = 0;
  private spbPackets = 0;

  /** `lastTs`: the last packet time (µs) of the capture so far, when this file continues
   *  one (files replayed one after another): a simple packet block before any timestamped
   *  packet of this file takes it, as it would in a later section of the same file. */
  constructor(subject: string, lastTs: number | null = null) {
    this.subject = subject;
    this.lastTs = lastTs ?? 0;
  }

  next(q: ByteQueue, frame: Frame): Step {
    const p = q.start;
    const avail = q.end - p;
    if (avail < 12) {
      q.need = 12;
      return STEP.needMore;
    }
    const v = q.view;
    const type = v.getUint32(p, this.le);
    if (type === PCAPNG_SHB) {
      const bom = v.getUint32(p + 8, true);
      if (bom === BOM) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else this.fail('ERR_PCAPNG_BAD_BYTE_ORDER', q, p, `section header has a bad byte-order magic (0x${bom.toString(16)}): not a pcapng section`);
    } else if (!this.inSection) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `expected a section header block, found block type 0x${type.toString(16)}`);
    }
    const le = this.le;
    const len = v.getUint32(p + 4, le);
    const name = BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16)}`;
    const min = MIN_BLOCK[type] ?? 12;
    if (len < min || len % 4 !== 0) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `${name} has total length ${len}, which is ${len < min ? `below the minimum ${min}` : 'not a multiple of 4'}: the file is corrupt from here`);
    }
    if (len > MAX_BLOCK_BYTES) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `${name} claims ${len} bytes, more than the ${MAX_BLOCK_BYTES}-byte maximum: the file is corrupt from here`);
    }
    if (avail < len) {
      q.need = len;
      return STEP.needMore;
    }
    const trailer = v.getUint32(p + len - 4, le);
    if (trailer !== len) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `${name} length fields disagree (${len} at the start, ${trailer} at the end): the file is corrupt from here`);
    }
    const bodyEnd = p + len - 4;
    let step: Step = STEP.skipped;
    switch (type) {
      case BLOCK_EPB: {
        const iface = v.getUint32(p + 8, le);
        this.checkIface(q, p, iface);
        const caplen = v.getUint32(p + 20, le);
        const orig = v.getUint32(p + 24, le);
        if (caplen > MAX_RECORD_BYTES || p + 28 + caplen > bodyEnd) {
          this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `enhanced packet block of ${len} bytes claims ${caplen} bytes of packet data, which do not fit: the file is corrupt from here`);
        }
        this.fillFrame(frame, q, iface, v.getUint32(p + 12, le), v.getUint32(p + 16, le), caplen, orig, p + 28);
        step = STEP.frame;
        break;
      }
      case BLOCK_PB: {
        const iface = v.getUint16(p + 8, le);
        this.checkIface(q, p, iface);
        const caplen = v.getUint32(p + 20, le);
        const orig = v.getUint32(p + 24, le);
        if (caplen > MAX_RECORD_BYTES || p + 28 + caplen > bodyEnd) {
          this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `packet block of ${len} bytes claims ${caplen} bytes of packet data, which do not fit: the file is corrupt from here`);
        }
        this.fillFrame(frame, q, iface, v.getUint32(p + 12, le), v.getUint32(p + 16, le), caplen, orig, p + 28);
        step = STEP.frame;
        break;
      }
      case BLOCK_SPB: {
        this.checkIface(q, p, 0);
        const orig = v.getUint32(p + 8, le);
        // The spec: the packet data are min(original length, the interface's snaplen) bytes
        // (snaplen 0: no limit); a block too short for them is corrupt (tshark, libpcap).
        const snap = this.ifSnaplen[0] ?? 0;
        let caplen = snap > 0 && snap < orig ? snap : orig;
        if (caplen > bodyEnd - (p + 12)) {
          this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `simple packet block of ${len} bytes is too short for its ${caplen} bytes of packet data (original length ${orig}, snaplen ${snap}): the file is corrupt from here`);
        }
        if (caplen > MAX_RECORD_BYTES) caplen = MAX_RECORD_BYTES;
        frame.tsMicros = this.lastTs;
        frame.caplen = caplen;
        frame.wirelen = orig;
        frame.linktype = this.ifLinktype[0] ?? 0;
        frame.bytes = q.buf;
        frame.offset = p + 12;
        frame.iface = 0;
        this.spbPackets++;
        step = STEP.frame;
        break;
      }
      case PCAPNG_SHB:
        this.startSection(q, p);
        break;
      case BLOCK_IDB:
        this.addInterface(q, p, bodyEnd);
        break;
      case BLOCK_ISB:
        this.readStatistics(q, p, bodyEnd);
        break;
      default:
      // NRB, DSB, custom and unknown blocks carry no packets: skipped whole.
    }
    q.start = p + len;
    return step;
  }

  private fillFrame(frame: Frame, q: ByteQueue, iface: number, hi: number, lo: number, caplen: number, orig: number, data: number): void {
    let micros: number;
    const param = this.ifParam[iface] ?? 1;
    switch (this.ifMode[iface]) {
      case TS.decimalDiv:
        if (param === 1) micros = hi * 4294967296 + lo;
        else {
          const qh = Math.floor(hi / param);
          const rh = hi - qh * param;
          micros = qh * 4294967296 + Math.floor((rh * 4294967296 + lo) / param);
        }
        break;
      case TS.decimalMul:
        micros = (hi * 4294967296 + lo) * param;
        break;
      case TS.binary: {
        // param = n (units of 2^-n s), n <= 32
        const shift = 2 ** (32 - param);
        const unit = 2 ** param;
        const secs = hi * shift + Math.floor(lo / unit);
        const fracUnits = lo - Math.floor(lo / unit) * unit;
        micros = secs * 1_000_000 + Math.floor((fracUnits * 1_000_000) / unit);
        break;
      }
      case TS.binaryFine: {
        // param = 2^k, k = n - 32 >= 1. Whole seconds are hi / 2^k (lo < 2^32 <= 2^n adds
        // less than the remainder's gap); the fraction (hi % 2^k) * 2^32 + lo can exceed 2^53,
        // so its microseconds, floor(((hi % 2^k) * 2^32 + lo) * 10^6 / 2^n), are taken in
        // parts that stay below 2^53: hi's part divided by 2^k, lo's by 2^32 then 2^k.
        const secs = Math.floor(hi / param);
        const a = (hi - secs * param) * 1_000_000;
        const qa = Math.floor(a / param);
        const qb = Math.floor((lo * 1_000_000) / TWO32);
        micros = secs * 1_000_000 + qa + Math.floor((a - qa * param + qb) / param);
        break;
      }
      case TS.decimalLong: {
        // floor((hi * 2^32 + lo) / param), param <= 10^11 < 2^37: long division in 16-bit
        // steps, every partial dividend below 2^53.
        const qh = Math.floor(hi / param);
        let r = hi - qh * param;
        let t = r * 65536 + (lo >>> 16);
        const q1 = Math.floor(t / param);
        r = t - q1 * param;
        t = r * 65536 + (lo & 0xffff);
        micros = qh * TWO32 + q1 * 65536 + Math.floor(t / param);
        break;
      }
      default: {
        // TS.decimalShift: param = a = n - 6 >= 12; floor(U / 10^a) = floor(floor(U / 2^a) / 5^a),
        // and U / 2^a < 2^52 is exact.
        const u = param <= 32 ? hi * 2 ** (32 - param) + Math.floor(lo / 2 ** param) : Math.floor(hi / 2 ** (param - 32));
        micros = Math.floor(u / 5 ** param);
      }
    }
    micros += this.ifOffsetMicros[iface] ?? 0;
    if (caplen > orig) this.caplenOverWirelen++;
    this.lastTs = micros;
    frame.tsMicros = micros;
    frame.caplen = caplen;
    frame.wirelen = orig;
    frame.linktype = this.ifLinktype[iface] ?? 0;
    frame.bytes = q.buf;
    frame.offset = data;
    frame.iface = iface;
  }

  private checkIface(q: ByteQueue, p: number, iface: number): void {
    if (iface >= this.ifCount) {
      this.fail(
        'ERR_PCAPNG_UNDEFINED_INTERFACE',
        q,
        p,
        `packet refers to interface ${iface} but the section defines ${this.ifCount === 0 ? 'none' : `only ${this.ifCount}`}: the file is corrupt from here`,
      );
    }
  }

  private startSection(q: ByteQueue, p: number): void {
    const major = q.view.getUint16(p + 12, this.le);
    if (major !== 1) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `section header version ${major}.x is not pcapng 1.x: cannot read this section`);
    }
    this.inSection = true;
    for (const d of this.drops.values()) this.dropsBefore += d;
    this.drops.clear();
    this.ifCount = 0;
    this.ifLinktype = [];
    this.ifSnaplen = [];
    this.ifMode = [];
    this.ifParam = [];
    this.ifOffsetMicros = [];
  }

  private addInterface(q: ByteQueue, p: number, bodyEnd: number): void {
    const v = q.view;
    const le = this.le;
    if (this.ifCount >= MAX_INTERFACES) {
      this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `section describes more than ${MAX_INTERFACES} interfaces: the file is corrupt from here`);
    }
    const i = this.ifCount++;
    this.ifLinktype[i] = v.getUint16(p + 8, le);
    this.ifSnaplen[i] = v.getUint32(p + 12, le);
    let mode: number = TS.decimalDiv;
    let param = 1;
    let offsetMicros = 0;
    // Each may appear once; as tshark, the first one of the right length counts (libpcap
    // refuses the file).
    let sawResol = false;
    let sawOffset = false;
    for (let o = p + 16; o + 4 <= bodyEnd; ) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === OPT_END) break;
      const val = o + 4;
      if (val + olen > bodyEnd) this.optionOverrun(q, p, o, code, olen, bodyEnd);
      if (code === OPT_IF_TSRESOL && olen === 1 && !sawResol) {
        sawResol = true;
        const r = v.getUint8(val);
        const n = r & 0x7f;
        if (r & 0x80) {
          if (n <= 32) {
            mode = TS.binary;
            param = n;
          } else {
            mode = TS.binaryFine;
            param = 2 ** (n - 32);
          }
        } else if (n >= 6 && n <= 12) {
          mode = TS.decimalDiv;
          param = 10 ** (n - 6);
        } else if (n < 6) {
          mode = TS.decimalMul;
          param = 10 ** (6 - n);
        } else if (n <= 17) {
          mode = TS.decimalLong;
          param = 10 ** (n - 6);
        } else {
          mode = TS.decimalShift;
          param = n - 6;
        }
      } else if (code === OPT_IF_TSOFFSET && olen === 8 && !sawOffset) {
        sawOffset = true;
        // signed 64-bit seconds
        const hi = v.getInt32(le ? val + 4 : val, le);
        const lo = v.getUint32(le ? val : val + 4, le);
        offsetMicros = (hi * 4294967296 + lo) * 1_000_000;
      }
      o = val + ((olen + 3) & ~3);
    }
    this.ifMode[i] = mode;
    this.ifParam[i] = param;
    this.ifOffsetMicros[i] = offsetMicros;
  }

  private readStatistics(q: ByteQueue, p: number, bodyEnd: number): void {
    const v = q.view;
    const le = this.le;
    const iface = v.getUint32(p + 8, le);
    // Statistics of an interface the section did not describe describe nothing we read (and
    // keeping them would let a file grow this map by one entry per 32-byte block).
    if (iface >= this.ifCount) return;
    for (let o = p + 20; o + 4 <= bodyEnd; ) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === OPT_END) break;
      const val = o + 4;
      if (val + olen > bodyEnd) this.optionOverrun(q, p, o, code, olen, bodyEnd);
      if (code === OPT_ISB_IFDROP && olen >= 8) {
        const hi = v.getUint32(le ? val + 4 : val, le);
        const lo = v.getUint32(le ? val : val + 4, le);
        this.drops.set(iface, hi * 4294967296 + lo);
        this.anyDrops = true;
      }
      o = val + ((olen + 3) & ~3);
    }
  }

  /** An option whose value runs past its block: the block is corrupt (tshark stops there too;
   *  libpcap as well for an interface description), and reading on would guess at times. */
  private optionOverrun(q: ByteQueue, p: number, o: number, code: number, olen: number, bodyEnd: number): never {
    const name = BLOCK_NAMES[q.view.getUint32(p, this.le)] ?? 'block';
    this.fail('ERR_PCAPNG_BAD_BLOCK', q, p, `${name} has option ${code} of ${olen} bytes at byte ${o - p} of the block, past its end (${bodyEnd - o - 4} bytes left): the file is corrupt from here`);
  }

  private fail(code: 'ERR_PCAPNG_BAD_BLOCK' | 'ERR_PCAPNG_BAD_BYTE_ORDER' | 'ERR_PCAPNG_UNDEFINED_INTERFACE', q: ByteQueue, p: number, msg: string): never {
    throw new CaptureFormatError(code, msg, { subject: this.subject, offset: q.base + p });
  }

  finish(q: ByteQueue): void {
    const left = q.end - q.start;
    if (left > 0) {
      throw new CaptureFormatError(
        'ERR_PCAPNG_TRUNCATED_BLOCK',
        `file ends inside a block (${left} of ${Math.max(q.need, 12)} bytes): the capture was cut short; everything before it was counted`,
        { subject: this.subject, offset: q.base + q.start },
      );
    }
  }

  anomalies(into: Record<string, number>): void {
    addCount(into, 'caplen_exceeds_wirelen', this.caplenOverWirelen);
    addCount(into, 'pcapng_simple_packet_block_no_timestamp', this.spbPackets);
  }

  dropped(): number | null {
    if (!this.anyDrops) return null;
    let n = this.dropsBefore;
    for (const d of this.drops.values()) n += d;
    return n;
  }
}
