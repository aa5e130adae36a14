// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc - per-CPU pools of DMA buffers for callers that cannot sleep
 *
 * Concurrency rules
 * =================
 *
 * Who may call what (the kernel-doc of each function says the same):
 *
 *   atomic_alloc_page(), atomic_alloc_buf(),     any context, NMI included;
 *   atomic_alloc_free(), atomic_alloc_buf_free()  no lock, no IRQ disabling,
 *                                                no wake-up, no queue_work()
 *   atomic_alloc_dma_addr(), atomic_alloc_buf_dma(), _buf_bytes()   any
 *   atomic_alloc_get_stats()                     any (reads, no lock)
 *   atomic_alloc_create(), atomic_alloc_destroy() process context, may sleep
 *
 * struct aa_cpu (one per possible CPU and pool), tier 1:
 *   @top		the level and a count of the changes, in one word.
 *			The owning CPU, with preemption off (aa_pin()), reads
 *			it, reads or writes the slot, and commits with one
 *			this_cpu_try_cmpxchg() (a single instruction on x86,
 *			an atomic on arm64).  An interrupt or NMI that runs an
 *			operation on the array in between makes that commit
 *			fail, and the interrupted operation tries again
 *			(counted in alloc_nested/free_nested); the interrupting
 *			one is served as if it had come first.
 *   @pushing		held by a push from its read of @top to its commit;
 *			an interrupt or NMI that finds it held does not push
 *			into the array but into the shared reserve, and takes
 *			from the reserve before the array (counted in
 *			alloc_nested/free_nested).  A push writes the slot above
 *			the level before it commits, and a nested push could
 *			have committed a buffer there in between.
 *   @slots		so, written only by the owning CPU.  CPU hotplug
 *			writes @top and @slots while the CPU is not running
 *			(prepare: before it starts; dead: after it stopped);
 *			so does destroy, once no caller can be inside.
 *   counters		this_cpu_inc()/this_cpu_add() from any context (a
 *			single instruction on x86, an atomic on arm64).
 *   @kick		an irq_work, queued by this CPU's own allocations.
 *   @refill_work, @backoff	the refill work of this CPU only.
 *
 * struct atomic_alloc_pool:
 *   @shared/@shared_count	tier 2: an array under @shared_owner, a
 *			spinlock that records its holder's CPU.  Any context
 *			on any CPU may take it; a caller whose CPU already
 *			holds it (an interrupt or NMI that interrupted the
 *			holder) does not spin but falls back: NULL for an
 *			allocation, the overflow list for a free.  Holders never
 *			wait for anything inside, so a CPU spinning on another
 *			CPU's hold waits for a few instructions.  (A lock-free
 *			stack needs a double-word cmpxchg, which QEMU 7.2's TCG
 *			emulates with corrupt flags: it computes EFLAGS from a
 *			stale cc_op and can set TF and DF.)
 *   @overflow, @drop, @late	llists: llist_add() from any context;
 *			llist_del_all() by the worker (process context).
 *			@overflow holds reusable surplus, @drop buffers that
 *			must not be reused (still referenced), @late the frees
 *			that came after atomic_alloc_destroy().
 *   @lock		a mutex: the worker's surplus ("spill"), the page
 *			bookkeeping lists, and release of pages.  Process
 *			context only; the shrinker only trylocks it (it may be
 *			called from reclaim that our own refill caused).
 *   @pages		an xarray of every page the pool holds (its id in
 *			struct aa_page), so that destroy can unmap the pages
 *			still out (page_pool_scrub() does the same).  _bh
 *			locked: tier 3 may add to it from softirq.
 *   @dead		set once by atomic_alloc_destroy(), read by alloc and
 *			free with preemption off (aa_pin()), which is an RCU
 *			read-side section: synchronize_rcu() after setting it
 *			waits for every caller that still saw the pool alive.
 *			A free that sees it set hands its buffer to @late and
 *			kicks a module-wide irq_work; it touches the pool no
 *			more after the llist_add().
 *
 * The page allocator and the DMA API are called from process context
 * (create, the workers, CPU hotplug, destroy, the shrinker) and, as tier 3,
 * only where a spinlock_t may be taken on PREEMPT_RT (aa_direct_allowed()).
 *
 * What the pool owns in struct page (of the head page; the header says so
 * to drivers): ->lru.next is the link of the lock-free lists while a
 * whole-page buffer is on one; ->lru.prev is the owner tag, the pool
 * pointer with AA_OWNER_* bits; ->index the DMA address; ->private the
 * struct aa_page.  Buffers of buffer_bytes carry their link in their own
 * first bytes while they are free.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/irq_work.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/reciprocal_div.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
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
/*
 * What tier 3 keeps of the caller's gfp: how hard to try (reclaim, I/O,
 * FS, retry policy) and the priority (__GFP_HIGH, __GFP_NOMEMALLOC).  The
 * zone is the pool's, __GFP_COMP the pool's choice; __GFP_MOVABLE,
 * __GFP_ACCOUNT, __GFP_ZERO, __GFP_NOFAIL, __GFP_MEMALLOC and the rest
 * would put pages into a long-lived pool that must not be there.
 */
#define AA_CALLER_GFP		(__GFP_RECLAIM | __GFP_IO | __GFP_FS |	\
				 __GFP_NORETRY | __GFP_RETRY_MAYFAIL |	\
				 __GFP_HIGH | __GFP_NOMEMALLOC | __GFP_NOWARN)

/* Low bits of the owner tag (the pool pointer is 64-byte aligned). */
#define AA_OWNER_FREE		1UL	/* whole-page buffer: in the pool */
#define AA_OWNER_FRAG		2UL	/* a page carved into buffers */
#define AA_OWNER_ORPHAN		4UL	/* referenced elsewhere: never reuse */
#define AA_OWNER_BITS		7UL
#define AA_ORPHAN_BIT		2

/* Names of the library's own debugfs files, never a pool's. */
static const char * const aa_reserved_names[] = { "pages_held", "fail_refill" };

/**
 * struct aa_page - the pool's bookkeeping for one page it holds
 * @page:	the (head) page.
 * @node:	on atomic_alloc_pool.spill_pages or .orphans while some of
 *		its buffers are in the worker's surplus.
 * @spill:	those buffers, linked through their aa_link().
 * @nspill:	how many; the page goes back to the page allocator when all
 *		its buffers are there (and none is in a tier or out).
 * @id:		its index in atomic_alloc_pool.pages.
 * @on_list:	@node is on a list.
 * @on_orphans:	...and that list is atomic_alloc_pool.orphans: its buffers
 *		are not counted in spill_count and are never reused.
 * @scrubbed:	unmapped by destroy while buffers were still out.
 * @out:	CONFIG_ATOMIC_ALLOC_DEBUG, buffers of buffer_bytes: bit i is
 *		set while buffer i is handed out.
 * @rcu:	a page carved into buffers is freed after a grace period: a
 *		tier-2 pop may still be reading a link inside it.
 *
 * Written under atomic_alloc_pool.lock, except @out (atomic bit ops from
 * any context).
 */
struct aa_page {
	struct page *page;
	struct list_head node;
	void *spill;
	unsigned int nspill;
	u32 id;
	bool on_list;
	bool on_orphans;
	bool scrubbed;
	unsigned long out;
	struct rcu_head rcu;
};

/**
 * struct aa_cpu - one CPU's array of buffers (tier 1) and its refill state
 * @top:	the level (buffers in @slots) and a count of the operations
 *		that changed it; see the concurrency rules at the top.
 * @pushing:	set while this CPU pushes into @slots.
 * @pool:	the pool.
 * @cpu:	the CPU.
 * @alloc_local: counters, see struct atomic_alloc_stats.
 * @alloc_remote: ditto.
 * @alloc_direct: ditto.
 * @alloc_failed: ditto.
 * @alloc_nmi:	ditto.
 * @alloc_nested: ditto.
 * @freed:	ditto.
 * @free_nmi:	ditto.
 * @free_nested: ditto.
 * @free_deferred: ditto.
 * @retries:	ditto.
 * @refilled:	ditto.
 * @refill_failed: ditto.
 * @released:	ditto.
 * @released_refcnt: ditto.
 * @kick:	hard irq_work that queues @refill_work (legal in NMI and
 *		under any lock, unlike queue_work()).
 * @refill_work: tops this CPU's array up, in process context.
 * @backoff:	jiffies before the next try after a failed refill.
 * @slots:	the array, cpu_buffers of them.
 */
struct aa_cpu {
	unsigned long top;
	unsigned int pushing;
	struct atomic_alloc_pool *pool;
	unsigned int cpu;

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

	struct irq_work kick;
	struct delayed_work refill_work;
	unsigned long backoff;

	void *slots[];
};

/*
 * Three groups of fields, each on its own cache lines: what every fast path
 * reads and nobody writes after create (only @dead, once); the shared
 * reserve, written by tier 2 from any CPU; and the rest, written by frees
 * that found every reserve full and by the worker.  A remote free writes
 * only the freeing CPU's own struct aa_cpu, or tier 2, never the first
 * group.  Documentation/atomic_alloc.rst shows the layout from pahole.
 */
struct atomic_alloc_pool {
	/* Read-mostly: the fast paths. */
	struct aa_cpu __percpu *cpu;
	unsigned int order;
	unsigned int high;		/* per-CPU target and array size */
	unsigned int low;		/* kick the refill below this */
	bool frag;			/* buffers of buffer_bytes */
	bool dead;
	unsigned int stride;		/* frag: bytes from buffer to buffer */
	unsigned int per_page;		/* buffers in one page */
	struct reciprocal_value stride_div;
	struct device *dev;
	enum dma_data_direction dma_dir;

	/* Tier 2. */
	atomic_t shared_owner ____cacheline_aligned_in_smp;	/* CPU + 1 */
	unsigned int shared_count;
	unsigned int shared_target;
	unsigned int shared_size;	/* 2 * shared_target */
	void **shared;

	/* Deferred frees, the worker's side. */
	struct llist_head overflow ____cacheline_aligned_in_smp;
	atomic_long_t overflow_count;
	struct llist_head drop;
	struct llist_head late;
	struct irq_work trim_kick;
	struct work_struct trim_work;

	struct mutex lock;		/* spill, page lists, releases */
	struct list_head spill_pages;
	struct list_head orphans;
	unsigned long spill_count;	/* reusable buffers in the spill */
	unsigned long spill_full;	/* pages with every buffer in it */
	struct xarray pages;

	unsigned int batch;
	unsigned int align;
	unsigned int buffer_bytes;
	gfp_t zone_gfp;
	bool live;			/* created; under aa_pools_lock */
	atomic_long_t bad_frees;
	unsigned long warned;		/* bit 0: a bad free was reported */
	atomic_long_t page_count;	/* pages held from the page allocator */
	long zombie_out;		/* after destroy: buffers still out */
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

static void aa_zombie_kick_fn(struct irq_work *work);
static void aa_zombie_work_fn(struct work_struct *work);
static struct irq_work aa_zombie_kick = IRQ_WORK_INIT_HARD(aa_zombie_kick_fn);
static DECLARE_WORK(aa_zombie_work, aa_zombie_work_fn);

VISIBLE_IF_KUNIT struct fault_attr atomic_alloc_fail_refill = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_fail_refill);

#if IS_ENABLED(CONFIG_KUNIT)
/* A KUnit suite may set this to stop a CPU at a point of the code. */
atomic_alloc_hook_fn atomic_alloc_test_hook;
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_test_hook);

static __always_inline void aa_hook(struct atomic_alloc_pool *pool,
				    enum atomic_alloc_hook where,
				    unsigned long arg)
{
	atomic_alloc_hook_fn fn = READ_ONCE(atomic_alloc_test_hook);

	if (unlikely(fn))
		fn(pool, where, arg);
}
#else
static __always_inline void aa_hook(struct atomic_alloc_pool *pool,
				    enum atomic_alloc_hook where,
				    unsigned long arg)
{
}
#endif

static unsigned long aa_release_pages(struct atomic_alloc_pool *pool, int why,
				      unsigned long keep);
static void aa_spill_back(struct atomic_alloc_pool *pool, void **elems,
			  unsigned int n);

/* ---- Pages, buffers, owner tags ---- */

static inline unsigned long *aa_owner(struct page *page)
{
	return (unsigned long *)&page->lru.prev;
}

static inline unsigned long aa_tag(const struct atomic_alloc_pool *pool)
{
	return (unsigned long)pool;
}

static inline struct aa_page *aa_meta(struct page *page)
{
	return (struct aa_page *)page_private(page);
}

/* A buffer ("element") is its head page, or for frag pools its address. */
static inline struct page *aa_elem_page(const struct atomic_alloc_pool *pool,
					void *elem)
{
	return pool->frag ? virt_to_head_page(elem) : elem;
}

/* Where a free element keeps its link on the lock-free lists. */
static inline struct llist_node *aa_link(const struct atomic_alloc_pool *pool,
					 void *elem)
{
	if (pool->frag)
		return elem;
	return (struct llist_node *)&((struct page *)elem)->lru.next;
}

static inline void *aa_link_elem(const struct atomic_alloc_pool *pool,
				 struct llist_node *node)
{
	if (pool->frag)
		return node;
	return container_of((struct list_head *)node, struct page, lru);
}

/* Index of a frag buffer in its page. */
static inline unsigned int aa_frag_index(const struct atomic_alloc_pool *pool,
					 struct page *page, const void *buf)
{
	u32 off = (u32)((const char *)buf - (const char *)page_address(page));

	return reciprocal_divide(off, pool->stride_div);
}

static inline unsigned long aa_buffer_pages(const struct atomic_alloc_pool *pool)
{
	return 1UL << pool->order;
}

/* ---- Pages in and out of the page allocator (process context or tier 3) */

/*
 * A new page for @pool, mapped and tracked, or NULL.  @gfp: the worker's
 * AA_REFILL_GFP or tier 3's masked caller gfp.
 */
static struct aa_page *aa_page_new(struct atomic_alloc_pool *pool, int nid,
				   gfp_t gfp)
{
	gfp_t pgfp = gfp | pool->zone_gfp | __GFP_NOWARN;
	struct aa_page *meta;
	struct page *page;
	dma_addr_t dma = DMA_MAPPING_ERROR;

	if (pool->order)
		pgfp |= __GFP_COMP;
	aa_hook(pool, AA_HOOK_PAGE_GFP, (__force unsigned long)pgfp);
	meta = kzalloc_node(sizeof(*meta), gfp & ~__GFP_ZERO, nid);
	if (!meta)
		return NULL;
	page = alloc_pages_node(nid, pgfp, pool->order);
	if (!page)
		goto err_meta;
	if (pool->dev) {
		/*
		 * Mapped once, for as long as the page is in the pool.  The
		 * buffer's user syncs for the device and back, as with
		 * page_pool's PP_FLAG_DMA_MAP.
		 */
		dma = dma_map_page_attrs(pool->dev, page, 0,
					 PAGE_SIZE << pool->order, pool->dma_dir,
					 DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(pool->dev, dma))
			goto err_page;
	}
	if (xa_alloc_bh(&pool->pages, &meta->id, meta, xa_limit_32b,
			gfp & ~__GFP_ZERO))
		goto err_unmap;

	meta->page = page;
	INIT_LIST_HEAD(&meta->node);
	BUILD_BUG_ON(sizeof(dma_addr_t) > sizeof(page->index));
	page->index = dma;
	set_page_private(page, (unsigned long)meta);
	WRITE_ONCE(*aa_owner(page), aa_tag(pool) |
		   (pool->frag ? AA_OWNER_FRAG : AA_OWNER_FREE));
	atomic_long_add(aa_buffer_pages(pool), &pool->page_count);
	atomic_long_add(aa_buffer_pages(pool), &aa_pages_held);
	return meta;

err_unmap:
	if (pool->dev)
		dma_unmap_page_attrs(pool->dev, dma, PAGE_SIZE << pool->order,
				     pool->dma_dir, DMA_ATTR_SKIP_CPU_SYNC);
err_page:
	__free_pages(page, pool->order);
err_meta:
	kfree(meta);
	return NULL;
}

/* After the grace period no tier-2 pop can still read a link in the page. */
static void aa_page_free_rcu(struct rcu_head *head)
{
	struct aa_page *meta = container_of(head, struct aa_page, rcu);

	put_page(meta->page);
	kfree(meta);
}

/*
 * Give a page back: unmap it (unless destroy did), untrack it, and drop the
 * pool's reference.  Whoever else still holds one frees the page with the
 * last put_page().  Process context, pool->lock held or the pool dead.
 */
static void aa_page_put(struct atomic_alloc_pool *pool, struct aa_page *meta)
{
	struct page *page = meta->page;

	if (pool->dev && !meta->scrubbed)
		dma_unmap_page_attrs(pool->dev, page->index,
				     PAGE_SIZE << pool->order, pool->dma_dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
	xa_erase_bh(&pool->pages, meta->id);
	page->index = 0;
	set_page_private(page, 0);
	WRITE_ONCE(*aa_owner(page), 0);
	page->lru.next = NULL;
	atomic_long_sub(aa_buffer_pages(pool), &pool->page_count);
	atomic_long_sub(aa_buffer_pages(pool), &aa_pages_held);
	if (pool->frag) {
		call_rcu(&meta->rcu, aa_page_free_rcu);
		return;
	}
	put_page(page);
	kfree(meta);
}

/* The buffers of a fresh page, into @elems; returns how many. */
static unsigned int aa_page_elems(struct atomic_alloc_pool *pool,
				  struct aa_page *meta, void **elems)
{
	char *base;
	unsigned int i;

	if (!pool->frag) {
		elems[0] = meta->page;
		return 1;
	}
	base = page_address(meta->page);
	for (i = 0; i < pool->per_page; i++)
		elems[i] = base + i * pool->stride;
	return pool->per_page;
}

/* ---- Tier 1: this CPU's array, lock-free (preemption disabled) ---- */

/*
 * Tier 1 needs its caller to stay on one CPU.  Wherever preempt_count() is
 * non-zero preemption is off already (softirq and BH-disabled sections off
 * PREEMPT_RT, hard IRQ, NMI, preempt_disable()): only a caller at zero pays
 * for preempt_disable().  The value read also tells an NMI from the rest,
 * and the caller's context (interrupts nest and restore it) keeps it.
 * Returns it, for aa_unpin() and aa_pc_nmi().
 */
static __always_inline unsigned int aa_pin(void)
{
	unsigned int pc = preempt_count();

	if (!pc)
		preempt_disable();
	return pc;
}

static __always_inline void aa_unpin(unsigned int pc)
{
	if (!pc)
		preempt_enable();
}

static __always_inline bool aa_pc_nmi(unsigned int pc)
{
	return pc & NMI_MASK;
}

/*
 * @top holds the level in its low bits and, above them, a count of the
 * operations that changed it.  An operation reads @top, then the slot it
 * takes or fills, and commits with one cmpxchg of @top.  An interrupt or
 * NMI that runs an operation on this array in between changes @top (the
 * count makes sure of it, even if the level is the same again), so the
 * commit fails and the interrupted operation, which has taken or given
 * nothing, tries again; the interrupting one was never disturbed.
 * Preemption is disabled, so only this CPU's own interrupts interleave, and
 * they cannot run 2^48 operations inside one interrupted operation.
 *
 * A push writes the slot above the level before its commit, which is safe
 * only if no other push commits between its read of @top and that write:
 * an interrupt's push would commit a buffer into that very slot, and the
 * write would overwrite it.  So a push holds @pushing, and an interrupt or
 * NMI that finds it held (it interrupted a push) does not push here.  A
 * plain flag is enough: interrupts nest, so a flag seen clear is clear
 * until this CPU returns to the code that read it.
 */
#define AA_TOP_LEVEL_BITS	16
#define AA_TOP_LEVEL		(BIT(AA_TOP_LEVEL_BITS) - 1)
#define AA_TOP_OP		BIT(AA_TOP_LEVEL_BITS)

static inline unsigned long aa_top_level(unsigned long top)
{
	return top & AA_TOP_LEVEL;
}

/*
 * Takes a buffer into *@elem and returns true; false when the array is
 * empty, or when this caller interrupted a push on it and @nested is given
 * (*@nested set then).  Sets *@kick when the array dropped below its low
 * watermark.  A pop is safe inside an interrupted push (it writes nothing
 * before its commit); a caller that interrupted a push still tries the
 * shared reserve first, so that what nested frees put there (they may not
 * push) comes back out: otherwise the nested callers would move buffers
 * from this CPU's array into the reserve, one by one.
 */
static __always_inline bool aa_cpu_pop(struct atomic_alloc_pool *pool,
				       struct aa_cpu __percpu *pcpu,
				       void **elem, bool *kick, bool *nested)
{
	unsigned long top, level;

	if (nested && unlikely(__this_cpu_read(pcpu->pushing))) {
		*nested = true;
		return false;
	}
	for (;;) {
		top = __this_cpu_read(pcpu->top);
		level = aa_top_level(top);
		if (unlikely(!level))
			return false;
		*elem = __this_cpu_read(pcpu->slots[level - 1]);
		barrier();
		aa_hook(pool, AA_HOOK_POP, level);
		if (likely(this_cpu_try_cmpxchg(pcpu->top, &top,
						top + AA_TOP_OP - 1)))
			break;
		/* An interrupt or NMI used the array meanwhile. */
		this_cpu_inc(pcpu->alloc_nested);
	}
	*kick = level <= pool->low;
	return true;
}

/*
 * Returns false when the array is full, or when this caller interrupted a
 * push on it (*@nested set then).
 */
static __always_inline bool aa_cpu_push(struct atomic_alloc_pool *pool,
					struct aa_cpu __percpu *pcpu,
					void *elem, bool *nested)
{
	unsigned long top, level;

	if (unlikely(__this_cpu_read(pcpu->pushing))) {
		*nested = true;
		return false;
	}
	__this_cpu_write(pcpu->pushing, 1);
	barrier();
	for (;;) {
		top = __this_cpu_read(pcpu->top);
		level = aa_top_level(top);
		if (unlikely(level >= pool->high))
			break;
		aa_hook(pool, AA_HOOK_PUSH, level);
		__this_cpu_write(pcpu->slots[level], elem);
		barrier();
		if (likely(this_cpu_try_cmpxchg(pcpu->top, &top,
						top + AA_TOP_OP + 1))) {
			barrier();
			__this_cpu_write(pcpu->pushing, 0);
			return true;
		}
		/* An interrupt or NMI took from the array meanwhile. */
		this_cpu_inc(pcpu->free_nested);
	}
	barrier();
	__this_cpu_write(pcpu->pushing, 0);
	return false;
}

static inline unsigned int aa_cpu_level(struct aa_cpu *c)
{
	return aa_top_level(READ_ONCE(c->top));
}

/* While nothing can run an operation on @c's array (its CPU is down). */
static void aa_cpu_set_level(struct aa_cpu *c, unsigned int level)
{
	BUILD_BUG_ON(ATOMIC_ALLOC_MAX_CPU_BUFFERS >= AA_TOP_LEVEL);
	WRITE_ONCE(c->top, (c->top & ~AA_TOP_LEVEL) + AA_TOP_OP + level);
}

/* ---- Tier 2: the shared reserve, any context on any CPU ---- */

/*
 * Take the reserve's lock, spinning only while another CPU holds it (its
 * holder is inside a few instructions and waits for nothing).  Returns
 * false, without taking it, to a caller that interrupted the holder on its
 * own CPU.  Preemption disabled.
 */
static __always_inline bool aa_shared_lock(struct atomic_alloc_pool *pool)
{
	int me = smp_processor_id() + 1, old;

	for (;;) {
		old = 0;
		if (likely(atomic_try_cmpxchg_acquire(&pool->shared_owner, &old,
						      me)))
			return true;
		if (old == me)
			return false;
		this_cpu_inc(pool->cpu->retries);
		while (atomic_read(&pool->shared_owner))
			cpu_relax();
	}
}

static __always_inline void aa_shared_unlock(struct atomic_alloc_pool *pool)
{
	atomic_set_release(&pool->shared_owner, 0);
}

/* Returns NULL when the reserve is empty or held on this CPU (@nested). */
static void *aa_shared_pop_nested(struct atomic_alloc_pool *pool,
				  bool *nested)
{
	void *elem = NULL;
	unsigned int n;

	preempt_disable();
	if (likely(aa_shared_lock(pool))) {
		n = pool->shared_count;
		if (n) {
			elem = pool->shared[--n];
			WRITE_ONCE(pool->shared_count, n);
		}
		aa_shared_unlock(pool);
	} else {
		*nested = true;
	}
	preempt_enable();
	return elem;
}

static void *aa_shared_pop(struct atomic_alloc_pool *pool)
{
	bool nested = false;

	return aa_shared_pop_nested(pool, &nested);
}

/* Returns false when the reserve holds @limit or more, or is busy here. */
static bool aa_shared_push_nested(struct atomic_alloc_pool *pool, void *elem,
				  unsigned int limit, bool *nested)
{
	bool done = false;
	unsigned int n;

	preempt_disable();
	if (likely(aa_shared_lock(pool))) {
		n = pool->shared_count;
		if (n < limit) {
			pool->shared[n] = elem;
			WRITE_ONCE(pool->shared_count, n + 1);
			done = true;
		}
		aa_shared_unlock(pool);
	} else {
		*nested = true;
	}
	preempt_enable();
	return done;
}

static bool aa_shared_push(struct atomic_alloc_pool *pool, void *elem,
			   unsigned int limit)
{
	bool nested = false;

	return aa_shared_push_nested(pool, elem, limit, &nested);
}

static inline unsigned int aa_shared_level(struct atomic_alloc_pool *pool)
{
	return READ_ONCE(pool->shared_count);
}

/* ---- Deferred lists: any context, drained by the worker ---- */

static void aa_kick_trim(struct atomic_alloc_pool *pool)
{
	if (!irq_work_is_pending(&pool->trim_kick))
		irq_work_queue(&pool->trim_kick);
}

static void aa_overflow_add(struct atomic_alloc_pool *pool, void *elem)
{
	/* Counted before it is visible, so the count never goes below. */
	atomic_long_inc(&pool->overflow_count);
	aa_hook(pool, AA_HOOK_OVERFLOW, 0);
	llist_add(aa_link(pool, elem), &pool->overflow);
	aa_kick_trim(pool);
}

/* Never hand this page out again (someone else holds a reference). */
static void aa_orphan(struct atomic_alloc_pool *pool, void *elem)
{
	set_bit(AA_ORPHAN_BIT, aa_owner(aa_elem_page(pool, elem)));
}

/* ---- Tier 3 ---- */

/*
 * May tier 3 call the page allocator from here?  Only where a spinlock_t
 * may be taken on PREEMPT_RT, on every kernel: the zone and per-CPU list
 * locks (and the DMA API's) are spinlock_t, which sleeps on RT.  So never in
 * NMI, in hard IRQ or with interrupts off; on RT only where preemptible()
 * (so not under a raw spinlock or preempt_disable() either); elsewhere not
 * under a raw spinlock where lockdep can tell.  A generic kernel without
 * lockdep cannot see a raw spinlock held with interrupts on, nor a
 * preempt_disable() section, and lets those through.
 */
static bool aa_direct_allowed(void)
{
	if (in_nmi() || in_hardirq() || irqs_disabled())
		return false;
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return preemptible();
	return !aa_raw_lock_held();
}

static void aa_spill_add(struct atomic_alloc_pool *pool, void *elem);

static void *aa_alloc_direct(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	void *elems[ATOMIC_ALLOC_MAX_BUFS_PER_PAGE];
	struct aa_page *meta = NULL;
	bool allowed = gfp && aa_direct_allowed();
	bool nested = false;
	unsigned int n, i;

	if (allowed)
		meta = aa_page_new(pool, numa_mem_id(),
				   (gfp & AA_CALLER_GFP) | __GFP_NOWARN);
	if (!meta) {
		this_cpu_inc(pool->cpu->alloc_failed);
		trace_atomic_alloc_fail(pool->name, raw_smp_processor_id(), gfp,
					allowed);
		return NULL;
	}
	this_cpu_inc(pool->cpu->alloc_direct);
	trace_atomic_alloc_fallback(pool->name, raw_smp_processor_id(), 3);
	n = aa_page_elems(pool, meta, elems);
	/* The other buffers of a carved page go into the tiers. */
	preempt_disable();
	for (i = 1; i < n; i++) {
		if (!aa_cpu_push(pool, pool->cpu, elems[i], &nested) &&
		    !aa_shared_push(pool, elems[i], pool->shared_size))
			aa_overflow_add(pool, elems[i]);
	}
	preempt_enable();
	return elems[0];
}

/* ---- Allocation ---- */

/* A whole-page buffer is marked as out from @pool before it is returned. */
static __always_inline void *aa_alloc_out(struct atomic_alloc_pool *pool,
					  void *elem, bool whole)
{
	if (whole && likely(elem))
		WRITE_ONCE(*aa_owner(elem), aa_tag(pool));
	return elem;
}

/*
 * Tier 1 served and left this CPU's array below its low watermark: kick
 * the refill (out of line, so that the fast path makes no call of its own).
 */
static noinline void *aa_alloc_kick(struct aa_cpu __percpu *pcpu, void *elem,
				    unsigned int pc)
{
	struct irq_work *kick = this_cpu_ptr(&pcpu->kick);

	if (!irq_work_is_pending(kick))
		irq_work_queue(kick);
	aa_unpin(pc);
	return elem;
}

/* Taken from tier 1: mark, count, kick; aa_unpin()s. */
static __always_inline void *aa_alloc_local(struct atomic_alloc_pool *pool,
					    struct aa_cpu __percpu *pcpu,
					    void *elem, bool whole, bool kick,
					    unsigned int pc)
{
	if (whole)
		WRITE_ONCE(*aa_owner(elem), aa_tag(pool));
	this_cpu_inc(pcpu->alloc_local);
	if (unlikely(aa_pc_nmi(pc)))
		this_cpu_inc(pcpu->alloc_nmi);
	if (unlikely(kick))
		return aa_alloc_kick(pcpu, elem, pc);
	aa_unpin(pc);
	return elem;
}

/*
 * Tiers 2 to 4, out of line so that the fast path stays small.  Called
 * aa_pin()ned (@pc) and with this CPU's array empty, or busy with a push
 * this caller interrupted (@nested: the reserve first, then the array after
 * all); aa_unpin()s before tier 3.
 */
static noinline void *aa_alloc_slow(struct atomic_alloc_pool *pool,
				    gfp_t gfp, bool whole, bool nested,
				    unsigned int pc)
{
	struct aa_cpu __percpu *pcpu = pool->cpu;
	bool held = false, kick = false;
	struct irq_work *refill;
	void *elem = NULL;

	if (likely(!READ_ONCE(pool->dead))) {
		elem = aa_shared_pop_nested(pool, &held);
		/* Interrupted this CPU inside tier 1 or tier 2: counted once. */
		if (nested || held)
			this_cpu_inc(pcpu->alloc_nested);
		if (!elem && nested &&
		    aa_cpu_pop(pool, pcpu, &elem, &kick, NULL))
			return aa_alloc_local(pool, pcpu, elem, whole, kick,
					      pc);
		refill = this_cpu_ptr(&pcpu->kick);
		if (!nested && !irq_work_is_pending(refill))
			irq_work_queue(refill);
	}
	if (elem) {
		this_cpu_inc(pcpu->alloc_remote);
		if (unlikely(aa_pc_nmi(pc)))
			this_cpu_inc(pcpu->alloc_nmi);
		aa_unpin(pc);
		trace_atomic_alloc_fallback(pool->name, raw_smp_processor_id(), 2);
		return aa_alloc_out(pool, elem, whole);
	}
	if (unlikely(aa_pc_nmi(pc)))
		this_cpu_inc(pcpu->alloc_nmi);
	aa_unpin(pc);
	if (WARN_ONCE(READ_ONCE(pool->dead),
		      "atomic_alloc: %s: allocation after destroy\n", pool->name))
		return NULL;
	return aa_alloc_out(pool, aa_alloc_direct(pool, gfp), whole);
}

static __always_inline void *aa_alloc_nosleep(struct atomic_alloc_pool *pool,
					      gfp_t gfp, bool whole)
{
	struct aa_cpu __percpu *pcpu = pool->cpu;
	bool nested = false, kick;
	unsigned int pc;
	void *elem;

	pc = aa_pin();
	if (unlikely(!aa_cpu_pop(pool, pcpu, &elem, &kick, &nested)))
		return aa_alloc_slow(pool, gfp, whole, nested, pc);
	return aa_alloc_local(pool, pcpu, elem, whole, kick, pc);
}

/* A caller that may sleep: out of line, so that the fast path calls nothing. */
static noinline void *aa_alloc_may_sleep(struct atomic_alloc_pool *pool,
					 gfp_t gfp, bool whole)
{
	might_alloc(gfp);
	return aa_alloc_nosleep(pool, gfp, whole);
}

/*
 * might_alloc() does nothing without __GFP_DIRECT_RECLAIM (neither its
 * might_sleep() nor lockdep's fs_reclaim annotation).
 */
static __always_inline void *aa_alloc(struct atomic_alloc_pool *pool,
				      gfp_t gfp, bool whole)
{
	if (unlikely(gfp & __GFP_DIRECT_RECLAIM))
		return aa_alloc_may_sleep(pool, gfp, whole);
	return aa_alloc_nosleep(pool, gfp, whole);
}

/**
 * atomic_alloc_page() - take a whole-page buffer from a pool
 * @pool: the pool, created without buffer_bytes
 * @gfp: flags for the page-allocator fallback (tier 3), e.g. %GFP_KERNEL
 *	in process context; 0 means "pool tiers only, never the page
 *	allocator", the right value in atomic context.  Only the reclaim and
 *	priority bits are used; the zone is the pool's, and tier 3 runs only
 *	where a spinlock_t may be taken on PREEMPT_RT.
 *
 * Takes a buffer from this CPU's array, else from the shared reserve, else
 * (only when @gfp is non-zero and the context allows it) from the page
 * allocator.  Kicks the refill worker (through an irq_work) when this CPU's
 * array drops below its low watermark; never waits for it.  The buffer is
 * 2^order pages, a compound page for order > 0, DMA-mapped if the pool has
 * a device.
 *
 * Context: Any context, NMI included: task, softirq, hard IRQ, IRQs
 * disabled, under a raw spinlock, also on PREEMPT_RT.  Takes no lock and
 * does not disable interrupts.  An NMI or interrupt that arrives while
 * this CPU is inside the pool is served as any caller is: from this CPU's
 * array even if it interrupted an operation on it (that operation then
 * tries again; if it was a free, the shared reserve is tried first), from
 * the shared reserve, or %NULL if the array is empty and the reserve is
 * what it interrupted (counted in alloc_nested).  In NMI, hard IRQ or with IRQs off
 * only tiers 1 and 2 serve it.  Sleeps only in tier 3, and only if @gfp
 * allows it.
 * Return: the head page of the buffer, or %NULL.
 */
struct page *atomic_alloc_page(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	if (WARN_ON_ONCE(!pool || pool->frag))
		return NULL;
	return aa_alloc(pool, gfp, true);
}
EXPORT_SYMBOL_GPL(atomic_alloc_page);

/*
 * A frag buffer whose page was orphaned (a sibling was freed while the
 * page was referenced elsewhere) is never handed out: it goes to the worker.
 */
static void aa_drop(struct atomic_alloc_pool *pool, void *elem)
{
	llist_add(aa_link(pool, elem), &pool->drop);
	aa_kick_trim(pool);
}

/**
 * atomic_alloc_buf() - take a buffer from a pool, by its CPU address
 * @pool: the pool
 * @gfp: as for atomic_alloc_page()
 *
 * The same tiers and rules as atomic_alloc_page(); works on whole-page
 * pools (it returns the page's address) and on pools of buffer_bytes,
 * whose buffers share pages.  The buffer is atomic_alloc_buf_bytes() long
 * and aligned as the pool's parameters say.
 *
 * Context: As atomic_alloc_page(): any context, NMI included.
 * Return: the buffer's kernel virtual address, or %NULL.
 */
void *atomic_alloc_buf(struct atomic_alloc_pool *pool, gfp_t gfp)
{
	struct page *page;
	void *buf;

	if (WARN_ON_ONCE(!pool))
		return NULL;
	if (!pool->frag) {
		page = atomic_alloc_page(pool, gfp);
		return page ? page_address(page) : NULL;
	}
	for (;;) {
		buf = aa_alloc(pool, gfp, false);
		if (unlikely(!buf))
			return NULL;
		page = virt_to_head_page(buf);
		if (likely(!(READ_ONCE(*aa_owner(page)) & AA_OWNER_ORPHAN)))
			break;
		/* Taken back at once: counted as freed, so never outstanding. */
		aa_drop(pool, buf);
		this_cpu_inc(pool->cpu->freed);
	}
	if (IS_ENABLED(CONFIG_ATOMIC_ALLOC_DEBUG))
		set_bit(aa_frag_index(pool, page, buf), &aa_meta(page)->out);
	return buf;
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf);

/* ---- Free ---- */

/* Refused: counted, and warned about once per pool. */
static noinline void aa_bad_free(struct atomic_alloc_pool *pool,
				 struct page *page, const void *buf,
				 const char *why)
{
	atomic_long_inc(&pool->bad_frees);
	if (test_and_set_bit(0, &pool->warned))
		return;
	WARN(1, "atomic_alloc: %s: refused free of %s%p (pfn %lx): %s\n",
	     pool->name, buf ? "buffer " : "page ",
	     buf ? buf : (const void *)page, page ? page_to_pfn(page) : 0UL,
	     why);
}

static const char *aa_owner_problem(struct atomic_alloc_pool *pool,
				    struct page *page, unsigned long owner)
{
	if (PageTail(page))
		return "a tail page, not the head page the pool handed out";
	if (owner == (aa_tag(pool) | AA_OWNER_FREE) ||
	    owner == (aa_tag(pool) | AA_OWNER_FREE | AA_OWNER_ORPHAN))
		return "double free";
	if ((owner & ~AA_OWNER_BITS) == aa_tag(pool))
		return "a page of this pool that is not a buffer of this kind";
	return "not a buffer handed out by this pool";
}

/* Refused for what its owner word says (out of line, as aa_bad_free()). */
static noinline void aa_bad_owner(struct atomic_alloc_pool *pool,
				  struct page *page, const void *buf,
				  unsigned long owner)
{
	aa_bad_free(pool, page, buf, aa_owner_problem(pool, page, owner));
}

/* Late: the pool is being destroyed.  Touch nothing of it after the add. */
static void aa_free_late(struct atomic_alloc_pool *pool, void *elem)
{
	llist_add(aa_link(pool, elem), &pool->late);
	irq_work_queue(&aa_zombie_kick);
}

/*
 * Tier 1 full or busy with a push this caller interrupted (@nested), or the
 * buffer still referenced elsewhere (@busy): the shared reserve, else a
 * list the worker drains.  Called aa_pin()ned (@pc); aa_unpin()s.
 */
static noinline void aa_free_slow(struct atomic_alloc_pool *pool, void *elem,
				  bool busy, bool nested, unsigned int pc)
{
	struct aa_cpu __percpu *pcpu = pool->cpu;
	bool held = false;

	if (busy) {
		aa_orphan(pool, elem);
		aa_drop(pool, elem);
	} else {
		if (aa_shared_push_nested(pool, elem, pool->shared_size, &held))
			goto out;
		aa_overflow_add(pool, elem);
	}
	this_cpu_inc(pcpu->free_deferred);
out:
	/* Interrupted this CPU inside tier 1 or tier 2: counted once. */
	if (nested || held)
		this_cpu_inc(pcpu->free_nested);
	this_cpu_inc(pcpu->freed);
	if (unlikely(aa_pc_nmi(pc)))
		this_cpu_inc(pcpu->free_nmi);
	aa_unpin(pc);
}

/* The pool is being destroyed.  Called, and returns, as aa_free_slow(). */
static noinline void aa_free_dead(struct atomic_alloc_pool *pool, void *elem,
				  bool busy, unsigned int pc)
{
	if (busy)
		aa_orphan(pool, elem);
	aa_free_late(pool, elem);
	aa_unpin(pc);
}

static __always_inline void aa_free(struct atomic_alloc_pool *pool,
				    void *elem, bool busy)
{
	struct aa_cpu __percpu *pcpu = pool->cpu;
	bool nested = false;
	unsigned int pc;

	pc = aa_pin();
	if (unlikely(READ_ONCE(pool->dead)))
		return aa_free_dead(pool, elem, busy, pc);
	aa_hook(pool, AA_HOOK_FREE, 0);
	if (unlikely(busy) || unlikely(!aa_cpu_push(pool, pcpu, elem, &nested)))
		return aa_free_slow(pool, elem, busy, nested, pc);
	this_cpu_inc(pcpu->freed);
	if (unlikely(aa_pc_nmi(pc)))
		this_cpu_inc(pcpu->free_nmi);
	aa_unpin(pc);
}

/* Still referenced elsewhere: never recycled (out of line, as rare). */
static noinline void aa_free_busy(struct atomic_alloc_pool *pool, void *elem)
{
	aa_free(pool, elem, true);
}

/**
 * atomic_alloc_free() - give a whole-page buffer back to its pool
 * @pool: the pool it was allocated from
 * @page: the head page atomic_alloc_page() returned
 *
 * The buffer goes into this CPU's array (which need not be the CPU that
 * allocated it), else into the shared reserve, else onto a list that the
 * worker drains in process context; the caller never frees pages.  The DMA
 * mapping stays.  A buffer whose page is still referenced by someone else
 * (page_ref_count() above the pool's own 1) is not recycled: the worker
 * unmaps it and drops the pool's reference, and it is counted in
 * released_refcnt.  A page that is not out from @pool (another pool's, one
 * that never came from a pool, a tail page, a buffer already freed) is
 * refused with a WARN_ONCE, counted in bad_frees and left untouched; with
 * %CONFIG_ATOMIC_ALLOC_DEBUG the check is atomic, so that two racing frees
 * of one buffer cannot both pass.
 *
 * Context: Any context, NMI included, as atomic_alloc_page().  Takes no
 * lock, does not disable interrupts, never sleeps.
 */
void atomic_alloc_free(struct atomic_alloc_pool *pool, struct page *page)
{
	unsigned long *owner, tag, old;

	if (WARN_ON_ONCE(!pool || !page))
		return;
	owner = aa_owner(page);
	tag = aa_tag(pool);
	if (IS_ENABLED(CONFIG_ATOMIC_ALLOC_DEBUG)) {
		old = tag;
		if (unlikely(!try_cmpxchg(owner, &old, tag | AA_OWNER_FREE)))
			return aa_bad_owner(pool, page, NULL, old);
	} else {
		old = READ_ONCE(*owner);
		if (unlikely(old != tag))
			return aa_bad_owner(pool, page, NULL, old);
		WRITE_ONCE(*owner, tag | AA_OWNER_FREE);
	}
	if (unlikely(page_ref_count(page) != 1))
		return aa_free_busy(pool, page);
	aa_free(pool, page, false);
}
EXPORT_SYMBOL_GPL(atomic_alloc_free);

/**
 * atomic_alloc_buf_free() - give a buffer from atomic_alloc_buf() back
 * @pool: the pool it came from
 * @buf: the address atomic_alloc_buf() returned
 *
 * As atomic_alloc_free(), for both kinds of pool.  A buffer smaller than a
 * page goes back into the tiers on its own; its page returns to the page
 * allocator only once all the buffers of that page are home.  An address
 * that is not the start of a buffer out from @pool is refused with a
 * WARN_ONCE and counted in bad_frees; with %CONFIG_ATOMIC_ALLOC_DEBUG a
 * double free is caught too.
 *
 * Context: Any context, NMI included, as atomic_alloc_free().
 */
void atomic_alloc_buf_free(struct atomic_alloc_pool *pool, void *buf)
{
	unsigned long owner;
	struct page *page;
	unsigned int idx;

	if (WARN_ON_ONCE(!pool || !buf))
		return;
	if (unlikely(!virt_addr_valid(buf)))
		return aa_bad_free(pool, NULL, buf, "not a kernel linear address");
	if (!pool->frag) {
		page = virt_to_page(buf);
		if (unlikely(offset_in_page(buf)))
			return aa_bad_free(pool, page, buf,
					   "not the start of a buffer");
		return atomic_alloc_free(pool, page);
	}
	page = virt_to_head_page(buf);
	owner = READ_ONCE(*aa_owner(page));
	if (unlikely((owner & ~AA_OWNER_ORPHAN) != (aa_tag(pool) | AA_OWNER_FRAG)))
		return aa_bad_free(pool, page, buf,
				   aa_owner_problem(pool, page, owner));
	idx = aa_frag_index(pool, page, buf);
	if (unlikely(idx >= pool->per_page ||
		     (char *)page_address(page) + idx * pool->stride != buf))
		return aa_bad_free(pool, page, buf, "not the start of a buffer");
	if (IS_ENABLED(CONFIG_ATOMIC_ALLOC_DEBUG) &&
	    unlikely(!test_and_clear_bit(idx, &aa_meta(page)->out)))
		return aa_bad_free(pool, page, buf, "double free");
	if (unlikely(page_ref_count(page) != 1 || (owner & AA_OWNER_ORPHAN)))
		return aa_free_busy(pool, buf);
	aa_free(pool, buf, false);
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_free);

/**
 * atomic_alloc_dma_addr() - DMA address of a whole-page buffer
 * @pool: the pool the buffer came from
 * @page: the buffer's head page
 *
 * Context: Any context.  Takes no lock.
 * Return: the address the buffer is mapped at for the pool's device, or
 * %DMA_MAPPING_ERROR if the pool was created without a device (or was
 * destroyed, which unmapped the buffer).
 */
dma_addr_t atomic_alloc_dma_addr(struct atomic_alloc_pool *pool,
				 struct page *page)
{
	if (!pool->dev)
		return DMA_MAPPING_ERROR;
	return (dma_addr_t)READ_ONCE(page->index);
}
EXPORT_SYMBOL_GPL(atomic_alloc_dma_addr);

/**
 * atomic_alloc_buf_dma() - DMA address of a buffer from atomic_alloc_buf()
 * @pool: the pool it came from
 * @buf: the address atomic_alloc_buf() returned
 *
 * A buffer smaller than a page is its page's mapping plus its offset in
 * the page: the page was mapped once, when it entered the pool.
 *
 * Context: Any context.  Takes no lock.
 * Return: the bus address of @buf for the pool's device, or
 * %DMA_MAPPING_ERROR if the pool was created without a device (or was
 * destroyed).
 */
dma_addr_t atomic_alloc_buf_dma(struct atomic_alloc_pool *pool,
				const void *buf)
{
	struct page *page = virt_to_head_page(buf);
	dma_addr_t dma;

	if (!pool->dev)
		return DMA_MAPPING_ERROR;
	dma = (dma_addr_t)READ_ONCE(page->index);
	if (dma == DMA_MAPPING_ERROR)
		return dma;
	return dma + ((const char *)buf - (const char *)page_address(page));
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_dma);

/**
 * atomic_alloc_buf_bytes() - size of a pool's buffers
 * @pool: the pool
 *
 * Context: Any context.
 * Return: the bytes of one buffer: PAGE_SIZE << order, or buffer_bytes
 * (as asked, not rounded up to the alignment).
 */
unsigned int atomic_alloc_buf_bytes(const struct atomic_alloc_pool *pool)
{
	return pool->frag ? pool->buffer_bytes : PAGE_SIZE << pool->order;
}
EXPORT_SYMBOL_GPL(atomic_alloc_buf_bytes);

/* ---- The worker's surplus ("spill"), process context, pool->lock ---- */

/* Move a page whose buffers are in the spill to the orphans. */
static void aa_spill_orphan(struct atomic_alloc_pool *pool,
			    struct aa_page *meta)
{
	pool->spill_count -= meta->nspill;
	if (meta->nspill == pool->per_page)
		pool->spill_full--;
	list_move_tail(&meta->node, &pool->orphans);
	meta->on_orphans = true;
}

/* Put a free buffer into the spill; a page with every buffer home counts. */
static void aa_spill_add(struct atomic_alloc_pool *pool, void *elem)
{
	struct page *page = aa_elem_page(pool, elem);
	struct aa_page *meta = aa_meta(page);
	bool orphan = READ_ONCE(*aa_owner(page)) & AA_OWNER_ORPHAN;

	lockdep_assert_held(&pool->lock);
	/* Orphaned since its first buffers came home: stop counting them. */
	if (orphan && meta->on_list && !meta->on_orphans)
		aa_spill_orphan(pool, meta);
	aa_link(pool, elem)->next = meta->spill;
	meta->spill = elem;
	if (!meta->on_list) {
		list_add_tail(&meta->node, orphan ? &pool->orphans :
						    &pool->spill_pages);
		meta->on_list = true;
		meta->on_orphans = orphan;
	}
	meta->nspill++;
	if (orphan)
		return;
	pool->spill_count++;
	if (meta->nspill == pool->per_page)
		pool->spill_full++;
}

/* Take up to @n reusable buffers out of the spill. */
static unsigned int aa_spill_take(struct atomic_alloc_pool *pool,
				  void **elems, unsigned int n)
{
	struct aa_page *meta, *tmp;
	unsigned int got = 0;

	lockdep_assert_held(&pool->lock);
	list_for_each_entry_safe(meta, tmp, &pool->spill_pages, node) {
		if (got == n)
			break;
		if (READ_ONCE(*aa_owner(meta->page)) & AA_OWNER_ORPHAN) {
			aa_spill_orphan(pool, meta);
			continue;
		}
		if (meta->nspill == pool->per_page)
			pool->spill_full--;
		while (got < n && meta->spill) {
			elems[got++] = meta->spill;
			meta->spill = aa_link(pool, meta->spill)->next;
			meta->nspill--;
			pool->spill_count--;
		}
		if (!meta->nspill) {
			list_del_init(&meta->node);
			meta->on_list = false;
		}
	}
	return got;
}

/* Empty a deferred llist into the spill; returns how many. */
static unsigned long aa_spill_llist(struct atomic_alloc_pool *pool,
				    struct llist_head *head)
{
	struct llist_node *node = llist_del_all(head), *next;
	unsigned long n = 0;

	for (; node; node = next, n++) {
		next = READ_ONCE(node->next);
		aa_spill_add(pool, aa_link_elem(pool, node));
	}
	return n;
}

/*
 * Give back the pages all of whose buffers are in the spill, while the
 * spill holds more than @keep reusable buffers (the worker keeps some for
 * the next refill; the shrinker and destroy keep none), and orphaned pages
 * once their last buffer is home.  Returns the buffers released.
 */
static unsigned long aa_release_pages(struct atomic_alloc_pool *pool, int why,
				      unsigned long keep)
{
	struct aa_page *meta, *tmp;
	unsigned long n = 0, refcnt = 0;

	lockdep_assert_held(&pool->lock);
	list_for_each_entry_safe(meta, tmp, &pool->spill_pages, node) {
		if (READ_ONCE(*aa_owner(meta->page)) & AA_OWNER_ORPHAN) {
			aa_spill_orphan(pool, meta);
		} else if (meta->nspill == pool->per_page &&
			   pool->spill_count >= keep + pool->per_page) {
			pool->spill_count -= meta->nspill;
			pool->spill_full--;
			list_del(&meta->node);
			aa_page_put(pool, meta);
			n += pool->per_page;
		}
	}
	list_for_each_entry_safe(meta, tmp, &pool->orphans, node) {
		if (meta->nspill != pool->per_page)
			continue;
		list_del(&meta->node);
		aa_page_put(pool, meta);
		refcnt += pool->per_page;
	}
	if (n) {
		this_cpu_add(pool->cpu->released, n);
		trace_atomic_alloc_release(pool->name, n, why);
	}
	if (refcnt) {
		this_cpu_add(pool->cpu->released_refcnt, refcnt);
		trace_atomic_alloc_release(pool->name, refcnt,
					   AA_RELEASE_REFCNT);
	}
	return n;
}

/* Collect the worker's lists: overflow (surplus) and drop (orphans). */
static void aa_collect(struct atomic_alloc_pool *pool)
{
	unsigned long n;

	lockdep_assert_held(&pool->lock);
	n = aa_spill_llist(pool, &pool->overflow);
	/* Paired with the increment before llist_add() in aa_overflow_add(). */
	atomic_long_sub(n, &pool->overflow_count);
	aa_spill_llist(pool, &pool->drop);
}

/*
 * Buffers for a refill: the spill first, then the shared reserve above its
 * target.  Refilling a CPU from them keeps the buffers that frees on other
 * CPUs brought back in use, instead of releasing those while allocating new
 * ones.  Fresh pages make up the rest, allocated without the lock (so that
 * the other CPUs' refills and the shrinker are not held up by reclaim);
 * their buffers that are not needed now go into the spill.  Returns how
 * many; *@fresh counts the new ones.
 */
static unsigned int aa_gather(struct atomic_alloc_pool *pool, void **elems,
			      unsigned int n, int nid, unsigned int *fresh,
			      bool *failed)
{
	void *page_elems[ATOMIC_ALLOC_MAX_BUFS_PER_PAGE];
	unsigned int got, k, i, extra = 0;
	struct aa_page *meta;
	void *elem;

	mutex_lock(&pool->lock);
	aa_collect(pool);
	got = aa_spill_take(pool, elems, n);
	mutex_unlock(&pool->lock);
	while (got < n && aa_shared_level(pool) > pool->shared_target) {
		elem = aa_shared_pop(pool);
		if (!elem)
			break;
		elems[got++] = elem;
	}
	while (got < n) {
		meta = NULL;
		if (!should_fail(&atomic_alloc_fail_refill,
				 PAGE_SIZE << pool->order))
			meta = aa_page_new(pool, nid, AA_REFILL_GFP);
		if (!meta) {
			*failed = true;
			this_cpu_inc(pool->cpu->refill_failed);
			break;
		}
		k = aa_page_elems(pool, meta, page_elems);
		this_cpu_add(pool->cpu->refilled, k);
		*fresh += k;
		for (i = 0; i < k && got < n; i++)
			elems[got++] = page_elems[i];
		/* Only the last page can leave buffers over. */
		extra = k - i;
		if (extra)
			memmove(page_elems, page_elems + i,
				extra * sizeof(*page_elems));
	}
	aa_spill_back(pool, page_elems, extra);
	return got;
}

/* Back into the spill: buffers the refill could not place. */
static void aa_spill_back(struct atomic_alloc_pool *pool, void **elems,
			  unsigned int n)
{
	unsigned int i;

	if (!n)
		return;
	mutex_lock(&pool->lock);
	for (i = 0; i < n; i++)
		aa_spill_add(pool, elems[i]);
	mutex_unlock(&pool->lock);
}

/*
 * Push @n buffers into @pc's array if we run on its CPU, the rest into the
 * shared reserve up to its target.  Returns how many are left in @elems.
 */
static unsigned int aa_place(struct atomic_alloc_pool *pool, struct aa_cpu *pc,
			     void **elems, unsigned int n)
{
	bool nested = false;
	unsigned int i = 0;

	preempt_disable();
	if (smp_processor_id() == pc->cpu && !READ_ONCE(pool->dead)) {
		while (i < n &&
		       aa_cpu_push(pool, pool->cpu, elems[i], &nested))
			i++;
	}
	preempt_enable();
	while (i < n && aa_shared_push(pool, elems[i], pool->shared_target))
		i++;
	if (i && i < n)
		memmove(elems, elems + i, (n - i) * sizeof(*elems));
	return n - i;
}

static bool aa_refill_cpu(struct atomic_alloc_pool *pool, struct aa_cpu *pc)
{
	void *elems[AA_MAX_BATCH];
	unsigned int want, n, got, left, fresh = 0;
	int nid = cpu_to_node(pc->cpu);
	bool failed = false;

	for (;;) {
		want = pool->high - min(aa_cpu_level(pc), pool->high);
		if (!want)
			break;
		n = min(want, pool->batch);
		got = aa_gather(pool, elems, n, nid, &fresh, &failed);
		aa_hook(pool, AA_HOOK_REFILL, got);
		left = aa_place(pool, pc, elems, got);
		aa_spill_back(pool, elems, left);
		/* Not on pc's CPU (it went offline), or out of memory. */
		if (failed || left)
			break;
	}
	trace_atomic_alloc_refill(pool->name, pc->cpu, fresh, aa_cpu_level(pc),
				  failed);
	return !failed;
}

static bool aa_refill_shared(struct atomic_alloc_pool *pool, int nid)
{
	void *elems[AA_MAX_BATCH];
	unsigned int want, got, i, fresh = 0;
	bool failed = false;

	for (;;) {
		want = pool->shared_target -
		       min_t(long, aa_shared_level(pool),
			     pool->shared_target);
		if (!want)
			return true;
		got = aa_gather(pool, elems, min(want, pool->batch), nid,
				&fresh, &failed);
		aa_hook(pool, AA_HOOK_REFILL_SHARED, got);
		for (i = 0; i < got; i++)
			if (!aa_shared_push(pool, elems[i], pool->shared_target))
				break;
		/* Frees on other CPUs filled the reserve meanwhile. */
		aa_spill_back(pool, elems + i, got - i);
		if (failed)
			return false;
	}
}

/*
 * Process the deferred lists and return what is not needed: the spill may
 * keep up to shared_buffers for the next refill (remote frees bring buffers
 * back to other CPUs than the ones that need them); the shrinker takes
 * those too.
 */
static void aa_trim(struct atomic_alloc_pool *pool, int why)
{
	mutex_lock(&pool->lock);
	aa_collect(pool);
	aa_release_pages(pool, why, pool->shared_target);
	mutex_unlock(&pool->lock);
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
	aa_trim(pool, AA_RELEASE_OVERFLOW);

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
	aa_trim(container_of(work, struct atomic_alloc_pool, trim_work),
		AA_RELEASE_OVERFLOW);
}

/*
 * The kicks.  Hard irq_works, so that they run from the irq_work interrupt
 * on PREEMPT_RT too (a plain one runs in a per-CPU thread there, later):
 * all they do is queue_work(), which is legal in hard IRQ everywhere, while
 * the caller they were queued from may be an NMI or hold any lock.
 */
static void aa_refill_kick_fn(struct irq_work *work)
{
	struct aa_cpu *pc = container_of(work, struct aa_cpu, kick);

	if (READ_ONCE(pc->pool->dead))
		return;
	if (!delayed_work_pending(&pc->refill_work))
		queue_delayed_work_on(pc->cpu, aa_wq, &pc->refill_work, 0);
}

static void aa_trim_kick_fn(struct irq_work *work)
{
	struct atomic_alloc_pool *pool = container_of(work,
						      struct atomic_alloc_pool,
						      trim_kick);

	if (!READ_ONCE(pool->dead))
		queue_work(aa_wq, &pool->trim_work);
}

/* ---- Filling and draining a CPU's array from another CPU ---- */

/*
 * Fill @cpu's array while nothing else can touch it: the CPU is not running
 * yet (hotplug prepare), or the pool is not published yet (create registers
 * the hotplug instance, which runs prepare for every online CPU first).
 * Returns the level reached.
 */
static unsigned int aa_fill_cpu(struct atomic_alloc_pool *pool,
				unsigned int cpu)
{
	struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);
	unsigned int level = aa_cpu_level(pc), got, fresh = 0;
	void *elems[AA_MAX_BATCH];
	bool failed = false;

	while (level < pool->high && !failed) {
		got = aa_gather(pool, elems, min(pool->high - level,
						 (unsigned int)AA_MAX_BATCH),
				cpu_to_node(cpu), &fresh, &failed);
		memcpy(&pc->slots[level], elems, got * sizeof(*elems));
		level += got;
	}
	aa_cpu_set_level(pc, level);
	trace_atomic_alloc_refill(pool->name, cpu, fresh, level, failed);
	return level;
}

/* Empty @cpu's array while its CPU is not running, or the pool is dead. */
static void aa_drain_cpu(struct atomic_alloc_pool *pool, unsigned int cpu,
			 bool keep)
{
	struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);
	unsigned int level = aa_cpu_level(pc), i = 0;

	aa_cpu_set_level(pc, 0);
	if (keep) {
		while (i < level &&
		       aa_shared_push(pool, pc->slots[i], pool->shared_size))
			i++;
	}
	aa_spill_back(pool, pc->slots + i, level - i);
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
	aa_drain_cpu(pool, cpu, true);
	aa_trim(pool, AA_RELEASE_CPU_DEAD);
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
		if (aa_cpu_level(pc) < pool->high &&
		    !delayed_work_pending(&pc->refill_work))
			queue_delayed_work_on(cpu, aa_wq, &pc->refill_work, 0);
	}
	mutex_unlock(&aa_pools_lock);
	return 0;
}

/* ---- Shrinker: surplus above the guaranteed reserve only ---- */

static unsigned long aa_surplus(struct atomic_alloc_pool *pool)
{
	long shared = aa_shared_level(pool);

	return (shared > pool->shared_target ? shared - pool->shared_target : 0) +
	       atomic_long_read(&pool->overflow_count) +
	       (pool->frag ? READ_ONCE(pool->spill_full) * pool->per_page :
			     READ_ONCE(pool->spill_count));
}

/*
 * Return up to about @nr buffers of surplus (whole pages of it, for a pool
 * of buffer_bytes); with @wait, take the lock even if the worker holds it.
 */
static unsigned long aa_shrink(struct atomic_alloc_pool *pool,
			       unsigned long nr, bool wait)
{
	unsigned long moved = 0, released;
	void *elem;

	if (wait)
		mutex_lock(&pool->lock);
	else if (!mutex_trylock(&pool->lock))
		return 0;
	aa_collect(pool);
	while (moved < nr &&
	       aa_shared_level(pool) > pool->shared_target) {
		elem = aa_shared_pop(pool);
		if (!elem)
			break;
		aa_spill_add(pool, elem);
		moved++;
	}
	released = aa_release_pages(pool, AA_RELEASE_SHRINKER, 0);
	mutex_unlock(&pool->lock);
	return released;
}

#if IS_ENABLED(CONFIG_KUNIT)
unsigned long atomic_alloc_shrink(struct atomic_alloc_pool *pool,
				  unsigned long nr)
{
	return aa_shrink(pool, nr, true);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_shrink);
#endif

static unsigned long aa_shrink_count(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long n = aa_surplus(aa_shrinker_priv(s));

	return n ? n : SHRINK_EMPTY;
}

static unsigned long aa_shrink_scan(struct shrinker *s,
				    struct shrink_control *sc)
{
	unsigned long n = aa_shrink(aa_shrinker_priv(s), sc->nr_to_scan, false);

	return n ? n : SHRINK_STOP;
}

/* ---- Statistics and debugfs ---- */

VISIBLE_IF_KUNIT unsigned int atomic_alloc_cpu_level(struct atomic_alloc_pool *pool,
						     int cpu)
{
	return aa_cpu_level(per_cpu_ptr(pool->cpu, cpu));
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_cpu_level);

VISIBLE_IF_KUNIT unsigned int atomic_alloc_shared_level(struct atomic_alloc_pool *pool)
{
	return aa_shared_level(pool);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_shared_level);

VISIBLE_IF_KUNIT long atomic_alloc_pages_held(void)
{
	return atomic_long_read(&aa_pages_held);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_pages_held);

VISIBLE_IF_KUNIT long atomic_alloc_pool_pages(struct atomic_alloc_pool *pool)
{
	return atomic_long_read(&pool->page_count);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_pool_pages);

#if IS_ENABLED(CONFIG_KUNIT)
unsigned long atomic_alloc_spill_level(struct atomic_alloc_pool *pool)
{
	return READ_ONCE(pool->spill_count);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_spill_level);

unsigned int atomic_alloc_zombies(void)
{
	struct atomic_alloc_pool *pool;
	unsigned int n = 0;

	mutex_lock(&aa_pools_lock);
	list_for_each_entry(pool, &aa_zombies, list)
		n++;
	mutex_unlock(&aa_pools_lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_zombies);

long atomic_alloc_overflow_count(struct atomic_alloc_pool *pool)
{
	return atomic_long_read(&pool->overflow_count);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_overflow_count);

void atomic_alloc_refill_now(struct atomic_alloc_pool *pool, int cpu)
{
	struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);

	queue_delayed_work_on(cpu, aa_wq, &pc->refill_work, 0);
	flush_delayed_work(&pc->refill_work);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_refill_now);
#endif

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
		stats->alloc_nmi += READ_ONCE(pc->alloc_nmi);
		stats->alloc_nested += READ_ONCE(pc->alloc_nested);
		stats->freed += READ_ONCE(pc->freed);
		stats->free_nmi += READ_ONCE(pc->free_nmi);
		stats->free_nested += READ_ONCE(pc->free_nested);
		stats->free_deferred += READ_ONCE(pc->free_deferred);
		stats->retries += READ_ONCE(pc->retries);
		stats->refilled += READ_ONCE(pc->refilled);
		stats->refill_failed += READ_ONCE(pc->refill_failed);
		stats->released += READ_ONCE(pc->released);
		stats->released_refcnt += READ_ONCE(pc->released_refcnt);
		avail += aa_cpu_level(pc);
	}
	avail += atomic_alloc_shared_level(pool);
	avail += max(atomic_long_read(&pool->overflow_count), 0L);
	avail += READ_ONCE(pool->spill_count);
	stats->available = avail;
	stats->bad_frees = atomic_long_read(&pool->bad_frees);
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
	seq_printf(m, "alloc_nmi: %llu\n", st.alloc_nmi);
	seq_printf(m, "alloc_nested: %llu\n", st.alloc_nested);
	seq_printf(m, "freed: %llu\n", st.freed);
	seq_printf(m, "free_nmi: %llu\n", st.free_nmi);
	seq_printf(m, "free_nested: %llu\n", st.free_nested);
	seq_printf(m, "free_deferred: %llu\n", st.free_deferred);
	seq_printf(m, "retries: %llu\n", st.retries);
	seq_printf(m, "refilled: %llu\n", st.refilled);
	seq_printf(m, "refill_failed: %llu\n", st.refill_failed);
	seq_printf(m, "released: %llu\n", st.released);
	seq_printf(m, "released_refcnt: %llu\n", st.released_refcnt);
	seq_printf(m, "bad_frees: %llu\n", st.bad_frees);
	seq_printf(m, "available: %llu\n", st.available);
	seq_printf(m, "outstanding: %llu\n", st.outstanding);
	seq_printf(m, "pages_held: %ld\n", atomic_alloc_pool_pages(pool));
	seq_printf(m, "order: %u\n", pool->order);
	seq_printf(m, "buffer_bytes: %u\n", atomic_alloc_buf_bytes(pool));
	seq_printf(m, "buffer_stride: %u\n",
		   pool->frag ? pool->stride : (unsigned int)PAGE_SIZE << pool->order);
	seq_printf(m, "buffers_per_page: %u\n", pool->per_page);
	seq_printf(m, "cpu_buffers: %u\n", pool->high);
	seq_printf(m, "low_watermark: %u\n", pool->low);
	seq_printf(m, "refill_batch: %u\n", pool->batch);
	seq_printf(m, "shared_buffers: %u\n", pool->shared_target);
	seq_printf(m, "shared_capacity: %u\n", pool->shared_size);
	seq_printf(m, "shared_level: %u\n", atomic_alloc_shared_level(pool));
	seq_printf(m, "overflow: %ld\n",
		   max(atomic_long_read(&pool->overflow_count), 0L));
	seq_printf(m, "spill: %lu\n", READ_ONCE(pool->spill_count));
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

/* Bytes of memory for @buffers buffers of @p, in whole pages. */
static unsigned long aa_bytes_for(const struct atomic_alloc_params *p,
				  unsigned int per_page,
				  unsigned long buffers)
{
	return DIV_ROUND_UP(buffers, per_page) * (PAGE_SIZE << p->order);
}

/* The alignment of a pool of buffer_bytes. */
static unsigned int aa_align_for(const struct atomic_alloc_params *p)
{
	unsigned int align = p->align ?: ATOMIC_ALLOC_MIN_ALIGN;

	if (!p->align && p->dev)
		align = max_t(unsigned int, align, dma_get_cache_alignment());
	return align;
}

static int aa_check_params(const struct atomic_alloc_params *p)
{
	unsigned int low, shared, per_page = 1, align, stride, i;

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
	for (i = 0; i < ARRAY_SIZE(aa_reserved_names); i++) {
		if (!strcmp(p->name, aa_reserved_names[i])) {
			pr_err("atomic_alloc_create: name \"%s\" is taken by the library's own debugfs file\n",
			       p->name);
			return -EINVAL;
		}
	}
	if (p->order > ATOMIC_ALLOC_MAX_ORDER) {
		pr_err("%s: order %u above the maximum %d\n", p->name, p->order,
		       ATOMIC_ALLOC_MAX_ORDER);
		return -EINVAL;
	}
	if (p->buffer_bytes) {
		align = aa_align_for(p);
		if (!is_power_of_2(align) || align > (PAGE_SIZE << p->order)) {
			pr_err("%s: align %u must be a power of two up to the page size\n",
			       p->name, align);
			return -EINVAL;
		}
		stride = ALIGN(p->buffer_bytes, align);
		per_page = stride <= (PAGE_SIZE << p->order) ?
			   (PAGE_SIZE << p->order) / stride : 0;
		if (!per_page || per_page > ATOMIC_ALLOC_MAX_BUFS_PER_PAGE) {
			pr_err("%s: buffer_bytes %u (%u with alignment %u): 1 to %d of them must fit a page of %lu bytes (order %u)\n",
			       p->name, p->buffer_bytes, stride, align,
			       ATOMIC_ALLOC_MAX_BUFS_PER_PAGE,
			       PAGE_SIZE << p->order, p->order);
			return -EINVAL;
		}
	}
	if (!p->cpu_buffers || p->cpu_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS ||
	    aa_bytes_for(p, per_page, p->cpu_buffers) > ATOMIC_ALLOC_MAX_CPU_BYTES) {
		pr_err("%s: cpu_buffers %u not in 1..%d and at most %lu bytes per CPU (%lu asked)\n",
		       p->name, p->cpu_buffers, ATOMIC_ALLOC_MAX_CPU_BUFFERS,
		       ATOMIC_ALLOC_MAX_CPU_BYTES,
		       aa_bytes_for(p, per_page, p->cpu_buffers));
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

/*
 * Everything that is home goes into the spill and every page whose buffers
 * are all there is released.  No caller can be inside the tiers: the pool
 * is dead (after synchronize_rcu()) or was never published.
 */
static void aa_drain_all(struct atomic_alloc_pool *pool)
{
	void *elem;
	int cpu;

	for_each_possible_cpu(cpu)
		aa_drain_cpu(pool, cpu, false);
	mutex_lock(&pool->lock);
	while ((elem = aa_shared_pop(pool)))
		aa_spill_add(pool, elem);
	aa_collect(pool);
	aa_release_pages(pool, AA_RELEASE_DESTROY, 0);
	mutex_unlock(&pool->lock);
}

static void aa_pool_free(struct atomic_alloc_pool *pool)
{
	WARN_ON(!xa_empty(&pool->pages));
	xa_destroy(&pool->pages);
	mutex_destroy(&pool->lock);
	free_percpu(pool->cpu);
	kfree(pool->shared);
	kfree(pool);
}

/* Stop the kicks and the work items of a pool no caller can reach now. */
static void aa_stop_workers(struct atomic_alloc_pool *pool)
{
	struct aa_cpu *pc;
	int cpu;

	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(pool->cpu, cpu);
		irq_work_sync(&pc->kick);
		cancel_delayed_work_sync(&pc->refill_work);
	}
	irq_work_sync(&pool->trim_kick);
	cancel_work_sync(&pool->trim_work);
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
 * naming the field), ERR_PTR(-EEXIST) if a pool of that name exists,
 * ERR_PTR(-ENOMEM) if it could not be filled (with a message naming what
 * sized it); nothing is leaked on error.
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
	/* A power-of-two kmalloc is naturally aligned: the tag bits are 0. */
	pool = kzalloc(roundup_pow_of_two(sizeof(*pool)), GFP_KERNEL);
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
	pool->per_page = 1;
	if (params->buffer_bytes) {
		pool->frag = true;
		pool->buffer_bytes = params->buffer_bytes;
		pool->align = aa_align_for(params);
		pool->stride = ALIGN(params->buffer_bytes, pool->align);
		pool->per_page = (PAGE_SIZE << pool->order) / pool->stride;
		pool->stride_div = reciprocal_value(pool->stride);
	}
	pool->shared_target = params->shared_buffers ?: pool->high;
	pool->shared_size = 2 * pool->shared_target;
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->spill_pages);
	INIT_LIST_HEAD(&pool->orphans);
	xa_init_flags(&pool->pages, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
	init_llist_head(&pool->overflow);
	init_llist_head(&pool->drop);
	init_llist_head(&pool->late);
	pool->trim_kick = IRQ_WORK_INIT_HARD(aa_trim_kick_fn);
	INIT_WORK(&pool->trim_work, aa_trim_work);
	INIT_LIST_HEAD(&pool->list);

	err = -ENOMEM;
	pool->shared = kcalloc(pool->shared_size, sizeof(*pool->shared),
			       GFP_KERNEL);
	if (!pool->shared)
		goto err_free;
	pool->cpu = __alloc_percpu_gfp(struct_size(pc, slots, pool->high),
				       __alignof__(struct aa_cpu), GFP_KERNEL);
	if (!pool->cpu)
		goto err_free;
	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(pool->cpu, cpu);
		pc->cpu = cpu;
		pc->pool = pool;
		pc->kick = IRQ_WORK_INIT_HARD(aa_refill_kick_fn);
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
	pr_err("%s: could not fill the pool: cpu_buffers %u per CPU and shared_buffers %u, of %u bytes each (order %u): %lu bytes per CPU\n",
	       pool->name, pool->high, pool->shared_target,
	       atomic_alloc_buf_bytes(pool), pool->order,
	       aa_bytes_for(params, pool->per_page, pool->high));
err_unlist:
	mutex_lock(&aa_pools_lock);
	list_del(&pool->list);
	mutex_unlock(&aa_pools_lock);
err_free:
	if (pool->cpu) {
		aa_stop_workers(pool);
		aa_drain_all(pool);
		rcu_barrier();
	}
	aa_pool_free(pool);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(atomic_alloc_create);

/*
 * Destroyed with buffers out: the frees that came after destroy (@late)
 * go home; when the last one has, the pool's bookkeeping goes too.
 * Returns true if @pool was freed.  aa_pools_lock held.
 */
static bool aa_zombie_collect(struct atomic_alloc_pool *pool)
{
	unsigned long n;

	mutex_lock(&pool->lock);
	n = aa_spill_llist(pool, &pool->late);
	pool->zombie_out -= n;
	aa_release_pages(pool, AA_RELEASE_DESTROY, 0);
	mutex_unlock(&pool->lock);
	if (pool->zombie_out > 0)
		return false;
	WARN_ON(pool->zombie_out < 0);
	list_del(&pool->list);
	aa_pool_free(pool);
	return true;
}

static void aa_zombie_work_fn(struct work_struct *work)
{
	struct atomic_alloc_pool *pool, *tmp;

	mutex_lock(&aa_pools_lock);
	list_for_each_entry_safe(pool, tmp, &aa_zombies, list)
		aa_zombie_collect(pool);
	mutex_unlock(&aa_pools_lock);
}

static void aa_zombie_kick_fn(struct irq_work *work)
{
	queue_work(aa_wq, &aa_zombie_work);
}

/**
 * atomic_alloc_destroy() - stop a pool and free its buffers
 * @pool: the pool; %NULL or an error pointer is ignored
 *
 * Stops CPU hotplug handling, the shrinker and the refill worker, then
 * returns every buffer in the pool to the page allocator and removes the
 * DMA mappings.  The caller must have stopped allocating.  Buffers still
 * out are a caller bug, reported with one warning, but handled: destroy
 * unmaps them now (so that after it returns the pool never touches the
 * device again, which may be gone by then), returns at once, and each late
 * free releases its buffer; the last one frees the pool's bookkeeping.
 *
 * Context: Process context.  May sleep (waits for an RCU grace period and
 * for the pool's work items).
 */
void atomic_alloc_destroy(struct atomic_alloc_pool *pool)
{
	struct atomic_alloc_stats st;
	struct aa_page *meta;
	unsigned long id;

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
	 * Alloc and free read ->dead with preemption off, an RCU
	 * read-side section: after this, none of them is still inside the
	 * tiers or can still queue a kick; later frees go to ->late.
	 */
	synchronize_rcu();
	/* Off the list first, so that aa_cpu_online() queues nothing more. */
	mutex_lock(&aa_pools_lock);
	list_del_init(&pool->list);
	mutex_unlock(&aa_pools_lock);
	aa_stop_workers(pool);

	atomic_alloc_get_stats(pool, &st);
	aa_drain_all(pool);

	mutex_lock(&pool->lock);
	/* Nothing may touch the device after we return: unmap what is out. */
	xa_for_each(&pool->pages, id, meta) {
		if (pool->dev && !meta->scrubbed)
			dma_unmap_page_attrs(pool->dev, meta->page->index,
					     PAGE_SIZE << pool->order,
					     pool->dma_dir,
					     DMA_ATTR_SKIP_CPU_SYNC);
		meta->scrubbed = true;
		WRITE_ONCE(meta->page->index, DMA_MAPPING_ERROR);
	}
	pool->zombie_out = st.outstanding;
	mutex_unlock(&pool->lock);

	mutex_lock(&aa_pools_lock);
	if (st.outstanding)
		WARN(1, "atomic_alloc: pool %s destroyed with %llu buffers outstanding; each is released when it is freed\n",
		     pool->name, st.outstanding);
	list_add(&pool->list, &aa_zombies);
	aa_zombie_collect(pool);
	mutex_unlock(&aa_pools_lock);
}
EXPORT_SYMBOL_GPL(atomic_alloc_destroy);

#if IS_ENABLED(CONFIG_KUNIT)
void atomic_alloc_flush(struct atomic_alloc_pool *pool)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct aa_cpu *pc = per_cpu_ptr(pool->cpu, cpu);

		irq_work_sync(&pc->kick);
		flush_delayed_work(&pc->refill_work);
	}
	irq_work_sync(&pool->trim_kick);
	flush_work(&pool->trim_work);
	aa_trim(pool, AA_RELEASE_OVERFLOW);
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_flush);

void atomic_alloc_flush_zombies(void)
{
	irq_work_sync(&aa_zombie_kick);
	flush_work(&aa_zombie_work);
	aa_zombie_work_fn(NULL);
	rcu_barrier();
}
EXPORT_SYMBOL_IF_KUNIT(atomic_alloc_flush_zombies);
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
	struct aa_page *meta;
	unsigned long id;
	long held;

	irq_work_sync(&aa_zombie_kick);
	cancel_work_sync(&aa_zombie_work);
	/* Pools destroyed with buffers out that never came back. */
	mutex_lock(&aa_pools_lock);
	list_for_each_entry_safe(pool, tmp, &aa_zombies, list) {
		if (aa_zombie_collect(pool))
			continue;
		pr_err("%s: %ld buffers were never freed; their pages stay allocated\n",
		       pool->name, pool->zombie_out);
		list_del(&pool->list);
		xa_for_each(&pool->pages, id, meta)
			kfree(meta);
		xa_destroy(&pool->pages);
		free_percpu(pool->cpu);
		kfree(pool->shared);
		kfree(pool);
	}
	WARN_ON(!list_empty(&aa_pools));
	mutex_unlock(&aa_pools_lock);

	debugfs_remove_recursive(aa_debugfs_root);
	cpuhp_remove_state_nocalls(aa_cpuhp_online_state);
	cpuhp_remove_multi_state(aa_cpuhp_state);
	destroy_workqueue(aa_wq);
	/* The RCU callbacks that free carved pages run our code. */
	rcu_barrier();

	held = atomic_alloc_pages_held();
	if (held)
		pr_err("%ld pages never returned to the page allocator\n", held);
	else
		pr_info("unloaded, all pages returned\n");
}

module_init(atomic_alloc_init);
module_exit(atomic_alloc_exit);

MODULE_DESCRIPTION("Per-CPU pools of DMA buffers for any context, NMI and hard IRQ included");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
