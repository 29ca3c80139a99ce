/* zset.h -- sorted set values: members (binary-safe strings) with a double
 * score, ordered by (score, member bytes).
 *
 * Two encodings, as Redis 7.0 has them (OBJECT ENCODING names them):
 *   OBJ_ENC_LISTPACK  o->v.ptr is a listpack of member,score pairs kept in
 *                     (score, member) order; scores stored as their shortest
 *                     round-trip text (integers as listpack integers).
 *   OBJ_ENC_SKIPLIST  o->v.ptr is a zset_big: a skiplist whose forward links
 *                     carry spans (rank lookups in O(log n)) plus a dict
 *                     member -> node for O(1) score lookups.
 * A zset is converted from listpack to skiplist when an add makes it exceed
 * zset-max-listpack-entries or brings a member longer than
 * zset-max-listpack-value (the store_enc passed in); it goes back only through
 * zset_fit_encoding (the *STORE commands, as in Redis).
 *
 * Ordering: members compare by memcmp over the shorter length, the shorter
 * first on a tie, as Redis's sdscmp. Scores are never NaN.
 *
 * Threading: a zset belongs to the store of one shard thread; nothing here is
 * thread-safe. A whole value may be handed to another shard (db_take / dup).
 * Member pointers passed to callbacks are valid only during the callback.
 * The store layer never writes replies.
 */
#ifndef PERCORE_ZSET_H
#define PERCORE_ZSET_H

#include <stddef.h>

#include "store.h"

/* A score interval: [min,max] with either end exclusive when minex/maxex. */
typedef struct zscore_range {
    double min, max;
    int minex, maxex;
} zscore_range;

/* A member interval for the BYLEX forms. An end is either unbounded (the
 * "-" / "+" of the commands: *_inf = -1 for minus infinity, +1 for plus
 * infinity) or the bytes s/len, inclusive unless *ex. The bytes are not
 * owned by the range. */
typedef struct zlex_range {
    const char *min, *max;
    size_t minlen, maxlen;
    int minex, maxex;
    int min_inf, max_inf; /* 0: bounded by the bytes; -1: "-"; +1: "+" */
} zlex_range;

/* Flags of zset_add (in) ... */
enum {
    ZADD_F_INCR = 1 << 0, /* add score to the current one (absent: 0) */
    ZADD_F_NX = 1 << 1,   /* only add new members */
    ZADD_F_XX = 1 << 2,   /* only update existing members */
    ZADD_F_GT = 1 << 3,   /* update only when the new score is greater */
    ZADD_F_LT = 1 << 4,   /* update only when the new score is less */
};
/* ... and what it reports (out). */
enum {
    ZADD_R_ADDED = 1 << 0,   /* the member was new */
    ZADD_R_UPDATED = 1 << 1, /* an existing member's score changed */
    ZADD_R_NOP = 1 << 2,     /* nothing done because of NX/XX/GT/LT */
    ZADD_R_NAN = 1 << 3,     /* the (resulting) score was NaN: nothing done */
};

/* Visitor for iterations: one member with its score. */
typedef void (*zset_visit_fn)(void *priv, const char *m, size_t mlen, double score);

/* An empty zset value in the listpack encoding. */
obj *zset_new_listpack(void);
/* An empty zset value in the skiplist encoding. */
obj *zset_new_skiplist(void);
/* An empty zset value encoded as Redis creates one expected to hold
 * size_hint members of which the longest has max_member_len bytes: listpack
 * if both are within enc's limits, else skiplist. */
obj *zset_new(const store_enc *enc, size_t size_hint, size_t max_member_len);
/* A deep copy of o (same encoding). */
obj *zset_dup(const obj *o);

/* Number of members. */
size_t zset_len(const obj *o);

/* Set *score to the score of member m. Returns 1 if present, 0 if not. */
int zset_score(const obj *o, const char *m, size_t mlen, double *score);

/* Add or update member m with score under the ZADD_F_* flags (enc: the
 * conversion thresholds). *res receives ZADD_R_* bits. With ZADD_F_INCR the
 * resulting score is stored in *newscore (if not NULL); without it *newscore
 * gets the member's score after the call when the member exists then.
 * Returns 1 on success, 0 when the score or the incremented result is NaN
 * (ZADD_R_NAN set, nothing changed). May convert o to skiplist. */
int zset_add(obj *o, const store_enc *enc, double score, const char *m, size_t mlen, int flags,
             int *res, double *newscore);

/* Remove member m. Returns 1 if it was there. The caller deletes the key
 * when the zset becomes empty. */
int zset_del(obj *o, const char *m, size_t mlen);

/* 0-based rank of member m in ascending order (descending if rev), with its
 * score in *score if not NULL. Returns -1 if m is absent. O(log n) for the
 * skiplist encoding. */
long zset_rank(const obj *o, const char *m, size_t mlen, int rev, double *score);

/* Visit the members of ranks [start, end] (0-based, 0 <= start <= end <
 * zset_len) in ascending order, or the ranks of the descending order if rev
 * (rank 0 is then the greatest member). */
void zset_range_rank(const obj *o, long start, long end, int rev, zset_visit_fn fn, void *priv);

/* Visit the members whose score is within r, ascending (descending if rev),
 * skipping the first `offset` of them and stopping after `limit` visits
 * (limit < 0: no limit). Returns the number visited. */
size_t zset_range_score(const obj *o, const zscore_range *r, int rev, long offset, long limit,
                        zset_visit_fn fn, void *priv);

/* The same for a member interval (meaningful when all scores are equal, as
 * in Redis). */
size_t zset_range_lex(const obj *o, const zlex_range *r, int rev, long offset, long limit,
                      zset_visit_fn fn, void *priv);

/* Number of members with a score within r / a member within r. */
size_t zset_count_score(const obj *o, const zscore_range *r);
size_t zset_count_lex(const obj *o, const zlex_range *r);

/* Remove the members of ranks [start, end] (as zset_range_rank, ascending),
 * of scores within r, of members within r. Return how many were removed. */
size_t zset_del_range_rank(obj *o, long start, long end);
size_t zset_del_range_score(obj *o, const zscore_range *r);
size_t zset_del_range_lex(obj *o, const zlex_range *r);

/* Visit every member in ascending order. */
void zset_foreach(const obj *o, zset_visit_fn fn, void *priv);

/* Convert a skiplist-encoded o to listpack when its size and longest member
 * are within enc's limits (what Redis does to the result of the *STORE
 * commands). A listpack stays as it is. */
void zset_fit_encoding(obj *o, const store_enc *enc);

/* A uniformly random member (o not empty); *rng is the caller's xorshift64
 * state (nonzero). m/len valid until o changes; a listpack integer member is
 * written into buf (at least 24 bytes). */
void zset_random(const obj *o, uint64_t *rng, char *buf, const char **m, size_t *mlen,
                 double *score);

/* For ZSCAN over the skiplist encoding: one dict_scan step over the member
 * table (see dict.h). Returns the next cursor. o must be skiplist-encoded. */
uint64_t zset_scan(const obj *o, uint64_t cursor, zset_visit_fn fn, void *priv);

/* Text of a score as Redis keeps it in a listpack (ZSCAN of that encoding
 * shows it): digits when the value is an integer within +-2^62 (so -0 is
 * "0": a listpack does not keep the sign of zero), "inf"/"-inf", else
 * "%.17g". Returns the length. */
int zset_score_text(char *buf, size_t cap, double score);

/* Exact comparison used for ordering: <0, 0, >0 as (s1,score1) vs (s2,score2). */
int zset_cmp(double score1, const char *m1, size_t l1, double score2, const char *m2, size_t l2);

#endif
