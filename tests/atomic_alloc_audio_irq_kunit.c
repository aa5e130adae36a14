// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite atomic_alloc_audio_irq: the period interrupt and DMA engine
 * of atomic_alloc_audio (audio_irq.c), its test-signal streams
 * (audio_sim.c, audio_signal.c), its parameters (audio_params.c) and its
 * histograms (audio_hist.c), on a real atomic_alloc pool.
 *
 * Nothing here assumes a page size: every size is computed from the byte
 * budgets in audio_dev.h and from PAGE_SIZE where the pool's real memory is
 * what is checked, so the suite means the same on 4, 16 and 64 KiB pages.
 *
 * Concurrency: the parameter, signal, histogram and mapping cases run in
 * the test thread only.  The "tick" cases drive a stream's period and DMA
 * work by hand from the test thread while its timers are stopped, which
 * is what audio_stream_period_tick() and audio_stream_dma_tick() allow, so
 * that every count is exact.  audio_irq_test_stream starts the real
 * hard-IRQ timers on several CPUs; they only count, and the test thread
 * reads the counters and asserts after audio_sim_stop() has cancelled
 * every timer.
 *
 * Every device, pool and stream is released by a KUnit action, in reverse
 * order of creation, also when an assertion ends a case early.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "atomic_alloc.h"
#include "audio_dev.h"
#include "audio_hist.h"
#include "audio_irq.h"
#include "audio_params.h"
#include "audio_sim.h"

#define TEST_POOL	"audio_kunit"

static const struct audio_sim_config test_default_cfg = {
	.rate = 192000,
	.channels = 2,
	.format = AUDIO_SIM_S24_LE,
	.period_frames = 0,
	.ring_entries = 64,
	.streams = 1,
};

KUNIT_DEFINE_ACTION_WRAPPER(test_pool_destroy, atomic_alloc_destroy,
			    struct atomic_alloc_pool *);
KUNIT_DEFINE_ACTION_WRAPPER(test_sim_destroy, audio_sim_destroy,
			    struct audio_sim *);

/* A fake device with a 32-bit DMA mask, unregistered when the test ends. */
static struct device *test_dev(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "aa-audio-kunit");

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev,
							   DMA_BIT_MASK(32)),
			0);
	return dev;
}

static struct atomic_alloc_pool *
test_pool_create(struct kunit *test, const struct atomic_alloc_params *params)
{
	struct atomic_alloc_pool *pool = atomic_alloc_create(params);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							test_pool_destroy,
							pool), 0);
	return pool;
}

/* Device, pool sized by audio_sim_pool_params() and the streams. */
static struct audio_sim *test_sim(struct kunit *test,
				  const struct audio_sim_config *cfg,
				  struct atomic_alloc_pool **poolp)
{
	struct device *dev = test_dev(test);
	struct atomic_alloc_params params;
	struct atomic_alloc_pool *pool;
	struct audio_sim *sim;

	KUNIT_ASSERT_EQ(test, audio_sim_pool_params(cfg, dev, TEST_POOL,
						    &params), 0);
	pool = test_pool_create(test, &params);
	sim = audio_sim_create(dev, pool, cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sim);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							test_sim_destroy,
							sim), 0);
	*poolp = pool;
	return sim;
}

static void test_pool_stats(struct atomic_alloc_pool *pool,
			    struct atomic_alloc_stats *st)
{
	atomic_alloc_get_stats(pool, st);
}

static u64 test_outstanding(struct atomic_alloc_pool *pool)
{
	struct atomic_alloc_stats st;

	test_pool_stats(pool, &st);
	return st.outstanding;
}

static u64 test_hist_sum(struct kunit *test, struct audio_stream *s,
			 enum audio_stream_hist which)
{
	struct audio_hist *h = kunit_kmalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	audio_stream_get_hist(s, which, h);
	return audio_hist_total(h);
}

/* Frames and bytes of a configuration's period. */
static unsigned int test_period_bytes(const struct audio_sim_config *cfg)
{
	return audio_sim_period_frames(cfg) * audio_sim_frame_bytes(cfg);
}

static u64 test_period_ns(const struct audio_sim_config *cfg)
{
	return div_u64((u64)audio_sim_period_frames(cfg) * NSEC_PER_SEC,
		       cfg->rate);
}

/* ---- parameter validation ---------------------------------------------- */

struct param_case {
	const char *name;
	int (*parse)(const char *val, unsigned int *out);
	const char *val;
	int err;
	unsigned int want;
};

#define GOOD(_p, _v, _w)	{ #_p, audio_sim_parse_##_p, _v, 0, _w }
#define BAD(_p, _v)		{ #_p, audio_sim_parse_##_p, _v, -EINVAL, 0 }

static const struct param_case param_cases[] = {
	GOOD(rate, "8000", 8000), GOOD(rate, "11025", 11025),
	GOOD(rate, "44100", 44100), GOOD(rate, "48000", 48000),
	GOOD(rate, "176400", 176400), GOOD(rate, "192000", 192000),
	GOOD(rate, "384000", 384000), GOOD(rate, "192000\n", 192000),
	BAD(rate, "0"), BAD(rate, "7999"), BAD(rate, "12345"),
	BAD(rate, "192001"), BAD(rate, "400000"), BAD(rate, "-48000"),
	BAD(rate, "48k"), BAD(rate, ""), BAD(rate, NULL),

	GOOD(channels, "1", 1), GOOD(channels, "2", 2), GOOD(channels, "8", 8),
	BAD(channels, "0"), BAD(channels, "9"), BAD(channels, "-1"),
	BAD(channels, "two"),

	/* ALSA's spelling, in any case. */
	GOOD(format, "S24_LE", AUDIO_SIM_S24_LE),
	GOOD(format, "s24_le", AUDIO_SIM_S24_LE),
	GOOD(format, "S24_3LE", AUDIO_SIM_S24_3LE),
	GOOD(format, "s24_3Le", AUDIO_SIM_S24_3LE),
	GOOD(format, "s24_3le\n", AUDIO_SIM_S24_3LE),
	BAD(format, "s16_le"), BAD(format, "S24"), BAD(format, "s24_le "),
	BAD(format, "S24_LEX"), BAD(format, ""), BAD(format, "\n"),
	BAD(format, NULL),

	/* 0 (the default) or the floor of 32 frames up to mono S24_3LE. */
	GOOD(period_frames, "0", 0),
	GOOD(period_frames, "32", AUDIO_PERIOD_FRAMES_MIN),
	GOOD(period_frames, "512", 512), GOOD(period_frames, "43690", 43690),
	BAD(period_frames, "1"), BAD(period_frames, "31"),
	BAD(period_frames, "43691"), BAD(period_frames, "-5"),
	BAD(period_frames, "1e3"),

	GOOD(ring_entries, "2", 2), GOOD(ring_entries, "64", 64),
	GOOD(ring_entries, "4096", 4096),
	BAD(ring_entries, "0"), BAD(ring_entries, "1"),
	BAD(ring_entries, "3"), BAD(ring_entries, "96"),
	BAD(ring_entries, "8192"),

	GOOD(streams, "1", 1), GOOD(streams, "64", 64),
	BAD(streams, "0"), BAD(streams, "65"), BAD(streams, "100000"),

	GOOD(bool, "1", 1), GOOD(bool, "0", 0), GOOD(bool, "y", 1),
	GOOD(bool, "N", 0), GOOD(bool, "on", 1), GOOD(bool, "off", 0),
	GOOD(bool, NULL, 1),
	BAD(bool, "2"), BAD(bool, "maybe"), BAD(bool, ""),
};

static void param_case_desc(const struct param_case *c, char *desc)
{
	if (c->val)
		snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s=\"%*pE\" %s",
			 c->name, (int)strlen(c->val), c->val,
			 c->err ? "rejected" : "accepted");
	else
		snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s (no value) %s",
			 c->name, c->err ? "rejected" : "accepted");
}

KUNIT_ARRAY_PARAM(param, param_cases, param_case_desc);

/* Each parameter's parser takes what it documents and nothing else. */
static void audio_irq_test_param(struct kunit *test)
{
	const struct param_case *c = test->param_value;
	unsigned int out = 0xdeadbeef;

	KUNIT_EXPECT_EQ(test, c->parse(c->val, &out), c->err);
	if (c->err)
		KUNIT_EXPECT_EQ_MSG(test, out, 0xdeadbeef,
				    "a rejected value was stored");
	else
		KUNIT_EXPECT_EQ(test, out, c->want);
}

struct config_case {
	const char *desc;
	struct audio_sim_config cfg;
	int err;
	unsigned int period_frames;
};

#define CFG(_rate, _ch, _fmt, _period, _ring, _streams)			\
	{ .rate = _rate, .channels = _ch, .format = AUDIO_SIM_##_fmt,	\
	  .period_frames = _period, .ring_entries = _ring,		\
	  .streams = _streams }

/* Frames of the default period: whole frames in the default byte budget. */
#define DEF(_ch, _bytes)	(AUDIO_PERIOD_BYTES_DEFAULT / ((_ch) * (_bytes)))
/* The longest period in frames. */
#define MAXF(_ch, _bytes)	(AUDIO_PERIOD_BYTES_MAX / ((_ch) * (_bytes)))

static const struct config_case config_cases[] = {
	{ "defaults", CFG(192000, 2, S24_LE, 0, 64, 1), 0, DEF(2, 4) },
	{ "default period, S24_3LE", CFG(192000, 2, S24_3LE, 0, 64, 1), 0,
	  DEF(2, 3) },
	{ "default period, 8 channels", CFG(48000, 8, S24_LE, 0, 64, 1), 0,
	  DEF(8, 4) },
	{ "the floor", CFG(192000, 2, S24_LE, 32, 64, 1), 0, 32 },
	{ "below the floor", CFG(192000, 2, S24_LE, 31, 64, 1), -EINVAL },
	{ "longest period, 8 x S24_LE", CFG(48000, 8, S24_LE, MAXF(8, 4), 64, 1),
	  0, MAXF(8, 4) },
	{ "a period over the byte budget, 8 x S24_LE",
	  CFG(48000, 8, S24_LE, MAXF(8, 4) + 1, 64, 1), -EINVAL },
	{ "longest period, mono S24_3LE",
	  CFG(8000, 1, S24_3LE, MAXF(1, 3), 4096, 64), 0, MAXF(1, 3) },
	{ "a period over the byte budget, 3 x S24_3LE",
	  CFG(44100, 3, S24_3LE, MAXF(3, 3) + 1, 2, 1), -EINVAL },
	{ "bad rate", CFG(12345, 2, S24_LE, 0, 64, 1), -EINVAL },
	{ "no channels", CFG(192000, 0, S24_LE, 0, 64, 1), -EINVAL },
	{ "9 channels", CFG(192000, 9, S24_LE, 0, 64, 1), -EINVAL },
	{ "ring 3", CFG(192000, 2, S24_LE, 0, 3, 1), -EINVAL },
	{ "ring 8192", CFG(192000, 2, S24_LE, 0, 8192, 1), -EINVAL },
	{ "no streams", CFG(192000, 2, S24_LE, 0, 64, 0), -EINVAL },
	{ "65 streams", CFG(192000, 2, S24_LE, 0, 64, 65), -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(config, config_cases, desc);

/* Whole configurations: each field, and the period against its budgets. */
static void audio_irq_test_config(struct kunit *test)
{
	const struct config_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, audio_sim_check_config(&c->cfg), c->err);
	if (!c->err)
		KUNIT_EXPECT_EQ(test, audio_sim_period_frames(&c->cfg),
				c->period_frames);
}

/* Combinations that make no sense are refused. */
static void audio_irq_test_params_check(struct kunit *test)
{
	struct audio_params p = {
		.cfg = test_default_cfg,
		.enable = true,
		.index = -1,
		.id = "x",
	};

	KUNIT_EXPECT_EQ(test, audio_params_check(&p), 0);
	p.autostart = true;
	KUNIT_EXPECT_EQ(test, audio_params_check(&p), 0);
	p.enable = false;
	KUNIT_EXPECT_EQ(test, audio_params_check(&p), -EINVAL);
	p.autostart = false;
	KUNIT_EXPECT_EQ(test, audio_params_check(&p), 0);
	p.cfg.period_frames = 16;
	KUNIT_EXPECT_EQ(test, audio_params_check(&p), -EINVAL);
}

/*
 * The pool is sized from the stream: one buffer per period, of the
 * period's bytes (sharing a page when at least two fit one, whole pages
 * otherwise), ring + one + 1 ms of refill per stream on a CPU; what would
 * exceed the budgets is refused, never capped.
 */
static void audio_irq_test_pool_params(struct kunit *test)
{
	struct audio_sim_config cfg = test_default_cfg;
	struct atomic_alloc_params params;
	struct device *dev = test_dev(test);
	unsigned int bytes, per_ms, cpus = num_online_cpus();

	KUNIT_ASSERT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), 0);
	KUNIT_EXPECT_STREQ(test, params.name, TEST_POOL);
	KUNIT_EXPECT_PTR_EQ(test, params.dev, dev);
	KUNIT_EXPECT_EQ(test, params.dma_dir, DMA_TO_DEVICE);
	bytes = test_period_bytes(&cfg);
	KUNIT_EXPECT_EQ(test, bytes, (unsigned int)AUDIO_PERIOD_BYTES_DEFAULT);
	if (2 * bytes <= PAGE_SIZE) {
		/* 16 KiB and 64 KiB pages: 4 KiB periods share a page. */
		KUNIT_EXPECT_EQ(test, params.buffer_bytes, bytes);
		KUNIT_EXPECT_EQ(test, params.order, 0U);
	} else {
		/* 4 KiB pages: a 4 KiB period is a whole page. */
		KUNIT_EXPECT_EQ(test, params.buffer_bytes, 0U);
		KUNIT_EXPECT_EQ(test, params.order,
				(unsigned int)get_order(bytes));
		KUNIT_EXPECT_GE(test, PAGE_SIZE << params.order,
				(unsigned long)bytes);
	}
	/* 64 on the ring, 1 being completed, 1 ms at 375 periods/s. */
	KUNIT_EXPECT_EQ(test, params.cpu_buffers, 64U + 1 + 1);

	/* The floor: 32-frame periods, 6 of them per ms. */
	cfg.period_frames = AUDIO_PERIOD_FRAMES_MIN;
	KUNIT_ASSERT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), 0);
	per_ms = DIV_ROUND_UP(cfg.rate, 1000 * cfg.period_frames);
	KUNIT_EXPECT_EQ(test, per_ms, 6U);
	KUNIT_EXPECT_EQ(test, params.cpu_buffers, 64U + 1 + per_ms);
	/* 192 bytes share a page on every page size, at the DMA alignment. */
	KUNIT_EXPECT_EQ(test, params.order, 0U);
	KUNIT_EXPECT_EQ(test, params.buffer_bytes, test_period_bytes(&cfg));
	KUNIT_EXPECT_EQ(test, params.align,
			audio_pool_align(params.buffer_bytes));
	KUNIT_EXPECT_GE(test, params.align, (unsigned int)ATOMIC_ALLOC_MIN_ALIGN);
	KUNIT_EXPECT_GE(test, params.align, (unsigned int)dma_get_cache_alignment());

	/* Streams that share a CPU share its array. */
	cfg = test_default_cfg;
	cfg.streams = min(2 * cpus, (unsigned int)AUDIO_SIM_MAX_STREAMS);
	KUNIT_ASSERT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), 0);
	KUNIT_EXPECT_EQ(test, params.cpu_buffers,
			DIV_ROUND_UP(cfg.streams, cpus) * 66U);

	/* More buffers than one CPU's array may hold: refused. */
	cfg = test_default_cfg;
	cfg.ring_entries = ATOMIC_ALLOC_MAX_CPU_BUFFERS;
	KUNIT_EXPECT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), -EINVAL);

	/*
	 * The byte budget, counted in the pages the buffers really take:
	 * 512 of the longest periods are 64 MiB on any page size, refused.
	 */
	cfg = test_default_cfg;
	cfg.channels = 8;
	cfg.period_frames = AUDIO_PERIOD_BYTES_MAX / audio_sim_frame_bytes(&cfg);
	cfg.ring_entries = 512;
	KUNIT_EXPECT_GT(test, audio_pool_bytes_per_cpu(AUDIO_PERIOD_BYTES_MAX,
						       512 + 2),
			AUDIO_POOL_CPU_BYTES_MAX);
	KUNIT_EXPECT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), -EINVAL);
	cfg.ring_entries = 256;
	KUNIT_EXPECT_EQ(test, audio_sim_pool_params(&cfg, dev, TEST_POOL,
						    &params), 0);
}

/*
 * A pool's memory per CPU is counted in the pages its buffers take on this
 * kernel: periods of at most half a page share pages, at most
 * ATOMIC_ALLOC_MAX_BUFS_PER_PAGE to a page; longer ones take whole pages.
 */
static void audio_irq_test_pool_bytes(struct kunit *test)
{
	unsigned int n;

	/* Whole pages: one period per 2^order pages. */
	KUNIT_EXPECT_EQ(test, audio_pool_buffers_per_page(PAGE_SIZE), 1U);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(PAGE_SIZE, 3),
			3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, audio_pool_buffers_per_page(PAGE_SIZE / 2 + 1),
			1U);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(PAGE_SIZE / 2 + 1, 3),
			3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(PAGE_SIZE + 1, 3),
			3 * (PAGE_SIZE << 1));
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(AUDIO_PERIOD_BYTES_MAX,
						       1),
			PAGE_SIZE << get_order(AUDIO_PERIOD_BYTES_MAX));

	/* Half a page: two to a page, 3 buffers in 2 pages. */
	KUNIT_EXPECT_EQ(test, audio_pool_buffers_per_page(PAGE_SIZE / 2), 2U);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(PAGE_SIZE / 2, 3),
			2 * PAGE_SIZE);

	/*
	 * 1.5 KiB (256 frames of S24_3LE stereo): as many as fit at the
	 * alignment, and one more buffer takes one more page.
	 */
	n = audio_pool_buffers_per_page(1536);
	KUNIT_EXPECT_EQ(test, n,
			(unsigned int)(PAGE_SIZE /
				       ALIGN(1536, audio_pool_align(1536))));
	KUNIT_EXPECT_GE(test, n, 2U);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(1536, n), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(1536, n + 1),
			2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(1536, 66),
			DIV_ROUND_UP(66, n) * PAGE_SIZE);

	/*
	 * The tiniest buffer: never more than the library takes per page,
	 * so 65 of them need two pages on any page size.
	 */
	n = audio_pool_buffers_per_page(1);
	KUNIT_EXPECT_GE(test, n, 2U);
	KUNIT_EXPECT_LE(test, n, (unsigned int)ATOMIC_ALLOC_MAX_BUFS_PER_PAGE);
	KUNIT_EXPECT_EQ(test, audio_pool_bytes_per_cpu(1, 10), PAGE_SIZE);
	KUNIT_EXPECT_GE(test,
			audio_pool_bytes_per_cpu(1,
						 ATOMIC_ALLOC_MAX_BUFS_PER_PAGE + 1),
			2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, is_power_of_2(audio_pool_align(1)));
	KUNIT_EXPECT_TRUE(test, is_power_of_2(audio_pool_align(1536)));
}

/* ---- the device's pools, real ------------------------------------------------ */

static const unsigned int sub_bytes[] = {
	64,		/* the card's shortest: 32 frames of S16_LE mono */
	192,		/* the streams' shortest: 32 frames of S24_3LE stereo */
	1536,		/* 256 frames of S24_3LE stereo */
	SZ_4K,		/* the default test-signal period */
	SZ_8K,
	SZ_16K,
	SZ_32K + 64,	/* above half of a 64 KiB page */
};

static void sub_bytes_desc(const unsigned int *bytes, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u-byte periods, %lu-byte pages",
		 *bytes, PAGE_SIZE);
}

KUNIT_ARRAY_PARAM(sub_bytes, sub_bytes, sub_bytes_desc);

#define SUB_BUFFERS	32

/*
 * A pool made by audio_pool_params() for a period: buffers of the
 * period's size that share pages when it is at most half a page, and no
 * more to a page than audio_pool_buffers_per_page() counts (so that
 * audio_pool_bytes_per_cpu() is not an underestimate); each one aligned,
 * mapped and disjoint from the others.
 */
static void audio_irq_test_pool_real(struct kunit *test)
{
	unsigned int bytes = *(const unsigned int *)test->param_value;
	unsigned int per_page = audio_pool_buffers_per_page(bytes);
	unsigned int i, j, same, most = 0, got = 0;
	struct atomic_alloc_params params;
	struct device *dev = test_dev(test);
	struct atomic_alloc_pool *pool;
	unsigned long align;
	dma_addr_t *dma;
	void **bufs;

	KUNIT_ASSERT_EQ(test, audio_pool_params(&params, dev, TEST_POOL, bytes,
						SUB_BUFFERS, DMA_TO_DEVICE),
			0);
	pool = test_pool_create(test, &params);
	if (2 * bytes <= PAGE_SIZE) {
		KUNIT_EXPECT_EQ(test, atomic_alloc_buf_bytes(pool), bytes);
		KUNIT_EXPECT_GE(test, per_page, 2U);
		align = audio_pool_align(bytes);
	} else {
		KUNIT_EXPECT_EQ(test, atomic_alloc_buf_bytes(pool),
				(unsigned int)(PAGE_SIZE << get_order(bytes)));
		KUNIT_EXPECT_EQ(test, per_page, 1U);
		align = PAGE_SIZE;
	}

	bufs = kunit_kcalloc(test, SUB_BUFFERS, sizeof(*bufs), GFP_KERNEL);
	dma = kunit_kcalloc(test, SUB_BUFFERS, sizeof(*dma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	KUNIT_ASSERT_NOT_NULL(test, dma);
	for (i = 0; i < SUB_BUFFERS; i++) {
		bufs[i] = atomic_alloc_buf(pool, GFP_KERNEL);
		if (!bufs[i])
			break;
		got++;
		dma[i] = atomic_alloc_buf_dma(pool, bufs[i]);
	}
	KUNIT_EXPECT_EQ(test, got, (unsigned int)SUB_BUFFERS);

	for (i = 0; i < got; i++) {
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED((unsigned long)bufs[i],
						       align),
				      "buffer %u at %p not %lu-byte aligned",
				      i, bufs[i], align);
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED((u64)dma[i], align),
				      "buffer %u at %pad not %lu-byte aligned",
				      i, &dma[i], align);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dma[i]));
		same = 0;
		for (j = 0; j < got; j++) {
			if (j != i)
				KUNIT_EXPECT_TRUE_MSG(test,
						      bufs[i] + bytes <= bufs[j] ||
						      bufs[j] + bytes <= bufs[i],
						      "buffers %u and %u overlap",
						      i, j);
			if (((unsigned long)bufs[j] & PAGE_MASK) ==
			    ((unsigned long)bufs[i] & PAGE_MASK))
				same++;
		}
		most = max(most, same);
		memset(bufs[i], i, bytes);
	}
	for (i = 0; i < got; i++)
		KUNIT_EXPECT_EQ(test, *(u8 *)(bufs[i] + bytes - 1), (u8)i);
	/* Never more to a page than the budget counts... */
	KUNIT_EXPECT_LE(test, most, per_page);
	/* ...and periods of at most half a page really do share one. */
	if (per_page > 1)
		KUNIT_EXPECT_GE(test, most, 2U);

	for (i = 0; i < got; i++)
		atomic_alloc_buf_free(pool, bufs[i]);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);
}

/* ---- histograms ------------------------------------------------------------ */

/*
 * Every duration lands in a bucket whose bounds hold it; buckets tile the
 * line without gap or overlap; above 16 ns each octave has 8 buckets, none
 * wider than an eighth of its lower bound.
 */
static void audio_irq_test_hist_buckets(struct kunit *test)
{
	static const u64 probes[] = {
		0, 1, 15, 16, 17, 31, 32, 33, 100, 127, 128, 1000, 4095, 4096,
		999999, 1000000, 1ULL << 39, (1ULL << 40) - 1, 1ULL << 40,
		U64_MAX,
	};
	unsigned int b, i;

	for (b = 0; b + 1 < AUDIO_HIST_BUCKETS; b++) {
		KUNIT_ASSERT_EQ(test, audio_hist_hi(b) + 1, audio_hist_lo(b + 1));
		KUNIT_ASSERT_EQ(test, audio_hist_bucket(audio_hist_lo(b)), b);
		KUNIT_ASSERT_EQ(test, audio_hist_bucket(audio_hist_hi(b)), b);
		if (audio_hist_lo(b) >= AUDIO_HIST_LINEAR)
			KUNIT_ASSERT_LE(test,
					audio_hist_hi(b) - audio_hist_lo(b) + 1,
					audio_hist_lo(b) / AUDIO_HIST_SUB);
	}
	KUNIT_EXPECT_EQ(test, audio_hist_hi(AUDIO_HIST_BUCKETS - 1), U64_MAX);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		b = audio_hist_bucket(probes[i]);
		KUNIT_EXPECT_LT(test, b, (unsigned int)AUDIO_HIST_BUCKETS);
		KUNIT_EXPECT_LE(test, audio_hist_lo(b), probes[i]);
		KUNIT_EXPECT_GE(test, audio_hist_hi(b), probes[i]);
	}
	/* 1000 ns and 1100 ns are told apart (a log2 bucket would not). */
	KUNIT_EXPECT_NE(test, audio_hist_bucket(1000), audio_hist_bucket(1100));
}

/* Percentiles read from the buckets, and the "lo-hi: count" format. */
static void audio_irq_test_hist_show(struct kunit *test)
{
	struct audio_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	char *text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct seq_file m = { .size = PAGE_SIZE };
	unsigned int i, b;
	char want[64];

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, text);
	for (i = 0; i < 90; i++)
		audio_hist_add(h, 100);
	for (i = 0; i < 10; i++)
		audio_hist_add(h, 5000);
	KUNIT_EXPECT_EQ(test, audio_hist_total(h), 100ULL);
	b = audio_hist_bucket(100);
	KUNIT_EXPECT_EQ(test, audio_hist_percentile(h, 500), audio_hist_hi(b));
	KUNIT_EXPECT_EQ(test, audio_hist_percentile(h, 900), audio_hist_hi(b));
	b = audio_hist_bucket(5000);
	KUNIT_EXPECT_EQ(test, audio_hist_percentile(h, 910), audio_hist_hi(b));
	KUNIT_EXPECT_EQ(test, audio_hist_percentile(h, 990), audio_hist_hi(b));

	m.buf = text;
	audio_hist_show(&m, h);
	b = audio_hist_bucket(100);
	snprintf(want, sizeof(want), "%llu-%llu: 90\n", audio_hist_lo(b),
		 audio_hist_hi(b));
	b = audio_hist_bucket(5000);
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
		 "%llu-%llu: 10\n", audio_hist_lo(b), audio_hist_hi(b));
	KUNIT_EXPECT_STREQ(test, text, want);

	audio_hist_add(h, U64_MAX);
	memset(text, 0, PAGE_SIZE);
	m.count = 0;
	audio_hist_show(&m, h);
	snprintf(want, sizeof(want), "%llu-inf: 1\n",
		 audio_hist_lo(AUDIO_HIST_BUCKETS - 1));
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, want));
}

/* ---- samples --------------------------------------------------------------- */

struct pack_case {
	enum audio_sim_format format;
	s32 value;
	u8 bytes[4];
};

static const struct pack_case pack_cases[] = {
	{ AUDIO_SIM_S24_LE, 0x7fffff, { 0xff, 0xff, 0x7f, 0x00 } },
	{ AUDIO_SIM_S24_LE, -0x800000, { 0x00, 0x00, 0x80, 0xff } },
	{ AUDIO_SIM_S24_LE, 0, { 0x00, 0x00, 0x00, 0x00 } },
	{ AUDIO_SIM_S24_LE, -1, { 0xff, 0xff, 0xff, 0xff } },
	{ AUDIO_SIM_S24_LE, 0x123456, { 0x56, 0x34, 0x12, 0x00 } },
	{ AUDIO_SIM_S24_LE, -0x123456, { 0xaa, 0xcb, 0xed, 0xff } },
	{ AUDIO_SIM_S24_LE, 0x800000 - 0x7fffff, { 0x01, 0x00, 0x00, 0x00 } },
	{ AUDIO_SIM_S24_3LE, 0x7fffff, { 0xff, 0xff, 0x7f } },
	{ AUDIO_SIM_S24_3LE, -0x800000, { 0x00, 0x00, 0x80 } },
	{ AUDIO_SIM_S24_3LE, 0, { 0x00, 0x00, 0x00 } },
	{ AUDIO_SIM_S24_3LE, -1, { 0xff, 0xff, 0xff } },
	{ AUDIO_SIM_S24_3LE, 0x123456, { 0x56, 0x34, 0x12 } },
	{ AUDIO_SIM_S24_3LE, -0x123456, { 0xaa, 0xcb, 0xed } },
};

static void pack_case_desc(const struct pack_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s %d",
		 c->format == AUDIO_SIM_S24_LE ? "s24_le" : "s24_3le",
		 c->value);
}

KUNIT_ARRAY_PARAM(pack, pack_cases, pack_case_desc);

/* The raw bytes of a packed sample, and nothing outside them. */
static void audio_irq_test_pack(struct kunit *test)
{
	const struct pack_case *c = test->param_value;
	unsigned int n = audio_sim_sample_bytes(c->format);
	u8 buf[12], guard[12];

	KUNIT_ASSERT_EQ(test, n, c->format == AUDIO_SIM_S24_LE ? 4U : 3U);
	memset(buf, 0xa5, sizeof(buf));
	memset(guard, 0xa5, sizeof(guard));

	/* Odd offset: the packers must not assume alignment. */
	audio_sim_pack_sample(buf + 3, c->format, c->value);
	KUNIT_EXPECT_MEMEQ(test, buf + 3, c->bytes, n);
	KUNIT_EXPECT_MEMEQ(test, buf, guard, 3);
	KUNIT_EXPECT_MEMEQ(test, buf + 3 + n, guard, sizeof(buf) - 3 - n);

	KUNIT_EXPECT_EQ(test, audio_sim_unpack_sample(buf + 3, c->format),
			c->value);
	KUNIT_EXPECT_EQ(test, audio_sim_unpack_sample(c->bytes, c->format),
			c->value);
}

/* An s24_le container whose top byte is not the sign reads back wrong. */
static void audio_irq_test_bad_pad(struct kunit *test)
{
	static const u8 pos_ff[4] = { 0xff, 0xff, 0x7f, 0xff };
	static const u8 neg_00[4] = { 0x00, 0x00, 0x80, 0x00 };
	static const u8 zero_01[4] = { 0x00, 0x00, 0x00, 0x01 };

	KUNIT_EXPECT_NE(test, audio_sim_unpack_sample(pos_ff, AUDIO_SIM_S24_LE),
			AUDIO_SIM_S24_MAX);
	KUNIT_EXPECT_NE(test, audio_sim_unpack_sample(neg_00, AUDIO_SIM_S24_LE),
			AUDIO_SIM_S24_MIN);
	KUNIT_EXPECT_NE(test, audio_sim_unpack_sample(zero_01,
						      AUDIO_SIM_S24_LE), 0);
	/* The packed format has no pad: the same 3 bytes are fine. */
	KUNIT_EXPECT_EQ(test, audio_sim_unpack_sample(pos_ff,
						      AUDIO_SIM_S24_3LE),
			AUDIO_SIM_S24_MAX);
}

/*
 * The test signal: in range, all four edge values on every channel within
 * 256 frames, plenty of negative values, and different on neighbouring
 * frames and channels, so that a stale, shifted or swapped sample fails.
 */
static void audio_irq_test_signal(struct kunit *test)
{
	unsigned int ch, other, negative = 0, total = 0;
	u64 frame;

	for (ch = 0; ch < AUDIO_SIM_MAX_CHANNELS; ch++) {
		bool seen_max = false, seen_min = false;
		bool seen_zero = false, seen_minus1 = false;

		for (frame = 0; frame < 4096; frame++) {
			s32 v = audio_sim_sample(frame, ch);

			KUNIT_ASSERT_GE(test, v, AUDIO_SIM_S24_MIN);
			KUNIT_ASSERT_LE(test, v, AUDIO_SIM_S24_MAX);
			if (frame < 256) {
				seen_max |= v == AUDIO_SIM_S24_MAX;
				seen_min |= v == AUDIO_SIM_S24_MIN;
				seen_zero |= v == 0;
				seen_minus1 |= v == -1;
			}
			negative += v < 0;
			total++;
			/* Away from the edge frames, the sample is unique. */
			if (((frame + ch) & 0xff) < 4 ||
			    ((frame + 1 + ch) & 0xff) < 4)
				continue;
			KUNIT_ASSERT_NE(test, v, audio_sim_sample(frame + 1, ch));
			for (other = 0; other < AUDIO_SIM_MAX_CHANNELS; other++)
				if (other != ch &&
				    ((frame + other) & 0xff) >= 4)
					KUNIT_ASSERT_NE(test, v,
							audio_sim_sample(frame,
									 other));
		}
		KUNIT_EXPECT_TRUE_MSG(test, seen_max && seen_min && seen_zero &&
				      seen_minus1,
				      "channel %u misses an edge value", ch);
	}
	KUNIT_EXPECT_GT(test, negative, total / 4);
	KUNIT_EXPECT_LT(test, negative, total * 3 / 4);
}

struct fill_case {
	enum audio_sim_format format;
	unsigned int channels;
};

static const struct fill_case fill_cases[] = {
	{ AUDIO_SIM_S24_LE, 1 }, { AUDIO_SIM_S24_LE, 2 },
	{ AUDIO_SIM_S24_LE, 8 }, { AUDIO_SIM_S24_3LE, 1 },
	{ AUDIO_SIM_S24_3LE, 3 }, { AUDIO_SIM_S24_3LE, 8 },
};

static void fill_case_desc(const struct fill_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s x %u",
		 c->format == AUDIO_SIM_S24_LE ? "s24_le" : "s24_3le",
		 c->channels);
}

KUNIT_ARRAY_PARAM(fill, fill_cases, fill_case_desc);

/* audio_sim_verify() accepts what audio_sim_fill() wrote, and only that. */
static void audio_irq_test_fill_verify(struct kunit *test)
{
	const struct fill_case *c = test->param_value;
	unsigned int bytes = audio_sim_sample_bytes(c->format);
	const unsigned int frames = 300;
	size_t size = frames * c->channels * bytes;
	size_t victim = (frames / 2 * c->channels + c->channels - 1) * bytes;
	u8 *buf, saved;

	buf = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	audio_sim_fill(buf, 1000, frames, c->channels, c->format);
	KUNIT_EXPECT_EQ(test, audio_sim_verify(buf, 1000, frames, c->channels,
					       c->format), 0U);
	/* The first sample is written where the format says. */
	KUNIT_EXPECT_EQ(test, audio_sim_unpack_sample(buf, c->format),
			audio_sim_sample(1000, 0));

	/* The same data checked as the next frame: nearly all wrong. */
	KUNIT_EXPECT_GT(test, audio_sim_verify(buf, 1001, frames, c->channels,
					       c->format),
			frames * c->channels * 9 / 10);

	/* One flipped bit in the middle byte of one sample: one error. */
	saved = buf[victim + 1];
	buf[victim + 1] ^= 0x10;
	KUNIT_EXPECT_EQ(test, audio_sim_verify(buf, 1000, frames, c->channels,
					       c->format), 1U);
	buf[victim + 1] = saved;

	if (c->format == AUDIO_SIM_S24_LE) {
		/* A wrong sign extension in the pad byte: one error. */
		buf[victim + 3] ^= 0xff;
		KUNIT_EXPECT_EQ(test, audio_sim_verify(buf, 1000, frames,
						       c->channels, c->format),
				1U);
		buf[victim + 3] ^= 0xff;
	}
	KUNIT_EXPECT_EQ(test, audio_sim_verify(buf, 1000, frames, c->channels,
					       c->format), 0U);
}

/* ---- DMA mapping --------------------------------------------------------- */
/* ---- DMA mapping --------------------------------------------------------- */

static const unsigned int map_orders[] = { 0, 2, ATOMIC_ALLOC_MAX_ORDER };

static void map_order_desc(const unsigned int *order, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "order %u", *order);
}

KUNIT_ARRAY_PARAM(map_order, map_orders, map_order_desc);

#define MAP_BUFFERS	24

/*
 * A pool created for a device with a 32-bit mask hands out buffers that
 * are mapped, below 4 GiB, page aligned and disjoint, also past the local
 * array (shared reserve, page allocator).  They survive a sync round trip.
 */
static void audio_irq_test_dma_mapping(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct atomic_alloc_params params = {
		.name = TEST_POOL,
		.order = order,
		.cpu_buffers = 8,
		.dma_dir = DMA_TO_DEVICE,
	};
	struct device *dev = test_dev(test);
	size_t size = PAGE_SIZE << order;
	struct atomic_alloc_pool *pool;
	struct page **pages;
	dma_addr_t *dma;
	unsigned int i, j, got = 0;

	params.dev = dev;
	pool = test_pool_create(test, &params);
	pages = kunit_kcalloc(test, MAP_BUFFERS, sizeof(*pages), GFP_KERNEL);
	dma = kunit_kcalloc(test, MAP_BUFFERS, sizeof(*dma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, dma);

	for (i = 0; i < MAP_BUFFERS; i++) {
		pages[i] = atomic_alloc_page(pool, GFP_KERNEL);
		if (!pages[i])
			break;
		got++;
		dma[i] = atomic_alloc_dma_addr(pool, pages[i]);
	}
	KUNIT_EXPECT_EQ(test, got, (unsigned int)MAP_BUFFERS);

	for (i = 0; i < got; i++) {
		KUNIT_EXPECT_NE(test, dma[i], DMA_MAPPING_ERROR);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dma[i]));
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED(dma[i], PAGE_SIZE),
				      "dma %pad not page aligned", &dma[i]);
		KUNIT_EXPECT_LE_MSG(test, (u64)dma[i] + size - 1,
				    (u64)DMA_BIT_MASK(32),
				    "buffer %u at %pad ends above 4 GiB", i,
				    &dma[i]);
		/*
		 * The pool allocates from ZONE_DMA32 for this device (the
		 * KUnit runs have memory above 4 GiB: qemu -m 6144).
		 */
		KUNIT_EXPECT_LE(test, (int)page_zonenum(pages[i]), (int)ZONE_DMA32);
		KUNIT_EXPECT_LE(test, (u64)page_to_phys(pages[i]) + size - 1,
				(u64)DMA_BIT_MASK(32));
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_TRUE_MSG(test,
					      dma[i] + size <= dma[j] ||
					      dma[j] + size <= dma[i],
					      "buffers %u and %u overlap", i,
					      j);

		memset(page_address(pages[i]), i, size);
		dma_sync_single_for_device(dev, dma[i], size, DMA_TO_DEVICE);
		dma_sync_single_for_cpu(dev, dma[i], size, DMA_TO_DEVICE);
		KUNIT_EXPECT_EQ(test, *(u8 *)page_address(pages[i]), (u8)i);
	}

	KUNIT_EXPECT_EQ(test, test_outstanding(pool), (u64)got);
	for (i = 0; i < got; i++)
		atomic_alloc_free(pool, pages[i]);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);
}

/* ---- the stream, driven by hand ---------------------------------------------- */

/*
 * A full ring drops periods and counts them; completions come in order and
 * only once due; nothing leaks.  (A stream that drops late periods plays
 * its blocks back to back.)
 */
static void audio_irq_test_tick_ring_full(struct kunit *test)
{
	struct audio_sim_config cfg = test_default_cfg;
	u64 period_ns = test_period_ns(&cfg);
	struct atomic_alloc_pool *pool;
	struct audio_stream_stats st;
	struct audio_stream *s;
	struct audio_sim *sim;
	unsigned int i;

	cfg.ring_entries = 2;
	sim = test_sim(test, &cfg, &pool);
	s = audio_sim_stream(sim, 0);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_NULL(test, audio_sim_stream(sim, 1));

	/* Ten periods at t = 0: two queued, eight dropped. */
	for (i = 0; i < 10; i++)
		audio_stream_period_tick(s, 0, 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.periods, 10ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_submitted, 2ULL);
	KUNIT_EXPECT_EQ(test, st.xrun_ring_full, 8ULL);
	KUNIT_EXPECT_EQ(test, st.xrun_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.ring_used, 2U);
	/* Only the queued ones are out: a full ring takes no buffer. */
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 2ULL);
	KUNIT_EXPECT_EQ(test, test_hist_sum(test, s, AUDIO_HIST_ALLOC), 2ULL);

	/* The first block is due one period after t = 0, not before. */
	audio_stream_dma_tick(s, period_ns - 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 0ULL);
	audio_stream_dma_tick(s, period_ns);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 1ULL);
	KUNIT_EXPECT_EQ(test, st.ring_used, 1U);
	/* The second plays after it. */
	audio_stream_dma_tick(s, 2 * period_ns - 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 1ULL);
	audio_stream_dma_tick(s, 100 * period_ns);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 2ULL);
	KUNIT_EXPECT_EQ(test, st.bytes_played, 2ULL * test_period_bytes(&cfg));
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);

	/* Late: a block queued at t plays from t, due one period later. */
	audio_stream_period_tick(s, 200 * period_ns, 1);
	audio_stream_dma_tick(s, 201 * period_ns - 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 2ULL);
	audio_stream_dma_tick(s, 201 * period_ns);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_submitted, 3ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 3ULL);
	/* Frames 10 periods in: the dropped periods were consumed. */
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);

	audio_sim_stop(sim);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_drained, 0ULL);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);
}

/* One DMA interrupt completes at most AUDIO_DMA_BUDGET buffers. */
static void audio_irq_test_tick_budget(struct kunit *test)
{
	struct audio_sim_config cfg = test_default_cfg;
	const unsigned int n = AUDIO_DMA_BUDGET + 2;
	struct atomic_alloc_pool *pool;
	struct audio_stream_stats st;
	struct audio_stream *s;
	struct audio_sim *sim;
	unsigned int i;
	u64 next;

	cfg.ring_entries = 64;
	sim = test_sim(test, &cfg, &pool);
	s = audio_sim_stream(sim, 0);
	for (i = 0; i < n; i++)
		audio_stream_period_tick(s, 0, 1);

	next = audio_stream_dma_tick(s, U64_MAX / 2);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, (u64)AUDIO_DMA_BUDGET);
	/* More are due: the next interrupt comes as soon as it may. */
	KUNIT_EXPECT_EQ(test, next, U64_MAX / 2 + AUDIO_DMA_POLL_MIN_NS);
	next = audio_stream_dma_tick(s, U64_MAX / 2);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, (u64)n);
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);
	/* Nothing queued: poll once a period. */
	KUNIT_EXPECT_EQ(test, next, U64_MAX / 2 + s->dma_poll_ns);

	/* A stop with buffers queued gives them back. */
	for (i = 0; i < 3; i++)
		audio_stream_period_tick(s, 0, 1);
	audio_sim_stop(sim);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_drained, 3ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_submitted,
			st.buffers_completed + st.buffers_drained);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);
}

/*
 * An allocation failure in the interrupt plays silence, counts xrun_alloc
 * and recovers at the next period; the frame count keeps running.
 */
static void audio_irq_test_tick_alloc_failure(struct kunit *test)
{
	struct audio_sim_config cfg = test_default_cfg;
	struct atomic_alloc_pool *pool;
	struct audio_stream_stats st;
	struct atomic_alloc_stats ps;
	struct audio_stream *s;
	struct audio_sim *sim;

	cfg.ring_entries = 8;
	sim = test_sim(test, &cfg, &pool);
	s = audio_sim_stream(sim, 0);

	audio_stream_inject_alloc_failures(s, 2);
	audio_stream_period_tick(s, 0, 1);	/* silence */
	audio_stream_period_tick(s, 0, 1);	/* silence */
	audio_stream_period_tick(s, 0, 1);	/* frames 2 periods in */
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.xrun_alloc, 2ULL);
	KUNIT_EXPECT_EQ(test, st.alloc_injected, 2ULL);
	KUNIT_EXPECT_EQ(test, st.silence_submitted, 2ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_submitted, 1ULL);
	KUNIT_EXPECT_EQ(test, st.ring_used, 3U);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 1ULL);

	audio_stream_dma_tick(s, U64_MAX / 2);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.silence_played, 2ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 1ULL);
	KUNIT_EXPECT_EQ(test, st.bytes_played, (u64)test_period_bytes(&cfg));
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);

	audio_sim_stop(sim);
	test_pool_stats(pool, &ps);
	KUNIT_EXPECT_EQ(test, ps.outstanding, 0ULL);
	/* The interrupt never asked the page allocator. */
	KUNIT_EXPECT_EQ(test, ps.alloc_direct, 0ULL);
}

/*
 * A pool that really runs dry (no injection): the periods without a
 * buffer play silence and count xrun_alloc, and the interrupt never falls
 * back to the page allocator, which would hide the dry pool (and take a
 * spinlock_t in hard IRQ).
 */
static void audio_irq_test_tick_dry_pool(struct kunit *test)
{
	struct audio_sim_config cfg = test_default_cfg;
	struct atomic_alloc_params params;
	struct device *dev = test_dev(test);
	struct atomic_alloc_pool *pool;
	struct audio_stream_stats st;
	struct atomic_alloc_stats ps;
	struct audio_stream *s;
	struct audio_sim *sim;
	unsigned int i, n;

	/* Two buffers per CPU and two in the reserve; the ring holds 64. */
	KUNIT_ASSERT_EQ(test, audio_pool_params(&params, dev, TEST_POOL,
						test_period_bytes(&cfg), 2,
						DMA_TO_DEVICE), 0);
	params.shared_buffers = 2;
	pool = test_pool_create(test, &params);
	sim = audio_sim_create(dev, pool, &cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sim);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_sim_destroy,
							sim), 0);
	s = audio_sim_stream(sim, 0);

	/*
	 * With no free in between, the pool runs out within 40 periods.
	 * Preemption off, as in the interrupt: the refill worker of this CPU
	 * cannot run in between (the other CPUs' are not kicked).
	 */
	n = 40;
	preempt_disable();
	for (i = 0; i < n; i++)
		audio_stream_period_tick(s, 0, 1);
	preempt_enable();
	audio_stream_get_stats(s, &st);
	test_pool_stats(pool, &ps);
	KUNIT_EXPECT_GT(test, st.xrun_alloc, 0ULL);
	KUNIT_EXPECT_EQ(test, st.buffers_submitted + st.xrun_alloc, (u64)n);
	KUNIT_EXPECT_EQ(test, st.silence_submitted, st.xrun_alloc);
	KUNIT_EXPECT_EQ(test, ps.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, ps.outstanding, st.buffers_submitted);

	/* What was queued plays, silence included, and the pool fills up. */
	audio_stream_dma_tick(s, U64_MAX / 2);
	audio_stream_dma_tick(s, U64_MAX / 2);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed + st.silence_played, (u64)n);
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);
	audio_sim_stop(sim);
	KUNIT_EXPECT_EQ(test, test_outstanding(pool), 0ULL);
}

/* ---- catching up ---------------------------------------------------------------- */

struct test_owner {
	unsigned int periods, played;
	u64 frames;
};

static void test_owner_period(struct audio_stream *s, void *buf, u64 frame,
			      unsigned int frames)
{
	struct test_owner *o = s->priv;

	memset(buf, (u8)(frame / frames), s->period_bytes);
	o->periods++;
	o->frames = frame + frames;
}

static unsigned int test_owner_played(struct audio_stream *s, const void *buf,
				      u64 frame, unsigned int frames,
				      bool silent)
{
	struct test_owner *o = s->priv;

	o->played++;
	return *(const u8 *)buf != (u8)(frame / frames);
}

static const struct audio_stream_ops test_owner_ops = {
	.period = test_owner_period,
	.played = test_owner_played,
};

KUNIT_DEFINE_ACTION_WRAPPER(test_stream_destroy, audio_stream_destroy,
			    struct audio_stream *);
KUNIT_DEFINE_ACTION_WRAPPER(test_stream_halt, audio_stream_halt,
			    struct audio_stream *);

/* A playback stream that catches up (as the card's do), ring of 8. */
static struct audio_stream *test_debt_stream(struct kunit *test,
					     struct test_owner *o,
					     unsigned int catchup,
					     unsigned int debt_max)
{
	struct device *dev = test_dev(test);
	struct audio_stream *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct atomic_alloc_params params;
	struct atomic_alloc_pool *pool;
	void *silence;
	dma_addr_t silence_dma;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, audio_pool_params(&params, dev, TEST_POOL, 256,
						16, DMA_TO_DEVICE), 0);
	pool = test_pool_create(test, &params);
	silence = dmam_alloc_coherent(dev, 256, &silence_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, silence);
	KUNIT_ASSERT_EQ(test, audio_stream_init(s, dev, &test_owner_ops, o,
						false, 8), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							test_stream_destroy,
							s), 0);
	/* 32 frames of 8 bytes at 192 kHz: 166.7 us periods. */
	audio_stream_configure(s, pool, 192000, 8, 32, catchup, debt_max,
			       silence, silence_dma);
	audio_stream_reset(s);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_stream_halt,
							s), 0);
	return s;
}

/*
 * A late timer's periods are owed: handled @catchup at a time, no more
 * than the DMA ring has room for, none lost until the debt limit; beyond
 * it they are counted as lost.  A stream that does not catch up handles
 * one and counts the rest.
 */
static void audio_irq_test_owed(struct kunit *test)
{
	struct test_owner o = {};
	struct audio_stream *s = test_debt_stream(test, &o, 3, 20);
	struct audio_stream_stats st;

	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 1), 1U);
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 0), 1U);	/* at least 1 */
	KUNIT_EXPECT_EQ(test, s->prod.debt, 0ULL);
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 7), 3U);
	KUNIT_EXPECT_EQ(test, s->prod.debt, 4ULL);
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 1), 3U);
	KUNIT_EXPECT_EQ(test, s->prod.debt, 2ULL);
	/* Over the limit: 2 + 30 owed, 20 kept, 12 lost. */
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 30), 3U);
	KUNIT_EXPECT_EQ(test, s->prod.debt, 17ULL);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.timer_overruns, 12ULL);

	/* The ring (8 entries) holds 6: at most 2 more now. */
	audio_stream_period_tick(s, 0, 3);
	audio_stream_period_tick(s, 0, 3);
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 1), 2U);
	audio_stream_period_tick(s, 0, 2);
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 1), 0U);	/* full */
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.xrun_ring_full, 0ULL);
	KUNIT_EXPECT_EQ(test, o.periods, 8U);

	/* Without catching up: one period, the rest lost. */
	s->debt_max = 0;
	KUNIT_EXPECT_EQ(test, audio_stream_owed(s, 5), 1U);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.timer_overruns, 12ULL + 4);
}

/* When the block of 32 frames that starts at frame @f is due, at 192 kHz. */
static u64 test_due(u64 start, u64 f)
{
	return start + div_u64((f + 32) * NSEC_PER_SEC, 192000);
}

/*
 * A stream that catches up plays on its own clock: a block is due when its
 * frames' time since the start has come, and blocks queued late are due at
 * once, so that the output is back on time after a stall.
 */
static void audio_irq_test_catchup_due(struct kunit *test)
{
	struct test_owner o = {};
	struct audio_stream *s = test_debt_stream(test, &o, 4, 100);
	u64 start = 1000000000, p = s->block_ns;
	struct audio_stream_stats st;

	s->prod.start_ns = start;
	/* On time: period 0, ticked at its end, is due at its end. */
	audio_stream_period_tick(s, start + p, 1);
	audio_stream_dma_tick(s, test_due(start, 0) - 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 0ULL);
	audio_stream_dma_tick(s, test_due(start, 0));
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 1ULL);

	/* A stall of 5 periods, caught up 4 then 1: all due at once. */
	audio_stream_period_tick(s, start + 7 * p, 4);
	audio_stream_period_tick(s, start + 7 * p, 1);
	audio_stream_dma_tick(s, start + 7 * p);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 6ULL);

	/*
	 * The next period (frames 192..223) is due on the clock, not one
	 * period after the late burst (back to back would be start + 8p).
	 */
	audio_stream_period_tick(s, start + 7 * p, 1);
	audio_stream_dma_tick(s, test_due(start, 192) - 1);
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 6ULL);
	audio_stream_dma_tick(s, test_due(start, 192));
	audio_stream_get_stats(s, &st);
	KUNIT_EXPECT_EQ(test, st.buffers_completed, 7ULL);
	KUNIT_EXPECT_LT(test, test_due(start, 192), start + 8 * p);
	KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);
	KUNIT_EXPECT_EQ(test, o.played, 7U);
	KUNIT_EXPECT_EQ(test, o.frames, 7ULL * 32);
}

/* ---- the stream, for real ------------------------------------------------ */

struct stream_case {
	const char *desc;
	struct audio_sim_config cfg;
	unsigned int inject;
};

static const struct stream_case stream_cases[] = {
	{ "192 kHz 2 x S24_LE, default periods, a stream per CPU",
	  CFG(192000, 2, S24_LE, 0, 64, 0) },
	{ "48 kHz 8 x S24_3LE, 37-frame periods, 2 streams",
	  CFG(48000, 8, S24_3LE, 37, 16, 2) },
	{ "48 kHz 8 x S24_LE, 4096-frame periods (over a 4 KiB page)",
	  CFG(48000, 8, S24_LE, 4096, 8, 1) },
	{ "192 kHz, 3 allocation failures injected in the interrupt",
	  CFG(192000, 2, S24_LE, 0, 64, 1), 3 },
};

KUNIT_ARRAY_PARAM_DESC(stream, stream_cases, desc);

/*
 * A stream runs until each of its streams has completed this many buffers,
 * at least STREAM_MIN_MS, at most STREAM_MAX_MS.  Progress, not wall time,
 * ends the run: under TCG on a loaded host a vCPU can stall for longer than
 * any fixed window.
 */
#define STREAM_MIN_BUFFERS	3
#define STREAM_MIN_MS		200
#define STREAM_MAX_MS		20000

static bool test_streams_progressed(struct audio_sim *sim, unsigned int n)
{
	struct audio_stream_stats st;
	unsigned int i;

	for (i = 0; i < n; i++) {
		audio_stream_get_stats(audio_sim_stream(sim, i), &st);
		if (st.buffers_completed < STREAM_MIN_BUFFERS)
			return false;
	}
	return true;
}

/*
 * At least 200 ms of real streaming in hard IRQ on several CPUs: every
 * buffer verified, no allocation failure but the injected ones, no
 * allocation from the page allocator, every buffer accounted for and back
 * in the pool after the stop.
 */
static void audio_irq_test_stream(struct kunit *test)
{
	const struct stream_case *c = test->param_value;
	struct audio_sim_config cfg = c->cfg;
	struct atomic_alloc_pool *pool;
	struct audio_stream_stats st;
	struct atomic_alloc_stats ps;
	struct audio_sim *sim;
	u64 period_ns, alloc_sum, elapsed_ns;
	unsigned int i;
	ktime_t start;

	if (!cfg.streams)
		cfg.streams = min(num_online_cpus(), 4U);
	sim = test_sim(test, &cfg, &pool);
	period_ns = DIV_ROUND_UP_ULL((u64)audio_sim_period_frames(&cfg) *
				     NSEC_PER_SEC, cfg.rate);

	if (c->inject)
		audio_stream_inject_alloc_failures(audio_sim_stream(sim, 0),
						   c->inject);
	start = ktime_get();
	KUNIT_ASSERT_EQ(test, audio_sim_start(sim), 0);
	msleep(STREAM_MIN_MS);
	while (!test_streams_progressed(sim, cfg.streams) &&
	       ktime_ms_delta(ktime_get(), start) < STREAM_MAX_MS)
		msleep(20);
	audio_sim_stop(sim);
	elapsed_ns = ktime_to_ns(ktime_sub(ktime_get(), start));

	for (i = 0; i < cfg.streams; i++) {
		struct audio_stream *s = audio_sim_stream(sim, i);
		u64 inject = i ? 0 : c->inject;

		audio_stream_get_stats(s, &st);
		kunit_info(test, "stream%u cpu %u/%u: periods %llu overruns %llu submitted %llu completed %llu drained %llu xrun_alloc %llu ring_full %llu",
			   i, st.cpu, st.dma_cpu, st.periods, st.timer_overruns,
			   st.buffers_submitted, st.buffers_completed,
			   st.buffers_drained, st.xrun_alloc, st.xrun_ring_full);

		KUNIT_EXPECT_EQ(test, st.not_hardirq, 0ULL);
		KUNIT_EXPECT_EQ(test, st.verify_errors, 0ULL);
		KUNIT_EXPECT_EQ(test, st.xrun_alloc, inject);
		KUNIT_EXPECT_EQ(test, st.alloc_injected, inject);
		KUNIT_EXPECT_EQ(test, st.silence_played, inject);
		KUNIT_EXPECT_GE(test, st.buffers_completed,
				(u64)STREAM_MIN_BUFFERS);
		KUNIT_EXPECT_EQ(test, st.buffers_submitted,
				st.buffers_completed + st.buffers_drained);
		KUNIT_EXPECT_EQ(test, st.bytes_played,
				st.buffers_completed * test_period_bytes(&cfg));
		/*
		 * The timer never runs faster than the stream's rate: periods
		 * played plus periods missed fit in the time it ran (one
		 * period of slack for the first expiry's offset).
		 */
		KUNIT_EXPECT_LE(test, (st.periods + st.timer_overruns) *
				period_ns, elapsed_ns + period_ns);
		KUNIT_EXPECT_EQ(test, test_hist_sum(test, s, AUDIO_HIST_HANDLER),
				st.periods);
		/* Every buffer taken was queued (the ring never ran full). */
		alloc_sum = test_hist_sum(test, s, AUDIO_HIST_ALLOC);
		KUNIT_EXPECT_EQ(test, alloc_sum + st.alloc_injected,
				st.buffers_submitted + st.silence_submitted);
		if (num_online_cpus() > 1)
			KUNIT_EXPECT_NE_MSG(test, st.cpu, st.dma_cpu,
					    "frees are not remote");
	}
	test_pool_stats(pool, &ps);
	KUNIT_EXPECT_EQ(test, ps.outstanding, 0ULL);
	/* A dry pool must show as xrun_alloc, never be hidden by tier 3. */
	KUNIT_EXPECT_EQ(test, ps.alloc_direct, 0ULL);
	KUNIT_EXPECT_EQ(test, ps.alloc_failed, 0ULL);
}

static struct kunit_case audio_irq_test_cases[] = {
	KUNIT_CASE_PARAM(audio_irq_test_param, param_gen_params),
	KUNIT_CASE_PARAM(audio_irq_test_config, config_gen_params),
	KUNIT_CASE(audio_irq_test_params_check),
	KUNIT_CASE(audio_irq_test_pool_params),
	KUNIT_CASE(audio_irq_test_pool_bytes),
	KUNIT_CASE_PARAM(audio_irq_test_pool_real, sub_bytes_gen_params),
	KUNIT_CASE(audio_irq_test_hist_buckets),
	KUNIT_CASE(audio_irq_test_hist_show),
	KUNIT_CASE_PARAM(audio_irq_test_pack, pack_gen_params),
	KUNIT_CASE(audio_irq_test_bad_pad),
	KUNIT_CASE(audio_irq_test_signal),
	KUNIT_CASE_PARAM(audio_irq_test_fill_verify, fill_gen_params),
	KUNIT_CASE_PARAM(audio_irq_test_dma_mapping, map_order_gen_params),
	KUNIT_CASE(audio_irq_test_tick_ring_full),
	KUNIT_CASE(audio_irq_test_tick_budget),
	KUNIT_CASE(audio_irq_test_tick_alloc_failure),
	KUNIT_CASE(audio_irq_test_tick_dry_pool),
	KUNIT_CASE(audio_irq_test_owed),
	KUNIT_CASE(audio_irq_test_catchup_due),
	KUNIT_CASE_PARAM_ATTR(audio_irq_test_stream, stream_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite audio_irq_test_suite = {
	.name = "atomic_alloc_audio_irq",
	.test_cases = audio_irq_test_cases,
};

kunit_test_suite(audio_irq_test_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the period interrupt, DMA engine and test-signal streams of atomic_alloc_audio");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
