/* intset.h -- a sorted set of 64-bit integers in one contiguous allocation:
 * the small encoding of sets whose members are all integers ("intset").
 *
 * Elements are kept in ascending order, all stored with one width: 2, 4 or
 * 8 bytes, the smallest that holds every element ever added. Adding a value
 * that needs a wider type re-encodes the whole array once (the width never
 * shrinks, as in Redis). Lookups are binary searches; insertions and
 * removals move the tail with memmove, so the structure suits the few
 * hundred elements it is used for.
 *
 * Functions that change the set may move it (realloc): they return the new
 * pointer, which replaces the old one. Out-of-memory aborts the process.
 * Owned by one thread; no internal locking.
 */
#ifndef PERCORE_INTSET_H
#define PERCORE_INTSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct intset {
    uint32_t width; /* bytes per element: 2, 4 or 8 */
    uint32_t len;   /* number of elements */
    char data[];    /* len elements of `width` bytes, ascending */
} intset;

/* A new empty set (width 2). Free it with free(). */
intset *intset_new(void);
/* A copy of is (same width). */
intset *intset_dup(const intset *is);
/* Insert v if absent; *added is 1 if it was inserted, 0 if present. */
intset *intset_add(intset *is, int64_t v, int *added);
/* Remove v if present; *removed (may be NULL) is 1 if it was there. */
intset *intset_remove(intset *is, int64_t v, int *removed);
/* 1 if v is an element. */
int intset_find(const intset *is, int64_t v);
/* Element at position i (0 <= i < len), in ascending order. */
int64_t intset_get(const intset *is, uint32_t i);
static inline uint32_t intset_len(const intset *is) {
    return is->len;
}
/* Bytes of the allocation: header plus len * width. */
static inline size_t intset_bytes(const intset *is) {
    return sizeof(intset) + (size_t)is->len * is->width;
}

#endif
