// Raw IP link types: RAW (101, and 12/14 on BSDs) name the version in the first nibble,
// which is the definition of those link types (not a guess); IPV4 (228) and IPV6 (229)
// say it in the link type itself. A frame on these links is IP by definition: one whose header
// cannot be read (no bytes, or a version other than 4 or 6) is ip-malformed, as it is on 228/229.

import { weird } from './anomaly.js';
import { u8 } from './bytes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ANOMALY, NONIP, type DecodedPacket } from './packet.js';

export function decodeRawIp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 1) {
    weird(out, ANOMALY.truncated_link_header);
    out.nonIp = NONIP.malformed;
    return;
  }
  const version = u8(b, off) >> 4;
  if (version === 4) decodeIpv4(b, off, end, out);
  else if (version === 6) decodeIpv6(b, off, end, out);
  else {
    weird(out, ANOMALY.bad_ip_version_raw);
    out.nonIp = NONIP.malformed;
  }
}
