// Ad-hoc timing of the kernel layer on a real dump (not a test): node <compiled>/bench-kallsyms.js <dump>
import { TinyElfDump } from './helpers.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { KernelMemory } from '../../src/kernel/memory.js';
import { readKallsyms, kallsymsTablesFromVmcoreinfo } from '../../src/kernel/kallsyms.js';

const d = new TinyElfDump(process.argv[2] ?? '/work/dumps/buggy-2cpu.elf');
const vi = parseVmcoreinfo(d.vmcoreinfo!);
for (let i = 0; i < 3; i++) {
  const mem = new KernelMemory(d, vi);
  const t0 = performance.now();
  const k = readKallsyms(mem, kallsymsTablesFromVmcoreinfo(vi)!, vi.symbols.get('_stext'));
  console.log('kallsyms ms', (performance.now() - t0).toFixed(1), JSON.stringify(k.timing));
}
