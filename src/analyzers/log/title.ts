// syzkaller-style title normalisation: addresses become ADDR, other numbers NUM, `file.c:123`
// becomes `file.c:LINE`, `func+0x1a/0x40` becomes `func`, syscall wrappers are folded to `sys_x`,
// and titles are cut at 120 characters.
import { baseFunctionName } from './frames.js';

/** Guilty function as it appears in titles: `__x64_sys_rmdir` -> `sys_rmdir`, `.isra.0` dropped. */
export function titleFunction(name: string): string {
  let b = baseFunctionName(name);
  b = b.replace(/^(?:__(?:x64|ia32|x32|arm64|arm|riscv|s390x?|powerpc|mips|loongarch)_|__se_|__do_|sys_)*(?:compat_)?sys_/, (m) => (m.includes('compat_') ? 'compat_sys_' : 'sys_'));
  b = b.replace(/^SyS_/, '');
  return b;
}

const MAX_TITLE = 120;

export function normalizeTitle(t: string): string {
  let s = t;
  s = s.replace(/([\w$.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+/g, '$1');
  s = s.replace(/(\.[a-zA-Z]{1,3}):\d+(?::\d+)?\b/g, '$1:LINE');
  s = s.replace(/\b(?:0x)?[0-9a-fA-F]{8,}\b/g, 'ADDR');
  s = s.replace(/\b0x[0-9a-fA-F]+\b/g, 'ADDR');
  s = s.replace(/(^|[^\w])\d+(?=$|[^\w])/g, '$1NUM');
  s = s.replace(/([a-zA-Z_])\.\d+(?=$|[^\w])/g, '$1.NUM');
  s = s.replace(/\s+/g, ' ').trim();
  if (s.length > MAX_TITLE) s = s.slice(0, MAX_TITLE);
  return s;
}
