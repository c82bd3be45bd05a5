import { describe, expect, it } from 'vitest';
import { parseVmcoreinfo, requireOffset } from '../../src/kernel/vmcoreinfo.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

const TEXT = `OSRELEASE=${DEBIAN12_AMD64}
BUILD-ID=eb4fbcd037e7253717950bf2b93bd5566f47c56f
PAGESIZE=4096
SYMBOL(init_uts_ns)=ffffffffaf9fb000
OFFSET(uts_namespace.name)=0
SYMBOL(_stext)=ffffffffade00000
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.text_data_ring)=48
LENGTH(printk_info_device)=48
NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
NUMBER(VMALLOC_START)=0xffffc90000000000
NUMBER(phys_base)=-677380096
SYMBOL(init_top_pgt)=ffffffffaf810000
NUMBER(pgtable_l5_enabled)=1
KERNELOFFSET=2ce00000
NUMBER(KERNEL_IMAGE_SIZE)=1073741824
CRASHTIME=1764052800
garbage line
SYMBOL(bad)=xyz
\0\0\0`;

describe('parseVmcoreinfo', () => {
  it('parses every kind of entry, with a negative phys_base', () => {
    const vi = parseVmcoreinfo(TEXT);
    expect(vi.osrelease).toBe(DEBIAN12_AMD64);
    expect(vi.buildId).toBe('eb4fbcd037e7253717950bf2b93bd5566f47c56f');
    expect(vi.pageSize).toBe(4096);
    expect(vi.physBase).toBe(-677380096n);
    expect(vi.kernelOffset).toBe(0x2ce00000n);
    expect(vi.pgtableL5).toBe(true);
    expect(vi.crashTime).toBe(1764052800);
    expect(vi.symbols.get('init_top_pgt')).toBe(0xffffffffaf810000n);
    expect(vi.symbols.get('_stext')).toBe(0xffffffffade00000n);
    expect(vi.offsets.get('printk_ringbuffer.text_data_ring')).toBe(48);
    expect(vi.sizes.get('printk_ringbuffer')).toBe(88);
    expect(vi.lengths.get('printk_info_device')).toBe(48n);
    expect(vi.numbers.get('PAGE_BUDDY_MAPCOUNT_VALUE')).toBe(-129n);
    expect(vi.numbers.get('VMALLOC_START')).toBe(0xffffc90000000000n);
    expect(vi.numbers.get('KERNEL_IMAGE_SIZE')).toBe(1n << 30n);
    expect(vi.malformed).toEqual(['garbage line', 'SYMBOL(bad)=xyz']);
    expect(vi.symbols.has('bad')).toBe(false);
    expect(requireOffset(vi, 'uts_namespace.name')).toBe(0);
    expect(() => requireOffset(vi, 'nope.x')).toThrow('VMCOREINFO lacks OFFSET(nope.x)');
  });

  it('defaults and 4-level paging', () => {
    const vi = parseVmcoreinfo('OSRELEASE=5.10.0\nNUMBER(pgtable_l5_enabled)=0\n');
    expect(vi.pageSize).toBe(4096);
    expect(vi.pgtableL5).toBe(false);
    expect(vi.physBase).toBeUndefined();
    expect(vi.kernelOffset).toBeUndefined();
    expect(vi.crashTime).toBeUndefined();
  });

  it('rejects an absurd note', () => {
    expect(() => parseVmcoreinfo('A'.repeat(2 << 20))).toThrow(/implausibly large/);
  });
});
