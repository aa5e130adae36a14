// SPDX-License-Identifier: GPL-2.0
/*
 * dma_ring - the queue of buffers handed to the simulated DMA engine
 *
 * Concurrency rules (the full contract is at the top of dma_ring.h):
 *
 *   function             caller                 context
 *   dma_ring_next_free   the producer only      any, including hard IRQ
 *   dma_ring_free        the producer only      any, including hard IRQ
 *   dma_ring_push        the producer only      any, including hard IRQ
 *   dma_ring_oldest      the consumer only      any, including hard IRQ
 *   dma_ring_pop         the consumer only      any, including hard IRQ
 *   dma_ring_count       anyone                 any (a snapshot)
 *   dma_ring_init/reset  both sides stopped     process
 *   dma_ring_destroy     both sides stopped     process
 *
 * The producer and the consumer run on different CPUs at the same time.
 * No lock is taken and nothing sleeps on the hot paths; every operation is
 * O(1).  Ordering comes from three release/acquire pairs:
 *
 *  (A) dma_ring_push() stores @head with release after filling the slot;
 *      dma_ring_oldest() loads @head with acquire before reading the slot.
 *      The consumer never sees an index before the slot's contents.
 *  (B) dma_ring_pop() stores @tail with release after the consumer is done
 *      with the slot; dma_ring_next_free() loads @tail with acquire before
 *      handing the slot back to the producer.  The producer never
 *      overwrites a slot the consumer is still reading.
 *
 *  (C) dma_ring_count() loads @tail with acquire before it loads @head,
 *      pairing with smp_store_release() in dma_ring_pop(): the consumer
 *      stored that @tail only after it had seen a @head at least as large,
 *      so the @head read afterwards is never below it.
 *
 * Each side reads its own index with a plain load: nobody else writes it.
 */

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <asm/barrier.h>

#include "dma_ring.h"

/**
 * dma_ring_init() - allocate the slots of a ring
 * @ring: the ring to set up; its previous contents are ignored
 * @entries: capacity, a power of two from %DMA_RING_MIN_ENTRIES to
 *	%DMA_RING_MAX_ENTRIES
 *
 * Context: Process context.  Allocates with GFP_KERNEL, may sleep.
 * Return: 0, -EINVAL for a bad @entries, or -ENOMEM.
 */
int dma_ring_init(struct dma_ring *ring, unsigned int entries)
{
	ring->entries = NULL;
	ring->mask = 0;
	ring->head = 0;
	ring->tail = 0;

	if (entries < DMA_RING_MIN_ENTRIES || entries > DMA_RING_MAX_ENTRIES ||
	    !is_power_of_2(entries))
		return -EINVAL;

	ring->entries = kvcalloc(entries, sizeof(*ring->entries), GFP_KERNEL);
	if (!ring->entries)
		return -ENOMEM;
	ring->mask = entries - 1;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_init);

/**
 * dma_ring_destroy() - free the slots of a ring
 * @ring: a ring set up by dma_ring_init(), even a failed one, or zeroed
 *
 * Entries still queued are forgotten; the caller drains the ring first if
 * they own anything.
 *
 * Context: Process context, both sides stopped.
 */
void dma_ring_destroy(struct dma_ring *ring)
{
	kvfree(ring->entries);
	ring->entries = NULL;
	ring->mask = 0;
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_destroy);

/**
 * dma_ring_reset() - empty a ring without freeing it
 * @ring: an initialised ring
 *
 * Context: Process context, both sides stopped.  The next start of the
 * producer and the consumer (hrtimer_start() from an IPI, in the audio
 * device) orders these stores before their first access.
 */
void dma_ring_reset(struct dma_ring *ring)
{
	WRITE_ONCE(ring->head, 0);
	WRITE_ONCE(ring->tail, 0);
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_reset);

/**
 * dma_ring_next_free() - the slot the next push will publish
 * @ring: the ring
 *
 * The producer fills the returned slot, then publishes it with
 * dma_ring_push().  The consumer only ever removes entries, so a slot
 * found free stays free until the producer pushes it.
 *
 * Context: The producer only; any context.  No lock, O(1).
 * Return: the slot, or NULL when the ring is full.
 */
struct dma_ring_entry *dma_ring_next_free(struct dma_ring *ring)
{
	unsigned int head = ring->head;
	/* (B) Pairs with smp_store_release() in dma_ring_pop(). */
	unsigned int tail = smp_load_acquire(&ring->tail);

	if (head - tail > ring->mask)
		return NULL;
	return &ring->entries[head & ring->mask];
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_next_free);

/**
 * dma_ring_free() - slots the producer may fill now
 * @ring: the ring
 *
 * The consumer only ever frees slots, so the answer stays true (or grows)
 * until the producer pushes.
 *
 * Context: The producer only; any context.  No lock, O(1).
 * Return: 0 to the ring's capacity.
 */
unsigned int dma_ring_free(struct dma_ring *ring)
{
	unsigned int head = ring->head;
	/* (B) Pairs with smp_store_release() in dma_ring_pop(). */
	unsigned int tail = smp_load_acquire(&ring->tail);

	return dma_ring_size(ring) - (head - tail);
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_free);

/**
 * dma_ring_push() - publish the slot returned by dma_ring_next_free()
 * @ring: the ring
 *
 * Must follow a dma_ring_next_free() that did not return NULL.
 *
 * Context: The producer only; any context.  No lock, O(1).
 */
void dma_ring_push(struct dma_ring *ring)
{
	/* (A) Pairs with smp_load_acquire() in dma_ring_oldest(). */
	smp_store_release(&ring->head, ring->head + 1);
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_push);

/**
 * dma_ring_oldest() - the entry that was pushed first and not yet popped
 * @ring: the ring
 *
 * The entry stays valid, and unchanged, until the consumer calls
 * dma_ring_pop().
 *
 * Context: The consumer only; any context.  No lock, O(1).
 * Return: the entry, or NULL when the ring is empty.
 */
const struct dma_ring_entry *dma_ring_oldest(struct dma_ring *ring)
{
	unsigned int tail = ring->tail;
	/* (A) Pairs with smp_store_release() in dma_ring_push(). */
	unsigned int head = smp_load_acquire(&ring->head);

	if (head == tail)
		return NULL;
	return &ring->entries[tail & ring->mask];
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_oldest);

/**
 * dma_ring_pop() - release the entry returned by dma_ring_oldest()
 * @ring: the ring
 *
 * Must follow a dma_ring_oldest() that did not return NULL.  After this the
 * consumer must not touch the entry again.
 *
 * Context: The consumer only; any context.  No lock, O(1).
 */
void dma_ring_pop(struct dma_ring *ring)
{
	/* (B) Pairs with smp_load_acquire() in dma_ring_next_free(). */
	smp_store_release(&ring->tail, ring->tail + 1);
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_pop);

/**
 * dma_ring_count() - number of entries queued
 * @ring: the ring
 *
 * @tail is read before @head, and the order is enforced (C): both only
 * grow and the consumer never gets ahead of the producer, so the
 * difference cannot go negative (which would read as a full ring).  It can
 * exceed the capacity when both sides move between the loads, hence the
 * clamp.
 *
 * Context: Any context, from any CPU.
 * Return: a snapshot of the number of queued entries, 0 to the capacity.
 */
unsigned int dma_ring_count(const struct dma_ring *ring)
{
	/* (C) Pairs with smp_store_release() in dma_ring_pop(). */
	unsigned int tail = smp_load_acquire(&ring->tail);
	unsigned int head = READ_ONCE(ring->head);

	return min(head - tail, dma_ring_size(ring));
}
EXPORT_SYMBOL_IF_KUNIT(dma_ring_count);
