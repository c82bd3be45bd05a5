// A per-kernel-build cache of what does not change between dumps of one build: the decoded
// kallsyms table and the raw BTF blob. A fleet sees thousands of dumps of a few builds; reading
// and inflating kallsyms_names and .BTF is most of the pages an analysis touches (on the 6.1
// fixture, ~1,700 of ~1,800), and locating kallsyms on pre-6.0 kernels adds a scan of the image.
//
// Derived indexes a warm start would otherwise rebuild in a fresh process go with them: the
// offsets of the BTF type records (a scan of 100k records), the BTF name index and DATASEC ids,
// and the kallsyms name hash (94k names).
//
// Where: $KTRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/ktriage, else ~/.cache/ktriage; one folder per
// VMCOREINFO BUILD-ID (kernels before 5.9 write none and are not cached). Off with --no-cache or
// KTRIAGE_NO_CACHE=1.
//
// Trust: nothing read from the cache is believed until the dump agrees with it. Each file carries
// its build ID, release and a CRC-32 of its payload (zlib's; Node before 20.15 has none and
// caches nothing); it catches a damaged file, the dump checks below a foreign one. Kallsyms must then reproduce the bytes of
// the dump's own token table at the cached place and every image symbol VMCOREINFO names; BTF
// must equal the first page of the dump's own .BTF. Anything else is ignored and rewritten.
// Addresses are stored relative to _stext, so one entry serves every KASLR placement. Files are
// written to a temporary name and renamed; the whole cache is kept under a size bound by removing
// the least recently used builds.
//
// Layout: MAGIC, u32 header length, the JSON header padded with spaces, then each section padded
// to 8 bytes, so that the sections are used in place (typed-array views of the file's buffer, no
// copies).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { KallsymsTable, type DecodedNames, type KallsymsEncoding } from './kallsyms.js';
import type { VmcoreInfo } from './vmcoreinfo.js';
import type { BtfDerived } from './btf.js';
import { onlyDumpData } from '../util/errors.js';

// 2: entries carry the derived indexes (kallsyms name hash, BTF type offsets). 3: sections aligned
// to 8 bytes, a CRC-32 instead of a SHA-256 (~1.3 ms instead of ~4.7 ms for the 9 MB of the 6.1
// fixture's build), BTF's name index and DATASEC ids. Entries of an older format are ignored and
// rewritten once, so a cache made before gains them.
const MAGIC = Buffer.from('KTRIAGE-CACHE-3\n', 'latin1');
const ALIGN = 8;
/** Whole-cache bound; the least recently used builds go first. */
const CACHE_MAX_BYTES = 512 * 1024 * 1024;
const TOKEN_CHECK_BYTES = 256;
const BTF_CHECK_BYTES = 4096;

export interface MemoryReader {
  readVirtual(vaddr: bigint, len: number): Buffer;
}

interface Header {
  kind: 'kallsyms' | 'btf' | 'facts' | 'btfplace';
  buildId: string;
  release: string;
  /** 'crc32:<8 hex digits>' of everything after the header. */
  checksum: string;
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

const pad = (n: number) => (ALIGN - (n % ALIGN)) % ALIGN;

/** zlib.crc32 is Node 20.15's and later: without it (older Node 20), no cache. */
const hasCrc32 = typeof zlib.crc32 === 'function';

function checksum(data: Buffer): string {
  return `crc32:${zlib.crc32(data).toString(16).padStart(8, '0')}`;
}

/** An entry's bytes (exported for the tests, which re-pack tampered entries). */
export function pack(header: Record<string, unknown>, sections: Buffer[]): Buffer {
  // One copy of the payload (the concat below); the CRC runs over the pieces in order.
  const body: Buffer[] = [];
  let crc = 0;
  for (const s of sections) {
    body.push(s);
    if (pad(s.length)) body.push(Buffer.alloc(pad(s.length)));
  }
  for (const b of body) crc = zlib.crc32(b, crc);
  const text = JSON.stringify({ ...header, checksum: `crc32:${crc.toString(16).padStart(8, '0')}`, sections: sections.map((s) => s.length) });
  const json = Buffer.from(text + ' '.repeat(pad(MAGIC.length + 4 + Buffer.byteLength(text))), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return Buffer.concat([MAGIC, len, json, ...body]);
}

/**
 * An entry's header and sections (views of `buf`, 8-byte aligned when `buf` is), or undefined
 * when it is not one, or its checksum fails. Exported for the tests.
 */
export function unpack(buf: Buffer): { header: Header; sections: Buffer[] } | undefined {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const jl = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (jl > 65536 || start + jl > buf.length || (start + jl) % ALIGN !== 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', start, start + jl)) as Header;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (!header || !Array.isArray(header.sections) || typeof header.checksum !== 'string') return undefined;
  const sections: Buffer[] = [];
  let p = start + jl;
  for (const n of header.sections) {
    if (!Number.isSafeInteger(n) || n < 0 || p + n > buf.length) return undefined;
    sections.push(buf.subarray(p, p + n));
    p += n + pad(n);
  }
  if (p !== buf.length) return undefined;
  if (checksum(buf.subarray(start + jl)) !== header.checksum) return undefined;
  return { header, sections };
}

/** A typed-array view of a section, or undefined when its length is not a whole number of elements. */
function view<T>(s: Buffer | undefined, size: number, make: (b: ArrayBufferLike, off: number, n: number) => T): T | undefined {
  if (!s || s.length % size !== 0 || s.byteOffset % size !== 0) return undefined;
  return make(s.buffer, s.byteOffset, s.length / size);
}
const u32View = (s: Buffer | undefined) => view(s, 4, (b, o, n) => new Uint32Array(b, o, n));
const i32View = (s: Buffer | undefined) => view(s, 4, (b, o, n) => new Int32Array(b, o, n));
const i64View = (s: Buffer | undefined) => view(s, 8, (b, o, n) => new BigInt64Array(b, o, n));
const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

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
    if (!root || !hasCrc32 || !vi.buildId || !/^[0-9a-f]{8,128}$/i.test(vi.buildId)) return undefined;
    return new BuildCache(path.join(root, vi.buildId.toLowerCase()), vi.buildId.toLowerCase(), vi.osrelease ?? '');
  }

  private touched = false;

  private read(kind: Header['kind']): { header: Header; sections: Buffer[] } | undefined {
    const file = path.join(this.dir, `${kind}.bin`);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
      // Sections are used in place as typed arrays: the buffer must start 8-byte aligned (a
      // file's own buffer does; copy in the unlikely other case).
      if (buf.byteOffset % ALIGN !== 0) buf = Buffer.from(buf);
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
    // Touch, once per process: the size bound removes the least recently used builds.
    if (!this.touched) {
      this.touched = true;
      const now = new Date();
      try {
        fs.utimesSync(this.dir, now, now);
      } catch {
        // Broad on purpose, best effort: an old timestamp only makes this entry an earlier eviction candidate
      }
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
    const starts = u32View(startsBuf);
    const rels = i64View(rel);
    if (!text || !starts || !rels || !percpuBits || starts.length !== h.count + 1 || rels.length !== h.count || percpuBits.length < (h.count + 7) >> 3) {
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
    const isPerCpu = (i: number) => (percpuBits[i >> 3] & (1 << (i & 7))) !== 0;
    const dn: DecodedNames = { text, starts, bytes: 0 };
    const addrOf = (i: number) => (isPerCpu(i) ? BigInt.asUintN(64, rels[i]) : BigInt.asUintN(64, stext + rels[i]));
    const table = new KallsymsTable(dn, h.count, addrOf, isPerCpu, `kallsyms from the build cache (${h.count} symbols, ${h.encoding} encoding)`);
    // The name -> entry hash (checked by useNameIndex; rebuilt when malformed).
    const slots = i32View(nameIndex);
    if (slots) table.useNameIndex(slots);
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
      bytes(rels),
      bits,
      bytes(table.nameIndex()),
    ]);
  }

  /**
   * The raw .BTF blob, when its first page equals the dump's own at `start`, and what the entry
   * keeps of its parse: type record offsets, name index, DATASEC ids (Btf.parse checks each, and
   * rebuilds what does not fit). The blob is a view of the entry's buffer, not a copy.
   */
  loadBtf(mem: MemoryReader, start: bigint, stop: bigint): { blob: Buffer; derived: BtfDerived } | undefined {
    const u = this.read('btf');
    if (!u) return undefined;
    const [blob, offs, head, next, datasecs] = u.sections;
    if (!blob || BigInt(blob.length) !== stop - start) {
      this.events.push('btf: cached size differs from this dump\'s .BTF: ignored');
      return undefined;
    }
    const n = Math.min(BTF_CHECK_BYTES, blob.length);
    let first: Buffer;
    try {
      first = mem.readVirtual(start, n);
    } catch (e) {
      onlyDumpData(e);
      this.events.push(`btf: this dump's .BTF unreadable (${e.message}): ignored`);
      return undefined;
    }
    if (!first.equals(blob.subarray(0, n))) {
      this.events.push('btf: the dump\'s .BTF differs from the cached one: ignored');
      return undefined;
    }
    this.events.push('btf: from the cache');
    const h = i32View(head);
    const x = i32View(next);
    return { blob, derived: { typeOffsets: u32View(offs), nameIndex: h && x ? { head: h, next: x } : undefined, datasecs: u32View(datasecs) } };
  }

  saveBtf(blob: Buffer, derived?: Required<BtfDerived>): void {
    const d = derived;
    this.write('btf', {}, d ? [blob, bytes(d.typeOffsets), bytes(d.nameIndex.head), bytes(d.nameIndex.next), bytes(d.datasecs)] : [blob]);
  }

  /**
   * Where this build's .BTF lies, as an offset from _stext and a size: kept for kernels whose
   * kallsyms has no __start_BTF (no CONFIG_KALLSYMS_ALL), where finding it means scanning the
   * image after _etext for its header (btf-locate.ts: tens of pages). The caller checks the
   * header at the place before trusting it.
   */
  loadBtfPlace(stext: bigint): { start: bigint; size: number } | undefined {
    const u = this.read('btfplace');
    const h = u?.header;
    if (!h || typeof h.rel !== 'string' || !/^-?\d+$/.test(h.rel) || typeof h.size !== 'number') return undefined;
    return { start: BigInt.asUintN(64, stext + BigInt(h.rel)), size: h.size };
  }

  saveBtfPlace(stext: bigint, start: bigint, size: number): void {
    this.write('btfplace', { rel: (start - stext).toString(), size }, []);
  }

  /**
   * Answers computed from this build's BTF (Kernel.btfFact), when the entry was made from a .BTF
   * of this size whose first page equals the dump's own at `start` (the check loadBtf makes);
   * else none, and the entry is rewritten as answers come. Throws DumpReadError when the dump's
   * .BTF is unreadable.
   */
  btfFacts(mem: MemoryReader, start: bigint, stop: bigint): BtfFacts {
    const size = Number(stop - start);
    const first = mem.readVirtual(start, Math.min(BTF_CHECK_BYTES, size));
    const map = new Map<string, unknown>();
    const u = this.read('facts');
    if (u) {
      const [head, json] = u.sections;
      let answers: unknown;
      try {
        answers = head && json && u.header.btfSize === size && head.equals(first) ? JSON.parse(json.toString('utf8')) : undefined;
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
      }
      if (answers && typeof answers === 'object' && !Array.isArray(answers)) {
        // Each answer is [value], or [] for undefined.
        for (const [k, v] of Object.entries(answers)) if (Array.isArray(v) && v.length <= 1) map.set(k, v[0]);
        this.events.push('facts: from the cache');
      } else this.events.push('facts: of another .BTF or malformed: ignored');
    }
    return new BtfFacts((m) => this.write('facts', { btfSize: size }, [first, Buffer.from(JSON.stringify(Object.fromEntries([...m].map(([k, v]) => [k, v === undefined ? [] : [v]]))), 'utf8')]), map);
  }
}

/** BTF answers of one build (see BuildCache.btfFacts): a new answer rewrites the entry. */
export class BtfFacts {
  constructor(
    private readonly save: (m: Map<string, unknown>) => void,
    private readonly map: Map<string, unknown>,
  ) {}

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): unknown {
    return this.map.get(key);
  }

  set(key: string, value: unknown): void {
    this.map.set(key, value);
    this.save(this.map);
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
