// SPDX-License-Identifier: GPL-2.0
/*
 * bench_output.c - what the benchmark says: the "output" and "selftest"
 * text of debugfs, and the machine-readable lines in it
 *
 * Every line starts with a word that names its kind and carries
 * " key=value" fields (scripts/bench-report.py parses them):
 *
 *   BENV   the clock and the parameters       BRUN   one table run
 *   BENCH  one row's counts and percentiles   BHIST  its coarse histogram
 *   BSKIP  a row not measured, and why        BLAB   the labyrinth, per zone
 *   BPOOL  an atomic_alloc pool's counters    BREFILL, BSUSTAIN (refill)
 *
 * The self-check writes "ok - bench: ..." / "not ok - bench: ..." lines
 * and a final "BSELFTEST fail=N" to "selftest".
 *
 * Concurrency: everything here runs under bench_lock, which the debugfs
 * command and read paths take (bench_main.c).
 */

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/fs.h>

#include "../atomic_alloc.h"
#include "atomic_alloc_labyrinth.h"
#include "bench.h"

#define BENCH_OUT_SIZE		(2 << 20)
#define BENCH_SELFTEST_SIZE	(64 << 10)
/* Coarse histogram bins per BHIST line. */
#define BENCH_BINS_PER_LINE	12

/* One command or read at a time; see bench.h. */
DEFINE_MUTEX(bench_lock);
unsigned int bench_selftest_fail;

static char *bench_out;
static size_t bench_out_len;
static char *bench_selftest;
static size_t bench_selftest_len;

int bench_output_init(void)
{
	bench_out = kvzalloc(BENCH_OUT_SIZE, GFP_KERNEL);
	bench_selftest = kvzalloc(BENCH_SELFTEST_SIZE, GFP_KERNEL);
	if (bench_out && bench_selftest)
		return 0;
	bench_output_exit();
	return -ENOMEM;
}

void bench_output_exit(void)
{
	kvfree(bench_out);
	bench_out = NULL;
	kvfree(bench_selftest);
	bench_selftest = NULL;
}

void bench_output_clear(void)
{
	bench_out_len = 0;
	bench_out[0] = '\0';
}

void bench_selftest_clear(void)
{
	bench_selftest_len = 0;
	bench_selftest_fail = 0;
	bench_selftest[0] = '\0';
}

static __printf(4, 0) void bench_vappend(char *buf, size_t size, size_t *len,
					  const char *fmt, va_list args)
{
	if (buf)
		*len += vscnprintf(buf + *len, size - *len, fmt, args);
}

void bench_printf(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	bench_vappend(bench_out, BENCH_OUT_SIZE, &bench_out_len, fmt, args);
	va_end(args);
}

void bench_stprintf(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	bench_vappend(bench_selftest, BENCH_SELFTEST_SIZE, &bench_selftest_len,
		      fmt, args);
	va_end(args);
}

/* One " key=value" field of an output line. */
void bench_kv(const char *key, u64 val)
{
	bench_printf(" %s=%llu", key, val);
}

/* One self-check line; a failed one is counted in bench_selftest_fail. */
void bench_check(bool ok, const char *fmt, ...)
{
	char line[192];
	va_list args;

	va_start(args, fmt);
	vscnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (!ok)
		bench_selftest_fail++;
	bench_stprintf("%sok - bench: %s\n", ok ? "" : "not ", line);
}

/* A row: its BENCH line, then its coarse bins ("lo:hi:count") in BHIST. */
void bench_print_row(const char *tag, const struct bench_row *row)
{
	unsigned int i, nbins = 0;
	u64 lo, hi, count;

	bench_printf("BENCH tag=%s ctx=%s method=%s order=%u", tag,
		     row->ctx->name, row->m->name, row->m->order);
	bench_kv("n", row->n);
	bench_kv("fail", row->failed);
	bench_kv("ctxerr", row->ctxerr);
	bench_kv("min", row->n ? row->min : 0);
	bench_kv("p50", bench_row_pct(row, 500));
	bench_kv("p90", bench_row_pct(row, 900));
	bench_kv("p99", bench_row_pct(row, 990));
	bench_kv("p999", bench_row_pct(row, 999));
	bench_kv("max", row->max);
	bench_kv("mean", row->n ? div64_u64(row->sum, row->n) : 0);
	bench_kv("block_ps", row->block_n ?
		 div64_u64(row->block_ns * 1000, row->block_n) : 0);
	if (row->nblk) {
		bench_kv("batches", row->nblk);
		bench_kv("block_p10_ps", row->blk_p10);
		bench_kv("block_p50_ps", row->blk_p50);
		bench_kv("block_p90_ps", row->blk_p90);
	}
	bench_printf("\n");

	for (i = 0; i < BH_BUCKETS; i += BH_COARSE) {
		count = bh_coarse_bin(row->hist, i, &lo, &hi);
		if (!count)
			continue;
		if (nbins % BENCH_BINS_PER_LINE == 0)
			bench_printf("%sBHIST tag=%s ctx=%s method=%s order=%u bins=",
				     nbins ? "\n" : "", tag, row->ctx->name,
				     row->m->name, row->m->order);
		bench_printf("%s%llu:%llu:%llu",
			     nbins % BENCH_BINS_PER_LINE ? "," : "", lo, hi,
			     count);
		nbins++;
	}
	if (nbins)
		bench_printf("\n");
}

void bench_print_env(void)
{
	u64 step_min, step_median;

	bench_clock_steps(&step_min, &step_median);
	bench_printf("BENV clock=%s", bench_use_cycles ? "cycles" : "ktime");
	bench_kv("kernel_rt", IS_ENABLED(CONFIG_PREEMPT_RT));
	bench_kv("init_on_alloc", want_init_on_alloc(0));
	bench_kv("clock_khz", bench_clock_khz());
	bench_kv("clock_step_min_ps", step_min);
	bench_kv("clock_read_median_ps", step_median);
	bench_kv("bench_cpu", bench_cpu);
	bench_kv("online_cpus", num_online_cpus());
	bench_kv("samples", bench_samples);
	bench_kv("batch", bench_batch_size);
	bench_kv("order_hi", bench_order_hi);
	bench_kv("pool_buffers", bench_pool_buffers);
	bench_kv("hz", HZ);
	bench_printf("\n");
}

void bench_print_pools(const char *tag)
{
	struct atomic_alloc_stats st;
	unsigned int i;

	for (i = 0; i < BENCH_NR_AA; i++) {
		atomic_alloc_get_stats(bench_aa[i], &st);
		bench_printf("BPOOL tag=%s order=%u", tag,
			     i ? bench_order_hi : 0);
		bench_kv("alloc_local", st.alloc_local);
		bench_kv("alloc_remote", st.alloc_remote);
		bench_kv("alloc_direct", st.alloc_direct);
		bench_kv("alloc_failed", st.alloc_failed);
		bench_kv("refilled", st.refilled);
		bench_kv("refill_failed", st.refill_failed);
		bench_kv("released", st.released);
		bench_kv("available", st.available);
		bench_kv("outstanding", st.outstanding);
		bench_printf("\n");
	}
}

struct bench_lab_line {
	const char *when;
	struct aa_labyrinth_stats st;
};

static void bench_print_lab_zone(const struct aa_labyrinth_zone *z, void *arg)
{
	const struct bench_lab_line *l = arg;

	bench_printf("BLAB when=%s zone=%s node=%d", l->when, z->name, z->node);
	bench_kv("free", z->free);
	bench_kv("min", z->min);
	bench_kv("low", z->low);
	bench_kv("high", z->high);
	bench_kv("target", z->target);
	bench_kv("order1plus_blocks", z->order1plus_blocks);
	bench_kv("pinned", l->st.pinned);
	bench_kv("grabbed", l->st.grabbed);
	bench_kv("swept", l->st.swept);
	bench_kv("released", l->st.released);
	bench_kv("hold_passes", l->st.hold_passes);
	bench_kv("hold_grabbed", l->st.hold_grabbed);
	bench_kv("hold_released", l->st.hold_released);
	bench_kv("hold_swept", l->st.hold_swept);
	bench_kv("hold_adopted", l->st.hold_adopted);
	bench_kv("shrunk", l->st.shrunk);
	bench_kv("reserve_blocks", l->st.reserve_blocks);
	bench_kv("reserve_order", l->st.reserve_order);
	bench_kv("reserve_pages", l->st.reserve_pages);
	bench_printf("\n");
}

/* The labyrinth's state, one BLAB line per zone. */
void bench_print_lab(const char *when)
{
	struct bench_lab_line l = { .when = when };

	aa_labyrinth_get_stats(&l.st);
	aa_labyrinth_report_zones(bench_print_lab_zone, &l);
}

ssize_t bench_output_read(char __user *ubuf, size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench_out,
				      bench_out_len);
	mutex_unlock(&bench_lock);
	return ret;
}

ssize_t bench_selftest_read(char __user *ubuf, size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench_selftest,
				      bench_selftest_len);
	mutex_unlock(&bench_lock);
	return ret;
}
