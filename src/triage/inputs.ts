// The inputs of a batch: files, directories (taken recursively) and globs, yielded one at a time so
// a batch of a million dumps never holds the list. Node 20 has no fs.glob, and a shell usually
// expands globs before ktriage sees them; this matcher covers quoted patterns (`'dumps/**/vmcore*'`)
// with `*`, `?`, `[...]` and `**`, which is what fleet scripts write.
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';

export type InputEntry = { path: string } | { path: string; error: string };

const GLOB_CHARS = /[*?[]/;

/** A glob as an anchored RegExp over `/`-separated paths. `*` and `?` never cross a `/`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` is zero or more whole directories; a trailing `**` is anything below.
        if (glob[i + 2] === '/') {
          re += '(?:[^/]*/)*';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** An exclude pattern without `/` applies to the file name, with one to the whole path. */
function excluder(patterns: string[]): (p: string) => boolean {
  const compiled = patterns.map((g) => ({ re: globToRegExp(g), base: !g.includes('/') }));
  return (p) => compiled.some(({ re, base }) => re.test(base ? path.basename(p) : p));
}

/**
 * Regular files under `dir`, depth first, in directory order (not sorted: sorting needs the whole
 * directory in memory). Names starting with `.` are skipped (.git, editor files); symbolic links to
 * files are followed, links to directories are not (no loops).
 */
async function* walkDir(dir: string, maxDepth = Infinity, depth = 0): AsyncGenerator<string> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    // Broad on purpose: an unreadable directory (permissions, removed meanwhile) is skipped.
    return;
  }
  const subdirs: string[] = [];
  for await (const e of handle) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isFile()) yield p;
    else if (e.isDirectory()) {
      if (depth + 1 < maxDepth) subdirs.push(p);
    } else if (e.isSymbolicLink()) {
      const st = await stat(p).catch(() => null);
      if (st?.isFile()) yield p;
    }
  }
  // Subdirectories after the files: the list held is one directory's subdirectories, not its files.
  for (const s of subdirs) yield* walkDir(s, maxDepth, depth + 1);
}

async function* expandGlob(pattern: string): AsyncGenerator<string> {
  const segs = pattern.split('/');
  const firstGlob = segs.findIndex((s) => GLOB_CHARS.test(s));
  const baseSegs = segs.slice(0, firstGlob);
  const base = baseSegs.length === 0 ? '.' : baseSegs.join('/') || '/';
  const rest = segs.slice(firstGlob);
  const re = globToRegExp(rest.join('/'));
  // Without `**` no match can sit deeper than the pattern's own segments.
  const maxDepth = rest.some((s) => s.includes('**')) ? Infinity : rest.length;
  for await (const p of walkDir(base, maxDepth)) {
    const rel = path.relative(base, p).split(path.sep).join('/');
    if (re.test(rel)) yield base === '.' && !pattern.startsWith('./') ? rel : p;
  }
}

/** Every input of the batch, in argument order; an argument that names nothing yields an error entry. */
export async function* walkInputs(args: string[], exclude: string[] = []): AsyncGenerator<InputEntry> {
  const excluded = excluder(exclude);
  for (const arg of args) {
    let found = 0;
    if (GLOB_CHARS.test(arg)) {
      for await (const p of expandGlob(arg)) {
        if (excluded(p)) continue;
        found++;
        yield { path: p };
      }
      if (!found) yield { path: arg, error: 'no file matches this pattern' };
      continue;
    }
    const st = await stat(arg).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      yield { path: arg, error: `cannot open: ${st.code ?? st.message}` };
    } else if (st.isDirectory()) {
      for await (const p of walkDir(arg)) {
        if (!excluded(p)) yield { path: p };
      }
    } else {
      // A file named on the command line is an input even when an exclude pattern matches it.
      yield { path: arg };
    }
  }
}
