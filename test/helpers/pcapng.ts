// Raw pcapng blocks, little-endian, for tests that build files block by block (the spec's
// layout: type, total length, body, total length again).

export function pcapngBlock(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}
