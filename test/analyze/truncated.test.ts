// A dump cut short (kdump stopped by a full disk, an interrupted copy) must never read as a
// healthy machine: copies of real fixtures truncated into a temp dir (the fixtures are never
// written), checked at the dump layer (what is missing), in analyze's first line, JSON and exit
// status, in info, and in triage's lines and status.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDump } from '../../src/vmcore/index.js';
import type { DumpCompleteness } from '../../src/vmcore/types.js';
import { unpackXz } from '../fixture-dumps.js';
import { FIXTURES, REPO } from '../paths.js';

const bin = join(REPO, 'bin/ktriage.js');
const KDUMP = join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');
const ELF_XZ = join(FIXTURES, 'vmcore-debian-6.12.117-softirq-oops-2cpu/vmcore.trimmed.elf.xz');
const MiB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-truncated-'));

/** The first `bytes` bytes of `file`, as a new file in the temp dir. */
function cut(file: string, bytes: number, name: string): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(file, 'r');
  const n = readSync(fd, buf, 0, bytes, 0);
  closeSync(fd);
  expect(n).toBe(bytes);
  const out = join(tmp, name);
  writeFileSync(out, buf);
  return out;
}

function completeness(file: string): DumpCompleteness {
  const d = openDump(file);
  try {
    return d.completeness();
  } finally {
    d.close();
  }
}

const run = (args: string[]) => spawnSync('node', [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const firstLine = (s: string) => s.split('\n')[0];

let elf: string;
let kdumpSize: number;
let elfSize: number;
const k: Record<'index' | 'early' | 'late' | 'tail', string> = { index: '', early: '', late: '', tail: '' };
let elfHalf: string;

beforeAll(() => {
  kdumpSize = readFileSync(KDUMP).length;
  // 100 KiB: inside the page descriptor table; 8 MiB: kernel log and kallsyms lost; the last
  // 700 KiB gone: what the hazard needs is still there, a few module pages are not.
  k.index = cut(KDUMP, 100 * 1024, 'index.kdump');
  k.early = cut(KDUMP, 8 * MiB, 'early.kdump');
  k.late = cut(KDUMP, kdumpSize - 700 * 1024, 'late.kdump');
  // the last 4 KiB: a few pages no analysis reads
  k.tail = cut(KDUMP, kdumpSize - 4096, 'tail.kdump');
  elf = unpackXz(ELF_XZ);
  elfSize = readFileSync(elf).length;
  elfHalf = cut(elf, Math.floor(elfSize / 2), 'half.elf');
}, 120_000);

describe('the dump layer knows what a truncated file lost', () => {
  it('whole dumps are complete', () => {
    expect(completeness(KDUMP)).toMatchObject({ complete: true, missingPages: 0, fileSize: kdumpSize, reason: null });
    expect(completeness(elf)).toMatchObject({ complete: true, missingPages: 0, fileSize: elfSize, reason: null });
  });

  it('kdump-compressed: pages whose data lies past the end, and the size the headers need', () => {
    const whole = completeness(KDUMP);
    const early = completeness(k.early);
    const late = completeness(k.late);
    expect(early).toMatchObject({ complete: false, pages: whole.pages, fileSize: 8 * MiB, expectedSize: kdumpSize });
    expect(late).toMatchObject({ complete: false, pages: whole.pages, expectedSize: kdumpSize });
    // Page data is written in pfn order: cutting earlier loses more, never all, never none.
    expect(late.missingPages).toBeGreaterThan(0);
    expect(early.missingPages).toBeGreaterThan(late.missingPages);
    expect(early.missingPages).toBeLessThan(whole.pages);
    expect(early.reason).toMatch(/ends at 8388608 bytes/);
  });

  it('kdump-compressed cut inside the page descriptors: every page is missing, the full size unknown', () => {
    const c = completeness(k.index);
    expect(c).toMatchObject({ complete: false, missingPages: c.pages, expectedSize: null });
    expect(c.reason).toMatch(/inside the page descriptor table/);
  });

  it('ELF: file-backed PT_LOAD data past the end', () => {
    const c = completeness(elfHalf);
    expect(c).toMatchObject({ complete: false, expectedSize: elfSize, fileSize: Math.floor(elfSize / 2) });
    expect(c.missingPages).toBeGreaterThan(c.pages / 4);
    expect(c.missingPages).toBeLessThan(c.pages);
  });
});

describe('ktriage analyze on a truncated dump', () => {
  it('nothing usable read: first line says what is missing and what was read, exit 2', () => {
    const c = completeness(k.early);
    const r = run(['analyze', k.early]);
    expect(r.status).toBe(2);
    const line = firstLine(r.stdout);
    expect(line).toMatch(/^ktriage: INCOMPLETE DUMP \(nothing usable for a diagnosis\): /);
    expect(line).toContain(`${c.missingPages} of ${c.pages} pages lie past the end of the file (${8 * MiB} of ${kdumpSize} bytes)`);
    expect(line).toMatch(/unreadable: kernel log, symbols \(kallsyms\)/);
    expect(line).toMatch(/read: kernel release 6\.1\.0-56-amd64, registers of 2 CPUs/);
    expect(r.stderr).toBe('');
  });

  it('the hazard still found, some pages it asked for missing: partial result with the hazard, exit 5', () => {
    const r = run(['analyze', k.late]);
    expect(r.status).toBe(5);
    const [first, second] = r.stdout.split('\n');
    expect(first).toMatch(/^ktriage: INCOMPLETE DUMP \(partial result\): \d+ of \d+ pages lie past the end .*; the analysis needed \d+ of them/);
    expect(second).toMatch(/^ktriage: known hazard kprobe-int3-nmi-slab-fpu/);
  });

  it('only pages the analysis did not need are lost: still said first, the verdict and exit 1 stand', () => {
    const r = run(['analyze', k.tail]);
    expect(r.status).toBe(1);
    const [first, second] = r.stdout.split('\n');
    expect(first).toMatch(/^ktriage: INCOMPLETE DUMP \(nothing the analysis needed is missing\): [1-9]\d* of \d+ pages lie past the end/);
    expect(second).toMatch(/^ktriage: known hazard kprobe-int3-nmi-slab-fpu/);
  });

  it('cut inside the page index: exit 2, says so', () => {
    const r = run(['analyze', k.index]);
    expect(r.status).toBe(2);
    expect(firstLine(r.stdout)).toMatch(/^ktriage: INCOMPLETE DUMP \(nothing usable for a diagnosis\): the file \(102400 bytes\) ends inside the page index/);
  });

  it('an ELF dump cut in half is never exit 0', () => {
    const r = run(['analyze', elfHalf]);
    expect(r.status).toBe(2);
    expect(firstLine(r.stdout)).toMatch(/^ktriage: INCOMPLETE DUMP .*pages lie past the end of the file/);
  });

  it('--json: result and incomplete, valid against the published schema', () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(REPO, 'schemas/dump-diagnosis.schema.json'), 'utf8')));
    const early = run(['analyze', k.early, '--json']);
    expect(early.status).toBe(2);
    const j = JSON.parse(early.stdout) as { result: string; incomplete: { missingPages: number; expectedSize: number; unreadable: string[]; readable: string[]; pagesNeededPastEnd: number } };
    expect(validate(j), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(j.result).toBe('unusable');
    expect(j.incomplete).toMatchObject({ expectedSize: kdumpSize, missingPages: completeness(k.early).missingPages });
    expect(j.incomplete.unreadable).toContain('kernel log');
    expect(j.incomplete.pagesNeededPastEnd).toBeGreaterThan(0);
    const late = JSON.parse(run(['analyze', k.late, '--json']).stdout) as { result: string };
    expect(late.result).toBe('partial');
  });
});

describe('ktriage info and triage on a truncated dump', () => {
  it('info warns first, has incomplete in JSON, exit 4', () => {
    const r = run(['info', k.early]);
    expect(r.status).toBe(4);
    expect(firstLine(r.stdout)).toMatch(/^ktriage: INCOMPLETE DUMP: \d+ of \d+ pages lie past the end of the file/);
    const j = JSON.parse(run(['info', k.early, '--json']).stdout) as { incomplete: { expectedSize: number } | null };
    expect(j.incomplete?.expectedSize).toBe(kdumpSize);
    const whole = JSON.parse(run(['info', elf, '--json']).stdout) as { incomplete: unknown };
    expect(whole.incomplete).toBeNull();
  });

  it('triage: an unusable dump is an error line, a partial one a result that says so; bit 4 set', () => {
    const r = run(['triage', '--jsonl', '-j', '2', k.early, k.late]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const byInput = (p: string) => lines.find((l) => l.input === p);
    expect(byInput(k.early)).toMatchObject({ type: 'error' });
    expect(String(byInput(k.early)?.error)).toMatch(/^INCOMPLETE DUMP \(nothing usable/);
    expect(byInput(k.late)).toMatchObject({ type: 'result', hazards: ['kprobe-int3-nmi-slab-fpu'] });
    expect(String(byInput(k.late)?.incomplete)).toMatch(/^INCOMPLETE DUMP \(partial result\)/);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', failed: 1, partial: 1, exitCode: 5 });
    expect(r.status).toBe(5);
  });
});
