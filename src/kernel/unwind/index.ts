// Backtraces from a dump's memory: ORC unwinding (vmlinux and modules), exception frames, IRQ and
// IST stacks, frame-scanning fallback, crash-style output.
export * from './types.js';
export { PagedMemory, UnreadableMemoryError } from './memory.js';
export {
  decodeOrcEntry,
  decodeOrcFlags,
  orcVersionForRelease,
  orcVersionFromFlags,
  orcVersionFromEntries,
  orcVersionFromHeader,
  ORC_FORMATS,
  ORC_HEADER_HASHES,
  ORC_HEADER_SIZE,
  isTerminal,
  OrcTable,
  KernelOrc,
  OrcFormatError,
  LOOKUP_BLOCK_SIZE,
  ORC_ENTRY_SIZE,
  type OrcEntry,
  type OrcType,
  type OrcVersion,
  type OrcLookupResult,
  type KernelOrcSymbols,
} from './orc.js';
export { ModuleSet, readModules, type ModuleInfo } from './modules.js';
export { CpuStacks, THREAD_SIZE } from './stacks.js';
export { IRQ_STACK_SIZE } from '../arch/x86_64/stacks.js';
export { precededByCall, scanForReturn } from './scan.js';
export { Unwinder, normalizeRegs, decodePtRegs, PT_REGS, MAX_FRAMES, type UnwinderInput, type UnwindOptions, type UnwindStep } from './unwinder.js';
export { unwinderForKernel, type KernelForUnwind } from './kernel-adapter.js';
export { crashStyle, crashStyleAll, crashFrameLine, crashExceptionLines, backtraceToJson, unwinderNotice, unwinderSummary } from './format.js';
export { prologueFrameSize } from './prologue.js';
export { decodeLength, prologueEffect, type DecodedInsn, type PrologueEffect } from './x86len.js';
export { readKprobeSlots, mapKprobeSlot, type KprobeSlot } from './kprobes.js';
export { STOP_FUNCTIONS, CRASH_EXCEPTION_FUNCTIONS, type WalkResult } from './unwinder.js';
