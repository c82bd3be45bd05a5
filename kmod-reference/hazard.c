// SPDX-License-Identifier: GPL-2.0
/*
 * hazard - reference module for the "kprobe handler allocates from slab in
 * NMI context" incident that ktriage diagnoses.
 *
 * A kprobe on copy_page_to_iter() (every buffered file read passes through
 * it) records page-cache accesses per file: struct page -> mapping -> inode.
 * Per-file statistics objects live in a private kmem_cache of 1 KiB objects
 * and can be read from /sys/kernel/debug/hazard/stats.
 *
 * The probe sits on an instruction boundary *inside* the function, so it is
 * an int3-based kprobe (a probe at the fentry site would become an
 * ftrace-based probe that runs in the caller's context).  On x86 a
 * kernel-mode int3 is handled by exc_int3() between irqentry_nmi_enter() and
 * irqentry_nmi_exit(): the handler runs in NMI context (in_nmi() is true).
 * On arm64 the probe is a BRK instruction; el1_dbg() -> arm64_enter_el1_dbg()
 * (6.1) does rcu_nmi_enter() but not __nmi_enter(): the handler runs with
 * interrupts masked, preempt_count unchanged, in_nmi() false.  The debugfs
 * stats (handler_context) show what the handler saw the first time it ran.
 *
 * mode=buggy     kmem_cache_alloc(GFP_ATOMIC) in the post handler, as the
 *                incident did.  When the allocation needs a new slab,
 *                SLAB_FREELIST_RANDOM asks get_random_u32(); when the per-CPU
 *                batch is empty and the CRNG seed is old, crng_reseed() runs
 *                BLAKE2s, whose SIMD path calls kernel_fpu_begin() ->
 *                irq_fpu_usable(), which WARNs on in_nmi().
 * mode=seed-fix  the incident author's workaround: call the kernel's
 *                cache_random_seq_destroy() (found through kallsyms) on the
 *                private cache, so shuffle_freelist() returns early and never
 *                asks for random bytes.  Still allocates in NMI context.
 * mode=deferred  (default, recommended) the handler never allocates: it
 *                writes a small event into a preallocated per-CPU ring and
 *                raises an irq_work; a work item drains the rings in process
 *                context, allocates with GFP_KERNEL and updates the stats.
 *                A full ring drops the event and counts it.
 *
 * See README.md for the reasoning.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/workqueue.h>
#ifdef CONFIG_ARM64
#include <asm/simd.h>
#endif

#define HAZARD_PROBE_SYMBOL	"copy_page_to_iter"
#define HAZARD_MAX_OFFSET	64
#define HAZARD_HASH_BITS	10
#define HAZARD_OBJ_SIZE		1024
#define HAZARD_RING_SIZE	512	/* events per CPU, power of two */

enum hazard_mode {
	HAZARD_MODE_BUGGY,
	HAZARD_MODE_SEED_FIX,
	HAZARD_MODE_DEFERRED,
};

static const char * const hazard_mode_names[] = {
	[HAZARD_MODE_BUGGY]	= "buggy",
	[HAZARD_MODE_SEED_FIX]	= "seed-fix",
	[HAZARD_MODE_DEFERRED]	= "deferred",
};

static char *mode = "deferred";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "buggy | seed-fix | deferred (default)");

static unsigned int reclaim_ms = 200;
module_param(reclaim_ms, uint, 0444);
MODULE_PARM_DESC(reclaim_ms,
		 "period of the reclaim work that frees all stats objects and shrinks the cache (0 = off)");

static unsigned int min_offset = 5;
module_param(min_offset, uint, 0444);
MODULE_PARM_DESC(min_offset,
		 "first probe offset tried in copy_page_to_iter (default 5: past a 5-byte fentry site)");

static enum hazard_mode hmode;

/* One per file seen; padded to 1 KiB like the incident's file_stat. */
struct hazard_stat {
	union {
		struct {
			struct hlist_node node;
			unsigned long ino;
			u64 hits;
			unsigned long first_seen;
			dev_t dev;
		};
		char pad[HAZARD_OBJ_SIZE];
	};
};

static_assert(sizeof(struct hazard_stat) == HAZARD_OBJ_SIZE);

/* An access recorded by the deferred handler. */
struct hazard_event {
	unsigned long ino;
	dev_t dev;
};

struct hazard_ring {
	unsigned int head;	/* written only by the handler on this CPU */
	unsigned int tail;	/* written only by the drain work */
	struct hazard_event ev[HAZARD_RING_SIZE];
};

static struct kmem_cache *stat_cachep;
static DEFINE_HASHTABLE(stat_table, HAZARD_HASH_BITS);
/*
 * Protects stat_table.  In buggy and seed-fix modes the kprobe handler takes
 * it with trylock only (it runs in NMI context and must never spin on a lock
 * the interrupted code may hold); process context takes it with interrupts
 * off.  In deferred mode only process context takes it.
 */
static DEFINE_RAW_SPINLOCK(stat_lock);
static unsigned long nr_live;		/* under stat_lock */

static atomic64_t nr_events;		/* handler invocations that saw a file */
static atomic64_t nr_dropped;		/* events not accounted */
static atomic64_t nr_allocs;
static atomic64_t nr_alloc_fail;
static atomic64_t nr_frees;
static atomic64_t nr_reclaims;
static atomic64_t nr_drained;

static struct hazard_ring __percpu *rings;
static DEFINE_PER_CPU(struct irq_work, drain_irq_work);
static struct work_struct drain_work;
static struct delayed_work reclaim_work;
static bool stopping;

static struct kprobe kp;
static unsigned int probe_offset;
static struct dentry *dbg_dir;

static void (*seq_destroy_fn)(struct kmem_cache *s);

static void hazard_stat_ctor(void *obj)
{
	/*
	 * Having a constructor makes the cache unmergeable: without it
	 * SLAB_MERGE_DEFAULT would alias it to kmalloc-1k, and seed-fix would
	 * strip the freelist randomization of a shared kernel cache.
	 */
	memset(obj, 0, HAZARD_OBJ_SIZE);
}

static struct hazard_stat *stat_lookup(unsigned long ino, dev_t dev)
{
	struct hazard_stat *st;

	hash_for_each_possible(stat_table, st, node, ino ^ dev) {
		if (st->ino == ino && st->dev == dev)
			return st;
	}
	return NULL;
}

static void stat_insert(struct hazard_stat *st, unsigned long ino, dev_t dev,
			u64 hits)
{
	st->ino = ino;
	st->dev = dev;
	st->hits = hits;
	st->first_seen = jiffies;
	hash_add(stat_table, &st->node, ino ^ dev);
	nr_live++;
}

/* Before folios (5.16) the head page holds ->mapping; 7.2 calls the flags FOLIO_MAPPING_FLAGS. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 16, 0)
#define page_folio(p) compound_head(p)
#endif
#ifndef PAGE_MAPPING_FLAGS
#define PAGE_MAPPING_FLAGS FOLIO_MAPPING_FLAGS
#endif

/* Reads the file identity of the page being copied; NMI safe (no locks). */
static bool page_file_id(struct page *page, unsigned long *ino, dev_t *dev)
{
	struct address_space *mapping;
	struct inode *inode;

	if (!page)
		return false;
	mapping = READ_ONCE(page_folio(page)->mapping);
	if (!mapping || ((unsigned long)mapping & PAGE_MAPPING_FLAGS))
		return false;
	inode = READ_ONCE(mapping->host);
	if (!inode)
		return false;
	*ino = inode->i_ino;
	*dev = inode->i_sb->s_dev;
	return true;
}

/*
 * buggy and seed-fix: account the access right here, allocating a stats
 * object for a file not seen before.  This is the incident's design.
 */
static void account_in_handler(unsigned long ino, dev_t dev)
{
	struct hazard_stat *st;

	if (!raw_spin_trylock(&stat_lock)) {
		atomic64_inc(&nr_dropped);
		return;
	}
	st = stat_lookup(ino, dev);
	if (st) {
		st->hits++;
	} else {
		/* The hazard: a slab allocation in NMI context. */
		st = kmem_cache_alloc(stat_cachep, GFP_ATOMIC);
		if (st) {
			atomic64_inc(&nr_allocs);
			stat_insert(st, ino, dev, 1);
		} else {
			atomic64_inc(&nr_alloc_fail);
			atomic64_inc(&nr_dropped);
		}
	}
	raw_spin_unlock(&stat_lock);
}

/*
 * deferred: single producer (this CPU's kprobe handler; kprobes do not nest
 * on one CPU), single consumer (drain_work, which is not reentrant).
 */
static void record_event(unsigned long ino, dev_t dev)
{
	struct hazard_ring *r = this_cpu_ptr(rings);
	unsigned int head = r->head;
	unsigned int tail = smp_load_acquire(&r->tail);

	if (head - tail >= HAZARD_RING_SIZE) {
		atomic64_inc(&nr_dropped);
		return;
	}
	r->ev[head & (HAZARD_RING_SIZE - 1)].ino = ino;
	r->ev[head & (HAZARD_RING_SIZE - 1)].dev = dev;
	smp_store_release(&r->head, head + 1);
	/* irq_work_queue() is NMI safe; the irq_work runs in hardirq context. */
	irq_work_queue(this_cpu_ptr(&drain_irq_work));
}

/*
 * What the handler saw the first time it ran: the evidence of its context on
 * this architecture (x86: int3 -> exc_int3() -> irqentry_nmi_enter(); arm64:
 * BRK -> el1_dbg() -> arm64_enter_el1_dbg()).  Recorded once, cheaply.
 */
static atomic_t ctx_state = ATOMIC_INIT(0);	/* 0 none, 1 writing, 2 recorded */
static struct {
	unsigned int preempt_count;
	int cpu;
	pid_t pid;
	bool in_nmi, in_hardirq, in_serving_softirq, irqs_disabled;
	int may_use_simd;	/* -1: not asked (x86: irq_fpu_usable() WARNs in NMI) */
	char comm[TASK_COMM_LEN];
} ctx;

static void record_context(void)
{
	if (atomic_read(&ctx_state) || atomic_cmpxchg(&ctx_state, 0, 1) != 0)
		return;
	ctx.preempt_count = preempt_count();
	ctx.cpu = smp_processor_id();
	ctx.pid = current->pid;
	memcpy(ctx.comm, current->comm, TASK_COMM_LEN);
	ctx.comm[TASK_COMM_LEN - 1] = 0;
	ctx.in_nmi = in_nmi();
	ctx.in_hardirq = in_hardirq();
	ctx.in_serving_softirq = in_serving_softirq();
	ctx.irqs_disabled = irqs_disabled();
#ifdef CONFIG_ARM64
	/* arm64: !in_hardirq && !irqs_disabled && !in_nmi && !fpsimd_context_busy. */
	ctx.may_use_simd = may_use_simd() ? 1 : 0;
#else
	ctx.may_use_simd = -1;
#endif
	atomic_set_release(&ctx_state, 2);
	/* In NMI context printk() stores the line and defers the console. */
	pr_info("handler context: preempt_count=0x%x in_nmi=%d in_hardirq=%d in_serving_softirq=%d irqs_disabled=%d may_use_simd=%d cpu=%d pid=%d comm=%s\n",
		ctx.preempt_count, ctx.in_nmi, ctx.in_hardirq,
		ctx.in_serving_softirq, ctx.irqs_disabled, ctx.may_use_simd,
		ctx.cpu, ctx.pid, ctx.comm);
}

static void post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	/*
	 * The probe is early in the function, before the first argument
	 * register is reused: %rdi on x86 (after the prologue's pushes), x0
	 * on arm64 (after paciasp/stp/mov x29, sp) still hold @page.
	 */
	struct page *page = (struct page *)regs_get_kernel_argument(regs, 0);
	unsigned long ino;
	dev_t dev;

	record_context();
	if (!page_file_id(page, &ino, &dev))
		return;
	atomic64_inc(&nr_events);
	if (hmode == HAZARD_MODE_DEFERRED)
		record_event(ino, dev);
	else
		account_in_handler(ino, dev);
}
NOKPROBE_SYMBOL(post);

static void drain_irq_work_fn(struct irq_work *w)
{
	if (!READ_ONCE(stopping))
		queue_work(system_wq, &drain_work);
}

static void drain_one(const struct hazard_event *ev)
{
	struct hazard_stat *st, *new;
	unsigned long flags;

	raw_spin_lock_irqsave(&stat_lock, flags);
	st = stat_lookup(ev->ino, ev->dev);
	if (st)
		st->hits++;
	raw_spin_unlock_irqrestore(&stat_lock, flags);
	if (st)
		return;

	new = kmem_cache_alloc(stat_cachep, GFP_KERNEL);
	if (!new) {
		atomic64_inc(&nr_alloc_fail);
		atomic64_inc(&nr_dropped);
		return;
	}
	atomic64_inc(&nr_allocs);

	raw_spin_lock_irqsave(&stat_lock, flags);
	st = stat_lookup(ev->ino, ev->dev);
	if (st) {
		st->hits++;
	} else {
		stat_insert(new, ev->ino, ev->dev, 1);
		new = NULL;
	}
	raw_spin_unlock_irqrestore(&stat_lock, flags);
	if (new) {
		kmem_cache_free(stat_cachep, new);
		atomic64_inc(&nr_frees);
	}
}

static void drain_rings(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hazard_ring *r = per_cpu_ptr(rings, cpu);
		unsigned int tail = r->tail;
		unsigned int head = smp_load_acquire(&r->head);

		while (tail != head) {
			struct hazard_event ev = r->ev[tail & (HAZARD_RING_SIZE - 1)];

			smp_store_release(&r->tail, ++tail);
			drain_one(&ev);
			atomic64_inc(&nr_drained);
			cond_resched();
		}
	}
}

static void drain_work_fn(struct work_struct *w)
{
	drain_rings();
}

static void free_all_stats(void)
{
	struct hazard_stat *st;
	struct hlist_node *tmp;
	HLIST_HEAD(victims);
	unsigned long flags;
	int bkt;

	raw_spin_lock_irqsave(&stat_lock, flags);
	hash_for_each_safe(stat_table, bkt, tmp, st, node) {
		hash_del(&st->node);
		hlist_add_head(&st->node, &victims);
		nr_live--;
	}
	raw_spin_unlock_irqrestore(&stat_lock, flags);

	hlist_for_each_entry_safe(st, tmp, &victims, node) {
		hlist_del(&st->node);
		kmem_cache_free(stat_cachep, st);
		atomic64_inc(&nr_frees);
	}
}

/*
 * Forget everything and give the empty slabs back, so the next accesses
 * need new slabs (and, with freelist randomization, random numbers).
 */
static void reclaim_work_fn(struct work_struct *w)
{
	free_all_stats();
	kmem_cache_shrink(stat_cachep);
	atomic64_inc(&nr_reclaims);
	if (!READ_ONCE(stopping) && reclaim_ms)
		schedule_delayed_work(&reclaim_work, msecs_to_jiffies(reclaim_ms));
}

static int stats_show(struct seq_file *m, void *v)
{
	struct hazard_stat *st;
	unsigned long flags;
	unsigned int shown = 0;
	int bkt;

	seq_printf(m, "mode: %s\n", hazard_mode_names[hmode]);
	seq_printf(m, "probe: %pS (offset %u) ftrace=%d nmissed=%lu\n",
		   kp.addr, probe_offset, kprobe_ftrace(&kp) ? 1 : 0, kp.nmissed);
	seq_printf(m, "random_seq_destroyed: %d\n", seq_destroy_fn ? 1 : 0);
	if (atomic_read_acquire(&ctx_state) == 2)
		seq_printf(m, "handler_context: preempt_count=0x%x in_nmi=%d in_hardirq=%d in_serving_softirq=%d irqs_disabled=%d may_use_simd=%d cpu=%d pid=%d comm=%s\n",
			   ctx.preempt_count, ctx.in_nmi, ctx.in_hardirq,
			   ctx.in_serving_softirq, ctx.irqs_disabled,
			   ctx.may_use_simd, ctx.cpu, ctx.pid, ctx.comm);
	else
		seq_puts(m, "handler_context: none yet\n");
	seq_printf(m, "events: %lld\n", (long long)atomic64_read(&nr_events));
	seq_printf(m, "dropped: %lld\n", (long long)atomic64_read(&nr_dropped));
	seq_printf(m, "drained: %lld\n", (long long)atomic64_read(&nr_drained));
	seq_printf(m, "allocs: %lld\n", (long long)atomic64_read(&nr_allocs));
	seq_printf(m, "alloc_failures: %lld\n",
		   (long long)atomic64_read(&nr_alloc_fail));
	seq_printf(m, "frees: %lld\n", (long long)atomic64_read(&nr_frees));
	seq_printf(m, "reclaims: %lld\n", (long long)atomic64_read(&nr_reclaims));

	raw_spin_lock_irqsave(&stat_lock, flags);
	seq_printf(m, "live: %lu\n", nr_live);
	hash_for_each(stat_table, bkt, st, node) {
		if (shown++ >= 20)
			break;
		seq_printf(m, "file %u:%u ino %lu hits %llu\n", MAJOR(st->dev),
			   MINOR(st->dev), st->ino, (unsigned long long)st->hits);
	}
	raw_spin_unlock_irqrestore(&stat_lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/*
 * kallsyms_lookup_name() is not exported since 5.7.  register_kprobe() still
 * resolves a symbol name with it internally, so a kprobe on the symbol
 * "kallsyms_lookup_name" tells us its address; the probe is removed at once.
 */
static unsigned long lookup_name(const char *name)
{
	typedef unsigned long (*kallsyms_lookup_name_t)(const char *name);
	static kallsyms_lookup_name_t fn;
	struct kprobe probe = { .symbol_name = "kallsyms_lookup_name" };

	if (!fn) {
		if (register_kprobe(&probe) < 0)
			return 0;
		fn = (kallsyms_lookup_name_t)probe.addr;
		unregister_kprobe(&probe);
	}
	return fn ? fn(name) : 0;
}

static int register_probe(void)
{
	unsigned int off;
	int ret = -ENOENT;

	/*
	 * Offset 0 is where a traced function has its 5-byte fentry call: with
	 * KPROBES_ON_FTRACE a probe there is ftrace-based and runs in the
	 * caller's context, not in NMI context.  Start past it (min_offset)
	 * and walk forward to the first instruction boundary that gives an
	 * int3 (x86) or BRK (arm64) probe; register_kprobe() rejects offsets that are not
	 * instruction boundaries (-EILSEQ), and we check the ftrace flag.
	 */
	for (off = min_offset; off < HAZARD_MAX_OFFSET; off++) {
		/* arm64: fixed 4-byte instructions; arch_prepare_kprobe() says -EINVAL. */
		if (IS_ENABLED(CONFIG_ARM64) && (off & 3))
			continue;
		memset(&kp, 0, sizeof(kp));
		kp.symbol_name = HAZARD_PROBE_SYMBOL;
		kp.offset = off;
		kp.post_handler = post;
		ret = register_kprobe(&kp);
		if (ret < 0)
			continue;
		if (kprobe_ftrace(&kp) || (kp.flags & KPROBE_FLAG_FTRACE)) {
			pr_info("kprobe at %pS (offset %u) ftrace=1, skipped\n",
				kp.addr, off);
			unregister_kprobe(&kp);
			ret = -EBUSY;
			continue;
		}
		probe_offset = off;
		pr_info("kprobe at %pS (offset %u) ftrace=%d\n", kp.addr, off,
			kprobe_ftrace(&kp) ? 1 : 0);
		return 0;
	}
	pr_err("no breakpoint probe point in %s+%u..%u (last error %d)\n",
	       HAZARD_PROBE_SYMBOL, min_offset, HAZARD_MAX_OFFSET - 1, ret);
	return ret;
}

static int __init hazard_init(void)
{
	int cpu, ret;

	ret = match_string(hazard_mode_names, ARRAY_SIZE(hazard_mode_names),
			   mode);
	if (ret < 0) {
		pr_err("unknown mode '%s' (buggy, seed-fix, deferred)\n", mode);
		return -EINVAL;
	}
	hmode = ret;

	stat_cachep = kmem_cache_create("hazard_file_stat",
					sizeof(struct hazard_stat), 0, 0,
					hazard_stat_ctor);
	if (!stat_cachep)
		return -ENOMEM;

	if (hmode == HAZARD_MODE_SEED_FIX) {
		seq_destroy_fn = (void *)lookup_name("cache_random_seq_destroy");
		if (!seq_destroy_fn) {
			pr_err("cache_random_seq_destroy not found in kallsyms\n");
			ret = -ENOENT;
			goto err_cache;
		}
		/* s->random_seq = NULL: shuffle_freelist() returns early. */
		seq_destroy_fn(stat_cachep);
		pr_info("freelist randomization disabled on %s via %pS\n",
			"hazard_file_stat", seq_destroy_fn);
	}

	if (hmode == HAZARD_MODE_DEFERRED) {
		rings = alloc_percpu(struct hazard_ring);
		if (!rings) {
			ret = -ENOMEM;
			goto err_cache;
		}
	}
	for_each_possible_cpu(cpu)
		init_irq_work(per_cpu_ptr(&drain_irq_work, cpu),
			      drain_irq_work_fn);
	INIT_WORK(&drain_work, drain_work_fn);
	INIT_DELAYED_WORK(&reclaim_work, reclaim_work_fn);

	dbg_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, dbg_dir, NULL, &stats_fops);

	ret = register_probe();
	if (ret < 0)
		goto err_debugfs;

	if (reclaim_ms)
		schedule_delayed_work(&reclaim_work,
				      msecs_to_jiffies(reclaim_ms));
	pr_info("loaded, mode=%s reclaim_ms=%u object=%zu bytes\n",
		hazard_mode_names[hmode], reclaim_ms,
		sizeof(struct hazard_stat));
	return 0;

err_debugfs:
	debugfs_remove_recursive(dbg_dir);
	free_percpu(rings);
err_cache:
	kmem_cache_destroy(stat_cachep);
	return ret;
}

static void __exit hazard_exit(void)
{
	int cpu;

	/* No handler runs after this returns (it waits for running ones). */
	unregister_kprobe(&kp);
	WRITE_ONCE(stopping, true);
	for_each_possible_cpu(cpu)
		irq_work_sync(per_cpu_ptr(&drain_irq_work, cpu));
	cancel_delayed_work_sync(&reclaim_work);
	cancel_work_sync(&drain_work);
	debugfs_remove_recursive(dbg_dir);

	if (rings) {
		drain_rings();
		free_percpu(rings);
	}
	pr_info("unloading, mode=%s events=%lld dropped=%lld drained=%lld allocs=%lld frees=%lld live=%lu nmissed=%lu\n",
		hazard_mode_names[hmode],
		(long long)atomic64_read(&nr_events),
		(long long)atomic64_read(&nr_dropped),
		(long long)atomic64_read(&nr_drained),
		(long long)atomic64_read(&nr_allocs),
		(long long)atomic64_read(&nr_frees), nr_live, kp.nmissed);
	free_all_stats();
	/* kmem_cache_destroy() complains if any object is still allocated. */
	kmem_cache_destroy(stat_cachep);
	pr_info("unloaded, allocs=%lld frees=%lld leaked=%lld\n",
		(long long)atomic64_read(&nr_allocs),
		(long long)atomic64_read(&nr_frees),
		(long long)(atomic64_read(&nr_allocs) -
			    atomic64_read(&nr_frees)));
}

module_init(hazard_init);
module_exit(hazard_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ktriage reference: kprobe handler allocating from slab in NMI context, and its fixes");
MODULE_AUTHOR("ktriage project");
