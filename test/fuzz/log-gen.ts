// Generated console-log crash reports with hostile text in every field copied into the result
// (Comm:, module names, WARN file names, hung task names, panic messages, symbols, Code: bytes).
import fc from 'fast-check';
import { NASTY } from './harness.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

/** A field value: plain, or with escape sequences / control characters spliced in. */
export const hostileField: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,14}$/),
  fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.array(fc.constantFrom(...NASTY), { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z_]{0,8}$/)).map(([a, n, b]) => a + n.join('') + b),
  fc.string({ unit: 'binary', maxLength: 24 }),
);

export interface OopsFields {
  comm: string;
  module: string;
  file: string;
  func: string;
  task: string;
  msg: string;
  code: string;
  kind: number;
  ts: boolean;
}

export const oopsFields: fc.Arbitrary<OopsFields> = fc.record({
  comm: hostileField,
  module: hostileField,
  file: hostileField,
  func: hostileField,
  task: hostileField,
  msg: hostileField,
  code: fc.oneof(fc.constant('0f 0b <0f> 0b 90'), fc.array(fc.oneof(fc.stringMatching(/^[0-9a-f]{2}$/), fc.constantFrom('<0f>', '(90)', '\x1b[1m', '<', '>')), { maxLength: 64 }).map((a) => a.join(' '))),
  kind: fc.nat({ max: 5 }),
  ts: fc.boolean(),
});

export function oopsText(f: OopsFields): string {
  const head: string[] = [];
  switch (f.kind) {
    case 0:
      head.push('------------[ cut here ]------------', `WARNING: CPU: 0 PID: 42 at ${f.file}.c:17 ${f.func}+0x1/0x10 [${f.module}]`);
      break;
    case 1:
      head.push(`BUG: kernel NULL pointer dereference, address: 0000000000000008`, `#PF: supervisor read access in kernel mode`, `Oops: 0000 [#1] PREEMPT SMP NOPTI`);
      break;
    case 2:
      head.push(`INFO: task ${f.task}:123 blocked for more than 120 seconds.`, `task:${f.task}     state:D stack:0     pid:123   ppid:2      flags:0x00004000`);
      break;
    case 3:
      head.push(`BUG: KASAN: slab-out-of-bounds in ${f.func}+0x1/0x10 [${f.module}]`, `Read of size 8 at addr ffff888000000000 by task ${f.task}/42`);
      break;
    case 4:
      head.push(`watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [${f.task}:42]`);
      break;
    default:
      head.push(`Kernel panic - not syncing: ${f.msg}`);
  }
  const body = [
    `Modules linked in: ${f.module}(OE) ext4 ${f.module}_2`,
    `CPU: 0 PID: 42 Comm: ${f.comm} Tainted: G           OE      ${DEBIAN12_AMD64} #1  Debian 6.1.192-2`,
    `Hardware name: ${f.msg}`,
    `RIP: 0010:${f.func}+0x1/0x10 [${f.module}]`,
    `Code: ${f.code}`,
    'RSP: 0018:ffffc90000003e38 EFLAGS: 00010046',
    'Call Trace:',
    ' <TASK>',
    ` ${f.func}+0x1/0x10 [${f.module}]`,
    ` ? ${f.func}_helper+0x22/0x40`,
    ' do_syscall_64+0x55/0xb0',
    ' </TASK>',
    `Kernel panic - not syncing: ${f.msg}`,
    '---[ end Kernel panic - not syncing: x ]---',
  ];
  return [...head, ...body].map((l, i) => (f.ts ? `[  ${i}.00000${i % 10}] ${l}` : l)).join('\n') + '\n';
}
