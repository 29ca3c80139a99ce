/* set.h -- set values (OBJ_SET): the API the set commands, SORT and COPY use.
 *
 * A set is encoded as Redis 7.0 encodes it:
 *   OBJ_ENC_INTSET  o->v.ptr is an intset (src/ds/intset.h): every member is
 *                   a canonical integer and there are at most
 *                   set-max-intset-entries of them. Iterates in ascending
 *                   numeric order.
 *   OBJ_ENC_HT      o->v.ptr is a dict (src/ds/dict.h) whose keys are the
 *                   members (value slots unused). Iterates in table order.
 * A set converts from intset to hashtable when a non-integer member is added
 * or the intset grows past the limit, never back (as in Redis).
 *
 * Threading: a set value belongs to the shard whose store holds it (or to
 * whoever detached or duplicated it); nothing here is thread-safe. The store
 * layer never writes replies.
 */
#ifndef PERCORE_SET_H
#define PERCORE_SET_H

#include <stddef.h>
#include <stdint.h>

#include "../ds/dict.h"
#include "../ds/intset.h"
#include "store.h"

/* Redis caps the intset limit at 2^30 entries whatever the configuration says. */
#define SET_INTSET_HARD_MAX (1LL << 30)

/* A deep copy of a set (same encoding) is obj_dup(o); obj_free frees one. */

/* A new empty intset-encoded set; the caller owns it. */
obj *set_new(void);
/* A new empty set in the encoding Redis picks for a set whose first member
 * is p: intset if p is a canonical integer, hashtable otherwise. */
obj *set_new_for(const char *p, size_t len);
/* Add member p. max_intset is set-max-intset-entries: the intset converts to
 * a hashtable when it would hold more. Returns 1 if added, 0 if present. */
int set_add(obj *o, const char *p, size_t len, long long max_intset);
/* Remove member p. Returns 1 if it was there. A hashtable is shrunk when it
 * becomes sparse. */
int set_remove(obj *o, const char *p, size_t len);
/* 1 if p is a member. */
int set_contains(const obj *o, const char *p, size_t len);
/* Number of members. */
size_t set_len(const obj *o);
/* Convert an intset-encoded set to a hashtable (no-op if already one). */
void set_to_ht(obj *o);

/* One member as iteration or sampling hands it out. p/len are the bytes:
 * for intset members p points into buf, so the struct must not be copied
 * while p is used; for hashtable members p points into the set (valid until
 * the set changes). is_int/ll tell an intset member's value. */
typedef struct set_member {
    const char *p;
    size_t len;
    int is_int;
    int64_t ll;
    char buf[24];
} set_member;

/* 1 if m (from any set) is a member of o; cheaper than set_contains when
 * both are intset-encoded. */
int set_contains_member(const obj *o, const set_member *m);

/* Iteration over every member; the set must not change meanwhile. */
typedef struct set_iter {
    const obj *o;
    uint32_t i;
    dict_iter di;
} set_iter;
void set_iter_init(set_iter *it, const obj *o);
/* Fill m with the next member; returns 0 at the end. */
int set_iter_next(set_iter *it, set_member *m);

/* A random member of a non-empty set. *rng is the caller's xorshift64 state
 * (nonzero). */
void set_random(const obj *o, uint64_t *rng, set_member *m);

#endif
