// One test per format rule of issue 13, each on a log of the real-world corpus (test/log/realworld).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/analyzers/log/index.js';

const DIR = fileURLToPath(new URL('./realworld/', import.meta.url));
const first = (f: string) => parseLog(readFileSync(`${DIR}${f}`, 'latin1')).reports[0];
const all = (f: string) => parseLog(readFileSync(`${DIR}${f}`, 'latin1')).reports;
const names = (f: string) => first(f).frames.filter((x) => x.function && !x.unreliable && !x.exceptionRip).map((x) => x.function);

describe('architectures: crash address and frames', () => {
  it('x86_64 RIP (2.6.32 layout with two addresses)', () => {
    expect(first('abrt-oops3.log').rip?.function).toBe('radeon_read_ring_rptr');
  });
  it('i686 EIP is at, and the trailing EIP: summary is not a frame', () => {
    const r = first('abrt-koops-tainted-bg1.log');
    expect(r.rip?.function).toBe('__remove_from_page_cache');
    expect(r.frames.some((f) => f.function === '__remove_from_page_cache' && !f.exceptionRip && r.frames.indexOf(f) === r.frames.length - 1)).toBe(false);
  });
  it('arm PC is at; the `pc : [<..>] lr : [<..>]` register line is not a frame', () => {
    const r = first('satyr-arm-hung-task-oops-2.log');
    expect(r.rip?.function).toBe('shmem_getpage_gfp');
    expect(names('satyr-arm-hung-task-oops-2.log')[0]).toBe('shmem_getpage_gfp');
    expect(r.frames.some((f) => f.function === 'lr')).toBe(false);
  });
  it('arm64 pc : and frames', () => {
    const r = first('lkml-arm64-gpio-refcount-quoted.log');
    expect(r.arch).toBe('arm64');
    expect(names('lkml-arm64-gpio-refcount-quoted.log')[1]).toBe('kobject_put');
  });
  it('ppc64 NIP after the NIP: register line, dot-prefixed frames', () => {
    const r = first('abrt-oops9_ppc64.log');
    expect(r.arch).toBe('powerpc');
    expect(r.rip?.function).toBe('ipr_pci_error_detected');
    expect(names('abrt-oops9_ppc64.log')[0]).toBe('eeh_report_error');
  });
  it('s390 Krnl PSW, parenthesised and address-only frames, no Last Breaking-Event-Address frame', () => {
    const r = first('lkml-s390-mlx5-alloc-warn.log');
    expect(r.arch).toBe('s390');
    expect(r.rip?.function).toBe('__alloc_pages_nodemask');
    expect(r.frames[0]).toMatchObject({ function: null, address: '0x0000000000000201' });
    const n = names('lkml-s390-mlx5-alloc-warn.log');
    expect(n[0]).toBe('kmalloc_order');
    expect(n.at(-1)).toBe('system_call');
  });
  it('riscv epc :', () => {
    const r = first('lkml-riscv-walk-stackframe.log');
    expect(r.arch).toBe('riscv');
    expect(r.rip?.function).toBe('walk_stackframe');
    expect(names('lkml-riscv-walk-stackframe.log')).toHaveLength(9);
  });
  it('a log quoted in a mail reply', () => {
    expect(first('lkml-arm64-gpio-refcount-quoted.log').rip?.function).toBe('refcount_warn_saturate');
  });
});

describe('lockdep stacks', () => {
  it('inconsistent lock state: the current stack, the registered-at one kept under its label', () => {
    const r = first('satyr-gitlog-27.log');
    expect(names('satyr-gitlog-27.log')[0]).toBe('print_usage_bug');
    expect(r.stacks?.map((s) => s.label)).toContain('{RECLAIM_FS-ON-W} state was registered at');
    expect(r.stacks?.find((s) => s.primary)?.frames[0].function).toBe('print_usage_bug');
  });
  it('inconsistent lock state cut before its stack: no frames from the registered-at stack', () => {
    const r = first('satyr-gitlog-05.log');
    expect(r.guiltyFrame).toBe('ath5k_tasklet_beacon');
    expect(r.frames).toHaveLength(0);
  });
  it('possible recursive locking: the lock being acquired names it', () => {
    expect(first('satyr-gitlog-12.log').title).toBe('possible deadlock in regulator_get_voltage');
  });
  it('circular dependency: the driver function idr_read_uobj is not skipped as lib/idr.c', () => {
    expect(first('satyr-gitlog-21.log').guiltyFrame).toBe('idr_read_uobj');
  });
});

describe('IRQ and NMI markers sharing a line with a frame', () => {
  it('<NMI> and <<EOE>>', () => {
    const r = first('abrt-nmi_oops.log');
    expect(r.frames.some((f) => f.context === 'NMI')).toBe(true);
  });
});

describe('old headers', () => {
  it('Pid: N, comm: X Tainted: (before 3.10) and a wrapped module list', () => {
    const r = first('abrt-koops-tainted-bg1.log');
    expect(r.pid).toBe(4008);
    expect(r.comm).toBe('rm');
    expect(r.kernelRelease).toBe('2.6.38.6-27.fc15.i686');
    expect(r.modules).toContain('video');
    expect(r.modules).toContain('nf_conntrack_ipv6');
  });
  it('INFO: suspicious rcu_dereference_check() usage.', () => {
    expect(first('satyr-gitlog-18.log').title).toMatch(/^INFO: suspicious RCU usage in /);
  });
  it('BUG <cache>: Objects remaining on kmem_cache_close(), one report with its INFO: Allocated in', () => {
    const rs = all('satyr-gitlog-29.log');
    expect(rs).toHaveLength(1);
    expect(rs[0].title).toBe('BUG: Objects remaining in sas_class_exit');
  });
  it('INFO: Freed in inside a Poison overwritten report is not a report of its own', () => {
    expect(all('satyr-gitlog-07.log').every((r) => !r.title.startsWith('INFO: Freed in') && !r.title.startsWith('INFO: Allocated in'))).toBe(true);
  });
  it('BUG: spinlock lockup suspected on CPU#0, after a recursive-locking report', () => {
    expect(all('satyr-gitlog-01.log').some((r) => r.title.startsWith('BUG: spinlock lockup suspected in '))).toBe(true);
  });
});
