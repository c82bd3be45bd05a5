// SPDX-License-Identifier: GPL-2.0
/*
 * lint-kmod test module (never loaded): probe handlers that do only
 * NMI-safe work.  A kprobe (int3, offset 0x8) and an NMI handler count events
 * in per-CPU counters and hand off to an irq_work; allocation and a mutex are
 * used only from init and the work item (process context), which no handler
 * reaches.  Expected: no findings.
 */
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <asm/nmi.h>

static DEFINE_PER_CPU(unsigned long, events);
static DEFINE_MUTEX(cfg_lock);
static unsigned long *summary;

static void kick_fn(struct irq_work *w)
{
}

static DEFINE_IRQ_WORK(kick, kick_fn);

static int pre(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(events);
	irq_work_queue(&kick);
	return 0;
}

static int on_nmi(unsigned int type, struct pt_regs *regs)
{
	this_cpu_inc(events);
	return NMI_DONE;
}

static struct kprobe kp;

static int __init clean_probe_init(void)
{
	int ret;

	mutex_lock(&cfg_lock);
	summary = kzalloc(64 * sizeof(*summary), GFP_KERNEL);
	mutex_unlock(&cfg_lock);
	if (!summary)
		return -ENOMEM;
	kp.symbol_name = "do_sys_openat2";
	kp.offset = 8;
	kp.pre_handler = pre;
	ret = register_kprobe(&kp);
	if (ret)
		goto err;
	ret = register_nmi_handler(NMI_LOCAL, on_nmi, 0, "clean_probe");
	if (ret) {
		unregister_kprobe(&kp);
		goto err;
	}
	return 0;
err:
	kfree(summary);
	return ret;
}

static void __exit clean_probe_exit(void)
{
	unregister_nmi_handler(NMI_LOCAL, "clean_probe");
	unregister_kprobe(&kp);
	kfree(summary);
}

module_init(clean_probe_init);
module_exit(clean_probe_exit);
MODULE_LICENSE("GPL");
