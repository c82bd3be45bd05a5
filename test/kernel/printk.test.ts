import { describe, expect, it } from 'vitest';
import { formatLog, formatRecord, mergeContinuations, readKernelLog, LOG_CONT, LOG_NEWLINE } from '../../src/kernel/printk.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';

class Flat {
  readonly buf = Buffer.alloc(0x10000);
  constructor(readonly base: bigint) {}
  readVirtual(vaddr: bigint, len: number): Buffer {
    const o = Number(vaddr - this.base);
    if (o < 0 || o + len > this.buf.length) throw new Error(`unmapped 0x${vaddr.toString(16)}`);
    return Buffer.from(this.buf.subarray(o, o + len));
  }
  u64(a: bigint, v: bigint) {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), Number(a - this.base));
  }
  u32(a: bigint, v: number) {
    this.buf.writeUInt32LE(v >>> 0, Number(a - this.base));
  }
  u16(a: bigint, v: number) {
    this.buf.writeUInt16LE(v, Number(a - this.base));
  }
  u8(a: bigint, v: number) {
    this.buf[Number(a - this.base)] = v;
  }
  str(a: bigint, s: string) {
    this.buf.write(s, Number(a - this.base), 'latin1');
  }
}

// The 6.1 x86_64 VMCOREINFO printk entries, as the real dumps carry them.
const RING_VMCOREINFO = `SYMBOL(prb)=ffffffff82000000
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
`;

const B = 0xffffffff82000000n;
const RB = B + 0x100n;
const DESCS = B + 0x1000n;
const INFOS = B + 0x2000n;
const DATA = B + 0x4000n;
const SIZE_BITS = 8; // 256-byte data ring
const COUNT_BITS = 3; // 8 descriptors

const STATE = { reserved: 0n, committed: 1n, finalized: 2n, reusable: 3n };

function ring() {
  const m = new Flat(B);
  m.u64(B, RB); // prb -> printk_rb_static
  m.u32(RB + 0n, COUNT_BITS);
  m.u64(RB + 8n, DESCS);
  m.u64(RB + 16n, INFOS);
  m.u32(RB + 48n, SIZE_BITS);
  m.u64(RB + 56n, DATA);
  const put = (
    id: bigint,
    state: keyof typeof STATE,
    begin: bigint,
    next: bigint,
    info: { seq: bigint; ts: bigint; textLen: number; level: number; flags: number; caller: number },
    stateId = id,
  ) => {
    const idx = Number(id % 8n);
    const d = DESCS + BigInt(idx * 24);
    m.u64(d, (STATE[state] << 62n) | stateId);
    m.u64(d + 8n, begin);
    m.u64(d + 16n, next);
    const i = INFOS + BigInt(idx * 88);
    m.u64(i, info.seq);
    m.u64(i + 8n, info.ts);
    m.u16(i + 16n, info.textLen);
    m.u8(i + 19n, (info.level << 5) | info.flags);
    m.u32(i + 20n, info.caller);
  };
  const block = (lposIdx: number, id: bigint, text: string) => {
    m.u64(DATA + BigInt(lposIdx), id);
    m.str(DATA + BigInt(lposIdx) + 8n, text);
  };
  const W = 256n; // one wrap of the data ring
  const inf = (n: number, text = '', extra: Partial<{ level: number; flags: number; caller: number }> = {}) => ({
    seq: BigInt(100 + n),
    ts: BigInt(n) * 1_000_000_000n + 2000n,
    textLen: text.length,
    level: extra.level ?? 6,
    flags: extra.flags ?? LOG_NEWLINE,
    caller: extra.caller ?? 50 + n,
  });
  // id 16: reusable (its block, at index 0 of wrap 2, has since been overwritten)
  put(16n, 'reusable', 2n * W, 2n * W + 16n, inf(16, 'gone'));
  // id 17: finalized, regular block at index 24
  block(24, 17n, 'first record!');
  put(17n, 'finalized', 2n * W + 24n, 2n * W + 48n, inf(17, 'first record!', { level: 4 }));
  // id 18: reserved (writer still busy)
  put(18n, 'reserved', 2n * W + 48n, 2n * W + 56n, inf(18, 'x'));
  // id 19: data-less empty line (NO_LPOS)
  put(19n, 'finalized', 3n, 3n, inf(19, ''));
  // id 20: committed, multi-line, from CPU 1 (caller id bit 31)
  block(56, 20n, 'multi\nline');
  put(20n, 'committed', 2n * W + 56n, 2n * W + 80n, inf(20, 'multi\nline', { caller: 0x80000001 }));
  // id 21: FAILED_LPOS: text lost
  put(21n, 'finalized', 1n, 1n, inf(21, 'lost!'));
  // id 22: wraps: begins at index 240 of wrap 2, stored at index 0 of wrap 3
  block(0, 22n, 'wrapped-record!!');
  put(22n, 'finalized', 2n * W + 240n, 3n * W + 24n, inf(22, 'wrapped-record!!', { level: 0 }));
  // id 23: its slot still holds the older id 15: a miss
  put(23n, 'finalized', 3n * W + 24n, 3n * W + 40n, inf(23, 'stale'), 15n);
  m.u64(RB + 24n, 23n); // head_id
  m.u64(RB + 32n, 16n); // tail_id
  return m;
}

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
