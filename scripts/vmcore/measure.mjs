#!/usr/bin/env node
// Measures src/vmcore on real dumps and on large sparse synthetic ones: open time, time to read
// N random present pages, peak RSS. Not a test; figures for notes and for `npm run bench`.
//
//   npm run build && node scripts/vmcore/measure.mjs [dump ...]
//   (KTRIAGE_VMCORE_MODULE=path/to/vmcore/index.js to use another build)
//
// With no arguments: every uncompressed dump under the repo's fixtures/ (vmcore.* but .xz), plus sparse ELF and kdump-compressed dumps of
// 512 MiB and 64 GiB of RAM written to a temporary directory (sparse: a few MB on disk).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const modPath = process.env.KTRIAGE_VMCORE_MODULE ?? new URL('../../dist/vmcore/index.js', import.meta.url).pathname;
const { openDump, prepareDecompressors } = await import(pathToFileURL(path.resolve(modPath)).href);
await prepareDecompressors();

const READS = 500;

function sparseElf(file, ramBytes, notes) {
  // ELF header, PT_NOTE, one PT_LOAD covering all of RAM at file offset 1 MiB; the file is
  // truncated to full size (sparse) and the first 16 MiB get real bytes.
  const phnum = 2;
  const eh = Buffer.alloc(64 + phnum * 56);
  eh.write('\x7fELF', 0, 'latin1');
  eh[4] = 2; eh[5] = 1; eh[6] = 1;
  eh.writeUInt16LE(4, 16); eh.writeUInt16LE(62, 18); eh.writeUInt32LE(1, 20);
  eh.writeBigUInt64LE(64n, 32); eh.writeUInt16LE(64, 52); eh.writeUInt16LE(56, 54); eh.writeUInt16LE(phnum, 56);
  const noteOff = 64 + phnum * 56;
  eh.writeUInt32LE(4, 64); eh.writeBigUInt64LE(BigInt(noteOff), 64 + 8);
  eh.writeBigUInt64LE(BigInt(notes.length), 64 + 32); eh.writeBigUInt64LE(BigInt(notes.length), 64 + 40);
  const dataOff = 1 << 20;
  const b = 64 + 56;
  eh.writeUInt32LE(1, b); eh.writeBigUInt64LE(BigInt(dataOff), b + 8);
  eh.writeBigUInt64LE(0n, b + 24); eh.writeBigUInt64LE(BigInt(ramBytes), b + 32); eh.writeBigUInt64LE(BigInt(ramBytes), b + 40);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, eh, 0, eh.length, 0);
  fs.writeSync(fd, notes, 0, notes.length, noteOff);
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < chunk.length; j += 8) chunk.writeBigUInt64LE(BigInt(i * chunk.length + j), j);
    fs.writeSync(fd, chunk, 0, chunk.length, dataOff + i * chunk.length);
  }
  fs.ftruncateSync(fd, dataOff + ramBytes);
  fs.closeSync(fd);
}

function sparseKdump(file, ramBytes, presentHead, presentTail) {
  // makedumpfile layout (diskdump_mod.h): pages present at the start and the end of
  // RAM, all sharing one zero page (as makedumpfile does for zero pages), so the last ones need
  // the rank over the whole bitmap.
  const bs = 4096;
  const maxMapnr = ramBytes / bs;
  const bitmapLen = Math.ceil(maxMapnr / 8 / bs) * bs;
  const h = Buffer.alloc(bs);
  h.write('KDUMP   ', 0, 'latin1'); h.writeInt32LE(6, 8); h.write('x86_64', 272, 'latin1');
  h.writeInt32LE(bs, 428); h.writeInt32LE(1, 432); h.writeUInt32LE((bitmapLen / bs) * 2, 436);
  h.writeUInt32LE(Math.min(maxMapnr, 0xffffffff), 440); h.writeInt32LE(1, 460); h.writeUInt32LE(1, 424);
  const sub = Buffer.alloc(bs);
  sub.writeInt32LE(31, 8); sub.writeBigUInt64LE(BigInt(maxMapnr), 96);
  const bm = Buffer.alloc(bitmapLen);
  const pfns = [];
  for (let p = 0; p < presentHead; p++) pfns.push(p);
  for (let p = maxMapnr - presentTail; p < maxMapnr; p++) pfns.push(p);
  for (const p of pfns) bm[p >> 3] |= 1 << (p & 7);
  const pdOff = 2 * bs + 2 * bitmapLen;
  const zeroOff = pdOff + pfns.length * 24;
  const descs = Buffer.alloc(pfns.length * 24);
  for (let i = 0; i < pfns.length; i++) { descs.writeBigInt64LE(BigInt(zeroOff), i * 24); descs.writeUInt32LE(bs, i * 24 + 8); }
  fs.writeFileSync(file, Buffer.concat([h, sub, bm, bm, descs, Buffer.alloc(bs)]));
  return pfns;
}

function measure(label, file, pick) {
  const t0 = performance.now();
  const d = openDump(file);
  const t1 = performance.now();
  const pfns = pick(d);
  const t2 = performance.now();
  let ok = 0;
  for (const pfn of pfns) {
    try { d.readPhysical(BigInt(pfn) * 4096n, 4096); ok++; } catch { /* excluded / absent */ }
  }
  const t3 = performance.now();
  const size = fs.statSync(file).size;
  console.log(`${label.padEnd(34)} ${(size / 2 ** 20).toFixed(0).padStart(7)} MiB  open ${(t1 - t0).toFixed(1).padStart(7)} ms  ` +
    `${String(ok).padStart(4)}/${pfns.length} pages ${(t3 - t2).toFixed(1).padStart(7)} ms (${((t3 - t2) * 1000 / Math.max(1, pfns.length)).toFixed(0)} us/page)  ` +
    `${d.info.format}/${d.info.compression.join(',')}`);
  d.close();
}

let seed = 1;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const randomPresent = (d, maxPfn) => {
  const out = [];
  for (let tries = 0; out.length < READS && tries < READS * 50; tries++) {
    const p = rnd(maxPfn);
    if (d.pageState(BigInt(p) * 4096n) === 'present') out.push(p);
  }
  return out;
};

const args = process.argv.slice(2);
const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
const dumps = args.length
  ? args
  : fs.readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) =>
      fs.readdirSync(path.join(fixtures, d.name)).filter((n) => /^vmcore\./.test(n) && !n.endsWith('.xz')).map((n) => path.join(fixtures, d.name, n)),
    );
for (const f of dumps) measure(path.relative(fixtures, f), f, (d) => randomPresent(d, 1 << 16));

if (!args.length) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-measure-'));
  try {
    const notes = Buffer.alloc(0);
    for (const [name, ram] of [['512MiB', 512 * 2 ** 20], ['64GiB', 64 * 2 ** 30]]) {
      const e = path.join(tmp, `sparse-${name}.elf`);
      sparseElf(e, ram, notes);
      measure(`sparse ELF, ${name} RAM`, e, () => Array.from({ length: READS }, () => rnd(4096)));
      const k = path.join(tmp, `sparse-${name}.kdump`);
      const pfns = sparseKdump(k, ram, 4096, 4096);
      measure(`sparse kdump, ${name} RAM`, k, () => Array.from({ length: READS }, () => pfns[rnd(pfns.length)]));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
