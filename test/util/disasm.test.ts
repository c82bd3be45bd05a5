import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/util/disasm.js';

describe('disassemble', () => {
  it('decodes across 4 KiB chunk boundaries without desynchronising', async () => {
    // 10-byte movabs instructions: 4096 is not a multiple of 10, so one straddles each boundary.
    const one = [0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8];
    const code = Uint8Array.from(Array.from({ length: 1000 }, () => one).flat());
    const insns = await disassemble(code, 0xffffffff81000000n);
    expect(insns).toHaveLength(1000);
    expect(insns.every((i) => i.mnemonic === 'movabs' && i.size === 10)).toBe(true);
    expect(insns[999].address).toBe(0xffffffff81000000n + 9990n);
  });
  it('turns undecodable bytes into (bad) and continues', async () => {
    const insns = await disassemble(Uint8Array.from([0x0f, 0x0b, 0xd6, 0x90, 0xc3]));
    expect(insns.map((i) => i.mnemonic)).toEqual(['ud2', '(bad)', 'nop', 'ret']);
  });
  it('respects the instruction cap', async () => {
    expect(await disassemble(new Uint8Array(100).fill(0x90), 0n, 7)).toHaveLength(7);
  });
});
