// SPDX-License-Identifier: GPL-2.0
/*
 * bench_refill.c - refill capacity: how fast a pool drains and its worker
 * refills it, how late a work item queued from a hard IRQ runs, and whether
 * a pool sustains a steady draw from a hard IRQ with frees on another CPU
 *
 *   BREFILL   drain this CPU's array and the shared reserve with IRQs off,
 *             then watch (from another CPU) the worker put them back; and
 *             the raw rate of the worker's own page allocations
 *   wq_wakeup a BENCH/BHIST row: queue_work_on() from a hard-IRQ hrtimer
 *             until the work runs, on a WQ_HIGHPRI | WQ_MEM_RECLAIM queue
 *   BSUSTAIN  an hrtimer takes N buffers per 1 ms tick; a kthread on another
 *             CPU frees them, as an audio DMA-completion interrupt would
 *
 * Concurrency: the observer runs on another CPU and only reads
 * atomic_alloc_get_stats() and writes its own result, which the command
 * reads after the observer completed (go is a release/acquire pair).  The
 * sustained draw has one producer (the hrtimer) and one consumer (the
 * kthread) around a kfifo, which needs no lock with one reader and one
 * writer; every counter has one writer.  Callbacks only count.
 */

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "../atomic_alloc.h"
#include "bench.h"

#define BENCH_IRQ_WAIT_MS	5000
#define BENCH_REFILL_WAIT_MS	3000
#define BENCH_REFILL_REPS	5
#define BENCH_WAKE_SAMPLES	256
#define BENCH_SUSTAIN_MS	500
#define BENCH_SUSTAIN_TICK_NS	(1000 * NSEC_PER_USEC)
#define BENCH_FIFO_SIZE		8192

struct bench_observe {
	struct atomic_alloc_pool *pool;
	u64 full;		/* available with every tier at its target */
	u64 base;		/* available when the drain ended */
	u64 want;		/* buffers the refill must bring back */
	atomic_t go;
	u64 t_go;
	u64 t_first;		/* first refill batch visible */
	u64 t_full;		/* all @want back */
	u64 first_avail;
	u64 last_avail;
	u64 polls;
};

static int bench_observe_fn(void *arg)
{
	struct bench_observe *ob = arg;
	struct atomic_alloc_stats st;
	u64 t, deadline;

	while (!atomic_read_acquire(&ob->go))
		cpu_relax();
	deadline = ktime_get_ns() + BENCH_REFILL_WAIT_MS * NSEC_PER_MSEC;
	for (;;) {
		atomic_alloc_get_stats(ob->pool, &st);
		t = bench_now();
		ob->polls++;
		ob->last_avail = st.available;
		if (!ob->t_first && st.available > ob->base) {
			ob->t_first = t;
			ob->first_avail = st.available;
		}
		if (st.available >= ob->base + ob->want) {
			ob->t_full = t;
			break;
		}
		if (ktime_get_ns() > deadline)
			break;
		cpu_relax();
	}
	return 0;
}

struct bench_drain {
	struct atomic_alloc_pool *pool;
	struct page **held;
	unsigned int cap;
	unsigned int n;
	u64 t0;
	u64 t1;
	struct atomic_alloc_stats before;
	struct atomic_alloc_stats after;
	struct bench_observe *ob;
};

/* On bench_cpu: empty this CPU's array and the shared reserve, IRQs off. */
static int bench_drain_fn(void *arg)
{
	struct bench_drain *d = arg;
	struct page *page;
	unsigned long flags;

	atomic_alloc_get_stats(d->pool, &d->before);
	local_irq_save(flags);
	d->t0 = bench_now();
	while (d->n < d->cap) {
		page = atomic_alloc_page(d->pool, 0);
		if (!page)
			break;
		d->held[d->n++] = page;
	}
	d->t1 = bench_now();
	local_irq_restore(flags);
	atomic_alloc_get_stats(d->pool, &d->after);

	/*
	 * Now let the refill worker run: it is queued on this CPU.  It fills
	 * this CPU's array and the reserve to their targets, first from its
	 * surplus (counted in available already), then from the page
	 * allocator: done when available is back at the full level.
	 */
	d->ob->base = d->after.available;
	d->ob->want = d->ob->full > d->ob->base ? d->ob->full - d->ob->base : 0;
	d->ob->t_go = bench_now();
	atomic_set_release(&d->ob->go, 1);
	return 0;
}

static u64 bench_rate(u64 count, u64 ns)
{
	return ns ? div64_u64(count * NSEC_PER_SEC, ns) : 0;
}

/*
 * What the refill worker's page allocations alone cost: @want buffers
 * with its gfp (GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN), on
 * bench_cpu, timed together.
 */
struct bench_raw {
	unsigned int order;
	unsigned int want;
	unsigned int got;
	u64 ns;
};

static int bench_raw_fn(void *arg)
{
	struct bench_raw *r = arg;
	struct page **pages;
	unsigned int i;
	u64 t0;

	pages = kvcalloc(r->want, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	t0 = bench_now();
	for (r->got = 0; r->got < r->want; r->got++) {
		pages[r->got] = alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL |
					    __GFP_NOWARN, r->order);
		if (!pages[r->got])
			break;
	}
	r->ns = bench_to_ns(bench_now() - t0);
	for (i = 0; i < r->got; i++)
		__free_pages(pages[i], r->order);
	kvfree(pages);
	return 0;
}

static int bench_refill_one(const char *tag, struct atomic_alloc_pool *pool,
			    unsigned int order, unsigned int cpu)
{
	struct bench_raw raw = { .order = order };
	struct bench_observe *ob;
	struct bench_drain *d;
	struct bench_job obs;
	unsigned int i;
	u64 drain_ns;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	ob = kzalloc(sizeof(*ob), GFP_KERNEL);
	if (!d || !ob) {
		err = -ENOMEM;
		goto out;
	}
	d->cap = 4 * ATOMIC_ALLOC_MAX_CPU_BUFFERS;
	d->held = kvcalloc(d->cap, sizeof(*d->held), GFP_KERNEL);
	if (!d->held) {
		err = -ENOMEM;
		goto out;
	}
	d->pool = pool;
	d->ob = ob;
	ob->pool = pool;
	/*
	 * Every CPU's array and the reserve at their targets (the bench pools
	 * take the default reserve, cpu_buffers).  Not the level before the
	 * drain: a previous run's frees leave the reserve above its target
	 * and the worker's surplus non-empty, and the worker restores neither.
	 */
	ob->full = (u64)bench_pool_buffers * (num_online_cpus() + 1);
	atomic_set(&ob->go, 0);

	err = bench_job_start(&obs, bench_other_cpu(cpu), bench_observe_fn, ob);
	if (err)
		goto out;
	err = bench_on_cpu(cpu, bench_drain_fn, d);
	if (err)
		atomic_set_release(&ob->go, 1);
	bench_job_wait(&obs);
	if (err)
		goto out;

	raw.want = ob->want;
	err = bench_on_cpu(cpu, bench_raw_fn, &raw);
	if (err)
		goto out;
	drain_ns = bench_to_ns(d->t1 - d->t0);
	bench_printf("BREFILL tag=%s", tag);
	bench_kv("order", order);
	bench_kv("cpu", cpu);
	bench_kv("drained", d->n);
	bench_kv("drain_ns", drain_ns);
	bench_kv("drain_rate", bench_rate(d->n, drain_ns));
	bench_kv("local", d->after.alloc_local - d->before.alloc_local);
	bench_kv("remote", d->after.alloc_remote - d->before.alloc_remote);
	bench_kv("want", ob->want);
	bench_kv("wake_first_ns",
		 ob->t_first ? bench_to_ns(ob->t_first - ob->t_go) : 0);
	bench_kv("full_ns", ob->t_full ? bench_to_ns(ob->t_full - ob->t_go) : 0);
	bench_kv("refill_rate", ob->t_full > ob->t_first ?
		 bench_rate(ob->base + ob->want - ob->first_avail,
			    bench_to_ns(ob->t_full - ob->t_first)) : 0);
	bench_kv("refilled_first", ob->first_avail > ob->base ?
		 ob->first_avail - ob->base : 0);
	bench_kv("avail_end", ob->last_avail);
	bench_kv("complete", ob->t_full ? 1 : 0);
	bench_kv("alloc_got", raw.got);
	bench_kv("alloc_ns", raw.ns);
	bench_kv("alloc_rate", bench_rate(raw.got, raw.ns));
	bench_printf("\n");
	err = ob->t_full ? 0 : -ETIMEDOUT;
out:
	if (d && d->held) {
		for (i = 0; i < d->n; i++)
			atomic_alloc_free(pool, d->held[i]);
		kvfree(d->held);
	}
	kfree(d);
	kfree(ob);
	return err;
}

/* Work-item wake-up latency: queued from a hard IRQ, on the same CPU. */
struct bench_wake {
	struct hrtimer timer;
	struct work_struct work;
	struct completion done;
	u64 t_kick;
	u64 lat;
};

static struct workqueue_struct *bench_wq;

int bench_refill_init(void)
{
	bench_wq = alloc_workqueue("aa_bench_wake", WQ_MEM_RECLAIM | WQ_HIGHPRI,
				   0);
	return bench_wq ? 0 : -ENOMEM;
}

void bench_refill_exit(void)
{
	destroy_workqueue(bench_wq);
}

static enum hrtimer_restart bench_wake_irq(struct hrtimer *t)
{
	struct bench_wake *w = container_of(t, struct bench_wake, timer);

	w->t_kick = bench_now();
	queue_work_on(smp_processor_id(), bench_wq, &w->work);
	return HRTIMER_NORESTART;
}

static void bench_wake_work(struct work_struct *work)
{
	struct bench_wake *w = container_of(work, struct bench_wake, work);

	w->lat = bench_now() - w->t_kick;
	complete(&w->done);
}

static int bench_wake_fn(void *arg)
{
	struct bench_row *row = arg;
	struct bench_wake *w;
	unsigned int i;
	int err = 0;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	hrtimer_init(&w->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	w->timer.function = bench_wake_irq;
	INIT_WORK(&w->work, bench_wake_work);
	init_completion(&w->done);
	for (i = 0; i < BENCH_WAKE_SAMPLES; i++) {
		reinit_completion(&w->done);
		/* Odd delays, so that the kicks do not beat with the tick. */
		hrtimer_start(&w->timer, ns_to_ktime(50 * NSEC_PER_USEC + i * 997),
			      HRTIMER_MODE_REL_PINNED_HARD);
		if (!wait_for_completion_timeout(&w->done,
						 msecs_to_jiffies(BENCH_IRQ_WAIT_MS))) {
			err = -ETIMEDOUT;
			break;
		}
		bench_row_add(row, bench_to_ns(w->lat));
	}
	hrtimer_cancel(&w->timer);
	flush_work(&w->work);
	kfree(w);
	return err;
}

static int bench_wake_run(const char *tag, unsigned int cpu)
{
	static const struct bench_method wake = { .name = "wq_wakeup" };
	struct bench_row *row;
	int err;

	row = vzalloc(sizeof(*row));
	if (!row)
		return -ENOMEM;
	row->m = &wake;
	row->ctx = &bench_ctx_hardirq;
	bench_row_reset(row);
	err = bench_on_cpu(cpu, bench_wake_fn, row);
	bench_print_row(tag, row);
	vfree(row);
	return err;
}

/*
 * Sustained draw: an hrtimer on bench_cpu takes @per_tick buffers every
 * millisecond and hands them through a kfifo to a kthread on another CPU,
 * which frees them there (as an audio DMA-completion interrupt would).
 */
struct bench_sustain {
	struct hrtimer timer;
	struct atomic_alloc_pool *pool;
	DECLARE_KFIFO_PTR(fifo, struct page *);
	unsigned int per_tick;
	u64 t_end;
	u64 ticks;
	u64 allocs;
	u64 fails;
	u64 fifo_full;
	u64 overruns;
	u64 first_fail_tick;
	bool stop;
	struct completion done;
};

static enum hrtimer_restart bench_sustain_irq(struct hrtimer *t)
{
	struct bench_sustain *s = container_of(t, struct bench_sustain, timer);
	struct page *page;
	unsigned int i;
	u64 missed;

	s->ticks++;
	for (i = 0; i < s->per_tick; i++) {
		page = atomic_alloc_page(s->pool, 0);
		if (!page) {
			if (!s->fails)
				s->first_fail_tick = s->ticks;
			s->fails++;
			continue;
		}
		s->allocs++;
		if (!kfifo_put(&s->fifo, page)) {
			s->fifo_full++;
			atomic_alloc_free(s->pool, page);
		}
	}
	if (ktime_get_ns() >= s->t_end) {
		WRITE_ONCE(s->stop, true);
		complete(&s->done);
		return HRTIMER_NORESTART;
	}
	missed = hrtimer_forward_now(t, ns_to_ktime(BENCH_SUSTAIN_TICK_NS));
	if (missed > 1)
		s->overruns += missed - 1;
	return HRTIMER_RESTART;
}

static int bench_sustain_consume(void *arg)
{
	struct bench_sustain *s = arg;
	struct page *page;

	for (;;) {
		while (kfifo_get(&s->fifo, &page))
			atomic_alloc_free(s->pool, page);
		if (READ_ONCE(s->stop) && kfifo_is_empty(&s->fifo))
			break;
		usleep_range(50, 100);
	}
	return 0;
}

static int bench_sustain_start(void *arg)
{
	struct bench_sustain *s = arg;

	s->t_end = ktime_get_ns() + BENCH_SUSTAIN_MS * NSEC_PER_MSEC;
	hrtimer_start(&s->timer, ns_to_ktime(BENCH_SUSTAIN_TICK_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	return 0;
}

static int bench_sustain_one(const char *tag, struct atomic_alloc_pool *pool,
			     unsigned int order, unsigned int cpu,
			     unsigned int per_tick)
{
	struct atomic_alloc_stats a, b;
	struct bench_sustain *s;
	struct bench_job cons;
	int err;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	err = kfifo_alloc(&s->fifo, BENCH_FIFO_SIZE, GFP_KERNEL);
	if (err) {
		kfree(s);
		return err;
	}
	s->pool = pool;
	s->per_tick = per_tick;
	init_completion(&s->done);
	hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	s->timer.function = bench_sustain_irq;

	atomic_alloc_get_stats(pool, &a);
	err = bench_job_start(&cons, bench_other_cpu(cpu), bench_sustain_consume,
			      s);
	if (err)
		goto out;
	err = bench_on_cpu(cpu, bench_sustain_start, s);
	if (err || !wait_for_completion_timeout(&s->done,
						msecs_to_jiffies(BENCH_SUSTAIN_MS +
								 BENCH_IRQ_WAIT_MS))) {
		hrtimer_cancel(&s->timer);
		err = err ?: -ETIMEDOUT;
	}
	WRITE_ONCE(s->stop, true);
	bench_job_wait(&cons);
	atomic_alloc_get_stats(pool, &b);

	bench_printf("BSUSTAIN tag=%s err=%d", tag, err);
	bench_kv("order", order);
	bench_kv("cpu", cpu);
	bench_kv("per_tick", per_tick);
	bench_kv("tick_us", BENCH_SUSTAIN_TICK_NS / NSEC_PER_USEC);
	bench_kv("target_rate", per_tick * NSEC_PER_SEC / BENCH_SUSTAIN_TICK_NS);
	bench_kv("ms", BENCH_SUSTAIN_MS);
	bench_kv("ticks", s->ticks);
	bench_kv("overruns", s->overruns);
	bench_kv("allocs", s->allocs);
	bench_kv("fails", s->fails);
	bench_kv("first_fail_tick", s->first_fail_tick);
	bench_kv("local", b.alloc_local - a.alloc_local);
	bench_kv("remote", b.alloc_remote - a.alloc_remote);
	bench_kv("refilled", b.refilled - a.refilled);
	bench_kv("released", b.released - a.released);
	bench_kv("fifo_full", s->fifo_full);
	bench_printf("\n");
out:
	kfifo_free(&s->fifo);
	kfree(s);
	return err;
}

/**
 * bench_refill_run() - every refill-capacity test, on both bench pools
 * @tag: the tag= of the output lines
 * @short_run: one drain per pool instead of BENCH_REFILL_REPS, two draw
 *	rates instead of four (the self-check)
 *
 * Context: Process context, bench_lock held.
 * Return: 0, or the first error of a test (the others still ran).
 */
int bench_refill_run(const char *tag, bool short_run)
{
	static const unsigned int per_tick[] = { 1, 4, 16, 64 };
	unsigned int cpu, i, k, r;
	int err, ret = 0;

	cpu = bench_table_cpu();
	for (i = 0; i < BENCH_NR_AA; i++) {
		for (r = 0; r < (short_run ? 1 : BENCH_REFILL_REPS); r++) {
			err = bench_refill_one(tag, bench_aa[i],
					       i ? bench_order_hi : 0, cpu);
			ret = ret ?: err;
			/* Let the pool settle before the next test. */
			msleep(20);
		}
	}
	err = bench_wake_run(tag, cpu);
	ret = ret ?: err;
	for (i = 0; i < BENCH_NR_AA; i++) {
		for (k = 0; k < ARRAY_SIZE(per_tick); k++) {
			if (short_run && k > 1)
				break;
			err = bench_sustain_one(tag, bench_aa[i],
						i ? bench_order_hi : 0, cpu,
						per_tick[k]);
			ret = ret ?: err;
			msleep(20);
		}
	}
	return ret;
}

