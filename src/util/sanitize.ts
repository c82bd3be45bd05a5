// Text from dumps and logs is untrusted: it must never carry terminal control sequences to the
// user's terminal. Strip ANSI escape sequences first (so their parameters do not leak as text),
// then any remaining C0/C1 control character except tab and newline.

const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Remove escape sequences and control characters; keeps `\n` and `\t`. */
export function sanitize(text: string): string {
  return text.replace(ANSI, '').replace(CONTROL, '');
}

/** For one-line fields (comm, module names): also fold newlines and tabs to spaces. */
export function sanitizeLine(text: string): string {
  return sanitize(text).replace(/[\n\t]/g, ' ');
}
