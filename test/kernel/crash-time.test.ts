// The crash time, checked against crash 8.0.2's `sys` DATE for the same dump
// (fixtures/vmcore-debian-6.1.192-buggy-2cpu/crash.kdump-zlib.txt: "DATE: Wed Nov 25 06:51:05 UTC 2026")
// and `p tk_core.timekeeper.xtime_sec` = 1795589465, `p &tk_core.timekeeper` = <tk_core+8>, run by
// hand with the Debian 12 6.1.192 -dbg vmlinux.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashStyleDate, crashTimeFields, findCrashTime, logWallClock, readXtimeSec } from '../../src/kernel/crash-time.js';
import { openKernel } from '../../src/kernel/kernel.js';
import type { KernelLog } from '../../src/kernel/printk.js';
import { openDumpAsync } from '../../src/vmcore/index.js';

const FIX = path.resolve(import.meta.dirname, '../../fixtures/vmcore-debian-6.1.192-buggy-2cpu');
const DUMP = path.join(FIX, 'vmcore.d31.kdump-zlib');

describe('crash time', () => {
  it('prints DATE as crash does', () => {
    expect(crashStyleDate(1795589465)).toBe('Wed Nov 25 06:51:05 UTC 2026');
    expect(crashStyleDate(0 + 86400 * 365 * 40 + 3)).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}$/);
  });

  it('the fixture: CRASHTIME first, equal to crash\'s DATE; the timekeeper agrees', async () => {
    const crashDate = /DATE: (.*)/.exec(fs.readFileSync(path.join(FIX, 'crash.kdump-zlib.txt'), 'utf8'))![1].trim();
    const dump = await openDumpAsync(DUMP);
    try {
      const k = openKernel(dump);
      const f = crashTimeFields(k);
      expect(f).toMatchObject({ crashTime: '2026-11-25T06:51:05.000Z', crashDate, crashTimeSource: 'VMCOREINFO CRASHTIME' });
      // Without CRASHTIME (a QEMU dump of a live guest): the timekeeper, which is crash's own source.
      const x = readXtimeSec(k.symbols, k.btf, (a) => k.memory.tryU64(a));
      expect(x?.seconds).toBe(1795589465);
      expect(x?.how).toMatch(/timekeeper at \+8/);
      const noCt = findCrashTime({ syms: k.symbols, btf: () => k.btf, readU64: (a) => k.memory.tryU64(a), headerTimestamp: 1795589470 });
      expect(noCt).toMatchObject({ source: 'timekeeper-xtime', date: crashDate });
      expect(noCt?.candidates.map((c) => c.source)).toEqual(['timekeeper-xtime', 'dump-header']);
    } finally {
      dump.close();
    }
  });

  it('falls back to the header, then to an RTC record in the log, and says so', () => {
    expect(findCrashTime({ headerTimestamp: 1795589465 })).toMatchObject({ source: 'dump-header', date: 'Wed Nov 25 06:51:05 UTC 2026' });
    const log = {
      records: [
        { tsNsec: 3_238_000_000n, text: 'rtc_cmos 00:04: setting system clock to 2026-11-25T06:50:27 UTC (1795589427)' },
        { tsNsec: 41_484_543_000n, text: ' </TASK>' },
      ],
    } as unknown as KernelLog;
    expect(logWallClock(log)?.seconds).toBe(1795589427 + 38);
    const t = findCrashTime({ log: () => log });
    expect(t).toMatchObject({ source: 'log-rtc', date: 'Wed Nov 25 06:51:05 UTC 2026' });
    expect(findCrashTime({ crashTime: 12 })).toBeUndefined();
  });
});
