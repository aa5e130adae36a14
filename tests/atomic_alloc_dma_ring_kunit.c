// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite atomic_alloc_dma_ring: the single-producer, single-consumer
 * ring of atomic_alloc_audio (dma_ring.c).
 *
 * Concurrency: every case but dma_ring_test_spsc runs in the test thread
 * alone and plays both sides of the ring itself.  dma_ring_test_spsc runs
 * the producer and the consumer in two kthreads bound to two different
 * CPUs; they only record what they saw, and the test thread asserts after
 * both have stopped.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "dma_ring.h"

/* Every field of entry number @seq is a different function of @seq. */
static void ring_entry_set(struct dma_ring_entry *e, u64 seq)
{
	e->buf = NULL;
	e->dma = (dma_addr_t)(seq << 12);
	e->bytes = (unsigned int)(seq * 3 + 1);
	e->frames = (unsigned int)~seq;
	e->first_frame = seq;
	e->due_ns = seq * 1000003 + 7;
}

static bool ring_entry_is(const struct dma_ring_entry *e, u64 seq)
{
	return !e->buf && e->dma == (dma_addr_t)(seq << 12) &&
	       e->bytes == (unsigned int)(seq * 3 + 1) &&
	       e->frames == (unsigned int)~seq && e->first_frame == seq &&
	       e->due_ns == seq * 1000003 + 7;
}

KUNIT_DEFINE_ACTION_WRAPPER(ring_destroy_action, dma_ring_destroy,
			    struct dma_ring *);

static struct dma_ring *ring_new(struct kunit *test, unsigned int entries)
{
	struct dma_ring *ring;

	ring = kunit_kzalloc(test, sizeof(*ring), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_ASSERT_EQ(test, dma_ring_init(ring, entries), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							ring_destroy_action,
							ring), 0);
	return ring;
}

/* Producer side: queue entry @seq; false if the ring was full. */
static bool ring_put(struct dma_ring *ring, u64 seq)
{
	struct dma_ring_entry *e = dma_ring_next_free(ring);

	if (!e)
		return false;
	ring_entry_set(e, seq);
	dma_ring_push(ring);
	return true;
}

struct ring_size_case {
	unsigned int entries;
	int err;
};

static const struct ring_size_case ring_size_cases[] = {
	{ 0, -EINVAL }, { 1, -EINVAL }, { 2, 0 }, { 3, -EINVAL },
	{ 4, 0 }, { 6, -EINVAL }, { 64, 0 }, { 96, -EINVAL },
	{ 2048, 0 }, { 4096, 0 }, { 4097, -EINVAL }, { 8192, -EINVAL },
	{ UINT_MAX, -EINVAL },
};

static void ring_size_desc(const struct ring_size_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "entries=%u %s", c->entries,
		 c->err ? "rejected" : "accepted");
}

KUNIT_ARRAY_PARAM(ring_size, ring_size_cases, ring_size_desc);

/* dma_ring_init() takes exactly the powers of two from 2 to 4096. */
static void dma_ring_test_init(struct kunit *test)
{
	const struct ring_size_case *c = test->param_value;
	struct dma_ring ring;
	int err;

	err = dma_ring_init(&ring, c->entries);
	KUNIT_EXPECT_EQ(test, err, c->err);
	if (err) {
		KUNIT_EXPECT_NULL(test, ring.entries);
		dma_ring_destroy(&ring);
		return;
	}
	KUNIT_EXPECT_EQ(test, dma_ring_size(&ring), c->entries);
	KUNIT_EXPECT_EQ(test, dma_ring_count(&ring), 0U);
	KUNIT_EXPECT_NULL(test, dma_ring_oldest(&ring));
	KUNIT_EXPECT_PTR_EQ(test, dma_ring_next_free(&ring), &ring.entries[0]);
	dma_ring_destroy(&ring);
	KUNIT_EXPECT_NULL(test, ring.entries);
}

/* A ring of N takes exactly N entries; popping one frees exactly one. */
static void dma_ring_test_full(struct kunit *test)
{
	struct dma_ring *ring = ring_new(test, 8);
	const struct dma_ring_entry *e;
	u64 seq;

	for (seq = 0; seq < 8; seq++) {
		KUNIT_EXPECT_EQ(test, dma_ring_free(ring), 8U - (unsigned int)seq);
		KUNIT_ASSERT_TRUE_MSG(test, ring_put(ring, seq),
				      "ring of 8 refused entry %llu", seq);
	}
	KUNIT_EXPECT_EQ(test, dma_ring_count(ring), 8U);
	KUNIT_EXPECT_EQ(test, dma_ring_free(ring), 0U);
	KUNIT_EXPECT_NULL(test, dma_ring_next_free(ring));
	KUNIT_EXPECT_FALSE(test, ring_put(ring, 8));
	KUNIT_EXPECT_EQ(test, dma_ring_count(ring), 8U);

	/* The refused push must not have disturbed the oldest entry. */
	e = dma_ring_oldest(ring);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, ring_entry_is(e, 0));
	dma_ring_pop(ring);

	/* The slot just released is the one handed out next. */
	KUNIT_EXPECT_EQ(test, dma_ring_free(ring), 1U);
	KUNIT_EXPECT_PTR_EQ(test, dma_ring_next_free(ring), &ring->entries[0]);
	KUNIT_EXPECT_TRUE(test, ring_put(ring, 8));
	KUNIT_EXPECT_NULL(test, dma_ring_next_free(ring));
	KUNIT_EXPECT_EQ(test, dma_ring_count(ring), 8U);

	for (seq = 1; seq <= 8; seq++) {
		e = dma_ring_oldest(ring);
		KUNIT_ASSERT_NOT_NULL(test, e);
		KUNIT_EXPECT_TRUE_MSG(test, ring_entry_is(e, seq),
				      "expected entry %llu, got %llu", seq,
				      e->first_frame);
		dma_ring_pop(ring);
	}
	KUNIT_EXPECT_NULL(test, dma_ring_oldest(ring));
	KUNIT_EXPECT_EQ(test, dma_ring_count(ring), 0U);
}

/*
 * Entries come out in the order they went in, across many wraps of the
 * slots and across the 2^32 wrap of the free-running indices.
 */
static void dma_ring_test_wrap(struct kunit *test)
{
	static const unsigned int batches[] = { 1, 4, 3, 2, 4, 1, 4, 4, 3 };
	struct dma_ring *ring = ring_new(test, 4);
	u64 in = 0, out = 0;
	unsigned int round, i;

	ring->head = UINT_MAX - 5;
	ring->tail = UINT_MAX - 5;

	for (round = 0; round < 20; round++) {
		unsigned int n = batches[round % ARRAY_SIZE(batches)];

		for (i = 0; i < n; i++) {
			KUNIT_ASSERT_PTR_EQ(test, dma_ring_next_free(ring),
					    &ring->entries[ring->head & 3]);
			KUNIT_ASSERT_TRUE(test, ring_put(ring, in++));
		}
		KUNIT_EXPECT_EQ(test, dma_ring_count(ring), n);
		if (n == 4)
			KUNIT_EXPECT_FALSE(test, ring_put(ring, U64_MAX));
		for (i = 0; i < n; i++) {
			const struct dma_ring_entry *e = dma_ring_oldest(ring);

			KUNIT_ASSERT_NOT_NULL(test, e);
			KUNIT_EXPECT_TRUE_MSG(test, ring_entry_is(e, out),
					      "expected entry %llu, got %llu",
					      out, e->first_frame);
			dma_ring_pop(ring);
			out++;
		}
		KUNIT_EXPECT_NULL(test, dma_ring_oldest(ring));
	}
	KUNIT_EXPECT_EQ(test, in, out);
	/* The indices really went through zero. */
	KUNIT_EXPECT_LT(test, ring->head, 100U);
	KUNIT_EXPECT_EQ(test, ring->head, ring->tail);
}

/* Interleaved pushes and pops complete in submission order. */
static void dma_ring_test_order(struct kunit *test)
{
	struct dma_ring *ring = ring_new(test, 64);
	u64 in = 0, out = 0;
	unsigned int step;

	for (step = 0; step < 200; step++) {
		/* Push 0..7 and pop 0..6 entries per step, varying. */
		unsigned int push = (step * 5) % 8, pop = (step * 3) % 7;

		while (push-- && ring_put(ring, in))
			in++;
		while (pop--) {
			const struct dma_ring_entry *e = dma_ring_oldest(ring);

			if (!e)
				break;
			KUNIT_ASSERT_TRUE_MSG(test, ring_entry_is(e, out),
					      "step %u: expected %llu, got %llu",
					      step, out, e->first_frame);
			dma_ring_pop(ring);
			out++;
		}
		KUNIT_ASSERT_EQ(test, (u64)dma_ring_count(ring), in - out);
	}
	while (dma_ring_oldest(ring)) {
		KUNIT_ASSERT_TRUE(test, ring_entry_is(dma_ring_oldest(ring),
						      out));
		dma_ring_pop(ring);
		out++;
	}
	KUNIT_EXPECT_EQ(test, in, out);
	KUNIT_EXPECT_GT(test, in, 64ULL);
}

/* dma_ring_reset() empties a ring and it is usable again. */
static void dma_ring_test_reset(struct kunit *test)
{
	struct dma_ring *ring = ring_new(test, 4);
	const struct dma_ring_entry *e;

	KUNIT_ASSERT_TRUE(test, ring_put(ring, 1));
	KUNIT_ASSERT_TRUE(test, ring_put(ring, 2));
	KUNIT_ASSERT_TRUE(test, ring_put(ring, 3));
	dma_ring_reset(ring);
	KUNIT_EXPECT_EQ(test, dma_ring_count(ring), 0U);
	KUNIT_EXPECT_NULL(test, dma_ring_oldest(ring));

	KUNIT_ASSERT_TRUE(test, ring_put(ring, 42));
	e = dma_ring_oldest(ring);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, ring_entry_is(e, 42));
}

#define SPSC_ENTRIES	100000ULL

struct spsc_ctx {
	struct dma_ring *ring;
	struct completion done;
	u64 consumed;
	u64 bad;
	u64 first_bad_seq;
	u64 first_bad_got;
	u64 full_spins;
};

static int spsc_producer(void *arg)
{
	struct spsc_ctx *ctx = arg;
	u64 seq = 0;

	while (!kthread_should_stop()) {
		if (seq == SPSC_ENTRIES) {
			schedule_timeout_interruptible(1);
			continue;
		}
		if (ring_put(ctx->ring, seq)) {
			seq++;
		} else {
			ctx->full_spins++;
			cond_resched();
		}
	}
	return 0;
}

static int spsc_consumer(void *arg)
{
	struct spsc_ctx *ctx = arg;

	while (!kthread_should_stop()) {
		const struct dma_ring_entry *e;

		if (ctx->consumed == SPSC_ENTRIES) {
			schedule_timeout_interruptible(1);
			continue;
		}
		e = dma_ring_oldest(ctx->ring);
		if (!e) {
			cond_resched();
			continue;
		}
		if (!ring_entry_is(e, ctx->consumed)) {
			if (!ctx->bad) {
				ctx->first_bad_seq = ctx->consumed;
				ctx->first_bad_got = e->first_frame;
			}
			ctx->bad++;
		}
		dma_ring_pop(ctx->ring);
		if (++ctx->consumed == SPSC_ENTRIES)
			complete(&ctx->done);
	}
	return 0;
}

/*
 * A producer and a consumer on two CPUs at once: every entry arrives once,
 * in order and complete (no slot read before it was written, none
 * overwritten before it was read).  A small ring keeps both sides on the
 * full and empty edges most of the time.  On x86, whose stores are not
 * reordered with each other, this checks the index arithmetic under real
 * concurrency; it cannot notice a missing acquire/release pair.
 *
 * Under emulation the two vCPUs may be descheduled for long stretches, so
 * the test ends on a lack of progress (30 s without a new entry), not on a
 * fixed deadline.
 */
static void dma_ring_test_spsc(struct kunit *test)
{
	struct task_struct *prod, *cons;
	struct spsc_ctx *ctx;
	unsigned int cpu_a, cpu_b, idle = 0, waited = 0;
	u64 seen = 0, now;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	cpu_a = cpumask_first(cpu_online_mask);
	cpu_b = cpumask_next(cpu_a, cpu_online_mask);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->ring = ring_new(test, 8);
	init_completion(&ctx->done);

	prod = kthread_create(spsc_producer, ctx, "dma_ring_kunit_p");
	KUNIT_ASSERT_FALSE(test, IS_ERR(prod));
	cons = kthread_create(spsc_consumer, ctx, "dma_ring_kunit_c");
	if (IS_ERR(cons)) {
		kthread_stop(prod);
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(cons));
		return;
	}
	kthread_bind(prod, cpu_a);
	kthread_bind(cons, cpu_b);
	wake_up_process(prod);
	wake_up_process(cons);

	/* 5 s slices; give up after 30 s without progress or 240 s in all. */
	while (!wait_for_completion_timeout(&ctx->done, 5 * HZ)) {
		now = READ_ONCE(ctx->consumed);
		idle = now == seen ? idle + 1 : 0;
		seen = now;
		if (idle == 6 || ++waited == 48)
			break;
	}
	kthread_stop(cons);
	kthread_stop(prod);

	KUNIT_EXPECT_EQ_MSG(test, ctx->consumed, SPSC_ENTRIES,
			    "consumer stopped after %u s (%u s without progress)",
			    waited * 5, idle * 5);
	KUNIT_EXPECT_EQ_MSG(test, ctx->bad, 0ULL,
			    "first bad: expected entry %llu, got %llu",
			    ctx->first_bad_seq, ctx->first_bad_got);
	KUNIT_EXPECT_EQ(test, dma_ring_count(ctx->ring), 0U);
	kunit_info(test, "producer found the ring full %llu times",
		   ctx->full_spins);
}

static struct kunit_case dma_ring_test_cases[] = {
	KUNIT_CASE_PARAM(dma_ring_test_init, ring_size_gen_params),
	KUNIT_CASE(dma_ring_test_full),
	KUNIT_CASE(dma_ring_test_wrap),
	KUNIT_CASE(dma_ring_test_order),
	KUNIT_CASE(dma_ring_test_reset),
	KUNIT_CASE_SLOW(dma_ring_test_spsc),
	{}
};

static struct kunit_suite dma_ring_test_suite = {
	.name = "atomic_alloc_dma_ring",
	.test_cases = dma_ring_test_cases,
};

kunit_test_suite(dma_ring_test_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the DMA ring of atomic_alloc_audio");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
