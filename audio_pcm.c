// SPDX-License-Identifier: GPL-2.0
/*
 * audio_pcm - the ALSA front end of the atomic_alloc_audio device
 *
 * A sound card like snd-aloop: PCM device 0 plays, PCM device 1 captures,
 * and what subdevice N of the one plays comes out of subdevice N of the
 * other, bit for bit, after the simulated DMA's delay.  The models are
 * sound/drivers/aloop.c (the PCM ops, the hardware table, the rules that
 * make the two ends of a loop agree) and sound/drivers/dummy.c (an hrtimer
 * as the period interrupt).  What is ours:
 *
 *   playback 0,N   period interrupt (hard IRQ, pinned hrtimer, audio_irq.c):
 *                  a fresh pool buffer, the period copied out of ALSA's
 *                  ring into it, synced for the device, queued for the DMA
 *                  engine; its DMA-completion interrupt (another CPU) puts
 *                  the played period into loop N and frees the buffer
 *   capture 1,N    period interrupt: a fresh pool buffer, the device writes
 *                  the period from loop N into it, synced for the CPU,
 *                  copied into ALSA's capture ring, freed
 *
 * ALSA's ring is a vmalloc buffer (SNDRV_DMA_TYPE_VMALLOC, as aloop), so
 * mmap works as usual and no pool buffer is ever mapped to user space.
 * Each substream has its own pool, created in hw_params for buffers of one
 * period and kept until the period changes or the card goes.
 *
 * The deferred notification.  snd_pcm_period_elapsed() takes the stream's
 * lock, a spinlock_t, which sleeps on PREEMPT_RT: the hard-IRQ period
 * interrupt must never call it, nor anything else that takes a spinlock_t.
 * The interrupt stamps the time and queues a work item on the card's
 * notification thread, a kthread_worker at SCHED_FIFO 50 (sched_set_fifo(),
 * the priority of threaded interrupt handlers, so that real-time audio
 * applications do not starve it; kthread_queue_work() takes only a raw
 * spinlock and wakes the thread, legal in hard IRQ on every kernel), and
 * the thread calls snd_pcm_period_elapsed() in process context.  The same
 * on generic kernels, so that both behave alike.  The delay from the
 * interrupt to the call is measured in notify_ns.  Periods that end while a
 * notification is pending are covered by it: the pointer callback reads
 * the latest position.
 *
 * Xruns.  A dry pool plays (or captures) silence for that period and counts
 * xrun_alloc; the stream goes on.  An application that does not keep up
 * gets ALSA's own xrun (ALSA stops the stream; aplay says "underrun"),
 * counted in xrun_app by the trigger.  Both are in
 * /proc/asound/<id>/atomic_alloc and in debugfs.
 *
 * Concurrency rules
 *
 * - ALSA serialises a substream's open, hw_params, hw_free, prepare,
 *   sync_stop and close (process context, may sleep), and calls trigger
 *   and pointer under the stream lock (atomic context).  The period and
 *   DMA interrupts run only between prepare (the DMA engine) or trigger
 *   START (the period interrupt) and sync_stop / hw_free / the next
 *   prepare, which stop them and wait.
 * - audio_pcm.lock (a mutex) guards both ends' parameters in every loop:
 *   hw_params, hw_free and the hw rules take it.
 * - audio_pcm_sub.lock (a mutex) guards a subdevice's pool pointer against
 *   debugfs readers while hw_params replaces it.
 * - The interrupts write the stream's counters and positions (audio_irq.c
 *   rules), the loop's producer or consumer fields (audio_loop.c rules),
 *   and notify_stamp / notify_pending; the notification thread alone
 *   writes notify_ns and notified; the trigger alone (stream lock) writes
 *   xrun_app and starts.  Readers use READ_ONCE().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <kunit/visibility.h>
#include <sound/core.h>
#include <sound/info.h>
#include <sound/pcm.h>
#include <sound/pcm_params.h>

#include "atomic_alloc.h"
#include "audio_dev.h"
#include "audio_loop.h"
#include "audio_pcm.h"

/**
 * struct audio_pcm_loop - the two ends of loop N and the wire between them
 * @wire:	the bytes in flight from playback N to capture N.
 * @sides:	bit 0: playback N has hw_params, bit 1: capture N has.
 * @format:	the configured end's format; both ends must agree.
 * @rate:	the configured end's rate.
 * @channels:	the configured end's channels.
 *
 * @sides, @format, @rate and @channels are guarded by audio_pcm.lock.
 */
struct audio_pcm_loop {
	struct audio_loop wire;
	unsigned int sides;
	snd_pcm_format_t format;
	unsigned int rate;
	unsigned int channels;
};

/**
 * struct audio_pcm_sub - one subdevice of one direction
 * @pcm:	the card.
 * @loop:	loop N.
 * @capture:	capture (device 1) or playback (device 0).
 * @index:	N.
 * @substream:	ALSA's substream while open.
 * @lock:	guards @pool, @pool_period_bytes and @pool_cpu_buffers.
 * @pool:	buffers of one period, created in hw_params.
 * @pool_period_bytes: the period @pool was made for.
 * @pool_cpu_buffers: its per-CPU array.
 * @pool_name:	"<dev_name>-p<N>" or "<dev_name>-c<N>".
 * @stream:	the period interrupt and DMA engine.
 * @area:	ALSA's ring, set in prepare.
 * @buffer_frames: its frames.
 * @buffer_bytes: its bytes.
 * @notify_worker: the thread that calls snd_pcm_period_elapsed(), made in
 *		the first hw_params.
 * @notify:	the deferred period notification.
 * @notify_pending: bit 0 set while @notify is queued and has not yet read
 *		@notify_stamp.
 * @notify_stamp: CLOCK_MONOTONIC ns of the first period interrupt that
 *		@notify covers.
 * @notify_ns:	from that interrupt to snd_pcm_period_elapsed().
 * @notified:	notifications made.
 * @xrun_app:	see struct audio_pcm_stats.
 * @starts:	see struct audio_pcm_stats.
 */
struct audio_pcm_sub {
	struct audio_pcm *pcm;
	struct audio_pcm_loop *loop;
	bool capture;
	unsigned int index;
	struct snd_pcm_substream *substream;
	struct mutex lock;	/* guards the pool pointer */
	struct atomic_alloc_pool *pool;
	unsigned int pool_period_bytes;
	unsigned int pool_cpu_buffers;
	char pool_name[32];
	struct audio_stream stream;
	u8 *area;
	unsigned int buffer_frames;
	unsigned int buffer_bytes;
	struct kthread_worker *notify_worker;
	struct kthread_work notify;
	unsigned long notify_pending;
	u64 notify_stamp;
	struct audio_hist notify_ns;
	u64 notified;
	u64 xrun_app;
	u64 starts;
};

/**
 * struct audio_pcm - the card
 * @dev:	the device the pools map their buffers for.
 * @card:	the ALSA card; this struct is its private data.
 * @snd:	PCM device 0 (playback) and 1 (capture).
 * @subdevices:	subdevices per PCM device.
 * @lock:	guards the ends' parameters of every loop.
 * @loops:	@subdevices loops.
 * @subs:	@subdevices subdevices per direction, [0] playback.
 * @silence:	%AUDIO_PERIOD_BYTES_MAX zeros for a period without a pool
 *		buffer; never written after create.
 * @silence_dma: its bus address.
 */
struct audio_pcm {
	struct device *dev;
	struct snd_card *card;
	struct snd_pcm *snd[2];
	unsigned int subdevices;
	struct mutex lock;	/* guards the loops' parameters */
	struct audio_pcm_loop *loops;
	struct audio_pcm_sub *subs[2];
	void *silence;
	dma_addr_t silence_dma;
};

static const struct snd_pcm_hardware audio_pcm_hardware = {
	.info = SNDRV_PCM_INFO_INTERLEAVED | SNDRV_PCM_INFO_MMAP |
		SNDRV_PCM_INFO_MMAP_VALID | SNDRV_PCM_INFO_BLOCK_TRANSFER |
		SNDRV_PCM_INFO_BATCH,
	.formats = SNDRV_PCM_FMTBIT_S16_LE | SNDRV_PCM_FMTBIT_S24_LE |
		   SNDRV_PCM_FMTBIT_S24_3LE | SNDRV_PCM_FMTBIT_S32_LE,
	.rates = SNDRV_PCM_RATE_44100 | SNDRV_PCM_RATE_48000 |
		 SNDRV_PCM_RATE_64000 | SNDRV_PCM_RATE_88200 |
		 SNDRV_PCM_RATE_96000 | SNDRV_PCM_RATE_176400 |
		 SNDRV_PCM_RATE_192000,
	.rate_min = 44100,
	.rate_max = 192000,
	.channels_min = 1,
	.channels_max = 8,
	.buffer_bytes_max = AUDIO_PCM_BUFFER_BYTES_MAX,
	/* 32 frames of the smallest frame (S16_LE mono); see the rule too. */
	.period_bytes_min = AUDIO_PERIOD_FRAMES_MIN * 2,
	.period_bytes_max = AUDIO_PERIOD_BYTES_MAX,
	.periods_min = 2,
	.periods_max = AUDIO_PCM_PERIODS_MAX,
};

/**
 * audio_pcm_ring_offset() - where a stream frame sits in ALSA's ring
 * @frame: stream frame index (frames since the start)
 * @buffer_frames: the ring's frames, non-zero
 * @frame_bytes: bytes per frame
 *
 * Context: Any context.
 * Return: the byte offset of @frame in the ring.
 */
unsigned int audio_pcm_ring_offset(u64 frame, unsigned int buffer_frames,
				   unsigned int frame_bytes)
{
	u32 rem;

	div_u64_rem(frame, buffer_frames, &rem);
	return rem * frame_bytes;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_ring_offset);

/**
 * audio_pcm_catchup() - periods one period interrupt may handle
 * @period_bytes: bytes per period, non-zero
 *
 * A late timer's periods are owed, not lost (see audio_stream_owed()):
 * each interrupt handles what fits %AUDIO_PCM_CATCHUP_BYTES, at least 2
 * (so that a stream catches up) and at most %AUDIO_PCM_CATCHUP_MAX.
 *
 * Context: Any context.
 * Return: the catch-up limit.
 */
unsigned int audio_pcm_catchup(unsigned int period_bytes)
{
	return clamp(AUDIO_PCM_CATCHUP_BYTES / period_bytes, 2U,
		     AUDIO_PCM_CATCHUP_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_catchup);

static struct audio_pcm_sub *audio_pcm_sub_of(struct snd_pcm_substream *ss)
{
	struct audio_pcm *pcm = snd_pcm_substream_chip(ss);

	return &pcm->subs[ss->stream == SNDRV_PCM_STREAM_CAPTURE][ss->number];
}

/* ---- the engine's callbacks (hard IRQ) ---------------------------------- */

static void audio_pcm_play_period(struct audio_stream *s, void *buf,
				  u64 frame, unsigned int frames)
{
	struct audio_pcm_sub *sub = s->priv;

	audio_ring_read(buf, sub->area, sub->buffer_bytes,
			audio_pcm_ring_offset(frame, sub->buffer_frames,
					      s->frame_bytes),
			frames * s->frame_bytes);
}

static unsigned int audio_pcm_played(struct audio_stream *s, const void *buf,
				     u64 frame, unsigned int frames,
				     bool silent)
{
	struct audio_pcm_sub *sub = s->priv;

	audio_loop_write(&sub->loop->wire, buf, frames * s->frame_bytes);
	return 0;
}

/*
 * The playback end of the loop has finished: stopped, and its DMA engine
 * has played everything (put it into the loop).  The ring is read first:
 * its tail was released after the loop's head (audio_stream_complete()
 * writes the loop before dma_ring_pop()), so the loop's level read after
 * it holds what the engine played.
 */
static bool audio_pcm_producer_done(struct audio_pcm_sub *sub)
{
	struct audio_stream *play = &sub->pcm->subs[0][sub->index].stream;

	return !READ_ONCE(play->running) && !dma_ring_count(&play->ring);
}

static void audio_pcm_record(struct audio_stream *s, void *buf, u64 frame,
			     unsigned int frames)
{
	struct audio_pcm_sub *sub = s->priv;
	struct audio_loop *w = &sub->loop->wire;
	bool done = audio_pcm_producer_done(sub);

	/* Nothing more is coming: deliver what is left without a delay. */
	if (!w->synced)
		w->delay = done ? 0 :
			   audio_loop_delay(s->rate, s->frame_bytes,
					    s->period_bytes,
					    READ_ONCE(w->producer_period_bytes));
	audio_loop_read(w, buf, frames * s->frame_bytes, !done);
}

static void audio_pcm_capture_period(struct audio_stream *s, void *buf,
				     u64 frame, unsigned int frames)
{
	struct audio_pcm_sub *sub = s->priv;

	audio_ring_write(sub->area, sub->buffer_bytes,
			 audio_pcm_ring_offset(frame, sub->buffer_frames,
					       s->frame_bytes),
			 buf, frames * s->frame_bytes);
}

/*
 * The period interrupt's last word: hand the notification to a context
 * where the stream's spinlock_t may be taken.
 */
static void audio_pcm_elapsed(struct audio_stream *s, unsigned int n,
			      u64 now_ns)
{
	struct audio_pcm_sub *sub = s->priv;

	/* Full barrier; pairs with smp_mb__after_atomic() in the work. */
	if (test_and_set_bit(0, &sub->notify_pending))
		return;
	WRITE_ONCE(sub->notify_stamp, now_ns);
	kthread_queue_work(sub->notify_worker, &sub->notify);
}

static void audio_pcm_notify(struct kthread_work *work)
{
	struct audio_pcm_sub *sub = container_of(work, struct audio_pcm_sub,
						 notify);
	u64 stamp = READ_ONCE(sub->notify_stamp);

	clear_bit(0, &sub->notify_pending);
	/* A period interrupt from now on queues us again, with its stamp. */
	smp_mb__after_atomic();
	audio_hist_add(&sub->notify_ns, ktime_get_ns() - stamp);
	WRITE_ONCE(sub->notified, sub->notified + 1);
	snd_pcm_period_elapsed(sub->substream);
}

static const struct audio_stream_ops audio_pcm_playback_ops = {
	.period = audio_pcm_play_period,
	.played = audio_pcm_played,
	.elapsed = audio_pcm_elapsed,
};

static const struct audio_stream_ops audio_pcm_capture_ops = {
	.period = audio_pcm_capture_period,
	.record = audio_pcm_record,
	.elapsed = audio_pcm_elapsed,
};

/* ---- the two ends of a loop agree --------------------------------------- */

/* Is the other end of @sub's loop configured?  Under audio_pcm.lock. */
static bool audio_pcm_other_end(const struct audio_pcm_sub *sub)
{
	return sub->loop->sides & BIT(!sub->capture);
}

static int audio_pcm_rule_format(struct snd_pcm_hw_params *params,
				 struct snd_pcm_hw_rule *rule)
{
	struct audio_pcm_sub *sub = rule->private;
	struct snd_mask m;
	bool fixed;

	snd_mask_none(&m);
	mutex_lock(&sub->pcm->lock);
	fixed = audio_pcm_other_end(sub);
	if (fixed)
		snd_mask_set_format(&m, sub->loop->format);
	mutex_unlock(&sub->pcm->lock);
	if (!fixed)
		return 0;
	return snd_mask_refine(hw_param_mask(params, rule->var), &m);
}

static int audio_pcm_rule_value(struct snd_pcm_hw_params *params,
				struct snd_pcm_hw_rule *rule)
{
	struct audio_pcm_sub *sub = rule->private;
	struct snd_interval t = { .integer = 1 };
	bool fixed;

	mutex_lock(&sub->pcm->lock);
	fixed = audio_pcm_other_end(sub);
	if (fixed) {
		t.min = rule->var == SNDRV_PCM_HW_PARAM_RATE ? sub->loop->rate :
							       sub->loop->channels;
		t.max = t.min;
	}
	mutex_unlock(&sub->pcm->lock);
	if (!fixed)
		return 0;
	return snd_interval_refine(hw_param_interval(params, rule->var), &t);
}

/* ---- the PCM callbacks ---------------------------------------------------- */

static int audio_pcm_open(struct snd_pcm_substream *ss)
{
	struct snd_pcm_runtime *runtime = ss->runtime;
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);
	int err;

	runtime->hw = audio_pcm_hardware;
	runtime->private_data = sub;
	err = snd_pcm_hw_constraint_integer(runtime,
					    SNDRV_PCM_HW_PARAM_PERIODS);
	if (err < 0)
		return err;
	err = snd_pcm_hw_constraint_minmax(runtime,
					   SNDRV_PCM_HW_PARAM_PERIOD_SIZE,
					   AUDIO_PERIOD_FRAMES_MIN, UINT_MAX);
	if (err < 0)
		return err;
	/* A loop carries bytes: both ends play the same format and rate. */
	err = snd_pcm_hw_rule_add(runtime, 0, SNDRV_PCM_HW_PARAM_FORMAT,
				  audio_pcm_rule_format, sub,
				  SNDRV_PCM_HW_PARAM_FORMAT, -1);
	if (err < 0)
		return err;
	err = snd_pcm_hw_rule_add(runtime, 0, SNDRV_PCM_HW_PARAM_RATE,
				  audio_pcm_rule_value, sub,
				  SNDRV_PCM_HW_PARAM_RATE, -1);
	if (err < 0)
		return err;
	err = snd_pcm_hw_rule_add(runtime, 0, SNDRV_PCM_HW_PARAM_CHANNELS,
				  audio_pcm_rule_value, sub,
				  SNDRV_PCM_HW_PARAM_CHANNELS, -1);
	if (err < 0)
		return err;
	sub->substream = ss;
	return 0;
}

static int audio_pcm_close(struct snd_pcm_substream *ss)
{
	audio_pcm_sub_of(ss)->substream = NULL;
	return 0;
}

/*
 * The period interrupt is stopped: no notification is pending any more.
 * A work item cancelled before it ran leaves the bit set; clear it, or no
 * period interrupt would ever queue the notification again.
 */
static void audio_pcm_sub_cancel_notify(struct audio_pcm_sub *sub)
{
	kthread_cancel_work_sync(&sub->notify);
	clear_bit(0, &sub->notify_pending);
}

/* Stop everything a prepared or running subdevice has going; may sleep. */
static void audio_pcm_sub_halt(struct audio_pcm_sub *sub)
{
	audio_stream_sync_stop(&sub->stream);
	/* Let the DMA engine play what it has: it is in loop N's future. */
	audio_stream_flush(&sub->stream);
	audio_stream_halt(&sub->stream);
	audio_pcm_sub_cancel_notify(sub);
}

/* A pool for periods of @period_bytes; the stream is halted. */
static int audio_pcm_sub_pool(struct audio_pcm_sub *sub,
			      unsigned int period_bytes, unsigned int rate,
			      unsigned int period_frames)
{
	unsigned int per_ms = DIV_ROUND_UP(rate, period_frames *
					   (USEC_PER_SEC /
					    AUDIO_REFILL_LATENCY_US));
	/*
	 * Playback: the DMA ring, the block being completed and what the
	 * stream takes while the refill worker is on its way.  Capture
	 * frees each buffer in the interrupt that took it, on the same CPU.
	 */
	unsigned int cpu_buffers = sub->capture ? 4 + per_ms :
				   AUDIO_PCM_RING_ENTRIES + 1 + per_ms;
	struct atomic_alloc_params params;
	struct atomic_alloc_pool *pool;
	int err = 0;

	mutex_lock(&sub->lock);
	if (sub->pool && sub->pool_period_bytes == period_bytes &&
	    sub->pool_cpu_buffers == cpu_buffers)
		goto out_unlock;
	if (sub->pool) {
		atomic_alloc_destroy(sub->pool);
		sub->pool = NULL;
	}
	err = audio_pool_params(&params, sub->pcm->dev, sub->pool_name,
				period_bytes, cpu_buffers,
				sub->capture ? DMA_FROM_DEVICE :
					       DMA_TO_DEVICE);
	if (err) {
		dev_err(sub->pcm->dev, "%s: a pool of %u buffers of %u bytes per CPU takes %lu bytes, over the budget of %lu bytes\n",
			sub->pool_name, cpu_buffers, period_bytes,
			audio_pool_bytes_per_cpu(period_bytes, cpu_buffers),
			AUDIO_POOL_CPU_BYTES_MAX);
		goto out_unlock;
	}
	pool = atomic_alloc_create(&params);
	if (IS_ERR(pool)) {
		err = PTR_ERR(pool);
		dev_err(sub->pcm->dev, "%s: cannot create a pool of %u buffers of %u bytes per CPU: %d\n",
			sub->pool_name, cpu_buffers, period_bytes, err);
		goto out_unlock;
	}
	sub->pool = pool;
	sub->pool_period_bytes = period_bytes;
	sub->pool_cpu_buffers = cpu_buffers;
out_unlock:
	mutex_unlock(&sub->lock);
	return err;
}

/*
 * The subdevice's notification thread, once: a kthread_worker at
 * SCHED_FIFO 50, the priority of threaded interrupt handlers, so that
 * real-time audio applications do not starve the notification.
 */
static int audio_pcm_sub_worker(struct audio_pcm_sub *sub)
{
	struct kthread_worker *w;

	if (sub->notify_worker)
		return 0;
	w = kthread_create_worker(0, "aa-notify/%c%u", sub->capture ? 'c' : 'p',
				  sub->index);
	if (IS_ERR(w))
		return PTR_ERR(w);
	sched_set_fifo(w->task);
	sub->notify_worker = w;
	return 0;
}

static int audio_pcm_hw_params(struct snd_pcm_substream *ss,
			       struct snd_pcm_hw_params *params)
{
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);
	struct audio_pcm_loop *loop = sub->loop;
	struct audio_pcm *pcm = sub->pcm;
	snd_pcm_format_t format = params_format(params);
	unsigned int rate = params_rate(params);
	unsigned int channels = params_channels(params);
	int err = 0;

	/* hw_params again on a prepared stream: its DMA engine runs. */
	audio_pcm_sub_halt(sub);

	mutex_lock(&pcm->lock);
	if (audio_pcm_other_end(sub) &&
	    (loop->format != format || loop->rate != rate ||
	     loop->channels != channels))
		err = -EBUSY;	/* the other end got there between refine and here */
	if (!err)
		err = audio_loop_init(&loop->wire);
	if (!err) {
		loop->sides |= BIT(sub->capture);
		loop->format = format;
		loop->rate = rate;
		loop->channels = channels;
	}
	mutex_unlock(&pcm->lock);
	if (err)
		return err;

	err = audio_pcm_sub_worker(sub);
	if (!err)
		err = audio_pcm_sub_pool(sub, params_period_bytes(params), rate,
					 params_period_size(params));
	if (err) {
		mutex_lock(&pcm->lock);
		loop->sides &= ~BIT(sub->capture);
		mutex_unlock(&pcm->lock);
	}
	return err;
}

static int audio_pcm_hw_free(struct snd_pcm_substream *ss)
{
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);

	audio_pcm_sub_halt(sub);
	mutex_lock(&sub->pcm->lock);
	sub->loop->sides &= ~BIT(sub->capture);
	mutex_unlock(&sub->pcm->lock);
	return 0;
}

static int audio_pcm_prepare(struct snd_pcm_substream *ss)
{
	struct snd_pcm_runtime *runtime = ss->runtime;
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);
	struct audio_stream *s = &sub->stream;
	unsigned int frame_bytes = frames_to_bytes(runtime, 1);
	unsigned int period_bytes = frames_to_bytes(runtime,
						    runtime->period_size);
	int err = 0;

	audio_pcm_sub_halt(sub);
	if (!sub->pool || sub->pool_period_bytes != period_bytes)
		return -EBADFD;		/* hw_params made a pool for it */

	sub->area = runtime->dma_area;
	sub->buffer_frames = runtime->buffer_size;
	sub->buffer_bytes = frames_to_bytes(runtime, runtime->buffer_size);
	/* Owed periods up to two seconds: a longer stall is lost. */
	audio_stream_configure(s, sub->pool, runtime->rate, frame_bytes,
			       runtime->period_size,
			       audio_pcm_catchup(period_bytes),
			       max(2U, DIV_ROUND_UP(2 * runtime->rate,
						    runtime->period_size)),
			       sub->pcm->silence, sub->pcm->silence_dma);
	audio_stream_reset(s);
	/*
	 * The period timer starts on the CPU that triggers, which is nearly
	 * always the one that prepares: wake the notification thread there,
	 * not across CPUs.  A stale choice costs an IPI, nothing else.
	 */
	set_cpus_allowed_ptr(sub->notify_worker->task,
			     cpumask_of(raw_smp_processor_id()));
	if (sub->capture)
		return 0;

	WRITE_ONCE(sub->loop->wire.producer_period_bytes, period_bytes);
	/* The DMA engine on the next CPU, so that frees are remote. */
	cpus_read_lock();
	err = audio_stream_arm_dma(s, audio_next_cpu(raw_smp_processor_id()));
	cpus_read_unlock();
	return err;
}

/* Trigger STOP on a running stream whose ring ALSA found empty or full. */
static void audio_pcm_count_xrun(struct snd_pcm_substream *ss,
				 struct audio_pcm_sub *sub)
{
	struct snd_pcm_runtime *runtime = ss->runtime;
	snd_pcm_uframes_t avail;

	if (runtime->state != SNDRV_PCM_STATE_RUNNING)
		return;		/* draining, or stopped on request */
	avail = sub->capture ? snd_pcm_capture_avail(runtime) :
			       snd_pcm_playback_avail(runtime);
	if (avail >= runtime->stop_threshold)
		WRITE_ONCE(sub->xrun_app, sub->xrun_app + 1);
}

static int audio_pcm_trigger(struct snd_pcm_substream *ss, int cmd)
{
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);
	struct audio_stream *s = &sub->stream;

	switch (cmd) {
	case SNDRV_PCM_TRIGGER_START:
		if (sub->capture)
			audio_loop_resync(&sub->loop->wire,
					  audio_loop_delay(s->rate,
							   s->frame_bytes,
							   s->period_bytes, 0));
		WRITE_ONCE(sub->starts, sub->starts + 1);
		audio_stream_start_here(s);
		return 0;
	case SNDRV_PCM_TRIGGER_STOP:
		audio_pcm_count_xrun(ss, sub);
		audio_stream_stop_async(s);
		return 0;
	}
	return -EINVAL;
}

static int audio_pcm_sync_stop(struct snd_pcm_substream *ss)
{
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);

	audio_stream_sync_stop(&sub->stream);
	audio_pcm_sub_cancel_notify(sub);
	return 0;
}

static snd_pcm_uframes_t audio_pcm_pointer(struct snd_pcm_substream *ss)
{
	struct audio_pcm_sub *sub = audio_pcm_sub_of(ss);
	u64 frame = READ_ONCE(sub->stream.prod.next_frame);
	u32 rem;

	if (!sub->buffer_frames)
		return 0;
	div_u64_rem(frame, sub->buffer_frames, &rem);
	return rem;
}

static const struct snd_pcm_ops audio_pcm_ops = {
	.open = audio_pcm_open,
	.close = audio_pcm_close,
	.hw_params = audio_pcm_hw_params,
	.hw_free = audio_pcm_hw_free,
	.prepare = audio_pcm_prepare,
	.trigger = audio_pcm_trigger,
	.sync_stop = audio_pcm_sync_stop,
	.pointer = audio_pcm_pointer,
};

/* ---- statistics ----------------------------------------------------------- */

/**
 * audio_pcm_sub_stats() - a subdevice's own counters
 * @sub: the subdevice
 * @st: filled in
 *
 * Context: Any context; a snapshot.
 */
void audio_pcm_sub_stats(struct audio_pcm_sub *sub,
			 struct audio_pcm_stats *st)
{
	st->xrun_app = READ_ONCE(sub->xrun_app);
	st->loop_overruns = sub->capture ? 0 :
			    READ_ONCE(sub->loop->wire.overruns);
	st->loop_underruns = sub->capture ?
			     READ_ONCE(sub->loop->wire.underruns) : 0;
	st->notified = READ_ONCE(sub->notified);
	st->starts = READ_ONCE(sub->starts);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_sub_stats);

/**
 * audio_pcm_sub_notify_hist() - copy the notification-latency histogram
 * @sub: the subdevice
 * @copy: filled in
 *
 * Context: Any context.
 */
void audio_pcm_sub_notify_hist(struct audio_pcm_sub *sub,
			       struct audio_hist *copy)
{
	audio_hist_read(&sub->notify_ns, copy);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_sub_notify_hist);

/**
 * audio_pcm_sub_stream() - the engine stream of a subdevice
 * @sub: the subdevice
 *
 * Context: Any context.
 * Return: the stream, for its counters and histograms.
 */
struct audio_stream *audio_pcm_sub_stream(struct audio_pcm_sub *sub)
{
	return &sub->stream;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_sub_stream);

/**
 * audio_pcm_sub_show() - a subdevice's statistics as "key: value" lines
 * @m: the seq_file
 * @sub: the subdevice
 *
 * The stream's counters, the subdevice's own, the notification latency's
 * median and p99, and the counters of its pool (if hw_params made one).
 *
 * Context: Process context.  Takes the subdevice's mutex.
 */
void audio_pcm_sub_show(struct seq_file *m, struct audio_pcm_sub *sub)
{
	struct audio_stream_stats st;
	struct atomic_alloc_stats ps;
	struct audio_pcm_stats pst;
	struct audio_hist *h;

	audio_stream_get_stats(&sub->stream, &st);
	audio_pcm_sub_stats(sub, &pst);
	seq_printf(m, "periods: %llu\n", st.periods);
	seq_printf(m, "buffers_submitted: %llu\n", st.buffers_submitted);
	seq_printf(m, "buffers_completed: %llu\n", st.buffers_completed);
	seq_printf(m, "bytes_played: %llu\n", st.bytes_played);
	seq_printf(m, "xrun_alloc: %llu\n", st.xrun_alloc);
	seq_printf(m, "xrun_app: %llu\n", pst.xrun_app);
	seq_printf(m, "alloc_injected: %llu\n", st.alloc_injected);
	seq_printf(m, "xrun_ring_full: %llu\n", st.xrun_ring_full);
	seq_printf(m, "timer_overruns: %llu\n", st.timer_overruns);
	seq_printf(m, "silence_submitted: %llu\n", st.silence_submitted);
	seq_printf(m, "silence_played: %llu\n", st.silence_played);
	seq_printf(m, "buffers_drained: %llu\n", st.buffers_drained);
	seq_printf(m, "dma_overruns: %llu\n", st.dma_overruns);
	seq_printf(m, "not_hardirq: %llu\n", st.not_hardirq);
	seq_printf(m, "loop_overruns: %llu\n", pst.loop_overruns);
	seq_printf(m, "loop_underruns: %llu\n", pst.loop_underruns);
	seq_printf(m, "notified: %llu\n", pst.notified);
	seq_printf(m, "starts: %llu\n", pst.starts);
	seq_printf(m, "cpu: %u\n", st.cpu);
	seq_printf(m, "dma_cpu: %u\n", st.dma_cpu);
	seq_printf(m, "period_frames: %u\n", READ_ONCE(sub->stream.period_frames));
	seq_printf(m, "period_bytes: %u\n", READ_ONCE(sub->stream.period_bytes));

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (h) {
		audio_hist_read(&sub->notify_ns, h);
		seq_printf(m, "notify_ns_p50: %llu\n",
			   audio_hist_percentile(h, 500));
		seq_printf(m, "notify_ns_p99: %llu\n",
			   audio_hist_percentile(h, 990));
		kfree(h);
	}

	mutex_lock(&sub->lock);
	if (sub->pool) {
		atomic_alloc_get_stats(sub->pool, &ps);
		seq_printf(m, "pool: %s\n", sub->pool_name);
		seq_printf(m, "pool_buffer_bytes: %u\n",
			   atomic_alloc_buf_bytes(sub->pool));
		seq_printf(m, "pool_buffers_per_page: %u\n",
			   audio_pool_buffers_per_page(sub->pool_period_bytes));
		seq_printf(m, "pool_cpu_buffers: %u\n", sub->pool_cpu_buffers);
		seq_printf(m, "pool_bytes_per_cpu: %lu\n",
			   audio_pool_bytes_per_cpu(sub->pool_period_bytes,
						    sub->pool_cpu_buffers));
		seq_printf(m, "pool_alloc_local: %llu\n", ps.alloc_local);
		seq_printf(m, "pool_alloc_remote: %llu\n", ps.alloc_remote);
		seq_printf(m, "pool_alloc_direct: %llu\n", ps.alloc_direct);
		seq_printf(m, "pool_alloc_failed: %llu\n", ps.alloc_failed);
		seq_printf(m, "pool_outstanding: %llu\n", ps.outstanding);
	}
	mutex_unlock(&sub->lock);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_sub_show);

/* /proc/asound/<id>/atomic_alloc: the xrun counters of every subdevice. */
static void audio_pcm_proc_read(struct snd_info_entry *entry,
				struct snd_info_buffer *buffer)
{
	struct audio_pcm *pcm = entry->private_data;
	struct audio_stream_stats st;
	struct audio_pcm_stats pst;
	unsigned int dir, i;

	for (dir = 0; dir < 2; dir++) {
		for (i = 0; i < pcm->subdevices; i++) {
			struct audio_pcm_sub *sub = &pcm->subs[dir][i];
			const char *name = dir ? "capture" : "playback";

			audio_stream_get_stats(&sub->stream, &st);
			audio_pcm_sub_stats(sub, &pst);
			snd_iprintf(buffer, "%s%u_periods: %llu\n", name, i,
				    st.periods);
			snd_iprintf(buffer, "%s%u_xrun_alloc: %llu\n", name, i,
				    st.xrun_alloc);
			snd_iprintf(buffer, "%s%u_xrun_app: %llu\n", name, i,
				    pst.xrun_app);
			snd_iprintf(buffer, "%s%u_loop_%s: %llu\n", name, i,
				    dir ? "underruns" : "overruns",
				    dir ? pst.loop_underruns :
					  pst.loop_overruns);
		}
	}
}

/* ---- create and destroy ---------------------------------------------------- */

/**
 * audio_pcm_card() - the ALSA card
 * @pcm: the card's front end
 *
 * Context: Any context.
 * Return: the card.
 */
struct snd_card *audio_pcm_card(struct audio_pcm *pcm)
{
	return pcm->card;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_card);

/**
 * audio_pcm_snd() - one of the card's two PCM devices
 * @pcm: the card's front end
 * @capture: device 1 (capture) rather than device 0 (playback)
 *
 * Context: Any context.
 * Return: the PCM device.
 */
struct snd_pcm *audio_pcm_snd(struct audio_pcm *pcm, bool capture)
{
	return pcm->snd[capture];
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_snd);

/**
 * audio_pcm_subdevices() - subdevices per PCM device
 * @pcm: the card's front end
 *
 * Context: Any context.
 * Return: the number given to audio_pcm_create().
 */
unsigned int audio_pcm_subdevices(const struct audio_pcm *pcm)
{
	return pcm->subdevices;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_subdevices);

/**
 * audio_pcm_sub() - look a subdevice up
 * @pcm: the card's front end
 * @capture: of device 1 rather than device 0
 * @n: 0 to subdevices - 1
 *
 * Context: Any context.
 * Return: the subdevice, or NULL for a bad @n.
 */
struct audio_pcm_sub *audio_pcm_sub(struct audio_pcm *pcm, bool capture,
				    unsigned int n)
{
	return n < pcm->subdevices ? &pcm->subs[capture][n] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_sub);

/* The card's private_free: safe on a half-built card. */
static void audio_pcm_free(struct snd_card *card)
{
	struct audio_pcm *pcm = card->private_data;
	unsigned int dir, i;

	for (dir = 0; dir < 2; dir++) {
		if (!pcm->subs[dir])
			continue;
		for (i = 0; i < pcm->subdevices; i++) {
			struct audio_pcm_sub *sub = &pcm->subs[dir][i];

			if (!sub->pcm)
				break;	/* not initialised: nor are the rest */
			audio_stream_halt(&sub->stream);
			kthread_cancel_work_sync(&sub->notify);
			if (sub->notify_worker)
				kthread_destroy_worker(sub->notify_worker);
			if (sub->pool)
				atomic_alloc_destroy(sub->pool);
			audio_stream_destroy(&sub->stream);
			mutex_destroy(&sub->lock);
		}
		kvfree(pcm->subs[dir]);
	}
	if (pcm->loops) {
		for (i = 0; i < pcm->subdevices; i++)
			audio_loop_destroy(&pcm->loops[i].wire);
		kfree(pcm->loops);
	}
	if (pcm->silence)
		dma_free_coherent(pcm->dev, AUDIO_PERIOD_BYTES_MAX,
				  pcm->silence, pcm->silence_dma);
	mutex_destroy(&pcm->lock);
}

static int audio_pcm_new_device(struct audio_pcm *pcm, bool capture)
{
	struct snd_pcm *snd;
	int err;

	err = snd_pcm_new(pcm->card, capture ? "AtomicAlloc capture" :
					       "AtomicAlloc playback",
			  capture, capture ? 0 : pcm->subdevices,
			  capture ? pcm->subdevices : 0, &snd);
	if (err < 0)
		return err;
	snd_pcm_set_ops(snd, capture ? SNDRV_PCM_STREAM_CAPTURE :
				       SNDRV_PCM_STREAM_PLAYBACK,
			&audio_pcm_ops);
	snd->private_data = pcm;
	snd->info_flags = 0;
	strscpy(snd->name, capture ? "AtomicAlloc loop capture" :
				     "AtomicAlloc loop playback",
		sizeof(snd->name));
	snd_pcm_set_managed_buffer_all(snd, SNDRV_DMA_TYPE_VMALLOC, NULL, 0, 0);
	pcm->snd[capture] = snd;
	return 0;
}

static int audio_pcm_new_subs(struct audio_pcm *pcm, bool capture)
{
	unsigned int i;
	int err;

	pcm->subs[capture] = kvcalloc(pcm->subdevices,
				      sizeof(*pcm->subs[capture]), GFP_KERNEL);
	if (!pcm->subs[capture])
		return -ENOMEM;
	for (i = 0; i < pcm->subdevices; i++) {
		struct audio_pcm_sub *sub = &pcm->subs[capture][i];

		sub->pcm = pcm;
		sub->loop = &pcm->loops[i];
		sub->capture = capture;
		sub->index = i;
		mutex_init(&sub->lock);
		kthread_init_work(&sub->notify, audio_pcm_notify);
		snprintf(sub->pool_name, sizeof(sub->pool_name), "%.16s-%c%u",
			 dev_name(pcm->dev), capture ? 'c' : 'p', i);
		err = audio_stream_init(&sub->stream, pcm->dev,
					capture ? &audio_pcm_capture_ops :
						  &audio_pcm_playback_ops,
					sub, capture, AUDIO_PCM_RING_ENTRIES);
		if (err)
			return err;
	}
	return 0;
}

/**
 * audio_pcm_create() - create and register the sound card
 * @dev: the parent device; the pools map their buffers for it
 * @index: card index, or -1 for the first free one
 * @id: card id (what hw:<id> names), e.g. %AUDIO_PCM_ID
 * @subdevices: subdevices per PCM device, 1 to %AUDIO_PCM_MAX_SUBDEVICES
 *
 * The card holds a reference on the calling module for every open PCM, so
 * the module cannot be unloaded while an application has the card open.
 *
 * Context: Process context; allocates with GFP_KERNEL, may sleep.
 * Return: the card's front end, or an ERR_PTR(): -EINVAL for a bad
 * @subdevices, -ENOMEM, or the error of the ALSA core.
 */
struct audio_pcm *audio_pcm_create(struct device *dev, int index,
				   const char *id, unsigned int subdevices)
{
	struct snd_card *card;
	struct audio_pcm *pcm;
	int err;

	if (!subdevices || subdevices > AUDIO_PCM_MAX_SUBDEVICES) {
		dev_err(dev, "subdevices=%u: must be 1..%u\n", subdevices,
			AUDIO_PCM_MAX_SUBDEVICES);
		return ERR_PTR(-EINVAL);
	}
	err = snd_card_new(dev, index, id, THIS_MODULE, sizeof(*pcm), &card);
	if (err < 0)
		return ERR_PTR(err);
	pcm = card->private_data;
	pcm->dev = dev;
	pcm->card = card;
	pcm->subdevices = subdevices;
	mutex_init(&pcm->lock);
	card->private_free = audio_pcm_free;

	err = -ENOMEM;
	pcm->silence = dma_alloc_coherent(dev, AUDIO_PERIOD_BYTES_MAX,
					  &pcm->silence_dma, GFP_KERNEL);
	if (!pcm->silence)
		goto err_free;
	pcm->loops = kcalloc(subdevices, sizeof(*pcm->loops), GFP_KERNEL);
	if (!pcm->loops)
		goto err_free;
	err = audio_pcm_new_subs(pcm, false);
	if (!err)
		err = audio_pcm_new_subs(pcm, true);
	if (!err)
		err = audio_pcm_new_device(pcm, false);
	if (!err)
		err = audio_pcm_new_device(pcm, true);
	if (err)
		goto err_free;

	strscpy(card->driver, "AtomicAlloc", sizeof(card->driver));
	strscpy(card->shortname, "AtomicAlloc", sizeof(card->shortname));
	snprintf(card->longname, sizeof(card->longname),
		 "AtomicAlloc loopback (atomic_alloc pool) at %.32s",
		 dev_name(dev));
	err = snd_card_ro_proc_new(card, "atomic_alloc", pcm,
				   audio_pcm_proc_read);
	if (err < 0)
		goto err_free;
	err = snd_card_register(card);
	if (err < 0)
		goto err_free;
	dev_info(dev, "card %d \"%s\": %u playback and %u capture subdevice(s)\n",
		 card->number, card->id, subdevices, subdevices);
	return pcm;

err_free:
	snd_card_free(card);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_create);

/**
 * audio_pcm_destroy() - unregister and free the sound card
 * @pcm: from audio_pcm_create()
 *
 * Waits until every file of the card is closed (none can be open when the
 * module goes: each holds a reference on it), then every subdevice's
 * interrupts are stopped, its buffers are back and its pool destroyed.
 *
 * Context: Process context; may sleep.
 */
void audio_pcm_destroy(struct audio_pcm *pcm)
{
	snd_card_free(pcm->card);
}
EXPORT_SYMBOL_IF_KUNIT(audio_pcm_destroy);
