// SPDX-License-Identifier: GPL-2.0
/*
 * audio_irq - the period interrupt and the simulated DMA engine of the
 * atomic_alloc_audio device
 *
 * The model is sound/drivers/dummy.c: an hrtimer stands in for the period
 * interrupt of the hardware.  Here it is a hard-IRQ timer, pinned to its
 * CPU (HRTIMER_MODE_REL_PINNED_HARD: it stays in hard IRQ on PREEMPT_RT),
 * and the buffers are real.  Every period the interrupt takes a fresh
 * buffer from an atomic_alloc pool, which is the case the pool exists for:
 *
 *   playback, period timer, CPU A          DMA timer, CPU B
 *   ----------------------------------     -------------------------------
 *   atomic_alloc_buf(pool, 0)
 *   (NULL: the period plays silence)
 *   ops->period(): fill it
 *   dma_sync_single_for_device()
 *   push it on the DMA ring  ------------> its play-out time has passed:
 *   ops->elapsed()                           dma_sync_single_for_cpu()
 *                                            ops->played()
 *                                            atomic_alloc_buf_free()
 *
 *   capture, period timer, CPU C
 *   ----------------------------------
 *   atomic_alloc_buf(pool, 0), dma_sync_single_for_device()
 *   ops->record(): the simulated device writes the period into it
 *   dma_sync_single_for_cpu(), ops->period(): the owner takes it
 *   atomic_alloc_buf_free(), ops->elapsed()
 *
 * The interrupt never calls the page allocator (@gfp 0): a dry pool is an
 * xrun, counted, never a trip into the page allocator from hard IRQ.
 *
 * Concurrency rules
 *
 * - The period timer of a stream alone writes its producer half (struct
 *   audio_stream_prod: positions, counters, histograms) and the head of
 *   the DMA ring.  The DMA timer alone writes the consumer half (struct
 *   audio_stream_cons) and the tail of the ring.  A capture stream has no
 *   DMA timer; its period timer writes both halves.  An hrtimer callback
 *   never runs concurrently with itself, also after CPU hotplug has
 *   migrated it, so every counter has exactly one writer.  Writers use
 *   WRITE_ONCE(), readers on other CPUs READ_ONCE(); counters are u64 and
 *   this module is 64-bit only, so a read never tears.
 * - @running says whether the period timer may rearm itself.  It is set
 *   before the timer is started and cleared by audio_stream_stop_async()
 *   (ALSA's trigger, atomic context: it cannot wait for a running
 *   callback); the callback returns HRTIMER_NORESTART once it sees it
 *   clear, and audio_stream_sync_stop() (process context) cancels the
 *   timer for good.
 * - Everything else that changes a stream (configure, reset, arm, halt,
 *   drain) runs in process context with both timers stopped, except
 *   audio_stream_start_here(), which arms the period timer on the calling
 *   CPU from any context.  audio_stream_period_tick() and
 *   audio_stream_dma_tick() may be called by a test thread while the
 *   timers are stopped.
 * - Both interrupts take no lock, never sleep and do bounded work: a
 *   period interrupt handles at most @catchup periods (what a late timer
 *   owes beyond that waits for the next interrupts), a DMA interrupt
 *   completes at most AUDIO_DMA_BUDGET buffers.
 * - @fail_alloc is an atomic_t: set from any context, decremented by the
 *   period interrupt.
 */

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/preempt.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "atomic_alloc.h"
#include "audio_irq.h"

/* A counter with a single writer, read from other CPUs with READ_ONCE(). */
static inline void audio_add(u64 *counter, u64 n)
{
	WRITE_ONCE(*counter, *counter + n);
}

static enum hrtimer_restart audio_stream_period_irq(struct hrtimer *timer);
static enum hrtimer_restart audio_stream_dma_irq(struct hrtimer *timer);

/**
 * audio_stream_init() - set up a stream, stopped and unconfigured
 * @s: the stream; its previous contents are ignored
 * @dev: the device the buffers are mapped for
 * @ops: the owner's callbacks
 * @priv: the owner's
 * @capture: a capture stream (no DMA ring, no DMA timer)
 * @ring_entries: playback: DMA ring capacity, a power of two from
 *	%DMA_RING_MIN_ENTRIES to %DMA_RING_MAX_ENTRIES; ignored for capture
 *
 * Context: Process context; allocates with GFP_KERNEL.
 * Return: 0, -EINVAL for a bad @ring_entries, or -ENOMEM.
 */
int audio_stream_init(struct audio_stream *s, struct device *dev,
		      const struct audio_stream_ops *ops, void *priv,
		      bool capture, unsigned int ring_entries)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->ops = ops;
	s->priv = priv;
	s->capture = capture;
	s->catchup = 1;
	atomic_set(&s->fail_alloc, 0);
	hrtimer_init(&s->period_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED_HARD);
	s->period_timer.function = audio_stream_period_irq;
	hrtimer_init(&s->dma_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED_HARD);
	s->dma_timer.function = audio_stream_dma_irq;
	if (capture)
		return 0;
	return dma_ring_init(&s->ring, ring_entries);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_init);

/**
 * audio_stream_destroy() - free what audio_stream_init() allocated
 * @s: a stream set up by audio_stream_init(), even a failed one, halted
 *
 * Context: Process context.
 */
void audio_stream_destroy(struct audio_stream *s)
{
	dma_ring_destroy(&s->ring);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_destroy);

/**
 * audio_stream_configure() - set the format and the pool of a stream
 * @s: a halted stream
 * @pool: the pool every buffer comes from, created for the stream's device
 *	with buffers of at least @period_frames * @frame_bytes bytes, mapped
 *	DMA_TO_DEVICE for playback and DMA_FROM_DEVICE for capture
 * @rate: frames per second, non-zero
 * @frame_bytes: bytes per frame, non-zero
 * @period_frames: frames per period, non-zero
 * @catchup: most periods one interrupt handles (at least 1)
 * @debt_max: 0: periods the timer missed are lost and counted; else up to
 *	this many are owed and handled later (see &audio_stream.debt_max)
 * @silence: at least @period_frames * @frame_bytes zero bytes, coherent
 *	for the device; it plays when the pool is dry
 * @silence_dma: bus address of @silence
 *
 * Context: Process context, both timers stopped.
 */
void audio_stream_configure(struct audio_stream *s,
			    struct atomic_alloc_pool *pool, unsigned int rate,
			    unsigned int frame_bytes,
			    unsigned int period_frames, unsigned int catchup,
			    unsigned int debt_max, const void *silence,
			    dma_addr_t silence_dma)
{
	u64 frames_ns = (u64)period_frames * NSEC_PER_SEC;

	s->pool = pool;
	s->rate = rate;
	s->frame_bytes = frame_bytes;
	s->period_frames = period_frames;
	s->period_bytes = period_frames * frame_bytes;
	s->catchup = max(catchup, 1U);
	s->debt_max = debt_max;
	s->period = ns_to_ktime(DIV_ROUND_UP_ULL(frames_ns, rate));
	s->block_ns = div_u64(frames_ns, rate);
	s->dma_poll_ns = clamp_t(u64, s->block_ns, AUDIO_DMA_POLL_MIN_NS,
				 AUDIO_DMA_POLL_MAX_NS);
	s->silence = silence;
	s->silence_dma = silence_dma;
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_configure);

/**
 * audio_stream_reset() - rewind a stream to frame 0 on an empty ring
 * @s: a halted stream
 *
 * Counters keep counting; positions restart.
 *
 * Context: Process context, both timers stopped.  The next start (an IPI
 * or the caller's own hrtimer_start()) orders these stores before the
 * interrupts' first access.
 */
void audio_stream_reset(struct audio_stream *s)
{
	if (!s->capture)
		dma_ring_reset(&s->ring);
	s->prod.next_frame = 0;
	s->prod.debt = 0;
	s->prod.last_due_ns = 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_reset);

/**
 * audio_next_cpu() - the online CPU after @cpu, wrapping around
 * @cpu: a CPU
 *
 * Context: Any context; the answer is a snapshot unless the caller holds
 * the CPU hotplug lock.
 * Return: the next online CPU, @cpu itself when it is the only one.
 */
unsigned int audio_next_cpu(unsigned int cpu)
{
	unsigned int next = cpumask_next(cpu, cpu_online_mask);

	if (next >= nr_cpu_ids)
		next = cpumask_first(cpu_online_mask);
	return next < nr_cpu_ids ? next : cpu;
}
EXPORT_SYMBOL_IF_KUNIT(audio_next_cpu);

/* On the target CPU, from an IPI, interrupts disabled. */
static void audio_stream_arm_dma_here(void *arg)
{
	struct audio_stream *s = arg;

	WRITE_ONCE(s->dma_cpu, smp_processor_id());
	hrtimer_start(&s->dma_timer, ns_to_ktime(s->dma_poll_ns),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/**
 * audio_stream_arm_dma() - start a playback stream's DMA engine on a CPU
 * @s: a configured playback stream whose DMA timer is stopped
 * @cpu: the CPU the DMA-completion interrupt is pinned to
 *
 * The engine polls an empty ring once a period and completes blocks as
 * they fall due, until audio_stream_halt().
 *
 * Context: Process context.  Waits for an IPI.
 * Return: 0, or the error of smp_call_function_single() (the CPU went
 * offline).
 */
int audio_stream_arm_dma(struct audio_stream *s, unsigned int cpu)
{
	return smp_call_function_single(cpu, audio_stream_arm_dma_here, s, 1);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_arm_dma);

/**
 * audio_stream_start_here() - start the period interrupt on this CPU
 * @s: a configured stream whose period timer is stopped
 *
 * The first period interrupt comes one period from now.
 *
 * Context: Any context but NMI, e.g. ALSA's trigger callback (atomic).
 * The timer is pinned to the calling CPU.
 */
void audio_stream_start_here(struct audio_stream *s)
{
	s->prod.start_ns = ktime_get_ns();
	WRITE_ONCE(s->cpu, raw_smp_processor_id());
	WRITE_ONCE(s->running, true);
	hrtimer_start(&s->period_timer, s->period,
		      HRTIMER_MODE_REL_PINNED_HARD);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_start_here);

struct audio_start_arg {
	struct audio_stream *s;
	ktime_t delay;
};

static void audio_stream_start_ipi(void *arg)
{
	struct audio_start_arg *a = arg;
	struct audio_stream *s = a->s;

	s->prod.start_ns = ktime_get_ns() + ktime_to_ns(a->delay);
	WRITE_ONCE(s->cpu, smp_processor_id());
	WRITE_ONCE(s->running, true);
	hrtimer_start(&s->period_timer, ktime_add(s->period, a->delay),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/**
 * audio_stream_start_on() - start the period interrupt on a given CPU
 * @s: a configured stream whose period timer is stopped
 * @cpu: the CPU to pin it to
 * @delay: added to the first period (so that streams sharing a CPU do not
 *	all interrupt at the same instant)
 *
 * Context: Process context.  Waits for an IPI.
 * Return: 0, or the error of smp_call_function_single().
 */
int audio_stream_start_on(struct audio_stream *s, unsigned int cpu,
			  ktime_t delay)
{
	struct audio_start_arg a = { .s = s, .delay = delay };

	return smp_call_function_single(cpu, audio_stream_start_ipi, &a, 1);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_start_on);

/**
 * audio_stream_stop_async() - stop the period interrupt, without waiting
 * @s: the stream
 *
 * A period interrupt already running finishes its work and does not rearm.
 * The DMA engine keeps completing what is queued.  Follow with
 * audio_stream_sync_stop() in process context before the stream is
 * reconfigured or freed.
 *
 * Context: Any context but NMI, e.g. ALSA's trigger callback.
 */
void audio_stream_stop_async(struct audio_stream *s)
{
	WRITE_ONCE(s->running, false);
	hrtimer_try_to_cancel(&s->period_timer);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_stop_async);

/**
 * audio_stream_sync_stop() - wait until the period interrupt has stopped
 * @s: the stream
 *
 * Context: Process context.  Waits for a running callback.
 */
void audio_stream_sync_stop(struct audio_stream *s)
{
	WRITE_ONCE(s->running, false);
	hrtimer_cancel(&s->period_timer);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_sync_stop);

/**
 * audio_stream_flush() - let the DMA engine play what is queued
 * @s: a playback stream whose period interrupt is stopped
 *
 * Waits until the ring is empty, but no longer than the play-out time of
 * the last queued block plus a few polls: a DMA timer that does not run
 * (halted, or its CPU is stalled) does not block the caller for long.
 *
 * Context: Process context; sleeps.
 */
void audio_stream_flush(struct audio_stream *s)
{
	u64 end, now = ktime_get_ns();

	if (s->capture || !hrtimer_active(&s->dma_timer))
		return;
	end = max(READ_ONCE(s->prod.last_due_ns), now) +
	      4 * s->dma_poll_ns + 10 * NSEC_PER_MSEC;
	while (dma_ring_count(&s->ring) && ktime_get_ns() < end)
		usleep_range(200, 1000);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_flush);

/**
 * audio_stream_halt() - stop both interrupts and take every buffer back
 * @s: the stream
 *
 * Cancels both timers, then frees the buffers still queued on the ring
 * back to the pool, unplayed (counted in buffers_drained).  Safe on a
 * stopped stream, and after audio_stream_period_tick() calls from a test.
 *
 * Context: Process context.  Waits for running timer callbacks.
 */
void audio_stream_halt(struct audio_stream *s)
{
	const struct dma_ring_entry *e;

	audio_stream_sync_stop(s);
	hrtimer_cancel(&s->dma_timer);
	if (s->capture)
		return;
	while ((e = dma_ring_oldest(&s->ring))) {
		if (e->buf) {
			dma_sync_single_for_cpu(s->dev, e->dma, e->bytes,
						DMA_TO_DEVICE);
			atomic_alloc_buf_free(s->pool, e->buf);
			audio_add(&s->buffers_drained, 1);
		}
		dma_ring_pop(&s->ring);
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_halt);

/* ---- the period interrupt ---------------------------------------------- */

/* A fresh buffer from the pool, or NULL (counted) when there is none. */
static void *audio_stream_take(struct audio_stream *s)
{
	struct audio_stream_prod *p = &s->prod;
	void *buf;
	u64 t0;

	if (unlikely(atomic_read(&s->fail_alloc) > 0) &&
	    atomic_dec_if_positive(&s->fail_alloc) >= 0) {
		audio_add(&p->alloc_injected, 1);
		buf = NULL;
	} else {
		t0 = local_clock();
		buf = atomic_alloc_buf(s->pool, 0);
		audio_hist_add(&p->alloc_ns, local_clock() - t0);
	}
	if (!buf)
		audio_add(&p->xrun_alloc, 1);
	return buf;
}

/*
 * When the block that starts at @frame has played out.  A stream that
 * catches up has a play-out clock of its own: a block is due when its last
 * frame's time since the start has come, and a block that was queued late
 * is due at once, so that the output gets back on time after a stall.  A
 * stream that drops late periods plays its blocks back to back: one period
 * after the later of the previous block's end and now.
 */
static u64 audio_stream_due(struct audio_stream *s, u64 frame, u64 now_ns)
{
	struct audio_stream_prod *p = &s->prod;

	if (s->debt_max)
		return p->start_ns + mul_u64_u64_div_u64(frame + s->period_frames,
							 NSEC_PER_SEC, s->rate);
	return max(p->last_due_ns, now_ns) + s->block_ns;
}

/*
 * One playback period: a fresh buffer, filled by the owner, synced and
 * queued for the DMA engine.  On a full ring the period is dropped (its
 * frames are consumed all the same); a stream that catches up never finds
 * the ring full (audio_stream_owed()).
 */
static void audio_stream_play_one(struct audio_stream *s, u64 now_ns)
{
	struct audio_stream_prod *p = &s->prod;
	struct dma_ring_entry *e;
	void *buf;

	e = dma_ring_next_free(&s->ring);
	if (!e) {
		audio_add(&p->xrun_ring_full, 1);
		return;
	}
	buf = audio_stream_take(s);
	p->last_due_ns = audio_stream_due(s, p->next_frame, now_ns);
	e->bytes = s->period_bytes;
	e->frames = s->period_frames;
	e->first_frame = p->next_frame;
	e->due_ns = p->last_due_ns;
	e->buf = buf;
	if (buf) {
		s->ops->period(s, buf, p->next_frame, s->period_frames);
		e->dma = atomic_alloc_buf_dma(s->pool, buf);
		dma_sync_single_for_device(s->dev, e->dma, s->period_bytes,
					   DMA_TO_DEVICE);
		audio_add(&p->buffers_submitted, 1);
	} else {
		e->dma = s->silence_dma;
		audio_add(&p->silence_submitted, 1);
	}
	dma_ring_push(&s->ring);
}

/*
 * One capture period: the device writes into a fresh buffer, the owner
 * takes the period out of it, the buffer goes straight back.  Without a
 * buffer the device's frames are dropped and the owner gets silence.
 */
static void audio_stream_record_one(struct audio_stream *s)
{
	struct audio_stream_prod *p = &s->prod;
	struct audio_stream_cons *c = &s->cons;
	dma_addr_t dma;
	void *buf;

	buf = audio_stream_take(s);
	if (!buf) {
		s->ops->record(s, NULL, p->next_frame, s->period_frames);
		s->ops->period(s, (void *)s->silence, p->next_frame,
			       s->period_frames);
		audio_add(&p->silence_submitted, 1);
		audio_add(&c->silence_played, 1);
		return;
	}
	dma = atomic_alloc_buf_dma(s->pool, buf);
	dma_sync_single_for_device(s->dev, dma, s->period_bytes,
				   DMA_FROM_DEVICE);
	s->ops->record(s, buf, p->next_frame, s->period_frames);
	dma_sync_single_for_cpu(s->dev, dma, s->period_bytes, DMA_FROM_DEVICE);
	s->ops->period(s, buf, p->next_frame, s->period_frames);
	atomic_alloc_buf_free(s->pool, buf);
	audio_add(&p->buffers_submitted, 1);
	audio_add(&c->buffers_completed, 1);
	audio_add(&c->bytes_played, s->period_bytes);
}

/**
 * audio_stream_period_tick() - the work of one period interrupt
 * @s: the stream
 * @now_ns: CLOCK_MONOTONIC now, in ns
 * @n: periods to handle, 1 to the stream's catch-up limit
 *
 * Handles @n periods one after the other (a fresh buffer each), then
 * tells the owner (&audio_stream_ops.elapsed).
 *
 * Context: The stream's period interrupt (hard IRQ), or a test thread
 * while both timers are stopped.  No lock, no sleep.
 */
void audio_stream_period_tick(struct audio_stream *s, u64 now_ns,
			      unsigned int n)
{
	struct audio_stream_prod *p = &s->prod;
	unsigned int i;

	for (i = 0; i < n; i++) {
		audio_add(&p->periods, 1);
		if (s->capture)
			audio_stream_record_one(s);
		else
			audio_stream_play_one(s, now_ns);
		WRITE_ONCE(p->next_frame, p->next_frame + s->period_frames);
	}
	if (s->ops->elapsed)
		s->ops->elapsed(s, n, now_ns);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_period_tick);

/**
 * audio_stream_owed() - how many periods this interrupt handles
 * @s: the stream
 * @missed: periods that fell due since the last interrupt (what
 *	hrtimer_forward_now() returned, at least 1)
 *
 * A stream that does not catch up handles one and counts the rest as
 * lost.  One that does adds @missed to what it owes, drops (and counts)
 * what is beyond its limit, and handles up to @catchup of it: for playback
 * no more than the DMA ring has room for, so that no period is dropped
 * because the DMA engine was late.
 *
 * Context: The stream's period interrupt, or a test thread while the
 * timers are stopped.
 * Return: the periods to handle now, 0 when a playback ring is full.
 */
unsigned int audio_stream_owed(struct audio_stream *s, u64 missed)
{
	struct audio_stream_prod *p = &s->prod;
	u64 n;

	missed = max_t(u64, missed, 1);
	if (!s->debt_max) {
		if (missed > 1)
			audio_add(&p->timer_overruns, missed - 1);
		return 1;
	}
	n = p->debt + missed;
	if (n > s->debt_max) {
		audio_add(&p->timer_overruns, n - s->debt_max);
		n = s->debt_max;
	}
	p->debt = n;
	n = min_t(u64, n, s->catchup);
	if (!s->capture)
		n = min_t(u64, n, dma_ring_free(&s->ring));
	p->debt -= n;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_owed);

static enum hrtimer_restart audio_stream_period_irq(struct hrtimer *timer)
{
	struct audio_stream *s = container_of(timer, struct audio_stream,
					      period_timer);
	struct audio_stream_prod *p = &s->prod;
	u64 t0 = local_clock();
	unsigned int n;

	if (!READ_ONCE(s->running))
		return HRTIMER_NORESTART;
	if (!in_hardirq())
		audio_add(&p->not_hardirq, 1);
	n = audio_stream_owed(s, hrtimer_forward_now(timer, s->period));
	if (n)
		audio_stream_period_tick(s, ktime_get_ns(), n);

	audio_hist_add(&p->handler_ns, local_clock() - t0);
	return HRTIMER_RESTART;
}

/* ---- the DMA engine ------------------------------------------------------ */

static void audio_stream_complete(struct audio_stream *s,
				  const struct dma_ring_entry *e)
{
	struct audio_stream_cons *c = &s->cons;
	unsigned int bad;

	if (!e->buf) {
		bad = memchr_inv(s->silence, 0, e->bytes) ? 1 : 0;
		bad += s->ops->played(s, s->silence, e->first_frame, e->frames,
				      true);
		audio_add(&c->silence_played, 1);
	} else {
		dma_sync_single_for_cpu(s->dev, e->dma, e->bytes,
					DMA_TO_DEVICE);
		bad = s->ops->played(s, e->buf, e->first_frame, e->frames,
				     false);
		atomic_alloc_buf_free(s->pool, e->buf);
		audio_add(&c->buffers_completed, 1);
		audio_add(&c->bytes_played, e->bytes);
	}
	if (bad)
		audio_add(&c->verify_errors, bad);
}

/**
 * audio_stream_dma_tick() - the work of one DMA-completion interrupt
 * @s: a playback stream
 * @now_ns: CLOCK_MONOTONIC now, in ns
 *
 * Completes, oldest first, the queued blocks that have finished playing by
 * @now_ns, at most %AUDIO_DMA_BUDGET of them: syncs each buffer for the
 * CPU, hands it to the owner, frees it to the pool.
 *
 * Context: The stream's DMA interrupt (hard IRQ), or a test thread while
 * both timers are stopped.  No lock, no sleep.
 * Return: when the DMA interrupt should come next (CLOCK_MONOTONIC ns):
 * when the oldest block left falls due, else one poll interval from now.
 */
u64 audio_stream_dma_tick(struct audio_stream *s, u64 now_ns)
{
	const struct dma_ring_entry *e;
	unsigned int budget;

	for (budget = AUDIO_DMA_BUDGET; budget; budget--) {
		e = dma_ring_oldest(&s->ring);
		if (!e || e->due_ns > now_ns)
			break;
		audio_stream_complete(s, e);
		dma_ring_pop(&s->ring);
	}
	e = dma_ring_oldest(&s->ring);
	if (!e)
		return now_ns + s->dma_poll_ns;
	return max(e->due_ns, now_ns + min_t(u64, s->dma_poll_ns,
					     AUDIO_DMA_POLL_MIN_NS));
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_dma_tick);

static enum hrtimer_restart audio_stream_dma_irq(struct hrtimer *timer)
{
	struct audio_stream *s = container_of(timer, struct audio_stream,
					      dma_timer);
	struct audio_stream_cons *c = &s->cons;
	u64 now = ktime_get_ns();
	u64 due = ktime_to_ns(hrtimer_get_expires(timer));

	if (!in_hardirq())
		audio_add(&c->not_hardirq, 1);
	if (now > due + s->dma_poll_ns)
		audio_add(&c->dma_overruns, div64_u64(now - due,
						      s->dma_poll_ns));
	hrtimer_set_expires(timer, ns_to_ktime(audio_stream_dma_tick(s, now)));
	return HRTIMER_RESTART;
}

/* ---- statistics ------------------------------------------------------------ */

/**
 * audio_stream_inject_alloc_failures() - make the next allocations fail
 * @s: the stream
 * @n: how many of the stream's next atomic_alloc_buf() calls are skipped
 *	as if they had returned NULL; replaces what is left of an earlier
 *	request; 0 cancels
 *
 * The stream then plays silence and counts xrun_alloc (and
 * alloc_injected), exactly as on a real failure, and recovers by itself.
 *
 * Context: Any context.
 */
void audio_stream_inject_alloc_failures(struct audio_stream *s,
					unsigned int n)
{
	atomic_set(&s->fail_alloc, min_t(unsigned int, n, INT_MAX));
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_inject_alloc_failures);

/**
 * audio_stream_get_stats() - snapshot a stream's counters
 * @s: the stream
 * @st: filled in
 *
 * Context: Any context, from any CPU, while the stream runs or not.
 */
void audio_stream_get_stats(struct audio_stream *s,
			    struct audio_stream_stats *st)
{
	const struct audio_stream_prod *p = &s->prod;
	const struct audio_stream_cons *c = &s->cons;

	st->periods = READ_ONCE(p->periods);
	st->buffers_submitted = READ_ONCE(p->buffers_submitted);
	st->xrun_alloc = READ_ONCE(p->xrun_alloc);
	st->alloc_injected = READ_ONCE(p->alloc_injected);
	st->xrun_ring_full = READ_ONCE(p->xrun_ring_full);
	st->timer_overruns = READ_ONCE(p->timer_overruns);
	st->silence_submitted = READ_ONCE(p->silence_submitted);
	st->buffers_completed = READ_ONCE(c->buffers_completed);
	st->bytes_played = READ_ONCE(c->bytes_played);
	st->verify_errors = READ_ONCE(c->verify_errors);
	st->silence_played = READ_ONCE(c->silence_played);
	st->dma_overruns = READ_ONCE(c->dma_overruns);
	st->not_hardirq = READ_ONCE(p->not_hardirq) + READ_ONCE(c->not_hardirq);
	st->buffers_drained = READ_ONCE(s->buffers_drained);
	st->ring_used = s->capture ? 0 : dma_ring_count(&s->ring);
	st->cpu = READ_ONCE(s->cpu);
	st->dma_cpu = READ_ONCE(s->dma_cpu);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_get_stats);

/**
 * audio_stream_get_hist() - snapshot one of a stream's histograms
 * @s: the stream
 * @which: %AUDIO_HIST_HANDLER or %AUDIO_HIST_ALLOC
 * @copy: filled in
 *
 * Context: Any context, from any CPU.
 */
void audio_stream_get_hist(struct audio_stream *s, enum audio_stream_hist which,
			   struct audio_hist *copy)
{
	audio_hist_read(which == AUDIO_HIST_ALLOC ? &s->prod.alloc_ns :
						    &s->prod.handler_ns, copy);
}
EXPORT_SYMBOL_IF_KUNIT(audio_stream_get_hist);
