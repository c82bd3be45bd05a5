// struct user_pt_regs, the head of the kernel's struct pt_regs (arch/arm64/include/uapi/asm/ptrace.h).
export const AARCH64_PT_REGS = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate'] as const;
