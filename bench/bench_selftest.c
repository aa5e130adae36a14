// SPDX-License-Identifier: GPL-2.0
/*
 * bench_selftest.c - the benchmark checks itself: every legal row runs in
 * its context without a failed pair, the refill tests complete, and the
 * pools never reached the page allocator
 *
 * Run at load with quick=1 and by the "selftest" command; the result is in
 * debugfs "selftest" as "ok - bench: ..." / "not ok - bench: ..." lines,
 * which scripts/guest/bench.sh counts (the bench-quick stage).
 *
 * Concurrency: runs under bench_lock, like every command.
 */

#include <linux/err.h>

#include "../atomic_alloc.h"
#include "bench.h"

#define BENCH_QUICK_SAMPLES	1024

/* Every NMI the table sent ran one batch, and no other NMI came. */
static void bench_selfcheck_nmi(const struct bench_table *tb)
{
	struct bench_nmi_counts c;
	const char *why = bench_nmi_unavailable();
	unsigned int i, rows = 0;

	for (i = 0; i < tb->nr_rows; i++)
		rows += tb->rows[i].ctx == &bench_ctx_nmi;
	if (why) {
		bench_check(!rows, "NMI context skipped (%s), %u rows in it",
			    why, rows);
		return;
	}
	bench_nmi_get_counts(&c);
	bench_check(rows && c.sent && c.batches == c.sent && !c.stray &&
		    !c.timeouts,
		    "NMI context: %u rows, %llu NMIs sent from CPU %llu, %llu batches run, %llu stray, %llu lost",
		    rows, c.sent, c.sender_cpu, c.batches, c.stray, c.timeouts);
}

static void bench_selfcheck_table(struct bench_table *tb, unsigned int n)
{
	const struct bench_row *row;
	unsigned int i, want = 0, m, c;

	bench_check(!tb->err, "table ran on one CPU in every context (err %d)",
		    tb->err);
	for (m = 0; m < bench_nr_methods; m++)
		for (c = 0; c < bench_nr_ctxs; c++)
			want += !bench_illegal(&bench_methods[m], bench_ctxs[c]);
	bench_check(tb->nr_rows == want && want > 0,
		    "%u rows measured, %u expected", tb->nr_rows, want);
	bench_selfcheck_nmi(tb);
	for (i = 0; i < tb->nr_rows; i++) {
		row = &tb->rows[i];
		bench_check(row->n == n && !row->failed && !row->ctxerr &&
			    row->min <= bench_row_pct(row, 500) &&
			    bench_row_pct(row, 500) <= bench_row_pct(row, 999) &&
			    bench_row_pct(row, 999) <= row->max,
			    "%s order %u %s: %llu/%u pairs, %llu failed, %llu wrong context, p50 %llu ns, max %llu ns",
			    row->m->name, row->m->order, row->ctx->name,
			    row->n, n, row->failed, row->ctxerr,
			    bench_row_pct(row, 500), row->max);
	}
}

/**
 * bench_selftest_run() - run every method briefly and check the results
 *
 * Context: Process context, bench_lock held.
 */
void bench_selftest_run(void)
{
	struct atomic_alloc_stats st;
	struct bench_table *tb;
	unsigned int i;
	int err;

	bench_selftest_clear();
	bench_check(bench_use_cycles || bench_use_ktime,
		    "clock: %s (%u kHz)", bench_use_cycles ? "cycles" : "ktime",
		    bench_clock_khz());
	tb = bench_table_run("selftest", BENCH_QUICK_SAMPLES);
	if (IS_ERR(tb)) {
		bench_check(false, "table: error %ld", PTR_ERR(tb));
	} else {
		bench_selfcheck_table(tb, BENCH_QUICK_SAMPLES);
		bench_table_free(tb);
	}
	err = bench_refill_run("selftest", true);
	bench_check(!err, "refill: drained, refilled, worker woke, sustained draw (err %d)",
		    err);
	for (i = 0; i < BENCH_NR_AA; i++) {
		atomic_alloc_get_stats(bench_aa[i], &st);
		bench_check(!st.alloc_direct && !st.outstanding,
			    "pool %u: no page-allocator fallback (%llu), nothing outstanding (%llu)",
			    i, st.alloc_direct, st.outstanding);
	}
	bench_stprintf("BSELFTEST fail=%u\n", bench_selftest_fail);
}
