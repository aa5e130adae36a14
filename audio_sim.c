// SPDX-License-Identifier: GPL-2.0
/*
 * audio_sim - the test-signal streams of the atomic_alloc_audio device
 *
 * Each stream is a playback stream of audio_irq.c whose period interrupt
 * fills every fresh pool buffer with audio_sim_fill() and whose DMA engine
 * checks every played sample with audio_sim_verify() before the buffer
 * goes back to the pool, from another CPU.
 *
 * Concurrency rules
 *
 * - Stream i's period timer is pinned to the (i % online CPUs)-th online
 *   CPU and its DMA timer to the next online CPU (the same one when only
 *   one is online), so frees are remote frees.  Who writes what inside a
 *   stream is audio_irq.c's business.
 * - Process context (module load and unload, the debugfs "control" file,
 *   KUnit) starts and stops the streams under audio_sim.lock.  Start resets
 *   each stream before the IPIs that arm its timers; stop halts both
 *   timers (waiting for running callbacks) and only then takes every
 *   buffer back.
 * - A late period is lost and counted (catch-up 1): the signal is made up
 *   and has no source that could fall behind.
 */

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "atomic_alloc.h"
#include "audio_dev.h"
#include "audio_sim.h"

static const unsigned int audio_sim_rates[] = {
	8000, 11025, 16000, 22050, 32000, 44100, 48000,
	64000, 88200, 96000, 176400, 192000, 352800, 384000,
};

/**
 * struct audio_sim - the test-signal streams of one device
 * @dev:	device the buffers are mapped for.
 * @pool:	where every buffer comes from; owned by the caller.
 * @cfg:	the configuration, @cfg.period_frames resolved.
 * @silence:	zeroed period that plays when the pool is dry; never
 *		written after create.
 * @silence_dma: bus address of @silence.
 * @lock:	serialises start, stop and destroy.
 * @running:	streams are started; written under @lock.
 * @streams:	@cfg.streams streams.
 */
struct audio_sim {
	struct device *dev;
	struct atomic_alloc_pool *pool;
	struct audio_sim_config cfg;
	void *silence;
	dma_addr_t silence_dma;
	struct mutex lock;	/* serialises start, stop and destroy */
	bool running;
	struct audio_stream *streams;
};

/**
 * audio_sim_rate_ok() - is this one of the standard rates
 * @rate: frames per second
 *
 * Context: Any context.
 * Return: true for 8000 to 384000 Hz, the rates ALSA names.
 */
bool audio_sim_rate_ok(unsigned int rate)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(audio_sim_rates); i++)
		if (audio_sim_rates[i] == rate)
			return true;
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_rate_ok);

/**
 * audio_sim_frame_bytes() - bytes per frame of a configuration
 * @cfg: a configuration with valid channels and format
 *
 * Context: Any context.
 * Return: channels * bytes per sample.
 */
unsigned int audio_sim_frame_bytes(const struct audio_sim_config *cfg)
{
	return cfg->channels * audio_sim_sample_bytes(cfg->format);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_frame_bytes);

/**
 * audio_sim_period_frames() - frames per period of a configuration
 * @cfg: a configuration with valid channels and format
 *
 * Context: Any context.
 * Return: @cfg's period_frames, or for 0 the whole frames that fit
 * %AUDIO_PERIOD_BYTES_DEFAULT: chosen in bytes, the same on every page
 * size.
 */
unsigned int audio_sim_period_frames(const struct audio_sim_config *cfg)
{
	if (cfg->period_frames)
		return cfg->period_frames;
	return AUDIO_PERIOD_BYTES_DEFAULT / audio_sim_frame_bytes(cfg);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_period_frames);

/**
 * audio_sim_check_config() - check a whole configuration
 * @cfg: the configuration
 *
 * Checks every field on its own, as the parameter parsers do, and then
 * what only the combination decides: a period of at least
 * %AUDIO_PERIOD_FRAMES_MIN frames whose bytes fit one pool buffer
 * (%AUDIO_PERIOD_BYTES_MAX).  Says what is wrong, naming the parameter,
 * with pr_err().
 *
 * Context: Any context.
 * Return: 0, or -EINVAL.
 */
int audio_sim_check_config(const struct audio_sim_config *cfg)
{
	unsigned int frames, bytes;

	if (!audio_sim_rate_ok(cfg->rate)) {
		pr_err("rate=%u: must be one of 8000 11025 16000 22050 32000 44100 48000 64000 88200 96000 176400 192000 352800 384000\n",
		       cfg->rate);
		return -EINVAL;
	}
	if (cfg->channels < 1 || cfg->channels > AUDIO_SIM_MAX_CHANNELS) {
		pr_err("channels=%u: must be 1..%u\n", cfg->channels,
		       AUDIO_SIM_MAX_CHANNELS);
		return -EINVAL;
	}
	if ((unsigned int)cfg->format >= AUDIO_SIM_NR_FORMATS) {
		pr_err("format=%u: must be S24_LE or S24_3LE\n", cfg->format);
		return -EINVAL;
	}
	if (cfg->ring_entries < DMA_RING_MIN_ENTRIES ||
	    cfg->ring_entries > DMA_RING_MAX_ENTRIES ||
	    !is_power_of_2(cfg->ring_entries)) {
		pr_err("ring_entries=%u: must be a power of two, %u..%u\n",
		       cfg->ring_entries, DMA_RING_MIN_ENTRIES,
		       DMA_RING_MAX_ENTRIES);
		return -EINVAL;
	}
	if (cfg->streams < 1 || cfg->streams > AUDIO_SIM_MAX_STREAMS) {
		pr_err("streams=%u: must be 1..%u\n", cfg->streams,
		       AUDIO_SIM_MAX_STREAMS);
		return -EINVAL;
	}

	frames = audio_sim_period_frames(cfg);
	bytes = frames * audio_sim_frame_bytes(cfg);
	if (frames < AUDIO_PERIOD_FRAMES_MIN) {
		pr_err("period_frames=%u: shorter than the floor of %u frames (%u ns at rate=%u); 0 picks %u bytes' worth\n",
		       cfg->period_frames, AUDIO_PERIOD_FRAMES_MIN,
		       (unsigned int)div_u64((u64)AUDIO_PERIOD_FRAMES_MIN *
					     NSEC_PER_SEC, cfg->rate),
		       cfg->rate, AUDIO_PERIOD_BYTES_DEFAULT);
		return -EINVAL;
	}
	if (bytes > AUDIO_PERIOD_BYTES_MAX) {
		pr_err("period_frames=%u: %u bytes at channels=%u format=%s, more than one pool buffer holds (%u bytes); must be at most %u frames\n",
		       frames, bytes, cfg->channels,
		       audio_sim_format_name(cfg->format),
		       AUDIO_PERIOD_BYTES_MAX,
		       AUDIO_PERIOD_BYTES_MAX / audio_sim_frame_bytes(cfg));
		return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_check_config);

/**
 * audio_sim_pool_params() - size an atomic_alloc pool for a configuration
 * @cfg: a valid configuration
 * @dev: the device to map the buffers for
 * @name: the pool's name
 * @params: filled in completely on success
 *
 * One buffer per period, of the period's bytes (sharing a page with
 * other periods when it is shorter than half a page: audio_pool_params()
 * chooses).  A stream keeps up to
 * ring_entries buffers queued on its ring and one being completed; they
 * return to the pool only once played, and on another CPU.  On top of
 * that the stream's CPU must cover what the stream takes while the refill
 * worker is on its way, %AUDIO_REFILL_LATENCY_US.  So, per CPU::
 *
 *   streams_per_cpu = ceil(streams / online CPUs)
 *   refill_buffers  = ceil(rate * 1 ms / period_frames)
 *   cpu_buffers     = streams_per_cpu * (ring_entries + 1 + refill_buffers)
 *
 * The defaults (192 kHz, 2 x S24_LE, 512-frame periods of 4 KiB, 64
 * entries, 1 stream) give 1 * (64 + 1 + 1) = 66 buffers per CPU.  Nothing
 * is capped: a pool above %ATOMIC_ALLOC_MAX_CPU_BUFFERS buffers or
 * %AUDIO_POOL_CPU_BYTES_MAX bytes per CPU (in the pages it really takes on
 * this kernel: audio_pool_bytes_per_cpu()) is refused, naming the parameters that sized it.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL.
 */
int audio_sim_pool_params(const struct audio_sim_config *cfg,
			  struct device *dev, const char *name,
			  struct atomic_alloc_params *params)
{
	unsigned int frames = audio_sim_period_frames(cfg);
	unsigned int bytes = frames * audio_sim_frame_bytes(cfg);
	unsigned int per_ms = DIV_ROUND_UP(cfg->rate,
					   frames * (USEC_PER_SEC /
						     AUDIO_REFILL_LATENCY_US));
	unsigned int per_cpu = DIV_ROUND_UP(cfg->streams, num_online_cpus());
	u64 cpu_buffers = (u64)per_cpu * (cfg->ring_entries + 1 + per_ms);
	int err;

	err = cpu_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS ? -EINVAL :
	      audio_pool_params(params, dev, name, bytes, cpu_buffers,
				DMA_TO_DEVICE);
	if (err)
		pr_err("ring_entries=%u streams=%u period_frames=%u: the pool would keep %llu buffers of %u bytes (%llu KiB with %lu-byte pages) per CPU; at most %u buffers and %lu KiB\n",
		       cfg->ring_entries, cfg->streams, frames, cpu_buffers,
		       bytes,
		       (u64)audio_pool_bytes_per_cpu(bytes,
						     min_t(u64, cpu_buffers,
							   UINT_MAX)) >> 10,
		       PAGE_SIZE, ATOMIC_ALLOC_MAX_CPU_BUFFERS,
		       AUDIO_POOL_CPU_BYTES_MAX >> 10);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_pool_params);

/* ---- the signal, as the engine's callbacks ------------------------------ */

static void audio_sim_period(struct audio_stream *s, void *buf, u64 frame,
			     unsigned int frames)
{
	struct audio_sim *sim = s->priv;

	audio_sim_fill(buf, frame, frames, sim->cfg.channels, sim->cfg.format);
}

static unsigned int audio_sim_played(struct audio_stream *s, const void *buf,
				     u64 frame, unsigned int frames,
				     bool silent)
{
	struct audio_sim *sim = s->priv;

	if (silent)
		return 0;	/* the engine checked it is all zeros */
	return audio_sim_verify(buf, frame, frames, sim->cfg.channels,
				sim->cfg.format);
}

static const struct audio_stream_ops audio_sim_ops = {
	.period = audio_sim_period,
	.played = audio_sim_played,
};

/* ---- start and stop ------------------------------------------------------ */

/**
 * audio_sim_start() - start every stream
 * @sim: the streams
 *
 * Stream i's period timer is started on the (i % online CPUs)-th online
 * CPU and its DMA timer on the next one, each from an IPI on that CPU so
 * that the pinned timers stay there; its first period is delayed by
 * i/streams of a period so that the streams do not interrupt in lockstep.
 * Counters keep counting across stop/start; the signal restarts at frame
 * 0.  Starting running streams does nothing.
 *
 * Context: Process context.  Takes audio_sim.lock and the CPU hotplug lock,
 * waits for IPIs.
 * Return: 0, or the error of smp_call_function_single(); the streams are
 * stopped again in that case.
 */
int audio_sim_start(struct audio_sim *sim)
{
	unsigned int i, n;
	int err = 0;

	mutex_lock(&sim->lock);
	if (sim->running)
		goto out_unlock;

	cpus_read_lock();
	n = num_online_cpus();
	for (i = 0; i < sim->cfg.streams && !err; i++) {
		struct audio_stream *s = &sim->streams[i];
		unsigned int cpu = cpumask_nth(i % n, cpu_online_mask);
		ktime_t phase = ns_to_ktime(div_u64(ktime_to_ns(s->period) * i,
						    sim->cfg.streams));

		audio_stream_reset(s);
		err = audio_stream_arm_dma(s, audio_next_cpu(cpu));
		if (!err)
			err = audio_stream_start_on(s, cpu, phase);
	}
	cpus_read_unlock();

	if (err) {
		dev_err(sim->dev, "cannot start the streams: %d\n", err);
		for (i = 0; i < sim->cfg.streams; i++)
			audio_stream_halt(&sim->streams[i]);
		goto out_unlock;
	}
	WRITE_ONCE(sim->running, true);

out_unlock:
	mutex_unlock(&sim->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_start);

/**
 * audio_sim_stop() - stop every stream and take its buffers back
 * @sim: the streams
 *
 * Halts both timers of each stream, then frees the buffers still queued
 * on its ring back to the pool.  Safe on stopped streams, and after
 * audio_stream_period_tick() calls from a test.
 *
 * Context: Process context.  Takes audio_sim.lock, waits for running
 * timer callbacks.
 */
void audio_sim_stop(struct audio_sim *sim)
{
	unsigned int i;

	mutex_lock(&sim->lock);
	for (i = 0; i < sim->cfg.streams; i++)
		audio_stream_halt(&sim->streams[i]);
	WRITE_ONCE(sim->running, false);
	mutex_unlock(&sim->lock);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_stop);

/**
 * audio_sim_running() - are the streams started
 * @sim: the streams
 *
 * Context: Any context; a snapshot.
 * Return: true between a successful audio_sim_start() and audio_sim_stop().
 */
bool audio_sim_running(const struct audio_sim *sim)
{
	return READ_ONCE(sim->running);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_running);

/**
 * audio_sim_streams() - number of streams
 * @sim: the streams
 *
 * Context: Any context.
 * Return: the configuration's streams.
 */
unsigned int audio_sim_streams(const struct audio_sim *sim)
{
	return sim->cfg.streams;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_streams);

/**
 * audio_sim_config() - the configuration the streams run with
 * @sim: the streams
 *
 * Context: Any context.
 * Return: the configuration, period_frames resolved to a number.
 */
const struct audio_sim_config *audio_sim_config(const struct audio_sim *sim)
{
	return &sim->cfg;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_config);

/**
 * audio_sim_pool() - the pool the streams take their buffers from
 * @sim: the streams
 *
 * Context: Any context.
 * Return: the pool given to audio_sim_create().
 */
struct atomic_alloc_pool *audio_sim_pool(const struct audio_sim *sim)
{
	return sim->pool;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_pool);

/**
 * audio_sim_stream() - look a stream up by number
 * @sim: the streams
 * @index: 0 to streams - 1
 *
 * Context: Any context.
 * Return: the stream, or NULL for a bad @index.
 */
struct audio_stream *audio_sim_stream(struct audio_sim *sim,
				      unsigned int index)
{
	return index < sim->cfg.streams ? &sim->streams[index] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_stream);

/* ---- create and destroy -------------------------------------------------- */

/* Safe on half-built streams: the error path of audio_sim_create(). */
static void audio_sim_free(struct audio_sim *sim)
{
	unsigned int i;

	if (sim->streams) {
		for (i = 0; i < sim->cfg.streams; i++)
			audio_stream_destroy(&sim->streams[i]);
		kvfree(sim->streams);
	}
	if (sim->silence)
		dma_free_coherent(sim->dev,
				  audio_sim_period_frames(&sim->cfg) *
				  audio_sim_frame_bytes(&sim->cfg),
				  sim->silence, sim->silence_dma);
	mutex_destroy(&sim->lock);
	kfree(sim);
}

/**
 * audio_sim_create() - create the test-signal streams of a device
 * @dev: the device; buffers are mapped for it by @pool, the silence
 *	buffer is allocated for it here
 * @pool: an atomic_alloc pool created for @dev with DMA_TO_DEVICE and
 *	buffers of at least one period, e.g. from audio_sim_pool_params();
 *	it must outlive the streams
 * @cfg: the configuration, checked with audio_sim_check_config()
 *
 * The streams are created stopped.
 *
 * Context: Process context.  Allocates with GFP_KERNEL, may sleep.
 * Return: the streams, or an ERR_PTR(): -EINVAL for a bad @cfg or a pool
 * whose buffers are too small, -ENOMEM.
 */
struct audio_sim *audio_sim_create(struct device *dev,
				   struct atomic_alloc_pool *pool,
				   const struct audio_sim_config *cfg)
{
	unsigned int i, frames, bytes;
	struct audio_sim *sim;
	int err;

	err = audio_sim_check_config(cfg);
	if (err)
		return ERR_PTR(err);
	frames = audio_sim_period_frames(cfg);
	bytes = frames * audio_sim_frame_bytes(cfg);
	if (atomic_alloc_buf_bytes(pool) < bytes) {
		dev_err(dev, "pool buffers of %u bytes cannot hold a period of %u bytes\n",
			atomic_alloc_buf_bytes(pool), bytes);
		return ERR_PTR(-EINVAL);
	}

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return ERR_PTR(-ENOMEM);
	mutex_init(&sim->lock);
	sim->dev = dev;
	sim->pool = pool;
	sim->cfg = *cfg;
	sim->cfg.period_frames = frames;

	err = -ENOMEM;
	sim->silence = dma_alloc_coherent(dev, bytes, &sim->silence_dma,
					  GFP_KERNEL);
	if (!sim->silence)
		goto err_free;
	sim->streams = kvcalloc(cfg->streams, sizeof(*sim->streams),
				GFP_KERNEL);
	if (!sim->streams)
		goto err_free;
	for (i = 0; i < cfg->streams; i++) {
		struct audio_stream *s = &sim->streams[i];

		err = audio_stream_init(s, dev, &audio_sim_ops, sim, false,
					cfg->ring_entries);
		if (err)
			goto err_free;
		audio_stream_configure(s, pool, cfg->rate,
				       audio_sim_frame_bytes(cfg), frames, 1, 0,
				       sim->silence, sim->silence_dma);
	}

	dev_info(dev, "%u test-signal stream(s): %u Hz, %u ch, %s, %u frames (%u bytes) per period, ring %u\n",
		 cfg->streams, cfg->rate, cfg->channels,
		 audio_sim_format_name(cfg->format), frames, bytes,
		 cfg->ring_entries);
	return sim;

err_free:
	audio_sim_free(sim);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_create);

/**
 * audio_sim_destroy() - stop and free the test-signal streams
 * @sim: from audio_sim_create()
 *
 * Stops the streams (every buffer goes back to the pool), prints one
 * summary line per stream and frees the silence buffer.  The pool is the
 * caller's to destroy afterwards; debugfs files that point at the streams
 * must be gone before.
 *
 * Context: Process context; may sleep.
 */
void audio_sim_destroy(struct audio_sim *sim)
{
	struct audio_stream_stats st;
	unsigned int i;

	audio_sim_stop(sim);
	for (i = 0; i < sim->cfg.streams; i++) {
		audio_stream_get_stats(&sim->streams[i], &st);
		dev_info(sim->dev, "stream%u: cpu %u dma_cpu %u periods %llu submitted %llu completed %llu bytes_played %llu xrun_alloc %llu xrun_ring_full %llu timer_overruns %llu verify_errors %llu\n",
			 i, st.cpu, st.dma_cpu, st.periods,
			 st.buffers_submitted, st.buffers_completed,
			 st.bytes_played, st.xrun_alloc, st.xrun_ring_full,
			 st.timer_overruns, st.verify_errors);
	}
	audio_sim_free(sim);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_destroy);
