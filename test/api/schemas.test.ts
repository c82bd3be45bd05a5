// The JSON contract: schemas/*.schema.json are generated from the TypeScript documents in
// src/api/documents.ts, must equal what the types give today (`npm run schemas` rewrites them),
// and every fixture's real --json output must validate against them, closed (no key the types do
// not declare). The required keys are also checked against the interfaces with the compiler's own
// view of the types, independently of the generator.
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator, type Schema } from 'ts-json-schema-generator';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/commands/analyze.js';
import { explainPreemptCount as explainCommand } from '../../src/cli/commands/explain.js';
import { toJson } from '../../src/cli/render/json.js';
import { analyzeDump, analyzeLog, explainPreemptCount, lintKmod, SCHEMA_VERSION } from '../../src/index.js';
import { readLogFile } from '../../src/cli/input.js';
import { unpackXz } from '../fixture-dumps.js';
import { FIXTURES, REPO } from '../paths.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

/** Document type -> schema file. The README links these files. */
export const DOCUMENTS = {
  DumpDiagnosisDocument: 'dump-diagnosis.schema.json',
  LogDiagnosisDocument: 'log-diagnosis.schema.json',
  PreemptDecodeDocument: 'preempt-decode.schema.json',
  LintResultDocument: 'lint-result.schema.json',
} as const;
type DocName = keyof typeof DOCUMENTS;

const SCHEMAS = join(REPO, 'schemas');
const SOURCE = join(REPO, 'src/api/documents.ts');
const update = process.env.UPDATE_SCHEMAS === '1';

function generate(): Record<DocName, Schema> {
  const gen = createGenerator({ path: SOURCE, tsconfig: join(REPO, 'tsconfig.json'), type: '*', skipTypeCheck: true, topRef: false, expose: 'export', jsDoc: 'extended' });
  const out = {} as Record<DocName, Schema>;
  for (const name of Object.keys(DOCUMENTS) as DocName[]) {
    const s = gen.createSchema(name);
    out[name] = {
      $schema: s.$schema,
      title: `ktriage ${name.replace(/Document$/, '')}, schemaVersion ${SCHEMA_VERSION}`,
      $comment: 'Generated from src/api/documents.ts by `npm run schemas`; do not edit.',
      ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
    };
  }
  return out;
}

let schemas: Record<DocName, Schema>;
const validators = {} as Record<DocName, ValidateFunction>;

beforeAll(() => {
  schemas = generate();
  if (update) {
    mkdirSync(SCHEMAS, { recursive: true });
    for (const [name, file] of Object.entries(DOCUMENTS)) writeFileSync(join(SCHEMAS, file), JSON.stringify(schemas[name as DocName], null, 2) + '\n');
  }
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  for (const [name, file] of Object.entries(DOCUMENTS)) {
    validators[name as DocName] = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')));
  }
}, 120_000);

function check(name: DocName, doc: unknown, what: string): void {
  const v = validators[name];
  const ok = v(doc);
  const errors = (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  expect(ok ? [] : errors, `${what} does not validate against schemas/${DOCUMENTS[name]}`).toEqual([]);
}

describe('schemas/ are the TypeScript types', () => {
  it('each committed schema equals the one generated from src/api/documents.ts (else: npm run schemas)', () => {
    for (const [name, file] of Object.entries(DOCUMENTS)) {
      const committed = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
      expect(committed, `schemas/${file} is stale: run \`npm run schemas\` and bump SCHEMA_VERSION if a field was removed, renamed or retyped`).toEqual(schemas[name as DocName]);
    }
  });

  it('a closed schema: a key the types do not declare, or a missing one, fails validation', () => {
    const doc = JSON.parse(explainCommand('0x80110003', { arch: 'x86_64', json: true }).text) as Record<string, unknown>;
    expect(validators.PreemptDecodeDocument(doc)).toBe(true);
    expect(validators.PreemptDecodeDocument({ ...doc, extra: 1 })).toBe(false);
    expect(validators.PreemptDecodeDocument({ ...doc, schemaVersion: undefined })).toBe(false);
    expect(validators.PreemptDecodeDocument({ ...doc, schemaVersion: SCHEMA_VERSION + 1 })).toBe(false);
  });

  it("each schema's properties and required keys are the interface's keys and non-optional keys (compiler API)", () => {
    const program = ts.createProgram([SOURCE], { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true });
    const checker = program.getTypeChecker();
    const sf = program.getSourceFile(SOURCE)!;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!);
    for (const name of Object.keys(DOCUMENTS) as DocName[]) {
      const sym = exports.find((s) => s.name === name);
      expect(sym, name).toBeDefined();
      const props = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym!));
      const all = props.map((p) => p.name).sort();
      const required = props.filter((p) => !(p.flags & ts.SymbolFlags.Optional)).map((p) => p.name).sort();
      const s = schemas[name] as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
      expect(Object.keys(s.properties).sort(), `${name}: properties`).toEqual(all);
      expect([...s.required].sort(), `${name}: required`).toEqual(required);
      expect(s.additionalProperties, `${name}: closed`).toBe(false);
      expect(required).toContain('schemaVersion');
    }
  }, 120_000);
});

/** Every fixture input named by an expected.json under fixtures/ (what `ktriage regress` runs). */
function fixtureInputs(dir = FIXTURES, depth = 0): string[] {
  const out: string[] = [];
  if (depth > 4) return out;
  const want = join(dir, 'expected.json');
  if (existsSync(want)) out.push(join(dir, (JSON.parse(readFileSync(want, 'utf8')) as { input: string }).input));
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...fixtureInputs(join(dir, e.name), depth + 1));
  return out;
}

/**
 * Every dump in a fixture folder (vmcore.*, with or without an expected.json) and every text
 * (console logs, makedumpfile's dmesg, crash sessions: all are logs to `analyze`).
 */
function fixtureFiles(dir = FIXTURES, depth = 0): string[] {
  const out: string[] = [];
  if (depth > 4) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...fixtureFiles(p, depth + 1));
    else if (depth > 0 && (/^vmcore\./.test(e.name) || (/\.(log|txt)$/.test(e.name) && e.name !== 'qemu-cmdline.txt'))) out.push(p);
  }
  return out;
}

const inputs = [...new Set([...fixtureInputs(), ...fixtureFiles()])].sort();
const rel = (p: string) => p.slice(REPO.length);

describe('every fixture\'s real --json output validates', () => {
  it('there are dump and log fixtures to check', () => {
    expect(inputs.some((p) => /vmcore/.test(p))).toBe(true);
    expect(inputs.some((p) => !/vmcore/.test(p))).toBe(true);
  });

  for (const input of inputs) {
    it(`ktriage analyze ${rel(input)} --json; the library's result is the same document`, async () => {
      const file = unpackXz(input);
      const r = await runAnalyze(file, { json: true });
      const doc = JSON.parse(r.text) as { source: string; schemaVersion: number; input: string };
      expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
      check(doc.source === 'vmcore' ? 'DumpDiagnosisDocument' : 'LogDiagnosisDocument', doc, `analyze ${rel(input)}`);
      // The library returns what the CLI prints (bar `input`, which names what was read).
      const lib = doc.source === 'vmcore' ? await analyzeDump(file) : await analyzeLog(readLogFile(file).text, { input: file });
      const again = JSON.parse(toJson(lib, { versioned: false }));
      // Timings and pages read may differ between two runs of a dump; the facts may not.
      const facts = (d: Record<string, unknown>) => ({ ...d, input: undefined, pagesRead: undefined });
      expect(facts(again)).toEqual(facts(doc));
    }, 180_000);
  }

  it('explain preempt-count --json, on each layout and arch', () => {
    const cases: [string, string, string | undefined][] = [
      ['0x80110003', 'x86_64', undefined],
      ['-2146369533', 'x86_64', '5.14.0-284.11.1.el9_2.x86_64'],
      ['0x00200101', 'x86_64', '4.1.0'],
      ['0x04010000', 'x86_64', '3.10.0-1160.el7.x86_64'],
      ['0x0', 'x86_64', DEBIAN12_AMD64],
      ['0x100010001', 'arm64', '6.1.0'],
      ['0x80010000', 'x86_64', '6.12.57+deb13-rt-amd64'],
    ];
    for (const [value, arch, kernel] of cases) {
      const doc = JSON.parse(explainCommand(value, { arch, kernel, json: true }).text);
      expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
      check('PreemptDecodeDocument', doc, `explain preempt-count ${value} --arch ${arch}`);
      expect(JSON.parse(toJson(explainPreemptCount(value, { arch: arch as 'x86_64', kernel }), { versioned: false }))).toEqual(doc);
    }
  });

  // Real modules committed as fuzz seeds (kmod-reference's hazard.ko among them, built for 6.1).
  const seeds = join(REPO, 'test/fuzz/seeds/ko');
  for (const ko of readdirSync(seeds).filter((f) => f.endsWith('.ko'))) {
    it(`lint-kmod ${ko} --json`, async () => {
      const lib = await lintKmod(join(seeds, ko));
      const doc = JSON.parse(toJson(lib));
      expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
      check('LintResultDocument', doc, `lint-kmod ${ko}`);
    }, 60_000);
  }
});
