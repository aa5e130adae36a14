// SPDX-License-Identifier: GPL-2.0
/*
 * bench_methods.c - what the benchmark measures: one alloc+free pair per
 * method, and the pools the methods use
 *
 * Every method is a function "allocate one buffer, free it" that
 * bench_batch() calls through one pointer.  The table bench_method_defs[]
 * lists them in the order the table runs and prints them; an entry with
 * .both_orders becomes two rows, order 0 and order_hi.
 *
 * Adding a method row: write its pair function (and setup/teardown if it
 * needs a pool), and add one entry to bench_method_defs[] with the BM_*
 * flags that say where it may run (bench_ctx.c decides from them).
 * BENCH_MAX_METHODS bounds the expanded table.
 *
 * Concurrency: the methods are created at load and destroyed at unload,
 * when no table runs.  A pair function runs on the bench CPU, in the
 * context bench_ctx.c chose; the floor's per-CPU array is touched by its own
 * CPU with IRQs off only, the guarded, lock-free and split floors' by their
 * own CPU with preemption disabled, from any context.
 */

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/irqflags.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/percpu.h>
#include <linux/preempt.h>

#include "../atomic_alloc.h"
#include "bench.h"
#include "bench_compat.h"

#define BENCH_FLOOR_SIZE	64
#define BENCH_MAX_METHODS	20
#define BENCH_PP_POOL_SIZE	256

struct bench_method bench_methods[BENCH_MAX_METHODS];
unsigned int bench_nr_methods;
struct atomic_alloc_pool *bench_aa[BENCH_NR_AA];

/* ---- The floor: the least a per-CPU pool can do ---- */

/*
 * @level is the floor's; @top and @pushing are the guarded floor's (below),
 * which keeps its level in @top.
 */
struct bench_floor {
	unsigned long top;
	unsigned int pushing;
	unsigned int level;
	struct page *pages[BENCH_FLOOR_SIZE];
};

static struct bench_floor __percpu *bench_floor;
static struct bench_floor __percpu *bench_gfloor;

/*
 * An array popped and pushed with IRQs off.  Out of line, like
 * atomic_alloc_page() and atomic_alloc_free(), so that both pay two calls.
 */
static noinline struct page *bench_floor_pop(void)
{
	struct bench_floor *f;
	struct page *page = NULL;
	unsigned long flags;

	local_irq_save(flags);
	f = this_cpu_ptr(bench_floor);
	if (likely(f->level))
		page = f->pages[--f->level];
	local_irq_restore(flags);
	return page;
}

static noinline bool bench_floor_push(struct page *page)
{
	struct bench_floor *f;
	unsigned long flags;
	bool done = false;

	local_irq_save(flags);
	f = this_cpu_ptr(bench_floor);
	if (likely(f->level < BENCH_FLOOR_SIZE)) {
		f->pages[f->level++] = page;
		done = true;
	}
	local_irq_restore(flags);
	return done;
}

/*
 * The floor again, guarded as atomic_alloc's tier 1 is, under
 * preempt_disable() instead of local_irq_save(), so NMI-safe: one per-CPU
 * word holds the level and a count of the changes; pop and push read it,
 * take or fill the slot, and commit with this_cpu_try_cmpxchg(), again if
 * an interrupt or NMI changed it meanwhile; a push holds a flag, and a push
 * that finds it held (it interrupted one) fails the pair.  Nothing else of
 * atomic_alloc: no owner tag, no counters, no watermark, no checks of the
 * pool.  It tells what the guard costs, and what atomic_alloc's other work
 * on top of it costs (scripts/bench-report.py's notes).
 */
#define BENCH_TOP_LEVEL		0xffffUL
#define BENCH_TOP_OP		0x10000UL

static noinline struct page *bench_gfloor_pop(void)
{
	unsigned long top, level;
	struct page *page;

	preempt_disable();
	for (;;) {
		top = __this_cpu_read(bench_gfloor->top);
		level = top & BENCH_TOP_LEVEL;
		if (unlikely(!level)) {
			page = NULL;
			break;
		}
		page = __this_cpu_read(bench_gfloor->pages[level - 1]);
		barrier();
		if (likely(this_cpu_try_cmpxchg(bench_gfloor->top, &top,
						top + BENCH_TOP_OP - 1)))
			break;
	}
	preempt_enable();
	return page;
}

static noinline bool bench_gfloor_push(struct page *page)
{
	unsigned long top, level;
	bool done = false;

	preempt_disable();
	if (likely(!__this_cpu_read(bench_gfloor->pushing))) {
		__this_cpu_write(bench_gfloor->pushing, 1);
		barrier();
		for (;;) {
			top = __this_cpu_read(bench_gfloor->top);
			level = top & BENCH_TOP_LEVEL;
			if (unlikely(level >= BENCH_FLOOR_SIZE))
				break;
			__this_cpu_write(bench_gfloor->pages[level], page);
			barrier();
			if (likely(this_cpu_try_cmpxchg(bench_gfloor->top, &top,
							top + BENCH_TOP_OP + 1))) {
				done = true;
				break;
			}
		}
		barrier();
		__this_cpu_write(bench_gfloor->pushing, 0);
	}
	preempt_enable();
	return done;
}

/*
 * The floor as a lock-free LIFO list, the other way to be NMI-safe without
 * disabling interrupts (SLUB's fast path, objpool): one per-CPU word holds
 * the head page's pfn + 1 and a 24-bit tag that every change bumps; pop
 * and push read it, link through page->private, and commit with a
 * this_cpu_cmpxchg() that fails if anything on this CPU (an interrupt, an
 * NMI) changed the list meanwhile.  Preemption is disabled around it so
 * that only such nested callers can come in between (the tag cannot wrap
 * there).  No level, no limit: the least such a list can do.
 */
#define BENCH_LL_TAG_BITS	24
#define BENCH_LL_TAG_MASK	((1UL << BENCH_LL_TAG_BITS) - 1)

static unsigned long __percpu *bench_llhead;

static noinline struct page *bench_ll_pop(void)
{
	unsigned long old, new, pfn;
	struct page *page;

	preempt_disable();
	for (;;) {
		old = this_cpu_read(*bench_llhead);
		pfn = old >> BENCH_LL_TAG_BITS;
		if (unlikely(!pfn)) {
			page = NULL;
			break;
		}
		page = pfn_to_page(pfn - 1);
		new = (READ_ONCE(page->private) << BENCH_LL_TAG_BITS) |
		      ((old + 1) & BENCH_LL_TAG_MASK);
		if (likely(this_cpu_cmpxchg(*bench_llhead, old, new) == old))
			break;
	}
	preempt_enable();
	return page;
}

static noinline void bench_ll_push(struct page *page)
{
	unsigned long old, new, pfn = page_to_pfn(page) + 1;

	preempt_disable();
	do {
		old = this_cpu_read(*bench_llhead);
		WRITE_ONCE(page->private, old >> BENCH_LL_TAG_BITS);
		new = (pfn << BENCH_LL_TAG_BITS) |
		      ((old + 1) & BENCH_LL_TAG_MASK);
	} while (unlikely(this_cpu_cmpxchg(*bench_llhead, old, new) != old));
	preempt_enable();
}

static void bench_ll_destroy(void)
{
	unsigned long *head, pfn;
	struct page *page;
	int cpu;

	if (!bench_llhead)
		return;
	for_each_possible_cpu(cpu) {
		head = per_cpu_ptr(bench_llhead, cpu);
		while ((pfn = *head >> BENCH_LL_TAG_BITS)) {
			page = pfn_to_page(pfn - 1);
			*head = page->private << BENCH_LL_TAG_BITS;
			page->private = 0;
			__free_page(page);
		}
	}
	free_percpu(bench_llhead);
	bench_llhead = NULL;
}

static int bench_ll_create(void)
{
	unsigned long *head;
	struct page *page;
	int cpu, i;

	bench_llhead = alloc_percpu(unsigned long);
	if (!bench_llhead)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		head = per_cpu_ptr(bench_llhead, cpu);
		for (i = 0; i < BENCH_FLOOR_SIZE; i++) {
			page = alloc_page(GFP_KERNEL);
			if (!page)
				return -ENOMEM;
			page->private = *head >> BENCH_LL_TAG_BITS;
			*head = (page_to_pfn(page) + 1) << BENCH_LL_TAG_BITS;
		}
	}
	return 0;
}

/*
 * The floor split by context, the third way to be NMI-safe without
 * disabling interrupts: each CPU has one array per class of context (task,
 * BH, hard IRQ, NMI), the class read from preempt_count().  A context is
 * interrupted only by a class above its own, whose array is another one,
 * so plain loads and stores of the level are enough: no cmpxchg, no flag.
 * The task class disables preemption around its access (on PREEMPT_RT a
 * BH-disabled section is a task, as softirq_count() is not in
 * preempt_count() there); a class already nested in itself (an NMI-like
 * exception inside an NMI) fails the pair.  Nothing of atomic_alloc's other
 * work either: it tells whether such a split could bring the guard's cost
 * below the floor's local_irq_save().
 */
#define BENCH_SPLIT_CLASSES	4

/* One floor per class, of which only @level and @pages are used. */
static struct bench_floor __percpu *bench_sfloor[BENCH_SPLIT_CLASSES];

/* 0 task, 1 BH, 2 hard IRQ, 3 NMI; -1 in a class nested in itself. */
static __always_inline int bench_split_class(void)
{
	unsigned long pc = preempt_count();

	if (unlikely(pc & NMI_MASK))
		return (pc & NMI_MASK) == NMI_OFFSET ? 3 : -1;
	if (pc & HARDIRQ_MASK)
		return (pc & HARDIRQ_MASK) == HARDIRQ_OFFSET ? 2 : -1;
	return (pc & SOFTIRQ_MASK) ? 1 : 0;
}

static noinline struct page *bench_split_pop(void)
{
	int cls = bench_split_class();
	struct bench_floor __percpu *f;
	struct page *page = NULL;
	unsigned int level;

	if (unlikely(cls < 0))
		return NULL;
	/* Loaded once: a per-CPU write could be a write of it, to gcc. */
	f = bench_sfloor[cls];
	if (!cls)
		preempt_disable();
	level = __this_cpu_read(f->level);
	if (likely(level)) {
		page = __this_cpu_read(f->pages[level - 1]);
		__this_cpu_write(f->level, level - 1);
	}
	if (!cls)
		preempt_enable();
	return page;
}

static noinline bool bench_split_push(struct page *page)
{
	int cls = bench_split_class();
	struct bench_floor __percpu *f;
	unsigned int level;
	bool done = false;

	if (unlikely(cls < 0))
		return false;
	f = bench_sfloor[cls];
	if (!cls)
		preempt_disable();
	level = __this_cpu_read(f->level);
	if (likely(level < BENCH_FLOOR_SIZE)) {
		__this_cpu_write(f->pages[level], page);
		__this_cpu_write(f->level, level + 1);
		done = true;
	}
	if (!cls)
		preempt_enable();
	return done;
}

static void bench_floor_free(struct bench_floor __percpu **floor)
{
	struct bench_floor *f;
	int cpu;

	if (!*floor)
		return;
	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(*floor, cpu);
		if (*floor == bench_gfloor)
			f->level = f->top & BENCH_TOP_LEVEL;
		while (f->level)
			__free_page(f->pages[--f->level]);
	}
	free_percpu(*floor);
	*floor = NULL;
}

static void bench_floor_destroy(void)
{
	int cls;

	bench_floor_free(&bench_floor);
	bench_floor_free(&bench_gfloor);
	bench_ll_destroy();
	for (cls = 0; cls < BENCH_SPLIT_CLASSES; cls++)
		bench_floor_free(&bench_sfloor[cls]);
}

static int bench_floor_fill(struct bench_floor __percpu **floor)
{
	struct bench_floor *f;
	struct page *page;
	int cpu;

	*floor = alloc_percpu(struct bench_floor);
	if (!*floor)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(*floor, cpu);
		while (f->level < BENCH_FLOOR_SIZE) {
			page = alloc_page(GFP_KERNEL);
			if (!page)
				return -ENOMEM;
			f->pages[f->level++] = page;
			f->top = f->level;
		}
	}
	return 0;
}

static int bench_floor_create(void)
{
	int err = bench_floor_fill(&bench_floor);
	int cls;

	if (!err)
		err = bench_floor_fill(&bench_gfloor);
	if (!err)
		err = bench_ll_create();
	for (cls = 0; !err && cls < BENCH_SPLIT_CLASSES; cls++)
		err = bench_floor_fill(&bench_sfloor[cls]);
	return err;
}

/* ---- Pair functions ---- */

static bool bench_pair_timer(const struct bench_method *m)
{
	return true;
}

static bool bench_pair_floor(const struct bench_method *m)
{
	struct page *page = bench_floor_pop();

	if (!page)
		return false;
	if (!bench_floor_push(page))
		__free_page(page);
	return true;
}

static bool bench_pair_gfloor(const struct bench_method *m)
{
	struct page *page = bench_gfloor_pop();

	if (!page)
		return false;
	if (!bench_gfloor_push(page))
		__free_page(page);
	return true;
}

static bool bench_pair_llfloor(const struct bench_method *m)
{
	struct page *page = bench_ll_pop();

	if (!page)
		return false;
	bench_ll_push(page);
	return true;
}

static bool bench_pair_sfloor(const struct bench_method *m)
{
	struct page *page = bench_split_pop();

	if (!page)
		return false;
	if (!bench_split_push(page))
		__free_page(page);
	return true;
}

static bool bench_pair_aa(const struct bench_method *m)
{
	/* gfp 0: the pool's own tiers only, never the page allocator. */
	struct page *page = atomic_alloc_page(m->aa, 0);

	if (!page)
		return false;
	atomic_alloc_free(m->aa, page);
	return true;
}

static bool bench_pair_buddy(const struct bench_method *m)
{
	struct page *page = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, m->order);

	if (!page)
		return false;
	__free_pages(page, m->order);
	return true;
}

static bool bench_pair_mempool(const struct bench_method *m)
{
	struct page *page = mempool_alloc(m->mp, GFP_ATOMIC);

	if (!page)
		return false;
	mempool_free(page, m->mp);
	return true;
}

static bool bench_pair_pp(const struct bench_method *m)
{
	struct page *page = page_pool_alloc_pages(m->pp,
						  GFP_ATOMIC | __GFP_NOWARN);

	if (!page)
		return false;
	page_pool_put_full_page(m->pp, page, true);
	return true;
}

/*
 * Not an allocator: what clearing the buffer costs, which alloc_pages()
 * and a mempool's page allocation pay on every call when init_on_alloc is
 * on (Debian's default), and the recycling pools do not.
 */
static bool bench_pair_zero(const struct bench_method *m)
{
	unsigned int i;

	for (i = 0; i < (1U << m->order); i++)
		clear_highpage(m->zero + i);
	return true;
}

/*
 * Not an allocator: the two local_irq_save()/local_irq_restore() pairs that
 * the floor and atomic_alloc pay per alloc+free pair and page_pool does
 * not.  Under TCG, restoring an enabled IF ends a translation block, which
 * makes this dearer than on hardware.
 */
static noinline void bench_irq_toggle(void)
{
	unsigned long flags;

	local_irq_save(flags);
	barrier();
	local_irq_restore(flags);
}

static bool bench_pair_irq(const struct bench_method *m)
{
	bench_irq_toggle();
	bench_irq_toggle();
	return true;
}

/*
 * Not an allocator: the guard that atomic_alloc's tier 1 had before its
 * cmpxchg commit (bpf_mem_alloc's), twice per pair, kept for comparison:
 * preempt_disable(), a re-entrancy count up and down, preempt_enable().
 */
static DEFINE_PER_CPU(unsigned long, bench_guard_active);

static noinline void bench_guard_toggle(void)
{
	preempt_disable();
	if (likely(this_cpu_inc_return(bench_guard_active) == 1))
		barrier();
	this_cpu_dec(bench_guard_active);
	preempt_enable();
}

static bool bench_pair_guard(const struct bench_method *m)
{
	bench_guard_toggle();
	bench_guard_toggle();
	return true;
}

/*
 * The code of the pairs that bench_code.c prints and traces: the pair
 * functions and the out-of-line helpers they call.
 */
const struct bench_code_fn bench_method_code[] = {
	{ "bench_pair_timer", bench_pair_timer },
	{ "bench_pair_floor", bench_pair_floor },
	{ "bench_floor_pop", bench_floor_pop },
	{ "bench_floor_push", bench_floor_push },
	{ "bench_pair_gfloor", bench_pair_gfloor },
	{ "bench_gfloor_pop", bench_gfloor_pop },
	{ "bench_gfloor_push", bench_gfloor_push },
	{ "bench_pair_llfloor", bench_pair_llfloor },
	{ "bench_ll_pop", bench_ll_pop },
	{ "bench_ll_push", bench_ll_push },
	{ "bench_pair_sfloor", bench_pair_sfloor },
	{ "bench_split_pop", bench_split_pop },
	{ "bench_split_push", bench_split_push },
	{ "bench_pair_aa", bench_pair_aa },
	{ "bench_pair_pp", bench_pair_pp },
};

const unsigned int bench_nr_method_code = ARRAY_SIZE(bench_method_code);

/* ---- Setup and teardown of the methods' pools ---- */

static int bench_setup_aa(struct bench_method *m, unsigned int index)
{
	m->aa = bench_aa[index];
	return 0;
}

static int bench_setup_mempool(struct bench_method *m, unsigned int index)
{
	m->mp = mempool_create_page_pool(bench_pool_buffers, m->order);
	return m->mp ? 0 : -ENOMEM;
}

static void bench_teardown_mempool(struct bench_method *m)
{
	mempool_destroy(m->mp);
	m->mp = NULL;
}

static int bench_setup_pp(struct bench_method *m, unsigned int index)
{
	struct page_pool_params pp = {
		.pool_size = BENCH_PP_POOL_SIZE,
		.nid = NUMA_NO_NODE,
		.order = m->order,
	};
	struct page_pool *pool = page_pool_create(&pp);

	if (IS_ERR(pool))
		return PTR_ERR(pool);
	m->pp = pool;
	return 0;
}

static void bench_teardown_pp(struct bench_method *m)
{
	page_pool_destroy(m->pp);
	m->pp = NULL;
}

static int bench_setup_zero(struct bench_method *m, unsigned int index)
{
	m->zero = alloc_pages(GFP_KERNEL, m->order);
	return m->zero ? 0 : -ENOMEM;
}

static void bench_teardown_zero(struct bench_method *m)
{
	if (m->zero)
		__free_pages(m->zero, m->order);
	m->zero = NULL;
}

/* ---- The table of methods ---- */

struct bench_method_def {
	const char *name;
	unsigned int flags;
	bool both_orders;	/* a row for order 0 and one for order_hi */
	bool (*pair)(const struct bench_method *m);
	int (*setup)(struct bench_method *m, unsigned int index);
	void (*teardown)(struct bench_method *m);
};

static const struct bench_method_def bench_method_defs[] = {
	{ .name = "timer", .flags = BM_NMI_SAFE, .pair = bench_pair_timer },
	{ .name = "irqsave_x2", .pair = bench_pair_irq },
	{ .name = "guard_x2", .flags = BM_NMI_SAFE, .pair = bench_pair_guard },
	{ .name = "floor", .pair = bench_pair_floor },
	{ .name = "floor_guarded", .flags = BM_NMI_SAFE,
	  .pair = bench_pair_gfloor },
	{ .name = "floor_lockless", .flags = BM_NMI_SAFE,
	  .pair = bench_pair_llfloor },
	{ .name = "floor_split", .flags = BM_NMI_SAFE,
	  .pair = bench_pair_sfloor },
	{ .name = "atomic_alloc", .flags = BM_NMI_SAFE, .both_orders = true,
	  .pair = bench_pair_aa, .setup = bench_setup_aa },
	{ .name = "alloc_pages", .flags = BM_SPINLOCK_T, .both_orders = true,
	  .pair = bench_pair_buddy },
	{ .name = "mempool", .flags = BM_SPINLOCK_T, .both_orders = true,
	  .pair = bench_pair_mempool, .setup = bench_setup_mempool,
	  .teardown = bench_teardown_mempool },
	{ .name = "page_pool", .flags = BM_NAPI_ONLY, .both_orders = true,
	  .pair = bench_pair_pp, .setup = bench_setup_pp,
	  .teardown = bench_teardown_pp },
	{ .name = "zeroing", .flags = BM_REFERENCE, .both_orders = true,
	  .pair = bench_pair_zero, .setup = bench_setup_zero,
	  .teardown = bench_teardown_zero },
};

/* Also safe on a half-built set: the error path of create. */
void bench_methods_destroy(void)
{
	struct bench_method *m;
	unsigned int i;

	for (i = 0; i < bench_nr_methods; i++) {
		m = &bench_methods[i];
		if (m->teardown)
			m->teardown(m);
	}
	for (i = 0; i < BENCH_NR_AA; i++) {
		atomic_alloc_destroy(bench_aa[i]);
		bench_aa[i] = NULL;
	}
	bench_floor_destroy();
	bench_nr_methods = 0;
}

int bench_methods_create(void)
{
	static const char * const aa_names[BENCH_NR_AA] = {
		"bench_o0", "bench_ohi"
	};
	struct atomic_alloc_params p = {
		.cpu_buffers = bench_pool_buffers,
	};
	const struct bench_method_def *d;
	struct bench_method *m;
	unsigned int i, k;
	int err;

	err = bench_floor_create();
	if (err)
		return err;
	for (i = 0; i < BENCH_NR_AA; i++) {
		p.name = aa_names[i];
		p.order = i ? bench_order_hi : 0;
		bench_aa[i] = atomic_alloc_create(&p);
		if (IS_ERR(bench_aa[i])) {
			err = PTR_ERR(bench_aa[i]);
			bench_aa[i] = NULL;
			return err;
		}
	}

	for (d = bench_method_defs;
	     d < bench_method_defs + ARRAY_SIZE(bench_method_defs); d++) {
		for (k = 0; k < (d->both_orders ? 2 : 1); k++) {
			if (bench_nr_methods == BENCH_MAX_METHODS)
				return -E2BIG;
			m = &bench_methods[bench_nr_methods];
			*m = (struct bench_method) {
				.name = d->name,
				.order = k ? bench_order_hi : 0,
				.flags = d->flags,
				.pair = d->pair,
				.teardown = d->teardown,
			};
			/* Counted first, so that a failed setup is undone. */
			bench_nr_methods++;
			err = d->setup ? d->setup(m, k) : 0;
			if (err)
				return err;
		}
	}
	return 0;
}
