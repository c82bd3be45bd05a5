// Where the kernel layer's memory types are found: the architecture-neutral address space
// (address-space.ts) and, under its historical name, the x86_64 one.
export { KernelAddressSpace, MAX_VIRTUAL_READ, TranslationError, type KernelMemoryOptions, type Translation } from './address-space.js';
export { X86_64Memory as KernelMemory, START_KERNEL_MAP } from './arch/x86_64/memory.js';
