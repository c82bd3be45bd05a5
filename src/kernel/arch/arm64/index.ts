// The arm64 record: struct user_pt_regs (x0-x30, sp, pc, pstate), translation from VMCOREINFO
// (memory.ts), the per-CPU IRQ stacks, the current task's thread_info for the preempt count
// (context.ts), and a frame-record unwinder (unwinder.ts).
import type { Arch } from '../types.js';
import { arm64Context } from './context.js';
import { Arm64Memory } from './memory.js';
import { recoverModulesSymbol } from './modules-locate.js';
import { recoverPerCpuSymbols } from './percpu-locate.js';
import { irqStackRegion, overflowStackRegion, sdeiStackRegions, threadSizeFor } from './stacks.js';

export const arm64: Arch = {
  name: 'arm64',
  dumpArch: 'aarch64',
  regs: { pc: 'pc', sp: 'sp' },
  disasmMode: 'arm64',
  // THREAD_SIZE (arch/arm64/include/asm/memory.h): 16 KiB with 4K and 16K pages and no KASAN;
  // CONFIG_VMAP_STACK with 64K pages makes it one page (64 KiB).
  threadSize: 16384n,
  // KIMAGE_VADDR (= MODULES_END, 48-bit VA) + the 64 KiB before _stext (arch/arm64/kernel/head.S).
  defaultTextBase: 0xffff800008010000n,
  layoutFacts(memory) {
    if (!(memory instanceof Arm64Memory)) return {};
    const l = memory.layout;
    const hex = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
    return {
      arch: 'arm64',
      vaBits: l.vaBits,
      translatedVaBits: l.translatedBits,
      granule: 1 << l.pageShift,
      pageOffset: hex(l.pageOffset),
      physOffset: hex(l.physOffset),
      kimageVoffset: hex(l.kimageVoffset),
      ...(memory.vmcoreinfo.numbers.has('KERNELPACMASK') ? { kernelPacMask: hex(BigInt.asUintN(64, memory.vmcoreinfo.numbers.get('KERNELPACMASK')!)) } : {}),
    };
  },
  createMemory: (dump, vmcoreinfo) => new Arm64Memory(dump, vmcoreinfo),
  symbolsLoaded(memory, syms) {
    const text = syms.lookup('_text');
    const end = syms.lookup('_end');
    if (memory instanceof Arm64Memory && text !== undefined && end !== undefined) memory.setImageBounds(text, end);
  },
  irqStack: (ctx, cpu) => irqStackRegion(ctx, cpu, threadSizeFor(ctx.mem instanceof Arm64Memory ? 1 << ctx.mem.layout.pageShift : undefined)),
  exceptionStacks: (ctx, cpu) => {
    const size = threadSizeFor(ctx.mem instanceof Arm64Memory ? 1 << ctx.mem.layout.pageShift : undefined);
    const o = overflowStackRegion(ctx, cpu);
    return [...(o ? [o] : []), ...sdeiStackRegions(ctx, cpu, size)];
  },
  // A CPU stopped by the panicking one runs the stop IPI on its IRQ stack, which its own
  // registers already show (local_cpu_stop): no other stack keeps evidence.
  stopEvidenceNames: () => [],
  context: arm64Context,
  recoverSymbols: recoverPerCpuSymbols,
  recoverModuleList: recoverModulesSymbol,
  loadUnwinder: async () => (await import('./unwinder.js')).arm64UnwinderForKernel,
};
