// A dump file can be whole (nothing cut off) and still lack every page the analysis needs: filtered
// with a dump level that dropped the kernel's own data, trimmed for another command, or garbled. Here
// the real arm64 16K dump's notes and VMCOREINFO are rewritten with no page at all
// (writeTrimmedKdump with an empty page set, the writer `ktriage trim` uses): `analyze` must not
// answer "no crash report found" with exit 0, which reads as a finding; it says nothing was usable
// and exits 2, as `triage` counts such an input failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDumpAsync } from '../../src/vmcore/index.js';
import { writeTrimmedKdump } from '../../src/vmcore/write-kdump.js';
import { FIXTURES, REPO } from '../paths.js';

const SRC = join(FIXTURES, 'vmcore-debian-6.12.117-arm64-16k-sysrq-2cpu', 'vmcore.trimmed.kdump-zlib');
const dir = mkdtempSync(join(tmpdir(), 'ktriage-unusable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a whole dump with none of the pages the analysis needs', () => {
  it('analyze: first line says nothing was usable, JSON result "unusable", exit 2', async () => {
    const out = join(dir, 'no-pages.kdump-zlib');
    const src = await openDumpAsync(SRC);
    try {
      expect(writeTrimmedKdump(src, [], out, 4096, { release: '6.12.117+deb12-arm64-16k' }).pages).toBe(0);
    } finally {
      src.close();
    }
    const bin = join(REPO, 'bin/ktriage.js');
    const text = spawnSync('node', [bin, 'analyze', out, '--no-cache'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(text.status).toBe(2);
    expect(text.stdout.split('\n')[0]).toMatch(/^ktriage: NOTHING USABLE for a diagnosis/);
    const json = spawnSync('node', [bin, 'analyze', out, '--json', '--no-cache'], { encoding: 'utf8' });
    expect(json.status).toBe(2);
    const d = JSON.parse(json.stdout);
    expect(d.result).toBe('unusable');
    expect(d.incomplete).toBeNull(); // the file itself is whole
    expect(d.notes[0]).toMatch(/^nothing usable for a diagnosis/);
    expect(d.kernelRelease).toBe('6.12.117+deb12-arm64-16k'); // what could be read is still shown
  });

  it('the trimmed dump it was cut from stays complete, exit 0', () => {
    const r = spawnSync('node', [join(REPO, 'bin/ktriage.js'), 'analyze', SRC, '--json', '--no-cache'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result).toBe('complete');
  });
});
