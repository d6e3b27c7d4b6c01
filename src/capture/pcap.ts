// Classic libpcap files: both byte orders, microsecond and nanosecond magic, and the
// "modified" (Kuznetsov) variant with 24-byte record headers; versions 2.x (before 2.3 the
// record header's two lengths are in the other order) and DG/UX's 543.0. Records are parsed
// in place; every length is checked before it is used.

import { CaptureFormatError } from '../errors.js';
import { STEP, type ByteQueue, type Step } from './byte-queue.js';
import type { Frame } from './frame.js';
import { MAX_RECORD_BYTES, addCount, type RecordParser } from './record-parser.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;
const FILE_HEADER = 24;
/** How a record header orders its two lengths (libpcap's sf-pcap.c: the fields were
 *  interchanged at version 2.3, and some 2.3 writers kept the old order). */
const LENGTHS_IN_ORDER = 0;
const LENGTHS_SWAPPED = 1;
const LENGTHS_MAYBE_SWAPPED = 2;

/** True when the first four bytes are a pcap magic number in either byte order. */
export function isPcapMagic(b0: number, b1: number, b2: number, b3: number): boolean {
  const be = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  const le = ((b3 << 24) | (b2 << 16) | (b1 << 8) | b0) >>> 0;
  for (const m of [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED]) if (be === m || le === m) return true;
  return false;
}

export class PcapParser implements RecordParser {
  format = 'pcap';
  private headerDone = false;
  private le = true;
  private nano = false;
  private recordHeader = 16;
  private linktype = 0;
  private lengths = LENGTHS_IN_ORDER;
  private readonly subject: string;
  // readable oddities
  private caplenOverWirelen = 0;
  private badFraction = 0;
  private overSnaplen = 0;
  private snaplen = 0;

  constructor(subject: string) {
    this.subject = subject;
  }

  next(q: ByteQueue, frame: Frame): Step {
    if (!this.headerDone) return this.readHeader(q);
    const p = q.start;
    const hdr = this.recordHeader;
    if (q.end - p < hdr) {
      q.need = hdr;
      return STEP.needMore;
    }
    const v = q.view;
    const le = this.le;
    let incl = v.getUint32(p + 8, le);
    let orig = v.getUint32(p + 12, le);
    // Before version 2.3 the original length came first; a 2.3 file may be either way, and
    // as libpcap and tshark do, its lengths are taken as swapped when "captured" > "original".
    if (this.lengths !== LENGTHS_IN_ORDER && (this.lengths === LENGTHS_SWAPPED || incl > orig)) {
      const t = incl;
      incl = orig;
      orig = t;
    }
    if (incl > MAX_RECORD_BYTES) {
      throw new CaptureFormatError(
        'ERR_PCAP_BAD_RECORD_LENGTH',
        `record claims ${incl} captured bytes, more than the ${MAX_RECORD_BYTES}-byte maximum: the file is corrupt from here (or captures were joined with cat: use mergecap)`,
        { subject: this.subject, offset: q.base + p },
      );
    }
    if (q.end - p - hdr < incl) {
      q.need = hdr + incl;
      return STEP.needMore;
    }
    const sec = v.getUint32(p, le);
    let frac = v.getUint32(p + 4, le);
    if (this.nano) {
      if (frac >= 1_000_000_000) this.badFraction++;
      frac = Math.floor(frac / 1000);
    } else if (frac >= 1_000_000) {
      this.badFraction++;
    }
    // Kept as the file says, as tshark and tcpdump do, but counted: a frame cannot really
    // be shorter on the wire than what was captured of it.
    if (incl > orig) this.caplenOverWirelen++;
    if (incl > this.snaplen) this.overSnaplen++;
    frame.tsMicros = sec * 1_000_000 + frac;
    frame.caplen = incl;
    frame.wirelen = orig;
    frame.linktype = this.linktype;
    frame.bytes = q.buf;
    frame.offset = p + hdr;
    frame.iface = 0;
    q.start = p + hdr + incl;
    return STEP.frame;
  }

  private readHeader(q: ByteQueue): Step {
    const p = q.start;
    if (q.end - p < FILE_HEADER) {
      q.need = FILE_HEADER;
      return STEP.needMore;
    }
    const v = q.view;
    const magicBE = v.getUint32(p, false);
    const magicLE = v.getUint32(p, true);
    let magic: number;
    if (magicLE === MAGIC_US || magicLE === MAGIC_NS || magicLE === MAGIC_MODIFIED) {
      this.le = true;
      magic = magicLE;
    } else if (magicBE === MAGIC_US || magicBE === MAGIC_NS || magicBE === MAGIC_MODIFIED) {
      this.le = false;
      magic = magicBE;
    } else {
      throw new CaptureFormatError('ERR_PCAP_BAD_MAGIC', 'not a pcap file (bad magic number)', {
        subject: this.subject,
        offset: q.base + p,
      });
    }
    const major = v.getUint16(p + 4, this.le);
    const minor = v.getUint16(p + 6, this.le);
    if (major < 2) {
      throw new CaptureFormatError('ERR_UNSUPPORTED_FORMAT', `pcap file format version ${major}.${minor} is older than 2.0, which neither libpcap nor tshark reads: not a capture netpulse can read`, {
        subject: this.subject,
        offset: q.base + p + 4,
      });
    }
    // 543.0 is DG/UX tcpdump's, with the lengths in the pre-2.3 order
    this.lengths = (major === 2 && minor < 3) || major === 543 ? LENGTHS_SWAPPED : major === 2 && minor === 3 ? LENGTHS_MAYBE_SWAPPED : LENGTHS_IN_ORDER;
    this.nano = magic === MAGIC_NS;
    this.recordHeader = magic === MAGIC_MODIFIED ? 24 : 16;
    this.format = magic === MAGIC_NS ? 'pcap-ns' : magic === MAGIC_MODIFIED ? 'pcap-modified' : 'pcap';
    this.snaplen = v.getUint32(p + 16, this.le);
    if (this.snaplen === 0) this.snaplen = MAX_RECORD_BYTES;
    // The upper bits of the link-type field carry FCS information (LINKTYPE_FCS_*).
    this.linktype = v.getUint32(p + 20, this.le) & 0x03ffffff;
    this.headerDone = true;
    q.start = p + FILE_HEADER;
    return STEP.skipped;
  }

  finish(q: ByteQueue): void {
    const left = q.end - q.start;
    if (!this.headerDone) {
      throw new CaptureFormatError(
        'ERR_PCAP_TRUNCATED_HEADER',
        `file ends after ${left} bytes, inside the ${FILE_HEADER}-byte pcap file header: it is not a complete capture`,
        { subject: this.subject, offset: q.base + q.start },
      );
    }
    if (left > 0) {
      const what = left < this.recordHeader ? `record header (${left} of ${this.recordHeader} bytes)` : `record (${left} of ${q.need} bytes)`;
      throw new CaptureFormatError(
        'ERR_PCAP_TRUNCATED_RECORD',
        `file ends inside a ${what}: the capture was cut short; everything before it was counted`,
        { subject: this.subject, offset: q.base + q.start },
      );
    }
  }

  anomalies(into: Record<string, number>): void {
    addCount(into, 'caplen_exceeds_wirelen', this.caplenOverWirelen);
    addCount(into, 'bad_timestamp_fraction', this.badFraction);
    addCount(into, 'caplen_exceeds_snaplen', this.overSnaplen);
  }

  dropped(): number | null {
    return null;
  }
}
