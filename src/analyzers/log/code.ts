// Decoding of the oops `Code:` line with capstone (src/util/disasm.ts).
//
// The byte in `<..>` is where RIP points (the faulting instruction). Bytes after it decode
// linearly from the mark. Bytes before it have no known instruction boundary: try each start
// offset 0..15 and keep the first whose instructions end exactly at the mark. `(..)` marks (arm,
// and x86 when RIP is not at an instruction start) are treated the same way.
import type { CodeDecode, DecodedInstruction } from '../report-model.js';
import { disassemble, formatInsn, type Insn } from '../../util/disasm.js';
import { sanitizeLine } from '../../util/sanitize.js';

export interface ParsedCode {
  bytes: Uint8Array;
  mark: number;
  raw: string;
  /** 4 when the line prints 32-bit instruction words (arm64, arm, powerpc), 1 for bytes (x86). */
  unit: 1 | 4;
}

/**
 * Parse the hex bytes of a `Code:` line (with or without the `Code:` prefix). x86 prints bytes with
 * the faulting one in `<..>`; arm64 prints instruction words, `Code: 944fdb51 d5184035 (a800ada6)`,
 * the faulting one in parentheses (arch/arm64/kernel/traps.c dump_kernel_instr(): "%08x" and
 * "(%08x)", each word read with aarch64_insn_read(), i.e. the instruction's value): they are kept as
 * little-endian bytes, the order an arm64 kernel's text holds them in.
 */
export function parseCodeBytes(line: string): ParsedCode | null {
  const raw = sanitizeLine(line).replace(/^.*?Code:\s*/, '').trim().slice(0, 2048);
  const toks = raw.split(/\s+/).filter(Boolean);
  const words = toks.filter((t) => /^[<(]?[0-9a-fA-F]{8}[>)]?$/.test(t));
  if (words.length && words.length >= toks.length - 1) {
    const bytes: number[] = [];
    let mark = -1;
    for (const tok of words) {
      const m = /^([<(]?)([0-9a-fA-F]{8})([>)]?)$/.exec(tok)!;
      if (m[1] && mark < 0) mark = bytes.length;
      const v = parseInt(m[2], 16);
      bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
      if (bytes.length >= 256) break;
    }
    return { bytes: Uint8Array.from(bytes), mark: mark < 0 ? 0 : mark, raw, unit: 4 };
  }
  const bytes: number[] = [];
  let mark = -1;
  for (const tok of toks) {
    const m = /^([<(]?)([0-9a-fA-F]{2})([>)]?)$/.exec(tok);
    if (!m) {
      if (/^Bad$|^RIP$|^Unable$/.test(tok)) return null;
      continue;
    }
    if (m[1] && mark < 0) mark = bytes.length;
    bytes.push(parseInt(m[2], 16));
    if (bytes.length >= 256) break;
  }
  if (!bytes.length) return null;
  return { bytes: Uint8Array.from(bytes), mark: mark < 0 ? 0 : mark, raw, unit: 1 };
}

/**
 * Linear decode in one capstone call: the shared wrapper turns undecodable bytes into one-byte
 * `(bad)` entries itself and carries on after them.
 */
function linear(code: Uint8Array, max: number): Promise<Insn[]> {
  return disassemble(code, 0n, max);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

const BRANCH = /^(?:call|jmp|j[a-z]{1,4}|loop[a-z]{0,3}|xbegin)$/;
const MASK64 = (1n << 64n) - 1n;

/**
 * Capstone decodes each run at address 0, so a relative branch's target is relative to the
 * run's first byte; shift it so targets share the origin of `address` (the first Code: byte).
 */
function insnText(i: Insn, shift: number): string {
  if (shift && BRANCH.test(i.mnemonic) && /^(?:0x[0-9a-f]+|\d+)$/.test(i.opStr)) {
    const t = (BigInt(i.opStr) + BigInt(shift)) & MASK64;
    return `${i.mnemonic} 0x${t.toString(16)}`;
  }
  return formatInsn(i);
}

function toDecoded(i: Insn, shift: number, faulting: boolean): DecodedInstruction {
  return { address: i.offset + shift, bytes: hex(i.bytes), text: insnText(i, shift), faulting };
}

/**
 * Identical `Code:` lines decode once: the panic re-print and repeated oopses repeat them. Keyed
 * by the bytes as written (after sanitising); bounded so hostile input cannot grow it without end.
 */
const MEMO_MAX = 512;
const memo = new Map<string, Promise<CodeDecode>>();

function copyDecode(d: CodeDecode): CodeDecode {
  return { ...d, instructions: d.instructions.map((i) => ({ ...i })) };
}

/**
 * Decode a `Code:` line; the faulting instruction is the one at the marked byte. `arch` is the
 * report's (CrashReport.arch): instruction words are decoded only as arm64's, and only when the
 * report is arm64's (arm and powerpc print words too, which capstone is not set up for here).
 */
export async function decodeCodeLine(line: string, arch?: string): Promise<CodeDecode> {
  const key = (arch === 'arm64' ? 'arm64:' : '') + sanitizeLine(line).replace(/^.*?Code:\s*/, '').trim().slice(0, 2048);
  let p = memo.get(key);
  if (!p) {
    if (memo.size >= MEMO_MAX) memo.clear();
    p = decodeUncached(line, arch === 'arm64');
    memo.set(key, p);
    // a failed decode is not remembered
    p.catch(() => memo.delete(key));
  }
  return copyDecode(await p);
}

async function decodeUncached(line: string, arm64: boolean): Promise<CodeDecode> {
  const raw = sanitizeLine(line).replace(/^.*?Code:\s*/, '').trim().slice(0, 2048);
  const p = parseCodeBytes(line);
  if (!p) return { raw, instructions: [], faultingInstruction: null, isUd2: false, note: 'no code bytes' };
  if (p.unit === 4) {
    if (!arm64) return { raw, instructions: [], faultingInstruction: null, isUd2: false, note: 'instruction words of an architecture not disassembled here: kept as printed' };
    // Fixed-size A64 instructions: every word is its own instruction, the marked one faulting.
    const ins = await disassemble(p.bytes, 0n, 64, 'arm64');
    const out = ins.map((i) => toDecoded(i, 0, i.offset === p.mark));
    const fault = out.find((x) => x.faulting) ?? null;
    return { raw, instructions: out, faultingInstruction: fault ? fault.text : null, isUd2: false };
  }
  const { bytes, mark } = p;
  const out: DecodedInstruction[] = [];
  let note: string | undefined;
  // Bytes before the mark: find an alignment ending exactly at the mark.
  if (mark > 0) {
    let best: Insn[] | null = null;
    let bestStart = 0;
    for (let start = 0; start < Math.min(16, mark); start++) {
      const ins = await linear(bytes.subarray(start, mark), 64);
      const ends = ins.length > 0 && !ins.some((x) => x.bad) && ins[ins.length - 1].offset + ins[ins.length - 1].size === mark - start;
      if (ends) { best = ins; bestStart = start; break; }
    }
    if (best) {
      for (const i of best) out.push(toDecoded(i, bestStart, false));
    } else {
      note = 'no instruction boundary before the marked byte was found';
    }
  }
  const after = await linear(bytes.subarray(mark), 64);
  // Stop at the first undecodable byte after the faulting instruction (the line is cut anywhere).
  for (let k = 0; k < after.length; k++) {
    const i = after[k];
    if (i.bad && k > 0) break;
    out.push(toDecoded(i, mark, k === 0));
  }
  const fault = out.find((x) => x.faulting) ?? null;
  const isUd2 = bytes[mark] === 0x0f && bytes[mark + 1] === 0x0b;
  return { raw, instructions: out, faultingInstruction: fault ? fault.text : null, isUd2, ...(note ? { note } : {}) };
}
