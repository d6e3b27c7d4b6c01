// Feeding an Aggregator scripted IPv4 packets (tests of the aggregator's semantics).

import type { Aggregator } from '../../src/aggregate/aggregator.js';
import { createFrame } from '../../src/capture/frame.js';
import { createDecodedPacket } from '../../src/decode/packet.js';

/** One IPv4 packet of `size` wire bytes from src to dst (numbers) at tsMicros, IP protocol `proto`. */
export type Send = (tsMicros: number, src: number, dst: number, size: number) => void;

export function ipv4Sender(agg: Aggregator, proto: number): Send {
  const f = createFrame();
  const p = createDecodedPacket();
  return (tsMicros, src, dst, size) => {
    f.tsMicros = tsMicros;
    f.caplen = size;
    f.wirelen = size;
    p.ipVersion = 4;
    p.src4 = src >>> 0;
    p.dst4 = dst >>> 0;
    p.ipProto = proto;
    agg.add(f, p);
  };
}
