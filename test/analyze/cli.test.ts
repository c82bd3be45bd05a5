// The CLI as a user runs it: exit codes, one-line errors, no escape sequences from the input.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_MODULES, pinnedHeaders } from '../kmod-lint/headers.js';

const bin = new URL('../../bin/ktriage.js', import.meta.url).pathname;
const FIX = new URL('../../fixtures/', import.meta.url).pathname;
const run = (args: string[], input?: string) => spawnSync('node', [bin, ...args], { encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1' } });
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-cli-'));

describe('ktriage analyze (logs)', () => {
  it('the Debian serial log: hazard matched, exit 1, Code decoded to ud2', () => {
    const r = run(['analyze', join(FIX, 'log-debian-6.1.192-serial/console.log')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/HAZARD kprobe-int3-nmi-slab-fpu/);
    expect(r.stdout).toMatch(/=> +2a: 0f 0b +ud2/);
    expect(r.stdout).not.toMatch(/\x1b/);
  });
  it('stdin works and --json is stable JSON', () => {
    const log = readFileSync(join(FIX, 'log-rhel9-seed/report.zh.txt'), 'utf8');
    const r = run(['analyze', '-', '--json'], log);
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reports[0].report).toMatchObject({ title: 'WARNING in irq_fpu_usable', cpu: 3, pid: 3347, comm: 'bash' });
    expect(j.reports[0].hazards[0].id).toBe('kprobe-int3-nmi-slab-fpu');
  });
  it('a report no rule knows: fully reported, "no known hazard matched", exit 0', () => {
    const log = '[  10.0] BUG: kernel NULL pointer dereference, address: 0000000000000008\n[  10.0] RIP: 0010:foo_probe+0x1a/0x40 [foo]\n[  10.0] Call Trace:\n[  10.0]  <TASK>\n[  10.0]  bar+0x10/0x20\n[  10.0]  </TASK>\n';
    const r = run(['analyze', '-'], log);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no known hazard matched/);
  });
  it('escape sequences in Comm never reach the terminal, nor break Markdown', () => {
    const log = '[ 1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2\n[ 1.0] CPU: 0 PID: 1 Comm: \x1b]0;owned\x07\x1b[2Jevil` | x Not tainted 6.1.0 #1\n[ 1.0] RIP: 0010:f+0x1/0x2\n';
    const f = join(tmp, 'evil.log');
    writeFileSync(f, log);
    for (const fmt of [[], ['--markdown'], ['--json']]) {
      const r = run(['analyze', f, ...fmt]);
      expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    }
  });
  it('bad input: one line on stderr, exit 2, never a stack trace', () => {
    const bin2 = join(tmp, 'bin.dat');
    writeFileSync(bin2, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const fake = join(tmp, 'fake.core');
    writeFileSync(fake, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60, 0xff)]));
    for (const args of [['analyze', '/nonexistent'], ['analyze', bin2], ['analyze', fake], ['analyze', tmp], ['percpu', fake, 'x'], ['nosuchcommand']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
  it('an internal error: exit 3, one line naming it a ktriage bug, a stack only with --debug', () => {
    const log = join(FIX, 'log-debian-6.1.192-serial/console.log');
    const bug = (args: string[], extra: Record<string, string> = {}) =>
      spawnSync('node', [bin, ...args], { encoding: 'utf8', env: { ...process.env, KTRIAGE_DEBUG: '', ...extra, KTRIAGE_TEST_INTERNAL_ERROR: '1' } });
    const r = bug(['analyze', log]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ktriage: internal error \(a bug in ktriage, please report it with the command line\): Cannot read properties of undefined/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const [args, env] of [[['--debug', 'analyze', log], {}], [['analyze', log, '--debug'], {}], [['analyze', log], { KTRIAGE_DEBUG: '1' }]] as const) {
      const d = bug([...args], env);
      expect(d.status).toBe(3);
      expect(d.stderr).toMatch(/^ktriage: internal error/);
      expect(d.stderr).toMatch(/\n\s+at .*main\.js/);
    }
    // Bad input stays exit 2 with --debug: a stack would only tell the user about our code.
    const b = run(['analyze', '/nonexistent', '--debug']);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
  });
  it('an empty file is analysed: no report, exit 0', () => {
    const f = join(tmp, 'empty.log');
    writeFileSync(f, '');
    const r = run(['analyze', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no crash report found/);
  });
});

describe('ktriage dump commands on a real fixture', () => {
  const dump = join(FIX, 'vmcore-debian-6.1.192-buggy-4cpu/vmcore.d31.kdump-zlib');
  const ref = JSON.parse(readFileSync(join(FIX, 'vmcore-debian-6.1.192-buggy-4cpu/referee.kdump-zlib.json'), 'utf8'));
  it('percpu __preempt_count prints crash\'s signed values', () => {
    const r = run(['percpu', dump, '__preempt_count']);
    expect(r.status).toBe(0);
    for (const [cpu, v] of Object.entries(ref.preempt_count as Record<string, { int: number; hex: string }>)) {
      expect(r.stdout).toContain(`per_cpu(__preempt_count, ${cpu}) = ${v.hex} (${v.int})`);
    }
  });
  it('sym irq_fpu_usable gives crash\'s address', () => {
    const r = run(['sym', dump, 'irq_fpu_usable', '--json']);
    expect(r.status).toBe(0);
    expect(BigInt(JSON.parse(r.stdout).address)).toBe(BigInt(ref.sym_irq_fpu_usable));
  });
  it('log --tail ends with the same lines as makedumpfile --dump-dmesg of the same dump', () => {
    const r = run(['log', dump, '--tail', '3']);
    expect(r.status).toBe(0);
    const want = readFileSync(join(FIX, 'vmcore-debian-6.1.192-buggy-4cpu/dmesg-from-dump.txt'), 'utf8').trimEnd().split('\n').slice(-3);
    expect(r.stdout.trimEnd().split('\n')).toEqual(want);
  });
});

describe('a 200 MB log', () => {
  it('is analysed in bounded memory: the first and last 16 MiB, with a note', () => {
    const { openSync, writeSync, ftruncateSync, closeSync, statSync } = require('node:fs') as typeof import('node:fs');
    const f = join(tmp, 'huge.log');
    const fd = openSync(f, 'w');
    const filler = Buffer.from('[    1.000000] random: crng init done\n'.repeat(1000));
    writeSync(fd, filler, 0, filler.length, 0);
    const size = 200 * 1024 * 1024;
    // The sparse middle reads as NUL bytes: the sampler must not call the file binary, the parser
    // must not choke on them, and the WARN at the end must still be found.
    const tail = Buffer.from(readFileSync(join(FIX, 'log-debian-6.1.192-serial/console.log')));
    ftruncateSync(fd, size - tail.length);
    writeSync(fd, tail, 0, tail.length, size - tail.length);
    closeSync(fd);
    expect(statSync(f).size).toBe(size);
    const t0 = Date.now();
    const r = spawnSync('node', ['--max-old-space-size=512', bin, 'analyze', f, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.notes.join(' ')).toMatch(/analysed the first and the last 16 MiB/);
    expect(j.reports[0].report.title).toBe('WARNING in irq_fpu_usable');
  });
});

describe('ktriage lint-kmod', () => {
  // built here, against the pinned headers, rather than expected in kmod-reference/ from a manual make
  const headers = pinnedHeaders();
  if (!headers) console.warn('lint-kmod CLI: linux-headers-amd64 is not installed: the kmod-reference test is skipped (apt-get install linux-headers-amd64)');
  it.skipIf(!headers)('kmod-reference: buggy flagged (exit 1), deferred clean (exit 0), SARIF valid', () => {
    const list = execFileSync('bash', [BUILD_MODULES, join(tmp, 'kmod')], { encoding: 'utf8', env: { ...process.env, KDIR: headers!, ONLY_REFERENCE: '1' } });
    const ko = list.trim().split('\n').at(-1)!;
    const buggy = run(['lint-kmod', ko, '--assume', 'hmode=0']);
    expect(buggy.status).toBe(1);
    expect(buggy.stdout).toMatch(/path: post -> kmem_cache_alloc/);
    expect(run(['lint-kmod', ko, '--assume', 'hmode=2']).status).toBe(0);
    const sarif = JSON.parse(run(['lint-kmod', ko, '--sarif']).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results[0].ruleId).toBe('kprobe-int3-nmi-slab-fpu');
  });
  it('a non-module is a one-line error', () => {
    const r = run(['lint-kmod', bin]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
