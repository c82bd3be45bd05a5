// The `modules` list head on an arm64 kernel whose kallsyms has text symbols only (no
// CONFIG_KALLSYMS_ALL, as Debian builds it). Without it no module is listed and module frames stay
// bare addresses. print_modules() (kernel/module/main.c, "Modules linked in:") walks
// `list_for_each_entry_rcu(mod, &modules, list)`, so its code materialises the list head's address
// with `adrp` + `add`, or loads modules.next with `adrp` + `ldr` (unsigned offset, or pre/post-index
// from a nearby base). Every address
// its first instructions build is a candidate; one is accepted only when it behaves as the module
// list: a list_head whose first entry links back to it (next->prev == head), and every entry on a
// bounded walk names a module with a printable name (struct module.list/.name offsets from BTF).
// An empty list (head.next == head.prev == head) is accepted too: no module was loaded.
import { onlyDumpData } from '../../../util/errors.js';
import type { KernelAddressSpace } from '../../address-space.js';
import type { KernelSymbol, SymbolTable } from '../../symbols.js';
import { RET, sext, trackAddress } from './a64.js';

const MAX_WALK = 1024;
const MODULE_NAME_LEN = 56; // MODULE_NAME_LEN = 64 - sizeof(unsigned long)

/** Addresses built by ADRP+ADD (64-bit, immediate) and ADRP+LDR (64-bit, unsigned offset) in `code`. */
export function addressesFromCode(code: Buffer, pc: bigint): bigint[] {
  const regs = new Map<number, bigint>();
  const out: bigint[] = [];
  for (let i = 0; i + 4 <= code.length; i += 4) {
    const insn = code.readUInt32LE(i);
    const rd = insn & 0x1f;
    const rn = (insn >>> 5) & 0x1f;
    const t = trackAddress(regs, insn, pc + BigInt(i));
    if (t.handled) {
      if (t.formed !== undefined) out.push(t.formed);
    } else if ((insn & 0xffc00000) >>> 0 === 0xf9400000) {
      // LDR Xt, [Xn, #imm12 * 8]
      const base = regs.get(rn);
      if (base !== undefined) out.push(base + BigInt(((insn >>> 10) & 0xfff) * 8));
      regs.delete(rd);
    } else if ((insn & 0xffe00400) >>> 0 === 0xf8400400) {
      // LDR Xt, [Xn, #simm9]! (pre-index) or [Xn], #simm9 (post-index): gcc folds the list head
      // into a nearby base this way (6.1's print_modules: ldr x19, [x20, #0x50]!).
      const base = regs.get(rn);
      const imm = BigInt(sext((insn >>> 12) & 0x1ff, 9));
      const pre = (insn >>> 11) & 1;
      if (base !== undefined) {
        out.push(pre ? base + imm : base);
        regs.set(rn, base + imm);
      }
      regs.delete(rd);
    } else if (insn === RET) break;
  }
  return [...new Set(out)];
}

function isModuleList(mem: KernelAddressSpace, head: bigint, listOff: number, nameOff: number): boolean {
  try {
    const next = mem.readU64(head);
    const prev = mem.readU64(head + 8n);
    if (next === head) return prev === head;
    if (mem.readU64(next + 8n) !== head) return false;
    let p = next;
    for (let n = 0; p !== head; n++) {
      if (n >= MAX_WALK) return false;
      const name = mem.readVirtual(p - BigInt(listOff) + BigInt(nameOff), MODULE_NAME_LEN);
      const z = name.indexOf(0);
      if (z <= 0 || !/^[A-Za-z0-9_-]+$/.test(name.subarray(0, z).toString('latin1'))) return false;
      p = mem.readU64(p);
    }
    return true;
  } catch (e) {
    onlyDumpData(e);
    return false;
  }
}

/** A `modules` symbol when kallsyms has none and the code proves where it is; [] otherwise. */
export function recoverModulesSymbol(mem: KernelAddressSpace, syms: SymbolTable, module: { list: number; name: number }): KernelSymbol[] {
  if (syms.lookup('modules') !== undefined) return [];
  const listOff = module.list;
  const nameOff = module.name;
  for (const fn of ['print_modules']) {
    const a = syms.lookup(fn);
    if (a === undefined) continue;
    let code: Buffer;
    try {
      code = mem.readVirtual(a, 256);
    } catch (e) {
      onlyDumpData(e);
      continue;
    }
    const found = addressesFromCode(code, a).filter((c) => isModuleList(mem, c, listOff, nameOff));
    // Two different list heads that both pass would make the choice a guess.
    if (found.length === 1) return [{ name: 'modules', address: found[0], type: 'd' }];
  }
  return [];
}
