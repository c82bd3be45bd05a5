#!/usr/bin/env node
// The CLI's production bundle, run by `npm run build` after tsc: dist/cli/main.js (commander, the
// command table and every command's code behind its dynamic import) and the triage worker, bundled
// by rolldown into dist/bundle/ as CommonJS. bin/ktriage.js requires dist/bundle/main.js.
//
// Why: Node's ES module loader resolves, reads and links each module on its own (~45 modules for
// `sym`, ~180 for `analyze`); a few chunks cost less CPU than that, and CommonJS chunks do not
// start the ES module loader at all (~3-5 ms of every command; `npm run bench start`). The dynamic
// imports stay lazy (`Promise.resolve().then(() => require(chunk))`), so each command still loads
// only its own chunks (which ones: test/cli/startup.test.ts, through the `// dist/...` comment
// rolldown writes before each module). The library (`exports`: dist/index.js and its .d.ts) is
// tsc's ES module output and is not bundled.
//
// Left outside the bundle: Node's built-ins; capstone and zstddec (WebAssembly packages loaded only
// by the commands that need them, required as published).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
rmSync(out, { recursive: true, force: true });
// commander requires node:child_process at load time, only to spawn executable subcommands (ktriage
// has none): loading it (and node:net behind it) cost ~3 ms of every command. Its `spawn` is
// handed a stand-in that loads the module on first call.
const LAZY_CHILD_PROCESS = '\0ktriage:lazy-child-process';
const builtins = new Set(builtinModules);
const fromCommander = (id, importer) => id === 'node:child_process' && importer !== undefined && /[\\/]node_modules[\\/]commander[\\/]/.test(importer);
const lazyChildProcess = {
  name: 'ktriage-lazy-child-process',
  resolveId(id, importer) {
    return fromCommander(id, importer) ? LAZY_CHILD_PROCESS : null;
  },
  load(id) {
    if (id !== LAZY_CHILD_PROCESS) return null;
    return [
      "import { createRequire } from 'node:module';",
      "export function spawn(...args) { return createRequire(import.meta.url)('node:child_process').spawn(...args); }",
    ].join('\n');
  },
};

const bundle = await rolldown({
  cwd: root,
  // `worker` is the triage worker: src/triage/pool.ts starts `./worker.js` next to itself, which in
  // the bundle is dist/bundle/worker.js.
  input: { main: 'dist/cli/main.js', worker: 'dist/triage/worker.js' },
  platform: 'node',
  external: (id, importer) => (/^node:/.test(id) || builtins.has(id) || id === '@alexaltea/capstone-js' || id === 'zstddec') && !fromCommander(id, importer),
  plugins: [lazyChildProcess],
  logLevel: 'warn',
});
await bundle.write({ dir: out, format: 'cjs', entryFileNames: '[name].js', chunkFileNames: 'chunk-[name].js', minify: false });
await bundle.close();
// The package is "type": "module": this folder's .js files are CommonJS (as bin/package.json does).
mkdirSync(out, { recursive: true });
writeFileSync(`${out}package.json`, '{ "type": "commonjs" }\n');
