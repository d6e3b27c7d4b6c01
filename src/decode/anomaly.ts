// Records the first anomaly of a frame; later ones are consequences of the first.
import type { DecodedPacket } from './packet.js';

export function weird(out: DecodedPacket, code: number): void {
  if (out.anomaly === 0) out.anomaly = code;
}
