/* set.c -- set values: the intset and hashtable encodings behind the API of
 * set.h, and the obj hooks of OBJ_SET (free, dup, MEMORY USAGE, elements).
 *
 * Threading: a value is used only by the thread that owns it; no state is
 * shared. Never writes replies.
 */
#include "set.h"

#include <stdlib.h>

#include "../common/util.h"

/* The intset / dict behind o. */
static intset *set_is(const obj *o) {
    return (intset *)o->v.ptr;
}
static dict *set_dict(const obj *o) {
    return (dict *)o->v.ptr;
}

obj *set_new(void) {
    obj *o = malloc(sizeof(obj));
    if (o == NULL) abort();
    o->type = OBJ_SET;
    o->enc = OBJ_ENC_INTSET;
    o->flags = 0;
    o->lru = 0;
    o->v.ptr = intset_new();
    return o;
}

obj *set_new_for(const char *p, size_t len) {
    long long v;
    obj *o = set_new();
    if (!util_str2ll(p, len, &v)) set_to_ht(o);
    return o;
}

void set_to_ht(obj *o) {
    if (o->enc == OBJ_ENC_HT) return;
    intset *is = set_is(o);
    dict *d = dict_new();
    dict_expand(d, intset_len(is));
    for (uint32_t i = 0; i < intset_len(is); i++) {
        char buf[24];
        int n = util_ll2str(buf, sizeof(buf), intset_get(is, i));
        int added;
        dict_add(d, buf, (size_t)n, &added);
    }
    free(is);
    o->v.ptr = d;
    o->enc = OBJ_ENC_HT;
}

int set_add(obj *o, const char *p, size_t len, long long max_intset) {
    int added;
    if (o->enc == OBJ_ENC_INTSET) {
        long long v;
        if (util_str2ll(p, len, &v)) {
            o->v.ptr = intset_add(set_is(o), v, &added);
            if (max_intset > SET_INTSET_HARD_MAX) max_intset = SET_INTSET_HARD_MAX;
            if (added && (long long)intset_len(set_is(o)) > max_intset) set_to_ht(o);
            return added;
        }
        set_to_ht(o);
    }
    dict_add(set_dict(o), p, len, &added);
    return added;
}

int set_remove(obj *o, const char *p, size_t len) {
    if (o->enc == OBJ_ENC_INTSET) {
        long long v;
        int removed;
        if (!util_str2ll(p, len, &v)) return 0;
        o->v.ptr = intset_remove(set_is(o), v, &removed);
        return removed;
    }
    dict_entry *e = dict_unlink(set_dict(o), p, len);
    if (e == NULL) return 0;
    dict_entry_free(e);
    dict_shrink(set_dict(o));
    return 1;
}

int set_contains(const obj *o, const char *p, size_t len) {
    if (o->enc == OBJ_ENC_INTSET) {
        long long v;
        return util_str2ll(p, len, &v) && intset_find(set_is(o), v);
    }
    return dict_find(set_dict(o), p, len) != NULL;
}

int set_contains_member(const obj *o, const set_member *m) {
    if (m->is_int && o->enc == OBJ_ENC_INTSET) return intset_find(set_is(o), m->ll);
    return set_contains(o, m->p, m->len);
}

size_t set_len(const obj *o) {
    return o->enc == OBJ_ENC_INTSET ? intset_len(set_is(o)) : dict_size(set_dict(o));
}

/* Fill m with the integer v. */
static void member_int(set_member *m, int64_t v) {
    m->is_int = 1;
    m->ll = v;
    m->len = (size_t)util_ll2str(m->buf, sizeof(m->buf), v);
    m->p = m->buf;
}

/* Fill m with a hashtable entry's key. */
static void member_entry(set_member *m, const dict_entry *e) {
    m->is_int = 0;
    m->ll = 0;
    m->p = e->key;
    m->len = e->klen;
}

void set_iter_init(set_iter *it, const obj *o) {
    it->o = o;
    it->i = 0;
    if (o->enc == OBJ_ENC_HT) dict_iter_init(&it->di, set_dict(o));
}

int set_iter_next(set_iter *it, set_member *m) {
    if (it->o->enc == OBJ_ENC_INTSET) {
        const intset *is = set_is(it->o);
        if (it->i >= intset_len(is)) return 0;
        member_int(m, intset_get(is, it->i++));
        return 1;
    }
    dict_entry *e = dict_iter_next(&it->di);
    if (e == NULL) return 0;
    member_entry(m, e);
    return 1;
}

void set_random(const obj *o, uint64_t *rng, set_member *m) {
    if (o->enc == OBJ_ENC_INTSET) {
        const intset *is = set_is(o);
        member_int(m, intset_get(is, (uint32_t)(util_rand_next(rng) % intset_len(is))));
        return;
    }
    member_entry(m, dict_random(set_dict(o), rng));
}

/* ---------------------------------------------------------------------- */
/* obj hooks. */

static void hook_free(obj *o) {
    if (o->enc == OBJ_ENC_INTSET)
        free(o->v.ptr);
    else
        dict_free(set_dict(o), NULL);
}

static void *hook_dup(const obj *o) {
    if (o->enc == OBJ_ENC_INTSET) return intset_dup(set_is(o));
    return dict_dup(set_dict(o), NULL);
}

/* Redis's sds allocation for a string of n bytes (header by length class,
 * the bytes, a NUL), in jemalloc size classes. */
static size_t sds_alloc_size(size_t n) {
    size_t hdr = n < 32 ? 1 : n < 256 ? 3 : n < 65536 ? 5 : 9;
    return obj_jemalloc_size(hdr + n + 1);
}

/* Redis's sizeof(robj): MEMORY USAGE counts it for every value. */
#define SET_ROBJ_SIZE 16

/* MEMORY USAGE as Redis estimates it: the robj, then for an intset its blob
 * (in its jemalloc size class),
 * for a hashtable the dict struct (56 bytes), one pointer per bucket (Redis
 * keeps the table at the next power of two, at least 4) and the average size
 * of a few sampled members (24-byte entry plus the member's sds) times the
 * member count. */
static size_t hook_mem_usage(const obj *o) {
    if (o->enc == OBJ_ENC_INTSET) return SET_ROBJ_SIZE + obj_jemalloc_size(intset_bytes(set_is(o)));
    const dict *d = set_dict(o);
    size_t n = dict_size(d), slots = 4;
    while (slots < n)
        slots *= 2;
    size_t total = SET_ROBJ_SIZE + 56 + 8 * slots;
    size_t sampled = 0, bytes = 0;
    dict_iter it;
    dict_iter_init(&it, d);
    for (dict_entry *e; sampled < 5 && (e = dict_iter_next(&it)) != NULL; sampled++)
        bytes += 24 + sds_alloc_size(e->klen);
    if (sampled) total += (size_t)((double)bytes / (double)sampled * (double)n);
    return total;
}

static size_t hook_elements(const obj *o) {
    return set_len(o);
}

const obj_type_hooks obj_hooks_set = {hook_free, hook_dup, hook_mem_usage, hook_elements};
