// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "atomic_alloc_buf": pools of buffers smaller than a page.
 * Several buffers share a page (which matters most on arm64 with 16 and
 * 64 KiB pages): each has its own address and DMA address, the stated
 * alignment, the same tiers and contexts as whole pages, frees from any
 * CPU, and its page goes back to the page allocator only when all its
 * buffers are home.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/workqueue.h>

#include "atomic_alloc.h"
#include "atomic_alloc_priv.h"
#include "atomic_alloc_kunit_fault.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define AA_EXPECT_WARNING	"atomic_alloc-test: expect-warning"
/* A 256-frame period of 24-bit stereo in S24_3LE: 256 * 2 * 3 bytes. */
#define AB_PERIOD_BYTES		1536
#define AB_MAX_BUFS		512

KUNIT_DEFINE_ACTION_WRAPPER(ab_destroy_action, atomic_alloc_destroy,
			    struct atomic_alloc_pool *);

static struct atomic_alloc_pool *ab_pool(struct kunit *test,
					 struct atomic_alloc_params *p)
{
	struct atomic_alloc_pool *pool = atomic_alloc_create(p);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, ab_destroy_action, pool));
	return pool;
}

static struct atomic_alloc_stats ab_stats(struct atomic_alloc_pool *pool)
{
	struct atomic_alloc_stats st;

	atomic_alloc_get_stats(pool, &st);
	return st;
}

/* Buffers of @bytes (stride @stride) in a page of @order. */
static unsigned int ab_per_page(unsigned int order, unsigned int stride)
{
	return (PAGE_SIZE << order) / stride;
}

/* Smallest order at which buffers of @stride use at least 80% of a page. */
static unsigned int ab_order_dense(unsigned int stride)
{
	unsigned int order = 0;

	while (ab_per_page(order, stride) * stride * 5 < (PAGE_SIZE << order) * 4)
		order++;
	return order;
}

/* Smallest order at which at least two buffers of @stride share a page. */
static unsigned int ab_order_for(unsigned int stride)
{
	unsigned int order = 0;

	while (ab_per_page(order, stride) < 2)
		order++;
	return order;
}

/* Pages held, in buffers, equal the buffers available and out. */
static void ab_expect_accounted(struct kunit *test,
				struct atomic_alloc_pool *pool,
				unsigned int order, unsigned int per_page)
{
	struct atomic_alloc_stats st;

	atomic_alloc_flush(pool);
	st = ab_stats(pool);
	KUNIT_EXPECT_EQ(test, (u64)(atomic_alloc_pool_pages(pool) >> order) *
			per_page, st.available + st.outstanding);
	KUNIT_EXPECT_GE(test, atomic_alloc_overflow_count(pool), 0L);
}

static int ab_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every buffer has its own address, inside its page, aligned, and they do
 * not overlap: each is filled with its own pattern and checked afterwards.
 */
static void ab_test_distinct_aligned(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-buf", .cpu_buffers = 8,
					 .buffer_bytes = AB_PERIOD_BYTES };
	struct atomic_alloc_pool *pool;
	unsigned int i, n = 24, per_page, stride;
	void **bufs;

	stride = ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN);
	p.order = ab_order_for(stride);
	per_page = ab_per_page(p.order, stride);
	pool = ab_pool(test, &p);
	KUNIT_EXPECT_EQ(test, atomic_alloc_buf_bytes(pool), AB_PERIOD_BYTES);
	bufs = kunit_kcalloc(test, n, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);

	for (i = 0; i < n; i++) {
		struct page *page;
		size_t off;

		bufs[i] = atomic_alloc_buf(pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, bufs[i]);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((uintptr_t)bufs[i],
						   ATOMIC_ALLOC_MIN_ALIGN));
		page = virt_to_head_page(bufs[i]);
		off = (char *)bufs[i] - (char *)page_address(page);
		KUNIT_EXPECT_EQ(test, off % stride, (size_t)0);
		KUNIT_EXPECT_LE(test, off + AB_PERIOD_BYTES, PAGE_SIZE << p.order);
		memset(bufs[i], i + 1, AB_PERIOD_BYTES);
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(bufs[i], i + 1,
						       AB_PERIOD_BYTES),
				      "buffer %u was overwritten", i);
	sort(bufs, n, sizeof(*bufs), ab_cmp_ptr, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_GE(test, (uintptr_t)bufs[i],
				(uintptr_t)bufs[i - 1] + AB_PERIOD_BYTES);
	for (i = 0; i < n; i++)
		atomic_alloc_buf_free(pool, bufs[i]);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 0ULL);
	ab_expect_accounted(test, pool, p.order, per_page);
}

/* A stated alignment is honoured. */
static void ab_test_align(struct kunit *test)
{
	/* 16 to a page on any page size: 200 bytes at 256 on 4 KiB pages. */
	const unsigned int align = PAGE_SIZE / 16;
	struct atomic_alloc_params p = { .name = "kunit-bufalign", .cpu_buffers = 4,
					 .buffer_bytes = align - 56, .align = align };
	struct atomic_alloc_pool *pool = ab_pool(test, &p);
	void *buf[6];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(buf); i++) {
		buf[i] = atomic_alloc_buf(pool, 0);
		KUNIT_ASSERT_NOT_NULL(test, buf[i]);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((uintptr_t)buf[i], align));
	}
	for (i = 0; i < ARRAY_SIZE(buf); i++)
		atomic_alloc_buf_free(pool, buf[i]);
	ab_expect_accounted(test, pool, 0, PAGE_SIZE / align);
}

/*
 * With a device: each buffer's DMA address is its page's mapping plus its
 * offset, the alignment covers the DMA cache line, and the syncs work on
 * the buffer alone.
 */
static void ab_test_dma(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "atomic_alloc-bufdma");
	struct atomic_alloc_params p = { .name = "kunit-bufdma", .cpu_buffers = 6,
					 .buffer_bytes = AB_PERIOD_BYTES,
					 .dma_dir = DMA_TO_DEVICE };
	unsigned int align = max_t(unsigned int, ATOMIC_ALLOC_MIN_ALIGN,
				   dma_get_cache_alignment());
	struct atomic_alloc_pool *pool;
	void *buf[6];
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	p.dev = dev;
	p.order = ab_order_for(ALIGN(AB_PERIOD_BYTES, align));
	pool = ab_pool(test, &p);
	for (i = 0; i < ARRAY_SIZE(buf); i++) {
		struct page *page;
		dma_addr_t dma, base;

		buf[i] = atomic_alloc_buf(pool, 0);
		KUNIT_ASSERT_NOT_NULL(test, buf[i]);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((uintptr_t)buf[i], align));
		page = virt_to_head_page(buf[i]);
		dma = atomic_alloc_buf_dma(pool, buf[i]);
		base = atomic_alloc_buf_dma(pool, page_address(page));
		KUNIT_EXPECT_NE(test, dma, DMA_MAPPING_ERROR);
		KUNIT_EXPECT_EQ(test, dma - base,
				(dma_addr_t)((char *)buf[i] - (char *)page_address(page)));
		KUNIT_EXPECT_LE(test, (u64)dma + AB_PERIOD_BYTES - 1,
				DMA_BIT_MASK(32));
		memset(buf[i], 0x5a, AB_PERIOD_BYTES);
		dma_sync_single_for_device(dev, dma, AB_PERIOD_BYTES,
					   DMA_TO_DEVICE);
	}
	for (i = 0; i < ARRAY_SIZE(buf); i++) {
		dma_sync_single_for_cpu(dev, atomic_alloc_buf_dma(pool, buf[i]),
					AB_PERIOD_BYTES, DMA_TO_DEVICE);
		atomic_alloc_buf_free(pool, buf[i]);
	}
}

/* ---- Other contexts and CPUs ---- */

struct ab_irq {
	struct hrtimer timer;
	struct completion done;
	struct atomic_alloc_pool *pool;
	void *buf[8];
	unsigned int got;
	bool in_hardirq;
};

static enum hrtimer_restart ab_irq_fn(struct hrtimer *t)
{
	struct ab_irq *x = container_of(t, struct ab_irq, timer);

	x->in_hardirq = in_hardirq();
	while (x->got < ARRAY_SIZE(x->buf)) {
		x->buf[x->got] = atomic_alloc_buf(x->pool, GFP_ATOMIC);
		if (!x->buf[x->got])
			break;
		x->got++;
	}
	complete(&x->done);
	return HRTIMER_NORESTART;
}

static long ab_irq_here(void *arg)
{
	struct ab_irq *x = arg;

	hrtimer_init(&x->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	x->timer.function = ab_irq_fn;
	hrtimer_start(&x->timer, ns_to_ktime(20 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	wait_for_completion(&x->done);
	hrtimer_cancel(&x->timer);
	return 0;
}

struct ab_free_op {
	struct atomic_alloc_pool *pool;
	void **buf;
	unsigned int n;
};

static long ab_free_here(void *arg)
{
	struct ab_free_op *op = arg;

	while (op->n)
		atomic_alloc_buf_free(op->pool, op->buf[--op->n]);
	return 0;
}

/* Taken in a hard IRQ on one CPU, freed on another. */
static void ab_test_hardirq_remote_free(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-bufirq", .cpu_buffers = 8,
					 .buffer_bytes = AB_PERIOD_BYTES };
	int a = cpumask_first(cpu_online_mask);
	int b = cpumask_next(a, cpu_online_mask);
	struct atomic_alloc_pool *pool;
	struct ab_free_op op;
	struct ab_irq *x;

	if (b >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");
	p.order = ab_order_for(ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN));
	pool = ab_pool(test, &p);
	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	x->pool = pool;
	init_completion(&x->done);
	work_on_cpu(a, ab_irq_here, x);
	KUNIT_EXPECT_TRUE(test, x->in_hardirq);
	KUNIT_EXPECT_EQ(test, x->got, 8U);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).alloc_direct, 0ULL);
	op = (struct ab_free_op){ .pool = pool, .buf = x->buf, .n = x->got };
	work_on_cpu(b, ab_free_here, &op);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).freed, 8ULL);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 0ULL);
	ab_expect_accounted(test, pool, p.order,
			    ab_per_page(p.order, ALIGN(AB_PERIOD_BYTES,
						       ATOMIC_ALLOC_MIN_ALIGN)));
}

/*
 * A page goes back to the page allocator only when all its buffers are
 * home: destroy with one buffer out releases every other page at once and
 * keeps exactly that buffer's page until the late free.
 */
static void ab_test_page_released_when_all_home(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-bufhome", .cpu_buffers = 4,
					 .buffer_bytes = AB_PERIOD_BYTES };
	long held = atomic_alloc_pages_held();
	struct atomic_alloc_pool *pool;
	struct page *page;
	void *out;

	p.order = ab_order_for(ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN));
	/* More buffers per CPU than one page holds, on any page size. */
	p.cpu_buffers = ab_per_page(p.order, ALIGN(AB_PERIOD_BYTES,
						   ATOMIC_ALLOC_MIN_ALIGN)) + 1;
	pool = atomic_alloc_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	out = atomic_alloc_buf(pool, 0);
	KUNIT_ASSERT_NOT_NULL(test, out);
	page = virt_to_head_page(out);
	KUNIT_EXPECT_GT(test, atomic_alloc_pages_held(), held + (1L << p.order));

	kunit_info(test, AA_EXPECT_WARNING " destroyed with 1 outstanding\n");
	atomic_alloc_destroy(pool);
	atomic_alloc_flush_zombies();
	/* Its siblings are home, but the page stays: one of them is out. */
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held + (1L << p.order));
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	memset(out, 0x11, AB_PERIOD_BYTES);
	atomic_alloc_buf_free(pool, out);
	atomic_alloc_flush_zombies();
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
	KUNIT_EXPECT_EQ(test, atomic_alloc_zombies(), 0U);
}

/*
 * The same in a live pool: with one buffer out, the shrinker returns every
 * page of surplus but that buffer's; the accounting holds throughout.
 */
static void ab_test_shrink_keeps_busy_page(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-bufshrink",
					 .buffer_bytes = AB_PERIOD_BYTES };
	unsigned int stride = ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN);
	struct atomic_alloc_pool *pool;
	unsigned int per_page, i, n;
	struct page *busy;
	long pages;
	void **bufs;

	p.order = ab_order_for(stride);
	per_page = ab_per_page(p.order, stride);
	p.cpu_buffers = per_page;
	p.shared_buffers = per_page;
	pool = ab_pool(test, &p);
	aa_kunit_fail_refill_on(test);
	n = min(4 * per_page, (unsigned int)AB_MAX_BUFS);
	bufs = kunit_kcalloc(test, n, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);

	/* Out of the array, the reserve and then fresh pages (tier 3). */
	migrate_disable();
	for (i = 0; i < n; i++) {
		bufs[i] = atomic_alloc_buf(pool, GFP_KERNEL);
		if (!bufs[i])
			break;
	}
	n = i;
	KUNIT_ASSERT_GE(test, n, 3 * per_page);
	busy = virt_to_head_page(bufs[n - 1]);
	/* All home but the last one. */
	for (i = 0; i + 1 < n; i++)
		atomic_alloc_buf_free(pool, bufs[i]);
	migrate_enable();
	ab_expect_accounted(test, pool, p.order, per_page);

	atomic_alloc_shrink(pool, ULONG_MAX);
	pages = atomic_alloc_pool_pages(pool);
	ab_expect_accounted(test, pool, p.order, per_page);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 1ULL);
	/* The busy page is still the pool's: its buffer can go home. */
	KUNIT_EXPECT_EQ(test, page_ref_count(busy), 1);
	atomic_alloc_buf_free(pool, bufs[n - 1]);
	atomic_alloc_shrink(pool, ULONG_MAX);
	KUNIT_EXPECT_LE(test, atomic_alloc_pool_pages(pool), pages);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 0ULL);
	ab_expect_accounted(test, pool, p.order, per_page);
}

/*
 * A buffer freed while its page is referenced elsewhere orphans the page:
 * none of its buffers is handed out again, and it goes back (dropping the
 * pool's reference) once all are home.
 */
static void ab_test_orphan(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-bufref",
					 .buffer_bytes = AB_PERIOD_BYTES };
	unsigned int stride = ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN);
	struct atomic_alloc_pool *pool;
	unsigned int per_page, i, n, got, reused = 0;
	struct page *ref;
	u64 freed;
	void **bufs;

	p.order = ab_order_for(stride);
	per_page = ab_per_page(p.order, stride);
	p.cpu_buffers = per_page;
	p.shared_buffers = per_page;
	pool = ab_pool(test, &p);
	n = min(3 * per_page, (unsigned int)AB_MAX_BUFS);
	bufs = kunit_kcalloc(test, n, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);

	/*
	 * The pool filled this CPU's array with one whole page.  Preemption
	 * stays off until that array is empty: this CPU's refill worker must
	 * not push fresh buffers on top of the siblings and bury them there
	 * (a slow kernel lets it run, PREEMPT_RT and KASAN ones do).
	 */
	preempt_disable();
	bufs[0] = atomic_alloc_buf(pool, 0);
	if (!bufs[0])
		preempt_enable();
	KUNIT_ASSERT_NOT_NULL(test, bufs[0]);
	ref = virt_to_head_page(bufs[0]);
	get_page(ref);
	atomic_alloc_buf_free(pool, bufs[0]);
	freed = ab_stats(pool).freed;

	/* Whatever is handed out now, none of it is from that page. */
	for (got = 0; got < n; got++) {
		bufs[got] = atomic_alloc_buf(pool, 0);
		if (!bufs[got])
			break;
		reused += virt_to_head_page(bufs[got]) == ref;
	}
	preempt_enable();
	KUNIT_EXPECT_EQ(test, reused, 0U);
	/* Each sibling was met, taken back at once and counted as freed. */
	KUNIT_EXPECT_EQ(test, ab_stats(pool).freed - freed, (u64)per_page - 1);
	KUNIT_EXPECT_GT(test, got, 0U);
	for (i = 0; i < got; i++)
		atomic_alloc_buf_free(pool, bufs[i]);
	atomic_alloc_flush(pool);
	atomic_alloc_shrink(pool, ULONG_MAX);
	/* The siblings that were in the tiers have been drained by now. */
	KUNIT_EXPECT_EQ(test, ab_stats(pool).released_refcnt, (u64)per_page);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 0ULL);
	/* The pool's reference goes after a grace period (RCU-deferred). */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, page_ref_count(ref), 1);
	put_page(ref);
}

/* Addresses that are not a buffer out from this pool are refused. */
static void ab_test_bad_frees(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-bufbad", .cpu_buffers = 4,
					 .buffer_bytes = AB_PERIOD_BYTES };
	struct atomic_alloc_params q = { .name = "kunit-bufother", .cpu_buffers = 4,
					 .buffer_bytes = AB_PERIOD_BYTES };
	struct atomic_alloc_pool *pool, *other;
	struct atomic_alloc_stats before;
	void *buf, *theirs, *heap;

	p.order = ab_order_for(ALIGN(AB_PERIOD_BYTES, ATOMIC_ALLOC_MIN_ALIGN));
	q.order = p.order;
	pool = ab_pool(test, &p);
	other = ab_pool(test, &q);
	buf = atomic_alloc_buf(pool, 0);
	theirs = atomic_alloc_buf(other, 0);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, theirs);
	before = ab_stats(pool);

	kunit_info(test, AA_EXPECT_WARNING " not the start of a buffer\n");
	atomic_alloc_buf_free(pool, (char *)buf + ATOMIC_ALLOC_MIN_ALIGN);
	atomic_alloc_buf_free(pool, theirs);
	heap = kmalloc(AB_PERIOD_BYTES, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heap);
	atomic_alloc_buf_free(pool, heap);
	kfree(heap);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).bad_frees, 3ULL);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).freed, before.freed);
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 1ULL);

	atomic_alloc_buf_free(pool, buf);
	atomic_alloc_buf_free(other, theirs);
	if (IS_ENABLED(CONFIG_ATOMIC_ALLOC_DEBUG)) {
		/* Caught only by the bitmap of the debug build. */
		atomic_alloc_buf_free(pool, buf);
		KUNIT_EXPECT_EQ(test, ab_stats(pool).bad_frees, 4ULL);
	}
	KUNIT_EXPECT_EQ(test, ab_stats(pool).outstanding, 0ULL);
}

/*
 * Memory held against the bytes of the buffers held, for the demo's
 * device: 4 streams of 256-frame stereo periods, 66 buffers per CPU as
 * atomic_alloc_audio sizes them, in both of its 24-bit formats (S24_3LE:
 * 1536 bytes, S24_LE: 2048).  On 64 KiB pages a whole-page pool would
 * hold 32 to 42 times the audio; this must stay <= 1.25x.  The memory is
 * the pages the pool holds (its bookkeeping, struct aa_page and the
 * arrays, is not counted); the buffers are all those carved from them,
 * available or out.  The "memory-ratio:" line is what
 * scripts/memory-report.py turns into bench/results/memory-CONFIG.md; it
 * also gives the ratio against the buffers the parameters ask for (per
 * CPU times the CPUs online, plus the shared reserve), which counts the
 * part of a page the pool carved but no tier asked for.
 */
struct ab_ratio_case {
	const char *format;
	unsigned int bytes;
};

static const struct ab_ratio_case ab_ratio_cases[] = {
	{ "S24_3LE", 256 * 2 * 3 },
	{ "S24_LE", 256 * 2 * 4 },
};

static void ab_ratio_desc(const struct ab_ratio_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %u bytes", c->format,
		 c->bytes);
}

KUNIT_ARRAY_PARAM(ab_ratio, ab_ratio_cases, ab_ratio_desc);

static void ab_test_memory_ratio(struct kunit *test)
{
	const struct ab_ratio_case *c = test->param_value;
	struct device *dev = kunit_device_register(test, "atomic_alloc-ratio");
	struct atomic_alloc_params p = { .name = "kunit-bufratio",
					 .cpu_buffers = 66, .shared_buffers = 66,
					 .buffer_bytes = c->bytes,
					 .dma_dir = DMA_TO_DEVICE };
	struct atomic_alloc_pool *pool;
	struct atomic_alloc_stats st;
	u64 held_bytes, buf_bytes, asked;
	unsigned int stride, cpus = num_online_cpus();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	p.dev = dev;
	/* As the device picks it: the smallest page that wastes under 20%. */
	stride = ALIGN(c->bytes, max_t(unsigned int, ATOMIC_ALLOC_MIN_ALIGN,
				       dma_get_cache_alignment()));
	p.order = ab_order_dense(stride);
	pool = ab_pool(test, &p);
	atomic_alloc_flush(pool);
	st = ab_stats(pool);
	held_bytes = (u64)atomic_alloc_pool_pages(pool) * PAGE_SIZE;
	buf_bytes = (st.available + st.outstanding) * c->bytes;
	asked = ((u64)p.cpu_buffers * cpus + p.shared_buffers) * c->bytes;
	KUNIT_ASSERT_GT(test, buf_bytes, 0ULL);
	kunit_info(test, "memory-ratio: format=%s page_size=%lu order=%u buffer_bytes=%u stride=%u per_page=%u cpus=%u cpu_buffers=%u shared_buffers=%u buffers=%llu pages=%ld held_bytes=%llu buffer_bytes_total=%llu ratio_x1000=%llu asked_bytes=%llu asked_ratio_x1000=%llu\n",
		   c->format, PAGE_SIZE, p.order, c->bytes, stride,
		   ab_per_page(p.order, stride), cpus, p.cpu_buffers,
		   p.shared_buffers, st.available + st.outstanding,
		   atomic_alloc_pool_pages(pool), held_bytes, buf_bytes,
		   div64_u64(held_bytes * 1000, buf_bytes), asked,
		   div64_u64(held_bytes * 1000, asked));
	KUNIT_EXPECT_LE(test, held_bytes * 100, buf_bytes * 125);
}

static struct kunit_case atomic_alloc_buf_cases[] = {
	KUNIT_CASE(ab_test_distinct_aligned),
	KUNIT_CASE(ab_test_align),
	KUNIT_CASE(ab_test_dma),
	KUNIT_CASE(ab_test_hardirq_remote_free),
	KUNIT_CASE(ab_test_page_released_when_all_home),
	KUNIT_CASE(ab_test_shrink_keeps_busy_page),
	KUNIT_CASE(ab_test_orphan),
	KUNIT_CASE(ab_test_bad_frees),
	KUNIT_CASE_PARAM(ab_test_memory_ratio, ab_ratio_gen_params),
	{}
};

static struct kunit_suite atomic_alloc_buf_suite = {
	.name = "atomic_alloc_buf",
	.test_cases = atomic_alloc_buf_cases,
};

kunit_test_suite(atomic_alloc_buf_suite);

MODULE_DESCRIPTION("KUnit tests for atomic_alloc's buffers smaller than a page");
MODULE_LICENSE("GPL");
