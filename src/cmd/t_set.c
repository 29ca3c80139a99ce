/* t_set.c -- the set commands (SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE
 * SUNIONSTORE SDIFFSTORE SSCAN) with Redis 7.0's replies, errors and
 * encoding conversions, and their rows of the command table.
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys. SMOVE and the set-algebra commands also have a *_multi
 * body for keys on several shards; it runs on the coordinator shard and
 * sends op_* steps to the parts' shards (rt_tx_run / rt_tx_run_one). Each op
 * touches only its own shard's store and its own tx part, except the single
 * op of an rt_tx_run_one step, which may update tx->state because nothing
 * else runs meanwhile. Source sets travel to the coordinator as duplicates
 * (obj_dup) made on their shard; a *STORE result travels from the
 * coordinator to the destination's shard, whose store takes it over. No
 * pointer into a live store ever reaches another thread. The shards stay
 * held from the first step to the reply, so every such command is atomic.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../store/set.h"
#include "cmd_rows.h"

#define SET_ERR_NOT_POSITIVE "ERR value is out of range, must be positive"

/* How much smaller than the set the remainder must be for SPOP to rebuild
 * the set from the remaining members instead of popping one by one, and
 * how much bigger than the count the set must be for SRANDMEMBER to sample
 * instead of thinning a full copy (Redis's strategy switches; they decide
 * the encoding SPOP leaves behind). */
#define SPOP_REBUILD_MUL 5
#define SRANDMEMBER_SAMPLE_MUL 3

static long long max_intset(rt_ctx *c) {
    return ctx_store(c)->enc.set_max_intset_entries;
}

static void reply_member(rbuf *r, const set_member *m) {
    rw_bulk(r, m->p, m->len);
}

/* The empty-scan reply: cursor 0 and no elements. */
static void reply_empty_scan(rbuf *r) {
    rw_array(r, 2);
    rw_bulk(r, "0", 1);
    rw_array(r, 0);
}

/* The set at key for a write, created (in the encoding Redis picks for a
 * first member `first`) when absent. NULL after replying WRONGTYPE. */
static obj *set_for_write(rt_ctx *c, const rt_arg *key, const rt_arg *first) {
    obj *o;
    if (lookup_write(c, key, OBJ_SET, &o, c->reply) < 0) return NULL;
    if (o == NULL) {
        o = set_new_for(first->p, first->len);
        db_set(ctx_cdb(c), key->p, key->len, o, 0);
    }
    return o;
}

/* ---------------------------------------------------------------------- */
/* SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS. */

static void cmd_sadd(rt_ctx *c) {
    obj *o = set_for_write(c, &c->argv[1], &c->argv[2]);
    if (o == NULL) return;
    long long added = 0;
    for (int j = 2; j < c->argc; j++)
        added += set_add(o, c->argv[j].p, c->argv[j].len, max_intset(c));
    ss_dirty(c, (uint64_t)added);
    rw_int(c->reply, added);
}

static void cmd_srem(rt_ctx *c) {
    const rt_arg *key = &c->argv[1];
    obj *o;
    if (lookup_write(c, key, OBJ_SET, &o, c->reply) < 0) return;
    long long removed = 0;
    for (int j = 2; o && j < c->argc; j++) {
        if (!set_remove(o, c->argv[j].p, c->argv[j].len)) continue;
        removed++;
        if (set_len(o) == 0) {
            db_del(ctx_cdb(c), key->p, key->len);
            break;
        }
    }
    ss_dirty(c, (uint64_t)removed);
    rw_int(c->reply, removed);
}

static void cmd_scard(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)set_len(o) : 0);
}

static void cmd_sismember(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    rw_int(c->reply, o && set_contains(o, c->argv[2].p, c->argv[2].len));
}

static void cmd_smismember(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    rw_array(c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        rw_int(c->reply, o && set_contains(o, c->argv[j].p, c->argv[j].len));
}

/* Every member of o (NULL: none) as a set reply, in iteration order. */
static void reply_set(rbuf *r, const obj *o) {
    rw_set(r, o ? (long)set_len(o) : 0);
    if (o == NULL) return;
    set_iter it;
    set_member m;
    set_iter_init(&it, o);
    while (set_iter_next(&it, &m))
        reply_member(r, &m);
}

static void cmd_smembers(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    reply_set(c->reply, o);
}

/* ---------------------------------------------------------------------- */
/* Set algebra: SINTER SINTERCARD SUNION SDIFF and the *STORE forms. */

enum { SOP_INTER, SOP_UNION, SOP_DIFF };

/* A parsed set-algebra request. */
typedef struct setop {
    int op;             /* SOP_* */
    int card_only;      /* SINTERCARD: reply the count only */
    long long limit;    /* SINTERCARD LIMIT, 0 = none */
    int dest;           /* argv index of the destination (*STORE), 0 if none */
    int first, nsrc;    /* sources are argv[first .. first + nsrc) */
    long long max_ints; /* set-max-intset-entries for building results */
} setop;

/* SINTERCARD's numkeys, checked as Redis checks it. Returns 0, or -1 after
 * writing the error into r. */
static int sintercard_numkeys(int argc, const rt_arg *argv, int *n, rbuf *r) {
    long long v;
    if (arg_range_or_reply(r, &argv[1], 1, LLONG_MAX, &v, "ERR numkeys should be greater than 0") <
        0)
        return -1;
    if (v > argc - 2) {
        rw_error(r, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    *n = (int)v;
    return 0;
}

/* SINTERCARD's key positions: argv[2 .. 2 + numkeys). */
static int keys_sintercard(int argc, rt_arg *argv, int *keys, rbuf *err) {
    int n;
    if (sintercard_numkeys(argc, argv, &n, err) < 0) return -1;
    for (int i = 0; i < n; i++)
        keys[i] = 2 + i;
    return n;
}

/* Parse a set-algebra request by its command name. Returns 0, or -1 after
 * writing Redis's error into r. */
static int setop_parse(int argc, rt_arg *argv, setop *so, rbuf *r) {
    memset(so, 0, sizeof(*so));
    const rt_arg *name = &argv[0];
    if (arg_is(name, "sintercard")) {
        if (sintercard_numkeys(argc, argv, &so->nsrc, r) < 0) return -1;
        so->op = SOP_INTER;
        so->card_only = 1;
        so->first = 2;
        for (int j = 2 + so->nsrc; j < argc; j++) {
            if (arg_is(&argv[j], "limit") && j + 1 < argc) {
                j++;
                if (arg_range_or_reply(r, &argv[j], 0, LLONG_MAX, &so->limit,
                                       "ERR LIMIT can't be negative") < 0)
                    return -1;
            } else {
                rw_error(r, ERR_SYNTAX);
                return -1;
            }
        }
        return 0;
    }
    size_t n = name->len;
    int store = n > 5 && strncasecmp(name->p + n - 5, "store", 5) == 0;
    if (strncasecmp(name->p, "sinter", 6) == 0)
        so->op = SOP_INTER;
    else if (strncasecmp(name->p, "sunion", 6) == 0)
        so->op = SOP_UNION;
    else
        so->op = SOP_DIFF;
    so->dest = store ? 1 : 0;
    so->first = store ? 2 : 1;
    so->nsrc = argc - so->first;
    return 0;
}

/* Sort set pointers by ascending size, stably (absent sets are not passed). */
static void sort_by_size(obj **sets, int n) {
    for (int i = 1; i < n; i++) {
        obj *x = sets[i];
        int j = i;
        for (; j > 0 && set_len(sets[j - 1]) > set_len(x); j--)
            sets[j] = sets[j - 1];
        sets[j] = x;
    }
}

/* Intersection of sets[0..n) (NULL = absent = empty), Redis's way: walk
 * the smallest set and keep the members every other set has. With
 * so->card_only the count goes to *card (stopping at the limit); with
 * so->dest a result set is built and returned; otherwise the members are
 * replied to r as a set, in the smallest set's order. */
static obj *setop_inter(const setop *so, obj **sets, int n, rbuf *r, long long *card) {
    int empty = 0;
    for (int j = 0; j < n; j++)
        empty |= sets[j] == NULL;
    if (empty) {
        *card = 0;
        if (!so->dest && !so->card_only) rw_set(r, 0);
        return NULL;
    }
    obj **sorted = malloc(sizeof(obj *) * (size_t)n);
    if (sorted == NULL) abort();
    memcpy(sorted, sets, sizeof(obj *) * (size_t)n);
    sort_by_size(sorted, n);
    obj *dst = so->dest ? set_new() : NULL;
    rbuf members;
    rb_init(&members, r->resp);
    long long cnt = 0;
    set_iter it;
    set_member m;
    set_iter_init(&it, sorted[0]);
    while (set_iter_next(&it, &m)) {
        int j = 1;
        for (; j < n; j++)
            if (sorted[j] != sorted[0] && !set_contains_member(sorted[j], &m)) break;
        if (j < n) continue;
        cnt++;
        if (dst)
            set_add(dst, m.p, m.len, so->max_ints);
        else if (!so->card_only)
            reply_member(&members, &m);
        else if (so->limit && cnt >= so->limit)
            break;
    }
    free(sorted);
    *card = cnt;
    if (!so->dest && !so->card_only) {
        rw_set(r, (long)cnt);
        rb_append(r, members.buf, members.len);
    }
    rb_free(&members);
    if (dst && set_len(dst) == 0) {
        obj_free(dst);
        dst = NULL;
    }
    return dst;
}

/* Add every member of src to dst; returns how many were new. */
static long long add_all(obj *dst, const obj *src, long long max_ints) {
    long long added = 0;
    set_iter it;
    set_member m;
    set_iter_init(&it, src);
    while (set_iter_next(&it, &m))
        added += set_add(dst, m.p, m.len, max_ints);
    return added;
}

/* Union or difference of sets[0..n) (NULL = absent = empty) into a new set,
 * built as Redis builds it (an intset that converts as members arrive) so
 * its encoding matches. For a difference Redis picks one of two
 * algorithms by estimated work; they can leave different encodings behind
 * (the second adds then removes), so the same choice is made here. */
static obj *setop_union_diff(const setop *so, obj **sets, int n) {
    obj *dst = set_new();
    if (so->op == SOP_UNION) {
        for (int j = 0; j < n; j++)
            if (sets[j]) add_all(dst, sets[j], so->max_ints);
        return dst;
    }
    if (sets[0] == NULL) return dst;
    for (int j = 1; j < n; j++)
        if (sets[j] == sets[0]) return dst; /* a set minus itself */
    long long work_walk = 0, work_all = 0;
    for (int j = 0; j < n; j++) {
        if (sets[j] == NULL) continue;
        work_walk += (long long)set_len(sets[0]);
        work_all += (long long)set_len(sets[j]);
    }
    if (work_walk / 2 <= work_all) {
        /* Walk the first set, keep what no other set has. */
        set_iter it;
        set_member m;
        set_iter_init(&it, sets[0]);
        while (set_iter_next(&it, &m)) {
            int j = 1;
            for (; j < n; j++)
                if (sets[j] && set_contains_member(sets[j], &m)) break;
            if (j == n) set_add(dst, m.p, m.len, so->max_ints);
        }
        return dst;
    }
    /* Copy the first set, then remove every member of the others. */
    long long card = add_all(dst, sets[0], so->max_ints);
    for (int j = 1; j < n && card > 0; j++) {
        if (sets[j] == NULL) continue;
        set_iter it;
        set_member m;
        set_iter_init(&it, sets[j]);
        while (set_iter_next(&it, &m))
            card -= set_remove(dst, m.p, m.len);
    }
    return dst;
}

/* Run so over sets[0..n). Non-store forms write their reply into r and
 * return NULL; *STORE forms return the result to store (NULL when empty). */
static obj *setop_run(const setop *so, obj **sets, int n, rbuf *r) {
    if (so->op == SOP_INTER) {
        long long card;
        obj *dst = setop_inter(so, sets, n, r, &card);
        if (so->card_only) rw_int(r, card);
        return dst;
    }
    obj *dst = setop_union_diff(so, sets, n);
    if (so->dest) {
        if (set_len(dst) > 0) return dst;
        obj_free(dst);
        return NULL;
    }
    reply_set(r, dst);
    obj_free(dst);
    return NULL;
}

/* Store a *STORE result at key (taking it over), or delete key for an
 * empty result (res NULL). Returns the reply: the result's size. */
static long long setop_store(rt_ctx *c, const rt_arg *key, obj *res) {
    db *d = ctx_cdb(c);
    if (res == NULL) {
        if (db_del(d, key->p, key->len)) ss_dirty(c, 1);
        return 0;
    }
    long long n = (long long)set_len(res);
    db_set(d, key->p, key->len, res, 0);
    ss_dirty(c, 1);
    return n;
}

static void cmd_setop(rt_ctx *c) {
    setop so;
    if (setop_parse(c->argc, c->argv, &so, c->reply) < 0) return;
    so.max_ints = max_intset(c);
    obj **sets = calloc((size_t)so.nsrc, sizeof(obj *));
    if (sets == NULL) abort();
    for (int j = 0; j < so.nsrc; j++) {
        if (lookup_read(c, &c->argv[so.first + j], OBJ_SET, &sets[j], c->reply) < 0) {
            free(sets);
            return;
        }
    }
    obj *res = setop_run(&so, sets, so.nsrc, c->reply);
    free(sets);
    if (so.dest) rw_int(c->reply, setop_store(c, &c->argv[so.dest], res));
}

/* The cross-shard state of a set-algebra command (tx->state, owned by the
 * coordinator). */
typedef struct setop_tx {
    setop so;
    obj *res;    /* the *STORE result until the destination's shard takes it */
    long long n; /* the *STORE reply */
    int dest_part;
} setop_tx;

/* Marks a source key holding another type in a part's copies. */
static obj wrongtype_mark;

/* Step on one shard: duplicate the part's source sets into part.ptr (an
 * array parallel to part.keys: a copy, NULL for absent keys and non-source
 * keys, &wrongtype_mark for another type). */
static void op_setop_collect(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    const setop *so = &((setop_tx *)tx->state)->so;
    obj **cp = calloc((size_t)pt->nkeys + 1, sizeof(obj *));
    if (cp == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        int a = pt->keys[k];
        if (a < so->first || a >= so->first + so->nsrc) continue;
        obj *o = lookup_read_any(c, &tx->argv[a]);
        if (o == NULL) continue;
        cp[k] = o->type == OBJ_SET ? obj_dup(o) : &wrongtype_mark;
    }
    pt->ptr = cp;
}

/* Free every part's copies. */
static void setop_free_copies(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        obj **cp = tx->part[p].ptr;
        if (cp == NULL) continue;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (cp[k] != &wrongtype_mark) obj_free(cp[k]);
        free(cp);
        tx->part[p].ptr = NULL;
    }
}

static void setop_tx_finish(rt_tx *tx) {
    free(tx->state);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* Step on the destination's shard: store the result there. */
static void op_setop_store(rt_ctx *c) {
    setop_tx *st = c->tx->state;
    st->n = setop_store(c, &c->tx->argv[st->so.dest], st->res);
    st->res = NULL;
}

static void setop_stored(rt_tx *tx) {
    setop_tx *st = tx->state;
    rw_int(&tx->reply, st->n);
    setop_tx_finish(tx);
}

/* At the coordinator once the sources are copied: check types, compute,
 * reply, or send the result to the destination's shard. */
static void setop_after_collect(rt_tx *tx) {
    setop_tx *st = tx->state;
    const setop *so = &st->so;
    obj **sets = calloc((size_t)so->nsrc, sizeof(obj *));
    if (sets == NULL) abort();
    int wrongtype = 0;
    for (int p = 0; p < tx->nparts; p++) {
        obj **cp = tx->part[p].ptr;
        for (int k = 0; k < tx->part[p].nkeys; k++) {
            int a = tx->part[p].keys[k];
            if (a == so->dest) st->dest_part = p;
            if (a < so->first || a >= so->first + so->nsrc) continue;
            if (cp[k] == &wrongtype_mark) wrongtype = 1;
            sets[a - so->first] = cp[k];
        }
    }
    if (wrongtype) {
        rw_error(&tx->reply, ERR_WRONGTYPE);
        free(sets);
        setop_free_copies(tx);
        setop_tx_finish(tx);
        return;
    }
    /* A key named twice is one set, as it is on a single shard. */
    for (int j = 1; j < so->nsrc; j++) {
        const rt_arg *kj = &tx->argv[so->first + j];
        for (int i = 0; i < j; i++) {
            const rt_arg *ki = &tx->argv[so->first + i];
            if (ki->len == kj->len && memcmp(ki->p, kj->p, ki->len) == 0) {
                sets[j] = sets[i];
                break;
            }
        }
    }
    st->res = setop_run(so, sets, so->nsrc, &tx->reply);
    free(sets);
    setop_free_copies(tx);
    if (!so->dest) {
        setop_tx_finish(tx);
        return;
    }
    rt_tx_run_one(tx, st->dest_part, op_setop_store, setop_stored);
}

static void cmd_setop_multi(rt_tx *tx) {
    setop_tx *st = calloc(1, sizeof(*st));
    if (st == NULL) abort();
    if (setop_parse(tx->argc, tx->argv, &st->so, &tx->reply) < 0) {
        free(st);
        rt_tx_done(tx);
        return;
    }
    shard_state *ss = rt_shard_data(rt_tx_coord(tx));
    st->so.max_ints = ss->st->enc.set_max_intset_entries;
    tx->state = st;
    rt_tx_run(tx, op_setop_collect, setop_after_collect);
}

/* ---------------------------------------------------------------------- */
/* SMOVE. */

static void cmd_smove(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *skey = &c->argv[1], *dkey = &c->argv[2], *ele = &c->argv[3];
    obj *src = db_find(d, skey->p, skey->len);
    obj *dst = db_find(d, dkey->p, dkey->len);
    if (src == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    if (src->type != OBJ_SET || (dst && dst->type != OBJ_SET)) {
        rw_error(c->reply, ERR_WRONGTYPE);
        return;
    }
    if (src == dst) {
        rw_int(c->reply, set_contains(src, ele->p, ele->len));
        return;
    }
    if (!set_remove(src, ele->p, ele->len)) {
        rw_int(c->reply, 0);
        return;
    }
    if (set_len(src) == 0) db_del(d, skey->p, skey->len);
    if (dst == NULL) {
        dst = set_new_for(ele->p, ele->len);
        db_set(d, dkey->p, dkey->len, dst, 0);
    }
    ss_dirty(c, 1);
    if (set_add(dst, ele->p, ele->len, max_intset(c))) ss_dirty(c, 1);
    rw_int(c->reply, 1);
}

/* What SMOVE's first step found, per part (part.n): the source's state in
 * the low byte, the destination's in the next. */
enum { SM_ABSENT = 0, SM_WRONGTYPE = 1, SM_SET = 2, SM_HAS_MEMBER = 3 };

/* Step on every part: look at the source and/or destination it holds. */
static void op_smove_check(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    db *d = ctx_cdb(c);
    pt->n = 0;
    for (int k = 0; k < pt->nkeys; k++) {
        int a = pt->keys[k];
        obj *o = db_find(d, tx->argv[a].p, tx->argv[a].len);
        long long s = SM_ABSENT;
        if (o && o->type != OBJ_SET)
            s = SM_WRONGTYPE;
        else if (o)
            s = a == 1 && set_contains(o, tx->argv[3].p, tx->argv[3].len) ? SM_HAS_MEMBER : SM_SET;
        pt->n |= a == 1 ? s : s << 8;
    }
}

/* Step on every part: remove from the source / add to the destination. */
static void op_smove_apply(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    db *d = ctx_cdb(c);
    const rt_arg *ele = &tx->argv[3];
    for (int k = 0; k < pt->nkeys; k++) {
        const rt_arg *key = &tx->argv[pt->keys[k]];
        if (pt->keys[k] == 1) {
            obj *src = db_find(d, key->p, key->len);
            set_remove(src, ele->p, ele->len);
            if (set_len(src) == 0) db_del(d, key->p, key->len);
            ss_dirty(c, 1);
        } else {
            obj *dst = db_find(d, key->p, key->len);
            if (dst == NULL) {
                dst = set_new_for(ele->p, ele->len);
                db_set(d, key->p, key->len, dst, 0);
            }
            if (set_add(dst, ele->p, ele->len, max_intset(c))) ss_dirty(c, 1);
        }
    }
}

static void smove_moved(rt_tx *tx) {
    rw_int(&tx->reply, 1);
    rt_tx_done(tx);
}

/* At the coordinator after the check; the shards stay held, so what the
 * check saw is still true when the move is applied. */
static void smove_after_check(rt_tx *tx) {
    long long s = 0;
    for (int p = 0; p < tx->nparts; p++)
        s |= tx->part[p].n;
    long long src = s & 0xff, dst = s >> 8;
    if (src == SM_ABSENT) {
        rw_int(&tx->reply, 0);
    } else if (src == SM_WRONGTYPE || dst == SM_WRONGTYPE) {
        rw_error(&tx->reply, ERR_WRONGTYPE);
    } else if (src != SM_HAS_MEMBER) {
        rw_int(&tx->reply, 0);
    } else {
        rt_tx_run(tx, op_smove_apply, smove_moved);
        return;
    }
    rt_tx_done(tx);
}

static void cmd_smove_multi(rt_tx *tx) {
    rt_tx_run(tx, op_smove_check, smove_after_check);
}

/* ---------------------------------------------------------------------- */
/* SPOP, SRANDMEMBER. */

/* SPOP key count. */
static void spop_count(rt_ctx *c) {
    const rt_arg *key = &c->argv[1];
    long long count;
    if (arg_range_or_reply(c->reply, &c->argv[2], 0, LLONG_MAX, &count, SET_ERR_NOT_POSITIVE) < 0)
        return;
    obj *o;
    if (lookup_write(c, key, OBJ_SET, &o, c->reply) < 0) return;
    if (o == NULL || count == 0) {
        rw_set(c->reply, 0);
        return;
    }
    long long size = (long long)set_len(o);
    uint64_t *rng = &ctx_store(c)->rng;
    set_member m;
    if (count >= size) {
        /* Everything: reply the set as a union of itself would, then drop it. */
        setop so = {.op = SOP_UNION, .max_ints = max_intset(c)};
        obj *all = setop_union_diff(&so, &o, 1);
        reply_set(c->reply, all);
        obj_free(all);
        db_del(ctx_cdb(c), key->p, key->len);
        ss_dirty(c, (uint64_t)size);
        return;
    }
    long long remaining = size - count;
    rw_set(c->reply, (long)count);
    if (remaining * SPOP_REBUILD_MUL > count) {
        for (long long i = 0; i < count; i++) {
            set_random(o, rng, &m);
            reply_member(c->reply, &m);
            set_remove(o, m.p, m.len);
        }
    } else {
        /* Move the members that stay into a new set, reply the rest. */
        obj *keep = NULL;
        for (long long i = 0; i < remaining; i++) {
            set_random(o, rng, &m);
            if (keep == NULL) keep = set_new_for(m.p, m.len);
            set_add(keep, m.p, m.len, max_intset(c));
            set_remove(o, m.p, m.len);
        }
        set_iter it;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &m))
            reply_member(c->reply, &m);
        db_replace(ctx_cdb(c), key->p, key->len, keep);
    }
    ss_dirty(c, (uint64_t)count);
}

/* SPOP and SRANDMEMBER up to the reply of one member: with a count
 * (argc 3) with_count serves the request; more arguments are a syntax
 * error; else a random member of the set at argv[1] (looked up for a write
 * when write is 1) is replied in *m, or a null for an absent key. Returns
 * the set when a member was replied, else NULL. */
static obj *rand_member_reply(rt_ctx *c, void (*with_count)(rt_ctx *), int write, set_member *m) {
    if (c->argc == 3) {
        with_count(c);
        return NULL;
    }
    if (c->argc > 3) {
        rw_error(c->reply, ERR_SYNTAX);
        return NULL;
    }
    obj *o;
    int rc = write ? lookup_write(c, &c->argv[1], OBJ_SET, &o, c->reply)
                   : lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply);
    if (rc < 0) return NULL;
    if (o == NULL) {
        rw_null(c->reply);
        return NULL;
    }
    set_random(o, &ctx_store(c)->rng, m);
    reply_member(c->reply, m);
    return o;
}

static void cmd_spop(rt_ctx *c) {
    set_member m;
    obj *o = rand_member_reply(c, spop_count, 1, &m);
    if (o == NULL) return;
    set_remove(o, m.p, m.len);
    if (set_len(o) == 0) db_del(ctx_cdb(c), c->argv[1].p, c->argv[1].len);
    ss_dirty(c, 1);
}

/* SRANDMEMBER key count. */
static void srandmember_count(rt_ctx *c) {
    long long l;
    if (arg_range_or_reply(c->reply, &c->argv[2], -LLONG_MAX, LLONG_MAX, &l, NULL) < 0) return;
    unsigned long long count = l >= 0 ? (unsigned long long)l : (unsigned long long)-l;
    int uniq = l >= 0;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    if (o == NULL || count == 0) {
        rw_array(c->reply, 0);
        return;
    }
    uint64_t *rng = &ctx_store(c)->rng;
    unsigned long long size = set_len(o);
    set_member m;
    if (!uniq || count == 1) {
        /* Independent draws, repeats allowed. */
        rw_array(c->reply, (long)count);
        for (unsigned long long i = 0; i < count; i++) {
            set_random(o, rng, &m);
            reply_member(c->reply, &m);
        }
        return;
    }
    if (count >= size) {
        rw_array(c->reply, (long)size);
        set_iter it;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &m))
            reply_member(c->reply, &m);
        return;
    }
    /* Distinct members: thin a full copy when the count is close to the
     * size, else sample until enough distinct members are drawn. */
    dict *pick = dict_new();
    int added;
    if (count * SRANDMEMBER_SAMPLE_MUL > size) {
        dict_expand(pick, size);
        set_iter it;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &m))
            dict_add(pick, m.p, m.len, &added);
        while (dict_size(pick) > count) {
            dict_entry *e = dict_random(pick, rng);
            dict_entry_free(dict_unlink(pick, e->key, e->klen));
        }
    } else {
        dict_expand(pick, count);
        while (dict_size(pick) < count) {
            set_random(o, rng, &m);
            dict_add(pick, m.p, m.len, &added);
        }
    }
    rw_array(c->reply, (long)count);
    dict_iter it;
    dict_iter_init(&it, pick);
    for (dict_entry *e; (e = dict_iter_next(&it)) != NULL;)
        rw_bulk(c->reply, e->key, e->klen);
    dict_free(pick, NULL);
}

static void cmd_srandmember(rt_ctx *c) {
    set_member m;
    rand_member_reply(c, srandmember_count, 0, &m);
}

/* ---------------------------------------------------------------------- */
/* SSCAN. */

/* What one SSCAN step gathers: the matching members' bulks in out. */
typedef struct sscan_acc {
    rbuf out;
    long seen;    /* members visited, matching or not (bounds the step) */
    long matched; /* bulks in out */
    const scan_opts *opts;
} sscan_acc;

static void sscan_take(sscan_acc *a, const char *p, size_t len) {
    a->seen++;
    if (a->opts->pat && !util_globmatch(a->opts->pat, a->opts->plen, p, len, 0)) return;
    rw_bulk(&a->out, p, len);
    a->matched++;
}

static void sscan_visit(void *priv, const dict_entry *e) {
    sscan_take(priv, e->key, e->klen);
}

static void cmd_sscan(rt_ctx *c) {
    uint64_t cursor;
    if (arg_cursor_or_reply(&c->argv[2], &cursor, c->reply) < 0) return;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_SET, &o, c->reply) < 0) return;
    if (o == NULL) {
        reply_empty_scan(c->reply);
        return;
    }
    scan_opts opts;
    if (scan_opts_or_reply(c->argc, c->argv, 3, &opts, c->reply) < 0) return;
    sscan_acc acc = {.opts = &opts};
    rb_init(&acc.out, c->reply->resp);
    if (o->enc == OBJ_ENC_INTSET) {
        /* Small encodings are returned whole, whatever the cursor. */
        set_iter it;
        set_member m;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &m))
            sscan_take(&acc, m.p, m.len);
        cursor = 0;
    } else {
        /* At most ten buckets per element asked for, so a sparse table
         * cannot make one step walk it whole. */
        long long budget = opts.count > LLONG_MAX / 10 ? LLONG_MAX : opts.count * 10;
        do {
            cursor = dict_scan(o->v.ptr, cursor, sscan_visit, &acc);
        } while (cursor && budget-- && acc.seen < opts.count);
    }
    rw_array(c->reply, 2);
    rw_bulk_ll(c->reply, (long long)cursor);
    rw_array(c->reply, acc.matched);
    rb_append(c->reply, acc.out.buf, acc.out.len);
    rb_free(&acc.out);
}

/* ---------------------------------------------------------------------- */

cmd_def cmd_rows_set[] = {
    KEYS("sadd", -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_sadd, NULL),
    KEYS("srem", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_srem, NULL),
    KEYS("scard", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_scard, NULL),
    KEYS("sismember", 3, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_sismember, NULL),
    KEYS("smismember", -3, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_smismember, NULL),
    KEYS("smembers", 2, CMD_READONLY, 1, 1, 1, cmd_smembers, NULL),
    KEYS("spop", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_spop, NULL),
    KEYS("srandmember", -2, CMD_READONLY, 1, 1, 1, cmd_srandmember, NULL),
    KEYS("smove", 4, CMD_WRITE | CMD_FAST, 1, 2, 1, cmd_smove, cmd_smove_multi),
    KEYS("sinter", -2, CMD_READONLY, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS_GK("sintercard", -3, CMD_READONLY | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_setop, cmd_setop_multi,
            keys_sintercard),
    KEYS("sunion", -2, CMD_READONLY, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS("sdiff", -2, CMD_READONLY, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS("sinterstore", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS("sunionstore", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS("sdiffstore", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, cmd_setop, cmd_setop_multi),
    KEYS("sscan", -3, CMD_READONLY, 1, 1, 1, cmd_sscan, NULL),
    END,
};
