// ORC of a real kernel, all from the dump: the orc_lookup fast path (as unwind_init() filled it at
// boot) against a plain binary search over the whole .orc_unwind_ip table in the dump's memory, for
// thousands of random text addresses. Both must pick the same entry, the one objtool wrote for the
// last ip at or below the address, and the fast path must read two things per lookup. (This used to compare with
// the tables in Debian's 860 MB debug vmlinux, which the repository does not carry; the dump's own
// copy of those tables is what an unwind reads.)
import { describe, expect, it } from 'vitest';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { fixtureDumps } from '../fixture-dumps.js';
import { openHarness } from './dump-harness.js';

const dump = fixtureDumps().find((f) => f.kind === 'kdump-zlib')!;

describe(`ORC in ${dump.name}: orc_lookup fast path vs binary search of the whole table`, () => {
  it('finds the same entry for 5000 random text addresses, with two reads each', () => {
    const h = openHarness(dump.file());
    const u = new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus });
    const orc = u.kernelOrc!;
    expect(orc.count).toBe(Number((h.syms.lookup('__stop_orc_unwind_ip')! - h.syms.lookup('__start_orc_unwind_ip')!) / 4n));
    const stext = h.syms.lookup('_stext')!;
    const etext = h.syms.lookup('_etext')!;
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const ips = Array.from({ length: 5000 }, () => stext + BigInt(rnd() % Number(etext - stext)));

    const pagesBefore = h.dump.pagesRead.size;
    const readsBefore = orc.table.reads;
    const fast = ips.map((ip) => orc.find(ip)!);
    expect(orc.lookupHits).toBe(5000);
    expect(orc.searchHits).toBe(0);
    // each lookup: one block of ips (a few dozen, one read) and one 6-byte entry
    expect(orc.table.reads - readsBefore).toBe(2 * 5000);
    const pages = h.dump.pagesRead.size - pagesBefore;
    const tablePages = Math.ceil((orc.count * 4 + orc.count * 6) / 4096);
    console.log(`[unwind] 5000 random ORC lookups touched ${pages} distinct pages (tables: ${tablePages} pages + orc_lookup)`);

    for (let k = 0; k < ips.length; k++) {
      const slow = orc.table.find(ips[k])!;
      expect(fast[k].index).toBe(slow.index);
      expect(fast[k].ip).toBe(slow.ip);
      expect(fast[k].entry).toEqual(slow.entry);
      expect(fast[k].ip <= ips[k]).toBe(true);
      if (slow.index + 1 < orc.count) expect(orc.table.ipAt(slow.index + 1) > ips[k]).toBe(true);
    }
  });
});
