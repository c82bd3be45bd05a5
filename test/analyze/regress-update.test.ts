// `regress --update` records who or what checked the values it writes: an old "checked with
// crash" note must not keep vouching for values nobody re-checked.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../paths.js';

const BIN = new URL('../../bin/ktriage.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-regress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('regress --update', () => {
  const dir = join(tmp, 'log-debian-6.1.192-serial');
  cpSync(join(FIXTURES, 'log-debian-6.1.192-serial'), dir, { recursive: true });
  const exp = join(dir, 'expected.json');
  const read = () => JSON.parse(readFileSync(exp, 'utf8')) as { checkedWith?: string; titles?: string[] };

  it('without --checked-by, marks the values as not checked', () => {
    writeFileSync(exp, JSON.stringify({ ...read(), checkedWith: 'checked with crash 8.0.2' }));
    const r = spawnSync('node', [BIN, 'regress', tmp, '--update'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(read().checkedWith).toMatch(/^NOT CHECKED: written on \d{4}-\d\d-\d\d by `ktriage regress --update`/);
    expect(read().titles).toEqual(['WARNING in irq_fpu_usable']);
  });

  it('with --checked-by, records who checked and when', () => {
    const r = spawnSync('node', [BIN, 'regress', tmp, '--update', '--checked-by', 'read against the serial log by hand'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(read().checkedWith).toMatch(/^read against the serial log by hand \(\d{4}-\d\d-\d\d\)$/);
  });
});
