// Solaris snoop files (RFC 1761): big-endian, 16-byte header, padded records with a
// cumulative drop counter. Read because tshark reads them and sensors still produce them.

import { CaptureFormatError } from '../errors.js';
import { STEP, type ByteQueue, type Step } from './byte-queue.js';
import type { Frame } from './frame.js';
import { MAX_RECORD_BYTES, addCount, type RecordParser } from './record-parser.js';

const HEADER = 16;
const RECORD_HEADER = 24;
/**
 * snoop datalink codes (DLPI's DL_* values, RFC 1761, as tshark's wiretap reads them) ->
 * LINKTYPE_* (unknown codes map to an unsupported link type): DL_CSMACD (0) and DL_ETHER (4)
 * are Ethernet, DL_FDDI (8) FDDI, and DL_IPATM (0x12) SunATM's classical IP, whose frames
 * start with the same 4-byte VPI/VCI header as LINKTYPE_SUNATM (123). InfiniBand is DL_IB
 * (0x1a), with a 4-byte header (EtherType, reserved), not LINKTYPE_IPOIB's 44 bytes: not read.
 */
const DATALINK: Record<number, number> = { 0: 1, 4: 1, 8: 10, 0x12: 123 };
export const UNSUPPORTED_LINKTYPE = 0xffff;

/** "snoop\0\0\0" */
export function isSnoopMagic(b: Uint8Array, p: number): boolean {
  return b[p] === 0x73 && b[p + 1] === 0x6e && b[p + 2] === 0x6f && b[p + 3] === 0x6f && b[p + 4] === 0x70 && b[p + 5] === 0;
}

export class SnoopParser implements RecordParser {
  readonly format = 'snoop';
  private headerDone = false;
  private linktype = UNSUPPORTED_LINKTYPE;
  private drops = 0;
  private readonly subject: string;
  // readable oddities, counted as the pcap reader counts them
  private caplenOverWirelen = 0;
  private badFraction = 0;

  constructor(subject: string) {
    this.subject = subject;
  }

  next(q: ByteQueue, frame: Frame): Step {
    const p = q.start;
    const v = q.view;
    if (!this.headerDone) {
      if (q.end - p < HEADER) {
        q.need = HEADER;
        return STEP.needMore;
      }
      // RFC 1761 files are version 2; 3 to 5 are Surveyor's and Shomiti's, laid out the same
      // (tshark reads 2 to 5 and refuses the rest).
      const version = v.getUint32(p + 8, false);
      if (version < 2 || version > 5) {
        throw new CaptureFormatError('ERR_UNSUPPORTED_FORMAT', `snoop file version ${version} is not one of 2 to 5, the versions tshark reads: not a capture netpulse can read`, {
          subject: this.subject,
          offset: q.base + p + 8,
        });
      }
      this.linktype = DATALINK[v.getUint32(p + 12, false)] ?? UNSUPPORTED_LINKTYPE;
      this.headerDone = true;
      q.start = p + HEADER;
      return STEP.skipped;
    }
    if (q.end - p < RECORD_HEADER) {
      q.need = RECORD_HEADER;
      return STEP.needMore;
    }
    const orig = v.getUint32(p, false);
    const incl = v.getUint32(p + 4, false);
    const recLen = v.getUint32(p + 8, false);
    if (incl > MAX_RECORD_BYTES || recLen < RECORD_HEADER + incl || recLen > RECORD_HEADER + MAX_RECORD_BYTES + 8) {
      throw new CaptureFormatError(
        'ERR_PCAP_BAD_RECORD_LENGTH',
        `snoop record lengths are inconsistent (captured ${incl}, record ${recLen}): the file is corrupt from here`,
        { subject: this.subject, offset: q.base + p },
      );
    }
    if (q.end - p < recLen) {
      q.need = recLen;
      return STEP.needMore;
    }
    this.drops = v.getUint32(p + 12, false);
    const usec = v.getUint32(p + 20, false);
    // A fraction of a second or more is carried into the seconds, as in pcap, and counted.
    if (usec >= 1_000_000) this.badFraction++;
    // Kept as the file says, as tshark does, but counted.
    if (incl > orig) this.caplenOverWirelen++;
    frame.tsMicros = v.getUint32(p + 16, false) * 1_000_000 + usec;
    frame.caplen = incl;
    frame.wirelen = orig;
    frame.linktype = this.linktype;
    frame.bytes = q.buf;
    frame.offset = p + RECORD_HEADER;
    frame.iface = 0;
    q.start = p + recLen;
    return STEP.frame;
  }

  finish(q: ByteQueue): void {
    const left = q.end - q.start;
    if (!this.headerDone || left > 0) {
      throw new CaptureFormatError(
        'ERR_PCAP_TRUNCATED_RECORD',
        `file ends inside a snoop ${this.headerDone ? 'record' : 'header'} (${left} bytes left over): the capture was cut short; everything before it was counted`,
        { subject: this.subject, offset: q.base + q.start },
      );
    }
  }

  anomalies(into: Record<string, number>): void {
    addCount(into, 'caplen_exceeds_wirelen', this.caplenOverWirelen);
    addCount(into, 'bad_timestamp_fraction', this.badFraction);
  }

  dropped(): number | null {
    return this.drops;
  }
}
