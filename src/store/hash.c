/* hash.c -- hash values: the listpack and hashtable encodings behind
 * hash.h, the conversion between them, and the obj hooks (free, dup,
 * mem_usage, elements) that obj.c calls for OBJ_HASH.
 *
 * Runs on the shard thread that owns the value; free may also run on the
 * lazy-free thread, which then owns the value alone. Nothing is shared.
 *
 * Hashtable values are hash_str blobs: a one-byte length, or 0xFF followed
 * by an 8-byte length for values of 255 bytes or more, then the bytes. One
 * allocation per value; the dict entry owns it.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

/* Redis refuses to grow a listpack past 1 GiB (lpSafeToAdd). */
#define HASH_LP_SAFETY_SIZE (1ULL << 30)

#define HSTR_LONG 0xFF

static void *hash_xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) abort();
    return p;
}

/* A new hash_str holding a copy of p[0..len). The caller owns it. */
static char *hstr_new(const char *p, size_t len) {
    char *h;
    if (len < HSTR_LONG) {
        h = hash_xmalloc(1 + len);
        h[0] = (char)len;
        if (len) memcpy(h + 1, p, len);
    } else {
        uint64_t l = len;
        h = hash_xmalloc(1 + sizeof(l) + len);
        h[0] = (char)HSTR_LONG;
        memcpy(h + 1, &l, sizeof(l));
        memcpy(h + 1 + sizeof(l), p, len);
    }
    return h;
}

/* The bytes of hash_str h; *len gets their count. Borrowed from h. */
static const char *hstr_view(const char *h, size_t *len) {
    unsigned char n = (unsigned char)h[0];
    if (n != HSTR_LONG) {
        *len = n;
        return h + 1;
    }
    uint64_t l;
    memcpy(&l, h + 1, sizeof(l));
    *len = (size_t)l;
    return h + 1 + sizeof(l);
}

/* Bytes of the hash_str copy of a len-byte string. */
static size_t hstr_size(size_t len) {
    return len < HSTR_LONG ? 1 + len : 1 + sizeof(uint64_t) + len;
}

static void hash_free_entry_val(dict_entry *e) {
    free(e->v.p);
}

obj *hash_new(void) {
    obj *o = hash_xmalloc(sizeof(obj));
    memset(o, 0, sizeof(*o));
    o->type = OBJ_HASH;
    o->enc = OBJ_ENC_LISTPACK;
    o->v.ptr = lp_new();
    return o;
}

size_t hash_len(const obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK) return lp_count(o->v.ptr) / 2;
    return dict_size(o->v.ptr);
}

/* Position of the field f in a listpack hash, or LP_NONE. */
static lp_pos lp_find_field(const lp *l, const char *f, size_t flen) {
    lp_pos p = lp_first(l);
    if (p == LP_NONE) return LP_NONE;
    return lp_find(l, p, f, flen, 1);
}

const char *hash_get(const obj *o, const char *f, size_t flen, size_t *vlen, char tmp[24]) {
    if (o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = o->v.ptr;
        lp_pos p = lp_find_field(l, f, flen);
        if (p == LP_NONE) return NULL;
        lp_entry e;
        lp_get(l, lp_next(l, p), &e);
        *vlen = e.len;
        if (e.s == e.buf) {
            memcpy(tmp, e.buf, e.len);
            return tmp;
        }
        return e.s;
    }
    dict_entry *e = dict_find(o->v.ptr, f, flen);
    if (e == NULL) return NULL;
    return hstr_view(e->v.p, vlen);
}

int hash_exists(const obj *o, const char *f, size_t flen) {
    if (o->enc == OBJ_ENC_LISTPACK) return lp_find_field(o->v.ptr, f, flen) != LP_NONE;
    return dict_find(o->v.ptr, f, flen) != NULL;
}

void hash_convert(obj *o) {
    if (o->enc != OBJ_ENC_LISTPACK) return;
    lp *l = o->v.ptr;
    dict *d = dict_new();
    dict_expand(d, lp_count(l) / 2);
    lp_entry fe, ve;
    for (lp_pos p = lp_first(l); p != LP_NONE;) {
        lp_pos vp = lp_next(l, p);
        lp_get(l, p, &fe);
        lp_get(l, vp, &ve);
        int added;
        dict_entry *e = dict_add(d, fe.s, fe.len, &added);
        if (!added) abort(); /* a listpack hash never holds a field twice */
        e->v.p = hstr_new(ve.s, ve.len);
        p = lp_next(l, vp);
    }
    lp_free(l);
    o->v.ptr = d;
    o->enc = OBJ_ENC_HT;
}

void hash_convert_for_args(obj *o, size_t maxlen, size_t total, const store_enc *enc) {
    if (o->enc != OBJ_ENC_LISTPACK) return;
    if ((long long)maxlen > enc->hash_max_listpack_value ||
        lp_bytes(o->v.ptr) + total > HASH_LP_SAFETY_SIZE)
        hash_convert(o);
}

int hash_set(obj *o, const char *f, size_t flen, const char *v, size_t vlen, const store_enc *enc) {
    if (o->enc == OBJ_ENC_LISTPACK && ((long long)flen > enc->hash_max_listpack_value ||
                                       (long long)vlen > enc->hash_max_listpack_value))
        hash_convert(o);
    if (o->enc == OBJ_ENC_LISTPACK) {
        lp *l = o->v.ptr;
        lp_pos p = lp_find_field(l, f, flen);
        int added = p == LP_NONE;
        if (added) {
            l = lp_append(l, f, flen);
            l = lp_append(l, v, vlen);
        } else {
            l = lp_replace(l, lp_next(l, p), v, vlen);
        }
        o->v.ptr = l;
        if ((long long)hash_len(o) > enc->hash_max_listpack_entries) hash_convert(o);
        return added;
    }
    int added;
    dict_entry *e = dict_add(o->v.ptr, f, flen, &added);
    if (!added) free(e->v.p);
    e->v.p = hstr_new(v, vlen);
    return added;
}

int hash_del(obj *o, const char *f, size_t flen) {
    if (o->enc == OBJ_ENC_LISTPACK) {
        lp_pos p = lp_find_field(o->v.ptr, f, flen);
        if (p == LP_NONE) return 0;
        o->v.ptr = lp_delete(o->v.ptr, &p, 2);
        return 1;
    }
    dict_entry *e = dict_unlink(o->v.ptr, f, flen);
    if (e == NULL) return 0;
    free(e->v.p);
    dict_entry_free(e);
    dict_shrink(o->v.ptr);
    return 1;
}

void hash_iter_init(hash_iter *it, const obj *o) {
    it->o = o;
    if (o->enc == OBJ_ENC_LISTPACK)
        it->p = lp_first(o->v.ptr);
    else
        dict_iter_init(&it->di, o->v.ptr);
}

int hash_iter_next(hash_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen) {
    if (it->o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = it->o->v.ptr;
        if (it->p == LP_NONE) return 0;
        lp_pos vp = lp_next(l, it->p);
        lp_get(l, it->p, &it->fe);
        lp_get(l, vp, &it->ve);
        it->p = lp_next(l, vp);
        *f = it->fe.s, *flen = it->fe.len;
        *v = it->ve.s, *vlen = it->ve.len;
        return 1;
    }
    dict_entry *e = dict_iter_next(&it->di);
    if (e == NULL) return 0;
    *f = e->key, *flen = e->klen;
    *v = hstr_view(e->v.p, vlen);
    return 1;
}

typedef struct hash_scan_ctx {
    hash_scan_fn fn;
    void *priv;
} hash_scan_ctx;

static void hash_scan_entry(void *priv, const dict_entry *e) {
    hash_scan_ctx *sc = priv;
    size_t vlen;
    const char *v = hstr_view(e->v.p, &vlen);
    sc->fn(sc->priv, e->key, e->klen, v, vlen);
}

uint64_t hash_scan(const obj *o, uint64_t cursor, hash_scan_fn fn, void *priv) {
    if (o->enc == OBJ_ENC_LISTPACK) {
        hash_iter it;
        const char *f, *v;
        size_t flen, vlen;
        hash_iter_init(&it, o);
        while (hash_iter_next(&it, &f, &flen, &v, &vlen))
            fn(priv, f, flen, v, vlen);
        return 0;
    }
    hash_scan_ctx sc = {fn, priv};
    return dict_scan(o->v.ptr, cursor, hash_scan_entry, &sc);
}

void hash_sampler_init(hash_sampler *s, const obj *o) {
    s->o = o;
    s->pos = NULL;
    s->n = hash_len(o);
    if (o->enc != OBJ_ENC_LISTPACK) return;
    const lp *l = o->v.ptr;
    s->pos = hash_xmalloc((s->n ? s->n : 1) * sizeof(*s->pos));
    size_t i = 0;
    for (lp_pos p = lp_first(l); p != LP_NONE; p = lp_next(l, lp_next(l, p)))
        s->pos[i++] = p;
}

void hash_sampler_free(hash_sampler *s) {
    free(s->pos);
    s->pos = NULL;
}

void hash_sampler_pick(hash_sampler *s, uint64_t *rng, const char **f, size_t *flen, const char **v,
                       size_t *vlen) {
    if (s->o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = s->o->v.ptr;
        lp_pos p = s->pos[util_rand_next(rng) % s->n];
        lp_get(l, p, &s->fe);
        lp_get(l, lp_next(l, p), &s->ve);
        *f = s->fe.s, *flen = s->fe.len;
        *v = s->ve.s, *vlen = s->ve.len;
        return;
    }
    dict_entry *e = dict_random(s->o->v.ptr, rng);
    *f = e->key, *flen = e->klen;
    *v = hstr_view(e->v.p, vlen);
}

/* ---- obj hooks ------------------------------------------------------------ */

static void hash_free(obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK)
        lp_free(o->v.ptr);
    else
        dict_free(o->v.ptr, hash_free_entry_val);
    o->v.ptr = NULL;
}

/* dict_dup's value copier: a private copy of the field's value string. */
static void hash_dup_val(dict_entry *dst, const dict_entry *src) {
    size_t vlen;
    hstr_view(src->v.p, &vlen);
    dst->v.p = hash_xmalloc(hstr_size(vlen));
    memcpy(dst->v.p, src->v.p, hstr_size(vlen));
}

/* A deep copy of the representation, same encoding (COPY, MOVE of a copy). */
static void *hash_dup(const obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK) return lp_dup(o->v.ptr);
    return dict_dup(o->v.ptr, hash_dup_val);
}

/* Bytes jemalloc hands Redis for an sds string of len bytes made by
 * sdsnewlen (header by length, an empty string gets the 8-bit header). */
static size_t hash_sds_size(size_t len) {
    size_t hdr = len == 0              ? 3
                 : len < 32            ? 1
                 : len < 256           ? 3
                 : len < 65536         ? 5
                 : len < 4294967296ULL ? 9
                                       : 17;
    return obj_jemalloc_size(hdr + len + 1);
}

/* MEMORY USAGE of the value as Redis 7.0 computes it: the object header
 * plus the listpack allocation, or the dict (header, bucket array of the
 * power of two Redis would have) plus two sds strings and a dictEntry per
 * field. Every field is counted (no sampling). */
static size_t hash_mem_usage(const obj *o) {
    const size_t robj_size = 16, dict_hdr = 56, dict_entry_size = 24;
    if (o->enc == OBJ_ENC_LISTPACK) return robj_size + obj_jemalloc_size(lp_bytes(o->v.ptr));
    size_t n = dict_size(o->v.ptr), slots = 4;
    while (slots < n)
        slots <<= 1;
    size_t total = robj_size + dict_hdr + slots * sizeof(void *);
    dict_iter it;
    dict_iter_init(&it, o->v.ptr);
    for (dict_entry *e; (e = dict_iter_next(&it)) != NULL;) {
        size_t vlen;
        hstr_view(e->v.p, &vlen);
        total += hash_sds_size(e->klen) + hash_sds_size(vlen) + dict_entry_size;
    }
    return total;
}

static size_t hash_elements(const obj *o) {
    return hash_len(o);
}

const obj_type_hooks obj_hooks_hash = {hash_free, hash_dup, hash_mem_usage, hash_elements};
