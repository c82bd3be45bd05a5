#!/usr/bin/env node
// `npm run bench [section...]`: how fast ktriage is, measured side by side in one run (these
// machines are noisy: every comparison below interleaves its commands round by round, and prints
// the median). Sections, all by default:
//
//   start    start-up: bare `node -e ''`, `--version`, `--help`, `info`, `log`, `sym`, `percpu`,
//            `analyze` on the 2-CPU fixture (warm build cache), ratio to bare node, issue 12's targets
//   inflate  zlib pages of that fixture: fflate against node:zlib inflateSync, in a fresh process
//            (what one command pays) and warmed up (what a long batch pays)
//   cache    `analyze` with a cold build cache, a warm one, and --no-cache
//   dumps    info, log, percpu, analyze on every fixture dump and on a 64 GiB sparse ELF
//   triage   `triage` throughput (inputs/s per core) and peak RSS on a batch of >= 200 inputs
//   crash    crash's time on the same questions, when crash and a debug vmlinux are installed
//   drgn     drgn's time on them (stack trace, per-CPU values, dmesg), when BENCH_DRGN_CHROOT names
//            a chroot with drgn (scripts/fixtures/referee-chroot.sh sid: python3-drgn 0.3.0, its
//            bind mounts in place) and the dumps are under /tmp/ktriage-fixtures-work
//
// crash reads full dumps only (a trimmed fixture lacks the pages crash's start-up reads): it runs on
// the fixture dumps it can open plus BENCH_CRASH_DUMPS (colon-separated paths, e.g. the full dumps
// scripts/fixtures/make-kernels.sh leaves in /tmp/ktriage-fixtures-work), with the vmlinux-<release>
// found under BENCH_VMLINUX_DIRS (colon-separated; default /usr/lib/debug/boot; fetch-kernel.sh
// --dbg unpacks them under /tmp/ktriage-kernels/<release>/usr/lib/debug/boot).
// BENCH_RUNS (default 11 for start-up, 5 otherwise) sets the rounds. BENCH_BASELINE=<checkout> adds
// the start-up commands of another built checkout (its bin/ktriage.js, its own build cache) to the
// same rounds: a before/after measured side by side. A script, not a timed test:
// numbers depend on the machine; read them, never assert them in a test.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/ktriage.js');
const node = process.execPath;
const work = join(tmpdir(), 'ktriage-bench');
mkdirSync(work, { recursive: true });
const cacheDir = mkdtempSync(join(work, 'cache-'));
const rusFile = join(work, `rusage-${process.pid}.json`);
const mainFixture = join(root, 'fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');
const wanted = new Set(process.argv.slice(2));
const want = (s) => wanted.size === 0 || wanted.has(s);
const runsFor = (def) => Number(process.env.BENCH_RUNS ?? def);

// GNU time, when installed, gives every command's CPU time (user + system) and peak RSS, bare node
// included: on a loaded machine CPU time moves much less than wall time (which includes waiting
// for a core), so both are printed.
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const TIME_TAG = 'KTRIAGE-BENCH-TIME';

/** One run of a command: wall seconds, CPU seconds (GNU time), peak RSS MiB, exit. */
function once(cmd, args, env = {}) {
  rmSync(rusFile, { force: true });
  const t0 = process.hrtime.bigint();
  const [c, a] = timeBin ? [timeBin, ['-f', `${TIME_TAG} %U %S %M`, cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { env: { ...process.env, KTRIAGE_CACHE_DIR: cacheDir, ...env, KTRIAGE_RUSAGE_FILE: rusFile }, encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssMiB = null;
  let cpu = null;
  let stderr = r.stderr ?? '';
  const m = new RegExp(`${TIME_TAG} ([\\d.]+) ([\\d.]+) (\\d+)\\n?$`).exec(stderr);
  if (m) {
    cpu = Number(m[1]) + Number(m[2]);
    rssMiB = Number(m[3]) / 1024;
    stderr = stderr.slice(0, m.index);
  } else if (existsSync(rusFile)) rssMiB = JSON.parse(readFileSync(rusFile, 'utf8')).maxRssKiB / 1024;
  // GNU time reports a signal or non-zero exit as its own status; keep the command's.
  return { wall, cpu, rssMiB, status: r.status ?? -1, stdout: r.stdout, stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Interleaved rounds: every case runs once per round, in turn, so a burst of load on the machine
 * hits them all alike. `before(name)` runs untimed before each timed run (to empty a cache).
 */
function interleave(cases, runs, before = () => {}) {
  const res = new Map(cases.map((c) => [c.name, { walls: [], cpus: [], rss: [], status: new Set() }]));
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      before(c);
      const r = once(c.cmd, c.args, c.env);
      const x = res.get(c.name);
      x.walls.push(r.wall);
      if (r.cpu !== null) x.cpus.push(r.cpu);
      if (r.rssMiB !== null) x.rss.push(r.rssMiB);
      x.status.add(r.status);
    }
  }
  return new Map([...res].map(([k, x]) => [k, { wall: median(x.walls), min: Math.min(...x.walls), cpu: x.cpus.length ? median(x.cpus) : null, rssMiB: x.rss.length ? Math.max(...x.rss) : null, status: [...x.status].join('/') }]));
}

const f3 = (x) => x.toFixed(3);
const mib = (x) => (x === null ? '-' : x.toFixed(0));

function header() {
  const c = cpus();
  console.log(`ktriage bench: ${c.length} CPUs (${c[0]?.model ?? '?'}), node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`build cache for this run: ${cacheDir}`);
}

// ---------------------------------------------------------------------------------------------
// start-up

function startSection() {
  const runs = runsFor(11);
  const F = mainFixture;
  const k = (name, args, target) => ({ name, cmd: node, args: [bin, ...args], target });
  // percpu of the variable each kernel has (6.2-6.14 keep it in pcpu_hot)
  const cases = [
    { name: "node -e ''", cmd: node, args: ['-e', ''] },
    k('--version', ['--version'], { ratio: 1.3 }),
    k('--help', ['--help'], { ratio: 1.3 }),
    k('info', ['info', F], { wall: 0.1 }),
    k('log --tail 1', ['log', F, '--tail', '1'], { wall: 0.1 }),
    k('sym irq_fpu_usable', ['sym', F, 'irq_fpu_usable'], { wall: 0.1 }),
    k('percpu __preempt_count', ['percpu', F, '__preempt_count'], { wall: 0.1 }),
    k('analyze', ['analyze', F], { wall: 0.2, rssMiB: 90 }),
  ];
  const baseline = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
  let baseCache;
  if (baseline) {
    baseCache = mkdtempSync(join(work, 'cache-base-'));
    for (const c of cases.slice(1)) cases.push({ name: `${c.name} (baseline)`, cmd: node, args: [join(baseline, 'bin/ktriage.js'), ...c.args.slice(1)], env: { KTRIAGE_CACHE_DIR: baseCache } });
  }
  // Warm the build cache (and the page cache) once; the cache section shows the cold case.
  for (const c of cases) once(c.cmd, c.args, c.env);
  if (baseline) console.log(`\nbaseline: ${baseline} (${spawnSync('git', ['-C', baseline, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).stdout.trim().slice(0, 100)})`);
  console.log(`\n## start: ${F.slice(root.length)}, warm build cache, ${runs} interleaved rounds (median; min; 'met' judged on the median wall time)`);
  const res = interleave(cases, runs);
  if (baseCache) rmSync(baseCache, { recursive: true, force: true });
  const bare = res.get(cases[0].name).wall;
  const rows = cases.map((c) => {
    const r = res.get(c.name);
    const ratio = r.wall / bare;
    let target = '';
    let met = '';
    if (c.target?.ratio) {
      target = `<= ${c.target.ratio}x node`;
      met = ratio <= c.target.ratio ? 'met' : 'NOT met';
    } else if (c.target?.wall) {
      target = `<= ${c.target.wall} s` + (c.target.rssMiB ? `, <= ${c.target.rssMiB} MB` : '');
      const okWall = r.wall <= c.target.wall;
      const okRss = !c.target.rssMiB || (r.rssMiB !== null && r.rssMiB * 1.048576 <= c.target.rssMiB);
      met = okWall && okRss ? 'met' : `NOT met${okWall ? '' : ' (time)'}${okRss ? '' : ' (RSS)'}`;
    }
    const cpuBare = res.get(cases[0].name).cpu;
    return { command: c.name, 'median s': f3(r.wall), 'min s': f3(r.min), 'x node': ratio.toFixed(2), 'CPU s': r.cpu === null ? '-' : r.cpu.toFixed(2), 'CPU x node': r.cpu === null || !cpuBare ? '-' : (r.cpu / cpuBare).toFixed(2), 'peak RSS MiB': mib(r.rssMiB), exit: r.status, target, met };
  });
  console.table(rows);
}

// ---------------------------------------------------------------------------------------------
// inflate: the zlib pages of a kdump-zlib dump, through fflate and through node:zlib

/** The compressed zlib pages of a kdump file, from its page descriptors (makedumpfile's layout). */
function zlibPages(file) {
  const b = readFileSync(file);
  const bs = b.readInt32LE(428);
  const pd = (1 + b.readInt32LE(432) + b.readUInt32LE(436)) * bs;
  let firstData = b.length;
  const pages = [];
  for (let p = pd; p + 24 <= b.length && p < firstData; p += 24) {
    const off = Number(b.readBigInt64LE(p));
    const size = b.readUInt32LE(p + 8);
    const flags = b.readUInt32LE(p + 12);
    if (off <= 0 || size === 0 || off + size > b.length) break;
    if (off < firstData) firstData = off;
    if (flags & 1) pages.push({ off, size });
  }
  return { bs, pages };
}

const inflateChild = `
const [file, impl, nText, warm] = process.argv.slice(1);
const { readFileSync } = await import('node:fs');
const b = readFileSync(file);
const { bs, pages } = JSON.parse(readFileSync(process.env.BENCH_PAGES, 'utf8'));
const n = Number(nText);
const sel = Array.from({ length: n }, (_, i) => pages[Math.floor((i * pages.length) / n)]).map((p) => b.subarray(p.off, p.off + p.size));
const t0 = process.hrtime.bigint();
let fn;
if (impl === 'fflate') {
  const { unzlibSync } = await import('fflate');
  fn = (d) => unzlibSync(d, { out: new Uint8Array(bs + 1) });
} else {
  const zlib = await import('node:zlib');
  fn = (d) => zlib.inflateSync(d, { maxOutputLength: bs, chunkSize: bs });
}
const t1 = process.hrtime.bigint();
for (let r = 0; r < (warm === '1' ? 20 : 0); r++) for (const d of sel) fn(d);
const t2 = process.hrtime.bigint();
for (const d of sel) if (fn(d).length < bs) throw new Error('short page');
const t3 = process.hrtime.bigint();
console.log(JSON.stringify({ loadMs: Number(t1 - t0) / 1e6, ms: Number(t3 - t2) / 1e6 }));
`;

function inflateSection() {
  const runs = runsFor(9);
  const { bs, pages } = zlibPages(mainFixture);
  const pagesFile = join(work, `pages-${process.pid}.json`);
  writeFileSync(pagesFile, JSON.stringify({ bs, pages }));
  const env = { BENCH_PAGES: pagesFile };
  console.log(`\n## inflate: ${pages.length} zlib pages of ${mainFixture.slice(root.length)} (block ${bs}), ${runs} interleaved rounds (median)`);
  // 240 and 1765 pages: what `analyze` of the fixture inflates with a warm and a cold build cache.
  const rows = [];
  for (const [n, warm] of [[240, '0'], [1765, '0'], [1765, '1']]) {
    const acc = { fflate: [], zlib: [] };
    const load = { fflate: [], zlib: [] };
    for (let i = 0; i < runs; i++) {
      for (const impl of ['fflate', 'zlib']) {
        const r = spawnSync(node, ['--input-type=module', '-e', inflateChild, mainFixture, impl, String(n), warm], { env: { ...process.env, ...env }, cwd: root, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`inflate child failed: ${r.stderr}`);
        const x = JSON.parse(r.stdout);
        acc[impl].push(x.ms);
        load[impl].push(x.loadMs);
      }
    }
    const ff = median(acc.fflate);
    const nz = median(acc.zlib);
    rows.push({
      pages: n,
      process: warm === '1' ? 'warmed up (20 passes first)' : 'fresh (first pass)',
      'fflate ms': ff.toFixed(1),
      'fflate us/page': ((ff * 1000) / n).toFixed(1),
      'fflate import ms': median(load.fflate).toFixed(1),
      'zlib ms': nz.toFixed(1),
      'zlib us/page': ((nz * 1000) / n).toFixed(1),
      'fflate/zlib': (ff / nz).toFixed(2) + 'x',
    });
  }
  rmSync(pagesFile, { force: true });
  console.table(rows);
}

// ---------------------------------------------------------------------------------------------
// cache: analyze with a cold build cache, a warm one, and --no-cache

function cacheSection() {
  const runs = runsFor(5);
  const dumps = [mainFixture, join(root, 'fixtures/vmcore-debian-5.10.262-sysrq-2cpu/vmcore.trimmed.kdump-zlib'), join(root, 'fixtures/vmcore-debian-7.2.13-sysrq-2cpu/vmcore.trimmed.kdump-zlib')].filter((p) => existsSync(p));
  console.log(`\n## cache: analyze, cold build cache (emptied before each run) / warm / --no-cache, ${runs} interleaved rounds (median)`);
  const rows = [];
  for (const d of dumps) {
    const dir = mkdtempSync(join(work, 'cache-'));
    const cases = [
      { name: 'cold', cmd: node, args: [bin, 'analyze', d], env: { KTRIAGE_CACHE_DIR: dir } },
      { name: 'warm', cmd: node, args: [bin, 'analyze', d], env: { KTRIAGE_CACHE_DIR: dir } },
      { name: 'no-cache', cmd: node, args: [bin, '--no-cache', 'analyze', d], env: { KTRIAGE_CACHE_DIR: dir } },
    ];
    const res = interleave(cases, runs, (c) => {
      if (c.name === 'cold') rmSync(dir, { recursive: true, force: true });
    });
    rmSync(dir, { recursive: true, force: true });
    const [cold, warm, none] = ['cold', 'warm', 'no-cache'].map((n) => res.get(n));
    rows.push({
      dump: d.slice(root.length + 'fixtures/'.length),
      'cold s': f3(cold.wall),
      'warm s': f3(warm.wall),
      'no-cache s': f3(none.wall),
      'cold/warm': (cold.wall / warm.wall).toFixed(2) + 'x',
      'RSS cold/warm MiB': `${mib(cold.rssMiB)}/${mib(warm.rssMiB)}`,
      exit: [cold.status, warm.status, none.status].join(','),
    });
  }
  console.table(rows);
}

// ---------------------------------------------------------------------------------------------
// dumps: every fixture dump, and a 64 GiB sparse ELF holding the same pages as one of them

function findDumps() {
  const out = [];
  const fx = join(root, 'fixtures');
  for (const d of readdirSync(fx, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const exp = join(fx, d.name, 'expected.json');
    if (!existsSync(exp)) continue;
    const input = JSON.parse(readFileSync(exp, 'utf8')).input;
    const p = join(fx, d.name, input);
    if (p.endsWith('.xz') || !existsSync(p)) continue;
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
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
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

const dumpRows = [];
function dumpsSection() {
  const runs = runsFor(5);
  const dumps = findDumps();
  if (dumps.length === 0) {
    console.log('\n## dumps: no dump fixtures found under fixtures/');
    return;
  }
  const elf = dumps.find((d) => readFileSync(d.path).subarray(0, 4).readUInt32BE(0) === 0x7f454c46);
  if (elf) {
    const sparse = join(work, 'sparse-64g.elf');
    makeSparseElf(elf.path, sparse);
    dumps.push({ name: `${elf.name} placed in a 64 GiB sparse ELF`, path: sparse });
  }
  const commands = [['info'], ['log', '--tail', '50'], ['sym', '_stext'], ['percpu', '__preempt_count'], ['analyze']];
  console.log(`\n## dumps: every fixture dump, warm build cache, ${runs} interleaved rounds per dump (median wall; peak RSS of the largest)`);
  for (const d of dumps) {
    const size = statSync(d.path).size;
    const cases = commands.map((c) => {
      const args = [bin, c[0], d.path, ...c.slice(1)];
      return { name: c.join(' '), cmd: node, args };
    });
    // 6.2-6.14 keep the count in pcpu_hot: ask for the variable the kernel has.
    const pc = cases.find((c) => c.name.startsWith('percpu'));
    if (once(node, pc.args).status === 2) pc.args[3] = 'pcpu_hot.preempt_count';
    for (const c of cases) once(c.cmd, c.args); // warm the build cache
    const res = interleave([{ name: 'node', cmd: node, args: ['-e', ''] }, ...cases], runs);
    const bare = res.get('node').wall;
    for (const c of cases) {
      const r = res.get(c.name);
      dumpRows.push({ dump: d.name, size: `${(size / 1048576).toFixed(1)} MiB`, command: c.name === 'percpu __preempt_count' && pc.args[3] !== '__preempt_count' ? `percpu ${pc.args[3]}` : c.name, 'median s': f3(r.wall), "node -e '' s": f3(bare), 'x node': (r.wall / bare).toFixed(2), 'peak RSS MiB': mib(r.rssMiB), exit: r.status });
    }
  }
  console.table(dumpRows);
  const worst = (cmd) => dumpRows.filter((r) => r.command.startsWith(cmd)).reduce((a, b) => (Number(b['median s']) > Number(a['median s']) ? b : a));
  for (const c of ['info', 'log', 'sym', 'percpu', 'analyze']) {
    const w = worst(c);
    console.log(`slowest ${c}: ${w['median s']} s (${w['x node']}x a bare node in the same rounds), ${w['peak RSS MiB']} MiB (${w.dump})`);
  }
}

// ---------------------------------------------------------------------------------------------
// triage: a batch of fixture dumps under several names plus the corpus logs

function triageSection() {
  const dir = mkdtempSync(join(work, 'batch-'));
  const fx = join(root, 'fixtures');
  const copies = Number(process.env.BENCH_DUMP_COPIES ?? 8);
  let nDumps = 0;
  for (const d of readdirSync(fx, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of ['vmcore.d31.kdump-zlib', 'vmcore.trimmed.kdump-zlib']) {
      const p = join(fx, d.name, f);
      if (!existsSync(p)) continue;
      for (let i = 0; i < copies; i++) symlinkSync(p, join(dir, `${d.name}.${i}.${f}`));
      nDumps += copies;
    }
  }
  let nLogs = 0;
  const logSubdirs = [];
  const logDirs = [join(root, 'test/log/realworld'), resolve(root, '../shared/corpus/syzkaller-linux-report')];
  for (const ld of logDirs) {
    if (!existsSync(ld)) continue;
    const sub = join(dir, 'logs-' + nLogs);
    mkdirSync(sub);
    logSubdirs.push(sub);
    for (const f of readdirSync(ld)) {
      if (ld.endsWith('realworld') && !f.endsWith('.log')) continue;
      symlinkSync(join(ld, f), join(sub, f));
      nLogs++;
    }
  }
  const cores = availableParallelism();
  const total = nDumps + nLogs;
  console.log(`\n## triage: ${total} inputs (${nDumps} dumps: every fixture kdump-zlib under ${copies} names; ${nLogs} logs: test/log/realworld and ../shared/corpus), build cache emptied first, one run per row`);
  const rows = [];
  const jobsList = [...new Set([1, cores])];
  for (const jobs of jobsList) {
    for (const part of ['all', 'dumps only', 'logs only']) {
      const bcache = mkdtempSync(join(work, 'cache-'));
      const args = part === 'all' ? [dir] : part === 'dumps only' ? [join(dir, '*.kdump-zlib')] : logSubdirs;
      const r = once(node, [bin, 'triage', ...args, '--jsonl', '--jobs', String(jobs)], { KTRIAGE_CACHE_DIR: bcache });
      rmSync(bcache, { recursive: true, force: true });
      const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const n = lines.filter((l) => l.type === 'result' || l.type === 'error').length;
      const errors = lines.filter((l) => l.type === 'error').length;
      rows.push({ inputs: part, jobs, n, errors, 'wall s': r.wall.toFixed(2), 'inputs/s': (n / r.wall).toFixed(1), 'inputs/s per core': (n / r.wall / jobs).toFixed(1), 'peak RSS MiB': mib(r.rssMiB), exit: r.status });
    }
  }
  console.table(rows);
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// crash: the same questions, same dumps, when crash and a matching debug vmlinux are installed

function crashSection() {
  const crashBin = ['/usr/bin/crash', '/usr/local/bin/crash'].find((p) => existsSync(p));
  const vmlinuxDirs = (process.env.BENCH_VMLINUX_DIRS ?? '/usr/lib/debug/boot').split(':').filter(Boolean);
  const vmlinuxes = vmlinuxDirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('vmlinux-')).map((f) => ({ f, path: join(dir, f) })) : []));
  const vmlinuxDir = vmlinuxDirs.join(':');
  if (!crashBin || vmlinuxes.length === 0) {
    console.log(`\n## crash: skipped: ${!crashBin ? 'crash is not installed' : `no debug vmlinux under ${vmlinuxDir} (linux-image-*-dbg, ~1 GB, not installed here; BENCH_VMLINUX_DIRS)`}`);
    return;
  }
  const runs = runsFor(3);
  const cmdFile = join(work, 'crash-cmds');
  writeFileSync(cmdFile, 'bt\np __preempt_count:a\np in_kernel_fpu:a\nlog\nquit\n');
  const rows = [];
  const extra = (process.env.BENCH_CRASH_DUMPS ?? '').split(':').filter(Boolean).map((p) => ({ name: p, path: p }));
  for (const d of [...findDumps(), ...extra]) {
    const info = once(node, [bin, 'info', '--json', d.path]);
    const release = info.status === 0 ? JSON.parse(info.stdout).kernelRelease : null;
    const v = vmlinuxes.find((x) => release && x.f === `vmlinux-${release}`);
    if (!v) {
      rows.push({ dump: d.name, note: `no vmlinux-${release} under ${vmlinuxDir}` });
      continue;
    }
    // A dump crash refuses (the trimmed fixtures) would time crash's error exit: check first.
    const probe = once(crashBin, ['-s', '-i', cmdFile, v.path, d.path]);
    if (probe.status !== 0 || !/PID:/.test(probe.stdout)) {
      rows.push({ dump: d.name, note: 'crash cannot read this dump (a trimmed fixture: crash needs the full dump)' });
      continue;
    }
    const res = interleave(
      [
        { name: 'crash', cmd: crashBin, args: ['-s', '-i', cmdFile, v.path, d.path] },
        { name: 'ktriage', cmd: node, args: [bin, 'analyze', d.path] },
      ],
      runs,
    );
    const c = res.get('crash');
    const k = res.get('ktriage');
    rows.push({ dump: d.name, 'crash s': f3(c.wall), 'ktriage analyze s': f3(k.wall), 'crash/ktriage': (c.wall / k.wall).toFixed(1) + 'x', target: '>= 25x', met: c.wall / k.wall >= 25 ? 'met' : 'NOT met' });
  }
  console.log(`\n## crash: bt, p __preempt_count:a, p in_kernel_fpu:a, log, against ktriage analyze; ${runs} interleaved rounds`);
  console.table(rows);
}

// ---------------------------------------------------------------------------------------------
// drgn: the same questions through drgn in a chroot of a newer Debian (Debian 12 has no drgn)

function drgnSection() {
  const chroot = process.env.BENCH_DRGN_CHROOT;
  const dumps = (process.env.BENCH_CRASH_DUMPS ?? '').split(':').filter((p) => p && !p.endsWith('kdump-zlib'));
  const vmlinuxDirs = (process.env.BENCH_VMLINUX_DIRS ?? '/usr/lib/debug/boot').split(':').filter(Boolean);
  if (!chroot || !existsSync(join(chroot, 'usr/bin/drgn')) || dumps.length === 0) {
    console.log('\n## drgn: skipped: set BENCH_DRGN_CHROOT (a chroot with drgn) and BENCH_CRASH_DUMPS (full ELF dumps; drgn cannot read QEMU kdump-zlib files, whose header names no architecture)');
    return;
  }
  // The script must be inside a path the chroot shares with the host.
  const script = '/tmp/ktriage-fixtures-work/bench-drgn.py';
  writeFileSync(script, [
    'from drgn.helpers.linux.cpumask import for_each_online_cpu',
    'from drgn.helpers.linux.percpu import per_cpu',
    'from drgn.helpers.linux.printk import get_dmesg',
    'print(prog.crashed_thread().stack_trace())',
    'for cpu in for_each_online_cpu(prog):',
    "    print(cpu, hex(per_cpu(prog['__preempt_count'], cpu).value_()), bool(per_cpu(prog['in_kernel_fpu'], cpu)))",
    'print(len(get_dmesg(prog)))',
    '',
  ].join('\n'));
  const runs = runsFor(5);
  const rows = [];
  const version = once('chroot', [chroot, 'drgn', '--version']).stdout.split('(')[0].trim();
  for (const dump of dumps) {
    const info = once(node, [bin, 'info', '--json', dump]);
    const release = info.status === 0 ? JSON.parse(info.stdout).kernelRelease : null;
    const vmlinux = vmlinuxDirs.map((d) => join(d, `vmlinux-${release}`)).find((p) => existsSync(p));
    if (!vmlinux) {
      rows.push({ dump, note: `no vmlinux-${release} under ${vmlinuxDirs.join(':')}` });
      continue;
    }
    const res = interleave(
      [
        { name: 'drgn', cmd: 'chroot', args: [chroot, 'drgn', '-q', '-c', dump, '-s', vmlinux, script] },
        { name: 'ktriage', cmd: node, args: [bin, 'analyze', dump] },
      ],
      runs,
    );
    const d = res.get('drgn');
    const k = res.get('ktriage');
    rows.push({ dump, 'drgn s': f3(d.wall), 'ktriage analyze s': f3(k.wall), 'drgn/ktriage': (d.wall / k.wall).toFixed(1) + 'x', 'RSS drgn/ktriage MiB': `${mib(d.rssMiB)}/${mib(k.rssMiB)}`, target: '>= 2x', met: d.wall / k.wall >= 2 ? 'met' : 'NOT met' });
  }
  console.log(`\n## drgn (${version}, with the debug vmlinux): crashed thread's stack trace, per-CPU __preempt_count and in_kernel_fpu, dmesg; against ktriage analyze; ${runs} interleaved rounds`);
  console.table(rows);
}

header();
if (!existsSync(join(root, 'dist/bundle/main.js'))) {
  console.log('dist/ is missing: run npm run build first');
  process.exit(1);
}
if (want('start')) startSection();
if (want('inflate')) inflateSection();
if (want('cache')) cacheSection();
if (want('dumps')) dumpsSection();
if (want('triage')) triageSection();
if (want('crash')) crashSection();
if (want('drgn')) drgnSection();
rmSync(cacheDir, { recursive: true, force: true });
rmSync(rusFile, { force: true });
