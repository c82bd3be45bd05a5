#!/usr/bin/env node
// `npm run bench`: wall time and peak RSS of ktriage commands on every fixture dump and on a large
// sparse ELF dump made from one of them (64 GiB apparent size, same pages), and, when `crash` and
// Debian's debug vmlinux are installed, crash's time for the equivalent session on the same dump.
// A script, not a timed test: numbers depend on the machine; read them, do not assert them.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/ktriage.js');
const runs = Number(process.env.BENCH_RUNS ?? 3);
const work = join(tmpdir(), 'ktriage-bench');
mkdirSync(work, { recursive: true });

function timeCmd(cmd, args, env = {}) {
  const rus = join(work, `rusage-${process.pid}.json`);
  const walls = [];
  let rss = 0;
  let status = 0;
  for (let i = 0; i < runs; i++) {
    rmSync(rus, { force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env, KTRIAGE_RUSAGE_FILE: rus }, encoding: 'utf8', maxBuffer: 256 << 20 });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    status = r.status ?? -1;
    if (existsSync(rus)) rss = Math.max(rss, JSON.parse(readFileSync(rus, 'utf8')).maxRssKiB);
  }
  walls.sort((a, b) => a - b);
  return { wall: walls[Math.floor(walls.length / 2)], rssMiB: rss / 1024, status };
}

function findDumps() {
  const out = [];
  const fx = join(root, 'fixtures');
  for (const d of readdirSync(fx, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const exp = join(fx, d.name, 'expected.json');
    if (!existsSync(exp)) continue;
    const input = JSON.parse(readFileSync(exp, 'utf8')).input;
    let p = join(fx, d.name, input);
    if (p.endsWith('.xz')) continue;
    const head = Buffer.alloc(8);
    const fd = openSync(p, 'r');
    readSync(fd, head, 0, 8, 0);
    closeSync(fd);
    if (head.readUInt32BE(0) === 0x7f454c46 || head.toString('latin1') === 'KDUMP   ') out.push({ name: d.name, path: p });
  }
  // The xz-packed ELF fixtures: unpack one copy each into the scratch folder.
  for (const d of readdirSync(fx, { withFileTypes: true })) {
    const xz = join(fx, d.name, 'vmcore.d31.elf.xz');
    if (!d.isDirectory() || !existsSync(xz)) continue;
    const elf = join(work, `${d.name}.elf`);
    if (!existsSync(elf)) {
      const fd = openSync(elf, 'w');
      spawnSync('xz', ['-dc', xz], { stdio: ['ignore', fd, 'inherit'] });
      closeSync(fd);
    }
    out.push({ name: `${d.name} (ELF)`, path: elf });
  }
  return out;
}

/**
 * A 64 GiB sparse ELF: the fixture's own program headers and notes, its PT_LOAD data copied to the
 * same relative place, plus one PT_LOAD describing 64 GiB of "RAM" above the fixture's memory whose
 * file range is a hole. Opening it must cost what opening the original costs.
 */
function makeSparseElf(src, dst, extraBytes = 64n << 30n) {
  const fd = openSync(src, 'r');
  const eh = Buffer.alloc(64);
  readSync(fd, eh, 0, 64, 0);
  const phoff = Number(eh.readBigUInt64LE(32));
  const phentsize = eh.readUInt16LE(54);
  let phnum = eh.readUInt16LE(56);
  if (phnum === 0xffff) {
    const shoff = Number(eh.readBigUInt64LE(40));
    const sh = Buffer.alloc(64);
    readSync(fd, sh, 0, 64, shoff);
    phnum = sh.readUInt32LE(44);
  }
  if (phnum > 200000) throw new Error('too many program headers');
  const ph = Buffer.alloc(phnum * phentsize);
  readSync(fd, ph, 0, ph.length, phoff);
  let maxPaddr = 0n;
  let maxEnd = 0n;
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const end = ph.readBigUInt64LE(o + 8) + ph.readBigUInt64LE(o + 32);
    if (end > maxEnd) maxEnd = end;
    if (ph.readUInt32LE(o) === 1) {
      const pend = ph.readBigUInt64LE(o + 24) + ph.readBigUInt64LE(o + 40);
      if (pend > maxPaddr) maxPaddr = pend;
    }
  }
  // New layout: ELF header, then the new program header table at the end of the original file
  // (room for one more entry), original data left at its offsets; the extra segment is a hole
  // after everything.
  const size = BigInt(statSync(src).size);
  const newPhoff = (size + 4095n) & ~4095n;
  const extraOff = (newPhoff + BigInt((phnum + 1) * phentsize) + 0xfffffn) & ~0xfffffn;
  const out = openSync(dst, 'w');
  const chunk = Buffer.alloc(8 << 20);
  for (let pos = 0n; pos < size; ) {
    const n = readSync(fd, chunk, 0, chunk.length, pos);
    if (n <= 0) break;
    writeSync(out, chunk, 0, n, Number(pos));
    pos += BigInt(n);
  }
  const extra = Buffer.alloc(phentsize);
  extra.writeUInt32LE(1, 0); // PT_LOAD
  extra.writeUInt32LE(6, 4); // RW
  extra.writeBigUInt64LE(extraOff, 8);
  extra.writeBigUInt64LE(0n, 16); // no virtual address
  const paddr = (maxPaddr + (1n << 30n)) & ~((1n << 30n) - 1n);
  extra.writeBigUInt64LE(paddr, 24);
  extra.writeBigUInt64LE(extraBytes, 32);
  extra.writeBigUInt64LE(extraBytes, 40);
  writeSync(out, Buffer.concat([ph, extra]), 0, ph.length + extra.length, Number(newPhoff));
  const neh = Buffer.from(eh);
  neh.writeBigUInt64LE(newPhoff, 32);
  if (phnum + 1 < 0xffff) {
    neh.writeUInt16LE(phnum + 1, 56);
    writeSync(out, neh, 0, 64, 0);
  } else {
    // PN_XNUM: the real count lives in section header 0's sh_info
    const shoff = Number(neh.readBigUInt64LE(40));
    const sh = Buffer.alloc(64);
    readSync(fd, sh, 0, 64, shoff);
    sh.writeUInt32LE(phnum + 1, 44);
    writeSync(out, sh, 0, 64, shoff);
    writeSync(out, neh, 0, 64, 0);
  }
  ftruncateSync(out, Number(extraOff + extraBytes));
  closeSync(out);
  closeSync(fd);
}

const dumps = findDumps();
if (dumps.length === 0) {
  console.log('no dump fixtures found under fixtures/');
  process.exit(0);
}
const elf = dumps.find((d) => readFileSync(d.path, { flag: 'r' }).subarray(0, 4).readUInt32BE(0) === 0x7f454c46);
if (elf) {
  const sparse = join(work, 'sparse-64g.elf');
  makeSparseElf(elf.path, sparse);
  dumps.push({ name: `${elf.name} placed in a 64 GiB sparse ELF`, path: sparse });
}

const commands = [
  ['info'],
  ['log', '--tail', '50'],
  ['percpu', '__preempt_count'],
  ['analyze'],
];
console.log(`runs per command: ${runs} (median wall time; peak RSS of the slowest)`);
const rows = [];
for (const d of dumps) {
  const size = statSync(d.path).size;
  for (const c of commands) {
    const args = [bin, c[0], d.path, ...c.slice(1)];
    const r = timeCmd('node', args);
    rows.push({ dump: d.name, size: `${(size / 1048576).toFixed(1)} MiB`, command: c.join(' '), wall: r.wall.toFixed(3), rssMiB: r.rssMiB.toFixed(0), exit: r.status });
  }
}
console.table(rows);

// crash, when available: same questions, same dump.
const vmlinuxDir = '/usr/lib/debug/boot';
const crashBin = '/usr/bin/crash';
if (existsSync(crashBin) && existsSync(vmlinuxDir)) {
  const vmlinux = readdirSync(vmlinuxDir).filter((f) => f.startsWith('vmlinux-')).map((f) => join(vmlinuxDir, f))[0];
  if (vmlinux) {
    const cmdFile = join(work, 'crash-cmds');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cmdFile, 'bt\np __preempt_count:a\np in_kernel_fpu:a\nlog\nquit\n');
    const crashRows = [];
    for (const d of dumps.filter((x) => !x.name.includes('sparse'))) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(crashBin, ['-s', '-i', cmdFile, vmlinux, d.path], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300000 });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const ours = rows.find((x) => x.dump === d.name && x.command === 'analyze');
      crashRows.push({ dump: d.name, crashWall: wall.toFixed(2), ktriageAnalyze: ours?.wall, ratio: ours ? (wall / Number(ours.wall)).toFixed(1) + 'x' : '-', crashExit: r.status });
    }
    console.table(crashRows);
  }
} else {
  console.log('crash or the debug vmlinux is not installed: skipping the comparison with crash');
}
