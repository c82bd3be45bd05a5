// `ktriage regress <dir>`: run every fixture that has an expected.json and compare.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compareExpectation, type Comparable, type Expectation } from '../../analyzers/expectations.js';
import { InputError } from '../../util/errors.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { comparableOf } from './comparable.js';

export interface RegressOptions {
  update?: boolean;
  junit?: string;
  /** With update: who or what checked the values (expected.json's checkedWith). */
  checkedBy?: string;
}

interface CaseResult { name: string; input: string; diffs: string[]; error?: string; seconds: number }

function findFixtures(dir: string, depth = 0): string[] {
  if (depth > 4) return [];
  const out: string[] = [];
  if (existsSync(join(dir, 'expected.json'))) out.push(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') out.push(...findFixtures(join(dir, e.name), depth + 1));
  }
  return out;
}

function xmlEscape(s: string): string {
  return sanitizeLine(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function junitXml(results: CaseResult[]): string {
  const failures = results.filter((r) => r.diffs.length || r.error).length;
  const total = results.reduce((n, r) => n + r.seconds, 0);
  const cases = results.map((r) => {
    const body = r.error ? `<error message="${xmlEscape(r.error)}"/>` : r.diffs.length ? `<failure message="${xmlEscape(r.diffs[0])}">${xmlEscape(r.diffs.join('\n'))}</failure>` : '';
    return `  <testcase classname="ktriage.regress" name="${xmlEscape(r.name)}" time="${r.seconds.toFixed(3)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="ktriage regress" tests="${results.length}" failures="${failures}" errors="0" time="${total.toFixed(3)}">\n${cases.join('\n')}\n</testsuite>\n`;
}

export async function runRegress(dir: string, opts: RegressOptions): Promise<{ text: string; code: number }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: not a directory`);
  const fixtures = findFixtures(dir);
  if (fixtures.length === 0) throw new InputError(`${dir}: no fixture with an expected.json`);
  const results: CaseResult[] = [];
  const lines: string[] = [];
  for (const f of fixtures) {
    const name = relative(dir, f) || '.';
    const t0 = process.hrtime.bigint();
    let want: Expectation;
    try {
      want = JSON.parse(readFileSync(join(f, 'expected.json'), 'utf8')) as Expectation;
    } catch (e) {
      results.push({ name, input: '?', diffs: [], error: `expected.json unreadable: ${(e as Error).message}`, seconds: 0 });
      continue;
    }
    const input = join(f, want.input);
    try {
      const got: Comparable = await comparableOf(input);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (opts.update) {
        const next: Expectation = { ...want, ...got, input: want.input };
        // An old "checked with crash" note must not vouch for values nobody re-checked.
        const day = new Date().toISOString().slice(0, 10);
        next.checkedWith = opts.checkedBy
          ? `${opts.checkedBy} (${day})`
          : `NOT CHECKED: written on ${day} by \`ktriage regress --update\` from ktriage's own output; check it against a referee and record how with --checked-by`;
        if (want.backtrace === undefined && got.backtrace !== undefined && got.backtrace.length === 0) delete next.backtrace;
        writeFileSync(join(f, 'expected.json'), JSON.stringify(next, null, 2) + '\n');
        results.push({ name, input: want.input, diffs: [], seconds });
        lines.push(`updated ${name}`);
        continue;
      }
      const diffs = compareExpectation(want, got);
      results.push({ name, input: want.input, diffs, seconds });
      lines.push(`${diffs.length ? 'FAIL' : 'ok  '} ${name} (${want.input}, ${seconds.toFixed(2)} s)`);
      for (const d of diffs) lines.push(`     ${d}`);
    } catch (e) {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const msg = sanitizeLine((e as Error).message);
      results.push({ name, input: want.input, diffs: [], error: msg, seconds });
      lines.push(`ERR  ${name}: ${msg}`);
    }
  }
  const failed = results.filter((r) => r.diffs.length || r.error).length;
  lines.push(`${results.length - failed} passed, ${failed} failed`);
  if (opts.junit) writeFileSync(opts.junit, junitXml(results));
  return { text: lines.join('\n') + '\n', code: failed ? 1 : 0 };
}
