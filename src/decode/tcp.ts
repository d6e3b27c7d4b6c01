// TCP header (RFC 9293): ports, flags and a checked data offset.
import { weird } from './anomaly.js';
import { u16be, u8 } from './bytes.js';
import { ANOMALY, LAYER, type DecodedPacket } from './packet.js';

export function decodeTcp(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  out.l4Offset = off;
  const n = end - off;
  if (n >= 4) {
    out.srcPort = u16be(b, off);
    out.dstPort = u16be(b, off + 2);
  }
  if (n < 20) {
    if (n >= 14) out.tcpFlags = u8(b, off + 13);
    weird(out, ANOMALY.truncated_tcp);
    return;
  }
  out.layers |= LAYER.tcp;
  out.tcpFlags = u8(b, off + 13);
  const doff = (u8(b, off + 12) >> 4) * 4;
  if (doff < 20) weird(out, ANOMALY.bad_tcp_data_offset);
  else if (doff > n) weird(out, ANOMALY.truncated_tcp);
}
