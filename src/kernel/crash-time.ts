// When the machine crashed, from the best evidence the dump holds, always saying which:
//   1. VMCOREINFO CRASHTIME: written by crash_save_vmcoreinfo() on the crashing CPU (kdump only;
//      QEMU dump-guest-memory and virsh dumps of a live guest have none).
//   2. the kernel's wall clock, timekeeper.xtime_sec (tk_core up to 6.12, timekeeper_data[0]
//      from 6.13): the last tick's time. This is what crash's `sys` prints as DATE (crash
//      kernel.c get_xtime()), so it is shown beside the others whenever it can be read.
//   3. the dump file's header timestamp (makedumpfile's disk_dump_header.timestamp): when the
//      dump was written, which can be later than the crash.
//   4. the log: an "rtc ...: setting system clock to <date> (<epoch>)" record ties the monotonic
//      log clock to the wall clock; the last record's timestamp then dates the crash.

import type { Btf } from './btf.js';
import type { Kernel } from './kernel.js';
import type { KernelLog } from './printk.js';
import type { SymbolTable } from './symbols.js';
import { onlyDumpData } from '../util/errors.js';

export interface CrashTimeCandidate {
  /** Seconds since the epoch (UTC). */
  seconds: number;
  source: 'vmcoreinfo-crashtime' | 'timekeeper-xtime' | 'dump-header' | 'log-rtc';
  how: string;
}

export interface CrashTime {
  seconds: number;
  iso: string;
  /** As crash's `sys` prints DATE: "Wed Nov 25 06:51:05 UTC 2026". */
  date: string;
  source: CrashTimeCandidate['source'];
  how: string;
  /** Every source that could be read, best first. */
  candidates: CrashTimeCandidate[];
}

export interface CrashTimeInputs {
  crashTime?: number;
  headerTimestamp?: number;
  syms?: SymbolTable | null;
  btf?: () => BtfAnswers | undefined;
  readU64?: (addr: bigint) => bigint | undefined;
  log?: () => KernelLog | undefined;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) layout in UTC, with the zone before the year as crash's ctime_tz() prints it. */
export function crashStyleDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

// A date a kernel could plausibly have: after 2000, before 2200. Outside, the field is garbage.
const plausible = (s: number | undefined): s is number => s !== undefined && Number.isFinite(s) && s > 946684800 && s < 7258118400;

/** The BTF questions the crash time asks: a Btf, or answers kept in the build cache (Kernel.btfFact). */
export type BtfAnswers = Pick<Btf, 'offsetOf' | 'sizeOf'>;

/** timekeeper.xtime_sec through BTF; undefined when any piece is missing. */
export function readXtimeSec(syms: SymbolTable, btf: BtfAnswers | undefined, readU64: (a: bigint) => bigint | undefined): { seconds: number; how: string } | undefined {
  if (!btf) return undefined;
  const xtime = btf.offsetOf('timekeeper', 'xtime_sec');
  if (xtime === undefined) return undefined;
  let base: bigint | undefined;
  let how: string;
  const data = syms.lookup('timekeeper_data');
  const core = syms.lookup('tk_core');
  if (data !== undefined) {
    const tk = btf.offsetOf('tk_data', 'timekeeper');
    if (tk === undefined) return undefined;
    base = data + BigInt(tk);
    how = `timekeeper_data[0].timekeeper.xtime_sec (offsets from BTF)`;
  } else if (core !== undefined) {
    // tk_core is an anonymous struct { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; }
    // that BTF does not describe: timekeeper follows seq, aligned to 8 (it starts with u64s).
    const seq = btf.sizeOf('seqcount_raw_spinlock_t') ?? btf.sizeOf('seqcount_raw_spinlock');
    if (seq === undefined) return undefined;
    const tk = Math.ceil(seq / 8) * 8;
    base = core + BigInt(tk);
    how = `tk_core.timekeeper.xtime_sec (timekeeper at +${tk} after the ${seq}-byte seqcount, xtime_sec at +${xtime} from BTF)`;
  } else return undefined;
  const v = readU64(base + BigInt(xtime));
  if (v === undefined) return undefined;
  return { seconds: Number(BigInt.asIntN(64, v)), how };
}

const RTC_SET = /setting system clock to \S+ \S*\s*\((\d+)\)/;

/** Wall time of the last log record, from an RTC "setting system clock" record earlier in the log. */
export function logWallClock(log: KernelLog): { seconds: number; how: string } | undefined {
  const recs = log.records;
  const last = recs[recs.length - 1];
  if (!last) return undefined;
  for (const r of recs) {
    const m = RTC_SET.exec(r.text);
    if (!m) continue;
    const deltaNs = last.tsNsec - r.tsNsec;
    const seconds = Number(m[1]) + Math.floor(Number(deltaNs / 1_000_000n) / 1000);
    return { seconds, how: `RTC set the clock to ${m[1]} at log time ${(Number(r.tsNsec / 1000n) / 1e6).toFixed(6)}; last record at ${(Number(last.tsNsec / 1000n) / 1e6).toFixed(6)}` };
  }
  return undefined;
}

export function findCrashTime(i: CrashTimeInputs): CrashTime | undefined {
  const c: CrashTimeCandidate[] = [];
  if (plausible(i.crashTime)) c.push({ seconds: i.crashTime, source: 'vmcoreinfo-crashtime', how: 'VMCOREINFO CRASHTIME' });
  if (i.syms && i.readU64) {
    let x: { seconds: number; how: string } | undefined;
    try {
      x = readXtimeSec(i.syms, i.btf?.(), i.readU64);
    } catch (e) {
      onlyDumpData(e);
      x = undefined;
    }
    if (x && plausible(x.seconds)) c.push({ seconds: x.seconds, source: 'timekeeper-xtime', how: `${x.how}: the wall clock at the last tick, crash's sys DATE` });
  }
  if (plausible(i.headerTimestamp)) c.push({ seconds: i.headerTimestamp, source: 'dump-header', how: 'dump file header timestamp (when the dump was written)' });
  // The log is the costliest source and the least precise: only when nothing else dated the crash.
  if (i.log && c.length === 0) {
    let l: { seconds: number; how: string } | undefined;
    try {
      const log = i.log();
      l = log ? logWallClock(log) : undefined;
    } catch (e) {
      onlyDumpData(e);
      l = undefined;
    }
    if (l && plausible(l.seconds)) c.push({ seconds: l.seconds, source: 'log-rtc', how: `kernel log: ${l.how}` });
  }
  const best = c[0];
  if (!best) return undefined;
  return { seconds: best.seconds, iso: new Date(best.seconds * 1000).toISOString(), date: crashStyleDate(best.seconds), source: best.source, how: best.how, candidates: c };
}

/** The crash time of an opened dump (reads BTF and, as a last resort, the log). */
export function crashTimeOfKernel(k: Kernel): CrashTime | undefined {
  const ts = k.dump.info.details.timestamp;
  return findCrashTime({
    crashTime: k.vmcoreinfo.crashTime,
    headerTimestamp: typeof ts === 'number' ? ts : undefined,
    syms: k.symbolsOrNull(),
    // Through the build cache's BTF answers: a warm `info` then does not read the BTF blob.
    btf: () => ({
      offsetOf: (struct: string, member: string) => k.btfFact(`offsetOf ${struct} ${member}`, (b) => b.offsetOf(struct, member)),
      sizeOf: (name: string) => k.btfFact(`sizeOf ${name}`, (b) => b.sizeOf(name)),
    }),
    readU64: (a) => k.memory.tryU64(a),
    log: () => k.log,
  });
}

const NO_CRASH_TIME = 'none: no VMCOREINFO CRASHTIME, no readable timekeeper, no header timestamp, no RTC record in the log';

/** The fields `info` prints (and `--json` carries): ISO time, crash's DATE text, and where it came from. */
export function crashTimeFields(k: Kernel): Record<string, string | null> {
  const ct = crashTimeOfKernel(k);
  if (!ct) return { crashTime: null, crashDate: null, crashTimeSource: NO_CRASH_TIME };
  const out: Record<string, string | null> = { crashTime: ct.iso, crashDate: ct.date, crashTimeSource: ct.how };
  // crash's DATE is the wall clock, not CRASHTIME: show it when the two disagree.
  const x = ct.candidates.find((c) => c.source === 'timekeeper-xtime');
  if (x && x !== ct.candidates[0] && x.seconds !== ct.seconds) out.wallClock = `${crashStyleDate(x.seconds)} (${x.how})`;
  return out;
}
