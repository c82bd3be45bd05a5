// schemas/triage-line.schema.json is generated from src/triage/types.ts (the TriageLine union) and
// must equal what the types give today; `UPDATE_SCHEMAS=1 npx vitest run test/triage/schema.test.ts`
// rewrites it. Also the cheap, in-process parts of triage: glob matching, grouping, HTML escaping.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/api/schema-version.js';
import { Grouper, groupKey } from '../../src/triage/group.js';
import { esc, renderHtml } from '../../src/triage/html.js';
import { globToRegExp } from '../../src/triage/inputs.js';
import type { TriageResultLine } from '../../src/triage/types.js';
import { REPO } from '../paths.js';

export const TRIAGE_SCHEMA = join(REPO, 'schemas/triage-line.schema.json');

function generate(): object {
  const gen = createGenerator({ path: join(REPO, 'src/triage/types.ts'), tsconfig: join(REPO, 'tsconfig.json'), type: 'TriageLine', skipTypeCheck: true, topRef: false, expose: 'export', jsDoc: 'extended' });
  const s = gen.createSchema('TriageLine');
  return {
    $schema: s.$schema,
    title: `ktriage triage --jsonl line, schemaVersion ${SCHEMA_VERSION}`,
    $comment: 'Generated from src/triage/types.ts (UPDATE_SCHEMAS=1 npx vitest run test/triage/schema.test.ts); do not edit. One line per input (type result or error), then one per group, then one summary.',
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
  };
}

describe('schemas/triage-line.schema.json', () => {
  it('equals the schema generated from src/triage/types.ts', () => {
    const schema = generate();
    if (process.env.UPDATE_SCHEMAS === '1') writeFileSync(TRIAGE_SCHEMA, JSON.stringify(schema, null, 2) + '\n');
    expect(JSON.parse(readFileSync(TRIAGE_SCHEMA, 'utf8')), 'stale: regenerate with UPDATE_SCHEMAS=1').toEqual(schema);
  }, 60_000);

  it('is closed: an unknown key or a wrong type fails', () => {
    const v = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(TRIAGE_SCHEMA, 'utf8')));
    const ok = { schemaVersion: SCHEMA_VERSION, type: 'error', input: 'x', kind: null, error: 'bad', ms: 1 };
    expect(v(ok)).toBe(true);
    expect(v({ ...ok, extra: 1 })).toBe(false);
    expect(v({ ...ok, kind: 'core' })).toBe(false);
    expect(v({ ...ok, schemaVersion: SCHEMA_VERSION + 1 })).toBe(false);
  });
});

describe('glob matching', () => {
  it('* and ? stay inside a path segment, ** crosses any number of them', () => {
    expect(globToRegExp('*.log').test('a.log')).toBe(true);
    expect(globToRegExp('*.log').test('d/a.log')).toBe(false);
    expect(globToRegExp('**/vmcore*').test('vmcore.1')).toBe(true);
    expect(globToRegExp('**/vmcore*').test('a/b/vmcore.1')).toBe(true);
    expect(globToRegExp('a/**').test('a/b/c')).toBe(true);
    expect(globToRegExp('dump?.[0-9]').test('dump1.7')).toBe(true);
    expect(globToRegExp('dump?.[!0-9]').test('dump1.7')).toBe(false);
    expect(globToRegExp('a.b(c)+').test('a.b(c)+')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

function line(input: string, over: Partial<TriageResultLine>): TriageResultLine {
  return { schemaVersion: SCHEMA_VERSION, type: 'result', input, kind: 'log', format: 'log', kernel: '6.1.0', title: 'WARNING in f', hazards: [], signature: 'title:WARNING in f|f', topFrames: ['f'], crashTime: null, day: '2026-01-02', reports: 1, problems: [], incomplete: null, ms: 1, ...over };
}

describe('grouping', () => {
  it('counts, kernels, first and last by day, a dump as representative, keys by --group-by', () => {
    const g = new Grouper('signature');
    g.add(line('b.log', { day: '2026-01-03' }));
    g.add(line('a.log', { day: '2026-01-01', kernel: '5.10' }));
    g.add(line('c.vmcore', { day: '2026-01-05', kind: 'vmcore', format: 'elf-core' }), { verdict: 'v', headline: null, backtrace: [], backtraceSource: '', cpus: [] });
    g.add(line('h.log', { hazards: ['fpu-in-nmi-warn'], signature: 'hazard:fpu-in-nmi-warn' }));
    g.add({ schemaVersion: SCHEMA_VERSION, type: 'error', input: 'bad', kind: null, error: 'x', ms: 0 });
    const [top, second] = g.lines();
    expect(top).toMatchObject({ key: 'title:WARNING in f|f', count: 3, kernels: { '6.1.0': 2, '5.10': 1 }, first: { input: 'a.log' }, last: { input: 'c.vmcore' }, example: 'c.vmcore' });
    expect(second).toMatchObject({ key: 'hazard:fpu-in-nmi-warn', count: 1, hazards: ['fpu-in-nmi-warn'] });
    expect([g.inputs, g.analysed, g.failed, g.withHazard]).toEqual([5, 4, 1, 1]);
    expect(groupKey(line('x', { hazards: ['h1', 'h2'] }), 'hazard')).toBe('h1');
    expect(groupKey(line('x', { kernel: null }), 'kernel')).toBe('unknown');
    expect(groupKey(line('x', { title: null }), 'title')).toBe('(no crash report)');
  });
});

describe('HTML report', () => {
  it('escapes and strips control characters from untrusted text', () => {
    expect(esc('<script>alert("x")</script>\x1b[31m&\x07')).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;');
    const g = new Grouper('title');
    g.add(line('/tmp/<img src=x onerror=alert(1)>.log', { title: '<b>BUG</b> in "x"\u202e' }), { verdict: '</pre><script>', headline: '\x1b]0;pwn\x07hi', backtrace: ['#0 <f>'], backtraceSource: '', cpus: [{ cpu: 0, preemptCount: '0x1', context: '<i>', task: 'a&b', state: 's', panicked: true }] });
    const html = renderHtml(g, { generated: new Date(0), ms: 1, args: [] });
    const body = html.replace(/<script>\(function[\s\S]*?<\/script>/, '');
    expect(body).not.toMatch(/<(?:img|b|i|script)[\s>]/);
    expect(body).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    expect(html).toContain('&#60;b&#62;BUG&#60;/b&#62; in &#34;x&#34;');
    expect(html).toContain('href="file:///tmp/%3Cimg%20src=x%20onerror=alert(1)%3E.log"');
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });
});
