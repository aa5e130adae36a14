// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "atomic_alloc": the pool's contract, from every context it
 * promises to serve, and what the rest of the kernel may do to its pages.
 * Run under QEMU with several CPUs (-smp 4): in an SMP kernel with DMA-API
 * debugging and lockdep's raw-lock nesting checks, in a PREEMPT_RT +
 * lockdep kernel, in a KASAN + kmemleak kernel and with KCSAN, with and
 * without CONFIG_ATOMIC_ALLOC_DEBUG; a report from any checker fails the
 * harness.
 *
 * IRQ context is a HRTIMER_MODE_REL_PINNED_HARD timer started on the CPU
 * under test (from work_on_cpu()).  Handlers only record; every assertion
 * runs in the test thread afterwards.  Where a test must stop a CPU inside
 * the pool, it uses atomic_alloc_test_hook.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/iopoll.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "atomic_alloc.h"
#include "atomic_alloc_priv.h"
#include "atomic_alloc_kunit_fault.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define AA_TEST_MAX_PAGES	64
#define AA_TEST_WAIT_MS		5000
/* Printed before a deliberate WARN; the harness lets exactly one through. */
#define AA_EXPECT_WARNING	"atomic_alloc-test: expect-warning"

KUNIT_DEFINE_ACTION_WRAPPER(aa_destroy_action, atomic_alloc_destroy,
			    struct atomic_alloc_pool *);

static struct atomic_alloc_pool *aa_test_create(struct kunit *test,
						const struct atomic_alloc_params *p)
{
	struct atomic_alloc_pool *pool = atomic_alloc_create(p);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, aa_destroy_action, pool));
	return pool;
}

static struct atomic_alloc_pool *
aa_test_pool(struct kunit *test, const char *name, unsigned int order,
	     unsigned int cpu_buffers, unsigned int shared)
{
	struct atomic_alloc_params p = {
		.name = name,
		.order = order,
		.cpu_buffers = cpu_buffers,
		.shared_buffers = shared,
	};

	return aa_test_create(test, &p);
}

static struct atomic_alloc_stats aa_stats(struct atomic_alloc_pool *pool)
{
	struct atomic_alloc_stats st;

	atomic_alloc_get_stats(pool, &st);
	return st;
}

/*
 * Every page the pool holds is available or handed out, and every buffer
 * that came in from the page allocator went out again or is still here.
 */
static void aa_expect_accounted(struct kunit *test,
				struct atomic_alloc_pool *pool, unsigned int order)
{
	struct atomic_alloc_stats st;

	atomic_alloc_flush(pool);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pool_pages(pool),
			(long)((st.available + st.outstanding) << order));
	KUNIT_EXPECT_EQ(test, st.refilled + st.alloc_direct - st.released -
			st.released_refcnt, st.available + st.outstanding);
	KUNIT_EXPECT_GE(test, atomic_alloc_overflow_count(pool), 0L);
}

/* Poll @op(args...) into @val until @cond holds; true if it did in time. */
#define aa_wait_until(op, val, cond, args...)				\
	(!read_poll_timeout(op, val, cond, 20 * USEC_PER_MSEC,		\
			    AA_TEST_WAIT_MS * USEC_PER_MSEC, false, args))

static u64 aa_refill_failed(struct atomic_alloc_pool *pool)
{
	return aa_stats(pool).refill_failed;
}

/* ---- Test hooks inside the pool ---- */

static void aa_hook_off(void *unused)
{
	WRITE_ONCE(atomic_alloc_test_hook, NULL);
	synchronize_rcu();
}

static void aa_set_hook(struct kunit *test, atomic_alloc_hook_fn fn)
{
	WRITE_ONCE(atomic_alloc_test_hook, fn);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, aa_hook_off,
							   NULL));
}

/* ---- Hard-IRQ context on a chosen CPU ---- */

struct aa_irq_ctx {
	struct hrtimer timer;
	struct completion done;
	struct atomic_alloc_pool *pool;
	gfp_t gfp;
	unsigned int want;
	unsigned int got;
	unsigned int free;	/* free these many of pages[] in the IRQ */
	struct page *pages[AA_TEST_MAX_PAGES];
	int cpu;
	bool in_hardirq;
	bool irqs_off;
};

static enum hrtimer_restart aa_irq_fn(struct hrtimer *timer)
{
	struct aa_irq_ctx *ctx = container_of(timer, struct aa_irq_ctx, timer);
	struct page *page;

	ctx->cpu = smp_processor_id();
	ctx->in_hardirq = in_hardirq();
	ctx->irqs_off = irqs_disabled();
	while (ctx->free)
		atomic_alloc_free(ctx->pool, ctx->pages[--ctx->free]);
	while (ctx->got < ctx->want) {
		page = atomic_alloc_page(ctx->pool, ctx->gfp);
		if (!page)
			break;
		ctx->pages[ctx->got++] = page;
	}
	complete(&ctx->done);
	return HRTIMER_NORESTART;
}

static long aa_irq_on_this_cpu(void *arg)
{
	struct aa_irq_ctx *ctx = arg;

	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	ctx->timer.function = aa_irq_fn;
	hrtimer_start(&ctx->timer, ns_to_ktime(20 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	wait_for_completion(&ctx->done);
	hrtimer_cancel(&ctx->timer);
	return 0;
}

static struct aa_irq_ctx *aa_irq_ctx(struct kunit *test,
				     struct atomic_alloc_pool *pool)
{
	struct aa_irq_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->pool = pool;
	ctx->cpu = -1;
	return ctx;
}

/* Run @ctx (free ctx->free of its pages, then allocate) in hard IRQ on @cpu. */
static void aa_irq_run(struct aa_irq_ctx *ctx, int cpu)
{
	init_completion(&ctx->done);
	work_on_cpu(cpu, aa_irq_on_this_cpu, ctx);
}

/* Allocate @want buffers from a hard-IRQ timer on @cpu. */
static struct aa_irq_ctx *aa_irq_alloc_on(struct kunit *test,
					  struct atomic_alloc_pool *pool,
					  int cpu, unsigned int want, gfp_t gfp)
{
	struct aa_irq_ctx *ctx = aa_irq_ctx(test, pool);

	KUNIT_ASSERT_LE(test, want, AA_TEST_MAX_PAGES);
	ctx->want = want;
	ctx->gfp = gfp;
	aa_irq_run(ctx, cpu);
	return ctx;
}

/* Allocate @n buffers into @pages; returns how many were had. */
static unsigned int aa_alloc_n(struct atomic_alloc_pool *pool,
			       struct page **pages, unsigned int n, gfp_t gfp)
{
	unsigned int i, got = 0;

	for (i = 0; i < n; i++) {
		pages[got] = atomic_alloc_page(pool, gfp);
		if (pages[got])
			got++;
	}
	return got;
}

static void aa_free_all(struct atomic_alloc_pool *pool, struct page **pages,
			unsigned int n)
{
	while (n)
		atomic_alloc_free(pool, pages[--n]);
}

/* ---- Parameters ---- */

struct aa_param_case {
	const char *desc;
	struct atomic_alloc_params p;
	bool null_params;
};

static const struct aa_param_case aa_bad_params[] = {
	{ .desc = "NULL params", .null_params = true },
	{ .desc = "no name", .p = { .cpu_buffers = 4 } },
	{ .desc = "empty name", .p = { .name = "", .cpu_buffers = 4 } },
	{ .desc = "name too long",
	  .p = { .name = "0123456789012345678901234567890123", .cpu_buffers = 4 } },
	{ .desc = "slash in name", .p = { .name = "a/b", .cpu_buffers = 4 } },
	{ .desc = "name of the library's pages_held file",
	  .p = { .name = "pages_held", .cpu_buffers = 4 } },
	{ .desc = "name of the library's fail_refill directory",
	  .p = { .name = "fail_refill", .cpu_buffers = 4 } },
	{ .desc = "order above cap",
	  .p = { .name = "bad", .order = ATOMIC_ALLOC_MAX_ORDER + 1, .cpu_buffers = 4 } },
	{ .desc = "zero cpu_buffers", .p = { .name = "bad" } },
	{ .desc = "absurd cpu_buffers",
	  .p = { .name = "bad", .cpu_buffers = ATOMIC_ALLOC_MAX_CPU_BUFFERS + 1 } },
	{ .desc = "more bytes per CPU than the budget",
	  .p = { .name = "bad", .order = ATOMIC_ALLOC_MAX_ORDER,
		 .cpu_buffers = ATOMIC_ALLOC_MAX_CPU_BUFFERS } },
	{ .desc = "low_watermark not below cpu_buffers",
	  .p = { .name = "bad", .cpu_buffers = 4, .low_watermark = 4 } },
	{ .desc = "absurd shared_buffers",
	  .p = { .name = "bad", .cpu_buffers = 4,
		 .shared_buffers = ATOMIC_ALLOC_MAX_CPU_BUFFERS + 1 } },
	{ .desc = "refill_batch too big",
	  .p = { .name = "bad", .cpu_buffers = 4, .refill_batch = 65 } },
	{ .desc = "gfp not a zone", .p = { .name = "bad", .cpu_buffers = 4,
					   .gfp = __GFP_ZERO } },
	{ .desc = "buffer_bytes larger than the page",
	  .p = { .name = "bad", .cpu_buffers = 4, .buffer_bytes = 1U << 30 } },
	{ .desc = "buffer_bytes so small that too many share a page",
	  .p = { .name = "bad", .cpu_buffers = 4, .buffer_bytes = 1,
		 .order = ATOMIC_ALLOC_MAX_ORDER } },
	{ .desc = "align not a power of two",
	  .p = { .name = "bad", .cpu_buffers = 4, .buffer_bytes = 512,
		 .align = 96 } },
};

static void aa_param_desc(const struct aa_param_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(aa_bad_params, aa_bad_params, aa_param_desc);

static void aa_test_bad_params(struct kunit *test)
{
	const struct aa_param_case *c = test->param_value;
	long held = atomic_alloc_pages_held();
	struct atomic_alloc_pool *pool;

	pool = atomic_alloc_create(c->null_params ? NULL : &c->p);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pool), -EINVAL);
	if (!IS_ERR(pool))
		atomic_alloc_destroy(pool);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
}

static void aa_test_duplicate_name(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-dup", .cpu_buffers = 2 };
	struct atomic_alloc_pool *pool;

	aa_test_pool(test, "kunit-dup", 0, 2, 0);
	pool = atomic_alloc_create(&p);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pool), -EEXIST);
	if (!IS_ERR(pool))
		atomic_alloc_destroy(pool);
}

/* ---- Create fills, destroy empties ---- */

static void aa_test_create_fills(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct atomic_alloc_stats st;
	unsigned int online = 0;
	int cpu;

	pool = aa_test_pool(test, "kunit-fill", 1, 8, 4);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 8U);
		online++;
	}
	cpus_read_unlock();
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), 4U);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.available, (u64)(8 * online + 4));
	KUNIT_EXPECT_EQ(test, st.refilled, st.available);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pool_pages(pool),
			(long)(st.available << 1));
}

static void aa_test_destroy_returns_everything(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-destroy", .order = 2,
					 .cpu_buffers = 16 };
	long held = atomic_alloc_pages_held();
	struct atomic_alloc_pool *pool;
	struct page *page;

	pool = atomic_alloc_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_GT(test, atomic_alloc_pages_held(), held);
	page = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	atomic_alloc_free(pool, page);
	atomic_alloc_destroy(pool);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 0U);
}

/* ---- Tier 1 from every context ---- */

static void aa_test_alloc_free_local(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-local", 0, 8, 0);
	struct atomic_alloc_stats st;
	unsigned int level_after_alloc, level_after_free;
	struct page *page;
	int cpu;

	migrate_disable();
	cpu = smp_processor_id();
	page = atomic_alloc_page(pool, 0);
	level_after_alloc = atomic_alloc_cpu_level(pool, cpu);
	if (page) {
		memset(page_address(page), 0x5a, PAGE_SIZE);
		atomic_alloc_free(pool, page);
	}
	level_after_free = atomic_alloc_cpu_level(pool, cpu);
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, level_after_alloc, 7U);
	KUNIT_EXPECT_EQ(test, level_after_free, 8U);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.alloc_local, 1ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_remote + st.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, st.freed, 1ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_nmi + st.free_nmi, 0ULL);
}

/*
 * Tier 1's commit, met on purpose: the test hook runs inside a pop (its
 * slot read, not committed) or inside a push (the level read, the slot not
 * yet written), where an interrupt or NMI may arrive, and runs operations
 * of its own on the same CPU, as that interrupt would.
 */
struct aa_nest {
	struct atomic_alloc_pool *pool;
	enum atomic_alloc_hook where;
	bool done;
	struct page *give;	/* freed by the nested caller */
	struct page *took;	/* allocated by the nested caller */
	bool alloc;		/* allocate inside a push too */
};

static struct aa_nest aa_nest;

static void aa_nest_hook(struct atomic_alloc_pool *pool,
			 enum atomic_alloc_hook where, unsigned long arg)
{
	if (pool != aa_nest.pool || where != aa_nest.where || aa_nest.done)
		return;
	aa_nest.done = true;
	if (where == AA_HOOK_POP || aa_nest.alloc)
		aa_nest.took = atomic_alloc_page(pool, 0);
	if (aa_nest.give)
		atomic_alloc_free(pool, aa_nest.give);
}

/* Aim aa_nest_hook at @where in @pool; the case sets give and alloc. */
static void aa_nest_aim(struct atomic_alloc_pool *pool,
			enum atomic_alloc_hook where)
{
	memset(&aa_nest, 0, sizeof(aa_nest));
	aa_nest.pool = pool;
	aa_nest.where = where;
}

/* Free @page with the hook set: the nested caller runs inside its push. */
static void aa_nest_free(struct kunit *test, struct atomic_alloc_pool *pool,
			 struct page *page)
{
	aa_set_hook(test, aa_nest_hook);
	if (page)
		atomic_alloc_free(pool, page);
	WRITE_ONCE(atomic_alloc_test_hook, NULL);
}

/*
 * A nested caller takes the very buffer the interrupted pop has read, then
 * frees another: the array is back at the same level, with a different
 * buffer in that slot.  The interrupted pop must not commit (the count in
 * its word changed); it takes again and gets the other buffer.
 */
static void aa_test_nested_pop(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-npop", 0, 8, 0);
	struct atomic_alloc_stats before, after;
	unsigned int level;
	struct page *page;
	int cpu;

	aa_nest_aim(pool, AA_HOOK_POP);
	migrate_disable();
	cpu = smp_processor_id();
	aa_nest.give = atomic_alloc_page(pool, 0);
	before = aa_stats(pool);
	aa_set_hook(test, aa_nest_hook);
	page = atomic_alloc_page(pool, 0);
	WRITE_ONCE(atomic_alloc_test_hook, NULL);
	level = atomic_alloc_cpu_level(pool, cpu);
	migrate_enable();
	after = aa_stats(pool);

	KUNIT_ASSERT_NOT_NULL(test, aa_nest.give);
	KUNIT_ASSERT_TRUE(test, aa_nest.done);
	KUNIT_ASSERT_NOT_NULL(test, aa_nest.took);
	KUNIT_ASSERT_NOT_NULL(test, page);
	/* Not handed out twice: the outer caller got the freed buffer. */
	KUNIT_EXPECT_PTR_NE(test, page, aa_nest.took);
	KUNIT_EXPECT_PTR_EQ(test, page, aa_nest.give);
	KUNIT_EXPECT_EQ(test, level, 6U);
	KUNIT_EXPECT_EQ(test, after.alloc_nested - before.alloc_nested, 1ULL);
	KUNIT_EXPECT_EQ(test, after.alloc_local - before.alloc_local, 2ULL);
	atomic_alloc_free(pool, page);
	atomic_alloc_free(pool, aa_nest.took);
	aa_expect_accounted(test, pool, 0);
}

/*
 * A nested free arrives inside a push that has read the level: had it
 * pushed, the interrupted push would overwrite its buffer in that slot.  It
 * goes to the shared reserve instead, and both buffers are kept once.
 */
static void aa_test_nested_push(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-npush", 0, 8, 0);
	struct atomic_alloc_stats before, after;
	unsigned int level, shared, i, j;
	struct page *outer, *pages[8];
	int cpu;

	aa_nest_aim(pool, AA_HOOK_PUSH);
	migrate_disable();
	cpu = smp_processor_id();
	outer = atomic_alloc_page(pool, 0);
	aa_nest.give = atomic_alloc_page(pool, 0);
	before = aa_stats(pool);
	shared = atomic_alloc_shared_level(pool);
	aa_nest_free(test, pool, outer);
	level = atomic_alloc_cpu_level(pool, cpu);
	shared = atomic_alloc_shared_level(pool) - shared;
	after = aa_stats(pool);
	/* What the array holds now, taken back out. */
	for (i = 0; i < level && i < ARRAY_SIZE(pages); i++)
		pages[i] = atomic_alloc_page(pool, 0);
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, outer);
	KUNIT_ASSERT_NOT_NULL(test, aa_nest.give);
	KUNIT_ASSERT_TRUE(test, aa_nest.done);
	KUNIT_EXPECT_EQ(test, level, 7U);
	KUNIT_EXPECT_EQ(test, shared, 1U);
	KUNIT_EXPECT_EQ(test, after.free_nested - before.free_nested, 1ULL);
	KUNIT_EXPECT_EQ(test, after.freed - before.freed, 2ULL);
	for (i = 0; i < level && i < ARRAY_SIZE(pages); i++) {
		KUNIT_EXPECT_NOT_NULL(test, pages[i]);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_PTR_NE(test, pages[i], pages[j]);
	}
	for (i = 0; i < level && i < ARRAY_SIZE(pages); i++)
		if (pages[i])
			atomic_alloc_free(pool, pages[i]);
	aa_expect_accounted(test, pool, 0);
}

/*
 * A nested allocation inside a push takes from the shared reserve first,
 * where the nested frees that may not push put their buffers: were it to
 * take from the array, nested callers would move this CPU's buffers into
 * the reserve one by one.  The interrupted push then completes.
 */
static void aa_test_nested_push_alloc(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-npalloc", 0, 8, 0);
	struct atomic_alloc_stats before, after;
	unsigned int level, shared;
	struct page *outer;
	int cpu;

	aa_nest_aim(pool, AA_HOOK_PUSH);
	aa_nest.alloc = true;
	migrate_disable();
	cpu = smp_processor_id();
	outer = atomic_alloc_page(pool, 0);
	before = aa_stats(pool);
	shared = atomic_alloc_shared_level(pool);
	aa_nest_free(test, pool, outer);
	level = atomic_alloc_cpu_level(pool, cpu);
	shared -= atomic_alloc_shared_level(pool);
	migrate_enable();
	after = aa_stats(pool);

	KUNIT_ASSERT_NOT_NULL(test, outer);
	KUNIT_ASSERT_TRUE(test, aa_nest.done);
	KUNIT_ASSERT_NOT_NULL(test, aa_nest.took);
	KUNIT_EXPECT_PTR_NE(test, aa_nest.took, outer);
	/* The array is full again: the push went in, the nested pop did not. */
	KUNIT_EXPECT_EQ(test, level, 8U);
	KUNIT_EXPECT_EQ(test, shared, 1U);
	KUNIT_EXPECT_EQ(test, after.alloc_nested - before.alloc_nested, 1ULL);
	KUNIT_EXPECT_EQ(test, after.alloc_remote - before.alloc_remote, 1ULL);
	KUNIT_EXPECT_EQ(test, after.alloc_local - before.alloc_local, 0ULL);
	KUNIT_EXPECT_EQ(test, after.free_nested - before.free_nested, 0ULL);
	atomic_alloc_free(pool, aa_nest.took);
	aa_expect_accounted(test, pool, 0);
}

static void aa_test_hardirq_every_cpu(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-hardirq", 0, 8, 0);
	struct atomic_alloc_stats st;
	unsigned int cpus = 0;
	int cpu;

	for_each_online_cpu(cpu) {
		struct aa_irq_ctx *ctx = aa_irq_alloc_on(test, pool, cpu, 3,
							 GFP_ATOMIC);

		KUNIT_EXPECT_EQ(test, ctx->cpu, cpu);
		KUNIT_EXPECT_TRUE(test, ctx->in_hardirq);
		KUNIT_EXPECT_TRUE(test, ctx->irqs_off);
		KUNIT_EXPECT_EQ(test, ctx->got, 3U);
		aa_free_all(pool, ctx->pages, ctx->got);
		cpus++;
	}
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.alloc_local, 3ULL * cpus);
	KUNIT_EXPECT_EQ(test, st.alloc_direct + st.alloc_failed, 0ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
}

static void aa_test_irqs_disabled(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-irqoff", 0, 8, 0);
	struct page *pages[8];
	unsigned long flags;
	unsigned int got = 0;

	local_irq_save(flags);
	got += aa_alloc_n(pool, pages + got, ARRAY_SIZE(pages), GFP_ATOMIC);
	aa_free_all(pool, pages, got);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, got, 8U);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).alloc_local, 8ULL);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 0ULL);
}

/* ---- Tier 3 only where a spinlock_t may be taken on PREEMPT_RT ---- */

static DEFINE_RAW_SPINLOCK(aa_test_raw_lock);
static DEFINE_SPINLOCK(aa_test_lock);

/*
 * The pool's tiers serve in every context; once they are empty the page
 * allocator is used only where PREEMPT_RT would allow a spinlock_t, and
 * that is the same on every kernel.
 */
enum aa_ctx_kind {
	AA_CTX_TASK,		/* preemptible task: tier 3 allowed */
	AA_CTX_SPINLOCK,	/* spinlock_t held: allowed */
	AA_CTX_BH,		/* bottom halves off: allowed */
	AA_CTX_IRQS_OFF,	/* local_irq_save(): refused */
	AA_CTX_RAW_IRQSAVE,	/* raw_spin_lock_irqsave(): refused */
	AA_CTX_RAW,		/* raw_spin_lock(), IRQs on: refused (lockdep) */
};

struct aa_ctx_case {
	const char *desc;
	enum aa_ctx_kind kind;
	bool direct;
};

static const struct aa_ctx_case aa_ctx_cases[] = {
	{ "preemptible task", AA_CTX_TASK, true },
	{ "under a spinlock_t", AA_CTX_SPINLOCK, true },
	{ "bottom halves disabled", AA_CTX_BH, true },
	{ "interrupts disabled", AA_CTX_IRQS_OFF, false },
	{ "raw spinlock, interrupts disabled", AA_CTX_RAW_IRQSAVE, false },
	{ "raw spinlock, interrupts on", AA_CTX_RAW, false },
};

static void aa_ctx_desc(const struct aa_ctx_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(aa_ctx, aa_ctx_cases, aa_ctx_desc);

static void aa_test_direct_context(struct kunit *test)
{
	const struct aa_ctx_case *c = test->param_value;
	struct atomic_alloc_pool *pool;
	struct atomic_alloc_stats st;
	struct page *pages[8];
	unsigned long flags;
	unsigned int got = 0;

	if (c->kind == AA_CTX_RAW && !IS_ENABLED(CONFIG_PREEMPT_RT) &&
	    !IS_ENABLED(CONFIG_LOCKDEP))
		kunit_skip(test, "without lockdep a raw spinlock with IRQs on is invisible");
	pool = aa_test_pool(test, "kunit-ctx", 0, 4, 2);
	aa_kunit_fail_refill_on(test);

	switch (c->kind) {
	case AA_CTX_TASK:
		migrate_disable();
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		migrate_enable();
		break;
	case AA_CTX_SPINLOCK:
		spin_lock(&aa_test_lock);
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		spin_unlock(&aa_test_lock);
		break;
	case AA_CTX_BH:
		local_bh_disable();
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		local_bh_enable();
		break;
	case AA_CTX_IRQS_OFF:
		local_irq_save(flags);
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		local_irq_restore(flags);
		break;
	case AA_CTX_RAW_IRQSAVE:
		raw_spin_lock_irqsave(&aa_test_raw_lock, flags);
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		raw_spin_unlock_irqrestore(&aa_test_raw_lock, flags);
		break;
	case AA_CTX_RAW:
		raw_spin_lock(&aa_test_raw_lock);
		got = aa_alloc_n(pool, pages, 7, GFP_ATOMIC);
		raw_spin_unlock(&aa_test_raw_lock);
		break;
	}
	aa_free_all(pool, pages, got);

	st = aa_stats(pool);
	/* The same on PREEMPT_RT and generic kernels: no IS_ENABLED() here. */
	KUNIT_EXPECT_EQ(test, st.alloc_local, 4ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_remote, 2ULL);
	KUNIT_EXPECT_EQ(test, got, c->direct ? 7U : 6U);
	KUNIT_EXPECT_EQ(test, st.alloc_direct, c->direct ? 1ULL : 0ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_failed, c->direct ? 0ULL : 1ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/* ---- The tiers, in order ---- */

static void aa_test_tiers_in_order(struct kunit *test)
{
	struct atomic_alloc_stats st[5];
	struct page *pages[12], *none, *direct;
	struct atomic_alloc_pool *pool;
	unsigned int got = 0;
	u64 n;

	pool = aa_test_pool(test, "kunit-tiers", 0, 4, 3);
	aa_kunit_fail_refill_on(test);

	migrate_disable();
	got += aa_alloc_n(pool, pages + got, 4, 0);
	st[0] = aa_stats(pool);
	got += aa_alloc_n(pool, pages + got, 3, 0);
	st[1] = aa_stats(pool);
	none = atomic_alloc_page(pool, 0);
	st[2] = aa_stats(pool);
	direct = atomic_alloc_page(pool, GFP_KERNEL);
	st[3] = aa_stats(pool);
	migrate_enable();

	KUNIT_EXPECT_EQ(test, got, 7U);
	/* Tier 1: this CPU's array. */
	KUNIT_EXPECT_EQ(test, st[0].alloc_local, 4ULL);
	KUNIT_EXPECT_EQ(test, st[0].alloc_remote, 0ULL);
	/* Tier 2: the shared reserve. */
	KUNIT_EXPECT_EQ(test, st[1].alloc_local, 4ULL);
	KUNIT_EXPECT_EQ(test, st[1].alloc_remote, 3ULL);
	/* gfp == 0: never the page allocator, NULL instead. */
	KUNIT_EXPECT_NULL(test, none);
	KUNIT_EXPECT_EQ(test, st[2].alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, st[2].alloc_failed, 1ULL);
	/* Tier 3: the page allocator, allowed in a preemptible task. */
	KUNIT_EXPECT_NOT_NULL(test, direct);
	KUNIT_EXPECT_EQ(test, st[3].alloc_direct, 1ULL);
	/* The refill worker was kicked, and the page allocator failed it. */
	KUNIT_EXPECT_TRUE(test, aa_wait_until(aa_refill_failed, n, n > 0, pool));

	if (direct)
		pages[got++] = direct;
	aa_free_all(pool, pages, got);
	st[4] = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st[4].freed, (u64)got);
	KUNIT_EXPECT_EQ(test, st[4].outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/* From a hard IRQ with the pool empty: never the page allocator. */
static void aa_test_hardirq_exhaustion(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct atomic_alloc_stats st;
	struct aa_irq_ctx *ctx;
	int cpu = cpumask_first(cpu_online_mask);

	pool = aa_test_pool(test, "kunit-irqempty", 0, 4, 2);
	aa_kunit_fail_refill_on(test);
	ctx = aa_irq_alloc_on(test, pool, cpu, 7, GFP_ATOMIC);
	st = aa_stats(pool);
	aa_free_all(pool, ctx->pages, ctx->got);

	KUNIT_EXPECT_TRUE(test, ctx->in_hardirq);
	KUNIT_EXPECT_EQ(test, st.alloc_local, 4ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_remote, 2ULL);
	KUNIT_EXPECT_EQ(test, ctx->got, 6U);
	KUNIT_EXPECT_EQ(test, st.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_failed, 1ULL);
}

/* ---- tier 3's gfp is masked ---- */

struct aa_gfp_capture {
	struct atomic_alloc_pool *pool;
	struct task_struct *task;
	unsigned long gfp;
	unsigned int seen;
};

static struct aa_gfp_capture aa_gfp_capture;

static void aa_gfp_hook(struct atomic_alloc_pool *pool,
			enum atomic_alloc_hook where, unsigned long arg)
{
	if (where != AA_HOOK_PAGE_GFP || pool != aa_gfp_capture.pool ||
	    current != aa_gfp_capture.task)
		return;
	aa_gfp_capture.gfp = arg;
	aa_gfp_capture.seen++;
}

/*
 * The caller's zone, __GFP_COMP, __GFP_MOVABLE, __GFP_ACCOUNT, __GFP_ZERO
 * and __GFP_NOFAIL never reach the page allocator: only the reclaim and
 * priority bits do, with the pool's zone and its own __GFP_COMP.  Without
 * the mask, __GFP_DMA on a DMA32 pool is a GFP_ZONE_BAD combination.
 */
static void aa_test_direct_gfp_masked(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-gfp", .order = 1,
					 .cpu_buffers = 2, .shared_buffers = 1,
					 .gfp = __GFP_DMA32 };
	const gfp_t wild = GFP_KERNEL | __GFP_DMA | __GFP_COMP | __GFP_MOVABLE |
			   __GFP_ACCOUNT | __GFP_ZERO | __GFP_NOFAIL |
			   __GFP_MEMALLOC;
	const gfp_t want = GFP_KERNEL | __GFP_DMA32 | __GFP_NOWARN | __GFP_COMP;
	struct atomic_alloc_pool *pool;
	struct page *pages[4];
	unsigned int got;

	if (!IS_ENABLED(CONFIG_ZONE_DMA32))
		kunit_skip(test, "needs ZONE_DMA32");
	pool = aa_test_create(test, &p);
	aa_kunit_fail_refill_on(test);
	aa_gfp_capture = (struct aa_gfp_capture){ .pool = pool, .task = current };
	aa_set_hook(test, aa_gfp_hook);

	migrate_disable();
	got = aa_alloc_n(pool, pages, 3, 0);
	pages[got] = atomic_alloc_page(pool, wild);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 3U);
	KUNIT_ASSERT_NOT_NULL(test, pages[got]);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).alloc_direct, 1ULL);
	KUNIT_EXPECT_EQ(test, aa_gfp_capture.seen, 1U);
	KUNIT_EXPECT_EQ(test, aa_gfp_capture.gfp, (__force unsigned long)want);
	/*
	 * What DMA32 promises: below 4 GiB.  The zone itself only where
	 * ZONE_DMA32 has memory (arm64 with RAM from 1 GiB: ZONE_DMA spans
	 * the first 4 GiB and ZONE_DMA32 is empty); the captured gfp above
	 * already shows that the caller's __GFP_DMA was masked.
	 */
	KUNIT_EXPECT_LE(test, page_to_phys(pages[got]) + (PAGE_SIZE << p.order),
			(phys_addr_t)SZ_4G);
	if (populated_zone(&NODE_DATA(page_to_nid(pages[got]))->node_zones[ZONE_DMA32]))
		KUNIT_EXPECT_EQ(test, (int)page_zonenum(pages[got]), (int)ZONE_DMA32);
	KUNIT_EXPECT_TRUE(test, PageHead(pages[got]));
	aa_free_all(pool, pages, got + 1);
	aa_expect_accounted(test, pool, 1);
}

/* ---- Pages that the rest of the kernel references ---- */

/*
 * An order-2 buffer is a compound page: get_page()/put_page() on a tail
 * page (what vm_insert_page() and skb frags do) act on the head.  With
 * four order-0 pages instead, the put_page() would free the tail page to
 * the buddy allocator under the pool.
 */
static void aa_test_compound(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-comp", 2, 4, 0);
	struct page *page = atomic_alloc_page(pool, 0);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, PageHead(page));
	KUNIT_EXPECT_EQ(test, compound_order(page), 2U);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	get_page(page + 3);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	put_page(page + 3);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	memset(page_address(page), 0x6b, PAGE_SIZE << 2);
	atomic_alloc_free(pool, page);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).released_refcnt, 0ULL);
	aa_expect_accounted(test, pool, 2);
}

/*
 * A buffer freed while someone else holds a reference is never recycled:
 * the pool drops its reference and the last put_page() frees the page.
 */
static void aa_test_refcount_not_recycled(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-ref", 0, 4, 2);
	struct page *pages[AA_TEST_MAX_PAGES], *held;
	long pages_before;
	unsigned int got, i;

	held = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, held);
	get_page(held);		/* as vm_insert_page() would */
	pages_before = atomic_alloc_pool_pages(pool);
	atomic_alloc_free(pool, held);
	atomic_alloc_flush(pool);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).released_refcnt, 1ULL);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).free_deferred, 1ULL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pool_pages(pool), pages_before - 1);
	/* Ours alone now, and no longer the pool's. */
	KUNIT_EXPECT_EQ(test, page_ref_count(held), 1);

	/* Drain the pool: the page is never handed out again. */
	got = aa_alloc_n(pool, pages, ARRAY_SIZE(pages), 0);
	KUNIT_EXPECT_GT(test, got, 0U);
	for (i = 0; i < got; i++)
		KUNIT_EXPECT_PTR_NE(test, pages[i], held);
	aa_free_all(pool, pages, got);
	put_page(held);		/* the last reference frees it, as usual */
	aa_expect_accounted(test, pool, 0);
}

/* Foreign, tail, double and wrong-pool frees: refused in every build. */
static void aa_test_bad_frees_refused(struct kunit *test)
{
	struct atomic_alloc_pool *pool, *other, *big;
	struct page *page, *foreign, *head;
	struct atomic_alloc_stats before, after;
	unsigned long lru_next, lru_prev;

	pool = aa_test_pool(test, "kunit-misuse", 0, 4, 0);
	other = aa_test_pool(test, "kunit-other", 0, 4, 0);
	big = aa_test_pool(test, "kunit-big", 2, 2, 0);

	page = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	atomic_alloc_free(pool, page);
	before = aa_stats(pool);

	/* One warning per pool, at its first refused free. */
	kunit_info(test, AA_EXPECT_WARNING " double free\n");
	atomic_alloc_free(pool, page);
	after = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, after.bad_frees, 1ULL);
	KUNIT_EXPECT_EQ(test, after.freed, before.freed);
	KUNIT_EXPECT_EQ(test, after.available, before.available);

	/* A page that never came from a pool: refused, left untouched. */
	foreign = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	INIT_LIST_HEAD(&foreign->lru);
	lru_next = (unsigned long)foreign->lru.next;
	lru_prev = (unsigned long)foreign->lru.prev;
	/* Warned once for this pool already: no further warning. */
	atomic_alloc_free(pool, foreign);
	KUNIT_EXPECT_EQ(test, (unsigned long)foreign->lru.next, lru_next);
	KUNIT_EXPECT_EQ(test, (unsigned long)foreign->lru.prev, lru_prev);
	KUNIT_EXPECT_EQ(test, page_ref_count(foreign), 1);
	list_del(&foreign->lru);
	__free_page(foreign);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).bad_frees, 2ULL);

	/* Another pool's buffer. */
	page = atomic_alloc_page(other, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	atomic_alloc_free(pool, page);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).bad_frees, 3ULL);
	atomic_alloc_free(other, page);
	KUNIT_EXPECT_EQ(test, aa_stats(other).outstanding, 0ULL);

	/* An order-2 buffer into an order-0 pool, and its tail page. */
	head = atomic_alloc_page(big, 0);
	KUNIT_ASSERT_NOT_NULL(test, head);
	atomic_alloc_free(pool, head);
	kunit_info(test, AA_EXPECT_WARNING " tail page, first refusal of kunit-big\n");
	atomic_alloc_free(big, head + 1);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).bad_frees, 4ULL);
	KUNIT_EXPECT_EQ(test, aa_stats(big).bad_frees, 1ULL);
	KUNIT_EXPECT_EQ(test, aa_stats(big).outstanding, 1ULL);
	atomic_alloc_free(big, head);
	KUNIT_EXPECT_EQ(test, aa_stats(big).outstanding, 0ULL);

	/* An address inside a buffer, through the address API. */
	page = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	atomic_alloc_buf_free(pool, page_address(page) + 64);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).bad_frees, 5ULL);
	atomic_alloc_buf_free(pool, page_address(page));

	KUNIT_EXPECT_EQ(test, aa_stats(pool).available, before.available);
	aa_expect_accounted(test, pool, 0);
	aa_expect_accounted(test, other, 0);
	aa_expect_accounted(test, big, 2);
}

/* ---- Free from another CPU ---- */

struct aa_cpu_op {
	struct atomic_alloc_pool *pool;
	struct page *page;
};

static long aa_alloc_here(void *arg)
{
	struct aa_cpu_op *op = arg;

	op->page = atomic_alloc_page(op->pool, 0);
	return 0;
}

static long aa_free_here(void *arg)
{
	struct aa_cpu_op *op = arg;

	atomic_alloc_free(op->pool, op->page);
	return 0;
}

static void aa_test_remote_free(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-remote", 0, 8, 4);
	int a = cpumask_first(cpu_online_mask);
	int b = cpumask_next(a, cpu_online_mask);
	struct aa_cpu_op op = { .pool = pool };
	unsigned int b_before, shared_before;
	struct atomic_alloc_stats st;

	if (b >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");

	work_on_cpu(a, aa_alloc_here, &op);
	KUNIT_ASSERT_NOT_NULL(test, op.page);
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, a), 7U);

	b_before = atomic_alloc_cpu_level(pool, b);
	shared_before = atomic_alloc_shared_level(pool);
	work_on_cpu(b, aa_free_here, &op);

	/* b's array was full: the buffer went to the shared reserve. */
	KUNIT_ASSERT_EQ(test, b_before, 8U);
	KUNIT_ASSERT_LT(test, shared_before, 8U);
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, b), 8U);
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), shared_before + 1);
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, a), 7U);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.freed, 1ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
}

/*
 * Every reserve full, from a hard IRQ: the buffer goes onto the overflow
 * list (lock-free, no queue_work() there) and the worker returns it.
 */
static void aa_test_overflow_from_hardirq(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-ovf", 0, 2, 1);
	int cpu = cpumask_first(cpu_online_mask);
	struct atomic_alloc_stats st;
	struct aa_irq_ctx *ctx;
	unsigned int got;
	u64 released;

	aa_kunit_fail_refill_on(test);
	ctx = aa_irq_ctx(test, pool);
	/* 2 local + 1 shared + 2 from the page allocator, in task context. */
	migrate_disable();
	got = aa_alloc_n(pool, ctx->pages, 5, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 5U);
	aa_kunit_fail_refill_off(NULL);
	atomic_alloc_flush(pool);
	released = aa_stats(pool).released;

	/*
	 * In a hard IRQ on @cpu: its array takes what fits, the reserve
	 * takes 2, the rest overflows.
	 */
	ctx->free = got;
	aa_irq_run(ctx, cpu);
	KUNIT_EXPECT_TRUE(test, ctx->in_hardirq);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_GE(test, st.free_deferred, 1ULL);
	atomic_alloc_flush(pool);
	st = aa_stats(pool);
	KUNIT_EXPECT_GE(test, st.released, released + 1);
	KUNIT_EXPECT_EQ(test, atomic_alloc_overflow_count(pool), 0L);
	aa_expect_accounted(test, pool, 0);
}

/*
 * The overflow list's count goes up before a buffer is on the list and
 * down after the worker took it off: with a CPU held in between, a worker
 * pass never drives it below zero (the shrinker would see a surplus of
 * about ULONG_MAX).
 */
struct aa_hold {
	struct atomic_alloc_pool *pool;
	enum atomic_alloc_hook where;
	atomic_t inside;
	atomic_t release;
	bool once;
};

static struct aa_hold aa_hold;

static void aa_hold_hook(struct atomic_alloc_pool *pool,
			 enum atomic_alloc_hook where, unsigned long arg)
{
	if (pool != aa_hold.pool || where != aa_hold.where || aa_hold.once)
		return;
	aa_hold.once = true;
	atomic_set(&aa_hold.inside, 1);
	while (!atomic_read(&aa_hold.release))
		cpu_relax();
}

struct aa_free_op {
	struct atomic_alloc_pool *pool;
	struct page *page;
	struct completion done;
};

static int aa_free_thread(void *arg)
{
	struct aa_free_op *op = arg;

	atomic_alloc_free(op->pool, op->page);
	complete(&op->done);
	return 0;
}

static void aa_test_overflow_count_order(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-ovfcnt", 0, 1, 1);
	struct aa_free_op op = { .pool = pool };
	struct page *pages[4];
	struct task_struct *t;
	int me, other, i;
	long seen;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	aa_kunit_fail_refill_on(test);
	init_completion(&op.done);
	/* Stay off the CPU that will spin inside the pool. */
	migrate_disable();
	me = smp_processor_id();
	other = cpumask_any_but(cpu_online_mask, me);
	/* 1 local, 1 shared, 2 from the page allocator. */
	KUNIT_ASSERT_EQ(test, aa_alloc_n(pool, pages, 4, GFP_KERNEL), 4U);
	/* The reserve takes 2 back; @other's array (1) is still full. */
	aa_free_all(pool, pages + 2, 2);
	aa_free_all(pool, pages + 1, 1);
	op.page = pages[0];
	KUNIT_ASSERT_EQ(test, atomic_alloc_shared_level(pool), 2U);
	KUNIT_ASSERT_EQ(test, atomic_alloc_cpu_level(pool, other), 1U);

	aa_hold = (struct aa_hold){ .pool = pool, .where = AA_HOOK_OVERFLOW };
	aa_set_hook(test, aa_hold_hook);
	t = kthread_create(aa_free_thread, &op, "aa-ovf");
	if (IS_ERR(t))
		migrate_enable();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	kthread_bind(t, other);
	wake_up_process(t);
	while (!atomic_read(&aa_hold.inside))
		usleep_range(500, 1000);
	/* Worker passes while the free on @other is half done. */
	for (i = 0; i < 3; i++) {
		atomic_alloc_flush(pool);
		seen = atomic_alloc_overflow_count(pool);
		KUNIT_EXPECT_GE(test, seen, 0L);
		KUNIT_EXPECT_LE(test, seen, 1L);
	}
	atomic_set(&aa_hold.release, 1);
	wait_for_completion(&op.done);
	migrate_enable();
	atomic_alloc_flush(pool);
	KUNIT_EXPECT_EQ(test, atomic_alloc_overflow_count(pool), 0L);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/* ---- Refill ---- */

static void aa_test_refill_to_target(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-refill", 0, 16, 4);
	u64 refilled_before = aa_stats(pool).refilled;
	unsigned int got = 0, level;
	struct page *pages[16];
	unsigned long flags;
	int cpu;

	/*
	 * Down to below the low watermark (8): 9 buffers.  IRQs off, so that
	 * the refill kick (an irq_work) cannot run before the level is read.
	 */
	local_irq_save(flags);
	cpu = smp_processor_id();
	got += aa_alloc_n(pool, pages + got, 9, 0);
	level = atomic_alloc_cpu_level(pool, cpu);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, got, 9U);
	KUNIT_EXPECT_LT(test, level, 8U);
	KUNIT_EXPECT_TRUE(test, aa_wait_until(atomic_alloc_cpu_level, level,
					      level == 16, pool, cpu));
	KUNIT_EXPECT_GE(test, aa_stats(pool).refilled, refilled_before + 9);

	aa_free_all(pool, pages, got);
	aa_expect_accounted(test, pool, 0);
}

/*
 * The worker refills a CPU from the surplus before allocating: the reserve
 * above its target and the overflow list (the llist branch).
 */
static void aa_test_refill_reuses_surplus(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-reuse", 0, 8, 4);
	unsigned int i, got = 0, level;
	struct page *pages[20];
	u64 refilled, ovf;
	int cpu;

	aa_kunit_fail_refill_on(test);
	refilled = aa_stats(pool).refilled;
	migrate_disable();
	cpu = smp_processor_id();
	/* 8 local, 4 shared, 8 from the page allocator... */
	got += aa_alloc_n(pool, pages + got, 20, GFP_KERNEL);
	/*
	 * ...freed here: 8 to this CPU, 8 to the reserve (its capacity, 4
	 * above target), 4 to the overflow list.
	 */
	aa_free_all(pool, pages, got);
	/*
	 * Counted by the frees (the worker may already have collected the
	 * list: it is woken by the first of them).
	 */
	ovf = aa_stats(pool).free_deferred;
	/* Below the low watermark (4): the worker wants 5, finds surplus. */
	for (i = 0; i < 5; i++)
		pages[i] = atomic_alloc_page(pool, 0);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 20U);
	KUNIT_EXPECT_EQ(test, ovf, 4ULL);

	KUNIT_EXPECT_TRUE(test, aa_wait_until(atomic_alloc_cpu_level, level,
					      level == 8, pool, cpu));
	atomic_alloc_flush(pool);
	/* Failures were injected: nothing new came in; the surplus did. */
	KUNIT_EXPECT_EQ(test, aa_stats(pool).refilled, refilled);
	KUNIT_EXPECT_EQ(test, atomic_alloc_overflow_count(pool), 0L);
	/*
	 * 8 surplus: the 4 that overflowed (taken first) and 1 of the 4
	 * above the reserve's target; nothing was released.
	 */
	KUNIT_EXPECT_EQ(test, atomic_alloc_spill_level(pool), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), 7U);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).released, 0ULL);
	aa_free_all(pool, pages, 5);
	aa_expect_accounted(test, pool, 0);
}

static void aa_test_refill_failure_recovers(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-starve", 0, 8, 2);
	unsigned int got = 0, level;
	struct page *pages[10];
	int cpu;
	u64 n;

	aa_kunit_fail_refill_on(test);
	migrate_disable();
	cpu = smp_processor_id();
	got += aa_alloc_n(pool, pages + got, 8, 0);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 8U);

	/* Starved: failures are counted, the worker backs off, nothing leaks. */
	KUNIT_EXPECT_TRUE(test, aa_wait_until(aa_refill_failed, n, n >= 2, pool));
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 0U);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 8ULL);
	aa_expect_accounted(test, pool, 0);

	/* Recovery: within the worker's backoff (at most a second). */
	aa_kunit_fail_refill_off(NULL);
	KUNIT_EXPECT_TRUE(test, aa_wait_until(atomic_alloc_cpu_level, level,
					      level == 8, pool, cpu));
	aa_free_all(pool, pages, got);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/*
 * Refilling the reserve races frees that fill it: what the worker gathered
 * and could not push is kept (and counted), never lost or miscounted.
 */
static struct atomic_alloc_pool *aa_race_pool;
static struct page *aa_race_pages[8];
static unsigned int aa_race_n;

static void aa_refill_race_hook(struct atomic_alloc_pool *pool,
				enum atomic_alloc_hook where, unsigned long arg)
{
	if (pool != aa_race_pool || where != AA_HOOK_REFILL_SHARED || !arg)
		return;
	/* Frees land in the reserve between gathering and pushing. */
	while (aa_race_n)
		atomic_alloc_free(pool, aa_race_pages[--aa_race_n]);
}

static void aa_test_refill_shared_race(struct kunit *test)
{
	struct atomic_alloc_pool *pool = aa_test_pool(test, "kunit-rsrace", 0, 2, 4);
	unsigned int got;
	int cpu;

	aa_race_pool = pool;
	aa_race_n = 0;
	aa_set_hook(test, aa_refill_race_hook);
	aa_kunit_fail_refill_on(test);
	migrate_disable();
	cpu = smp_processor_id();
	/* 2 local + 4 shared + 2 direct: the reserve is empty now. */
	got = aa_alloc_n(pool, aa_race_pages, 8, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 8U);
	/* Now let the worker gather; the hook frees all 8 before it pushes. */
	aa_race_n = got;
	aa_kunit_fail_refill_off(NULL);
	atomic_alloc_refill_now(pool, cpu);
	KUNIT_EXPECT_EQ(test, aa_race_n, 0U);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/* ---- CPU hotplug with buffers out ---- */

struct aa_hotplug_ctx {
	int cpu;
	bool offline;
};

static void aa_cpu_back_online(void *arg)
{
	struct aa_hotplug_ctx *h = arg;

	if (h->offline && !add_cpu(h->cpu))
		h->offline = false;
}

/* The CPU a hotplug test takes away: the last online one, if it can go. */
static int aa_hotplug_cpu(struct kunit *test)
{
	int cpu;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_online_cpus() < 2)
		kunit_skip(test, "needs CPU hotplug and two online CPUs");
	cpu = cpumask_last(cpu_online_mask);
	if (!cpu_is_hotpluggable(cpu))
		kunit_skip(test, "cpu%d is not hotpluggable", cpu);
	return cpu;
}

/* Take @cpu offline; it comes back when the test ends, whatever happens. */
static struct aa_hotplug_ctx *aa_offline(struct kunit *test, int cpu)
{
	struct aa_hotplug_ctx *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	h->cpu = cpu;
	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	h->offline = true;
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, aa_cpu_back_online, h));
	return h;
}

static void aa_test_hotplug(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct aa_hotplug_ctx *h;
	struct aa_irq_ctx *ctx;
	struct atomic_alloc_stats st;
	int cpu;

	cpu = aa_hotplug_cpu(test);
	pool = aa_test_pool(test, "kunit-hotplug", 0, 8, 4);
	ctx = aa_irq_alloc_on(test, pool, cpu, 3, GFP_ATOMIC);
	KUNIT_ASSERT_EQ(test, ctx->got, 3U);
	h = aa_offline(test, cpu);

	/* The dead CPU's buffers went to the shared reserve or were freed. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 0U);
	st = aa_stats(pool);
	KUNIT_EXPECT_EQ(test, st.outstanding, 3ULL);
	aa_expect_accounted(test, pool, 0);

	/* Buffers allocated on the dead CPU are freed elsewhere. */
	aa_free_all(pool, ctx->pages, ctx->got);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).outstanding, 0ULL);

	/*
	 * A refill work of the offline CPU (queued before it went, say) runs
	 * on another CPU: it must not push into the dead CPU's array.
	 */
	atomic_alloc_refill_now(pool, cpu);
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 0U);
	aa_expect_accounted(test, pool, 0);

	/* Coming back online, the CPU gets a full array before it runs. */
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	h->offline = false;
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 8U);
	aa_expect_accounted(test, pool, 0);
}

/*
 * A CPU whose fill failed at bring-up is refilled by the worker once it is
 * online, before any allocation there asks for it.
 */
static void aa_test_hotplug_failed_fill(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct aa_hotplug_ctx *h;
	unsigned int level;
	u64 failed_at_online, n;
	int cpu;

	cpu = aa_hotplug_cpu(test);
	pool = aa_test_pool(test, "kunit-hotfail", 0, 8, 2);
	h = aa_offline(test, cpu);
	/* The dead CPU's 8 buffers: 2 kept above the reserve's target... */
	atomic_alloc_shrink(pool, 100);
	/* ...and returned: no surplus left to refill from. */
	KUNIT_ASSERT_EQ(test, atomic_alloc_shared_level(pool), 2U);

	/* The page allocator fails while the CPU comes up... */
	aa_kunit_fail_refill_on(test);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	h->offline = false;
	/* ...so the prepare step could not fill it: */
	KUNIT_EXPECT_EQ(test, atomic_alloc_cpu_level(pool, cpu), 0U);
	failed_at_online = aa_refill_failed(pool);
	KUNIT_EXPECT_GT(test, failed_at_online, 0ULL);
	/* The online step kicked the worker: it tries (and fails) on its own. */
	KUNIT_EXPECT_TRUE(test, aa_wait_until(aa_refill_failed, n,
					      n > failed_at_online, pool));

	/*
	 * ...and works again: the worker fills the array without any
	 * allocation on that CPU asking for it.
	 */
	aa_kunit_fail_refill_off(NULL);
	KUNIT_EXPECT_TRUE(test, aa_wait_until(atomic_alloc_cpu_level, level,
					      level == 8, pool, cpu));
	KUNIT_EXPECT_EQ(test, aa_stats(pool).alloc_local +
			aa_stats(pool).alloc_remote, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

/* ---- Shrinker ---- */

static void aa_test_shrinker_keeps_reserve(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct page *pages[12];
	unsigned long released;
	unsigned int got = 0;

	pool = aa_test_pool(test, "kunit-shrink", 0, 4, 4);
	aa_kunit_fail_refill_on(test);

	migrate_disable();
	/* 4 local, 4 shared, 4 from the page allocator... */
	got += aa_alloc_n(pool, pages + got, 12, GFP_KERNEL);
	/* ...all freed on one CPU: 4 to its array, 8 to the reserve. */
	aa_free_all(pool, pages, got);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, got, 12U);
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), 8U);

	released = atomic_alloc_shrink(pool, 100);
	KUNIT_EXPECT_EQ(test, released, 4UL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), 4U);
	/* Never below the guaranteed reserve. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_shrink(pool, 100), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_shared_level(pool), 4U);
	KUNIT_EXPECT_EQ(test, aa_stats(pool).released, 4ULL);
	aa_expect_accounted(test, pool, 0);
}

/* ---- DMA ---- */

static void aa_test_dma_mapping(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "atomic_alloc-dma");
	struct atomic_alloc_params p = {
		.name = "kunit-dma", .order = 1, .cpu_buffers = 4,
		.dma_dir = DMA_TO_DEVICE,
	};
	struct atomic_alloc_pool *pool, *plain;
	struct page *page;
	dma_addr_t dma;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	p.dev = dev;
	pool = aa_test_create(test, &p);

	page = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	dma = atomic_alloc_dma_addr(pool, page);
	KUNIT_EXPECT_NE(test, dma, DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, atomic_alloc_buf_dma(pool, page_address(page)), dma);
	KUNIT_EXPECT_LE(test, (u64)dma + (PAGE_SIZE << 1) - 1, DMA_BIT_MASK(32));
	/*
	 * ZONE_DMA32 for a 32-bit device: the page itself is below 4 GiB.
	 * That tells something only where the node has memory above 4 GiB
	 * (ZONE_NORMAL), which the KUnit runs give it (qemu -m 6144).
	 */
	KUNIT_EXPECT_LE(test, (int)page_zonenum(page), (int)ZONE_DMA32);
	KUNIT_EXPECT_LE(test, (u64)page_to_phys(page), DMA_BIT_MASK(32));
	if (!populated_zone(&NODE_DATA(page_to_nid(page))->node_zones[ZONE_NORMAL]))
		kunit_info(test, "node %d has no memory above 4 GiB: the zone checks prove little\n",
			   page_to_nid(page));
	/* The driver's order for DMA_TO_DEVICE: fill, then sync. */
	memset(page_address(page), 0x3c, PAGE_SIZE << 1);
	dma_sync_single_for_device(dev, dma, PAGE_SIZE << 1, DMA_TO_DEVICE);
	dma_sync_single_for_cpu(dev, dma, PAGE_SIZE << 1, DMA_TO_DEVICE);
	atomic_alloc_free(pool, page);

	plain = aa_test_pool(test, "kunit-nodma", 0, 2, 0);
	page = atomic_alloc_page(plain, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	/* Without a device nothing limits the zone: above 4 GiB if there is any. */
	if (populated_zone(&NODE_DATA(page_to_nid(page))->node_zones[ZONE_NORMAL]))
		KUNIT_EXPECT_EQ(test, (int)page_zonenum(page), (int)ZONE_NORMAL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_dma_addr(plain, page), DMA_MAPPING_ERROR);
	atomic_alloc_free(plain, page);
}

/* ---- Teardown with buffers in flight ---- */

/*
 * destroy() with buffers out returns at once; they are unmapped then (the
 * device may go away right after, as here), each late free releases its
 * buffer without touching the device, and the last one frees the pool.
 */
static void aa_test_destroy_with_outstanding(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "atomic_alloc-late");
	struct atomic_alloc_params p = { .name = "kunit-zombie", .cpu_buffers = 4,
					 .dma_dir = DMA_FROM_DEVICE };
	long held = atomic_alloc_pages_held();
	struct atomic_alloc_pool *pool;
	struct page *a, *b;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	p.dev = dev;
	pool = atomic_alloc_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	a = atomic_alloc_page(pool, 0);
	b = atomic_alloc_page(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_NE(test, atomic_alloc_dma_addr(pool, a), DMA_MAPPING_ERROR);

	kunit_info(test, AA_EXPECT_WARNING " destroyed with 2 outstanding\n");
	atomic_alloc_destroy(pool);
	/* Everything but the two buffers went back; they are still ours. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held + 2);
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 1U);
	memset(page_address(a), 0xa5, PAGE_SIZE);
	/* Unmapped by destroy: the device is no longer the pool's business. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_dma_addr(pool, a), DMA_MAPPING_ERROR);
	kunit_device_unregister(test, dev);

	/* Freeing them late returns them, the last one the bookkeeping too. */
	atomic_alloc_free(pool, a);
	atomic_alloc_flush_zombies();
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held + 1);
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 1U);
	atomic_alloc_free(pool, b);
	atomic_alloc_flush_zombies();
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 0U);
}

/*
 * A free racing destroy never touches freed memory: a CPU held inside
 * atomic_alloc_free() (the pool seen alive) while another runs destroy.
 * destroy waits for it, and only then takes its buffers back.  Under KASAN
 * a use after free would be reported; everywhere the order is checked.
 */
struct aa_destroy_race {
	struct atomic_alloc_pool *pool;
	struct page *page;
	atomic_t inside;
	atomic_t destroying;
	u64 free_done_ns;
	u64 destroy_done_ns;
	struct completion freed;
	struct completion destroyed;
};

static struct aa_destroy_race aa_drace;

static void aa_drace_hook(struct atomic_alloc_pool *pool,
			  enum atomic_alloc_hook where, unsigned long arg)
{
	if (where != AA_HOOK_FREE || pool != aa_drace.pool ||
	    atomic_read(&aa_drace.inside))
		return;
	atomic_set(&aa_drace.inside, 1);
	while (!atomic_read(&aa_drace.destroying))
		cpu_relax();
	/* destroy() is running on another CPU: stay inside a while. */
	mdelay(50);
}

static int aa_drace_freer(void *arg)
{
	atomic_alloc_free(aa_drace.pool, aa_drace.page);
	aa_drace.free_done_ns = local_clock();
	complete(&aa_drace.freed);
	return 0;
}

static int aa_drace_destroyer(void *arg)
{
	while (!atomic_read(&aa_drace.inside))
		usleep_range(500, 1000);
	atomic_set(&aa_drace.destroying, 1);
	atomic_alloc_destroy(aa_drace.pool);
	aa_drace.destroy_done_ns = local_clock();
	complete(&aa_drace.destroyed);
	return 0;
}

static void aa_test_free_races_destroy(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-drace", .cpu_buffers = 4 };
	long held = atomic_alloc_pages_held();
	struct task_struct *f, *d;
	int a, b;

	a = cpumask_first(cpu_online_mask);
	b = cpumask_next(a, cpu_online_mask);
	if (b >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");
	memset(&aa_drace, 0, sizeof(aa_drace));
	init_completion(&aa_drace.freed);
	init_completion(&aa_drace.destroyed);
	aa_drace.pool = atomic_alloc_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, aa_drace.pool);
	aa_drace.page = atomic_alloc_page(aa_drace.pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, aa_drace.page);
	aa_set_hook(test, aa_drace_hook);

	f = kthread_create(aa_drace_freer, NULL, "aa-freer");
	d = kthread_create(aa_drace_destroyer, NULL, "aa-destroyer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	kthread_bind(f, b);
	kthread_bind(d, a);
	wake_up_process(f);
	wake_up_process(d);
	wait_for_completion(&aa_drace.freed);
	wait_for_completion(&aa_drace.destroyed);

	/*
	 * Not after: local_clock() can be coarse (the x86 KUnit kernels mark
	 * the TSC unstable under TCG and run on refined-jiffies), and then
	 * both ends may read the same value.
	 */
	KUNIT_EXPECT_LE(test, aa_drace.free_done_ns, aa_drace.destroy_done_ns);
	/* The buffer came home before destroy looked: no zombie, no page left. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 0U);
	atomic_alloc_flush_zombies();
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
}

static void aa_test_null_pool(struct kunit *test)
{
	kunit_info(test, AA_EXPECT_WARNING " NULL pool\n");
	KUNIT_EXPECT_NULL(test, atomic_alloc_page(NULL, GFP_ATOMIC));
	atomic_alloc_destroy(NULL);
	atomic_alloc_destroy(ERR_PTR(-ENOMEM));
}

/* ---- Every CPU at once, in hard IRQ, with remote frees ---- */

/*
 * Each CPU's hard-IRQ timer frees what it held and takes AA_STRESS_HOLD
 * buffers, two more than its own array can hold, so that every tick also
 * draws on the shared reserve (tier 2) and leaves the array below its low
 * watermark (a refill kick).  One buffer a tick is handed to the next
 * online CPU, whose next tick frees it there: a remote free.
 */
#define AA_STRESS_TICKS		200
#define AA_STRESS_CPU_BUFFERS	16
#define AA_STRESS_HOLD		(AA_STRESS_CPU_BUFFERS + 2)

struct aa_stress_cpu {
	struct hrtimer timer;
	struct atomic_alloc_pool *pool;
	struct aa_stress_cpu *next;
	struct page *inbox;	/* handed over by the previous CPU */
	struct page *held[AA_STRESS_HOLD];
	unsigned int ticks;
	unsigned int nulls;
	unsigned int remote_frees;
	struct completion done;
};

static enum hrtimer_restart aa_stress_tick(struct hrtimer *timer)
{
	struct aa_stress_cpu *s = container_of(timer, struct aa_stress_cpu, timer);
	struct page *page;
	unsigned int i;

	page = xchg(&s->inbox, NULL);
	if (page) {
		atomic_alloc_free(s->pool, page);
		s->remote_frees++;
	}
	for (i = 0; i < ARRAY_SIZE(s->held); i++) {
		if (s->held[i])
			atomic_alloc_free(s->pool, s->held[i]);
		s->held[i] = NULL;
	}
	for (i = 0; i < ARRAY_SIZE(s->held); i++) {
		s->held[i] = atomic_alloc_page(s->pool, GFP_ATOMIC);
		if (!s->held[i])
			s->nulls++;
	}
	/*
	 * Hand one over; one the next CPU has not taken yet comes back and
	 * is freed here on the next tick.
	 */
	if (s->next != s)
		s->held[0] = xchg(&s->next->inbox, s->held[0]);

	if (++s->ticks >= AA_STRESS_TICKS) {
		complete(&s->done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(timer, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static long aa_stress_start(void *arg)
{
	struct aa_stress_cpu *s = arg;

	hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	s->timer.function = aa_stress_tick;
	hrtimer_start(&s->timer, ns_to_ktime(50 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	return 0;
}

static void aa_test_stress_all_cpus(struct kunit *test)
{
	struct atomic_alloc_pool *pool;
	struct aa_stress_cpu *st, *prev = NULL, *first = NULL;
	struct atomic_alloc_stats end;
	unsigned int i, cpus, nulls = 0, remote_frees = 0;
	int cpu;

	st = kunit_kcalloc(test, nr_cpu_ids, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);

	/* Room for every CPU's two extra buffers and one in flight, twice. */
	pool = aa_test_pool(test, "kunit-stress", 0, AA_STRESS_CPU_BUFFERS,
			    clamp(6 * num_possible_cpus(), AA_STRESS_CPU_BUFFERS,
				  ATOMIC_ALLOC_MAX_CPU_BUFFERS));

	cpus_read_lock();
	cpus = num_online_cpus();
	for_each_online_cpu(cpu) {
		st[cpu].pool = pool;
		init_completion(&st[cpu].done);
		if (prev)
			prev->next = &st[cpu];
		else
			first = &st[cpu];
		prev = &st[cpu];
	}
	prev->next = first;
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, aa_stress_start, &st[cpu]);
	for_each_online_cpu(cpu) {
		wait_for_completion(&st[cpu].done);
		hrtimer_cancel(&st[cpu].timer);
	}
	for_each_online_cpu(cpu) {
		struct aa_stress_cpu *s = &st[cpu];

		nulls += s->nulls;
		remote_frees += s->remote_frees;
		for (i = 0; i < ARRAY_SIZE(s->held); i++)
			if (s->held[i])
				atomic_alloc_free(pool, s->held[i]);
		if (s->inbox)
			atomic_alloc_free(pool, s->inbox);
	}
	cpus_read_unlock();
	/*
	 * However the emulated CPUs were scheduled, some CPU ticked after its
	 * predecessor in the ring had handed it a buffer (they cannot all
	 * have finished before their predecessor started).
	 */
	if (cpus > 1)
		KUNIT_EXPECT_GT(test, remote_frees, 0U);

	end = aa_stats(pool);
	/*
	 * Every tick took two buffers beyond the local array, from the shared
	 * reserve: in hard IRQ the page allocator is never called.  A tick
	 * may still get NULL: when it interrupted its own CPU's holder of the
	 * reserve (the worker, which disables no interrupts either, and which
	 * a tick must not spin on), or when the buffers it needs are on their
	 * way back through the worker, which an emulated host can keep off
	 * the CPU for milliseconds while every CPU ticks every 50 us.  That is
	 * the exhaustion path, and it must stay rare and counted: every NULL
	 * in alloc_failed, under 1% of the allocations, no buffer lost.
	 */
	if (nulls)
		kunit_info(test, "%u NULLs in %u allocations (alloc_nested %llu)\n",
			   nulls, AA_STRESS_TICKS * AA_STRESS_HOLD * cpus,
			   end.alloc_nested);
	KUNIT_EXPECT_GE(test, end.alloc_remote + nulls,
			2ULL * AA_STRESS_TICKS * cpus);
	KUNIT_EXPECT_EQ(test, end.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, end.alloc_failed, (u64)nulls);
	KUNIT_EXPECT_LT(test, nulls * 100U, AA_STRESS_TICKS * AA_STRESS_HOLD * cpus);
	KUNIT_EXPECT_EQ(test, end.outstanding, 0ULL);
	aa_expect_accounted(test, pool, 0);
}

static struct kunit_case atomic_alloc_cases[] = {
	KUNIT_CASE_PARAM(aa_test_bad_params, aa_bad_params_gen_params),
	KUNIT_CASE(aa_test_duplicate_name),
	KUNIT_CASE(aa_test_create_fills),
	KUNIT_CASE(aa_test_destroy_returns_everything),
	KUNIT_CASE(aa_test_alloc_free_local),
	KUNIT_CASE(aa_test_nested_pop),
	KUNIT_CASE(aa_test_nested_push),
	KUNIT_CASE(aa_test_nested_push_alloc),
	KUNIT_CASE(aa_test_hardirq_every_cpu),
	KUNIT_CASE(aa_test_irqs_disabled),
	KUNIT_CASE_PARAM(aa_test_direct_context, aa_ctx_gen_params),
	KUNIT_CASE(aa_test_tiers_in_order),
	KUNIT_CASE(aa_test_hardirq_exhaustion),
	KUNIT_CASE(aa_test_direct_gfp_masked),
	KUNIT_CASE(aa_test_compound),
	KUNIT_CASE(aa_test_refcount_not_recycled),
	KUNIT_CASE(aa_test_bad_frees_refused),
	KUNIT_CASE(aa_test_remote_free),
	KUNIT_CASE(aa_test_overflow_from_hardirq),
	KUNIT_CASE(aa_test_overflow_count_order),
	KUNIT_CASE(aa_test_refill_to_target),
	KUNIT_CASE(aa_test_refill_reuses_surplus),
	KUNIT_CASE(aa_test_refill_failure_recovers),
	KUNIT_CASE(aa_test_refill_shared_race),
	KUNIT_CASE_SLOW(aa_test_hotplug),
	KUNIT_CASE_SLOW(aa_test_hotplug_failed_fill),
	KUNIT_CASE(aa_test_shrinker_keeps_reserve),
	KUNIT_CASE(aa_test_dma_mapping),
	KUNIT_CASE(aa_test_destroy_with_outstanding),
	KUNIT_CASE(aa_test_free_races_destroy),
	KUNIT_CASE(aa_test_null_pool),
	KUNIT_CASE_SLOW(aa_test_stress_all_cpus),
	{}
};

static struct kunit_suite atomic_alloc_suite = {
	.name = "atomic_alloc",
	.test_cases = atomic_alloc_cases,
};

kunit_test_suite(atomic_alloc_suite);

MODULE_DESCRIPTION("KUnit tests for atomic_alloc");
MODULE_LICENSE("GPL");
