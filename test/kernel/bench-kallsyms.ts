// Ad-hoc timing of the kernel layer on a real dump (not a test): node <compiled>/bench-kallsyms.js <dump>
import { TinyElfDump } from './helpers.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { KernelMemory } from '../../src/kernel/memory.js';
import { readKallsyms, kallsymsTablesFromVmcoreinfo } from '../../src/kernel/kallsyms.js';
import { Btf } from '../../src/kernel/btf.js';

const d = new TinyElfDump(process.argv[2] ?? '/work/dumps/buggy-2cpu.elf');
const vi = parseVmcoreinfo(d.vmcoreinfo!);
for (let i = 0; i < 3; i++) {
  const mem = new KernelMemory(d, vi);
  let t0 = performance.now();
  const k = readKallsyms(mem, kallsymsTablesFromVmcoreinfo(vi)!, vi.symbols.get('_stext'));
  console.log('kallsyms ms', (performance.now() - t0).toFixed(1), JSON.stringify(k.timing));
  t0 = performance.now();
  const raw = mem.readVirtual(k.table.lookup('__start_BTF')!, Number(k.table.lookup('__stop_BTF')! - k.table.lookup('__start_BTF')!));
  const t1 = performance.now();
  const btf = Btf.parse(raw);
  const t2 = performance.now();
  const r = [btf.offsetOf('task_struct', 'comm'), btf.offsetOf('task_struct', 'pid'), btf.sizeOf('pcpu_hot'), btf.offsetOf('pt_regs', 'ip')];
  const t3 = performance.now();
  console.log('btf read', (t1 - t0).toFixed(1), 'parse', (t2 - t1).toFixed(1), 'lookups', (t3 - t2).toFixed(1), r);
}
