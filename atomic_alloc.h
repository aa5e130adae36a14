/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomic_alloc - per-CPU pools of DMA buffers for callers that cannot sleep
 */

/**
 * DOC: atomic_alloc overview
 *
 * A pool keeps, on every online CPU, an array of pre-allocated buffers and
 * a shared reserve behind them.  A workqueue tops both up in process context
 * with GFP_KERNEL, so the caller of atomic_alloc_page() never enters reclaim
 * or compaction and never takes a lock: it pops a pointer off its own
 * CPU's array, with interrupts left as they are.  That
 * makes the pool usable from any context: task, softirq, a hard interrupt
 * handler, with interrupts off, under a raw spinlock, in NMI, and on
 * PREEMPT_RT, where the page allocator itself is off limits in all but the
 * first two.
 *
 * A pool hands out either whole buffers of 2^order pages (atomic_alloc_page(),
 * atomic_alloc_free()) or, when created with @buffer_bytes, buffers smaller
 * than a page that share their pages (atomic_alloc_buf(),
 * atomic_alloc_buf_free()); the atomic_alloc_buf*() calls work on both kinds.
 *
 * Allocation walks these tiers and stops at the first that has a buffer:
 *
 *  1. this CPU's array: no lock, no interrupt disabling, O(1); an
 *     interrupt or NMI that arrives while its CPU is inside the array is
 *     served from it too, and the operation it interrupted tries again
 *     (one that interrupted a free into the array frees into tier 2, and
 *     allocates from tier 2 first, then from the array);
 *  2. the pool's shared reserve, O(1), under a lock that a CPU spins on
 *     only while another CPU holds it (an interrupt or NMI that interrupted
 *     the holder on its own CPU gets NULL, never waits);
 *  3. the page allocator, only when @gfp is non-zero and the calling
 *     context may take a spinlock_t on PREEMPT_RT: never in NMI, in hard
 *     IRQ, with interrupts disabled or (where lockdep can tell) under a raw
 *     spinlock, on any kernel;
 *  4. NULL, counted in &atomic_alloc_stats.alloc_failed.
 *
 * Nothing in tiers 1, 2 and 4, nor atomic_alloc_free(), waits for the
 * context it interrupted: it never spins on a lock that context may hold,
 * never wakes a task and never queues work; the refill worker is kicked
 * through a hard irq_work.
 *
 * What the pool owns in struct page.  While a page belongs to a pool (in
 * the pool, or handed out as a buffer), these fields of its head page are
 * the pool's and a driver must not change them: ->lru (the pool's lists and
 * its owner tag), ->index (the DMA address of the page, for a pool with a
 * device) and ->private (the pool's bookkeeping for the page).  Buffers of
 * order > 0 are compound pages, so get_page() and put_page() on any of their
 * pages act on the head; a driver may take page references (vm_insert_page(),
 * an skb frag...), and a buffer freed while such a reference is held is
 * never recycled: the pool drops its own reference and the last put_page()
 * frees the page.  The contents of a free buffer are the pool's too: a
 * buffer smaller than a page carries the pool's list link in its first
 * bytes while it is free.
 *
 * The internals of a pool are private to atomic_alloc.c; this header is the
 * whole interface for other drivers.
 */
#ifndef _ATOMIC_ALLOC_H
#define _ATOMIC_ALLOC_H

#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/types.h>

struct atomic_alloc_pool;
struct dentry;
struct device;
struct page;

/* Largest supported @order: 2^5 pages per buffer or per carved page. */
#define ATOMIC_ALLOC_MAX_ORDER		5
/* Largest supported per-CPU array, in buffers. */
#define ATOMIC_ALLOC_MAX_CPU_BUFFERS	1024
/* Most memory one pool may keep ready per CPU, in bytes (64 MiB). */
#define ATOMIC_ALLOC_MAX_CPU_BYTES	(64UL << 20)
/* Most buffers of @buffer_bytes that share one (2^order-page) page. */
#define ATOMIC_ALLOC_MAX_BUFS_PER_PAGE	64
/* Smallest alignment of a buffer smaller than a page, in bytes. */
#define ATOMIC_ALLOC_MIN_ALIGN		64

/**
 * struct atomic_alloc_params - what to build a pool with
 * @name:	debugfs directory and log prefix; required, unique among
 *		live pools, at most 31 characters, not "pages_held" or
 *		"fail_refill" (the library's own debugfs files).
 * @order:	whole-page pools: each buffer is (1 << @order) physically
 *		contiguous pages (a compound page for @order > 0).  Pools of
 *		@buffer_bytes: the size of the pages the buffers are carved
 *		from.  0 to %ATOMIC_ALLOC_MAX_ORDER.
 * @buffer_bytes: 0: whole-page buffers of PAGE_SIZE << @order bytes.
 *		Otherwise buffers of this many bytes, rounded up to @align,
 *		that share their pages: 1 to %ATOMIC_ALLOC_MAX_BUFS_PER_PAGE of
 *		them must fit a 2^@order page.
 * @align:	pools of @buffer_bytes: alignment of each buffer, a power of
 *		two; 0 means %ATOMIC_ALLOC_MIN_ALIGN, or the DMA cache
 *		alignment (dma_get_cache_alignment(), the cache line that a
 *		non-coherent device's syncs work in) if that is larger and the
 *		pool has a @dev.  Ignored for whole-page pools.
 * @cpu_buffers: buffers kept ready on each online CPU (the per-CPU high
 *		watermark); 1 to %ATOMIC_ALLOC_MAX_CPU_BUFFERS, and at most
 *		%ATOMIC_ALLOC_MAX_CPU_BYTES of memory per CPU.
 * @low_watermark: the refill worker is kicked when a CPU's array holds
 *		fewer buffers than this; 0 means @cpu_buffers / 2 (at least 1).
 *		Must be below @cpu_buffers.
 * @shared_buffers: buffers kept in the shared reserve that any CPU falls
 *		back to; 0 means @cpu_buffers.  At most
 *		%ATOMIC_ALLOC_MAX_CPU_BUFFERS.  The reserve accepts freed
 *		buffers up to twice this number; the worker and the shrinker
 *		return what is above it.
 * @refill_batch: buffers the worker allocates between two pushes into a
 *		CPU's array; 0 means min(@cpu_buffers, 16).  At most 64.
 * @dev:	when set, every page is DMA-mapped for @dev once, when it
 *		enters the pool, and stays mapped while it recycles; the zone
 *		is chosen from the device's DMA mask (ZONE_DMA32 for a 32-bit
 *		device).  The pool takes no reference on @dev: after
 *		atomic_alloc_destroy() has returned it never touches @dev
 *		again (it unmaps the buffers still out, as page_pool does).
 *		NULL: no mapping.
 * @dma_dir:	direction of that mapping; the zero value is
 *		%DMA_BIDIRECTIONAL.  Ignored without @dev.
 * @gfp:	zone for every allocation: 0, %__GFP_DMA32 or %__GFP_DMA.
 *		Anything else is rejected.  With @dev the device's mask
 *		decides.
 *
 * A field left zero takes its documented default.
 */
struct atomic_alloc_params {
	const char *name;
	unsigned int order;
	unsigned int buffer_bytes;
	unsigned int align;
	unsigned int cpu_buffers;
	unsigned int low_watermark;
	unsigned int shared_buffers;
	unsigned int refill_batch;
	struct device *dev;
	enum dma_data_direction dma_dir;
	gfp_t gfp;
};

/**
 * struct atomic_alloc_stats - a pool's counters, summed over all CPUs
 * @alloc_local:	served from the calling CPU's array (tier 1).
 * @alloc_remote:	served from the shared reserve (tier 2).
 * @alloc_direct:	served by the page-allocator fallback (tier 3).
 * @alloc_failed:	NULL returned (tier 4).
 * @alloc_nmi:		of all allocations, those made in NMI context (they
 *			use tiers 1, 2 and 4, never 3).
 * @alloc_nested:	times an allocation met another operation of its own
 *			CPU: it was taking from this CPU's array when an
 *			interrupt or NMI used the array, and took again (once
 *			per try); or it interrupted this CPU inside the shared
 *			reserve, and got nothing from the reserve.
 * @freed:		buffers given back through atomic_alloc_free() or
 *			atomic_alloc_buf_free(), refused ones not counted; also
 *			a buffer of an orphaned page that an allocation took
 *			out of a tier and handed straight back.
 * @free_nmi:		of those, frees made in NMI context.
 * @free_nested:	times a free met another operation of its own CPU:
 *			it was giving to this CPU's array when an interrupt or
 *			NMI took from it, and gave again (once per try); or it
 *			interrupted this CPU's own free into the array, or this
 *			CPU inside the shared reserve, and went to the other
 *			(the reserve, or the worker's lock-free list).
 * @free_deferred:	frees that found this CPU's array and the shared
 *			reserve full, or the buffer still referenced, and
 *			handed the buffer to a lock-free list that the worker
 *			drains in process context.
 * @retries:		tier-2 operations that found the shared reserve held
 *			by another CPU and waited for it (a few instructions).
 * @refilled:		buffers the refill worker and CPU hotplug took from
 *			the page allocator (the initial fill in
 *			atomic_alloc_create() too), whether they were kept or
 *			released again.  Buffers the worker moves between
 *			CPUs are not new and do not count.
 * @refill_failed:	page-allocator failures seen while refilling.
 * @released:		buffers returned to the page allocator (surplus
 *			trimmed by the worker or the shrinker, CPUs going
 *			offline, destroy).
 * @released_refcnt:	buffers freed while someone else still held a
 *			reference on their page: the pool unmapped them,
 *			dropped its reference and never handed them out
 *			again (for buffers smaller than a page: every buffer
 *			of that page, as each comes home).
 * @bad_frees:		frees refused: a page or address that no pool handed
 *			out, a buffer of another pool, a tail page, a buffer
 *			already free.  Each gives a WARN_ONCE and leaves the
 *			page untouched.
 * @available:		buffers ready now: all CPUs' arrays, the shared
 *			reserve and the worker's surplus together.
 * @outstanding:	buffers handed out and not yet freed.
 *
 * The counters are read without stopping the pool, so a snapshot taken
 * while it is in use need not add up exactly.
 */
struct atomic_alloc_stats {
	u64 alloc_local;
	u64 alloc_remote;
	u64 alloc_direct;
	u64 alloc_failed;
	u64 alloc_nmi;
	u64 alloc_nested;
	u64 freed;
	u64 free_nmi;
	u64 free_nested;
	u64 free_deferred;
	u64 retries;
	u64 refilled;
	u64 refill_failed;
	u64 released;
	u64 released_refcnt;
	u64 bad_frees;
	u64 available;
	u64 outstanding;
};

struct atomic_alloc_pool *
atomic_alloc_create(const struct atomic_alloc_params *params);
void atomic_alloc_destroy(struct atomic_alloc_pool *pool);
struct page *atomic_alloc_page(struct atomic_alloc_pool *pool, gfp_t gfp);
void atomic_alloc_free(struct atomic_alloc_pool *pool, struct page *page);
dma_addr_t atomic_alloc_dma_addr(struct atomic_alloc_pool *pool,
				 struct page *page);
void *atomic_alloc_buf(struct atomic_alloc_pool *pool, gfp_t gfp);
void atomic_alloc_buf_free(struct atomic_alloc_pool *pool, void *buf);
dma_addr_t atomic_alloc_buf_dma(struct atomic_alloc_pool *pool,
				const void *buf);
unsigned int atomic_alloc_buf_bytes(const struct atomic_alloc_pool *pool);
void atomic_alloc_get_stats(struct atomic_alloc_pool *pool,
			    struct atomic_alloc_stats *stats);
struct dentry *atomic_alloc_debugfs_dir(struct atomic_alloc_pool *pool);

#endif /* _ATOMIC_ALLOC_H */
