// Parsing of single backtrace lines: the kernel's own formats (x86 `func+0x1/0x2 [mod]`, old
// `[<ffffffff81000000>] func+0x1/0x2`, arm `[<c0100000>] (func) from [<...>]`, arm64 `func+0x1/0x2`,
// symbolised `func+0x1/0x2 file.c:123` and kmemleak `[<addr>] func file.c:123 [inline]`),
// `crash` backtraces (`#3 [ffff...] func at ffff... [mod]`), and logs that lost their `+`.
import type { Frame, FrameContext } from '../report-model.js';

const HEX = /^0x[0-9a-f]+$/i;

export interface OffsetSplit { name: string; offset: number; size: number }

/**
 * Split `name+0xOFF/0xSIZE`, also when the `+` was lost (`irq_fpu_usable0x39/0x50`,
 * `extract_entropy.constprop.00x94/0x250`). Without the `+` the split is ambiguous for names ending
 * in digits: prefer a split where both numbers are hex with `0x` and offset < size.
 */
export function splitSymOffset(token: string): OffsetSplit | null {
  const slash = token.lastIndexOf('/');
  if (slash < 0) return null;
  const sizeStr = token.slice(slash + 1);
  if (!HEX.test(sizeStr)) return null;
  const size = parseInt(sizeStr, 16);
  const left = token.slice(0, slash);
  const plus = left.lastIndexOf('+');
  if (plus > 0 && HEX.test(left.slice(plus + 1))) {
    return { name: left.slice(0, plus), offset: parseInt(left.slice(plus + 1), 16), size };
  }
  // Lost `+`: try every `0x` occurrence as the start of the offset.
  let fallback: OffsetSplit | null = null;
  for (let i = left.indexOf('0x', 1); i > 0; i = left.indexOf('0x', i + 1)) {
    const off = left.slice(i);
    if (!HEX.test(off)) continue;
    const name = left.slice(0, i);
    if (!/^[A-Za-z_$][\w.$]*$/.test(name)) continue;
    const cand = { name, offset: parseInt(off, 16), size };
    if (cand.offset < size || (size === 0 && cand.offset === 0)) return cand;
    fallback ??= cand;
  }
  return fallback;
}

/** `extract_entropy.constprop.0` -> `extract_entropy`: the name syzkaller-style titles use. */
export function baseFunctionName(name: string): string {
  const m = /^[A-Za-z0-9_$]+/.exec(name);
  return m ? m[0] : name;
}

const SYMTOKEN = String.raw`([A-Za-z_$.][\w.$]*?\+?0x[0-9a-fA-F]+/0x[0-9a-fA-F]+)`;
// x86/arm64/ppc: ` [<ffffffff81000000>] ? func+0x1/0x2 [mod]` (all parts but the symbol optional)
// s390 prints the first frame, taken from r14 rather than from a stack frame, in parentheses:
// `([<000000000028d7d4>] scsi_init_io+0x54/0x1c0)` (arch/s390/kernel/dumpstack.c show_trace(),
// traps.c before 4.x). powerpc marks frames whose saved LR may be stale `(unreliable)`
// (arch/powerpc/kernel/process.c show_stack()). arm64 since 6.13 tags each frame with where the
// unwinder got it: `show_stack+0x20/0x38 (C)` (arch/arm64/kernel/stacktrace.c dump_backtrace_entry()).
const LINUX_FRAME = new RegExp(
  String.raw`^\s*(\()?(?:\[<?([0-9a-f]{6,16})>?\]\s*)?(\?\s+)?(?:\[<?([0-9a-f]{6,16})>?\]\s*)?` + SYMTOKEN +
    String.raw`(?:\s+\[([\w.-]+)\])?(?:\s+\S+:\d+(?::\d+)?)?(?:\s+\[inline\])?(?:\s+\[([\w.-]+)\])?(\s*\(unreliable\))?(?:\s+\([CTPLU]\))?\s*(\))?\s*$`,
);
// s390 frames without a symbol: ` [<000003ff8046a1c4>] 0x3ff8046a1c4` or `([<0000000000000201>] 0x201)`.
// `[<0000000000000000>] 0x0` is lockdep's "Preemption disabled at:" with no site, not a frame.
const S390_ADDR_FRAME = /^\s*(\()?\[<(?!0+>)([0-9a-f]{8,16})>\]\s+0x[0-9a-f]+\s*(\))?\s*$/;
// Symbolised inline frame or kmemleak frame without offset: ` [<00000000a>] func file.c:123 [inline]`
const INLINE_FRAME = /^\s*(?:\[<?([0-9a-f]{6,16})>?\]\s+)?(\?\s+)?([A-Za-z_][\w.$]*)\s+((?:[\w.-]+\/)*[\w.-]+\.[chSsrl]s?:\d+(?::\d+)?)(?:\s+\[inline\])?\s*$/;
// Address-only frame: ` ? 0xffffffffc054b002`
const ADDR_FRAME = /^\s*(\?\s+)?(?:\[<)?(0x[0-9a-f]{8,16}|[0-9a-f]{16})(?:>\])?\s*$/;
// arm: `[<c0101234>] (func) from [<c0105678>] (caller)`; also `(func+0x1/0x2)` forms.
// arch/arm/kernel/traps.c dump_backtrace_entry() prints `%pS`, which puts a module inside the
// parentheses: `(mxs_mmc_enable_sdio_irq+0x18/0xdc [mxs_mmc])`.
const ARM_FRAME = /^\s*\[<([0-9a-f]{8,16})>\]\s+\(([A-Za-z_$][\w.$]*)(?:\+0x([0-9a-f]+)\/0x([0-9a-f]+))?(?:\s+\[([\w.-]+)\])?\)(?:\s+from\s+\[<[0-9a-f]+>\]\s+\((?:[^)]*)\))?(?:\s+\[([\w.-]+)\])?\s*$/;
// arm "Backtrace:" format: `[<c0101234>] (func) from [<...>] (caller)` handled above; also
// `Function entered at [<c0101234>] from [<...>]` (no names: ignored).
// crash: `#12 [ffffb6fe00907a48] func at ffffffffa18e2904 [mod]`
const CRASH_FRAME = /^\s*#(\d{1,4})\s+\[([0-9a-f]{8,16})\]\s+([A-Za-z_$][\w.$]*?)(?:\+(\d+))?\s+at\s+([0-9a-f]{8,16})(?:\s+\[([\w.-]+)\])?\s*$/;

/**
 * ppc64 big-endian (ELFv1) kernels print text symbols with a leading dot (`.eeh_dev_check_failure`):
 * the dot names the code, the plain name the function descriptor. Titles use the plain name.
 */
export function stripDot(name: string): string {
  return name.startsWith('.') && name.length > 1 ? name.slice(1) : name;
}

function mkFrame(p: Partial<Frame>, context: FrameContext): Frame {
  return {
    function: p.function ?? null,
    offset: p.offset ?? null,
    size: p.size ?? null,
    module: p.module ?? null,
    unreliable: p.unreliable ?? false,
    address: p.address ?? null,
    context,
  };
}

/** Parse one kernel backtrace line. Returns null when the line is not a frame. */
export function parseFrameLine(line: string, context: FrameContext = 'unknown'): Frame | null {
  if (line.length > 600) return null;
  // a paste cut short: `filemap_read0x18a/0x320......`
  const text = line.replace(/(?:\.{3,}|\u2026+)$/, '');
  let m = LINUX_FRAME.exec(text);
  // An opening parenthesis only in s390's form, where it is closed too.
  if (m && !m[1] === !m[9]) {
    const sp = splitSymOffset(m[5]);
    if (sp) sp.name = stripDot(sp.name);
    if (sp && /^[A-Za-z_$]/.test(sp.name)) {
      const addr = m[2] ?? m[4];
      return mkFrame({
        function: sp.name, offset: sp.offset, size: sp.size, module: m[6] ?? m[7] ?? null,
        unreliable: !!m[3] || !!m[8], address: addr ? '0x' + addr : null,
      }, context);
    }
  }
  m = ARM_FRAME.exec(text);
  if (m) {
    return mkFrame({
      function: m[2], offset: m[3] ? parseInt(m[3], 16) : null, size: m[4] ? parseInt(m[4], 16) : null,
      module: m[5] ?? m[6] ?? null, address: '0x' + m[1],
    }, context);
  }
  m = S390_ADDR_FRAME.exec(text);
  if (m && !m[1] === !m[3]) return mkFrame({ address: '0x' + m[2] }, context);
  m = INLINE_FRAME.exec(text);
  if (m && !/^(?:RIP|PC|LR|pc|lr|at|in)$/.test(m[3])) {
    return mkFrame({ function: m[3], unreliable: !!m[2], address: m[1] ? '0x' + m[1] : null }, context);
  }
  m = ADDR_FRAME.exec(text);
  if (m) {
    const a = m[2].startsWith('0x') ? m[2] : '0x' + m[2];
    return mkFrame({ unreliable: !!m[1], address: a }, context);
  }
  return null;
}

export interface CrashFrame { index: number; sp: string; frame: Frame }

/** Parse one `crash` `bt` frame line. `known` resolves a `+` lost before a decimal offset. */
export function parseCrashFrameLine(text: string): CrashFrame | null {
  const m = CRASH_FRAME.exec(text.replace(/(?:\.{3,}|\u2026+)$/, ''));
  if (!m) return null;
  return {
    index: parseInt(m[1], 10), sp: m[2],
    frame: mkFrame({ function: m[3], offset: m[4] ? parseInt(m[4], 10) : null, module: m[6] ?? null, address: '0x' + m[5] }, 'unknown'),
  };
}

/**
 * `crash`'s `[exception RIP: irq_fpu_usable+57]`; when the `+` was lost (`irq_fpu_usable57`),
 * split the trailing decimal digits off, preferring a name seen elsewhere in the log.
 */
export function parseCrashExceptionRip(inner: string, known: Set<string>): Frame {
  const m = /^([A-Za-z_$][\w.$]*?)\+(\d+)$/.exec(inner);
  if (m) return mkFrame({ function: m[1], offset: parseInt(m[2], 10) }, 'unknown');
  const d = /^([A-Za-z_$][\w.$]*?)(\d+)$/.exec(inner);
  if (d) {
    const full = d[1] + d[2];
    for (let cut = d[1].length; cut <= full.length; cut++) {
      const name = full.slice(0, cut);
      if (known.has(name) && cut < full.length) return mkFrame({ function: name, offset: parseInt(full.slice(cut), 10) }, 'unknown');
    }
    if (known.has(full)) return mkFrame({ function: full }, 'unknown');
    return mkFrame({ function: d[1], offset: parseInt(d[2], 10) }, 'unknown');
  }
  return mkFrame({ function: inner.trim() || null }, 'unknown');
}

/** `RIP: 0010:func+0x39/0x50`, `RIP: 0033:0x47cf2a`, old `RIP: [<ffffffff81>] func+0x..`, `pc : func+0x..`. */
export function parseRipValue(value: string): { frame: Frame | null; cs: string | null } {
  let v = value.trim();
  let cs: string | null = null;
  const csm = /^([0-9a-f]{4}):/.exec(v);
  if (csm) { cs = csm[1]; v = v.slice(csm[0].length); }
  v = v.replace(/^\[<[0-9a-f]+>\]\s*/, '').replace(/^\s*\[<[0-9a-f]+>\]\s*/, '');
  const tok = /^(\S+)(?:\s+\[([\w.-]+)\])?/.exec(v);
  if (!tok) return { frame: null, cs };
  // `pc : [<c0333330>]    lr : [<c0333200>]`: the word after the address is the next register.
  if (/^\S+\s*:/.test(v)) return { frame: null, cs };
  if (/^0x[0-9a-f]+$/i.test(tok[1])) return { frame: mkFrame({ address: tok[1] }, 'unknown'), cs };
  // powerpc's `NIP: d0000000008cb4dc LR: ...` register line: a bare hex word is an address.
  if (/^[0-9a-f]{8,16}$/.test(tok[1])) return { frame: mkFrame({ address: '0x' + tok[1] }, 'unknown'), cs };
  const sp = splitSymOffset(tok[1]);
  if (sp) sp.name = stripDot(sp.name);
  if (sp) return { frame: mkFrame({ function: sp.name, offset: sp.offset, size: sp.size, module: tok[2] ?? null }, 'unknown'), cs };
  if (/^[A-Za-z_][\w.]*$/.test(tok[1])) return { frame: mkFrame({ function: tok[1] }, 'unknown'), cs };
  return { frame: null, cs };
}
