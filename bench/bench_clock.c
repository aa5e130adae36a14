// SPDX-License-Identifier: GPL-2.0
/*
 * bench_clock.c - the benchmark's clock: the cycle counter converted to ns
 * (x86 with a known TSC frequency), else ktime_get_ns()
 *
 * bench_now() and bench_to_ns() are inline in bench.h, so that the measuring
 * loop pays only the counter read between its two samples.  Set up once at
 * load, read-only afterwards.
 */

#include <linux/slab.h>
#include <linux/sort.h>
#ifdef CONFIG_X86
#include <asm/tsc.h>
#endif

#include "bench.h"

#define BENCH_STEP_READS	1024

u32 bench_clock_mult;
bool bench_use_cycles;

void bench_clock_init(void)
{
#ifdef CONFIG_X86
	if (!bench_use_ktime && tsc_khz && get_cycles()) {
		bench_clock_mult = div_u64((u64)USEC_PER_SEC << BENCH_CLOCK_SHIFT,
					   tsc_khz);
		bench_use_cycles = true;
	}
#endif
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * How the clock steps: back-to-back reads, the smallest non-zero and the
 * median difference, in ps.  (Under TCG the counter is the host's and may
 * move in coarse steps.)
 */
void bench_clock_steps(u64 *min_ps, u64 *median_ps)
{
	unsigned int i, n = 0;
	u64 *d, a;

	*min_ps = 0;
	*median_ps = 0;
	d = kmalloc_array(BENCH_STEP_READS, sizeof(*d), GFP_KERNEL);
	if (!d)
		return;
	for (i = 0; i < BENCH_STEP_READS; i++) {
		a = bench_now();
		d[i] = bench_to_ns((bench_now() - a) * 1000);
	}
	sort(d, BENCH_STEP_READS, sizeof(*d), bench_cmp_u64, NULL);
	while (n < BENCH_STEP_READS && !d[n])
		n++;
	if (n < BENCH_STEP_READS)
		*min_ps = d[n];
	*median_ps = d[BENCH_STEP_READS / 2];
	kfree(d);
}

/* The cycle counter's frequency, 0 when timing with ktime. */
unsigned int bench_clock_khz(void)
{
#ifdef CONFIG_X86
	if (bench_use_cycles)
		return tsc_khz;
#endif
	return 0;
}
