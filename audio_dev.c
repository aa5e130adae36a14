// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_audio - a simulated 24-bit / 192 kHz audio device, and an
 * ALSA sound card, that take a fresh DMA buffer from an atomic_alloc pool
 * inside their hard interrupt
 *
 * This file is the device: its pools, probe and remove, and the module.
 * Like sound/drivers/dummy.c the module registers a platform driver and one
 * platform device for it; probe creates
 *
 *  - the test-signal streams (audio_sim.c) and their pool,
 *    "<dev_name>-sim";
 *  - the sound card (audio_pcm.c), whose subdevices make their pools in
 *    hw_params;
 *  - the debugfs directory (audio_debugfs.c), /sys/kernel/debug/<dev_name>/.
 *
 * Concurrency: probe and remove run in process context, serialised by the
 * driver core; they are the only writers of struct audio_dev.  Remove takes
 * debugfs down first (waiting for readers), then the card (no file can be
 * open: each holds a reference on the module), then the streams (their
 * timers stop and every buffer comes back), then the pool.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "atomic_alloc.h"
#include "audio_dev.h"
#include "audio_params.h"
#include "audio_pcm.h"
#include "audio_sim.h"

#define AUDIO_DRIVER_NAME	"atomic_alloc_audio"

/* Why the device module_init() registered did not probe. */
static int audio_dev_probe_err;

/**
 * audio_pool_align() - alignment of a device buffer smaller than a page
 * @buffer_bytes: bytes one buffer must hold (a period)
 *
 * The library's own default for a pool with a device
 * (%ATOMIC_ALLOC_MIN_ALIGN, or the DMA cache line if that is larger, so
 * that a non-coherent device's syncs of one period never touch a line of
 * its neighbour).  Only a period so short that more than
 * %ATOMIC_ALLOC_MAX_BUFS_PER_PAGE of them would share a page is aligned
 * to PAGE_SIZE / %ATOMIC_ALLOC_MAX_BUFS_PER_PAGE instead (1 KiB on 64 KiB
 * pages), so that exactly that many do.  A power of two either way.
 *
 * Context: Any context.
 * Return: the alignment in bytes.
 */
unsigned int audio_pool_align(unsigned int buffer_bytes)
{
	unsigned int align = max_t(unsigned int, ATOMIC_ALLOC_MIN_ALIGN,
				   dma_get_cache_alignment());
	unsigned int floor = PAGE_SIZE / ATOMIC_ALLOC_MAX_BUFS_PER_PAGE;

	return ALIGN(buffer_bytes, align) < floor ? max(align, floor) : align;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pool_align);

/**
 * audio_pool_buffers_per_page() - how many buffers of a pool share a page
 * @buffer_bytes: bytes one buffer must hold (a period)
 *
 * A period that fits a page at least twice over, at audio_pool_align(),
 * gets a buffer carved from an order-0 page, shared with other periods
 * (atomic_alloc_params.buffer_bytes): a 256-frame S24_3LE stereo period
 * of 1.5 KiB costs 1.5 KiB, not a 64 KiB page.  A longer one gets whole pages: carving one
 * buffer per page, or carving from higher-order pages, would gain little
 * and need the contiguous memory the pool exists to do without.
 *
 * Context: Any context.
 * Return: the buffers per order-0 page, at least 2, for a pool of buffers
 * smaller than a page; 1 for whole-page buffers.
 */
unsigned int audio_pool_buffers_per_page(unsigned int buffer_bytes)
{
	unsigned int stride;

	if (!buffer_bytes || buffer_bytes > PAGE_SIZE / 2)
		return 1;
	stride = ALIGN(buffer_bytes, audio_pool_align(buffer_bytes));
	return stride <= PAGE_SIZE / 2 ? PAGE_SIZE / stride : 1;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pool_buffers_per_page);

/**
 * audio_pool_bytes_per_cpu() - memory a pool of the device keeps per CPU
 * @buffer_bytes: bytes one buffer must hold
 * @cpu_buffers: buffers per CPU
 *
 * Counted as the library counts it against %ATOMIC_ALLOC_MAX_CPU_BYTES: in
 * the pages the buffers really take on this kernel.  Buffers smaller than a
 * page take a page per audio_pool_buffers_per_page() of them (rounded up);
 * whole-page buffers the smallest power-of-two number of pages that holds
 * @buffer_bytes each.  Either way the figure depends on the page size.
 *
 * Context: Any context.
 * Return: the bytes of the pages that @cpu_buffers buffers take.
 */
unsigned long audio_pool_bytes_per_cpu(unsigned int buffer_bytes,
				       unsigned int cpu_buffers)
{
	unsigned int per_page = audio_pool_buffers_per_page(buffer_bytes);

	if (per_page > 1)
		return DIV_ROUND_UP(cpu_buffers, per_page) * PAGE_SIZE;
	return (unsigned long)cpu_buffers * (PAGE_SIZE << get_order(buffer_bytes));
}
EXPORT_SYMBOL_IF_KUNIT(audio_pool_bytes_per_cpu);

/**
 * audio_pool_params() - parameters of one of the device's pools
 * @params: filled in completely on success
 * @dev: the device the buffers are mapped for
 * @name: the pool's name
 * @buffer_bytes: bytes one buffer must hold (a period), 1 to
 *	%AUDIO_PERIOD_BYTES_MAX
 * @cpu_buffers: buffers per CPU, 1 to %ATOMIC_ALLOC_MAX_CPU_BUFFERS
 * @dir: DMA direction of the buffers
 *
 * A period that audio_pool_buffers_per_page() fits more than once in a
 * page gets a pool of buffers of exactly @buffer_bytes, at
 * audio_pool_align(), carved from order-0 pages; a longer one a pool of
 * whole buffers of the smallest order that holds it.  This is the one
 * place that chooses, for the card's subdevices and the test-signal
 * streams alike.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL when the pool would be outside the byte budget
 * (%AUDIO_POOL_CPU_BYTES_MAX per CPU, counted by
 * audio_pool_bytes_per_cpu() on this kernel's page size) or a size is out
 * of range.
 */
int audio_pool_params(struct atomic_alloc_params *params, struct device *dev,
		      const char *name, unsigned int buffer_bytes,
		      unsigned int cpu_buffers, enum dma_data_direction dir)
{
	if (!buffer_bytes || buffer_bytes > AUDIO_PERIOD_BYTES_MAX ||
	    !cpu_buffers || cpu_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS ||
	    audio_pool_bytes_per_cpu(buffer_bytes, cpu_buffers) >
	    AUDIO_POOL_CPU_BYTES_MAX)
		return -EINVAL;
	memset(params, 0, sizeof(*params));
	params->name = name;
	if (audio_pool_buffers_per_page(buffer_bytes) > 1) {
		params->buffer_bytes = buffer_bytes;
		params->align = audio_pool_align(buffer_bytes);
	} else {
		params->order = get_order(buffer_bytes);
	}
	params->cpu_buffers = cpu_buffers;
	params->dev = dev;
	params->dma_dir = dir;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_pool_params);

/* ---- probe and remove ------------------------------------------------------ */

static void audio_dev_teardown(struct audio_dev *ad)
{
	struct atomic_alloc_stats st;

	audio_debugfs_remove(ad);
	if (!IS_ERR_OR_NULL(ad->pcm))
		audio_pcm_destroy(ad->pcm);
	if (!IS_ERR_OR_NULL(ad->sim))
		audio_sim_destroy(ad->sim);
	if (IS_ERR_OR_NULL(ad->sim_pool))
		return;
	atomic_alloc_get_stats(ad->sim_pool, &st);
	dev_info(ad->dev, "pool %s: alloc_local %llu alloc_remote %llu alloc_direct %llu alloc_failed %llu freed %llu outstanding %llu\n",
		 ad->sim_pool_name, st.alloc_local, st.alloc_remote,
		 st.alloc_direct, st.alloc_failed, st.freed, st.outstanding);
	if (st.outstanding)
		dev_err(ad->dev, "%llu buffers not returned to the pool\n",
			st.outstanding);
	atomic_alloc_destroy(ad->sim_pool);
}

static int audio_dev_create(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct atomic_alloc_params params;
	struct audio_params p;
	struct audio_dev *ad;
	int err;

	audio_params_get(&p);
	ad = devm_kzalloc(dev, sizeof(*ad), GFP_KERNEL);
	if (!ad)
		return -ENOMEM;
	ad->dev = dev;
	err = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (err)
		return err;

	snprintf(ad->sim_pool_name, sizeof(ad->sim_pool_name), "%.27s-sim",
		 dev_name(dev));
	err = audio_sim_pool_params(&p.cfg, dev, ad->sim_pool_name, &params);
	if (err)
		return err;
	ad->sim_pool = atomic_alloc_create(&params);
	if (IS_ERR(ad->sim_pool)) {
		err = PTR_ERR(ad->sim_pool);
		dev_err(dev, "pool %s: %u buffers of %lu bytes per CPU (for rate=%u channels=%u period_frames=%u ring_entries=%u streams=%u): %d\n",
			ad->sim_pool_name, params.cpu_buffers,
			params.buffer_bytes ?: PAGE_SIZE << params.order,
			p.cfg.rate, p.cfg.channels,
			audio_sim_period_frames(&p.cfg), p.cfg.ring_entries,
			p.cfg.streams, err);
		return err;
	}
	ad->sim = audio_sim_create(dev, ad->sim_pool, &p.cfg);
	if (IS_ERR(ad->sim)) {
		err = PTR_ERR(ad->sim);
		goto err_teardown;
	}
	ad->pcm = audio_pcm_create(dev, p.index, p.id, p.cfg.streams);
	if (IS_ERR(ad->pcm)) {
		err = PTR_ERR(ad->pcm);
		dev_err(dev, "cannot create the sound card (index=%d id=%s): %d\n",
			p.index, p.id, err);
		goto err_teardown;
	}
	audio_debugfs_create(ad);
	dev_info(dev, "pool %s: %u buffers of %u bytes per CPU, %u per page\n",
		 ad->sim_pool_name, params.cpu_buffers,
		 atomic_alloc_buf_bytes(ad->sim_pool),
		 params.buffer_bytes ?
		 audio_pool_buffers_per_page(params.buffer_bytes) : 1);

	if (p.autostart) {
		err = audio_sim_start(ad->sim);
		if (err)
			goto err_teardown;
	}
	platform_set_drvdata(pdev, ad);
	return 0;

err_teardown:
	audio_dev_teardown(ad);
	return err;
}

static int audio_dev_probe(struct platform_device *pdev)
{
	audio_dev_probe_err = audio_dev_create(pdev);
	return audio_dev_probe_err;
}

static void audio_dev_remove(struct platform_device *pdev)
{
	audio_dev_teardown(platform_get_drvdata(pdev));
}

static struct platform_driver audio_dev_driver = {
	.probe = audio_dev_probe,
	.remove_new = audio_dev_remove,
	.driver = {
		.name = AUDIO_DRIVER_NAME,
	},
};

static struct platform_device *audio_dev_pdev;

static int __init audio_dev_init(void)
{
	struct platform_device *pdev;
	struct audio_params p;
	int err;

	audio_params_get(&p);
	err = audio_params_check(&p);
	if (err)
		return err;
	if (!p.enable) {
		pr_info("enable=0: no device created\n");
		return 0;
	}

	err = platform_driver_register(&audio_dev_driver);
	if (err)
		return err;
	pdev = platform_device_register_simple(AUDIO_DRIVER_NAME,
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev)) {
		err = PTR_ERR(pdev);
		goto err_driver;
	}
	/* Probe ran synchronously; without driver data it failed. */
	if (!platform_get_drvdata(pdev)) {
		err = audio_dev_probe_err ?: -ENODEV;
		pr_err("the device did not probe: %d (see the messages above)\n",
		       err);
		platform_device_unregister(pdev);
		goto err_driver;
	}
	audio_dev_pdev = pdev;
	return 0;

err_driver:
	platform_driver_unregister(&audio_dev_driver);
	return err;
}
module_init(audio_dev_init);

static void __exit audio_dev_exit(void)
{
	if (!audio_dev_pdev)
		return;
	platform_device_unregister(audio_dev_pdev);
	platform_driver_unregister(&audio_dev_driver);
}
module_exit(audio_dev_exit);

MODULE_DESCRIPTION("Simulated 24-bit audio device and ALSA loopback card taking DMA buffers from atomic_alloc in hard IRQ");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
