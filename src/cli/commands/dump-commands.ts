// Commands that read a vmcore, in the manner of crash's: info, log, percpu, sym, rd, dis, bt.
// Each opens the dump read-only, asks the kernel layer, prints text or --json, and closes.
//
// Registering them (every start, `--help` included) loads no dump or kernel code: the layers a
// command uses are imported by need() when it runs (vmcore and kernel for all, the unwinder only
// for bt, the disassembler for dis, ...), and bound to the names below, so the command bodies
// read as if they were static imports.
import type { Command } from 'commander';
import type * as VmcoreLayer from '../../vmcore/index.js';
import type * as KernelLayer from '../../kernel/index.js';
import type * as UnwindLayer from '../../kernel/unwind/index.js';
import type * as Disasm from '../../util/disasm.js';
import type * as CrashTime from '../../kernel/crash-time.js';
import type * as PercpuCommand from './percpu-command.js';
import type * as Style from '../style.js';
import type { DumpFile } from '../../vmcore/index.js';
import type { Kernel } from '../../kernel/index.js';
import { InputError, onlyDumpData } from '../../util/errors.js';
import { sanitize, sanitizeLine as s } from '../../util/sanitize.js';
import { toJson } from '../render/json.js';

export type Emit = (r: { text: string; code: number }) => void;

interface SymOpts { systemMap?: string; vmlinux?: string; json?: boolean }

let openDumpAsync: typeof VmcoreLayer.openDumpAsync;
let dumpSummary: typeof VmcoreLayer.dumpSummary;
let missingText: typeof VmcoreLayer.missingText;
let formatLog: typeof KernelLayer.formatLog;
let formatRecord: typeof KernelLayer.formatRecord;
let openKernel: typeof KernelLayer.openKernel;
let crashStyle: typeof UnwindLayer.crashStyle;
let unwinderNotice: typeof UnwindLayer.unwinderNotice;
let disassemble: typeof Disasm.disassemble;
let formatInsn: typeof Disasm.formatInsn;
let crashTimeFields: typeof CrashTime.crashTimeFields;
let percpuText: typeof PercpuCommand.percpuText;
let table: typeof Style.table;
let NR_CPUS_MAX: number;
type Layer = 'unwind' | 'disasm' | 'crashTime' | 'percpu' | 'style';
const loading = new Map<string, Promise<void>>();

/** Bind the layers every dump command uses (vmcore, kernel) and the `extra` ones a command needs. */
function need(...extra: Layer[]): Promise<unknown> {
  const load = (name: string, f: () => Promise<void>) => {
    let p = loading.get(name);
    if (!p) loading.set(name, (p = f()));
    return p;
  };
  const loaders: Record<'core' | Layer, () => Promise<void>> = {
    core: async () => {
      const [v, k] = await Promise.all([import('../../vmcore/index.js'), import('../../kernel/index.js')]);
      ({ openDumpAsync, dumpSummary, missingText } = v);
      ({ formatLog, formatRecord, openKernel } = k);
    },
    unwind: async () => {
      const [u, pcpu] = await Promise.all([import('../../kernel/unwind/index.js'), import('../../kernel/percpu.js')]);
      ({ crashStyle, unwinderNotice } = u);
      ({ NR_CPUS_MAX } = pcpu);
    },
    disasm: async () => {
      ({ disassemble, formatInsn } = await import('../../util/disasm.js'));
    },
    crashTime: async () => {
      ({ crashTimeFields } = await import('../../kernel/crash-time.js'));
    },
    percpu: async () => {
      ({ percpuText } = await import('./percpu-command.js'));
    },
    style: async () => {
      ({ table } = await import('../style.js'));
    },
  };
  return Promise.all((['core', ...extra] as const).map((n) => load(n, loaders[n])));
}

async function withKernel<T>(path: string, opts: SymOpts, f: (k: Kernel, dump: DumpFile) => Promise<T> | T): Promise<T> {
  await need();
  const dump = await openDumpAsync(path);
  try {
    const k = openKernel(dump, { systemMap: opts.systemMap, vmlinux: opts.vmlinux });
    return await f(k, dump);
  } finally {
    dump.close();
  }
}

const hex = (v: bigint, w = 16) => '0x' + v.toString(16).padStart(w, '0');
const json = toJson;

function parseAddress(text: string): bigint | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]{1,16}$/i.test(t)) return BigInt(t);
  if (/^[0-9a-f]{9,16}$/i.test(t)) return BigInt('0x' + t);
  return undefined;
}

/** A symbol name, `name+0x10`, or an address. */
function resolve(k: Kernel, text: string): bigint {
  const a = parseAddress(text);
  if (a !== undefined) return a;
  const m = /^([A-Za-z_.$][\w.$]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(text.trim());
  if (!m) throw new InputError(`not a symbol or an address: ${JSON.stringify(s(text).slice(0, 60))}`);
  const base = k.symbols.lookup(m[1]);
  if (base === undefined) throw new InputError(`symbol ${m[1]} not found (symbols: ${k.symbols.description})`);
  return base + (m[2] ? BigInt(m[2]) : 0n);
}

/**
 * A decimal integer argument in [min, max]. The bound is the caller's: counts start at 1, CPU
 * numbers at 0 (a shared minimum of 1 once made `bt --cpu 0` impossible).
 */
function parseIntArg(what: string, text: string | undefined, def: number, min: number, max: number): number {
  if (text === undefined) return def;
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new InputError(`${what} must be a decimal integer from ${min} to ${max}: ${JSON.stringify(s(text).slice(0, 20))}`);
  const n = Number(t);
  if (n < min || n > max) throw new InputError(`${what} must be between ${min} and ${max}, got ${t.length > 12 ? t.slice(0, 12) + '…' : t}`);
  return n;
}

const INFO_WIDTHS = [18, 92];

/**
 * `info`'s two-column table. Uncoloured and of printable ASCII (the usual case), drawn here as
 * cli-table3 draws it (borders, one space of padding, each line cut at the column width the way
 * its textWrap cuts: words joined by their whitespace, the whitespace after a cut dropped):
 * loading and running cli-table3 for it cost ~15 ms of a ~100 ms command. Anything else goes to
 * cli-table3 itself.
 */
export async function infoTable(rows: [string, string][]): Promise<string> {
  const color = Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  if (color || !rows.every((r) => r.every((c) => /^[\x20-\x7e]*$/.test(c)))) {
    await need('style');
    const t = table(['', ''], { colWidths: INFO_WIDTHS });
    for (const r of rows) t.push(r);
    return t.toString();
  }
  const wrap = (max: number, input: string): string[] => {
    const lines: string[] = [];
    let line = '';
    const parts = input.split(/(\s+)/g);
    for (let i = 0; i < parts.length; i += 2) {
      const ws = i ? parts[i - 1] : '';
      if (line.length && ws) line += ws;
      line += parts[i];
      while (line.length > max) {
        lines.push(line.slice(0, max));
        line = line.slice(max);
      }
    }
    if (line.length) lines.push(line);
    return lines;
  };
  const rule = (l: string, m: string, r: string) => l + INFO_WIDTHS.map((w) => '─'.repeat(w)).join(m) + r;
  const out = [rule('┌', '┬', '┐')];
  rows.forEach((row, ri) => {
    if (ri) out.push(rule('├', '┼', '┤'));
    const cells = row.map((c, i) => wrap(INFO_WIDTHS[i] - 2, c));
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let l = 0; l < height; l++) out.push('│' + cells.map((c, i) => ' ' + (c[l] ?? '').padEnd(INFO_WIDTHS[i] - 2) + ' ').join('│') + '│');
  });
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

function symbolOptions(c: Command): Command {
  return c.option('--system-map <file>', 'System.map to use for symbols').option('--vmlinux <file>', 'vmlinux to use for symbols').option('--json', 'print JSON');
}

export function registerDumpCommands(program: Command, emit: Emit): void {
  symbolOptions(program.command('info <dump>').description('format, kernel, KASLR, paging, CPUs, crash time, panic CPU, symbol source')).action(async (path: string, o: SymOpts) => {
    let code = 0;
    await need('crashTime');
    const r = await withKernel(path, o, async (k, dump) => {
      const c = dump.completeness();
      const info: Record<string, unknown> = { ...dumpSummary(dump) };
      info.incomplete = c.complete ? null : { reason: c.reason, pages: c.pages, missingPages: c.missingPages, fileSize: c.fileSize, expectedSize: c.expectedSize };
      info.kernelRelease = k.osrelease ?? null;
      info.buildId = k.vmcoreinfo.buildId ?? null;
      info.pageSize = k.vmcoreinfo.pageSize;
      info.kaslrOffset = k.kaslrOffset !== undefined ? hex(k.kaslrOffset) : null;
      info.physBase = k.vmcoreinfo.physBase !== undefined ? (k.vmcoreinfo.physBase < 0n ? '-' + hex(-k.vmcoreinfo.physBase) : hex(k.vmcoreinfo.physBase)) : null;
      info.pagingLevels = k.pagingLevels;
      Object.assign(info, k.arch.layoutFacts(k.memory));
      Object.assign(info, crashTimeFields(k));
      const syms = k.symbolsOrNull();
      info.symbolSource = syms ? `${syms.source}: ${syms.description}` : `none usable: ${k.symbolAttempts.map((a) => `${a.source}: ${a.message}`).join('; ')}`;
      try {
        info.cpusOnline = k.percpu.online;
        info.cpusPossible = k.percpu.possible;
      } catch (e) {
        onlyDumpData(e);
        info.cpus = `per-CPU data unreadable: ${e.message}`;
      }
      try {
        const p = k.panicCpu;
        info.panicCpu = p.cpu ?? null;
        info.panicCpuEvidence = `${p.evidence}${p.details.length ? `: ${p.details.join('; ')}` : ''}`;
      } catch (e) {
        onlyDumpData(e);
        info.panicCpu = null;
        info.panicCpuEvidence = e.message;
      }
      // As analyze: an incomplete dump whose missing part held something asked for is a partial result.
      if (!c.complete && dump.pagesPastEnd.size > 0) code = 4;
      if (o.json) return json(info);
      const rows: [string, string][] = [];
      for (const [key, v] of Object.entries(info)) if (key !== 'incomplete') rows.push([key, s(Array.isArray(v) ? v.join(',') : String(v))]);
      const warn = c.complete ? '' : `ktriage: INCOMPLETE DUMP: ${missingText(c)}; values below that need the missing part are absent or marked unreadable\n`;
      return warn + (await infoTable(rows)) + '\n';
    });
    emit({ text: r, code });
  });

  symbolOptions(program.command('log <dump>').description('the kernel log read from the dump, like dmesg'))
    .option('--tail <n>', 'only the last N records')
    .action(async (path: string, o: SymOpts & { tail?: string }) => {
      const tail = o.tail !== undefined ? parseIntArg('--tail', o.tail, 0, 1, 10_000_000) : undefined;
      const r = await withKernel(path, o, (k) => {
        const log = k.log;
        if (o.json) {
          const recs = tail ? log.records.slice(-tail) : log.records;
          return json({ format: log.format, warnings: log.warnings, stats: log.stats, records: recs.map((x) => ({ ...x, text: s(x.text), line: s(formatRecord(x)) })) });
        }
        const warn = log.warnings.map((w) => `ktriage: log: ${w}\n`).join('');
        return sanitize(formatLog(log, { tail })) + (warn ? '\n' + warn : '');
      });
      emit({ text: r.endsWith('\n') ? r : r + '\n', code: 0 });
    });

  symbolOptions(program.command('percpu <dump> <symbol>').description('a per-CPU variable, or a member of it (symbol.member[2].sub, through BTF), on every CPU'))
    .option('--type <type>', 'int | uint | bool | u8 | u16 | u64 | ptr (default: the BTF type, else int)')
    .action(async (path: string, symbol: string, o: SymOpts & { type?: string }) => {
      await need('percpu');
      const r = await withKernel(path, o, (k) => percpuText(k, symbol, o));
      emit({ text: r, code: 0 });
    });

  symbolOptions(program.command('sym <dump> <nameOrAddress>').description('symbol to address, or address to symbol+offset')).action(async (path: string, what: string, o: SymOpts) => {
    const r = await withKernel(path, o, (k) => {
      const addr = parseAddress(what);
      if (addr !== undefined) {
        const info = k.symbols.symbolize(addr);
        if (!info) throw new InputError(`${hex(addr)} is not inside a known kernel symbol`);
        const res = { address: hex(addr), symbol: info.name, offset: Number(info.offset), size: Number(info.size), module: info.module ?? null };
        return o.json ? json(res) : `${hex(addr)} (${k.symbols.format(addr) ?? info.name})${info.module ? ` [${info.module}]` : ''}\n`;
      }
      const sym = k.symbols.get(what);
      if (!sym) throw new InputError(`symbol ${what} not found (symbols: ${k.symbols.description})`);
      return o.json ? json({ name: sym.name, address: hex(sym.address), type: sym.type, source: k.symbols.source }) : `${sym.address.toString(16).padStart(16, '0')} (${sym.type}) ${sym.name}\n`;
    });
    emit({ text: r, code: 0 });
  });

  symbolOptions(program.command('rd <dump> <address> [count]').description('read memory: count 64-bit words at a virtual address (or physical with -p)'))
    .option('-p, --physical', 'the address is physical')
    .action(async (path: string, what: string, countText: string | undefined, o: SymOpts & { physical?: boolean }) => {
      const count = parseIntArg('count', countText, 1, 1, 65536);
      const r = await withKernel(path, o, (k) => {
        const addr = o.physical ? parseAddress(what) : resolve(k, what);
        if (addr === undefined) throw new InputError(`not an address: ${JSON.stringify(s(what).slice(0, 40))}`);
        const buf = o.physical ? k.memory.readPhysical(addr, count * 8) : k.memory.readVirtual(addr, count * 8);
        const words = Array.from({ length: count }, (_, i) => buf.readBigUInt64LE(i * 8));
        if (o.json) return json({ address: hex(addr), physical: Boolean(o.physical), words: words.map((w) => hex(w)) });
        const lines: string[] = [];
        for (let i = 0; i < count; i += 2) {
          const pair = words.slice(i, i + 2).map((w) => w.toString(16).padStart(16, '0'));
          const ascii = Array.from(buf.subarray(i * 8, Math.min(count, i + 2) * 8), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
          lines.push(`${(addr + BigInt(i * 8)).toString(16)}:  ${pair.join(' ').padEnd(33)}  ${ascii}`);
        }
        return lines.join('\n') + '\n';
      });
      emit({ text: r, code: 0 });
    });

  symbolOptions(program.command('dis <dump> <symbolOrAddress> [count]').description('disassemble (Intel syntax) with symbolised call targets')).action(async (path: string, what: string, countText: string | undefined, o: SymOpts) => {
    const count = parseIntArg('count', countText, 32, 1, 4096);
    await need('disasm');
    const r = await withKernel(path, o, async (k) => {
      const addr = resolve(k, what);
      const bytes = k.memory.readVirtual(addr, Math.min(count * (k.arch.disasmMode === 'arm64' ? 4 : 15), 65536));
      const insns = (await disassemble(bytes, addr, count, k.arch.disasmMode)).slice(0, count);
      const rows = insns.map((i) => {
        let text = formatInsn(i);
        // x86 calls and jumps; arm64 branches (b, bl, b.cond, cbz, tbz: the target is the last operand).
        const target = /^(call|jmp|j[a-z]+|bl?|b\.[a-z]+|cbn?z\s+\w+,|tbn?z\s+\w+, #\d+,)\s+0x([0-9a-f]+)$/.exec(text);
        if (target) {
          const f = k.symbols.format(BigInt('0x' + target[2]));
          if (f) text += ` <${f}>`;
        }
        return { address: hex(i.address), symbol: k.symbols.format(i.address) ?? null, bytes: Array.from(i.bytes, (b) => b.toString(16).padStart(2, '0')).join(' '), text };
      });
      if (o.json) return json({ start: hex(addr), instructions: rows });
      return rows.map((x) => `${x.address.slice(2)} <${x.symbol ?? '?'}>:  ${x.text}`).join('\n') + '\n';
    });
    emit({ text: r, code: 0 });
  });

  symbolOptions(program.command('bt <dump>').description('backtrace unwound from memory (default: the panic CPU)'))
    .option('--cpu <n>', 'CPU to unwind')
    .option('--all', 'every CPU with registers')
    .action(async (path: string, o: SymOpts & { cpu?: string; all?: boolean }) => {
      await need('unwind');
      const r = await withKernel(path, o, async (k) => {
        const u = (await k.arch.loadUnwinder())(k);
        let traces;
        if (o.all) traces = await u.backtraceAll();
        else {
          const cpu = o.cpu !== undefined ? parseIntArg('--cpu', o.cpu, 0, 0, NR_CPUS_MAX - 1) : k.panicCpu.cpu;
          if (cpu === undefined) throw new InputError('could not tell which CPU panicked: pass --cpu N');
          if (!k.cpus.some((c) => c.cpu === cpu)) throw new InputError(`CPU ${cpu} has no register note in this dump (CPUs: ${k.cpus.map((c) => c.cpu).join(', ')})`);
          traces = [await u.backtrace(cpu)];
        }
        if (o.json) return json(traces);
        // Before any frame: which unwinder could not be used and why (crashStyle prints the stop reason).
        const notice = unwinderNotice(u.status()).map((l) => `ktriage: ${s(l)}\n`).join('');
        return notice + traces.map((t) => sanitize(crashStyle(t))).join('\n\n') + '\n';
      });
      emit({ text: r, code: 0 });
    });
}
