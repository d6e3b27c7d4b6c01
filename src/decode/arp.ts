// ARP and RARP: counted by protocol, never per host (hosts are IP addresses).
import { LAYER, NONIP, type DecodedPacket } from './packet.js';

export function decodeArp(_b: Uint8Array, _off: number, _end: number, out: DecodedPacket): void {
  out.layers |= LAYER.arp;
  out.nonIp = NONIP.arp;
}
