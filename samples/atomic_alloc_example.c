// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_example - the smallest useful atomic_alloc consumer
 *
 * A hard-IRQ hrtimer stands in for the period interrupt of a sound card
 * playing 192 kHz, 2 channels, S24_LE: 8 bytes per frame, so one 4 KiB
 * buffer holds 512 frames and the "device" needs a fresh buffer every
 * 2.667 ms.  Every tick takes a buffer from the pool, fills it, checks the
 * buffer of the previous tick and gives that one back.  After @ticks ticks
 * the timer stops and a work item prints the results.  Unloading stops the
 * timer (early, if it still runs), returns the last buffer and destroys the
 * pool.
 *
 * Concurrency: while the timer runs, its callback is the only user of
 * struct example's buffer and counters.  Process context reads them only
 * after the callback is done with them: the report work is queued by the
 * callback's last run (queue_work() orders the stores before it against the
 * work function), and module exit waits with hrtimer_cancel().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hardirq.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "atomic_alloc.h"

/* 192 kHz, 2 x S24_LE: 8 bytes per frame, a buffer every 2.667 ms. */
#define EXAMPLE_RATE		192000
#define EXAMPLE_FRAME_BYTES	8
#define EXAMPLE_BUFFER_BYTES	PAGE_SIZE
#define EXAMPLE_PERIOD_NS	(NSEC_PER_SEC * \
				 (EXAMPLE_BUFFER_BYTES / EXAMPLE_FRAME_BYTES) / \
				 EXAMPLE_RATE)
#define EXAMPLE_MAX_TICKS	1000000

static unsigned int ticks = 375;

static int example_set_ticks(const char *val, const struct kernel_param *kp)
{
	unsigned int n;

	if (!val || kstrtouint(val, 0, &n) || !n || n > EXAMPLE_MAX_TICKS) {
		pr_err("invalid %s=%s: must be 1..%u\n", kp->name, val ?: "",
		       EXAMPLE_MAX_TICKS);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops example_ticks_ops = {
	.set = example_set_ticks,
	.get = param_get_uint,
};

module_param_cb(ticks, &example_ticks_ops, &ticks, 0444);
MODULE_PARM_DESC(ticks,
		 "Timer ticks to run, one buffer each, every 2.667 ms; 1..1000000 (default 375, one second)");

/**
 * struct example - the example device
 * @pool:	its atomic_alloc pool.
 * @timer:	the period "interrupt", a hard-IRQ hrtimer.
 * @report:	prints the results once the last tick has run.
 * @prev:	buffer filled by the previous tick, or %NULL.
 * @prev_stamp:	the value @prev was filled with.
 * @done:	ticks run.
 * @alloc_failed: ticks that got no buffer.
 * @corrupt:	buffers that did not hold their value when given back.
 * @not_hardirq: ticks that did not run in hard IRQ context (must stay 0).
 */
struct example {
	struct atomic_alloc_pool *pool;
	struct hrtimer timer;
	struct work_struct report;
	struct page *prev;
	u32 prev_stamp;
	unsigned int done;
	unsigned int alloc_failed;
	unsigned int corrupt;
	unsigned int not_hardirq;
};

static struct example example;

/* Hard IRQ: no lock, no sleep, no printk; just count. */
static enum hrtimer_restart example_tick(struct hrtimer *timer)
{
	struct example *ex = container_of(timer, struct example, timer);
	u32 stamp = ex->done + 1;
	struct page *page;
	u32 *buf;

	if (!in_hardirq())
		ex->not_hardirq++;

	/* gfp 0: the pool's tiers only, never the page allocator. */
	page = atomic_alloc_page(ex->pool, 0);
	if (page)
		memset32(page_address(page), stamp,
			 EXAMPLE_BUFFER_BYTES / sizeof(u32));
	else
		ex->alloc_failed++;

	if (ex->prev) {
		buf = page_address(ex->prev);
		if (buf[0] != ex->prev_stamp ||
		    buf[EXAMPLE_BUFFER_BYTES / sizeof(u32) - 1] != ex->prev_stamp)
			ex->corrupt++;
		atomic_alloc_free(ex->pool, ex->prev);
	}
	ex->prev = page;
	ex->prev_stamp = stamp;

	if (++ex->done < ticks) {
		hrtimer_forward_now(timer, ns_to_ktime(EXAMPLE_PERIOD_NS));
		return HRTIMER_RESTART;
	}
	queue_work(system_wq, &ex->report);
	return HRTIMER_NORESTART;
}

static void example_report(struct work_struct *work)
{
	struct example *ex = container_of(work, struct example, report);
	struct atomic_alloc_stats st;

	atomic_alloc_get_stats(ex->pool, &st);
	pr_info("done: %u ticks, %u allocation failures, %u corrupt buffers, %u outside hard IRQ; pool: %llu local, %llu shared, %llu refilled\n",
		ex->done, ex->alloc_failed, ex->corrupt, ex->not_hardirq,
		st.alloc_local, st.alloc_remote, st.refilled);
}

static int __init example_init(void)
{
	const struct atomic_alloc_params params = {
		.name = KBUILD_MODNAME,
		.order = 0,		/* 4 KiB: 512 frames, 2.667 ms */
		.cpu_buffers = 8,	/* 21 ms of audio on this CPU */
	};
	struct atomic_alloc_pool *pool;

	pool = atomic_alloc_create(&params);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	example.pool = pool;

	INIT_WORK(&example.report, example_report);
	hrtimer_init(&example.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	example.timer.function = example_tick;
	hrtimer_start(&example.timer, ns_to_ktime(EXAMPLE_PERIOD_NS),
		      HRTIMER_MODE_REL_HARD);
	pr_info("started: %u ticks, one every %lu ns\n", ticks,
		EXAMPLE_PERIOD_NS);
	return 0;
}
module_init(example_init);

static void __exit example_exit(void)
{
	struct atomic_alloc_stats st;

	hrtimer_cancel(&example.timer);
	cancel_work_sync(&example.report);
	if (example.prev)
		atomic_alloc_free(example.pool, example.prev);
	example.prev = NULL;

	atomic_alloc_get_stats(example.pool, &st);
	pr_info("unloaded after %u of %u ticks: %llu buffers outstanding\n",
		example.done, ticks, st.outstanding);
	atomic_alloc_destroy(example.pool);
}
module_exit(example_exit);

MODULE_DESCRIPTION("atomic_alloc example: a buffer per hard-IRQ timer tick");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
