// Address text for the synth truth file and its command-line host arguments: IPv4 dotted
// quads and RFC 5952 IPv6 (owned by synth; used once per host, never per packet).

export function formatIPv4(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as "::". */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = [
    w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff,
    w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff,
  ];
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** Dotted quad to uint32, or null when the text is not one. */
export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return null;
  let a = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    a = a * 256 + o;
  }
  return a;
}

/** IPv6 text (with "::", without embedded IPv4) to four big-endian words, or null. */
export function parseIPv6(s: string): [number, number, number, number] | null {
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.length < 2) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const part = (t: string | undefined): string[] | null => {
    if (t === undefined || t === '') return [];
    const gs = t.split(':');
    for (const x of gs) if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return null;
    return gs;
  };
  const head = part(halves[0]);
  const tail = part(halves[1]);
  if (head === null || tail === null) return null;
  let groups: string[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const n = groups.map((x) => parseInt(x, 16));
  const w = (i: number): number => (((n[i] ?? 0) << 16) | (n[i + 1] ?? 0)) >>> 0;
  return [w(0), w(2), w(4), w(6)];
}
