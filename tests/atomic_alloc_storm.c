// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_storm - the NMI storm of the KUnit suite atomic_alloc_nmi,
 * as a module for kernels without KUnit (Debian's stock kernels).  Loading
 * it runs one storm on a pool of its own and prints one "result:" line of
 * key=value pairs; the guest check reads it, then unloads the module and
 * checks that atomic_alloc holds no page.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "../atomic_alloc.h"
#include "atomic_alloc_nmi_storm.h"

static unsigned long nmis = 100000;
module_param(nmis, ulong, 0444);
MODULE_PARM_DESC(nmis, "NMIs to aim at the looping CPU (ulong, default 100000)");

static int __init aa_storm_init(void)
{
	struct atomic_alloc_params p = { .name = "storm", .cpu_buffers = 16,
					 .shared_buffers = 16 };
	struct atomic_alloc_stats stats;
	struct aa_storm *st;
	int err;

	if (!nmis || nmis > 100000000UL) {
		pr_err("nmis=%lu: must be 1..100000000\n", nmis);
		return -EINVAL;
	}
	if (num_online_cpus() < 2) {
		pr_err("needs two online CPUs\n");
		return -ENODEV;
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->pool = atomic_alloc_create(&p);
	if (IS_ERR(st->pool)) {
		err = PTR_ERR(st->pool);
		goto out;
	}
	st->cpu = cpumask_last(cpu_online_mask);
	st->sender = cpumask_first(cpu_online_mask);
	st->want_nmis = nmis;
	st->timeout_ms = 240000;
	err = aa_storm_run(st);
	atomic_alloc_get_stats(st->pool, &stats);
	if (!err)
		pr_info("result: sent=%lu nmis=%lu timed_out=%d nmi_allocs=%lu nmi_frees=%lu nmi_nulls=%lu nmi_not_in_nmi=%lu loop_iters=%lu loop_nulls=%lu tag_errors=%lu alloc_nmi=%llu free_nmi=%llu alloc_nested=%llu free_nested=%llu retries=%llu alloc_direct=%llu outstanding=%llu\n",
			st->sent, st->nmis, st->timed_out, st->nmi_allocs,
			st->nmi_frees, st->nmi_nulls, st->nmi_not_in_nmi,
			st->loop_iters, st->loop_nulls, st->tag_errors,
			stats.alloc_nmi, stats.free_nmi, stats.alloc_nested,
			stats.free_nested, stats.retries, stats.alloc_direct,
			stats.outstanding);
	if (!err && st->tag_errors)
		pr_info("first wrong tag: pfn %lx expected %llx found %llx (loop errors %lu, NMI errors %lu, bad frees %llu)\n",
			st->first_pfn, st->first_want, st->first_got,
			st->loop_tag_errors, st->nmi_tag_errors,
			stats.bad_frees);
	atomic_alloc_destroy(st->pool);
out:
	kfree(st);
	return err;
}
module_init(aa_storm_init);

static void __exit aa_storm_exit(void)
{
}
module_exit(aa_storm_exit);

MODULE_DESCRIPTION("NMI storm against atomic_alloc, for kernels without KUnit");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
