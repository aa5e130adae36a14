// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_labyrinth - fragmented memory held near the min watermark
 *
 * A test-support module: it turns the guest's free memory into a labyrinth
 * in which no free block of order >= 1 is left and every zone's free memory
 * is held halfway between its min and low watermarks.  An atomic allocation
 * of order >= 1 (alloc_pages(GFP_ATOMIC, 2) in a driver's interrupt) then
 * fails, while order 0 still succeeds, slowly; reclaim, which process
 * context may enter, gets out through a reserve the module offers to it.
 * The benchmark (atomic_alloc_bench.ko), the demo (scripts/demo.sh) and the
 * demo-quick check use this one copy, through the exported functions below
 * or the debugfs files (bench/README.md):
 *
 *   /sys/kernel/debug/atomic_alloc_labyrinth/control   build | sweep | release
 *   /sys/kernel/debug/atomic_alloc_labyrinth/status    "key: value" lines
 *   /sys/kernel/debug/atomic_alloc_labyrinth/zones     one line per zone
 *
 * Build (aa_labyrinth_build()):
 *
 *  0. Allocate a reserve of 64 KiB blocks and offer it to direct reclaim
 *     through a shrinker (lab_scan()): reclaim, which GFP_KERNEL callers and
 *     a pool's refill worker may enter, can get out of the labyrinth; atomic
 *     allocations, which cannot reclaim, cannot.  Without it the guest could
 *     not even fork (an x86-64 pgd is an order-1 block).
 *  1. Take every zone's free memory above its target (halfway from the min
 *     to the low watermark) as order-0 pages and pin them.
 *  2. On every CPU, empty its per-CPU lists and take every block of order
 *     >= 1 still free, of every migrate type; keep the even pages, free the
 *     odd ones, and free odd pinned pages wherever the zone is below its
 *     target.  A freed page's buddy is always pinned, so nothing merges.
 *
 * Hold (lab_hold(), every hold_ms on every CPU that was online at the
 * build): on the first of them, bring each zone back to its target,
 * freeing odd pinned pages or pinning more; on each (hold_sweep, the
 * default; without it only the first CPU has a hold pass), take every free
 * block of order >= 1 in the buddy lists and in that CPU's per-CPU lists.
 * Blocks merge again all the time: frees by others, the remainder of a
 * reserve block that reclaim used, a driver that frees its order-2 buffer
 * on another CPU and would take it back from the buddy lists a moment
 * later.  Without the sweep in the hold, such a driver could recycle the
 * few blocks it once got and never see the labyrinth.  The hold does not
 * break up what it finds but puts it into the reclaim reserve, as long as
 * the reserve holds fewer pages than at the build: otherwise every direct
 * reclaim would cost a whole reserve block (it uses a part, the hold would
 * take the rest), and the reserve would run dry.  A full sweep (the
 * per-CPU lists of order-0 pages too) is aa_labyrinth_sweep() on every
 * CPU, aa_labyrinth_sweep_here() on the caller's.  Release frees
 * everything.
 *
 * Watermark boosting should be off (vm.watermark_boost_factor = 0) while a
 * labyrinth stands: it pins memory no reclaim can free, so a boosted min
 * watermark would only wake the OOM killer.  The guest scripts do that.
 *
 * Concurrency rules
 * =================
 *
 * - lab.lock (a mutex) guards all labyrinth state.  A build or a sweep
 *   holds it while the per-CPU sweeps it waits for (work_on_cpu()) act on
 *   its behalf; aa_labyrinth_sweep_here() takes it in the caller's thread;
 *   each CPU's hold work takes it for each pass; release stops the hold
 *   works and the shrinker first.  Everything runs in process context.
 * - The reclaim reserve (lab_reserve) is taken by the shrinker, from direct
 *   reclaim in any task, under lab_reserve_lock (a spinlock, never held
 *   across an allocation), and never under lab.lock, which a reclaiming
 *   task may be waiting for.  The hold adds to it under lab.lock, taking
 *   lab_reserve_lock inside.  lab.shrunk is written by the shrinker with
 *   WRITE_ONCE() and only reported.
 * - The statistics are read under lab.lock (aa_labyrinth_get_stats());
 *   zone counters are read without a lock, as /proc/buddyinfo does.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "atomic_alloc_labyrinth.h"
#include "bench_compat.h"

#define LAB_HOLD_MS_MAX		1000
#define LAB_SWEEP_LIMIT		100000
#define LAB_SWEEP_PASSES	4
/*
 * The reclaim reserve: blocks above PAGE_ALLOC_COSTLY_ORDER, so that a
 * freed one goes straight to the buddy lists, not to a per-CPU list.
 */
#define LAB_RESERVE_ORDER	4
#define LAB_RESERVE_BLOCKS	1024
/* Blocks of any order the hold may put back: more slots than at the build. */
#define LAB_RESERVE_SLOTS	(4 * LAB_RESERVE_BLOCKS)

/* Ways to sweep (lab_sweep()). */
/* First empty this CPU's per-CPU lists of order-0 pages. */
#define LAB_SWEEP_PCP0		BIT(0)
/* Put blocks into the reserve, while it is below its size at the build. */
#define LAB_SWEEP_ADOPT		BIT(1)

static unsigned int hold_ms = 5;
module_param(hold_ms, uint, 0444);
MODULE_PARM_DESC(hold_ms, "interval of each CPU's hold pass, ms (1-1000, default 5; at least a jiffy)");

static bool hold_sweep = true;
module_param(hold_sweep, bool, 0444);
MODULE_PARM_DESC(hold_sweep, "the hold pass also breaks up free blocks of order >= 1 (default Y; N: it only keeps free memory between the watermarks)");

struct lab_state {
	struct mutex lock;	/* everything below, see the top of the file */
	/* From here on, zeroed by every build. */
	bool active;
	struct page **pages;	/* pinned by us */
	unsigned long nr;
	unsigned long cap;
	unsigned long *pinned;	/* bit (pfn - base_pfn) set while pinned */
	unsigned int *index;	/* pages[index[pfn - base_pfn]] is that page */
	unsigned long base_pfn;
	unsigned long end_pfn;
	unsigned long cursor;
	unsigned int balance_cpu;	/* whose hold pass balances */
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

/* One hold work per CPU, queued on that CPU. */
struct lab_hold_cpu {
	struct delayed_work work;
	unsigned int cpu;
};

static DEFINE_PER_CPU(struct lab_hold_cpu, lab_hold_works);

static struct lab_state lab;

/* One block of the reclaim reserve. */
struct lab_block {
	struct page *page;
	unsigned int order;
};

static DEFINE_SPINLOCK(lab_reserve_lock);
static struct lab_block lab_reserve[LAB_RESERVE_SLOTS];
static unsigned int lab_reserve_nr;		/* blocks */
static unsigned long lab_reserve_pages;		/* pages in them */
static unsigned long lab_reserve_size;		/* pages at the build */
static struct bench_shrinker lab_shrinker;

static gfp_t lab_zone_gfp(struct zone *zone, bool *ok)
{
	*ok = true;
	switch (zone_idx(zone)) {
#ifdef CONFIG_ZONE_DMA
	case ZONE_DMA:
		return __GFP_DMA;
#endif
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return __GFP_DMA32;
#endif
	case ZONE_NORMAL:
		return 0;
	default:
		*ok = false;
		return 0;
	}
}

/* The next populated zone after @zone (NULL: the first), or NULL. */
static struct zone *lab_next_zone(struct zone *zone)
{
	int nid = zone ? zone_to_nid(zone) : first_online_node;
	int z = zone ? zone_idx(zone) + 1 : 0;

	while (nid < MAX_NUMNODES) {
		for (; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			if (populated_zone(zone))
				return zone;
		}
		nid = next_online_node(nid);
		z = 0;
	}
	return NULL;
}

static unsigned long lab_zone_free(struct zone *zone)
{
	return zone_page_state(zone, NR_FREE_PAGES);
}

/*
 * Where the hold keeps a zone's free pages: halfway from the min to the low
 * watermark.  Below low every allocation takes the slow path and wakes
 * kswapd (which finds nothing to reclaim); above min nobody has to reclaim.
 */
static unsigned long lab_zone_target(struct zone *zone)
{
	unsigned long min = min_wmark_pages(zone), low = low_wmark_pages(zone);

	return min + max((low - min) / 2, 4UL);
}

static unsigned long lab_zone_high_order_blocks(struct zone *zone)
{
	unsigned long n = 0;
	unsigned int o;

	for (o = 1; o < ARRAY_SIZE(zone->free_area); o++)
		n += READ_ONCE(zone->free_area[o].nr_free);
	return n;
}

static bool lab_test(unsigned long pfn)
{
	return pfn >= lab.base_pfn && pfn < lab.end_pfn &&
	       test_bit(pfn - lab.base_pfn, lab.pinned);
}

/* Keep @page; false (and the page freed) when there is no room. */
static bool lab_pin(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (lab.nr >= lab.cap || pfn < lab.base_pfn || pfn >= lab.end_pfn) {
		__free_page(page);
		return false;
	}
	lab.index[pfn - lab.base_pfn] = lab.nr;
	__set_bit(pfn - lab.base_pfn, lab.pinned);
	lab.pages[lab.nr++] = page;
	return true;
}

/* Free the pinned page at pfn @pfn. */
static void lab_unpin(unsigned long pfn)
{
	unsigned int i = lab.index[pfn - lab.base_pfn];
	struct page *page = lab.pages[i], *last;

	__clear_bit(pfn - lab.base_pfn, lab.pinned);
	last = lab.pages[--lab.nr];
	if (i != lab.nr) {
		lab.pages[i] = last;
		lab.index[page_to_pfn(last) - lab.base_pfn] = i;
	}
	__free_page(page);
}

/*
 * Free up to @want pinned pages of @zone (NULL: any zone), odd ones whose
 * buddy (pfn ^ 1) we keep, so that no freed page can merge into an order-1
 * block.  An even page is never freed this way, so a freed odd page's
 * buddy stays pinned until the labyrinth is released.
 */
static unsigned long lab_give_back(struct zone *zone, unsigned long want)
{
	unsigned long done = 0, scanned = 0, pfn;
	struct page *page;

	while (done < want && scanned < lab.nr) {
		page = lab.pages[lab.cursor++ % lab.nr];
		pfn = page_to_pfn(page);
		scanned++;
		if ((!zone || page_zone(page) == zone) && (pfn & 1) &&
		    lab_test(pfn - 1)) {
			lab_unpin(pfn);
			done++;
		}
	}
	return done;
}

/*
 * Take up to @limit order-0 pages from @zone while it has more than its
 * target free.  The allocator hands out the smallest free blocks first, so
 * what stays free is mostly the big blocks the sweep then breaks up.
 */
static unsigned long lab_grab(struct zone *zone, unsigned long limit)
{
	unsigned long n = 0;
	struct page *page;
	bool ok;
	gfp_t gfp = lab_zone_gfp(zone, &ok);

	if (!ok)
		return 0;
	/* No reclaim, no kswapd, and never below the target. */
	while (n < limit && lab_zone_free(zone) > lab_zone_target(zone)) {
		page = alloc_pages(gfp | __GFP_NOWARN, 0);
		if (!page || !lab_pin(page))
			break;
		n++;
	}
	return n;
}

/* Give @zone pages back (odd ones only) until it is at its target. */
static void lab_top_up(struct zone *zone, unsigned long *released)
{
	unsigned long free = lab_zone_free(zone);
	unsigned long target = lab_zone_target(zone);

	if (free < target)
		*released += lab_give_back(zone, target - free);
}

/*
 * Take every block of order >= 1 still free (from the buddy lists and this
 * CPU's per-CPU lists), keep the even half of each pair and free the odd
 * half.  Each block costs the zone half its pages, which odd pinned pages
 * pay back before the next one, so the zone never drops far below its
 * target.
 *
 * With LAB_SWEEP_PCP0 in @how, first empty this CPU's per-CPU lists of
 * order-0 pages: they are free memory the buddy lists do not show, and when
 * they go back they merge with each other into blocks of any order.  (The
 * per-CPU lists of higher orders are emptied by the loop itself: an
 * allocation takes from them first.)  With LAB_SWEEP_ADOPT, a block goes
 * into the reclaim reserve whole while the reserve has room.
 */
static bool lab_reserve_adopt(struct page *page, unsigned int order);

static void lab_sweep_zone(struct zone *zone, gfp_t gfp, unsigned int how)
{
	unsigned long n = 0, pfn, i;
	unsigned int order;
	struct page *page;

	if (how & LAB_SWEEP_PCP0)
		n = READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset,
					  raw_smp_processor_id())->count);
	while (n--) {
		page = alloc_pages(gfp, 0);
		if (!page || !lab_pin(page))
			break;
		lab.grabbed++;
	}
	for (order = ARRAY_SIZE(zone->free_area) - 1; order >= 1; order--) {
		for (n = 0; n < LAB_SWEEP_LIMIT; n++) {
			lab_top_up(zone, &lab.released);
			page = alloc_pages(gfp, order);
			if (!page)
				break;
			lab.swept++;
			if ((how & LAB_SWEEP_ADOPT) && lab_reserve_adopt(page, order)) {
				lab.hold_adopted++;
				continue;
			}
			split_page(page, order);
			pfn = page_to_pfn(page);
			for (i = 0; i < (1UL << order); i++) {
				if ((pfn + i) & 1)
					__free_page(page + i);
				else
					lab_pin(page + i);
			}
		}
	}
	lab_top_up(zone, &lab.released);
}

/*
 * The per-CPU lists are per migrate type (and order), and an allocation
 * takes from its own type's list first: sweep as each type.  On the
 * caller's CPU, lab.lock held; @how as for lab_sweep_zone().
 */
static void lab_sweep(unsigned int how)
{
	static const gfp_t types[] = { 0, __GFP_MOVABLE, __GFP_RECLAIMABLE };
	struct zone *zone;
	unsigned int t;
	gfp_t gfp;
	bool ok;

	for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone)) {
		gfp = lab_zone_gfp(zone, &ok);
		if (!ok)
			continue;
		gfp |= __GFP_HIGH | __GFP_NOWARN;
		/*
		 * __GFP_NOMEMALLOC keeps our high-order takes from reserving
		 * pageblocks for high-order atomic allocations (whose free
		 * pages others could then not use).
		 */
		for (t = 0; t < ARRAY_SIZE(types); t++)
			lab_sweep_zone(zone, gfp | types[t] | __GFP_NOMEMALLOC,
				       how);
		/* Last, what only atomic allocations reach: that reserve. */
		lab_sweep_zone(zone, gfp, how);
	}
}

/* Per CPU (work_on_cpu()), on behalf of a caller that holds lab.lock. */
static long lab_sweep_fn(void *arg)
{
	lab_sweep(LAB_SWEEP_PCP0);
	return 0;
}

/* Bring every zone back to its target: release below, grab above. */
static void lab_balance(unsigned long *grabbed, unsigned long *released)
{
	unsigned long free, target;
	struct zone *zone;

	for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone)) {
		free = lab_zone_free(zone);
		target = lab_zone_target(zone);
		if (free < target)
			*released += lab_give_back(zone, target - free);
		else if (free > low_wmark_pages(zone))
			*grabbed += lab_grab(zone, free - target);
	}
}

/* One CPU's hold pass; it queues the next one on the same CPU. */
static void lab_hold(struct work_struct *work)
{
	struct lab_hold_cpu *h = container_of(to_delayed_work(work),
					      struct lab_hold_cpu, work);
	unsigned long swept;

	mutex_lock(&lab.lock);
	if (lab.active) {
		/* One CPU keeps the zones at their targets (they are global). */
		if (h->cpu == lab.balance_cpu)
			lab_balance(&lab.hold_grabbed, &lab.hold_released);
		if (hold_sweep) {
			swept = lab.swept;
			lab_sweep(LAB_SWEEP_ADOPT);
			lab.hold_swept += lab.swept - swept;
		}
		lab.hold_passes++;
		/* A CPU gone offline is no longer held. */
		if (cpu_online(h->cpu))
			queue_delayed_work_on(h->cpu, system_wq, &h->work,
					      msecs_to_jiffies(hold_ms));
	}
	mutex_unlock(&lab.lock);
}

static void lab_hold_start(void)
{
	unsigned int cpu;

	cpus_read_lock();
	lab.balance_cpu = cpumask_first(cpu_online_mask);
	for_each_online_cpu(cpu)
		if (hold_sweep || cpu == lab.balance_cpu)
			queue_delayed_work_on(cpu, system_wq,
					      &per_cpu(lab_hold_works, cpu).work,
					      msecs_to_jiffies(hold_ms));
	cpus_read_unlock();
}

/* lab.active is false: each work sees it and does not requeue. */
static void lab_hold_stop(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		cancel_delayed_work_sync(&per_cpu(lab_hold_works, cpu).work);
}

/*
 * Reclaim can leave the labyrinth, atomic allocations cannot: a direct
 * reclaimer (a GFP_KERNEL allocation that would otherwise call the OOM
 * killer; every fork needs an order-1 pgd) gets a block of the reserve,
 * which a pool's refill worker can use too.  kswapd gets nothing: it would
 * empty the reserve and free memory up to the high watermark.
 */
static unsigned long lab_count(struct shrinker *s, struct shrink_control *sc)
{
	if (current_is_kswapd())
		return 0;
	return READ_ONCE(lab_reserve_pages);
}

static unsigned long lab_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct lab_block b;
	unsigned long n = 0;

	if (current_is_kswapd())
		return SHRINK_STOP;
	do {
		b.page = NULL;
		spin_lock(&lab_reserve_lock);
		if (lab_reserve_nr) {
			b = lab_reserve[--lab_reserve_nr];
			WRITE_ONCE(lab_reserve_pages,
				   lab_reserve_pages - (1UL << b.order));
		}
		spin_unlock(&lab_reserve_lock);
		if (!b.page)
			break;
		__free_pages(b.page, b.order);
		n += 1UL << b.order;
	} while (n < sc->nr_to_scan);
	if (!n)
		return SHRINK_STOP;
	/*
	 * A block of the build went straight to the buddy lists (its order is
	 * above what per-CPU lists keep; one the hold put back may land on
	 * this CPU's list, where the reclaimer finds it first).  Counted as
	 * reclaimed, so that reclaim stops asking for more and retries the
	 * allocation.
	 */
	WRITE_ONCE(lab.shrunk, lab.shrunk + n);
	bench_account_reclaimed(n);
	return n;
}

/*
 * From the hold's sweep, lab.lock held: keep @page (a free block of @order
 * just taken) whole in the reserve, if the reserve holds fewer pages than
 * at the build.
 */
static bool lab_reserve_adopt(struct page *page, unsigned int order)
{
	bool done = false;

	spin_lock(&lab_reserve_lock);
	if (lab_reserve_nr < LAB_RESERVE_SLOTS &&
	    lab_reserve_pages + (1UL << order) <= lab_reserve_size) {
		lab_reserve[lab_reserve_nr].page = page;
		lab_reserve[lab_reserve_nr].order = order;
		lab_reserve_nr++;
		WRITE_ONCE(lab_reserve_pages, lab_reserve_pages + (1UL << order));
		done = true;
	}
	spin_unlock(&lab_reserve_lock);
	return done;
}

/* The shrinker is gone (or was never there): nothing else touches it. */
static void lab_reserve_free(void)
{
	struct lab_block *b;

	while (lab_reserve_nr) {
		b = &lab_reserve[--lab_reserve_nr];
		__free_pages(b->page, b->order);
	}
	lab_reserve_pages = 0;
}

static void lab_reserve_fill(void)
{
	struct page *page;

	while (lab_reserve_nr < LAB_RESERVE_BLOCKS) {
		page = alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
				   LAB_RESERVE_ORDER);
		if (!page)
			break;
		lab_reserve[lab_reserve_nr].page = page;
		lab_reserve[lab_reserve_nr].order = LAB_RESERVE_ORDER;
		lab_reserve_nr++;
		lab_reserve_pages += 1UL << LAB_RESERVE_ORDER;
	}
	lab_reserve_size = lab_reserve_pages;
}

static void lab_free_all(void)
{
	unsigned long i;

	for (i = 0; i < lab.nr; i++)
		__free_page(lab.pages[i]);
	lab.nr = 0;
	vfree(lab.pages);
	lab.pages = NULL;
	vfree(lab.pinned);
	lab.pinned = NULL;
	vfree(lab.index);
	lab.index = NULL;
}

/*
 * Sweep on every CPU until no block of order >= 1 is left in the buddy
 * lists (a few passes: frees by others can merge meanwhile).  lab.lock held.
 */
static void lab_sweep_all(void)
{
	unsigned long high_order = 0;
	unsigned int pass, cpu;
	struct zone *zone;

	for (pass = 0; pass < LAB_SWEEP_PASSES; pass++) {
		cpus_read_lock();
		for_each_online_cpu(cpu)
			work_on_cpu(cpu, lab_sweep_fn, NULL);
		cpus_read_unlock();
		lab_balance(&lab.grabbed, &lab.released);
		high_order = 0;
		for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone))
			high_order += lab_zone_high_order_blocks(zone);
		if (!high_order)
			break;
	}
}

/**
 * aa_labyrinth_build() - fragment memory and hold it near the min watermark
 *
 * Pins every free page above each zone's target, breaks up every free block
 * of order >= 1 on every CPU and starts the hold work; see the top of
 * atomic_alloc_labyrinth.c.  Takes a few seconds under emulation.
 *
 * Context: Process context; takes a mutex, allocates with GFP_KERNEL and
 * waits for work on every online CPU.
 * Return: 0 on success, -EBUSY if a labyrinth stands already, -ENOMEM if
 * its bookkeeping could not be allocated (nothing is held then).
 */
int aa_labyrinth_build(void)
{
	struct zone *zone;
	int err = 0;

	mutex_lock(&lab.lock);
	if (lab.active) {
		mutex_unlock(&lab.lock);
		return -EBUSY;
	}
	memset_startat(&lab, 0, active);
	lab.base_pfn = ULONG_MAX;
	for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone)) {
		lab.base_pfn = min(lab.base_pfn, zone->zone_start_pfn);
		lab.end_pfn = max(lab.end_pfn, zone_end_pfn(zone));
	}
	lab.cap = totalram_pages() + 4096;
	lab.pages = vmalloc(array_size(lab.cap, sizeof(*lab.pages)));
	lab.pinned = vzalloc(BITS_TO_LONGS(lab.end_pfn - lab.base_pfn) *
			     sizeof(long));
	lab.index = vmalloc(array_size(lab.end_pfn - lab.base_pfn,
				       sizeof(*lab.index)));
	if (!lab.pages || !lab.pinned || !lab.index) {
		err = -ENOMEM;
		goto err_free;
	}

	/*
	 * 0. The reclaim reserve, while big blocks are still there, offered
	 * to direct reclaim from now on: others keep allocating while we
	 * take memory away.
	 */
	lab_reserve_fill();
	err = bench_shrinker_register(&lab_shrinker, "atomic_alloc_labyrinth",
				      lab_count, lab_scan, 1,
				      1 << LAB_RESERVE_ORDER);
	if (err)
		goto err_reserve;
	/* 1. Everything above the target, as order-0 pages. */
	for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone))
		lab.grabbed += lab_grab(zone, ULONG_MAX);
	/*
	 * 2. The blocks of order >= 1 still free (in the buddy lists and in
	 * every CPU's per-CPU lists): keep even pages, free odd ones.
	 */
	lab_sweep_all();
	lab.active = true;
	lab_hold_start();
	pr_info("built: %lu pages pinned, %lu blocks broken up, reserve %u x order %d\n",
		lab.nr, lab.swept, lab_reserve_nr, LAB_RESERVE_ORDER);
	mutex_unlock(&lab.lock);
	return 0;

err_reserve:
	lab_reserve_free();
err_free:
	lab_free_all();
	mutex_unlock(&lab.lock);
	pr_err("build failed: %d\n", err);
	return err;
}
EXPORT_SYMBOL_GPL(aa_labyrinth_build);

/**
 * aa_labyrinth_sweep() - break up blocks that merged since the build
 *
 * Sweeps every online CPU's per-CPU lists and the buddy lists, as the build
 * did, until no free block of order >= 1 is left (at most a few passes).
 * Nothing when no labyrinth stands.
 *
 * Context: Process context; takes a mutex and waits for work on every
 * online CPU.
 * Return: the number of blocks broken up; 0 when no labyrinth stands.
 */
unsigned long aa_labyrinth_sweep(void)
{
	unsigned long n = 0;

	mutex_lock(&lab.lock);
	if (lab.active) {
		n = lab.swept;
		lab_sweep_all();
		n = lab.swept - n;
	}
	mutex_unlock(&lab.lock);
	return n;
}
EXPORT_SYMBOL_GPL(aa_labyrinth_sweep);

/**
 * aa_labyrinth_sweep_here() - sweep the caller's CPU only
 *
 * For a measuring loop between two rounds: breaks up the blocks of order
 * >= 1 that became free in the buddy lists or in this CPU's per-CPU lists,
 * including one a method has been recycling through this CPU's list.  The
 * caller should be bound to its CPU (a kthread created on it).
 *
 * Context: Process context; takes a mutex (may sleep).
 * Return: the number of blocks broken up; 0 when no labyrinth stands.
 */
unsigned long aa_labyrinth_sweep_here(void)
{
	unsigned long n = 0;

	if (!READ_ONCE(lab.active))
		return 0;
	mutex_lock(&lab.lock);
	if (lab.active) {
		n = lab.swept;
		lab_sweep(LAB_SWEEP_PCP0);
		n = lab.swept - n;
	}
	mutex_unlock(&lab.lock);
	return n;
}
EXPORT_SYMBOL_GPL(aa_labyrinth_sweep_here);

/**
 * aa_labyrinth_release() - give every page back
 *
 * Stops the hold works and the shrinker, then frees every pinned page and
 * the reserve.  Nothing when no labyrinth stands.
 *
 * Context: Process context; takes a mutex and waits for the hold works.
 */
void aa_labyrinth_release(void)
{
	mutex_lock(&lab.lock);
	if (!lab.active) {
		mutex_unlock(&lab.lock);
		return;
	}
	lab.active = false;
	mutex_unlock(&lab.lock);
	lab_hold_stop();
	bench_shrinker_unregister(&lab_shrinker);
	mutex_lock(&lab.lock);
	pr_info("released: %lu pinned pages and %lu reserve pages freed\n",
		lab.nr, lab_reserve_pages);
	lab_free_all();
	lab_reserve_free();
	mutex_unlock(&lab.lock);
}
EXPORT_SYMBOL_GPL(aa_labyrinth_release);

/**
 * aa_labyrinth_get_stats() - a snapshot of the labyrinth's counters
 * @st: filled in
 *
 * The counters of the last build stay readable after a release, except
 * that @st->pinned, @st->reserve_blocks and @st->pages_held are then 0.
 *
 * Context: Process context; takes a mutex.
 */
void aa_labyrinth_get_stats(struct aa_labyrinth_stats *st)
{
	mutex_lock(&lab.lock);
	st->active = lab.active;
	st->pinned = lab.nr;
	st->reserve_blocks = READ_ONCE(lab_reserve_nr);
	st->reserve_order = LAB_RESERVE_ORDER;
	st->reserve_pages = READ_ONCE(lab_reserve_pages);
	st->pages_held = st->pinned + st->reserve_pages;
	st->grabbed = lab.grabbed;
	st->swept = lab.swept;
	st->released = lab.released;
	st->hold_passes = lab.hold_passes;
	st->hold_grabbed = lab.hold_grabbed;
	st->hold_released = lab.hold_released;
	st->hold_swept = lab.hold_swept;
	st->hold_adopted = lab.hold_adopted;
	st->shrunk = READ_ONCE(lab.shrunk);
	mutex_unlock(&lab.lock);
}
EXPORT_SYMBOL_GPL(aa_labyrinth_get_stats);

/**
 * aa_labyrinth_report_zones() - report every zone the labyrinth works on
 * @fn: called once per populated zone, in node and zone order
 * @arg: passed to @fn
 *
 * Works whether or not a labyrinth stands (before a build, it shows what
 * the build starts from).  The zone counters are read without a lock.
 *
 * Context: Any context in which @fn may run; takes no lock.
 */
void aa_labyrinth_report_zones(aa_labyrinth_zone_fn_t fn, void *arg)
{
	struct aa_labyrinth_zone z;
	struct zone *zone;

	for (zone = lab_next_zone(NULL); zone; zone = lab_next_zone(zone)) {
		z.node = zone_to_nid(zone);
		z.name = zone->name;
		z.free = lab_zone_free(zone);
		z.min = min_wmark_pages(zone);
		z.low = low_wmark_pages(zone);
		z.high = high_wmark_pages(zone);
		z.target = lab_zone_target(zone);
		z.order1plus_blocks = lab_zone_high_order_blocks(zone);
		fn(&z, arg);
	}
}
EXPORT_SYMBOL_GPL(aa_labyrinth_report_zones);

/* ---- debugfs ---- */

static struct dentry *lab_dir;

static void lab_sum_zone(const struct aa_labyrinth_zone *z, void *arg)
{
	*(unsigned long *)arg += z->order1plus_blocks;
}

static int lab_status_show(struct seq_file *m, void *v)
{
	struct aa_labyrinth_stats st;
	unsigned long high_order = 0;

	aa_labyrinth_get_stats(&st);
	aa_labyrinth_report_zones(lab_sum_zone, &high_order);
	seq_printf(m, "active: %d\n", st.active);
	seq_printf(m, "pages_held: %lu\n", st.pages_held);
	seq_printf(m, "pinned: %lu\n", st.pinned);
	seq_printf(m, "reserve_blocks: %lu\n", st.reserve_blocks);
	seq_printf(m, "reserve_order: %u\n", st.reserve_order);
	seq_printf(m, "reserve_pages: %lu\n", st.reserve_pages);
	seq_printf(m, "order1plus_blocks: %lu\n", high_order);
	seq_printf(m, "grabbed: %lu\n", st.grabbed);
	seq_printf(m, "swept: %lu\n", st.swept);
	seq_printf(m, "released: %lu\n", st.released);
	seq_printf(m, "hold_passes: %lu\n", st.hold_passes);
	seq_printf(m, "hold_grabbed: %lu\n", st.hold_grabbed);
	seq_printf(m, "hold_released: %lu\n", st.hold_released);
	seq_printf(m, "hold_swept: %lu\n", st.hold_swept);
	seq_printf(m, "hold_adopted: %lu\n", st.hold_adopted);
	seq_printf(m, "shrunk: %lu\n", st.shrunk);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lab_status);

static void lab_show_zone(const struct aa_labyrinth_zone *z, void *arg)
{
	seq_printf(arg, "node=%d zone=%s free=%lu min=%lu low=%lu high=%lu target=%lu order1plus_blocks=%lu\n",
		   z->node, z->name, z->free, z->min, z->low, z->high,
		   z->target, z->order1plus_blocks);
}

static int lab_zones_show(struct seq_file *m, void *v)
{
	aa_labyrinth_report_zones(lab_show_zone, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lab_zones);

static ssize_t lab_control_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[16], *cmd;
	int err = 0;

	if (count >= sizeof(buf)) {
		pr_err("control: command too long (build, sweep or release)\n");
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);
	if (!strcmp(cmd, "build")) {
		err = aa_labyrinth_build();
	} else if (!strcmp(cmd, "sweep")) {
		aa_labyrinth_sweep();
	} else if (!strcmp(cmd, "release")) {
		aa_labyrinth_release();
	} else {
		pr_err("control: unknown command '%s' (build, sweep or release)\n",
		       cmd);
		err = -EINVAL;
	}
	return err ? err : count;
}

static const struct file_operations lab_control_fops = {
	.owner = THIS_MODULE,
	.write = lab_control_write,
	.llseek = noop_llseek,
};

static int __init atomic_alloc_labyrinth_init(void)
{
	unsigned int cpu;

	if (!hold_ms || hold_ms > LAB_HOLD_MS_MAX) {
		pr_err("hold_ms must be 1..%d, not %u\n", LAB_HOLD_MS_MAX,
		       hold_ms);
		return -EINVAL;
	}
	mutex_init(&lab.lock);
	for_each_possible_cpu(cpu) {
		per_cpu(lab_hold_works, cpu).cpu = cpu;
		INIT_DELAYED_WORK(&per_cpu(lab_hold_works, cpu).work, lab_hold);
	}
	lab_dir = debugfs_create_dir("atomic_alloc_labyrinth", NULL);
	debugfs_create_file("control", 0200, lab_dir, NULL, &lab_control_fops);
	debugfs_create_file("status", 0444, lab_dir, NULL, &lab_status_fops);
	debugfs_create_file("zones", 0444, lab_dir, NULL, &lab_zones_fops);
	return 0;
}

static void __exit atomic_alloc_labyrinth_exit(void)
{
	debugfs_remove_recursive(lab_dir);
	aa_labyrinth_release();
}

module_init(atomic_alloc_labyrinth_init);
module_exit(atomic_alloc_labyrinth_exit);

MODULE_DESCRIPTION("Test support: fragmented memory held near the min watermark");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
