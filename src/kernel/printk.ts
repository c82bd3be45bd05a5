// The kernel log, read from the dump with VMCOREINFO alone (no symbol file).
//
// 5.10+ lockless ring buffer (kernel/printk/printk_ringbuffer.[ch]):
//   *SYMBOL(prb) -> struct printk_ringbuffer { desc_ring; text_data_ring; fail }
//   desc_ring: count_bits, descs[1 << count_bits] (state_var, text_blk_lpos{begin,next}),
//              infos[1 << count_bits] (printk_info: seq, ts_nsec, text_len, facility, flags:5,
//              level:3, caller_id, dev_info), head_id, tail_id
//   state_var: top 2 bits = state (0 reserved, 1 committed, 2 finalized, 3 reusable), the rest
//              the descriptor id; a slot is valid for id only if its id bits match.
//   text_data_ring: size_bits, data, head_lpos, tail_lpos. A block is {unsigned long id; text};
//              lpos bit 0 set = data-less (FAILED_LPOS 0x1, NO_LPOS/EMPTY_LINE_LPOS 0x3); a block
//              whose begin and next lie in different wraps of the ring is stored at index 0.
//   The state values are not exported in VMCOREINFO; makedumpfile and crash hard-code them too.
//   Only OFFSET/SIZE entries from VMCOREINFO are used; the level byte (a bitfield, not exported)
//   sits right after facility: OFFSET(printk_info.text_len) + 3, or from BTF when given.
// 3.5-5.9 variable-length records in log_buf (struct printk_log), walked from log_first_idx to
// log_next_idx; a zero `len` means "wrap to the start of the buffer".
// Output formatting follows crash's `log` (dump_record()): "[%5lu.%06lu] text", with the lines of
// a multi-line record indented by the prefix width and control characters shown as '.' (text is
// decoded as UTF-8, where crash would print each non-ASCII byte as '.').

import { InputError, onlyDumpData } from '../util/errors.js';
import type { Btf } from './btf.js';
import type { VmcoreInfo } from './vmcoreinfo.js';

export interface LogReader {
  readVirtual(vaddr: bigint, len: number): Buffer;
}

export interface LogRecord {
  seq: bigint;
  tsNsec: bigint;
  /** Syslog level 0-7 (undefined when it could not be located). */
  level?: number;
  facility?: number;
  /** printk flags (LOG_NEWLINE 2, LOG_CONT 8); undefined when unknown. */
  flags?: number;
  /** Raw caller_id: bit 31 set = CPU (low bits), else task pid. Undefined without CONFIG_PRINTK_CALLER. */
  callerId?: number;
  text: string;
  /** 'committed' (could still be extended) or 'finalized'; 'log_buf' for the old format. */
  state: 'committed' | 'finalized' | 'log_buf';
  /** True when the descriptor says the text was lost (FAILED_LPOS) or the data block was bad. */
  textLost?: boolean;
}

export interface KernelLog {
  format: 'printk_ringbuffer' | 'log_buf';
  records: LogRecord[];
  /** Descriptor states seen while walking (ring buffer). */
  stats: { reserved: number; committed: number; finalized: number; reusable: number; miss: number; badData: number };
  warnings: string[];
}

export const LOG_NEWLINE = 2;
export const LOG_CONT = 8;

const DESC_ID_MASK = (1n << 62n) - 1n;
/** Refuse ring geometries no kernel uses (CONFIG_LOG_BUF_SHIFT max 25; log_buf_len= up to a few GB). */
const MAX_COUNT_BITS = 26;
const MAX_DATA_BITS = 31;

function off(vi: VmcoreInfo, key: string): number {
  const v = vi.offsets.get(key);
  if (v === undefined) throw new InputError(`VMCOREINFO lacks OFFSET(${key}): cannot walk the printk ring buffer`);
  return v;
}

function size(vi: VmcoreInfo, key: string): number {
  const v = vi.sizes.get(key);
  if (v === undefined) throw new InputError(`VMCOREINFO lacks SIZE(${key}): cannot walk the printk ring buffer`);
  return v;
}

/** Which log format this VMCOREINFO describes, if any. */
function logFormat(vi: VmcoreInfo): 'printk_ringbuffer' | 'log_buf' | undefined {
  if (vi.symbols.has('prb')) return 'printk_ringbuffer';
  if (vi.symbols.has('log_buf')) return 'log_buf';
  return undefined;
}

export function readKernelLog(mem: LogReader, vi: VmcoreInfo, btf?: Btf): KernelLog {
  const f = logFormat(vi);
  if (f === 'printk_ringbuffer') return readRingBuffer(mem, vi, btf);
  if (f === 'log_buf') return readLogBuf(mem, vi);
  throw new InputError('VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_buf): the kernel log cannot be located');
}

function readRingBuffer(mem: LogReader, vi: VmcoreInfo, btf?: Btf): KernelLog {
  const u64 = (a: bigint) => mem.readVirtual(a, 8).readBigUInt64LE(0);
  const u32 = (a: bigint) => mem.readVirtual(a, 4).readUInt32LE(0);
  const counter = vi.offsets.get('atomic_long_t.counter') ?? 0;

  const prb = u64(vi.symbols.get('prb')!);
  const descRing = prb + BigInt(off(vi, 'printk_ringbuffer.desc_ring'));
  const textRing = prb + BigInt(off(vi, 'printk_ringbuffer.text_data_ring'));
  const countBits = u32(descRing + BigInt(off(vi, 'prb_desc_ring.count_bits')));
  if (countBits > MAX_COUNT_BITS) throw new InputError(`printk ring buffer: count_bits ${countBits} is implausible`);
  const descs = u64(descRing + BigInt(off(vi, 'prb_desc_ring.descs')));
  const infos = u64(descRing + BigInt(off(vi, 'prb_desc_ring.infos')));
  const headId = u64(descRing + BigInt(off(vi, 'prb_desc_ring.head_id') + counter)) & DESC_ID_MASK;
  const tailId = u64(descRing + BigInt(off(vi, 'prb_desc_ring.tail_id') + counter)) & DESC_ID_MASK;
  const sizeBits = u32(textRing + BigInt(off(vi, 'prb_data_ring.size_bits')));
  if (sizeBits > MAX_DATA_BITS) throw new InputError(`printk ring buffer: data size_bits ${sizeBits} is implausible`);
  const data = u64(textRing + BigInt(off(vi, 'prb_data_ring.data')));

  const descSize = size(vi, 'prb_desc');
  const infoSize = size(vi, 'printk_info');
  const oState = off(vi, 'prb_desc.state_var') + counter;
  const oLpos = off(vi, 'prb_desc.text_blk_lpos');
  const oBegin = off(vi, 'prb_data_blk_lpos.begin');
  const oNext = off(vi, 'prb_data_blk_lpos.next');
  const oSeq = off(vi, 'printk_info.seq');
  const oTs = off(vi, 'printk_info.ts_nsec');
  const oTextLen = off(vi, 'printk_info.text_len');
  const oCaller = vi.offsets.get('printk_info.caller_id');
  // flags:5, level:3 share the byte after facility (u8 right after u16 text_len).
  let oLevelByte = oTextLen + 3;
  let levelShift = 5;
  let oFacility: number | undefined = oTextLen + 2;
  const lv = btf?.member('printk_info', 'level');
  if (lv && lv.bitSize > 0) {
    oLevelByte = Math.floor(lv.bitOffset / 8);
    levelShift = lv.bitOffset % 8;
    const fa = btf?.member('printk_info', 'facility');
    oFacility = fa?.offset;
  }

  const count = 1 << countBits;
  const dataSize = 1n << BigInt(sizeBits);
  const warnings: string[] = [];
  // Read the descriptor and info arrays whole (bounded by count_bits): two reads, not 2*count.
  const descBuf = mem.readVirtual(descs, count * descSize);
  const infoBuf = mem.readVirtual(infos, count * infoSize);
  // The text ring is read whole when it is of ordinary size (CONFIG_LOG_BUF_SHIFT <= 24), block by
  // block when log_buf_len= made it huge.
  // (A partly unreadable ring, e.g. a filtered dump, also falls back to block reads.)
  let dataBuf: Buffer | undefined;
  let whole = dataSize <= 16n * 1024n * 1024n;
  const block = (start: number, len: number): Buffer => {
    if (whole && !dataBuf) {
      try {
        dataBuf = mem.readVirtual(data, Number(dataSize));
      } catch (e) {
        onlyDumpData(e);
        whole = false;
      }
    }
    if (dataBuf) return dataBuf.subarray(start, start + len);
    return mem.readVirtual(data + BigInt(start), len);
  };

  const stats = { reserved: 0, committed: 0, finalized: 0, reusable: 0, miss: 0, badData: 0 };
  const records: LogRecord[] = [];
  const total = Number((headId - tailId) & DESC_ID_MASK) + 1;
  if (total > count) warnings.push(`head_id - tail_id spans ${total} descriptors but the ring holds ${count}; walking the last ${count}`);
  const n = Math.min(total, count);
  let id = (headId - BigInt(n - 1)) & DESC_ID_MASK;
  for (let k = 0; k < n; k++, id = (id + 1n) & DESC_ID_MASK) {
    const idx = Number(id & BigInt(count - 1));
    const d = idx * descSize;
    const sv = descBuf.readBigUInt64LE(d + oState);
    if ((sv & DESC_ID_MASK) !== id) {
      stats.miss++;
      continue;
    }
    const state = Number((sv >> 62n) & 3n);
    if (state === 0) {
      stats.reserved++;
      continue;
    }
    if (state === 3) {
      stats.reusable++;
      continue;
    }
    if (state === 1) stats.committed++;
    else stats.finalized++;
    const begin = descBuf.readBigUInt64LE(d + oLpos + oBegin);
    const next = descBuf.readBigUInt64LE(d + oLpos + oNext);
    const i = idx * infoSize;
    const textLen = infoBuf.readUInt16LE(i + oTextLen);
    const rec: LogRecord = {
      seq: infoBuf.readBigUInt64LE(i + oSeq),
      tsNsec: infoBuf.readBigUInt64LE(i + oTs),
      level: (infoBuf[i + oLevelByte] >> levelShift) & 7,
      flags: levelShift === 5 ? infoBuf[i + oLevelByte] & 0x1f : undefined,
      facility: oFacility !== undefined ? infoBuf[i + oFacility] : undefined,
      callerId: oCaller !== undefined ? infoBuf.readUInt32LE(i + oCaller) : undefined,
      text: '',
      state: state === 1 ? 'committed' : 'finalized',
    };
    if ((begin & 1n) !== 0n || (next & 1n) !== 0n) {
      // Data-less: NO_LPOS/EMPTY_LINE_LPOS (0x3) for an empty line, FAILED_LPOS (0x1) for lost text.
      if (!(begin === 3n && next === 3n) && textLen !== 0) rec.textLost = true;
      records.push(rec);
      continue;
    }
    const wrapsB = begin >> BigInt(sizeBits);
    const wrapsN = next >> BigInt(sizeBits);
    let start: number;
    let len: number;
    if (wrapsB === wrapsN && begin < next) {
      start = Number(begin & (dataSize - 1n));
      len = Number(next - begin);
    } else if (wrapsB + 1n === wrapsN) {
      start = 0;
      len = Number(next & (dataSize - 1n));
    } else {
      stats.badData++;
      rec.textLost = true;
      records.push(rec);
      continue;
    }
    if (len < 8 || start + len > Number(dataSize)) {
      stats.badData++;
      rec.textLost = true;
      records.push(rec);
      continue;
    }
    let buf: Buffer;
    try {
      buf = block(start, len);
    } catch (e) {
      onlyDumpData(e);
      stats.badData++;
      rec.textLost = true;
      if (warnings.length < 8) warnings.push(`record ${rec.seq}: text unreadable: ${e.message}`);
      records.push(rec);
      continue;
    }
    const blockId = buf.readBigUInt64LE(0);
    if ((blockId & DESC_ID_MASK) !== id) {
      // The block was overwritten after the descriptor was read: text not trustworthy.
      stats.badData++;
      rec.textLost = true;
      records.push(rec);
      continue;
    }
    const tl = Math.min(textLen, len - 8);
    rec.text = buf.toString('utf8', 8, 8 + tl);
    records.push(rec);
  }
  records.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return { format: 'printk_ringbuffer', records, stats, warnings };
}

function readLogBuf(mem: LogReader, vi: VmcoreInfo): KernelLog {
  const u64 = (a: bigint) => mem.readVirtual(a, 8).readBigUInt64LE(0);
  const u32 = (a: bigint) => mem.readVirtual(a, 4).readUInt32LE(0);
  const sym = (n: string) => {
    const v = vi.symbols.get(n);
    if (v === undefined) throw new InputError(`VMCOREINFO lacks SYMBOL(${n}): cannot walk log_buf`);
    return v;
  };
  const struct = vi.sizes.has('printk_log') ? 'printk_log' : 'log';
  const recSize = size(vi, struct);
  const oTs = off(vi, `${struct}.ts_nsec`);
  const oLen = off(vi, `${struct}.len`);
  const oTextLen = off(vi, `${struct}.text_len`);
  const oCaller = vi.offsets.get(`${struct}.caller_id`);
  const oDictLen = vi.offsets.get(`${struct}.dict_len`);
  const oLevel = (oDictLen ?? oTextLen + 2) + 3; // u16 dict_len, u8 facility, then flags:5 level:3

  const buf = u64(sym('log_buf'));
  const bufLen = u32(sym('log_buf_len'));
  if (bufLen === 0 || bufLen > 2 ** 31) throw new InputError(`log_buf_len ${bufLen} is implausible`);
  const first = u32(sym('log_first_idx'));
  const nextIdx = u32(sym('log_next_idx'));
  const all = mem.readVirtual(buf, bufLen);
  const records: LogRecord[] = [];
  const warnings: string[] = [];
  let idx = first;
  let seq = 0n;
  const maxRecords = Math.ceil(bufLen / Math.max(1, recSize)) + 1;
  while (idx !== nextIdx && records.length <= maxRecords) {
    if (idx + recSize > bufLen) {
      warnings.push(`log_buf: record at ${idx} runs past the buffer`);
      break;
    }
    const len = all.readUInt16LE(idx + oLen);
    if (len === 0) {
      // Wrap marker.
      if (idx === 0) break;
      idx = 0;
      continue;
    }
    if (idx + len > bufLen || len < recSize) {
      warnings.push(`log_buf: bad record length ${len} at ${idx}`);
      break;
    }
    const textLen = Math.min(all.readUInt16LE(idx + oTextLen), len - recSize);
    const lb = all[idx + oLevel];
    records.push({
      seq: seq++,
      tsNsec: all.readBigUInt64LE(idx + oTs),
      level: lb >> 5,
      flags: lb & 0x1f,
      facility: all[idx + oLevel - 1],
      callerId: oCaller !== undefined ? all.readUInt32LE(idx + oCaller) : undefined,
      text: all.toString('utf8', idx + recSize, idx + recSize + textLen),
      state: 'log_buf',
    });
    idx += len;
  }
  return { format: 'log_buf', records, stats: { reserved: 0, committed: 0, finalized: 0, reusable: 0, miss: 0, badData: 0 }, warnings };
}

/** "T123" or "C1" as printk's caller field shows it. */
export function formatCallerId(id: number | undefined): string | undefined {
  if (id === undefined) return undefined;
  return id & 0x80000000 ? `C${id & 0x7fffffff}` : `T${id}`;
}

/** "[   33.336366] " as dmesg/crash print it. */
export function formatTimestamp(tsNsec: bigint): string {
  const sec = tsNsec / 1_000_000_000n;
  const usec = (tsNsec % 1_000_000_000n) / 1000n;
  return `[${sec.toString().padStart(5, ' ')}.${usec.toString().padStart(6, '0')}]`;
}

/** One record as crash's `log` prints it: continuation lines indented by the prefix width. */
export function formatRecord(r: LogRecord, opts: { caller?: boolean; level?: boolean } = {}): string {
  let prefix = formatTimestamp(r.tsNsec) + ' ';
  if (opts.caller && r.callerId !== undefined) prefix = prefix.slice(0, -2) + ` ${formatCallerId(r.callerId)}] `;
  if (opts.level && r.level !== undefined) prefix = `<${r.level}>` + prefix;
  let body = '';
  for (const ch of r.text) {
    const c = ch.charCodeAt(0);
    if (ch === '\n') body += '\n' + ' '.repeat(prefix.length);
    else if (c >= 0x20 ? c !== 0x7f && (c < 0x80 || c >= 0xa0) : ch === '\t') body += ch;
    else body += '.';
  }
  return prefix + body;
}

/** Merge LOG_CONT fragments into the preceding record from the same caller (not what crash does). */
export function mergeContinuations(records: LogRecord[]): LogRecord[] {
  const out: LogRecord[] = [];
  for (const r of records) {
    const prev = out[out.length - 1];
    if (
      prev &&
      r.flags !== undefined &&
      prev.flags !== undefined &&
      (r.flags & LOG_CONT) !== 0 &&
      (prev.flags & LOG_NEWLINE) === 0 &&
      prev.callerId === r.callerId
    ) {
      out[out.length - 1] = { ...prev, text: prev.text + r.text, flags: r.flags };
    } else out.push(r);
  }
  return out;
}

export function formatLog(log: KernelLog, opts: { caller?: boolean; level?: boolean; tail?: number } = {}): string {
  const recs = opts.tail !== undefined ? log.records.slice(Math.max(0, log.records.length - opts.tail)) : log.records;
  return recs.map((r) => formatRecord(r, opts)).join('\n') + (recs.length ? '\n' : '');
}
