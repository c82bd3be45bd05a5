// Shared fuzzing harness: property-based fuzzing with fast-check.
//
// Why fast-check rather than a coverage-guided fuzzer (jazzer.js): it runs inside vitest with the
// rest of the suite, is deterministic for a given seed (CI replays exactly the same inputs),
// shrinks a failing input to a small one before reporting it, and needs no native build (jazzer.js
// needs a native agent compiled per Node version). Coverage guidance is replaced by mutating real
// seeds (the committed fixtures, cut small) and by aiming mutations at the fields that drive lengths,
// counts and offsets.
//
// Every input must end, within TIME_BOUND_MS, in a result or a typed error (InputError,
// DumpReadError, or a parser's documented class), with a one-line message. RSS growth over a
// property run must stay below RSS_BOUND. A failing input is written to
// test/fuzz/regressions/<parser>/<hash>.<ext> (FUZZ_SAVE=0 turns that off), and
// regressions.test.ts replays every saved file.
//
// Environment: FUZZ_RUNS scales every campaign (1 = the CI run, about a minute in total);
// FUZZ_SEED changes the inputs (default fixed); FUZZ_TIME_MS the per-input time bound.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../../src/util/errors.js';
import { DumpReadError } from '../../src/vmcore/types.js';

export const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
export const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
/** Per-input time bound (ms). */
export const TIME_BOUND_MS = Number(process.env.FUZZ_TIME_MS ?? 1000);
/** Memory an input may leave alive, and resident growth that triggers the check (bytes). */
export const RSS_BOUND = 256 * 1024 * 1024;
export const REGRESSIONS = path.join(import.meta.dirname, 'regressions');
export const FIXTURES = path.join(import.meta.dirname, '../../fixtures');
/**
 * Wall-clock limit for one input before the watchdog gives up on the process (ms). A parser stuck
 * in a synchronous loop cannot be interrupted from its own thread: neither fast-check nor vitest's
 * test timeout fires, and the run would hang until CI's limit (this happened with snappyjs).
 */
export const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? Math.max(30_000, 10 * Number(process.env.FUZZ_TIME_MS ?? 1000)));

/** Number of runs for a campaign whose CI size is `n`. */
export const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** Inputs tried per parser, and how they ended (printed after each file; FUZZ_REPORT collects them). */
export const tried = new Map<string, { inputs: number; ok: number; rejected: number }>();
function tally(parser: string): { inputs: number; ok: number; rejected: number } {
  let t = tried.get(parser);
  if (!t) tried.set(parser, (t = { inputs: 0, ok: 0, rejected: 0 }));
  return t;
}
export function count(parser: string, n = 1): void {
  tally(parser).inputs += n;
}
function record(parser: string, r: unknown): void {
  if (r === 'ok' || r === 'rejected') tally(parser)[r]++;
}
export function printCounts(): void {
  for (const [p, t] of tried) {
    console.log(`[fuzz] ${p}: ${t.inputs} inputs (${t.ok} accepted, ${t.rejected} rejected with a typed error)`);
    if (process.env.FUZZ_REPORT) fs.appendFileSync(process.env.FUZZ_REPORT, JSON.stringify({ parser: p, ...t, seed: SEED, scale: SCALE }) + '\n');
  }
  tried.clear();
}

export type Outcome = 'ok' | 'rejected';

/** A typed, one-line error from the project; `extra` admits a parser's own documented class. */
export function isTyped(e: unknown, extra?: (e: unknown) => boolean): boolean {
  if (!(e instanceof Error)) return false;
  if (!(e instanceof InputError || e instanceof DumpReadError || (extra?.(e) ?? false))) return false;
  return !e.message.includes('\n');
}

export class FuzzFailure extends Error {}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message.split('\n')[0]}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return String(e);
}

function rejected(e: unknown, extra?: (e: unknown) => boolean): Outcome {
  if (!isTyped(e, extra)) throw new FuzzFailure(`untyped error: ${describeError(e)}`);
  return 'rejected';
}

/**
 * Headroom on every per-input bound. The bounds catch runaway inputs (a loop that grows with a
 * length field, a decompression bomb), not slowness: speed is measured by `npm run bench`. An
 * unwind input took 5,031 ms against its 5,000 ms bound on this 2-core machine while two QEMU
 * guests ran; a bound that a busy machine can cross fails CI for nothing.
 */
const TIME_HEADROOM = Number(process.env.FUZZ_TIME_HEADROOM ?? 4);

function within(t0: number, bound: number, r: Outcome): Outcome {
  const ms = performance.now() - t0;
  const limit = bound * TIME_HEADROOM;
  if (ms > limit) throw new FuzzFailure(`took ${ms.toFixed(0)} ms (bound ${bound} ms x ${TIME_HEADROOM} headroom)`);
  return r;
}

/** Run f on one input: result or typed error, within the time bound. Throws FuzzFailure otherwise. */
export function outcome(f: () => unknown, extra?: (e: unknown) => boolean, bound = TIME_BOUND_MS): Outcome {
  const t0 = performance.now();
  let r: Outcome;
  try {
    f();
    r = 'ok';
  } catch (e) {
    r = rejected(e, extra);
  }
  return within(t0, bound, r);
}

export async function outcomeAsync(f: () => Promise<unknown>, extra?: (e: unknown) => boolean, bound = TIME_BOUND_MS): Promise<Outcome> {
  const t0 = performance.now();
  let r: Outcome;
  try {
    await f();
    r = 'ok';
  } catch (e) {
    r = rejected(e, extra);
  }
  return within(t0, bound, r);
}

function hashOf(input: Buffer | string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Save a failing input (once per content) under regressions/<parser>/; returns its path. */
export function saveRegression(parser: string, input: Buffer | string, ext: string): string {
  const dir = path.join(REGRESSIONS, parser);
  const file = path.join(dir, `${hashOf(input)}.${ext}`);
  if (process.env.FUZZ_SAVE === '0') return file;
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, input);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Watchdog: a worker thread that holds a copy of the input under test. If the main thread does not
// finish that input within HANG_MS, the worker saves it under regressions/<parser>/, writes one line
// to stderr naming the file and kills the process (the test file then fails; the input replays in
// regressions.test.ts).

const WATCHDOG_SRC = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
let timer = null;
parentPort.on('message', (m) => {
  if (timer) clearTimeout(timer);
  timer = null;
  if (m.kind !== 'start') return;
  timer = setTimeout(() => {
    const data = Buffer.from(m.input);
    const dir = path.join(m.root, m.parser);
    const file = path.join(dir, 'hang-' + crypto.createHash('sha256').update(data).digest('hex').slice(0, 16) + '.' + m.ext);
    if (m.save) { fs.mkdirSync(dir, { recursive: true }); fs.writeFileSync(file, data); }
    fs.writeSync(2, '[fuzz] ' + m.parser + ': no result after ' + m.ms + ' ms; input saved to ' + file + '; killing the test process\\n');
    process.kill(process.pid, 'SIGKILL');
  }, m.ms);
  timer.unref?.();
});
`;

let watchdog: Worker | undefined;
function dog(): Worker {
  if (!watchdog) {
    watchdog = new Worker(WATCHDOG_SRC, { eval: true });
    watchdog.unref();
  }
  return watchdog;
}

/** Run `f` on one input with the watchdog armed (the input is copied to the watchdog first). */
export async function guarded<R>(parser: string, ext: string, input: Buffer | string, f: () => R | Promise<R>): Promise<R> {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  dog().postMessage({ kind: 'start', parser, ext, input: new Uint8Array(data), ms: HANG_MS, root: REGRESSIONS, save: process.env.FUZZ_SAVE !== '0' });
  try {
    return await f();
  } finally {
    dog().postMessage({ kind: 'done' });
  }
}

/**
 * A deterministic list of inputs (every truncation, say), each watched, with the same failure
 * handling as `fuzz`: the first failing input is saved and reported.
 */
export async function each<T>(parser: string, inputs: Iterable<T>, check: (input: T) => unknown, o: { ext: string; encode?: (input: T) => Buffer | string }): Promise<Set<unknown>> {
  const enc = o.encode ?? ((t: T) => t as unknown as Buffer | string);
  const seen = new Set<unknown>();
  for (const input of inputs) {
    count(parser);
    const e = enc(input);
    try {
      const r = await guarded(parser, o.ext, e, () => check(input));
      record(parser, r);
      seen.add(r);
    } catch (err) {
      const saved = saveRegression(parser, e, o.ext);
      throw new FuzzFailure(`${parser}: input saved to ${path.relative(process.cwd(), saved)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return seen;
}

export interface FuzzOptions<T> {
  /** CI run count (scaled by FUZZ_RUNS). */
  runs: number;
  /** Extension for saved regressions: 'bin' (bytes), 'json' (text as a JSON string, or patches). */
  ext: string;
  /** How a failing input is written (default: as is). */
  encode?: (input: T) => Buffer | string;
}

/**
 * Run `check` over inputs from `arb` (fixed seed). On failure (after shrinking) the smallest
 * failing input is saved as a regression, then the test fails with the reason. RSS growth over the
 * whole run must stay under RSS_BOUND.
 */
export async function fuzz<T>(parser: string, arb: fc.Arbitrary<T>, check: (input: T) => unknown, o: FuzzOptions<T>): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Live memory (heap in use plus buffers), after a full collection when vitest runs us with
  // --expose-gc (both configs do); RSS alone counts garbage and pages V8 keeps after collecting.
  const live = (): number => {
    gc?.();
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const base = live();
  const rss0 = process.memoryUsage.rss();
  const result = await fc.check(
    fc.asyncProperty(arb, async (input) => {
      count(parser);
      record(parser, await guarded(parser, o.ext, (o.encode ?? ((t: T) => t as unknown as Buffer | string))(input), () => check(input)));
      // Cheap test first: only when resident memory has grown past the bound is live memory
      // measured; the input fails if what it left alive (caches included) exceeds the bound.
      if (process.memoryUsage.rss() - rss0 > RSS_BOUND) {
        const grown = live() - base;
        if (grown > RSS_BOUND) throw new FuzzFailure(`live memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB (bound ${RSS_BOUND / 2 ** 20} MiB)`);
      }
    }),
    // Shrinking a large input can take many thousands of runs: bound the whole property.
    { numRuns: runs(o.runs), seed: SEED, interruptAfterTimeLimit: Math.max(120_000, 60_000 * SCALE), markInterruptAsFailure: false },
  );
  if (result.failed) {
    const input = result.counterexample?.[0];
    const enc = o.encode ?? ((t: T) => t as unknown as Buffer | string);
    const saved = input !== undefined ? saveRegression(parser, enc(input), o.ext) : '(no counterexample)';
    const err = result.errorInstance;
    throw new FuzzFailure(
      `${parser}: failed after ${result.numRuns} runs (seed ${result.seed}, path ${result.counterexamplePath}); input saved to ${path.relative(process.cwd(), saved)}:\n${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Byte mutations.

/** A field at a known offset: a header count, size or offset. */
export interface Field {
  off: number;
  size: 1 | 2 | 4 | 8;
  be?: boolean;
}

const ABSURD: bigint[] = [0n, 1n, 2n, 3n, 7n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xfffn, 0x1000n, 0x7fffn, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xfffffff0n, 0xffffffffn, 0x100000000n, 1n << 40n, 1n << 62n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffff00n, 0xffffffffffffffffn];

export type ByteOp =
  | { k: 'flip'; pos: number; bit: number }
  | { k: 'set'; pos: number; v: number }
  | { k: 'trunc'; len: number }
  | { k: 'insert'; pos: number; bytes: Uint8Array }
  | { k: 'delete'; pos: number; n: number }
  | { k: 'splice'; pos: number; other: number; from: number; n: number }
  | { k: 'field'; field: number; v: bigint; rel: number }
  | { k: 'random'; pos: number; bytes: Uint8Array };

/**
 * Position arbitrary: `hot` ranges (headers, tables) are hit most of the time; anything else
 * otherwise. Positions are raw numbers reduced modulo the target length when applied.
 */
function posArb(hot: [number, number][]): fc.Arbitrary<number> {
  const anywhere = fc.nat();
  if (hot.length === 0) return anywhere;
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...hot.map(([a, b]) => fc.integer({ min: a, max: Math.max(a, b - 1) }))) }, { weight: 1, arbitrary: anywhere });
}

export function byteOpArb(opts: { hot?: [number, number][]; fields?: Field[]; seeds: number; truncMax?: number }): fc.Arbitrary<ByteOp> {
  const pos = posArb(opts.hot ?? []);
  const fields = opts.fields ?? [];
  const ops: fc.Arbitrary<ByteOp>[] = [
    fc.record({ k: fc.constant('flip' as const), pos, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ k: fc.constant('set' as const), pos, v: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.integer({ min: 0, max: 255 })) }),
    fc.record({ k: fc.constant('trunc' as const), len: opts.truncMax !== undefined ? fc.nat({ max: opts.truncMax }) : pos }),
    fc.record({ k: fc.constant('insert' as const), pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
    fc.record({ k: fc.constant('delete' as const), pos, n: fc.integer({ min: 1, max: 256 }) }),
    fc.record({ k: fc.constant('splice' as const), pos, other: fc.nat({ max: Math.max(0, opts.seeds - 1) }), from: fc.nat(), n: fc.integer({ min: 1, max: 4096 }) }),
    fc.record({ k: fc.constant('random' as const), pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  ];
  if (fields.length > 0) {
    ops.push(
      fc.record({
        k: fc.constant('field' as const),
        field: fc.nat({ max: fields.length - 1 }),
        v: fc.oneof(fc.constantFrom(...ABSURD), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
        rel: fc.integer({ min: -2, max: 2 }),
      }),
    );
    // Fields are where lengths come from: weight them.
    return fc.oneof({ weight: 3, arbitrary: fc.oneof(...ops) }, { weight: 2, arbitrary: ops[ops.length - 1] });
  }
  return fc.oneof(...ops);
}

function writeField(b: Buffer, f: Field, v: bigint): void {
  if (f.off + f.size > b.length) return;
  const m = BigInt.asUintN(f.size * 8, v);
  if (f.size === 1) b[f.off] = Number(m);
  else if (f.size === 2) {
    if (f.be) b.writeUInt16BE(Number(m), f.off);
    else b.writeUInt16LE(Number(m), f.off);
  } else if (f.size === 4) {
    if (f.be) b.writeUInt32BE(Number(m), f.off);
    else b.writeUInt32LE(Number(m), f.off);
  } else if (f.be) b.writeBigUInt64BE(m, f.off);
  else b.writeBigUInt64LE(m, f.off);
}

/** Apply mutations to a copy of seeds[which]. `fileSize` lets field values land near the end. */
export function applyByteOps(seeds: Buffer[], which: number, ops: ByteOp[], fields: Field[] = []): Buffer {
  let b = Buffer.from(seeds[which % seeds.length]);
  for (const op of ops) {
    const at = (p: number) => (b.length === 0 ? 0 : p % b.length);
    switch (op.k) {
      case 'flip':
        if (b.length) b[at(op.pos)] ^= 1 << op.bit;
        break;
      case 'set':
        if (b.length) b[at(op.pos)] = op.v;
        break;
      case 'trunc':
        b = b.subarray(0, Math.min(b.length, op.len));
        break;
      case 'insert': {
        const p = at(op.pos);
        b = Buffer.concat([b.subarray(0, p), op.bytes, b.subarray(p)]);
        break;
      }
      case 'delete': {
        const p = at(op.pos);
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + op.n)]);
        break;
      }
      case 'splice': {
        const o = seeds[op.other % seeds.length];
        const from = o.length ? op.from % o.length : 0;
        const p = at(op.pos);
        const piece = o.subarray(from, from + op.n);
        b = Buffer.from(b);
        piece.copy(b, p, 0, Math.min(piece.length, b.length - p));
        break;
      }
      case 'random': {
        const p = at(op.pos);
        b = Buffer.from(b);
        Buffer.from(op.bytes).copy(b, p, 0, Math.min(op.bytes.length, b.length - p));
        break;
      }
      case 'field': {
        const f = fields[op.field % fields.length];
        if (!f) break;
        b = Buffer.from(b);
        // rel != 0: the value is the buffer length plus a small offset (lands just inside/outside).
        writeField(b, f, op.rel === 0 ? op.v : BigInt(b.length) + BigInt(op.rel) * 8n);
        break;
      }
    }
  }
  return b;
}

/** Mutated byte inputs from real seeds. */
export function mutatedBytes(seeds: Buffer[], opts: { hot?: [number, number][]; fields?: Field[]; maxOps?: number; truncMax?: number } = {}): fc.Arbitrary<Buffer> {
  const op = byteOpArb({ hot: opts.hot, fields: opts.fields, seeds: seeds.length, truncMax: opts.truncMax });
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(op, { minLength: 1, maxLength: opts.maxOps ?? 8 }))
    .map(([which, ops]) => applyByteOps(seeds, which, ops, opts.fields));
}

/** Every prefix of a header region: [0, n) cut at each length (deterministic list). */
export function prefixes(b: Buffer, upTo: number, step = 1): Buffer[] {
  const out: Buffer[] = [];
  for (let n = 0; n <= Math.min(upTo, b.length); n += step) out.push(b.subarray(0, n));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text mutations and terminal safety.

/** Control and escape sequences a hostile log could carry. */
export const NASTY: string[] = [
  '\x1b[31m',
  '\x1b[2J\x1b[H',
  '\x1b]0;pwned\x07',
  '\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\',
  '\x1bP+q\x1b\\',
  '\x9b1m',
  '\x9d0;title\x9c',
  '\x07',
  '\x08\x08\x08',
  '\r',
  '\x00',
  '\x7f',
  '\x1b',
  '\x1bc',
  '\u202e',
  '\u2028',
  '\u2066',
  '```',
  '\n```\n',
  '~~~',
  '</details>',
  '<script>',
  '"\\',
  '\ud800',
  '\udfff',
  '\ufffd',
];

/** Characters the output must never carry (C0 except \t \n, DEL, C1, ESC). */
export const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Every string inside a value (objects, arrays, Maps). */
export function strings(v: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (typeof v === 'string') out.push(v);
  else if (v && typeof v === 'object') {
    if (seen.has(v)) return out;
    seen.add(v);
    if (v instanceof Map)
      for (const [k, x] of v) {
        strings(k, out, seen);
        strings(x, out, seen);
      }
    else if (Array.isArray(v)) for (const x of v) strings(x, out, seen);
    else if (!Buffer.isBuffer(v) && !ArrayBuffer.isView(v)) for (const x of Object.values(v)) strings(x, out, seen);
  }
  return out;
}

/** The first string with a control character, or undefined. */
export function dirtyString(v: unknown): string | undefined {
  return strings(v).find((s) => CONTROL_RE.test(s));
}

export type TextOp =
  | { k: 'insert'; pos: number; s: string }
  | { k: 'delete'; pos: number; n: number }
  | { k: 'dupline'; pos: number }
  | { k: 'splice'; pos: number; other: number; from: number; n: number }
  | { k: 'nasty'; pos: number; which: number };

export function textOpArb(seeds: number): fc.Arbitrary<TextOp> {
  return fc.oneof(
    fc.record({ k: fc.constant('insert' as const), pos: fc.nat(), s: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 })) }),
    fc.record({ k: fc.constant('delete' as const), pos: fc.nat(), n: fc.integer({ min: 1, max: 400 }) }),
    fc.record({ k: fc.constant('dupline' as const), pos: fc.nat() }),
    fc.record({ k: fc.constant('splice' as const), pos: fc.nat(), other: fc.nat({ max: Math.max(0, seeds - 1) }), from: fc.nat(), n: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ k: fc.constant('nasty' as const), pos: fc.nat(), which: fc.nat({ max: NASTY.length - 1 }) }),
  );
}

export function applyTextOps(seeds: string[], which: number, ops: TextOp[]): string {
  let t = seeds[which % seeds.length];
  for (const op of ops) {
    const at = (p: number) => p % (t.length + 1);
    switch (op.k) {
      case 'insert':
        t = t.slice(0, at(op.pos)) + op.s + t.slice(at(op.pos));
        break;
      case 'delete':
        t = t.slice(0, at(op.pos)) + t.slice(at(op.pos) + op.n);
        break;
      case 'dupline': {
        const p = at(op.pos);
        const s = t.lastIndexOf('\n', p - 1) + 1;
        const e = t.indexOf('\n', p);
        const line = t.slice(s, e < 0 ? t.length : e + 1);
        t = t.slice(0, s) + line + line + t.slice(s + line.length);
        break;
      }
      case 'splice': {
        const o = seeds[op.other % seeds.length];
        const from = op.from % (o.length + 1);
        t = t.slice(0, at(op.pos)) + o.slice(from, from + op.n) + t.slice(at(op.pos));
        break;
      }
      case 'nasty':
        t = t.slice(0, at(op.pos)) + NASTY[op.which] + t.slice(at(op.pos));
        break;
    }
  }
  return t;
}

export function mutatedText(seeds: string[], maxOps = 12): fc.Arbitrary<string> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(textOpArb(seeds.length), { minLength: 1, maxLength: maxOps })).map(([w, ops]) => applyTextOps(seeds, w, ops));
}

// ---------------------------------------------------------------------------------------------
// Files.

/** A private temp dir for one test file; dumps are written here, never to fixtures. */
export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ktriage-fuzz-${tag}-`));
}

/** Read `len` bytes at `off` of a file (to cut small seeds out of large real dumps). */
export function readSlice(file: string, off: number, len: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(len);
    const n = fs.readSync(fd, b, 0, len, off);
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** Saved regression inputs of one parser (path, bytes). */
export function regressionInputs(parser: string): { file: string; bytes: Buffer }[] {
  const dir = path.join(REGRESSIONS, parser);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.md'))
    .sort()
    .map((f) => ({ file: path.join(dir, f), bytes: fs.readFileSync(path.join(dir, f)) }));
}
