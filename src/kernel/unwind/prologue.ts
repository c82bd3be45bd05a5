// Frame size from a function's prologue, for code without usable ORC data (functions objtool was
// told to skip with STACK_FRAME_NON_STANDARD, e.g. __crash_kexec, whose ORC entries are
// "undefined"). Like crash's x86_64_get_framesize(): walk the instructions from the function's
// start and add up push/pop and sub/add rsp until `ip` or the first branch (after which the body
// is assumed to be stack-balanced). The caller validates the result (a return address that
// follows a call). Instructions are decoded by x86len.ts; capstone only when it does not know one.

import { disassemble } from '../../util/disasm.js';
import type { PagedMemory } from './memory.js';
import { decodeLength, prologueEffect, type PrologueEffect } from './x86len.js';
import { onlyDumpData } from '../../util/errors.js';

const MAX_PROLOGUE = 512;

function capstoneEffect(mnemonic: string, opStr: string): PrologueEffect {
  const ops = opStr.replace(/\s+/g, '');
  if (mnemonic === 'push' || mnemonic === 'pushfq') return { kind: 'push' };
  if (mnemonic === 'pop' || mnemonic === 'popfq') return ops === 'rsp' ? { kind: 'writes-sp' } : { kind: 'pop' };
  if ((mnemonic === 'sub' || mnemonic === 'add') && ops.startsWith('rsp,')) {
    const imm = /^rsp,(0x[0-9a-f]+|\d+)$/.exec(ops);
    if (!imm) return { kind: 'writes-sp' };
    return { kind: 'adjust', delta: mnemonic === 'sub' ? BigInt(imm[1]) : -BigInt(imm[1]) };
  }
  if (mnemonic === 'call') return { kind: 'call' };
  if (mnemonic.startsWith('j') || mnemonic === 'ret' || mnemonic === 'int3' || mnemonic === 'ud2') return { kind: 'branch' };
  if (mnemonic !== 'cmp' && mnemonic !== 'test' && /^rsp(,|$)/.test(ops)) return { kind: 'writes-sp' };
  return { kind: 'other' };
}

/** Bytes between sp at `ip` and the return address slot (so the slot is sp + result), or null. */
export async function prologueFrameSize(mem: PagedMemory, funcStart: bigint, ip: bigint): Promise<bigint | null> {
  if (ip < funcStart || ip - funcStart > BigInt(MAX_PROLOGUE * 8)) return null;
  const len = Number(ip - funcStart < BigInt(MAX_PROLOGUE) ? ip - funcStart : BigInt(MAX_PROLOGUE));
  if (len === 0) return 0n;
  let code: Buffer;
  try {
    code = mem.read(funcStart, len + 16);
  } catch (e) {
    onlyDumpData(e);
    try {
      code = mem.read(funcStart, len);
    } catch (e) {
      onlyDumpData(e);
      return null;
    }
  }
  const effects: { at: number; e: PrologueEffect }[] = [];
  let pos = 0;
  let known = true;
  while (pos < len) {
    const d = decodeLength(code, pos);
    if (!d) {
      known = false;
      break;
    }
    const e = prologueEffect(d);
    effects.push({ at: pos, e });
    if (e.kind === 'branch' || e.kind === 'writes-sp') break;
    pos += d.length;
  }
  if (!known) {
    effects.length = 0;
    for (const i of await disassemble(code.subarray(0, len), funcStart, 200)) {
      if (i.bad) return null;
      const e = capstoneEffect(i.mnemonic, i.opStr);
      effects.push({ at: i.offset, e });
      if (e.kind === 'branch' || e.kind === 'writes-sp') break;
    }
  }
  let delta = 0n;
  for (const { at, e } of effects) {
    if (at >= len) break;
    if (e.kind === 'push') delta += 8n;
    else if (e.kind === 'pop') delta -= 8n;
    else if (e.kind === 'adjust') delta += e.delta;
    else if (e.kind === 'writes-sp') return null;
    else if (e.kind === 'branch') break;
  }
  if (delta < 0n || delta > 0x10000n) return null;
  return delta;
}
