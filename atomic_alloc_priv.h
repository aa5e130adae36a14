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

#if IS_ENABLED(CONFIG_KUNIT)
/* Buffers in @cpu's array now (racy snapshot). */
unsigned int atomic_alloc_cpu_level(struct atomic_alloc_pool *pool, int cpu);
/* Buffers in the shared reserve now (racy snapshot). */
unsigned int atomic_alloc_shared_level(struct atomic_alloc_pool *pool);
/* Run the shrinker's scan for @nr buffers; returns the number released. */
unsigned long atomic_alloc_shrink(struct atomic_alloc_pool *pool,
				  unsigned long nr);
/* Wait until no refill or trim work of @pool is pending or running. */
void atomic_alloc_flush(struct atomic_alloc_pool *pool);
/* Frees refused by the consistency checks (CONFIG_ATOMIC_ALLOC_DEBUG). */
unsigned long atomic_alloc_bad_frees(struct atomic_alloc_pool *pool);
/* Pages @pool holds from the page allocator, outstanding ones included. */
long atomic_alloc_pool_pages(struct atomic_alloc_pool *pool);
/* Pages all pools hold from the page allocator, outstanding ones included. */
long atomic_alloc_pages_held(void);
/* Makes the refill worker's page allocations fail (fault injection). */
extern struct fault_attr atomic_alloc_fail_refill;
#endif

#endif /* _ATOMIC_ALLOC_PRIV_H */
