/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_ring - the queue of buffers handed to the simulated DMA engine
 *
 * Private to atomic_alloc_audio.ko and its KUnit suite.
 *
 * Concurrency: one producer and one consumer, no lock.
 *
 *  - The producer (a stream's period interrupt) is the only writer of
 *    @head and of the slot at @head.  It calls dma_ring_next_free(), fills
 *    the slot, then dma_ring_push().
 *  - The consumer (the stream's DMA-completion interrupt, on another CPU)
 *    is the only writer of @tail.  It calls dma_ring_oldest(), reads the
 *    slot, then dma_ring_pop().
 *  - dma_ring_count() may be called from anywhere and is only a snapshot.
 *  - dma_ring_init(), dma_ring_reset() and dma_ring_destroy() need both
 *    sides stopped.
 *
 * A second producer or a second consumer needs a lock the ring does not
 * have.  See dma_ring.c for the barrier pairing.
 */
#ifndef _ATOMIC_ALLOC_DMA_RING_H
#define _ATOMIC_ALLOC_DMA_RING_H

#include <linux/cache.h>
#include <linux/types.h>

/* Smallest and largest ring, in entries; the size is a power of two. */
#define DMA_RING_MIN_ENTRIES	2
#define DMA_RING_MAX_ENTRIES	4096

/**
 * struct dma_ring_entry - one buffer queued for playback
 * @buf:	the buffer, from the stream's atomic_alloc pool (its CPU
 *		address); NULL when the block plays from the device's silence
 *		buffer.
 * @dma:	bus address of the data, as the device sees it.
 * @bytes:	bytes of audio in the buffer (whole frames).
 * @frames:	frames in the buffer.
 * @first_frame: stream frame index of the first frame in the buffer.
 * @due_ns:	CLOCK_MONOTONIC time (ns) at which the buffer has finished
 *		playing and may be completed.
 */
struct dma_ring_entry {
	void *buf;
	dma_addr_t dma;
	unsigned int bytes;
	unsigned int frames;
	u64 first_frame;
	u64 due_ns;
};

/**
 * struct dma_ring - single-producer, single-consumer ring of entries
 * @entries:	the slots, a power-of-two number of them.
 * @mask:	number of slots minus one.
 * @head:	free-running count of entries pushed; written by the
 *		producer only (release), read by the consumer (acquire).
 * @tail:	free-running count of entries popped; written by the
 *		consumer only (release), read by the producer (acquire).
 *
 * @head and @tail wrap at 2^32; their difference is the number of queued
 * entries.  They live on separate cache lines so that the two CPUs do not
 * bounce one line on every operation.
 */
struct dma_ring {
	struct dma_ring_entry *entries;
	unsigned int mask;
	unsigned int head ____cacheline_aligned_in_smp;
	unsigned int tail ____cacheline_aligned_in_smp;
};

/**
 * dma_ring_size() - number of slots in a ring
 * @ring: an initialised ring
 *
 * Context: Any context.
 * Return: the capacity given to dma_ring_init().
 */
static inline unsigned int dma_ring_size(const struct dma_ring *ring)
{
	return ring->mask + 1;
}

int dma_ring_init(struct dma_ring *ring, unsigned int entries);
void dma_ring_destroy(struct dma_ring *ring);
void dma_ring_reset(struct dma_ring *ring);
struct dma_ring_entry *dma_ring_next_free(struct dma_ring *ring);
unsigned int dma_ring_free(struct dma_ring *ring);
void dma_ring_push(struct dma_ring *ring);
const struct dma_ring_entry *dma_ring_oldest(struct dma_ring *ring);
void dma_ring_pop(struct dma_ring *ring);
unsigned int dma_ring_count(const struct dma_ring *ring);

#endif /* _ATOMIC_ALLOC_DMA_RING_H */
