import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { decodePreemptCount, parsePreemptValue } from '../../src/analyzers/preempt-count.js';

const x86 = (v: string, kernel: string | null = null) => decodePreemptCount(parsePreemptValue(v, 'x86_64'), 'x86_64', kernel);

describe('explain preempt-count', () => {
  it('decodes the incident value 0x80110003 on RHEL 9.2 (5.14): in NMI via int3', () => {
    const d = x86('0x80110003', '5.14.0-284.11.1.el9_2.x86_64');
    expect(d).toMatchObject({ value: '0x80110003', nmi: 1, hardirq: 1, softirq: 0, preemptDepth: 3, needResched: false });
    expect(d.predicates).toMatchObject({ inNmi: true, inHardirq: true, inServingSoftirq: false, inInterrupt: true, inAtomic: true, preemptible: false, inTask: false });
    expect(d.fields.find((f) => f.name === 'NMI')).toMatchObject({ bits: '20-23', value: 1 });
    expect(d.forbids.join('\n')).toMatch(/kernel_fpu_begin\(\).*WARN_ON_ONCE\(in_nmi\(\)\)/);
    expect(d.forbids.join('\n')).toMatch(/GFP_ATOMIC included/);
  });

  it('accepts the signed decimal crash prints for the same value', () => {
    expect(parsePreemptValue('-2146369533', 'x86_64')).toBe(0x80110003n);
    expect(x86('-2146369533')).toEqual(x86('0x80110003'));
    expect(x86('2148597763').value).toBe('0x80110003');
  });

  it('0x00000000 on x86_64 means a reschedule is pending (inverted bit 31)', () => {
    const d = x86('0x00000000');
    expect(d.needResched).toBe(true);
    expect(d.predicates.preemptible).toBe(true);
    expect(d.predicates.inAtomic).toBe(false);
    expect(x86('0x80000000').needResched).toBe(false);
  });

  it('0x80000100: serving a softirq', () => {
    const d = x86('0x80000100');
    expect(d.softirq).toBe(1);
    expect(d.predicates).toMatchObject({ inServingSoftirq: true, inInterrupt: true, inNmi: false, inTask: false });
  });

  it('0x80000200: bottom halves disabled, not serving', () => {
    const d = x86('0x80000200');
    expect(d.softirq).toBe(2);
    expect(d.predicates).toMatchObject({ inServingSoftirq: false, softirqDisabled: true, inInterrupt: true, inTask: true });
    expect(d.fields.find((f) => f.name === 'SOFTIRQ')?.meaning).toMatch(/disabled 1 time/);
  });

  it('arm64: 64-bit word, need_resched in the upper half (0 = pending)', () => {
    const pending = decodePreemptCount(parsePreemptValue('0x0000000000010001', 'arm64'), 'arm64', '6.1.0');
    expect(pending).toMatchObject({ hardirq: 1, preemptDepth: 1, needResched: true });
    const none = decodePreemptCount(parsePreemptValue('0x0000000100110001', 'arm64'), 'arm64', '6.1.0');
    expect(none).toMatchObject({ nmi: 1, hardirq: 1, needResched: false });
    expect(none.value).toBe('0x0000000100110001');
  });

  it('old layout: one NMI bit before 5.8, so 0x00300000 is NMI + a stray bit there', () => {
    const old = x86('0x80100000', '4.19.0');
    expect(old.layout).toMatch(/one NMI bit/);
    expect(old.nmi).toBe(1);
    const odd = x86('0x80300000', '4.19.0');
    expect(odd.nmi).toBe(1);
    expect(odd.notes.join(' ')).toMatch(/non-zero/);
    const newer = x86('0x80300000', '6.1.0');
    expect(newer.nmi).toBe(3);
    const legacy = x86('0x04010000', '3.10.0');
    expect(legacy.layout).toMatch(/before 3.14/);
    expect(legacy).toMatchObject({ nmi: 1, hardirq: 1 });
  });

  it('rejects junk and out-of-range values', () => {
    expect(() => parsePreemptValue('banana', 'x86_64')).toThrow(/not a number/);
    expect(() => parsePreemptValue('0x1ffffffff', 'x86_64')).toThrow(/out of range/);
  });
});

describe('ktriage explain CLI', () => {
  const bin = new URL('../../bin/ktriage.js', import.meta.url).pathname;
  it('prints JSON with the documented fields', () => {
    const out = execFileSync('node', [bin, 'explain', 'preempt-count', '-2146369533', '--json'], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(j).toMatchObject({ value: '0x80110003', arch: 'x86_64', preemptDepth: 3, softirq: 0, hardirq: 1, nmi: 1, needResched: false });
    expect(j.predicates).toMatchObject({ inNmi: true, inHardirq: true, inServingSoftirq: false, inInterrupt: true, inAtomic: true, preemptible: false });
    expect(Array.isArray(j.fields) && j.fields.every((f: Record<string, unknown>) => 'name' in f && 'bits' in f && 'value' in f && 'meaning' in f)).toBe(true);
    expect(j.forbids.length).toBeGreaterThan(3);
  });
  it('a bad value is a one-line error with exit 2', () => {
    const r = spawnSync('node', [bin, 'explain', 'preempt-count', 'zz'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ktriage: not a number/);
  });
});
