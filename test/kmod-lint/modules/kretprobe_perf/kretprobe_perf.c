// SPDX-License-Identifier: GPL-2.0
/*
 * lint-kmod test module (never loaded): a kretprobe whose return handler
 * allocates with GFP_KERNEL (it runs with preemption disabled, so this may
 * sleep: an error even though it is not NMI context), and a perf counter
 * overflow handler that frees memory (hardware PMU overflow is an NMI on
 * x86: slab-free-from-nmi).
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/slab.h>

static void *last;

static int ret_handler(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	void *p = kmalloc(128, GFP_KERNEL);

	if (p)
		WRITE_ONCE(last, p);
	return 0;
}

static struct kretprobe rp = {
	.kp.symbol_name = "do_sys_openat2",
	.handler = ret_handler,
	.maxactive = 4,
};

static void overflow(struct perf_event *event, struct perf_sample_data *data,
		     struct pt_regs *regs)
{
	kfree(xchg(&last, NULL));
}

static struct perf_event_attr attr = {
	.type = PERF_TYPE_HARDWARE,
	.config = PERF_COUNT_HW_CPU_CYCLES,
	.size = sizeof(struct perf_event_attr),
	.sample_period = 1000000,
};

static struct perf_event *ev;

static int __init kretprobe_perf_init(void)
{
	int ret = register_kretprobe(&rp);

	if (ret)
		return ret;
	ev = perf_event_create_kernel_counter(&attr, 0, NULL, overflow, NULL);
	if (IS_ERR(ev)) {
		unregister_kretprobe(&rp);
		return PTR_ERR(ev);
	}
	return 0;
}

static void __exit kretprobe_perf_exit(void)
{
	perf_event_release_kernel(ev);
	unregister_kretprobe(&rp);
	kfree(last);
}

module_init(kretprobe_perf_init);
module_exit(kretprobe_perf_exit);
MODULE_LICENSE("GPL");
