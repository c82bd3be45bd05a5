// The kernel as a program, over a DumpFile: VMCOREINFO, virtual memory, symbols (kallsyms from
// the dump first, then --system-map, then --vmlinux), per-CPU data, the log, BTF, CPUs and the
// panic CPU. Everything past VMCOREINFO is computed on first use, so `info` does not pay for the
// log and `log` does not pay for BTF.

import { InputError, onlyDumpData } from '../util/errors.js';
import type { DumpFile } from '../vmcore/types.js';
import { Btf } from './btf.js';
import { kallsymsTablesFromVmcoreinfo, readKallsyms, readKallsymsCandidates, type KallsymsEncoding } from './kallsyms.js';
import { locateKallsyms } from './kallsyms-locate.js';
import { BuildCache, cacheRoot, type BtfFacts } from './build-cache.js';
import type { KallsymsTable } from './kallsyms.js';
import { DumpReadError } from '../vmcore/types.js';
import type { KernelAddressSpace } from './address-space.js';
import { archOf, type Arch } from './arch/index.js';
import { PerCpu } from './percpu.js';
import { readKernelLog, type KernelLog } from './printk.js';
import { decodePrstatus, identifyPanicCpu, type CpuRegisters, type PanicCpuResult } from './prstatus.js';
import { readSystemMap, readVmlinux, symbolFileMismatch, SymbolFileMismatchError } from './symfiles.js';
import { symbolFileHint } from './symbol-hints.js';
import { OverlaySymbolTable, type KernelSymbol, type SymbolSource, type SymbolTable } from './symbols.js';
import { btfHeaderAt, locateBtf } from './btf-locate.js';
import { readTask, type TaskInfo } from './task.js';
import { parseVmcoreinfo, type VmcoreInfo } from './vmcoreinfo.js';

export interface OpenKernelOptions {
  /** Path of a System.map for this kernel. */
  systemMap?: string;
  /** Path of a vmlinux with a .symtab. */
  vmlinux?: string;
  /**
   * The per-build cache (build-cache.ts): a folder, or false for none. Default: cacheRoot()
   * ($KTRIAGE_CACHE_DIR, $XDG_CACHE_HOME/ktriage or ~/.cache/ktriage; off with KTRIAGE_NO_CACHE=1).
   */
  cache?: string | false;
}

export interface KernelSummary {
  release?: string;
  buildId?: string;
  pageSize: number;
  kaslrOffset?: string;
  physBase?: string;
  pagingLevels: number;
  crashTime?: string;
  cpusInNotes: number;
  cpusPossible?: number[];
  cpusOnline?: number[];
  cpuSource?: string;
  panicCpu?: number;
  panicCpuEvidence?: string;
  symbolSource?: SymbolSource;
  symbolDetails: string[];
  kallsymsEncoding?: KallsymsEncoding;
  directMapBase?: string;
}

export interface SymbolAttempt {
  source: SymbolSource;
  ok: boolean;
  message: string;
}

export class Kernel {
  readonly vmcoreinfo: VmcoreInfo;
  /** The architecture's record: registers, translation, stacks, per-CPU context, unwinder. */
  readonly arch: Arch;
  readonly memory: KernelAddressSpace;
  /** Milliseconds spent per lazily computed part. */
  readonly timing: Record<string, number> = {};
  private _symbols?: SymbolTable | null;
  private _symbolAttempts: SymbolAttempt[] = [];
  private _kallsymsEncoding?: KallsymsEncoding;
  private _btf?: Btf | null;
  private _btfError?: string;
  private _percpu?: PerCpu;
  private _log?: KernelLog;
  private _cpus?: CpuRegisters[];
  private _panic?: PanicCpuResult;

  constructor(
    readonly dump: DumpFile,
    private readonly opts: OpenKernelOptions = {},
  ) {
    if (!dump.vmcoreinfo) {
      throw new InputError('the dump has no VMCOREINFO note: cannot locate the kernel (QEMU dumps need -device vmcoreinfo and a guest that fills it)');
    }
    this.vmcoreinfo = parseVmcoreinfo(dump.vmcoreinfo);
    this.arch = archOf(dump);
    this.memory = this.arch.createMemory(dump, this.vmcoreinfo);
    this.checkSymbolFiles();
    this.cache = BuildCache.open(this.vmcoreinfo, opts.cache === false ? undefined : (opts.cache ?? cacheRoot()));
  }

  /** The per-build cache, when on and the dump names its build; `cache.events` says what it did. */
  readonly cache: BuildCache | undefined;

  /** _stext: VMCOREINFO's, else the default link address plus KERNELOFFSET. */
  private get stext(): bigint | undefined {
    return this.vmcoreinfo.symbols.get('_stext') ?? (this.kaslrOffset !== undefined ? this.arch.defaultTextBase + this.kaslrOffset : undefined);
  }

  /** Image symbols VMCOREINFO names, compared with a symbol table. */
  private vmcoreinfoAgreement(t: { lookup(name: string): bigint | undefined }): { agree: number; disagree: string[] } {
    let agree = 0;
    const disagree: string[] = [];
    for (const [name, addr] of this.vmcoreinfo.symbols) {
      if (!this.memory.isImageAddress(addr)) continue;
      const got = t.lookup(name);
      if (got === undefined) continue;
      if (got === addr) agree++;
      else disagree.push(`${name}: kallsyms 0x${got.toString(16)}, VMCOREINFO 0x${addr.toString(16)}`);
    }
    return { agree, disagree };
  }

  private kallsymsFromCache(): SymbolTable | undefined {
    const stext = this.stext;
    if (!this.cache || stext === undefined) return undefined;
    const c = this.cache.loadKallsyms(this.memory, stext);
    if (!c) return undefined;
    const { agree, disagree } = this.vmcoreinfoAgreement(c.table);
    if (disagree.length > 0 || agree === 0) {
      this.cache.events.push(`kallsyms: cached table disagrees with VMCOREINFO (${disagree[0] ?? 'no symbol to check'}): ignored`);
      return undefined;
    }
    this._kallsymsEncoding = c.encoding;
    this._symbolAttempts.push({ source: 'kallsyms', ok: true, message: `${c.table.count} symbols, ${c.encoding} encoding, from the build cache ${this.cache.dir} (token table and ${agree} VMCOREINFO symbols agree)` });
    return c.table;
  }

  private cacheKallsyms(table: KallsymsTable, encoding: KallsymsEncoding, tokenTable: bigint): void {
    const stext = this.stext;
    if (this.cache && stext !== undefined) this.cache.saveKallsyms(this.memory, table, encoding, stext, tokenTable);
  }

  private _fileTables: { systemMap?: SymbolTable; vmlinux?: SymbolTable; errors: Partial<Record<'systemMap' | 'vmlinux', string>> } = { errors: {} };

  /**
   * Symbol files the user named are read now and refused (InputError, one line naming both
   * kernels) when they belong to another kernel, even if the dump's own kallsyms would be used:
   * a wrong file silently accepted gave garbage per-CPU values and a 20,000-line report.
   */
  private checkSymbolFiles(): void {
    const vi = this.vmcoreinfo;
    for (const key of ['systemMap', 'vmlinux'] as const) {
      const file = this.opts[key];
      if (!file) continue;
      let loaded: { table: SymbolTable; buildId?: string; banner?: string };
      try {
        loaded = key === 'systemMap' ? { table: readSystemMap(file, vi) } : readVmlinux(file, vi);
      } catch (e) {
        if (e instanceof SymbolFileMismatchError || !(e instanceof InputError)) throw e;
        this._fileTables.errors[key] = e.message;
        continue;
      }
      const bad = symbolFileMismatch(file, loaded.table, vi, loaded);
      if (bad) throw new SymbolFileMismatchError(bad);
      this._fileTables[key] = loaded.table;
    }
  }

  private time<T>(key: string, f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.timing[key] = (this.timing[key] ?? 0) + performance.now() - t0;
    }
  }

  get osrelease(): string | undefined {
    return this.vmcoreinfo.osrelease;
  }

  /** KASLR offset: KERNELOFFSET, else SYMBOL(_stext) - the default link address. */
  get kaslrOffset(): bigint | undefined {
    const ko = this.vmcoreinfo.kernelOffset;
    if (ko !== undefined) return ko;
    const stext = this.vmcoreinfo.symbols.get('_stext');
    const base = this.arch.defaultTextBase;
    return stext !== undefined && stext >= base ? stext - base : undefined;
  }

  get pagingLevels(): number {
    return this.memory.levels;
  }

  /** Every way of getting symbols that was tried, in order, with the outcome. */
  get symbolAttempts(): readonly SymbolAttempt[] {
    this.symbolsOrNull();
    return this._symbolAttempts;
  }

  get kallsymsEncoding(): KallsymsEncoding | undefined {
    this.symbolsOrNull();
    return this._kallsymsEncoding;
  }

  /** Symbols or null, with `symbolAttempts` saying why. */
  symbolsOrNull(): SymbolTable | null {
    if (this._symbols !== undefined) return this._symbols;
    this._symbols = this.time('symbols', () => this.loadSymbols());
    if (this._symbols) this.arch.symbolsLoaded(this.memory, this._symbols);
    this.time('recoverSymbols', () => this.recoverSymbols());
    return this._symbols;
  }

  /** Symbols; throws a one-line InputError naming what would help when none is usable. */
  get symbols(): SymbolTable {
    const s = this.symbolsOrNull();
    if (!s) {
      const why = this._symbolAttempts.map((a) => `${a.source}: ${a.message}`).join('; ');
      throw new InputError(
        `no usable kernel symbols (${why}). ${symbolFileHint(this.osrelease)}`,
      );
    }
    return s;
  }

  private loadSymbols(): SymbolTable | null {
    const vi = this.vmcoreinfo;
    const cached = this.kallsymsFromCache();
    if (cached) return cached;
    const tables = kallsymsTablesFromVmcoreinfo(vi);
    if (tables) {
      try {
        const k = readKallsyms(this.memory, tables, vi.symbols.get('_stext'));
        this._kallsymsEncoding = k.encoding;
        this._symbolAttempts.push({ source: 'kallsyms', ok: true, message: `${k.numSyms} symbols, ${k.encoding} encoding (${k.evidence})` });
        this.cacheKallsyms(k.table, k.encoding, tables.tokenTable);
        return k.table;
      } catch (e) {
        if (!(e instanceof InputError) && !(e instanceof DumpReadError)) throw e;
        this._symbolAttempts.push({ source: 'kallsyms', ok: false, message: e.message });
      }
    } else {
      const t = this.time('kallsymsLocate', () => this.kallsymsFromImage());
      if (t) return t;
    }
    for (const key of ['systemMap', 'vmlinux'] as const) {
      if (!this.opts[key]) continue;
      const source = key === 'systemMap' ? 'system-map' : 'vmlinux';
      const t = this._fileTables[key];
      if (t) {
        this._symbolAttempts.push({ source, ok: true, message: t.description });
        return t;
      }
      this._symbolAttempts.push({ source, ok: false, message: this._fileTables.errors[key] ?? 'unreadable' });
    }
    return null;
  }

  /**
   * Kernels before 6.0 do not name their kallsyms tables in VMCOREINFO: find them in the image
   * (kallsyms-locate.ts), then require every image symbol VMCOREINFO does name to agree.
   */
  private kallsymsFromImage(): SymbolTable | null {
    const vi = this.vmcoreinfo;
    const stext = this.stext;
    const fail = (message: string) => {
      this._symbolAttempts.push({ source: 'kallsyms', ok: false, message });
      return null;
    };
    if (stext === undefined) return fail('VMCOREINFO names no kallsyms tables, and neither SYMBOL(_stext) nor KERNELOFFSET to find them by');
    const anchors = [...vi.symbols.entries()].filter(([, a]) => this.memory.isImageAddress(a) && a > stext + 0x100000n);
    if (anchors.length === 0) return fail('VMCOREINFO names no kallsyms tables and no kernel data symbol to bound a search');
    const addrs = anchors.map(([, a]) => a);
    const lowest = addrs.reduce((a, b) => (b < a ? b : a));
    const highest = addrs.reduce((a, b) => (b > a ? b : a));
    let located = locateKallsyms(this.memory, stext, lowest);
    if (!('candidates' in located) && highest > lowest) located = locateKallsyms(this.memory, stext, highest);
    if (!('candidates' in located)) return fail(`VMCOREINFO names no kallsyms tables (kernel before 6.0); ${located.reason}`);
    let k;
    try {
      k = readKallsymsCandidates(this.memory, located.candidates, stext, true, new Map(anchors));
    } catch (e) {
      if (!(e instanceof InputError) && !(e instanceof DumpReadError)) throw e;
      return fail(`kallsyms ${located.evidence}, but: ${e.message}`);
    }
    // Every image symbol VMCOREINFO names must come out the same.
    const { agree, disagree } = this.vmcoreinfoAgreement(k.table);
    if (disagree.length > 0) return fail(`kallsyms ${located.evidence}, but it disagrees with VMCOREINFO (${disagree.slice(0, 3).join('; ')})`);
    this.cacheKallsyms(k.table, k.encoding, k.tables.tokenTable);
    this._kallsymsEncoding = k.encoding;
    this._symbolAttempts.push({
      source: 'kallsyms',
      ok: true,
      message: `${k.numSyms} symbols, ${k.encoding} encoding (${k.evidence}); ${located.evidence}; ${agree} VMCOREINFO symbols agree`,
    });
    return k.table;
  }

  /** Where .BTF is in memory: __start_BTF..__stop_BTF, else found by its header after _etext; or why not. */
  private btfBounds(): { start: bigint; stop: bigint } | string {
    const s = this.symbolsOrNull();
    let start = s?.lookup('__start_BTF');
    let stop = s?.lookup('__stop_BTF');
    const etext = s?.lookup('_etext');
    if ((start === undefined || stop === undefined) && etext !== undefined) {
      // kallsyms without data symbols (no CONFIG_KALLSYMS_ALL): find the section by its header,
      // once per build (the place is cached relative to _stext and its header checked here).
      const stext = s?.lookup('_stext');
      const kept = stext !== undefined ? this.cache?.loadBtfPlace(stext) : undefined;
      if (kept && btfHeaderAt(this.memory, kept.start) === kept.size) ({ start, stop } = { start: kept.start, stop: kept.start + BigInt(kept.size) });
      else {
        const found = locateBtf(this.memory, etext);
        if (found) {
          ({ start, stop } = found);
          if (stext !== undefined) this.cache?.saveBtfPlace(stext, found.start, Number(found.stop - found.start));
        }
      }
    }
    if (start === undefined || stop === undefined) return s ? 'no __start_BTF/__stop_BTF symbols (CONFIG_DEBUG_INFO_BTF off?)' : 'no symbols';
    return { start, stop };
  }

  /** Kernel BTF from __start_BTF..__stop_BTF, or undefined (see btfError). */
  get btf(): Btf | undefined {
    if (this._btf === undefined) {
      this._btf = this.time('btf', () => {
        const bounds = this.btfBounds();
        if (typeof bounds === 'string') {
          this._btfError = bounds;
          return null;
        }
        const { start, stop } = bounds;
        try {
          const cached = this.cache?.loadBtf(this.memory, start, stop);
          if (cached) return Btf.parse(cached.blob, cached.derived);
          const b = Btf.fromMemory(this.memory, start, stop);
          if (this.cache) this.cache.saveBtf(this.memory.readVirtual(start, Number(stop - start)), b.derived());
          return b;
        } catch (e) {
          if (!(e instanceof InputError) && !(e instanceof DumpReadError)) throw e;
          this._btfError = e.message;
          return null;
        }
      });
    }
    return this._btf ?? undefined;
  }

  private _facts?: BtfFacts | null;

  /**
   * An answer computed from BTF, kept per build in the cache (BuildCache.loadFacts): a command
   * that asks a few questions answered before (`info`'s crash time, `percpu`'s variable type)
   * then neither reads nor parses the 5 MB blob. `key` must name the question whole; the answer
   * must survive JSON. Undefined when the kernel has no usable BTF.
   */
  btfFact<T>(key: string, compute: (btf: Btf) => T): T | undefined {
    if (this._btf === undefined) {
      const f = this.btfFacts();
      if (f?.has(key)) return f.get(key) as T;
    }
    const btf = this.btf;
    if (!btf) return undefined;
    const v = compute(btf);
    const f = this.btfFacts();
    if (f && !f.has(key)) f.set(key, v);
    return v;
  }

  private btfFacts(): BtfFacts | undefined {
    if (this._facts === undefined) {
      this._facts = null;
      const b = this.cache ? this.btfBounds() : 'no cache';
      if (this.cache && typeof b !== 'string') {
        try {
          this._facts = this.cache.btfFacts(this.memory, b.start, b.stop) ?? null;
        } catch (e) {
          onlyDumpData(e);
        }
      }
    }
    return this._facts ?? undefined;
  }

  get btfError(): string | undefined {
    return this._btfError;
  }

  get percpu(): PerCpu {
    this._percpu ??= this.time('percpu', () => new PerCpu(this.memory, this.symbols, this.dump.prstatus.length, () => this.btf, this.arch.context));
    return this._percpu;
  }

  private recovered = false;

  /** Data symbols kallsyms lacks, from the architecture's record (see Arch.recoverSymbols), added to the table once. */
  private recoverSymbols(): void {
    const syms = this._symbols;
    if (!syms || this.recovered || syms.lookup('__per_cpu_offset') !== undefined || !this.arch.recoverSymbols) return;
    this.recovered = true;
    const extra = this.recoveredSymbols(syms);
    const module = this.btfFact('module.list+name offsets', (b) => [b.offsetOf('module', 'list'), b.offsetOf('module', 'name')]);
    if (this.arch.recoverModuleList && typeof module?.[0] === 'number' && typeof module[1] === 'number') {
      extra.push(...this.arch.recoverModuleList(this.memory, syms, { list: module[0], name: module[1] }));
    }
    if (!extra.length) return;
    this._symbols = new OverlaySymbolTable(syms, extra, `${syms.description}; ${extra.length} data symbols (per-CPU variables${extra.some((x) => x.name === 'modules') ? ', modules' : ''}) recovered from code and BTF (no CONFIG_KALLSYMS_ALL)`);
  }

  /**
   * The architecture's recovered symbols, kept per build in the cache as offsets from _stext (the
   * image moves with KASLR as one piece; the per-CPU variables are image addresses too): found
   * once by decoding code and walking BTF (~70 ms on Debian's arm64 6.1), then a lookup. Only a
   * non-empty answer is kept, so a dump that lacked the pages does not spoil the build's entry.
   * A kept answer is checked against this dump: `__per_cpu_offset[0]` must read and the list of
   * symbols must not contradict kallsyms.
   */
  private recoveredSymbols(syms: SymbolTable): KernelSymbol[] {
    if (!this.arch.recoverSymbols) return [];
    const recover = (m: KernelAddressSpace, t: SymbolTable, b: Btf | undefined, n: number): KernelSymbol[] => this.arch.recoverSymbols?.(m, t, b, n) ?? [];
    const stext = syms.lookup('_stext');
    const key = `recovered-symbols:${this.arch.name}:v2`;
    const facts = stext !== undefined && this._btf === undefined ? this.btfFacts() : undefined;
    const kept = facts?.get(key);
    if (stext !== undefined && Array.isArray(kept) && kept.length) {
      const out: KernelSymbol[] = [];
      for (const e of kept as unknown[]) {
        if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'string' || !/^-?\d+$/.test(e[1])) return recover(this.memory, syms, this.btf, this.dump.prstatus.length);
        out.push({ name: e[0], address: BigInt.asUintN(64, stext + BigInt(e[1])), type: e[2] });
      }
      const pco = out.find((x) => x.name === '__per_cpu_offset');
      if (pco && this.memory.tryRead(pco.address, 8) && out.every((x) => syms.lookup(x.name) === undefined)) return out;
    }
    const found = recover(this.memory, syms, this.btf, this.dump.prstatus.length);
    if (found.length && stext !== undefined) this.btfFacts()?.set(key, found.map((x) => [x.name, (x.address - stext).toString(), x.type]));
    return found;
  }

  /** The kernel log (VMCOREINFO only; BTF refines the level byte position when already loaded). */
  get log(): KernelLog {
    this._log ??= this.time('log', () => readKernelLog(this.memory, this.vmcoreinfo));
    return this._log;
  }

  /**
   * Registers per CPU. NT_PRSTATUS notes are written for online CPUs in CPU order (kdump's
   * crash_notes, QEMU's vCPU list), so the i-th note is the i-th online CPU when the online mask
   * can be read, else CPU i.
   */
  get cpus(): CpuRegisters[] {
    if (!this._cpus) {
      let online: number[] | undefined;
      try {
        const p = this.symbolsOrNull() ? this.percpu : undefined;
        if (p && p.online.length === this.dump.prstatus.length) online = p.online;
      } catch (e) {
        onlyDumpData(e);
        online = undefined;
      }
      this._cpus = this.dump.prstatus.map((p, i) => decodePrstatus(p, online ? online[i] : i, this.arch.regs));
    }
    return this._cpus;
  }

  get panicCpu(): PanicCpuResult {
    this._panic ??= this.time('panicCpu', () => {
      const syms = this.symbolsOrNull() ?? undefined;
      // KERNELPACMASK (arm64 VMCOREINFO): a signed kernel return address has bit 55 set and
      // its PAC bits cleared; setting the mask bits again gives the address
      // (ptrauth_strip_kernel_insn_pac(), arch/arm64/include/asm/pointer_auth.h).
      const pac = BigInt.asUintN(64, this.vmcoreinfo.numbers.get('KERNELPACMASK') ?? 0n);
      const codeAddress = pac === 0n ? undefined : (v: bigint) => ((v & (1n << 55n)) !== 0n ? v | pac : v);
      return identifyPanicCpu({ cpus: this.cpus, syms, mem: this.memory, log: () => this.log, nmiStackNames: (cpu) => this.nmiStackNames(cpu), codeAddress });
    });
    return this._panic;
  }

  /** Text symbols where a CPU stopped by the crashing one keeps its evidence (x86_64: the NMI stack). */
  nmiStackNames(cpu: number): string[] {
    return this.arch.stopEvidenceNames(this, cpu);
  }

  /** BTF if something already loaded it, else undefined (never parses it). */
  loadedBtf(): Btf | undefined {
    return this._btf ?? undefined;
  }

  /** Per-CPU address of a symbol, or undefined (the unwinder's StackContext.perCpuAddress). */
  perCpuAddress(cpu: number, symbol: string): bigint | undefined {
    try {
      return this.symbolsOrNull()?.lookup(symbol) === undefined ? undefined : this.percpu.address(cpu, symbol);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  }

  /** What `ktriage info` shows about the kernel, JSON-friendly (numbers as hex strings). */
  summary(): KernelSummary {
    const vi = this.vmcoreinfo;
    const hex = (v: bigint | undefined) => (v === undefined ? undefined : (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16)));
    const s: KernelSummary = {
      release: vi.osrelease,
      buildId: vi.buildId,
      pageSize: vi.pageSize,
      kaslrOffset: hex(this.kaslrOffset),
      physBase: hex(vi.physBase),
      pagingLevels: this.memory.levels,
      crashTime: vi.crashTime !== undefined ? new Date(vi.crashTime * 1000).toISOString() : undefined,
      cpusInNotes: this.dump.prstatus.length,
      symbolSource: this.symbolsOrNull()?.source,
      symbolDetails: this.symbolAttempts.map((a) => `${a.source}: ${a.ok ? '' : 'failed: '}${a.message}`),
      kallsymsEncoding: this._kallsymsEncoding,
      directMapBase: hex(this.memory.directMapBase),
    };
    if (this._symbols) {
      try {
        const p = this.percpu;
        s.cpusPossible = p.possible;
        s.cpusOnline = p.online;
        s.cpuSource = p.cpuSource;
      } catch (e) {
        onlyDumpData(e);
        // left out
      }
    }
    const pc = this.panicCpu;
    s.panicCpu = pc.cpu;
    s.panicCpuEvidence = pc.evidence;
    return s;
  }

  task(address: bigint): TaskInfo {
    return readTask(this.memory, this.btf, address);
  }
}

/** Open the kernel inside a dump. Throws InputError when the dump has no VMCOREINFO. */
export function openKernel(dump: DumpFile, opts: OpenKernelOptions = {}): Kernel {
  return new Kernel(dump, opts);
}
