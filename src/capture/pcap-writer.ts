// Classic pcap writer (owned by synth): microsecond or nanosecond magic, either byte
// order, records streamed through a ChunkedOutput's reusable buffer.

import { checkTime, type CaptureWriter } from './writer-common.js';
import type { ChunkedOutput } from './writer-output.js';

export interface PcapWriterOptions {
  /** LINKTYPE_* of every record. */
  readonly linktype: number;
  /** Snapshot length in the header; longer frames are cut to it (default 262144). */
  readonly snaplen?: number;
  /** 'us' writes magic a1b2c3d4, 'ns' writes a1b23c4d (default 'us'). */
  readonly resolution?: 'us' | 'ns';
  /** Byte order of every header field (default 'le'). */
  readonly byteOrder?: 'le' | 'be';
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export class PcapWriter implements CaptureWriter {
  readonly out: ChunkedOutput;
  readonly snaplen: number;
  private readonly nanos: boolean;
  private readonly le: boolean;
  private at = -1;
  private count = 0;

  constructor(out: ChunkedOutput, opts: PcapWriterOptions) {
    this.out = out;
    this.snaplen = opts.snaplen ?? 262144;
    this.nanos = opts.resolution === 'ns';
    this.le = (opts.byteOrder ?? 'le') === 'le';
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > 0x7fffffff) {
      throw new RangeError(`pcap snaplen ${this.snaplen} out of range`);
    }
    if (!Number.isInteger(opts.linktype) || opts.linktype < 0 || opts.linktype > 0xffff) {
      throw new RangeError(`link type ${opts.linktype} out of range`);
    }
    const p = out.ensure(GLOBAL_HEADER);
    const v = out.view;
    v.setUint32(p, this.nanos ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    v.setUint16(p + 4, 2, this.le);
    v.setUint16(p + 6, 4, this.le);
    v.setInt32(p + 8, 0, this.le); // thiszone
    v.setUint32(p + 12, 0, this.le); // sigfigs
    v.setUint32(p + 16, this.snaplen, this.le);
    v.setUint32(p + 20, opts.linktype, this.le);
    out.pos = p + GLOBAL_HEADER;
  }

  get records(): number {
    return this.count;
  }

  beginRecord(maxLen: number): number {
    const p = this.out.ensure(RECORD_HEADER + maxLen);
    this.at = p;
    return p + RECORD_HEADER;
  }

  endRecord(sec: number, nsec: number, len: number, wirelen: number): void {
    checkTime(sec, nsec);
    const out = this.out;
    const p = this.at;
    const caplen = len < this.snaplen ? len : this.snaplen;
    // Bytes written past the snapshot length must not leak into the next record.
    if (caplen < len) out.buf.fill(0, p + RECORD_HEADER + caplen, p + RECORD_HEADER + len);
    const v = out.view;
    const le = this.le;
    v.setUint32(p, sec, le);
    v.setUint32(p + 4, this.nanos ? nsec : Math.floor(nsec / 1000), le);
    v.setUint32(p + 8, caplen, le);
    v.setUint32(p + 12, wirelen > len ? wirelen : len, le);
    out.pos = p + RECORD_HEADER + caplen;
    this.at = -1;
    this.count++;
  }

  writePacket(sec: number, nsec: number, bytes: Uint8Array, wirelen: number = bytes.length): void {
    const at = this.beginRecord(bytes.length);
    this.out.buf.set(bytes, at);
    this.endRecord(sec, nsec, bytes.length, wirelen);
  }

  close(): Promise<void> {
    return this.out.close();
  }
}
