/* dict.h -- hash table of binary-safe string keys, each with one 8-byte
 * value slot. The large encoding of hashes, sets and sorted sets.
 *
 * Chained buckets, power-of-two sized; keys are stored inline in their
 * entry (one allocation per element). dict_add doubles the table when the
 * load reaches 1. Removing never resizes by itself (so iterations survive
 * it); the owner calls dict_shrink after removals (the collections do after
 * each one), never while iterating the same dict. A resize is incremental:
 * dict_add and dict_shrink move it along a few buckets at a time, so no
 * call costs a whole rehash; one left running keeps both tables until the
 * next write to the dict.
 * Keys are hashed with xxh3 under a per-process random seed, so bucket
 * order is not predictable from outside (hash flooding).
 *
 * SCAN uses Redis's reverse-binary cursor: every key present for the whole
 * scan is returned at least once even when the table grows or shrinks
 * between calls.
 *
 * Owned by one thread; no internal locking.
 */
#ifndef PERCORE_DICT_H
#define PERCORE_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct dict_entry {
    struct dict_entry *next;
    union {
        void *p;
        double d;
        int64_t i;
    } v; /* the owner's value slot (zeroed on insert) */
    uint32_t klen;
    char key[]; /* klen bytes, then a NUL */
} dict_entry;

typedef struct dict dict;

dict *dict_new(void);
/* Free the table and every entry; free_val(e) is called for each entry first
 * (to free what e->v points at) unless it is NULL. */
void dict_free(dict *d, void (*free_val)(dict_entry *e));
/* A copy of d with the same keys, sized for them up front. dup_val(dst, src)
 * fills each copy's value slot from the original's; with NULL the slot is
 * copied as it is (numbers, or pointers the copy may share). Caller frees. */
dict *dict_dup(const dict *d, void (*dup_val)(dict_entry *dst, const dict_entry *src));
size_t dict_size(const dict *d);
/* Make room for n elements without further resizing (at once: for a new
 * dict being filled). */
void dict_expand(dict *d, size_t n);

dict_entry *dict_find(const dict *d, const char *k, size_t klen);
/* Find k, inserting it (value slot zeroed) if absent. *added is 1 if it was
 * inserted. Returns the entry. */
dict_entry *dict_add(dict *d, const char *k, size_t klen, int *added);
/* Remove k from the table and return its entry (the caller deals with e->v
 * and then calls dict_entry_free), or NULL if absent. */
dict_entry *dict_unlink(dict *d, const char *k, size_t klen);
void dict_entry_free(dict_entry *e);
/* Move a running resize along, or start halving the table while it is
 * under 1/8 full (never below 4 buckets). */
void dict_shrink(dict *d);

/* A random entry, or NULL if empty. *rng is the caller's xorshift64 state
 * (any nonzero value). Close to uniform: rejection sampling over the
 * buckets and the first few slots of each chain (see dict.c). */
dict_entry *dict_random(const dict *d, uint64_t *rng);

/* One SCAN step: visits every entry of one bucket (and of the buckets that
 * map to it in a larger table) and returns the next cursor, 0 when done.
 * fn must not change the dict. */
typedef void (*dict_scan_fn)(void *priv, const dict_entry *e);
uint64_t dict_scan(const dict *d, uint64_t cursor, dict_scan_fn fn, void *priv);

/* Iteration over every entry. The entry just returned may be unlinked and
 * freed before the next call (dict_unlink of its key); no other change is
 * allowed while iterating. */
typedef struct dict_iter {
    const dict *d;
    size_t bucket;
    dict_entry *next;
} dict_iter;
void dict_iter_init(dict_iter *it, const dict *d);
dict_entry *dict_iter_next(dict_iter *it); /* NULL at the end */

/* Buckets of the table new entries go to (the new one while a resize runs). */
size_t dict_buckets(const dict *d);

/* Bytes used by the table and its entries (not what values point at). */
size_t dict_mem(const dict *d);

#endif
