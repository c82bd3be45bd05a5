// Just enough DWARF (4 and 5) to name the functions the compiler inlined at a call site, so a path
// reads `post -> account_in_handler (inlined) -> kmem_cache_alloc` as in the source. Reads
// .debug_info/.debug_abbrev/.debug_str/.debug_line_str/.debug_rnglists (or .debug_ranges), applying
// the module's own relocations (in a .ko, string offsets and code addresses in DWARF are
// relocations against section symbols). Best effort: any malformed input yields no inline data.
import type { ElfModule, Relocation } from './elf.js';

interface InlineRange {
  shndx: number;
  lo: number;
  hi: number;
  depth: number;
  die: number;
}

export interface InlineInfo {
  /** Names of functions inlined at a code location, outermost first. */
  chainAt(shndx: number, offset: number): string[];
}

const EMPTY: InlineInfo = { chainAt: () => [] };

class Reader {
  constructor(readonly b: Uint8Array, public p = 0) {}
  u8(): number {
    // p comes from relocated fields (symbol value + addend): it can be negative or fractional.
    if (!(this.p >= 0 && this.p < this.b.length) || !Number.isInteger(this.p)) throw new Error('eof');
    return this.b[this.p++];
  }
  un(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.u8() * 2 ** (8 * i);
    return v;
  }
  uleb(): number {
    let v = 0;
    let shift = 0;
    for (;;) {
      const x = this.u8();
      v += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(x & 0x80) || shift > 63) return v;
    }
  }
  sleb(): number {
    let v = 0;
    let shift = 0;
    let x: number;
    do {
      x = this.u8();
      v += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80 && shift < 63);
    if (x & 0x40) v -= 2 ** shift;
    return v;
  }
  cstr(): string {
    let s = '';
    for (let c = this.u8(); c !== 0; c = this.u8()) s += String.fromCharCode(c);
    return s;
  }
}

function relocMap(elf: ElfModule, name: string): Map<number, Relocation> {
  const s = elf.sectionByName(name);
  const m = new Map<number, Relocation>();
  if (!s) return m;
  for (const r of elf.relocs.get(s.index) ?? []) m.set(r.offset, r);
  return m;
}

export function readInlineInfo(elf: ElfModule): InlineInfo {
  try {
    return parse(elf);
  } catch (e) {
    // Broad on purpose: inline info only refines the report, and the DWARF of a module is
    // untrusted input whose every malformation the parser does not name.
    if (process.env.KTRIAGE_DEBUG_DWARF) console.error(e);
    return EMPTY;
  }
}

function parse(elf: ElfModule): InlineInfo {
  const info = elf.sectionByName('.debug_info');
  const abbrev = elf.sectionByName('.debug_abbrev');
  if (!info || !abbrev) return EMPTY;
  const ib = elf.sectionBytes(info);
  const ab = elf.sectionBytes(abbrev);
  const strs = new Map<string, Uint8Array>();
  for (const n of ['.debug_str', '.debug_line_str']) {
    const s = elf.sectionByName(n);
    if (s) strs.set(n, elf.sectionBytes(s));
  }
  const irel = relocMap(elf, '.debug_info');
  const rngSec = elf.sectionByName('.debug_rnglists') ?? elf.sectionByName('.debug_ranges');
  const rngBytes = rngSec ? elf.sectionBytes(rngSec) : new Uint8Array(0);
  const rrel = rngSec ? relocMap(elf, rngSec.name) : new Map<number, Relocation>();
  const names = new Map<number, string>();
  const origin = new Map<number, number>();
  const ranges: InlineRange[] = [];

  const strAt = (sec: string, off: number): string => {
    const b = strs.get(sec);
    // A hostile addend makes off negative (found by fuzzing: the scan below then ran ~1e18 steps).
    if (!b || !Number.isInteger(off) || off < 0 || off >= b.length) return '';
    let e = off;
    while (e < b.length && b[e] !== 0 && e - off < 4096) e++;
    return new TextDecoder('latin1').decode(b.subarray(off, e));
  };
  // A relocated field: value (symbol value + addend) and the section it points into.
  const field = (rel: Map<number, Relocation>, r: Reader, size: number): { v: number; shndx: number } => {
    const at = r.p;
    const raw = r.un(size);
    const rl = rel.get(at);
    if (!rl) return { v: raw, shndx: -1 };
    return { v: rl.symbol.value + rl.addend, shndx: rl.symbol.shndx };
  };

  let cuOff = 0;
  while (cuOff + 11 < ib.length) {
    const r = new Reader(ib, cuOff);
    const len = r.un(4);
    if (len === 0xffffffff || len === 0) return EMPTY; // 64-bit DWARF: not produced for modules
    const end = cuOff + 4 + len;
    const version = r.un(2);
    let addrSize: number;
    let abbrOff: number;
    if (version >= 5) {
      r.u8(); // unit type
      addrSize = r.u8();
      abbrOff = field(irel, r, 4).v;
    } else {
      abbrOff = field(irel, r, 4).v;
      addrSize = r.u8();
    }
    // Abbreviations of this unit.
    const abbrs = new Map<number, { tag: number; children: boolean; attrs: [number, number, number][] }>();
    const ar = new Reader(ab, abbrOff);
    for (let code = ar.uleb(); code !== 0; code = ar.uleb()) {
      const tag = ar.uleb();
      const children = ar.u8() === 1;
      const attrs: [number, number, number][] = [];
      for (;;) {
        const at = ar.uleb();
        const form = ar.uleb();
        if (at === 0 && form === 0) break;
        attrs.push([at, form, form === 0x21 ? ar.sleb() : 0]);
      }
      abbrs.set(code, { tag, children, attrs });
    }
    let depth = 0;
    let cuBase = { v: 0, shndx: -1 };
    while (r.p < end) {
      const dieOff = r.p;
      const code = r.uleb();
      if (code === 0) {
        depth--;
        continue;
      }
      const a = abbrs.get(code);
      if (!a) throw new Error(`abbrev ${code} missing at 0x${dieOff.toString(16)}`);
      let name: string | null = null;
      let orig: number | null = null;
      let low: { v: number; shndx: number } | null = null;
      let high: { v: number; isLen: boolean } | null = null;
      let rng: number | null = null;
      for (const [at, form0, implicit] of a.attrs) {
        let form = form0;
        if (form === 0x16) form = r.uleb();
        let val = 0;
        let str: string | null = null;
        let reloc: { v: number; shndx: number } | null = null;
        switch (form) {
          case 0x01: reloc = field(irel, r, addrSize); val = reloc.v; break;
          case 0x0b: case 0x11: case 0x0c: case 0x25: case 0x29: val = r.un(1); break;
          case 0x05: case 0x12: case 0x26: case 0x2a: val = r.un(2); break;
          case 0x27: case 0x2b: val = r.un(3); break;
          case 0x06: case 0x13: case 0x1c: case 0x28: case 0x2c: val = r.un(4); break;
          case 0x10: case 0x17: val = field(irel, r, 4).v; break;
          case 0x0e: str = strAt('.debug_str', field(irel, r, 4).v); break;
          case 0x1f: str = strAt('.debug_line_str', field(irel, r, 4).v); break;
          case 0x1d: r.un(4); break;
          case 0x07: case 0x14: case 0x20: case 0x24: val = r.un(8); break;
          case 0x1e: r.p += 16; break;
          case 0x08: str = r.cstr(); break;
          case 0x0d: val = r.sleb(); break;
          case 0x0f: case 0x15: case 0x1a: case 0x1b: case 0x22: case 0x23: val = r.uleb(); break;
          // (read the length first: `r.p += r.uleb()` would add it to the position before the length)
          case 0x09: case 0x18: { const n = r.uleb(); r.p += n; break; }
          case 0x0a: { const n = r.un(1); r.p += n; break; }
          case 0x03: { const n = r.un(2); r.p += n; break; }
          case 0x04: { const n = r.un(4); r.p += n; break; }
          case 0x19: val = 1; break;
          case 0x21: val = implicit; break;
          default: throw new Error(`form 0x${form.toString(16)}`);
        }
        if (at === 0x03 && str !== null) name = str;
        else if ((at === 0x31 || at === 0x47) && orig === null) orig = form === 0x10 ? val : cuOff + val;
        else if (at === 0x11 && reloc) low = reloc;
        else if (at === 0x12) high = { v: val, isLen: form !== 0x01 };
        else if (at === 0x55) rng = val;
      }
      if (name !== null) names.set(dieOff, name);
      if (orig !== null) origin.set(dieOff, orig);
      if (a.tag === 0x11 && low) cuBase = low;
      if (a.tag === 0x1d) {
        if (low && high) ranges.push({ shndx: low.shndx, lo: low.v, hi: high.isLen ? low.v + high.v : high.v, depth, die: dieOff });
        else if (rng !== null) for (const x of readRanges(rngBytes, rrel, rng, cuBase, version, addrSize)) ranges.push({ ...x, depth, die: dieOff });
      }
      if (a.children) depth++;
    }
    cuOff = end;
  }
  const nameOf = (die: number): string => {
    for (let d: number | undefined = die, n = 0; d !== undefined && n < 8; d = origin.get(d), n++) {
      const s = names.get(d);
      if (s) return s;
    }
    return '?';
  };
  return {
    chainAt(shndx, offset) {
      return ranges
        .filter((x) => x.shndx === shndx && offset >= x.lo && offset < x.hi)
        .sort((a, b) => a.depth - b.depth)
        .map((x) => nameOf(x.die));
    },
  };
}

function readRanges(b: Uint8Array, rel: Map<number, Relocation>, off: number, base0: { v: number; shndx: number }, version: number, addrSize: number): { shndx: number; lo: number; hi: number }[] {
  const out: { shndx: number; lo: number; hi: number }[] = [];
  const r = new Reader(b, off);
  const addr = (): { v: number; shndx: number } => {
    const at = r.p;
    const raw = r.un(addrSize);
    const rl = rel.get(at);
    return rl ? { v: rl.symbol.value + rl.addend, shndx: rl.symbol.shndx } : { v: raw, shndx: -1 };
  };
  let base = base0;
  for (let n = 0; n < 10_000; n++) {
    if (version < 5) {
      const a = addr();
      const e = addr();
      if (a.v === 0 && e.v === 0 && a.shndx < 0) break;
      if (a.shndx < 0 && a.v === 2 ** (8 * addrSize) - 1) {
        base = e;
        continue;
      }
      out.push({ shndx: a.shndx >= 0 ? a.shndx : base.shndx, lo: a.shndx >= 0 ? a.v : base.v + a.v, hi: e.shndx >= 0 ? e.v : base.v + e.v });
      continue;
    }
    const kind = r.u8();
    if (kind === 0) break;
    if (kind === 4) {
      const s = r.uleb();
      const e = r.uleb();
      out.push({ shndx: base.shndx, lo: base.v + s, hi: base.v + e });
    } else if (kind === 5) base = addr();
    else if (kind === 6) {
      const s = addr();
      const e = addr();
      out.push({ shndx: s.shndx, lo: s.v, hi: e.v });
    } else if (kind === 7) {
      const s = addr();
      out.push({ shndx: s.shndx, lo: s.v, hi: s.v + r.uleb() });
    } else return out; // index forms need .debug_addr: not used by non-split module builds
  }
  return out;
}
