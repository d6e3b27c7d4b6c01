// Which layer follows which: three tables (link type, EtherType, IP protocol) filled in one
// place (decoder.ts). Protocol files call the dispatchers and never import each other
// in a cycle.

import { NONIP, type DecodedPacket } from './packet.js';
import { ANOMALY } from './packet.js';
import { weird } from './anomaly.js';

/** Decodes [off, end) of b into out; never throws, never reads outside [off, end). */
export type LayerDecoder = (b: Uint8Array, off: number, end: number, out: DecodedPacket) => void;

export const LINKTYPE_DECODERS = new Map<number, LayerDecoder>();
export const ETHERTYPE_DECODERS: (LayerDecoder | undefined)[] = new Array<LayerDecoder | undefined>(65536).fill(undefined);
export const IPPROTO_DECODERS: (LayerDecoder | undefined)[] = new Array<LayerDecoder | undefined>(256).fill(undefined);

/** Values below 0x0600 in an EtherType position are 802.3 lengths: an LLC header follows. */
let llcDecoder: LayerDecoder = (_b, _o, _e, out) => {
  out.nonIp = NONIP.other;
};

export function setLlcDecoder(d: LayerDecoder): void {
  llcDecoder = d;
}

export function dispatchEthertype(type: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  if (type < 0x0600) {
    // an IEEE 802.3 length: the LLC data is that long, and what follows it is padding
    let llcEnd = off + type;
    if (llcEnd > end) {
      weird(out, ANOMALY.truncated_8023_payload);
      llcEnd = end;
    }
    llcDecoder(b, off, llcEnd, out);
    return;
  }
  const d = ETHERTYPE_DECODERS[type];
  if (d !== undefined) d(b, off, end, out);
  else out.nonIp = NONIP.other;
}

export function dispatchIpProto(proto: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  const d = IPPROTO_DECODERS[proto];
  if (d !== undefined) d(b, off, end, out);
}

export function dispatchLinktype(linktype: number, b: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  const d = LINKTYPE_DECODERS.get(linktype);
  if (d !== undefined) d(b, off, end, out);
  else {
    weird(out, ANOMALY.unsupported_link_type);
    out.nonIp = NONIP.unsupported;
  }
}
