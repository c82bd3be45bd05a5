// Where each architecture prints the crash address of an oops. One row per line shape, data
// rather than branches in the parser (the shape of drgn's per-architecture records): the parser
// asks the table, never "is this s390?".
//
// `fn` is the capture group holding `name+0xOFF/0xSIZE` (possibly with a ppc64 ELFv1 leading dot
// and a `[module]`); rows without it give an address line only (the function comes from another
// row). `summary` rows repeat the crash address after the trace (die() prints them last), so they
// are never frames of the trace.

export interface CrashAddressRow {
  arch: string;
  /** Matched against one normalised line. */
  re: RegExp;
  /** Group of `re` holding the symbol token; absent: an address-only line. */
  fn?: number;
  /** Printed after the trace as a one-line summary of the crash address. */
  summary?: boolean;
  /** The kernel source that prints the line. */
  source: string;
}

const SYM = String.raw`(\.?[A-Za-z_$][\w.$]*?\+?0x[0-9a-f]+\/0x[0-9a-f]+(?:\s+\[[\w.-]+\])?)`;

const CRASH_ADDRESS: readonly CrashAddressRow[] = [
  // x86_64 since 4.x: `RIP: 0010:func+0x39/0x50`; before: `RIP: 0010:[<ffffffff81>]  [<ffffffff81>] func+0x..`.
  { arch: 'x86_64', re: new RegExp(String.raw`^\s*RIP:\s*(?:[0-9a-f]{4}:)?(?:\s*\[<[0-9a-f]+>\])*\s*` + SYM), fn: 1, source: 'arch/x86/kernel/dumpstack.c show_ip(); arch/x86/kernel/process_64.c __show_regs() before 4.9' },
  // Old x86_64 die(): `RIP  [<ffffffff81>] func+0x../0x..` then ` RSP <...>`.
  { arch: 'x86_64', re: new RegExp(String.raw`^\s*RIP\s+\[<[0-9a-f]+>\]\s*` + SYM), fn: 1, summary: true, source: 'arch/x86/kernel/dumpstack_64.c die() (2.6.x-3.x): "RIP " printk_address() " RSP <%016lx>"' },
  // i686 4.x: `EIP: func+0x../0x..`; older `EIP is at func+0x..` after `EIP: 0060:[<c04ac80f>] EFLAGS: ... CPU: 1`.
  { arch: 'i686', re: new RegExp(String.raw`^\s*EIP: \[<[0-9a-f]+>\]\s*` + SYM + String.raw`.*\bSS:ESP\b`), fn: 1, summary: true, source: 'arch/x86/kernel/dumpstack_32.c die(): "EIP: [<%08lx>] " print_symbol() " SS:ESP %04x:%08lx"' },
  { arch: 'i686', re: new RegExp(String.raw`^\s*EIP(?::| is at)\s*(?:[0-9a-f]{4}:)?(?:\[<[0-9a-f]+>\]\s*)?` + SYM), fn: 1, source: 'arch/x86/kernel/process_32.c __show_regs(): "EIP is at %pS" (before 4.9), show_ip() "EIP: %pS" after' },
  // x86 page fault: `IP: [<ffffffff81>] func+0x..` (before 4.14) or `IP: func+0x..`.
  { arch: 'x86', re: new RegExp(String.raw`^\s*IP:\s*(?:\[<[0-9a-f]+>\]\s*)?` + SYM), fn: 1, source: 'arch/x86/mm/fault.c show_fault_oops(): "IP:" printk_address()' },
  // arm (and arm64 before 4.16): `PC is at func+0x../0x..`.
  { arch: 'arm', re: new RegExp(String.raw`^\s*PC is at\s+` + SYM), fn: 1, source: 'arch/arm/kernel/process.c __show_regs(): "PC is at %pS"' },
  // arm64 since 4.16: `pc : func+0x../0x..`. arm's `pc : [<c0333330>]    lr : [<...>]` is a register line (no symbol).
  { arch: 'arm64', re: new RegExp(String.raw`^\s*pc\s*:\s*` + SYM), fn: 1, source: 'arch/arm64/kernel/process.c __show_regs(): "pc : %pS"' },
  // powerpc: `NIP [c000000000048f74] .func+0x../0x..` (ELFv1 dot symbols on ppc64 big endian).
  { arch: 'powerpc', re: new RegExp(String.raw`^\s*NIP\s*\[[0-9a-f]+\]\s*` + SYM), fn: 1, source: 'arch/powerpc/kernel/process.c show_regs(): "NIP [%016lx] %pS"' },
  // s390: `Krnl PSW : 0704c00180000000 00000000735d720c (__alloc_pages_nodemask+0x25c/0x320)`.
  { arch: 's390', re: new RegExp(String.raw`^\s*Krnl PSW\s*:\s*[0-9a-f]+\s+[0-9a-f]+\s*\(` + SYM + String.raw`\)`), fn: 1, source: 'arch/s390/kernel/dumpstack.c show_registers() (traps.c before 4.x): "%s PSW : %px %px" " (%pSR)"' },
  // riscv: `epc : func+0x../0x..`; the following `epc : ffffffff80004922 ra : ...` line is a register line.
  { arch: 'riscv', re: new RegExp(String.raw`^\s*epc\s*:\s*` + SYM), fn: 1, source: 'arch/riscv/kernel/process.c show_regs(): "epc : %pS"' },
];

/** A crash address found on a line: its symbol token and whether it is die()'s summary line. */
export function matchCrashAddress(line: string): { row: CrashAddressRow; symbol: string } | null {
  for (const row of CRASH_ADDRESS) {
    const m = row.re.exec(line);
    if (m && row.fn !== undefined && m[row.fn]) return { row, symbol: m[row.fn] };
  }
  return null;
}

/**
 * Lines that hold registers only: `pc : [<c0333330>]    lr : [<c0333200>]    psr: 80070113` (arm
 * __show_regs), `epc : ffffffff80004922 ra : ffffffff8000496a sp : ...` (riscv), `NIP: c0000000...
 * LR: ...` (powerpc), `Krnl GPRS:` and its continuation lines (s390). They look like frames to a
 * frame regexp (an address, then a word), so they are recognised first.
 */
const REG_ONLY = /^\s*(?:(?:[A-Za-z][\w]{0,7}|Krnl GPRS|User PSW|Krnl PSW)\s*:\s*(?:\[<)?[0-9a-f]{4,16}(?:>\])?(?:\s+[0-9a-f]{8,16})*\s*)+$/;
export function isRegisterOnlyLine(line: string): boolean {
  return REG_ONLY.test(line);
}
