// SPDX-License-Identifier: GPL-2.0
/*
 * bench_ctx.c - the contexts a batch of pairs runs in, and which method is
 * legal in which
 *
 *   irqoff   local_irq_save() in the bench kthread
 *   hardirq  an HRTIMER_MODE_REL_PINNED_HARD hrtimer on the bench CPU that
 *            runs the batch in its callback (a hard IRQ, also on
 *            PREEMPT_RT); the kthread starts it and waits
 *   bh       local_bh_disable() in the bench kthread, the only context
 *            page_pool's direct recycling allows
 *   nmi      an NMI handler on the bench CPU, the NMI sent by IPI from
 *            another CPU (x86; bench_nmi.c): only BM_NMI_SAFE methods
 *
 * Adding a context: a struct bench_ctx with its run function (and
 * prepare/finish if it needs state for a table run, report if it has
 * counts of its own to print), its BCF_* flags, and one entry in
 * bench_ctxs[]; bench-report.py shows a context it does not know under its
 * own name.
 *
 * Concurrency: a context's run function is called by the bench kthread
 * only, one batch at a time.  The hard-IRQ callback writes the row while
 * the kthread waits; complete() and wait_for_completion() order the two.
 * The callback counts (ctxerr) and never asserts, prints or sleeps.
 */

#include <linux/bottom_half.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "bench.h"

#define BENCH_IRQ_WAIT_MS	5000

/*
 * Why a method is not legal in NMI.  An NMI arrives in the middle of
 * whatever the CPU was doing, which may be the same method: masking
 * interrupts does not keep it out.  The page allocator and a mempool take
 * spinlocks (the zone's, the pool's) that the interrupted code may hold: a
 * deadlock.  page_pool's direct-recycling cache is guarded only by BH being
 * disabled, so an NMI inside the NAPI poll that uses it corrupts it (and
 * its slow path calls the page allocator).  The floor's array is guarded
 * by local_irq_save(), which an NMI ignores.
 */
static const char *bench_nmi_why_not(const struct bench_method *m)
{
	if (m->flags & BM_SPINLOCK_T)
		return "not NMI-safe: takes locks the interrupted code may hold";
	if (m->flags & BM_NAPI_ONLY)
		return "not NMI-safe: its cache is guarded by BH-off only";
	return "not NMI-safe: local_irq_save() does not mask an NMI";
}

/**
 * bench_illegal() - may a method run in a context?
 * @m: the method
 * @ctx: the context
 *
 * Context: Any.
 * Return: NULL when @m may run in @ctx, else why not (printed in BSKIP).
 */
const char *bench_illegal(const struct bench_method *m,
			  const struct bench_ctx *ctx)
{
	const char *why;

	if ((m->flags & BM_REFERENCE) && !(ctx->flags & BCF_REFERENCE))
		return "reference row, measured with IRQs off only";
	if (ctx->flags & BCF_NMI) {
		why = bench_nmi_unavailable();
		if (why)
			return why;
		if (!(m->flags & BM_NMI_SAFE))
			return bench_nmi_why_not(m);
	}
	if ((m->flags & BM_NAPI_ONLY) && !(ctx->flags & BCF_BH))
		return "page_pool direct recycling is for BH-disabled (NAPI) context only";
	if ((m->flags & BM_SPINLOCK_T) && IS_ENABLED(CONFIG_PREEMPT_RT) &&
	    !(ctx->flags & BCF_BH))
		return "PREEMPT_RT: zone and mempool locks are spinlock_t, which sleeps";
	return NULL;
}

/* ---- IRQs off ---- */

static int bench_run_irqoff(void *state, struct bench_row *row,
			    unsigned int n)
{
	unsigned long flags;

	local_irq_save(flags);
	bench_both(row, n);
	local_irq_restore(flags);
	return 0;
}

static const struct bench_ctx bench_ctx_irqoff = {
	.name = "irqoff",
	.flags = BCF_REFERENCE,
	.run = bench_run_irqoff,
};

/* ---- Hard IRQ: an hrtimer callback ---- */

struct bench_irq {
	struct hrtimer timer;
	struct completion done;
	struct bench_row *row;
	unsigned int n;
};

static enum hrtimer_restart bench_irq_fn(struct hrtimer *t)
{
	struct bench_irq *bi = container_of(t, struct bench_irq, timer);

	if (!in_hardirq())
		bi->row->ctxerr++;
	bench_both(bi->row, bi->n);
	complete(&bi->done);
	return HRTIMER_NORESTART;
}

static int bench_prepare_hardirq(void **state)
{
	struct bench_irq *bi = kzalloc(sizeof(*bi), GFP_KERNEL);

	if (!bi)
		return -ENOMEM;
	hrtimer_init(&bi->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	bi->timer.function = bench_irq_fn;
	init_completion(&bi->done);
	*state = bi;
	return 0;
}

static void bench_finish_hardirq(void *state)
{
	struct bench_irq *bi = state;

	hrtimer_cancel(&bi->timer);
	kfree(bi);
}

static int bench_run_hardirq(void *state, struct bench_row *row,
			     unsigned int n)
{
	struct bench_irq *bi = state;

	bi->row = row;
	bi->n = n;
	reinit_completion(&bi->done);
	hrtimer_start(&bi->timer, ns_to_ktime(NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	if (!wait_for_completion_timeout(&bi->done,
					 msecs_to_jiffies(BENCH_IRQ_WAIT_MS))) {
		hrtimer_cancel(&bi->timer);
		return -ETIMEDOUT;
	}
	return 0;
}

const struct bench_ctx bench_ctx_hardirq = {
	.name = "hardirq",
	.prepare = bench_prepare_hardirq,
	.finish = bench_finish_hardirq,
	.run = bench_run_hardirq,
};

/* ---- BH disabled ---- */

static int bench_run_bh(void *state, struct bench_row *row, unsigned int n)
{
	local_bh_disable();
	if (!in_softirq())
		row->ctxerr++;
	bench_both(row, n);
	local_bh_enable();
	return 0;
}

static const struct bench_ctx bench_ctx_bh = {
	.name = "bh",
	.flags = BCF_BH,
	.run = bench_run_bh,
};

/* Every context, in the order the table and its output list them. */
const struct bench_ctx *const bench_ctxs[] = {
	&bench_ctx_irqoff,
	&bench_ctx_hardirq,
	&bench_ctx_bh,
	&bench_ctx_nmi,
};

const unsigned int bench_nr_ctxs = ARRAY_SIZE(bench_ctxs);
