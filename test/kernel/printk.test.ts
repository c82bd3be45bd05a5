import { describe, expect, it } from 'vitest';
import { formatLog, formatRecord, mergeContinuations, readKernelLog, LOG_CONT, LOG_NEWLINE } from '../../src/kernel/printk.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { DumpReadError } from '../../src/vmcore/types.js';
import { Flat, RB, RING_VMCOREINFO, B, ring } from './synthetic.js';

describe('printk ring buffer (5.10+)', () => {
  it('walks descriptors by state, handles data-less, lost and wrapped blocks', () => {
    const vi = parseVmcoreinfo(RING_VMCOREINFO);
    const log = readKernelLog(ring(), vi);
    expect(log.format).toBe('printk_ringbuffer');
    expect(log.stats).toEqual({ reserved: 1, committed: 1, finalized: 4, reusable: 1, miss: 1, badData: 0 });
    expect(log.records.map((r) => r.text)).toEqual(['first record!', '', 'multi\nline', '', 'wrapped-record!!']);
    expect(log.records.map((r) => r.seq)).toEqual([117n, 119n, 120n, 121n, 122n]);
    expect(log.records[0].level).toBe(4);
    expect(log.records[4].level).toBe(0);
    expect(log.records[2].state).toBe('committed');
    expect(log.records[2].callerId).toBe(0x80000001);
    expect(log.records[3].textLost).toBe(true);
    expect(log.records[1].textLost).toBeUndefined();
    expect(formatRecord(log.records[0])).toBe('[   17.000002] first record!');
    expect(formatRecord(log.records[2])).toBe('[   20.000002] multi\n               line');
    expect(formatRecord(log.records[2], { caller: true, level: true })).toBe('<6>[   20.000002 C1] multi\n' + ' '.repeat('<6>[   20.000002 C1] '.length) + 'line');
    expect(formatLog(log, { tail: 1 })).toBe('[   22.000002] wrapped-record!!\n');
  });

  it('falls back to block reads when the whole text ring cannot be read', () => {
    const m = ring();
    const reads: number[] = [];
    const picky = {
      readVirtual(vaddr: bigint, len: number) {
        if (vaddr === B + 0x4000n && len === 256) throw new DumpReadError('whole ring unreadable');
        if (vaddr >= B + 0x4000n) reads.push(len);
        return m.readVirtual(vaddr, len);
      },
    };
    const log = readKernelLog(picky, parseVmcoreinfo(RING_VMCOREINFO));
    expect(log.records.map((r) => r.text)).toEqual(['first record!', '', 'multi\nline', '', 'wrapped-record!!']);
    expect(reads).toEqual([24, 24, 24]);
  });

  it('rejects a hostile geometry and names missing VMCOREINFO entries', () => {
    const m = ring();
    m.u32(RB, 40);
    expect(() => readKernelLog(m, parseVmcoreinfo(RING_VMCOREINFO))).toThrow(/count_bits 40/);
    const noOff = RING_VMCOREINFO.replace('OFFSET(prb_desc.state_var)=0\n', '');
    expect(() => readKernelLog(ring(), parseVmcoreinfo(noOff))).toThrow('VMCOREINFO lacks OFFSET(prb_desc.state_var)');
    expect(() => readKernelLog(ring(), parseVmcoreinfo('OSRELEASE=x'))).toThrow(/neither SYMBOL\(prb\) nor SYMBOL\(log_buf\)/);
  });

  it('merges continuation fragments on request', () => {
    const base = { tsNsec: 1n, level: 6, state: 'finalized' as const, callerId: 7 };
    const merged = mergeContinuations([
      { ...base, seq: 1n, text: 'abc', flags: 0 },
      { ...base, seq: 2n, text: 'def', flags: LOG_CONT | LOG_NEWLINE },
      { ...base, seq: 3n, text: 'next', flags: LOG_NEWLINE },
    ]);
    expect(merged.map((r) => r.text)).toEqual(['abcdef', 'next']);
  });
});

describe('log_buf (3.5-5.9)', () => {
  it('walks variable-length records across the wrap marker', () => {
    const m = new Flat(B);
    const LB = B + 0x800n;
    m.u64(B + 0x10n, LB); // log_buf
    m.u32(B + 0x18n, 128); // log_buf_len
    m.u32(B + 0x20n, 80); // log_first_idx
    m.u32(B + 0x28n, 24); // log_next_idx
    const rec = (idx: number, ts: bigint, text: string, level: number) => {
      const a = LB + BigInt(idx);
      const len = (16 + text.length + 3) & ~3;
      m.u64(a, ts);
      m.u16(a + 8n, len);
      m.u16(a + 10n, text.length);
      m.u16(a + 12n, 0);
      m.u8(a + 15n, (level << 5) | LOG_NEWLINE);
      m.str(a + 16n, text);
      return idx + len;
    };
    const end = rec(80, 5_000_000n, 'older', 3);
    m.u16(LB + BigInt(end) + 8n, 0); // wrap marker
    rec(0, 6_500_000_000n, 'newer', 6);
    const vi = parseVmcoreinfo(
      [
        'SYMBOL(log_buf)=ffffffff82000010',
        'SYMBOL(log_buf_len)=ffffffff82000018',
        'SYMBOL(log_first_idx)=ffffffff82000020',
        'SYMBOL(log_next_idx)=ffffffff82000028',
        'SIZE(printk_log)=16',
        'OFFSET(printk_log.ts_nsec)=0',
        'OFFSET(printk_log.len)=8',
        'OFFSET(printk_log.text_len)=10',
        'OFFSET(printk_log.dict_len)=12',
      ].join('\n'),
    );
    const log = readKernelLog(m, vi);
    expect(log.format).toBe('log_buf');
    expect(log.records.map((r) => [r.text, r.level])).toEqual([
      ['older', 3],
      ['newer', 6],
    ]);
    expect(formatLog(log)).toBe('[    0.005000] older\n[    6.500000] newer\n');
  });
});
