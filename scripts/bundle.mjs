#!/usr/bin/env node
// The CLI's production bundle, run by `npm run build` after tsc: dist/cli/main.js (commander, the
// command table and every command's code behind its dynamic import) and the triage worker, bundled
// by rolldown into dist/bundle/. bin/ktriage.js loads dist/bundle/main.js.
//
// Why: Node's ES module loader resolves, reads and links each module on its own (~45 modules for
// `sym`, ~180 for `analyze`); a few chunks cost less CPU than that (`npm run bench start`). The
// dynamic imports stay dynamic, so each command still loads only its own chunks (which ones:
// test/cli/startup.test.ts, through the `// dist/...` comment rolldown writes before each module).
// The library (`exports`: dist/index.js and its .d.ts) is tsc's output and is not bundled.
//
// Left outside the bundle: Node's built-ins; capstone and zstddec (WebAssembly packages loaded only
// by the commands that need them, required as published).
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  cwd: root,
  // `worker` is the triage worker: src/triage/pool.ts starts `./worker.js` next to itself, which in
  // the bundle is dist/bundle/worker.js.
  input: { main: 'dist/cli/main.js', worker: 'dist/triage/worker.js' },
  platform: 'node',
  external: [/^node:/, ...builtinModules, '@alexaltea/capstone-js', 'zstddec'],
  logLevel: 'warn',
});
await bundle.write({ dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[name].js', minify: false });
await bundle.close();
