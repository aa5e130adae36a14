// SPDX-License-Identifier: GPL-2.0
/*
 * bench_table.c - rows, the one measuring loop, and the table run that
 * interleaves every legal (method, context) row on one CPU
 *
 * bench_batch() times every method the same way: clock read, one call
 * through the method's pointer, clock read, the difference filed into the
 * row's histogram outside the timed region.  bench_block() then runs the
 * same pairs timed as one block, which gives a mean free of the per-pair
 * clock reads.  A table run interleaves the rows batch by batch, so that
 * noise from the host falls on all of them alike.
 *
 * Concurrency: a table runs on one kthread bound to the bench CPU; each row
 * is written by that CPU only, by the kthread or by a callback the kthread
 * waits for (bench_ctx.c).  The output is printed by the caller, which holds
 * bench_lock.
 */

#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "atomic_alloc_labyrinth.h"
#include "bench.h"

#define BENCH_BATCH_MAX		4096

void bench_row_reset(struct bench_row *row)
{
	row->n = 0;
	row->failed = 0;
	row->ctxerr = 0;
	row->sum = 0;
	row->min = U64_MAX;
	row->max = 0;
	row->block_ns = 0;
	row->block_n = 0;
	row->nblk = 0;
	row->blk_p10 = 0;
	row->blk_p50 = 0;
	row->blk_p90 = 0;
	memset(row->hist, 0, sizeof(row->hist));
}

static int bench_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* After the run: the batch means' percentiles (process context). */
void bench_row_finish(struct bench_row *row)
{
	if (!row->nblk)
		return;
	sort(row->blk, row->nblk, sizeof(*row->blk), bench_cmp_u32, NULL);
	row->blk_p10 = row->blk[row->nblk / 10];
	row->blk_p50 = row->blk[row->nblk / 2];
	row->blk_p90 = row->blk[row->nblk * 9 / 10];
}

void bench_row_add(struct bench_row *row, u64 ns)
{
	row->n++;
	row->sum += ns;
	row->min = min(row->min, ns);
	row->max = max(row->max, ns);
	row->hist[bh_index(ns)]++;
}

/* The @permille-th per mille of the row's successful pairs, ns. */
u64 bench_row_pct(const struct bench_row *row, unsigned int permille)
{
	return bh_percentile(row->hist, row->n, row->max, permille);
}

/*
 * The one loop every method is timed by.  Only the call is between the
 * two clock reads; filing the sample happens outside.
 */
static noinline void bench_batch(struct bench_row *row, unsigned int n)
{
	const struct bench_method *m = row->m;
	unsigned int i;
	u64 t0, t1;
	bool ok;

	for (i = 0; i < n; i++) {
		t0 = bench_now();
		ok = m->pair(m);
		t1 = bench_now();
		if (likely(ok))
			bench_row_add(row, bench_to_ns(t1 - t0));
		else
			row->failed++;
	}
}

/*
 * The same pairs timed as one block, without a clock read per pair: a
 * mean free of the timer's overhead and granularity.  Failed attempts
 * count like successful ones.  Each batch's mean is also kept, for their
 * median (bench_row_finish()).
 */
static noinline void bench_block(struct bench_row *row, unsigned int n)
{
	const struct bench_method *m = row->m;
	unsigned int i;
	u64 t0, ns;

	t0 = bench_now();
	for (i = 0; i < n; i++)
		m->pair(m);
	ns = bench_to_ns(bench_now() - t0);
	row->block_ns += ns;
	row->block_n += n;
	if (row->nblk < row->blk_cap && n)
		row->blk[row->nblk++] = min_t(u64, div_u64(ns * 1000, n), U32_MAX);
}

/* Both timings of @n pairs of @row; called by a context's run function. */
void bench_both(struct bench_row *row, unsigned int n)
{
	bench_batch(row, n);
	bench_block(row, n);
}

/* Per-context state of one table run (bench_ctx.prepare()). */
struct bench_run {
	struct bench_table *tb;
	void **state;
};

static int bench_row_batch(struct bench_run *run, struct bench_row *row,
			   unsigned int n)
{
	unsigned int c;

	for (c = 0; c < bench_nr_ctxs; c++)
		if (bench_ctxs[c] == row->ctx)
			return row->ctx->run(run->state[c], row, n);
	return -EINVAL;
}

static int bench_table_fn(void *arg)
{
	struct bench_run *run = arg;
	struct bench_table *tb = run->tb;
	unsigned int r, i, c, rounds, n;
	int err = 0;

	for (c = 0; c < bench_nr_ctxs && !err; c++)
		if (bench_ctxs[c]->prepare)
			err = bench_ctxs[c]->prepare(&run->state[c]);

	/* Warm-up: one batch each (TCG translates code on first use). */
	for (i = 0; i < tb->nr_rows && !err; i++) {
		err = bench_row_batch(run, &tb->rows[i], tb->batch);
		bench_row_reset(&tb->rows[i]);
	}
	rounds = DIV_ROUND_UP(tb->samples, tb->batch);
	for (r = 0; r < rounds && !err; r++) {
		/*
		 * On a labyrinth, break up (outside the timed region) any
		 * block of order >= 1 that became free on this CPU or in the
		 * buddy lists since the last round, including one a method
		 * has been recycling through this CPU's per-CPU list.
		 */
		tb->lab_swept += aa_labyrinth_sweep_here();
		n = min(tb->batch, tb->samples - r * tb->batch);
		/*
		 * Each round starts one row further on, so that no method
		 * always follows the same one (what a row leaves behind in
		 * caches, TLBs and pending softirqs falls on all alike).
		 */
		for (i = 0; i < tb->nr_rows && !err; i++) {
			err = bench_row_batch(run,
					      &tb->rows[(r + i) % tb->nr_rows],
					      n);
			cond_resched();
		}
	}
	for (c = 0; c < bench_nr_ctxs; c++)
		if (bench_ctxs[c]->finish && run->state[c])
			bench_ctxs[c]->finish(run->state[c]);
	return err;
}

/**
 * bench_table_run() - measure every legal (method, context) row
 * @tag: the tag= of the output lines
 * @n: pairs per row
 *
 * Prints a BSKIP line for every illegal pair, then runs the table on the
 * bench CPU and prints BRUN and, per row, BENCH and BHIST lines.
 *
 * Context: Process context, bench_lock held.
 * Return: the rows (bench_table_free() them; their ->err says whether the
 * run failed part-way) or an error pointer.
 */
struct bench_table *bench_table_run(const char *tag, unsigned int n)
{
	struct bench_run run = { };
	struct bench_table *tb;
	unsigned int i, c, cpu, rounds;
	const char *why;
	int err;

	tb = kzalloc(sizeof(*tb), GFP_KERNEL);
	run.state = kcalloc(bench_nr_ctxs, sizeof(*run.state), GFP_KERNEL);
	if (tb)
		tb->rows = vzalloc(array_size(bench_nr_methods * bench_nr_ctxs,
					      sizeof(*tb->rows)));
	if (!tb || !tb->rows || !run.state) {
		kfree(run.state);
		bench_table_free(tb);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < bench_nr_methods; i++) {
		for (c = 0; c < bench_nr_ctxs; c++) {
			why = bench_illegal(&bench_methods[i], bench_ctxs[c]);
			if (why) {
				bench_printf("BSKIP tag=%s ctx=%s method=%s order=%u why=%s\n",
					     tag, bench_ctxs[c]->name,
					     bench_methods[i].name,
					     bench_methods[i].order, why);
				continue;
			}
			tb->rows[tb->nr_rows].m = &bench_methods[i];
			tb->rows[tb->nr_rows].ctx = bench_ctxs[c];
			bench_row_reset(&tb->rows[tb->nr_rows]);
			tb->nr_rows++;
		}
	}
	tb->samples = max(n, 1U);
	tb->batch = clamp(bench_batch_size, 1U, BENCH_BATCH_MAX);
	rounds = DIV_ROUND_UP(tb->samples, tb->batch);
	tb->blk = vcalloc(array_size(tb->nr_rows, rounds), sizeof(*tb->blk));
	if (!tb->blk && tb->nr_rows) {
		kfree(run.state);
		bench_table_free(tb);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < tb->nr_rows; i++) {
		tb->rows[i].blk = tb->blk + i * rounds;
		tb->rows[i].blk_cap = rounds;
	}
	cpu = bench_table_cpu();
	run.tb = tb;
	err = bench_on_cpu(cpu, bench_table_fn, &run);
	kfree(run.state);
	bench_printf("BRUN tag=%s err=%d", tag, err);
	bench_kv("cpu", cpu);
	bench_kv("samples", tb->samples);
	bench_kv("batch", tb->batch);
	bench_kv("rows", tb->nr_rows);
	bench_kv("lab_swept_blocks", tb->lab_swept);
	bench_printf("\n");
	for (i = 0; i < tb->nr_rows; i++) {
		bench_row_finish(&tb->rows[i]);
		bench_print_row(tag, &tb->rows[i]);
	}
	for (c = 0; c < bench_nr_ctxs; c++)
		if (bench_ctxs[c]->report)
			bench_ctxs[c]->report(tag);
	tb->err = err;
	return tb;
}

void bench_table_free(struct bench_table *tb)
{
	if (IS_ERR_OR_NULL(tb))
		return;
	vfree(tb->rows);
	vfree(tb->blk);
	kfree(tb);
}
