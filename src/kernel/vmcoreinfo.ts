// VMCOREINFO: the text note the kernel writes for dump tools (kernel/vmcore_info.c, formerly
// kernel/crash_core.c; x86_64 part in arch/x86/kernel/machine_kexec_64.c). One KEY=VALUE per line:
//   SYMBOL(x)=%lx   runtime address, already KASLR-shifted, hex without 0x
//   SIZE(x)=%lu  OFFSET(s.m)=%lu  LENGTH(x)=%lu   decimal
//   NUMBER(x)=%ld   decimal, signed (phys_base can be negative); a few arch lines are hand-written
//                   as 0x-prefixed hex (e.g. NUMBER(VMALLOC_START) on some arches)
//   KERNELOFFSET=%lx (hex, no 0x), PAGESIZE=%ld, OSRELEASE=%s, BUILD-ID=%s, CRASHTIME=%lld
// Unknown lines are kept (`other`) and never rejected: the note is written by many kernel versions.

import { InputError } from '../util/errors.js';

export interface VmcoreInfo {
  /** The note text as found (NUL padding removed). */
  readonly raw: string;
  readonly osrelease?: string;
  readonly buildId?: string;
  /** PAGESIZE; 4096 when the line is absent. */
  readonly pageSize: number;
  /** KERNELOFFSET (KASLR virtual shift); undefined when the line is absent. */
  readonly kernelOffset?: bigint;
  /** NUMBER(phys_base), signed. */
  readonly physBase?: bigint;
  /** NUMBER(pgtable_l5_enabled) === 1. */
  readonly pgtableL5: boolean;
  /** CRASHTIME (seconds since the epoch), written by kdump's crash_save_vmcoreinfo(). */
  readonly crashTime?: number;
  readonly symbols: ReadonlyMap<string, bigint>;
  /** OFFSET(struct.member) keyed as "struct.member". */
  readonly offsets: ReadonlyMap<string, number>;
  readonly sizes: ReadonlyMap<string, number>;
  readonly lengths: ReadonlyMap<string, bigint>;
  readonly numbers: ReadonlyMap<string, bigint>;
  /** Any other KEY=VALUE line, verbatim. */
  readonly other: ReadonlyMap<string, string>;
  /** Lines that did not parse (kept for diagnostics). */
  readonly malformed: readonly string[];
}

const KEYED = /^(SYMBOL|OFFSET|SIZE|LENGTH|NUMBER)\(([^)]*)\)$/;

function parseHex(s: string): bigint | undefined {
  const t = s.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,16}$/.test(t)) return undefined;
  return BigInt('0x' + t);
}

/** Decimal (optionally signed) or 0x-prefixed hex (optionally signed). */
function parseNumber(s: string): bigint | undefined {
  const t = s.trim();
  const m = /^(-?)(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.exec(t);
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] === '-' ? -v : v;
}

function parseUnsigned(s: string): bigint | undefined {
  const v = parseNumber(s);
  return v !== undefined && v >= 0n ? v : undefined;
}

export function parseVmcoreinfo(text: string): VmcoreInfo {
  if (text.length > 1 << 20) throw new InputError(`VMCOREINFO note is implausibly large (${text.length} bytes)`);
  const raw = text.replace(/\0+$/, '');
  const symbols = new Map<string, bigint>();
  const offsets = new Map<string, number>();
  const sizes = new Map<string, number>();
  const lengths = new Map<string, bigint>();
  const numbers = new Map<string, bigint>();
  const other = new Map<string, string>();
  const malformed: string[] = [];
  let osrelease: string | undefined;
  let buildId: string | undefined;
  let pageSize = 4096;
  let kernelOffset: bigint | undefined;
  let crashTime: number | undefined;

  for (const line0 of raw.split('\n')) {
    const line = line0.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      malformed.push(line);
      continue;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const km = KEYED.exec(key);
    if (km) {
      const [, kind, name] = km;
      let ok = true;
      switch (kind) {
        case 'SYMBOL': {
          const v = parseHex(value);
          if (v === undefined) ok = false;
          else symbols.set(name, v);
          break;
        }
        case 'OFFSET':
        case 'SIZE': {
          const v = parseUnsigned(value);
          if (v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER)) ok = false;
          else (kind === 'OFFSET' ? offsets : sizes).set(name, Number(v));
          break;
        }
        case 'LENGTH': {
          const v = parseUnsigned(value);
          if (v === undefined) ok = false;
          else lengths.set(name, v);
          break;
        }
        case 'NUMBER': {
          const v = parseNumber(value);
          if (v === undefined) ok = false;
          else numbers.set(name, v);
          break;
        }
      }
      if (!ok) malformed.push(line);
      continue;
    }
    switch (key) {
      case 'OSRELEASE':
        osrelease = value;
        break;
      case 'BUILD-ID':
        buildId = value;
        break;
      case 'PAGESIZE': {
        const v = parseUnsigned(value);
        if (v !== undefined && v >= 512n && v <= 1n << 20n && (v & (v - 1n)) === 0n) pageSize = Number(v);
        else malformed.push(line);
        break;
      }
      case 'KERNELOFFSET': {
        const v = parseHex(value);
        if (v === undefined) malformed.push(line);
        else kernelOffset = v;
        break;
      }
      case 'CRASHTIME': {
        const v = parseNumber(value);
        if (v === undefined) malformed.push(line);
        else crashTime = Number(v);
        break;
      }
      default:
        other.set(key, value);
    }
  }
  const physBase = numbers.get('phys_base');
  return {
    raw,
    osrelease,
    buildId,
    pageSize,
    kernelOffset,
    physBase: physBase === undefined ? undefined : BigInt.asIntN(64, physBase),
    pgtableL5: numbers.get('pgtable_l5_enabled') === 1n,
    crashTime,
    symbols,
    offsets,
    sizes,
    lengths,
    numbers,
    other,
    malformed,
  };
}

/** OFFSET(struct.member), or throw a one-line error naming the missing entry. */
export function requireOffset(vi: VmcoreInfo, key: string): number {
  const v = vi.offsets.get(key);
  if (v === undefined) throw new InputError(`VMCOREINFO lacks OFFSET(${key})`);
  return v;
}

export function requireSymbol(vi: VmcoreInfo, name: string): bigint {
  const v = vi.symbols.get(name);
  if (v === undefined) throw new InputError(`VMCOREINFO lacks SYMBOL(${name})`);
  return v;
}

export function requireSize(vi: VmcoreInfo, name: string): number {
  const v = vi.sizes.get(name);
  if (v === undefined) throw new InputError(`VMCOREINFO lacks SIZE(${name})`);
  return v;
}
