/* zset.c -- sorted set values (see zset.h for the two encodings).
 *
 * Listpack encoding: entries alternate member, score; pairs are kept in
 * (score, member) order, so a rank is a pair index and every range is a run
 * of consecutive pairs. Scores are written with "%.17g", which reads back
 * as the same double.
 *
 * Skiplist encoding (zset_big):
 *
 *   head -lv[2]------------------------------> n3 -------> NULL
 *   head -lv[1]------------> n1 -------------> n3 -------> NULL
 *   head -lv[0]--> n0 -----> n1 ----> n2 ----> n3 -------> NULL
 *                  <-back--  <-back-  <-back-
 *
 * Each forward link carries its span: how many level-0 steps it jumps, so
 * summing spans along a search path gives a rank. The member table (dict)
 * maps a member to its node; a node's member bytes are the dict entry's key
 * (entries never move), so each member is stored once.
 *
 * Threading: one owner thread (the shard's); see zset.h.
 */
#include "zset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../ds/dict.h"
#include "../ds/lp.h"

#define ZSL_MAXLEVEL 32

typedef struct zsl_node zsl_node;
struct zsl_node {
    const char *m; /* the member: bytes of the dict entry's key */
    size_t mlen;
    double score;
    zsl_node *back;
    int nlev;
    struct zsl_link {
        zsl_node *fwd;
        size_t span;
    } lv[];
};

typedef struct zset_big {
    dict *d; /* member -> node (v.p) */
    zsl_node *head;
    zsl_node *tail;
    size_t len;
    int level;
} zset_big;

static void *zs_xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) abort();
    return p;
}

/* ---------------------------------------------------------------------- */
/* Ordering. */

/* memcmp order, the shorter first on a common prefix. */
static int mem_cmp(const char *a, size_t al, const char *b, size_t bl) {
    size_t n = al < bl ? al : bl;
    int r = n ? memcmp(a, b, n) : 0;
    if (r) return r;
    return al < bl ? -1 : (al > bl ? 1 : 0);
}

int zset_cmp(double score1, const char *m1, size_t l1, double score2, const char *m2, size_t l2) {
    if (score1 < score2) return -1;
    if (score1 > score2) return 1;
    return mem_cmp(m1, l1, m2, l2);
}

static int score_gte_min(double v, const zscore_range *r) {
    return r->minex ? v > r->min : v >= r->min;
}
static int score_lte_max(double v, const zscore_range *r) {
    return r->maxex ? v < r->max : v <= r->max;
}
/* 1 if no score can satisfy r. */
static int score_range_empty(const zscore_range *r) {
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

static int lex_gte_min(const char *m, size_t l, const zlex_range *r) {
    if (r->min_inf) return r->min_inf < 0;
    int c = mem_cmp(m, l, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}
static int lex_lte_max(const char *m, size_t l, const zlex_range *r) {
    if (r->max_inf) return r->max_inf > 0;
    int c = mem_cmp(m, l, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}
/* 1 if no member can satisfy r. */
static int lex_range_empty(const zlex_range *r) {
    if (r->min_inf > 0 || r->max_inf < 0) return 1;
    if (r->min_inf || r->max_inf) return 0;
    int c = mem_cmp(r->min, r->minlen, r->max, r->maxlen);
    return c > 0 || (c == 0 && (r->minex || r->maxex));
}

/* A score range or a lex range (exactly one of sr, lr is set), so that one
 * seek, walk and span serve the BYSCORE and the BYLEX requests. */
typedef struct zbound {
    const zscore_range *sr;
    const zlex_range *lr;
} zbound;

static int zbound_empty(const zbound *b) {
    return b->sr ? score_range_empty(b->sr) : lex_range_empty(b->lr);
}
/* Whether the member m (score s) is past b's min / before b's max; a score
 * range looks only at s, a lex range only at m. */
static int zbound_gte_min(const zbound *b, const char *m, size_t ml, double s) {
    return b->sr ? score_gte_min(s, b->sr) : lex_gte_min(m, ml, b->lr);
}
static int zbound_lte_max(const zbound *b, const char *m, size_t ml, double s) {
    return b->sr ? score_lte_max(s, b->sr) : lex_lte_max(m, ml, b->lr);
}

/* ---------------------------------------------------------------------- */
/* Skiplist. */

static __thread uint64_t zsl_rng;

/* A level for a new node: 1, then one more with probability 1/4 each. */
static int zsl_random_level(void) {
    if (zsl_rng == 0) zsl_rng = (uint64_t)(uintptr_t)&zsl_rng ^ 0x9e3779b97f4a7c15ULL;
    int lvl = 1;
    for (;;) {
        if ((util_rand_next(&zsl_rng) & 3) != 0 || lvl >= ZSL_MAXLEVEL) break;
        lvl++;
    }
    return lvl;
}

static zsl_node *zsl_node_new(int nlev, double score, const char *m, size_t mlen) {
    zsl_node *n = zs_xmalloc(sizeof(zsl_node) + (size_t)nlev * sizeof(struct zsl_link));
    n->m = m;
    n->mlen = mlen;
    n->score = score;
    n->back = NULL;
    n->nlev = nlev;
    for (int i = 0; i < nlev; i++) {
        n->lv[i].fwd = NULL;
        n->lv[i].span = 0;
    }
    return n;
}

static zset_big *zb_new(void) {
    zset_big *z = zs_xmalloc(sizeof(*z));
    z->d = dict_new();
    z->head = zsl_node_new(ZSL_MAXLEVEL, 0, NULL, 0);
    z->tail = NULL;
    z->len = 0;
    z->level = 1;
    return z;
}

static void zb_free(zset_big *z) {
    zsl_node *n = z->head->lv[0].fwd;
    while (n) {
        zsl_node *next = n->lv[0].fwd;
        free(n);
        n = next;
    }
    free(z->head);
    dict_free(z->d, NULL);
    free(z);
}

/* 1 if node n sorts before (score, m). */
static int zsl_before(const zsl_node *n, double score, const char *m, size_t mlen) {
    return zset_cmp(n->score, n->m, n->mlen, score, m, mlen) < 0;
}

/* Insert a node for (score, m) (m: bytes owned by the dict entry); the
 * member must not be present. Returns the node. */
static zsl_node *zsl_insert(zset_big *z, double score, const char *m, size_t mlen) {
    zsl_node *update[ZSL_MAXLEVEL];
    size_t rank[ZSL_MAXLEVEL];
    zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->lv[i].fwd && zsl_before(x->lv[i].fwd, score, m, mlen)) {
            rank[i] += x->lv[i].span;
            x = x->lv[i].fwd;
        }
        update[i] = x;
    }
    int lvl = zsl_random_level();
    if (lvl > z->level) {
        for (int i = z->level; i < lvl; i++) {
            rank[i] = 0;
            update[i] = z->head;
            update[i]->lv[i].span = z->len;
        }
        z->level = lvl;
    }
    x = zsl_node_new(lvl, score, m, mlen);
    for (int i = 0; i < lvl; i++) {
        x->lv[i].fwd = update[i]->lv[i].fwd;
        update[i]->lv[i].fwd = x;
        /* update[i] now jumps to x: rank[0]-rank[i] steps, then +1. */
        x->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
        update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = lvl; i < z->level; i++)
        update[i]->lv[i].span++;
    x->back = update[0] == z->head ? NULL : update[0];
    if (x->lv[0].fwd)
        x->lv[0].fwd->back = x;
    else
        z->tail = x;
    z->len++;
    return x;
}

/* Unlink x given its predecessors at every level (update[]); x is not freed. */
static void zsl_unlink(zset_big *z, zsl_node *x, zsl_node **update) {
    for (int i = 0; i < z->level; i++) {
        if (update[i]->lv[i].fwd == x) {
            update[i]->lv[i].span += x->lv[i].span - 1;
            update[i]->lv[i].fwd = x->lv[i].fwd;
        } else {
            update[i]->lv[i].span--;
        }
    }
    if (x->lv[0].fwd)
        x->lv[0].fwd->back = x->back;
    else
        z->tail = x->back;
    while (z->level > 1 && z->head->lv[z->level - 1].fwd == NULL)
        z->level--;
    z->len--;
}

/* Fill update[] with the predecessors of (score, m) at every level. */
static void zsl_path(zset_big *z, double score, const char *m, size_t mlen, zsl_node **update) {
    zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].fwd && zsl_before(x->lv[i].fwd, score, m, mlen))
            x = x->lv[i].fwd;
        update[i] = x;
    }
}

/* Unlink and free node x (which is in z). Its dict entry is the caller's. */
static void zsl_remove_node(zset_big *z, zsl_node *x) {
    zsl_node *update[ZSL_MAXLEVEL];
    zsl_path(z, x->score, x->m, x->mlen, update);
    zsl_unlink(z, x, update);
    free(x);
}

/* 1-based rank of node x. */
static size_t zsl_rank_of(const zset_big *z, const zsl_node *t) {
    size_t rank = 0;
    const zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].fwd && zset_cmp(x->lv[i].fwd->score, x->lv[i].fwd->m, x->lv[i].fwd->mlen,
                                        t->score, t->m, t->mlen) <= 0) {
            rank += x->lv[i].span;
            x = x->lv[i].fwd;
        }
        if (x == t) return rank;
    }
    return 0;
}

/* The node of 1-based rank r (1 <= r <= len). */
static zsl_node *zsl_at_rank(const zset_big *z, size_t r) {
    size_t trav = 0;
    zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].fwd && trav + x->lv[i].span <= r) {
            trav += x->lv[i].span;
            x = x->lv[i].fwd;
        }
        if (trav == r) return x;
    }
    return NULL;
}

/* First node past b's min (ignoring its max); NULL if none. */
static zsl_node *zsl_first_in(const zset_big *z, const zbound *b) {
    zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].fwd &&
               !zbound_gte_min(b, x->lv[i].fwd->m, x->lv[i].fwd->mlen, x->lv[i].fwd->score))
            x = x->lv[i].fwd;
    return x->lv[0].fwd;
}

/* Last node before b's max (ignoring its min); NULL if none. */
static zsl_node *zsl_last_in(const zset_big *z, const zbound *b) {
    zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].fwd &&
               zbound_lte_max(b, x->lv[i].fwd->m, x->lv[i].fwd->mlen, x->lv[i].fwd->score))
            x = x->lv[i].fwd;
    return x == z->head ? NULL : x;
}

/* Add a member that is not present. Returns its node. */
static zsl_node *zb_add_new(zset_big *z, double score, const char *m, size_t mlen) {
    int added;
    dict_entry *e = dict_add(z->d, m, mlen, &added);
    zsl_node *n = zsl_insert(z, score, e->key, e->klen);
    e->v.p = n;
    return n;
}

/* ---------------------------------------------------------------------- */
/* Listpack. */

/* The score stored in the entry at p. */
static double zl_score_at(const lp *l, lp_pos p) {
    lp_entry e;
    lp_get(l, p, &e);
    if (e.is_int) return (double)e.ll;
    char buf[128];
    size_t n = e.len < sizeof(buf) - 1 ? e.len : sizeof(buf) - 1;
    memcpy(buf, e.s, n);
    buf[n] = '\0';
    return strtod(buf, NULL);
}

/* What b compares of the pair whose member entry is at p, reading only that:
 * the score for a score range (*e left empty), the member for a lex range
 * (*s left 0). */
static void zl_key(const lp *l, lp_pos p, const zbound *b, lp_entry *e, double *s) {
    if (b->sr) {
        e->s = NULL;
        e->len = 0;
        *s = zl_score_at(l, lp_next(l, p));
    } else {
        lp_get(l, p, e);
        *s = 0;
    }
}

int zset_score_text(char *buf, size_t cap, double score) {
    if (isinf(score)) return snprintf(buf, cap, "%s", score > 0 ? "inf" : "-inf");
    if (score >= (double)(-LLONG_MAX / 2) && score <= (double)(LLONG_MAX / 2)) {
        long long ll = (long long)score;
        if ((double)ll == score) return snprintf(buf, cap, "%lld", ll);
    }
    return snprintf(buf, cap, "%.17g", score);
}

/* Text of score as stored (round-trips exactly). */
static int zl_score_str(char *buf, size_t cap, double score) {
    return zset_score_text(buf, cap, score);
}

/* Position of member m, or LP_NONE; *score gets its score if found. */
static lp_pos zl_find(const lp *l, const char *m, size_t mlen, double *score) {
    lp_pos p = lp_first(l);
    if (p == LP_NONE) return LP_NONE;
    p = lp_find(l, p, m, mlen, 1);
    if (p != LP_NONE && score) *score = zl_score_at(l, lp_next(l, p));
    return p;
}

/* Insert (m, score) at its place (m not present). */
static lp *zl_insert(lp *l, const char *m, size_t mlen, double score) {
    char sbuf[64];
    int sl = zl_score_str(sbuf, sizeof(sbuf), score);
    lp_pos p = lp_first(l);
    lp_entry e;
    while (p != LP_NONE) {
        lp_pos sp = lp_next(l, p);
        double s = zl_score_at(l, sp);
        lp_get(l, p, &e);
        if (zset_cmp(s, e.s, e.len, score, m, mlen) > 0) break;
        p = lp_next(l, sp);
    }
    lp_pos at;
    l = lp_insert(l, p, m, mlen, &at);
    lp_pos next = lp_next(l, at);
    l = lp_insert(l, next, sbuf, (size_t)sl, NULL);
    return l;
}

/* Delete the pair whose member is at p. */
static lp *zl_delete(lp *l, lp_pos p) {
    return lp_delete(l, &p, 2);
}

/* ---------------------------------------------------------------------- */
/* Iteration over either encoding, in ascending or descending order. */

typedef struct zit {
    const obj *o;
    int rev;
    lp_pos p;    /* listpack: the current member entry; LP_NONE at the end */
    zsl_node *n; /* skiplist: the current node; NULL at the end */
    lp_entry e;
} zit;

static int zit_valid(const zit *it) {
    return it->o->enc == OBJ_ENC_LISTPACK ? it->p != LP_NONE : it->n != NULL;
}

static void zit_get(zit *it, const char **m, size_t *mlen, double *score) {
    if (it->o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = it->o->v.ptr;
        lp_get(l, it->p, &it->e);
        *m = it->e.s;
        *mlen = it->e.len;
        *score = zl_score_at(l, lp_next(l, it->p));
    } else {
        *m = it->n->m;
        *mlen = it->n->mlen;
        *score = it->n->score;
    }
}

static void zit_next(zit *it) {
    if (it->o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = it->o->v.ptr;
        if (it->rev) {
            lp_pos sp = lp_prev(l, it->p);
            it->p = sp == LP_NONE ? LP_NONE : lp_prev(l, sp);
        } else {
            lp_pos sp = lp_next(l, it->p);
            it->p = lp_next(l, sp);
        }
    } else {
        it->n = it->rev ? it->n->back : it->n->lv[0].fwd;
    }
}

/* Position it on rank `rank` of the order chosen by rev (0 <= rank < len). */
static void zit_seek_rank(zit *it, const obj *o, long rank, int rev) {
    it->o = o;
    it->rev = rev;
    size_t len = zset_len(o);
    size_t asc = rev ? len - 1 - (size_t)rank : (size_t)rank;
    if (o->enc == OBJ_ENC_LISTPACK) {
        it->p = lp_seek(o->v.ptr, (long)(2 * asc));
    } else {
        it->n = zsl_at_rank(o->v.ptr, asc + 1);
    }
}

/* Position it on the first member within b in the order chosen by rev (the
 * member must still be checked against the other end); at the end if none. */
static void zit_seek_in(zit *it, const obj *o, const zbound *b, int rev) {
    it->o = o;
    it->rev = rev;
    if (o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = o->v.ptr;
        lp_entry e;
        double s;
        if (!rev) {
            lp_pos p = lp_first(l);
            while (p != LP_NONE) {
                zl_key(l, p, b, &e, &s);
                if (zbound_gte_min(b, e.s, e.len, s)) break;
                p = lp_next(l, lp_next(l, p));
            }
            it->p = p;
        } else {
            lp_pos sp = lp_last(l);
            lp_pos p = LP_NONE;
            while (sp != LP_NONE) {
                p = lp_prev(l, sp);
                zl_key(l, p, b, &e, &s);
                if (zbound_lte_max(b, e.s, e.len, s)) break;
                sp = lp_prev(l, p);
                p = LP_NONE;
            }
            it->p = p;
        }
    } else {
        it->n = rev ? zsl_last_in(o->v.ptr, b) : zsl_first_in(o->v.ptr, b);
    }
}

/* ---------------------------------------------------------------------- */
/* Public API. */

obj *zset_new_listpack(void) {
    obj *o = zs_xmalloc(sizeof(obj));
    memset(o, 0, sizeof(*o));
    o->type = OBJ_ZSET;
    o->enc = OBJ_ENC_LISTPACK;
    o->v.ptr = lp_new();
    return o;
}

obj *zset_new_skiplist(void) {
    obj *o = zs_xmalloc(sizeof(obj));
    memset(o, 0, sizeof(*o));
    o->type = OBJ_ZSET;
    o->enc = OBJ_ENC_SKIPLIST;
    o->v.ptr = zb_new();
    return o;
}

obj *zset_new(const store_enc *enc, size_t size_hint, size_t max_member_len) {
    if (size_hint <= (unsigned long long)enc->zset_max_listpack_entries &&
        max_member_len <= (unsigned long long)enc->zset_max_listpack_value)
        return zset_new_listpack();
    obj *o = zset_new_skiplist();
    zset_big *z = o->v.ptr;
    dict_expand(z->d, size_hint);
    return o;
}

size_t zset_len(const obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK) return lp_count(o->v.ptr) / 2;
    return ((const zset_big *)o->v.ptr)->len;
}

int zset_score(const obj *o, const char *m, size_t mlen, double *score) {
    if (o->enc == OBJ_ENC_LISTPACK) return zl_find(o->v.ptr, m, mlen, score) != LP_NONE;
    dict_entry *e = dict_find(((const zset_big *)o->v.ptr)->d, m, mlen);
    if (e == NULL) return 0;
    *score = ((zsl_node *)e->v.p)->score;
    return 1;
}

/* Rebuild o (listpack) as a skiplist. */
static void zset_to_skiplist(obj *o) {
    lp *l = o->v.ptr;
    zset_big *z = zb_new();
    dict_expand(z->d, lp_count(l) / 2);
    lp_entry e;
    for (lp_pos p = lp_first(l); p != LP_NONE;) {
        lp_pos sp = lp_next(l, p);
        lp_get(l, p, &e);
        zb_add_new(z, zl_score_at(l, sp), e.s, e.len);
        p = lp_next(l, sp);
    }
    lp_free(l);
    o->v.ptr = z;
    o->enc = OBJ_ENC_SKIPLIST;
}

/* Rebuild o (skiplist) as a listpack. */
static void zset_to_listpack(obj *o) {
    zset_big *z = o->v.ptr;
    lp *l = lp_new();
    char sbuf[64];
    for (zsl_node *n = z->head->lv[0].fwd; n; n = n->lv[0].fwd) {
        l = lp_append(l, n->m, n->mlen);
        int sl = zl_score_str(sbuf, sizeof(sbuf), n->score);
        l = lp_append(l, sbuf, (size_t)sl);
    }
    zb_free(z);
    o->v.ptr = l;
    o->enc = OBJ_ENC_LISTPACK;
}

int zset_add(obj *o, const store_enc *enc, double score, const char *m, size_t mlen, int flags,
             int *res, double *newscore) {
    int incr = flags & ZADD_F_INCR, nx = flags & ZADD_F_NX, xx = flags & ZADD_F_XX;
    int gt = flags & ZADD_F_GT, lt = flags & ZADD_F_LT;
    *res = 0;
    if (isnan(score)) {
        *res = ZADD_R_NAN;
        return 0;
    }
    double cur;
    int present = zset_score(o, m, mlen, &cur);
    if (present) {
        if (nx) {
            *res = ZADD_R_NOP;
            return 1;
        }
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *res = ZADD_R_NAN;
                return 0;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *res = ZADD_R_NOP;
            return 1;
        }
        if (newscore) *newscore = score;
        if (score == cur) return 1;
        if (o->enc == OBJ_ENC_LISTPACK) {
            lp *l = o->v.ptr;
            l = zl_delete(l, zl_find(l, m, mlen, NULL));
            o->v.ptr = zl_insert(l, m, mlen, score);
        } else {
            zset_big *z = o->v.ptr;
            dict_entry *e = dict_find(z->d, m, mlen);
            zsl_remove_node(z, e->v.p);
            e->v.p = zsl_insert(z, score, e->key, e->klen);
        }
        *res = ZADD_R_UPDATED;
        return 1;
    }
    if (xx) {
        *res = ZADD_R_NOP;
        return 1;
    }
    if (o->enc == OBJ_ENC_LISTPACK) {
        if (zset_len(o) + 1 > (unsigned long long)enc->zset_max_listpack_entries ||
            mlen > (unsigned long long)enc->zset_max_listpack_value)
            zset_to_skiplist(o);
        else
            o->v.ptr = zl_insert(o->v.ptr, m, mlen, score);
    }
    if (o->enc == OBJ_ENC_SKIPLIST) zb_add_new(o->v.ptr, score, m, mlen);
    if (newscore) *newscore = score;
    *res = ZADD_R_ADDED;
    return 1;
}

int zset_del(obj *o, const char *m, size_t mlen) {
    if (o->enc == OBJ_ENC_LISTPACK) {
        lp_pos p = zl_find(o->v.ptr, m, mlen, NULL);
        if (p == LP_NONE) return 0;
        o->v.ptr = zl_delete(o->v.ptr, p);
        return 1;
    }
    zset_big *z = o->v.ptr;
    dict_entry *e = dict_unlink(z->d, m, mlen);
    if (e == NULL) return 0;
    zsl_remove_node(z, e->v.p);
    dict_entry_free(e);
    dict_shrink(z->d);
    return 1;
}

long zset_rank(const obj *o, const char *m, size_t mlen, int rev, double *score) {
    size_t len = zset_len(o);
    size_t asc;
    double s;
    if (o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = o->v.ptr;
        asc = 0;
        lp_pos p = lp_first(l);
        while (p != LP_NONE && !lp_eq(l, p, m, mlen)) {
            p = lp_next(l, lp_next(l, p));
            asc++;
        }
        if (p == LP_NONE) return -1;
        s = zl_score_at(l, lp_next(l, p));
    } else {
        const zset_big *z = o->v.ptr;
        dict_entry *e = dict_find(z->d, m, mlen);
        if (e == NULL) return -1;
        zsl_node *n = e->v.p;
        s = n->score;
        asc = zsl_rank_of(z, n) - 1;
    }
    if (score) *score = s;
    return (long)(rev ? len - 1 - asc : asc);
}

void zset_range_rank(const obj *o, long start, long end, int rev, zset_visit_fn fn, void *priv) {
    zit it;
    zit_seek_rank(&it, o, start, rev);
    for (long i = start; i <= end && zit_valid(&it); i++) {
        const char *m;
        size_t ml;
        double s;
        zit_get(&it, &m, &ml, &s);
        fn(priv, m, ml, s);
        zit_next(&it);
    }
}

/* Visit the members within b in the order chosen by rev, skipping offset of
 * them and stopping after limit (negative: no limit). Returns how many. */
static size_t zset_range_in(const obj *o, const zbound *b, int rev, long offset, long limit,
                            zset_visit_fn fn, void *priv) {
    if (zbound_empty(b)) return 0;
    zit it;
    zit_seek_in(&it, o, b, rev);
    size_t n = 0;
    for (; zit_valid(&it) && limit != 0; zit_next(&it)) {
        const char *m;
        size_t ml;
        double s;
        zit_get(&it, &m, &ml, &s);
        if (!(rev ? zbound_gte_min(b, m, ml, s) : zbound_lte_max(b, m, ml, s))) break;
        if (offset > 0) {
            offset--;
            continue;
        }
        fn(priv, m, ml, s);
        n++;
        if (limit > 0) limit--;
    }
    return n;
}

size_t zset_range_score(const obj *o, const zscore_range *r, int rev, long offset, long limit,
                        zset_visit_fn fn, void *priv) {
    zbound b = {r, NULL};
    return zset_range_in(o, &b, rev, offset, limit, fn, priv);
}

size_t zset_range_lex(const obj *o, const zlex_range *r, int rev, long offset, long limit,
                      zset_visit_fn fn, void *priv) {
    zbound b = {NULL, r};
    return zset_range_in(o, &b, rev, offset, limit, fn, priv);
}

/* Ascending rank of the first member within b and how many are within it. */
static size_t zset_span(const obj *o, const zbound *b, size_t *first) {
    *first = 0;
    if (zbound_empty(b)) return 0;
    if (o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = o->v.ptr;
        size_t idx = 0, n = 0;
        lp_entry e;
        double s;
        for (lp_pos p = lp_first(l); p != LP_NONE; idx++) {
            zl_key(l, p, b, &e, &s);
            if (!zbound_lte_max(b, e.s, e.len, s)) break;
            if (zbound_gte_min(b, e.s, e.len, s)) {
                if (n == 0) *first = idx;
                n++;
            }
            p = lp_next(l, lp_next(l, p));
        }
        return n;
    }
    const zset_big *z = o->v.ptr;
    zsl_node *a = zsl_first_in(z, b);
    if (a == NULL || !zbound_lte_max(b, a->m, a->mlen, a->score)) return 0;
    zsl_node *last = zsl_last_in(z, b);
    size_t ra = zsl_rank_of(z, a), rb = zsl_rank_of(z, last);
    *first = ra - 1;
    return rb - ra + 1;
}

size_t zset_count_score(const obj *o, const zscore_range *r) {
    size_t first;
    zbound b = {r, NULL};
    return zset_span(o, &b, &first);
}

size_t zset_count_lex(const obj *o, const zlex_range *r) {
    size_t first;
    zbound b = {NULL, r};
    return zset_span(o, &b, &first);
}

size_t zset_del_range_rank(obj *o, long start, long end) {
    if (start > end) return 0;
    size_t n = (size_t)(end - start + 1);
    if (o->enc == OBJ_ENC_LISTPACK) {
        o->v.ptr = lp_delete_range(o->v.ptr, 2 * start, (uint32_t)(2 * n));
        return n;
    }
    zset_big *z = o->v.ptr;
    zsl_node *update[ZSL_MAXLEVEL];
    zsl_node *x = z->head;
    size_t trav = 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].fwd && trav + x->lv[i].span < (size_t)start + 1) {
            trav += x->lv[i].span;
            x = x->lv[i].fwd;
        }
        update[i] = x;
    }
    x = x->lv[0].fwd;
    for (size_t k = 0; k < n && x; k++) {
        zsl_node *next = x->lv[0].fwd;
        zsl_unlink(z, x, update);
        dict_entry *e = dict_unlink(z->d, x->m, x->mlen);
        free(x);
        dict_entry_free(e);
        x = next;
    }
    dict_shrink(z->d);
    return n;
}

/* Delete the members within b. Returns how many. */
static size_t zset_del_in(obj *o, const zbound *b) {
    size_t first, n = zset_span(o, b, &first);
    if (n) zset_del_range_rank(o, (long)first, (long)(first + n - 1));
    return n;
}

size_t zset_del_range_score(obj *o, const zscore_range *r) {
    zbound b = {r, NULL};
    return zset_del_in(o, &b);
}

size_t zset_del_range_lex(obj *o, const zlex_range *r) {
    zbound b = {NULL, r};
    return zset_del_in(o, &b);
}

void zset_foreach(const obj *o, zset_visit_fn fn, void *priv) {
    size_t len = zset_len(o);
    if (len) zset_range_rank(o, 0, (long)len - 1, 0, fn, priv);
}

/* zset_foreach visitor: track the longest member. */
static void zset_maxlen_visit(void *priv, const char *m, size_t mlen, double score) {
    (void)m;
    (void)score;
    size_t *mx = priv;
    if (mlen > *mx) *mx = mlen;
}

void zset_fit_encoding(obj *o, const store_enc *enc) {
    if (o->enc != OBJ_ENC_SKIPLIST) return;
    if (zset_len(o) > (unsigned long long)enc->zset_max_listpack_entries) return;
    size_t mx = 0;
    zset_foreach(o, zset_maxlen_visit, &mx);
    if (mx > (unsigned long long)enc->zset_max_listpack_value) return;
    zset_to_listpack(o);
}

void zset_random(const obj *o, uint64_t *rng, char *buf, const char **m, size_t *mlen,
                 double *score) {
    if (o->enc == OBJ_ENC_LISTPACK) {
        const lp *l = o->v.ptr;
        size_t idx = (size_t)(util_rand_next(rng) % zset_len(o));
        lp_pos p = lp_seek(l, (long)(2 * idx));
        lp_entry e;
        lp_get(l, p, &e);
        if (e.s == e.buf) {
            memcpy(buf, e.buf, e.len);
            *m = buf;
        } else {
            *m = e.s;
        }
        *mlen = e.len;
        *score = zl_score_at(l, lp_next(l, p));
        return;
    }
    const zset_big *z = o->v.ptr;
    dict_entry *e = dict_random(z->d, rng);
    zsl_node *n = e->v.p;
    *m = n->m;
    *mlen = n->mlen;
    *score = n->score;
}

typedef struct zscan_priv {
    zset_visit_fn fn;
    void *priv;
} zscan_priv;

static void zset_scan_visit(void *priv, const dict_entry *e) {
    zscan_priv *sp = priv;
    const zsl_node *n = e->v.p;
    sp->fn(sp->priv, n->m, n->mlen, n->score);
}

uint64_t zset_scan(const obj *o, uint64_t cursor, zset_visit_fn fn, void *priv) {
    const zset_big *z = o->v.ptr;
    zscan_priv sp = {fn, priv};
    return dict_scan(z->d, cursor, zset_scan_visit, &sp);
}

/* ---------------------------------------------------------------------- */
/* Type hooks. */

static void zset_hook_free(obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK)
        lp_free(o->v.ptr);
    else
        zb_free(o->v.ptr);
    o->v.ptr = NULL;
}

static void *zset_hook_dup(const obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK) return lp_dup(o->v.ptr);
    const zset_big *z = o->v.ptr;
    zset_big *c = zb_new();
    dict_expand(c->d, z->len);
    /* Appending in order: each insert lands after the current tail. */
    for (zsl_node *n = z->head->lv[0].fwd; n; n = n->lv[0].fwd)
        zb_add_new(c, n->score, n->m, n->mlen);
    return c;
}

obj *zset_dup(const obj *o) {
    obj *c = zs_xmalloc(sizeof(obj));
    *c = *o;
    c->v.ptr = zset_hook_dup(o);
    return c;
}

/* MEMORY USAGE: the listpack's bytes, or the table, the nodes (jemalloc
 * classes) and the member copies Redis keeps as sds strings. */
static size_t zset_hook_mem(const obj *o) {
    if (o->enc == OBJ_ENC_LISTPACK) return 16 + obj_jemalloc_size(lp_bytes(o->v.ptr));
    const zset_big *z = o->v.ptr;
    size_t total = 16 + obj_jemalloc_size(sizeof(zset_big)) + dict_mem(z->d) +
                   obj_jemalloc_size(sizeof(zsl_node) + ZSL_MAXLEVEL * sizeof(struct zsl_link));
    for (zsl_node *n = z->head->lv[0].fwd; n; n = n->lv[0].fwd)
        total += obj_jemalloc_size(sizeof(zsl_node) + (size_t)n->nlev * sizeof(struct zsl_link));
    return total;
}

static size_t zset_hook_elements(const obj *o) {
    return zset_len(o);
}

const obj_type_hooks obj_hooks_zset = {zset_hook_free, zset_hook_dup, zset_hook_mem,
                                       zset_hook_elements};
