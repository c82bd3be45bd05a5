// The prologue length decoder against capstone, over real kernel text (read from a committed
// dump's memory) and on hand-written prologues.
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { disassemble } from '../../src/util/disasm.js';
import { decodeLength, prologueEffect } from '../../src/kernel/unwind/x86len.js';
import { openDump } from '../../src/vmcore/index.js';
import { fixtureDumps } from '../fixture-dumps.js';

describe('x86-64 length decoder', () => {
  it('decodes the __crash_kexec prologue (Debian 6.1) and classifies rsp effects', () => {
    const code = Buffer.from('0f1f440000' + '53' + 'ba01000000' + '4881ecb0000000' + '65488b042528000000' + '4889842' + '4a8000000' + '31c0' + '75' + '50', 'hex');
    const seen: string[] = [];
    for (let p = 0; p < code.length;) {
      const d = decodeLength(code, p)!;
      expect(d).not.toBeNull();
      seen.push(`${d.length}:${prologueEffect(d).kind}`);
      p += d.length;
    }
    expect(seen).toEqual(['5:other', '1:push', '5:other', '7:adjust', '9:other', '8:other', '2:other', '2:branch']);
    expect(prologueEffect(decodeLength(Buffer.from('4881ecb0000000', 'hex'), 0)!)).toEqual({ kind: 'adjust', delta: 0xb0n });
    expect(prologueEffect(decodeLength(Buffer.from('4883c418', 'hex'), 0)!)).toEqual({ kind: 'adjust', delta: -0x18n });
    expect(prologueEffect(decodeLength(Buffer.from('4883e4f0', 'hex'), 0)!).kind).toBe('writes-sp'); // and rsp, -16
    expect(prologueEffect(decodeLength(Buffer.from('4889e5', 'hex'), 0)!).kind).toBe('other'); // mov rbp, rsp
    expect(prologueEffect(decodeLength(Buffer.from('4889ec', 'hex'), 0)!).kind).toBe('writes-sp'); // mov rsp, rbp
    expect(prologueEffect(decodeLength(Buffer.from('488d6424f8', 'hex'), 0)!).kind).toBe('writes-sp'); // lea rsp, [rsp-8]
    expect(prologueEffect(decodeLength(Buffer.from('4155', 'hex'), 0)!).kind).toBe('push'); // push r13
    expect(decodeLength(Buffer.from('c4e27d18', 'hex'), 0)).toBeNull(); // VEX: left to capstone
  });

  it('agrees with capstone on every instruction it claims to know in 256 KiB of kernel .text', async () => {
    // kernel text is in every makedumpfile dump level; 1 MiB past _stext, as the vmlinux file read did
    const d = openDump(fixtureDumps().find((f) => f.kind === 'kdump-zlib')!.file());
    const k = openKernel(d);
    const buf = k.memory.read(k.symbols.lookup('_stext')! + 0x100000n, 256 * 1024);
    d.close();
    const insns = await disassemble(buf, 0n, 200_000);
    let known = 0;
    let unknown = 0;
    const wrong: string[] = [];
    for (const i of insns) {
      if (i.bad) continue;
      const d = decodeLength(buf, i.offset);
      if (!d) {
        unknown++;
        continue;
      }
      known++;
      if (d.length !== i.size && wrong.length < 20) wrong.push(`${i.offset.toString(16)}: ${Buffer.from(i.bytes).toString('hex')} ${i.mnemonic} ${i.opStr}: ours ${d.length}, capstone ${i.size}`);
    }
    if (wrong.length) console.log(wrong.join('\n'));
    expect(wrong).toEqual([]);
    console.log(`[x86len] ${known} instructions decoded identically, ${unknown} left to capstone`);
    expect(known / (known + unknown)).toBeGreaterThan(0.9);
  });
});
