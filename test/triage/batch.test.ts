// `ktriage triage` end to end, as a fleet runs it: the committed fixture dumps copied under several
// names, the fixture logs, syzkaller reports from ../shared, and bad inputs (a truncated dump, random
// bytes, a path that does not exist) in one batch through the CLI and its worker threads.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriageErrorLine, TriageGroupLine, TriageLine, TriageResultLine, TriageSummaryLine } from '../../src/triage/types.js';
import { FIXTURES, REPO, sharedPath } from '../paths.js';
import { DEBIAN11_AMD64, DEBIAN12_AMD64 } from '../fixture-kernels.js';

const CLI = join(REPO, 'bin/ktriage.js');
const D61 = join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu');
const D61x4 = join(FIXTURES, 'vmcore-debian-6.1.192-buggy-4cpu');
const D510 = join(FIXTURES, 'vmcore-debian-5.10.262-sysrq-2cpu');
const HAZARD = 'hazard:kprobe-int3-nmi-slab-fpu';
/** syzkaller reports: three with one title and call site, two and two more alike, two hung tasks at different call sites. */
const SYZ = ['415', '525', '556', '517', '518', '345', '347', '436', '440'];

const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).status === 0;

let dir: string;
let lines: TriageLine[];
let status: number | null;
const results = () => lines.filter((l): l is TriageResultLine => l.type === 'result');
const errors = () => lines.filter((l): l is TriageErrorLine => l.type === 'error');
const groups = () => lines.filter((l): l is TriageGroupLine => l.type === 'group');
const base = (p: string) => p.slice(dir.length + 1);

function triage(args: string[]): { lines: TriageLine[]; status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'triage', '--jsonl', '--jobs', '2', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TriageLine), status: r.status, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ktriage-triage-'));
  const put = (src: string, rel: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    copyFileSync(src, join(dir, rel));
  };
  put(join(D61, 'vmcore.d31.kdump-zlib'), 'dumps/node1/vmcore');
  put(join(D61, 'vmcore.d31.kdump-zlib'), 'dumps/node2/vmcore.kdump');
  put(join(D61x4, 'vmcore.d31.kdump-zlib'), 'dumps/node3/vmcore');
  put(join(D61, 'trimmed/vmcore.trimmed.elf'), 'dumps/node4/vmcore.elf');
  put(join(D510, 'vmcore.trimmed.kdump-zlib'), 'dumps/node5/vmcore');
  put(join(D510, 'vmcore.trimmed.kdump-zlib'), 'dumps/node6/dump.kdump');
  put(join(FIXTURES, 'log-debian-6.1.192-serial/console.log'), 'logs/serial.log');
  put(join(FIXTURES, 'log-rhel9-seed/report.zh.txt'), 'logs/report.zh.txt');
  for (const s of SYZ) put(sharedPath(`corpus/syzkaller-linux-report/${s}`), `logs/syz/${s}.txt`);
  // Bad inputs: a dump cut at 4 MiB (its header and bitmaps intact, the log's pages gone), random bytes.
  writeFileSync(join(dir, 'dumps/node7-truncated.kdump'), readFileSync(join(D61, 'vmcore.d31.kdump-zlib')).subarray(0, 4 << 20));
  let x = 12345;
  writeFileSync(join(dir, 'dumps/random.bin'), Buffer.from(Array.from({ length: 65536 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff)));
  const r = triage(['--html', join(dir, 'report.html'), '--exclude', 'report.html', join(dir, 'dumps'), join(dir, 'logs/*.log'), join(dir, 'logs/*.txt'), join(dir, 'logs/syz/**'), join(dir, 'missing-dir')]);
  lines = r.lines;
  status = r.status;
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ktriage triage on a mixed batch', () => {
  it('one line per input, bad ones as error lines, then groups and a summary; exit 5 (hazard | failed)', () => {
    const inputs = 6 + 2 + SYZ.length + 2 + 1;
    expect(results().length + errors().length).toBe(inputs);
    expect(errors().map((e) => base(e.input)).sort()).toEqual(['dumps/node7-truncated.kdump', 'dumps/random.bin', 'missing-dir']);
    expect(errors().find((e) => e.input.endsWith('truncated.kdump'))?.error).toMatch(/^INCOMPLETE DUMP \(nothing usable for a diagnosis\): \d+ of \d+ pages lie past the end of the file/);
    const summary = lines[lines.length - 1] as TriageSummaryLine;
    expect(summary).toMatchObject({ type: 'summary', inputs, failed: 3, partial: 0, analysed: inputs - 3, exitCode: 5 });
    expect(status).toBe(5);
    // Results stream first, then the table: no result after the first group line.
    const firstGroup = lines.findIndex((l) => l.type === 'group');
    expect(lines.slice(firstGroup).every((l) => l.type === 'group' || l.type === 'summary')).toBe(true);
  });

  it('the same dump under several names gives the same result', () => {
    const by = (rel: string) => results().find((r) => base(r.input) === rel);
    const strip = (r: TriageResultLine | undefined) => r && { ...r, input: '', ms: 0 };
    expect(strip(by('dumps/node2/vmcore.kdump'))).toEqual(strip(by('dumps/node1/vmcore')));
    expect(strip(by('dumps/node6/dump.kdump'))).toEqual(strip(by('dumps/node5/vmcore')));
    expect(by('dumps/node1/vmcore')).toMatchObject({ kind: 'vmcore', format: 'kdump-compressed', kernel: DEBIAN12_AMD64, title: 'WARNING in irq_fpu_usable', hazards: ['kprobe-int3-nmi-slab-fpu'], signature: HAZARD });
    expect(by('dumps/node4/vmcore.elf')).toMatchObject({ kind: 'vmcore', format: 'elf-core', signature: HAZARD });
    expect(by('dumps/node5/vmcore')).toMatchObject({ kind: 'vmcore', kernel: DEBIAN11_AMD64, hazards: [] });
    expect(by('dumps/node5/vmcore')?.day).toBe(by('dumps/node5/vmcore')?.crashTime?.slice(0, 10));
  });

  it('groups: the 6.1 dumps and both logs of the incident under the hazard, the rest by title and call site', () => {
    const g = new Map(groups().map((l) => [l.key, l]));
    const members = (key: string) => results().filter((r) => r.signature === key).map((r) => base(r.input)).sort();
    expect(members(HAZARD)).toEqual(['dumps/node1/vmcore', 'dumps/node2/vmcore.kdump', 'dumps/node3/vmcore', 'dumps/node4/vmcore.elf', 'logs/report.zh.txt', 'logs/serial.log']);
    expect(g.get(HAZARD)).toMatchObject({ count: 6, hazards: ['kprobe-int3-nmi-slab-fpu'] });
    expect(g.get(HAZARD)?.kernels).toMatchObject({ [DEBIAN12_AMD64]: 5 });
    // A dump represents the group even though a log finishes first.
    expect(g.get(HAZARD)?.example).toMatch(/\/dumps\//);
    const sysrq = results().find((r) => base(r.input) === 'dumps/node5/vmcore')?.signature as string;
    expect(members(sysrq)).toEqual(['dumps/node5/vmcore', 'dumps/node6/dump.kdump']);
    const syz = (ids: string[]) => ids.map((s) => `logs/syz/${s}.txt`);
    const keyOf = (s: string) => results().find((r) => base(r.input) === `logs/syz/${s}.txt`)?.signature as string;
    expect(members(keyOf('415'))).toEqual(syz(['415', '525', '556']));
    expect(members(keyOf('517'))).toEqual(syz(['517', '518']));
    expect(members(keyOf('345'))).toEqual(syz(['345', '347']));
    expect(keyOf('436')).not.toBe(keyOf('440'));
    // The table agrees with the lines, largest group first.
    for (const l of groups()) expect(l.count, l.key).toBe(members(l.key).length);
    expect(groups().reduce((n, l) => n + l.count, 0)).toBe(results().length);
    expect(groups().map((l) => l.count)).toEqual([...groups().map((l) => l.count)].sort((a, b) => b - a));
  });

  it('--group-by title and kernel regroup the same results', () => {
    const r = triage(['--group-by', 'title', join(dir, 'logs/syz')]);
    expect(r.status).toBe(0);
    const g = new Map(r.lines.filter((l): l is TriageGroupLine => l.type === 'group').map((l) => [l.key, l.count]));
    expect(g.get('INFO: task hung in rtnl_lock')).toBe(2);
    expect(g.get('WARNING: ODEBUG bug in netdev_freemem')).toBe(3);
    const k = triage(['--group-by', 'kernel', join(dir, 'logs')]);
    expect(k.status).toBe(1);
    expect(k.lines.find((l) => l.type === 'group' && l.key === DEBIAN12_AMD64)).toMatchObject({ count: 1, groupBy: 'kernel' });
    expect(k.stderr).toBe('');
  });

  it('every line validates against schemas/triage-line.schema.json', () => {
    const v = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(REPO, 'schemas/triage-line.schema.json'), 'utf8')));
    for (const l of lines) expect(v(l) ? [] : v.errors, JSON.stringify(l).slice(0, 200)).toEqual([]);
  });

  it('the HTML report holds the groups, self-contained', () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const rows = [...html.matchAll(/<tr class="group" data-key="([^"]*)">\s*<td class="count"[^>]*>(\d+)</g)].map((m) => [m[1].replace(/&#(\d+);/g, (_, n) => String.fromCharCode(+n)), +m[2]]);
    expect(rows).toEqual(groups().map((l) => [l.key, l.count]));
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).toContain('<svg');
    expect(html).toMatch(/file:\/\/\/[^"]*\/dumps\/node1\/vmcore"/);
  });

  it.skipIf(!chromium)('the HTML report loads in headless Chromium and its DOM shows the groups (scripts/triage-html-check.sh)', () => {
    const out = join(dir, 'browser');
    writeFileSync(join(dir, 'lines.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const r = spawnSync('bash', [join(REPO, 'scripts/triage-html-check.sh'), '--report', join(dir, 'report.html'), '--lines', join(dir, 'lines.jsonl'), '--out', out], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const dom = readFileSync(join(out, 'dom.html'), 'utf8');
    const counts = [...dom.matchAll(/<tr class="group" data-key="[^"]*">\s*<td class="count"[^>]*>(\d+)</g)].map((m) => +m[1]);
    expect(counts).toEqual(groups().map((l) => l.count));
    expect(readFileSync(join(out, 'report.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 200_000);
});
