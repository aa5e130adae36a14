// SPDX-License-Identifier: GPL-2.0
/*
 * bench_nmi.c - the NMI context: a batch of pairs run by an NMI handler on
 * the bench CPU, the NMI sent by IPI from another CPU
 *
 * x86 only, as the NMI storm of tests/atomic_alloc_nmi_storm.h: the NMI is
 * sent through the local APIC (apic->send_IPI_mask(..., NMI_VECTOR)) and
 * received by an NMI_LOCAL handler.  Elsewhere the context is listed but
 * bench_nmi_unavailable() says why, and bench_illegal() skips every row in
 * it with that reason.
 *
 * One NMI runs one batch, as one hrtimer callback does in the hard-IRQ
 * context.  For each batch the bench kthread (bound to the bench CPU):
 *
 *   1. arms the request (row, n): bench_nmi.armed = 1;
 *   2. has another CPU send the NMI: smp_call_function_single() runs
 *      bench_nmi_send() there, in its IPI handler, and waits for it;
 *   3. sleeps on a completion.
 *
 * The handler takes the armed request (atomic_xchg() to 0, so that one
 * request runs once whatever NMIs arrive), runs bench_both() on the row and
 * queues a hard irq_work on its CPU; the irq_work, in hard IRQ once the NMI
 * returned, calls complete(), which is not NMI-safe while irq_work_queue()
 * is.  Only one NMI is ever in flight: under TCG, sending faster only makes
 * the emulator drop the ones that find an NMI pending.
 *
 * What the handler does is NMI-safe: it reads the cycle counter (rdtsc;
 * ktime_get_ns() is not NMI-safe, so the context is unavailable with
 * use_ktime=1), calls the method, and adds the sample to the row with plain
 * stores.  The row is the bench CPU's alone while the kthread sleeps;
 * complete() and wait_for_completion() order the handler's stores before the
 * kthread's reads.  The handler never prints, asserts or sleeps; it counts.
 *
 * Concurrency: bench_nmi_active is set by prepare and cleared by finish on
 * the bench kthread; unregister_nmi_handler() waits for a handler still
 * running (RCU).  The counters in struct bench_nmi are written by one side
 * each (kthread: sent, timeouts; handler: batches, stray) and read by the
 * kthread after finish, or by the command that started the table after the
 * kthread ended.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/smp.h>
#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

#include "bench.h"

#define BENCH_NMI_WAIT_MS	5000
#define BENCH_NMI_NAME		"aa_bench"

/* The last table run's counts; see the top of the file. */
static struct bench_nmi_counts bench_nmi_last;

/**
 * bench_nmi_unavailable() - can this machine run the NMI context?
 *
 * Context: Any.
 * Return: NULL when it can, else why not (printed in BSKIP).
 */
const char *bench_nmi_unavailable(void)
{
	if (!IS_ENABLED(CONFIG_X86_LOCAL_APIC))
		return "NMI row: x86 only (the NMI is sent by IPI through the local APIC)";
	if (num_online_cpus() < 2)
		return "NMI row: needs a second online CPU to send the NMIs";
	if (!bench_use_cycles)
		return "NMI row: the clock is ktime_get_ns() (use_ktime=1), which is not NMI-safe";
	return NULL;
}

/**
 * bench_nmi_get_counts() - what the NMI context counted in the last table
 * @c: filled in
 *
 * Context: Process context, bench_lock held, no table running.
 */
void bench_nmi_get_counts(struct bench_nmi_counts *c)
{
	*c = bench_nmi_last;
}

#ifdef CONFIG_X86_LOCAL_APIC

struct bench_nmi {
	unsigned int cpu;		/* the bench CPU: takes the NMIs */
	unsigned int sender;		/* sends them */
	struct bench_row *row;		/* the armed request */
	unsigned int n;
	atomic_t armed;
	struct bench_nmi_counts counts;
	struct irq_work done_work;
	struct completion done;
};

static struct bench_nmi *bench_nmi_active;

static void bench_nmi_done_fn(struct irq_work *work)
{
	struct bench_nmi *bn = container_of(work, struct bench_nmi, done_work);

	complete(&bn->done);
}

static int bench_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	struct bench_nmi *bn = READ_ONCE(bench_nmi_active);

	if (!bn || smp_processor_id() != bn->cpu)
		return NMI_DONE;
	/*
	 * While the context is registered, the NMIs on the bench CPU are
	 * ours: one that finds no request is counted, not left to the
	 * "unknown NMI" report.
	 */
	if (!atomic_xchg(&bn->armed, 0)) {
		bn->counts.stray++;
		return NMI_HANDLED;
	}
	if (!in_nmi())
		bn->row->ctxerr++;
	bench_both(bn->row, bn->n);
	bn->counts.batches++;
	irq_work_queue(&bn->done_work);
	return NMI_HANDLED;
}

/* On the sender CPU, in its IPI handler. */
static void bench_nmi_send(void *arg)
{
	struct bench_nmi *bn = arg;

	apic->send_IPI_mask(cpumask_of(bn->cpu), NMI_VECTOR);
}

static int bench_prepare_nmi(void **state)
{
	struct bench_nmi *bn;
	int err;

	memset(&bench_nmi_last, 0, sizeof(bench_nmi_last));
	*state = NULL;
	if (bench_nmi_unavailable())
		return 0;
	bn = kzalloc(sizeof(*bn), GFP_KERNEL);
	if (!bn)
		return -ENOMEM;
	/* prepare runs on the bench kthread, bound to the bench CPU. */
	bn->cpu = raw_smp_processor_id();
	bn->sender = bench_other_cpu(bn->cpu);
	bn->counts.sender_cpu = bn->sender;
	/* In hard IRQ on PREEMPT_RT too (complete() is legal there). */
	bn->done_work = IRQ_WORK_INIT_HARD(bench_nmi_done_fn);
	init_completion(&bn->done);
	WRITE_ONCE(bench_nmi_active, bn);
	err = register_nmi_handler(NMI_LOCAL, bench_nmi_handler, 0,
				   BENCH_NMI_NAME);
	if (err) {
		WRITE_ONCE(bench_nmi_active, NULL);
		kfree(bn);
		return err;
	}
	*state = bn;
	return 0;
}

static void bench_finish_nmi(void *state)
{
	struct bench_nmi *bn = state;

	/* Waits for a handler still running on another CPU (RCU). */
	unregister_nmi_handler(NMI_LOCAL, BENCH_NMI_NAME);
	WRITE_ONCE(bench_nmi_active, NULL);
	irq_work_sync(&bn->done_work);
	bench_nmi_last = bn->counts;
	kfree(bn);
}

static int bench_run_nmi(void *state, struct bench_row *row, unsigned int n)
{
	struct bench_nmi *bn = state;
	int err;

	if (!bn)
		return -EOPNOTSUPP;
	bn->row = row;
	bn->n = n;
	reinit_completion(&bn->done);
	/* Paired with the atomic_xchg() in the handler: row and n first. */
	atomic_set_release(&bn->armed, 1);
	err = smp_call_function_single(bn->sender, bench_nmi_send, bn, 1);
	if (err) {
		atomic_set(&bn->armed, 0);
		return err;
	}
	bn->counts.sent++;
	if (wait_for_completion_timeout(&bn->done,
					msecs_to_jiffies(BENCH_NMI_WAIT_MS)))
		return 0;
	/* Not taken: it never will be.  Taken: it is about to complete. */
	if (atomic_xchg(&bn->armed, 0)) {
		bn->counts.timeouts++;
		return -ETIMEDOUT;
	}
	wait_for_completion(&bn->done);
	return 0;
}

#else /* !CONFIG_X86_LOCAL_APIC: every row is skipped (bench_illegal()) */

static int bench_prepare_nmi(void **state)
{
	memset(&bench_nmi_last, 0, sizeof(bench_nmi_last));
	*state = NULL;
	return 0;
}

static void bench_finish_nmi(void *state)
{
}

static int bench_run_nmi(void *state, struct bench_row *row, unsigned int n)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_X86_LOCAL_APIC */

static void bench_report_nmi(const char *tag)
{
	const struct bench_nmi_counts *c = &bench_nmi_last;

	if (!c->sent)
		return;
	bench_printf("BCTX tag=%s ctx=nmi", tag);
	bench_kv("sender_cpu", c->sender_cpu);
	bench_kv("sent", c->sent);
	bench_kv("batches", c->batches);
	bench_kv("stray", c->stray);
	bench_kv("timeouts", c->timeouts);
	bench_printf("\n");
}

const struct bench_ctx bench_ctx_nmi = {
	.name = "nmi",
	.flags = BCF_NMI,
	.prepare = bench_prepare_nmi,
	.finish = bench_finish_nmi,
	.run = bench_run_nmi,
	.report = bench_report_nmi,
};
