// A bug must surface as a bug. The readers that fall back on holes in a dump (the unwinder's page
// cache, the kernel layer's optional reads, the analysis' per-section attempts) catch the dump
// read errors only: a TypeError from a programming error has to reach the caller, not come out
// as "unreadable memory" and a silently shorter backtrace.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeOpenDump } from '../../src/analyzers/vmcore-analysis.js';
import { Kernel, openKernel } from '../../src/kernel/index.js';
import { PagedMemory, UnreadableMemoryError } from '../../src/kernel/unwind/memory.js';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import type { UnwindMemory } from '../../src/kernel/unwind/types.js';
import { openDump } from '../../src/vmcore/index.js';
import { DumpReadError, type DumpFile } from '../../src/vmcore/types.js';
import { FIXTURES } from '../paths.js';
import { FakeMemory, FakeSymbols } from '../unwind/synthetic.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

const TRIMMED = path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/trimmed/vmcore.trimmed.elf');

/** Memory that fails every read with `make()`. */
const failing = (make: (a: bigint) => Error): UnwindMemory => ({
  read: (a) => {
    throw make(a);
  },
  readU64: (a) => {
    throw make(a);
  },
});

describe('PagedMemory', () => {
  it('turns a hole in the dump into UnreadableMemoryError', () => {
    const m = new PagedMemory(failing((a) => new DumpReadError(`page 0x${a.toString(16)} excluded`)));
    expect(() => m.read(0xffff888000001008n, 8)).toThrow(UnreadableMemoryError);
    expect(m.tryU64(0xffff888000001008n)).toBeUndefined();
  });

  it('lets any other error through, every time it is asked', () => {
    const m = new PagedMemory(failing(() => new TypeError('reader bug')));
    expect(() => m.read(0xffff888000001008n, 8)).toThrow(TypeError);
    // not cached as a hole: the second read fails the same way
    expect(() => m.read(0xffff888000001008n, 8)).toThrow(TypeError);
    expect(() => m.read(0xffff888000001ff8n, 16)).toThrow(TypeError); // spans two pages
    expect(() => m.tryU64(0xffff888000001008n)).toThrow(TypeError);
  });
});

describe('unwinder', () => {
  const STEXT = 0xffffffff81000000n;
  const STACK = 0xffffc90000010000n;
  const build = (bug: boolean) => {
    const mem = new FakeMemory();
    mem.map(STEXT, 0x1000);
    mem.map(STACK, 0x4000);
    const memory: UnwindMemory = bug
      ? { read: (a, n) => (a >= STACK ? (null as unknown as Buffer).subarray(0) : mem.read(a, n)), readU64: (a) => mem.readU64(a) }
      : mem;
    const symbols = new FakeSymbols([{ name: '_stext', address: STEXT }, { name: '_etext', address: STEXT + 0x1000n }, { name: 'panic', address: STEXT, size: 0x100n }]);
    return new Unwinder({ memory, symbols, release: DEBIAN12_AMD64, cpus: [{ cpu: 0, regs: { ip: STEXT + 0x10n, sp: STACK + 0x3f00n, bp: STACK + 0x3f80n, cs: 0x10n, ss: 0x18n, flags: 0x46n } }] });
  };

  it('walks a stack it can read (the control)', async () => {
    await expect(build(false).backtrace(0)).resolves.toMatchObject({ cpu: 0 });
  });

  it('propagates a TypeError raised while reading the stack', async () => {
    await expect(build(true).backtrace(0)).rejects.toThrow(TypeError);
  });
});

describe('kernel layer and analysis on a real dump', () => {
  /** The trimmed fixture, with a reader that raises a TypeError once armed. */
  function buggy(): { dump: DumpFile; arm: () => void } {
    const real = openDump(TRIMMED);
    let armed = false;
    const dump = new Proxy(real, {
      get(t, p, r) {
        if (p === 'readPhysical') {
          return (paddr: bigint, len: number) => {
            if (armed) throw new TypeError("Cannot read properties of undefined (reading 'copy')");
            return t.readPhysical(paddr, len);
          };
        }
        const v = Reflect.get(t, p, r) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    return { dump, arm: () => (armed = true) };
  }

  it('analyses the dump when nothing is wrong (the control)', async () => {
    const { dump } = buggy();
    try {
      const d = await analyzeOpenDump(dump, 'trimmed', { cache: false });
      expect(d.panicCpu).toBe(0);
    } finally {
      dump.close();
    }
  });

  it('propagates a TypeError from the kernel log, per-CPU and task reads', () => {
    const { dump, arm } = buggy();
    try {
      const k = openKernel(dump, { cache: false });
      arm();
      expect(() => k.perCpuAddress(0, 'current_task')).toThrow(TypeError);
      expect(() => k.log).toThrow(TypeError);
      expect(() => k.cpus).toThrow(TypeError);
    } finally {
      dump.close();
    }
  });

  it('fails the analysis with the TypeError instead of a note about an unreadable kernel log', async () => {
    // The analysis reads each part (log, per-CPU values, crash time) on its own and goes on
    // without a part the dump lacks: a bug in the log reader must not pass for such a part.
    const log = Object.getOwnPropertyDescriptor(Kernel.prototype, 'log');
    expect(log !== undefined && 'get' in log).toBe(true);
    const dump = openDump(TRIMMED);
    Object.defineProperty(Kernel.prototype, 'log', {
      configurable: true,
      get() {
        throw new TypeError("Cannot read properties of undefined (reading 'tsNsec')");
      },
    });
    try {
      await expect(analyzeOpenDump(dump, 'trimmed', { cache: false })).rejects.toThrow(TypeError);
    } finally {
      Object.defineProperty(Kernel.prototype, 'log', log as PropertyDescriptor);
      dump.close();
    }
  });
});
