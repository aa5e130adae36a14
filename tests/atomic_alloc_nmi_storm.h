/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NMI storm, shared by the KUnit suite atomic_alloc_nmi and by
 * atomic_alloc_storm.ko, which runs it on Debian's stock kernels (they have
 * no KUnit).  Included by exactly those two files; x86 only: the NMIs are
 * sent by IPI through the local APIC (apic->send_IPI_mask(..., NMI_VECTOR)),
 * which under QEMU TCG delivers on the order of 10^5 NMIs a second.
 *
 * One CPU (@cpu) loops atomic_alloc_page() and atomic_alloc_free() in a
 * kthread, interrupts enabled, holding a few buffers at a time.  Another CPU
 * sends it NMIs.  The NMI handler takes a buffer in one NMI and frees it in
 * the next, so that NMIs land at every point of the loop's alloc and free,
 * inside the pool.  Every holder writes its own tag into the buffer when it
 * gets it and checks the tag before it frees it: a buffer handed out twice
 * shows as a changed tag.  Concurrency: the storm's counters are written
 * by one side each (loop thread, NMI handler, sender) and read after all
 * three have stopped.
 */
#ifndef _ATOMIC_ALLOC_NMI_STORM_H
#define _ATOMIC_ALLOC_NMI_STORM_H

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "../atomic_alloc.h"

#define AA_STORM_HOLD		4
#define AA_STORM_MAGIC		0xa5a5000000000000ULL
#define AA_STORM_LOOP		BIT_ULL(40)
#define AA_STORM_NMI		BIT_ULL(41)

struct aa_storm {
	/* In: */
	struct atomic_alloc_pool *pool;
	unsigned int cpu;		/* loops and takes the NMIs */
	unsigned int sender;		/* sends them */
	unsigned long want_nmis;
	unsigned int timeout_ms;
	/* Out: */
	unsigned long nmis;		/* NMIs the handler took on @cpu */
	unsigned long nmi_allocs, nmi_frees, nmi_nulls, nmi_not_in_nmi;
	unsigned long loop_iters, loop_nulls;
	unsigned long tag_errors;	/* loop's and handler's together */
	unsigned long sent;
	bool timed_out;
	/* State: */
	struct page *nmi_held;
	u64 nmi_tag;
	unsigned long nmi_tag_errors;
	unsigned long loop_tag_errors;
	/* The first wrong tag seen: what was expected, what was there. */
	u64 first_want, first_got;
	unsigned long first_pfn;
	bool stop;
	struct completion loop_done, sender_done;
};

static struct aa_storm *aa_storm_active;

static inline u64 *aa_storm_word(struct page *page)
{
	return page_address(page);
}

static void aa_storm_bad_tag(struct aa_storm *st, unsigned long *count,
			     struct page *page, u64 want)
{
	if (!st->loop_tag_errors && !st->nmi_tag_errors) {
		st->first_want = want;
		st->first_got = READ_ONCE(*aa_storm_word(page));
		st->first_pfn = page_to_pfn(page);
	}
	(*count)++;
}

static int aa_storm_nmi(unsigned int type, struct pt_regs *regs)
{
	struct aa_storm *st = READ_ONCE(aa_storm_active);
	struct page *page;

	if (!st || smp_processor_id() != st->cpu)
		return NMI_DONE;
	WRITE_ONCE(st->nmis, st->nmis + 1);
	if (!in_nmi())
		st->nmi_not_in_nmi++;
	page = st->nmi_held;
	if (page) {
		/* Taken in an earlier NMI, freed in this one. */
		if (READ_ONCE(*aa_storm_word(page)) != st->nmi_tag)
			aa_storm_bad_tag(st, &st->nmi_tag_errors, page,
					 st->nmi_tag);
		st->nmi_held = NULL;
		atomic_alloc_free(st->pool, page);
		st->nmi_frees++;
		return NMI_HANDLED;
	}
	page = atomic_alloc_page(st->pool, 0);
	if (!page) {
		st->nmi_nulls++;
		return NMI_HANDLED;
	}
	st->nmi_tag = AA_STORM_MAGIC | AA_STORM_NMI | st->nmi_allocs;
	WRITE_ONCE(*aa_storm_word(page), st->nmi_tag);
	st->nmi_held = page;
	st->nmi_allocs++;
	return NMI_HANDLED;
}

static int aa_storm_loop(void *arg)
{
	struct aa_storm *st = arg;
	struct page *held[AA_STORM_HOLD] = {};
	u64 tags[AA_STORM_HOLD] = {};
	unsigned int i = 0;

	while (!READ_ONCE(st->stop)) {
		/* Free the oldest, take a new one in its slot. */
		if (held[i]) {
			if (READ_ONCE(*aa_storm_word(held[i])) != tags[i])
				aa_storm_bad_tag(st, &st->loop_tag_errors,
						 held[i], tags[i]);
			atomic_alloc_free(st->pool, held[i]);
			held[i] = NULL;
		}
		held[i] = atomic_alloc_page(st->pool, 0);
		if (held[i]) {
			tags[i] = AA_STORM_MAGIC | AA_STORM_LOOP | st->loop_iters;
			WRITE_ONCE(*aa_storm_word(held[i]), tags[i]);
		} else {
			st->loop_nulls++;
		}
		i = (i + 1) % AA_STORM_HOLD;
		if (!(++st->loop_iters & 1023))
			cond_resched();
	}
	for (i = 0; i < AA_STORM_HOLD; i++) {
		if (!held[i])
			continue;
		if (READ_ONCE(*aa_storm_word(held[i])) != tags[i])
			st->loop_tag_errors++;
		atomic_alloc_free(st->pool, held[i]);
	}
	complete(&st->loop_done);
	return 0;
}

static int aa_storm_sender(void *arg)
{
	struct aa_storm *st = arg;
	unsigned long deadline = jiffies + msecs_to_jiffies(st->timeout_ms);

	unsigned long seen;
	u64 t0;

	while ((seen = READ_ONCE(st->nmis)) < st->want_nmis) {
		apic->send_IPI_mask(cpumask_of(st->cpu), NMI_VECTOR);
		st->sent++;
		/*
		 * One NMI in flight at a time: sending faster only keeps the
		 * emulator's interrupt path busy (one NMI can be pending).
		 */
		t0 = local_clock();
		while (READ_ONCE(st->nmis) == seen &&
		       local_clock() - t0 < 50 * NSEC_PER_USEC)
			cpu_relax();
		if (!(st->sent & 255)) {
			cond_resched();
			if (time_after(jiffies, deadline)) {
				st->timed_out = true;
				break;
			}
		}
	}
	WRITE_ONCE(st->stop, true);
	complete(&st->sender_done);
	return 0;
}

/*
 * Run the storm: returns 0 when it ran (look at the counters for the
 * verdict), or a negative errno when it could not start.
 */
static int aa_storm_run(struct aa_storm *st)
{
	struct task_struct *loop, *sender;
	int err;

	init_completion(&st->loop_done);
	init_completion(&st->sender_done);
	WRITE_ONCE(aa_storm_active, st);
	err = register_nmi_handler(NMI_LOCAL, aa_storm_nmi, 0, "aa_storm");
	if (err)
		goto out_active;
	loop = kthread_create(aa_storm_loop, st, "aa_storm_loop/%u", st->cpu);
	if (IS_ERR(loop)) {
		err = PTR_ERR(loop);
		goto out_handler;
	}
	sender = kthread_create(aa_storm_sender, st, "aa_storm_nmi/%u",
				st->sender);
	if (IS_ERR(sender)) {
		err = PTR_ERR(sender);
		WRITE_ONCE(st->stop, true);
		kthread_bind(loop, st->cpu);
		wake_up_process(loop);
		wait_for_completion(&st->loop_done);
		goto out_handler;
	}
	kthread_bind(loop, st->cpu);
	kthread_bind(sender, st->sender);
	wake_up_process(loop);
	wake_up_process(sender);
	wait_for_completion(&st->sender_done);
	wait_for_completion(&st->loop_done);
	err = 0;
out_handler:
	/* Waits for a handler still running on another CPU (RCU). */
	unregister_nmi_handler(NMI_LOCAL, "aa_storm");
out_active:
	WRITE_ONCE(aa_storm_active, NULL);
	if (st->nmi_held) {
		if (READ_ONCE(*aa_storm_word(st->nmi_held)) != st->nmi_tag)
			st->nmi_tag_errors++;
		atomic_alloc_free(st->pool, st->nmi_held);
		st->nmi_held = NULL;
	}
	st->tag_errors = st->loop_tag_errors + st->nmi_tag_errors;
	return err;
}

#endif /* _ATOMIC_ALLOC_NMI_STORM_H */
