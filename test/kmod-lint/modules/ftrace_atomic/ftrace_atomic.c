// SPDX-License-Identifier: GPL-2.0
/*
 * lint-kmod test module (never loaded): an ftrace callback (ftrace_ops.func,
 * registered with register_ftrace_function) that allocates with GFP_ATOMIC.
 * ftrace callbacks run in the traced function's caller's context with
 * preemption disabled, not through int3, so this is not the int3/NMI slab
 * hazard: GFP_ATOMIC is the right flag there.  Expected: reported as a note
 * (not a hazard), explaining the context.
 */
#include <linux/ftrace.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

struct hit {
	struct llist_node node;
	unsigned long ip;
	unsigned long parent_ip;
};

static LLIST_HEAD(hits);

static noinline void record_hit(unsigned long ip, unsigned long parent_ip)
{
	struct hit *h = kmalloc(sizeof(*h), GFP_ATOMIC);

	if (!h)
		return;
	h->ip = ip;
	h->parent_ip = parent_ip;
	llist_add(&h->node, &hits);
}

static void notrace callback(unsigned long ip, unsigned long parent_ip,
			     struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	record_hit(ip, parent_ip);
}

static struct ftrace_ops ops = {
	.func = callback,
};

static int __init ftrace_atomic_init(void)
{
	static char filter[] = "vfs_read";
	int ret;

	ret = ftrace_set_filter(&ops, filter, sizeof(filter) - 1, 0);
	if (ret)
		return ret;
	return register_ftrace_function(&ops);
}

static void __exit ftrace_atomic_exit(void)
{
	struct hit *h, *tmp;

	unregister_ftrace_function(&ops);
	llist_for_each_entry_safe(h, tmp, llist_del_all(&hits), node)
		kfree(h);
}

module_init(ftrace_atomic_init);
module_exit(ftrace_atomic_exit);
MODULE_LICENSE("GPL");
