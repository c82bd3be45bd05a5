// A per-kernel-build cache of what does not change between dumps of one build: the decoded
// kallsyms table and the raw BTF blob. A fleet sees thousands of dumps of a few builds; reading
// and inflating kallsyms_names and .BTF is most of the pages an analysis touches (on the 6.1
// fixture, ~1,700 of ~1,800), and locating kallsyms on pre-6.0 kernels adds a scan of the image.
//
// Derived indexes a warm start would otherwise rebuild in a fresh process go with them: the
// offsets of the BTF type records (a scan of 100k records) and the kallsyms name hash (94k
// names).
//
// Where: $KTRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/ktriage, else ~/.cache/ktriage; one folder per
// VMCOREINFO BUILD-ID (kernels before 5.9 write none and are not cached). Off with --no-cache or
// KTRIAGE_NO_CACHE=1.
//
// Trust: nothing read from the cache is believed until the dump agrees with it. Each file carries
// its build ID, release and a SHA-256 of its payload; kallsyms must then reproduce the bytes of
// the dump's own token table at the cached place and every image symbol VMCOREINFO names; BTF
// must equal the first page of the dump's own .BTF. Anything else is ignored and rewritten.
// Addresses are stored relative to _stext, so one entry serves every KASLR placement. Files are
// written to a temporary name and renamed; the whole cache is kept under a size bound by removing
// the least recently used builds.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KallsymsTable, type DecodedNames, type KallsymsEncoding } from './kallsyms.js';
import type { VmcoreInfo } from './vmcoreinfo.js';
import { onlyDumpData } from '../util/errors.js';

// 2: entries carry the derived indexes (kallsyms name hash, BTF type offsets). Entries of format 1
// are ignored and rewritten once, so a cache made before gains them.
const MAGIC = Buffer.from('KTRIAGE-CACHE-2\n', 'latin1');
/** Whole-cache bound; the least recently used builds go first. */
const CACHE_MAX_BYTES = 512 * 1024 * 1024;
const TOKEN_CHECK_BYTES = 256;
const BTF_CHECK_BYTES = 4096;

export interface MemoryReader {
  readVirtual(vaddr: bigint, len: number): Buffer;
}

interface Header {
  kind: 'kallsyms' | 'btf';
  buildId: string;
  release: string;
  sha256: string;
  sections: number[];
  [k: string]: unknown;
}

/** The cache folder to use, or undefined when caching is off. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KTRIAGE_NO_CACHE && env.KTRIAGE_NO_CACHE !== '0') return undefined;
  if (env.KTRIAGE_CACHE_DIR) return env.KTRIAGE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ktriage');
}

function pack(header: Omit<Header, 'sha256' | 'sections'>, sections: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const s of sections) h.update(s);
  const json = Buffer.from(JSON.stringify({ ...header, sha256: h.digest('hex'), sections: sections.map((s) => s.length) }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return Buffer.concat([MAGIC, len, json, ...sections]);
}

function unpack(buf: Buffer): { header: Header; sections: Buffer[] } | undefined {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const jl = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (jl > 65536 || start + jl > buf.length) return undefined;
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', start, start + jl)) as Header;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (!Array.isArray(header.sections) || typeof header.sha256 !== 'string') return undefined;
  const sections: Buffer[] = [];
  let p = start + jl;
  const h = createHash('sha256');
  for (const n of header.sections) {
    if (!Number.isSafeInteger(n) || n < 0 || p + n > buf.length) return undefined;
    const s = buf.subarray(p, p + n);
    h.update(s);
    sections.push(s);
    p += n;
  }
  if (p !== buf.length || h.digest('hex') !== header.sha256) return undefined;
  return { header, sections };
}

export class BuildCache {
  /** What happened, for `info` and the report: hit, miss, ignored (and why), written. */
  readonly events: string[] = [];

  private constructor(
    readonly dir: string,
    readonly buildId: string,
    readonly release: string,
  ) {}

  /** The cache for this dump's build, or undefined (off, or no BUILD-ID in VMCOREINFO). */
  static open(vi: VmcoreInfo, root: string | undefined): BuildCache | undefined {
    if (!root || !vi.buildId || !/^[0-9a-f]{8,128}$/i.test(vi.buildId)) return undefined;
    return new BuildCache(path.join(root, vi.buildId.toLowerCase()), vi.buildId.toLowerCase(), vi.osrelease ?? '');
  }

  private read(kind: Header['kind']): { header: Header; sections: Buffer[] } | undefined {
    const file = path.join(this.dir, `${kind}.bin`);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.events.push(`${kind}: not cached yet`);
        return undefined;
      }
      this.events.push(`${kind}: cache unreadable (${(e as Error).message})`);
      return undefined;
    }
    const u = unpack(buf);
    if (!u || u.header.kind !== kind || u.header.buildId !== this.buildId || u.header.release !== this.release) {
      this.events.push(`${kind}: cache entry corrupt or of another build: ignored`);
      return undefined;
    }
    // Touch: the size bound removes the least recently used builds.
    const now = new Date();
    try {
      fs.utimesSync(this.dir, now, now);
    } catch {
      // Broad on purpose, best effort: an old timestamp only makes this entry an earlier eviction candidate
    }
    return u;
  }

  private write(kind: Header['kind'], header: Record<string, unknown>, sections: Buffer[]): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const file = path.join(this.dir, `${kind}.bin`);
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      fs.writeFileSync(tmp, pack({ kind, buildId: this.buildId, release: this.release, ...header }, sections));
      fs.renameSync(tmp, file);
      this.events.push(`${kind}: written to the cache`);
      enforceBound(path.dirname(this.dir));
    } catch (e) {
      // A read-only or full disk must not fail an analysis.
      this.events.push(`${kind}: cache not written (${(e as Error).message})`);
    }
  }

  /**
   * The kallsyms table of this build, placed at this dump's _stext, or undefined. `mem` proves
   * the cached layout against the dump's own token table; the caller still checks VMCOREINFO's
   * symbols.
   */
  loadKallsyms(mem: MemoryReader, stext: bigint): { table: KallsymsTable; encoding: KallsymsEncoding; tokenTable: bigint } | undefined {
    const u = this.read('kallsyms');
    if (!u) return undefined;
    const h = u.header as Header & { count: number; encoding: KallsymsEncoding; tokenTableRel: string; tokenHead: string };
    const [text, startsBuf, rel, percpuBits, nameIndex] = u.sections;
    if (!text || !startsBuf || !rel || !percpuBits || startsBuf.length !== (h.count + 1) * 4 || rel.length !== h.count * 8) {
      this.events.push('kallsyms: cache entry malformed: ignored');
      return undefined;
    }
    const tokenTable = stext + BigInt(h.tokenTableRel);
    let head: Buffer;
    try {
      head = mem.readVirtual(tokenTable, TOKEN_CHECK_BYTES);
    } catch (e) {
      onlyDumpData(e);
      this.events.push(`kallsyms: cached token table unreadable in this dump (${e.message}): ignored`);
      return undefined;
    }
    if (head.toString('hex') !== h.tokenHead) {
      this.events.push('kallsyms: the dump\'s token table differs from the cached one: ignored');
      return undefined;
    }
    const starts = new Uint32Array(startsBuf.buffer.slice(startsBuf.byteOffset, startsBuf.byteOffset + startsBuf.length));
    const rels = new BigInt64Array(rel.buffer.slice(rel.byteOffset, rel.byteOffset + rel.length));
    const isPerCpu = (i: number) => (percpuBits[i >> 3] & (1 << (i & 7))) !== 0;
    const dn: DecodedNames = { text: Buffer.from(text), starts, bytes: 0 };
    const addrOf = (i: number) => (isPerCpu(i) ? BigInt.asUintN(64, rels[i]) : BigInt.asUintN(64, stext + rels[i]));
    const table = new KallsymsTable(dn, h.count, addrOf, isPerCpu, `kallsyms from the build cache (${h.count} symbols, ${h.encoding} encoding)`);
    // The name -> entry hash (a section added later: entries without it rebuild it).
    if (nameIndex && nameIndex.length % 4 === 0) table.useNameIndex(new Int32Array(nameIndex.buffer.slice(nameIndex.byteOffset, nameIndex.byteOffset + nameIndex.length)));
    this.events.push('kallsyms: from the cache');
    return { table, encoding: h.encoding, tokenTable };
  }

  saveKallsyms(mem: MemoryReader, table: KallsymsTable, encoding: KallsymsEncoding, stext: bigint, tokenTable: bigint): void {
    let head: Buffer;
    try {
      head = mem.readVirtual(tokenTable, TOKEN_CHECK_BYTES);
    } catch (e) {
      onlyDumpData(e);
      return; // nothing to prove a later dump against: do not cache
    }
    const n = table.count;
    const rels = new BigInt64Array(n);
    const bits = Buffer.alloc((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if (table.isPerCpuEntry(i)) {
        bits[i >> 3] |= 1 << (i & 7);
        rels[i] = BigInt.asIntN(64, table.address(i));
      } else rels[i] = BigInt.asIntN(64, table.address(i) - stext);
    }
    const dn = table.decoded;
    this.write('kallsyms', { count: n, encoding, tokenTableRel: String(tokenTable - stext), tokenHead: head.toString('hex') }, [
      dn.text,
      Buffer.from(dn.starts.buffer, dn.starts.byteOffset, (n + 1) * 4),
      Buffer.from(rels.buffer),
      bits,
      Buffer.from(table.nameIndex().buffer),
    ]);
  }

  /**
   * The raw .BTF blob, when its first page equals the dump's own at `start`, and the offsets of
   * its type records when the entry has them (Btf.parse checks them, else scans the blob).
   */
  loadBtf(mem: MemoryReader, start: bigint, stop: bigint): { blob: Buffer; typeOffsets?: Uint32Array } | undefined {
    const u = this.read('btf');
    if (!u) return undefined;
    const [blob, offs] = u.sections;
    if (!blob || BigInt(blob.length) !== stop - start) {
      this.events.push('btf: cached size differs from this dump\'s .BTF: ignored');
      return undefined;
    }
    const n = Math.min(BTF_CHECK_BYTES, blob.length);
    let head: Buffer;
    try {
      head = mem.readVirtual(start, n);
    } catch (e) {
      onlyDumpData(e);
      this.events.push(`btf: this dump's .BTF unreadable (${e.message}): ignored`);
      return undefined;
    }
    if (!head.equals(blob.subarray(0, n))) {
      this.events.push('btf: the dump\'s .BTF differs from the cached one: ignored');
      return undefined;
    }
    this.events.push('btf: from the cache');
    const typeOffsets = offs && offs.length % 4 === 0 ? new Uint32Array(offs.buffer.slice(offs.byteOffset, offs.byteOffset + offs.length)) : undefined;
    return { blob: Buffer.from(blob), typeOffsets };
  }

  saveBtf(blob: Buffer, typeOffsets?: Uint32Array): void {
    this.write('btf', {}, typeOffsets ? [blob, Buffer.from(typeOffsets.buffer, typeOffsets.byteOffset, typeOffsets.byteLength)] : [blob]);
  }
}

/** Keep the cache under CACHE_MAX_BYTES, removing the least recently used build folders. */
function enforceBound(root: string, max = CACHE_MAX_BYTES): void {
  const builds: { dir: string; size: number; mtime: number }[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const dir = path.join(root, e.name);
    let size = 0;
    for (const f of fs.readdirSync(dir)) size += fs.statSync(path.join(dir, f)).size;
    builds.push({ dir, size, mtime: fs.statSync(dir).mtimeMs });
  }
  let total = builds.reduce((a, b) => a + b.size, 0);
  builds.sort((a, b) => a.mtime - b.mtime);
  for (const b of builds) {
    if (total <= max) break;
    fs.rmSync(b.dir, { recursive: true, force: true });
    total -= b.size;
  }
}
