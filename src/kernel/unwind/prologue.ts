// Frame size from a function's prologue, for code without usable ORC data (functions objtool was
// told to skip with STACK_FRAME_NON_STANDARD, e.g. __crash_kexec, whose ORC entries are
// "undefined"). Like crash's x86_64_get_framesize(): disassemble from the function's start and
// add up push/pop and sub/add rsp until `ip` or the first branch (after which the body is assumed
// to be stack-balanced). The caller validates the result (a return address preceded by a call).

import { disassemble } from '../../util/disasm.js';
import type { PagedMemory } from './memory.js';

const MAX_PROLOGUE = 512;

/** Bytes between sp at `ip` and the return address slot (so the slot is sp + result), or null. */
export async function prologueFrameSize(mem: PagedMemory, funcStart: bigint, ip: bigint): Promise<bigint | null> {
  if (ip < funcStart || ip - funcStart > BigInt(MAX_PROLOGUE * 8)) return null;
  const len = Number(ip - funcStart < BigInt(MAX_PROLOGUE) ? ip - funcStart : BigInt(MAX_PROLOGUE));
  if (len === 0) return 0n;
  let code: Buffer;
  try {
    code = mem.read(funcStart, len);
  } catch {
    return null;
  }
  const insns = await disassemble(code, funcStart, 200);
  let delta = 0n;
  for (const i of insns) {
    if (i.address >= ip) break;
    if (i.bad) return null;
    const m = i.mnemonic;
    const ops = i.opStr.replace(/\s+/g, '');
    if (m === 'push' || m === 'pushfq') delta += 8n;
    else if (m === 'pop' || m === 'popfq') {
      if (ops === 'rsp') return null;
      delta -= 8n;
    } else if ((m === 'sub' || m === 'add') && ops.startsWith('rsp,')) {
      const imm = /^rsp,(0x[0-9a-f]+|\d+)$/.exec(ops);
      if (!imm) return null;
      delta += m === 'sub' ? BigInt(imm[1]) : -BigInt(imm[1]);
    } else if (/(^|,)rsp$/.test(ops.split(',')[0] ?? '') && m !== 'cmp' && m !== 'test') {
      // anything else writing rsp (lea/and/mov rsp, ...): stack realignment or alloca
      return null;
    } else if (m === 'call') {
      // __fentry__ / stack-protector helpers return balanced; keep going
      continue;
    } else if (m.startsWith('j') || m === 'ret' || m === 'int3' || m === 'ud2') {
      break;
    }
  }
  if (delta < 0n || delta > 0x10000n) return null;
  return delta;
}
