/* t_zset.c -- the sorted set commands (ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
 * ZRANK ZREVRANK ZCOUNT ZLEXCOUNT, the ZRANGE family and ZRANGESTORE,
 * ZREMRANGEBY*, ZPOPMIN ZPOPMAX ZMPOP, ZRANDMEMBER, ZSCAN, and the algebra
 * ZUNION ZINTER ZDIFF ZINTERCARD ZUNIONSTORE ZINTERSTORE ZDIFFSTORE) with
 * Redis 7.0's replies, errors and encodings, and their command-table rows.
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys. Commands whose keys may span shards (ZMPOP, ZRANGESTORE
 * and the algebra) also have a *_multi body run on the coordinator shard:
 * op_* steps run on the parts' shards (rt_tx_run / rt_tx_run_one), each
 * touching only its own store and its own tx part (or tx->state in an
 * rt_tx_run_one step, when nothing else runs). Source values travel to the
 * coordinator as duplicates (obj_dup) made on their shard; a *STORE result
 * is built on the coordinator and handed to the destination's shard, whose
 * store takes it over. The shards stay held from the first step to the
 * reply, so each command is atomic as seen by other clients.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ds/dict.h"
#include "../store/set.h"
#include "../store/zset.h"
#include "cmd_rows.h"
#include "type_util.h"

#define ERR_NAN "ERR resulting score is not a number (NaN)"
#define ERR_MINMAX_FLOAT "ERR min or max is not a float"
#define ERR_MINMAX_LEX "ERR min or max not valid string range item"

/* Thresholds that never convert: for building results as skiplists. */
static const store_enc zs_enc_big = {.zset_max_listpack_entries = LLONG_MAX,
                                     .zset_max_listpack_value = LLONG_MAX};

/* ---------------------------------------------------------------------- */
/* Argument parsing. */

/* Copy a's bytes into a NUL-terminated buffer: buf if it fits (cap bytes),
 * else a malloc'd one the caller frees (returned in *heap). */
static char *arg_cstr(const rt_arg *a, char *buf, size_t cap, char **heap) {
    char *p = buf;
    *heap = NULL;
    if (a->len + 1 > cap) {
        p = malloc(a->len + 1);
        if (p == NULL) abort();
        *heap = p;
    }
    memcpy(p, a->p, a->len);
    p[a->len] = '\0';
    return p;
}

/* One end of a score interval as Redis reads it: optional '(' for
 * exclusive, then strtod over the C string (it stops at a NUL byte).
 * Returns 0, or -1 if invalid. */
static int parse_score_bound(const rt_arg *a, double *v, int *ex) {
    char buf[128], *heap;
    char *s = arg_cstr(a, buf, sizeof(buf), &heap);
    char *start = s, *end;
    *ex = 0;
    if (s[0] == '(') {
        *ex = 1;
        start++;
    }
    *v = strtod(start, &end);
    int ok = end[0] == '\0' && !isnan(*v);
    free(heap);
    return ok ? 0 : -1;
}

static int parse_score_range(const rt_arg *min, const rt_arg *max, zscore_range *r) {
    if (parse_score_bound(min, &r->min, &r->minex) < 0) return -1;
    if (parse_score_bound(max, &r->max, &r->maxex) < 0) return -1;
    return 0;
}

/* One end of a lex interval: "-", "+", "(bytes" or "[bytes" (Redis reads
 * the first two as C strings). The bytes borrow from a. */
static int parse_lex_bound(const rt_arg *a, const char **p, size_t *len, int *ex, int *inf) {
    char c0 = a->len > 0 ? a->p[0] : '\0';
    char c1 = a->len > 1 ? a->p[1] : '\0';
    *inf = 0;
    *p = NULL;
    *len = 0;
    switch (c0) {
    case '+':
    case '-':
        if (c1 != '\0') return -1;
        *ex = 1;
        *inf = c0 == '+' ? 1 : -1;
        return 0;
    case '(':
    case '[':
        *ex = c0 == '(';
        *p = a->p + 1;
        *len = a->len - 1;
        return 0;
    default:
        return -1;
    }
}

static int parse_lex_range(const rt_arg *min, const rt_arg *max, zlex_range *r) {
    memset(r, 0, sizeof(*r));
    if (parse_lex_bound(min, &r->min, &r->minlen, &r->minex, &r->min_inf) < 0) return -1;
    if (parse_lex_bound(max, &r->max, &r->maxlen, &r->maxex, &r->max_inf) < 0) return -1;
    return 0;
}

/* Redis's getLongFromObjectOrReply: a long long that must fit a long. */
static int arg_long_or_reply(rbuf *r, const rt_arg *a, long long *out) {
    return arg_ll_or_reply(r, a, out, NULL);
}

/* ---------------------------------------------------------------------- */
/* Replies. */

/* One member with (optionally) its score: RESP3 nests the pair. */
static void reply_pair(rbuf *r, const char *m, size_t ml, double score, int withscores) {
    if (withscores && r->resp >= 3) rw_array(r, 2);
    rw_bulk(r, m, ml);
    if (withscores) rw_double(r, score);
}

/* The array header for n members, flat pairs in RESP2. */
static void reply_pairs_header(rbuf *r, long n, int withscores) {
    rw_array(r, withscores && r->resp < 3 ? n * 2 : n);
}

/* A visitor writing pairs into a buffer and counting them. */
typedef struct pair_sink {
    rbuf *r;
    int withscores;
    long n;
    obj *dst; /* store mode: add to this zset instead of replying */
    const store_enc *enc;
} pair_sink;

static void pair_sink_visit(void *priv, const char *m, size_t ml, double score) {
    pair_sink *ps = priv;
    ps->n++;
    if (ps->dst) {
        int res;
        zset_add(ps->dst, ps->enc, score, m, ml, 0, &res, NULL);
    } else {
        reply_pair(ps->r, m, ml, score, ps->withscores);
    }
}

/* Store result res at key (taking it) or, when res is NULL or empty, delete
 * key. Counts the write as Redis does. */
static void store_result(rt_ctx *c, const rt_arg *key, obj *res) {
    db *d = ctx_cdb(c);
    if (res && zset_len(res) > 0) {
        db_set(d, key->p, key->len, res, 0);
        ss_dirty(c, 1);
        return;
    }
    obj_free(res);
    if (db_del(d, key->p, key->len)) ss_dirty(c, 1);
}

/* ---------------------------------------------------------------------- */
/* ZADD, ZINCRBY. */

static void zadd_generic(rt_ctx *c, int flags) {
    rbuf *r = c->reply;
    int ch = 0, idx = 2;
    while (idx < c->argc) {
        const rt_arg *a = &c->argv[idx];
        if (arg_is(a, "nx"))
            flags |= ZADD_F_NX;
        else if (arg_is(a, "xx"))
            flags |= ZADD_F_XX;
        else if (arg_is(a, "ch"))
            ch = 1;
        else if (arg_is(a, "incr"))
            flags |= ZADD_F_INCR;
        else if (arg_is(a, "gt"))
            flags |= ZADD_F_GT;
        else if (arg_is(a, "lt"))
            flags |= ZADD_F_LT;
        else
            break;
        idx++;
    }
    int incr = flags & ZADD_F_INCR, nx = flags & ZADD_F_NX, xx = flags & ZADD_F_XX;
    int gt = flags & ZADD_F_GT, lt = flags & ZADD_F_LT;
    int elements = c->argc - idx;
    if (elements % 2 || elements == 0) {
        rw_error(r, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        rw_error(r, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        rw_error(r, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        rw_error(r, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double *scores = malloc(sizeof(double) * (size_t)elements);
    if (scores == NULL) abort();
    for (int j = 0; j < elements; j++)
        if (arg_double_or_reply(r, &c->argv[idx + 2 * j], &scores[j], NULL) < 0) goto done;

    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) goto done;
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    if (o == NULL) {
        if (xx) goto reply;
        const store_enc *enc = &ctx_store(c)->enc;
        if (enc->zset_max_listpack_entries == 0 ||
            (unsigned long long)enc->zset_max_listpack_value < c->argv[idx + 1].len)
            o = zset_new_skiplist();
        else
            o = zset_new_listpack();
        db_set(ctx_cdb(c), c->argv[1].p, c->argv[1].len, o, 0);
    }
    for (int j = 0; j < elements; j++) {
        const rt_arg *m = &c->argv[idx + 1 + 2 * j];
        int res;
        double ns = 0;
        if (!zset_add(o, &ctx_store(c)->enc, scores[j], m->p, m->len, flags, &res, &ns)) {
            rw_error(r, ERR_NAN);
            ss_dirty(c, (uint64_t)(added + updated));
            goto done;
        }
        if (res & ZADD_R_ADDED) added++;
        if (res & ZADD_R_UPDATED) updated++;
        if (!(res & ZADD_R_NOP)) processed++;
        score = ns;
    }
    ss_dirty(c, (uint64_t)(added + updated));
reply:
    if (incr) {
        if (processed)
            rw_double(r, score);
        else
            rw_null(r);
    } else {
        rw_int(r, ch ? added + updated : added);
    }
done:
    free(scores);
}

static void cmd_zadd(rt_ctx *c) {
    zadd_generic(c, 0);
}

static void cmd_zincrby(rt_ctx *c) {
    zadd_generic(c, ZADD_F_INCR);
}

/* ---------------------------------------------------------------------- */
/* Single-key reads and removals. */

static void cmd_zrem(rt_ctx *c) {
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        deleted += zset_del(o, c->argv[j].p, c->argv[j].len);
        if (zset_len(o) == 0) {
            db_del(ctx_cdb(c), c->argv[1].p, c->argv[1].len);
            break;
        }
    }
    ss_dirty(c, (uint64_t)deleted);
    rw_int(c->reply, deleted);
}

static void cmd_zcard(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)zset_len(o) : 0);
}

static void cmd_zscore(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    double s;
    if (o && zset_score(o, c->argv[2].p, c->argv[2].len, &s))
        rw_double(c->reply, s);
    else
        rw_null(c->reply);
}

static void cmd_zmscore(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_array(c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (o && zset_score(o, c->argv[j].p, c->argv[j].len, &s))
            rw_double(c->reply, s);
        else
            rw_null(c->reply);
    }
}

static void zrank_generic(rt_ctx *c, int rev) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    long rank = o ? zset_rank(o, c->argv[2].p, c->argv[2].len, rev, NULL) : -1;
    if (rank >= 0)
        rw_int(c->reply, rank);
    else
        rw_null(c->reply);
}

static void cmd_zrank(rt_ctx *c) {
    zrank_generic(c, 0);
}

static void cmd_zrevrank(rt_ctx *c) {
    zrank_generic(c, 1);
}

static void cmd_zcount(rt_ctx *c) {
    zscore_range sr;
    if (parse_score_range(&c->argv[2], &c->argv[3], &sr) < 0) {
        rw_error(c->reply, ERR_MINMAX_FLOAT);
        return;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)zset_count_score(o, &sr) : 0);
}

static void cmd_zlexcount(rt_ctx *c) {
    zlex_range lr;
    if (parse_lex_range(&c->argv[2], &c->argv[3], &lr) < 0) {
        rw_error(c->reply, ERR_MINMAX_LEX);
        return;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)zset_count_lex(o, &lr) : 0);
}

/* Clamp a rank interval as Redis does; returns 0 if it is empty. */
static int clamp_ranks(long long *start, long long *end, long long len) {
    if (*start < 0) *start += len;
    if (*end < 0) *end += len;
    if (*start < 0) *start = 0;
    if (*start > *end || *start >= len) return 0;
    if (*end >= len) *end = len - 1;
    return 1;
}

enum { ZR_RANK, ZR_SCORE, ZR_LEX };

static void zremrange_generic(rt_ctx *c, int type) {
    rbuf *r = c->reply;
    long long start = 0, end = 0;
    zscore_range sr;
    zlex_range lr;
    if (type == ZR_RANK) {
        if (arg_long_or_reply(r, &c->argv[2], &start) < 0) return;
        if (arg_long_or_reply(r, &c->argv[3], &end) < 0) return;
    } else if (type == ZR_SCORE) {
        if (parse_score_range(&c->argv[2], &c->argv[3], &sr) < 0) {
            rw_error(r, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (parse_lex_range(&c->argv[2], &c->argv[3], &lr) < 0) {
        rw_error(r, ERR_MINMAX_LEX);
        return;
    }
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) return;
    if (o == NULL) {
        rw_int(r, 0);
        return;
    }
    size_t deleted;
    if (type == ZR_RANK) {
        if (!clamp_ranks(&start, &end, (long long)zset_len(o))) {
            rw_int(r, 0);
            return;
        }
        deleted = zset_del_range_rank(o, (long)start, (long)end);
    } else if (type == ZR_SCORE) {
        deleted = zset_del_range_score(o, &sr);
    } else {
        deleted = zset_del_range_lex(o, &lr);
    }
    if (zset_len(o) == 0) db_del(ctx_cdb(c), c->argv[1].p, c->argv[1].len);
    ss_dirty(c, deleted);
    rw_int(r, (long long)deleted);
}

static void cmd_zremrangebyrank(rt_ctx *c) {
    zremrange_generic(c, ZR_RANK);
}
static void cmd_zremrangebyscore(rt_ctx *c) {
    zremrange_generic(c, ZR_SCORE);
}
static void cmd_zremrangebylex(rt_ctx *c) {
    zremrange_generic(c, ZR_LEX);
}

/* ---------------------------------------------------------------------- */
/* The ZRANGE family. */

/* A parsed ZRANGE-style request. */
typedef struct zrange_req {
    int type; /* ZR_* */
    int rev;
    int withscores;
    long long offset, limit;
    long long start, end;
    zscore_range sr;
    zlex_range lr;
} zrange_req;

/* Parse a ZRANGE-family request whose source key is argv[first] (min and
 * max follow it), with Redis's order of checks. type/rev < 0: given by
 * the options (ZRANGE, ZRANGESTORE). store: WITHSCORES is refused. Returns
 * 0, or -1 after the error reply. */
static int zrange_parse(rbuf *r, int argc, const rt_arg *argv, int first, int type, int rev,
                        int store, zrange_req *q) {
    memset(q, 0, sizeof(*q));
    q->limit = -1;
    int minidx = first + 1, maxidx = first + 2;
    for (int j = first + 3; j < argc; j++) {
        int left = argc - j - 1;
        if (!store && arg_is(&argv[j], "withscores")) {
            q->withscores = 1;
        } else if (arg_is(&argv[j], "limit") && left >= 2) {
            if (arg_long_or_reply(r, &argv[j + 1], &q->offset) < 0) return -1;
            if (arg_long_or_reply(r, &argv[j + 2], &q->limit) < 0) return -1;
            j += 2;
        } else if (rev < 0 && arg_is(&argv[j], "rev")) {
            rev = 1;
        } else if (type < 0 && arg_is(&argv[j], "bylex")) {
            type = ZR_LEX;
        } else if (type < 0 && arg_is(&argv[j], "byscore")) {
            type = ZR_SCORE;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    if (rev < 0) rev = 0;
    if (type < 0) type = ZR_RANK;
    q->type = type;
    q->rev = rev;
    if (q->limit != -1 && type == ZR_RANK) {
        rw_error(r, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
                    "or BYLEX");
        return -1;
    }
    if (q->withscores && type == ZR_LEX) {
        rw_error(r, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return -1;
    }
    if (rev && type != ZR_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    if (type == ZR_RANK) {
        if (arg_long_or_reply(r, &argv[minidx], &q->start) < 0) return -1;
        if (arg_long_or_reply(r, &argv[maxidx], &q->end) < 0) return -1;
    } else if (type == ZR_SCORE) {
        if (parse_score_range(&argv[minidx], &argv[maxidx], &q->sr) < 0) {
            rw_error(r, ERR_MINMAX_FLOAT);
            return -1;
        }
    } else if (parse_lex_range(&argv[minidx], &argv[maxidx], &q->lr) < 0) {
        rw_error(r, ERR_MINMAX_LEX);
        return -1;
    }
    return 0;
}

/* Run request q over zset o (NULL: absent) into ps. */
static void zrange_run(const obj *o, const zrange_req *q, pair_sink *ps) {
    if (o == NULL) return;
    long long len = (long long)zset_len(o);
    if (q->type == ZR_RANK) {
        long long s = q->start, e = q->end;
        if (clamp_ranks(&s, &e, len))
            zset_range_rank(o, (long)s, (long)e, q->rev, pair_sink_visit, ps);
        return;
    }
    /* A negative offset skips everything; one past the end finds nothing. */
    if (q->offset < 0 || (q->offset > 0 && q->offset >= len)) return;
    if (q->type == ZR_SCORE)
        zset_range_score(o, &q->sr, q->rev, (long)q->offset, (long)q->limit, pair_sink_visit, ps);
    else
        zset_range_lex(o, &q->lr, q->rev, (long)q->offset, (long)q->limit, pair_sink_visit, ps);
}

static void zrange_generic(rt_ctx *c, int type, int rev) {
    zrange_req q;
    if (zrange_parse(c->reply, c->argc, c->argv, 1, type, rev, 0, &q) < 0) return;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rbuf body;
    rb_init(&body, c->reply->resp);
    pair_sink ps = {&body, q.withscores, 0, NULL, NULL};
    zrange_run(o, &q, &ps);
    reply_pairs_header(c->reply, ps.n, q.withscores);
    rb_append(c->reply, body.buf, body.len);
    rb_free(&body);
}

static void cmd_zrange(rt_ctx *c) {
    zrange_generic(c, -1, -1);
}
static void cmd_zrevrange(rt_ctx *c) {
    zrange_generic(c, ZR_RANK, 1);
}
static void cmd_zrangebyscore(rt_ctx *c) {
    zrange_generic(c, ZR_SCORE, 0);
}
static void cmd_zrevrangebyscore(rt_ctx *c) {
    zrange_generic(c, ZR_SCORE, 1);
}
static void cmd_zrangebylex(rt_ctx *c) {
    zrange_generic(c, ZR_LEX, 0);
}
static void cmd_zrevrangebylex(rt_ctx *c) {
    zrange_generic(c, ZR_LEX, 1);
}

/* ZRANGESTORE's result for source o (NULL: absent), as Redis builds it:
 * a listpack unless a rank range is known to be longer than the limit. */
static obj *zrangestore_build(const obj *o, const zrange_req *q, const store_enc *enc) {
    obj *dst = zset_new_listpack();
    if (o && q->type == ZR_RANK) {
        long long s = q->start, e = q->end;
        if (clamp_ranks(&s, &e, (long long)zset_len(o)) &&
            e - s + 1 > enc->zset_max_listpack_entries) {
            obj_free(dst);
            dst = zset_new_skiplist();
        }
    }
    pair_sink ps = {NULL, 0, 0, dst, enc};
    zrange_run(o, q, &ps);
    return dst;
}

static void cmd_zrangestore(rt_ctx *c) {
    zrange_req q;
    if (zrange_parse(c->reply, c->argc, c->argv, 2, -1, -1, 1, &q) < 0) return;
    obj *o;
    if (lookup_read(c, &c->argv[2], OBJ_ZSET, &o, c->reply) < 0) return;
    obj *dst = zrangestore_build(o, &q, &ctx_store(c)->enc);
    long long n = (long long)zset_len(dst);
    store_result(c, &c->argv[1], dst);
    rw_int(c->reply, n);
}

/* ---------------------------------------------------------------------- */
/* Source values copied out of their shards (multi bodies). */

enum { SRC_MISSING = 0, SRC_VALUE = 1, SRC_WRONGTYPE = 2 };

typedef struct src_copy {
    int state; /* SRC_* */
    obj *o;    /* SRC_VALUE: a duplicate owned by the tx */
} src_copy;

/* Which argv indexes are sources, per command (state of the gather step). */
typedef struct gather_spec {
    int first, n;   /* sources are argv[first .. first+n) */
    int allow_sets; /* sets are accepted (as members with score 1) */
} gather_spec;

/* Step on one shard: duplicate the part's source values. part.ptr gets an
 * array of nkeys src_copy (freed by copies_free). */
static void op_gather(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    const gather_spec *gs = tx->state;
    src_copy *cp = calloc((size_t)pt->nkeys + 1, sizeof(src_copy));
    if (cp == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        int idx = pt->keys[k];
        if (idx < gs->first || idx >= gs->first + gs->n) continue;
        obj *o = lookup_read_any(c, &tx->argv[idx]);
        if (o == NULL) continue;
        if (o->type == OBJ_ZSET || (gs->allow_sets && o->type == OBJ_SET)) {
            cp[k].state = SRC_VALUE;
            cp[k].o = obj_dup(o);
        } else {
            cp[k].state = SRC_WRONGTYPE;
        }
    }
    pt->ptr = cp;
}

/* The copies indexed by argv index: a calloc'd array of argc pointers the
 * caller frees (entries borrow from the parts). */
static src_copy **copies_by_arg(rt_tx *tx) {
    src_copy **by = calloc((size_t)tx->argc, sizeof(src_copy *));
    if (by == NULL) abort();
    for (int p = 0; p < tx->nparts; p++) {
        src_copy *cp = tx->part[p].ptr;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            by[tx->part[p].keys[k]] = &cp[k];
    }
    return by;
}

static void copies_free(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        src_copy *cp = tx->part[p].ptr;
        if (cp == NULL) continue;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            obj_free(cp[k].o);
        free(cp);
        tx->part[p].ptr = NULL;
    }
}

/* The part index holding argv index idx. */
static int part_of_arg(rt_tx *tx, int idx) {
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (tx->part[p].keys[k] == idx) return p;
    return 0;
}

/* A result travelling to the destination's shard (tx->state of the store
 * step), and the reply count. For ZRANGESTORE the result is built there
 * from the source's copy (src), with the destination's thresholds. */
typedef struct store_job {
    gather_spec gs; /* first: op_gather reads tx->state as a gather_spec */
    obj *res;
    long long n;
    int dst_idx;
    const obj *src; /* ZRANGESTORE: the source copy (owned by a part) */
    zrange_req q;   /* ZRANGESTORE: the request */
    int rangestore;
} store_job;

static void op_store_result(rt_ctx *c) {
    store_job *sj = c->tx->state;
    if (sj->rangestore) {
        sj->res = zrangestore_build(sj->src, &sj->q, &ctx_store(c)->enc);
        sj->n = (long long)zset_len(sj->res);
    } else if (sj->res) {
        zset_fit_encoding(sj->res, &ctx_store(c)->enc);
    }
    store_result(c, &c->tx->argv[sj->dst_idx], sj->res);
    sj->res = NULL;
}

static void store_finish(rt_tx *tx) {
    store_job *sj = tx->state;
    rw_int(&tx->reply, sj->n);
    copies_free(tx);
    free(sj);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* ---------------------------------------------------------------------- */
/* ZRANGESTORE over shards. */

static void zrangestore_after_gather(rt_tx *tx) {
    store_job *sj = tx->state;
    src_copy **by = copies_by_arg(tx);
    src_copy *src = by[2];
    free(by);
    if (src && src->state == SRC_WRONGTYPE) {
        rw_error(&tx->reply, ERR_WRONGTYPE);
        copies_free(tx);
        free(sj);
        tx->state = NULL;
        rt_tx_done(tx);
        return;
    }
    sj->src = src ? src->o : NULL;
    rt_tx_run_one(tx, part_of_arg(tx, 1), op_store_result, store_finish);
}

static void cmd_zrangestore_multi(rt_tx *tx) {
    store_job *sj = calloc(1, sizeof(*sj));
    if (sj == NULL) abort();
    if (zrange_parse(&tx->reply, tx->argc, tx->argv, 2, -1, -1, 1, &sj->q) < 0) {
        free(sj);
        rt_tx_done(tx);
        return;
    }
    sj->rangestore = 1;
    sj->gs = (gather_spec){2, 1, 0};
    sj->dst_idx = 1;
    tx->state = sj;
    rt_tx_run(tx, op_gather, zrangestore_after_gather);
}

/* ---------------------------------------------------------------------- */
/* ZPOPMIN, ZPOPMAX, ZMPOP. */

/* Pop up to count members of zset o (at key) from its min or max end,
 * replying as Redis does: flat pairs, or nested pairs when `nested`;
 * emitkey adds ZMPOP's [key, [...]] wrapper. Deletes the key when emptied. */
static void zpop_from(rt_ctx *c, rbuf *r, const rt_arg *key, obj *o, int max, long long count,
                      int nested, int emitkey) {
    long long len = (long long)zset_len(o);
    long long n = count > len ? len : count;
    if (emitkey) {
        rw_array(r, 2);
        rw_bulk(r, key->p, key->len);
        rw_array(r, n);
    } else {
        rw_array(r, nested ? n : n * 2);
    }
    for (long long i = 0; i < n; i++) {
        member_copy mc;
        long at = max ? (long)zset_len(o) - 1 : 0;
        zset_range_rank(o, at, at, 0, member_copy_visit, &mc);
        zset_del(o, mc.m, mc.ml);
        if (nested) rw_array(r, 2);
        rw_bulk(r, mc.m, mc.ml);
        rw_double(r, mc.score);
        free(mc.m);
    }
    ss_dirty(c, (uint64_t)n);
    if (zset_len(o) == 0) db_del(ctx_cdb(c), key->p, key->len);
}

static void zpop_generic(rt_ctx *c, int max) {
    rbuf *r = c->reply;
    if (c->argc > 3) {
        rw_error(r, ERR_SYNTAX);
        return;
    }
    long long count = -1;
    if (c->argc == 3 && arg_range_or_reply(r, &c->argv[2], 0, LONG_MAX, &count,
                                           "ERR value is out of range, must be positive") < 0)
        return;
    int nested = r->resp >= 3 && count != -1;
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) return;
    if (o == NULL || count == 0) {
        rw_array(r, 0);
        return;
    }
    zpop_from(c, r, &c->argv[1], o, max, count == -1 ? 1 : count, nested, 0);
}

static void cmd_zpopmin(rt_ctx *c) {
    zpop_generic(c, 0);
}
static void cmd_zpopmax(rt_ctx *c) {
    zpop_generic(c, 1);
}

static int keys_numkeys_at(int argc, const rt_arg *argv, int nk_idx, int *keys, int extra_first) {
    long long nk;
    if (!util_str2ll(argv[nk_idx].p, argv[nk_idx].len, &nk) || nk < 1 || nk > argc - nk_idx - 1)
        return 0;
    int n = 0;
    if (extra_first) keys[n++] = extra_first;
    for (int j = 0; j < (int)nk; j++)
        keys[n++] = nk_idx + 1 + j;
    return n;
}

/* ZMPOP numkeys key... MIN|MAX [COUNT n]: the keys. */
static int keys_zmpop(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    return keys_numkeys_at(argc, argv, 1, keys, 0);
}

/* Parse ZMPOP in Redis's order of checks. Returns 0, or -1 after replying. */
static int zmpop_parse(rbuf *r, int argc, const rt_arg *argv, int *numkeys, int *max,
                       long long *count) {
    long long nk;
    if (arg_range_or_reply(r, &argv[1], 1, LONG_MAX, &nk, "ERR numkeys should be greater than 0") <
        0)
        return -1;
    long long where_idx = 2 + nk;
    if (where_idx >= argc) {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    if (arg_is(&argv[where_idx], "min")) {
        *max = 0;
    } else if (arg_is(&argv[where_idx], "max")) {
        *max = 1;
    } else {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    *count = -1;
    for (int j = (int)where_idx + 1; j < argc; j++) {
        if (*count == -1 && arg_is(&argv[j], "count") && j < argc - 1) {
            j++;
            if (arg_range_or_reply(r, &argv[j], 1, LONG_MAX, count,
                                   "ERR count should be greater than 0") < 0)
                return -1;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    *numkeys = (int)nk;
    return 0;
}

static void cmd_zmpop(rt_ctx *c) {
    int numkeys, max;
    long long count;
    if (zmpop_parse(c->reply, c->argc, c->argv, &numkeys, &max, &count) < 0) return;
    for (int j = 0; j < numkeys; j++) {
        obj *o;
        if (lookup_write(c, &c->argv[2 + j], OBJ_ZSET, &o, c->reply) < 0) return;
        if (o == NULL) continue;
        zpop_from(c, c->reply, &c->argv[2 + j], o, max, count, 1, 1);
        return;
    }
    rw_null_array(c->reply);
}

/* ZMPOP over shards: find the first zset in argument order, then pop it. */
typedef struct zmpop_state {
    int max;
    long long count;
    int key_idx; /* argv index of the key to pop */
} zmpop_state;

/* Step on each shard: part.n gets, per key of the part, 2 bits of state
 * (SRC_*), key k at bits 2k..2k+1 (keys beyond 31 per part use part.ptr). */
static void op_zmpop_check(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    int *st = calloc((size_t)pt->nkeys + 1, sizeof(int));
    if (st == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        obj *o = db_find(ctx_cdb(c), tx->argv[pt->keys[k]].p, tx->argv[pt->keys[k]].len);
        st[k] = o == NULL ? SRC_MISSING : (o->type == OBJ_ZSET ? SRC_VALUE : SRC_WRONGTYPE);
    }
    pt->ptr = st;
}

static void op_zmpop_pop(rt_ctx *c) {
    rt_tx *tx = c->tx;
    zmpop_state *zs = tx->state;
    const rt_arg *key = &tx->argv[zs->key_idx];
    obj *o = db_find(ctx_cdb(c), key->p, key->len);
    zpop_from(c, &tx->part[c->part].out, key, o, zs->max, zs->count, 1, 1);
}

static void zmpop_finish(rt_tx *tx) {
    zmpop_state *zs = tx->state;
    rt_part *pt = &tx->part[part_of_arg(tx, zs->key_idx)];
    rb_append(&tx->reply, pt->out.buf, pt->out.len);
    free(zs);
    tx->state = NULL;
    rt_tx_done(tx);
}

static void zmpop_after_check(rt_tx *tx) {
    zmpop_state *zs = tx->state;
    int *by = calloc((size_t)tx->argc, sizeof(int));
    if (by == NULL) abort();
    for (int p = 0; p < tx->nparts; p++) {
        int *st = tx->part[p].ptr;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            by[tx->part[p].keys[k]] = st[k];
        free(st);
        tx->part[p].ptr = NULL;
    }
    long long nk = 0;
    util_str2ll(tx->argv[1].p, tx->argv[1].len, &nk);
    int found = -1, wrong = 0;
    for (int j = 0; j < (int)nk && found < 0 && !wrong; j++) {
        if (by[2 + j] == SRC_WRONGTYPE) wrong = 1;
        if (by[2 + j] == SRC_VALUE) found = 2 + j;
    }
    free(by);
    if (wrong || found < 0) {
        if (wrong)
            rw_error(&tx->reply, ERR_WRONGTYPE);
        else
            rw_null_array(&tx->reply);
        free(zs);
        tx->state = NULL;
        rt_tx_done(tx);
        return;
    }
    zs->key_idx = found;
    rt_tx_run_one(tx, part_of_arg(tx, found), op_zmpop_pop, zmpop_finish);
}

static void cmd_zmpop_multi(rt_tx *tx) {
    zmpop_state *zs = calloc(1, sizeof(*zs));
    if (zs == NULL) abort();
    int numkeys;
    if (zmpop_parse(&tx->reply, tx->argc, tx->argv, &numkeys, &zs->max, &zs->count) < 0) {
        free(zs);
        rt_tx_done(tx);
        return;
    }
    tx->state = zs;
    rt_tx_run(tx, op_zmpop_check, zmpop_after_check);
}

/* ---------------------------------------------------------------------- */
/* ZRANDMEMBER. */

static __thread uint64_t zrand_state;

static uint64_t *zrand_rng(void) {
    if (zrand_state == 0)
        zrand_state = (uint64_t)util_ustime() ^ ((uint64_t)(uintptr_t)&zrand_state << 16) ^ 1;
    return &zrand_state;
}

static void zrandmember_count(rt_ctx *c, long long l, int withscores) {
    rbuf *r = c->reply;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) return;
    if (o == NULL || l == 0) {
        rw_array(r, 0);
        return;
    }
    uint64_t *rng = zrand_rng();
    size_t size = zset_len(o);
    if (l < 0 || l == 1) {
        /* With repetitions (or a single member): independent picks. */
        unsigned long long count = l < 0 ? (unsigned long long)-l : 1;
        reply_pairs_header(r, (long)count, withscores);
        char buf[32];
        for (unsigned long long i = 0; i < count; i++) {
            const char *m;
            size_t ml;
            double s;
            zset_random(o, rng, buf, &m, &ml, &s);
            reply_pair(r, m, ml, s, withscores);
        }
        return;
    }
    pair_sink ps = {r, withscores, 0, NULL, NULL};
    if ((unsigned long long)l >= size) {
        /* The whole zset, highest first (Redis walks it from the tail). */
        reply_pairs_header(r, (long)size, withscores);
        zset_range_rank(o, 0, (long)size - 1, 1, pair_sink_visit, &ps);
        return;
    }
    /* Distinct ranks: a partial Fisher-Yates shuffle of 0..size-1. */
    size_t count = (size_t)l;
    size_t *idx = malloc(sizeof(size_t) * size);
    if (idx == NULL) abort();
    for (size_t i = 0; i < size; i++)
        idx[i] = i;
    reply_pairs_header(r, (long)count, withscores);
    for (size_t i = 0; i < count; i++) {
        size_t j = i + (size_t)(util_rand_next(rng) % (size - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        zset_range_rank(o, (long)idx[i], (long)idx[i], 0, pair_sink_visit, &ps);
    }
    free(idx);
}

static void cmd_zrandmember(rt_ctx *c) {
    rbuf *r = c->reply;
    if (c->argc >= 3) {
        long long l;
        if (arg_range_or_reply(r, &c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) < 0) return;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withscores"))) {
            rw_error(r, ERR_SYNTAX);
            return;
        }
        if (c->argc == 4 && (l < -LONG_MAX / 2 || l > LONG_MAX / 2)) {
            rw_error(r, "ERR value is out of range");
            return;
        }
        zrandmember_count(c, l, c->argc == 4);
        return;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) return;
    if (o == NULL) {
        rw_null(r);
        return;
    }
    char buf[32];
    const char *m;
    size_t ml;
    double s;
    zset_random(o, zrand_rng(), buf, &m, &ml, &s);
    rw_bulk(r, m, ml);
}

/* ---------------------------------------------------------------------- */
/* ZSCAN. */

typedef struct zscan_acc {
    const scan_opts *so;
    rbuf body; /* member, score, ... */
    long n;    /* members visited (before MATCH) */
    long kept; /* members written */
    int listpack;
} zscan_acc;

static void zscan_visit(void *priv, const char *m, size_t ml, double score) {
    zscan_acc *za = priv;
    za->n++;
    if (za->so->pat && !util_globmatch(za->so->pat, za->so->plen, m, ml, 0)) return;
    char buf[64];
    int n;
    if (za->listpack)
        n = zset_score_text(buf, sizeof(buf), score);
    else if (isinf(score))
        n = snprintf(buf, sizeof(buf), "%s", score > 0 ? "inf" : "-inf");
    else
        n = snprintf(buf, sizeof(buf), "%.17Lg", (long double)score);
    rw_bulk(&za->body, m, ml);
    rw_bulk(&za->body, buf, (size_t)n);
    za->kept++;
}

static void cmd_zscan(rt_ctx *c) {
    rbuf *r = c->reply;
    uint64_t cursor;
    if (arg_cursor_or_reply(&c->argv[2], &cursor, r) < 0) return;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, r) < 0) return;
    scan_opts so;
    if (o == NULL) {
        rw_array(r, 2);
        rw_bulk(r, "0", 1);
        rw_array(r, 0);
        return;
    }
    if (scan_opts_or_reply(c->argc, c->argv, 3, &so, r) < 0) return;
    zscan_acc za = {&so, {0}, 0, 0, o->enc == OBJ_ENC_LISTPACK};
    rb_init(&za.body, r->resp);
    if (o->enc == OBJ_ENC_LISTPACK) {
        zset_foreach(o, zscan_visit, &za);
        cursor = 0;
    } else {
        long long maxiter = so.count * 20;
        do {
            cursor = zset_scan(o, cursor, zscan_visit, &za);
        } while (cursor && maxiter-- && za.n < so.count);
    }
    char cbuf[32];
    int cl = snprintf(cbuf, sizeof(cbuf), "%llu", (unsigned long long)cursor);
    rw_array(r, 2);
    rw_bulk(r, cbuf, (size_t)cl);
    rw_array(r, za.kept * 2);
    rb_append(r, za.body.buf, za.body.len);
    rb_free(&za.body);
}

/* ---------------------------------------------------------------------- */
/* ZUNION, ZINTER, ZDIFF, ZINTERCARD and the *STORE forms. */

enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct zalg {
    int op;
    int store;     /* destination at argv[1] */
    int card;      /* ZINTERCARD */
    int nk_idx;    /* argv index of numkeys */
    int first, nk; /* sources argv[first .. first+nk) */
    double *w;     /* nk weights (malloc'd) */
    int aggr;
    int withscores;
    long long limit;
} zalg;

/* The variant named by argv[0]. */
static void zalg_kind(const rt_arg *name, zalg *z) {
    memset(z, 0, sizeof(*z));
    z->store = name->len > 5 && strncasecmp(name->p + name->len - 5, "store", 5) == 0;
    z->card = arg_is(name, "zintercard");
    if (name->len >= 6 && strncasecmp(name->p, "zunion", 6) == 0)
        z->op = ZOP_UNION;
    else if (name->len >= 6 && strncasecmp(name->p, "zinter", 6) == 0)
        z->op = ZOP_INTER;
    else
        z->op = ZOP_DIFF;
    z->nk_idx = z->store ? 2 : 1;
    z->first = z->nk_idx + 1;
}

/* numkeys, with Redis's checks. Returns 0, or -1 after replying. */
static int zalg_parse_numkeys(rbuf *r, int argc, const rt_arg *argv, zalg *z) {
    long long nk;
    if (arg_long_or_reply(r, &argv[z->nk_idx], &nk) < 0) return -1;
    if (nk < 1) {
        char name[32];
        size_t n = argv[0].len < sizeof(name) - 1 ? argv[0].len : sizeof(name) - 1;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)((argv[0].p[i] >= 'A' && argv[0].p[i] <= 'Z') ? argv[0].p[i] + 32
                                                                          : argv[0].p[i]);
        name[n] = '\0';
        rw_errorf(r, "ERR at least 1 input key is needed for '%s' command", name);
        return -1;
    }
    if (nk > argc - z->first) {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    z->nk = (int)nk;
    return 0;
}

/* The options after the sources. Returns 0, or -1 after replying. */
static int zalg_parse_opts(rbuf *r, int argc, const rt_arg *argv, zalg *z) {
    z->w = malloc(sizeof(double) * (size_t)z->nk);
    if (z->w == NULL) abort();
    for (int i = 0; i < z->nk; i++)
        z->w[i] = 1.0;
    z->aggr = AGG_SUM;
    int j = z->first + z->nk;
    while (j < argc) {
        int remaining = argc - j;
        if (z->op != ZOP_DIFF && !z->card && remaining >= z->nk + 1 &&
            arg_is(&argv[j], "weights")) {
            j++;
            for (int i = 0; i < z->nk; i++, j++)
                if (arg_double_or_reply(r, &argv[j], &z->w[i], "ERR weight value is not a float") <
                    0)
                    return -1;
        } else if (z->op != ZOP_DIFF && !z->card && remaining >= 2 &&
                   arg_is(&argv[j], "aggregate")) {
            j++;
            if (arg_is(&argv[j], "sum"))
                z->aggr = AGG_SUM;
            else if (arg_is(&argv[j], "min"))
                z->aggr = AGG_MIN;
            else if (arg_is(&argv[j], "max"))
                z->aggr = AGG_MAX;
            else {
                rw_error(r, ERR_SYNTAX);
                return -1;
            }
            j++;
        } else if (!z->store && !z->card && arg_is(&argv[j], "withscores")) {
            j++;
            z->withscores = 1;
        } else if (z->card && remaining >= 2 && arg_is(&argv[j], "limit")) {
            j++;
            if (arg_range_or_reply(r, &argv[j], 0, LONG_MAX, &z->limit,
                                   "ERR LIMIT can't be negative") < 0)
                return -1;
            j++;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

static void aggregate(double *target, double v, int aggr) {
    if (aggr == AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0.0;
    } else if (aggr == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

static size_t src_len(const obj *o) {
    if (o == NULL) return 0;
    return o->type == OBJ_ZSET ? zset_len(o) : set_len(o);
}

/* Score of m in source o (a set's members score 1). Returns 1 if present. */
static int src_score(const obj *o, const char *m, size_t ml, double *s) {
    if (o == NULL) return 0;
    if (o->type == OBJ_ZSET) return zset_score(o, m, ml, s);
    if (!set_contains(o, m, ml)) return 0;
    *s = 1.0;
    return 1;
}

/* Visit every member of source o with its score. */
static void src_foreach(const obj *o, zset_visit_fn fn, void *priv) {
    if (o == NULL) return;
    if (o->type == OBJ_ZSET) {
        zset_foreach(o, fn, priv);
        return;
    }
    set_iter it;
    set_member m;
    set_iter_init(&it, o);
    while (set_iter_next(&it, &m))
        fn(priv, m.p, m.len, 1.0);
}

/* The state of one algebra computation. */
typedef struct zalg_run {
    const zalg *z;
    const obj **src; /* sources, in computation order */
    const double *w; /* their weights */
    int n;
    obj *res;    /* the result (skiplist), unless counting */
    dict *acc;   /* ZUNION's accumulator */
    double wcur; /* weight of the source being iterated */
    unsigned long long card;
    int stop;
} zalg_run;

static void inter_visit(void *priv, const char *m, size_t ml, double s0) {
    zalg_run *ar = priv;
    if (ar->stop) return;
    double score = ar->w[0] * s0;
    if (isnan(score)) score = 0;
    int j;
    for (j = 1; j < ar->n; j++) {
        double v;
        if (!src_score(ar->src[j], m, ml, &v)) break;
        aggregate(&score, v * ar->w[j], ar->z->aggr);
    }
    if (j < ar->n) return;
    if (ar->z->card) {
        ar->card++;
        if (ar->z->limit && ar->card >= (unsigned long long)ar->z->limit) ar->stop = 1;
        return;
    }
    int res;
    zset_add(ar->res, &zs_enc_big, score, m, ml, 0, &res, NULL);
}

static void union_visit(void *priv, const char *m, size_t ml, double s) {
    zalg_run *ar = priv;
    double score = ar->wcur * s;
    if (isnan(score)) score = 0;
    int added;
    dict_entry *e = dict_add(ar->acc, m, ml, &added);
    if (added)
        e->v.d = score;
    else
        aggregate(&e->v.d, score, ar->z->aggr);
}

static void diff_visit(void *priv, const char *m, size_t ml, double s) {
    zalg_run *ar = priv;
    for (int j = 1; j < ar->n; j++) {
        double v;
        if (src_score(ar->src[j], m, ml, &v)) return;
    }
    int res;
    zset_add(ar->res, &zs_enc_big, s, m, ml, 0, &res, NULL);
}

/* Compute z over the sources srcs[0..nk) (NULL: absent) in argument order.
 * Returns the result zset (skiplist) or, for ZINTERCARD, NULL with *card
 * set. */
static obj *zalg_compute(const zalg *z, const obj **srcs, unsigned long long *card) {
    int n = z->nk;
    const obj **src = malloc(sizeof(obj *) * (size_t)n);
    double *w = malloc(sizeof(double) * (size_t)n);
    if (src == NULL || w == NULL) abort();
    for (int i = 0; i < n; i++) {
        src[i] = srcs[i];
        w[i] = z->w[i];
    }
    if (z->op != ZOP_DIFF) {
        /* Smallest first, stable (the order the scores are combined in). */
        for (int i = 1; i < n; i++) {
            const obj *so = src[i];
            double sw = w[i];
            int j = i;
            while (j > 0 && src_len(src[j - 1]) > src_len(so)) {
                src[j] = src[j - 1];
                w[j] = w[j - 1];
                j--;
            }
            src[j] = so;
            w[j] = sw;
        }
    }
    zalg_run ar = {z, src, w, n, NULL, NULL, 1.0, 0, 0};
    if (!z->card) ar.res = zset_new_skiplist();
    if (z->op == ZOP_INTER) {
        if (src_len(src[0]) > 0) src_foreach(src[0], inter_visit, &ar);
    } else if (z->op == ZOP_DIFF) {
        if (src_len(src[0]) > 0) src_foreach(src[0], diff_visit, &ar);
    } else {
        ar.acc = dict_new();
        for (int i = 0; i < n; i++) {
            ar.wcur = w[i];
            src_foreach(src[i], union_visit, &ar);
        }
        dict_iter it;
        dict_iter_init(&it, ar.acc);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL) {
            int res;
            zset_add(ar.res, &zs_enc_big, e->v.d, e->key, e->klen, 0, &res, NULL);
        }
        dict_free(ar.acc, NULL);
    }
    free(src);
    free(w);
    *card = ar.card;
    return ar.res;
}

/* After the sources are known (srcs in argument order, state SRC_* each):
 * check types, parse the options and compute. Replies errors and the
 * non-store results into r. Returns 1 with *res set for a store (res may
 * be empty), 0 when the reply is complete. */
static int zalg_finish(rbuf *r, int argc, const rt_arg *argv, zalg *z, const obj **srcs,
                       const int *state, obj **res) {
    *res = NULL;
    for (int i = 0; i < z->nk; i++) {
        if (state[i] == SRC_WRONGTYPE) {
            rw_error(r, ERR_WRONGTYPE);
            return 0;
        }
    }
    if (zalg_parse_opts(r, argc, argv, z) < 0) return 0;
    unsigned long long card;
    obj *o = zalg_compute(z, srcs, &card);
    if (z->store) {
        *res = o;
        return 1;
    }
    if (z->card) {
        rw_int(r, (long long)card);
        return 0;
    }
    pair_sink ps = {r, z->withscores, 0, NULL, NULL};
    reply_pairs_header(r, (long)zset_len(o), z->withscores);
    zset_foreach(o, pair_sink_visit, &ps);
    obj_free(o);
    return 0;
}

static void cmd_zalg(rt_ctx *c) {
    zalg z;
    zalg_kind(&c->argv[0], &z);
    if (zalg_parse_numkeys(c->reply, c->argc, c->argv, &z) < 0) return;
    const obj **srcs = calloc((size_t)z.nk, sizeof(obj *));
    int *state = calloc((size_t)z.nk, sizeof(int));
    if (srcs == NULL || state == NULL) abort();
    for (int i = 0; i < z.nk; i++) {
        obj *o = lookup_read_any(c, &c->argv[z.first + i]);
        if (o == NULL) continue;
        if (o->type != OBJ_ZSET && o->type != OBJ_SET) {
            state[i] = SRC_WRONGTYPE;
            break;
        }
        state[i] = SRC_VALUE;
        srcs[i] = o;
    }
    obj *res;
    if (zalg_finish(c->reply, c->argc, c->argv, &z, srcs, state, &res)) {
        zset_fit_encoding(res, &ctx_store(c)->enc);
        long long n = (long long)zset_len(res);
        store_result(c, &c->argv[1], res);
        rw_int(c->reply, n);
    }
    free(z.w);
    free(srcs);
    free(state);
}

static int keys_zalg(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    return keys_numkeys_at(argc, argv, 1, keys, 0);
}

static int keys_zalg_store(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    return keys_numkeys_at(argc, argv, 2, keys, 1);
}

static void zalg_after_gather(rt_tx *tx) {
    store_job *sj = tx->state;
    zalg z;
    zalg_kind(&tx->argv[0], &z);
    zalg_parse_numkeys(&tx->reply, tx->argc, tx->argv, &z);
    src_copy **by = copies_by_arg(tx);
    const obj **srcs = calloc((size_t)z.nk, sizeof(obj *));
    int *state = calloc((size_t)z.nk, sizeof(int));
    if (srcs == NULL || state == NULL) abort();
    for (int i = 0; i < z.nk; i++) {
        src_copy *cp = by[z.first + i];
        state[i] = cp ? cp->state : SRC_MISSING;
        srcs[i] = cp ? cp->o : NULL;
    }
    free(by);
    obj *res;
    int store = zalg_finish(&tx->reply, tx->argc, tx->argv, &z, srcs, state, &res);
    free(z.w);
    free(srcs);
    free(state);
    copies_free(tx);
    if (!store) {
        free(sj);
        tx->state = NULL;
        rt_tx_done(tx);
        return;
    }
    sj->res = res;
    sj->n = (long long)zset_len(res);
    rt_tx_run_one(tx, part_of_arg(tx, 1), op_store_result, store_finish);
}

static void cmd_zalg_multi(rt_tx *tx) {
    zalg z;
    zalg_kind(&tx->argv[0], &z);
    if (zalg_parse_numkeys(&tx->reply, tx->argc, tx->argv, &z) < 0) {
        rt_tx_done(tx);
        return;
    }
    store_job *sj = calloc(1, sizeof(*sj));
    if (sj == NULL) abort();
    sj->gs = (gather_spec){z.first, z.nk, 1};
    sj->dst_idx = 1;
    tx->state = sj;
    rt_tx_run(tx, op_gather, zalg_after_gather);
}

/* ---------------------------------------------------------------------- */

#define RO_FAST (CMD_READONLY | CMD_FAST)
#define W_DENY_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)

cmd_def cmd_rows_zset[] = {
    KEYS("zadd", -4, W_DENY_FAST, 1, 1, 1, cmd_zadd, NULL),
    KEYS("zincrby", 4, W_DENY_FAST, 1, 1, 1, cmd_zincrby, NULL),
    KEYS("zrem", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_zrem, NULL),
    KEYS("zcard", 2, RO_FAST, 1, 1, 1, cmd_zcard, NULL),
    KEYS("zscore", 3, RO_FAST, 1, 1, 1, cmd_zscore, NULL),
    KEYS("zmscore", -3, RO_FAST, 1, 1, 1, cmd_zmscore, NULL),
    KEYS("zrank", 3, RO_FAST, 1, 1, 1, cmd_zrank, NULL),
    KEYS("zrevrank", 3, RO_FAST, 1, 1, 1, cmd_zrevrank, NULL),
    KEYS("zcount", 4, RO_FAST, 1, 1, 1, cmd_zcount, NULL),
    KEYS("zlexcount", 4, RO_FAST, 1, 1, 1, cmd_zlexcount, NULL),
    KEYS("zrange", -4, CMD_READONLY, 1, 1, 1, cmd_zrange, NULL),
    KEYS("zrevrange", -4, CMD_READONLY, 1, 1, 1, cmd_zrevrange, NULL),
    KEYS("zrangebyscore", -4, CMD_READONLY, 1, 1, 1, cmd_zrangebyscore, NULL),
    KEYS("zrevrangebyscore", -4, CMD_READONLY, 1, 1, 1, cmd_zrevrangebyscore, NULL),
    KEYS("zrangebylex", -4, CMD_READONLY, 1, 1, 1, cmd_zrangebylex, NULL),
    KEYS("zrevrangebylex", -4, CMD_READONLY, 1, 1, 1, cmd_zrevrangebylex, NULL),
    KEYS("zrangestore", -5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, cmd_zrangestore,
         cmd_zrangestore_multi),
    KEYS("zremrangebyrank", 4, CMD_WRITE, 1, 1, 1, cmd_zremrangebyrank, NULL),
    KEYS("zremrangebyscore", 4, CMD_WRITE, 1, 1, 1, cmd_zremrangebyscore, NULL),
    KEYS("zremrangebylex", 4, CMD_WRITE, 1, 1, 1, cmd_zremrangebylex, NULL),
    KEYS("zpopmin", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_zpopmin, NULL),
    KEYS("zpopmax", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_zpopmax, NULL),
    KEYS_GK("zmpop", -4, CMD_WRITE | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_zmpop, cmd_zmpop_multi,
            keys_zmpop),
    KEYS("zrandmember", -2, CMD_READONLY, 1, 1, 1, cmd_zrandmember, NULL),
    KEYS("zscan", -3, CMD_READONLY, 1, 1, 1, cmd_zscan, NULL),
    KEYS_GK("zunion", -3, CMD_READONLY | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_zalg, cmd_zalg_multi,
            keys_zalg),
    KEYS_GK("zinter", -3, CMD_READONLY | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_zalg, cmd_zalg_multi,
            keys_zalg),
    KEYS_GK("zdiff", -3, CMD_READONLY | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_zalg, cmd_zalg_multi,
            keys_zalg),
    KEYS_GK("zintercard", -3, CMD_READONLY | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_zalg, cmd_zalg_multi,
            keys_zalg),
    KEYS_GK("zunionstore", -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1, cmd_zalg,
            cmd_zalg_multi, keys_zalg_store),
    KEYS_GK("zinterstore", -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1, cmd_zalg,
            cmd_zalg_multi, keys_zalg_store),
    KEYS_GK("zdiffstore", -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1, cmd_zalg,
            cmd_zalg_multi, keys_zalg_store),
    END,
};
