// Patch generators for kernel data inside the real fixture dump: bytes, absurd integers and
// pointers written into named regions (kallsyms tables, printk ring, BTF, page tables, stack).
import fc from 'fast-check';
import { encodePatches, realKernel } from './targets.js';

const ABSURD64 = [0n, 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 1n << 32n, 1n << 40n, 1n << 62n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, 0xffffffff80000000n, 0xffff888000000000n];

function le(v: bigint, n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.subarray(0, n);
}

export type PatchOp = { region: number; off: number; kind: 'bytes'; bytes: Uint8Array } | { region: number; off: number; kind: 'int'; width: 1 | 2 | 4 | 8; v: bigint } | { region: number; off: number; kind: 'flip'; bit: number };

/** Patches (JSON input) aimed at the given regions; `aligned` snaps integer writes to their width. */
export function regionPatches(names: string[], opts: { maxOps?: number; hotBytes?: number } = {}): fc.Arbitrary<string> {
  const k = realKernel();
  const regs = names.map((n) => {
    const r = k.regions[n];
    if (!r) throw new Error(`no region ${n}`);
    return r;
  });
  const off = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: (opts.hotBytes ?? 256) - 1 }) }, { weight: 1, arbitrary: fc.nat() });
  const op: fc.Arbitrary<PatchOp> = fc.oneof(
    fc.record({ region: fc.nat({ max: regs.length - 1 }), off, kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ region: fc.nat({ max: regs.length - 1 }), off, kind: fc.constant('int' as const), width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), v: fc.oneof(fc.constantFrom(...ABSURD64), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })) }),
    fc.record({ region: fc.nat({ max: regs.length - 1 }), off, kind: fc.constant('flip' as const), bit: fc.nat({ max: 7 }) }),
  );
  return fc.array(op, { minLength: 1, maxLength: opts.maxOps ?? 8 }).map((ops) => {
    const patches = ops.map((o) => {
      const r = regs[o.region];
      if (o.kind === 'int') {
        const at = Math.floor((o.off % Math.max(1, r.len - o.width + 1)) / o.width) * o.width;
        return { paddr: r.paddr + BigInt(at), bytes: le(o.v, o.width) };
      }
      const at = o.off % r.len;
      if (o.kind === 'flip') {
        const cur = k.dump.readPhysical(r.paddr + BigInt(at), 1)[0];
        return { paddr: r.paddr + BigInt(at), bytes: Buffer.from([cur ^ (1 << o.bit)]) };
      }
      return { paddr: r.paddr + BigInt(at), bytes: Buffer.from(o.bytes.subarray(0, Math.max(1, r.len - at))) };
    });
    return encodePatches(patches);
  });
}

/**
 * Page-table entries rewritten on the walk to CPU 0's stack: pointing at the table itself (a
 * cycle), at another table on the path (longer cycles), with the huge-page bit, not present,
 * past the end of memory, or random.
 */
export function pageTablePatches(): fc.Arbitrary<string> {
  const k = realKernel();
  const tables = k.tables;
  const idxOnPath = tables.map((_, i) => Number((k.rsp >> (12n + 9n * BigInt(tables.length - 1 - i))) & 0x1ffn));
  const entry = fc.record({
    level: fc.nat({ max: tables.length - 1 }),
    index: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat({ max: 511 }) }),
    target: fc.oneof(fc.constant('self'), fc.nat({ max: tables.length - 1 }), fc.constant('absurd'), fc.constant('random')),
    flags: fc.constantFrom(0x63n, 0xe3n, 0x0n, 0x62n, 0x8000000000000063n, 0x1n),
    v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  });
  return fc.array(entry, { minLength: 1, maxLength: 6 }).map((es) =>
    encodePatches(
      es.map((e) => {
        const table = tables[e.level];
        const index = e.index < 0 ? idxOnPath[e.level] : e.index;
        let v: bigint;
        if (e.target === 'self') v = table | e.flags;
        else if (e.target === 'absurd') v = (0xffffffffff000n | e.flags) & ((1n << 64n) - 1n);
        else if (e.target === 'random') v = e.v;
        else v = tables[e.target] | e.flags;
        return { paddr: table + BigInt(index) * 8n, bytes: le(v, 8) };
      }),
    ),
  );
}
