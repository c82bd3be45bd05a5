// The kernel layer's public surface (x86_64, arm64: src/kernel/arch/): see kernel.ts for the entry point.
export { openKernel, Kernel, type OpenKernelOptions, type SymbolAttempt, type KernelSummary } from './kernel.js';
export { parseVmcoreinfo, requireOffset, requireSize, requireSymbol, type VmcoreInfo } from './vmcoreinfo.js';
export { KernelMemory, TranslationError, START_KERNEL_MAP, MAX_VIRTUAL_READ, type Translation } from './memory.js';
export { BasicSymbolTable, type KernelSymbol, type SymbolSource, type SymbolTable } from './symbols.js';
export { readKallsyms, KallsymsTable, kallsymsTablesFromVmcoreinfo, decodeNames, readTokens, type KallsymsEncoding, type KallsymsTables } from './kallsyms.js';
export { parseSystemMap, readSystemMap, readVmlinuxSymbols, kaslrShift } from './symfiles.js';
export { PerCpu, decodeTyped, PERCPU_TYPE_SIZE, type PerCpuType, type PerCpuValue, type PerCpuField } from './percpu.js';
export { readKernelLog, formatLog, formatRecord, formatTimestamp, formatCallerId, mergeContinuations, type KernelLog, type LogRecord } from './printk.js';
export { Btf, BTF_KIND, type BtfType, type BtfMember, type BtfMemberInfo } from './btf.js';
export { decodePrstatus, identifyPanicCpu, classifyCpu, panicCpuFromLog, type CpuRegisters, type PanicCpuResult, type CpuState } from './prstatus.js';
export { readTask, type TaskInfo } from './task.js';
