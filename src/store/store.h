/* store.h -- one shard's keyspace: values (obj), the per-database key table
 * with expiry, and the store that holds a shard's databases.
 *
 * Threading: a store belongs to exactly one shard thread; nothing here is
 * thread-safe and nothing needs to be. A value may be detached from one
 * store (db_take) and handed whole to another shard by message passing; it
 * is then owned by the receiver. No pointer into a live store crosses cores.
 *
 * Time: lookups honour expiry against store->now_ms, which the command layer
 * refreshes before running each command (Redis caches the time per command
 * the same way). Deadlines are absolute Unix milliseconds.
 *
 * Layout of the key table (db):
 *
 *   buckets[2^k] --> entry --> entry --> NULL      (chained, power of two)
 *                     |
 *                     +-- next | 16-byte body [+ string bytes] | key bytes
 *
 *   expires: { entry *, deadline_ms } open-addressing table of the keys with
 *            a TTL; an entry's flag bit says whether to look there
 *
 * The body is the value itself for short strings stored with db_set_str (no
 * separate allocation), else the key length and a pointer to the value;
 * db.c explains both. An entry moves only when a short string is stored into
 * it that needs a different room than it has (the expires table, which
 * points at entries, is updated then). Active expiry samples the expires
 * table, so its cost does not depend on how many keys have no TTL.
 */
#ifndef PERCORE_STORE_H
#define PERCORE_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Value types, numbered as Redis numbers them (RDB and TYPE use these). */
enum { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4, OBJ_STREAM = 6 };

/* Encodings, numbered as Redis numbers them; OBJECT ENCODING names them. */
enum {
    OBJ_ENC_RAW = 0,
    OBJ_ENC_INT = 1,
    OBJ_ENC_HT = 2,
    OBJ_ENC_LINKEDLIST = 4,
    OBJ_ENC_INTSET = 6,
    OBJ_ENC_SKIPLIST = 7,
    OBJ_ENC_EMBSTR = 8,
    OBJ_ENC_QUICKLIST = 9,
    OBJ_ENC_STREAM = 10,
    OBJ_ENC_LISTPACK = 11,
};

/* Strings of at most this many bytes are created EMBSTR, as in Redis. */
#define OBJ_EMBSTR_MAX 44

/* obj.flags: the value lives inside its key's table entry (db.c), so it is
 * never passed to free(); copies (obj_dup, obj_move_out) do not inherit it,
 * nor any other flag. db.c keeps its own entry bits in the other flag bits
 * of an embedded value; nothing outside db.c and obj.c writes flags. */
#define OBJ_F_EMBEDDED 1

/* A RAW string's buffer: len bytes plus a NUL in room for cap + 1. */
typedef struct strbuf {
    size_t len;
    size_t cap;
    char b[];
} strbuf;

/* A value: an 8-byte header and an 8-byte slot. Strings are stored by
 * encoding:
 *   INT     v.i holds the number;
 *   EMBSTR  slen bytes (no NUL) start at v, in the same allocation: a
 *           standalone value is 8 + max(slen, 8) bytes (see obj_sbytes);
 *   RAW     v.ptr is a strbuf with spare room for APPEND and SETRANGE.
 * Other types keep their representation behind v.ptr. ext and room belong
 * to the header's owner: db.c keeps a key's length and the room its value
 * has there when the value lives inside the key's table entry. */
typedef struct obj {
    uint8_t type : 4;
    uint8_t enc : 4;
    uint8_t flags;     /* OBJ_F_* (and db.c's entry bits) */
    uint8_t ext;       /* the owner's */
    uint8_t room;      /* the owner's */
    uint32_t lru : 24; /* LRU clock (seconds) or LFU minutes and counter:
                          OBJECT IDLETIME / FREQ, as Redis's 24 bits */
    uint32_t slen : 8; /* EMBSTR: the string's length */
    union {
        long long i; /* INT strings */
        void *ptr;   /* RAW strings: strbuf; other types: the type's module's */
    } v;
} obj;

/* The bytes and length of an EMBSTR or RAW string. Only a RAW string's bytes
 * are followed by a NUL: read them by length. */
static inline char *obj_sbytes(const obj *o) {
    return o->enc == OBJ_ENC_EMBSTR ? (char *)&o->v : ((strbuf *)o->v.ptr)->b;
}
static inline size_t obj_slen(const obj *o) {
    return o->enc == OBJ_ENC_EMBSTR ? (size_t)o->slen : ((strbuf *)o->v.ptr)->len;
}

/* String values. All constructors copy the bytes; the caller owns the result. */
obj *obj_new_string(const void *p, size_t len);     /* EMBSTR if len <= 44, else RAW */
obj *obj_new_string_enc(const void *p, size_t len); /* like Redis's tryObjectEncoding:
                                                        INT when p is a canonical
                                                        long long of <= 20 chars */
obj *obj_new_int(long long v);
obj *obj_dup(const obj *o);     /* deep copy (COPY command) */
void obj_free(obj *o);          /* NULL is fine */
void obj_free_contents(obj *o); /* what o owns, not o's own memory */
/* A standalone copy of o that takes over what o owns (RAW buffer, a type's
 * representation); o's own memory is left to its owner and o is dead. */
obj *obj_move_out(const obj *o);
const char *obj_type_name(const obj *o); /* "string", "list", ... */
const char *obj_enc_name(const obj *o);  /* "embstr", "int", "raw", ... */

/* Byte view of a string value. For INT encoding the digits are written into
 * tmp (at least 24 bytes) and a pointer to tmp is returned. */
const char *obj_str(const obj *o, char *tmp, size_t *len);
size_t obj_strlen(const obj *o);
/* Make a string value modifiable in place: converts INT/EMBSTR to RAW and
 * ensures room for newlen bytes (+1 for the NUL). New bytes are not
 * initialised and the length is unchanged. Returns the buffer. */
strbuf *obj_str_make_raw(obj *o, size_t newlen);
/* Set the length of a RAW string (within its room) and write the NUL. */
void obj_str_setlen(obj *o, size_t len);
/* Make o a RAW string owning sb (o held no string bytes, or they were
 * handed over already). */
void obj_str_adopt(obj *o, strbuf *sb);
/* A strbuf holding a copy of p[0..len) (len zero bytes if p is NULL) in room
 * for max(cap, len) bytes plus the NUL. grow keeps the bytes and returns the
 * (possibly moved) buffer with room for at least cap. */
strbuf *strbuf_new(const void *p, size_t len, size_t cap);
strbuf *strbuf_grow(strbuf *sb, size_t cap);
/* Approximate bytes used by the value (MEMORY USAGE). */
size_t obj_mem_usage(const obj *o);

/* Element count of a value: 1 for strings (lazy-free effort, DEBUG OBJECT). */
size_t obj_elements(const obj *o);
/* jemalloc's size class for an n-byte request (MEMORY USAGE estimates Redis's
 * figures, which are jemalloc's). */
size_t obj_jemalloc_size(size_t n);

/* What a non-string type's module provides (store/list.c, set.c, zset.c,
 * hash.c); obj.c dispatches on o->type. The module keeps o->enc right. */
typedef struct obj_type_hooks {
    void (*free)(obj *o);              /* free o->v.ptr and what it owns (not o) */
    void *(*dup)(const obj *o);        /* a deep copy of o->v.ptr (same encoding) */
    size_t (*mem_usage)(const obj *o); /* MEMORY USAGE of the value, Redis-like */
    size_t (*elements)(const obj *o);  /* number of elements */
} obj_type_hooks;
extern const obj_type_hooks obj_hooks_list, obj_hooks_set, obj_hooks_zset, obj_hooks_hash;

/* The encoding thresholds of a shard (CONFIG names in comments), refreshed
 * from its configuration after startup and every CONFIG SET. */
typedef struct store_enc {
    long long hash_max_listpack_entries; /* hash-max-listpack-entries */
    long long hash_max_listpack_value;   /* hash-max-listpack-value */
    long long set_max_intset_entries;    /* set-max-intset-entries */
    long long zset_max_listpack_entries; /* zset-max-listpack-entries */
    long long zset_max_listpack_value;   /* zset-max-listpack-value */
    int list_max_listpack_size;          /* list-max-listpack-size: > 0 entries per
                                            node; -1..-5 = 4, 8, 16, 32, 64 KiB */
    int list_compress_depth;             /* list-compress-depth */
} store_enc;

/* One database of one shard. Opaque. */
typedef struct db db;

typedef struct store_stats {
    uint64_t expired_keys;  /* keys removed because their TTL passed */
    uint64_t keyspace_hits; /* maintained by the command layer */
    uint64_t keyspace_misses;
} store_stats;

typedef struct store {
    int ndb;
    db **dbs;
    int64_t now_ms;    /* time used for expiry checks, refreshed per command */
    uint64_t seed;     /* hash seed of this process */
    int active_expire; /* DEBUG SET-ACTIVE-EXPIRE: 0 disables the cycle */
    /* Access tracking (maxmemory-policy): with lfu 0, obj->lru holds the LRU
     * clock of the last access; with lfu 1 it holds Redis's LFU pair
     * (minutes << 8 | logarithmic counter), as Redis keeps it. */
    int lfu;
    int lfu_log_factor;
    int lfu_decay_time; /* minutes per counter decrement; 0 never */
    uint64_t rng;       /* for the LFU counter's probabilistic increment */
    store_enc enc;      /* encoding thresholds (CONFIG) */
    store_stats stats;
    /* The hash of one key of the running command, already computed for
     * routing (util_hash with this store's seed). Set by the command layer
     * around one command, NULL otherwise: a lookup of exactly these bytes
     * (same pointer and length) reuses it instead of hashing again. */
    const char *hint_key;
    size_t hint_klen;
    uint64_t hint_hash;
    /* Keys that active expiry must leave alone for now (a transaction holds
     * them between two of its steps): key_busy(arg, hash of the key) != 0.
     * NULL: none. */
    int (*key_busy)(void *arg, uint64_t hash);
    void *key_busy_arg;
} store;

store *store_new(int ndb, uint64_t seed);
void store_free(store *s);
static inline db *store_db(store *s, int i) {
    return s->dbs[i];
}
/* Swap databases a and b of this shard (SWAPDB does it on every shard). */
void store_swapdb(store *s, int a, int b);
/* The LRU clock (seconds, 24 bits) for obj->lru, from now_ms. */
uint32_t store_lru_clock(const store *s);
/* Record an access to o (LRU clock or LFU counter, per s->lfu). */
void store_touch(store *s, obj *o);
/* The LFU counter of o after decay (OBJECT FREQ); meaningful with s->lfu. */
unsigned store_lfu_freq(const store *s, const obj *o);

/* Look key up. A key whose deadline has passed is deleted on the spot and
 * reported absent. Returns the value (owned by the db) or NULL. */
obj *db_find(db *d, const char *key, size_t klen);
/* As db_find, but also sets *expire_ms to the deadline or -1 for none. */
obj *db_find_exp(db *d, const char *key, size_t klen, int64_t *expire_ms);

/* Set key to val, taking ownership of val. An old value is freed. Its TTL is
 * cleared unless keep_ttl. Returns 1 if the key was new, 0 if replaced. */
int db_set(db *d, const char *key, size_t klen, obj *val, int keep_ttl);
/* As db_set(d, key, klen, obj_new_string_enc(p, len), keep_ttl), without
 * the separate allocations: an INT or EMBSTR value is stored in the key's
 * own allocation, rewritten in place when it fits the room there closely
 * enough, else in a new allocation sized for it. db_find's pointer contract
 * holds as for db_set; db_take hands out a standalone value. p must not
 * point into the key's current value (it may be freed before the copy).
 * Returns 1 if the key was new. */
int db_set_str(db *d, const char *key, size_t klen, const char *p, size_t len, int keep_ttl);
/* As db_set_str with the decimal digits of v: an INT value. */
int db_set_int(db *d, const char *key, size_t klen, long long v, int keep_ttl);
/* As db_set, for a value nobody else refers to: an INT or EMBSTR string is
 * copied into the key's entry, as db_set_str stores it, and val freed, so
 * the caller must not use val afterwards. */
int db_set_owned(db *d, const char *key, size_t klen, obj *val, int keep_ttl);
/* As db_set_owned, but the value carries its own access field (LRU time or
 * LFU counter) instead of one from the key's lookup, and gets no TTL: a
 * value taken from another key (RENAME, MOVE). */
int db_set_carry(db *d, const char *key, size_t klen, obj *val);
/* Replace the value of a key the caller just looked up (Redis's
 * dbOverwrite): the key keeps its TTL, and val takes over the old value's
 * access field (the lookup counted the access). Frees the old value unless
 * it is val itself. A string val is owned as by db_set_owned (it may be
 * freed into the entry); any other val stays valid. A missing key is set
 * as by db_set. */
void db_replace(db *d, const char *key, size_t klen, obj *val);
/* Delete key. Returns 1 if it existed (and was not expired). */
int db_del(db *d, const char *key, size_t klen);
/* As db_del, but a big value is freed on the background thread (UNLINK). */
int db_del_lazy(db *d, const char *key, size_t klen);
/* Detach the value of key and remove the key; *expire_ms gets its deadline
 * or -1. Returns NULL if absent. The caller owns the value. */
obj *db_take(db *d, const char *key, size_t klen, int64_t *expire_ms);

/* Deadline of an existing key, or -1. */
int64_t db_get_expire(db *d, const char *key, size_t klen);
/* Set the deadline of an existing key (absolute ms). Returns 0, or -1 if the
 * key does not exist. A deadline in the past is kept: the next access or the
 * active cycle deletes the key (the command layer deletes at once when Redis
 * does). */
int db_set_expire(db *d, const char *key, size_t klen, int64_t when_ms);
/* Remove the TTL of key. Returns 1 if it had one. */
int db_persist(db *d, const char *key, size_t klen);

size_t db_size(const db *d);         /* keys, including not-yet-reaped expired ones */
size_t db_expires_size(const db *d); /* keys with a TTL */
/* Bytes the tables take beside the keys and values (INFO
 * used_memory_overhead, MEMORY STATS): the key table's buckets (both arrays
 * while it resizes) with each key's chain link and value header, and the
 * expires table (both while it resizes). */
size_t db_overhead_main(const db *d);
size_t db_overhead_expires(const db *d);
void db_flush(db *d); /* delete every key */
/* As db_flush; with lazy set, a non-empty table's keys and values are freed
 * on the background thread (FLUSHDB/FLUSHALL ASYNC). */
void db_flush_lazy(db *d, int lazy);

/* Visit the keys of one step of a SCAN, with Redis's reverse-binary cursor
 * over power-of-two tables: every key present for a whole scan is visited at
 * least once even if the table grows or shrinks between calls. Expired keys
 * are skipped (and deleted). Returns the next cursor, 0 when the scan is
 * complete. A step visits at least one bucket and stops after about `count`
 * keys. fn must not modify the db nor look keys up in it (a lookup moves a
 * running resize along). */
typedef void (*db_scan_fn)(void *priv, const char *key, size_t klen, obj *val);
uint64_t db_scan(db *d, uint64_t cursor, size_t count, db_scan_fn fn, void *priv);

/* Look key up without touching its access time (OBJECT IDLETIME, DEBUG
 * OBJECT); expired keys are deleted as in db_find. */
obj *db_peek(db *d, const char *key, size_t klen);
/* As db_find_exp, without counting an access. */
obj *db_peek_exp(db *d, const char *key, size_t klen, int64_t *expire_ms);

/* Call fn for every live key (KEYS, FLUSH accounting). fn must not modify
 * the db nor look keys up in it. */
void db_foreach(db *d, db_scan_fn fn, void *priv);

/* Pick a random live key. Returns 1 and sets *key and *klen (valid until the db
 * changes), or 0 if the db is empty. */
int db_random_key(db *d, const char **key, size_t *klen);

/* One step of active expiry: sample up to `samples` keys that have a TTL and
 * delete the expired ones. Returns how many were deleted. */
int db_active_expire(db *d, int samples);
/* Redis's running estimate of the mean TTL (ms) of the keys that have one,
 * updated by each db_active_expire from the live keys it sampled; 0 once
 * no key has a TTL (INFO keyspace avg_ttl). */
int64_t db_avg_ttl(const db *d);

/* A resize of the key table runs a few buckets per insert, delete and
 * lookup, one of the expires table a few slots per deadline set or
 * dropped; this moves both along for about budget_us more (Redis's
 * activerehashing). Returns 1 if a resize was running. */
int db_rehash_for(db *d, int64_t budget_us);
/* Whether a resize of the key table or the expires table is running. */
int db_rehashing(const db *d);

#endif
