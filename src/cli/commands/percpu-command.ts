// `ktriage percpu <dump> <symbol[.member...]> [--type T]`: a per-CPU variable, or one member of it
// found through BTF, on every possible CPU.
import type { Kernel } from '../../kernel/index.js';
import { BTF_KIND } from '../../kernel/btf.js';
import { didYouMean, formatBtfValue, perCpuVarType, resolvePerCpuPath, scalarInt, splitPerCpuPath, suggestPerCpu } from '../../kernel/percpu-path.js';
import { InputError } from '../../util/errors.js';
import { sanitize, sanitizeLine as s } from '../../util/sanitize.js';
import { toJson } from '../render/json.js';

const hex = (v: bigint, w = 16) => '0x' + v.toString(16).padStart(w, '0');
const SIZES: Record<string, number> = { int: 4, uint: 4, bool: 1, u8: 1, u16: 2, u64: 8, ptr: 8 };

export function percpuText(k: Kernel, what: string, o: { type?: string; json?: boolean }): string {
  if (o.type !== undefined && !SIZES[o.type]) throw new InputError(`unknown --type ${JSON.stringify(s(o.type))} (int, uint, bool, u8, u16, u64, ptr)`);
  const { symbol, path } = splitPerCpuPath(what);
  const syms = k.symbols;
  const isPerCpu = (n: string) => k.percpu.isPerCpuSymbol(n);
  const sym = syms.get(symbol);
  if (!sym) throw new InputError(`per-CPU symbol ${symbol} not found${didYouMean(suggestPerCpu(syms, k.btf, symbol, path, isPerCpu))} (symbols: ${syms.description})`);
  if (!isPerCpu(symbol)) {
    const alt = suggestPerCpu(syms, k.btf, symbol, path, isPerCpu);
    throw new InputError(`${symbol} is not a per-CPU variable (0x${sym.address.toString(16)} is outside __per_cpu_start..__per_cpu_end)${didYouMean(alt)}`);
  }
  // Through BTF: a member path, or a whole variable whose type is not a plain 32-bit int when no
  // --type was asked for (the 32-bit int keeps its "0x80110003 (-2146369533)" form).
  // The variable's BTF type: none, a 32-bit int, or other; an answer the build cache keeps
  // (Kernel.btfFact), so a repeated question does not read the BTF blob.
  const varKind =
    k.btfFact(`percpu var kind ${symbol}`, (btf) => {
      const t = perCpuVarType(btf, symbol);
      if (t === undefined) return 'none';
      return btf.type(btf.resolve(t))?.kind === BTF_KIND.INT && btf.sizeOfId(t) === 4 ? 'int32' : 'other';
    }) ?? 'none';
  if (o.type === undefined && (path || varKind === 'other')) return typedText(k, what, o.json);
  if (path) throw new InputError(`--type cannot be combined with a member path (${s(what)}): the member's BTF type is used`);
  return rawText(k, symbol, sym.address, o.type ?? 'int', o.json);
}

function typedText(k: Kernel, what: string, json?: boolean): string {
  const btf = k.btf;
  const t = resolvePerCpuPath(k.symbols, btf, what, (n) => k.percpu.isPerCpuSymbol(n));
  // gdb's <symbol> / <symbol+16> (decimal offset), as crash prints pointers inside values.
  const symbolize = (a: bigint) => {
    const i = k.symbols.symbolize(a);
    return i ? `${i.name}${i.offset ? `+${i.offset}` : ''}${i.module ? ` [${i.module}]` : ''}` : undefined;
  };
  const bits = t.bitSize ? { shift: t.bitShift, size: t.bitSize } : undefined;
  const rows = k.percpu.readAll(t.symbolValue + BigInt(t.offset), t.size).map((v) => {
    const address = v.address !== undefined ? hex(v.address) : null;
    if (!v.value) return { cpu: v.cpu, address, value: null as string | null, error: v.error ?? 'unreadable' };
    const text = formatBtfValue(btf!, t.typeId, v.value, 0, { symbolize, topLevel: true }, '', 0, bits);
    const n = scalarInt(btf!, t.typeId, v.value, bits);
    return { cpu: v.cpu, address, value: text, ...(n !== undefined ? { hex: '0x' + n.toString(16) } : {}) };
  });
  if (json) return toJson({ symbol: t.symbol, path: t.path, symbolValue: hex(t.symbolValue), memberOffset: t.offset, type: t.typeName, size: t.size, values: rows });
  const lines = rows.map((r) => {
    const head = `per_cpu(${t.symbol}, ${r.cpu})${t.path}`;
    if (r.value === null) return `${head} = <${'error' in r ? r.error : 'unreadable'}>`;
    // crash prints ints in decimal; the hex beside it is what a preempt_count reader wants.
    const h = 'hex' in r && r.hex && /^-?\d{2,}$/.test(r.value) ? ` (${r.hex})` : '';
    return `${head} = ${sanitize(r.value)}${h}`;
  });
  return lines.join('\n') + '\n';
}

function rawText(k: Kernel, symbol: string, address: bigint, type: string, json?: boolean): string {
  const size = SIZES[type];
  const rows = k.percpu.readAll(address, size).map((v) => {
    if (!v.value) return { cpu: v.cpu, address: v.address !== undefined ? hex(v.address) : null, value: null, error: v.error ?? 'unreadable' };
    const b = v.value;
    let value: string;
    let decimal: string | null = null;
    if (type === 'int') {
      const x = b.readInt32LE(0);
      value = '0x' + (x >>> 0).toString(16).padStart(8, '0');
      decimal = String(x);
    } else if (type === 'uint') {
      value = '0x' + b.readUInt32LE(0).toString(16).padStart(8, '0');
      decimal = String(b.readUInt32LE(0));
    } else if (type === 'bool' || type === 'u8') {
      value = String(b[0]);
    } else if (type === 'u16') {
      value = String(b.readUInt16LE(0));
    } else {
      const x = b.readBigUInt64LE(0);
      value = hex(x);
      if (type === 'ptr') {
        const f = k.symbols.format(x);
        if (f) decimal = f;
      }
    }
    return { cpu: v.cpu, address: v.address !== undefined ? hex(v.address) : null, value, ...(decimal !== null ? { decimal } : {}) };
  });
  if (json) return toJson({ symbol, symbolValue: hex(address), type, values: rows });
  return rows.map((x) => `per_cpu(${symbol}, ${x.cpu}) = ${'error' in x && x.error ? `<${x.error}>` : `${x.value}${'decimal' in x && x.decimal ? ` (${x.decimal})` : ''}`}`).join('\n') + '\n';
}
