// A classic pcap file header (little-endian, microseconds, version 2.4, snaplen 65535), as
// libpcap writes it: several suites build small captures byte by byte after it.

export function pcapHeader(linktype = 1): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(linktype, 20);
  return head;
}
