// SPDX-License-Identifier: GPL-2.0
/*
 * audio_hist - log-linear histograms of durations in nanoseconds
 *
 * Concurrency (see audio_hist.h): one writer per histogram, any number of
 * readers on other CPUs; no lock, nothing sleeps but audio_hist_show().
 *
 *   function               context
 *   audio_hist_add         the histogram's owner only; any, hard IRQ too
 *   audio_hist_read/total  any
 *   audio_hist_percentile  any
 *   audio_hist_show        process (seq_file)
 *
 * The text format of audio_hist_show(), which the guest scripts and the
 * benchmark parse, is one line per non-empty bucket in ascending order:
 *
 *   <lo>-<hi>: <count>
 *
 * where lo and hi are the bucket's bounds in ns, both inclusive, and the
 * last bucket prints "<lo>-inf".
 */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>
#include <kunit/visibility.h>

#include "audio_hist.h"

/**
 * audio_hist_bucket() - the bucket a duration falls in
 * @ns: the duration
 *
 * Context: Any context.
 * Return: 0 to %AUDIO_HIST_BUCKETS - 1.
 */
unsigned int audio_hist_bucket(u64 ns)
{
	unsigned int e, sub, b;

	if (ns < AUDIO_HIST_LINEAR)
		return ns;
	e = fls64(ns) - 1;		/* 2^e <= ns < 2^(e+1), e >= 4 */
	sub = (ns >> (e - AUDIO_HIST_SUB_SHIFT)) & (AUDIO_HIST_SUB - 1);
	b = AUDIO_HIST_LINEAR +
	    (e - (AUDIO_HIST_SUB_SHIFT + 1)) * AUDIO_HIST_SUB + sub;
	return min(b, AUDIO_HIST_BUCKETS - 1);
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_bucket);

/**
 * audio_hist_lo() - the smallest duration in a bucket
 * @b: the bucket, 0 to %AUDIO_HIST_BUCKETS - 1
 *
 * Context: Any context.
 * Return: the lower bound in ns, inclusive.
 */
u64 audio_hist_lo(unsigned int b)
{
	unsigned int e, sub;

	if (b < AUDIO_HIST_LINEAR)
		return b;
	e = (b - AUDIO_HIST_LINEAR) / AUDIO_HIST_SUB + AUDIO_HIST_SUB_SHIFT + 1;
	sub = (b - AUDIO_HIST_LINEAR) % AUDIO_HIST_SUB;
	return (u64)(AUDIO_HIST_SUB + sub) << (e - AUDIO_HIST_SUB_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_lo);

/**
 * audio_hist_hi() - the largest duration in a bucket
 * @b: the bucket, 0 to %AUDIO_HIST_BUCKETS - 1
 *
 * Context: Any context.
 * Return: the upper bound in ns, inclusive; %U64_MAX for the last bucket.
 */
u64 audio_hist_hi(unsigned int b)
{
	if (b >= AUDIO_HIST_BUCKETS - 1)
		return U64_MAX;
	return audio_hist_lo(b + 1) - 1;
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_hi);

/**
 * audio_hist_add() - count one duration
 * @h: the histogram
 * @ns: the duration
 *
 * Context: The histogram's single writer; any context.  No lock, O(1).
 */
void audio_hist_add(struct audio_hist *h, u64 ns)
{
	u64 *c = &h->count[audio_hist_bucket(ns)];

	WRITE_ONCE(*c, *c + 1);
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_add);

/**
 * audio_hist_read() - copy a histogram that may be being written
 * @h: the histogram
 * @copy: where to copy it
 *
 * Context: Any context, from any CPU.
 */
void audio_hist_read(const struct audio_hist *h, struct audio_hist *copy)
{
	unsigned int b;

	for (b = 0; b < AUDIO_HIST_BUCKETS; b++)
		copy->count[b] = READ_ONCE(h->count[b]);
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_read);

/**
 * audio_hist_total() - number of durations counted
 * @h: a histogram, or a copy of one
 *
 * Context: Any context.
 * Return: the sum of all buckets.
 */
u64 audio_hist_total(const struct audio_hist *h)
{
	unsigned int b;
	u64 n = 0;

	for (b = 0; b < AUDIO_HIST_BUCKETS; b++)
		n += READ_ONCE(h->count[b]);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_total);

/**
 * audio_hist_percentile() - an upper bound of a percentile
 * @h: a copy made by audio_hist_read() (or a histogram nobody writes)
 * @permille: which one, 1 to 1000 (500: the median, 990: p99)
 *
 * Context: Any context.
 * Return: the upper bound of the bucket that holds the @permille-th
 * duration (the lower bound for the last bucket), or 0 when @h is empty.
 */
u64 audio_hist_percentile(const struct audio_hist *h, unsigned int permille)
{
	u64 total = audio_hist_total(h), want, seen = 0;
	unsigned int b;

	if (!total)
		return 0;
	want = max_t(u64, 1, DIV_ROUND_UP_ULL(total * min(permille, 1000U),
					      1000));
	for (b = 0; b < AUDIO_HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= want)
			break;
	}
	if (b >= AUDIO_HIST_BUCKETS - 1)
		return audio_hist_lo(AUDIO_HIST_BUCKETS - 1);
	return audio_hist_hi(b);
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_percentile);

/**
 * audio_hist_show() - print a histogram in the "lo-hi: count" format
 * @m: the seq_file
 * @h: the histogram
 *
 * One line per non-empty bucket, ascending; see the top of this file.
 *
 * Context: Process context (a seq_file show function).
 */
void audio_hist_show(struct seq_file *m, const struct audio_hist *h)
{
	unsigned int b;
	u64 n;

	for (b = 0; b < AUDIO_HIST_BUCKETS; b++) {
		n = READ_ONCE(h->count[b]);
		if (!n)
			continue;
		if (b == AUDIO_HIST_BUCKETS - 1)
			seq_printf(m, "%llu-inf: %llu\n", audio_hist_lo(b), n);
		else
			seq_printf(m, "%llu-%llu: %llu\n", audio_hist_lo(b),
				   audio_hist_hi(b), n);
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_hist_show);
