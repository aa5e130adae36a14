/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the files of atomic_alloc_bench.ko share
 *
 * One concern per file:
 *
 *   bench_main.c      module parameters, load and unload, the debugfs
 *                     "control" commands
 *   bench_clock.c     the clock: cycle counter converted to ns, or ktime
 *   bench_methods.c   the methods (one alloc+free pair each), their pools,
 *                     and the table of them: add a method row here
 *   bench_ctx.c       the contexts a batch runs in (IRQs off, hard IRQ, BH
 *                     disabled) and which method is legal where: add a
 *                     context here
 *   bench_nmi.c       the NMI context (x86: an NMI sent by IPI from another
 *                     CPU runs the batch)
 *   bench_table.c     rows, the measuring loop, the interleaved table run
 *   bench_job.c       running a function in a kthread on a given CPU
 *   bench_refill.c    refill capacity: drain and refill, work-item wake-up
 *                     latency, sustained draw with remote frees
 *   bench_output.c    the "output" and "selftest" text, the machine-readable
 *                     lines scripts/bench-report.py parses
 *   bench_selftest.c  the self-check (quick=1, "selftest")
 *   bench_code.c      the fast paths' code as it runs, and one single-
 *                     stepped pair of each pool method (scripts/aa_insn.py
 *                     counts the instructions)
 *   hist.h            the histogram (shared with atomic_alloc_naive.ko)
 *
 * The fragmented heap ("labyrinth") is atomic_alloc_labyrinth.ko's
 * (atomic_alloc_labyrinth.h); this module only drives and reports it.
 *
 * Concurrency rules
 * =================
 *
 * - bench_lock (a mutex, bench_output.c) serialises the commands written to
 *   "control" and the reads of "output" and "selftest": one command runs at
 *   a time, in the writer's process context, and waits for the kthreads it
 *   starts.  Everything that prints into the output buffers runs under it.
 * - A table run happens on one kthread bound to bench_cpu.  A row (its
 *   counters and histogram) is written by that CPU only: by the kthread
 *   with IRQs or BH disabled, or by the hrtimer callback that the kthread
 *   started and then waits for; complete() and wait_for_completion() order
 *   the two.
 * - The trace's #DB notifier records only on the bench CPU while the
 *   tracing kthread has set bench_trace.on with IRQs off (bench_code.c).
 * - The NMI context's handler writes the row while the kthread sleeps, as
 *   the hrtimer callback does; it hands over through an irq_work that
 *   calls complete() (bench_nmi.c).
 * - The floor arrays are per CPU, touched by their own CPU with IRQs off
 *   (and filled or emptied at load and unload, when nothing runs).
 * - The refill test's observer runs on another CPU and only reads
 *   atomic_alloc_get_stats() and writes its own result, which the command
 *   reads after the observer completed.
 * - The sustained-draw test has one producer (an hrtimer on bench_cpu) and
 *   one consumer (a kthread on another CPU) around a kfifo, which needs no
 *   lock with one reader and one writer.  Counters have a single writer.
 * - Interrupt callbacks never assert, print or sleep: they count, and the
 *   thread that waited for them reports.
 */
#ifndef _ATOMIC_ALLOC_BENCH_H
#define _ATOMIC_ALLOC_BENCH_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/completion.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/timekeeping.h>
#include <linux/timex.h>
#include <linux/types.h>

#include "hist.h"

struct atomic_alloc_pool;
struct mempool_s;
struct page;
struct page_pool;
struct task_struct;

/* ---- Parameters (bench_main.c) ---- */

extern unsigned int bench_samples;
extern unsigned int bench_batch_size;
extern unsigned int bench_cpu;
extern unsigned int bench_order_hi;
extern unsigned int bench_pool_buffers;
extern bool bench_use_ktime;

#define BENCH_TAG_MAX		24

/* ---- Clock (bench_clock.c) ---- */

#define BENCH_CLOCK_SHIFT	22

extern u32 bench_clock_mult;	/* ns = cycles * mult >> BENCH_CLOCK_SHIFT */
extern bool bench_use_cycles;

static __always_inline u64 bench_now(void)
{
	if (bench_use_cycles)
		return get_cycles();
	return ktime_get_ns();
}

static inline u64 bench_to_ns(u64 delta)
{
	if (bench_use_cycles)
		return mul_u64_u32_shr(delta, bench_clock_mult,
				       BENCH_CLOCK_SHIFT);
	return delta;
}

void bench_clock_init(void);
void bench_clock_steps(u64 *min_ps, u64 *median_ps);
unsigned int bench_clock_khz(void);

/* ---- Methods (bench_methods.c) ---- */

/* Method flags: what decides where a method may run (bench_illegal()). */
/* Takes spinlock_t (zone lock, mempool lock): sleeps on PREEMPT_RT. */
#define BM_SPINLOCK_T	BIT(0)
/* page_pool direct recycling: only with BH disabled (NAPI). */
#define BM_NAPI_ONLY	BIT(1)
/* Not an allocator but a reference row, measured with IRQs off only. */
#define BM_REFERENCE	BIT(2)
/* May run in NMI. */
#define BM_NMI_SAFE	BIT(3)

/**
 * struct bench_method - one alloc+free pair, timed by bench_batch()
 * @name:	the method= of the output lines.
 * @order:	buffer order.
 * @flags:	BM_* above.
 * @pair:	allocate one buffer, free it; false if the allocation failed.
 * @setup:	optional, at load: create what @pair needs (@index 0 is
 *		order 0, 1 is order_hi).
 * @teardown:	optional, at unload; also on a half-built method.
 * @aa:		atomic_alloc pool (atomic_alloc rows).
 * @mp:		mempool (mempool rows).
 * @pp:		page_pool (page_pool rows).
 * @zero:	the buffer the zeroing row clears.
 */
struct bench_method {
	const char *name;
	unsigned int order;
	unsigned int flags;
	bool (*pair)(const struct bench_method *m);
	int (*setup)(struct bench_method *m, unsigned int index);
	void (*teardown)(struct bench_method *m);
	struct atomic_alloc_pool *aa;
	struct mempool_s *mp;
	struct page_pool *pp;
	struct page *zero;
};

extern struct bench_method bench_methods[];
extern unsigned int bench_nr_methods;
/* The atomic_alloc pools of order 0 and order_hi (rows, refill, pools). */
extern struct atomic_alloc_pool *bench_aa[2];
#define BENCH_NR_AA	2

int bench_methods_create(void);
void bench_methods_destroy(void);

/* ---- Contexts (bench_ctx.c) ---- */

struct bench_row;

/* Context flags: what bench_illegal() asks of a context. */
/* BH disabled: preemptible on PREEMPT_RT, so spinlock_t is allowed. */
#define BCF_BH		BIT(0)
/* Where the reference rows are measured. */
#define BCF_REFERENCE	BIT(1)
/* NMI: only BM_NMI_SAFE methods. */
#define BCF_NMI		BIT(2)

/**
 * struct bench_ctx - a context that batches run in
 * @name:	the ctx= of the output lines.
 * @flags:	BCF_* above.
 * @prepare:	optional, once per table run on the bench kthread: make the
 *		state @run needs (e.g. an hrtimer).
 * @finish:	optional: undo @prepare.
 * @run:	run bench_both() on @row for @n pairs in this context, from
 *		the bench kthread (bound to its CPU); 0 or an error.  Sets
 *		@row->ctxerr when the context turned out not to be the one
 *		claimed.
 * @report:	optional, after a table run, by the command (bench_lock
 *		held): print the context's own BCTX line.
 */
struct bench_ctx {
	const char *name;
	unsigned int flags;
	int (*prepare)(void **state);
	void (*finish)(void *state);
	int (*run)(void *state, struct bench_row *row, unsigned int n);
	void (*report)(const char *tag);
};

extern const struct bench_ctx *const bench_ctxs[];
extern const unsigned int bench_nr_ctxs;
extern const struct bench_ctx bench_ctx_hardirq;
extern const struct bench_ctx bench_ctx_nmi;

const char *bench_illegal(const struct bench_method *m,
			  const struct bench_ctx *ctx);

/* ---- The NMI context (bench_nmi.c) ---- */

/**
 * struct bench_nmi_counts - the NMI context's counts of one table run
 * @sender_cpu:	the CPU that sent the NMIs.
 * @sent:	NMIs sent, one per batch.
 * @batches:	batches the handler ran.
 * @stray:	NMIs on the bench CPU that found no batch to run.
 * @timeouts:	batches whose NMI never came.
 */
struct bench_nmi_counts {
	u64 sender_cpu;
	u64 sent;
	u64 batches;
	u64 stray;
	u64 timeouts;
};

const char *bench_nmi_unavailable(void);
void bench_nmi_get_counts(struct bench_nmi_counts *c);

/* ---- Rows and the table (bench_table.c) ---- */

/*
 * One (method, context) row.  @blk holds the block-timed mean of each
 * batch (ps per pair), @blk_cap of them (NULL outside a table run);
 * bench_row_finish() sorts them into @blk_p10/@blk_p50/@blk_p90: the
 * median of the batch means is a block-timed mean that a batch the host
 * stalled cannot move, unlike the overall @block_ns / @block_n.
 */
struct bench_row {
	const struct bench_method *m;
	const struct bench_ctx *ctx;
	u64 n;
	u64 failed;
	u64 ctxerr;
	u64 sum;
	u64 min;
	u64 max;
	u64 block_ns;
	u64 block_n;
	u32 *blk;
	unsigned int nblk;
	unsigned int blk_cap;
	u64 blk_p10;
	u64 blk_p50;
	u64 blk_p90;
	u32 hist[BH_BUCKETS];
};

struct bench_table {
	struct bench_row *rows;
	u32 *blk;
	unsigned int nr_rows;
	unsigned int samples;
	unsigned int batch;
	unsigned long lab_swept;
	int err;
};

void bench_row_reset(struct bench_row *row);
void bench_row_finish(struct bench_row *row);
void bench_row_add(struct bench_row *row, u64 ns);
u64 bench_row_pct(const struct bench_row *row, unsigned int permille);
void bench_both(struct bench_row *row, unsigned int n);
struct bench_table *bench_table_run(const char *tag, unsigned int n);
void bench_table_free(struct bench_table *tb);

/* ---- Kthreads on a CPU (bench_job.c) ---- */

struct bench_job {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	struct completion done;
	struct task_struct *task;
};

int bench_job_start(struct bench_job *job, unsigned int cpu,
		    int (*fn)(void *), void *arg);
int bench_job_wait(struct bench_job *job);
int bench_on_cpu(unsigned int cpu, int (*fn)(void *), void *arg);
unsigned int bench_other_cpu(unsigned int cpu);
unsigned int bench_table_cpu(void);

/* ---- Refill capacity (bench_refill.c) ---- */

int bench_refill_init(void);
void bench_refill_exit(void);
int bench_refill_run(const char *tag, bool short_run);

/* ---- Output (bench_output.c) ---- */

extern struct mutex bench_lock;
extern unsigned int bench_selftest_fail;

int bench_output_init(void);
void bench_output_exit(void);
void bench_output_clear(void);
void bench_selftest_clear(void);
__printf(1, 2) void bench_printf(const char *fmt, ...);
__printf(1, 2) void bench_stprintf(const char *fmt, ...);
void bench_kv(const char *key, u64 val);
__printf(2, 3) void bench_check(bool ok, const char *fmt, ...);
void bench_print_row(const char *tag, const struct bench_row *row);
void bench_print_env(void);
void bench_print_pools(const char *tag);
void bench_print_lab(const char *when);
ssize_t bench_output_read(char __user *ubuf, size_t count, loff_t *ppos);
ssize_t bench_selftest_read(char __user *ubuf, size_t count, loff_t *ppos);

/* ---- Code of the fast paths (bench_code.c) ---- */

/* A function whose code bench_code.c prints. */
struct bench_code_fn {
	const char *name;
	const void *addr;
};

/* The pair functions and their helpers (bench_methods.c). */
extern const struct bench_code_fn bench_method_code[];
extern const unsigned int bench_nr_method_code;

int bench_print_code(void);

/* ---- Self-check (bench_selftest.c) ---- */

void bench_selftest_run(void);

#endif /* _ATOMIC_ALLOC_BENCH_H */
