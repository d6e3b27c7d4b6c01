// Address text, made only when a summary or report is built: IPv4 dotted quad, IPv6 in
// RFC 5952 form (lower case, no leading zeros, the longest run of two or more zero groups
// as "::", the first of equal runs; IPv4-mapped addresses as ::ffff:a.b.c.d, and
// IPv4-compatible ones as ::a.b.c.d, as inet_ntop and tshark write them).

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** w0..w3: the address as four big-endian 32-bit words. */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatIpv4(w3)}`;
  // IPv4-compatible (::/96 but :: and ::1, and whatever has a zero seventh group), written
  // as inet_ntop and tshark write it (::1.2.3.4): the ground truth's form
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 >>> 16 !== 0) return `::${formatIpv4(w3)}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number | undefined): string => (x ?? 0).toString(16);
  if (bestLen < 2) return g.map(hex).join(':');
  const head = g.slice(0, bestStart).map(hex).join(':');
  const tail = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}
