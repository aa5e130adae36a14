/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_irq - the period interrupt and the simulated DMA engine of the
 * atomic_alloc_audio device
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.  One struct
 * audio_stream is one direction of one stream: the test-signal streams of
 * audio_sim.c and the ALSA substreams of audio_pcm.c both run on it.  What
 * they put into and take out of the buffers is theirs (struct
 * audio_stream_ops); taking a buffer from the pool in the hard interrupt,
 * syncing it, queueing it for the DMA engine and giving it back is here.
 *
 * Concurrency (the full rules are at the top of audio_irq.c):
 *
 *  - the period timer of a stream is the only writer of struct
 *    audio_stream_prod and of the head of the DMA ring;
 *  - the DMA timer of a playback stream is the only writer of struct
 *    audio_stream_cons and of the tail of the ring (a capture stream has
 *    no DMA timer: its period timer writes both halves);
 *  - everything else (configure, reset, start, stop, drain) is process
 *    context with the timers stopped, except audio_stream_start_here()
 *    and audio_stream_stop_async(), which ALSA's trigger calls in atomic
 *    context;
 *  - audio_stream_get_stats() and audio_stream_get_hist() may run anywhere
 *    at any time.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_IRQ_H
#define _ATOMIC_ALLOC_AUDIO_IRQ_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/types.h>

#include "audio_hist.h"
#include "dma_ring.h"

struct atomic_alloc_pool;
struct audio_stream;
struct device;

/* Buffers one DMA-completion interrupt may complete. */
#define AUDIO_DMA_BUDGET	32

/*
 * The DMA timer polls an empty ring once a period, within these bounds,
 * and never comes sooner than the lower one: with short periods it
 * completes several blocks per interrupt instead of one interrupt each.
 */
#define AUDIO_DMA_POLL_MIN_NS	(250 * NSEC_PER_USEC)
#define AUDIO_DMA_POLL_MAX_NS	(10 * NSEC_PER_MSEC)

/**
 * struct audio_stream_ops - what a stream's owner does with the buffers
 * @period:	in the period interrupt.  Playback: write the block's
 *		@frames frames, stream frames @frame onwards, into @buf, a
 *		fresh pool buffer.  Capture: @buf holds the period the device
 *		has just written (a pool buffer, or the silence buffer when
 *		the pool was dry); take it.
 * @played:	playback only, in the DMA-completion interrupt: the engine
 *		has played @buf (the silence buffer when @silent).  Return
 *		the number of samples found wrong, 0 if the owner does not
 *		check.
 * @record:	capture only, in the period interrupt: the simulated device
 *		writes the period's @frames frames into @buf; with @buf NULL
 *		(the pool was dry) it drops them.
 * @elapsed:	after each period interrupt, @n periods done (1 or more),
 *		@now_ns its time.  May be NULL.
 *
 * All four run in hard IRQ (or in a test thread while the timers are
 * stopped): no lock, no sleep, no printk.
 */
struct audio_stream_ops {
	void (*period)(struct audio_stream *s, void *buf, u64 frame,
		       unsigned int frames);
	unsigned int (*played)(struct audio_stream *s, const void *buf,
			       u64 frame, unsigned int frames, bool silent);
	void (*record)(struct audio_stream *s, void *buf, u64 frame,
		       unsigned int frames);
	void (*elapsed)(struct audio_stream *s, unsigned int n, u64 now_ns);
};

/**
 * struct audio_stream_prod - the period timer's half of a stream
 * @next_frame:	stream frame index of the next period.
 * @debt:	periods that are due but not handled yet (streams that catch
 *		up, see &audio_stream.debt_max).
 * @last_due_ns: play-out end of the last queued block.
 * @start_ns:	CLOCK_MONOTONIC ns at which the stream's frame 0 started
 *		(streams that catch up: the play-out clock).
 * @periods:	periods handled (one block each).
 * @buffers_submitted: pool buffers filled (playback: queued for the DMA
 *		engine; capture: received into).
 * @xrun_alloc:	periods without a pool buffer (the pool was dry, or a
 *		failure was injected): silence instead.
 * @alloc_injected: of those, failures forced with
 *		audio_stream_inject_alloc_failures().
 * @xrun_ring_full: playback blocks dropped because the DMA ring was full.
 * @timer_overruns: periods the timer missed and the stream dropped: all
 *		of them for a stream that does not catch up, those beyond
 *		&audio_stream.debt_max for one that does.
 * @silence_submitted: silence blocks queued or delivered.
 * @not_hardirq: period interrupts that found themselves outside hard IRQ.
 * @handler_ns:	run time of the period interrupt.
 * @alloc_ns:	atomic_alloc_buf() in the period interrupt.
 */
struct audio_stream_prod {
	u64 next_frame;
	u64 debt;
	u64 last_due_ns;
	u64 start_ns;
	u64 periods;
	u64 buffers_submitted;
	u64 xrun_alloc;
	u64 alloc_injected;
	u64 xrun_ring_full;
	u64 timer_overruns;
	u64 silence_submitted;
	u64 not_hardirq;
	struct audio_hist handler_ns;
	struct audio_hist alloc_ns;
};

/**
 * struct audio_stream_cons - the DMA timer's half of a stream
 * @buffers_completed: pool buffers played (capture: copied out) and freed.
 * @bytes_played: audio bytes in those buffers.
 * @verify_errors: samples &audio_stream_ops.played found wrong, and
 *		silence blocks that were not silent.
 * @silence_played: silence blocks completed.
 * @dma_overruns: DMA polls missed.
 * @not_hardirq: DMA interrupts that found themselves outside hard IRQ.
 */
struct audio_stream_cons {
	u64 buffers_completed;
	u64 bytes_played;
	u64 verify_errors;
	u64 silence_played;
	u64 dma_overruns;
	u64 not_hardirq;
};

/**
 * struct audio_stream - one direction of one stream
 * @dev:	the device the pool maps its buffers for.
 * @pool:	where every buffer comes from; the owner's.
 * @ops:	the owner's callbacks.
 * @priv:	the owner's.
 * @capture:	a capture stream: no DMA ring and no DMA timer.
 * @rate:	frames per second.
 * @frame_bytes: bytes per frame.
 * @period_frames: frames per period, one pool buffer each.
 * @period_bytes: @period_frames * @frame_bytes.
 * @catchup:	most periods one interrupt handles.
 * @debt_max:	0: a period the timer missed is lost (counted).  Otherwise
 *		missed periods are owed and handled by the next interrupts,
 *		@catchup at a time (a playback stream also no more than the
 *		DMA ring has room for), up to this many owed; the stream's
 *		position lags while it catches up but no data is lost.
 * @period:	period timer interval (rounded up to whole ns).
 * @block_ns:	play-out time of one period.
 * @dma_poll_ns: DMA timer interval while the ring is empty.
 * @silence:	@period_bytes (at least) of zeros, the owner's, coherent.
 * @silence_dma: its bus address.
 * @period_timer: the period interrupt.
 * @dma_timer:	the DMA-completion interrupt (playback).
 * @ring:	blocks handed to the DMA engine (playback).
 * @running:	the period timer may rearm itself; see audio_irq.c.
 * @cpu:	CPU the period timer was started on.
 * @dma_cpu:	CPU the DMA timer was started on.
 * @fail_alloc:	that many of the next allocations fail as if the pool
 *		were dry.
 * @buffers_drained: queued buffers freed unplayed when the stream halted.
 * @prod:	the period timer's half.
 * @cons:	the DMA timer's half.
 */
struct audio_stream {
	struct device *dev;
	struct atomic_alloc_pool *pool;
	const struct audio_stream_ops *ops;
	void *priv;
	bool capture;
	unsigned int rate;
	unsigned int frame_bytes;
	unsigned int period_frames;
	unsigned int period_bytes;
	unsigned int catchup;
	unsigned int debt_max;
	ktime_t period;
	u64 block_ns;
	u64 dma_poll_ns;
	const void *silence;
	dma_addr_t silence_dma;
	struct hrtimer period_timer;
	struct hrtimer dma_timer;
	struct dma_ring ring;
	bool running;
	unsigned int cpu;
	unsigned int dma_cpu;
	atomic_t fail_alloc;
	u64 buffers_drained;
	struct audio_stream_prod prod ____cacheline_aligned_in_smp;
	struct audio_stream_cons cons ____cacheline_aligned_in_smp;
};

/**
 * struct audio_stream_stats - snapshot of one stream's counters
 * @periods:		see struct audio_stream_prod.
 * @buffers_submitted:	see struct audio_stream_prod.
 * @buffers_completed:	see struct audio_stream_cons.
 * @bytes_played:	see struct audio_stream_cons.
 * @xrun_alloc:		see struct audio_stream_prod.
 * @alloc_injected:	see struct audio_stream_prod.
 * @xrun_ring_full:	see struct audio_stream_prod.
 * @timer_overruns:	see struct audio_stream_prod.
 * @verify_errors:	see struct audio_stream_cons.
 * @silence_submitted:	see struct audio_stream_prod.
 * @silence_played:	see struct audio_stream_cons.
 * @buffers_drained:	see struct audio_stream.
 * @dma_overruns:	see struct audio_stream_cons.
 * @not_hardirq:	both halves' not_hardirq together (must stay 0).
 * @ring_used:		entries queued at the time of the snapshot.
 * @cpu:		CPU the period timer was started on.
 * @dma_cpu:		CPU the DMA timer was started on.
 *
 * Taken with READ_ONCE(); while the stream runs it need not be consistent
 * across counters.
 */
struct audio_stream_stats {
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

/* Which histogram audio_stream_get_hist() copies. */
enum audio_stream_hist {
	AUDIO_HIST_HANDLER,	/* period interrupt run time */
	AUDIO_HIST_ALLOC,	/* atomic_alloc_buf() in the interrupt */
};

int audio_stream_init(struct audio_stream *s, struct device *dev,
		      const struct audio_stream_ops *ops, void *priv,
		      bool capture, unsigned int ring_entries);
void audio_stream_destroy(struct audio_stream *s);
void audio_stream_configure(struct audio_stream *s,
			    struct atomic_alloc_pool *pool, unsigned int rate,
			    unsigned int frame_bytes,
			    unsigned int period_frames, unsigned int catchup,
			    unsigned int debt_max, const void *silence,
			    dma_addr_t silence_dma);
void audio_stream_reset(struct audio_stream *s);
int audio_stream_arm_dma(struct audio_stream *s, unsigned int cpu);
int audio_stream_start_on(struct audio_stream *s, unsigned int cpu,
			  ktime_t delay);
void audio_stream_start_here(struct audio_stream *s);
void audio_stream_stop_async(struct audio_stream *s);
void audio_stream_sync_stop(struct audio_stream *s);
void audio_stream_flush(struct audio_stream *s);
void audio_stream_halt(struct audio_stream *s);
void audio_stream_period_tick(struct audio_stream *s, u64 now_ns,
			      unsigned int n);
unsigned int audio_stream_owed(struct audio_stream *s, u64 missed);
u64 audio_stream_dma_tick(struct audio_stream *s, u64 now_ns);
void audio_stream_inject_alloc_failures(struct audio_stream *s,
					unsigned int n);
void audio_stream_get_stats(struct audio_stream *s,
			    struct audio_stream_stats *st);
void audio_stream_get_hist(struct audio_stream *s, enum audio_stream_hist which,
			   struct audio_hist *copy);
unsigned int audio_next_cpu(unsigned int cpu);

#endif /* _ATOMIC_ALLOC_AUDIO_IRQ_H */
