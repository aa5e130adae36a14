// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc - per-CPU page pools for callers that cannot sleep
 *
 * Concurrency rules
 * =================
 *
 * struct aa_cpu (one per possible CPU and pool):
 *   @pages/@level	read and written only by the owning CPU with local
 *			IRQs disabled (atomic_alloc_page(), atomic_alloc_free(),
 *			the refill work when it runs on that CPU), or by the
 *			CPU hotplug callbacks while the owner is not running
 *			(prepare: before it starts; dead: after it stopped).
 *			Others read @level with READ_ONCE() for statistics.
 *   counters		alloc_* and freed: owning CPU, IRQs off.  refilled,
 *			refill_failed, released: this_cpu_add() from whichever
 *			CPU did the work.  Summed with READ_ONCE().
 *   @backoff		the refill work only (a work item never runs
 *			concurrently with itself).
 *
 * struct atomic_alloc_pool:
 *   @shared/@shared_count	under @shared_lock, a raw spinlock taken with
 *			IRQs disabled from any context.  Nothing under it
 *			calls into the page allocator or the DMA API.
 *   @overflow		an llist: llist_add() from any context (a free that
 *			found every reserve full); llist_del_first() and
 *			llist_del_all() only under @shared_lock.
 *   @dead		set once by atomic_alloc_destroy(); read inside the
 *			IRQs-off sections of alloc and free, so that
 *			synchronize_rcu() after setting it waits for every
 *			caller that still saw the pool alive.
 *
 * The page allocator is called only from process context (create, the
 * refill work, CPU hotplug callbacks) or, as tier 3, from a caller whose
 * @gfp and context allow it; never with @shared_lock held and never with
 * IRQs disabled by this file.
 *
 * While a buffer belongs to a pool (in an array, in the reserve or handed
 * out), its head page's ->lru is ours, as for any page the page allocator
 * handed out and that is not on an LRU list, and ->private holds its DMA
 * address.  See struct aa_page_meta.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "atomic_alloc.h"
#include "atomic_alloc_priv.h"
#include "compat.h"

#define CREATE_TRACE_POINTS
#include "atomic_alloc_trace.h"

#define AA_NAME_MAX		32
#define AA_DEFAULT_BATCH	16
#define AA_MAX_BATCH		64
#define AA_MAX_BACKOFF		HZ
/* The refill worker allocates like this: reclaim and compaction, no OOM. */
#define AA_REFILL_GFP		(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
#define AA_ZONE_GFP		(__GFP_DMA | __GFP_DMA32)

/* Low bit of aa_page_meta::owner: the buffer is in the pool, not handed out. */
#define AA_OWNER_FREE		1UL

/*
 * Overlays page->lru of a buffer's head page.  @node links the buffer on
 * the pool's overflow list; @owner is the pool pointer, with
 * AA_OWNER_FREE set while the buffer is in the pool.
 */
struct aa_page_meta {
	struct llist_node node;
	unsigned long owner;
};

struct aa_cpu {
	unsigned int level;
	unsigned int cpu;
	struct atomic_alloc_pool *pool;
	struct delayed_work refill_work;
	unsigned long backoff;

	u64 alloc_local;
	u64 alloc_remote;
	u64 alloc_direct;
	u64 alloc_failed;
	u64 freed;
	u64 refilled;
	u64 refill_failed;
	u64 released;

	struct page *pages[];
};

struct atomic_alloc_pool {
	struct aa_cpu __percpu *cpu;
	unsigned int order;
	unsigned int high;		/* per-CPU target and array size */
	unsigned int low;		/* refill below this */
	unsigned int batch;
	struct device *dev;
	enum dma_data_direction dma_dir;
	gfp_t zone_gfp;
	bool live;			/* created; under aa_pools_lock */
	bool dead;

	raw_spinlock_t shared_lock;
	unsigned int shared_count;
	unsigned int shared_target;
	unsigned int shared_size;	/* 2 * shared_target */
	struct page **shared;

	struct llist_head overflow;
	atomic_long_t overflow_count;
	struct work_struct trim_work;

	atomic_long_t bad_frees;
	atomic_long_t pages;		/* held from the page allocator */
	struct hlist_node cpuhp_node;
	struct shrinker *shrinker;
	struct dentry *debugfs;
	struct list_head list;		/* aa_pools or aa_zombies */
	char name[AA_NAME_MAX];
};

static struct workqueue_struct *aa_wq;
static enum cpuhp_state aa_cpuhp_state;
static enum cpuhp_state aa_cpuhp_online_state;
static struct dentry *aa_debugfs_root;
static atomic_long_t aa_pages_held = ATOMIC_LONG_INIT(0);
/* Live pools (for unique names) and destroyed pools with buffers out. */
static DEFINE_MUTEX(aa_pools_lock);
static LIST_HEAD(aa_pools);
static LIST_HEAD(aa_zombies);

VISIBLE_IF_KUNIT struct fault_attr atomic_alloc_fail_refill = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_fail_refill);

static inline struct aa_page_meta *aa_meta(struct page *page)
{
	BUILD_BUG_ON(sizeof(struct aa_page_meta) > sizeof(page->lru));
	return (struct aa_page_meta *)&page->lru;
}

static inline struct page *aa_meta_page(struct llist_node *node)
{
	return container_of((struct list_head *)node, struct page, lru);
}

/* ---- Buffers in and out of the page allocator (process context or tier 3) */

static struct page *aa_buffer_alloc(struct atomic_alloc_pool *pool, int nid,
				    gfp_t gfp)
{
	struct page *page;
	dma_addr_t dma;

	page = alloc_pages_node(nid, gfp | pool->zone_gfp | __GFP_NOWARN,
				pool->order);
	if (!page)
		return NULL;

	if (pool->dev) {
		/*
		 * Mapped once, for as long as the buffer is in the pool.  The
		 * buffer's user syncs for the device and back, as with
		 * page_pool's PP_FLAG_DMA_MAP.
		 */
		dma = dma_map_page_attrs(pool->dev, page, 0,
					 PAGE_SIZE << pool->order, pool->dma_dir,
					 DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(pool->dev, dma)) {
			__free_pages(page, pool->order);
			return NULL;
		}
		BUILD_BUG_ON(sizeof(dma_addr_t) > sizeof(unsigned long));
		set_page_private(page, dma);
	}
	aa_meta(page)->owner = (unsigned long)pool | AA_OWNER_FREE;
	atomic_long_add(1L << pool->order, &pool->pages);
	atomic_long_add(1L << pool->order, &aa_pages_held);
	return page;
}

static void aa_buffer_release(struct atomic_alloc_pool *pool,
			      struct page *page)
{
	if (pool->dev)
		dma_unmap_page_attrs(pool->dev, page_private(page),
				     PAGE_SIZE << pool->order, pool->dma_dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
	set_page_private(page, 0);
	aa_meta(page)->owner = 0;
	__free_pages(page, pool->order);
	atomic_long_sub(1L << pool->order, &pool->pages);
	atomic_long_sub(1L << pool->order, &aa_pages_held);
}

/* Allocation for the reserves: process context, with fault injection. */
static struct page *aa_refill_one(struct atomic_alloc_pool *pool, int nid)
{
	if (should_fail(&atomic_alloc_fail_refill, PAGE_SIZE << pool->order))
		return NULL;
	return aa_buffer_alloc(pool, nid, AA_REFILL_GFP);
}

static void aa_release_list(struct atomic_alloc_pool *pool,
			    struct page **pages, unsigned int n, int why)
{
	unsigned int i;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		aa_buffer_release(pool, pages[i]);
	this_cpu_add(pool->cpu->released, n);
	trace_atomic_alloc_release(pool->name, n, why);
}

/* ---- The shared reserve (tier 2): any context, IRQs already off ---- */

static struct page *aa_shared_pop(struct atomic_alloc_pool *pool)
{
	struct llist_node *node;
	struct page *page = NULL;

	raw_spin_lock(&pool->shared_lock);
	if (pool->shared_count) {
		page = pool->shared[--pool->shared_count];
	} else {
		node = llist_del_first(&pool->overflow);
		if (node) {
			page = aa_meta_page(node);
			atomic_long_dec(&pool->overflow_count);
		}
	}
	raw_spin_unlock(&pool->shared_lock);
	return page;
}

/* Returns false when the reserve is full. */
static bool aa_shared_push(struct atomic_alloc_pool *pool, struct page *page)
{
	bool done = false;

	raw_spin_lock(&pool->shared_lock);
	if (pool->shared_count < pool->shared_size) {
		pool->shared[pool->shared_count++] = page;
		done = true;
	}
	raw_spin_unlock(&pool->shared_lock);
	return done;
}

/* A freed buffer nobody has room for: the trim work releases it. */
static void aa_overflow_add(struct atomic_alloc_pool *pool, struct page *page)
{
	llist_add(&aa_meta(page)->node, &pool->overflow);
	atomic_long_inc(&pool->overflow_count);
	queue_work(aa_wq, &pool->trim_work);
}

/* ---- Tier 1 and the allocation entry points ---- */

static noinline void aa_kick_refill(struct aa_cpu *pc)
{
	/* Paired with synchronize_rcu() in atomic_alloc_destroy(). */
	if (unlikely(READ_ONCE(pc->pool->dead)))
		return;
	if (!delayed_work_pending(&pc->refill_work))
		queue_delayed_work_on(pc->cpu, aa_wq, &pc->refill_work, 0);
}

/*
 * May tier 3 call the page allocator from here?  On PREEMPT_RT the zone
 * and per-CPU list locks sleep, so only where the caller could sleep on a
 * spinlock_t: not in hard IRQ, not with IRQs off, not under a raw spinlock
 * or preempt_disable().  Elsewhere GFP_ATOMIC works anywhere but in NMI.
 */
static bool aa_direct_allowed(gfp_t gfp)
{
	if (!gfp || in_nmi())
		return false;
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return preemptible();
	return true;
}

static struct page *aa_alloc_direct(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	bool allowed = aa_direct_allowed(gfp);
	struct page *page = NULL;

	if (allowed)
		page = aa_buffer_alloc(pool, numa_mem_id(), gfp);
	if (page) {
		aa_meta(page)->owner = (unsigned long)pool;
		this_cpu_inc(pool->cpu->alloc_direct);
		trace_atomic_alloc_fallback(pool->name, raw_smp_processor_id(), 3);
		return page;
	}
	this_cpu_inc(pool->cpu->alloc_failed);
	trace_atomic_alloc_fail(pool->name, raw_smp_processor_id(), gfp,
				allowed);
	return NULL;
}

/*
 * Tiers 2 to 4, out of line so that the fast path stays small.  Called
 * with IRQs disabled by the caller's local_irq_save(@flags), with @pc this
 * CPU's empty array; restores IRQs before tier 3.
 */
static noinline struct page *aa_alloc_slow(struct atomic_alloc_pool *pool,
					   struct aa_cpu *pc, gfp_t gfp,
					   unsigned long flags)
{
	struct page *page;

	page = aa_shared_pop(pool);
	if (page) {
		pc->alloc_remote++;
		trace_atomic_alloc_fallback(pool->name, pc->cpu, 2);
	}
	aa_kick_refill(pc);
	local_irq_restore(flags);

	if (page) {
		aa_meta(page)->owner = (unsigned long)pool;
		return page;
	}
	return aa_alloc_direct(pool, gfp);
}

/**
 * atomic_alloc_page() - take a buffer from a pool
 * @pool: the pool
 * @gfp: flags for the page-allocator fallback (tier 3), e.g. %GFP_ATOMIC;
 *	0 means "pool tiers only, never the page allocator"
 *
 * Takes a buffer from this CPU's array, else from the shared reserve, else
 * (only when @gfp is non-zero and the context allows it) from the page
 * allocator with @gfp | %__GFP_NOWARN.  Wakes the refill worker when this
 * CPU's array drops below its low watermark; never waits for it.  The
 * buffer is 2^order pages, DMA-mapped if the pool has a device.
 *
 * Context: Any context but NMI: task, softirq, hard IRQ, IRQs disabled,
 * under a raw spinlock, also on PREEMPT_RT.  Disables local interrupts
 * briefly and may take the pool's raw spinlock; takes no spinlock_t and
 * does not sleep unless @gfp allows it.
 * Return: the head page of the buffer, or %NULL.
 */
struct page *atomic_alloc_page(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	struct aa_cpu *pc;
	struct page *page;
	unsigned long flags;
	unsigned int level;

	if (WARN_ON_ONCE(!pool))
		return NULL;
	might_alloc(gfp);

	local_irq_save(flags);
	pc = this_cpu_ptr(pool->cpu);
	level = pc->level;
	if (unlikely(!level))
		return aa_alloc_slow(pool, pc, gfp, flags);
	page = pc->pages[--level];
	WRITE_ONCE(pc->level, level);
	pc->alloc_local++;
	if (unlikely(level < pool->low))
		aa_kick_refill(pc);
	local_irq_restore(flags);

	aa_meta(page)->owner = (unsigned long)pool;
	return page;
}
EXPORT_SYMBOL_GPL(atomic_alloc_page);

/*
 * Mark @page free.  With CONFIG_ATOMIC_ALLOC_DEBUG refuse, once with a
 * warning, a page that is not out from @pool: a double free, a page of
 * another pool or one that never came from a pool.
 */
static bool aa_take_back(struct atomic_alloc_pool *pool, struct page *page)
{
	unsigned long *owner = &aa_meta(page)->owner;
	unsigned long old = (unsigned long)pool;

	if (!IS_ENABLED(CONFIG_ATOMIC_ALLOC_DEBUG)) {
		WRITE_ONCE(*owner, old | AA_OWNER_FREE);
		return true;
	}
	if (likely(try_cmpxchg(owner, &old, old | AA_OWNER_FREE)))
		return true;

	atomic_long_inc(&pool->bad_frees);
	WARN_ONCE(1, "atomic_alloc: %s: refused free of page %lx: %s\n",
		  pool->name, page_to_pfn(page),
		  old == ((unsigned long)pool | AA_OWNER_FREE) ?
		  "double free" : "not a buffer handed out by this pool");
	return false;
}

/* This CPU's array is full or the pool is dead.  IRQs are disabled. */
static noinline void aa_free_slow(struct atomic_alloc_pool *pool,
				  struct page *page)
{
	if (READ_ONCE(pool->dead) || !aa_shared_push(pool, page))
		aa_overflow_add(pool, page);
}

/**
 * atomic_alloc_free() - give a buffer back to its pool
 * @pool: the pool it was allocated from
 * @page: the head page atomic_alloc_page() returned
 *
 * The buffer goes into this CPU's array (which need not be the CPU that
 * allocated it), else into the shared reserve, else onto a list that the
 * worker returns to the page allocator; the caller never frees pages.  The
 * DMA mapping stays.  With %CONFIG_ATOMIC_ALLOC_DEBUG a double free or a
 * page that is not out from @pool is refused with a warning.
 *
 * Context: Any context but NMI, as atomic_alloc_page().  Does not sleep.
 */
void atomic_alloc_free(struct atomic_alloc_pool *pool, struct page *page)
{
	struct aa_cpu *pc;
	unsigned long flags;
	unsigned int level;

	if (WARN_ON_ONCE(!pool || !page))
		return;
	if (!aa_take_back(pool, page))
		return;

	local_irq_save(flags);
	pc = this_cpu_ptr(pool->cpu);
	pc->freed++;
	level = pc->level;
	if (likely(level < pool->high && !READ_ONCE(pool->dead))) {
		pc->pages[level] = page;
		WRITE_ONCE(pc->level, level + 1);
	} else {
		aa_free_slow(pool, page);
	}
	local_irq_restore(flags);
}
EXPORT_SYMBOL_GPL(atomic_alloc_free);

/**
 * atomic_alloc_dma_addr() - DMA address of a buffer
 * @pool: the pool the buffer came from
 * @page: the buffer's head page
 *
 * Context: Any context.  Takes no lock.
 * Return: the address the buffer is mapped at for the pool's device, or
 * %DMA_MAPPING_ERROR if the pool was created without a device.
 */
dma_addr_t atomic_alloc_dma_addr(struct atomic_alloc_pool *pool,
				 struct page *page)
{
	if (!pool->dev)
		return DMA_MAPPING_ERROR;
	return (dma_addr_t)page_private(page);
}
EXPORT_SYMBOL_GPL(atomic_alloc_dma_addr);

/**
 * atomic_alloc_buf() - take a buffer from a pool, by its CPU address
 * @pool: the pool
 * @gfp: as for atomic_alloc_page()
 *
 * The same tiers and rules as atomic_alloc_page(); the buffer is
 * atomic_alloc_buf_bytes() bytes.
 *
 * Context: As atomic_alloc_page().
 * Return: the buffer's kernel virtual address, or %NULL.
 */
void *atomic_alloc_buf(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	struct page *page = atomic_alloc_page(pool, gfp);

	return page ? page_address(page) : NULL;
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf);

/**
 * atomic_alloc_buf_free() - give a buffer from atomic_alloc_buf() back
 * @pool: the pool it came from
 * @buf: the address atomic_alloc_buf() returned
 *
 * Context: As atomic_alloc_free().
 */
void atomic_alloc_buf_free(struct atomic_alloc_pool *pool, void *buf)
{
	if (WARN_ON_ONCE(!buf))
		return;
	atomic_alloc_free(pool, virt_to_page(buf));
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_free);

/**
 * atomic_alloc_buf_dma() - DMA address of a buffer from atomic_alloc_buf()
 * @pool: the pool it came from
 * @buf: the address atomic_alloc_buf() returned
 *
 * Context: Any context.  Takes no lock.
 * Return: the bus address of @buf for the pool's device, or
 * %DMA_MAPPING_ERROR if the pool was created without a device.
 */
dma_addr_t atomic_alloc_buf_dma(struct atomic_alloc_pool *pool,
				const void *buf)
{
	return atomic_alloc_dma_addr(pool, virt_to_page(buf));
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_dma);

/**
 * atomic_alloc_buf_bytes() - size of a pool's buffers
 * @pool: the pool
 *
 * Context: Any context.
 * Return: the bytes of one buffer.
 */
unsigned int atomic_alloc_buf_bytes(const struct atomic_alloc_pool *pool)
{
	return PAGE_SIZE << pool->order;
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_bytes);

/* ---- The refill worker (process context) ---- */

/*
 * Push @n buffers into @pc's array, if we are running on its CPU; what
 * does not fit goes to the shared reserve.  Returns how many are left
 * over for the caller to release.
 */
static unsigned int aa_push(struct atomic_alloc_pool *pool, struct aa_cpu *pc,
			    struct page **pages, unsigned int n)
{
	unsigned long flags;
	unsigned int i = 0;

	local_irq_save(flags);
	if (smp_processor_id() == pc->cpu && !READ_ONCE(pool->dead)) {
		unsigned int level = pc->level;

		while (i < n && level < pool->high)
			pc->pages[level++] = pages[i++];
		WRITE_ONCE(pc->level, level);
	}
	raw_spin_lock(&pool->shared_lock);
	while (i < n && pool->shared_count < pool->shared_target)
		pool->shared[pool->shared_count++] = pages[i++];
	raw_spin_unlock(&pool->shared_lock);
	local_irq_restore(flags);

	/* Move the leftovers to the front for the caller. */
	if (i && i < n)
		memmove(pages, pages + i, (n - i) * sizeof(*pages));
	return n - i;
}

/*
 * Take up to @n buffers that the pool holds beyond its guarantee: the
 * shared reserve above its target, then the overflow list.  Refilling a CPU
 * from them first keeps buffers that frees on other CPUs brought back in
 * use, instead of releasing those while allocating new ones.
 */
static unsigned int aa_take_surplus(struct atomic_alloc_pool *pool,
				    struct page **pages, unsigned int n)
{
	struct llist_node *node;
	unsigned long flags;
	unsigned int got = 0;

	raw_spin_lock_irqsave(&pool->shared_lock, flags);
	while (got < n && pool->shared_count > pool->shared_target)
		pages[got++] = pool->shared[--pool->shared_count];
	while (got < n && (node = llist_del_first(&pool->overflow))) {
		pages[got++] = aa_meta_page(node);
		atomic_long_dec(&pool->overflow_count);
	}
	raw_spin_unlock_irqrestore(&pool->shared_lock, flags);
	return got;
}

static bool aa_refill_cpu(struct atomic_alloc_pool *pool, struct aa_cpu *pc)
{
	struct page *batch[AA_MAX_BATCH];
	unsigned int want, n, got, reused, left, fresh = 0;
	int nid = cpu_to_node(pc->cpu);
	bool failed = false;

	for (;;) {
		want = pool->high - min(READ_ONCE(pc->level), pool->high);
		if (!want)
			break;
		n = min(want, pool->batch);
		reused = aa_take_surplus(pool, batch, n);
		for (got = reused; got < n; got++) {
			batch[got] = aa_refill_one(pool, nid);
			if (!batch[got])
				break;
		}
		fresh += got - reused;
		if (got < n) {
			failed = true;
			this_cpu_inc(pool->cpu->refill_failed);
		}
		left = aa_push(pool, pc, batch, got);
		aa_release_list(pool, batch, left, AA_RELEASE_OVERFLOW);
		/* Not on pc's CPU (it went offline) or out of memory. */
		if (failed || left)
			break;
	}
	if (fresh)
		this_cpu_add(pool->cpu->refilled, fresh);
	trace_atomic_alloc_refill(pool->name, pc->cpu, fresh,
				  READ_ONCE(pc->level), failed);
	return !failed;
}

static bool aa_refill_shared(struct atomic_alloc_pool *pool, int nid)
{
	struct page *batch[AA_MAX_BATCH];
	unsigned int want, got, i;
	unsigned long flags;
	bool failed = false;

	for (;;) {
		want = pool->shared_target -
		       min(READ_ONCE(pool->shared_count), pool->shared_target);
		if (!want)
			return true;
		want = min(want, pool->batch);
		for (got = 0; got < want; got++) {
			batch[got] = aa_refill_one(pool, nid);
			if (!batch[got])
				break;
		}
		if (got < want) {
			failed = true;
			this_cpu_inc(pool->cpu->refill_failed);
		}
		raw_spin_lock_irqsave(&pool->shared_lock, flags);
		for (i = 0; i < got && pool->shared_count < pool->shared_target; i++)
			pool->shared[pool->shared_count++] = batch[i];
		raw_spin_unlock_irqrestore(&pool->shared_lock, flags);
		this_cpu_add(pool->cpu->refilled, i);
		aa_release_list(pool, batch + i, got - i, AA_RELEASE_OVERFLOW);
		if (failed)
			return false;
	}
}

/* Release the overflow list.  Process context. */
static void aa_drain_overflow(struct atomic_alloc_pool *pool)
{
	struct llist_node *list, *pos, *tmp;
	unsigned long flags;
	unsigned int n = 0;

	raw_spin_lock_irqsave(&pool->shared_lock, flags);
	list = llist_del_all(&pool->overflow);
	raw_spin_unlock_irqrestore(&pool->shared_lock, flags);

	llist_for_each_safe(pos, tmp, list) {
		aa_buffer_release(pool, aa_meta_page(pos));
		atomic_long_dec(&pool->overflow_count);
		n++;
	}
	if (n) {
		this_cpu_add(pool->cpu->released, n);
		trace_atomic_alloc_release(pool->name, n, AA_RELEASE_OVERFLOW);
	}
}

static void aa_refill_work(struct work_struct *work)
{
	struct aa_cpu *pc = container_of(to_delayed_work(work), struct aa_cpu,
					 refill_work);
	struct atomic_alloc_pool *pool = pc->pool;
	bool ok;

	lockdep_assert_no_hardirq();
	might_sleep();

	ok = aa_refill_cpu(pool, pc);
	if (ok)
		ok = aa_refill_shared(pool, cpu_to_node(pc->cpu));
	aa_drain_overflow(pool);

	if (ok) {
		pc->backoff = 0;
		return;
	}
	/* Starved: try again later, never spin on a failing page allocator. */
	pc->backoff = clamp(pc->backoff * 2, 1UL, (unsigned long)AA_MAX_BACKOFF);
	/* An offline CPU is refilled by aa_cpu_prepare() when it returns. */
	if (!READ_ONCE(pool->dead) && cpu_online(pc->cpu))
		queue_delayed_work_on(pc->cpu, aa_wq, &pc->refill_work,
				      pc->backoff);
}

static void aa_trim_work(struct work_struct *work)
{
	aa_drain_overflow(container_of(work, struct atomic_alloc_pool,
				       trim_work));
}

/* ---- Filling and draining a CPU's array from another CPU ---- */

/*
 * Fill @cpu's array while nothing else can touch it: the pool is not yet
 * published (create) or the CPU is not running yet (hotplug prepare).
 * Returns the level reached.
 */
static unsigned int aa_fill_cpu(struct atomic_alloc_pool *pool,
				unsigned int cpu)
{
	struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);
	int nid = cpu_to_node(cpu);
	unsigned int level = pc->level, added = 0;
	struct page *page;

	while (level < pool->high) {
		page = aa_refill_one(pool, nid);
		if (!page) {
			this_cpu_inc(pool->cpu->refill_failed);
			break;
		}
		pc->pages[level++] = page;
		added++;
	}
	WRITE_ONCE(pc->level, level);
	this_cpu_add(pool->cpu->refilled, added);
	trace_atomic_alloc_refill(pool->name, cpu, added, level,
				  level < pool->high);
	return level;
}

/* Empty @cpu's array while its CPU is not running, or the pool is dead. */
static void aa_drain_cpu(struct atomic_alloc_pool *pool, unsigned int cpu,
			 bool keep, int why)
{
	struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);
	unsigned int level = pc->level;
	unsigned long flags;

	if (keep) {
		raw_spin_lock_irqsave(&pool->shared_lock, flags);
		while (level && pool->shared_count < pool->shared_size)
			pool->shared[pool->shared_count++] = pc->pages[--level];
		raw_spin_unlock_irqrestore(&pool->shared_lock, flags);
	}
	WRITE_ONCE(pc->level, 0);
	aa_release_list(pool, pc->pages, level, why);
}

static int aa_cpu_prepare(unsigned int cpu, struct hlist_node *node)
{
	struct atomic_alloc_pool *pool = hlist_entry(node,
						     struct atomic_alloc_pool,
						     cpuhp_node);

	/* Best effort: a CPU must not fail to come up for our sake. */
	if (aa_fill_cpu(pool, cpu) < pool->high)
		pr_warn_ratelimited("%s: cpu%u starts with a partial pool\n",
				    pool->name, cpu);
	return 0;
}

static int aa_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct atomic_alloc_pool *pool = hlist_entry(node,
						     struct atomic_alloc_pool,
						     cpuhp_node);

	/* Hand the buffers to the other CPUs through the shared reserve. */
	aa_drain_cpu(pool, cpu, true, AA_RELEASE_CPU_DEAD);
	return 0;
}

/*
 * Runs on @cpu once it is online.  If aa_cpu_prepare() could not fill an
 * array (the page allocator failed), the refill worker takes over now, with
 * its backoff, instead of waiting for the first allocation on @cpu.
 */
static int aa_cpu_online(unsigned int cpu)
{
	struct atomic_alloc_pool *pool;
	struct aa_cpu *pc;

	mutex_lock(&aa_pools_lock);
	list_for_each_entry(pool, &aa_pools, list) {
		/* A pool still being filled by create is left alone. */
		if (!pool->live)
			continue;
		pc = per_cpu_ptr(pool->cpu, cpu);
		if (READ_ONCE(pc->level) < pool->high)
			aa_kick_refill(pc);
	}
	mutex_unlock(&aa_pools_lock);
	return 0;
}

/* ---- Shrinker: surplus above the guaranteed reserve only ---- */

static unsigned long aa_surplus(struct atomic_alloc_pool *pool)
{
	unsigned int shared = READ_ONCE(pool->shared_count);

	return (shared > pool->shared_target ? shared - pool->shared_target : 0) +
	       atomic_long_read(&pool->overflow_count);
}

VISIBLE_IF_KUNIT unsigned long atomic_alloc_shrink(struct atomic_alloc_pool *pool,
						   unsigned long nr)
{
	struct page *batch[AA_MAX_BATCH];
	unsigned long done = 0, before;
	unsigned long flags;
	unsigned int n;

	before = atomic_long_read(&pool->overflow_count);
	aa_drain_overflow(pool);
	done += before - min_t(unsigned long, before,
			       atomic_long_read(&pool->overflow_count));

	while (done < nr) {
		n = 0;
		raw_spin_lock_irqsave(&pool->shared_lock, flags);
		while (n < AA_MAX_BATCH && done + n < nr &&
		       pool->shared_count > pool->shared_target)
			batch[n++] = pool->shared[--pool->shared_count];
		raw_spin_unlock_irqrestore(&pool->shared_lock, flags);
		if (!n)
			break;
		aa_release_list(pool, batch, n, AA_RELEASE_SHRINKER);
		done += n;
	}
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_shrink);

static unsigned long aa_shrink_count(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long n = aa_surplus(aa_shrinker_priv(s));

	return n ? n : SHRINK_EMPTY;
}

static unsigned long aa_shrink_scan(struct shrinker *s,
				    struct shrink_control *sc)
{
	unsigned long n = atomic_alloc_shrink(aa_shrinker_priv(s),
					      sc->nr_to_scan);

	return n ? n : SHRINK_STOP;
}

/* ---- Statistics and debugfs ---- */

VISIBLE_IF_KUNIT unsigned int atomic_alloc_cpu_level(struct atomic_alloc_pool *pool,
						     int cpu)
{
	return READ_ONCE(per_cpu_ptr(pool->cpu, cpu)->level);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_cpu_level);

VISIBLE_IF_KUNIT unsigned int atomic_alloc_shared_level(struct atomic_alloc_pool *pool)
{
	return READ_ONCE(pool->shared_count);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_shared_level);

VISIBLE_IF_KUNIT long atomic_alloc_pages_held(void)
{
	return atomic_long_read(&aa_pages_held);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_pages_held);

VISIBLE_IF_KUNIT long atomic_alloc_pool_pages(struct atomic_alloc_pool *pool)
{
	return atomic_long_read(&pool->pages);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_pool_pages);

VISIBLE_IF_KUNIT unsigned long atomic_alloc_bad_frees(struct atomic_alloc_pool *pool)
{
	return atomic_long_read(&pool->bad_frees);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_bad_frees);

/**
 * atomic_alloc_get_stats() - read a pool's counters
 * @pool: the pool
 * @stats: filled with the counters summed over all possible CPUs
 *
 * Context: Any context.  Takes no lock; the snapshot is not atomic.
 */
void atomic_alloc_get_stats(struct atomic_alloc_pool *pool,
			    struct atomic_alloc_stats *stats)
{
	u64 allocs, avail = 0;
	int cpu;

	memset(stats, 0, sizeof(*stats));
	for_each_possible_cpu(cpu) {
		struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);

		stats->alloc_local += READ_ONCE(pc->alloc_local);
		stats->alloc_remote += READ_ONCE(pc->alloc_remote);
		stats->alloc_direct += READ_ONCE(pc->alloc_direct);
		stats->alloc_failed += READ_ONCE(pc->alloc_failed);
		stats->freed += READ_ONCE(pc->freed);
		stats->refilled += READ_ONCE(pc->refilled);
		stats->refill_failed += READ_ONCE(pc->refill_failed);
		stats->released += READ_ONCE(pc->released);
		avail += READ_ONCE(pc->level);
	}
	avail += READ_ONCE(pool->shared_count);
	avail += atomic_long_read(&pool->overflow_count);
	stats->available = avail;
	allocs = stats->alloc_local + stats->alloc_remote + stats->alloc_direct;
	stats->outstanding = allocs > stats->freed ? allocs - stats->freed : 0;
}
EXPORT_SYMBOL_GPL(atomic_alloc_get_stats);

static int aa_stats_show(struct seq_file *m, void *v)
{
	struct atomic_alloc_pool *pool = m->private;
	struct atomic_alloc_stats st;
	int cpu;

	atomic_alloc_get_stats(pool, &st);
	seq_printf(m, "alloc_local: %llu\n", st.alloc_local);
	seq_printf(m, "alloc_remote: %llu\n", st.alloc_remote);
	seq_printf(m, "alloc_direct: %llu\n", st.alloc_direct);
	seq_printf(m, "alloc_failed: %llu\n", st.alloc_failed);
	seq_printf(m, "freed: %llu\n", st.freed);
	seq_printf(m, "refilled: %llu\n", st.refilled);
	seq_printf(m, "refill_failed: %llu\n", st.refill_failed);
	seq_printf(m, "released: %llu\n", st.released);
	seq_printf(m, "available: %llu\n", st.available);
	seq_printf(m, "outstanding: %llu\n", st.outstanding);
	seq_printf(m, "bad_frees: %lu\n", atomic_alloc_bad_frees(pool));
	seq_printf(m, "pages_held: %ld\n", atomic_alloc_pool_pages(pool));
	seq_printf(m, "order: %u\n", pool->order);
	seq_printf(m, "buffer_bytes: %lu\n", PAGE_SIZE << pool->order);
	seq_printf(m, "cpu_buffers: %u\n", pool->high);
	seq_printf(m, "low_watermark: %u\n", pool->low);
	seq_printf(m, "refill_batch: %u\n", pool->batch);
	seq_printf(m, "shared_buffers: %u\n", pool->shared_target);
	seq_printf(m, "shared_capacity: %u\n", pool->shared_size);
	seq_printf(m, "shared_level: %u\n", atomic_alloc_shared_level(pool));
	seq_printf(m, "overflow: %ld\n",
		   atomic_long_read(&pool->overflow_count));
	seq_printf(m, "dma_mapped: %u\n", pool->dev ? 1 : 0);
	for_each_possible_cpu(cpu)
		seq_printf(m, "cpu%d_level: %u%s\n", cpu,
			   atomic_alloc_cpu_level(pool, cpu),
			   cpu_online(cpu) ? "" : " (offline)");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(aa_stats);

static int aa_pages_held_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%ld\n", atomic_alloc_pages_held());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(aa_pages_held);

/**
 * atomic_alloc_debugfs_dir() - a pool's debugfs directory
 * @pool: the pool
 *
 * Drivers may add their own files there (they must remove them before
 * atomic_alloc_destroy()).
 *
 * Context: Any context.
 * Return: the dentry of /sys/kernel/debug/atomic_alloc/<name>/, or an
 * error pointer or %NULL when debugfs is not available.
 */
struct dentry *atomic_alloc_debugfs_dir(struct atomic_alloc_pool *pool)
{
	return pool->debugfs;
}
EXPORT_SYMBOL_GPL(atomic_alloc_debugfs_dir);

/* ---- Create and destroy ---- */

static int aa_check_params(const struct atomic_alloc_params *p)
{
	unsigned int low, shared;

	if (!p) {
		pr_err("atomic_alloc_create: params is NULL\n");
		return -EINVAL;
	}
	if (!p->name || !p->name[0] || strnlen(p->name, AA_NAME_MAX) >= AA_NAME_MAX ||
	    strchr(p->name, '/')) {
		pr_err("atomic_alloc_create: name must be 1 to %d characters without '/'\n",
		       AA_NAME_MAX - 1);
		return -EINVAL;
	}
	if (p->order > ATOMIC_ALLOC_MAX_ORDER) {
		pr_err("%s: order %u above the maximum %d\n", p->name, p->order,
		       ATOMIC_ALLOC_MAX_ORDER);
		return -EINVAL;
	}
	if (!p->cpu_buffers || p->cpu_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS ||
	    ((unsigned long)p->cpu_buffers << p->order) > ATOMIC_ALLOC_MAX_CPU_PAGES) {
		pr_err("%s: cpu_buffers %u not in 1..%d (and at most %d pages per CPU)\n",
		       p->name, p->cpu_buffers, ATOMIC_ALLOC_MAX_CPU_BUFFERS,
		       ATOMIC_ALLOC_MAX_CPU_PAGES);
		return -EINVAL;
	}
	low = p->low_watermark;
	if (low && low >= p->cpu_buffers) {
		pr_err("%s: low_watermark %u must be below cpu_buffers %u\n",
		       p->name, low, p->cpu_buffers);
		return -EINVAL;
	}
	shared = p->shared_buffers;
	if (shared > ATOMIC_ALLOC_MAX_CPU_BUFFERS) {
		pr_err("%s: shared_buffers %u above the maximum %d\n", p->name,
		       shared, ATOMIC_ALLOC_MAX_CPU_BUFFERS);
		return -EINVAL;
	}
	if (p->refill_batch > AA_MAX_BATCH) {
		pr_err("%s: refill_batch %u above the maximum %d\n", p->name,
		       p->refill_batch, AA_MAX_BATCH);
		return -EINVAL;
	}
	if (p->gfp & ~AA_ZONE_GFP) {
		pr_err("%s: gfp %#x: only __GFP_DMA32 or __GFP_DMA allowed\n",
		       p->name, (__force unsigned int)p->gfp);
		return -EINVAL;
	}
	if (p->dev && !valid_dma_direction(p->dma_dir)) {
		pr_err("%s: dma_dir %d is not a DMA direction\n", p->name,
		       p->dma_dir);
		return -EINVAL;
	}
	return 0;
}

/* Zone for the device's DMA mask, as dma-direct would choose it. */
static gfp_t aa_zone_for(struct device *dev, gfp_t gfp)
{
	u64 mask;

	if (!dev)
		return gfp;
	mask = dma_get_mask(dev);
	if (IS_ENABLED(CONFIG_ZONE_DMA) && mask <= DMA_BIT_MASK(24))
		return __GFP_DMA;
	if (IS_ENABLED(CONFIG_ZONE_DMA32) && mask <= DMA_BIT_MASK(32))
		return __GFP_DMA32;
	return gfp;
}

/* Free what create built; also the end of destroy.  Safe on a partial pool. */
static void aa_pool_free(struct atomic_alloc_pool *pool)
{
	unsigned int n;
	int cpu;

	if (pool->cpu) {
		/* aa_cpu_online() may have queued one while create ran. */
		for_each_possible_cpu(cpu)
			cancel_delayed_work_sync(&per_cpu_ptr(pool->cpu, cpu)->refill_work);
		for_each_possible_cpu(cpu)
			aa_drain_cpu(pool, cpu, false, AA_RELEASE_DESTROY);
	}
	if (pool->shared) {
		n = pool->shared_count;
		pool->shared_count = 0;
		aa_release_list(pool, pool->shared, n, AA_RELEASE_DESTROY);
	}
	aa_drain_overflow(pool);
	kfree(pool->shared);
	free_percpu(pool->cpu);
	kfree(pool);
}

/**
 * atomic_alloc_create() - build a pool and fill it
 * @params: what to build; see &struct atomic_alloc_params
 *
 * Allocates every online CPU's array and the shared reserve with
 * GFP_KERNEL from the CPU's NUMA node (reclaim and compaction happen here,
 * never in the caller of atomic_alloc_page()) and returns only when they
 * are full.  CPUs that come online later get a filled array before they
 * run.
 *
 * Context: Process context.  May sleep.  Takes cpus_read_lock().
 * Return: the pool, ERR_PTR(-EINVAL) for bad @params (with a message
 * naming the field), ERR_PTR(-EEXIST) if a pool of that name exists, or
 * ERR_PTR(-ENOMEM) if it could not be filled; nothing is leaked on error.
 */
struct atomic_alloc_pool *
atomic_alloc_create(const struct atomic_alloc_params *params)
{
	struct atomic_alloc_pool *pool, *other;
	struct aa_cpu *pc;
	unsigned int cpu;
	int err;

	might_sleep();
	err = aa_check_params(params);
	if (err)
		return ERR_PTR(err);

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	strscpy(pool->name, params->name, sizeof(pool->name));
	pool->order = params->order;
	pool->high = params->cpu_buffers;
	pool->low = params->low_watermark ?: max(pool->high / 2, 1U);
	pool->batch = params->refill_batch ?:
		      min(pool->high, (unsigned int)AA_DEFAULT_BATCH);
	pool->dev = params->dev;
	pool->dma_dir = params->dma_dir;
	pool->zone_gfp = aa_zone_for(params->dev, params->gfp);
	pool->shared_target = params->shared_buffers ?: pool->high;
	pool->shared_size = 2 * pool->shared_target;
	raw_spin_lock_init(&pool->shared_lock);
	init_llist_head(&pool->overflow);
	INIT_WORK(&pool->trim_work, aa_trim_work);
	INIT_LIST_HEAD(&pool->list);

	err = -ENOMEM;
	pool->shared = kcalloc(pool->shared_size, sizeof(*pool->shared),
			       GFP_KERNEL);
	if (!pool->shared)
		goto err_free;
	pool->cpu = __alloc_percpu_gfp(struct_size(pc, pages, pool->high),
				       __alignof__(struct aa_cpu), GFP_KERNEL);
	if (!pool->cpu)
		goto err_free;
	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(pool->cpu, cpu);
		pc->cpu = cpu;
		pc->pool = pool;
		INIT_DELAYED_WORK(&pc->refill_work, aa_refill_work);
	}

	mutex_lock(&aa_pools_lock);
	list_for_each_entry(other, &aa_pools, list) {
		if (!strcmp(other->name, pool->name)) {
			mutex_unlock(&aa_pools_lock);
			pr_err("%s: a pool of that name exists\n", pool->name);
			err = -EEXIST;
			goto err_free;
		}
	}
	list_add(&pool->list, &aa_pools);
	mutex_unlock(&aa_pools_lock);

	/*
	 * Registering calls aa_cpu_prepare() for every online CPU, which
	 * fills its array; nothing else can touch them before we return.
	 */
	err = cpuhp_state_add_instance(aa_cpuhp_state, &pool->cpuhp_node);
	if (err)
		goto err_unlist;
	err = -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (atomic_alloc_cpu_level(pool, cpu) < pool->high) {
			cpus_read_unlock();
			goto err_remove;
		}
	}
	cpus_read_unlock();
	if (!aa_refill_shared(pool, numa_mem_id()))
		goto err_remove;

	pool->shrinker = aa_shrinker_create(pool->name, pool, aa_shrink_count,
					    aa_shrink_scan);
	if (!pool->shrinker)
		pr_warn("%s: no shrinker, surplus is returned only by the worker\n",
			pool->name);

	pool->debugfs = debugfs_create_dir(pool->name, aa_debugfs_root);
	debugfs_create_file("stats", 0444, pool->debugfs, pool, &aa_stats_fops);
	mutex_lock(&aa_pools_lock);
	pool->live = true;
	mutex_unlock(&aa_pools_lock);
	return pool;

err_remove:
	cpuhp_state_remove_instance_nocalls(aa_cpuhp_state, &pool->cpuhp_node);
	pr_err("%s: could not fill the pool (%u x %lu bytes per CPU)\n",
	       pool->name, pool->high, PAGE_SIZE << pool->order);
err_unlist:
	mutex_lock(&aa_pools_lock);
	list_del(&pool->list);
	mutex_unlock(&aa_pools_lock);
err_free:
	aa_pool_free(pool);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(atomic_alloc_create);

/**
 * atomic_alloc_destroy() - stop a pool and free its buffers
 * @pool: the pool; %NULL or an error pointer is ignored
 *
 * Stops CPU hotplug handling, the shrinker and the refill worker, then
 * returns every buffer in the pool to the page allocator and removes the
 * DMA mappings.  The caller must have stopped allocating.  Buffers still
 * held by the caller are a caller bug: they are reported with a warning
 * and left alone (never freed under the caller); the pool's bookkeeping
 * stays until the module unloads, so that freeing them later is still
 * safe and returns them to the page allocator.
 *
 * Context: Process context.  May sleep.
 */
void atomic_alloc_destroy(struct atomic_alloc_pool *pool)
{
	struct atomic_alloc_stats st;
	int cpu;

	if (IS_ERR_OR_NULL(pool))
		return;
	might_sleep();

	cpuhp_state_remove_instance_nocalls(aa_cpuhp_state, &pool->cpuhp_node);
	aa_shrinker_destroy(pool->shrinker);
	pool->shrinker = NULL;
	debugfs_remove_recursive(pool->debugfs);
	pool->debugfs = NULL;

	WRITE_ONCE(pool->dead, true);
	/*
	 * Alloc and free read ->dead with IRQs disabled, which is an RCU
	 * read-side section: after this, none of them still pushes into or
	 * pops from the arrays, and no new refill is queued.
	 */
	synchronize_rcu();
	/* Off the list first, so that aa_cpu_online() queues nothing more. */
	mutex_lock(&aa_pools_lock);
	list_del(&pool->list);
	mutex_unlock(&aa_pools_lock);
	for_each_possible_cpu(cpu)
		cancel_delayed_work_sync(&per_cpu_ptr(pool->cpu, cpu)->refill_work);
	cancel_work_sync(&pool->trim_work);

	atomic_alloc_get_stats(pool, &st);
	if (!st.outstanding) {
		aa_pool_free(pool);
		return;
	}

	WARN(1, "atomic_alloc: pool %s destroyed with %llu buffers outstanding\n",
	     pool->name, st.outstanding);
	for_each_possible_cpu(cpu)
		aa_drain_cpu(pool, cpu, false, AA_RELEASE_DESTROY);
	aa_release_list(pool, pool->shared, pool->shared_count,
			AA_RELEASE_DESTROY);
	pool->shared_count = 0;
	aa_drain_overflow(pool);
	mutex_lock(&aa_pools_lock);
	list_add(&pool->list, &aa_zombies);
	mutex_unlock(&aa_pools_lock);
}
EXPORT_SYMBOL_GPL(atomic_alloc_destroy);

#if IS_ENABLED(CONFIG_KUNIT)
void atomic_alloc_flush(struct atomic_alloc_pool *pool)
{
	int cpu;

	for_each_possible_cpu(cpu)
		flush_delayed_work(&per_cpu_ptr(pool->cpu, cpu)->refill_work);
	flush_work(&pool->trim_work);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_flush);
#endif

/* ---- Module ---- */

static int __init atomic_alloc_init(void)
{
	struct dentry *fail;
	int ret;

	aa_wq = alloc_workqueue("atomic_alloc", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!aa_wq)
		return -ENOMEM;

	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN,
				      "mm/atomic_alloc:prepare",
				      aa_cpu_prepare, aa_cpu_dead);
	if (ret < 0)
		goto err_wq;
	aa_cpuhp_state = ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN,
					"mm/atomic_alloc:online", aa_cpu_online,
					NULL);
	if (ret < 0)
		goto err_prepare;
	aa_cpuhp_online_state = ret;

	aa_debugfs_root = debugfs_create_dir("atomic_alloc", NULL);
	debugfs_create_file("pages_held", 0444, aa_debugfs_root, NULL,
			    &aa_pages_held_fops);
	fail = fault_create_debugfs_attr("fail_refill", aa_debugfs_root,
					 &atomic_alloc_fail_refill);
	if (IS_ERR(fail) && PTR_ERR(fail) != -ENODEV)
		pr_warn("no fail_refill fault injection in debugfs\n");
	return 0;

err_prepare:
	cpuhp_remove_multi_state(aa_cpuhp_state);
err_wq:
	destroy_workqueue(aa_wq);
	return ret;
}

static void __exit atomic_alloc_exit(void)
{
	struct atomic_alloc_pool *pool, *tmp;
	struct atomic_alloc_stats st;
	long held;

	/* Pools whose owner destroyed them with buffers out. */
	list_for_each_entry_safe(pool, tmp, &aa_zombies, list) {
		cancel_work_sync(&pool->trim_work);
		aa_drain_overflow(pool);
		atomic_alloc_get_stats(pool, &st);
		if (st.outstanding)
			pr_err("%s: %llu buffers were never freed\n", pool->name,
			       st.outstanding);
		list_del(&pool->list);
		free_percpu(pool->cpu);
		kfree(pool->shared);
		kfree(pool);
	}
	WARN_ON(!list_empty(&aa_pools));

	debugfs_remove_recursive(aa_debugfs_root);
	cpuhp_remove_state_nocalls(aa_cpuhp_online_state);
	cpuhp_remove_multi_state(aa_cpuhp_state);
	destroy_workqueue(aa_wq);

	held = atomic_alloc_pages_held();
	if (held)
		pr_err("%ld pages never returned to the page allocator\n", held);
	else
		pr_info("unloaded, all pages returned\n");
}

module_init(atomic_alloc_init);
module_exit(atomic_alloc_exit);

MODULE_DESCRIPTION("Per-CPU page pools for hard-IRQ and atomic context");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
