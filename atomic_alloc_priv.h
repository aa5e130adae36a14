/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of atomic_alloc.ko that its KUnit suite reaches.  Not for
 * drivers: they use atomic_alloc.h.  Exported only when KUnit is enabled,
 * in the EXPORTED_FOR_KUNIT_TESTING namespace.
 */
#ifndef _ATOMIC_ALLOC_PRIV_H
#define _ATOMIC_ALLOC_PRIV_H

#include "atomic_alloc.h"

struct fault_attr;

/*
 * Points in atomic_alloc.c where a KUnit suite may stop or watch a CPU
 * (atomic_alloc_test_hook); compiled out without CONFIG_KUNIT.
 */
enum atomic_alloc_hook {
	AA_HOOK_FREE,		/* inside a free, the pool seen alive */
	AA_HOOK_POP,		/* tier-1 pop: slot read, not committed */
	AA_HOOK_PUSH,		/* tier-1 push: level read, slot not written */
	AA_HOOK_PAGE_GFP,	/* arg: the gfp about to reach alloc_pages */
	AA_HOOK_OVERFLOW,	/* counted, not yet on the overflow list */
	AA_HOOK_REFILL,		/* arg: buffers gathered for a CPU's array */
	AA_HOOK_REFILL_SHARED,	/* arg: buffers gathered for the reserve */
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Buffers in @cpu's array now (racy snapshot). */
unsigned int atomic_alloc_cpu_level(struct atomic_alloc_pool *pool, int cpu);
/* Buffers in the shared reserve now (racy snapshot). */
unsigned int atomic_alloc_shared_level(struct atomic_alloc_pool *pool);
/* Reusable buffers in the worker's surplus now. */
unsigned long atomic_alloc_spill_level(struct atomic_alloc_pool *pool);
/* Run the shrinker's scan for @nr buffers; returns the number released. */
unsigned long atomic_alloc_shrink(struct atomic_alloc_pool *pool,
				  unsigned long nr);
/*
 * Wait until no kick, refill or trim of @pool is pending or running, then
 * process its deferred lists.
 */
void atomic_alloc_flush(struct atomic_alloc_pool *pool);
/* Process the late frees of destroyed pools, wait for their RCU frees. */
void atomic_alloc_flush_zombies(void);
/* Destroyed pools still waiting for buffers. */
unsigned int atomic_alloc_zombies(void);
/* The overflow list's count, raw (it must never read below zero). */
long atomic_alloc_overflow_count(struct atomic_alloc_pool *pool);
/* Queue @cpu's refill work now, even if @cpu is offline, and wait for it. */
void atomic_alloc_refill_now(struct atomic_alloc_pool *pool, int cpu);
/* Pages @pool holds from the page allocator, outstanding ones included. */
long atomic_alloc_pool_pages(struct atomic_alloc_pool *pool);
/* Pages all pools hold from the page allocator, outstanding ones included. */
long atomic_alloc_pages_held(void);
/* Makes the refill worker's page allocations fail (fault injection). */
extern struct fault_attr atomic_alloc_fail_refill;
/* Called at each enum atomic_alloc_hook point when set (tests only). */
typedef void (*atomic_alloc_hook_fn)(struct atomic_alloc_pool *pool,
				     enum atomic_alloc_hook where,
				     unsigned long arg);
extern atomic_alloc_hook_fn atomic_alloc_test_hook;
#endif

#endif /* _ATOMIC_ALLOC_PRIV_H */
