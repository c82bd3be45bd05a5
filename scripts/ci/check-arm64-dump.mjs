#!/usr/bin/env node
// CI referee for a fresh arm64 dump: the boot's own serial console is the reference. The kernel
// printed its panic message, the panicking CPU/PID/comm and its own unwinder's call trace before
// QEMU dumped the guest; `ktriage analyze --json` must find the same from memory alone.
//
//   node scripts/ci/check-arm64-dump.mjs SERIAL_LOG DUMP [DUMP...]
//
// Frames are compared by function and offset from `panic` outward. The kernel prints a return
// address that points just past a noreturn call (`sysrq_handle_crash` ends in a call to panic) as
// the next symbol +0x0; such a frame matches any function, as crash and drgn also name the caller.
// panic() itself is compared by name: the console's trace was taken at its dump_stack() call, the
// dump's after it went on to wait.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [serialPath, ...dumps] = process.argv.slice(2);
if (!serialPath || dumps.length === 0) {
  console.error('usage: check-arm64-dump.mjs SERIAL_LOG DUMP [DUMP...]');
  process.exit(2);
}
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ktriage.js');
const lines = readFileSync(serialPath, 'latin1').replace(/\r/g, '').split('\n').map((l) => l.replace(/^\[\s*[\d.]+\]\s?/, ''));

const release = lines.map((l) => /^KERNEL (\S+) aarch64$/.exec(l)?.[1]).find(Boolean);
const panicAt = lines.findIndex((l) => l.startsWith('Kernel panic - not syncing: '));
if (!release || panicAt < 0) throw new Error(`${serialPath}: no KERNEL line or no panic line`);
const panicMessage = lines[panicAt].trim();
const who = lines.slice(panicAt, panicAt + 3).map((l) => /^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)/.exec(l)).find(Boolean);
if (!who) throw new Error(`${serialPath}: no "CPU: N PID: P Comm: C" line after the panic`);
const traceAt = lines.indexOf('Call trace:', panicAt);
const serialFrames = [];
for (const l of lines.slice(traceAt + 1)) {
  // 6.17+ may end a frame with its unwind source, e.g. " (C)" (arch/arm64/kernel/stacktrace.c).
  const m = /^ ?(\S+)\+0x([0-9a-f]+)\/0x[0-9a-f]+( \[\S+\])?( \([A-Z]\))?$/.exec(l);
  if (!m) break;
  serialFrames.push({ fn: m[1], off: parseInt(m[2], 16) });
}
const fromPanic = (frames) => frames.slice(frames.findIndex((f) => f.fn === 'panic'));
const want = fromPanic(serialFrames);
if (want.length < 5) throw new Error(`${serialPath}: only ${want.length} call-trace frames from panic`);

let failed = 0;
for (const dump of dumps) {
  let out;
  try {
    out = execFileSync(process.execPath, [cli, 'analyze', dump, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    console.log(`FAIL ${dump}: analyze exited ${e.status}: ${String(e.stderr).trim()}`);
    failed++;
    continue;
  }
  const r = JSON.parse(out);
  const cpu = r.cpus.find((c) => c.cpu === Number(who[1]));
  const got = fromPanic((r.backtrace?.frames ?? []).map((f) => ({ fn: f.function, off: f.offset })));
  const checks = [
    ['kernel release', r.kernelRelease, release],
    ['panic message', r.panicMessage, panicMessage],
    ['panic CPU', r.panicCpu, Number(who[1])],
    ['CPUs', r.cpus.length, 2],
    ['panicking task', cpu ? `${cpu.task?.comm} ${cpu.task?.pid}` : null, `${who[3]} ${who[2]}`],
    ['preempt_count is the 64-bit arm64 word', /^0x[0-9a-f]{16}$/.test(cpu?.preemptCount ?? ''), true],
    ['backtrace task', `${r.backtrace?.comm} ${r.backtrace?.pid}`, `${who[3]} ${who[2]}`],
    ['frames from panic', got.length, want.length],
    ...want.map((w, i) => [
      `frame ${i}`,
      got[i] ? `${got[i].fn}+0x${got[i].off.toString(16)}` : null,
      // panic() printed the trace from its dump_stack() call and then went on to its delay loop.
      w.off === 0 || (i === 0 && got[0]?.fn === 'panic') ? (got[i] ? `${got[i].fn}+0x${got[i].off.toString(16)}` : '(a frame)') : `${w.fn}+0x${w.off.toString(16)}`,
    ]),
    ['exit verdict', r.result, 'complete'],
  ];
  const bad = checks.filter(([, a, b]) => a !== b);
  console.log(`${bad.length ? 'FAIL' : 'ok  '} ${dump}: ${r.dump.format}, ${release}, "${r.panicMessage}" on CPU ${r.panicCpu} (${who[3]} pid ${who[2]}), ` +
    `${got.length} frames from panic equal the console's call trace, ${r.pagesRead} pages read`);
  for (const [what, a, b] of bad) console.log(`     ${what}: ktriage ${JSON.stringify(a)}, console ${JSON.stringify(b)}`);
  if (bad.length) failed++;
}
process.exit(failed ? 1 : 0);
