/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_sim - the test-signal streams of the atomic_alloc_audio device
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.  A stream plays a
 * signal that encodes frame and channel through the period interrupt and
 * the DMA engine of audio_irq.c, and verifies every sample when the engine
 * has played it.  Streams are started and stopped from debugfs (the
 * "control" file), at load (autostart=1) or by a test.
 *
 * Concurrency: audio_sim_create(), audio_sim_destroy(), audio_sim_start()
 * and audio_sim_stop() are process context and serialised by a mutex of
 * the device; the rest may run anywhere at any time.  See audio_sim.c.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_SIM_H
#define _ATOMIC_ALLOC_AUDIO_SIM_H

#include <linux/types.h>

#include "audio_irq.h"
#include "audio_signal.h"

struct atomic_alloc_params;
struct atomic_alloc_pool;
struct device;

#define AUDIO_SIM_MAX_CHANNELS	8
#define AUDIO_SIM_MAX_STREAMS	64

/**
 * struct audio_sim_config - a stream configuration, as the parameters give it
 * @rate:	frames per second, one of the standard rates.
 * @channels:	samples per frame, 1 to %AUDIO_SIM_MAX_CHANNELS.
 * @format:	sample format.
 * @period_frames: frames per period interrupt, one pool buffer each; 0
 *		means the whole frames of %AUDIO_PERIOD_BYTES_DEFAULT.
 * @ring_entries: DMA ring capacity, a power of two.
 * @streams:	independent streams, 1 to %AUDIO_SIM_MAX_STREAMS.
 */
struct audio_sim_config {
	unsigned int rate;
	unsigned int channels;
	enum audio_sim_format format;
	unsigned int period_frames;
	unsigned int ring_entries;
	unsigned int streams;
};

struct audio_sim;

bool audio_sim_rate_ok(unsigned int rate);
unsigned int audio_sim_frame_bytes(const struct audio_sim_config *cfg);
unsigned int audio_sim_period_frames(const struct audio_sim_config *cfg);
int audio_sim_check_config(const struct audio_sim_config *cfg);
int audio_sim_pool_params(const struct audio_sim_config *cfg,
			  struct device *dev, const char *name,
			  struct atomic_alloc_params *params);

struct audio_sim *audio_sim_create(struct device *dev,
				   struct atomic_alloc_pool *pool,
				   const struct audio_sim_config *cfg);
void audio_sim_destroy(struct audio_sim *sim);
int audio_sim_start(struct audio_sim *sim);
void audio_sim_stop(struct audio_sim *sim);
bool audio_sim_running(const struct audio_sim *sim);
unsigned int audio_sim_streams(const struct audio_sim *sim);
const struct audio_sim_config *audio_sim_config(const struct audio_sim *sim);
struct atomic_alloc_pool *audio_sim_pool(const struct audio_sim *sim);
struct audio_stream *audio_sim_stream(struct audio_sim *sim,
				      unsigned int index);

#endif /* _ATOMIC_ALLOC_AUDIO_SIM_H */
