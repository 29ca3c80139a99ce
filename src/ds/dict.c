/* dict.c -- chained hash table of binary-safe string keys with inline keys.
 *
 * One table of 2^k bucket heads (none allocated while the dict is empty and
 * has never been expanded); each element is one malloc'd dict_entry holding
 * the key. dict_add doubles the table when the element count reaches the
 * bucket count, dict_shrink halves it while under 1/8 full.
 *
 * A resize is incremental, so no command waits for a big collection to be
 * rehashed: while it runs there is a second (new) table, and each dict_add
 * and dict_shrink moves a bucket or a few from the old table into it (step).
 * Old buckets below `moved` are empty; a key lives in the old table if its
 * old bucket is at or above `moved`, else in the new one (chain_of), so a
 * lookup probes one chain. dict_unlink moves nothing, so an iteration
 * survives the unlinking of the entry it just returned.
 *
 * The hash seed is drawn once per process
 * (getrandom, under pthread_once) so bucket order differs between runs.
 *
 * A dict is owned by one thread; no internal locking. Different dicts are
 * used concurrently on many shard threads: the only shared state is the
 * seed, written once inside pthread_once before any dict exists, so later
 * plain reads are ordered after it. Allocation failure aborts.
 */
#include "dict.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/util.h"

#define DICT_MIN_BUCKETS 4

struct dict {
    dict_entry **table;  /* size bucket heads, NULL while size == 0 */
    size_t size;         /* bucket count: 0 or a power of two */
    size_t used;         /* element count */
    size_t entry_mem;    /* malloc_usable_size of every entry, summed */
    dict_entry **ntable; /* while a resize runs: the new table (nsize buckets), else NULL */
    size_t nsize;
    size_t moved; /* while a resize runs: old buckets below it have moved */
};

static uint64_t dict_seed;
static pthread_once_t dict_seed_once = PTHREAD_ONCE_INIT;

/* Draw the process-wide seed; falls back to the clock if getrandom fails. */
static void dict_seed_init(void) {
    uint64_t s;
    if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uint64_t)(uintptr_t)&ts;
    }
    dict_seed = s;
}

static void *dict_xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) abort();
    return p;
}

static uint64_t hash_key(const char *k, size_t klen) {
    return util_hash(k, klen, dict_seed);
}

static int key_eq(const dict_entry *e, const char *k, size_t klen) {
    return e->klen == klen && (klen == 0 || memcmp(e->key, k, klen) == 0);
}

dict *dict_new(void) {
    pthread_once(&dict_seed_once, dict_seed_init);
    dict *d = dict_xmalloc(sizeof(*d));
    d->table = NULL;
    d->size = 0;
    d->used = 0;
    d->entry_mem = 0;
    d->ntable = NULL;
    d->nsize = 0;
    d->moved = 0;
    return d;
}

static void free_table(dict_entry **t, size_t n, void (*free_val)(dict_entry *e)) {
    for (size_t b = 0; b < n; b++) {
        dict_entry *e = t[b];
        while (e) {
            dict_entry *next = e->next;
            if (free_val) free_val(e);
            free(e);
            e = next;
        }
    }
    alloc_big_free(t, n * sizeof(*t));
}

void dict_free(dict *d, void (*free_val)(dict_entry *e)) {
    if (d == NULL) return;
    free_table(d->table, d->size, free_val);
    if (d->ntable) free_table(d->ntable, d->nsize, free_val);
    free(d);
}

size_t dict_size(const dict *d) {
    return d->used;
}

/* The chain holding (or to hold) the key of hash h; the dict has a table. */
static inline dict_entry **chain_of(const dict *d, uint64_t h) {
    size_t b = h & (d->size - 1);
    if (d->ntable && b < d->moved) return &d->ntable[h & (d->nsize - 1)];
    return &d->table[b];
}

/* Move up to n more old buckets into the new table (passing over at most
 * 10 * n empty ones); the resize ends when none is left. */
static void step(dict *d, size_t n) {
    size_t empty = n * 10, nmask = d->nsize - 1;
    while (n > 0 && d->moved < d->size) {
        dict_entry *e = d->table[d->moved];
        if (e == NULL) {
            d->moved++;
            if (--empty == 0) break;
            continue;
        }
        while (e) {
            dict_entry *next = e->next;
            size_t i = (size_t)hash_key(e->key, e->klen) & nmask;
            e->next = d->ntable[i];
            d->ntable[i] = e;
            e = next;
        }
        d->table[d->moved++] = NULL;
        n--;
    }
    if (d->moved == d->size) {
        alloc_big_free(d->table, d->size * sizeof(*d->table));
        d->table = d->ntable;
        d->size = d->nsize;
        d->ntable = NULL;
        d->nsize = 0;
        d->moved = 0;
    }
}

/* Run a resize to its end now. */
static void finish(dict *d) {
    while (d->ntable)
        step(d, d->size);
}

static dict_entry **new_table(size_t n) {
    return alloc_big_zeroed(n * sizeof(dict_entry *));
}

/* Begin a resize to n buckets (a power of two); none runs. */
static void resize_start(dict *d, size_t n) {
    if (d->size == 0) {
        d->table = new_table(n);
        d->size = n;
        return;
    }
    d->ntable = new_table(n);
    d->nsize = n;
    d->moved = 0;
}

void dict_expand(dict *d, size_t n) {
    size_t sz = DICT_MIN_BUCKETS;
    while (sz < n)
        sz <<= 1;
    finish(d);
    if (sz <= d->size) return;
    resize_start(d, sz);
    finish(d);
}

dict_entry *dict_find(const dict *d, const char *k, size_t klen) {
    if (d->used == 0) return NULL;
    dict_entry *e = *chain_of(d, hash_key(k, klen));
    while (e && !key_eq(e, k, klen))
        e = e->next;
    return e;
}

dict_entry *dict_add(dict *d, const char *k, size_t klen, int *added) {
    uint64_t h = hash_key(k, klen);
    if (d->size) {
        for (dict_entry *e = *chain_of(d, h); e; e = e->next) {
            if (key_eq(e, k, klen)) {
                *added = 0;
                return e;
            }
        }
    }
    /* A shrink that the adds outgrew (a range removal shrank a big table,
     * then members came back) is finished first: stepping it along would
     * pile the adds into the small table's chains. */
    if (d->ntable && d->used >= d->nsize) finish(d);
    if (d->ntable)
        step(d, 1);
    else if (d->size == 0)
        resize_start(d, DICT_MIN_BUCKETS);
    else if (d->used >= d->size)
        resize_start(d, d->size * 2);
    dict_entry *e = dict_xmalloc(offsetof(dict_entry, key) + klen + 1);
    e->v.i = 0;
    e->klen = (uint32_t)klen;
    if (klen) memcpy(e->key, k, klen);
    e->key[klen] = '\0';
    dict_entry **chain = chain_of(d, h);
    e->next = *chain;
    *chain = e;
    d->used++;
    d->entry_mem += malloc_usable_size(e);
    *added = 1;
    return e;
}

dict_entry *dict_unlink(dict *d, const char *k, size_t klen) {
    if (d->used == 0) return NULL;
    dict_entry **pp = chain_of(d, hash_key(k, klen));
    for (; *pp; pp = &(*pp)->next) {
        dict_entry *e = *pp;
        if (key_eq(e, k, klen)) {
            *pp = e->next;
            e->next = NULL;
            d->used--;
            d->entry_mem -= malloc_usable_size(e);
            return e;
        }
    }
    return NULL;
}

void dict_entry_free(dict_entry *e) {
    free(e);
}

void dict_shrink(dict *d) {
    if (d->ntable) {
        step(d, 4);
        return;
    }
    size_t n = d->size;
    while (n > DICT_MIN_BUCKETS && d->used * 8 < n)
        n >>= 1;
    if (n == d->size) return;
    resize_start(d, n);
    /* A table left far sparser than a shrink allows (a range removal took
     * most of a big collection at once) is shrunk now: its few entries move
     * at the cost of one pass over the old buckets, which that removal has
     * outweighed, and random picks (ZRANDMEMBER, SPOP ...) would otherwise
     * draw over its empty buckets until writes moved the resize along. */
    if (d->used * 64 < d->size) finish(d);
}

/* Rejection sampling: a random bucket and a random slot below RANDOM_SLOTS;
 * a miss (empty slot) draws again. Every element of a chain of at most
 * RANDOM_SLOTS entries is equally likely, whatever its chain's length
 * (picking a bucket and then a member of its chain would favour short
 * chains). Longer chains, rare at load <= 1, use their length as the bound.
 * Expected draws: RANDOM_SLOTS / load, at most 64 at the lowest load
 * outside a resize (during one the load over both tables is lower). */
#define RANDOM_SLOTS 8

dict_entry *dict_random(const dict *d, uint64_t *rng) {
    if (d->used == 0) return NULL;
    for (;;) {
        /* While a resize runs, every bucket of the new table and of the
         * old one's unmoved part is equally likely (the moved ones are
         * empty: after a big shrink they would be nearly every draw). */
        uint64_t r = util_rand_next(rng);
        dict_entry *e;
        if (d->ntable == NULL) {
            e = d->table[r & (d->size - 1)];
        } else {
            r %= d->size - d->moved + d->nsize;
            e = r < d->nsize ? d->ntable[r] : d->table[d->moved + (r - d->nsize)];
        }
        if (e == NULL) continue;
        size_t len = 0;
        for (dict_entry *x = e; x; x = x->next)
            len++;
        size_t j = util_rand_next(rng) % (len > RANDOM_SLOTS ? len : RANDOM_SLOTS);
        if (j >= len) continue;
        while (j-- > 0)
            e = e->next;
        return e;
    }
}

static void scan_chain(dict_entry *e, dict_scan_fn fn, void *priv) {
    for (; e; e = e->next)
        fn(priv, e);
}

uint64_t dict_scan(const dict *d, uint64_t cursor, dict_scan_fn fn, void *priv) {
    if (d->used == 0) return 0;
    uint64_t mask = d->size - 1;
    if (d->ntable == NULL) {
        scan_chain(d->table[cursor & mask], fn, priv);
    } else {
        /* The smaller table's bucket, then every bucket of the larger one
         * it splits into: the keys of that bucket are all in one of them. */
        dict_entry **small = d->table, **large = d->ntable;
        uint64_t lmask = d->nsize - 1;
        if (lmask < mask) {
            small = d->ntable;
            large = d->table;
            lmask = mask;
            mask = d->nsize - 1;
        }
        scan_chain(small[cursor & mask], fn, priv);
        for (uint64_t b = cursor & mask; b <= lmask; b += mask + 1)
            scan_chain(large[b], fn, priv);
    }
    return util_scan_next(cursor, mask);
}

void dict_iter_init(dict_iter *it, const dict *d) {
    it->d = d;
    it->bucket = 0;
    it->next = NULL;
}

dict_entry *dict_iter_next(dict_iter *it) {
    dict_entry *e = it->next;
    const dict *d = it->d;
    /* Buckets of the table, then (while a resize runs) of the new one. */
    while (e == NULL) {
        size_t b = it->bucket;
        if (b < d->size) {
            e = d->table[b];
        } else if (d->ntable && b - d->size < d->nsize) {
            e = d->ntable[b - d->size];
        } else {
            return NULL;
        }
        it->bucket++;
    }
    it->next = e->next;
    return e;
}

size_t dict_buckets(const dict *d) {
    return d->ntable ? d->nsize : d->size;
}

size_t dict_mem(const dict *d) {
    size_t table = d->table ? alloc_big_size(d->table, d->size * sizeof(*d->table)) : 0;
    if (d->ntable) table += alloc_big_size(d->ntable, d->nsize * sizeof(*d->ntable));
    return malloc_usable_size((void *)d) + table + d->entry_mem;
}

dict *dict_dup(const dict *d, void (*dup_val)(dict_entry *dst, const dict_entry *src)) {
    dict *c = dict_new();
    dict_expand(c, d->used);
    dict_iter it;
    dict_iter_init(&it, d);
    for (const dict_entry *e; (e = dict_iter_next(&it)) != NULL;) {
        int added;
        dict_entry *ne = dict_add(c, e->key, e->klen, &added);
        if (dup_val)
            dup_val(ne, e);
        else
            ne->v = e->v;
    }
    return c;
}
