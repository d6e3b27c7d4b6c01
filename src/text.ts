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
