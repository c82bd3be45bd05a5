// SPDX-License-Identifier: GPL-2.0
/*
 * softirq_oops: a timer callback (TIMER_SOFTIRQ; on PREEMPT_RT the ktimers/N
 * thread) takes a spin lock and writes through a NULL pointer.  Made to
 * produce vmcores of an oops in softirq context with a lock held; boot with
 * oops=panic (panic_on_oops) so the oops panics.
 *
 *   insmod softirq_oops.ko [delay_ms=1000]
 */
#include <linux/module.h>
#include <linux/timer.h>
#include <linux/spinlock.h>
#include <linux/jiffies.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <linux/version.h>

static unsigned int delay_ms = 1000;
module_param(delay_ms, uint, 0444);
MODULE_PARM_DESC(delay_ms, "milliseconds from insmod to the oops");

static DEFINE_SPINLOCK(softirq_oops_lock);
static struct timer_list softirq_oops_timer;
/* NULL, read at run time: the compiler cannot see the store is to NULL. */
static unsigned long *volatile softirq_oops_target;
static unsigned long softirq_oops_hits;

static noinline void softirq_oops_store(unsigned long *p, unsigned long v)
{
	WRITE_ONCE(*p, v);
}

static void softirq_oops_timer_fn(struct timer_list *t)
{
	spin_lock(&softirq_oops_lock);
	softirq_oops_hits++;
	pr_emerg("softirq_oops: timer on CPU %d, in_softirq %d, in_serving_softirq %d, preempt_count 0x%08x, lock held; writing through NULL\n",
		 raw_smp_processor_id(), !!in_softirq(), !!in_serving_softirq(), preempt_count());
	softirq_oops_store(softirq_oops_target, 0x50f71290);
	spin_unlock(&softirq_oops_lock);
}

static int __init softirq_oops_init(void)
{
	timer_setup(&softirq_oops_timer, softirq_oops_timer_fn, 0);
	mod_timer(&softirq_oops_timer, jiffies + msecs_to_jiffies(delay_ms));
	pr_info("softirq_oops: timer armed, oops in %u ms\n", delay_ms);
	return 0;
}

static void __exit softirq_oops_exit(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	timer_delete_sync(&softirq_oops_timer);
#else
	del_timer_sync(&softirq_oops_timer);
#endif
}

module_init(softirq_oops_init);
module_exit(softirq_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Oops in a timer callback (softirq) with a spin lock held, for test vmcores");
