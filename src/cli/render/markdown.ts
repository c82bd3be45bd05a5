// Markdown helpers that cannot be broken by untrusted text: code spans and fences are sized to be
// longer than any backtick run inside the text, and table cells escape pipes.
import { sanitize, sanitizeLine } from '../../util/sanitize.js';

export function codeSpan(text: string): string {
  const t = sanitizeLine(text);
  const longest = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

export function codeBlock(text: string, lang = ''): string {
  const t = sanitize(text);
  const longest = Math.max(2, ...[...t.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${t}\n${fence}`;
}

export function cell(text: string): string {
  return sanitizeLine(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

/** Plain prose from untrusted input: escape characters that start Markdown/HTML constructs. */
export function prose(text: string): string {
  return sanitizeLine(text).replace(/([\\`*_[\]<>#|])/g, '\\$1');
}
