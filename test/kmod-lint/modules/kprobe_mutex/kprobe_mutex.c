// SPDX-License-Identifier: GPL-2.0
/*
 * lint-kmod test module (never loaded): a kprobe whose pre handler takes a
 * mutex.  The probe is at a non-zero offset into the function, so it is an
 * int3 kprobe and the handler runs in NMI context on x86, where sleeping is
 * forbidden.  Expected finding: nmi-sleeping-call, path
 * pre -> note_open -> mutex_lock.  The struct kprobe is initialised
 * statically, so its handler slot is filled by a relocation in .data.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(count_lock);
static unsigned long opens;

static noinline void note_open(void)
{
	mutex_lock(&count_lock);
	opens++;
	mutex_unlock(&count_lock);
}

static int pre(struct kprobe *p, struct pt_regs *regs)
{
	note_open();
	return 0;
}

static struct kprobe kp = {
	.symbol_name = "do_sys_openat2",
	.offset = 0x10,
	.pre_handler = pre,
};

static int __init kprobe_mutex_init(void)
{
	return register_kprobe(&kp);
}

static void __exit kprobe_mutex_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("opens=%lu\n", opens);
}

module_init(kprobe_mutex_init);
module_exit(kprobe_mutex_exit);
MODULE_LICENSE("GPL");
