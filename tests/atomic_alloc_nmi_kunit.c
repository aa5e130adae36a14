// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "atomic_alloc_nmi": the pool from NMI context.  A CPU loops
 * alloc and free with interrupts on while another aims at least 100,000
 * NMIs at it; the NMI handler allocates in one NMI and frees in a later
 * one (tests/atomic_alloc_nmi_storm.h).  No buffer may be handed out twice
 * (every holder checks its tag), none may be lost (exact page accounting
 * after destroy), and lockdep must stay quiet.  x86 only: elsewhere the
 * case is skipped and says why.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>

#include "atomic_alloc.h"
#include "atomic_alloc_priv.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#ifdef CONFIG_X86_LOCAL_APIC
#include "atomic_alloc_nmi_storm.h"

#define AN_NMIS		100000
/*
 * Under TCG an NMI reaches its vCPU when the host runs that vCPU's thread:
 * 100,000 take ~15 s on an idle 2-core host, minutes on a loaded one.
 */
#define AN_TIMEOUT_MS	600000

static void an_test_storm(struct kunit *test)
{
	struct atomic_alloc_params p = { .name = "kunit-nmi", .cpu_buffers = 16,
					 .shared_buffers = 16 };
	long held = atomic_alloc_pages_held();
	struct atomic_alloc_stats stats;
	struct aa_storm *st;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->pool = atomic_alloc_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, st->pool);
	st->cpu = cpumask_last(cpu_online_mask);
	st->sender = cpumask_first(cpu_online_mask);
	st->want_nmis = AN_NMIS;
	st->timeout_ms = AN_TIMEOUT_MS;

	KUNIT_ASSERT_EQ(test, aa_storm_run(st), 0);
	atomic_alloc_flush(st->pool);
	atomic_alloc_get_stats(st->pool, &stats);
	kunit_info(test, "nmi-storm: sent=%lu nmis=%lu nmi_allocs=%lu nmi_frees=%lu nmi_nulls=%lu loop_iters=%lu loop_nulls=%lu tag_errors=%lu alloc_nmi=%llu free_nmi=%llu alloc_nested=%llu free_nested=%llu retries=%llu\n",
		   st->sent, st->nmis, st->nmi_allocs, st->nmi_frees,
		   st->nmi_nulls, st->loop_iters, st->loop_nulls,
		   st->tag_errors, stats.alloc_nmi, stats.free_nmi,
		   stats.alloc_nested, stats.free_nested, stats.retries);

	KUNIT_EXPECT_FALSE(test, st->timed_out);
	KUNIT_EXPECT_GE(test, st->nmis, (unsigned long)AN_NMIS);
	KUNIT_EXPECT_EQ(test, st->nmi_not_in_nmi, 0UL);
	/* No buffer handed out twice. */
	KUNIT_EXPECT_EQ(test, st->tag_errors, 0UL);
	/* The NMI side really allocated and freed, inside the loop's work. */
	KUNIT_EXPECT_GT(test, st->nmi_allocs, (unsigned long)AN_NMIS / 4);
	KUNIT_EXPECT_GE(test, st->nmi_frees + 1, st->nmi_allocs);
	KUNIT_EXPECT_GT(test, st->loop_iters, 0UL);
	/*
	 * Some NMIs landed inside the loop's own operation on the array: the
	 * loop's operation tried again, or the NMI's free went to the shared
	 * reserve.  The nested paths ran.
	 */
	KUNIT_EXPECT_GT(test, stats.alloc_nested + stats.free_nested, 0ULL);
	KUNIT_EXPECT_EQ(test, st->nmi_nulls, 0UL);
	/* Counted as NMI callers; the page allocator never reached. */
	KUNIT_EXPECT_EQ(test, stats.alloc_nmi, (u64)st->nmi_allocs + st->nmi_nulls);
	KUNIT_EXPECT_EQ(test, stats.free_nmi, (u64)st->nmi_frees);
	KUNIT_EXPECT_EQ(test, stats.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, stats.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_alloc_pool_pages(st->pool),
			(long)(stats.available + stats.outstanding));
	/* None lost: every page back after destroy. */
	atomic_alloc_destroy(st->pool);
	atomic_alloc_flush_zombies();
	KUNIT_EXPECT_EQ(test, atomic_alloc_pages_held(), held);
}
#else
static void an_test_storm(struct kunit *test)
{
	kunit_skip(test, "x86 only: NMIs are sent by IPI through the local APIC");
}
#endif

static struct kunit_case atomic_alloc_nmi_cases[] = {
	KUNIT_CASE_SLOW(an_test_storm),
	{}
};

static struct kunit_suite atomic_alloc_nmi_suite = {
	.name = "atomic_alloc_nmi",
	.test_cases = atomic_alloc_nmi_cases,
};

kunit_test_suite(atomic_alloc_nmi_suite);

MODULE_DESCRIPTION("KUnit tests for atomic_alloc in NMI context");
MODULE_LICENSE("GPL");
