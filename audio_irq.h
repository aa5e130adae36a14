/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_irq - simulated 24-bit PCM playback device on an atomic_alloc pool
 *
 * Private to atomic_alloc_audio.ko and its KUnit suite: the types a test
 * needs, and, when CONFIG_KUNIT is enabled, the functions audio_irq.c makes
 * visible to tests (VISIBLE_IF_KUNIT, exported in the
 * EXPORTED_FOR_KUNIT_TESTING namespace).
 *
 * Concurrency: the functions declared here follow the rules at the top of
 * audio_irq.c.  In short, audio_sim_start(), audio_sim_stop() and
 * audio_sim_destroy() are process context and serialised by a mutex;
 * audio_sim_period_tick() and audio_sim_dma_tick() belong to the two
 * interrupts of a stream (or to a test thread while the stream is stopped);
 * audio_sim_get_stats() may run anywhere at any time.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_IRQ_H
#define _ATOMIC_ALLOC_AUDIO_IRQ_H

#include <linux/kconfig.h>
#include <linux/types.h>

struct atomic_alloc_params;
struct atomic_alloc_pool;
struct device;

/* Sample formats: 24 significant bits, little endian. */
enum audio_sim_format {
	AUDIO_SIM_S24_LE,	/* in a 32-bit container, sign-extended */
	AUDIO_SIM_S24_3LE,	/* packed, 3 bytes per sample */
};

#define AUDIO_SIM_S24_MAX	0x7fffff
#define AUDIO_SIM_S24_MIN	(-0x800000)

#define AUDIO_SIM_MAX_CHANNELS	8
#define AUDIO_SIM_MAX_STREAMS	64

/* Buffers one DMA-completion interrupt may complete (and verify). */
#define AUDIO_SIM_DMA_BUDGET	4

/* Log2 histogram buckets: bucket b counts [2^(b-1), 2^b) ns, b = 0 is 0. */
#define AUDIO_SIM_HIST_BUCKETS	40

/**
 * struct audio_sim_config - a validated stream configuration
 * @rate:	frames per second, one of the standard rates.
 * @channels:	samples per frame, 1 to %AUDIO_SIM_MAX_CHANNELS.
 * @format:	sample format.
 * @period_frames: frames per period interrupt; 0 means a whole buffer.
 * @order:	each DMA buffer is 2^@order pages.
 * @ring_entries: DMA ring capacity, a power of two.
 * @streams:	independent streams, 1 to %AUDIO_SIM_MAX_STREAMS.
 */
struct audio_sim_config {
	unsigned int rate;
	unsigned int channels;
	enum audio_sim_format format;
	unsigned int period_frames;
	unsigned int order;
	unsigned int ring_entries;
	unsigned int streams;
};

/**
 * struct audio_sim_stats - snapshot of one stream's counters
 * @periods:		period interrupts handled.
 * @buffers_submitted:	pool buffers queued on the DMA ring.
 * @buffers_completed:	pool buffers played, verified and freed by the
 *			DMA-completion interrupt.
 * @bytes_played:	audio bytes in those buffers.
 * @xrun_alloc:		atomic_alloc_page() returned NULL in the interrupt,
 *			or a failure was injected; the block played from the
 *			silence buffer.
 * @alloc_injected:	of those, failures forced with
 *			audio_sim_inject_alloc_failures() (debugfs
 *			fail_alloc).
 * @xrun_ring_full:	blocks dropped because the DMA ring was full.
 * @timer_overruns:	period interrupts lost (hrtimer_forward_now() - 1).
 * @verify_errors:	samples that did not match on completion, including
 *			a non-zero byte in the silence buffer.
 * @silence_submitted:	silence blocks queued (one per allocation xrun).
 * @silence_played:	silence blocks completed.
 * @buffers_drained:	queued pool buffers freed unplayed by a stop.
 * @dma_overruns:	DMA-completion interrupts lost.
 * @not_hardirq:	interrupts of this stream that found themselves
 *			outside hard IRQ context (must stay 0).
 * @ring_used:		entries queued at the time of the snapshot.
 * @cpu:		CPU the period timer was started on.
 * @dma_cpu:		CPU the DMA-completion timer was started on.
 *
 * Each counter has a single writer (see audio_irq.c); the snapshot is
 * taken with READ_ONCE() and, while the stream runs, need not be
 * consistent across counters.
 */
struct audio_sim_stats {
	u64 periods;
	u64 buffers_submitted;
	u64 buffers_completed;
	u64 bytes_played;
	u64 xrun_alloc;
	u64 alloc_injected;
	u64 xrun_ring_full;
	u64 timer_overruns;
	u64 verify_errors;
	u64 silence_submitted;
	u64 silence_played;
	u64 buffers_drained;
	u64 dma_overruns;
	u64 not_hardirq;
	unsigned int ring_used;
	unsigned int cpu;
	unsigned int dma_cpu;
};

/* Which histogram audio_sim_get_hist() copies. */
enum audio_sim_hist {
	AUDIO_SIM_HIST_HANDLER,	/* period interrupt run time */
	AUDIO_SIM_HIST_ALLOC,	/* atomic_alloc_page() in the interrupt */
};

struct audio_sim;
struct audio_sim_stream;

#if IS_ENABLED(CONFIG_KUNIT)
int audio_sim_parse_rate(const char *val, unsigned int *out);
int audio_sim_parse_channels(const char *val, unsigned int *out);
int audio_sim_parse_format(const char *val, unsigned int *out);
int audio_sim_parse_period_frames(const char *val, unsigned int *out);
int audio_sim_parse_order(const char *val, unsigned int *out);
int audio_sim_parse_ring_entries(const char *val, unsigned int *out);
int audio_sim_parse_streams(const char *val, unsigned int *out);
int audio_sim_parse_bool(const char *val, unsigned int *out);
int audio_sim_check_config(const struct audio_sim_config *cfg);
unsigned int audio_sim_frames_per_buffer(const struct audio_sim_config *cfg);
void audio_sim_pool_params(const struct audio_sim_config *cfg,
			   struct device *dev, const char *name,
			   struct atomic_alloc_params *params);

unsigned int audio_sim_sample_bytes(enum audio_sim_format format);
s32 audio_sim_sample(u64 frame, unsigned int channel);
void audio_sim_pack_sample(u8 *dst, enum audio_sim_format format, s32 value);
s32 audio_sim_unpack_sample(const u8 *src, enum audio_sim_format format);
void audio_sim_fill(void *buf, u64 first_frame, unsigned int frames,
		    unsigned int channels, enum audio_sim_format format);
unsigned int audio_sim_verify(const void *buf, u64 first_frame,
			      unsigned int frames, unsigned int channels,
			      enum audio_sim_format format);

struct audio_sim *audio_sim_create(struct device *dev,
				   struct atomic_alloc_pool *pool,
				   const struct audio_sim_config *cfg);
void audio_sim_destroy(struct audio_sim *sim);
int audio_sim_start(struct audio_sim *sim);
void audio_sim_stop(struct audio_sim *sim);
struct audio_sim_stream *audio_sim_stream(struct audio_sim *sim,
					  unsigned int index);
void audio_sim_period_tick(struct audio_sim_stream *s, u64 now_ns);
void audio_sim_dma_tick(struct audio_sim_stream *s, u64 now_ns);
void audio_sim_inject_alloc_failures(struct audio_sim_stream *s,
				     unsigned int n);
void audio_sim_get_stats(struct audio_sim_stream *s,
			 struct audio_sim_stats *stats);
void audio_sim_get_hist(struct audio_sim_stream *s, enum audio_sim_hist which,
			u64 hist[AUDIO_SIM_HIST_BUCKETS]);
#endif

#endif /* _ATOMIC_ALLOC_AUDIO_IRQ_H */
