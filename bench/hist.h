/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - the latency histogram of the benchmark and the naive stream
 *
 * 64 linear sub-buckets per power of two: a value is filed with an error of
 * at most 1/64 (1.6 %) of itself, from 0 to 2^42 ns (over an hour), in
 * BH_BUCKETS u32 counters.  Values below 64 get a bucket each.
 *
 * Header-only (static inline), because two modules use it:
 * atomic_alloc_bench.ko (bench_table.c, bench_refill.c) and
 * atomic_alloc_naive.ko.
 *
 * Concurrency: none here.  A histogram has one writer at a time (the
 * caller's rule); a reader on another CPU sees each counter whole (u32) but
 * a running histogram need not add up.
 */
#ifndef _ATOMIC_ALLOC_BENCH_HIST_H
#define _ATOMIC_ALLOC_BENCH_HIST_H

#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/types.h>

#define BH_SUB_BITS	6
#define BH_SUB		64U	/* 1 << BH_SUB_BITS */
#define BH_OCTAVES	36
#define BH_BUCKETS	(BH_SUB + BH_OCTAVES * BH_SUB)
/* Fine buckets per printed (coarse) bin: 8 bins per power of two. */
#define BH_COARSE	8

/* The bucket that counts @v. */
static inline unsigned int bh_index(u64 v)
{
	unsigned int shift, idx;

	if (v < BH_SUB)
		return v;
	shift = fls64(v) - 1 - BH_SUB_BITS;
	idx = BH_SUB + shift * BH_SUB + (unsigned int)((v >> shift) - BH_SUB);
	return min(idx, BH_BUCKETS - 1);
}

/* The smallest value bucket @idx counts. */
static inline u64 bh_lower(unsigned int idx)
{
	unsigned int shift;

	if (idx < BH_SUB)
		return idx;
	shift = (idx - BH_SUB) / BH_SUB;
	return (u64)(BH_SUB + (idx - BH_SUB) % BH_SUB) << shift;
}

/* How many values bucket @idx counts. */
static inline u64 bh_width(unsigned int idx)
{
	return idx < BH_SUB ? 1 : 1ULL << ((idx - BH_SUB) / BH_SUB);
}

/*
 * The @permille-th per mille of @n values counted in @hist, whose largest
 * was @max: the middle of the bucket that holds it, never above @max.
 * 0 when @n is 0.
 */
static inline u64 bh_percentile(const u32 *hist, u64 n, u64 max,
				unsigned int permille)
{
	u64 want, seen = 0;
	unsigned int i;

	if (!n)
		return 0;
	want = div_u64(n * permille + 999, 1000);
	for (i = 0; i < BH_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= want)
			return min(bh_lower(i) + (bh_width(i) - 1) / 2, max);
	}
	return max;
}

/*
 * One coarse bin (BH_COARSE fine buckets) starting at fine bucket @i, a
 * multiple of BH_COARSE: its values are [*@lo, *@hi), and the return value
 * is how many were counted there.
 */
static inline u64 bh_coarse_bin(const u32 *hist, unsigned int i, u64 *lo,
				u64 *hi)
{
	unsigned int j, last = min(i + BH_COARSE, BH_BUCKETS) - 1;
	u64 count = 0;

	for (j = i; j <= last; j++)
		count += hist[j];
	*lo = bh_lower(i);
	*hi = bh_lower(last) + bh_width(last);
	return count;
}

#endif /* _ATOMIC_ALLOC_BENCH_HIST_H */
