/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomic_alloc_labyrinth - a fragmented heap on demand, for tests
 *
 * The interface of atomic_alloc_labyrinth.ko, a test-support module that the
 * benchmark (atomic_alloc_bench.ko), the demo and the demo-quick check use.
 * See atomic_alloc_labyrinth.c for how it builds and holds the heap, and
 * bench/README.md for its debugfs control.
 */
#ifndef _ATOMIC_ALLOC_LABYRINTH_H
#define _ATOMIC_ALLOC_LABYRINTH_H

#include <linux/types.h>

/**
 * struct aa_labyrinth_stats - what the labyrinth holds and has done
 * @active:	built and held (between aa_labyrinth_build() and
 *		aa_labyrinth_release()).
 * @pinned:	order-0 pages the labyrinth holds now.
 * @reserve_blocks: blocks of the reclaim reserve held now.
 * @reserve_order: order of the blocks the build puts into the reserve (the
 *		hold may add smaller ones).
 * @reserve_pages: pages in the reserve's blocks.
 * @pages_held:	pages the labyrinth holds from the page allocator in all:
 *		@pinned + @reserve_pages.  0 once released.
 * @grabbed:	pages pinned by the build and by sweeps.
 * @swept:	free blocks of order >= 1 taken and broken up.
 * @released:	odd pinned pages given back to bring a zone to its target
 *		during the build and the sweeps.
 * @hold_passes: passes of the hold work, all CPUs.
 * @hold_grabbed: pages the hold work pinned.
 * @hold_released: pages the hold work gave back.
 * @hold_swept:	free blocks of order >= 1 the hold work took.
 * @hold_adopted: of those, the ones it put into the reserve whole.
 * @shrunk:	pages direct reclaim got back from the reserve.
 */
struct aa_labyrinth_stats {
	bool active;
	unsigned long pinned;
	unsigned long reserve_blocks;
	unsigned int reserve_order;
	unsigned long reserve_pages;
	unsigned long pages_held;
	unsigned long grabbed;
	unsigned long swept;
	unsigned long released;
	unsigned long hold_passes;
	unsigned long hold_grabbed;
	unsigned long hold_released;
	unsigned long hold_swept;
	unsigned long hold_adopted;
	unsigned long shrunk;
};

/**
 * struct aa_labyrinth_zone - one zone, as the labyrinth sees it
 * @node:	NUMA node.
 * @name:	zone name ("DMA", "DMA32", "Normal", ...).
 * @free:	free pages (NR_FREE_PAGES).
 * @min:	min watermark, pages.
 * @low:	low watermark, pages.
 * @high:	high watermark, pages.
 * @target:	free pages the labyrinth holds the zone at: halfway from
 *		@min to @low.
 * @order1plus_blocks: free blocks of order >= 1 in the zone's buddy lists;
 *		0 right after a build or a sweep.
 */
struct aa_labyrinth_zone {
	int node;
	const char *name;
	unsigned long free;
	unsigned long min;
	unsigned long low;
	unsigned long high;
	unsigned long target;
	unsigned long order1plus_blocks;
};

/* What aa_labyrinth_report_zones() calls for each zone. */
typedef void (*aa_labyrinth_zone_fn_t)(const struct aa_labyrinth_zone *z,
				     void *arg);

int aa_labyrinth_build(void);
unsigned long aa_labyrinth_sweep(void);
unsigned long aa_labyrinth_sweep_here(void);
void aa_labyrinth_release(void);
void aa_labyrinth_get_stats(struct aa_labyrinth_stats *st);
void aa_labyrinth_report_zones(aa_labyrinth_zone_fn_t fn, void *arg);

#endif /* _ATOMIC_ALLOC_LABYRINTH_H */
