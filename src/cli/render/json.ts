// JSON output for every command. JSON.stringify escapes C0 controls (ESC included) but writes DEL,
// the C1 range (U+0080-U+009F: U+009B is CSI to many terminals), line/paragraph separators and
// bidi overrides raw; strings from a dump, log or module may carry any of them, so they are
// escaped as \uXXXX too: the value parses the same and `ktriage ... --json` is safe on a terminal.
//
// Every document gets `schemaVersion` here, in one place, so no command can print JSON without it
// (src/api/schema-version.ts says when it changes). A command whose result is a list prints it as
// `{ schemaVersion, items: [...] }`: a bare array has nowhere to carry the version.
import { SCHEMA_VERSION } from '../../api/schema-version.js';

/** BigInt becomes a hex string; RegExps are written as their source. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return '0x' + value.toString(16);
  if (value instanceof RegExp) return value.source;
  return value;
}

const UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export interface JsonOptions {
  /**
   * Add ktriage's `schemaVersion` (default true). Off for documents of someone else's format,
   * such as SARIF, whose schema allows no extra top-level key.
   */
  versioned?: boolean;
}

/** The value as printed: `schemaVersion` first, a list wrapped in `items`. */
function withSchemaVersion(value: unknown): unknown {
  if (Array.isArray(value)) return { schemaVersion: SCHEMA_VERSION, items: value };
  if (value !== null && typeof value === 'object') return { schemaVersion: SCHEMA_VERSION, ...value };
  return value;
}

/** Pretty JSON with a trailing newline, escaped for terminals. */
export function toJson(value: unknown, opts: JsonOptions = {}): string {
  const doc = opts.versioned === false ? value : withSchemaVersion(value);
  return JSON.stringify(doc, jsonReplacer, 2).replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
}
