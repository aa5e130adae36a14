/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_compat.h - kernel differences (6.1 and 6.12) of the modules in
 * bench/: the benchmark, the labyrinth and the naive stream
 *
 * Detected by what the headers define, or, where a header defines nothing
 * to test, by bench/Kbuild looking into the header (BENCH_HAVE_*).  The
 * project's own differences are in ../compat.h; these are the ones only the
 * test-support modules meet (page_pool, reclaim accounting, a shrinker with
 * its own batch).
 */
#ifndef _ATOMIC_ALLOC_BENCH_COMPAT_H
#define _ATOMIC_ALLOC_BENCH_COMPAT_H

#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/swap.h>

/*
 * this_cpu_try_cmpxchg() is not in 6.1: the same fallback as ../compat.h
 * has for atomic_alloc itself (the benchmark sees only the public header).
 */
#ifndef this_cpu_try_cmpxchg
#define this_cpu_try_cmpxchg(pcp, ovalp, nval)				\
({									\
	typeof(ovalp) __bench_ovalp = (ovalp);				\
	typeof(*__bench_ovalp) __bench_old = *__bench_ovalp;		\
	typeof(*__bench_ovalp) __bench_cur =				\
		this_cpu_cmpxchg(pcp, __bench_old, nval);		\
									\
	if (__bench_cur != __bench_old)					\
		*__bench_ovalp = __bench_cur;				\
	__bench_cur == __bench_old;					\
})
#endif

/*
 * page_pool's API moved from <net/page_pool.h> (6.1) to
 * <net/page_pool/helpers.h> (6.6 and later).
 */
#ifdef BENCH_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

/*
 * Pages a shrinker frees outside the LRU count as reclaimed: with
 * mm_account_reclaimed_pages() since 6.4, in reclaimed_slab before.
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

/*
 * A registered shrinker with @seeks and @batch.  Shrinkers are allocated by
 * the core since 6.7 (which added SHRINKER_ALLOCATED); before, the owner
 * embeds one.  One shrinker per user: @slot is where it lives.
 */
struct bench_shrinker {
#ifdef SHRINKER_ALLOCATED
	struct shrinker *s;
#else
	struct shrinker s;
#endif
};

static inline int
bench_shrinker_register(struct bench_shrinker *slot, const char *name,
			unsigned long (*count)(struct shrinker *,
					       struct shrink_control *),
			unsigned long (*scan)(struct shrinker *,
					      struct shrink_control *),
			int seeks, long batch)
{
#ifdef SHRINKER_ALLOCATED
	slot->s = shrinker_alloc(0, "%s", name);
	if (!slot->s)
		return -ENOMEM;
	slot->s->count_objects = count;
	slot->s->scan_objects = scan;
	slot->s->seeks = seeks;
	slot->s->batch = batch;
	shrinker_register(slot->s);
	return 0;
#else
	slot->s.count_objects = count;
	slot->s.scan_objects = scan;
	slot->s.seeks = seeks;
	slot->s.batch = batch;
	return register_shrinker(&slot->s, "%s", name);
#endif
}

static inline void bench_shrinker_unregister(struct bench_shrinker *slot)
{
#ifdef SHRINKER_ALLOCATED
	shrinker_free(slot->s);
	slot->s = NULL;
#else
	unregister_shrinker(&slot->s);
#endif
}

#endif /* _ATOMIC_ALLOC_BENCH_COMPAT_H */
