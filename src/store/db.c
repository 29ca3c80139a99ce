/* db.c -- one database's key table with expiry, and the store holding a
 * shard's databases (the layout is drawn in store.h).
 *
 * Runs only on the shard thread that owns the store; nothing is locked.
 *
 * Keys hash with util_hash(store->seed). The runtime routes a key to a shard
 * by the HIGH 32 bits of that hash, so every key of a shard shares them; the
 * bucket index therefore uses the LOW bits. The table is resized at once (not
 * incrementally): it doubles when keys > buckets and halves down to twice the
 * key count when keys < buckets / 8, never below DB_MIN_BUCKETS.
 *
 * Expiry is lazy (every lookup deletes a key whose deadline has passed, that
 * is when now_ms > deadline, as Redis does) plus active (db_active_expire
 * samples the dense expires array).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "lazyfree.h"
#include "store.h"

#define DB_MIN_BUCKETS 4

typedef struct db_entry {
    struct db_entry *next;
    obj *val;
    int32_t exp_idx; /* slot in db->exp, or -1 */
    uint32_t klen;
    char key[];
} db_entry;

/* A string value stored by db_set_str lives in its entry's allocation, right
 * after the key (8-aligned): an obj header without its last field (v.s.cap),
 * followed by the bytes and their NUL, at least 8 bytes of them. Such a
 * value is "embedded": e->val == db_emb(e), marked OBJ_F_EMBEDDED (a flag,
 * not an address test, so no allocator layout can make a separate value
 * look embedded). The header stays a valid EMBSTR
 * or INT obj for every reader (nothing reads v.s.cap of those encodings);
 * obj_str_make_raw, which turns it RAW, writes v.s.cap last, over bytes it
 * no longer uses, and that room is always allocated. An embedded value is
 * never passed to free(): replacing it releases only what it owns (a RAW
 * buffer), and db_take / lazy deletion hand out a standalone copy. */
#define DB_EMB_HDR offsetof(obj, v.s.cap)
#define DB_EMB_MIN 8        /* bytes kept after the header: room for v.s.cap */
#define DB_EMB_KEY_MAX 4096 /* longer keys get a separate value allocation */

static size_t db_emb_off(size_t klen) {
    return (sizeof(db_entry) + klen + 7) & ~(size_t)7;
}

static obj *db_emb(const db_entry *e) {
    return (obj *)((char *)e + db_emb_off(e->klen));
}

/* Free a value of an entry: what it owns, and the value itself unless it is
 * embedded in the entry. */
static void db_val_free(obj *val) {
    if (val->flags & OBJ_F_EMBEDDED)
        obj_free_contents(val);
    else
        obj_free(val);
}

typedef struct db_exp {
    db_entry *e;
    int64_t when_ms;
} db_exp;

struct db {
    store *st;
    db_entry **buckets;
    size_t mask; /* buckets - 1 */
    size_t count;
    db_exp *exp;
    size_t nexp, capexp;
    uint64_t rng; /* xorshift state for random sampling */
};

static void *db_xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (p == NULL) abort();
    return p;
}

static uint64_t db_rand(db *d) {
    uint64_t x = d->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t db_hash(const db *d, const char *key, size_t klen) {
    const store *st = d->st;
    if (key == st->hint_key && klen == st->hint_klen) return st->hint_hash;
    return util_hash(key, klen, st->seed);
}

/* Rebuild the bucket array with n (a power of two) buckets. */
static void db_rehash(db *d, size_t n) {
    db_entry **nb = db_xcalloc(n, sizeof(*nb));
    for (size_t i = 0; i <= d->mask; i++) {
        db_entry *e = d->buckets[i];
        while (e) {
            db_entry *next = e->next;
            size_t b = db_hash(d, e->key, e->klen) & (n - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(d->buckets);
    d->buckets = nb;
    d->mask = n - 1;
}

static void db_maybe_shrink(db *d) {
    size_t n = d->mask + 1;
    if (n <= DB_MIN_BUCKETS || d->count >= n / 8) return;
    size_t target = DB_MIN_BUCKETS;
    while (target < d->count * 2)
        target *= 2;
    if (target < n) db_rehash(d, target);
}

/* Find the entry for key without any expiry check. *pprev, when given, gets
 * the link that points at the entry (for unlinking). */
static db_entry *db_lookup_raw_h(db *d, const char *key, size_t klen, uint64_t h,
                                 db_entry ***pprev) {
    db_entry **link = &d->buckets[h & d->mask];
    for (db_entry *e = *link; e; link = &e->next, e = e->next) {
        if (e->klen == klen && memcmp(e->key, key, klen) == 0) {
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
    return e->exp_idx >= 0 && d->st->now_ms > d->exp[e->exp_idx].when_ms;
}

/* Drop e's slot from the expires array, moving the last slot into the hole. */
static void db_exp_remove(db *d, db_entry *e) {
    int32_t i = e->exp_idx;
    if (i < 0) return;
    d->nexp--;
    if ((size_t)i != d->nexp) {
        d->exp[i] = d->exp[d->nexp];
        d->exp[i].e->exp_idx = i;
    }
    e->exp_idx = -1;
}

static void db_exp_set(db *d, db_entry *e, int64_t when_ms) {
    if (e->exp_idx >= 0) {
        d->exp[e->exp_idx].when_ms = when_ms;
        return;
    }
    if (d->nexp == d->capexp) {
        size_t cap = d->capexp ? d->capexp * 2 : 16;
        db_exp *p = realloc(d->exp, cap * sizeof(*p));
        if (p == NULL) abort();
        d->exp = p;
        d->capexp = cap;
    }
    d->exp[d->nexp].e = e;
    d->exp[d->nexp].when_ms = when_ms;
    e->exp_idx = (int32_t)d->nexp++;
}

/* Unlink e (whose link is *link), free it, and return its value: freed too
 * unless keep_val. Shrinks the table when it gets sparse. */
static obj *db_unlink(db *d, db_entry **link, db_entry *e, int keep_val) {
    obj *val = e->val;
    *link = e->next;
    db_exp_remove(d, e);
    if (!keep_val) {
        db_val_free(val);
        val = NULL;
    } else if (val->flags & OBJ_F_EMBEDDED) {
        val = obj_move_out(val);
    }
    free(e);
    d->count--;
    db_maybe_shrink(d);
    return val;
}

/* Look key up honouring expiry: an expired key is deleted (and counted) and
 * NULL returned. *pprev as for db_lookup_raw. */
static db_entry *db_lookup_h(db *d, const char *key, size_t klen, uint64_t h, db_entry ***pprev) {
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

/* Delete an entry found by a walk that did not keep its link. */
static void db_delete_entry(db *d, db_entry *e) {
    db_entry **link;
    db_entry *found = db_lookup_raw(d, e->key, e->klen, &link);
    if (found == e) db_unlink(d, link, e, 0);
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
        d->buckets = db_xcalloc(DB_MIN_BUCKETS, sizeof(*d->buckets));
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
        free(s->dbs[i]->buckets);
        free(s->dbs[i]->exp);
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
    s->rng ^= s->rng << 13, s->rng ^= s->rng >> 7, s->rng ^= s->rng << 17;
    double r = (double)(s->rng >> 11) / (double)(1ULL << 53);
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
    store_touch(d->st, e->val);
    return e->val;
}

obj *db_peek(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    return e ? e->val : NULL;
}

obj *db_find_exp(db *d, const char *key, size_t klen, int64_t *expire_ms) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL) {
        *expire_ms = -1;
        return NULL;
    }
    store_touch(d->st, e->val);
    *expire_ms = e->exp_idx >= 0 ? d->exp[e->exp_idx].when_ms : -1;
    return e->val;
}

/* Link a new entry (key copied, the value not set) into bucket h. `extra`
 * bytes follow the key's aligned end (db_emb_off). */
static db_entry *db_insert(db *d, const char *key, size_t klen, uint64_t h, size_t extra) {
    db_entry *e = malloc(extra ? db_emb_off(klen) + extra : sizeof(*e) + klen);
    if (e == NULL) abort();
    e->exp_idx = -1;
    e->klen = (uint32_t)klen;
    if (klen) memcpy(e->key, key, klen);
    size_t b = h & d->mask;
    e->next = d->buckets[b];
    d->buckets[b] = e;
    d->count++;
    return e;
}

static void db_grow(db *d) {
    if (d->count > d->mask + 1) db_rehash(d, (d->mask + 1) * 2);
}

/* Takes ownership of val. An expired old entry counts as absent (so it
 * loses its TTL even with keep_ttl, as after Redis's lookupKeyWrite). */
int db_set(db *d, const char *key, size_t klen, obj *val, int keep_ttl) {
    val->lru = store_access_init(d->st);
    uint64_t h = db_hash(d, key, klen);
    db_entry *e = db_lookup_h(d, key, klen, h, NULL);
    if (e) {
        if (e->val != val) db_val_free(e->val);
        e->val = val;
        if (!keep_ttl) db_exp_remove(d, e);
        return 0;
    }
    e = db_insert(d, key, klen, h, 0);
    e->val = val;
    db_grow(d);
    return 1;
}

int db_set_str(db *d, const char *key, size_t klen, const char *p, size_t len, int keep_ttl) {
    uint64_t h = db_hash(d, key, klen);
    db_entry *e = db_lookup_h(d, key, klen, h, NULL);
    long long iv;
    int is_int = len <= 20 && util_str2ll(p, len, &iv);
    if (e) {
        obj *o = e->val;
        if (!is_int && o->type == OBJ_STRING && o->enc == OBJ_ENC_EMBSTR && len <= o->v.s.len) {
            /* Same encoding, fits: overwrite in place. */
            memcpy(o->v.s.ptr, p, len);
            o->v.s.ptr[len] = '\0';
            o->v.s.len = len;
            o->lru = store_access_init(d->st);
        } else {
            obj *nv = is_int ? obj_new_int(iv) : obj_new_string(p, len);
            nv->lru = store_access_init(d->st);
            db_val_free(o);
            e->val = nv;
        }
        if (!keep_ttl) db_exp_remove(d, e);
        return 0;
    }
    if (klen > DB_EMB_KEY_MAX || (!is_int && len > OBJ_EMBSTR_MAX)) {
        obj *nv = is_int ? obj_new_int(iv) : obj_new_string(p, len);
        nv->lru = store_access_init(d->st);
        e = db_insert(d, key, klen, h, 0);
        e->val = nv;
    } else {
        size_t room = is_int ? 0 : len + 1;
        if (room < DB_EMB_MIN) room = DB_EMB_MIN;
        e = db_insert(d, key, klen, h, DB_EMB_HDR + room);
        obj *o = db_emb(e);
        memset(o, 0, DB_EMB_HDR);
        o->type = OBJ_STRING;
        o->flags = OBJ_F_EMBEDDED;
        o->lru = store_access_init(d->st);
        if (is_int) {
            o->enc = OBJ_ENC_INT;
            o->v.i = iv;
        } else {
            o->enc = OBJ_ENC_EMBSTR;
            o->v.s.ptr = (char *)o + DB_EMB_HDR;
            if (len) memcpy(o->v.s.ptr, p, len);
            o->v.s.ptr[len] = '\0';
            o->v.s.len = len;
        }
        e->val = o;
    }
    db_grow(d);
    return 1;
}

void db_replace(db *d, const char *key, size_t klen, obj *val) {
    db_entry *e = db_lookup_raw(d, key, klen, NULL);
    if (e == NULL) {
        db_set(d, key, klen, val, 0);
        return;
    }
    if (e->val != val) db_val_free(e->val);
    e->val = val;
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
    /* A small value (an embedded string among them) is freed here, without
     * detaching (for an embedded one, copying) it first. */
    if (lazyfree_effort(e->val) > LAZYFREE_THRESHOLD)
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
    if (e->exp_idx >= 0) *expire_ms = d->exp[e->exp_idx].when_ms;
    return db_unlink(d, link, e, 1);
}

int64_t db_get_expire(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    return (e && e->exp_idx >= 0) ? d->exp[e->exp_idx].when_ms : -1;
}

int db_set_expire(db *d, const char *key, size_t klen, int64_t when_ms) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL) return -1;
    db_exp_set(d, e, when_ms);
    return 0;
}

int db_persist(db *d, const char *key, size_t klen) {
    db_entry *e = db_lookup(d, key, klen, NULL);
    if (e == NULL || e->exp_idx < 0) return 0;
    db_exp_remove(d, e);
    return 1;
}

size_t db_size(const db *d) {
    return d->count;
}

size_t db_expires_size(const db *d) {
    return d->nexp;
}

/* A detached table: its buckets and the expires array (see db_flush_lazy). */
typedef struct db_detached {
    db_entry **buckets;
    size_t mask;
    db_exp *exp;
} db_detached;

static void db_free_detached(void *arg) {
    db_detached *t = arg;
    for (size_t i = 0; i <= t->mask; i++) {
        db_entry *e = t->buckets[i];
        while (e) {
            db_entry *next = e->next;
            db_val_free(e->val);
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    free(t->exp);
    free(t);
}

/* Free every key and value and return to the minimum table size. */
void db_flush(db *d) {
    db_flush_lazy(d, 0);
}

void db_flush_lazy(db *d, int lazy) {
    db_detached *t = db_xcalloc(1, sizeof(*t));
    *t = (db_detached){d->buckets, d->mask, d->exp};
    /* As Redis's FLUSHALL ASYNC: any non-empty table goes to the background
     * thread, and every key counts as one lazily freed object. */
    if (lazy && d->count > 0)
        lazyfree_job(db_free_detached, t, d->count);
    else
        db_free_detached(t);
    d->buckets = db_xcalloc(DB_MIN_BUCKETS, sizeof(*d->buckets));
    d->mask = DB_MIN_BUCKETS - 1;
    d->count = 0;
    d->exp = NULL;
    d->nexp = d->capexp = 0;
}

/* Reverse the bits of v (for the SCAN cursor). */
static uint64_t db_rev(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
}

/* Walks buckets in reverse-binary order, the way Redis's dictScan does on one
 * table: incrementing the cursor's high bits first means a bucket visited
 * under one mask covers all of its split or merged images under another, so
 * resizes between steps cannot make the scan miss a key. Expired keys of a
 * visited bucket are deleted after the bucket is walked. */
uint64_t db_scan(db *d, uint64_t cursor, size_t count, db_scan_fn fn, void *priv) {
    size_t visited = 0;
    size_t budget = count * 10 + 1;
    do {
        uint64_t m = d->mask;
        db_entry *expired[16];
        size_t nexp = 0;
        for (db_entry *e = d->buckets[cursor & m]; e; e = e->next) {
            if (db_entry_expired(d, e)) {
                if (nexp < sizeof(expired) / sizeof(expired[0])) expired[nexp++] = e;
                continue;
            }
            fn(priv, e->key, e->klen, e->val);
            visited++;
        }
        cursor |= ~m;
        cursor = db_rev(cursor);
        cursor++;
        cursor = db_rev(cursor);
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

void db_foreach(db *d, db_scan_fn fn, void *priv) {
    for (size_t i = 0; i <= d->mask; i++)
        for (db_entry *e = d->buckets[i]; e; e = e->next)
            if (!db_entry_expired(d, e)) fn(priv, e->key, e->klen, e->val);
}

/* Probe random buckets until a non-empty one turns up, then pick a random
 * entry of its chain. Expired picks are deleted and the draw repeated. */
int db_random_key(db *d, const char **key, size_t *klen) {
    while (d->count > 0) {
        db_entry *head;
        do {
            head = d->buckets[db_rand(d) & d->mask];
        } while (head == NULL);
        size_t len = 0;
        for (db_entry *e = head; e; e = e->next)
            len++;
        db_entry *e = head;
        for (size_t k = db_rand(d) % len; k > 0; k--)
            e = e->next;
        if (db_entry_expired(d, e)) {
            db_delete_entry(d, e);
            d->st->stats.expired_keys++;
            continue;
        }
        *key = e->key;
        *klen = e->klen;
        return 1;
    }
    return 0;
}

int db_active_expire(db *d, int samples) {
    int deleted = 0;
    for (int i = 0; i < samples && d->nexp > 0; i++) {
        db_exp *x = &d->exp[db_rand(d) % d->nexp];
        if (d->st->now_ms > x->when_ms) {
            db_delete_entry(d, x->e);
            d->st->stats.expired_keys++;
            deleted++;
        }
    }
    return deleted;
}
