/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_pcm - the ALSA front end of the atomic_alloc_audio device
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.  A sound card
 * (id AtomicAlloc by default, so hw:AtomicAlloc works) with PCM device 0
 * for playback and PCM device 1 for capture, looped back like snd-aloop:
 * what is played on 0,N comes out of 1,N.  Every period goes through a
 * fresh buffer of an atomic_alloc pool, taken in the hard-IRQ period
 * interrupt of audio_irq.c.
 *
 * Concurrency: audio_pcm_create() and audio_pcm_destroy() are process
 * context (probe, remove, a test).  The statistics may be read from any
 * context at any time; audio_pcm_sub_show() takes the subdevice's mutex.
 * See audio_pcm.c for the PCM callbacks.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_PCM_H
#define _ATOMIC_ALLOC_AUDIO_PCM_H

#include <linux/types.h>

#include "audio_hist.h"
#include "audio_irq.h"

struct audio_pcm;
struct audio_pcm_sub;
struct device;
struct seq_file;
struct snd_card;
struct snd_pcm;

#define AUDIO_PCM_ID		"AtomicAlloc"
#define AUDIO_PCM_MAX_SUBDEVICES	64
/* Blocks the playback DMA ring holds (a power of two). */
#define AUDIO_PCM_RING_ENTRIES	64
/* Largest ALSA ring buffer (vmalloc, outside the pool): 4 MiB. */
#define AUDIO_PCM_BUFFER_BYTES_MAX	(4U << 20)
#define AUDIO_PCM_PERIODS_MAX	16384
/* What one period interrupt may copy when it catches up, and periods. */
#define AUDIO_PCM_CATCHUP_BYTES	(64U << 10)
#define AUDIO_PCM_CATCHUP_MAX	16U

/**
 * struct audio_pcm_stats - one subdevice's counters, besides its stream's
 * @xrun_app:	ALSA xruns: the application did not keep up (playback ring
 *		empty, capture ring full) and ALSA stopped the stream.
 * @loop_overruns: playback: periods the loop had no room for (nobody
 *		captured them).
 * @loop_underruns: capture: periods the loop could not fill while synced.
 * @notified:	period notifications made (snd_pcm_period_elapsed()).
 * @starts:	trigger starts.
 */
struct audio_pcm_stats {
	u64 xrun_app;
	u64 loop_overruns;
	u64 loop_underruns;
	u64 notified;
	u64 starts;
};

struct audio_pcm *audio_pcm_create(struct device *dev, int index,
				   const char *id, unsigned int subdevices);
void audio_pcm_destroy(struct audio_pcm *pcm);
struct snd_card *audio_pcm_card(struct audio_pcm *pcm);
struct snd_pcm *audio_pcm_snd(struct audio_pcm *pcm, bool capture);
unsigned int audio_pcm_subdevices(const struct audio_pcm *pcm);
struct audio_pcm_sub *audio_pcm_sub(struct audio_pcm *pcm, bool capture,
				    unsigned int n);
struct audio_stream *audio_pcm_sub_stream(struct audio_pcm_sub *sub);
void audio_pcm_sub_stats(struct audio_pcm_sub *sub,
			 struct audio_pcm_stats *st);
void audio_pcm_sub_notify_hist(struct audio_pcm_sub *sub,
			       struct audio_hist *copy);
void audio_pcm_sub_show(struct seq_file *m, struct audio_pcm_sub *sub);

unsigned int audio_pcm_ring_offset(u64 frame, unsigned int buffer_frames,
				   unsigned int frame_bytes);
unsigned int audio_pcm_catchup(unsigned int period_bytes);

#endif /* _ATOMIC_ALLOC_AUDIO_PCM_H */
