// Linux "cooked" captures: SLL (16-byte header, protocol last) and SLL2 (20-byte header,
// protocol first). The protocol is an EtherType, or 1 (Novell 802.3) / 4 (802.2 LLC).

import { weird } from './anomaly.js';
import { u16be } from './bytes.js';
import { dispatchEthertype } from './dispatch.js';
import { decodeLlc } from './ethernet.js';
import { ANOMALY, LAYER, NONIP, type DecodedPacket } from './packet.js';

function dispatchSllProtocol(proto: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (proto === 0x0004) decodeLlc(b, off, end, out);
  else if (proto < 0x0600) out.nonIp = NONIP.other;
  else dispatchEthertype(proto, b, off, end, out);
}

export function decodeSll(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 16) {
    weird(out, ANOMALY.truncated_sll_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchSllProtocol(u16be(b, off + 14), b, off + 16, end, out);
}

export function decodeSll2(b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (end - off < 20) {
    weird(out, ANOMALY.truncated_sll_header);
    out.nonIp = NONIP.other;
    return;
  }
  out.layers |= LAYER.link;
  dispatchSllProtocol(u16be(b, off), b, off + 20, end, out);
}
