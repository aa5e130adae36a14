// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_naive - the driver without atomic_alloc: alloc_pages() in
 * the period interrupt
 *
 * A test-support module for the demo (scripts/demo.sh) and the demo-quick
 * check.  Each stream is what a driver that needs a fresh DMA buffer every
 * period would do without a pool: in the same kind of period interrupt as
 * the simulated audio device (a pinned hrtimer in HRTIMER_MODE_REL_PINNED_HARD
 * at the same period), it calls alloc_pages(GFP_ATOMIC, order) for every
 * block, and frees the block when its simulated DMA has finished: one
 * dma_delay_ns later (default one period), from a second timer on the next
 * CPU, as the device's DMA ring does.  A failed allocation is a lost block
 * (the device would play silence).
 *
 *   period timer, CPU A                      DMA timer, CPU B
 *   -------------------------------------    ---------------------------
 *   t0 = local_clock()
 *   alloc_pages(GFP_ATOMIC | __GFP_NOWARN)
 *   histogram += local_clock() - t0
 *   NULL: failed++ (and in the timeline)
 *   else: push {page, due} on the ring ---->  due passed: __free_pages()
 *
 * Only the allocation is done in the interrupt: the buffer is neither
 * filled nor DMA-mapped, so the figures are those of the page allocator
 * alone.
 *
 * PREEMPT_RT: the page allocator takes spinlock_t (zone lock, per-CPU list
 * lock), which sleeps there, so it must never be called in hard IRQ.  On
 * PREEMPT_RT both timers are HRTIMER_MODE_REL_PINNED_SOFT instead: their
 * callbacks run in the timer softirq's thread, where a sleeping lock is
 * allowed.  The callback also refuses to allocate if it ever finds itself
 * in hard IRQ there (counted in refused_hardirq).  The stats say which
 * context the stream ran in.
 *
 * debugfs (atomic_alloc_naive/):
 *
 *   control            start | stop
 *   stream<N>/stats    "key: value" lines
 *   stream<N>/alloc_ns histogram of the time alloc_pages() took in the
 *                      interrupt, every attempt (failed ones too): one
 *                      "lo-hi: count" line (ns, inclusive) per 1/8 octave
 *   stream<N>/timeline "t=<ms> periods=<n> failed=<n>", one line per
 *                      timeline_ms since the start
 *
 * Concurrency rules
 *
 * - The period timer of stream i is pinned to the (i % online CPUs)-th
 *   online CPU, its DMA timer to the next one.  An hrtimer callback never
 *   runs concurrently with itself.  The period timer alone writes the
 *   producer counters, the histogram, the timeline and the ring's head; the
 *   DMA timer alone writes freed, dma_overruns and the ring's tail.  The
 *   ring is a kfifo, which needs no lock with one reader and one writer.
 * - Counters are u64 (this module is for 64-bit kernels), written with
 *   WRITE_ONCE() and read with READ_ONCE() by debugfs; a running stream's
 *   snapshot need not add up.
 * - Start and stop run in process context under naive_lock.  Start resets
 *   a stream before the IPIs that arm its timers; stop cancels both timers
 *   (hrtimer_cancel() waits for a running callback) and then drains the
 *   ring itself.
 * - The debugfs files are removed before the streams are stopped at unload.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hist.h"

#define NAIVE_MAX_STREAMS	8
/* Like atomic_alloc's largest buffer: 128 KiB with 4 KiB pages. */
#define NAIVE_MAX_ORDER		5
#define NAIVE_PERIOD_MIN_NS	(50 * NSEC_PER_USEC)
#define NAIVE_PERIOD_MAX_NS	NSEC_PER_SEC
/* Blocks in flight at most; a power of two (kfifo). */
#define NAIVE_RING_ENTRIES	256
/* Blocks the DMA timer frees per tick at most. */
#define NAIVE_DMA_BUDGET	8
#define NAIVE_DMA_POLL_MIN_NS	(20 * NSEC_PER_USEC)
#define NAIVE_DMA_POLL_MAX_NS	(10 * NSEC_PER_MSEC)
#define NAIVE_TL_SLOTS		1200
#define NAIVE_TL_MS_MIN		10
#define NAIVE_TL_MS_MAX		10000

/* ---- Parameters ---- */

static unsigned int orders[NAIVE_MAX_STREAMS] = { 2, 0 };
static int nr_orders = 2;
module_param_array(orders, uint, &nr_orders, 0444);
MODULE_PARM_DESC(orders, "buffer order of each stream, one stream per entry (default 2,0; at most 8 streams, orders 0-5)");

/* 512 frames at 192 kHz: the simulated audio device's default period. */
static unsigned long period_ns = 2666667;
module_param(period_ns, ulong, 0444);
MODULE_PARM_DESC(period_ns, "period of every stream's interrupt, ns (50000-1000000000, default 2666667: 512 frames at 192 kHz)");

static unsigned long dma_delay_ns;
module_param(dma_delay_ns, ulong, 0444);
MODULE_PARM_DESC(dma_delay_ns, "simulated DMA time after which a block is freed on the next CPU, ns (0: one period, the default; at most 1 s)");

static unsigned int timeline_ms = 500;
module_param(timeline_ms, uint, 0444);
MODULE_PARM_DESC(timeline_ms, "width of one timeline slot, ms (10-10000, default 500)");

static bool autostart;
module_param(autostart, bool, 0444);
MODULE_PARM_DESC(autostart, "start the streams at load, else write start to atomic_alloc_naive/control in debugfs (default N)");

/* ---- Streams ---- */

struct naive_entry {
	struct page *page;
	u64 due_ns;
};

/**
 * struct naive_stream - one naive stream
 * @index:	the N of debugfs stream<N>.
 * @order:	buffer order.
 * @cpu:	CPU of the period timer.
 * @dma_cpu:	CPU of the DMA timer.
 * @start_ns:	CLOCK_MONOTONIC at start, the timeline's origin.
 * @period_timer: the period interrupt: allocates.
 * @dma_timer:	the DMA completion: frees.
 * @ring:	blocks in flight, oldest first.
 * @periods:	period interrupts handled.
 * @allocs:	alloc_pages() calls.
 * @failed:	of those, NULL returned: lost blocks.
 * @dropped:	blocks freed at once because the ring was full.
 * @hardirq:	period interrupts that ran in hard IRQ.
 * @refused_hardirq: PREEMPT_RT only: period interrupts in hard IRQ that
 *		did not allocate (never expected).
 * @timer_overruns: periods skipped because the timer fired late.
 * @alloc_max:	longest alloc_pages() call, ns.
 * @hist:	alloc_pages() time, ns (hist.h).
 * @tl_periods:	period interrupts per timeline slot.
 * @tl_failed:	failed allocations per timeline slot.
 * @freed:	blocks freed by the DMA timer and by stop.
 * @dma_overruns: DMA timer ticks skipped.
 * @dir:	debugfs stream<N>.
 */
struct naive_stream {
	unsigned int index;
	unsigned int order;
	unsigned int cpu;
	unsigned int dma_cpu;
	u64 start_ns;
	struct hrtimer period_timer;
	struct hrtimer dma_timer;
	DECLARE_KFIFO_PTR(ring, struct naive_entry);
	/* Producer: the period timer. */
	u64 periods;
	u64 allocs;
	u64 failed;
	u64 dropped;
	u64 hardirq;
	u64 refused_hardirq;
	u64 timer_overruns;
	u64 alloc_max;
	u32 hist[BH_BUCKETS];
	u32 tl_periods[NAIVE_TL_SLOTS];
	u32 tl_failed[NAIVE_TL_SLOTS];
	/* Consumer: the DMA timer. */
	u64 freed ____cacheline_aligned_in_smp;
	u64 dma_overruns;
	struct dentry *dir;
};

static DEFINE_MUTEX(naive_lock);	/* start, stop, running */
static struct naive_stream *naive_streams;
static unsigned int naive_nr;
static bool naive_running;
static ktime_t naive_period;
static ktime_t naive_dma_poll;
static u64 naive_dma_delay;
static u64 naive_tl_ns;
static struct dentry *naive_dir;

/*
 * Hard IRQ where the page allocator may be called there, the timer softirq
 * thread on PREEMPT_RT, where it may not.
 */
#define NAIVE_TIMER_MODE (IS_ENABLED(CONFIG_PREEMPT_RT) ? \
			  HRTIMER_MODE_REL_PINNED_SOFT : \
			  HRTIMER_MODE_REL_PINNED_HARD)

static const char *naive_context_name(void)
{
	return IS_ENABLED(CONFIG_PREEMPT_RT) ? "softirq-thread" : "hardirq";
}

static inline void naive_add(u64 *counter, u64 n)
{
	WRITE_ONCE(*counter, *counter + n);
}

static inline void naive_inc32(u32 *counter)
{
	WRITE_ONCE(*counter, *counter + 1);
}

static enum hrtimer_restart naive_period_irq(struct hrtimer *timer)
{
	struct naive_stream *s = container_of(timer, struct naive_stream,
					      period_timer);
	struct naive_entry e;
	struct page *page;
	u64 missed, t0, dt, now, slot;

	missed = hrtimer_forward_now(timer, naive_period);
	if (missed > 1)
		naive_add(&s->timer_overruns, missed - 1);
	naive_add(&s->periods, 1);
	if (in_hardirq()) {
		naive_add(&s->hardirq, 1);
		/* Never the page allocator in hard IRQ on PREEMPT_RT. */
		if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
			naive_add(&s->refused_hardirq, 1);
			return HRTIMER_RESTART;
		}
	}

	t0 = local_clock();
	page = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, s->order);
	dt = local_clock() - t0;

	naive_add(&s->allocs, 1);
	naive_inc32(&s->hist[bh_index(dt)]);
	if (dt > s->alloc_max)
		WRITE_ONCE(s->alloc_max, dt);
	now = ktime_get_ns();
	slot = min_t(u64, div64_u64(now - s->start_ns, naive_tl_ns),
		     NAIVE_TL_SLOTS - 1);
	naive_inc32(&s->tl_periods[slot]);
	if (!page) {
		naive_add(&s->failed, 1);
		naive_inc32(&s->tl_failed[slot]);
		return HRTIMER_RESTART;
	}
	e.page = page;
	e.due_ns = now + naive_dma_delay;
	if (!kfifo_put(&s->ring, e)) {
		naive_add(&s->dropped, 1);
		__free_pages(page, s->order);
	}
	return HRTIMER_RESTART;
}

static enum hrtimer_restart naive_dma_irq(struct hrtimer *timer)
{
	struct naive_stream *s = container_of(timer, struct naive_stream,
					      dma_timer);
	unsigned int budget;
	struct naive_entry e;
	u64 missed, now;

	missed = hrtimer_forward_now(timer, naive_dma_poll);
	if (missed > 1)
		naive_add(&s->dma_overruns, missed - 1);
	now = ktime_get_ns();
	for (budget = NAIVE_DMA_BUDGET; budget; budget--) {
		if (!kfifo_peek(&s->ring, &e) || e.due_ns > now)
			break;
		kfifo_skip(&s->ring);
		__free_pages(e.page, s->order);
		naive_add(&s->freed, 1);
	}
	return HRTIMER_RESTART;
}

/* Both run on the target CPU, from an IPI. */
static void naive_arm_period(void *arg)
{
	struct naive_stream *s = arg;
	/* Stream i starts i/nr of a period late. */
	u64 phase = div_u64(ktime_to_ns(naive_period) * s->index, naive_nr);

	hrtimer_start(&s->period_timer,
		      ktime_add_ns(naive_period, phase), NAIVE_TIMER_MODE);
}

static void naive_arm_dma(void *arg)
{
	struct naive_stream *s = arg;

	hrtimer_start(&s->dma_timer, naive_dma_poll, NAIVE_TIMER_MODE);
}

static void naive_reset(struct naive_stream *s)
{
	s->periods = 0;
	s->allocs = 0;
	s->failed = 0;
	s->dropped = 0;
	s->hardirq = 0;
	s->refused_hardirq = 0;
	s->timer_overruns = 0;
	s->alloc_max = 0;
	memset(s->hist, 0, sizeof(s->hist));
	memset(s->tl_periods, 0, sizeof(s->tl_periods));
	memset(s->tl_failed, 0, sizeof(s->tl_failed));
	s->freed = 0;
	s->dma_overruns = 0;
	kfifo_reset(&s->ring);
}

/* Timers stopped: free what is still in flight. */
static void naive_drain(struct naive_stream *s)
{
	struct naive_entry e;

	while (kfifo_get(&s->ring, &e)) {
		__free_pages(e.page, s->order);
		s->freed++;
	}
}

static void naive_stop_locked(void)
{
	unsigned int i;

	if (!naive_running)
		return;
	for (i = 0; i < naive_nr; i++) {
		hrtimer_cancel(&naive_streams[i].period_timer);
		hrtimer_cancel(&naive_streams[i].dma_timer);
		naive_drain(&naive_streams[i]);
	}
	naive_running = false;
	pr_info("stopped\n");
}

static int naive_start_locked(void)
{
	unsigned int i, n;
	int err = 0;

	if (naive_running)
		return 0;
	cpus_read_lock();
	n = num_online_cpus();
	for (i = 0; i < naive_nr && !err; i++) {
		struct naive_stream *s = &naive_streams[i];

		naive_reset(s);
		s->cpu = cpumask_nth(i % n, cpu_online_mask);
		s->dma_cpu = cpumask_nth((i + 1) % n, cpu_online_mask);
		s->start_ns = ktime_get_ns();
		err = smp_call_function_single(s->dma_cpu, naive_arm_dma, s, 1);
		if (!err)
			err = smp_call_function_single(s->cpu, naive_arm_period,
						       s, 1);
	}
	cpus_read_unlock();
	naive_running = true;
	if (err) {
		pr_err("start: could not arm the timers: %d\n", err);
		naive_stop_locked();
		return err;
	}
	pr_info("started %u stream(s), period %lld ns, context %s\n", naive_nr,
		ktime_to_ns(naive_period), naive_context_name());
	return 0;
}

/* ---- debugfs ---- */

static int naive_stats_show(struct seq_file *m, void *v)
{
	struct naive_stream *s = m->private;
	u64 allocs = READ_ONCE(s->allocs), max = READ_ONCE(s->alloc_max);
	u64 failed = READ_ONCE(s->failed), dropped = READ_ONCE(s->dropped);
	u64 freed = READ_ONCE(s->freed);

	seq_printf(m, "order: %u\n", s->order);
	seq_printf(m, "cpu: %u\n", s->cpu);
	seq_printf(m, "dma_cpu: %u\n", s->dma_cpu);
	seq_printf(m, "context: %s\n", naive_context_name());
	seq_printf(m, "running: %d\n", READ_ONCE(naive_running));
	seq_printf(m, "period_ns: %lld\n", ktime_to_ns(naive_period));
	seq_printf(m, "dma_delay_ns: %llu\n", naive_dma_delay);
	seq_printf(m, "periods: %llu\n", READ_ONCE(s->periods));
	seq_printf(m, "allocs: %llu\n", allocs);
	seq_printf(m, "failed: %llu\n", failed);
	seq_printf(m, "dropped: %llu\n", dropped);
	seq_printf(m, "freed: %llu\n", freed);
	seq_printf(m, "in_flight: %lld\n",
		   (s64)(allocs - failed - dropped - freed));
	seq_printf(m, "hardirq: %llu\n", READ_ONCE(s->hardirq));
	seq_printf(m, "refused_hardirq: %llu\n", READ_ONCE(s->refused_hardirq));
	seq_printf(m, "timer_overruns: %llu\n", READ_ONCE(s->timer_overruns));
	seq_printf(m, "dma_overruns: %llu\n", READ_ONCE(s->dma_overruns));
	seq_printf(m, "alloc_p50_ns: %llu\n",
		   bh_percentile(s->hist, allocs, max, 500));
	seq_printf(m, "alloc_p99_ns: %llu\n",
		   bh_percentile(s->hist, allocs, max, 990));
	seq_printf(m, "alloc_max_ns: %llu\n", max);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(naive_stats);

static int naive_alloc_ns_show(struct seq_file *m, void *v)
{
	struct naive_stream *s = m->private;
	u64 lo, hi, count;
	unsigned int i;

	for (i = 0; i < BH_BUCKETS; i += BH_COARSE) {
		count = bh_coarse_bin(s->hist, i, &lo, &hi);
		if (count)
			seq_printf(m, "%llu-%llu: %llu\n", lo, hi - 1, count);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(naive_alloc_ns);

static int naive_timeline_show(struct seq_file *m, void *v)
{
	struct naive_stream *s = m->private;
	unsigned int i, last = 0;

	for (i = 0; i < NAIVE_TL_SLOTS; i++)
		if (READ_ONCE(s->tl_periods[i]))
			last = i + 1;
	for (i = 0; i < last; i++)
		seq_printf(m, "t=%llu periods=%u failed=%u\n",
			   div_u64((u64)i * naive_tl_ns, NSEC_PER_MSEC),
			   READ_ONCE(s->tl_periods[i]),
			   READ_ONCE(s->tl_failed[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(naive_timeline);

static ssize_t naive_control_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[16], *cmd;
	int err = 0;

	if (count >= sizeof(buf)) {
		pr_err("control: command too long (start or stop)\n");
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);
	mutex_lock(&naive_lock);
	if (!strcmp(cmd, "start")) {
		err = naive_start_locked();
	} else if (!strcmp(cmd, "stop")) {
		naive_stop_locked();
	} else {
		pr_err("control: unknown command '%s' (start or stop)\n", cmd);
		err = -EINVAL;
	}
	mutex_unlock(&naive_lock);
	return err ? err : count;
}

static const struct file_operations naive_control_fops = {
	.owner = THIS_MODULE,
	.write = naive_control_write,
	.llseek = noop_llseek,
};

static void naive_debugfs_init(void)
{
	char name[24];
	unsigned int i;

	naive_dir = debugfs_create_dir("atomic_alloc_naive", NULL);
	debugfs_create_file("control", 0200, naive_dir, NULL,
			    &naive_control_fops);
	for (i = 0; i < naive_nr; i++) {
		struct naive_stream *s = &naive_streams[i];

		snprintf(name, sizeof(name), "stream%u", i);
		s->dir = debugfs_create_dir(name, naive_dir);
		debugfs_create_file("stats", 0444, s->dir, s,
				    &naive_stats_fops);
		debugfs_create_file("alloc_ns", 0444, s->dir, s,
				    &naive_alloc_ns_fops);
		debugfs_create_file("timeline", 0444, s->dir, s,
				    &naive_timeline_fops);
	}
}

/* ---- Module ---- */

static int naive_check_params(void)
{
	int i;

	if (nr_orders < 1) {
		pr_err("orders: at least one stream\n");
		return -EINVAL;
	}
	for (i = 0; i < nr_orders; i++) {
		if (orders[i] > NAIVE_MAX_ORDER) {
			pr_err("orders: order %u of stream %d is above %d\n",
			       orders[i], i, NAIVE_MAX_ORDER);
			return -EINVAL;
		}
	}
	if (period_ns < NAIVE_PERIOD_MIN_NS || period_ns > NAIVE_PERIOD_MAX_NS) {
		pr_err("period_ns must be %lu-%lu, not %lu\n",
		       NAIVE_PERIOD_MIN_NS, NAIVE_PERIOD_MAX_NS, period_ns);
		return -EINVAL;
	}
	if (dma_delay_ns > NSEC_PER_SEC) {
		pr_err("dma_delay_ns must be at most %lu, not %lu\n",
		       NSEC_PER_SEC, dma_delay_ns);
		return -EINVAL;
	}
	if (timeline_ms < NAIVE_TL_MS_MIN || timeline_ms > NAIVE_TL_MS_MAX) {
		pr_err("timeline_ms must be %d-%d, not %u\n", NAIVE_TL_MS_MIN,
		       NAIVE_TL_MS_MAX, timeline_ms);
		return -EINVAL;
	}
	return 0;
}

static void naive_free_streams(void)
{
	unsigned int i;

	for (i = 0; naive_streams && i < naive_nr; i++)
		kfifo_free(&naive_streams[i].ring);
	kvfree(naive_streams);
	naive_streams = NULL;
}

static int __init atomic_alloc_naive_init(void)
{
	unsigned int i;
	int err;

	err = naive_check_params();
	if (err)
		return err;
	naive_period = ns_to_ktime(period_ns);
	naive_dma_delay = dma_delay_ns ?: period_ns;
	naive_dma_poll = ns_to_ktime(clamp_t(u64, period_ns / 4,
					     NAIVE_DMA_POLL_MIN_NS,
					     NAIVE_DMA_POLL_MAX_NS));
	naive_tl_ns = (u64)timeline_ms * NSEC_PER_MSEC;

	naive_streams = kvcalloc(nr_orders, sizeof(*naive_streams),
				 GFP_KERNEL);
	if (!naive_streams)
		return -ENOMEM;
	naive_nr = nr_orders;
	for (i = 0; i < naive_nr; i++) {
		struct naive_stream *s = &naive_streams[i];

		s->index = i;
		s->order = orders[i];
		hrtimer_init(&s->period_timer, CLOCK_MONOTONIC,
			     NAIVE_TIMER_MODE);
		s->period_timer.function = naive_period_irq;
		hrtimer_init(&s->dma_timer, CLOCK_MONOTONIC, NAIVE_TIMER_MODE);
		s->dma_timer.function = naive_dma_irq;
		err = kfifo_alloc(&s->ring, NAIVE_RING_ENTRIES, GFP_KERNEL);
		if (err) {
			naive_free_streams();
			return err;
		}
	}
	naive_debugfs_init();
	pr_info("%u stream(s), period %lld ns, DMA delay %llu ns, context %s%s\n",
		naive_nr, ktime_to_ns(naive_period), naive_dma_delay,
		naive_context_name(),
		IS_ENABLED(CONFIG_PREEMPT_RT) ?
		" (PREEMPT_RT: alloc_pages() is not legal in hard IRQ)" : "");
	if (autostart) {
		mutex_lock(&naive_lock);
		err = naive_start_locked();
		mutex_unlock(&naive_lock);
		if (err) {
			debugfs_remove_recursive(naive_dir);
			naive_free_streams();
			return err;
		}
	}
	return 0;
}

static void __exit atomic_alloc_naive_exit(void)
{
	debugfs_remove_recursive(naive_dir);
	mutex_lock(&naive_lock);
	naive_stop_locked();
	mutex_unlock(&naive_lock);
	naive_free_streams();
}

module_init(atomic_alloc_naive_init);
module_exit(atomic_alloc_naive_exit);

MODULE_DESCRIPTION("Test support: a driver calling alloc_pages(GFP_ATOMIC) in its period interrupt");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
