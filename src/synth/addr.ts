// Address text for the synth truth file and its command-line host arguments: IPv4 dotted
// quads and RFC 5952 IPv6 (owned by synth; used once per host, never per packet).

// One formatter for the whole project (the analyzer's): the truth file must spell hosts
// exactly as `netpulse replay` does.
export { formatIpv4 as formatIPv4, formatIpv6 as formatIPv6 } from '../aggregate/address.js';

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
