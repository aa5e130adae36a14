// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_bench - what one alloc+free pair costs: atomic_alloc against
 * a bare per-CPU array, alloc_pages(GFP_ATOMIC), a page mempool and a
 * page_pool, measured in the same boot, by the same loop.
 *
 * Every method is a function "allocate one buffer, free it" called through
 * one pointer from one loop, bench_batch(), which reads the clock before
 * and after the call and files the difference into a histogram.  A method
 * that does nothing ("timer") measures what the clock reads and the call
 * cost, in every context, so that a reader can subtract it.  Methods run
 * interleaved, one batch each in turn, so that noise from the host (this
 * usually runs under QEMU) falls on all of them alike.
 *
 * Contexts: IRQs off (local_irq_save() in a kthread), hard IRQ (an hrtimer
 * in HRTIMER_MODE_REL_PINNED_HARD that runs the batch in its callback), BH
 * disabled (local_bh_disable() in a kthread; the only context page_pool's
 * direct recycling allows).  A method is skipped where it is not legal:
 * page_pool outside BH, and on PREEMPT_RT alloc_pages() and mempool with
 * IRQs off or in hard IRQ (their locks are spinlock_t, which sleeps there).
 *
 * Besides the table the module can fragment memory ("labyrinth": no free
 * block of order >= 1 left, free memory held near the min watermark),
 * measure how fast a pool drains and refills, and how late a work item
 * runs after it is queued from a hard IRQ.
 *
 * Everything is driven through debugfs (atomic_alloc_bench/control) and
 * reported as text lines (atomic_alloc_bench/output) that
 * scripts/bench-report.py parses; see bench/README.md.
 *
 * Concurrency rules
 * =================
 *
 * - bench_lock (a mutex) serialises the commands written to "control" and
 *   the reads of "output" and "selftest": one command runs at a time, in
 *   the writer's process context, and waits for the kthreads it starts.
 * - A table run happens on one kthread bound to bench_cpu.  A row (its
 *   counters and histogram) is written by that CPU only: by the kthread
 *   with IRQs or BH disabled, or by the hrtimer callback that the kthread
 *   started and then waits for; complete() and wait_for_completion() order
 *   the two.
 * - The floor arrays are per CPU, touched by their own CPU with IRQs off
 *   (and filled or emptied at load and unload, when nothing runs).
 * - The refill test's observer runs on another CPU and only reads
 *   atomic_alloc_get_stats() and writes its own result, which the command
 *   reads after the observer completed.
 * - The sustained-draw test has one producer (an hrtimer on bench_cpu) and
 *   one consumer (a kthread on another CPU) around a kfifo, which needs no
 *   lock with one reader and one writer.  Counters have a single writer.
 * - Labyrinth state (lab) is guarded by lab.lock.  A build or re-sweep
 *   holds it while the per-CPU sweep kthreads it waits for act on its
 *   behalf; the table's kthread takes it between rounds to sweep its CPU;
 *   the hold work takes it for each pass; release stops the hold work and
 *   the shrinker first.
 * - The reclaim reserve (bench_reserve) is taken by the shrinker, from
 *   direct reclaim in any task, under bench_reserve_lock (a spinlock, never
 *   held across an allocation), and never under lab.lock, which a
 *   reclaiming task may be waiting for.  lab.shrunk is written there with
 *   WRITE_ONCE() and only reported.
 * - Interrupt callbacks never assert, print or sleep: they count, and the
 *   thread that waited for them reports.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/timex.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#ifdef CONFIG_X86
#include <asm/tsc.h>
#endif

/*
 * page_pool's API moved from <net/page_pool.h> (6.1) to
 * <net/page_pool/helpers.h> (6.6 and later); bench/Kbuild looks which
 * header the kernel tree has.
 */
#ifdef BENCH_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

/*
 * Pages a shrinker frees outside the LRU count as reclaimed: with
 * mm_account_reclaimed_pages() since 6.4, in reclaimed_slab before
 * (bench/Kbuild looks which one the headers have).
 */
static inline void bench_account_reclaimed(unsigned long pages)
{
#ifdef BENCH_HAVE_MM_ACCOUNT_RECLAIMED_PAGES
	mm_account_reclaimed_pages(pages);
#else
	if (current->reclaim_state)
		current->reclaim_state->reclaimed_slab += pages;
#endif
}

#include "../atomic_alloc.h"

/* ---- Parameters ---- */

static unsigned int samples = 200000;
module_param(samples, uint, 0644);
MODULE_PARM_DESC(samples, "alloc+free pairs measured per method and context (default 200000)");

static unsigned int batch = 128;
module_param(batch, uint, 0644);
MODULE_PARM_DESC(batch, "pairs per IRQs-off section, hrtimer callback or BH section (default 128)");

static unsigned int bench_cpu = 1;
module_param(bench_cpu, uint, 0444);
MODULE_PARM_DESC(bench_cpu, "CPU the table is measured on (default 1; the first online CPU if offline)");

static unsigned int order_hi = 2;
module_param(order_hi, uint, 0444);
MODULE_PARM_DESC(order_hi, "the higher buffer order measured besides order 0 (default 2)");

static unsigned int pool_buffers = 64;
module_param(pool_buffers, uint, 0444);
MODULE_PARM_DESC(pool_buffers, "cpu_buffers of the atomic_alloc pools and min_nr of the mempools (default 64)");

static bool use_ktime;
module_param(use_ktime, bool, 0444);
MODULE_PARM_DESC(use_ktime, "time with ktime_get_ns() instead of the cycle counter");

static bool quick;
module_param(quick, bool, 0444);
MODULE_PARM_DESC(quick, "at load, run every method briefly and write a self-check to debugfs selftest");

/* ---- Limits ---- */

#define BENCH_FLOOR_SIZE	64
#define BENCH_QUICK_SAMPLES	1024
#define BENCH_OUT_SIZE		(2 << 20)
#define BENCH_SELFTEST_SIZE	(64 << 10)
#define BENCH_IRQ_WAIT_MS	5000
#define BENCH_REFILL_WAIT_MS	3000
#define BENCH_REFILL_REPS	5
#define BENCH_WAKE_SAMPLES	256
#define BENCH_SUSTAIN_MS	500
#define BENCH_SUSTAIN_TICK_NS	(1000 * NSEC_PER_USEC)
#define BENCH_FIFO_SIZE		8192
#define BENCH_TAG_MAX		24

/* ---- Clock: cycles converted to ns, or ktime ---- */

#define BENCH_CLOCK_SHIFT	22

static u32 bench_clock_mult;	/* ns = cycles * mult >> BENCH_CLOCK_SHIFT */
static bool bench_use_cycles;

static __always_inline u64 bench_now(void)
{
	if (bench_use_cycles)
		return get_cycles();
	return ktime_get_ns();
}

static u64 bench_to_ns(u64 delta)
{
	if (bench_use_cycles)
		return mul_u64_u32_shr(delta, bench_clock_mult, BENCH_CLOCK_SHIFT);
	return delta;
}

static void bench_clock_init(void)
{
#ifdef CONFIG_X86
	if (!use_ktime && tsc_khz && get_cycles()) {
		bench_clock_mult = div_u64((u64)USEC_PER_SEC << BENCH_CLOCK_SHIFT,
					   tsc_khz);
		bench_use_cycles = true;
	}
#endif
}

#define BENCH_STEP_READS	1024

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * How the clock steps: back-to-back reads, the smallest non-zero and the
 * median difference, in ps.  (Under TCG the counter is the host's and may
 * move in coarse steps.)
 */
static void bench_clock_steps(u64 *min_ps, u64 *median_ps)
{
	unsigned int i, n = 0;
	u64 *d, a;

	*min_ps = 0;
	*median_ps = 0;
	d = kmalloc_array(BENCH_STEP_READS, sizeof(*d), GFP_KERNEL);
	if (!d)
		return;
	for (i = 0; i < BENCH_STEP_READS; i++) {
		a = bench_now();
		d[i] = bench_to_ns((bench_now() - a) * 1000);
	}
	sort(d, BENCH_STEP_READS, sizeof(*d), bench_cmp_u64, NULL);
	while (n < BENCH_STEP_READS && !d[n])
		n++;
	if (n < BENCH_STEP_READS)
		*min_ps = d[n];
	*median_ps = d[BENCH_STEP_READS / 2];
	kfree(d);
}

static unsigned int bench_clock_khz(void)
{
#ifdef CONFIG_X86
	if (bench_use_cycles)
		return tsc_khz;
#endif
	return 0;
}

/* ---- Histogram: 64 linear sub-buckets per power of two (1.6%) ---- */

#define BH_SUB_BITS	6
#define BH_SUB		64U	/* 1 << BH_SUB_BITS */
#define BH_OCTAVES	36
#define BH_BUCKETS	(BH_SUB + BH_OCTAVES * BH_SUB)
/* Fine buckets per printed (coarse) bin: 8 bins per power of two. */
#define BH_COARSE	8

static unsigned int bh_index(u64 v)
{
	unsigned int shift, idx;

	if (v < BH_SUB)
		return v;
	shift = fls64(v) - 1 - BH_SUB_BITS;
	idx = BH_SUB + shift * BH_SUB + (unsigned int)((v >> shift) - BH_SUB);
	return min(idx, BH_BUCKETS - 1);
}

static u64 bh_lower(unsigned int idx)
{
	unsigned int shift;

	if (idx < BH_SUB)
		return idx;
	shift = (idx - BH_SUB) / BH_SUB;
	return (u64)(BH_SUB + (idx - BH_SUB) % BH_SUB) << shift;
}

static u64 bh_width(unsigned int idx)
{
	return idx < BH_SUB ? 1 : 1ULL << ((idx - BH_SUB) / BH_SUB);
}

/* ---- Output buffer (debugfs "output") ---- */

static DEFINE_MUTEX(bench_lock);
static char *bench_out;
static size_t bench_out_len;
static char *bench_selftest;
static size_t bench_selftest_len;
static unsigned int bench_selftest_fail;

static __printf(4, 5) void bench_append(char *buf, size_t size, size_t *len,
					const char *fmt, ...)
{
	va_list args;

	if (!buf)
		return;
	va_start(args, fmt);
	*len += vscnprintf(buf + *len, size - *len, fmt, args);
	va_end(args);
}

#define bench_printf(fmt, ...) \
	bench_append(bench_out, BENCH_OUT_SIZE, &bench_out_len, fmt, \
		     ##__VA_ARGS__)
#define bench_stprintf(fmt, ...) \
	bench_append(bench_selftest, BENCH_SELFTEST_SIZE, &bench_selftest_len, \
		     fmt, ##__VA_ARGS__)

/* One " key=value" field of an output line. */
static void bench_kv(const char *key, u64 val)
{
	bench_printf(" %s=%llu", key, val);
}

static __printf(2, 3) void bench_check(bool ok, const char *fmt, ...)
{
	char line[192];
	va_list args;

	va_start(args, fmt);
	vscnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (!ok)
		bench_selftest_fail++;
	bench_stprintf("%sok - bench: %s\n", ok ? "" : "not ", line);
}

/* ---- Methods: one alloc+free pair each ---- */

enum bench_kind {
	BK_TIMER,
	BK_FLOOR,
	BK_AA,
	BK_BUDDY,
	BK_MEMPOOL,
	BK_PP,
	BK_ZERO,
	BK_IRQ,
};

enum bench_ctx {
	BC_IRQOFF,
	BC_HARDIRQ,
	BC_BH,
	BC_NR,
};

static const char * const bench_ctx_name[BC_NR] = {
	[BC_IRQOFF] = "irqoff",
	[BC_HARDIRQ] = "hardirq",
	[BC_BH] = "bh",
};

struct bench_method {
	const char *name;
	enum bench_kind kind;
	unsigned int order;
	bool (*pair)(const struct bench_method *m);
	struct atomic_alloc_pool *aa;
	mempool_t *mp;
	struct page_pool *pp;
	struct page *zero;
};

struct bench_floor {
	unsigned int level;
	struct page *pages[BENCH_FLOOR_SIZE];
};

static struct bench_floor __percpu *bench_floor;

/*
 * The floor: the least a per-CPU pool can do, an array popped and pushed
 * with IRQs off.  Out of line, like atomic_alloc_page() and
 * atomic_alloc_free(), so that both pay two calls.
 */
static noinline struct page *bench_floor_pop(void)
{
	struct bench_floor *f;
	struct page *page = NULL;
	unsigned long flags;

	local_irq_save(flags);
	f = this_cpu_ptr(bench_floor);
	if (likely(f->level))
		page = f->pages[--f->level];
	local_irq_restore(flags);
	return page;
}

static noinline bool bench_floor_push(struct page *page)
{
	struct bench_floor *f;
	unsigned long flags;
	bool done = false;

	local_irq_save(flags);
	f = this_cpu_ptr(bench_floor);
	if (likely(f->level < BENCH_FLOOR_SIZE)) {
		f->pages[f->level++] = page;
		done = true;
	}
	local_irq_restore(flags);
	return done;
}

static bool bench_pair_timer(const struct bench_method *m)
{
	return true;
}

static bool bench_pair_floor(const struct bench_method *m)
{
	struct page *page = bench_floor_pop();

	if (!page)
		return false;
	if (!bench_floor_push(page))
		__free_page(page);
	return true;
}

static bool bench_pair_aa(const struct bench_method *m)
{
	/* gfp 0: the pool's own tiers only, never the page allocator. */
	struct page *page = atomic_alloc_page(m->aa, 0);

	if (!page)
		return false;
	atomic_alloc_free(m->aa, page);
	return true;
}

static bool bench_pair_buddy(const struct bench_method *m)
{
	struct page *page = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, m->order);

	if (!page)
		return false;
	__free_pages(page, m->order);
	return true;
}

static bool bench_pair_mempool(const struct bench_method *m)
{
	struct page *page = mempool_alloc(m->mp, GFP_ATOMIC);

	if (!page)
		return false;
	mempool_free(page, m->mp);
	return true;
}

static bool bench_pair_pp(const struct bench_method *m)
{
	struct page *page = page_pool_alloc_pages(m->pp,
						  GFP_ATOMIC | __GFP_NOWARN);

	if (!page)
		return false;
	page_pool_put_full_page(m->pp, page, true);
	return true;
}

/*
 * Not an allocator: what clearing the buffer costs, which alloc_pages()
 * and a mempool's page allocation pay on every call when init_on_alloc is
 * on (Debian's default), and the recycling pools do not.
 */
static bool bench_pair_zero(const struct bench_method *m)
{
	unsigned int i;

	for (i = 0; i < (1U << m->order); i++)
		clear_highpage(m->zero + i);
	return true;
}

/*
 * Not an allocator: the two local_irq_save()/local_irq_restore() pairs that
 * the floor and atomic_alloc pay per alloc+free pair and page_pool does
 * not.  Under TCG, restoring an enabled IF ends a translation block, which
 * makes this dearer than on hardware.
 */
static noinline void bench_irq_toggle(void)
{
	unsigned long flags;

	local_irq_save(flags);
	barrier();
	local_irq_restore(flags);
}

static bool bench_pair_irq(const struct bench_method *m)
{
	bench_irq_toggle();
	bench_irq_toggle();
	return true;
}

#define BENCH_METHODS	13
static struct bench_method bench_methods[BENCH_METHODS];
static unsigned int bench_nr_methods;
static struct atomic_alloc_pool *bench_aa[2];

/* NULL when @m may run in @ctx, else why not. */
static const char *bench_illegal(const struct bench_method *m,
				 enum bench_ctx ctx)
{
	switch (m->kind) {
	case BK_BUDDY:
	case BK_MEMPOOL:
		if (IS_ENABLED(CONFIG_PREEMPT_RT) && ctx != BC_BH)
			return "PREEMPT_RT: zone and mempool locks are spinlock_t, which sleeps";
		return NULL;
	case BK_PP:
		if (ctx != BC_BH)
			return "page_pool direct recycling is for BH-disabled (NAPI) context only";
		return NULL;
	case BK_ZERO:
		if (ctx != BC_IRQOFF)
			return "reference row, measured with IRQs off only";
		return NULL;
	default:
		return NULL;
	}
}

/* ---- Rows and the measuring loop ---- */

struct bench_row {
	const struct bench_method *m;
	enum bench_ctx ctx;
	u64 n;
	u64 failed;
	u64 ctxerr;
	u64 sum;
	u64 min;
	u64 max;
	u64 block_ns;
	u64 block_n;
	u32 hist[BH_BUCKETS];
};

static void bench_row_reset(struct bench_row *row)
{
	row->n = 0;
	row->failed = 0;
	row->ctxerr = 0;
	row->sum = 0;
	row->min = U64_MAX;
	row->max = 0;
	row->block_ns = 0;
	row->block_n = 0;
	memset(row->hist, 0, sizeof(row->hist));
}

static void bench_row_add(struct bench_row *row, u64 ns)
{
	row->n++;
	row->sum += ns;
	row->min = min(row->min, ns);
	row->max = max(row->max, ns);
	row->hist[bh_index(ns)]++;
}

/*
 * The one loop every method is timed by.  Only the call is between the
 * two clock reads; filing the sample happens outside.
 */
static noinline void bench_batch(struct bench_row *row, unsigned int n)
{
	const struct bench_method *m = row->m;
	unsigned int i;
	u64 t0, t1;
	bool ok;

	for (i = 0; i < n; i++) {
		t0 = bench_now();
		ok = m->pair(m);
		t1 = bench_now();
		if (likely(ok))
			bench_row_add(row, bench_to_ns(t1 - t0));
		else
			row->failed++;
	}
}

/*
 * The same pairs timed as one block, without a clock read per pair: a
 * mean free of the timer's overhead and granularity.  Failed attempts
 * count like successful ones.
 */
static noinline void bench_block(struct bench_row *row, unsigned int n)
{
	const struct bench_method *m = row->m;
	unsigned int i;
	u64 t0;

	t0 = bench_now();
	for (i = 0; i < n; i++)
		m->pair(m);
	row->block_ns += bench_to_ns(bench_now() - t0);
	row->block_n += n;
}

static void bench_both(struct bench_row *row, unsigned int n)
{
	bench_batch(row, n);
	bench_block(row, n);
}

struct bench_irq {
	struct hrtimer timer;
	struct completion done;
	struct bench_row *row;
	unsigned int n;
};

static enum hrtimer_restart bench_irq_fn(struct hrtimer *t)
{
	struct bench_irq *bi = container_of(t, struct bench_irq, timer);

	if (!in_hardirq())
		bi->row->ctxerr++;
	bench_both(bi->row, bi->n);
	complete(&bi->done);
	return HRTIMER_NORESTART;
}

/* One batch of @row in its context.  Runs on the bench kthread. */
static int bench_row_batch(struct bench_row *row, struct bench_irq *bi,
			   unsigned int n)
{
	unsigned long flags;

	switch (row->ctx) {
	case BC_IRQOFF:
		local_irq_save(flags);
		bench_both(row, n);
		local_irq_restore(flags);
		break;
	case BC_BH:
		local_bh_disable();
		if (!in_softirq())
			row->ctxerr++;
		bench_both(row, n);
		local_bh_enable();
		break;
	case BC_HARDIRQ:
		bi->row = row;
		bi->n = n;
		reinit_completion(&bi->done);
		hrtimer_start(&bi->timer, ns_to_ktime(NSEC_PER_USEC),
			      HRTIMER_MODE_REL_PINNED_HARD);
		if (!wait_for_completion_timeout(&bi->done,
						 msecs_to_jiffies(BENCH_IRQ_WAIT_MS))) {
			hrtimer_cancel(&bi->timer);
			return -ETIMEDOUT;
		}
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

struct bench_table {
	struct bench_row *rows;
	unsigned int nr_rows;
	unsigned int samples;
	unsigned int batch;
	unsigned long lab_swept;
	int err;
};

static unsigned long bench_lab_sweep_here(void);

static int bench_table_fn(void *arg)
{
	struct bench_table *tb = arg;
	unsigned int r, i, rounds, n;
	struct bench_irq *bi;
	int err = 0;

	bi = kzalloc(sizeof(*bi), GFP_KERNEL);
	if (!bi)
		return -ENOMEM;
	hrtimer_init(&bi->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	bi->timer.function = bench_irq_fn;
	init_completion(&bi->done);

	/* Warm-up: one batch each (TCG translates code on first use). */
	for (i = 0; i < tb->nr_rows && !err; i++) {
		err = bench_row_batch(&tb->rows[i], bi, tb->batch);
		bench_row_reset(&tb->rows[i]);
	}
	rounds = DIV_ROUND_UP(tb->samples, tb->batch);
	for (r = 0; r < rounds && !err; r++) {
		/*
		 * On a labyrinth, break up (outside the timed region) any
		 * block of order >= 1 that became free on this CPU or in the
		 * buddy lists since the last round, including one a method
		 * has been recycling through this CPU's per-CPU list.
		 */
		tb->lab_swept += bench_lab_sweep_here();
		n = min(tb->batch, tb->samples - r * tb->batch);
		/*
		 * Each round starts one row further on, so that no method
		 * always follows the same one (what a row leaves behind in
		 * caches, TLBs and pending softirqs falls on all alike).
		 */
		for (i = 0; i < tb->nr_rows && !err; i++) {
			err = bench_row_batch(&tb->rows[(r + i) % tb->nr_rows],
					      bi, n);
			cond_resched();
		}
	}
	hrtimer_cancel(&bi->timer);
	kfree(bi);
	return err;
}

/* ---- Running a function on a given CPU in a kthread ---- */

struct bench_job {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	struct completion done;
	struct task_struct *task;
};

static int bench_job_thread(void *data)
{
	struct bench_job *job = data;

	job->ret = job->fn(job->arg);
	complete(&job->done);
	/* kthread_stop() reaps us; wait for it. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int bench_job_start(struct bench_job *job, unsigned int cpu,
			   int (*fn)(void *), void *arg)
{
	job->fn = fn;
	job->arg = arg;
	job->ret = 0;
	init_completion(&job->done);
	job->task = kthread_create_on_cpu(bench_job_thread, job, cpu,
					  "aa_bench/%u");
	if (IS_ERR(job->task))
		return PTR_ERR(job->task);
	wake_up_process(job->task);
	return 0;
}

static int bench_job_wait(struct bench_job *job)
{
	wait_for_completion(&job->done);
	kthread_stop(job->task);
	return job->ret;
}

static int bench_on_cpu(unsigned int cpu, int (*fn)(void *), void *arg)
{
	struct bench_job job;
	int err;

	err = bench_job_start(&job, cpu, fn, arg);
	if (err)
		return err;
	return bench_job_wait(&job);
}

/* Another online CPU than @cpu, or @cpu if it is the only one. */
static unsigned int bench_other_cpu(unsigned int cpu)
{
	unsigned int other = cpumask_any_but(cpu_online_mask, cpu);

	return other < nr_cpu_ids ? other : cpu;
}

/* ---- The table ---- */

static u64 bench_row_pct(const struct bench_row *row, unsigned int permille)
{
	u64 want, seen = 0;
	unsigned int i;

	if (!row->n)
		return 0;
	want = div_u64(row->n * permille + 999, 1000);
	for (i = 0; i < BH_BUCKETS; i++) {
		seen += row->hist[i];
		if (seen >= want)
			return min(bh_lower(i) + (bh_width(i) - 1) / 2, row->max);
	}
	return row->max;
}

static void bench_print_row(const char *tag, const struct bench_row *row)
{
	unsigned int i, j, c, nbins = 0;
	u64 count;

	bench_printf("BENCH tag=%s ctx=%s method=%s order=%u", tag,
		     bench_ctx_name[row->ctx], row->m->name, row->m->order);
	bench_kv("n", row->n);
	bench_kv("fail", row->failed);
	bench_kv("ctxerr", row->ctxerr);
	bench_kv("min", row->n ? row->min : 0);
	bench_kv("p50", bench_row_pct(row, 500));
	bench_kv("p90", bench_row_pct(row, 900));
	bench_kv("p99", bench_row_pct(row, 990));
	bench_kv("p999", bench_row_pct(row, 999));
	bench_kv("max", row->max);
	bench_kv("mean", row->n ? div64_u64(row->sum, row->n) : 0);
	bench_kv("block_ps", row->block_n ?
		 div64_u64(row->block_ns * 1000, row->block_n) : 0);
	bench_printf("\n");

	/* Coarse bins for plotting: "lo:hi:count", a dozen per line. */
	for (i = 0; i < BH_BUCKETS; i += BH_COARSE) {
		count = 0;
		for (j = i; j < i + BH_COARSE && j < BH_BUCKETS; j++)
			count += row->hist[j];
		if (!count)
			continue;
		if (nbins % 12 == 0)
			bench_printf("%sBHIST tag=%s ctx=%s method=%s order=%u bins=",
				     nbins ? "\n" : "", tag,
				     bench_ctx_name[row->ctx], row->m->name,
				     row->m->order);
		c = min(i + BH_COARSE, BH_BUCKETS) - 1;
		bench_printf("%s%llu:%llu:%llu", nbins % 12 ? "," : "",
			     bh_lower(i), bh_lower(c) + bh_width(c), count);
		nbins++;
	}
	if (nbins)
		bench_printf("\n");
}

/*
 * Measure every legal (method, context) pair @n times on bench_cpu.
 * Returns the rows (caller frees) or an error pointer.
 */
static struct bench_table *bench_table_run(const char *tag, unsigned int n)
{
	struct bench_table *tb;
	unsigned int i, c, cpu;
	const char *why;
	int err;

	tb = kzalloc(sizeof(*tb), GFP_KERNEL);
	if (!tb)
		return ERR_PTR(-ENOMEM);
	tb->rows = vzalloc(array_size(bench_nr_methods * BC_NR,
				      sizeof(*tb->rows)));
	if (!tb->rows) {
		kfree(tb);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < bench_nr_methods; i++) {
		for (c = 0; c < BC_NR; c++) {
			why = bench_illegal(&bench_methods[i], c);
			if (why) {
				bench_printf("BSKIP tag=%s ctx=%s method=%s order=%u why=%s\n",
					     tag, bench_ctx_name[c],
					     bench_methods[i].name,
					     bench_methods[i].order, why);
				continue;
			}
			tb->rows[tb->nr_rows].m = &bench_methods[i];
			tb->rows[tb->nr_rows].ctx = c;
			bench_row_reset(&tb->rows[tb->nr_rows]);
			tb->nr_rows++;
		}
	}
	tb->samples = max(n, 1U);
	tb->batch = clamp(batch, 1U, 4096U);
	cpu = cpu_online(bench_cpu) ? bench_cpu : cpumask_first(cpu_online_mask);
	err = bench_on_cpu(cpu, bench_table_fn, tb);
	bench_printf("BRUN tag=%s err=%d", tag, err);
	bench_kv("cpu", cpu);
	bench_kv("samples", tb->samples);
	bench_kv("batch", tb->batch);
	bench_kv("rows", tb->nr_rows);
	bench_kv("lab_swept_blocks", tb->lab_swept);
	bench_printf("\n");
	for (i = 0; i < tb->nr_rows; i++)
		bench_print_row(tag, &tb->rows[i]);
	tb->err = err;
	return tb;
}

static void bench_table_free(struct bench_table *tb)
{
	if (IS_ERR_OR_NULL(tb))
		return;
	vfree(tb->rows);
	kfree(tb);
}

/* ---- Refill capacity ---- */

struct bench_observe {
	struct atomic_alloc_pool *pool;
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

	/* Now let the refill worker run: it is queued on this CPU. */
	d->ob->base = d->after.available;
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
	/* What the worker restores: this CPU's array and the reserve. */
	ob->want = 2 * pool_buffers;
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
	row->ctx = BC_HARDIRQ;
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

static int bench_refill_run(const char *tag, bool short_run)
{
	static const unsigned int per_tick[] = { 1, 4, 16, 64 };
	unsigned int cpu, i, k, r;
	int err, ret = 0;

	cpu = cpu_online(bench_cpu) ? bench_cpu : cpumask_first(cpu_online_mask);
	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		for (r = 0; r < (short_run ? 1 : BENCH_REFILL_REPS); r++) {
			err = bench_refill_one(tag, bench_aa[i],
					       i ? order_hi : 0, cpu);
			ret = ret ?: err;
			/* Let the pool settle before the next test. */
			msleep(20);
		}
	}
	err = bench_wake_run(tag, cpu);
	ret = ret ?: err;
	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		for (k = 0; k < ARRAY_SIZE(per_tick); k++) {
			if (short_run && k > 1)
				break;
			err = bench_sustain_one(tag, bench_aa[i],
						i ? order_hi : 0, cpu, per_tick[k]);
			ret = ret ?: err;
			msleep(20);
		}
	}
	return ret;
}

/* ---- Labyrinth: fragmented memory held near the min watermark ---- */

/*
 * Build (bench_lab_build()):
 *
 *  0. Allocate a reserve of 64 KiB blocks and offer it to direct reclaim
 *     through a shrinker (bench_lab_scan()): reclaim, which GFP_KERNEL
 *     callers and the pool's refill worker may enter, can get out of the
 *     labyrinth; atomic allocations, which cannot reclaim, cannot.  Without
 *     it the guest could not even fork (an x86-64 pgd is an order-1 block).
 *  1. Take every zone's free memory above its target (halfway from the min
 *     to the low watermark) as order-0 pages and pin them.
 *  2. On every CPU, empty its per-CPU lists and take every block of order
 *     >= 1 still free, of every migrate type; keep the even pages, free the
 *     odd ones, and free odd pinned pages wherever the zone is below its
 *     target.  A freed page's buddy is always pinned, so nothing merges.
 *
 * Hold (bench_lab_hold(), every BENCH_HOLD_MS): bring each zone back to its
 * target, freeing odd pinned pages or pinning more.  Blocks that merge later
 * (frees by others, a used reserve block's remainder) are broken up by a
 * sweep before each measurement and, on the bench CPU, between the rounds
 * of a table.  Release frees everything.
 */

struct bench_lab {
	struct mutex lock;	/* everything below, see the top of the file */
	bool active;
	struct page **pages;	/* pinned by us */
	unsigned long nr;
	unsigned long cap;
	unsigned long *pinned;	/* bit (pfn - base_pfn) set while pinned */
	unsigned int *index;	/* pages[index[pfn - base_pfn]] is that page */
	unsigned long base_pfn;
	unsigned long end_pfn;
	unsigned long cursor;
	unsigned long grabbed;
	unsigned long swept;
	unsigned long released;
	unsigned long hold_grabbed;
	unsigned long hold_released;
	unsigned long hold_passes;
	unsigned long shrunk;
	struct delayed_work hold;
};

static struct bench_lab lab;

#define BENCH_HOLD_MS		5
#define BENCH_SWEEP_LIMIT	100000
/*
 * The reclaim reserve: blocks above PAGE_ALLOC_COSTLY_ORDER, so that a
 * freed one goes straight to the buddy lists, not to a per-CPU list.
 */
#define BENCH_RESERVE_ORDER	4
#define BENCH_RESERVE_BLOCKS	1024

static DEFINE_SPINLOCK(bench_reserve_lock);
static struct page *bench_reserve[BENCH_RESERVE_BLOCKS];
static unsigned int bench_reserve_nr;

static gfp_t bench_zone_gfp(struct zone *zone, bool *ok)
{
	*ok = true;
	switch (zone_idx(zone)) {
#ifdef CONFIG_ZONE_DMA
	case ZONE_DMA:
		return __GFP_DMA;
#endif
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return __GFP_DMA32;
#endif
	case ZONE_NORMAL:
		return 0;
	default:
		*ok = false;
		return 0;
	}
}

/* The next populated zone after @zone (NULL: the first), or NULL. */
static struct zone *bench_next_zone(struct zone *zone)
{
	int nid = zone ? zone_to_nid(zone) : first_online_node;
	int z = zone ? zone_idx(zone) + 1 : 0;

	while (nid < MAX_NUMNODES) {
		for (; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			if (populated_zone(zone))
				return zone;
		}
		nid = next_online_node(nid);
		z = 0;
	}
	return NULL;
}

static unsigned long bench_zone_free(struct zone *zone)
{
	return zone_page_state(zone, NR_FREE_PAGES);
}

/*
 * Where the hold keeps a zone's free pages: halfway from the min to the low
 * watermark.  Below low every allocation takes the slow path and wakes
 * kswapd (which finds nothing to reclaim); above min nobody has to reclaim.
 */
static unsigned long bench_zone_target(struct zone *zone)
{
	unsigned long min = min_wmark_pages(zone), low = low_wmark_pages(zone);

	return min + max((low - min) / 2, 4UL);
}

static unsigned long bench_zone_high_order_blocks(struct zone *zone)
{
	unsigned long n = 0;
	unsigned int o;

	for (o = 1; o < ARRAY_SIZE(zone->free_area); o++)
		n += READ_ONCE(zone->free_area[o].nr_free);
	return n;
}

static bool bench_lab_test(unsigned long pfn)
{
	return pfn >= lab.base_pfn && pfn < lab.end_pfn &&
	       test_bit(pfn - lab.base_pfn, lab.pinned);
}

/* Keep @page; false (and the page freed) when there is no room. */
static bool bench_lab_pin(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (lab.nr >= lab.cap || pfn < lab.base_pfn || pfn >= lab.end_pfn) {
		__free_page(page);
		return false;
	}
	lab.index[pfn - lab.base_pfn] = lab.nr;
	__set_bit(pfn - lab.base_pfn, lab.pinned);
	lab.pages[lab.nr++] = page;
	return true;
}

/* Free the pinned page at pfn @pfn. */
static void bench_lab_unpin(unsigned long pfn)
{
	unsigned int i = lab.index[pfn - lab.base_pfn];
	struct page *page = lab.pages[i], *last;

	__clear_bit(pfn - lab.base_pfn, lab.pinned);
	last = lab.pages[--lab.nr];
	if (i != lab.nr) {
		lab.pages[i] = last;
		lab.index[page_to_pfn(last) - lab.base_pfn] = i;
	}
	__free_page(page);
}

/*
 * Free up to @want pinned pages of @zone (NULL: any zone), odd ones whose
 * buddy (pfn ^ 1) we keep, so that no freed page can merge into an order-1
 * block.  An even page is never freed this way, so a freed odd page's
 * buddy stays pinned until the labyrinth is released.
 */
static unsigned long bench_lab_release(struct zone *zone, unsigned long want)
{
	unsigned long done = 0, scanned = 0, pfn;
	struct page *page;

	while (done < want && scanned < lab.nr) {
		page = lab.pages[lab.cursor++ % lab.nr];
		pfn = page_to_pfn(page);
		scanned++;
		if ((!zone || page_zone(page) == zone) && (pfn & 1) &&
		    bench_lab_test(pfn - 1)) {
			bench_lab_unpin(pfn);
			done++;
		}
	}
	return done;
}

/*
 * Take up to @limit order-0 pages from @zone while it has more than its
 * target free.  The allocator hands out the smallest free blocks first, so
 * what stays free is mostly the big blocks the sweep then breaks up.
 */
static unsigned long bench_lab_grab(struct zone *zone, unsigned long limit)
{
	unsigned long n = 0;
	struct page *page;
	bool ok;
	gfp_t gfp = bench_zone_gfp(zone, &ok);

	if (!ok)
		return 0;
	/* No reclaim, no kswapd, and never below the target. */
	while (n < limit && bench_zone_free(zone) > bench_zone_target(zone)) {
		page = alloc_pages(gfp | __GFP_NOWARN, 0);
		if (!page || !bench_lab_pin(page))
			break;
		n++;
	}
	return n;
}

/* Give @zone pages back (odd ones only) until it is at its target. */
static void bench_lab_top_up(struct zone *zone, unsigned long *released)
{
	unsigned long free = bench_zone_free(zone);
	unsigned long target = bench_zone_target(zone);

	if (free < target)
		*released += bench_lab_release(zone, target - free);
}

/*
 * Take every block of order >= 1 still free (from the buddy lists and this
 * CPU's per-CPU lists), keep the even half of each pair and free the odd
 * half.  Each block costs the zone half its pages, which odd pinned pages
 * pay back before the next one, so the zone never drops far below its
 * target.
 *
 * First empty this CPU's per-CPU lists of order-0 pages: they are free
 * memory the buddy lists do not show, and when they go back they merge
 * with each other into blocks of any order.
 */
static void bench_lab_sweep_zone(struct zone *zone, gfp_t gfp)
{
	unsigned long n, pfn, i;
	unsigned int order;
	struct page *page;

	n = READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset,
				  raw_smp_processor_id())->count);
	while (n--) {
		page = alloc_pages(gfp, 0);
		if (!page || !bench_lab_pin(page))
			break;
		lab.grabbed++;
	}
	for (order = ARRAY_SIZE(zone->free_area) - 1; order >= 1; order--) {
		for (n = 0; n < BENCH_SWEEP_LIMIT; n++) {
			bench_lab_top_up(zone, &lab.released);
			page = alloc_pages(gfp, order);
			if (!page)
				break;
			split_page(page, order);
			pfn = page_to_pfn(page);
			for (i = 0; i < (1UL << order); i++) {
				if ((pfn + i) & 1)
					__free_page(page + i);
				else
					bench_lab_pin(page + i);
			}
			lab.swept++;
		}
	}
	bench_lab_top_up(zone, &lab.released);
}

/*
 * The per-CPU lists are per migrate type (and order), and an allocation
 * takes from its own type's list first: sweep as each type.
 */
static void bench_lab_sweep(void)
{
	static const gfp_t types[] = { 0, __GFP_MOVABLE, __GFP_RECLAIMABLE };
	struct zone *zone;
	unsigned int t;
	gfp_t gfp;
	bool ok;

	for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone)) {
		gfp = bench_zone_gfp(zone, &ok);
		if (!ok)
			continue;
		gfp |= __GFP_HIGH | __GFP_NOWARN;
		/*
		 * __GFP_NOMEMALLOC keeps our high-order takes from reserving
		 * pageblocks for high-order atomic allocations (whose free
		 * pages others could then not use).
		 */
		for (t = 0; t < ARRAY_SIZE(types); t++)
			bench_lab_sweep_zone(zone, gfp | types[t] |
					     __GFP_NOMEMALLOC);
		/* Last, what only atomic allocations reach: that reserve. */
		bench_lab_sweep_zone(zone, gfp);
	}
}

/*
 * Between two rounds of a table, on the bench CPU: blocks of order >= 1
 * broken up (none when there is no labyrinth).
 */
static unsigned long bench_lab_sweep_here(void)
{
	unsigned long n = 0;

	if (!READ_ONCE(lab.active))
		return 0;
	mutex_lock(&lab.lock);
	if (lab.active) {
		n = lab.swept;
		bench_lab_sweep();
		n = lab.swept - n;
	}
	mutex_unlock(&lab.lock);
	return n;
}

/* Per CPU, on behalf of bench_lab_build(), which holds lab.lock. */
static int bench_lab_sweep_fn(void *arg)
{
	bench_lab_sweep();
	return 0;
}

static void bench_lab_report(const char *what)
{
	struct zone *zone;

	for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone)) {
		bench_printf("BLAB when=%s zone=%s node=%d", what, zone->name,
			     zone_to_nid(zone));
		bench_kv("free", bench_zone_free(zone));
		bench_kv("min", min_wmark_pages(zone));
		bench_kv("low", low_wmark_pages(zone));
		bench_kv("high", high_wmark_pages(zone));
		bench_kv("target", bench_zone_target(zone));
		bench_kv("order1plus_blocks", bench_zone_high_order_blocks(zone));
		bench_kv("pinned", lab.nr);
		bench_kv("grabbed", lab.grabbed);
		bench_kv("swept", lab.swept);
		bench_kv("released", lab.released);
		bench_kv("hold_passes", lab.hold_passes);
		bench_kv("hold_grabbed", lab.hold_grabbed);
		bench_kv("hold_released", lab.hold_released);
		bench_kv("shrunk", READ_ONCE(lab.shrunk));
		bench_kv("reserve_blocks", READ_ONCE(bench_reserve_nr));
		bench_kv("reserve_order", BENCH_RESERVE_ORDER);
		bench_printf("\n");
	}
}

/* Bring every zone back to its target: release below, grab above. */
static void bench_lab_balance(unsigned long *grabbed, unsigned long *released)
{
	unsigned long free, target;
	struct zone *zone;

	for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone)) {
		free = bench_zone_free(zone);
		target = bench_zone_target(zone);
		if (free < target)
			*released += bench_lab_release(zone, target - free);
		else if (free > low_wmark_pages(zone))
			*grabbed += bench_lab_grab(zone, free - target);
	}
}

static void bench_lab_hold(struct work_struct *work)
{
	mutex_lock(&lab.lock);
	if (lab.active) {
		bench_lab_balance(&lab.hold_grabbed, &lab.hold_released);
		lab.hold_passes++;
		queue_delayed_work(system_wq, &lab.hold,
				   msecs_to_jiffies(BENCH_HOLD_MS));
	}
	mutex_unlock(&lab.lock);
}

/*
 * Reclaim can leave the labyrinth, atomic allocations cannot: a direct
 * reclaimer (a GFP_KERNEL allocation that would otherwise call the OOM
 * killer; every fork needs an order-1 pgd) gets a block of the reserve,
 * which the pool's refill worker can use too.  kswapd gets nothing: it
 * would empty the reserve and free memory up to the high watermark.
 */
static unsigned long bench_lab_count(struct shrinker *s,
				     struct shrink_control *sc)
{
	if (current_is_kswapd())
		return 0;
	return (unsigned long)READ_ONCE(bench_reserve_nr) << BENCH_RESERVE_ORDER;
}

static unsigned long bench_lab_scan(struct shrinker *s,
				    struct shrink_control *sc)
{
	unsigned long n = 0;
	struct page *page;

	if (current_is_kswapd())
		return SHRINK_STOP;
	do {
		page = NULL;
		spin_lock(&bench_reserve_lock);
		if (bench_reserve_nr)
			page = bench_reserve[--bench_reserve_nr];
		spin_unlock(&bench_reserve_lock);
		if (!page)
			break;
		__free_pages(page, BENCH_RESERVE_ORDER);
		n += 1UL << BENCH_RESERVE_ORDER;
	} while (n < sc->nr_to_scan);
	if (!n)
		return SHRINK_STOP;
	/*
	 * The block went straight to the buddy lists (its order is above
	 * what per-CPU lists keep).  Counted as reclaimed, so that reclaim
	 * stops asking for more and retries the allocation.
	 */
	WRITE_ONCE(lab.shrunk, lab.shrunk + n);
	bench_account_reclaimed(n);
	return n;
}

static void bench_reserve_free(void)
{
	while (bench_reserve_nr)
		__free_pages(bench_reserve[--bench_reserve_nr],
			     BENCH_RESERVE_ORDER);
}

static void bench_reserve_fill(void)
{
	struct page *page;

	while (bench_reserve_nr < BENCH_RESERVE_BLOCKS) {
		page = alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
				   BENCH_RESERVE_ORDER);
		if (!page)
			break;
		bench_reserve[bench_reserve_nr++] = page;
	}
}

/* Shrinkers are allocated by the core since 6.7 (SHRINKER_ALLOCATED). */
#ifdef SHRINKER_ALLOCATED
static struct shrinker *bench_shrinker;

static int bench_shrinker_add(void)
{
	bench_shrinker = shrinker_alloc(0, "atomic_alloc_bench");
	if (!bench_shrinker)
		return -ENOMEM;
	bench_shrinker->count_objects = bench_lab_count;
	bench_shrinker->scan_objects = bench_lab_scan;
	bench_shrinker->seeks = 1;
	bench_shrinker->batch = 1 << BENCH_RESERVE_ORDER;
	shrinker_register(bench_shrinker);
	return 0;
}

static void bench_shrinker_del(void)
{
	shrinker_free(bench_shrinker);
	bench_shrinker = NULL;
}
#else
static struct shrinker bench_shrinker = {
	.count_objects = bench_lab_count,
	.scan_objects = bench_lab_scan,
	.seeks = 1,
	.batch = 1 << BENCH_RESERVE_ORDER,
};

static int bench_shrinker_add(void)
{
	return register_shrinker(&bench_shrinker, "atomic_alloc_bench");
}

static void bench_shrinker_del(void)
{
	unregister_shrinker(&bench_shrinker);
}
#endif

static void bench_lab_free_all(void)
{
	unsigned long i;

	for (i = 0; i < lab.nr; i++)
		__free_page(lab.pages[i]);
	lab.nr = 0;
	vfree(lab.pages);
	lab.pages = NULL;
	vfree(lab.pinned);
	lab.pinned = NULL;
	vfree(lab.index);
	lab.index = NULL;
}

/*
 * Sweep on every CPU until no block of order >= 1 is left in the buddy
 * lists (a few passes: frees by others can merge meanwhile).  lab.lock held.
 */
static int bench_lab_sweep_all(void)
{
	unsigned long high_order = 0;
	unsigned int pass, cpu;
	struct zone *zone;
	int err;

	for (pass = 0; pass < 4; pass++) {
		for_each_online_cpu(cpu) {
			err = bench_on_cpu(cpu, bench_lab_sweep_fn, NULL);
			if (err)
				return err;
		}
		bench_lab_balance(&lab.grabbed, &lab.released);
		high_order = 0;
		for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone))
			high_order += bench_zone_high_order_blocks(zone);
		if (!high_order)
			break;
	}
	return 0;
}

/* Before a measurement: break up blocks that merged since the build. */
static int bench_lab_resweep(void)
{
	int err = 0;

	mutex_lock(&lab.lock);
	if (lab.active) {
		err = bench_lab_sweep_all();
		bench_lab_report("swept");
	}
	mutex_unlock(&lab.lock);
	return err;
}

static int bench_lab_build(void)
{
	struct zone *zone;
	int err = 0;

	mutex_lock(&lab.lock);
	if (lab.active) {
		mutex_unlock(&lab.lock);
		return -EBUSY;
	}
	memset_startat(&lab, 0, active);
	lab.base_pfn = ULONG_MAX;
	for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone)) {
		lab.base_pfn = min(lab.base_pfn, zone->zone_start_pfn);
		lab.end_pfn = max(lab.end_pfn, zone_end_pfn(zone));
	}
	lab.cap = totalram_pages() + 4096;
	lab.pages = vmalloc(array_size(lab.cap, sizeof(*lab.pages)));
	lab.pinned = vzalloc(BITS_TO_LONGS(lab.end_pfn - lab.base_pfn) *
			     sizeof(long));
	lab.index = vmalloc(array_size(lab.end_pfn - lab.base_pfn,
				       sizeof(*lab.index)));
	if (!lab.pages || !lab.pinned || !lab.index) {
		err = -ENOMEM;
		goto err_free;
	}
	bench_lab_report("before");

	/*
	 * 0. The reclaim reserve, while big blocks are still there, offered
	 * to direct reclaim from now on: others keep allocating while we
	 * take memory away.
	 */
	bench_reserve_fill();
	err = bench_shrinker_add();
	if (err)
		goto err_reserve;
	/* 1. Everything above the target, as order-0 pages. */
	for (zone = bench_next_zone(NULL); zone; zone = bench_next_zone(zone))
		lab.grabbed += bench_lab_grab(zone, ULONG_MAX);
	/*
	 * 2. The blocks of order >= 1 still free (in the buddy lists and in
	 * every CPU's per-CPU lists): keep even pages, free odd ones.
	 */
	err = bench_lab_sweep_all();
	if (err)
		goto err_shrinker;
	lab.active = true;
	INIT_DELAYED_WORK(&lab.hold, bench_lab_hold);
	queue_delayed_work(system_wq, &lab.hold, msecs_to_jiffies(BENCH_HOLD_MS));
	bench_lab_report("built");
	mutex_unlock(&lab.lock);
	return 0;

err_shrinker:
	bench_shrinker_del();
err_reserve:
	bench_reserve_free();
err_free:
	bench_lab_free_all();
	mutex_unlock(&lab.lock);
	return err;
}

static void bench_lab_release_all(void)
{
	mutex_lock(&lab.lock);
	if (!lab.active) {
		mutex_unlock(&lab.lock);
		return;
	}
	lab.active = false;
	mutex_unlock(&lab.lock);
	/* The work sees !active and does not requeue; wait for it. */
	cancel_delayed_work_sync(&lab.hold);
	bench_shrinker_del();
	mutex_lock(&lab.lock);
	bench_lab_report("release");
	bench_lab_free_all();
	bench_reserve_free();
	mutex_unlock(&lab.lock);
}

/* ---- Setup of the methods ---- */

static void bench_add(const char *name, enum bench_kind kind,
		      unsigned int order,
		      bool (*pair)(const struct bench_method *m))
{
	struct bench_method *m = &bench_methods[bench_nr_methods++];

	m->name = name;
	m->kind = kind;
	m->order = order;
	m->pair = pair;
}

static void bench_floor_destroy(void)
{
	struct bench_floor *f;
	int cpu;

	if (!bench_floor)
		return;
	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(bench_floor, cpu);
		while (f->level)
			__free_page(f->pages[--f->level]);
	}
	free_percpu(bench_floor);
	bench_floor = NULL;
}

static int bench_floor_create(void)
{
	struct bench_floor *f;
	struct page *page;
	int cpu;

	bench_floor = alloc_percpu(struct bench_floor);
	if (!bench_floor)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(bench_floor, cpu);
		while (f->level < BENCH_FLOOR_SIZE) {
			page = alloc_page(GFP_KERNEL);
			if (!page)
				return -ENOMEM;
			f->pages[f->level++] = page;
		}
	}
	return 0;
}

static void bench_methods_destroy(void)
{
	struct bench_method *m;
	unsigned int i;

	for (i = 0; i < bench_nr_methods; i++) {
		m = &bench_methods[i];
		mempool_destroy(m->mp);
		page_pool_destroy(m->pp);
		if (m->zero)
			__free_pages(m->zero, m->order);
	}
	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		atomic_alloc_destroy(bench_aa[i]);
		bench_aa[i] = NULL;
	}
	bench_floor_destroy();
	bench_nr_methods = 0;
}

static int bench_methods_create(void)
{
	static const char * const aa_names[] = { "bench_o0", "bench_ohi" };
	struct page_pool_params pp = {
		.pool_size = 256,
		.nid = NUMA_NO_NODE,
	};
	struct atomic_alloc_params p = {
		.cpu_buffers = pool_buffers,
	};
	struct bench_method *m;
	unsigned int i, order;
	int err;

	err = bench_floor_create();
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		p.name = aa_names[i];
		p.order = i ? order_hi : 0;
		bench_aa[i] = atomic_alloc_create(&p);
		if (IS_ERR(bench_aa[i])) {
			err = PTR_ERR(bench_aa[i]);
			bench_aa[i] = NULL;
			return err;
		}
	}

	bench_add("timer", BK_TIMER, 0, bench_pair_timer);
	bench_add("irqsave_x2", BK_IRQ, 0, bench_pair_irq);
	bench_add("floor", BK_FLOOR, 0, bench_pair_floor);
	for (i = 0; i < 2; i++) {
		order = i ? order_hi : 0;
		m = &bench_methods[bench_nr_methods];
		bench_add("atomic_alloc", BK_AA, order, bench_pair_aa);
		m->aa = bench_aa[i];
	}
	for (i = 0; i < 2; i++)
		bench_add("alloc_pages", BK_BUDDY, i ? order_hi : 0,
			  bench_pair_buddy);
	for (i = 0; i < 2; i++) {
		order = i ? order_hi : 0;
		m = &bench_methods[bench_nr_methods];
		bench_add("mempool", BK_MEMPOOL, order, bench_pair_mempool);
		m->mp = mempool_create_page_pool(pool_buffers, order);
		if (!m->mp)
			return -ENOMEM;
	}
	for (i = 0; i < 2; i++) {
		order = i ? order_hi : 0;
		m = &bench_methods[bench_nr_methods];
		bench_add("page_pool", BK_PP, order, bench_pair_pp);
		pp.order = order;
		m->pp = page_pool_create(&pp);
		if (IS_ERR(m->pp)) {
			err = PTR_ERR(m->pp);
			m->pp = NULL;
			return err;
		}
	}
	for (i = 0; i < 2; i++) {
		order = i ? order_hi : 0;
		m = &bench_methods[bench_nr_methods];
		bench_add("zeroing", BK_ZERO, order, bench_pair_zero);
		m->zero = alloc_pages(GFP_KERNEL, order);
		if (!m->zero)
			return -ENOMEM;
	}
	return 0;
}

/* ---- Self-check (quick=1 or "selftest" command) ---- */

static void bench_selfcheck_table(struct bench_table *tb, unsigned int n)
{
	const struct bench_row *row;
	unsigned int i, want = 0, m, c;

	bench_check(!tb->err, "table ran on one CPU in every context (err %d)",
		    tb->err);
	for (m = 0; m < bench_nr_methods; m++)
		for (c = 0; c < BC_NR; c++)
			want += !bench_illegal(&bench_methods[m], c);
	bench_check(tb->nr_rows == want && want > 0,
		    "%u rows measured, %u expected", tb->nr_rows, want);
	for (i = 0; i < tb->nr_rows; i++) {
		row = &tb->rows[i];
		bench_check(row->n == n && !row->failed && !row->ctxerr &&
			    row->min <= bench_row_pct(row, 500) &&
			    bench_row_pct(row, 500) <= bench_row_pct(row, 999) &&
			    bench_row_pct(row, 999) <= row->max,
			    "%s order %u %s: %llu/%u pairs, %llu failed, %llu wrong context, p50 %llu ns, max %llu ns",
			    row->m->name, row->m->order, bench_ctx_name[row->ctx],
			    row->n, n, row->failed, row->ctxerr,
			    bench_row_pct(row, 500), row->max);
	}
}

static void bench_selftest_run(void)
{
	struct atomic_alloc_stats st;
	struct bench_table *tb;
	unsigned int i;
	int err;

	bench_selftest_len = 0;
	bench_selftest_fail = 0;
	if (bench_selftest)
		bench_selftest[0] = '\0';
	bench_check(bench_use_cycles || use_ktime,
		    "clock: %s (%u kHz)", bench_use_cycles ? "cycles" : "ktime",
		    bench_clock_khz());
	tb = bench_table_run("selftest", BENCH_QUICK_SAMPLES);
	if (IS_ERR(tb)) {
		bench_check(false, "table: error %ld", PTR_ERR(tb));
	} else {
		bench_selfcheck_table(tb, BENCH_QUICK_SAMPLES);
		bench_table_free(tb);
	}
	err = bench_refill_run("selftest", true);
	bench_check(!err, "refill: drained, refilled, worker woke, sustained draw (err %d)",
		    err);
	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		atomic_alloc_get_stats(bench_aa[i], &st);
		bench_check(!st.alloc_direct && !st.outstanding,
			    "pool %u: no page-allocator fallback (%llu), nothing outstanding (%llu)",
			    i, st.alloc_direct, st.outstanding);
	}
	bench_stprintf("BSELFTEST fail=%u\n", bench_selftest_fail);
}

/* ---- debugfs ---- */

static struct dentry *bench_dir;

static void bench_print_env(void)
{
	u64 step_min, step_median;

	bench_clock_steps(&step_min, &step_median);
	bench_printf("BENV clock=%s", bench_use_cycles ? "cycles" : "ktime");
	bench_kv("kernel_rt", IS_ENABLED(CONFIG_PREEMPT_RT));
	bench_kv("init_on_alloc", want_init_on_alloc(0));
	bench_kv("clock_khz", bench_clock_khz());
	bench_kv("clock_step_min_ps", step_min);
	bench_kv("clock_read_median_ps", step_median);
	bench_kv("bench_cpu", bench_cpu);
	bench_kv("online_cpus", num_online_cpus());
	bench_kv("samples", samples);
	bench_kv("batch", batch);
	bench_kv("order_hi", order_hi);
	bench_kv("pool_buffers", pool_buffers);
	bench_kv("hz", HZ);
	bench_printf("\n");
}

static void bench_print_pools(const char *tag)
{
	struct atomic_alloc_stats st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bench_aa); i++) {
		atomic_alloc_get_stats(bench_aa[i], &st);
		bench_printf("BPOOL tag=%s order=%u", tag, i ? order_hi : 0);
		bench_kv("alloc_local", st.alloc_local);
		bench_kv("alloc_remote", st.alloc_remote);
		bench_kv("alloc_direct", st.alloc_direct);
		bench_kv("alloc_failed", st.alloc_failed);
		bench_kv("refilled", st.refilled);
		bench_kv("refill_failed", st.refill_failed);
		bench_kv("released", st.released);
		bench_kv("available", st.available);
		bench_kv("outstanding", st.outstanding);
		bench_printf("\n");
	}
}

static bool bench_valid_tag(const char *tag)
{
	size_t i, len = strlen(tag);

	if (!len || len >= BENCH_TAG_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(tag[i]) && tag[i] != '_' && tag[i] != '-')
			return false;
	return true;
}

/*
 * Commands: "run TAG", "refill TAG",
 * "labyrinth build|sweep|release|report",
 * "pools TAG", "env", "selftest", "clear".
 */
static int bench_command(char *cmd)
{
	char *verb, *arg;
	struct bench_table *tb;
	int err = 0;

	cmd = strim(cmd);
	verb = strsep(&cmd, " ");
	arg = cmd ? strim(cmd) : "";

	if (!strcmp(verb, "clear")) {
		bench_out_len = 0;
		bench_out[0] = '\0';
	} else if (!strcmp(verb, "env")) {
		bench_print_env();
	} else if (!strcmp(verb, "run") && bench_valid_tag(arg)) {
		err = bench_lab_resweep();
		if (err)
			return err;
		tb = bench_table_run(arg, samples);
		if (IS_ERR(tb))
			return PTR_ERR(tb);
		err = tb->err;
		bench_table_free(tb);
	} else if (!strcmp(verb, "refill") && bench_valid_tag(arg)) {
		err = bench_lab_resweep() ?: bench_refill_run(arg, false);
	} else if (!strcmp(verb, "pools") && bench_valid_tag(arg)) {
		bench_print_pools(arg);
	} else if (!strcmp(verb, "labyrinth") && !strcmp(arg, "build")) {
		err = bench_lab_build();
	} else if (!strcmp(verb, "labyrinth") && !strcmp(arg, "sweep")) {
		err = bench_lab_resweep();
	} else if (!strcmp(verb, "labyrinth") && !strcmp(arg, "release")) {
		bench_lab_release_all();
	} else if (!strcmp(verb, "labyrinth") && !strcmp(arg, "report")) {
		mutex_lock(&lab.lock);
		bench_lab_report("report");
		mutex_unlock(&lab.lock);
	} else if (!strcmp(verb, "selftest")) {
		bench_selftest_run();
	} else {
		return -EINVAL;
	}
	return err;
}

static ssize_t bench_control_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[64];
	int err;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	mutex_lock(&bench_lock);
	err = bench_command(buf);
	mutex_unlock(&bench_lock);
	return err ? err : count;
}

static const struct file_operations bench_control_fops = {
	.owner = THIS_MODULE,
	.write = bench_control_write,
	.llseek = noop_llseek,
};

static ssize_t bench_text_read(char *text, size_t len, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, text, len);
	mutex_unlock(&bench_lock);
	return ret;
}

static ssize_t bench_output_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	return bench_text_read(bench_out, bench_out_len, ubuf, count, ppos);
}

static const struct file_operations bench_output_fops = {
	.owner = THIS_MODULE,
	.read = bench_output_read,
	.llseek = default_llseek,
};

static ssize_t bench_selftest_read(struct file *file, char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	return bench_text_read(bench_selftest, bench_selftest_len, ubuf, count,
			       ppos);
}

static const struct file_operations bench_selftest_fops = {
	.owner = THIS_MODULE,
	.read = bench_selftest_read,
	.llseek = default_llseek,
};

/* ---- Module ---- */

static void bench_free_buffers(void)
{
	kvfree(bench_out);
	bench_out = NULL;
	kvfree(bench_selftest);
	bench_selftest = NULL;
}

static int __init atomic_alloc_bench_init(void)
{
	int err;

	if (order_hi > ATOMIC_ALLOC_MAX_ORDER || !pool_buffers ||
	    pool_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS) {
		pr_err("order_hi must be 0..%d and pool_buffers 1..%d\n",
		       ATOMIC_ALLOC_MAX_ORDER, ATOMIC_ALLOC_MAX_CPU_BUFFERS);
		return -EINVAL;
	}
	mutex_init(&lab.lock);
	bench_clock_init();

	bench_out = kvzalloc(BENCH_OUT_SIZE, GFP_KERNEL);
	bench_selftest = kvzalloc(BENCH_SELFTEST_SIZE, GFP_KERNEL);
	if (!bench_out || !bench_selftest) {
		err = -ENOMEM;
		goto err_buffers;
	}
	bench_wq = alloc_workqueue("aa_bench_wake", WQ_MEM_RECLAIM | WQ_HIGHPRI,
				   0);
	if (!bench_wq) {
		err = -ENOMEM;
		goto err_buffers;
	}
	err = bench_methods_create();
	if (err)
		goto err_methods;

	bench_dir = debugfs_create_dir("atomic_alloc_bench", NULL);
	debugfs_create_file("control", 0200, bench_dir, NULL,
			    &bench_control_fops);
	debugfs_create_file("output", 0444, bench_dir, NULL,
			    &bench_output_fops);
	debugfs_create_file("selftest", 0444, bench_dir, NULL,
			    &bench_selftest_fops);

	mutex_lock(&bench_lock);
	bench_print_env();
	if (quick)
		bench_selftest_run();
	mutex_unlock(&bench_lock);
	pr_info("ready: %u methods, clock %s%s\n", bench_nr_methods,
		bench_use_cycles ? "cycles" : "ktime",
		quick ? (bench_selftest_fail ? ", self-check FAILED" :
			 ", self-check passed") : "");
	return 0;

err_methods:
	bench_methods_destroy();
	destroy_workqueue(bench_wq);
err_buffers:
	bench_free_buffers();
	pr_err("setup failed: %d\n", err);
	return err;
}

static void __exit atomic_alloc_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	bench_lab_release_all();
	bench_methods_destroy();
	destroy_workqueue(bench_wq);
	bench_free_buffers();
}

module_init(atomic_alloc_bench_init);
module_exit(atomic_alloc_bench_exit);

MODULE_DESCRIPTION("Latency benchmark: atomic_alloc against the kernel's page allocators");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
