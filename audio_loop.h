/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_loop - the wire between a playback and a capture subdevice of the
 * atomic_alloc_audio card, and copies into and out of ring buffers
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.
 *
 * What the DMA engine plays on playback subdevice N goes into loop N; the
 * capture period interrupt of subdevice N takes it out again.  The loop is
 * a byte FIFO with one producer (the playback DMA-completion interrupt)
 * and one consumer (the capture period interrupt), lock-free like
 * dma_ring.  See audio_loop.c for the ordering and the delay the consumer
 * keeps.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_LOOP_H
#define _ATOMIC_ALLOC_AUDIO_LOOP_H

#include <linux/cache.h>
#include <linux/sizes.h>
#include <linux/types.h>

/*
 * Bytes a loop holds (a power of two): 1.36 s of 8 x S32_LE at 192 kHz, at
 * least twice the delay the consumer keeps (audio_loop_delay()).
 * Allocated when a loop is first used.
 */
#define AUDIO_LOOP_BYTES	SZ_8M
/*
 * How far the two ends may drift apart in time (timer jitter, a stalled
 * CPU, a period interrupt catching up) before the capture end runs short:
 * the delay the consumer keeps on top of the two ends' periods.
 */
#define AUDIO_LOOP_JITTER_US	1000000

/**
 * struct audio_loop - one wire
 * @buf:	%AUDIO_LOOP_BYTES bytes.
 * @producer_period_bytes: the playback side's period; read by the
 *		consumer to size its delay.
 * @head:	bytes written, free-running; the producer's (release), read
 *		by the consumer (acquire).
 * @overruns:	writes dropped because the loop was full; the producer's.
 * @tail:	bytes read, free-running; the consumer's (release), read by
 *		the producer (acquire).
 * @delay:	bytes the consumer waits for before it starts to read; the
 *		consumer's.
 * @synced:	the consumer has its delay and reads; the consumer's.
 * @underruns:	times the consumer ran short while synced and filled the
 *		rest of a period with silence; the consumer's.
 */
struct audio_loop {
	u8 *buf;
	unsigned int producer_period_bytes;
	unsigned int head ____cacheline_aligned_in_smp;
	u64 overruns;
	unsigned int tail ____cacheline_aligned_in_smp;
	unsigned int delay;
	bool synced;
	u64 underruns;
};

void audio_ring_read(void *dst, const u8 *ring, unsigned int ring_bytes,
		     unsigned int offset, unsigned int len);
void audio_ring_write(u8 *ring, unsigned int ring_bytes, unsigned int offset,
		      const void *src, unsigned int len);

int audio_loop_init(struct audio_loop *loop);
void audio_loop_destroy(struct audio_loop *loop);
unsigned int audio_loop_level(const struct audio_loop *loop);
bool audio_loop_write(struct audio_loop *loop, const void *src,
		      unsigned int len);
void audio_loop_resync(struct audio_loop *loop, unsigned int delay);
unsigned int audio_loop_read(struct audio_loop *loop, void *dst,
			     unsigned int len, bool count);
unsigned int audio_loop_delay(unsigned int rate, unsigned int frame_bytes,
			      unsigned int period_bytes,
			      unsigned int producer_period_bytes);

#endif /* _ATOMIC_ALLOC_AUDIO_LOOP_H */
