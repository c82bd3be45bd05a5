import { describe, expect, it } from 'vitest';
import { decodeOrcEntry, decodeOrcFlags, isTerminal, KernelOrc, OrcTable, orcVersionForRelease } from '../../src/kernel/unwind/orc.js';
import { PagedMemory } from '../../src/kernel/unwind/memory.js';
import { encodeFlags, FakeMemory, writeOrcTables, type OrcSpec } from './synthetic.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

describe('ORC entry decoding', () => {
  it('decodes the v1 (4.14-6.2) layout: sp_reg 0-3, bp_reg 4-7, type 8-9, end 10', () => {
    const b = Buffer.alloc(6);
    b.writeInt16LE(-16, 0);
    b.writeInt16LE(-24, 2);
    b.writeUInt16LE(0x0115, 4); // sp_reg SP(5), bp_reg PREV_SP(1), type REGS(1)
    expect(decodeOrcEntry(b, 0, 1)).toMatchObject({ spOffset: -16, bpOffset: -24, spReg: 5, bpReg: 1, type: 'regs', signal: true, end: false });
    expect(decodeOrcFlags(0, 0, 0x0400, 1)).toMatchObject({ spReg: 0, type: 'call', end: true, signal: false });
    expect(decodeOrcFlags(8, 0, 0x0005, 1)).toMatchObject({ spReg: 5, type: 'call', signal: false });
    expect(decodeOrcFlags(0, 0, 0x0205, 1).type).toBe('regs_partial');
  });

  it('decodes v2 (6.3: signal 10, end 11) and v3 (6.4+: type 3 bits, signal 11)', () => {
    expect(decodeOrcFlags(0, 0, 0x0505, 2)).toMatchObject({ type: 'regs', signal: true, end: false });
    expect(decodeOrcFlags(0, 0, 0x0800, 2)).toMatchObject({ spReg: 0, end: true });
    expect(decodeOrcFlags(8, 0, 0x0205, 3)).toMatchObject({ type: 'call', signal: false });
    expect(decodeOrcFlags(0, 0, 0x0b05, 3)).toMatchObject({ type: 'regs', signal: true });
    expect(decodeOrcFlags(0, 0, 0x0c05, 3).type).toBe('regs_partial');
    expect(decodeOrcFlags(0, 0, 0x0100, 3).type).toBe('end_of_stack');
    expect(isTerminal(decodeOrcFlags(0, 0, 0x0100, 3), 3)).toBe('end');
    expect(isTerminal(decodeOrcFlags(0, 0, 0x0000, 3), 3)).toBe('error');
    expect(isTerminal(decodeOrcFlags(0, 0, 0x0400, 1), 1)).toBe('end');
    expect(isTerminal(decodeOrcFlags(0, 0, 0x0000, 1), 1)).toBe('error');
  });

  it('round-trips the synthetic encoder for every version', () => {
    const specs: OrcSpec[] = [
      { ip: 0n, spReg: 5, spOffset: 8, type: 'call' },
      { ip: 0n, spReg: 5, spOffset: 0, bpReg: 1, bpOffset: -16, type: 'regs', signal: true },
      { ip: 0n, spReg: 4, spOffset: 16, type: 'regs_partial', signal: true },
    ];
    for (const v of [1, 2, 3, 4] as const) {
      for (const s of specs) {
        const e = decodeOrcFlags(s.spOffset, s.bpOffset ?? 0, encodeFlags(s, v), v);
        expect(e).toMatchObject({ spReg: s.spReg, bpReg: s.bpReg ?? 0, type: s.type, signal: s.type !== 'call' });
      }
    }
  });

  it('picks the layout from the release (7.1+: v4)', () => {
    expect(orcVersionForRelease(DEBIAN12_AMD64)).toBe(1);
    expect(orcVersionForRelease('5.14.0-284.11.1.el9_2.x86_64')).toBe(1);
    expect(orcVersionForRelease('6.3.7')).toBe(2);
    expect(orcVersionForRelease('6.12.1')).toBe(3);
    expect(orcVersionForRelease('7.0.9')).toBe(3);
    expect(orcVersionForRelease('7.1.0')).toBe(4);
    expect(orcVersionForRelease('7.2.13+deb14-amd64')).toBe(4);
    expect(() => orcVersionForRelease('4.9.0')).toThrow(/predates/);
  });
});

describe('ORC lookup', () => {
  const stext = 0xffffffff81000000n;
  const etext = stext + 0x3000n;
  const entries: OrcSpec[] = [];
  // An entry every 0x30 bytes with a distinct sp offset so we can tell which one was found.
  for (let i = 0; i < 256; i++) entries.push({ ip: stext + BigInt(i * 0x30), spReg: 5, spOffset: 8 + i, type: 'call' });
  entries.push({ ip: etext, spReg: 0, spOffset: 0, type: 'call', end: false });
  const at = { ipTable: 0xffffffff82000000n, unwindTable: 0xffffffff82100000n, lookup: 0xffffffff82200000n, stext, etext };
  const mem = new FakeMemory();
  const { lookupBlocks } = writeOrcTables(mem, entries, at, 1);
  const lnb = 0xffffffff82300000n;
  mem.map(lnb, 8).writeUInt32LE(lookupBlocks, 0);

  const expectedIndex = (ip: bigint) => {
    let f = 0;
    entries.forEach((e, i) => { if (e.ip <= ip) f = i; });
    return f;
  };

  it('binary search finds the last entry at or below the ip', () => {
    const t = new OrcTable(new PagedMemory(mem), at.ipTable, at.unwindTable, entries.length, 1);
    for (const ip of [stext, stext + 1n, stext + 0x2fn, stext + 0x30n, stext + 0x1234n, etext - 1n, etext]) {
      const r = t.find(ip);
      expect(r?.index).toBe(expectedIndex(ip));
      expect(r?.entry.spOffset).toBe(entries[expectedIndex(ip)].spOffset);
    }
  });

  it('orc_lookup fast path agrees with binary search and reads little', () => {
    const pm = new PagedMemory(mem);
    const k = new KernelOrc(pm, {
      startOrcUnwindIp: at.ipTable, stopOrcUnwindIp: at.ipTable + BigInt(entries.length * 4), startOrcUnwind: at.unwindTable,
      stopOrcUnwind: at.unwindTable + BigInt(entries.length * 6), orcLookup: at.lookup, orcLookupEnd: at.lookup + BigInt(lookupBlocks * 4),
      stext, etext, lookupNumBlocks: lnb,
    }, 1);
    for (let ip = stext; ip < etext; ip += 7n) expect(k.find(ip)?.index).toBe(expectedIndex(ip));
    expect(k.lookupHits).toBeGreaterThan(0);
    expect(k.searchHits).toBe(0);
    expect(k.find(stext - 1n)).toBeNull();
  });

  it('falls back to binary search when orc_lookup was never filled', () => {
    const m2 = new FakeMemory();
    writeOrcTables(m2, entries, { ipTable: at.ipTable, unwindTable: at.unwindTable }, 1);
    m2.map(at.lookup, 0x100); // zeros
    const k = new KernelOrc(new PagedMemory(m2), {
      startOrcUnwindIp: at.ipTable, stopOrcUnwindIp: at.ipTable + BigInt(entries.length * 4), startOrcUnwind: at.unwindTable,
      orcLookup: at.lookup, stext, etext,
    }, 1);
    expect(k.find(stext + 0x31n)?.index).toBe(1);
    expect(k.lookupHits).toBe(0);
    expect(k.searchHits).toBe(1);
  });
});

describe('ORC layout from the table itself', () => {
  it('tells v1, v2 and v3 apart by the flag words', async () => {
    const { orcVersionFromFlags } = await import('../../src/kernel/unwind/orc.js');
    const rep = (xs: [number, number][]) => xs.flatMap(([h, n]) => Array<number>(n).fill(h));
    // proportions seen in Debian 6.1.192's .orc_unwind: 383781 CALL, 193 REGS, 793 PARTIAL, 82 end
    expect(orcVersionFromFlags(rep([[0, 600], [1, 3], [2, 2], [4, 1]]))).toBe(1);
    expect(orcVersionFromFlags(rep([[0, 600], [5, 3], [6, 2], [8, 1]]))).toBe(2);
    expect(orcVersionFromFlags(rep([[2, 600], [0xb, 3], [0xc, 2], [1, 1]]))).toBe(3);
    expect(orcVersionFromFlags([0, 0, 1])).toBeNull();
  });
});
