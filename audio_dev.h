/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_dev - the atomic_alloc_audio device: its byte budgets, its pools
 * and the parts that make it up
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.
 *
 * The device has two front ends on one period-interrupt engine
 * (audio_irq.c): its own test-signal streams (audio_sim.c, started from
 * debugfs or at load) and an ALSA sound card (audio_pcm.c, driven by
 * aplay, arecord and every other ALSA application).  Each has its own
 * pools.  Module parameters are audio_params.c, debugfs is
 * audio_debugfs.c, probe, remove and the pools are audio_dev.c.
 *
 * Concurrency: everything declared here is process context (probe, remove,
 * ALSA's hw_params), serialised by its caller.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_DEV_H
#define _ATOMIC_ALLOC_AUDIO_DEV_H

#include <linux/dma-direction.h>
#include <linux/sizes.h>
#include <linux/types.h>

#include "atomic_alloc.h"

struct atomic_alloc_params;
struct audio_pcm;
struct audio_sim;
struct dentry;
struct device;

/*
 * Byte budgets.  Every size the device derives is checked against these in
 * bytes, whatever the kernel's page size; pages are derived from bytes,
 * never the other way round.
 *
 * AUDIO_PERIOD_FRAMES_MIN	the shortest period: 32 frames (PipeWire's
 *				smallest quantum; 167 us at 192 kHz).
 * AUDIO_PERIOD_BYTES_DEFAULT	the test-signal streams' period when none
 *				is given: the whole frames that fit 4 KiB
 *				(512 frames, 2.67 ms, of S24_LE stereo at
 *				192 kHz, on any page size).
 * AUDIO_PERIOD_BYTES_MAX	the longest period, which is what one pool
 *				buffer holds: 128 KiB.
 * AUDIO_POOL_CPU_BYTES_MAX	what one of the device's pools may keep
 *				ready per CPU, counted in the memory it
 *				really takes on this kernel (the pages its
 *				buffers take: a period smaller than half a
 *				page shares its page with others, a longer
 *				one takes whole pages): the library's own
 *				cap.
 */
#define AUDIO_PERIOD_FRAMES_MIN		32
#define AUDIO_PERIOD_BYTES_DEFAULT	SZ_4K
#define AUDIO_PERIOD_BYTES_MAX		SZ_128K

#define AUDIO_POOL_CPU_BYTES_MAX	ATOMIC_ALLOC_MAX_CPU_BYTES

/* Time the pools' refill worker may take to top a CPU up again. */
#define AUDIO_REFILL_LATENCY_US		1000

/**
 * struct audio_dev - one atomic_alloc_audio device
 * @dev:	the platform device's struct device (32-bit DMA mask).
 * @sim_pool:	the test-signal streams' pool.
 * @sim:	the test-signal streams, or NULL.
 * @pcm:	the ALSA card, or NULL.
 * @debugfs:	/sys/kernel/debug/<dev_name>/, or an error pointer.
 * @sim_pool_name: "<dev_name>-sim".
 */
struct audio_dev {
	struct device *dev;
	struct atomic_alloc_pool *sim_pool;
	struct audio_sim *sim;
	struct audio_pcm *pcm;
	struct dentry *debugfs;
	char sim_pool_name[32];
};

unsigned int audio_pool_align(unsigned int buffer_bytes);
unsigned int audio_pool_buffers_per_page(unsigned int buffer_bytes);
unsigned long audio_pool_bytes_per_cpu(unsigned int buffer_bytes,
				       unsigned int cpu_buffers);
int audio_pool_params(struct atomic_alloc_params *params, struct device *dev,
		      const char *name, unsigned int buffer_bytes,
		      unsigned int cpu_buffers, enum dma_data_direction dir);
void audio_debugfs_create(struct audio_dev *ad);
void audio_debugfs_remove(struct audio_dev *ad);

#endif /* _ATOMIC_ALLOC_AUDIO_DEV_H */
