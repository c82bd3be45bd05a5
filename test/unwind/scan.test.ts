import { describe, expect, it } from 'vitest';
import { precededByCall } from '../../src/kernel/unwind/scan.js';
import { PagedMemory } from '../../src/kernel/unwind/memory.js';
import { FakeMemory } from './synthetic.js';

const TEXT = 0xffffffff81000000n;
function at(bytes: number[]): { mem: PagedMemory; ret: bigint } {
  const m = new FakeMemory();
  m.map(TEXT, 0x1000);
  const ret = TEXT + 0x100n;
  m.write(ret - BigInt(bytes.length), Buffer.from(bytes));
  return { mem: new PagedMemory(m), ret };
}
const inText = (a: bigint) => a >= TEXT && a < TEXT + 0x1000n;

describe('return-address validation', () => {
  it('accepts a direct call only when its target is text', async () => {
    const good = at([0xe8, 0x00, 0xff, 0xff, 0xff]); // call ret-0x100
    expect(await precededByCall(good.mem, good.ret, inText)).toBe(true);
    const bad = at([0xe8, 0x00, 0x00, 0x00, 0x40]); // call far outside text
    expect(await precededByCall(bad.mem, bad.ret, inText)).toBe(false);
  });

  it('accepts call reg (ff d0-d7, 41 ff d0-d7) and, through capstone, call [rip+disp32]', async () => {
    for (const b of [[0xff, 0xd0], [0x41, 0xff, 0xd3], [0xff, 0x15, 0x10, 0x20, 0x30, 0x00], [0xff, 0x54, 0x24, 0x08]]) {
      const x = at(b);
      expect(await precededByCall(x.mem, x.ret, inText), Buffer.from(b).toString('hex')).toBe(true);
    }
  });

  it('rejects data that is not a call', async () => {
    for (const b of [[0x48, 0x89, 0xe5], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], [0xc3]]) {
      const x = at(b);
      expect(await precededByCall(x.mem, x.ret, inText), Buffer.from(b).toString('hex')).toBe(false);
    }
  });
});
