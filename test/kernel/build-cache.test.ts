// The per-build cache on the real 6.1 fixture dump: the second open of a dump of the same build
// takes kallsyms and BTF from the cache and reads a fraction of the pages; a corrupt, foreign or
// stale entry is ignored (and rewritten), never trusted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pack, unpack } from '../../src/kernel/build-cache.js';
import { openKernel } from '../../src/kernel/kernel.js';
import { openDump } from '../../src/vmcore/index.js';
import { FIXTURES } from '../paths.js';

const DUMP = path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-cache-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Open the fixture afresh, read what an analysis reads first (symbols, BTF, per-CPU values). */
function session(cache: string | false) {
  const dump = openDump(DUMP);
  const k = openKernel(dump, { cache });
  const syms = k.symbols;
  const btf = k.btf;
  const pc = k.percpu.preemptCount()!.values.map((v) => v.value);
  return { k, pages: dump.pagesTouched.size, syms, btf, pc, events: k.cache?.events ?? [], message: k.symbolAttempts.find((a) => a.ok)!.message };
}

describe('per-build cache', () => {
  const dir = () => path.join(root, fs.readdirSync(root)[0]);

  it('first session writes the build\'s entry; the second reads it and far fewer pages', () => {
    const cold = session(root);
    expect(cold.events).toEqual(expect.arrayContaining(['kallsyms: not cached yet', 'kallsyms: written to the cache', 'btf: written to the cache']));
    expect(fs.readdirSync(root)).toEqual([cold.k.vmcoreinfo.buildId]);
    const warm = session(root);
    expect(warm.events).toEqual(expect.arrayContaining(['kallsyms: from the cache', 'btf: from the cache']));
    expect(warm.message).toMatch(/from the build cache/);
    expect(warm.pages).toBeLessThan(cold.pages / 4);
    expect(warm.pc).toEqual(cold.pc);
    expect(warm.syms.count).toBe(cold.syms.count);
    for (const n of ['irq_fpu_usable', '__preempt_count', 'init_task', 'page_offset_base', '__start_BTF']) expect(warm.syms.lookup(n), n).toBe(cold.syms.lookup(n));
    const all = cold.syms.all();
    const allWarm = warm.syms.all();
    for (let i = 0; i < all.length; i += 499) expect(allWarm[i]).toEqual(all[i]);
    expect(warm.btf!.member('task_struct', 'comm')).toEqual(cold.btf!.member('task_struct', 'comm'));
  });

  it('a corrupted entry is ignored and rewritten', () => {
    const f = path.join(dir(), 'kallsyms.bin');
    const b = fs.readFileSync(f);
    b[b.length - 100] ^= 0xff;
    fs.writeFileSync(f, b);
    const s = session(root);
    expect(s.events).toEqual(expect.arrayContaining(['kallsyms: cache entry corrupt or of another build: ignored', 'kallsyms: written to the cache']));
    expect(s.message).not.toMatch(/from the build cache/);
    expect(session(root).message).toMatch(/from the build cache/);
  });

  it('a cached name index that is malformed is rebuilt, even with a valid checksum: lookups stay right', () => {
    expect(session(root).message).toMatch(/from the build cache/);
    const f = path.join(dir(), 'kallsyms.bin');
    const u = unpack(fs.readFileSync(f))!;
    const secs = u.sections.map((x) => Buffer.from(x));
    expect(secs).toHaveLength(5); // text, starts, addresses, per-CPU bits, name index
    // Every slot names entry 0: no free slot, so a probe for a missing name would never end.
    new Int32Array(secs[4].buffer, secs[4].byteOffset, secs[4].length / 4).fill(0);
    fs.writeFileSync(f, pack(u.header, secs));
    const s = session(root);
    expect(s.message).toMatch(/from the build cache/);
    const ref = session(false);
    for (const n of ['irq_fpu_usable', '__preempt_count', 'init_task', 'no_such_symbol_anywhere']) expect(s.syms.lookup(n), n).toBe(ref.syms.lookup(n));
  });

  it('cached BTF type offsets that are out of order, even with a valid checksum, are rescanned', () => {
    const ref = session(false);
    expect(session(root).events).toContain('btf: from the cache');
    const f = path.join(dir(), 'btf.bin');
    const u = unpack(fs.readFileSync(f))!;
    const secs = u.sections.map((x) => Buffer.from(x));
    expect(secs).toHaveLength(5); // blob, type record offsets, name index heads and chains, DATASEC ids
    const offs = new Uint32Array(secs[1].buffer, secs[1].byteOffset, secs[1].length / 4);
    offs[100] = offs[99]; // two types at one place: not a scan's result
    fs.writeFileSync(f, pack(u.header, secs));
    const s = session(root);
    expect(s.events).toContain('btf: from the cache');
    expect(s.btf!.count).toBe(ref.btf!.count);
    expect(s.btf!.type(100)).toEqual(ref.btf!.type(100));
    expect(s.btf!.member('task_struct', 'comm')).toEqual(ref.btf!.member('task_struct', 'comm'));
    expect(s.pc).toEqual(ref.pc);
  });

  it('a flipped byte in the BTF blob past the page checked against the dump is caught by the checksum', () => {
    expect(session(root).events).toContain('btf: from the cache');
    const f = path.join(dir(), 'btf.bin');
    const b = fs.readFileSync(f);
    b[b.length >> 1] ^= 0x01;
    fs.writeFileSync(f, b);
    const s = session(root);
    expect(s.events).toEqual(expect.arrayContaining(['btf: cache entry corrupt or of another build: ignored', 'btf: written to the cache']));
    expect(session(root).events).toContain('btf: from the cache');
  });

  it('a BTF name index or DATASEC list that does not fit, even with a valid checksum, is rebuilt: lookups stay right', () => {
    const ref = session(false);
    const f = path.join(dir(), 'btf.bin');
    const u = unpack(fs.readFileSync(f))!;
    expect(u.sections).toHaveLength(5);
    const secs = u.sections.map((x) => Buffer.from(x));
    secs[2] = secs[2].subarray(0, secs[2].length / 2); // heads: half the table
    const ds = new Uint32Array(secs[4].buffer, secs[4].byteOffset, secs[4].length / 4);
    ds[0] = 1; // not a DATASEC
    fs.writeFileSync(f, pack(u.header, secs));
    const s = session(root);
    expect(s.events).toContain('btf: from the cache');
    for (const n of ['task_struct', 'pcpu_hot', 'timekeeper', 'no_such_type']) expect(s.btf!.findByName(n), n).toEqual(ref.btf!.findByName(n));
    expect(s.btf!.findVar('__preempt_count')).toEqual(ref.btf!.findVar('__preempt_count'));
    expect(s.pc).toEqual(ref.pc);
  });

  it('an entry of an older format is ignored and rewritten', () => {
    const f = path.join(dir(), 'btf.bin');
    const b = fs.readFileSync(f);
    b.write('KTRIAGE-CACHE-2\n', 0, 'latin1');
    fs.writeFileSync(f, b);
    expect(session(root).events).toEqual(expect.arrayContaining(['btf: cache entry corrupt or of another build: ignored', 'btf: written to the cache']));
    expect(session(root).events).toContain('btf: from the cache');
  });

  it('BTF answers are kept per build: a later session answers them without reading BTF; a foreign or damaged entry is ignored', () => {
    const ask = (k: ReturnType<typeof openKernel>) => ({
      xtime: k.btfFact('offsetOf timekeeper xtime_sec', (b) => b.offsetOf('timekeeper', 'xtime_sec')),
      seq: k.btfFact('sizeOf seqcount_raw_spinlock_t', (b) => b.sizeOf('seqcount_raw_spinlock_t')),
      none: k.btfFact('sizeOf no_such_type', (b) => b.sizeOf('no_such_type')),
    });
    const ref = ask(openKernel(openDump(DUMP), { cache: false }));
    expect(ref.xtime).toBeGreaterThan(0);
    expect(ref.none).toBeUndefined();
    expect(ask(openKernel(openDump(DUMP), { cache: root }))).toEqual(ref); // learns them
    const warm = openKernel(openDump(DUMP), { cache: root });
    expect(ask(warm)).toEqual(ref);
    expect(warm.cache!.events).toContain('facts: from the cache');
    expect(warm.loadedBtf()).toBeUndefined();
    // Made from another .BTF (its first page differs), with a valid checksum: ignored, BTF read.
    const f = path.join(dir(), 'facts.bin');
    const u = unpack(fs.readFileSync(f))!;
    const head = Buffer.from(u.sections[0]);
    head[100] ^= 0xff;
    fs.writeFileSync(f, pack(u.header, [head, Buffer.from(JSON.stringify({ 'offsetOf timekeeper xtime_sec': [12345] }))]));
    const foreign = openKernel(openDump(DUMP), { cache: root });
    expect(ask(foreign)).toEqual(ref);
    expect(foreign.cache!.events).toContain('facts: of another .BTF or malformed: ignored');
    expect(foreign.loadedBtf()).toBeDefined();
    // Damaged: the checksum fails.
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 0x01;
    fs.writeFileSync(f, b);
    const damaged = openKernel(openDump(DUMP), { cache: root });
    expect(ask(damaged)).toEqual(ref);
    expect(damaged.cache!.events).toContain('facts: cache entry corrupt or of another build: ignored');
  });

  it('an entry whose token table the dump does not have is ignored, even with a valid checksum', () => {
    // Same build ID, other contents (a rebuilt kernel that kept its ID, a hand-edited cache):
    // re-pack the entry with a different token-table head and a correct checksum.
    const f = path.join(dir(), 'kallsyms.bin');
    const u = unpack(fs.readFileSync(f))!;
    const tokenHead = u.header.tokenHead as string;
    fs.writeFileSync(f, pack({ ...u.header, tokenHead: '00' + tokenHead.slice(2) }, u.sections));
    const s = session(root);
    expect(s.events).toContain("kallsyms: the dump's token table differs from the cached one: ignored");
    expect(s.message).not.toMatch(/from the build cache/);
  });

  it('an entry of another build is ignored', () => {
    const foreign = path.join(root, 'f'.repeat(40));
    fs.mkdirSync(foreign, { recursive: true });
    fs.copyFileSync(path.join(dir(), 'btf.bin'), path.join(foreign, 'btf.bin'));
    // This build's folder now holds the other build's file.
    fs.copyFileSync(path.join(foreign, 'btf.bin'), path.join(dir(), 'btf.bin'));
    const b = fs.readFileSync(path.join(dir(), 'btf.bin'));
    fs.writeFileSync(path.join(dir(), 'btf.bin'), Buffer.from(b.toString('latin1').replace(/"buildId":"[0-9a-f]+"/, `"buildId":"${'f'.repeat(40)}"`), 'latin1'));
    const s = session(root);
    expect(s.events).toContain('btf: cache entry corrupt or of another build: ignored');
    expect(s.btf).toBeDefined();
  });

  it('off with cache: false or KTRIAGE_NO_CACHE=1; on by default in $KTRIAGE_CACHE_DIR', () => {
    const off = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-cache-env-'));
    const saved = { dir: process.env.KTRIAGE_CACHE_DIR, no: process.env.KTRIAGE_NO_CACHE };
    try {
      process.env.KTRIAGE_CACHE_DIR = off;
      delete process.env.KTRIAGE_NO_CACHE;
      expect(session(false).k.cache).toBeUndefined();
      expect(fs.readdirSync(off)).toEqual([]);
      process.env.KTRIAGE_NO_CACHE = '1';
      expect(openKernel(openDump(DUMP)).cache).toBeUndefined();
      delete process.env.KTRIAGE_NO_CACHE;
      const k = openKernel(openDump(DUMP));
      expect(k.btf).toBeDefined();
      expect(k.cache?.dir).toBe(path.join(off, k.vmcoreinfo.buildId!));
      expect(fs.readdirSync(path.join(off, k.vmcoreinfo.buildId!))).toContain('btf.bin');
    } finally {
      process.env.KTRIAGE_CACHE_DIR = saved.dir;
      if (saved.dir === undefined) delete process.env.KTRIAGE_CACHE_DIR;
      process.env.KTRIAGE_NO_CACHE = saved.no;
      if (saved.no === undefined) delete process.env.KTRIAGE_NO_CACHE;
      fs.rmSync(off, { recursive: true, force: true });
    }
  });
});
