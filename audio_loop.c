// SPDX-License-Identifier: GPL-2.0
/*
 * audio_loop - the wire between a playback and a capture subdevice of the
 * atomic_alloc_audio card, and copies into and out of ring buffers
 *
 * Concurrency rules
 *
 *   function             caller                       context
 *   audio_ring_read      anyone                       any
 *   audio_ring_write     anyone                       any
 *   audio_loop_write     the producer only            any, hard IRQ too
 *   audio_loop_resync    the consumer only, stopped   any (ALSA trigger)
 *   audio_loop_read      the consumer only            any, hard IRQ too
 *   audio_loop_level     anyone                       any (a snapshot)
 *   audio_loop_init      nobody uses the loop         process
 *   audio_loop_destroy   nobody uses the loop         process
 *
 * The producer is the DMA-completion interrupt of playback subdevice N, the
 * consumer the capture side of subdevice N: its trigger (resync, before its
 * period timer starts) and then its period interrupt.  They run on
 * different CPUs at the same time; no lock, O(len) copies.  Ordering comes
 * from two release/acquire pairs, as in dma_ring.c:
 *
 *  (A) audio_loop_write() stores @head with release after copying the data
 *      in; audio_loop_read() and audio_loop_resync() load @head with
 *      acquire before reading the data.
 *  (B) audio_loop_read() and audio_loop_resync() store @tail with release
 *      after they are done with the data; audio_loop_write() loads @tail
 *      with acquire before it overwrites that space.
 *
 * The consumer keeps a delay: after a resync (capture start) or a short
 * read it delivers silence until the loop holds audio_loop_delay() bytes,
 * then reads exactly what it is asked for.  Two timers that tick at the
 * same nominal rate on different CPUs jitter against each other; the delay
 * absorbs the jitter so that the captured stream has no gap.  Each side
 * writes only its own fields of struct audio_loop.
 */

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <kunit/visibility.h>
#include <asm/barrier.h>

#include "audio_loop.h"

#define AUDIO_LOOP_MASK	(AUDIO_LOOP_BYTES - 1)

/**
 * audio_ring_read() - copy bytes out of a ring buffer
 * @dst: where to
 * @ring: the ring
 * @ring_bytes: its size
 * @offset: where in the ring to start, below @ring_bytes
 * @len: bytes to copy, at most @ring_bytes; past the end of the ring the
 *	copy goes on from its start
 *
 * Context: Any context.  O(@len).
 */
void audio_ring_read(void *dst, const u8 *ring, unsigned int ring_bytes,
		     unsigned int offset, unsigned int len)
{
	unsigned int first = min(len, ring_bytes - offset);

	memcpy(dst, ring + offset, first);
	if (len > first)
		memcpy((u8 *)dst + first, ring, len - first);
}
EXPORT_SYMBOL_IF_KUNIT(audio_ring_read);

/**
 * audio_ring_write() - copy bytes into a ring buffer
 * @ring: the ring
 * @ring_bytes: its size
 * @offset: where in the ring to start, below @ring_bytes
 * @src: what to copy
 * @len: bytes to copy, at most @ring_bytes; past the end of the ring the
 *	copy goes on at its start
 *
 * Context: Any context.  O(@len).
 */
void audio_ring_write(u8 *ring, unsigned int ring_bytes, unsigned int offset,
		      const void *src, unsigned int len)
{
	unsigned int first = min(len, ring_bytes - offset);

	memcpy(ring + offset, src, first);
	if (len > first)
		memcpy(ring, (const u8 *)src + first, len - first);
}
EXPORT_SYMBOL_IF_KUNIT(audio_ring_write);

/**
 * audio_loop_init() - allocate a loop's wire, empty
 * @loop: a zeroed loop, or one already initialised (then nothing happens)
 *
 * Context: Process context; nobody may be using @loop yet.  Allocates with
 * GFP_KERNEL.
 * Return: 0 or -ENOMEM.
 */
int audio_loop_init(struct audio_loop *loop)
{
	if (loop->buf)
		return 0;
	loop->buf = kvzalloc(AUDIO_LOOP_BYTES, GFP_KERNEL);
	if (!loop->buf)
		return -ENOMEM;
	loop->head = 0;
	loop->tail = 0;
	loop->synced = false;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_init);

/**
 * audio_loop_destroy() - free a loop's wire
 * @loop: the loop, initialised or not
 *
 * Context: Process context; nobody may be using @loop any more.
 */
void audio_loop_destroy(struct audio_loop *loop)
{
	kvfree(loop->buf);
	loop->buf = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_destroy);

/**
 * audio_loop_level() - bytes in the loop
 * @loop: an initialised loop
 *
 * Context: Any context, from any CPU.
 * Return: a snapshot, 0 to %AUDIO_LOOP_BYTES.
 */
unsigned int audio_loop_level(const struct audio_loop *loop)
{
	/* As dma_ring_count(): @tail first, ordered, so never negative. */
	unsigned int tail = smp_load_acquire(&loop->tail);
	unsigned int head = READ_ONCE(loop->head);

	return min_t(unsigned int, head - tail, AUDIO_LOOP_BYTES);
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_level);

/**
 * audio_loop_write() - put what was played into the loop
 * @loop: an initialised loop
 * @src: the bytes
 * @len: how many, at most %AUDIO_LOOP_BYTES
 *
 * All or nothing: when the loop has no room for @len bytes (nobody
 * captures), they are dropped and counted in @loop->overruns.
 *
 * Context: The producer only; any context.  No lock.
 * Return: true if the bytes went in.
 */
bool audio_loop_write(struct audio_loop *loop, const void *src,
		      unsigned int len)
{
	unsigned int head = loop->head;
	/* (B) Pairs with smp_store_release() in audio_loop_read(). */
	unsigned int tail = smp_load_acquire(&loop->tail);

	if (len > AUDIO_LOOP_BYTES - (head - tail)) {
		WRITE_ONCE(loop->overruns, loop->overruns + 1);
		return false;
	}
	audio_ring_write(loop->buf, AUDIO_LOOP_BYTES, head & AUDIO_LOOP_MASK,
			 src, len);
	/* (A) Pairs with smp_load_acquire() in audio_loop_read(). */
	smp_store_release(&loop->head, head + len);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_write);

/**
 * audio_loop_delay() - how much the consumer lets the loop fill first
 * @rate: frames per second of both sides
 * @frame_bytes: bytes per frame of both sides
 * @period_bytes: the consumer's period
 * @producer_period_bytes: the producer's period, 0 if not known yet
 *
 * Two consumer periods, one producer period and %AUDIO_LOOP_JITTER_US of
 * audio, in whole frames, at most half the loop.  This is the loop's
 * latency, from the DMA engine playing a frame to the capture period that
 * takes it.
 *
 * Context: Any context.
 * Return: the delay in bytes.
 */
unsigned int audio_loop_delay(unsigned int rate, unsigned int frame_bytes,
			      unsigned int period_bytes,
			      unsigned int producer_period_bytes)
{
	u64 jitter = DIV_ROUND_UP_ULL((u64)rate * AUDIO_LOOP_JITTER_US,
				      USEC_PER_SEC) * frame_bytes;
	u64 d = 2ULL * period_bytes + producer_period_bytes + jitter;

	d = min_t(u64, d, AUDIO_LOOP_BYTES / 2);
	return d - d % frame_bytes;
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_delay);

/**
 * audio_loop_resync() - drop what is in the loop and wait for the delay
 * @loop: an initialised loop
 * @delay: bytes to wait for before reading, see audio_loop_delay(); while
 *	it is not synced the consumer may store a new @loop->delay before
 *	each read (the producer's period may have changed)
 *
 * Context: The consumer only, while it does not read (ALSA's trigger,
 * before the capture period timer starts).
 */
void audio_loop_resync(struct audio_loop *loop, unsigned int delay)
{
	/* (A) */
	unsigned int head = smp_load_acquire(&loop->head);

	loop->delay = delay;
	loop->synced = false;
	/* (B) */
	smp_store_release(&loop->tail, head);
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_resync);

/**
 * audio_loop_read() - take one period out of the loop
 * @loop: an initialised loop
 * @dst: where the period goes; NULL drops it
 * @len: the period's bytes, at most half the loop
 * @count: count a short read as an underrun (false once the producer has
 *	finished: what is left is the end of its stream, not a gap)
 *
 * Not synced yet (after a resync or a short read): @dst gets silence until
 * the loop holds the delay.  Synced: @dst gets the next @len bytes; when
 * fewer are there, it gets what there is, then silence, the short read is
 * counted in @loop->underruns (if @count) and the consumer waits for the
 * delay again.
 *
 * Context: The consumer only; any context.  No lock.
 * Return: the bytes of @dst that came from the loop, the rest is silence.
 */
unsigned int audio_loop_read(struct audio_loop *loop, void *dst,
			     unsigned int len, bool count)
{
	unsigned int tail = loop->tail;
	/* (A) Pairs with smp_store_release() in audio_loop_write(). */
	unsigned int level = smp_load_acquire(&loop->head) - tail;
	unsigned int n = 0;

	if (!loop->synced && level >= loop->delay)
		loop->synced = true;
	if (loop->synced) {
		n = min(level, len);
		if (n < len) {
			loop->synced = false;
			if (count)
				WRITE_ONCE(loop->underruns, loop->underruns + 1);
		}
		if (dst)
			audio_ring_read(dst, loop->buf, AUDIO_LOOP_BYTES,
					tail & AUDIO_LOOP_MASK, n);
		/* (B) Pairs with smp_load_acquire() in audio_loop_write(). */
		smp_store_release(&loop->tail, tail + n);
	}
	if (dst && n < len)
		memset((u8 *)dst + n, 0, len - n);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(audio_loop_read);
