import { describe, expect, it } from 'vitest';
import { decodeNames, readKallsyms, readTokens } from '../../src/kernel/kallsyms.js';
import { parseSystemMap } from '../../src/kernel/symfiles.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { buildKallsyms as build, kallsymsSample as symbols, LONG, STEXT } from './synthetic.js';

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
