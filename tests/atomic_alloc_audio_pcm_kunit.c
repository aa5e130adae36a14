// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite atomic_alloc_audio_pcm: the ALSA card of atomic_alloc_audio
 * (audio_pcm.c) and the loop behind it (audio_loop.c).
 *
 * Concurrency: the copy, pointer and loop cases run in the test thread
 * alone and play both ends of a loop themselves.  The constraint cases
 * open substreams of a real card (snd_pcm_open_substream(), as the OSS
 * emulation does) and ask ALSA's own hw_params for each configuration.
 * audio_pcm_test_loopback plays through the card while a kthread captures,
 * with the real hard-IRQ period interrupts and deferred notifications; the
 * test thread asserts once both are done and the streams are stopped.
 *
 * Every card, substream and thread is released by a KUnit action, in
 * reverse order of creation, also when an assertion ends a case early.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <sound/core.h>
#include <sound/pcm.h>
#include <sound/pcm_params.h>

#include "atomic_alloc.h"
#include "audio_dev.h"
#include "audio_loop.h"
#include "audio_pcm.h"

#define TEST_CARD_ID	"AAKUnit"

/* ---- copies at the end of a ring ------------------------------------------ */

struct copy_case {
	const char *desc;
	unsigned int ring, offset, len;
};

static const struct copy_case copy_cases[] = {
	{ "inside", 64, 8, 16 },
	{ "up to the end", 64, 48, 16 },
	{ "across the end", 64, 60, 16 },
	{ "from the last byte", 64, 63, 10 },
	{ "the whole ring from 0", 64, 0, 64 },
	{ "the whole ring across the end", 64, 17, 64 },
	{ "one period across a 6-byte frame ring", 6 * 1000, 6 * 999, 6 * 32 },
	{ "nothing", 64, 10, 0 },
};

KUNIT_ARRAY_PARAM_DESC(copy, copy_cases, desc);

/* Byte i of the ring's content: something that tells positions apart. */
static u8 copy_pattern(unsigned int i)
{
	return (u8)(i * 37 + 11);
}

/*
 * audio_ring_read() gets exactly the bytes from @offset on, going on at the
 * ring's start past its end; audio_ring_write() puts them back there and
 * touches nothing else, in the ring or around the source.
 */
static void audio_pcm_test_ring_copy(struct kunit *test)
{
	const struct copy_case *c = test->param_value;
	u8 *ring = kunit_kmalloc(test, c->ring + 2, GFP_KERNEL);
	u8 *buf = kunit_kmalloc(test, c->len + 2, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	/* Guard bytes around the ring (ring[-1] is ring[0] here, shifted). */
	ring[0] = 0xee;
	ring[c->ring + 1] = 0xee;
	for (i = 0; i < c->ring; i++)
		ring[i + 1] = copy_pattern(i);
	memset(buf, 0xdd, c->len + 2);

	audio_ring_read(buf + 1, ring + 1, c->ring, c->offset, c->len);
	for (i = 0; i < c->len; i++)
		KUNIT_ASSERT_EQ_MSG(test, buf[i + 1],
				    copy_pattern((c->offset + i) % c->ring),
				    "byte %u of the copy", i);
	KUNIT_EXPECT_EQ(test, buf[0], 0xdd);
	KUNIT_EXPECT_EQ(test, buf[c->len + 1], 0xdd);

	/* Write the copy, inverted, back where it came from. */
	for (i = 0; i < c->len; i++)
		buf[i + 1] = ~buf[i + 1];
	audio_ring_write(ring + 1, c->ring, c->offset, buf + 1, c->len);
	for (i = 0; i < c->ring; i++) {
		bool written = (i + c->ring - c->offset) % c->ring < c->len;
		u8 want = written ? (u8)~copy_pattern(i) : copy_pattern(i);

		KUNIT_ASSERT_EQ_MSG(test, ring[i + 1], want, "ring byte %u", i);
	}
	KUNIT_EXPECT_EQ(test, ring[0], 0xee);
	KUNIT_EXPECT_EQ(test, ring[c->ring + 1], 0xee);
}

/* ---- the pointer ------------------------------------------------------------ */

struct offset_case {
	u64 frame;
	unsigned int buffer_frames, frame_bytes, offset;
};

static const struct offset_case offset_cases[] = {
	{ 0, 8192, 6, 0 },
	{ 1024, 8192, 6, 6144 },
	{ 8191, 8192, 6, 49146 },
	{ 8192, 8192, 6, 0 },		/* one whole ring later */
	{ 8192 + 32, 8192, 6, 192 },
	{ 3 * 96 + 7, 96, 24, 7 * 24 },
	/* Past 2^32 frames (6 hours at 192 kHz) the ring still lines up. */
	{ (1ULL << 32) + 5, 4096, 8, ((((1ULL << 32) + 5) % 4096) * 8) },
	{ 393216ULL * 1000 + 393215, 393216, 8, 393215 * 8 },
};

static void offset_case_desc(const struct offset_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "frame %llu of a %u-frame ring",
		 c->frame, c->buffer_frames);
}

KUNIT_ARRAY_PARAM(offset, offset_cases, offset_case_desc);

/* A stream frame's byte offset in ALSA's ring, which pointer() reports. */
static void audio_pcm_test_ring_offset(struct kunit *test)
{
	const struct offset_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, audio_pcm_ring_offset(c->frame, c->buffer_frames,
						    c->frame_bytes),
			c->offset);
}

/* How much a late period interrupt catches up with at once. */
static void audio_pcm_test_catchup(struct kunit *test)
{
	/* 32 frames of S24_3LE stereo: the cap. */
	KUNIT_EXPECT_EQ(test, audio_pcm_catchup(192), AUDIO_PCM_CATCHUP_MAX);
	/* 1024 frames of S24_3LE stereo: what fits the byte budget. */
	KUNIT_EXPECT_EQ(test, audio_pcm_catchup(6144),
			AUDIO_PCM_CATCHUP_BYTES / 6144);
	/* The largest periods still catch up, two at a time. */
	KUNIT_EXPECT_EQ(test, audio_pcm_catchup(AUDIO_PCM_CATCHUP_BYTES), 2U);
	KUNIT_EXPECT_EQ(test, audio_pcm_catchup(AUDIO_PERIOD_BYTES_MAX), 2U);
}

/* ---- the loop ------------------------------------------------------------------ */

KUNIT_DEFINE_ACTION_WRAPPER(test_loop_destroy, audio_loop_destroy,
			    struct audio_loop *);

static struct audio_loop *test_loop(struct kunit *test)
{
	struct audio_loop *loop = kunit_kzalloc(test, sizeof(*loop),
						GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, loop);
	KUNIT_ASSERT_EQ(test, audio_loop_init(loop), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							test_loop_destroy,
							loop), 0);
	return loop;
}

static void test_fill(u8 *buf, unsigned int len, unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		buf[i] = copy_pattern(seed + i) | 1;	/* never 0 */
}

/*
 * The consumer waits for its delay, delivering silence, then reads in
 * order; a short read gives what there is, then silence, counts an
 * underrun and waits for the delay again.
 */
static void audio_pcm_test_loop_delay(struct kunit *test)
{
	struct audio_loop *loop = test_loop(test);
	const unsigned int period = 192, delay = 3 * period;
	u8 *in = kunit_kmalloc(test, 8 * period, GFP_KERNEL);
	u8 *out = kunit_kmalloc(test, period, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	test_fill(in, 8 * period, 0);
	audio_loop_resync(loop, delay);

	/* Two periods in: below the delay, silence out, nothing taken. */
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in, period));
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in + period, period));
	memset(out, 0xaa, period);
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, period, true), 0U);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(out, 0, period));
	KUNIT_EXPECT_EQ(test, audio_loop_level(loop), 2 * period);

	/* The third makes the delay: from now on the periods come in order. */
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in + 2 * period, period));
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, period, true),
				period);
		KUNIT_EXPECT_MEMEQ(test, out, in + i * period, period);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(loop->underruns), 0ULL);

	/* Half a period left: it comes out, then silence, and an underrun. */
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in + 3 * period,
						 period / 2));
	memset(out, 0xaa, period);
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, period, true), period / 2);
	KUNIT_EXPECT_MEMEQ(test, out, in + 3 * period, period / 2);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(out + period / 2, 0, period / 2));
	KUNIT_EXPECT_EQ(test, READ_ONCE(loop->underruns), 1ULL);
	KUNIT_EXPECT_FALSE(test, loop->synced);

	/* Waiting for the delay again, dropping nothing. */
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, NULL, period, true), 0U);
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in + 4 * period,
						 3 * period));
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, period, true), period);
	KUNIT_EXPECT_MEMEQ(test, out, in + 4 * period, period);

	/* A resync drops what is queued. */
	audio_loop_resync(loop, delay);
	KUNIT_EXPECT_EQ(test, audio_loop_level(loop), 0U);

	/*
	 * Once the producer has finished, the consumer takes what is left
	 * without waiting (delay 0), and the short read is the end of the
	 * stream, not an underrun.
	 */
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in, period / 2));
	loop->delay = 0;
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, period, false),
			period / 2);
	KUNIT_EXPECT_MEMEQ(test, out, in, period / 2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(loop->underruns), 1ULL);
}

/* A full loop drops whole writes and counts them; nothing is torn. */
static void audio_pcm_test_loop_overrun(struct kunit *test)
{
	struct audio_loop *loop = test_loop(test);
	const unsigned int chunk = AUDIO_LOOP_BYTES / 4;
	u8 *in = kvmalloc(chunk, GFP_KERNEL);
	u8 *out = kvmalloc(chunk, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	audio_loop_resync(loop, chunk);
	for (i = 0; i < 4; i++) {
		test_fill(in, chunk, i);
		KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in, chunk));
	}
	KUNIT_EXPECT_EQ(test, audio_loop_level(loop), AUDIO_LOOP_BYTES);
	KUNIT_EXPECT_FALSE(test, audio_loop_write(loop, in, 1));
	KUNIT_EXPECT_EQ(test, READ_ONCE(loop->overruns), 1ULL);

	/* Reading one chunk makes room for exactly one. */
	KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, chunk, true), chunk);
	test_fill(in, chunk, 0);
	KUNIT_EXPECT_MEMEQ(test, out, in, chunk);
	test_fill(in, chunk, 4);
	KUNIT_EXPECT_TRUE(test, audio_loop_write(loop, in, chunk));
	KUNIT_EXPECT_FALSE(test, audio_loop_write(loop, in, 1));
	for (i = 1; i <= 4; i++) {
		KUNIT_EXPECT_EQ(test, audio_loop_read(loop, out, chunk, true), chunk);
		test_fill(in, chunk, i);
		KUNIT_EXPECT_MEMEQ(test, out, in, chunk);
	}
	kvfree(in);
	kvfree(out);
}

/* The free-running byte counts wrap at 2^32, the buffer at its end. */
static void audio_pcm_test_loop_wrap(struct kunit *test)
{
	struct audio_loop *loop = test_loop(test);
	const unsigned int len = 1000;
	u8 *in = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *out = kunit_kmalloc(test, len, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	/*
	 * Start just below the wrap of both counts, off the period grid, so
	 * that one write and one read straddle the end of the buffer too.
	 */
	loop->head = 0u - 3 * len - len / 2;
	loop->tail = loop->head;
	audio_loop_resync(loop, 0);
	for (i = 0; i < 8; i++) {
		test_fill(in, len, i);
		KUNIT_ASSERT_TRUE(test, audio_loop_write(loop, in, len));
		KUNIT_ASSERT_EQ(test, audio_loop_level(loop), len);
		KUNIT_ASSERT_EQ(test, audio_loop_read(loop, out, len, true), len);
		KUNIT_ASSERT_MEMEQ(test, out, in, len);
	}
	KUNIT_EXPECT_LT(test, loop->head, 8 * len);
}

/* The delay covers two consumer periods, a producer period and jitter. */
static void audio_pcm_test_loop_delay_bytes(struct kunit *test)
{
	unsigned int jitter = DIV_ROUND_UP_ULL(192000ULL * AUDIO_LOOP_JITTER_US,
					       USEC_PER_SEC) * 6;

	KUNIT_EXPECT_EQ(test, audio_loop_delay(192000, 6, 6144, 6144),
			3 * 6144 + jitter);
	KUNIT_EXPECT_EQ(test, audio_loop_delay(192000, 6, 192, 0) % 6, 0U);
	/* Never more than half the loop, in whole frames. */
	KUNIT_EXPECT_LE(test, audio_loop_delay(192000, 32, SZ_128K, SZ_128K),
			AUDIO_LOOP_BYTES / 2);
	KUNIT_EXPECT_EQ(test, audio_loop_delay(192000, 24, SZ_128K,
					       SZ_128K) % 24, 0U);
}

/* ---- the card ---------------------------------------------------------------- */

KUNIT_DEFINE_ACTION_WRAPPER(test_pcm_destroy, audio_pcm_destroy,
			    struct audio_pcm *);

static struct audio_pcm *test_card(struct kunit *test, unsigned int subs)
{
	struct device *dev = kunit_device_register(test, "aa-pcm-kunit");
	struct audio_pcm *pcm;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev,
							   DMA_BIT_MASK(32)),
			0);
	pcm = audio_pcm_create(dev, -1, TEST_CARD_ID, subs);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_pcm_destroy,
							pcm), 0);
	return pcm;
}

static void test_release(void *arg)
{
	struct snd_pcm_substream *ss = arg;
	struct snd_pcm *pcm = ss->pcm;

	mutex_lock(&pcm->open_mutex);
	snd_pcm_release_substream(ss);
	mutex_unlock(&pcm->open_mutex);
}

/* Open a substream as a file open would, released when the test ends. */
static struct snd_pcm_substream *test_open(struct kunit *test,
					   struct audio_pcm *pcm, bool capture)
{
	struct file *file = kunit_kzalloc(test, sizeof(*file), GFP_KERNEL);
	struct snd_pcm *snd = audio_pcm_snd(pcm, capture);
	struct snd_pcm_substream *ss = NULL;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, file);
	mutex_lock(&snd->open_mutex);
	err = snd_pcm_open_substream(snd, capture ? SNDRV_PCM_STREAM_CAPTURE :
						    SNDRV_PCM_STREAM_PLAYBACK,
				     file, &ss);
	mutex_unlock(&snd->open_mutex);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_release, ss),
			0);
	return ss;
}

static void test_interval(struct snd_pcm_hw_params *p, int var,
			  unsigned int v)
{
	struct snd_interval *i = hw_param_interval(p, var);

	i->min = v;
	i->max = v;
	i->openmin = 0;
	i->openmax = 0;
	i->integer = 1;
	i->empty = 0;
}

/* hw_params with everything fixed, as an application asks for it. */
static int test_hw_params(struct kunit *test, struct snd_pcm_substream *ss,
			  snd_pcm_format_t format, unsigned int rate,
			  unsigned int channels, unsigned int period,
			  unsigned int periods)
{
	struct snd_pcm_hw_params *p = kunit_kzalloc(test, sizeof(*p),
						    GFP_KERNEL);
	struct snd_mask *m;

	KUNIT_ASSERT_NOT_NULL(test, p);
	_snd_pcm_hw_params_any(p);
	m = hw_param_mask(p, SNDRV_PCM_HW_PARAM_ACCESS);
	snd_mask_none(m);
	snd_mask_set(m, (__force unsigned int)SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	m = hw_param_mask(p, SNDRV_PCM_HW_PARAM_FORMAT);
	snd_mask_none(m);
	snd_mask_set_format(m, format);
	test_interval(p, SNDRV_PCM_HW_PARAM_RATE, rate);
	test_interval(p, SNDRV_PCM_HW_PARAM_CHANNELS, channels);
	test_interval(p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, period);
	test_interval(p, SNDRV_PCM_HW_PARAM_PERIODS, periods);
	return snd_pcm_kernel_ioctl(ss, SNDRV_PCM_IOCTL_HW_PARAMS, p);
}

struct hw_case {
	const char *desc;
	snd_pcm_format_t format;
	unsigned int rate, channels, period, periods;
	bool ok;
};

#define HW(_d, _f, _r, _c, _p, _n, _ok)					\
	{ _d, SNDRV_PCM_FORMAT_##_f, _r, _c, _p, _n, _ok }

static const struct hw_case hw_cases[] = {
	HW("S24_3LE 192 kHz stereo, 32-frame periods", S24_3LE, 192000, 2,
	   32, 64, true),
	HW("S24_LE 192 kHz stereo", S24_LE, 192000, 2, 1024, 8, true),
	HW("S16_LE 44.1 kHz mono", S16_LE, 44100, 1, 256, 2, true),
	HW("S32_LE 48 kHz, 8 channels", S32_LE, 48000, 8, 1024, 4, true),
	HW("S24_3LE 96 kHz 8 channels", S24_3LE, 96000, 8, 512, 16, true),
	HW("88.2 kHz", S16_LE, 88200, 2, 256, 4, true),
	HW("176.4 kHz", S16_LE, 176400, 2, 256, 4, true),
	HW("64 kHz", S16_LE, 64000, 2, 256, 4, true),
	HW("the largest period: 128 KiB", S32_LE, 192000, 8, 4096, 2, true),
	HW("U8 refused", U8, 48000, 2, 256, 4, false),
	HW("S8 refused", S8, 48000, 2, 256, 4, false),
	HW("FLOAT_LE refused", FLOAT_LE, 48000, 2, 256, 4, false),
	HW("S24_BE refused", S24_BE, 48000, 2, 256, 4, false),
	HW("22.05 kHz refused", S16_LE, 22050, 2, 256, 4, false),
	HW("32 kHz refused", S16_LE, 32000, 2, 256, 4, false),
	HW("384 kHz refused", S16_LE, 384000, 2, 256, 4, false),
	HW("no channel refused", S16_LE, 48000, 0, 256, 4, false),
	HW("9 channels refused", S16_LE, 48000, 9, 256, 4, false),
	HW("31-frame periods refused", S24_3LE, 192000, 2, 31, 64, false),
	HW("16-frame periods refused", S16_LE, 48000, 2, 16, 64, false),
	HW("one period refused", S16_LE, 48000, 2, 1024, 1, false),
	HW("a period over one pool buffer refused", S32_LE, 192000, 8, 4097,
	   2, false),
};

KUNIT_ARRAY_PARAM_DESC(hw, hw_cases, desc);

/* ALSA's own constraint machinery accepts what the card states, no more. */
static void audio_pcm_test_constraints(struct kunit *test)
{
	const struct hw_case *c = test->param_value;
	struct audio_pcm *pcm = test_card(test, 1);
	struct snd_pcm_substream *ss;
	int err;

	ss = test_open(test, pcm, false);
	err = test_hw_params(test, ss, c->format, c->rate, c->channels,
			     c->period, c->periods);
	if (c->ok)
		KUNIT_EXPECT_EQ(test, err, 0);
	else
		KUNIT_EXPECT_EQ(test, err, -EINVAL);

	/* The same for the capture end, which nothing has configured yet. */
	ss = test_open(test, pcm, true);
	err = test_hw_params(test, ss, c->format, c->rate, c->channels,
			     c->period, c->periods);
	if (c->ok)
		KUNIT_EXPECT_EQ(test, err, 0);
	else
		KUNIT_EXPECT_EQ(test, err, -EINVAL);
}

/* Both ends of a loop carry the same bytes: the second end must agree. */
static void audio_pcm_test_loop_rules(struct kunit *test)
{
	struct audio_pcm *pcm = test_card(test, 2);
	struct snd_pcm_substream *play, *cap, *play1;

	play = test_open(test, pcm, false);
	KUNIT_ASSERT_EQ(test, test_hw_params(test, play, SNDRV_PCM_FORMAT_S24_3LE,
					     192000, 2, 1024, 4), 0);
	cap = test_open(test, pcm, true);
	KUNIT_EXPECT_EQ(test, cap->number, play->number);
	KUNIT_EXPECT_EQ(test, test_hw_params(test, cap, SNDRV_PCM_FORMAT_S16_LE,
					     192000, 2, 1024, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_hw_params(test, cap, SNDRV_PCM_FORMAT_S24_3LE,
					     48000, 2, 1024, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_hw_params(test, cap, SNDRV_PCM_FORMAT_S24_3LE,
					     192000, 8, 1024, 4), -EINVAL);
	/* The period is each end's own. */
	KUNIT_EXPECT_EQ(test, test_hw_params(test, cap, SNDRV_PCM_FORMAT_S24_3LE,
					     192000, 2, 32, 64), 0);
	/* Another loop is free to differ. */
	play1 = test_open(test, pcm, false);
	KUNIT_EXPECT_EQ(test, play1->number, 1);
	KUNIT_EXPECT_EQ(test, test_hw_params(test, play1, SNDRV_PCM_FORMAT_S16_LE,
					     44100, 1, 256, 4), 0);
}

/* ---- the subdevices' pools ---------------------------------------------------- */

/* A value of the subdevice's debugfs stats file, as it shows it. */
static u64 test_sub_value(struct kunit *test, struct audio_pcm_sub *sub,
			  const char *name)
{
	char *text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct seq_file m = { .size = PAGE_SIZE };
	char key[48];
	const char *k;
	u64 v = 0;

	KUNIT_ASSERT_NOT_NULL(test, text);
	snprintf(key, sizeof(key), "\n%s: ", name);
	m.buf = text;
	audio_pcm_sub_show(&m, sub);
	k = strstr(text, key);
	KUNIT_ASSERT_NOT_NULL_MSG(test, k, "no %s in:\n%s", name, text);
	k += strlen(key);
	KUNIT_ASSERT_TRUE(test, isdigit(*k));
	while (isdigit(*k))
		v = v * 10 + (*k++ - '0');
	return v;
}

struct pool_case {
	const char *desc;
	unsigned int frames;	/* or PAGE_SIZE / page_div bytes + extra */
	unsigned int page_div, extra;
};

static const struct pool_case pool_cases[] = {
	{ "32 frames: 128 bytes", 32 },
	{ "256 frames: 1 KiB", 256 },
	{ "half a page", 0, 2, 0 },
	{ "a page", 0, 1, 0 },
	{ "a page and 16 frames", 0, 1, 16 },
};

KUNIT_ARRAY_PARAM_DESC(pool, pool_cases, desc);

/*
 * hw_params makes each end's pool for its period (S16_LE stereo here):
 * buffers of exactly the period, sharing pages, when at least two fit a
 * page on this kernel, whole pages otherwise; stats shows the buffer
 * size, how many share a page and the per-CPU memory those pages are.
 */
static void audio_pcm_test_sub_pool(struct kunit *test)
{
	const struct pool_case *c = test->param_value;
	unsigned int frames = c->frames ?: PAGE_SIZE / c->page_div / 4 +
					    c->extra;
	unsigned int bytes = frames * 4, per_page, cpu_buffers;
	struct audio_pcm *pcm = test_card(test, 1);
	struct snd_pcm_substream *ss;
	struct audio_pcm_sub *sub;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		ss = test_open(test, pcm, dir);
		KUNIT_ASSERT_EQ(test, test_hw_params(test, ss,
						     SNDRV_PCM_FORMAT_S16_LE,
						     48000, 2, frames, 4), 0);
		sub = audio_pcm_sub(pcm, dir, 0);
		per_page = test_sub_value(test, sub, "pool_buffers_per_page");
		cpu_buffers = test_sub_value(test, sub, "pool_cpu_buffers");
		if (2 * bytes <= PAGE_SIZE) {
			KUNIT_EXPECT_EQ(test,
					test_sub_value(test, sub,
						       "pool_buffer_bytes"),
					(u64)bytes);
			KUNIT_EXPECT_EQ(test, per_page,
					(unsigned int)(PAGE_SIZE /
						       ALIGN(bytes,
							     audio_pool_align(bytes))));
			KUNIT_EXPECT_GE(test, per_page, 2U);
			KUNIT_EXPECT_EQ(test,
					test_sub_value(test, sub,
						       "pool_bytes_per_cpu"),
					(u64)DIV_ROUND_UP(cpu_buffers,
							  per_page) * PAGE_SIZE);
		} else {
			KUNIT_EXPECT_EQ(test,
					test_sub_value(test, sub,
						       "pool_buffer_bytes"),
					(u64)PAGE_SIZE << get_order(bytes));
			KUNIT_EXPECT_EQ(test, per_page, 1U);
			KUNIT_EXPECT_EQ(test,
					test_sub_value(test, sub,
						       "pool_bytes_per_cpu"),
					(u64)cpu_buffers *
					(PAGE_SIZE << get_order(bytes)));
		}
	}
}

/* ---- through the card, for real ----------------------------------------------- */

#define LOOP_RATE	48000
#define LOOP_CHANNELS	2
#define LOOP_FRAME	4	/* S16_LE stereo */
#define LOOP_PERIOD	256
/* A ring longer than the whole capture: no stall of the reader xruns it. */
#define LOOP_PERIODS	1024
#define LOOP_FRAMES	(LOOP_RATE / 2)	/* half a second of noise */
/* The capture runs for the loop's delay and the noise, and a margin. */
#define LOOP_CAPTURE	(LOOP_RATE * 3)

struct loop_reader {
	struct snd_pcm_substream *ss;
	u8 *buf;
	snd_pcm_sframes_t got;
	struct completion done;
};

static int loop_reader_fn(void *arg)
{
	struct loop_reader *r = arg;

	r->got = snd_pcm_kernel_read(r->ss, r->buf, LOOP_CAPTURE);
	complete(&r->done);
	return 0;
}

/*
 * Half a second of noise played on 0,0 comes out of 1,0 bit for bit after
 * the leading silence; the period interrupts ran in hard IRQ, every
 * period had a pool buffer, ALSA saw no xrun, and the notifications came.
 */
static void audio_pcm_test_loopback(struct kunit *test)
{
	struct audio_pcm *pcm = test_card(test, 1);
	struct snd_pcm_substream *play, *cap;
	struct audio_stream_stats st;
	struct audio_pcm_stats pst;
	struct task_struct *t;
	struct loop_reader r;
	unsigned int lead;
	snd_pcm_sframes_t n;
	u8 *noise;
	int dir;

	noise = kunit_kmalloc(test, LOOP_FRAMES * LOOP_FRAME, GFP_KERNEL);
	r.buf = kunit_kzalloc(test, LOOP_CAPTURE * LOOP_FRAME, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, noise);
	KUNIT_ASSERT_NOT_NULL(test, r.buf);
	get_random_bytes(noise, LOOP_FRAMES * LOOP_FRAME);
	noise[0] |= 1;		/* the first frame is not silence */

	play = test_open(test, pcm, false);
	cap = test_open(test, pcm, true);
	KUNIT_ASSERT_EQ(test, test_hw_params(test, play, SNDRV_PCM_FORMAT_S16_LE,
					     LOOP_RATE, LOOP_CHANNELS,
					     LOOP_PERIOD, LOOP_PERIODS), 0);
	KUNIT_ASSERT_EQ(test, test_hw_params(test, cap, SNDRV_PCM_FORMAT_S16_LE,
					     LOOP_RATE, LOOP_CHANNELS,
					     LOOP_PERIOD, LOOP_PERIODS), 0);
	KUNIT_ASSERT_EQ(test, snd_pcm_kernel_ioctl(cap, SNDRV_PCM_IOCTL_PREPARE,
						   NULL), 0);
	KUNIT_ASSERT_EQ(test, snd_pcm_kernel_ioctl(play, SNDRV_PCM_IOCTL_PREPARE,
						   NULL), 0);
	KUNIT_ASSERT_EQ(test, snd_pcm_kernel_ioctl(cap, SNDRV_PCM_IOCTL_START,
						   NULL), 0);

	r.ss = cap;
	r.got = 0;
	init_completion(&r.done);
	t = kthread_run(loop_reader_fn, &r, "aa-pcm-capture");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);

	/* The first write starts playback (start_threshold 1). */
	n = snd_pcm_kernel_write(play, noise, LOOP_FRAMES);
	KUNIT_EXPECT_EQ(test, n, (snd_pcm_sframes_t)LOOP_FRAMES);
	snd_pcm_kernel_ioctl(play, SNDRV_PCM_IOCTL_DRAIN, NULL);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r.done, 60 * HZ));
	snd_pcm_kernel_ioctl(cap, SNDRV_PCM_IOCTL_DROP, NULL);
	KUNIT_ASSERT_EQ(test, r.got, (snd_pcm_sframes_t)LOOP_CAPTURE);

	for (lead = 0; lead < LOOP_CAPTURE * LOOP_FRAME && !r.buf[lead]; lead++)
		;
	lead -= lead % LOOP_FRAME;
	kunit_info(test, "leading silence: %u frames", lead / LOOP_FRAME);
	KUNIT_ASSERT_LE(test, lead + LOOP_FRAMES * LOOP_FRAME,
			(unsigned int)(LOOP_CAPTURE * LOOP_FRAME));
	KUNIT_EXPECT_MEMEQ(test, r.buf + lead, noise, LOOP_FRAMES * LOOP_FRAME);

	for (dir = 0; dir < 2; dir++) {
		struct audio_pcm_sub *sub = audio_pcm_sub(pcm, dir, 0);

		audio_stream_get_stats(audio_pcm_sub_stream(sub), &st);
		audio_pcm_sub_stats(sub, &pst);
		kunit_info(test, "%s: periods %llu xrun_alloc %llu xrun_app %llu overruns %llu notified %llu loop_underruns %llu",
			   dir ? "capture" : "playback", st.periods,
			   st.xrun_alloc, pst.xrun_app, st.timer_overruns,
			   pst.notified, pst.loop_underruns);
		KUNIT_EXPECT_EQ(test, st.not_hardirq, 0ULL);
		KUNIT_EXPECT_EQ(test, st.xrun_alloc, 0ULL);
		KUNIT_EXPECT_EQ(test, pst.xrun_app, 0ULL);
		KUNIT_EXPECT_GT(test, pst.notified, 0ULL);
		KUNIT_EXPECT_GE(test, st.periods,
				(u64)LOOP_FRAMES / LOOP_PERIOD);
		KUNIT_EXPECT_EQ(test, test_sub_value(test, sub,
						     "pool_alloc_direct"), 0ULL);
	}
}

static struct kunit_case audio_pcm_test_cases[] = {
	KUNIT_CASE_PARAM(audio_pcm_test_ring_copy, copy_gen_params),
	KUNIT_CASE_PARAM(audio_pcm_test_ring_offset, offset_gen_params),
	KUNIT_CASE(audio_pcm_test_catchup),
	KUNIT_CASE(audio_pcm_test_loop_delay),
	KUNIT_CASE(audio_pcm_test_loop_overrun),
	KUNIT_CASE(audio_pcm_test_loop_wrap),
	KUNIT_CASE(audio_pcm_test_loop_delay_bytes),
	KUNIT_CASE_PARAM(audio_pcm_test_constraints, hw_gen_params),
	KUNIT_CASE(audio_pcm_test_loop_rules),
	KUNIT_CASE_PARAM(audio_pcm_test_sub_pool, pool_gen_params),
	KUNIT_CASE_SLOW(audio_pcm_test_loopback),
	{}
};

static struct kunit_suite audio_pcm_test_suite = {
	.name = "atomic_alloc_audio_pcm",
	.test_cases = audio_pcm_test_cases,
};

kunit_test_suite(audio_pcm_test_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the ALSA card of atomic_alloc_audio");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
