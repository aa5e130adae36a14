/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_hist - log-linear histograms of durations in nanoseconds
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.
 *
 * A value v lands in one bucket: below %AUDIO_HIST_LINEAR each nanosecond
 * has its own bucket; above, every power of two (octave) is split into
 * %AUDIO_HIST_SUB equal sub-buckets, so a bucket is at most 1/8 of its
 * lower bound wide and a percentile read from the histogram is within
 * 12.5 % of the true one.  The last bucket also takes everything longer.
 *
 * Concurrency: audio_hist_add() has one writer per histogram (the
 * interrupt or work item that owns it) and uses WRITE_ONCE(); readers on
 * any CPU copy it with audio_hist_read() (READ_ONCE()), and the copy of a
 * histogram that is being written need not add up exactly.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_HIST_H
#define _ATOMIC_ALLOC_AUDIO_HIST_H

#include <linux/build_bug.h>
#include <linux/types.h>

struct seq_file;

/* Sub-buckets per octave, a power of two, and its log2. */
#define AUDIO_HIST_SUB		8U
#define AUDIO_HIST_SUB_SHIFT	3
static_assert(AUDIO_HIST_SUB == 1U << AUDIO_HIST_SUB_SHIFT);
/* Values below this get a bucket each: 0..15 ns. */
#define AUDIO_HIST_LINEAR	(2U * AUDIO_HIST_SUB)
/* Octaves above the linear part: up to 2^40 ns (18 minutes). */
#define AUDIO_HIST_OCTAVES	36
#define AUDIO_HIST_BUCKETS	(AUDIO_HIST_LINEAR + \
				 AUDIO_HIST_OCTAVES * AUDIO_HIST_SUB)

/**
 * struct audio_hist - counts of durations
 * @count: one counter per bucket, see audio_hist_bucket().
 */
struct audio_hist {
	u64 count[AUDIO_HIST_BUCKETS];
};

unsigned int audio_hist_bucket(u64 ns);
u64 audio_hist_lo(unsigned int b);
u64 audio_hist_hi(unsigned int b);
void audio_hist_add(struct audio_hist *h, u64 ns);
void audio_hist_read(const struct audio_hist *h, struct audio_hist *copy);
u64 audio_hist_total(const struct audio_hist *h);
u64 audio_hist_percentile(const struct audio_hist *h, unsigned int permille);
void audio_hist_show(struct seq_file *m, const struct audio_hist *h);

#endif /* _ATOMIC_ALLOC_AUDIO_HIST_H */
