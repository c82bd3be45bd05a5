// Hostile input: bounded time and memory, no escape sequence in any output field.
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/analyzers/log/index.js';

const ESC = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function fieldsClean(v: unknown): boolean {
  if (typeof v === 'string') return !ESC.test(v);
  if (Array.isArray(v)) return v.every(fieldsClean);
  if (v && typeof v === 'object') return Object.values(v).every(fieldsClean);
  return true;
}

const WARN = (i: number) => [
  `[  ${i}.000001] ------------[ cut here ]------------`,
  `[  ${i}.000002] WARNING: CPU: 0 PID: ${i} at kernel/foo.c:${i} foo_func+0x1/0x10`,
  `[  ${i}.000003] Modules linked in:`,
  `[  ${i}.000004] CPU: 0 PID: ${i} Comm: t Not tainted 6.1.0 #1`,
  `[  ${i}.000005] RIP: 0010:foo_func+0x1/0x10`,
  `[  ${i}.000006] Call Trace:`,
  `[  ${i}.000007]  <TASK>`,
  `[  ${i}.000008]  bar_func+0x1/0x10`,
  `[  ${i}.000009]  </TASK>`,
  `[  ${i}.000010] ---[ end trace 0000000000000000 ]---`,
].join('\n');

describe('bad input', () => {
  it('empty input: no reports', () => {
    const a = parseLog('');
    expect(a.reports).toEqual([]);
    expect(a.panics).toEqual([]);
  });

  it('binary input: no reports, no control characters out', () => {
    const buf = Buffer.alloc(1 << 20);
    let x = 12345;
    for (let i = 0; i < buf.length; i++) { x = (x * 1103515245 + 12345) >>> 0; buf[i] = x >>> 24; }
    const t0 = Date.now();
    const a = parseLog(buf.toString('latin1'));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(fieldsClean(a)).toBe(true);
  });

  it('invalid UTF-8 decodes to replacement characters and still parses', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]), Buffer.from(WARN(5))]);
    const a = parseLog(bytes.toString('utf8'));
    expect(a.reports).toHaveLength(1);
    expect(a.reports[0].title).toBe('WARNING in foo_func');
  });

  it('1 MB lines are cut, in bounded time', () => {
    const long = 'A'.repeat(1 << 20);
    const text = `${long}\n${WARN(7)}\n${'WARNING: '.repeat(120_000)}\n${' foo+0x1/0x2'.repeat(80_000)}\n`;
    const t0 = Date.now();
    const a = parseLog(text);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(a.reports[0].title).toBe('WARNING in foo_func');
    expect(a.notes.join(' ')).toMatch(/cut/);
    for (const r of a.reports) expect(r.headline.length).toBeLessThanOrEqual(512);
  });

  it('10,000 reports: capped at 1000 kept, with a note', () => {
    const parts: string[] = [];
    for (let i = 0; i < 10_000; i++) parts.push(WARN(i + 100));
    const t0 = Date.now();
    const a = parseLog(parts.join('\n'));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(a.reports).toHaveLength(1000);
    expect(a.notes.join(' ')).toMatch(/only the first 1000 reports are kept; 9000 more/);
  });

  it('escape sequences in Comm and elsewhere never reach output fields', () => {
    const text = [
      '[ 1.0] WARNING: CPU: 1 PID: 2 at a.c:1 evil\x1b[31m+0x1/0x2',
      '[ 1.1] CPU: 1 PID: 2 Comm: \x1b]0;pwned\x07ev\x1b[2Jil\x9b1m Not tainted 6.1.0 #1',
      '[ 1.2] Hardware name: \x1b[5mQEMU\x07',
      '[ 1.3] Modules linked in: m\x1b[1mod(OE)',
      '[ 1.4] RIP: 0010:evil+0x1/0x2',
      '[ 1.5] Code: 90 90 \x1b[31m <0f> 0b 90',
      '[ 1.6] Call Trace:',
      '[ 1.7]  bad\x1b[0mframe+0x1/0x2 [m\x1b[0mod]',
    ].join('\r\n');
    const a = parseLog(text);
    expect(a.reports).toHaveLength(1);
    const r = a.reports[0];
    expect(r.comm).toBe('evil');
    expect(fieldsClean(a)).toBe(true);
    expect(JSON.stringify(a)).not.toMatch(/\\u001b|\\u009b|\\u0007/);
  });
});
