// The committed vmcore fixtures (fixtures/README.md), listed from the folders themselves, with the
// crash referee record of each dump and the facts its referee JSON holds. A test takes the kernel
// release, CPU count, panic task and symbol addresses from here, never from a constant: a new
// `scripts/fixtures/make-all.sh` run (a new Debian ABI, a new KASLR slide) changes them all.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES } from './paths.js';

/** What scripts/fixtures/referee-json.py writes beside each crash record. */
export interface RefereeJson {
  source: string;
  cpus: string;
  release: string;
  panic: string;
  panic_task: { pid: number; task: string; cpu: number; comm: string };
  bt: string[];
  preempt_count: Record<string, { int: number; hex: string }>;
  in_kernel_fpu: Record<string, string>;
  current_task: Record<string, string>;
  sym_irq_fpu_usable: string;
}

export interface FixtureDump {
  /** The fixture folder's name, e.g. vmcore-debian-6.1.192-buggy-2cpu. */
  fixture: string;
  dir: string;
  /** `fixtures/<folder>/<file>`, for test titles. */
  name: string;
  kind: 'kdump-zlib' | 'elf' | 'trimmed';
  /** The committed file (possibly .xz). */
  source: string;
  /** A path openDump can read: the file itself, or its decompressed copy (made on first call). */
  file: () => string;
  /** crash's record of a session on this dump (or, for the trimmed dump, on the dump it was cut from). */
  crash: string;
  referee: RefereeJson;
  /** makedumpfile --dump-dmesg of the same panic. */
  dmesg: string;
  serial: string;
}

function must(p: string): string {
  if (!fs.existsSync(p)) throw new Error(`fixture file ${p} is missing (fixtures/README.md lists what each folder holds)`);
  return p;
}

/**
 * A `.xz` fixture, decompressed once into the temp directory and shared by every test file and
 * worker (named by the compressed size, written under a private name and renamed into place).
 * No xz is an error, not a skip.
 */
export function unpackXz(file: string): string {
  if (!file.endsWith('.xz')) return file;
  const out = path.join(os.tmpdir(), `ktriage-unwind-${fs.statSync(file).size}-${path.basename(file, '.xz')}`);
  if (fs.existsSync(out)) return out;
  const part = `${out}.part.${process.pid}`;
  const fd = fs.openSync(part, 'w');
  const r = spawnSync('xz', ['-dc', file], { stdio: ['ignore', fd, 'pipe'] });
  fs.closeSync(fd);
  if (r.status !== 0) {
    fs.rmSync(part, { force: true });
    throw new Error(`xz -dc ${file} failed (${r.error?.message ?? r.stderr?.toString().trim() ?? `status ${r.status}`}): install xz-utils`);
  }
  fs.renameSync(part, out);
  return out;
}

/** Every vmcore fixture: the kdump-zlib and the ELF of each folder, and the trimmed dumps. */
export function fixtureDumps(): FixtureDump[] {
  const out: FixtureDump[] = [];
  for (const fixture of fs.readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, fixture);
    if (!fixture.startsWith('vmcore-') || !fs.statSync(dir).isDirectory()) continue;
    // Trimmed dumps of other kernels (no full d31 dump; a facts.json) are checked by test/analyze/kernels.test.ts.
    if (!fs.existsSync(path.join(dir, 'vmcore.d31.kdump-zlib'))) continue;
    const facts = (fmt: string) => ({
      crash: must(path.join(dir, `crash.${fmt}.txt`)),
      referee: JSON.parse(fs.readFileSync(must(path.join(dir, `referee.${fmt}.json`)), 'utf8')) as RefereeJson,
      dmesg: must(path.join(dir, 'dmesg-from-dump.txt')),
      serial: must(path.join(dir, 'serial.log')),
    });
    const add = (kind: FixtureDump['kind'], rel: string, fmt: string) => {
      const source = must(path.join(dir, rel));
      let unpacked: string | undefined;
      out.push({ fixture, dir, name: `fixtures/${fixture}/${rel}`, kind, source, file: () => (unpacked ??= unpackXz(source)), ...facts(fmt) });
    };
    add('kdump-zlib', 'vmcore.d31.kdump-zlib', 'kdump-zlib');
    add('elf', 'vmcore.d31.elf.xz', 'elf');
    // cut from the kdump-zlib dump (fixtures/README.md, "Trimmed dump")
    if (fs.existsSync(path.join(dir, 'trimmed/vmcore.trimmed.elf'))) add('trimmed', 'trimmed/vmcore.trimmed.elf', 'kdump-zlib');
  }
  if (out.length === 0) throw new Error(`no vmcore fixtures under ${FIXTURES}`);
  return out;
}
