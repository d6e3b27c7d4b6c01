// Text that reaches a terminal from places an operator does not control (a capture's file
// name, a remote feed, a config string) is shown, never obeyed: control characters would
// set the window title, clear the screen or answer terminal queries.

/** `s` with C0/C1 controls, DEL, line/paragraph separators and bidi overrides as `\xNN`/`\uNNNN`. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * `n` in decimal units (each 1000 times the one before; units[0] is shown whole), with the
 * decimals `digits(v)` gives for a scaled value. A value that would round to 1000 of one unit
 * is shown in the next ("1.0 MB", not "1000 kB").
 */
export function decimalUnits(n: number, units: readonly string[], digits: (v: number) => number): string {
  let v = n;
  let i = 0;
  for (;;) {
    const text = i === 0 ? String(Math.round(v)) : v.toFixed(digits(v));
    if (Math.abs(Number(text)) < 1000 || i === units.length - 1) return `${text} ${units[i] ?? ''}`;
    v /= 1000;
    i++;
  }
}
