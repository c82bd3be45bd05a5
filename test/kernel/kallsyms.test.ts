import { describe, expect, it } from 'vitest';
import { decodeNames, readKallsyms, readTokens, type KallsymsEncoding, type KallsymsTables } from '../../src/kernel/kallsyms.js';
import { parseSystemMap } from '../../src/kernel/symfiles.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';

/** Flat fake kernel memory: one buffer at a base address. */
class Flat {
  readonly buf = Buffer.alloc(0x40000);
  constructor(readonly base: bigint) {}
  readVirtual(vaddr: bigint, len: number): Buffer {
    const o = Number(vaddr - this.base);
    if (o < 0 || o + len > this.buf.length) throw new Error(`unmapped 0x${vaddr.toString(16)}+${len}`);
    return Buffer.from(this.buf.subarray(o, o + len));
  }
}

// Token table: index i < 128 is the single character i (printable ASCII); a few multi-character
// tokens live in otherwise unused slots, as scripts/kallsyms.c's compressor would produce.
const MULTI: Record<number, string> = { 1: 'irq_', 2: '_fpu', 3: 'Tpan', 4: '__per_cpu', 5: 'usable' };

function tokenStrings(): string[] {
  const t: string[] = [];
  for (let i = 0; i < 256; i++) t.push(MULTI[i] ?? (i >= 0x21 && i < 0x7f ? String.fromCharCode(i) : '?'));
  return t;
}

function compress(s: string): number[] {
  const out: number[] = [];
  let i = 0;
  outer: while (i < s.length) {
    for (const [k, v] of Object.entries(MULTI)) {
      if (s.startsWith(v, i)) {
        out.push(Number(k));
        i += v.length;
        continue outer;
      }
    }
    out.push(s.charCodeAt(i));
    i++;
  }
  return out;
}

interface Sym {
  type: string;
  name: string;
  addr: bigint;
}

const BASE = 0xffffffff82000000n;
const A = {
  numSyms: BASE + 0x0n,
  relBase: BASE + 0x10n,
  tokenIndex: BASE + 0x100n,
  tokenTable: BASE + 0x400n,
  offsets: BASE + 0x1000n,
  addresses: BASE + 0x3000n,
  names: BASE + 0x8000n,
};

function build(syms: Sym[], enc: KallsymsEncoding, relativeBase = 0xffffffff81000000n): { mem: Flat; tables: KallsymsTables } {
  const mem = new Flat(BASE);
  const w = (a: bigint) => Number(a - BASE);
  mem.buf.writeUInt32LE(syms.length, w(A.numSyms));
  mem.buf.writeBigUInt64LE(relativeBase, w(A.relBase));
  const tokens = tokenStrings();
  let off = 0;
  tokens.forEach((t, i) => {
    mem.buf.writeUInt16LE(off, w(A.tokenIndex) + i * 2);
    mem.buf.write(t + '\0', w(A.tokenTable) + off, 'latin1');
    off += t.length + 1;
  });
  let p = w(A.names);
  syms.forEach((s, i) => {
    const toks = compress(s.type + s.name);
    if (toks.length > 0x7f) {
      mem.buf[p++] = 0x80 | (toks.length & 0x7f);
      mem.buf[p++] = toks.length >> 7;
    } else mem.buf[p++] = toks.length;
    for (const t of toks) mem.buf[p++] = t;
    const o = w(A.offsets) + i * 4;
    switch (enc) {
      case 'absolute':
        mem.buf.writeBigUInt64LE(s.addr, w(A.addresses) + i * 8);
        break;
      case 'absolute-percpu':
        if (s.type === 'A') mem.buf.writeInt32LE(Number(s.addr), o);
        else mem.buf.writeInt32LE(Number(relativeBase - 1n - s.addr), o); // off = base - 1 - addr (< 0)
        break;
      case 'base-relative':
        mem.buf.writeUInt32LE(Number(s.addr - relativeBase), o);
        break;
      case 'pc-relative':
        mem.buf.writeInt32LE(Number(s.addr - (A.offsets + BigInt(i) * 4n)), o);
        break;
    }
  });
  const tables: KallsymsTables = {
    names: A.names,
    numSyms: A.numSyms,
    tokenTable: A.tokenTable,
    tokenIndex: A.tokenIndex,
    ...(enc === 'absolute' ? { addresses: A.addresses } : { offsets: A.offsets }),
    ...(enc === 'absolute-percpu' || enc === 'base-relative' ? { relativeBase: A.relBase } : {}),
  };
  return { mem, tables };
}

const LONG = 'a_very_long_rust_symbol_' + 'x'.repeat(160); // > 127 tokens: 2-byte length
const STEXT = 0xffffffff81000000n;

function symbols(percpu: boolean): Sym[] {
  const s: Sym[] = [];
  if (percpu) {
    s.push({ type: 'A', name: '__per_cpu_start', addr: 0n });
    s.push({ type: 'A', name: 'in_kernel_fpu', addr: 0x1fb18n });
    s.push({ type: 'A', name: '__preempt_count', addr: 0x1fb40n });
  }
  s.push({ type: 'T', name: '_stext', addr: STEXT });
  s.push({ type: 'T', name: 'startup_64', addr: STEXT });
  s.push({ type: 'T', name: 'irq_fpu_usable', addr: STEXT + 0x406d0n });
  s.push({ type: 't', name: 'local_helper', addr: STEXT + 0x40710n });
  s.push({ type: 'T', name: LONG, addr: STEXT + 0x40800n });
  s.push({ type: 'T', name: 'panic', addr: STEXT + 0x50000n });
  s.push({ type: 't', name: 'dup', addr: STEXT + 0x50100n });
  s.push({ type: 'T', name: 'dup', addr: STEXT + 0x50200n });
  s.push({ type: 'D', name: '__per_cpu_offset', addr: STEXT + 0x1000000n });
  s.push({ type: 'B', name: '_end', addr: STEXT + 0x2000000n });
  return s;
}

describe('kallsyms', () => {
  it('expands tokens, including 2-byte "big symbol" lengths', () => {
    const { mem, tables } = build(symbols(false), 'base-relative');
    const tokens = readTokens(mem, tables.tokenTable, tables.tokenIndex);
    expect(tokens[1]).toBe('irq_');
    expect(tokens[0x41]).toBe('A');
    const d = decodeNames(mem, tables.names, symbols(false).length, tokens);
    const names = Array.from({ length: symbols(false).length }, (_, i) => d.text.toString('latin1', d.starts[i], d.starts[i + 1] - 1));
    expect(names).toContain('Tirq_fpu_usable');
    expect(names).toContain('T' + LONG);
  });

  for (const enc of ['absolute-percpu', 'base-relative', 'pc-relative', 'absolute'] as const) {
    it(`detects the ${enc} encoding from _stext and decodes addresses`, () => {
      const percpu = enc === 'absolute-percpu';
      const { mem, tables } = build(symbols(percpu), enc);
      const r = readKallsyms(mem, tables, STEXT);
      expect(r.encoding).toBe(enc);
      expect(r.evidence).toMatch(/SYMBOL\(_stext\)/);
      const t = r.table;
      expect(t.lookup('irq_fpu_usable')).toBe(STEXT + 0x406d0n);
      expect(t.lookup(LONG)).toBe(STEXT + 0x40800n);
      expect(t.get('dup')).toEqual({ name: 'dup', address: STEXT + 0x50200n, type: 'T' }); // global preferred
      if (percpu) {
        expect(t.get('__preempt_count')).toEqual({ name: '__preempt_count', address: 0x1fb40n, type: 'A' });
        expect(t.lookup('in_kernel_fpu')).toBe(0x1fb18n);
      }
      expect(t.symbolize(STEXT + 0x406d0n + 0x39n)).toEqual({ name: 'irq_fpu_usable', address: STEXT + 0x406d0n, offset: 0x39n, size: 0x40n });
      expect(t.format(STEXT + 0x406d0n + 0x39n)).toBe('irq_fpu_usable+0x39/0x40');
      // first alias at an address wins, like get_symbol_pos()
      expect(t.symbolize(STEXT)?.name).toBe('_stext');
      // per-CPU offsets and addresses past the last symbol are not code
      expect(t.symbolize(0x1fb40n)).toBeNull();
      expect(t.symbolize(STEXT + 0x3000000n)).toBeNull();
      expect(t.lookup('no_such_symbol')).toBeUndefined();
      // many lookups switch to a full index; results must not change
      for (let i = 0; i < 60; i++) t.lookup(`missing_${i}`);
      expect(t.lookup('panic')).toBe(STEXT + 0x50000n);
      expect(t.get('dup')?.type).toBe('T');
    });
  }

  it('falls back to plausibility without SYMBOL(_stext), and rejects garbage', () => {
    const { mem, tables } = build(symbols(true), 'absolute-percpu');
    const r = readKallsyms(mem, tables, undefined);
    expect(r.encoding).toBe('absolute-percpu');
    expect(r.evidence).toMatch(/no SYMBOL\(_stext\)/);
    mem.buf.writeUInt32LE(50_000_000, 0);
    expect(() => readKallsyms(mem, tables, STEXT)).toThrow(/implausible/);
  });

  it('says so when no encoding reproduces _stext', () => {
    const { mem, tables } = build(symbols(false), 'base-relative');
    const r = readKallsyms(mem, tables, STEXT + 0x1000n);
    expect(r.evidence).toMatch(/did not match/);
  });
});

describe('System.map', () => {
  const vi = parseVmcoreinfo('SYMBOL(_stext)=ffffffff8d000000\nKERNELOFFSET=c000000\n');
  const lines = ['0000000000000000 D __per_cpu_start', '000000000001fb40 D __preempt_count', 'ffffffff81000000 T _stext', 'ffffffff810406d0 T irq_fpu_usable', 'ffffffff81050000 t helper', 'ffffffff82000000 A abs_sym'];
  for (let i = 0; i < 120; i++) lines.push(`ffffffff8110${(i * 16).toString(16).padStart(4, '0')} t filler_${i}`);
  it('applies the KASLR shift except to per-CPU and absolute symbols', () => {
    const t = parseSystemMap(lines.join('\n'), vi);
    expect(t.source).toBe('system-map');
    expect(t.lookup('_stext')).toBe(0xffffffff8d000000n);
    expect(t.lookup('irq_fpu_usable')).toBe(0xffffffff8d0406d0n);
    expect(t.lookup('__preempt_count')).toBe(0x1fb40n);
    expect(t.lookup('abs_sym')).toBe(0xffffffff82000000n);
    expect(t.symbolize(0xffffffff8d0406d0n + 0x39n)?.name).toBe('irq_fpu_usable');
  });
  it('rejects a stub and a System.map of another kernel', () => {
    expect(() => parseSystemMap('ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n', vi)).toThrow(/stub/);
    const other = parseVmcoreinfo('SYMBOL(_stext)=ffffffff8d000000\nKERNELOFFSET=b000000\n');
    expect(() => parseSystemMap(lines.join('\n'), other)).toThrow(/does not match/);
  });
});
