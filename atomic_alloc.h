/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomic_alloc - per-CPU page pools for callers that cannot sleep
 */

/**
 * DOC: atomic_alloc overview
 *
 * A pool keeps, on every online CPU, a small array of pre-allocated buffers
 * (2^order physically contiguous pages each), and a shared reserve behind
 * them.  A workqueue tops both up in process context with GFP_KERNEL, so the
 * caller of atomic_alloc_page() never enters reclaim or compaction and never
 * takes a sleeping lock: it pops a pointer with interrupts disabled.  That
 * makes the pool usable from a hard interrupt handler, with interrupts off,
 * under a raw spinlock, and on PREEMPT_RT, where the page allocator itself is
 * off limits in all of those places.
 *
 * Allocation walks these tiers and stops at the first that has a buffer:
 *
 *  1. this CPU's array (no lock, O(1));
 *  2. the pool's shared reserve (a raw spinlock, O(1));
 *  3. the page allocator with the caller's @gfp, only when @gfp is non-zero
 *     and the calling context may enter it (never in hard IRQ, with
 *     interrupts off or under a raw spinlock on PREEMPT_RT; never in NMI);
 *  4. NULL, counted in &atomic_alloc_stats.alloc_failed.
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

/* Largest supported @order: 2^5 pages, 128 KiB buffers with 4 KiB pages. */
#define ATOMIC_ALLOC_MAX_ORDER		5
/* Largest supported per-CPU array, in buffers. */
#define ATOMIC_ALLOC_MAX_CPU_BUFFERS	1024
/* Largest number of pages one pool may keep ready per CPU (64 MiB). */
#define ATOMIC_ALLOC_MAX_CPU_PAGES	16384

/**
 * struct atomic_alloc_params - what to build a pool with
 * @name:	debugfs directory and log prefix; required, unique among
 *		live pools, at most 31 characters.
 * @order:	each buffer is (1 << @order) physically contiguous pages;
 *		0 to %ATOMIC_ALLOC_MAX_ORDER.
 * @cpu_buffers: buffers kept ready on each online CPU (the per-CPU high
 *		watermark); 1 to %ATOMIC_ALLOC_MAX_CPU_BUFFERS, and at most
 *		%ATOMIC_ALLOC_MAX_CPU_PAGES pages per CPU.
 * @low_watermark: the refill worker is woken when a CPU's array holds
 *		fewer buffers than this; 0 means @cpu_buffers / 2 (at least 1).
 *		Must be below @cpu_buffers.
 * @shared_buffers: buffers kept in the shared reserve that any CPU falls
 *		back to; 0 means @cpu_buffers.  At most
 *		%ATOMIC_ALLOC_MAX_CPU_BUFFERS.  The reserve accepts freed
 *		buffers up to twice this number; the shrinker returns what is
 *		above it.
 * @refill_batch: buffers the worker allocates between two pushes into a
 *		CPU's array; 0 means min(@cpu_buffers, 16).
 * @dev:	when set, every buffer is DMA-mapped for @dev once, when it
 *		enters the pool, and stays mapped while it recycles; the zone
 *		is chosen from the device's DMA mask (ZONE_DMA32 for a 32-bit
 *		device).  NULL: no mapping.
 * @dma_dir:	direction of that mapping; the zero value is
 *		%DMA_BIDIRECTIONAL.  Ignored without @dev.
 * @gfp:	extra zone flags for every allocation: 0, %__GFP_DMA32 or
 *		%__GFP_DMA.  Anything else is rejected.
 *
 * A field left zero takes its documented default.
 */
struct atomic_alloc_params {
	const char *name;
	unsigned int order;
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
 * @freed:		buffers given back through atomic_alloc_free().
 * @refilled:		buffers the refill worker and CPU hotplug took from
 *			the page allocator (the initial fill in
 *			atomic_alloc_create() too).  Surplus the worker moves
 *			from the shared reserve into a CPU's array is not new
 *			and does not count.
 * @refill_failed:	page-allocator failures seen while refilling.
 * @released:		buffers returned to the page allocator (surplus
 *			trimmed by the worker or the shrinker, CPUs going
 *			offline).
 * @available:		buffers ready now: all CPUs' arrays, the shared
 *			reserve and freed buffers waiting on the overflow
 *			list together.
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
	u64 freed;
	u64 refilled;
	u64 refill_failed;
	u64 released;
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
void atomic_alloc_get_stats(struct atomic_alloc_pool *pool,
			    struct atomic_alloc_stats *stats);
void *atomic_alloc_buf(struct atomic_alloc_pool *pool, gfp_t gfp);
void atomic_alloc_buf_free(struct atomic_alloc_pool *pool, void *buf);
dma_addr_t atomic_alloc_buf_dma(struct atomic_alloc_pool *pool,
				const void *buf);
unsigned int atomic_alloc_buf_bytes(const struct atomic_alloc_pool *pool);
struct dentry *atomic_alloc_debugfs_dir(struct atomic_alloc_pool *pool);

#endif /* _ATOMIC_ALLOC_H */
