// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_example - a driver that takes a fresh DMA buffer from
 * atomic_alloc in its hard interrupt handler, as a template to copy
 *
 * A platform driver and @devices platform devices stand in for sound cards
 * playing 192 kHz, 2 channels, S24_LE: 8 bytes a frame, a period of 512
 * frames (4096 bytes, 2.667 ms).  For each device:
 *
 *  - the "period interrupt", a hard-IRQ hrtimer pinned to one CPU, takes
 *    a buffer from the device's pool, writes the period into it, syncs it
 *    for the device and queues it on the "DMA ring";
 *  - the "completion interrupt", a hard-IRQ hrtimer pinned to another CPU,
 *    takes the played buffers off the ring, syncs each back for the CPU,
 *    checks it and frees it on that CPU: a remote free, as a real
 *    completion interrupt does.
 *
 * After @ticks periods the period timer stops; once the ring is empty the
 * completion timer stops too and a work item prints the results.  Removing
 * the device (rmmod) stops both early if they still run.
 *
 * What to copy:
 *
 *  - probe creates the pool with the device, so that every buffer is
 *    DMA-mapped once, for it, and named after it (dev_name()), so that a
 *    second device gets a pool of its own instead of -EEXIST; remove stops
 *    the interrupts, takes every buffer back, then destroys the pool;
 *  - the interrupt allocates with gfp 0: the pool's own tiers, never the
 *    page allocator, which takes a spinlock_t (a sleeping lock on
 *    PREEMPT_RT) and may fail anyway; a NULL is an xrun, counted;
 *  - the CPU fills the buffer first and then calls
 *    dma_sync_single_for_device(); the completion calls
 *    dma_sync_single_for_cpu() before the CPU looks at it again;
 *  - sizes are bytes: the period's, within atomic_alloc_buf_bytes(),
 *    never PAGE_SIZE.
 *
 * Concurrency: the ring has one producer (the period timer) and one
 * consumer (the completion timer), on two CPUs, and no lock: each index is
 * written by one side only, with a release store paired with an acquire
 * load on the other side (see example_period() and example_complete()).
 * Each counter is written by one timer only.  Process context reads them
 * only when both timers are done: the report work is queued by the
 * completion timer's last run, after it saw the period timer's last one;
 * remove waits with hrtimer_cancel().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/dma-mapping.h>
#include <linux/hardirq.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "atomic_alloc.h"

/*
 * Compat: the kernel API this driver uses changed in 6.11 and 6.13.
 * samples/Kbuild defines the EXAMPLE_HAVE_* macros from what the kernel's
 * headers declare, not from its version, so that backports work.
 */
#ifndef EXAMPLE_HAVE_HRTIMER_SETUP
/* hrtimer_setup() (6.13) initializes a timer and sets its callback. */
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#ifdef EXAMPLE_HAVE_VOID_REMOVE
#define EXAMPLE_REMOVE		remove		/* void .remove(), 6.11 */
#else
#define EXAMPLE_REMOVE		remove_new	/* before: int .remove() */
#endif

#define EXAMPLE_NAME		"atomic_alloc_example"

/* 192 kHz, 2 x S24_LE: 8 bytes a frame; 512 frames a period. */
#define EXAMPLE_RATE		192000
#define EXAMPLE_FRAME_BYTES	8
#define EXAMPLE_PERIOD_FRAMES	512
#define EXAMPLE_PERIOD_BYTES	(EXAMPLE_PERIOD_FRAMES * EXAMPLE_FRAME_BYTES)
#define EXAMPLE_PERIOD_NS	(NSEC_PER_SEC * EXAMPLE_PERIOD_FRAMES / \
				 EXAMPLE_RATE)

/* Periods queued for the "device": 32 x 2.667 ms = 85.3 ms. */
#define EXAMPLE_RING		32

/*
 * Buffers per CPU, by the rules of "Tuning" in
 * Documentation/atomic_alloc.rst: the ring and the buffer being filled,
 * all freed on the other CPU, plus what the stream takes while the refill
 * worker is on its way: 375 buffers a second for L = 10 ms (a loaded
 * machine; measure yours) is 4.
 */
#define EXAMPLE_REFILL_LATENCY_MS	10
#define EXAMPLE_CPU_BUFFERS	(EXAMPLE_RING + 1 + \
				 DIV_ROUND_UP(EXAMPLE_RATE / EXAMPLE_PERIOD_FRAMES * \
					      EXAMPLE_REFILL_LATENCY_MS, MSEC_PER_SEC))

#define EXAMPLE_MAX_TICKS	1000000
#define EXAMPLE_MAX_DEVICES	4

static unsigned int ticks = 375;
static unsigned int devices = 1;

/* Decimal only: "010" is ten, not eight, and "0x10" is refused. */
static int example_parse(const char *val, const struct kernel_param *kp,
			 unsigned int max)
{
	unsigned int n;

	if (!val || kstrtouint(val, 10, &n) || !n || n > max) {
		pr_err("invalid %s=%s: must be 1..%u\n", kp->name, val ?: "",
		       max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static int example_set_ticks(const char *val, const struct kernel_param *kp)
{
	return example_parse(val, kp, EXAMPLE_MAX_TICKS);
}

static int example_set_devices(const char *val, const struct kernel_param *kp)
{
	return example_parse(val, kp, EXAMPLE_MAX_DEVICES);
}

static const struct kernel_param_ops example_ticks_ops = {
	.set = example_set_ticks,
	.get = param_get_uint,
};

static const struct kernel_param_ops example_devices_ops = {
	.set = example_set_devices,
	.get = param_get_uint,
};

module_param_cb(ticks, &example_ticks_ops, &ticks, 0444);
__MODULE_PARM_TYPE(ticks, "uint");
MODULE_PARM_DESC(ticks,
		 "Periods to play, one buffer each, every 2.667 ms; 1..1000000 (default 375, one second)");
module_param_cb(devices, &example_devices_ops, &devices, 0444);
__MODULE_PARM_TYPE(devices, "uint");
MODULE_PARM_DESC(devices,
		 "Devices to create, each with a pool of its own; 1..4 (default 1)");

/**
 * struct example_slot - one period queued on the DMA ring
 * @buf:	the buffer, from atomic_alloc_buf().
 * @dma:	its bus address, from atomic_alloc_buf_dma().
 * @stamp:	the value it was filled with.
 * @cpu:	the CPU that allocated it.
 */
struct example_slot {
	void *buf;
	dma_addr_t dma;
	u32 stamp;
	unsigned int cpu;
};

/**
 * struct example - one device
 * @dev:	the platform device's struct device.
 * @pool:	its atomic_alloc pool, named dev_name(@dev).
 * @period:	the period interrupt, pinned to @period_cpu.
 * @completion:	the DMA completion interrupt, pinned to @completion_cpu.
 * @report:	prints the results once both timers are done.
 * @period_cpu:	where the buffers are allocated.
 * @completion_cpu: where they are freed; another CPU if there is one.
 * @ring:	periods queued for the device.
 * @head:	next slot the period timer fills; written only by it.
 * @tail:	next slot the completion timer takes; written only by it.
 * @period_done: set by the period timer's last run.
 * @ticks_done:	periods the period timer ran.
 * @xrun_alloc:	periods that got no buffer (a real driver plays silence).
 * @xrun_ring_full: periods dropped because the device fell behind.
 * @not_hardirq: timer runs outside hard IRQ context (must stay 0).
 * @completed:	buffers the completion timer took back.
 * @remote_frees: those freed on another CPU than they came from.
 * @corrupt:	those that did not hold their value any more.
 * @completion_not_hardirq: as @not_hardirq, for the completion timer.
 */
struct example {
	struct device *dev;
	struct atomic_alloc_pool *pool;
	struct hrtimer period;
	struct hrtimer completion;
	struct work_struct report;
	unsigned int period_cpu;
	unsigned int completion_cpu;

	struct example_slot ring[EXAMPLE_RING];
	unsigned int head;
	unsigned int tail;
	bool period_done;

	/* Written by the period timer. */
	unsigned int ticks_done;
	unsigned int xrun_alloc;
	unsigned int xrun_ring_full;
	unsigned int not_hardirq;

	/* Written by the completion timer. */
	unsigned int completed;
	unsigned int remote_frees;
	unsigned int corrupt;
	unsigned int completion_not_hardirq;
};

static bool example_check(const u32 *buf, u32 stamp)
{
	return buf[0] == stamp &&
	       buf[EXAMPLE_PERIOD_BYTES / sizeof(u32) - 1] == stamp;
}

/* The period interrupt: hard IRQ, no lock, no printk, no sleep. */
static enum hrtimer_restart example_period(struct hrtimer *timer)
{
	struct example *ex = container_of(timer, struct example, period);
	unsigned int head = ex->head;
	struct example_slot *slot;
	u32 stamp = ++ex->ticks_done;
	dma_addr_t dma;
	void *buf;

	if (!in_hardirq())
		ex->not_hardirq++;

	/*
	 * Paired with smp_store_release() of ->tail in example_complete():
	 * the completion is done with a slot before we reuse it.
	 */
	if (head - smp_load_acquire(&ex->tail) == EXAMPLE_RING) {
		ex->xrun_ring_full++;
		goto next;
	}

	/* gfp 0: the pool's tiers only, never the page allocator. */
	buf = atomic_alloc_buf(ex->pool, 0);
	if (!buf) {
		ex->xrun_alloc++;
		goto next;
	}
	/* The CPU writes the period, then the device may read it. */
	memset32(buf, stamp, EXAMPLE_PERIOD_BYTES / sizeof(u32));
	dma = atomic_alloc_buf_dma(ex->pool, buf);
	dma_sync_single_for_device(ex->dev, dma, EXAMPLE_PERIOD_BYTES,
				   DMA_TO_DEVICE);

	slot = &ex->ring[head % EXAMPLE_RING];
	slot->buf = buf;
	slot->dma = dma;
	slot->stamp = stamp;
	slot->cpu = smp_processor_id();
	/*
	 * Paired with smp_load_acquire() of ->head in example_complete():
	 * the slot is written before the completion can see it.
	 */
	smp_store_release(&ex->head, head + 1);

next:
	if (ex->ticks_done < ticks) {
		hrtimer_forward_now(timer, ns_to_ktime(EXAMPLE_PERIOD_NS));
		return HRTIMER_RESTART;
	}
	/*
	 * Paired with smp_load_acquire() of ->period_done in
	 * example_complete(): the last ->head and the counters above are
	 * written before it.
	 */
	smp_store_release(&ex->period_done, true);
	return HRTIMER_NORESTART;
}

/* Take slot @tail back from the device and free its buffer, on this CPU. */
static void example_take_back(struct example *ex, unsigned int tail)
{
	struct example_slot *slot = &ex->ring[tail % EXAMPLE_RING];

	/* The device is done with it; the CPU may read it again. */
	dma_sync_single_for_cpu(ex->dev, slot->dma, EXAMPLE_PERIOD_BYTES,
				DMA_TO_DEVICE);
	if (!example_check(slot->buf, slot->stamp))
		ex->corrupt++;
	if (slot->cpu != raw_smp_processor_id())
		ex->remote_frees++;
	atomic_alloc_buf_free(ex->pool, slot->buf);
	ex->completed++;
}

/* The completion interrupt: hard IRQ, another CPU. */
static enum hrtimer_restart example_complete(struct hrtimer *timer)
{
	struct example *ex = container_of(timer, struct example, completion);
	unsigned int tail = ex->tail;
	unsigned int head;
	bool last;

	/*
	 * Paired with smp_store_release() of ->period_done in
	 * example_period(); read before ->head, so that when the period
	 * timer is done, its last ->head is seen below.
	 */
	last = smp_load_acquire(&ex->period_done);
	/* Paired with smp_store_release() of ->head in example_period(). */
	head = smp_load_acquire(&ex->head);

	if (!in_hardirq())
		ex->completion_not_hardirq++;

	while (tail != head) {
		example_take_back(ex, tail);
		/* Paired with smp_load_acquire() in example_period(). */
		smp_store_release(&ex->tail, ++tail);
	}

	if (last) {
		queue_work(system_wq, &ex->report);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(timer, ns_to_ktime(EXAMPLE_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void example_report(struct work_struct *work)
{
	struct example *ex = container_of(work, struct example, report);
	struct atomic_alloc_stats st;

	atomic_alloc_get_stats(ex->pool, &st);
	dev_info(ex->dev,
		 "done: %u ticks, %u allocation failures, %u ring full, %u completed, %u remote frees, %u corrupt buffers, %u outside hard IRQ; pool: %llu local, %llu shared, %llu refilled\n",
		 ex->ticks_done, ex->xrun_alloc, ex->xrun_ring_full,
		 ex->completed, ex->remote_frees, ex->corrupt,
		 ex->not_hardirq + ex->completion_not_hardirq, st.alloc_local, st.alloc_remote,
		 st.refilled);
}

/* Runs on the CPU a timer is pinned to (work_on_cpu()). */
static long example_start_period(void *arg)
{
	struct example *ex = arg;

	hrtimer_start(&ex->period, ns_to_ktime(EXAMPLE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	return 0;
}

static long example_start_completion(void *arg)
{
	struct example *ex = arg;

	hrtimer_start(&ex->completion, ns_to_ktime(EXAMPLE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	return 0;
}

static int example_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct atomic_alloc_params params = {
		.order = get_order(EXAMPLE_PERIOD_BYTES),
		.cpu_buffers = EXAMPLE_CPU_BUFFERS,
		.dev = dev,
		.dma_dir = DMA_TO_DEVICE,
	};
	struct example *ex;
	int err;

	err = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (err)
		return dev_err_probe(dev, err, "no 32-bit DMA\n");

	ex = devm_kzalloc(dev, sizeof(*ex), GFP_KERNEL);
	if (!ex)
		return -ENOMEM;
	ex->dev = dev;

	/* One pool per device: the name must be unique among live pools. */
	params.name = dev_name(dev);
	ex->pool = atomic_alloc_create(&params);
	if (IS_ERR(ex->pool))
		return dev_err_probe(dev, PTR_ERR(ex->pool),
				     "cannot create its pool\n");
	if (atomic_alloc_buf_bytes(ex->pool) < EXAMPLE_PERIOD_BYTES) {
		dev_err(dev, "pool buffers of %u bytes, a period needs %u\n",
			atomic_alloc_buf_bytes(ex->pool), EXAMPLE_PERIOD_BYTES);
		err = -EINVAL;
		goto err_destroy;
	}

	INIT_WORK(&ex->report, example_report);
	hrtimer_setup(&ex->period, example_period, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_setup(&ex->completion, example_complete, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);

	/*
	 * Two CPUs if there are two, so that the frees are remote.  A CPU
	 * that goes offline takes its pinned timer along to another one.
	 */
	ex->period_cpu = cpumask_first(cpu_online_mask);
	ex->completion_cpu = cpumask_next(ex->period_cpu, cpu_online_mask);
	if (ex->completion_cpu >= nr_cpu_ids)
		ex->completion_cpu = ex->period_cpu;

	platform_set_drvdata(pdev, ex);
	work_on_cpu(ex->completion_cpu, example_start_completion, ex);
	work_on_cpu(ex->period_cpu, example_start_period, ex);
	dev_info(dev,
		 "started: %u ticks, one every %lu ns on cpu%u, completed on cpu%u; pool \"%s\" of %u-byte buffers\n",
		 ticks, EXAMPLE_PERIOD_NS, ex->period_cpu, ex->completion_cpu,
		 params.name, atomic_alloc_buf_bytes(ex->pool));
	return 0;

err_destroy:
	atomic_alloc_destroy(ex->pool);
	return err;
}

static void example_remove(struct platform_device *pdev)
{
	struct example *ex = platform_get_drvdata(pdev);
	struct atomic_alloc_stats st;

	/* Stop the interrupts first: no more pushes, then no more pops. */
	hrtimer_cancel(&ex->period);
	hrtimer_cancel(&ex->completion);
	cancel_work_sync(&ex->report);

	/* Give back what the device still held. */
	while (ex->tail != ex->head)
		example_take_back(ex, ex->tail++);

	atomic_alloc_get_stats(ex->pool, &st);
	dev_info(ex->dev, "removed after %u of %u ticks: %llu buffers outstanding\n",
		 ex->ticks_done, ticks, st.outstanding);
	atomic_alloc_destroy(ex->pool);
}

static struct platform_driver example_driver = {
	.probe = example_probe,
	.EXAMPLE_REMOVE = example_remove,
	.driver = {
		.name = EXAMPLE_NAME,
	},
};

static struct platform_device *example_devices[EXAMPLE_MAX_DEVICES];

static void example_unregister_devices(void)
{
	int i;

	for (i = EXAMPLE_MAX_DEVICES - 1; i >= 0; i--) {
		if (example_devices[i])
			platform_device_unregister(example_devices[i]);
		example_devices[i] = NULL;
	}
}

/*
 * Stand-ins for the devices that firmware (device tree, ACPI) would
 * describe, with the DMA mask a bus would give them.  The driver core
 * binds each to example_driver, which calls example_probe().
 */
static int __init example_init(void)
{
	struct platform_device_info info = {
		.name = EXAMPLE_NAME,
		.dma_mask = DMA_BIT_MASK(32),
	};
	struct platform_device *pdev;
	unsigned int i;
	int err;

	err = platform_driver_register(&example_driver);
	if (err)
		return err;

	for (i = 0; i < devices; i++) {
		info.id = i;
		pdev = platform_device_register_full(&info);
		if (IS_ERR(pdev)) {
			err = PTR_ERR(pdev);
			goto err_unregister;
		}
		example_devices[i] = pdev;
		/* A failed probe leaves the device unbound. */
		if (!platform_get_drvdata(pdev)) {
			pr_err("%s did not probe; see the messages above\n",
			       dev_name(&pdev->dev));
			err = -ENODEV;
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	example_unregister_devices();
	platform_driver_unregister(&example_driver);
	return err;
}
module_init(example_init);

static void __exit example_exit(void)
{
	example_unregister_devices();
	platform_driver_unregister(&example_driver);
}
module_exit(example_exit);

MODULE_DESCRIPTION("atomic_alloc example: a fresh DMA buffer in every hard-IRQ period");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
