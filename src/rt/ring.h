/* ring.h -- a bounded lock-free single-producer single-consumer ring of
 * pointers, one per ordered pair of shards.
 *
 * Exactly one thread pushes (the producer shard) and exactly one pops (the
 * consumer shard). Indexes only grow; slot = index & mask.
 *
 * Memory order: the producer writes the slot, then publishes `tail` with a
 * release store; the consumer reads `tail` with an acquire load before
 * reading the slot, so it sees the message fully written. Symmetrically the
 * consumer frees a slot by a release store of `head`, which the producer
 * acquires before reusing it. Each side caches the other side's index to
 * touch the shared cache line only when the cache says full/empty.
 *
 * head and tail live on separate cache lines (64 bytes apart) so the
 * producer's and the consumer's writes do not contend for one line.
 */
#ifndef PERCORE_RING_H
#define PERCORE_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct spsc_ring {
    _Alignas(64) _Atomic size_t head; /* next slot to pop: written by the consumer */
    size_t tail_cache;                /* consumer's copy of tail */
    _Alignas(64) _Atomic size_t tail; /* next slot to fill: written by the producer */
    size_t head_cache;                /* producer's copy of head */
    _Alignas(64) size_t mask;
    void **slots;
} spsc_ring;

/* Initialise a ring of cap slots (a power of two). Returns 0 or -1. */
static inline int ring_init(spsc_ring *r, size_t cap) {
    r->slots = calloc(cap, sizeof(void *));
    if (!r->slots) return -1;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->tail_cache = 0;
    r->head_cache = 0;
    return 0;
}

static inline void ring_deinit(spsc_ring *r) {
    free(r->slots);
    r->slots = NULL;
}

/* Producer: append v. Returns 0, or -1 if the ring is full. */
static inline int ring_push(spsc_ring *r, void *v) {
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (t - r->head_cache > r->mask) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t - r->head_cache > r->mask) return -1;
    }
    r->slots[t & r->mask] = v;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 0;
}

/* Consumer: take the oldest element, or NULL if empty. */
static inline void *ring_pop(spsc_ring *r) {
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (h == r->tail_cache) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h == r->tail_cache) return NULL;
    }
    void *v = r->slots[h & r->mask];
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return v;
}

/* Consumer: 1 if nothing is waiting. Reads the producer's index (acquire),
 * so it is the check to make after announcing "parked". */
static inline int ring_empty(spsc_ring *r) {
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    return h == atomic_load_explicit(&r->tail, memory_order_acquire);
}

#endif
