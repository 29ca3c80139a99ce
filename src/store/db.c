/* db.c -- one database's key table with expiry, and the store holding a
 * shard's databases (the layout is drawn in store.h).
 *
 * Runs only on the shard thread that owns the store; nothing is locked.
 *
 * Keys hash with util_hash(store->seed). The runtime routes a key to a shard
 * by the HIGH 32 bits of that hash, so every key of a shard shares them; the
 * bucket index therefore uses the LOW bits. The table doubles when keys >
 * buckets and shrinks to twice the key count when keys < buckets / 8, never
 * below DB_MIN_BUCKETS.
 *
 * A resize is incremental, so no command waits for a whole table to be
 * rehashed: the new bucket array is filled a few buckets at a time, by every
 * insert, delete and lookup (db_rehash_step) and by the cron
 * (db_rehash_for). While it runs, old buckets below rehash_idx have moved
 * and are empty; a key lives in the old table if its old bucket is at or
 * above rehash_idx, else in the new one (db_chain), inserts included. So a
 * lookup still probes a single chain.
 *
 * Expiry is lazy (every lookup deletes a key whose deadline has passed, that
 * is when now_ms > deadline, as Redis does) plus active (db_active_expire
 * samples the expires table).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/util.h"
#include "lazyfree.h"
#include "store.h"

#define DB_MIN_BUCKETS 4
#define DB_EXP_MIN 16 /* smallest expires table */

/* A key's entry: the chain link, a 16-byte body, the value's room, then the
 * key bytes.
 *
 *   next | body: 8-byte header + 8-byte slot | room - 8 more bytes | key
 *
 * The body is either the value itself (an "inline" entry: strings stored by
 * db_set_str, INT or EMBSTR) or the key length and a pointer to a separately
 * allocated value (any value given to db_set, whose address the caller may
 * keep using). The key starts `room` bytes after the header; room is at
 * least 8 (the slot), and an inline EMBSTR's bytes fill it from the slot on
 * (obj_sbytes). Both forms keep the flag and room bytes at the same places
 * (obj.flags, obj.room): ENT_INLINE tells them apart, ENT_TTL says the key
 * has a deadline in the expires table. For an inline entry obj.ext holds the
 * key length.
 *
 * A 16-byte key with a 16-byte string value takes 8 + 8 + 16 + 16 = 48
 * bytes in one allocation (string bytes carry no NUL). Nothing written into
 * the 16-byte body ever reaches the key, so an inline value can change in
 * place into anything: a string as long as the room, or up to 15 bytes
 * shorter, is rewritten within it; an INT uses the slot; a RAW string
 * (APPEND, SETRANGE) keeps its bytes in a separate buffer behind the slot;
 * any other value turns the entry into the pointer form. Only a short
 * string (db_set_str, db_set_int, db_set_owned ...) that finds too little
 * room or far too much, or a pointer-form entry, moves the key: the entry
 * is reallocated with the room it needs (db_entry_regrow), so a key keeps
 * the compact form whatever it held before. An inline value is never
 * passed to free(); db_take and lazy deletion hand out a standalone copy. */
#define ENT_INLINE OBJ_F_EMBEDDED
#define ENT_TTL 2
#define DB_INLINE_KEY_MAX 255 /* obj.ext is one byte */
#define ENT_SLOT 8            /* the smallest room: obj.v */
/* A value that would leave this many bytes of its entry's room unused gets
 * a smaller entry instead of a rewrite in place. */
#define ENT_ROOM_SLACK 16

typedef struct db_entry {
    struct db_entry *next;
    union {
        obj o; /* ENT_INLINE */
        struct {
            uint8_t te_;   /* unused: where obj's type and encoding are */
            uint8_t flags; /* as obj.flags */
            uint8_t ext_;
            uint8_t room; /* as obj.room: ENT_SLOT */
            uint32_t klen;
            obj *val;
        } p;
    } u;
} db_entry;

_Static_assert(offsetof(obj, flags) == 1 && offsetof(obj, room) == 3 && offsetof(obj, v) == 8 &&
                   sizeof(obj) == 16 && OBJ_EMBSTR_MAX <= 255,
               "entry body layout");

static inline int ent_inline(const db_entry *e) {
    return e->u.p.flags & ENT_INLINE;
}

static inline size_t ent_klen(const db_entry *e) {
    return ent_inline(e) ? e->u.o.ext : e->u.p.klen;
}

static inline char *ent_key(const db_entry *e) {
    return (char *)&e->u + offsetof(obj, v) + e->u.p.room;
}

static inline obj *ent_val(db_entry *e) {
    return ent_inline(e) ? &e->u.o : e->u.p.val;
}

/* The expires table: open addressing over entry addresses, linear probing,
 * at most 3/4 full. Only keys with a TTL are in it.
 *
 * It too resizes incrementally. While a resize runs, the old table (oexp)
 * is drained slot by slot from index 0 (omoved) into the new one, a few
 * slots per change; new deadlines go to the new table. A drained or deleted
 * slot of the old table becomes a tombstone (EXP_TOMB), so the probe runs
 * of the keys still there stay unbroken; the new table has no tombstones
 * (deletion there shifts back). A key is in exactly one of the two. */
typedef struct db_exp {
    db_entry *e; /* NULL: empty slot; EXP_TOMB: (old table) a drained one */
    int64_t when_ms;
} db_exp;

#define EXP_TOMB ((db_entry *)(uintptr_t)1)
#define EXP_STEP 8 /* old slots drained per change while a resize runs */

struct db {
    store *st;
    db_entry **buckets;  /* the table; while a resize runs, the old one */
    size_t mask;         /* buckets - 1 */
    db_entry **nbuckets; /* while a resize runs, the new table; else NULL */
    size_t nmask;
    size_t rehash_idx; /* while a resize runs: old buckets below it have moved */
    size_t count;
    db_exp *exp;
    size_t expmask; /* slots - 1, or 0 with no table */
    size_t nexp;    /* keys with a TTL, in both tables */
    db_exp *oexp;   /* while a resize runs: the old expires table, else NULL */
    size_t oexpmask;
    size_t omoved;   /* old slots below it are drained */
    size_t onexp;    /* keys still in the old table */
    int64_t avg_ttl; /* estimated mean TTL (ms) of keys with one (db_active_expire) */
    uint64_t rng;    /* xorshift state for random sampling */
};

static void *db_xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (p == NULL) abort();
    return p;
}

static uint64_t db_hash(const db *d, const char *key, size_t klen) {
    const store *st = d->st;
    if (key == st->hint_key && klen == st->hint_klen) return st->hint_hash;
    return util_hash(key, klen, st->seed);
}

/* ---------------------------------------------------------------------- */
/* Expires table. */

static size_t exp_hash(const db_entry *e) {
    uint64_t x = (uint64_t)(uintptr_t)e;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static void exp_free(db_exp *t, size_t mask) {
    if (t) alloc_big_free(t, (mask + 1) * sizeof(*t));
}

/* The slot of e in table t (mask m), or NULL. */
static db_exp *exp_probe(db_exp *t, size_t m, const db_entry *e) {
    for (size_t i = exp_hash(e) & m;; i = (i + 1) & m) {
        if (t[i].e == e) return &t[i];
        if (t[i].e == NULL) return NULL;
    }
}

/* The slot holding e's deadline, in either table, or NULL. */
static db_exp *exp_find(const db *d, const db_entry *e) {
    db_exp *x = d->exp ? exp_probe(d->exp, d->expmask, e) : NULL;
    if (x == NULL && d->oexp) x = exp_probe(d->oexp, d->oexpmask, e);
    return x;
}

/* Put a slot's content into the new table, which has room and lacks it. */
static void exp_place(db *d, db_exp x) {
    size_t i = exp_hash(x.e) & d->expmask;
    while (d->exp[i].e)
        i = (i + 1) & d->expmask;
    d->exp[i] = x;
}

static void exp_resize(db *d, size_t slots);

/* Free the old table of a resize (its keys have all moved or gone). */
static void exp_drop_old(db *d) {
    exp_free(d->oexp, d->oexpmask);
    d->oexp = NULL;
    d->oexpmask = d->omoved = d->onexp = 0;
}

/* Whether the new table has room for one more key within 3/4. */
static int exp_room(const db *d) {
    return (d->nexp - d->onexp + 1) * 4 <= (d->expmask + 1) * 3;
}

/* Drain up to n more keys of the old table, passing over at most 32 * n
 * empty or drained slots; free it once all are drained. */
static void exp_step(db *d, size_t n) {
    size_t pass = n * 32;
    while (n > 0 && d->omoved <= d->oexpmask) {
        db_exp *x = &d->oexp[d->omoved];
        if (x->e != NULL && x->e != EXP_TOMB) {
            if (!exp_room(d)) {
                /* New keys filled the new table before the old one was
                 * drained (a shrink that more keys follow): the resize
                 * finishes into a bigger table at once. */
                exp_resize(d, (d->expmask + 1) * 2);
                return;
            }
            exp_place(d, *x);
            d->onexp--;
            x->e = EXP_TOMB; /* an empty slot stays empty: runs keep their ends */
            n--;
        } else if (--pass == 0) {
            d->omoved++;
            break;
        }
        d->omoved++;
    }
    if (d->omoved > d->oexpmask || d->onexp == 0) exp_drop_old(d);
}

/* Begin a resize to `slots` (a power of two), enough for every key within
 * 3/4. If one is still running, every key moves into the new table at once
 * instead (only when new keys outpace a drain, see exp_step). */
static void exp_resize(db *d, size_t slots) {
    db_exp *cur = d->exp, *old = d->oexp;
    size_t curmask = d->expmask, oldmask = d->oexpmask;
    d->exp = alloc_big_zeroed(slots * sizeof(*d->exp));
    d->expmask = slots - 1;
    if (old) {
        for (size_t j = 0; j <= oldmask; j++)
            if (old[j].e != NULL && old[j].e != EXP_TOMB) exp_place(d, old[j]);
        for (size_t j = 0; j <= curmask; j++)
            if (cur[j].e != NULL) exp_place(d, cur[j]);
        exp_free(cur, curmask);
        exp_drop_old(d);
        return;
    }
    if (cur == NULL) return;
    d->oexp = cur;
    d->oexpmask = curmask;
    d->omoved = 0;
    d->onexp = d->nexp;
    exp_step(d, EXP_STEP);
}

/* Start shrinking a table under 1/8 full (none running): a resize that
 * ended while deletes went on may have left one that sparse. */
static void exp_maybe_shrink(db *d) {
    size_t slots = d->expmask + 1;
    if (d->oexp || d->exp == NULL || slots <= DB_EXP_MIN || d->nexp * 8 >= slots) return;
    size_t n = DB_EXP_MIN;
    while (n * 3 < d->nexp * 8)
        n *= 2;
    if (n < slots) exp_resize(d, n);
}

static int64_t db_entry_when(const db *d, const db_entry *e) {
    if (!(e->u.p.flags & ENT_TTL)) return -1;
    return exp_find(d, e)->when_ms;
}

static void db_exp_set(db *d, db_entry *e, int64_t when_ms) {
    if (e->u.p.flags & ENT_TTL) {
        exp_find(d, e)->when_ms = when_ms;
        return;
    }
    if (d->oexp) exp_step(d, EXP_STEP);
    if (d->exp == NULL)
        exp_resize(d, DB_EXP_MIN);
    else if (!exp_room(d))
        exp_resize(d, (d->expmask + 1) * 2);
    exp_place(d, (db_exp){e, when_ms});
    d->nexp++;
    e->u.p.flags |= ENT_TTL;
}

/* Drop e's deadline. In the new table, the slots after it that would be
 * unreachable past the new hole move back into it (deletion without
 * tombstones); in the old one it becomes a tombstone. */
static void db_exp_remove(db *d, db_entry *e) {
    if (!(e->u.p.flags & ENT_TTL)) return;
    e->u.p.flags &= (uint8_t)~ENT_TTL;
    db_exp *x = d->exp ? exp_probe(d->exp, d->expmask, e) : NULL;
    if (x == NULL) {
        exp_probe(d->oexp, d->oexpmask, e)->e = EXP_TOMB;
        d->onexp--;
    } else {
        size_t hole = (size_t)(x - d->exp), m = d->expmask;
        for (size_t j = (hole + 1) & m; d->exp[j].e; j = (j + 1) & m) {
            size_t home = exp_hash(d->exp[j].e) & m;
            /* Slot j may fill the hole unless its home lies cyclically in
             * (hole, j]. */
            if (((j - home) & m) >= ((j - hole) & m)) {
                d->exp[hole] = d->exp[j];
                hole = j;
            }
        }
        d->exp[hole].e = NULL;
    }
    d->nexp--;
    if (d->nexp == 0) {
        d->avg_ttl = 0;
        exp_free(d->exp, d->expmask);
        d->exp = NULL;
        d->expmask = 0;
        exp_drop_old(d);
        return;
    }
    if (d->oexp) exp_step(d, EXP_STEP);
    exp_maybe_shrink(d);
}

/* ---------------------------------------------------------------------- */
/* Key table. */

static db_entry **db_buckets_new(size_t n) {
    return alloc_big_zeroed(n * sizeof(db_entry *));
}

static void db_buckets_free(db_entry **b, size_t n) {
    alloc_big_free(b, n * sizeof(db_entry *));
}

/* The chain holding (or to hold) the key of hash h. */
static inline db_entry **db_chain(const db *d, uint64_t h) {
    size_t b = h & d->mask;
    if (__builtin_expect(d->nbuckets != NULL, 0) && b < d->rehash_idx)
        return &d->nbuckets[h & d->nmask];
    return &d->buckets[b];
}

/* Begin a resize to n (a power of two) buckets; none runs. */
static void db_rehash_start(db *d, size_t n) {
    d->nbuckets = db_buckets_new(n);
    d->nmask = n - 1;
    d->rehash_idx = 0;
}

/* Move up to n more old buckets into the new table, passing over at most
 * 10 * n empty ones; the resize ends when none is left. Entries keep their
 * addresses (only their links change), so entry pointers held across a
 * step stay valid; links do not. */
static __attribute__((noinline)) void db_rehash_step(db *d, size_t n) {
    db_entry **old = d->buckets, **nb = d->nbuckets;
    size_t idx = d->rehash_idx, mask = d->mask, nmask = d->nmask;
    size_t empty = n * 10;
    while (n > 0 && idx <= mask) {
        db_entry *e = old[idx];
        if (e == NULL) {
            idx++;
            if (--empty == 0) break;
            continue;
        }
        while (e) {
            db_entry *next = e->next;
            size_t b = util_hash(ent_key(e), ent_klen(e), d->st->seed) & nmask;
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
        old[idx++] = NULL;
        n--;
    }
    d->rehash_idx = idx;
    if (idx > mask) {
        db_buckets_free(old, mask + 1);
        d->buckets = nb;
        d->mask = nmask;
        d->nbuckets = NULL;
        d->nmask = 0;
        d->rehash_idx = 0;
    }
}

/* One step of a running resize, made by each insert, delete and lookup. */
static inline void db_rehash_tick(db *d) {
    if (__builtin_expect(d->nbuckets != NULL, 0)) db_rehash_step(d, 1);
}

int db_rehash_for(db *d, int64_t budget_us) {
    if (d->nbuckets == NULL && d->oexp == NULL) return 0;
    int64_t start = util_monotonic_us();
    do {
        if (d->nbuckets) db_rehash_step(d, 100);
        if (d->oexp) exp_step(d, 400);
    } while ((d->nbuckets || d->oexp) && util_monotonic_us() - start < budget_us);
    return 1;
}

int db_rehashing(const db *d) {
    return d->nbuckets != NULL || d->oexp != NULL;
}

static void db_maybe_shrink(db *d) {
    size_t n = d->mask + 1;
    if (d->nbuckets || n <= DB_MIN_BUCKETS || d->count >= n / 8) return;
    size_t target = DB_MIN_BUCKETS;
    while (target < d->count * 2)
        target *= 2;
    if (target < n) db_rehash_start(d, target);
}

/* Find the entry for key without any expiry check. *pprev, when given, gets
 * the link that points at the entry (for unlinking). */
static db_entry *db_lookup_raw_h(db *d, const char *key, size_t klen, uint64_t h,
                                 db_entry ***pprev) {
    db_entry **link = db_chain(d, h);
    for (db_entry *e = *link; e; link = &e->next, e = e->next) {
        if (ent_klen(e) == klen && memcmp(ent_key(e), key, klen) == 0) {
            if (pprev) *pprev = link;
            return e;
        }
    }
    return NULL;
}

static db_entry *db_lookup_raw(db *d, const char *key, size_t klen, db_entry ***pprev) {
    return db_lookup_raw_h(d, key, klen, db_hash(d, key, klen), pprev);
}

static int db_entry_expired(const db *d, const db_entry *e) {
    return (e->u.p.flags & ENT_TTL) && d->st->now_ms > db_entry_when(d, e);
}

/* Free an entry and its value (for an inline one, what it owns). */
static void db_entry_free(db_entry *e) {
    if (ent_inline(e))
        obj_free_contents(&e->u.o);
    else
        obj_free(e->u.p.val);
    free(e);
}

/* Unlink e (whose link is *link), free it, and return its value: freed too
 * unless keep_val (an inline value is copied out). Shrinks the table when it
 * gets sparse. */
static obj *db_unlink(db *d, db_entry **link, db_entry *e, int keep_val) {
    obj *val = NULL;
    *link = e->next;
    db_exp_remove(d, e);
    if (!keep_val) {
        db_entry_free(e);
    } else {
        val = ent_inline(e) ? obj_move_out(&e->u.o) : e->u.p.val;
        free(e);
    }
    d->count--;
    db_rehash_tick(d);
    db_maybe_shrink(d);
    return val;
}

/* Look key up honouring expiry: an expired key is deleted (and counted) and
 * NULL returned. *pprev as for db_lookup_raw. */
static db_entry *db_lookup_h(db *d, const char *key, size_t klen, uint64_t h, db_entry ***pprev) {
    db_rehash_tick(d);
    db_entry **link;
    db_entry *e = db_lookup_raw_h(d, key, klen, h, &link);
    if (e && db_entry_expired(d, e)) {
        db_unlink(d, link, e, 0);
        d->st->stats.expired_keys++;
        return NULL;
    }
    if (e && pprev) *pprev = link;
    return e;
}

static db_entry *db_lookup(db *d, const char *key, size_t klen, db_entry ***pprev) {
    return db_lookup_h(d, key, klen, db_hash(d, key, klen), pprev);
}

/* Delete an entry found by a walk that did not keep its link; h is its
 * key's hash. */
static void db_delete_entry_h(db *d, db_entry *e, uint64_t h) {
    db_entry **link;
    db_entry *found = db_lookup_raw_h(d, ent_key(e), ent_klen(e), h, &link);
    if (found == e) db_unlink(d, link, e, 0);
}

static void db_delete_entry(db *d, db_entry *e) {
    db_delete_entry_h(d, e, db_hash(d, ent_key(e), ent_klen(e)));
}

store *store_new(int ndb, uint64_t seed) {
    store *s = db_xcalloc(1, sizeof(*s));
    s->ndb = ndb;
    s->seed = seed;
    s->lfu_log_factor = 10;
    s->lfu_decay_time = 1;
    s->rng = seed | 1;
    s->now_ms = util_mstime();
    s->active_expire = 1;
    s->dbs = db_xcalloc((size_t)ndb, sizeof(*s->dbs));
    for (int i = 0; i < ndb; i++) {
        db *d = db_xcalloc(1, sizeof(*d));
        d->st = s;
        d->buckets = db_buckets_new(DB_MIN_BUCKETS);
        d->mask = DB_MIN_BUCKETS - 1;
        d->rng = (seed ^ 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1)) | 1;
        s->dbs[i] = d;
    }
    return s;
}

/* Free the store, every database and every value in them. */
void store_free(store *s) {
    if (s == NULL) return;
    for (int i = 0; i < s->ndb; i++) {
        db_flush(s->dbs[i]);
        db_buckets_free(s->dbs[i]->buckets, s->dbs[i]->mask + 1);
        free(s->dbs[i]);
    }
    free(s->dbs);
    free(s);
}

void store_swapdb(store *s, int a, int b) {
    db *t = s->dbs[a];
    s->dbs[a] = s->dbs[b];
    s->dbs[b] = t;
}

uint32_t store_lru_clock(const store *s) {
    return (uint32_t)((s->now_ms / 1000) & 0xFFFFFF);
}

#define LFU_INIT_VAL 5

static uint32_t lfu_minutes(const store *s) {
    return (uint32_t)((s->now_ms / 60000) & 0xFFFF);
}

unsigned store_lfu_freq(const store *s, const obj *o) {
    uint32_t ldt = o->lru >> 8, counter = o->lru & 0xFF, now = lfu_minutes(s);
    uint32_t elapsed = now >= ldt ? now - ldt : 0xFFFF - ldt + now;
    uint32_t periods = s->lfu_decay_time > 0 ? elapsed / (uint32_t)s->lfu_decay_time : 0;
    return periods > counter ? 0 : counter - periods;
}

/* Redis's logarithmic counter: the higher it is, the less likely a hit
 * increments it. */
static unsigned lfu_log_incr(store *s, unsigned counter) {
    if (counter == 255) return 255;
    double r = (double)(util_rand_next(&s->rng) >> 11) / (double)(1ULL << 53);
    double base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
    if (r < 1.0 / (base * s->lfu_log_factor + 1)) counter++;
    return counter;
}

void store_touch(store *s, obj *o) {
    if (s->lfu)
        o->lru = lfu_minutes(s) << 8 | lfu_log_incr(s, store_lfu_freq(s, o));
    else
        o->lru = store_lru_clock(s);
}

/* The access field of a value just stored. */
static uint32_t store_access_init(const store *s) {
    return s->lfu ? lfu_minutes(s) << 8 | LFU_INIT_VAL : store_lru_clock(s);
}

obj *db_find(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL) return NULL;
    obj *o = ent_val(e);
    store_touch(d->st, o);
    return o;
}

obj *db_peek(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    return e ? ent_val(e) : NULL;
}

obj *db_peek_exp(db *d, const char *key, size_t klen, int64_t *expire_ms) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    *expire_ms = e ? db_entry_when(d, e) : -1;
    return e ? ent_val(e) : NULL;
}

obj *db_find_exp(db *d, const char *key, size_t klen, int64_t *expire_ms) {
    obj *o = db_peek_exp(d, key, klen, expire_ms);
    if (o) store_touch(d->st, o);
    return o;
}

/* A new unlinked entry with `room` bytes (at least ENT_SLOT) from the slot
 * to the key, the key copied in, the body not set but for room. */
static db_entry *ent_alloc(const char *key, size_t klen, size_t room) {
    db_entry *e = malloc(offsetof(db_entry, u) + offsetof(obj, v) + room + klen);
    if (e == NULL) abort();
    e->u.p.room = (uint8_t)room;
    if (klen) memcpy(ent_key(e), key, klen);
    return e;
}

/* Link a new entry (ent_alloc) into bucket h. */
static db_entry *db_insert(db *d, const char *key, size_t klen, uint64_t h, size_t room) {
    db_entry *e = ent_alloc(key, klen, room);
    db_entry **chain = db_chain(d, h);
    e->next = *chain;
    *chain = e;
    d->count++;
    return e;
}

/* A new entry in pointer form holding val. */
static void db_insert_ptr(db *d, const char *key, size_t klen, uint64_t h, obj *val) {
    db_entry *e = db_insert(d, key, klen, h, ENT_SLOT);
    e->u.p.flags = 0;
    e->u.p.klen = (uint32_t)klen;
    e->u.p.val = val;
}

/* Make e hold val (a separate value) in pointer form, freeing what its old
 * value owned unless that is val. The TTL bit is kept. */
static void db_entry_put(db_entry *e, obj *val) {
    if (ent_inline(e)) {
        obj_free_contents(&e->u.o);
        uint8_t ttl = e->u.o.flags & ENT_TTL;
        uint32_t klen = e->u.o.ext;
        e->u.p.flags = ttl;
        e->u.p.klen = klen;
    } else if (e->u.p.val != val) {
        obj_free(e->u.p.val);
    }
    e->u.p.val = val;
}

/* Give e (linked at *link) a new allocation whose value has `room` bytes,
 * inline and with nothing in it yet but its flags (its deadline, if any,
 * follows it). Returns the new entry; e, unlinked, is the caller's to free
 * (db_entry_free) once it has read what it needs from it. */
static db_entry *db_entry_regrow(db *d, db_entry **link, db_entry *e, size_t room) {
    db_entry *n = ent_alloc(ent_key(e), ent_klen(e), room);
    n->u.p.flags = ENT_INLINE;
    n->next = e->next;
    *link = n;
    int64_t when = db_entry_when(d, e);
    if (when != -1) {
        /* The expires table is keyed by entry address. Added before the
         * old one goes, so a sole deadline does not empty the table (and
         * reset its mean TTL estimate). */
        db_exp_set(d, n, when);
        db_exp_remove(d, e);
    }
    return n;
}

/* After a new key's entry is complete: a step of a running resize, or the
 * start of one when the table is full. */
static void db_grow(db *d) {
    if (d->nbuckets && d->count > d->nmask + 1)
        db_rehash_step(d, SIZE_MAX); /* a shrink the inserts outgrew: finished */
    if (d->nbuckets)
        db_rehash_step(d, 1);
    else if (d->count > d->mask + 1)
        db_rehash_start(d, (d->mask + 1) * 2);
}

/* The access field for a value about to replace old (NULL: a new key), as
 * Redis sets it: under an LFU policy the new value inherits the old one's
 * counter after the write lookup counted as an access; otherwise it starts
 * afresh. */
static uint32_t db_access_for(db *d, obj *old) {
    if (old && d->st->lfu) {
        store_touch(d->st, old); /* the write's own lookup (Redis's setKey) */
        return old->lru;
    }
    return store_access_init(d->st);
}

/* db_set, with the access field given (lru) or computed (NULL). */
static int db_set_lru(db *d, const char *key, size_t klen, obj *val, int keep_ttl,
                      const uint32_t *lru) {
    uint64_t h = db_hash(d, key, klen);
    db_entry *e = db_lookup_h(d, key, klen, h, NULL);
    val->lru = lru ? *lru : db_access_for(d, e && val != ent_val(e) ? ent_val(e) : NULL);
    if (e) {
        if (val != ent_val(e)) db_entry_put(e, val);
        if (!keep_ttl) db_exp_remove(d, e);
        return 0;
    }
    db_insert_ptr(d, key, klen, h, val);
    db_grow(d);
    return 1;
}

/* Takes ownership of val. An expired old entry counts as absent (so it
 * loses its TTL even with keep_ttl, as after Redis's lookupKeyWrite). */
int db_set(db *d, const char *key, size_t klen, obj *val, int keep_ttl) {
    return db_set_lru(d, key, klen, val, keep_ttl, NULL);
}

/* A string value for db_set_strval: an INT (is_int, iv), the bytes p[0..len),
 * or, when sb is not NULL, a RAW string whose buffer the table takes over. */
typedef struct db_strval {
    int is_int;
    long long iv;
    const char *p;
    size_t len;
    strbuf *sb;
} db_strval;

/* Longer than an EMBSTR: kept as RAW, its bytes in a buffer of their own. */
static int strval_raw(const db_strval *v) {
    return v->sb != NULL || (!v->is_int && v->len > OBJ_EMBSTR_MAX);
}

/* Write v into an inline entry's value (a string), which has the room for
 * it; the buffer the old value owned is freed last, as p may point into
 * it. */
static void ent_put_str(obj *o, const db_strval *v) {
    strbuf *old = o->enc == OBJ_ENC_RAW ? o->v.ptr : NULL;
    if (old && !v->sb && strval_raw(v) && v->len <= old->cap &&
        old->cap - v->len <= v->len / 8 + 16) {
        /* A RAW string over one whose buffer fits it closely: rewritten in
         * that buffer (memmove: p may point into it). */
        memmove(old->b, v->p, v->len);
        old->len = v->len;
        old->b[v->len] = '\0';
        return;
    }
    if (strval_raw(v)) {
        o->enc = OBJ_ENC_RAW;
        o->v.ptr = v->sb ? v->sb : strbuf_new(v->p, v->len, v->len);
    } else if (v->is_int) {
        o->enc = OBJ_ENC_INT;
        o->v.i = v->iv;
    } else {
        o->enc = OBJ_ENC_EMBSTR;
        o->slen = (uint8_t)v->len;
        if (v->len) memmove(obj_sbytes(o), v->p, v->len);
    }
    free(old);
}

/* A string value for db_set_str/db_set_int/db_set_standalone, stored inside
 * the key's entry when the key is at most DB_INLINE_KEY_MAX bytes: an INT or
 * EMBSTR in the entry's room, a RAW string as its buffer behind the slot.
 * The entry is regrown when the room its first value left is too small or
 * far too big (or it held a value of its own). lru as for db_set_lru. */
static int db_set_strval(db *d, const char *key, size_t klen, const db_strval *v, int keep_ttl,
                         const uint32_t *lru) {
    uint64_t h = db_hash(d, key, klen);
    db_entry **link;
    db_entry *e = db_lookup_h(d, key, klen, h, &link);
    int isnew = e == NULL;
    size_t room = v->is_int || v->len < ENT_SLOT || strval_raw(v) ? ENT_SLOT : v->len;
    uint32_t access = lru ? *lru : db_access_for(d, e ? ent_val(e) : NULL);
    if (e && !keep_ttl) db_exp_remove(d, e); /* before a regrow would move it */
    obj *o;
    if (e && ent_inline(e) && room <= e->u.p.room && e->u.p.room - room < ENT_ROOM_SLACK) {
        /* Fits the entry: rewrite the value in place. */
        o = ent_val(e);
        ent_put_str(o, v);
    } else if (klen > DB_INLINE_KEY_MAX) { /* (never with v->sb: db_set_standalone) */
        o = v->is_int ? obj_new_int(v->iv) : obj_new_string(v->p, v->len);
        if (e)
            db_entry_put(e, o);
        else
            db_insert_ptr(d, key, klen, h, o);
    } else {
        db_entry *old = e;
        if (e) {
            e = db_entry_regrow(d, link, e, room);
        } else {
            e = db_insert(d, key, klen, h, room);
            e->u.p.flags = ENT_INLINE;
        }
        o = &e->u.o;
        o->type = OBJ_STRING;
        o->enc = OBJ_ENC_INT; /* owns nothing yet */
        o->ext = (uint8_t)klen;
        ent_put_str(o, v);
        if (old) db_entry_free(old); /* after the copy: p may point into it */
    }
    o->lru = access;
    if (isnew) db_grow(d);
    return isnew;
}

int db_set_str(db *d, const char *key, size_t klen, const char *p, size_t len, int keep_ttl) {
    db_strval v = {0, 0, p, len, NULL};
    v.is_int = len <= 20 && util_str2ll(p, len, &v.iv);
    return db_set_strval(d, key, klen, &v, keep_ttl, NULL);
}

int db_set_int(db *d, const char *key, size_t klen, long long n, int keep_ttl) {
    db_strval v = {1, n, NULL, 0, NULL};
    return db_set_strval(d, key, klen, &v, keep_ttl, NULL);
}

/* db_set_owned and db_set_carry: a standalone string value goes into the
 * key's entry (an INT or EMBSTR copied, a RAW one's buffer taken over, and
 * val freed), any other value as db_set. val is never the value stored at
 * key (db_replace returns early for that one). */
static int db_set_standalone(db *d, const char *key, size_t klen, obj *val, int keep_ttl,
                             const uint32_t *lru) {
    if (val->type != OBJ_STRING || klen > DB_INLINE_KEY_MAX)
        return db_set_lru(d, key, klen, val, keep_ttl, lru);
    db_strval v = {0, 0, NULL, 0, NULL};
    if (val->enc == OBJ_ENC_INT) {
        v.is_int = 1;
        v.iv = val->v.i;
    } else if (val->enc == OBJ_ENC_EMBSTR) {
        v.p = obj_sbytes(val);
        v.len = obj_slen(val);
    } else {
        v.sb = val->v.ptr;
        v.len = v.sb->len;
        val->enc = OBJ_ENC_INT; /* the buffer is the table's now */
    }
    int isnew = db_set_strval(d, key, klen, &v, keep_ttl, lru);
    obj_free(val);
    return isnew;
}

int db_set_owned(db *d, const char *key, size_t klen, obj *val, int keep_ttl) {
    return db_set_standalone(d, key, klen, val, keep_ttl, NULL);
}

int db_set_carry(db *d, const char *key, size_t klen, obj *val) {
    uint32_t lru = val->lru;
    return db_set_standalone(d, key, klen, val, 0, &lru);
}

void db_replace(db *d, const char *key, size_t klen, obj *val) {
    db_entry *e = db_lookup_raw(d, key, klen, NULL);
    if (e == NULL) {
        db_set(d, key, klen, val, 0);
        return;
    }
    if (val == ent_val(e)) return;
    /* The caller's lookup counted the access: the new value takes it over
     * (Redis's dbOverwrite), with the TTL. */
    uint32_t lru = ent_val(e)->lru;
    if (val->type == OBJ_STRING) {
        db_set_standalone(d, key, klen, val, 1, &lru);
        return;
    }
    val->lru = lru;
    db_entry_put(e, val);
}

int db_del(db *d, const char *key, size_t klen) {
    db_entry **link;
    db_entry *e = db_lookup(d, key, klen, &link);
    if (e == NULL) return 0;
    db_unlink(d, link, e, 0);
    return 1;
}

int db_del_lazy(db *d, const char *key, size_t klen) {
    db_entry **link;
    db_entry *e = db_lookup(d, key, klen, &link);
    if (e == NULL) return 0;
    /* A small value (an inline string among them) is freed here, without
     * detaching (for an inline one, copying) it first. */
    if (lazyfree_effort(ent_val(e)) > LAZYFREE_THRESHOLD)
        lazyfree_obj(db_unlink(d, link, e, 1));
    else
        db_unlink(d, link, e, 0);
    return 1;
}

obj *db_take(db *d, const char *key, size_t klen, int64_t *expire_ms) {
    db_entry **link;
    db_entry *e = db_lookup(d, key, klen, &link);
    *expire_ms = -1;
    if (e == NULL) return NULL;
    *expire_ms = db_entry_when(d, e);
    return db_unlink(d, link, e, 1);
}

int64_t db_get_expire(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    return e ? db_entry_when(d, e) : -1;
}

int db_set_expire(db *d, const char *key, size_t klen, int64_t when_ms) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL) return -1;
    db_exp_set(d, e, when_ms);
    return 0;
}

int db_persist(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL || !(e->u.p.flags & ENT_TTL)) return 0;
    db_exp_remove(d, e);
    return 1;
}

size_t db_size(const db *d) {
    return d->count;
}

size_t db_expires_size(const db *d) {
    return d->nexp;
}

size_t db_overhead_main(const db *d) {
    size_t n = alloc_big_size(d->buckets, (d->mask + 1) * sizeof(db_entry *));
    if (d->nbuckets) n += alloc_big_size(d->nbuckets, (d->nmask + 1) * sizeof(db_entry *));
    return n + d->count * offsetof(db_entry, u.o.v);
}

size_t db_overhead_expires(const db *d) {
    size_t n = d->exp ? alloc_big_size(d->exp, (d->expmask + 1) * sizeof(db_exp)) : 0;
    if (d->oexp) n += alloc_big_size(d->oexp, (d->oexpmask + 1) * sizeof(db_exp));
    return n;
}

/* A detached table: its buckets (both arrays while a resize ran) and the
 * expires table (see db_flush_lazy). */
typedef struct db_detached {
    db_entry **buckets, **nbuckets;
    size_t mask, nmask;
    db_exp *exp, *oexp;
    size_t expmask, oexpmask;
} db_detached;

static void db_free_chains(db_entry **b, size_t mask) {
    for (size_t i = 0; i <= mask; i++) {
        db_entry *e = b[i];
        while (e) {
            db_entry *next = e->next;
            db_entry_free(e);
            e = next;
        }
    }
    db_buckets_free(b, mask + 1);
}

static void db_free_detached(void *arg) {
    db_detached *t = arg;
    db_free_chains(t->buckets, t->mask);
    if (t->nbuckets) db_free_chains(t->nbuckets, t->nmask);
    exp_free(t->exp, t->expmask);
    exp_free(t->oexp, t->oexpmask);
    free(t);
}

/* Free every key and value and return to the minimum table size. */
void db_flush(db *d) {
    db_flush_lazy(d, 0);
}

void db_flush_lazy(db *d, int lazy) {
    db_detached *t = db_xcalloc(1, sizeof(*t));
    *t = (db_detached){d->buckets, d->nbuckets, d->mask,    d->nmask,
                       d->exp,     d->oexp,     d->expmask, d->oexpmask};
    /* As Redis's FLUSHALL ASYNC: any non-empty table goes to the background
     * thread, and every key counts as one lazily freed object. */
    if (lazy && d->count > 0)
        lazyfree_job(db_free_detached, t, d->count);
    else
        db_free_detached(t);
    d->buckets = db_buckets_new(DB_MIN_BUCKETS);
    d->mask = DB_MIN_BUCKETS - 1;
    d->nbuckets = NULL;
    d->nmask = 0;
    d->rehash_idx = 0;
    d->count = 0;
    d->exp = d->oexp = NULL;
    d->expmask = d->oexpmask = 0;
    d->nexp = d->omoved = d->onexp = 0;
    d->avg_ttl = 0;
}

/* Report the live keys of one chain; its first expired ones go to expired[]
 * (room for 16 in all, *nexp used so far). Returns the keys reported. */
static size_t db_scan_chain(db *d, db_entry *e, db_scan_fn fn, void *priv, db_entry **expired,
                            size_t *nexp) {
    size_t n = 0;
    for (; e; e = e->next) {
        if (db_entry_expired(d, e)) {
            if (*nexp < 16) expired[(*nexp)++] = e;
            continue;
        }
        fn(priv, ent_key(e), ent_klen(e), ent_val(e));
        n++;
    }
    return n;
}

/* Walks buckets in reverse-binary order, the way Redis's dictScan does:
 * incrementing the cursor's high bits first means a bucket visited under one
 * mask covers all of its split or merged images under another, so resizes
 * between steps cannot make the scan miss a key. While a resize runs, a step
 * visits the cursor's bucket of the smaller table and every bucket of the
 * larger one that it splits into; the keys of that smaller bucket are all in
 * one of those places. Expired keys of the visited buckets are deleted after
 * the step. */
uint64_t db_scan(db *d, uint64_t cursor, size_t count, db_scan_fn fn, void *priv) {
    size_t visited = 0;
    size_t budget = count * 10 + 1;
    do {
        uint64_t m = d->mask;
        db_entry *expired[16];
        size_t nexp = 0;
        if (d->nbuckets == NULL) {
            visited += db_scan_chain(d, d->buckets[cursor & m], fn, priv, expired, &nexp);
        } else {
            db_entry **small = d->buckets, **large = d->nbuckets;
            uint64_t ml = d->nmask;
            if (ml < m) {
                small = d->nbuckets;
                large = d->buckets;
                ml = m;
                m = d->nmask;
            }
            visited += db_scan_chain(d, small[cursor & m], fn, priv, expired, &nexp);
            for (uint64_t b = cursor & m; b <= ml; b += m + 1)
                visited += db_scan_chain(d, large[b], fn, priv, expired, &nexp);
        }
        cursor = util_scan_next(cursor, m);
        /* Deleting may shrink the table; the cursor stays valid across that
         * exactly as across a resize between two SCAN calls. Expired keys
         * beyond the first 16 of a bucket are left to a later lookup or to
         * the active cycle. */
        for (size_t i = 0; i < nexp; i++) {
            db_delete_entry(d, expired[i]);
            d->st->stats.expired_keys++;
        }
    } while (cursor != 0 && visited < count && --budget > 0);
    return cursor;
}

static void db_foreach_in(db *d, db_entry **b, size_t mask, db_scan_fn fn, void *priv) {
    for (size_t i = 0; i <= mask; i++)
        for (db_entry *e = b[i]; e; e = e->next)
            if (!db_entry_expired(d, e)) fn(priv, ent_key(e), ent_klen(e), ent_val(e));
}

void db_foreach(db *d, db_scan_fn fn, void *priv) {
    db_foreach_in(d, d->buckets, d->mask, fn, priv);
    if (d->nbuckets) db_foreach_in(d, d->nbuckets, d->nmask, fn, priv);
}

/* Probe random buckets until a non-empty one turns up, then pick a random
 * entry of its chain. Expired picks are deleted and the draw repeated. */
int db_random_key(db *d, const char **key, size_t *klen) {
    while (d->count > 0) {
        db_entry *head;
        do {
            /* While a resize runs, every bucket of the new table and of
             * the old one's unmoved part is equally likely (the moved ones
             * are empty). */
            uint64_t r = util_rand_next(&d->rng);
            if (d->nbuckets == NULL) {
                head = d->buckets[r & d->mask];
            } else {
                r %= d->mask + 1 - d->rehash_idx + d->nmask + 1;
                head =
                    r <= d->nmask ? d->nbuckets[r] : d->buckets[d->rehash_idx + (r - d->nmask - 1)];
            }
        } while (head == NULL);
        size_t len = 0;
        for (db_entry *e = head; e; e = e->next)
            len++;
        db_entry *e = head;
        for (size_t k = util_rand_next(&d->rng) % len; k > 0; k--)
            e = e->next;
        if (db_entry_expired(d, e)) {
            db_delete_entry(d, e);
            d->st->stats.expired_keys++;
            continue;
        }
        *key = ent_key(e);
        *klen = ent_klen(e);
        return 1;
    }
    return 0;
}

/* Samples keys of the expires table uniformly: random slots, drawn again
 * while empty. A table bigger than the smallest is kept more than 1/8 full
 * outside resizes (about eight draws on average); while one runs, the draw
 * covers the new table and the part of the old one not yet drained, and a
 * sample gives up after EXP_DRAWS empty draws. */
#define EXP_DRAWS 64

int db_active_expire(db *d, int samples) {
    int deleted = 0;
    int64_t ttl_sum = 0, ttl_samples = 0;
    for (int i = 0; i < samples && d->nexp > 0; i++) {
        db_exp *x;
        int draws = 0;
        do {
            size_t j = (size_t)util_rand_next(&d->rng);
            if (d->oexp == NULL) {
                x = &d->exp[j & d->expmask];
            } else {
                size_t left = d->oexpmask + 1 - d->omoved;
                j %= d->expmask + 1 + left;
                x = j <= d->expmask ? &d->exp[j] : &d->oexp[d->omoved + j - d->expmask - 1];
            }
        } while ((x->e == NULL || x->e == EXP_TOMB) && ++draws < EXP_DRAWS);
        if (x->e == NULL || x->e == EXP_TOMB) continue;
        db_entry *e = x->e;
        if (x->when_ms >= d->st->now_ms) { /* alive (a deadline of now too, as in Redis) */
            ttl_sum += x->when_ms - d->st->now_ms;
            ttl_samples += x->when_ms > d->st->now_ms;
            continue;
        }
        uint64_t h = db_hash(d, ent_key(e), ent_klen(e));
        if (!d->st->key_busy || !d->st->key_busy(d->st->key_busy_arg, h)) {
            db_delete_entry_h(d, e, h);
            d->st->stats.expired_keys++;
            deleted++;
        }
    }
    /* Redis's estimate: the sample's mean TTL, weighing 2% against the
     * running value's 98%. */
    if (ttl_samples) {
        int64_t mean = ttl_sum / ttl_samples;
        if (d->avg_ttl == 0) d->avg_ttl = mean;
        d->avg_ttl = (d->avg_ttl / 50) * 49 + mean / 50;
    }
    return deleted;
}

int64_t db_avg_ttl(const db *d) {
    return d->avg_ttl;
}
