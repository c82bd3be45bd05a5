// The fuzz targets: one check per parser, shared by the campaigns (*.test.ts here) and by the
// replay of saved regressions (regressions.test.ts). Each check takes the input exactly as it is
// saved in test/fuzz/regressions/<parser>/ and throws FuzzFailure when the parser misbehaves.
import fs from 'node:fs';
import path from 'node:path';
import { analyzeLog, decodeCodeLine, parseLog } from '../../src/analyzers/log/index.js';
import { parseElfModule, modinfo } from '../../src/analyzers/kmod/elf.js';
import { lintKmodBytes, renderLintSarif, renderLintText } from '../../src/analyzers/kmod/index.js';
import { toJson } from '../../src/cli/render/json.js';
import { main } from '../../src/cli/main.js';
import { decodePreemptCount, parsePreemptValue } from '../../src/analyzers/preempt-count.js';
import { analyzeOpenDump } from '../../src/analyzers/vmcore-analysis.js';
import { Btf } from '../../src/kernel/btf.js';
import { openKernel } from '../../src/kernel/kernel.js';
import { OrcFormatError } from '../../src/kernel/unwind/orc.js';
import { UnreadableMemoryError, unwinderForKernel, crashStyle } from '../../src/kernel/unwind/index.js';
import { readKallsyms, kallsymsTablesFromVmcoreinfo } from '../../src/kernel/kallsyms.js';
import { KernelMemory } from '../../src/kernel/memory.js';
import { readKernelLog, formatLog } from '../../src/kernel/printk.js';
import { parseSystemMap, readVmlinuxSymbols } from '../../src/kernel/symfiles.js';
import { parseVmcoreinfo, type VmcoreInfo } from '../../src/kernel/vmcoreinfo.js';
import { DecompressError, decompressPage, prepareDecompressors, type Codec } from '../../src/vmcore/decompress.js';
import { openDump } from '../../src/vmcore/index.js';
import { LzoError } from '../../src/vmcore/lzo.js';
import { DumpReadError, type DumpFile, type PageState } from '../../src/vmcore/types.js';
import { InputError } from '../../src/util/errors.js';
import { dirtyString, FIXTURES, FuzzFailure, outcome, outcomeAsync, tempDir, type Outcome } from './harness.js';

/** Control characters other than newline and tab (ESC, C0, DEL, C1). */
const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function fail(msg: string): never {
  throw new FuzzFailure(msg);
}

function clean(what: string, v: unknown): void {
  const d = dirtyString(v);
  if (d !== undefined) fail(`${what}: control character in output string ${JSON.stringify(d.slice(0, 200))}`);
}

// ---------------------------------------------------------------------------------------------
// Console log.

export function checkLog(text: string): Outcome {
  return outcome(() => {
    const a = parseLog(text);
    clean('parseLog', a);
  });
}

/** parseLog + capstone decoding of the Code: lines (async). */
export async function checkAnalyzeLog(text: string): Promise<Outcome> {
  return outcomeAsync(async () => clean('analyzeLog', await analyzeLog(text)), undefined, 3000);
}

export async function checkCodeLine(line: string): Promise<Outcome> {
  return outcomeAsync(async () => clean('decodeCodeLine', await decodeCodeLine(line)));
}

// ---------------------------------------------------------------------------------------------
// VMCOREINFO text.

export function checkVmcoreinfo(text: string): Outcome {
  return outcome(() => {
    const vi = parseVmcoreinfo(text);
    if (vi.pageSize <= 0 || !Number.isInteger(vi.pageSize)) fail(`pageSize ${vi.pageSize}`);
    for (const [k, v] of vi.offsets) if (!Number.isSafeInteger(v)) fail(`OFFSET(${k}) = ${v}`);
    for (const [k, v] of vi.sizes) if (!Number.isSafeInteger(v)) fail(`SIZE(${k}) = ${v}`);
    // Consumers construct these from any parsed note.
    new KernelMemory(new EmptyDump(), vi);
    kallsymsTablesFromVmcoreinfo(vi);
  });
}

class EmptyDump implements DumpFile {
  readonly info = { format: 'empty', compression: [], fileSize: 0, details: {} };
  readonly notes = [];
  readonly prstatus = [];
  readonly vmcoreinfo = null;
  readonly virtualSegments = [];
  readonly pagesTouched = new Set<bigint>();
  readonly pagesPastEnd = new Set<bigint>();
  completeness() {
    return { complete: true, pages: 0, missingPages: 0, fileSize: 0, expectedSize: 0, reason: null };
  }
  readPhysical(paddr: bigint): Buffer {
    throw new DumpReadError('empty', paddr, 'absent');
  }
  pageState(): PageState {
    return 'absent';
  }
  close(): void {}
}

// ---------------------------------------------------------------------------------------------
// Dump files (ELF core, kdump-compressed, flattened): openDump takes a path.

let dumpDir: string | undefined;
function dumpPath(): string {
  dumpDir ??= tempDir('dump');
  return path.join(dumpDir, `input-${process.pid}`);
}

/** Open the bytes as a dump and read everything the format exposes. */
export async function checkDump(bytes: Buffer): Promise<Outcome> {
  await prepareDecompressors();
  const p = dumpPath();
  fs.writeFileSync(p, bytes);
  return outcome(() => {
    const d = openDump(p);
    try {
      // Raw note text may hold anything; what reaches the terminal is checked in cli.test.ts.
      void d.prstatus.length;
      // Physical pages: the first ones, and the starts of the dump's own ranges.
      const addrs = new Set<bigint>();
      for (let i = 0n; i < 6n; i++) addrs.add(i * 4096n);
      for (const s of d.virtualSegments.slice(0, 4)) addrs.add(s.paddr);
      addrs.add(0x1000000n);
      addrs.add(0xffffffffff000n);
      for (const a of addrs) {
        try {
          d.pageState(a);
          const b = d.readPhysical(a, 4096);
          if (b.length !== 4096) fail(`readPhysical returned ${b.length} bytes`);
        } catch (e) {
          if (!(e instanceof DumpReadError)) throw e;
          if (e.message.includes('\n')) fail('multi-line DumpReadError');
        }
      }
      if (d.vmcoreinfo) parseVmcoreinfo(d.vmcoreinfo);
    } finally {
      d.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Decompressors: input = [codec byte][data]; the block is 4096 bytes.

const CODECS: Codec[] = ['none', 'zlib', 'lzo', 'snappy', 'zstd'];
export function decompressInput(codec: Codec, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([CODECS.indexOf(codec)]), data]);
}

export async function checkDecompress(input: Buffer): Promise<Outcome> {
  await prepareDecompressors();
  if (input.length === 0) return 'ok';
  const codec = CODECS[input[0] % CODECS.length];
  const data = input.subarray(1);
  return outcome(() => {
    const out = decompressPage(codec, data, 4096);
    if (out.length !== 4096) fail(`${codec}: ${out.length} bytes out`);
  }, (e) => e instanceof DecompressError || e instanceof LzoError);
}

// ---------------------------------------------------------------------------------------------
// Kernel data in a real dump: the trimmed ELF fixture (real kallsyms, BTF, printk ring and page
// tables), with physical-memory patches laid over it. Input = JSON { patches: [[paddr hex, bytes hex]] }.

export const REAL_DUMP = path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/trimmed/vmcore.trimmed.elf');

export class PatchedDump implements DumpFile {
  readonly pagesTouched = new Set<bigint>();
  constructor(
    readonly base: DumpFile,
    readonly patches: { paddr: bigint; bytes: Buffer }[],
  ) {}
  get info() {
    return this.base.info;
  }
  get notes() {
    return this.base.notes;
  }
  get prstatus() {
    return this.base.prstatus;
  }
  get vmcoreinfo() {
    return this.base.vmcoreinfo;
  }
  get virtualSegments() {
    return this.base.virtualSegments;
  }
  get pagesPastEnd() {
    return this.base.pagesPastEnd;
  }
  completeness() {
    return this.base.completeness();
  }
  readPhysical(paddr: bigint, length: number): Buffer {
    const b = Buffer.from(this.base.readPhysical(paddr, length));
    const end = paddr + BigInt(length);
    for (const p of this.patches) {
      const pe = p.paddr + BigInt(p.bytes.length);
      if (pe <= paddr || p.paddr >= end) continue;
      const from = p.paddr > paddr ? 0 : Number(paddr - p.paddr);
      const to = Math.min(p.bytes.length, Number(end - p.paddr));
      p.bytes.copy(b, Number(p.paddr + BigInt(from) - paddr), from, to);
    }
    return b;
  }
  pageState(paddr: bigint): PageState {
    return this.base.pageState(paddr);
  }
  close(): void {}
}

export interface PatchInput {
  patches: [string, string][];
}

export function encodePatches(patches: { paddr: bigint; bytes: Buffer }[]): string {
  const j: PatchInput = { patches: patches.map((p) => [p.paddr.toString(16), p.bytes.toString('hex')]) };
  return JSON.stringify(j);
}

function decodePatches(json: string): { paddr: bigint; bytes: Buffer }[] {
  const j = JSON.parse(json) as PatchInput;
  return j.patches.map(([a, h]) => ({ paddr: BigInt('0x' + a), bytes: Buffer.from(h, 'hex') }));
}

export interface RealKernel {
  dump: DumpFile;
  vi: VmcoreInfo;
  mem: KernelMemory;
  /** Named regions (physical start, length) the campaigns aim at. */
  regions: Record<string, { paddr: bigint; len: number }>;
  /** Page-table pages met walking to the CPU 0 stack, top first. */
  tables: bigint[];
  rsp: bigint;
  btfStart: bigint;
  btfStop: bigint;
}

let real: RealKernel | undefined;
export function realKernel(): RealKernel {
  if (real) return real;
  const dump = openDump(REAL_DUMP);
  const vi = parseVmcoreinfo(dump.vmcoreinfo ?? '');
  const mem = new KernelMemory(dump, vi);
  const t = kallsymsTablesFromVmcoreinfo(vi)!;
  const k = readKallsyms(mem, t, vi.symbols.get('_stext'));
  const phys = (v: bigint) => mem.translate(v);
  const regions: RealKernel['regions'] = {};
  const num = k.numSyms;
  regions['kallsyms.num_syms'] = { paddr: phys(t.numSyms), len: 8 };
  regions['kallsyms.names'] = { paddr: phys(t.names), len: t.tokenTable > t.names && t.tokenTable - t.names < 1n << 24n ? Number(t.tokenTable - t.names) : 65536 };
  regions['kallsyms.token_table'] = { paddr: phys(t.tokenTable), len: Number(t.tokenIndex - t.tokenTable) };
  regions['kallsyms.token_index'] = { paddr: phys(t.tokenIndex), len: 512 };
  if (t.offsets !== undefined) regions['kallsyms.offsets'] = { paddr: phys(t.offsets), len: num * 4 };
  if (t.relativeBase !== undefined) regions['kallsyms.relative_base'] = { paddr: phys(t.relativeBase), len: 8 };
  // printk ring: the prb struct, descriptors, infos, text data.
  const prb = mem.readU64(vi.symbols.get('prb')!);
  const o = (k: string) => BigInt(vi.offsets.get(k) ?? 0);
  const descRing = prb + o('printk_ringbuffer.desc_ring');
  const textRing = prb + o('printk_ringbuffer.text_data_ring');
  const countBits = mem.readU32(descRing + o('prb_desc_ring.count_bits'));
  const sizeBits = mem.readU32(textRing + o('prb_data_ring.size_bits'));
  regions['printk.prb'] = { paddr: phys(prb), len: vi.sizes.get('printk_ringbuffer') ?? 88 };
  regions['printk.descs'] = { paddr: phys(mem.readU64(descRing + o('prb_desc_ring.descs'))), len: (1 << countBits) * (vi.sizes.get('prb_desc') ?? 24) };
  regions['printk.infos'] = { paddr: phys(mem.readU64(descRing + o('prb_desc_ring.infos'))), len: (1 << countBits) * (vi.sizes.get('printk_info') ?? 88) };
  regions['printk.text'] = { paddr: phys(mem.readU64(textRing + o('prb_data_ring.data'))), len: 1 << sizeBits };
  const btfStart = k.table.lookup('__start_BTF')!;
  const btfStop = k.table.lookup('__stop_BTF')!;
  regions['btf.header'] = { paddr: phys(btfStart), len: 24 };
  regions['btf.types'] = { paddr: phys(btfStart), len: 1 << 20 };
  regions['btf.all'] = { paddr: phys(btfStart), len: Number(btfStop - btfStart) };
  // Page tables on the way to CPU 0's stack (a vmap stack: a full walk).
  const rsp = dump.prstatus[0].regs.rsp;
  const tables: bigint[] = [];
  let table = mem.pgdPhys!;
  for (let level = mem.levels; level >= 1; level--) {
    tables.push(table);
    const e = dump.readPhysical(table + ((rsp >> (12n + 9n * BigInt(level - 1))) & 0x1ffn) * 8n, 8).readBigUInt64LE(0);
    if ((e & 0x80n) !== 0n && level > 1) break;
    table = e & 0x000ffffffffff000n;
  }
  regions['stack'] = { paddr: mem.translate(rsp & ~0xfffn), len: 4096 };
  real = { dump, vi, mem, regions, tables, rsp, btfStart, btfStop };
  return real;
}

function patched(json: string): { k: RealKernel; d: PatchedDump } {
  const k = realKernel();
  return { k, d: new PatchedDump(k.dump, decodePatches(json)) };
}

/** Untyped errors the patched real memory may raise: none (PatchedDump reads through ElfDump). */
export function checkKallsyms(json: string): Outcome {
  const { k, d } = patched(json);
  return outcome(() => {
    const mem = new KernelMemory(d, k.vi);
    const r = readKallsyms(mem, kallsymsTablesFromVmcoreinfo(k.vi)!, k.vi.symbols.get('_stext'));
    r.table.lookup('irq_fpu_usable');
    r.table.symbolize(k.rsp);
    r.table.symbolize(k.vi.symbols.get('_stext')! + 0x1234n);
    r.table.symbolize(d.prstatus[0].regs.rip);
  });
}

export function checkPrintk(json: string): Outcome {
  const { k, d } = patched(json);
  return outcome(() => {
    // Record text is raw (the CLI sanitizes what it prints: cli.test.ts checks that).
    const log = readKernelLog(new KernelMemory(d, k.vi), k.vi);
    formatLog(log);
  });
}

export function checkBtf(json: string): Outcome {
  const { k, d } = patched(json);
  return outcome(
    () => {
      const btf = Btf.fromMemory(new KernelMemory(d, k.vi), k.btfStart, k.btfStop);
      btf.member('task_struct', 'comm');
      btf.member('task_struct', 'thread_info.flags');
      btf.offsetOf('printk_info', 'caller_id');
      btf.sizeOf('task_struct');
      btf.findVar('__preempt_count');
      btf.enumValue('desc_finalized');
      btf.member('cea_exception_stacks', 'NMI_stack');
      for (let id = 0; id < Math.min(btf.count + 2, 3000); id += 7) btf.typeName(id);
    },
    undefined,
    2000,
  );
}

/** Page-table walker on the real tables with patched entries (cycles, self references, huge bits). */
export function checkPageTables(json: string): Outcome {
  const { k, d } = patched(json);
  return outcome(() => {
    const mem = new KernelMemory(d, k.vi);
    for (const v of [k.rsp, k.rsp & ~0xfffn, k.rsp - 0x3000n, 0xffff888000000000n, 0xffffc90000000000n, 0xffffea0000000000n, 0xff7fffffffffffffn, 0x0000000000400000n]) {
      try {
        mem.translateDetailed(v);
        mem.readVirtual(v, 64);
      } catch (e) {
        if (!(e instanceof DumpReadError)) throw e;
      }
    }
    // The page under CPU 0's stack pointer is in the trimmed dump: reading it must walk the (patched) tables.
    mem.readVirtual(k.rsp & ~0xfffn, 0x1000);
  });
}

/**
 * Pages of the ORC tables (ip table, entries, orc_lookup) that an unpatched unwind of every CPU
 * reads: the pages the trimmed dump holds, and the ones whose corruption changes the walk. They
 * are added to realKernel().regions as orc.0, orc.1, ...; the names are returned.
 */
export async function orcRegions(): Promise<string[]> {
  const k = realKernel();
  const names = Object.keys(k.regions).filter((n) => n.startsWith('orc.'));
  if (names.length) return names;
  const kern = openKernel(k.dump);
  const u = unwinderForKernel(kern);
  for (let cpu = 0; cpu < k.dump.prstatus.length; cpu++) await u.backtrace(cpu);
  const sym = (n: string) => kern.symbols?.lookup(n);
  const ranges: [bigint, bigint][] = [];
  for (const [a, b] of [['__start_orc_unwind_ip', '__stop_orc_unwind_ip'], ['__start_orc_unwind', '__stop_orc_unwind'], ['orc_lookup', 'orc_lookup_end']]) {
    const s0 = sym(a);
    const s1 = sym(b);
    if (s0 !== undefined && s1 !== undefined && s1 > s0) ranges.push([k.mem.translate(s0), k.mem.translate(s1)]);
  }
  let i = 0;
  for (const pfn of [...k.dump.pagesTouched].sort((x, y) => (x < y ? -1 : 1))) {
    const pa = pfn * 4096n;
    if (ranges.some(([a, b]) => pa + 4096n > a && pa < b)) k.regions[`orc.${i++}`] = { paddr: pa, len: 4096 };
  }
  return Object.keys(k.regions).filter((n) => n.startsWith('orc.'));
}

/**
 * The ORC unwinder on patched memory (ORC tables, the stack), called directly: the analysis turns
 * any unwinder exception into a note, which would hide a TypeError from the campaign.
 */
export async function checkUnwind(json: string): Promise<Outcome> {
  const { d } = patched(json);
  return outcomeAsync(
    async () => {
      const k = openKernel(d);
      const u = unwinderForKernel(k);
      for (let cpu = 0; cpu < d.prstatus.length; cpu++) {
        try {
          crashStyle(await u.backtrace(cpu));
        } catch (e) {
          if (!(e instanceof UnreadableMemoryError || e instanceof OrcFormatError || e instanceof DumpReadError || e instanceof InputError)) throw e;
        }
      }
    },
    (e) => e instanceof UnreadableMemoryError || e instanceof OrcFormatError,
    5000,
  );
}

/** The whole vmcore analysis (kernel layer, unwinder, log parser) on patched real memory. */
export async function checkVmcoreAnalysis(json: string): Promise<Outcome> {
  const { d } = patched(json);
  return outcomeAsync(
    async () => {
      const diag = await analyzeOpenDump(d, 'patched.elf');
      clean('vmcore analysis reports', [diag.reports, diag.notes]);
    },
    undefined,
    5000,
  );
}

// ---------------------------------------------------------------------------------------------
// .ko reader and linter.

export async function checkKmod(bytes: Buffer): Promise<Outcome> {
  return outcomeAsync(
    async () => {
      const elf = parseElfModule(new Uint8Array(bytes), 'fuzz.ko');
      modinfo(elf);
      const r = await lintKmodBytes(new Uint8Array(bytes), 'fuzz.ko');
      clean('lint-kmod text', renderLintText(r));
      // --json and --sarif: parseable, and no raw control character (escaped as \uXXXX instead).
      for (const [what, j] of [['--json', toJson(r)], ['--sarif', toJson(renderLintSarif(r))]] as const) {
        JSON.parse(j);
        const bad = TERMINAL_UNSAFE.exec(j);
        if (bad) fail(`lint-kmod ${what}: raw U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} in output`);
      }
    },
    undefined,
    3000,
  );
}

export function checkElfModule(bytes: Buffer): Outcome {
  return outcome(() => {
    const elf = parseElfModule(new Uint8Array(bytes), 'fuzz.ko');
    modinfo(elf);
  });
}

// ---------------------------------------------------------------------------------------------
// preempt_count values: parsePreemptValue documents a plain Error("not a number"/"out of range").

export function checkPreempt(text: string): Outcome {
  return outcome(
    () => {
      for (const arch of ['x86_64', 'arm64'] as const) {
        const v = parsePreemptValue(text, arch);
        decodePreemptCount(v, arch, null);
        decodePreemptCount(v, arch, text);
      }
    },
    (e) => e instanceof Error && e.constructor === Error && /^(not a number|value out of range)/.test(e.message),
  );
}

// ---------------------------------------------------------------------------------------------
// The CLI, in process: what reaches the terminal.

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run `ktriage <args>` in this process with stdout/stderr captured (not a TTY, NO_COLOR set). */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const noColor = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true));
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(['node', 'ktriage', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    if (noColor === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = noColor;
  }
}


/** Markdown fences (CommonMark): every opened fence is closed by a fence at least as long. */
export function fencesBalanced(md: string): boolean {
  let open: { ch: string; n: number } | null = null;
  for (const line of md.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    const ch = m[1][0];
    const n = m[1].length;
    if (!open) {
      if (ch === '`' && m[2].includes('`')) continue; // not a fence: an info string may not hold backticks
      open = { ch, n };
    } else if (ch === open.ch && n >= open.n && m[2].trim() === '') open = null;
  }
  return open === null;
}

/** The terminal-safety property of one CLI run. */
export function checkCliRun(args: string[], r: CliRun): void {
  const what = `ktriage ${args.join(' ')}`;
  if (![0, 1, 2, 4, 5].includes(r.code)) fail(`${what}: exit code ${r.code}`);
  // 4 and 5 are partial results: only for a dump that is incomplete, and said so.
  if ((r.code === 4 || r.code === 5) && !/INCOMPLETE DUMP|"incomplete": \{/.test(r.out)) fail(`${what}: exit ${r.code} without saying the dump is incomplete`);
  const bad = TERMINAL_UNSAFE.exec(r.out) ?? TERMINAL_UNSAFE.exec(r.err);
  if (bad) {
    const s = TERMINAL_UNSAFE.exec(r.out) ? r.out : r.err;
    fail(`${what}: control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} in output near ${JSON.stringify(s.slice(Math.max(0, bad.index - 60), bad.index + 20))}`);
  }
  if (r.code === 2) {
    const lines = r.err.trimEnd().split('\n');
    if (lines.length !== 1) fail(`${what}: exit 2 with ${lines.length} lines on stderr: ${JSON.stringify(r.err.slice(0, 300))}`);
    if (/internal error/.test(r.err)) fail(`${what}: ${r.err.trim()}`);
  }
  if (args.includes('--json') && r.code !== 2) {
    try {
      JSON.parse(r.out);
    } catch (e) {
      fail(`${what}: --json output does not parse: ${(e as Error).message}`);
    }
  }
  if (args.includes('--markdown') && !fencesBalanced(r.out)) fail(`${what}: unbalanced code fences in --markdown output`);
}

let cliDir: string | undefined;
/** Write the input to a temp file and run the CLI on it with each argument list. */
export async function checkCliFile(bytes: Buffer | string, argLists: string[][], bound = 5000): Promise<void> {
  cliDir ??= tempDir('cli');
  const f = path.join(cliDir, `input-${process.pid}`);
  fs.writeFileSync(f, bytes);
  for (const a of argLists) {
    const args = a.map((x) => (x === '@' ? f : x));
    const t0 = performance.now();
    const r = await runCli(args);
    const ms = performance.now() - t0;
    if (ms > bound) fail(`ktriage ${args.join(' ')} took ${ms.toFixed(0)} ms (bound ${bound} ms)`);
    checkCliRun(args, r);
  }
}

/** The argument lists every CLI input goes through ('@' is the input file). */
export const CLI_ARGS: string[][] = [['analyze', '@'], ['analyze', '--json', '@'], ['analyze', '--markdown', '@'], ['info', '@'], ['log', '@'], ['lint-kmod', '@'], ['lint-kmod', '--sarif', '@']];

/** One CLI input (a log or a dump, as bytes) through every argument list. */
export async function checkCliBytes(bytes: Buffer): Promise<Outcome> {
  await checkCliFile(bytes, CLI_ARGS);
  return 'ok';
}

// ---------------------------------------------------------------------------------------------
// Symbol files given with --system-map / --vmlinux.

/** A System.map as text, checked against the real dump's VMCOREINFO (KASLR shift from _stext). */
export function checkSystemMap(text: string): Outcome {
  const { vi, rsp } = realKernel();
  return outcome(() => {
    const t = parseSystemMap(text, vi, 'fuzz.map');
    t.lookup('_stext');
    t.symbolize(rsp);
    t.format(vi.symbols.get('_stext') ?? 0n);
  });
}

let symDir: string | undefined;
/** An ELF file read as --vmlinux (its .symtab), with and without the dump's VMCOREINFO. */
export function checkVmlinux(bytes: Buffer): Outcome {
  symDir ??= tempDir('vmlinux');
  const p = path.join(symDir, `vmlinux-${process.pid}`);
  fs.writeFileSync(p, bytes);
  const { vi } = realKernel();
  return outcome(() => {
    const t = readVmlinuxSymbols(p);
    t.symbolize(0xffffffff81000000n);
    readVmlinuxSymbols(p, vi);
  });
}
