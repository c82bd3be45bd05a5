// Ad-hoc timing of the kernel layer on real dumps (not a test; compile with tsc and run with node):
//   node <out>/test/kernel/bench-kallsyms.js fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib ...
import { openKernel } from '../../src/kernel/kernel.js';
import { formatLog } from '../../src/kernel/printk.js';
import { openRealDump } from './helpers.js';

for (const f of process.argv.slice(2)) {
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const d = await openRealDump(f);
    const t1 = performance.now();
    const k = openKernel(d);
    k.percpu.preemptCount();
    k.percpu.inKernelFpu();
    const cur = k.percpu.currentTask();
    const t2 = performance.now();
    const text = formatLog(k.log);
    const t3 = performance.now();
    const p = k.panicCpu;
    const t4 = performance.now();
    const task = k.task(cur!.values[p.cpu ?? 0].value!);
    const t5 = performance.now();
    console.log(
      `${f.split('/').pop()} open ${(t1 - t0).toFixed(0)} percpu ${(t2 - t1).toFixed(0)} log ${(t3 - t2).toFixed(0)} (${text.length} B) panicCpu ${(t4 - t3).toFixed(0)} task+btf ${(t5 - t4).toFixed(0)} ` +
        `total ${(t5 - t0).toFixed(0)} ms; pages ${d.pagesTouched.size}; ${task.comm}/${task.pid}; ${JSON.stringify(Object.fromEntries(Object.entries(k.timing).map(([a, b]) => [a, Math.round(b)])))}`,
    );
    d.close();
  }
}
