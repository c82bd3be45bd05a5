// Every numeric argument of the dump commands, on the real fixture dump: CPU numbers start at 0,
// counts at 1, and a bad value is one line naming the option (`bt --cpu 0` used to fail with
// "count must be between 1 and 8191").
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const DUMP = path.resolve(import.meta.dirname, '../../fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const run = (...args: string[]) => main(['node', 'ktriage', ...args]);

describe('numeric options on the 2-CPU fixture', () => {
  it('bt --cpu 0 and --cpu 1 unwind those CPUs (crash: PID 101 on CPU 0, PID 102 on CPU 1)', async () => {
    expect(await run('bt', DUMP, '--cpu', '0')).toBe(0);
    expect(out).toMatch(/PID: 101 +TASK: ff45c72d97f8a100 +CPU: 0 +COMMAND: "init"/);
    out = '';
    expect(await run('bt', DUMP, '--cpu', '1')).toBe(0);
    expect(out).toMatch(/PID: 102 +TASK: ff45c72d97f8c200 +CPU: 1 +COMMAND: "init"/);
  }, 60_000);

  it('bt --cpu out of range or not a number: exit 2, one line naming --cpu', async () => {
    for (const v of ['8192', 'x', '1.5', '']) {
      err = '';
      expect(await run('bt', DUMP, `--cpu=${v}`), v).toBe(2);
      expect(err, v).toMatch(/^ktriage: --cpu must be/);
      expect(err.trim().split('\n'), v).toHaveLength(1);
    }
    err = '';
    expect(await run('bt', DUMP, '--cpu', '5')).toBe(2);
    expect(err).toMatch(/CPU 5 has no register note/);
  }, 60_000);

  it('counts: 1 is accepted, 0 is refused with the option named', async () => {
    expect(await run('rd', DUMP, 'jiffies', '1')).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(await run('dis', DUMP, 'irq_fpu_usable', '1')).toBe(0);
    expect(await run('log', DUMP, '--tail', '1')).toBe(0);
    for (const args of [['rd', DUMP, 'jiffies', '0'], ['dis', DUMP, 'irq_fpu_usable', '0'], ['log', DUMP, '--tail', '0']]) {
      err = '';
      expect(await run(...args), args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(/^ktriage: (count|--tail) must be between 1 and \d+, got 0\n$/);
    }
  }, 60_000);
});
