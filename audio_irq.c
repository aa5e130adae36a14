// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_audio - a simulated 24-bit PCM playback device that takes a
 * fresh DMA buffer from an atomic_alloc pool inside its hard interrupt
 *
 * The model is sound/drivers/dummy.c: an hrtimer stands in for the period
 * interrupt of the hardware.  Here it is a hard-IRQ timer (it stays one on
 * PREEMPT_RT), and the buffers are real: every one is taken from the pool in
 * the interrupt, filled with a signal that encodes frame and channel, handed
 * to a simulated DMA engine, verified sample by sample when the engine has
 * played it, and freed back to the pool from another CPU.
 *
 *   period timer, hard IRQ, CPU A           DMA timer, hard IRQ, CPU B
 *   ----------------------------------      ----------------------------------
 *   fill period_frames frames
 *   buffer full:
 *     dma_sync_single_for_device()
 *     push on the DMA ring  ----------->    oldest entry's play time passed:
 *     atomic_alloc_page(GFP_ATOMIC)           dma_sync_single_for_cpu()
 *     (NULL: the next block is silence)       verify every sample
 *                                             atomic_alloc_free()
 *
 * Concurrency rules
 *
 * - Period timer of stream i: pinned to the (i % online CPUs)-th online
 *   CPU.  It alone writes the producer half of the stream (struct
 *   audio_sim_prod: the block being filled and the producer counters) and
 *   the head of the DMA ring.
 * - DMA timer of stream i: pinned to the next online CPU (the same one when
 *   only one is online), so frees are remote frees.  It alone writes the
 *   consumer half (struct audio_sim_cons) and the tail of the ring.
 * - An hrtimer callback never runs concurrently with itself, also after CPU
 *   hotplug has migrated it, so every counter has exactly one writer.
 *   Writers use WRITE_ONCE(), readers on other CPUs (debugfs, the summary)
 *   READ_ONCE(); counters are u64 and this module is 64-bit only, so a read
 *   never tears.  A snapshot of a running stream need not add up.
 * - Process context (module init/exit, the debugfs "control" file, KUnit)
 *   starts and stops streams under audio_sim.lock.  Start resets the
 *   stream before the IPIs that arm its timers; stop cancels both timers
 *   (hrtimer_cancel() waits for a running callback) and only then takes
 *   over both halves to drain the ring and the current block back to the
 *   pool.  audio_sim_period_tick() and audio_sim_dma_tick() may be called
 *   by a test thread only while the stream's timers are stopped.
 * - Both interrupts take no lock, never sleep, allocate nothing but
 *   atomic_alloc_page() and do bounded work: a period fills at most two
 *   blocks, allocates at most two buffers and submits at most one; a DMA
 *   interrupt completes at most AUDIO_SIM_DMA_BUDGET buffers.
 * - audio_sim_stream.fail_alloc is an atomic_t: set from process context
 *   (debugfs, tests), decremented by the period interrupt.
 * - The debugfs files are removed before the streams stop and before the
 *   pool is destroyed; debugfs_remove() waits for readers and writers that
 *   are inside a file operation.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "atomic_alloc.h"
#include "audio_irq.h"
#include "dma_ring.h"

#define AUDIO_SIM_NAME		"atomic_alloc_audio"
#define AUDIO_SIM_POOL_NAME	"audio"

/* The largest buffer holds this many mono s24_3le frames. */
#define AUDIO_SIM_MAX_PERIOD_FRAMES \
	((unsigned int)(PAGE_SIZE << ATOMIC_ALLOC_MAX_ORDER) / 3)

/* Time the pool's refill worker may take to top a CPU up again. */
#define AUDIO_SIM_REFILL_LATENCY_MS	1

/* The DMA timer polls four times per buffer, within these bounds. */
#define AUDIO_SIM_DMA_POLL_MIN_NS	(20 * NSEC_PER_USEC)
#define AUDIO_SIM_DMA_POLL_MAX_NS	(10 * NSEC_PER_MSEC)

static const unsigned int audio_sim_rates[] = {
	8000, 11025, 16000, 22050, 32000, 44100, 48000,
	64000, 88200, 96000, 176400, 192000, 352800, 384000,
};

static const char * const audio_sim_format_names[] = {
	[AUDIO_SIM_S24_LE] = "s24_le",
	[AUDIO_SIM_S24_3LE] = "s24_3le",
};

/**
 * struct audio_sim_prod - producer half of a stream
 * @page:	buffer being filled; NULL while the block is silence (its
 *		allocation failed) or when no block is open.
 * @dma:	bus address of @page.
 * @open:	a block is open, silent or not.
 * @fill:	frames already in the open block.
 * @first_frame: stream frame index of the open block's first frame.
 * @next_frame:	stream frame index of the next frame to produce.
 * @last_due_ns: play-out end of the last queued block.
 * @periods:	see struct audio_sim_stats, as for the other counters.
 * @buffers_submitted: pool buffers queued.
 * @xrun_alloc:	allocation failures.
 * @alloc_injected: allocation failures forced through @fail_alloc.
 * @xrun_ring_full: blocks dropped on a full ring.
 * @timer_overruns: period interrupts lost.
 * @silence_submitted: silence blocks queued.
 * @not_hardirq: period interrupts outside hard IRQ context.
 * @handler_ns:	log2 histogram of the period interrupt's run time.
 * @alloc_ns:	log2 histogram of atomic_alloc_page() in the interrupt.
 *
 * Written by the period timer only, or by process context while both
 * timers of the stream are stopped.
 */
struct audio_sim_prod {
	struct page *page;
	dma_addr_t dma;
	bool open;
	unsigned int fill;
	u64 first_frame;
	u64 next_frame;
	u64 last_due_ns;
	u64 periods;
	u64 buffers_submitted;
	u64 xrun_alloc;
	u64 alloc_injected;
	u64 xrun_ring_full;
	u64 timer_overruns;
	u64 silence_submitted;
	u64 not_hardirq;
	u64 handler_ns[AUDIO_SIM_HIST_BUCKETS];
	u64 alloc_ns[AUDIO_SIM_HIST_BUCKETS];
};

/**
 * struct audio_sim_cons - consumer half of a stream
 * @buffers_completed: see struct audio_sim_stats, as for the others.
 * @bytes_played: audio bytes completed.
 * @verify_errors: bad samples found.
 * @silence_played: silence blocks completed.
 * @dma_overruns: DMA interrupts lost.
 * @not_hardirq: DMA interrupts outside hard IRQ context.
 *
 * Written by the DMA timer only, or by process context while both timers
 * of the stream are stopped.
 */
struct audio_sim_cons {
	u64 buffers_completed;
	u64 bytes_played;
	u64 verify_errors;
	u64 silence_played;
	u64 dma_overruns;
	u64 not_hardirq;
};

/**
 * struct audio_sim_stream - one playback stream
 * @sim:	the device.
 * @index:	stream number, the N of debugfs stream<N>.
 * @cpu:	CPU the period timer was started on.
 * @dma_cpu:	CPU the DMA timer was started on.
 * @phase:	delay added to the first expiry of both timers, so that the
 *		streams of a CPU do not all interrupt at the same instant.
 * @period_timer: the period interrupt.
 * @dma_timer:	the DMA-completion interrupt.
 * @ring:	buffers handed to the DMA engine.
 * @dir:	debugfs stream<N> directory.
 * @buffers_drained: queued pool buffers freed unplayed by a stop; written
 *		under audio_sim.lock with the timers stopped.
 * @fail_alloc:	that many of the next allocations of the period interrupt
 *		fail as if the pool were empty (debugfs fail_alloc, tests).
 * @prod:	producer half, the period timer's.
 * @cons:	consumer half, the DMA timer's.
 */
struct audio_sim_stream {
	struct audio_sim *sim;
	unsigned int index;
	unsigned int cpu;
	unsigned int dma_cpu;
	ktime_t phase;
	struct hrtimer period_timer;
	struct hrtimer dma_timer;
	struct dma_ring ring;
	struct dentry *dir;
	u64 buffers_drained;
	atomic_t fail_alloc;
	struct audio_sim_prod prod ____cacheline_aligned_in_smp;
	struct audio_sim_cons cons ____cacheline_aligned_in_smp;
};

/**
 * struct audio_sim - the simulated device
 * @dev:	device the buffers are mapped for.
 * @pool:	where every buffer comes from; owned by the caller.
 * @cfg:	the validated configuration.
 * @period_frames: frames per period interrupt (@cfg's 0 resolved).
 * @frame_bytes: bytes per frame.
 * @frames_per_buffer: whole frames in one pool buffer.
 * @buffer_bytes: bytes of audio in one pool buffer.
 * @period:	period interrupt interval, rounded up like dummy.c does.
 * @block_ns:	play-out time of one buffer.
 * @dma_poll:	DMA interrupt interval.
 * @silence:	zeroed buffer of @buffer_bytes that plays when an
 *		allocation fails; allocated at create, freed at destroy,
 *		never touched by the IRQ paths except to read it.
 * @silence_dma: bus address of @silence.
 * @lock:	serialises start, stop and destroy.
 * @running:	streams are started; written under @lock.
 * @control:	debugfs "control" file.
 * @streams:	@cfg.streams streams.
 */
struct audio_sim {
	struct device *dev;
	struct atomic_alloc_pool *pool;
	struct audio_sim_config cfg;
	unsigned int period_frames;
	unsigned int frame_bytes;
	unsigned int frames_per_buffer;
	unsigned int buffer_bytes;
	ktime_t period;
	u64 block_ns;
	ktime_t dma_poll;
	void *silence;
	dma_addr_t silence_dma;
	struct mutex lock;	/* serialises start, stop and destroy */
	bool running;
	struct dentry *control;
	struct audio_sim_stream *streams;
};

/* A counter with a single writer, read from other CPUs with READ_ONCE(). */
static inline void audio_sim_add(u64 *counter, u64 n)
{
	WRITE_ONCE(*counter, *counter + n);
}

static void audio_sim_hist_add(u64 *hist, u64 ns)
{
	unsigned int b = min_t(unsigned int, fls64(ns),
			       AUDIO_SIM_HIST_BUCKETS - 1);

	audio_sim_add(&hist[b], 1);
}

/* ---- parameters and configuration ------------------------------------ */

static int audio_sim_parse_range(const char *val, unsigned int min,
				 unsigned int max, unsigned int *out)
{
	unsigned int v;

	if (!val || kstrtouint(val, 10, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static bool audio_sim_rate_ok(unsigned int rate)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(audio_sim_rates); i++)
		if (audio_sim_rates[i] == rate)
			return true;
	return false;
}

/**
 * audio_sim_parse_rate() - parse and check the rate parameter
 * @val: text from the command line or insmod, may end in a newline
 * @out: the rate in Hz, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is one of the standard rates.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_rate(const char *val, unsigned int *out)
{
	unsigned int v;

	if (!val || kstrtouint(val, 10, &v) || !audio_sim_rate_ok(v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_rate);

/**
 * audio_sim_parse_channels() - parse and check the channels parameter
 * @val: text, may end in a newline
 * @out: channels, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 1 to %AUDIO_SIM_MAX_CHANNELS.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_channels(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 1, AUDIO_SIM_MAX_CHANNELS, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_channels);

/**
 * audio_sim_parse_format() - parse and check the format parameter
 * @val: "s24_le" or "s24_3le", may end in a newline
 * @out: the &enum audio_sim_format, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL for any other text.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_format(const char *val, unsigned int *out)
{
	int i;

	if (!val)
		return -EINVAL;
	i = sysfs_match_string(audio_sim_format_names, val);
	if (i < 0)
		return -EINVAL;
	*out = i;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_format);

/**
 * audio_sim_parse_period_frames() - parse and check period_frames
 * @val: text, may end in a newline
 * @out: frames per period (0: a whole buffer), set on success only
 *
 * Only the range that some buffer can hold is checked here;
 * audio_sim_check_config() checks it against the chosen buffer.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 0 to the frames of the largest
 * buffer.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_period_frames(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 0, AUDIO_SIM_MAX_PERIOD_FRAMES, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_period_frames);

/**
 * audio_sim_parse_order() - parse and check the order parameter
 * @val: text, may end in a newline
 * @out: the buffer order, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 0 to %ATOMIC_ALLOC_MAX_ORDER.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_order(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 0, ATOMIC_ALLOC_MAX_ORDER, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_order);

/**
 * audio_sim_parse_ring_entries() - parse and check ring_entries
 * @val: text, may end in a newline
 * @out: the ring capacity, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is a power of two from
 * %DMA_RING_MIN_ENTRIES to %DMA_RING_MAX_ENTRIES.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_ring_entries(const char *val, unsigned int *out)
{
	unsigned int v;

	if (audio_sim_parse_range(val, DMA_RING_MIN_ENTRIES,
				  DMA_RING_MAX_ENTRIES, &v) ||
	    !is_power_of_2(v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_ring_entries);

/**
 * audio_sim_parse_streams() - parse and check the streams parameter
 * @val: text, may end in a newline
 * @out: number of streams, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 1 to %AUDIO_SIM_MAX_STREAMS.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_streams(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 1, AUDIO_SIM_MAX_STREAMS, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_streams);

/**
 * audio_sim_parse_bool() - parse a boolean parameter (enable, autostart)
 * @val: what kstrtobool() accepts; NULL (a bare "name") means true
 * @out: 0 or 1, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL when kstrtobool() rejects @val.
 */
VISIBLE_IF_KUNIT
int audio_sim_parse_bool(const char *val, unsigned int *out)
{
	bool v = true;

	if (val && kstrtobool(val, &v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_bool);

/**
 * audio_sim_sample_bytes() - bytes per sample in memory
 * @format: the sample format
 *
 * Context: Any context.
 * Return: 4 for %AUDIO_SIM_S24_LE, 3 for %AUDIO_SIM_S24_3LE.
 */
VISIBLE_IF_KUNIT
unsigned int audio_sim_sample_bytes(enum audio_sim_format format)
{
	return format == AUDIO_SIM_S24_3LE ? 3 : 4;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_sample_bytes);

/**
 * audio_sim_frames_per_buffer() - whole frames one pool buffer holds
 * @cfg: a configuration whose channels, format and order are valid
 *
 * Context: Any context.
 * Return: (PAGE_SIZE << order) / (channels * bytes per sample).
 */
VISIBLE_IF_KUNIT
unsigned int audio_sim_frames_per_buffer(const struct audio_sim_config *cfg)
{
	unsigned int frame_bytes = cfg->channels *
				   audio_sim_sample_bytes(cfg->format);

	return (unsigned int)(PAGE_SIZE << cfg->order) / frame_bytes;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_frames_per_buffer);

/**
 * audio_sim_check_config() - check a whole configuration
 * @cfg: the configuration
 *
 * Checks every field on its own, as the parameter parsers do, and then
 * what only the combination decides: period_frames must fit in one buffer
 * of the chosen channels, format and order.  Says which parameters are
 * wrong with pr_err().
 *
 * Context: Any context.
 * Return: 0, or -EINVAL.
 */
VISIBLE_IF_KUNIT
int audio_sim_check_config(const struct audio_sim_config *cfg)
{
	unsigned int fpb;

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
	if (cfg->format >= ARRAY_SIZE(audio_sim_format_names)) {
		pr_err("format=%u: must be s24_le or s24_3le\n", cfg->format);
		return -EINVAL;
	}
	if (cfg->order > ATOMIC_ALLOC_MAX_ORDER) {
		pr_err("order=%u: must be 0..%u\n", cfg->order,
		       ATOMIC_ALLOC_MAX_ORDER);
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

	fpb = audio_sim_frames_per_buffer(cfg);
	if (cfg->period_frames > fpb) {
		pr_err("period_frames=%u: a buffer of channels=%u format=%s order=%u holds %u frames; must be 0..%u\n",
		       cfg->period_frames, cfg->channels,
		       audio_sim_format_names[cfg->format], cfg->order, fpb,
		       fpb);
		return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_check_config);

/**
 * audio_sim_pool_params() - size an atomic_alloc pool for a configuration
 * @cfg: a valid configuration
 * @dev: the device to map the buffers for (32-bit DMA mask)
 * @name: the pool's name
 * @params: filled in completely
 *
 * A stream keeps up to ring_entries buffers queued on its ring plus the one
 * it is filling; they return to the pool only once played, and on another
 * CPU.  On top of that the stream's CPU must cover what the stream takes
 * while the refill worker is on its way, about 1 ms.  So, per CPU::
 *
 *   streams_per_cpu = ceil(streams / online CPUs)
 *   refill_buffers  = ceil(rate * 1 ms / frames_per_buffer)
 *   cpu_buffers     = streams_per_cpu * (ring_entries + 1 + refill_buffers)
 *
 * capped at %ATOMIC_ALLOC_MAX_CPU_BUFFERS and at
 * %ATOMIC_ALLOC_MAX_CPU_BYTES of buffers.  The defaults (192 kHz, 2 x s24_le,
 * order 0: 512 frames per buffer, 64 entries, 1 stream) give
 * 1 * (64 + 1 + 1) = 66 buffers of 4 KiB per CPU.
 *
 * Context: Any context.
 */
VISIBLE_IF_KUNIT
void audio_sim_pool_params(const struct audio_sim_config *cfg,
			   struct device *dev, const char *name,
			   struct atomic_alloc_params *params)
{
	unsigned int fpb = audio_sim_frames_per_buffer(cfg);
	unsigned int refill = DIV_ROUND_UP(cfg->rate,
					   fpb * (MSEC_PER_SEC /
						  AUDIO_SIM_REFILL_LATENCY_MS));
	unsigned int per_cpu = DIV_ROUND_UP(cfg->streams, num_online_cpus()) *
			       (cfg->ring_entries + 1 + refill);
	unsigned int max = min_t(unsigned long, ATOMIC_ALLOC_MAX_CPU_BUFFERS,
				 ATOMIC_ALLOC_MAX_CPU_BYTES /
				 (PAGE_SIZE << cfg->order));

	memset(params, 0, sizeof(*params));
	params->name = name;
	params->order = cfg->order;
	params->cpu_buffers = min(per_cpu, max);
	params->dev = dev;
	params->dma_dir = DMA_TO_DEVICE;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_pool_params);

/* ---- the signal -------------------------------------------------------- */

/**
 * audio_sim_sample() - the value of one sample of the test signal
 * @frame: stream frame index
 * @channel: channel, 0 to %AUDIO_SIM_MAX_CHANNELS - 1
 *
 * Where (@frame + @channel) % 256 is 0, 1, 2 or 3 the sample is one of the
 * edge values %AUDIO_SIM_S24_MAX, %AUDIO_SIM_S24_MIN, 0 and -1.  Elsewhere
 * its 24 bits are the low 21 bits of @frame times an odd constant, then
 * the 3 bits of @channel: a bijection of (frame mod 2^21, channel), so a
 * stale, shifted or swapped sample reads back wrong, and about half the
 * values are negative.
 *
 * Context: Any context.
 * Return: a value from %AUDIO_SIM_S24_MIN to %AUDIO_SIM_S24_MAX.
 */
VISIBLE_IF_KUNIT
s32 audio_sim_sample(u64 frame, unsigned int channel)
{
	u32 code;

	switch ((frame + channel) & 0xff) {
	case 0:
		return AUDIO_SIM_S24_MAX;
	case 1:
		return AUDIO_SIM_S24_MIN;
	case 2:
		return 0;
	case 3:
		return -1;
	}
	code = ((u32)frame * 0x9e3779b1u) << 3 | (channel & 7);
	return sign_extend32(code, 23);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_sample);

/**
 * audio_sim_pack_sample() - store one sample
 * @dst: where; audio_sim_sample_bytes() bytes, any alignment
 * @format: the sample format
 * @value: the sample; only its low 24 bits are used
 *
 * Three bytes, least significant first; for %AUDIO_SIM_S24_LE a fourth,
 * most significant byte repeats bit 23 (sign extension into the 32-bit
 * container).
 *
 * Context: Any context.
 */
VISIBLE_IF_KUNIT
void audio_sim_pack_sample(u8 *dst, enum audio_sim_format format, s32 value)
{
	u32 v = value;

	dst[0] = v;
	dst[1] = v >> 8;
	dst[2] = v >> 16;
	if (format == AUDIO_SIM_S24_LE)
		dst[3] = v & BIT(23) ? 0xff : 0x00;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_pack_sample);

/**
 * audio_sim_unpack_sample() - load one sample
 * @src: audio_sim_sample_bytes() bytes, any alignment
 * @format: the sample format
 *
 * For %AUDIO_SIM_S24_3LE the 24 bits are sign-extended.  For
 * %AUDIO_SIM_S24_LE the whole 32-bit container is returned as it is, so a
 * container whose top byte does not repeat bit 23 reads back as a value
 * outside the 24-bit range and fails a comparison with the expected sample.
 *
 * Context: Any context.
 * Return: the sample.
 */
VISIBLE_IF_KUNIT
s32 audio_sim_unpack_sample(const u8 *src, enum audio_sim_format format)
{
	u32 v = src[0] | (u32)src[1] << 8 | (u32)src[2] << 16;

	if (format == AUDIO_SIM_S24_LE)
		return (s32)(v | (u32)src[3] << 24);
	return sign_extend32(v, 23);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_unpack_sample);

/**
 * audio_sim_fill() - write frames of the test signal
 * @buf: where the first frame goes
 * @first_frame: stream frame index of that frame
 * @frames: number of frames
 * @channels: samples per frame
 * @format: the sample format
 *
 * Context: Any context.  O(@frames * @channels).
 */
VISIBLE_IF_KUNIT
void audio_sim_fill(void *buf, u64 first_frame, unsigned int frames,
		    unsigned int channels, enum audio_sim_format format)
{
	unsigned int step = audio_sim_sample_bytes(format);
	unsigned int f, ch;
	u8 *p = buf;

	for (f = 0; f < frames; f++) {
		for (ch = 0; ch < channels; ch++, p += step)
			audio_sim_pack_sample(p, format,
					      audio_sim_sample(first_frame + f,
							       ch));
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_fill);

/**
 * audio_sim_verify() - check frames written by audio_sim_fill()
 * @buf: the first frame
 * @first_frame: the stream frame index it should carry
 * @frames: number of frames
 * @channels: samples per frame
 * @format: the sample format
 *
 * Context: Any context.  O(@frames * @channels).
 * Return: the number of samples that differ from the signal, 0 if none.
 */
VISIBLE_IF_KUNIT
unsigned int audio_sim_verify(const void *buf, u64 first_frame,
			      unsigned int frames, unsigned int channels,
			      enum audio_sim_format format)
{
	unsigned int step = audio_sim_sample_bytes(format);
	unsigned int f, ch, bad = 0;
	const u8 *p = buf;

	for (f = 0; f < frames; f++) {
		for (ch = 0; ch < channels; ch++, p += step)
			if (audio_sim_unpack_sample(p, format) !=
			    audio_sim_sample(first_frame + f, ch))
				bad++;
	}
	return bad;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_verify);

/* ---- the period interrupt (producer) ----------------------------------- */

/* Open the next block with a fresh buffer from the pool, or as silence. */
static void audio_sim_block_open(struct audio_sim_stream *s)
{
	struct audio_sim *sim = s->sim;
	struct audio_sim_prod *p = &s->prod;
	struct page *page;
	u64 t0;

	if (unlikely(atomic_read(&s->fail_alloc) > 0) &&
	    atomic_dec_if_positive(&s->fail_alloc) >= 0) {
		audio_sim_add(&p->alloc_injected, 1);
		page = NULL;
	} else {
		t0 = local_clock();
		page = atomic_alloc_page(sim->pool, GFP_ATOMIC);
		audio_sim_hist_add(p->alloc_ns, local_clock() - t0);
	}

	p->page = page;
	p->open = true;
	p->fill = 0;
	p->first_frame = p->next_frame;
	if (page)
		p->dma = atomic_alloc_dma_addr(sim->pool, page);
	else
		audio_sim_add(&p->xrun_alloc, 1);
}

/*
 * The open block is full: queue it for the DMA engine.  Blocks play back to
 * back, so it is due one buffer time after the later of the previous
 * block's end and now.  On a full ring the block is dropped and a pool
 * buffer is kept to carry the frames that follow; the block stays open.
 */
static void audio_sim_block_submit(struct audio_sim_stream *s, u64 now_ns)
{
	struct audio_sim *sim = s->sim;
	struct audio_sim_prod *p = &s->prod;
	struct dma_ring_entry *e;

	e = dma_ring_next_free(&s->ring);
	if (!e) {
		audio_sim_add(&p->xrun_ring_full, 1);
		p->fill = 0;
		p->first_frame = p->next_frame;
		/* A silent block retries the allocation for the next one. */
		if (!p->page)
			p->open = false;
		return;
	}

	p->last_due_ns = max(p->last_due_ns, now_ns) + sim->block_ns;
	e->page = p->page;
	e->bytes = sim->buffer_bytes;
	e->frames = sim->frames_per_buffer;
	e->first_frame = p->first_frame;
	e->due_ns = p->last_due_ns;
	if (p->page) {
		e->dma = p->dma;
		dma_sync_single_for_device(sim->dev, p->dma, sim->buffer_bytes,
					   DMA_TO_DEVICE);
		audio_sim_add(&p->buffers_submitted, 1);
	} else {
		e->dma = sim->silence_dma;
		audio_sim_add(&p->silence_submitted, 1);
	}
	dma_ring_push(&s->ring);

	p->page = NULL;
	p->open = false;
}

/**
 * audio_sim_period_tick() - the work of one period interrupt
 * @s: the stream
 * @now_ns: CLOCK_MONOTONIC now, in ns
 *
 * Writes the period's frames into the open block; when the block is full,
 * submits it and opens the next one with atomic_alloc_page().  A period
 * never spans more than two blocks because period_frames is at most a
 * buffer.
 *
 * Context: The stream's period interrupt (hard IRQ), or a test thread while
 * both timers of the stream are stopped.  No lock, no sleep.
 */
VISIBLE_IF_KUNIT
void audio_sim_period_tick(struct audio_sim_stream *s, u64 now_ns)
{
	struct audio_sim *sim = s->sim;
	struct audio_sim_prod *p = &s->prod;
	unsigned int left = sim->period_frames;

	audio_sim_add(&p->periods, 1);
	while (left) {
		unsigned int n;

		if (!p->open)
			audio_sim_block_open(s);
		n = min(left, sim->frames_per_buffer - p->fill);
		if (p->page)
			audio_sim_fill(page_address(p->page) +
				       p->fill * sim->frame_bytes,
				       p->next_frame, n, sim->cfg.channels,
				       sim->cfg.format);
		p->fill += n;
		p->next_frame += n;
		left -= n;

		if (p->fill == sim->frames_per_buffer) {
			audio_sim_block_submit(s, now_ns);
			/* The fresh buffer for the next block, in the IRQ. */
			if (!p->open)
				audio_sim_block_open(s);
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_period_tick);

static enum hrtimer_restart audio_sim_period_irq(struct hrtimer *timer)
{
	struct audio_sim_stream *s = container_of(timer, struct audio_sim_stream,
						  period_timer);
	struct audio_sim_prod *p = &s->prod;
	u64 t0 = local_clock();
	u64 missed;

	if (!in_hardirq())
		audio_sim_add(&p->not_hardirq, 1);
	missed = hrtimer_forward_now(timer, s->sim->period);
	if (missed > 1)
		audio_sim_add(&p->timer_overruns, missed - 1);

	audio_sim_period_tick(s, ktime_get_ns());

	audio_sim_hist_add(p->handler_ns, local_clock() - t0);
	return HRTIMER_RESTART;
}

/* ---- the DMA engine (consumer) ----------------------------------------- */

static void audio_sim_complete(struct audio_sim_stream *s,
			       const struct dma_ring_entry *e)
{
	struct audio_sim *sim = s->sim;
	struct audio_sim_cons *c = &s->cons;
	unsigned int bad;

	if (!e->page) {
		if (memchr_inv(sim->silence, 0, e->bytes))
			audio_sim_add(&c->verify_errors, 1);
		audio_sim_add(&c->silence_played, 1);
		return;
	}

	dma_sync_single_for_cpu(sim->dev, e->dma, e->bytes, DMA_TO_DEVICE);
	bad = audio_sim_verify(page_address(e->page), e->first_frame,
			       e->frames, sim->cfg.channels, sim->cfg.format);
	atomic_alloc_free(sim->pool, e->page);

	if (bad)
		audio_sim_add(&c->verify_errors, bad);
	audio_sim_add(&c->buffers_completed, 1);
	audio_sim_add(&c->bytes_played, e->bytes);
}

/**
 * audio_sim_dma_tick() - the work of one DMA-completion interrupt
 * @s: the stream
 * @now_ns: CLOCK_MONOTONIC now, in ns
 *
 * Completes, oldest first, the queued blocks that have finished playing by
 * @now_ns, at most %AUDIO_SIM_DMA_BUDGET of them: syncs each buffer for the
 * CPU, verifies every sample, frees it to the pool.
 *
 * Context: The stream's DMA interrupt (hard IRQ), or a test thread while
 * both timers of the stream are stopped.  No lock, no sleep.
 */
VISIBLE_IF_KUNIT
void audio_sim_dma_tick(struct audio_sim_stream *s, u64 now_ns)
{
	const struct dma_ring_entry *e;
	unsigned int budget;

	for (budget = AUDIO_SIM_DMA_BUDGET; budget; budget--) {
		e = dma_ring_oldest(&s->ring);
		if (!e || e->due_ns > now_ns)
			break;
		audio_sim_complete(s, e);
		dma_ring_pop(&s->ring);
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_dma_tick);

static enum hrtimer_restart audio_sim_dma_irq(struct hrtimer *timer)
{
	struct audio_sim_stream *s = container_of(timer, struct audio_sim_stream,
						  dma_timer);
	struct audio_sim_cons *c = &s->cons;
	u64 missed;

	if (!in_hardirq())
		audio_sim_add(&c->not_hardirq, 1);
	missed = hrtimer_forward_now(timer, s->sim->dma_poll);
	if (missed > 1)
		audio_sim_add(&c->dma_overruns, missed - 1);

	audio_sim_dma_tick(s, ktime_get_ns());
	return HRTIMER_RESTART;
}

/* ---- start and stop ----------------------------------------------------- */

/* Both run on the target CPU, from an IPI, with interrupts disabled. */
static void audio_sim_arm_period(void *arg)
{
	struct audio_sim_stream *s = arg;

	hrtimer_start(&s->period_timer, ktime_add(s->sim->period, s->phase),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void audio_sim_arm_dma(void *arg)
{
	struct audio_sim_stream *s = arg;

	hrtimer_start(&s->dma_timer, ktime_add(s->sim->dma_poll, s->phase),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/* Timers stopped: give every buffer the stream holds back to the pool. */
static void audio_sim_stream_drain(struct audio_sim_stream *s)
{
	struct audio_sim *sim = s->sim;
	struct audio_sim_prod *p = &s->prod;
	const struct dma_ring_entry *e;

	while ((e = dma_ring_oldest(&s->ring))) {
		if (e->page) {
			dma_sync_single_for_cpu(sim->dev, e->dma, e->bytes,
						DMA_TO_DEVICE);
			atomic_alloc_free(sim->pool, e->page);
			audio_sim_add(&s->buffers_drained, 1);
		}
		dma_ring_pop(&s->ring);
	}
	/* Never synced for the device, so nothing to sync back. */
	if (p->page)
		atomic_alloc_free(sim->pool, p->page);
	p->page = NULL;
	p->open = false;
}

static void audio_sim_stream_halt(struct audio_sim_stream *s)
{
	hrtimer_cancel(&s->period_timer);
	hrtimer_cancel(&s->dma_timer);
	audio_sim_stream_drain(s);
}

/* Timers stopped: a new run starts at frame 0 on an empty ring. */
static void audio_sim_stream_reset(struct audio_sim_stream *s)
{
	struct audio_sim_prod *p = &s->prod;

	dma_ring_reset(&s->ring);
	p->page = NULL;
	p->open = false;
	p->fill = 0;
	p->first_frame = 0;
	p->next_frame = 0;
	p->last_due_ns = 0;
}

/**
 * audio_sim_start() - start every stream
 * @sim: the device
 *
 * Stream i's period timer is started on the (i % online CPUs)-th online
 * CPU and its DMA timer on the next one, each from an IPI on that CPU so
 * that the pinned timers stay there; its first period is delayed by
 * i/streams of a period so that the streams do not interrupt in lockstep.
 * Counters keep counting across stop/start; the signal restarts at frame
 * 0.  Starting a running device does nothing.
 *
 * Context: Process context.  Takes audio_sim.lock and the CPU hotplug lock,
 * waits for IPIs.
 * Return: 0, or the error of smp_call_function_single(); the streams are
 * stopped again in that case.
 */
VISIBLE_IF_KUNIT
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
		struct audio_sim_stream *s = &sim->streams[i];

		audio_sim_stream_reset(s);
		/* Stream i starts i/streams of a period late. */
		s->phase = ns_to_ktime(div_u64(ktime_to_ns(sim->period) * i,
					       sim->cfg.streams));
		WRITE_ONCE(s->cpu, cpumask_nth(i % n, cpu_online_mask));
		WRITE_ONCE(s->dma_cpu,
			   cpumask_nth((i + 1) % n, cpu_online_mask));
		err = smp_call_function_single(s->dma_cpu, audio_sim_arm_dma,
					       s, 1);
		if (!err)
			err = smp_call_function_single(s->cpu,
						       audio_sim_arm_period,
						       s, 1);
	}
	cpus_read_unlock();

	if (err) {
		dev_err(sim->dev, "cannot start the streams: %d\n", err);
		for (i = 0; i < sim->cfg.streams; i++)
			audio_sim_stream_halt(&sim->streams[i]);
		goto out_unlock;
	}
	WRITE_ONCE(sim->running, true);

out_unlock:
	mutex_unlock(&sim->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_start);

/**
 * audio_sim_stop() - stop every stream and return its buffers
 * @sim: the device
 *
 * Cancels both timers of each stream, then frees the buffers still queued
 * on its ring and the block it was filling back to the pool.  Safe on a
 * stopped device, and after audio_sim_period_tick() calls from a test.
 *
 * Context: Process context.  Takes audio_sim.lock, waits for running
 * timer callbacks.
 */
VISIBLE_IF_KUNIT
void audio_sim_stop(struct audio_sim *sim)
{
	unsigned int i;

	mutex_lock(&sim->lock);
	for (i = 0; i < sim->cfg.streams; i++)
		audio_sim_stream_halt(&sim->streams[i]);
	WRITE_ONCE(sim->running, false);
	mutex_unlock(&sim->lock);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_stop);

/* ---- statistics and debugfs --------------------------------------------- */

/**
 * audio_sim_stream() - look a stream up by number
 * @sim: the device
 * @index: 0 to streams - 1
 *
 * Context: Any context.
 * Return: the stream, or NULL for a bad @index.
 */
VISIBLE_IF_KUNIT
struct audio_sim_stream *
audio_sim_stream(struct audio_sim *sim, unsigned int index)
{
	return index < sim->cfg.streams ? &sim->streams[index] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_stream);

/**
 * audio_sim_get_stats() - snapshot a stream's counters
 * @s: the stream
 * @stats: filled in
 *
 * Context: Any context, from any CPU, while the stream runs or not.
 */
VISIBLE_IF_KUNIT
void audio_sim_get_stats(struct audio_sim_stream *s,
			 struct audio_sim_stats *stats)
{
	const struct audio_sim_prod *p = &s->prod;
	const struct audio_sim_cons *c = &s->cons;

	stats->periods = READ_ONCE(p->periods);
	stats->buffers_submitted = READ_ONCE(p->buffers_submitted);
	stats->xrun_alloc = READ_ONCE(p->xrun_alloc);
	stats->alloc_injected = READ_ONCE(p->alloc_injected);
	stats->xrun_ring_full = READ_ONCE(p->xrun_ring_full);
	stats->timer_overruns = READ_ONCE(p->timer_overruns);
	stats->silence_submitted = READ_ONCE(p->silence_submitted);
	stats->buffers_completed = READ_ONCE(c->buffers_completed);
	stats->bytes_played = READ_ONCE(c->bytes_played);
	stats->verify_errors = READ_ONCE(c->verify_errors);
	stats->silence_played = READ_ONCE(c->silence_played);
	stats->dma_overruns = READ_ONCE(c->dma_overruns);
	stats->not_hardirq = READ_ONCE(p->not_hardirq) +
			     READ_ONCE(c->not_hardirq);
	stats->buffers_drained = READ_ONCE(s->buffers_drained);
	stats->ring_used = dma_ring_count(&s->ring);
	stats->cpu = READ_ONCE(s->cpu);
	stats->dma_cpu = READ_ONCE(s->dma_cpu);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_get_stats);

/**
 * audio_sim_get_hist() - snapshot one of a stream's histograms
 * @s: the stream
 * @which: %AUDIO_SIM_HIST_HANDLER or %AUDIO_SIM_HIST_ALLOC
 * @hist: %AUDIO_SIM_HIST_BUCKETS counts; bucket b counts durations from
 *	2^(b-1) to 2^b - 1 ns (bucket 0: 0 ns), the last one everything
 *	longer too
 *
 * Context: Any context, from any CPU.
 */
VISIBLE_IF_KUNIT
void audio_sim_get_hist(struct audio_sim_stream *s, enum audio_sim_hist which,
			u64 hist[AUDIO_SIM_HIST_BUCKETS])
{
	const u64 *src = which == AUDIO_SIM_HIST_ALLOC ? s->prod.alloc_ns :
							 s->prod.handler_ns;
	unsigned int b;

	for (b = 0; b < AUDIO_SIM_HIST_BUCKETS; b++)
		hist[b] = READ_ONCE(src[b]);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_get_hist);

/**
 * audio_sim_inject_alloc_failures() - make the next allocations fail
 * @s: the stream
 * @n: how many of the stream's next atomic_alloc_page() calls are skipped
 *	as if they had returned NULL; replaces what is left of an earlier
 *	request; 0 cancels
 *
 * The stream then plays silence and counts xrun_alloc (and
 * alloc_injected), exactly as on a real failure, and recovers by itself.
 *
 * Context: Any context.
 */
VISIBLE_IF_KUNIT
void audio_sim_inject_alloc_failures(struct audio_sim_stream *s,
				     unsigned int n)
{
	atomic_set(&s->fail_alloc, min_t(unsigned int, n, INT_MAX));
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_inject_alloc_failures);

static int audio_sim_fail_alloc_get(void *data, u64 *val)
{
	struct audio_sim_stream *s = data;

	*val = atomic_read(&s->fail_alloc);
	return 0;
}

static int audio_sim_fail_alloc_set(void *data, u64 val)
{
	audio_sim_inject_alloc_failures(data, min_t(u64, val, INT_MAX));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(audio_sim_fail_alloc_fops, audio_sim_fail_alloc_get,
			 audio_sim_fail_alloc_set, "%llu\n");

static int audio_sim_stats_show(struct seq_file *m, void *v)
{
	struct audio_sim_stream *s = m->private;
	struct audio_sim *sim = s->sim;
	struct audio_sim_stats st;

	audio_sim_get_stats(s, &st);
	seq_printf(m, "periods: %llu\n", st.periods);
	seq_printf(m, "buffers_submitted: %llu\n", st.buffers_submitted);
	seq_printf(m, "buffers_completed: %llu\n", st.buffers_completed);
	seq_printf(m, "bytes_played: %llu\n", st.bytes_played);
	seq_printf(m, "xrun_alloc: %llu\n", st.xrun_alloc);
	seq_printf(m, "alloc_injected: %llu\n", st.alloc_injected);
	seq_printf(m, "xrun_ring_full: %llu\n", st.xrun_ring_full);
	seq_printf(m, "timer_overruns: %llu\n", st.timer_overruns);
	seq_printf(m, "verify_errors: %llu\n", st.verify_errors);
	seq_printf(m, "silence_submitted: %llu\n", st.silence_submitted);
	seq_printf(m, "silence_played: %llu\n", st.silence_played);
	seq_printf(m, "buffers_drained: %llu\n", st.buffers_drained);
	seq_printf(m, "dma_overruns: %llu\n", st.dma_overruns);
	seq_printf(m, "not_hardirq: %llu\n", st.not_hardirq);
	seq_printf(m, "ring_used: %u\n", st.ring_used);
	seq_printf(m, "cpu: %u\n", st.cpu);
	seq_printf(m, "dma_cpu: %u\n", st.dma_cpu);
	seq_printf(m, "rate: %u\n", sim->cfg.rate);
	seq_printf(m, "channels: %u\n", sim->cfg.channels);
	seq_printf(m, "format: %s\n", audio_sim_format_names[sim->cfg.format]);
	seq_printf(m, "period_frames: %u\n", sim->period_frames);
	seq_printf(m, "period_ns: %lld\n", ktime_to_ns(sim->period));
	seq_printf(m, "frames_per_buffer: %u\n", sim->frames_per_buffer);
	seq_printf(m, "buffer_bytes: %u\n", sim->buffer_bytes);
	seq_printf(m, "buffer_ns: %llu\n", sim->block_ns);
	seq_printf(m, "ring_entries: %u\n", sim->cfg.ring_entries);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_sim_stats);

/* One "from-to: count" line per bucket, first to last non-empty one. */
static void audio_sim_hist_show(struct seq_file *m, enum audio_sim_hist which)
{
	u64 hist[AUDIO_SIM_HIST_BUCKETS];
	int b, first = -1, last = -1;

	audio_sim_get_hist(m->private, which, hist);
	for (b = 0; b < AUDIO_SIM_HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
	}
	for (b = first; first >= 0 && b <= last; b++) {
		u64 lo = b ? 1ULL << (b - 1) : 0;

		if (b == AUDIO_SIM_HIST_BUCKETS - 1)
			seq_printf(m, "%llu-inf: %llu\n", lo, hist[b]);
		else
			seq_printf(m, "%llu-%llu: %llu\n", lo,
				   b ? (1ULL << b) - 1 : 0, hist[b]);
	}
}

static int audio_sim_handler_ns_show(struct seq_file *m, void *v)
{
	audio_sim_hist_show(m, AUDIO_SIM_HIST_HANDLER);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_sim_handler_ns);

static int audio_sim_alloc_ns_show(struct seq_file *m, void *v)
{
	audio_sim_hist_show(m, AUDIO_SIM_HIST_ALLOC);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_sim_alloc_ns);

static ssize_t audio_sim_control_read(struct file *file, char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct audio_sim *sim = file->private_data;
	const char *state = READ_ONCE(sim->running) ? "running\n" :
						       "stopped\n";

	return simple_read_from_buffer(ubuf, count, ppos, state,
				       strlen(state));
}

static ssize_t audio_sim_control_write(struct file *file,
				       const char __user *ubuf, size_t count,
				       loff_t *ppos)
{
	struct audio_sim *sim = file->private_data;
	char buf[8];
	int err = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	if (sysfs_streq(buf, "start"))
		err = audio_sim_start(sim);
	else if (sysfs_streq(buf, "stop"))
		audio_sim_stop(sim);
	else
		err = -EINVAL;
	return err ? err : count;
}

static const struct file_operations audio_sim_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = audio_sim_control_read,
	.write = audio_sim_control_write,
	.llseek = default_llseek,
};

static void audio_sim_debugfs_init(struct audio_sim *sim)
{
	struct dentry *root = atomic_alloc_debugfs_dir(sim->pool);
	unsigned int i;
	char name[24];

	/* Without the pool's directory, nothing: never the debugfs root. */
	if (IS_ERR_OR_NULL(root))
		return;

	sim->control = debugfs_create_file("control", 0644, root, sim,
					   &audio_sim_control_fops);
	for (i = 0; i < sim->cfg.streams; i++) {
		struct audio_sim_stream *s = audio_sim_stream(sim, i);

		snprintf(name, sizeof(name), "stream%u", i);
		s->dir = debugfs_create_dir(name, root);
		debugfs_create_file("stats", 0444, s->dir, s,
				    &audio_sim_stats_fops);
		debugfs_create_file("handler_ns", 0444, s->dir, s,
				    &audio_sim_handler_ns_fops);
		debugfs_create_file("alloc_ns", 0444, s->dir, s,
				    &audio_sim_alloc_ns_fops);
		debugfs_create_file_unsafe("fail_alloc", 0644, s->dir, s,
					   &audio_sim_fail_alloc_fops);
	}
}

/* Waits for file operations in progress; the pool's directory stays. */
static void audio_sim_debugfs_remove(struct audio_sim *sim)
{
	unsigned int i;

	debugfs_remove(sim->control);
	sim->control = NULL;
	for (i = 0; i < sim->cfg.streams; i++) {
		debugfs_remove(sim->streams[i].dir);
		sim->streams[i].dir = NULL;
	}
}

/* ---- create and destroy ------------------------------------------------- */

/* Safe on a half-built device: the error path of audio_sim_create(). */
static void audio_sim_free(struct audio_sim *sim)
{
	unsigned int i;

	if (sim->streams) {
		for (i = 0; i < sim->cfg.streams; i++)
			dma_ring_destroy(&sim->streams[i].ring);
		kvfree(sim->streams);
	}
	if (sim->silence)
		dma_free_coherent(sim->dev, sim->buffer_bytes, sim->silence,
				  sim->silence_dma);
	mutex_destroy(&sim->lock);
	kfree(sim);
}

/**
 * audio_sim_create() - create the streams of a simulated device
 * @dev: the device; buffers are mapped for it by @pool, the silence
 *	buffer is allocated for it here
 * @pool: an atomic_alloc pool created for @dev with DMA_TO_DEVICE and the
 *	order of @cfg, e.g. from audio_sim_pool_params(); it must outlive the
 *	device
 * @cfg: the configuration, checked with audio_sim_check_config()
 *
 * The streams are created stopped.  Their debugfs files go into the pool's
 * directory.
 *
 * Context: Process context.  Allocates with GFP_KERNEL, may sleep.
 * Return: the device, or an ERR_PTR(): -EINVAL for a bad @cfg, -ENOMEM.
 */
VISIBLE_IF_KUNIT
struct audio_sim *audio_sim_create(struct device *dev,
				   struct atomic_alloc_pool *pool,
				   const struct audio_sim_config *cfg)
{
	struct audio_sim *sim;
	unsigned int i;
	u64 poll_ns;
	int err;

	err = audio_sim_check_config(cfg);
	if (err)
		return ERR_PTR(err);

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return ERR_PTR(-ENOMEM);
	mutex_init(&sim->lock);
	sim->dev = dev;
	sim->pool = pool;
	sim->cfg = *cfg;
	sim->frame_bytes = cfg->channels * audio_sim_sample_bytes(cfg->format);
	sim->frames_per_buffer = audio_sim_frames_per_buffer(cfg);
	sim->buffer_bytes = sim->frames_per_buffer * sim->frame_bytes;
	sim->period_frames = cfg->period_frames ?: sim->frames_per_buffer;
	sim->period = ns_to_ktime(DIV_ROUND_UP_ULL((u64)sim->period_frames *
						   NSEC_PER_SEC, cfg->rate));
	sim->block_ns = div_u64((u64)sim->frames_per_buffer * NSEC_PER_SEC,
				cfg->rate);
	poll_ns = clamp_t(u64, sim->block_ns / 4, AUDIO_SIM_DMA_POLL_MIN_NS,
			  AUDIO_SIM_DMA_POLL_MAX_NS);
	sim->dma_poll = ns_to_ktime(poll_ns);

	err = -ENOMEM;
	sim->silence = dma_alloc_coherent(dev, sim->buffer_bytes,
					  &sim->silence_dma, GFP_KERNEL);
	if (!sim->silence)
		goto err_free;

	sim->streams = kvcalloc(cfg->streams, sizeof(*sim->streams),
				GFP_KERNEL);
	if (!sim->streams)
		goto err_free;
	for (i = 0; i < cfg->streams; i++) {
		struct audio_sim_stream *s = &sim->streams[i];

		s->sim = sim;
		s->index = i;
		atomic_set(&s->fail_alloc, 0);
		hrtimer_init(&s->period_timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		s->period_timer.function = audio_sim_period_irq;
		hrtimer_init(&s->dma_timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		s->dma_timer.function = audio_sim_dma_irq;
		err = dma_ring_init(&s->ring, cfg->ring_entries);
		if (err)
			goto err_free;
	}

	audio_sim_debugfs_init(sim);
	dev_info(dev, "%u stream(s): %u Hz, %u ch, %s, %u frames (%u bytes) per buffer, %u frames per period (%lld ns), ring %u\n",
		 cfg->streams, cfg->rate, cfg->channels,
		 audio_sim_format_names[cfg->format], sim->frames_per_buffer,
		 sim->buffer_bytes, sim->period_frames,
		 ktime_to_ns(sim->period), cfg->ring_entries);
	return sim;

err_free:
	audio_sim_free(sim);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_create);

/**
 * audio_sim_destroy() - stop and free a simulated device
 * @sim: from audio_sim_create()
 *
 * Removes the debugfs files, stops the streams (every buffer goes back to
 * the pool), prints one summary line per stream and frees the silence
 * buffer.  The pool is the caller's to destroy afterwards.
 *
 * Context: Process context; may sleep.
 */
VISIBLE_IF_KUNIT
void audio_sim_destroy(struct audio_sim *sim)
{
	struct audio_sim_stats st;
	unsigned int i;

	audio_sim_debugfs_remove(sim);
	audio_sim_stop(sim);
	for (i = 0; i < sim->cfg.streams; i++) {
		audio_sim_get_stats(audio_sim_stream(sim, i), &st);
		dev_info(sim->dev, "stream%u: cpu %u dma_cpu %u periods %llu submitted %llu completed %llu bytes_played %llu xrun_alloc %llu xrun_ring_full %llu timer_overruns %llu verify_errors %llu\n",
			 i, st.cpu, st.dma_cpu, st.periods,
			 st.buffers_submitted, st.buffers_completed,
			 st.bytes_played, st.xrun_alloc, st.xrun_ring_full,
			 st.timer_overruns, st.verify_errors);
	}
	audio_sim_free(sim);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_destroy);

/* ---- module parameters and the platform device -------------------------- */

static unsigned int param_rate = 192000;
static unsigned int param_channels = 2;
static unsigned int param_format = AUDIO_SIM_S24_LE;
static unsigned int param_period_frames;
static unsigned int param_order;
static unsigned int param_ring_entries = 64;
static unsigned int param_streams = 1;
static unsigned int param_autostart;
static unsigned int param_enable = 1;

static const char * const audio_sim_bool_names[] = { "N", "Y" };

/**
 * struct audio_sim_param - how to parse, check and print one parameter
 * @value:	where the value lives.
 * @parse:	parser and checker, one of the audio_sim_parse_*().
 * @allowed:	what the error message says is allowed.
 * @max:	when non-zero, printed after @allowed.
 * @names:	print names[value] instead of the number, or NULL.
 */
struct audio_sim_param {
	unsigned int *value;
	int (*parse)(const char *val, unsigned int *out);
	const char *allowed;
	unsigned int max;
	const char * const *names;
};

static int audio_sim_param_set(const char *val, const struct kernel_param *kp)
{
	const struct audio_sim_param *p = kp->arg;
	unsigned int v;

	if (p->parse(val, &v)) {
		if (p->max)
			pr_err("invalid %s=%s: must be %s%u\n", kp->name,
			       val ?: "", p->allowed, p->max);
		else
			pr_err("invalid %s=%s: must be %s\n", kp->name,
			       val ?: "", p->allowed);
		return -EINVAL;
	}
	*p->value = v;
	return 0;
}

static int audio_sim_param_get(char *buffer, const struct kernel_param *kp)
{
	const struct audio_sim_param *p = kp->arg;

	if (p->names)
		return scnprintf(buffer, PAGE_SIZE, "%s\n",
				 p->names[*p->value]);
	return scnprintf(buffer, PAGE_SIZE, "%u\n", *p->value);
}

static const struct kernel_param_ops audio_sim_param_ops = {
	.set = audio_sim_param_set,
	.get = audio_sim_param_get,
};

/* A read-only parameter with a checking parser, see audio_sim_param_set(). */
#define AUDIO_SIM_PARAM(_name, _parse, _allowed, _max, _names)		\
	static struct audio_sim_param audio_sim_param_##_name = {	\
		.value = &param_##_name,				\
		.parse = _parse,					\
		.allowed = _allowed,					\
		.max = _max,						\
		.names = _names,					\
	};								\
	module_param_cb(_name, &audio_sim_param_ops,			\
			&audio_sim_param_##_name, 0444)

AUDIO_SIM_PARAM(rate, audio_sim_parse_rate,
		"one of 8000 11025 16000 22050 32000 44100 48000 64000 88200 96000 176400 192000 352800 384000",
		0, NULL);
MODULE_PARM_DESC(rate,
		 "Sample rate in Hz: 8000 11025 16000 22050 32000 44100 48000 64000 88200 96000 176400 192000 352800 or 384000 (default 192000)");

AUDIO_SIM_PARAM(channels, audio_sim_parse_channels, "1..8", 0, NULL);
MODULE_PARM_DESC(channels, "Samples per frame, 1..8 (default 2)");

AUDIO_SIM_PARAM(format, audio_sim_parse_format, "s24_le or s24_3le", 0,
		audio_sim_format_names);
MODULE_PARM_DESC(format,
		 "Sample format: s24_le (24 bits in 4 bytes, sign-extended) or s24_3le (24 bits in 3 bytes) (default s24_le)");

AUDIO_SIM_PARAM(period_frames, audio_sim_parse_period_frames,
		"frames per period, 0 (one whole buffer) to ",
		AUDIO_SIM_MAX_PERIOD_FRAMES, NULL);
MODULE_PARM_DESC(period_frames,
		 "Frames per period interrupt, 0..frames in one buffer; 0 = one whole buffer, an allocation per interrupt; 1 = an interrupt per frame (default 0)");

AUDIO_SIM_PARAM(order, audio_sim_parse_order, "0..", ATOMIC_ALLOC_MAX_ORDER,
		NULL);
MODULE_PARM_DESC(order, "DMA buffer size, 2^order pages, 0..5 (default 0)");

AUDIO_SIM_PARAM(ring_entries, audio_sim_parse_ring_entries,
		"a power of two, 2..4096", 0, NULL);
MODULE_PARM_DESC(ring_entries,
		 "DMA ring depth in buffers, a power of two 2..4096 (default 64)");

AUDIO_SIM_PARAM(streams, audio_sim_parse_streams, "1..64", 0, NULL);
MODULE_PARM_DESC(streams,
		 "Independent streams, stream i on the (i % CPUs)-th online CPU, 1..64 (default 1)");

AUDIO_SIM_PARAM(autostart, audio_sim_parse_bool, "a boolean (y/n/1/0)", 0,
		audio_sim_bool_names);
MODULE_PARM_DESC(autostart,
		 "Start streaming at load, else write start to atomic_alloc/audio/control in debugfs (default N)");

AUDIO_SIM_PARAM(enable, audio_sim_parse_bool, "a boolean (y/n/1/0)", 0,
		audio_sim_bool_names);
MODULE_PARM_DESC(enable, "Create the device at load (default Y)");

static struct platform_device *audio_sim_pdev;
static struct atomic_alloc_pool *audio_sim_pool;
static struct audio_sim *audio_sim_dev;

static int __init audio_sim_init(void)
{
	const struct audio_sim_config cfg = {
		.rate = param_rate,
		.channels = param_channels,
		.format = param_format,
		.period_frames = param_period_frames,
		.order = param_order,
		.ring_entries = param_ring_entries,
		.streams = param_streams,
	};
	struct atomic_alloc_params params;
	struct platform_device *pdev;
	struct atomic_alloc_pool *pool;
	struct audio_sim *sim;
	int err;

	err = audio_sim_check_config(&cfg);
	if (err)
		return err;
	if (!param_enable) {
		pr_info("enable=0: no device created\n");
		return 0;
	}

	pdev = platform_device_register_simple(AUDIO_SIM_NAME,
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	err = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (err)
		goto err_unregister;

	audio_sim_pool_params(&cfg, &pdev->dev, AUDIO_SIM_POOL_NAME, &params);
	pool = atomic_alloc_create(&params);
	if (IS_ERR(pool)) {
		err = PTR_ERR(pool);
		goto err_unregister;
	}

	sim = audio_sim_create(&pdev->dev, pool, &cfg);
	if (IS_ERR(sim)) {
		err = PTR_ERR(sim);
		goto err_destroy_pool;
	}
	dev_info(&pdev->dev, "pool \"%s\": %u buffers of %lu bytes per CPU\n",
		 params.name, params.cpu_buffers, PAGE_SIZE << params.order);

	if (param_autostart) {
		err = audio_sim_start(sim);
		if (err)
			goto err_destroy_sim;
	}

	audio_sim_pdev = pdev;
	audio_sim_pool = pool;
	audio_sim_dev = sim;
	return 0;

err_destroy_sim:
	audio_sim_destroy(sim);
err_destroy_pool:
	atomic_alloc_destroy(pool);
err_unregister:
	platform_device_unregister(pdev);
	return err;
}
module_init(audio_sim_init);

static void __exit audio_sim_exit(void)
{
	struct atomic_alloc_stats st;

	if (!audio_sim_pdev)
		return;

	audio_sim_destroy(audio_sim_dev);
	atomic_alloc_get_stats(audio_sim_pool, &st);
	dev_info(&audio_sim_pdev->dev, "pool: alloc_local %llu alloc_remote %llu alloc_failed %llu freed %llu outstanding %llu\n",
		 st.alloc_local, st.alloc_remote, st.alloc_failed, st.freed,
		 st.outstanding);
	if (st.outstanding)
		dev_err(&audio_sim_pdev->dev,
			"%llu buffers not returned to the pool\n",
			st.outstanding);
	atomic_alloc_destroy(audio_sim_pool);
	platform_device_unregister(audio_sim_pdev);
}
module_exit(audio_sim_exit);

MODULE_DESCRIPTION("Simulated 24-bit PCM playback device allocating DMA buffers from atomic_alloc in hard IRQ");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
