// pcapng writer (owned by synth): one Section Header Block, Interface Description Blocks
// (link type, snaplen, if_tsresol decimal or binary, if_tsoffset, if_name) and Enhanced
// Packet Blocks, in either byte order, streamed through a ChunkedOutput.

import { checkTime, type CaptureWriter } from './writer-common.js';
import type { ChunkedOutput } from './writer-output.js';

export interface PcapngInterface {
  readonly linktype: number;
  /** 0 means no limit (the default). */
  readonly snaplen?: number;
  /** if_tsresol: 10^-exp (base 10, exp 0..9) or 2^-exp (base 2, exp 0..23). Default 10^-6. */
  readonly tsresol?: { readonly base: 10 | 2; readonly exp: number };
  /** if_tsoffset in whole seconds: stored timestamps are (time - tsoffset). Default none. */
  readonly tsoffset?: number;
  readonly name?: string;
}

export interface PcapngWriterOptions {
  readonly byteOrder?: 'le' | 'be';
  /** shb_userappl option; default "netpulse". */
  readonly userAppl?: string;
  /** Interfaces described right after the section header (more may be added later). */
  readonly interfaces?: readonly PcapngInterface[];
}

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const EPB_HEADER = 28;

const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface IfaceState {
  snaplen: number;
  /** Timestamp units per second. */
  units: number;
  /** Decimal: nanoseconds per unit; 0 for binary resolutions. */
  nsPerUnit: number;
  tsoffset: number;
}

const utf8 = new TextEncoder();

export class PcapngWriter implements CaptureWriter {
  readonly out: ChunkedOutput;
  private readonly le: boolean;
  private readonly ifaces: IfaceState[] = [];
  private at = -1;
  private count = 0;

  constructor(out: ChunkedOutput, opts: PcapngWriterOptions = {}) {
    this.out = out;
    this.le = (opts.byteOrder ?? 'le') === 'le';
    const options: Uint8Array[] = [option(OPT_SHB_USERAPPL, utf8.encode(opts.userAppl ?? 'netpulse'), this.le)];
    const body = 16 + optionsLength(options);
    const p = out.ensure(body + 12);
    const v = out.view;
    v.setUint32(p, BT_SHB, this.le);
    v.setUint32(p + 4, body + 12, this.le);
    v.setUint32(p + 8, 0x1a2b3c4d, this.le);
    v.setUint16(p + 12, 1, this.le);
    v.setUint16(p + 14, 0, this.le);
    v.setInt32(p + 16, -1, this.le); // section length unknown (-1, 64 bits)
    v.setInt32(p + 20, -1, this.le);
    const end = writeOptions(out.buf, p + 24, options, this.le);
    v.setUint32(end, body + 12, this.le);
    out.pos = end + 4;
    for (const i of opts.interfaces ?? []) this.addInterface(i);
  }

  get records(): number {
    return this.count;
  }

  get interfaceCount(): number {
    return this.ifaces.length;
  }

  /** Describe one more interface (an IDB); returns its id for endRecord/writePacket. */
  addInterface(i: PcapngInterface): number {
    const snaplen = i.snaplen ?? 0;
    if (!Number.isInteger(i.linktype) || i.linktype < 0 || i.linktype > 0xffff) {
      throw new RangeError(`link type ${i.linktype} out of range`);
    }
    if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0x7fffffff) throw new RangeError(`snaplen ${snaplen} out of range`);
    const res = i.tsresol ?? { base: 10, exp: 6 };
    let units: number;
    let nsPerUnit: number;
    if (res.base === 10 && Number.isInteger(res.exp) && res.exp >= 0 && res.exp <= 9) {
      units = 10 ** res.exp;
      nsPerUnit = 10 ** (9 - res.exp);
    } else if (res.base === 2 && Number.isInteger(res.exp) && res.exp >= 0 && res.exp <= 23) {
      units = 2 ** res.exp;
      nsPerUnit = 0;
    } else {
      throw new RangeError(`if_tsresol ${res.base}^-${res.exp} is not supported (10^-0..9, 2^-0..23)`);
    }
    const tsoffset = i.tsoffset ?? 0;
    if (!Number.isSafeInteger(tsoffset) || Math.abs(tsoffset) > 0x7fffffff) throw new RangeError(`if_tsoffset ${tsoffset} out of range`);

    const options: Uint8Array[] = [];
    if (i.name !== undefined) options.push(option(OPT_IF_NAME, utf8.encode(i.name), this.le));
    if (i.tsresol !== undefined) options.push(option(OPT_IF_TSRESOL, Uint8Array.of(res.base === 2 ? 0x80 | res.exp : res.exp), this.le));
    if (tsoffset !== 0) {
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      // int64 from a 32-bit-range integer: low word, then sign extension.
      dv.setUint32(this.le ? 0 : 4, tsoffset >>> 0, this.le);
      dv.setInt32(this.le ? 4 : 0, tsoffset < 0 ? -1 : 0, this.le);
      options.push(option(OPT_IF_TSOFFSET, b, this.le));
    }
    const total = 20 + optionsLength(options);
    const out = this.out;
    const p = out.ensure(total);
    const v = out.view;
    v.setUint32(p, BT_IDB, this.le);
    v.setUint32(p + 4, total, this.le);
    v.setUint16(p + 8, i.linktype, this.le);
    v.setUint16(p + 10, 0, this.le);
    v.setUint32(p + 12, snaplen, this.le);
    const end = writeOptions(out.buf, p + 16, options, this.le);
    v.setUint32(end, total, this.le);
    out.pos = end + 4;
    this.ifaces.push({ snaplen, units, nsPerUnit, tsoffset });
    return this.ifaces.length - 1;
  }

  beginRecord(maxLen: number): number {
    const p = this.out.ensure(EPB_HEADER + maxLen + 3 + 4);
    this.at = p;
    return p + EPB_HEADER;
  }

  endRecord(sec: number, nsec: number, len: number, wirelen: number, iface = 0): void {
    const st = this.ifaces[iface];
    if (st === undefined) throw new RangeError(`interface ${iface} was not added (${this.ifaces.length} described)`);
    checkTime(sec, nsec);
    const out = this.out;
    const p = this.at;
    const caplen = st.snaplen !== 0 && len > st.snaplen ? st.snaplen : len;
    if (caplen < len) out.buf.fill(0, p + EPB_HEADER + caplen, p + EPB_HEADER + len);
    const padded = (caplen + 3) & ~3;
    const total = EPB_HEADER + padded + 4;

    // Timestamp in interface units as a 64-bit value, exactly, without BigInt:
    // value = (sec - tsoffset) * units + frac, with sec split into 16-bit halves.
    const s = sec - st.tsoffset;
    if (s < 0) throw new RangeError(`timestamp ${sec}s is before the interface's if_tsoffset ${st.tsoffset}`);
    let frac: number;
    if (st.nsPerUnit !== 0) {
      frac = Math.floor(nsec / st.nsPerUnit);
    } else {
      const x = nsec * st.units;
      frac = Math.floor(x / 1e9);
      if (frac * 1e9 > x) frac--;
      else if ((frac + 1) * 1e9 <= x) frac++;
    }
    const a = Math.floor(s / 65536);
    const b = s - a * 65536;
    const au = a * st.units;
    let hi = Math.floor(au / 65536);
    let lo = (au - hi * 65536) * 65536 + b * st.units + frac;
    const carry = Math.floor(lo / 4294967296);
    hi += carry;
    lo -= carry * 4294967296;

    const v = out.view;
    const le = this.le;
    v.setUint32(p, BT_EPB, le);
    v.setUint32(p + 4, total, le);
    v.setUint32(p + 8, iface, le);
    v.setUint32(p + 12, hi, le);
    v.setUint32(p + 16, lo, le);
    v.setUint32(p + 20, caplen, le);
    v.setUint32(p + 24, wirelen > len ? wirelen : len, le);
    v.setUint32(p + EPB_HEADER + padded, total, le);
    out.pos = p + total;
    this.at = -1;
    this.count++;
  }

  writePacket(sec: number, nsec: number, bytes: Uint8Array, wirelen: number = bytes.length, iface = 0): void {
    const at = this.beginRecord(bytes.length);
    this.out.buf.set(bytes, at);
    this.endRecord(sec, nsec, bytes.length, wirelen, iface);
  }

  close(): Promise<void> {
    return this.out.close();
  }
}

/** One option TLV, value padded to 32 bits. */
function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const b = new Uint8Array(4 + ((value.length + 3) & ~3));
  const dv = new DataView(b.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  b.set(value, 4);
  return b;
}

/** Bytes of the options plus opt_endofopt (none at all when there are no options). */
function optionsLength(opts: readonly Uint8Array[]): number {
  if (opts.length === 0) return 0;
  let n = 4;
  for (const o of opts) n += o.length;
  return n;
}

function writeOptions(buf: Uint8Array, at: number, opts: readonly Uint8Array[], le: boolean): number {
  if (opts.length === 0) return at;
  let p = at;
  for (const o of opts) {
    buf.set(o, p);
    p += o.length;
  }
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(p, OPT_ENDOFOPT, le);
  return p + 4;
}
