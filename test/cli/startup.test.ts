// Start-up stays lazy: which modules each command loads, checked by the modules Node resolves, not
// by timing (timings are `npm run bench start`'s job, never a test's). `--help` and `--version`
// load none of the dump, kernel or analyzer layers; `sym` loads no analyzer and no disassembler
// init; `--version` from the launcher answers what commander's .version() answers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/ktriage.js');
const DUMP = path.join(ROOT, 'fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');
const work = mkdtempSync(path.join(tmpdir(), 'ktriage-startup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A resolve hook that lists every ES module loaded, and a preload that lists every CommonJS module
// at exit (the launcher, the CLI bundle, and capstone, which src/util/disasm.ts requires).
const hooks = path.join(work, 'hooks.mjs');
writeFileSync(hooks, "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n");
const register = path.join(work, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);

const requireHook = path.join(work, 'require-hook.cjs');
writeFileSync(requireHook, "process.on('exit', () => { for (const f of Object.keys(require.cache)) process.stderr.write('LOADED file://' + f + '\\n'); });\n");

function bundled(file: string): string[] {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .filter((l) => /^\/\/ (?:dist|node_modules)\/\S+\.[cm]?js$/.test(l))
    .map((l) => l.slice(3));
}

function loaded(...args: string[]): { modules: string[]; status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--require', requireHook, '--import', register, BIN, ...args], { encoding: 'utf8', env: { ...process.env, KTRIAGE_CACHE_DIR: path.join(work, 'cache') } });
  const files = [...new Set(r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7).replace(/^file:\/\//, '').replace(ROOT + '/', '')))];
  // The launcher requires the bundle (scripts/bundle.mjs): a chunk stands for the modules it holds,
  // each of which rolldown introduces with a `// dist/...` or `// node_modules/...` line.
  const modules = files.flatMap((f) => (f.startsWith('dist/bundle/') ? [f, ...bundled(f)] : [f]));
  return { modules, status: r.status, stdout: r.stdout };
}

describe('start-up', () => {
  it('--version: the launcher answers alone, with what commander answers', async () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = loaded('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.modules.filter((m) => m.startsWith('dist/') || m.startsWith('node_modules/'))).toEqual([]);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      expect(await main(['node', 'ktriage', '--version'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toBe(`${version}\n`);
  });

  it('--help loads commander and the command table, no command code', () => {
    const r = loaded('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/analyze \[options\] <input>/);
    expect(r.stdout).toMatch(/triage \[options\] <inputs\.\.\.>/);
    // dist/vmcore/types.js holds the error classes util/errors.ts names: allowed.
    const heavy = r.modules.filter((m) => /^dist\/(vmcore\/(?!types\.js)|kernel|analyzers|triage|api\/(?!schema-version))/.test(m) || /capstone|fflate|zstddec|cli-table3/.test(m));
    expect(heavy).toEqual([]);
    // Our own modules only (commander's count with it: its files appear as node_modules/ lines in
    // the bundle): the CLI entry, the command table, JSON rendering and the error/sanitising utils.
    const ours = r.modules.filter((m) => m.startsWith('dist/') && !m.startsWith('dist/bundle/'));
    expect(ours.length, ours.join('\n')).toBeLessThanOrEqual(8);
    // the bundle's main chunk and the few small chunks it shares with the commands
    expect(r.modules.filter((m) => m.startsWith('dist/bundle/')).length).toBeLessThanOrEqual(4);
  });

  it('sym loads the dump and kernel layers but no analyzer, triage or lint code', () => {
    const r = loaded('sym', DUMP, 'irq_fpu_usable');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/irq_fpu_usable/);
    expect(r.modules).toContain('dist/kernel/kallsyms.js');
    expect(r.modules.filter((m) => /^dist\/(analyzers|triage)\//.test(m))).toEqual([]);
  }, 60_000);

  it('analyze of a dump disassembles its Code: lines (capstone) only for --json and --markdown, which show them', () => {
    const text = loaded('analyze', DUMP);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/kprobe-int3-nmi-slab-fpu/);
    expect(text.modules.filter((m) => /capstone/.test(m))).toEqual([]);
    const json = loaded('analyze', DUMP, '--json');
    expect(json.status).toBe(1);
    expect(json.modules.filter((m) => /capstone/.test(m)).length).toBeGreaterThan(0);
    const d = JSON.parse(json.stdout) as { reports: { report: { code: { instructions: unknown[]; faultingInstruction: string | null } } }[] };
    expect(d.reports[0].report.code.instructions.length).toBeGreaterThan(0);
    expect(d.reports[0].report.code.faultingInstruction).toBe('ud2');
    const md = loaded('analyze', DUMP, '--markdown');
    expect(md.stdout).toMatch(/=> +2a: 0f 0b +ud2/);
  }, 60_000);
});
