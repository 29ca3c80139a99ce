/* hash.h -- hash values (OBJ_HASH): a map from field to value, both
 * binary-safe strings.
 *
 * Two encodings, as Redis 7.0 has them (OBJECT ENCODING names them):
 *   OBJ_ENC_LISTPACK  o->v.ptr is one listpack holding
 *                       field0 value0 field1 value1 ...
 *                     in insertion order (an update keeps the position).
 *   OBJ_ENC_HT        o->v.ptr is a dict keyed by field; each entry's v.p
 *                     points at the value: a hash_str (length prefix and
 *                     bytes, one allocation) owned by the entry.
 * A listpack hash becomes a hashtable when a set brings a field or value
 * longer than hash-max-listpack-value, or makes the hash exceed
 * hash-max-listpack-entries (the store_enc passed in). It never goes back.
 *
 * Threading: a hash belongs to the store of one shard thread; nothing here
 * is thread-safe. A whole value may be handed to another shard (db_take,
 * obj_dup) and may be freed on the lazy-free thread. Byte views returned by
 * the read functions are borrowed: valid until the hash changes (or, where
 * a tmp buffer is given, until that buffer is reused). The store layer never
 * writes replies.
 */
#ifndef PERCORE_HASH_H
#define PERCORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "../ds/dict.h"
#include "../ds/lp.h"
#include "store.h"

/* A new empty hash (listpack encoded). The caller owns it. */
obj *hash_new(void);

/* Number of fields. */
size_t hash_len(const obj *o);

/* The value of field f[0..flen): returns a pointer to its bytes and sets
 * *vlen, or NULL if the field is absent. A value stored as a listpack
 * integer is written into tmp (24 bytes) and tmp is returned. */
const char *hash_get(const obj *o, const char *f, size_t flen, size_t *vlen, char tmp[24]);
/* 1 if field f exists. */
int hash_exists(const obj *o, const char *f, size_t flen);

/* Before a set of several strings (HSET's fields and values): convert a
 * listpack hash to a hashtable when the longest of them, maxlen bytes, is
 * longer than hash-max-listpack-value, or when total more bytes would grow
 * the listpack past its 1 GiB safety limit. No-op for a hashtable. */
void hash_convert_for_args(obj *o, size_t maxlen, size_t total, const store_enc *enc);
/* Convert a listpack hash to a hashtable (no-op if it is one). */
void hash_convert(obj *o);

/* Set field f to value v (both copied), converting the encoding as Redis
 * does (see the top of this file). Returns 1 if the field was new, 0 if an
 * existing value was replaced. */
int hash_set(obj *o, const char *f, size_t flen, const char *v, size_t vlen, const store_enc *enc);
/* Remove field f. Returns 1 if it existed. The caller deletes the key when
 * the hash becomes empty. */
int hash_del(obj *o, const char *f, size_t flen);

/* Iteration over every field/value pair, in encoding order (insertion
 * order for a listpack). The hash must not change while iterating. */
typedef struct hash_iter {
    const obj *o;
    lp_pos p; /* listpack: next field, LP_NONE at the end */
    dict_iter di;
    lp_entry fe, ve; /* listpack: scratch for the current pair */
} hash_iter;
void hash_iter_init(hash_iter *it, const obj *o);
/* The next pair: field f (flen bytes) and value v (vlen bytes), borrowed
 * until the next call.
 * Returns 1, or 0 at the end. */
int hash_iter_next(hash_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen);

/* One HSCAN step. A listpack hash visits every pair and returns 0; a
 * hashtable visits one dict_scan step from cursor and returns the next
 * cursor (0 when done). fn must not change the hash. */
typedef void (*hash_scan_fn)(void *priv, const char *f, size_t flen, const char *v, size_t vlen);
uint64_t hash_scan(const obj *o, uint64_t cursor, hash_scan_fn fn, void *priv);

/* Random pairs of a non-empty hash (HRANDFIELD). hash_sampler_init
 * prepares the positions of a listpack hash (O(n), once); each pick is
 * then O(1) and close to uniform. The hash must not change while a sampler
 * is in use; hash_sampler_free releases it. */
typedef struct hash_sampler {
    const obj *o;
    lp_pos *pos; /* listpack: position of each field */
    size_t n;
    lp_entry fe, ve;
} hash_sampler;
void hash_sampler_init(hash_sampler *s, const obj *o);
void hash_sampler_free(hash_sampler *s);
/* A random pair; views borrowed until the next pick. *rng is the caller's
 * util_rand_next state. */
void hash_sampler_pick(hash_sampler *s, uint64_t *rng, const char **f, size_t *flen, const char **v,
                       size_t *vlen);

#endif
