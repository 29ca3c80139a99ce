/* test_zset.c -- the sorted set value (store/zset.c) against a sorted array
 * of (score, member) pairs: random adds, increments, removals and range
 * removals, checking length, scores, ranks, rank/score/lex ranges and
 * counts after every step, in both encodings and across the conversion.
 * Single-threaded. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/zset.h"
#include "unit.h"

#define MAXM 400

typedef struct ref_el {
    char m[8];
    size_t ml;
    double score;
} ref_el;

static ref_el ref[MAXM];
static int nref;
#define REF_SEED 88172645463325252ULL
#include "ref_util.h"

static int ref_cmp(const void *a, const void *b) {
    const ref_el *x = a, *y = b;
    return zset_cmp(x->score, x->m, x->ml, y->score, y->m, y->ml);
}

static int ref_find(const char *m, size_t ml) {
    for (int i = 0; i < nref; i++)
        if (ref[i].ml == ml && memcmp(ref[i].m, m, ml) == 0) return i;
    return -1;
}

static void ref_del_at(int i) {
    memmove(&ref[i], &ref[i + 1], (size_t)(nref - i - 1) * sizeof(ref_el));
    nref--;
}

/* A collecting visitor. */
typedef struct got {
    ref_el el[MAXM];
    int n;
} got;

static void collect(void *priv, const char *m, size_t ml, double s) {
    got *g = priv;
    memcpy(g->el[g->n].m, m, ml);
    g->el[g->n].ml = ml;
    g->el[g->n].score = s;
    g->n++;
}

static int same(const ref_el *a, const ref_el *b) {
    return a->ml == b->ml && memcmp(a->m, b->m, a->ml) == 0 && a->score == b->score;
}

static void rand_member(char *m, size_t *ml) {
    /* Small alphabet: many collisions; some numeric members (listpack ints). */
    int k = (int)(rnd() % 3);
    if (k == 0) {
        *ml = (size_t)snprintf(m, 8, "%d", (int)(rnd() % 60));
    } else {
        *ml = 1 + rnd() % 3;
        for (size_t i = 0; i < *ml; i++)
            m[i] = (char)("ab\0\xff"[rnd() % 4]);
    }
}

static double rand_score(void) {
    switch (rnd() % 6) {
    case 0:
        return 1.0;
    case 1:
        return -0.5;
    case 2:
        return (double)(rnd() % 5);
    case 3:
        return 0.1 * (double)(rnd() % 7);
    case 4:
        return rnd() % 2 ? INFINITY : -INFINITY;
    default:
        return ((double)(rnd() % 1000) - 500) / 3.0;
    }
}

static zscore_range rand_srange(void) {
    zscore_range r;
    r.min = rand_score();
    r.max = rand_score();
    if (rnd() % 4 == 0) {
        double t = r.min;
        r.min = r.max;
        r.max = t;
    }
    r.minex = (int)(rnd() % 2);
    r.maxex = (int)(rnd() % 2);
    return r;
}

static int in_srange(double s, const zscore_range *r) {
    return (r->minex ? s > r->min : s >= r->min) && (r->maxex ? s < r->max : s <= r->max);
}

static char lexbuf[2][8];
static zlex_range rand_lrange(void) {
    zlex_range r;
    memset(&r, 0, sizeof(r));
    size_t l;
    rand_member(lexbuf[0], &l);
    r.min = lexbuf[0];
    r.minlen = l;
    rand_member(lexbuf[1], &l);
    r.max = lexbuf[1];
    r.maxlen = l;
    r.minex = (int)(rnd() % 2);
    r.maxex = (int)(rnd() % 2);
    if (rnd() % 5 == 0) r.min_inf = rnd() % 4 ? -1 : 1;
    if (rnd() % 5 == 0) r.max_inf = rnd() % 4 ? 1 : -1;
    return r;
}

static int mcmp(const char *a, size_t al, const char *b, size_t bl) {
    return zset_cmp(0, a, al, 0, b, bl);
}

static int in_lrange(const ref_el *e, const zlex_range *r) {
    int lo, hi;
    if (r->min_inf)
        lo = r->min_inf < 0;
    else {
        int c = mcmp(e->m, e->ml, r->min, r->minlen);
        lo = r->minex ? c > 0 : c >= 0;
    }
    if (r->max_inf)
        hi = r->max_inf > 0;
    else {
        int c = mcmp(e->m, e->ml, r->max, r->maxlen);
        hi = r->maxex ? c < 0 : c <= 0;
    }
    return lo && hi;
}

static got g;

/* Compare every observable of o with the reference. */
static void check_all(const obj *o) {
    CHECK(zset_len(o) == (size_t)nref);
    g.n = 0;
    zset_foreach(o, collect, &g);
    int ok = g.n == nref;
    for (int i = 0; ok && i < nref; i++)
        ok = same(&g.el[i], &ref[i]);
    CHECK(ok);
    /* Scores and ranks of a few members. */
    for (int k = 0; k < 5 && nref; k++) {
        int i = (int)(rnd() % (unsigned)nref);
        double s;
        CHECK(zset_score(o, ref[i].m, ref[i].ml, &s) && s == ref[i].score);
        CHECK(zset_rank(o, ref[i].m, ref[i].ml, 0, &s) == i);
        CHECK(zset_rank(o, ref[i].m, ref[i].ml, 1, NULL) == nref - 1 - i);
    }
    /* Rank ranges, both directions. */
    if (nref) {
        long a = (long)(rnd() % (unsigned)nref), b = (long)(rnd() % (unsigned)nref);
        if (a > b) {
            long t = a;
            a = b;
            b = t;
        }
        for (int rev = 0; rev < 2; rev++) {
            g.n = 0;
            zset_range_rank(o, a, b, rev, collect, &g);
            ok = g.n == b - a + 1;
            for (long i = a; ok && i <= b; i++)
                ok = same(&g.el[i - a], &ref[rev ? nref - 1 - i : i]);
            CHECK(ok);
        }
    }
    /* Score ranges with offset/limit, both directions, and counts. */
    zscore_range sr = rand_srange();
    long off = (long)(rnd() % 3), lim = (long)(rnd() % 5) - 1;
    for (int rev = 0; rev < 2; rev++) {
        g.n = 0;
        size_t n = zset_range_score(o, &sr, rev, off, lim, collect, &g);
        ref_el exp[MAXM];
        int ne = 0, skip = (int)off;
        for (int j = 0; j < nref; j++) {
            int i = rev ? nref - 1 - j : j;
            if (!in_srange(ref[i].score, &sr)) continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            if (lim >= 0 && ne >= lim) break;
            exp[ne++] = ref[i];
        }
        ok = (int)n == ne && g.n == ne;
        for (int i = 0; ok && i < ne; i++)
            ok = same(&g.el[i], &exp[i]);
        CHECK(ok);
    }
    size_t cnt = 0;
    for (int i = 0; i < nref; i++)
        cnt += (size_t)in_srange(ref[i].score, &sr);
    CHECK(zset_count_score(o, &sr) == cnt);
    /* Lex ranges: meaningful when all scores are equal; compare anyway on
     * the order the structure defines (visits are a contiguous run). */
    int allsame = 1;
    for (int i = 1; i < nref; i++)
        if (ref[i].score != ref[0].score) allsame = 0;
    if (allsame) {
        zlex_range lr = rand_lrange();
        for (int rev = 0; rev < 2; rev++) {
            g.n = 0;
            zset_range_lex(o, &lr, rev, 0, -1, collect, &g);
            int ne = 0;
            ok = 1;
            for (int j = 0; j < nref; j++) {
                int i = rev ? nref - 1 - j : j;
                if (!in_lrange(&ref[i], &lr)) continue;
                ok = ok && ne < g.n && same(&g.el[ne], &ref[i]);
                ne++;
            }
            CHECK(ok && ne == g.n);
            CHECK(zset_count_lex(o, &lr) == (size_t)ne);
        }
    }
}

static void run(long long max_entries, int same_score, int steps) {
    store_enc enc;
    memset(&enc, 0, sizeof(enc));
    enc.zset_max_listpack_entries = max_entries;
    enc.zset_max_listpack_value = 64;
    obj *o = max_entries ? zset_new_listpack() : zset_new_skiplist();
    nref = 0;
    int saw_skiplist = 0;
    for (int step = 0; step < steps; step++) {
        char m[8];
        size_t ml;
        rand_member(m, &ml);
        int op = (int)(rnd() % 100);
        if (op < 50) {
            double s = same_score ? 0 : rand_score();
            int flags = 0;
            if (rnd() % 5 == 0) flags |= ZADD_F_INCR;
            if (rnd() % 8 == 0) flags |= rnd() % 2 ? ZADD_F_GT : ZADD_F_LT;
            if (rnd() % 8 == 0)
                flags |= rnd() % 2 ? ZADD_F_XX : (flags & (ZADD_F_GT | ZADD_F_LT) ? 0 : ZADD_F_NX);
            if (same_score) flags &= ~ZADD_F_INCR;
            int res;
            double ns = 12345;
            int i = ref_find(m, ml);
            int r = zset_add(o, &enc, s, m, ml, flags, &res, &ns);
            if (i >= 0) {
                double cur = ref[i].score, want = (flags & ZADD_F_INCR) ? cur + s : s;
                if (flags & ZADD_F_NX) {
                    CHECK(r == 1 && res == ZADD_R_NOP);
                } else if (isnan(want)) {
                    CHECK(r == 0 && res == ZADD_R_NAN);
                } else if (((flags & ZADD_F_LT) && want >= cur) ||
                           ((flags & ZADD_F_GT) && want <= cur)) {
                    CHECK(r == 1 && res == ZADD_R_NOP);
                } else {
                    CHECK(r == 1 && ns == want);
                    CHECK(res == (want != cur ? ZADD_R_UPDATED : 0));
                    ref[i].score = want;
                }
            } else if (flags & ZADD_F_XX) {
                CHECK(r == 1 && res == ZADD_R_NOP);
            } else {
                CHECK(r == 1 && res == ZADD_R_ADDED && ns == s);
                memcpy(ref[nref].m, m, ml);
                ref[nref].ml = ml;
                ref[nref].score = s;
                nref++;
            }
            qsort(ref, (size_t)nref, sizeof(ref_el), ref_cmp);
        } else if (op < 75) {
            int i = ref_find(m, ml);
            CHECK(zset_del(o, m, ml) == (i >= 0));
            if (i >= 0) ref_del_at(i);
        } else if (op < 80 && nref) {
            long a = (long)(rnd() % (unsigned)nref), b = a + (long)(rnd() % 4);
            if (b >= nref) b = nref - 1;
            CHECK(zset_del_range_rank(o, a, b) == (size_t)(b - a + 1));
            for (long i = b; i >= a; i--)
                ref_del_at((int)i);
        } else if (op < 83) {
            zscore_range sr = rand_srange();
            size_t n = 0;
            for (int i = nref - 1; i >= 0; i--)
                if (in_srange(ref[i].score, &sr)) {
                    ref_del_at(i);
                    n++;
                }
            CHECK(zset_del_range_score(o, &sr) == n);
        } else if (op < 86 && same_score) {
            zlex_range lr = rand_lrange();
            size_t n = 0;
            for (int i = nref - 1; i >= 0; i--)
                if (in_lrange(&ref[i], &lr)) {
                    ref_del_at(i);
                    n++;
                }
            CHECK(zset_del_range_lex(o, &lr) == n);
        } else if (op < 88) {
            obj *c = zset_dup(o);
            CHECK(c->enc == o->enc);
            obj_free(o);
            o = c;
        } else if (op < 90) {
            zset_fit_encoding(o, &enc);
        }
        if (o->enc == OBJ_ENC_SKIPLIST) saw_skiplist = 1;
        CHECK(o->enc == OBJ_ENC_LISTPACK || o->enc == OBJ_ENC_SKIPLIST);
        check_all(o);
        if (nref > 300) {
            while (nref > 0) {
                CHECK(zset_del(o, ref[nref - 1].m, ref[nref - 1].ml));
                nref--;
            }
        }
    }
    CHECK(max_entries >= 1000 ? !saw_skiplist : saw_skiplist);
    obj_free(o);
}

/* Conversion thresholds: the count and the member length. */
static void test_conversion(void) {
    store_enc enc;
    memset(&enc, 0, sizeof(enc));
    enc.zset_max_listpack_entries = 3;
    enc.zset_max_listpack_value = 4;
    obj *o = zset_new_listpack();
    int res;
    zset_add(o, &enc, 1, "a", 1, 0, &res, NULL);
    zset_add(o, &enc, 2, "b", 1, 0, &res, NULL);
    zset_add(o, &enc, 3, "c", 1, 0, &res, NULL);
    CHECK(o->enc == OBJ_ENC_LISTPACK);
    zset_add(o, &enc, 4, "d", 1, 0, &res, NULL);
    CHECK(o->enc == OBJ_ENC_SKIPLIST);
    zset_del(o, "d", 1);
    zset_fit_encoding(o, &enc);
    CHECK(o->enc == OBJ_ENC_LISTPACK);
    zset_add(o, &enc, 4, "ddddd", 5, 0, &res, NULL);
    CHECK(o->enc == OBJ_ENC_SKIPLIST);
    zset_fit_encoding(o, &enc);
    CHECK(o->enc == OBJ_ENC_SKIPLIST);
    double s;
    CHECK(zset_score(o, "ddddd", 5, &s) && s == 4);
    CHECK(obj_elements(o) == 4);
    CHECK(obj_mem_usage(o) > 0);
    obj_free(o);
    /* Scores survive the listpack text form exactly. */
    enc.zset_max_listpack_entries = 128;
    o = zset_new_listpack();
    double vals[] = {0.1, 1e300, -0.0, INFINITY, -INFINITY, 1.0 / 3, 5e-324, 123456789012345678.0};
    for (int i = 0; i < 8; i++) {
        char m[4] = {(char)('a' + i), 0};
        zset_add(o, &enc, vals[i], m, 1, 0, &res, NULL);
    }
    for (int i = 0; i < 8; i++) {
        char m[4] = {(char)('a' + i), 0};
        CHECK(zset_score(o, m, 1, &s) && s == vals[i]);
    }
    /* NaN is refused, and inf + -inf by INCR too. */
    CHECK(zset_add(o, &enc, NAN, "x", 1, 0, &res, NULL) == 0 && res == ZADD_R_NAN);
    CHECK(zset_add(o, &enc, -INFINITY, "d", 1, ZADD_F_INCR, &res, NULL) == 0 && res == ZADD_R_NAN);
    obj_free(o);
}

int main(void) {
    test_conversion();
    run(1000000, 0, 3000);
    run(16, 0, 3000);
    run(0, 0, 3000);
    run(1000000, 1, 2000);
    run(16, 1, 2000);
    run(0, 1, 2000);
    UNIT_DONE();
}
