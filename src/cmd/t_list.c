/* t_list.c -- the list commands (LPUSH ... LMPOP, no blocking ones) with
 * Redis 7.0's replies and errors, and their rows of the command table.
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys and works on that shard's store only. LMOVE, RPOPLPUSH and
 * LMPOP may name keys on different shards; their cmd_*_multi bodies run on
 * the coordinator as an rt_tx transaction that holds every involved shard
 * from the first step to the last, so no other client sees a half-done move.
 * Values never cross shards: a moved element travels as a malloc'd copy
 * that the coordinator owns between the pop and the push.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../store/list.h"
#include "cmd_rows.h"
#include "type_util.h"
#include "watch.h"

#define ERR_MUST_BE_POSITIVE "ERR value is out of range, must be positive"

/* ---------------------------------------------------------------------- */
/* Helpers. */

static void reply_entry(rbuf *r, const lp_entry *e) {
    rw_bulk(r, e->s, e->len);
}

/* Reply the elements start..end (inclusive, negative from the tail, clamped
 * as LRANGE clamps) of q as an array; from end to start when reverse. */
static void reply_range(rbuf *r, quicklist *q, long long start, long long end, int reverse) {
    long long llen = (long long)ql_len(q);
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        rw_array(r, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long long n = end - start + 1;
    rw_array(r, n);
    ql_iter it;
    ql_iter_init(&it, q, reverse ? end : start, reverse ? LIST_HEAD : LIST_TAIL);
    lp_entry e;
    while (n-- > 0 && ql_iter_next(&it, &e))
        reply_entry(r, &e);
}

/* Delete key from the client's db if its list o became empty. */
static void del_if_empty(rt_ctx *c, const rt_arg *key, obj *o) {
    if (list_len(o) == 0) db_del(ctx_cdb(c), key->p, key->len);
}

/* Pop up to count elements of o (at key) from one end, replying them as an
 * array in popping order; deletes the key when the list empties. Shared by
 * LPOP/RPOP with a count and LMPOP. */
static void pop_range_reply(rt_ctx *c, rbuf *r, const rt_arg *key, obj *o, int where,
                            long long count) {
    long long llen = (long long)list_len(o);
    long long n = count > llen ? llen : count;
    if (where == LIST_HEAD)
        reply_range(r, list_ql(o), 0, n - 1, 0);
    else
        reply_range(r, list_ql(o), -n, -1, 1);
    ql_del_range(list_ql(o), where == LIST_HEAD ? 0 : -n, (size_t)n);
    ss_dirty(c, (uint64_t)n);
    del_if_empty(c, key, o);
}

/* Find the list at key for a write, creating (and storing) an empty one when
 * the key is absent. Returns NULL after a WRONGTYPE reply. */
static obj *list_for_push(rt_ctx *c, const rt_arg *key, rbuf *r) {
    obj *o;
    if (lookup_write(c, key, OBJ_LIST, &o, r) < 0) return NULL;
    if (o == NULL) {
        o = list_new(ctx_store(c)->enc.list_max_listpack_size);
        db_set(ctx_cdb(c), key->p, key->len, o, 0);
    }
    return o;
}

/* ---------------------------------------------------------------------- */
/* LPUSH, RPUSH, LPUSHX, RPUSHX. */

/* Push argv[2..] at one end of the list at argv[1]; with xx only when the
 * list exists. Replies the new length. */
static void push_generic(rt_ctx *c, int where, int xx) {
    const rt_arg *key = &c->argv[1];
    obj *o;
    if (lookup_write(c, key, OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        if (xx) {
            rw_int(c->reply, 0);
            return;
        }
        o = list_for_push(c, key, c->reply);
    }
    for (int j = 2; j < c->argc; j++)
        list_push(o, where, c->argv[j].p, c->argv[j].len);
    ss_dirty(c, (uint64_t)(c->argc - 2));
    rw_int(c->reply, (long long)list_len(o));
}

static void cmd_lpush(rt_ctx *c) {
    push_generic(c, LIST_HEAD, 0);
}
static void cmd_rpush(rt_ctx *c) {
    push_generic(c, LIST_TAIL, 0);
}
static void cmd_lpushx(rt_ctx *c) {
    push_generic(c, LIST_HEAD, 1);
}
static void cmd_rpushx(rt_ctx *c) {
    push_generic(c, LIST_TAIL, 1);
}

/* ---------------------------------------------------------------------- */
/* LPOP, RPOP. */

/* LPOP/RPOP key [count]: one element as a bulk (null if absent), or with a
 * count an array (null array if absent, empty for count 0). */
static void pop_generic(rt_ctx *c, int where) {
    int hascount = c->argc == 3;
    long long count = 0;
    if (c->argc > 3) {
        reply_arity_error(c->reply, c->cmd);
        return;
    }
    if (hascount &&
        arg_range_or_reply(c->reply, &c->argv[2], 0, LLONG_MAX, &count, ERR_MUST_BE_POSITIVE) < 0)
        return;
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        if (hascount)
            rw_null_array(c->reply);
        else
            rw_null(c->reply);
        return;
    }
    if (hascount) {
        if (count == 0)
            rw_array(c->reply, 0);
        else
            pop_range_reply(c, c->reply, &c->argv[1], o, where, count);
        return;
    }
    lp_entry e;
    long long idx = where == LIST_HEAD ? 0 : -1;
    ql_index(list_ql(o), idx, &e);
    reply_entry(c->reply, &e);
    ql_del_range(list_ql(o), idx, 1);
    ss_dirty(c, 1);
    del_if_empty(c, &c->argv[1], o);
}

static void cmd_lpop(rt_ctx *c) {
    pop_generic(c, LIST_HEAD);
}
static void cmd_rpop(rt_ctx *c) {
    pop_generic(c, LIST_TAIL);
}

/* ---------------------------------------------------------------------- */
/* LLEN, LINDEX, LSET, LINSERT, LRANGE, LTRIM, LREM, LPOS. */

static void cmd_llen(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)list_len(o) : 0);
}

static void cmd_lindex(rt_ctx *c) {
    obj *o;
    long long idx;
    if (lookup_read(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_null(c->reply);
        return;
    }
    if (arg_ll_or_reply(c->reply, &c->argv[2], &idx, NULL) < 0) return;
    lp_entry e;
    if (ql_index(list_ql(o), idx, &e))
        reply_entry(c->reply, &e);
    else
        rw_null(c->reply);
}

static void cmd_lset(rt_ctx *c) {
    obj *o;
    long long idx;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_error(c->reply, ERR_NO_KEY);
        return;
    }
    if (arg_ll_or_reply(c->reply, &c->argv[2], &idx, NULL) < 0) return;
    if (!ql_replace(list_ql(o), idx, c->argv[3].p, c->argv[3].len)) {
        rw_error(c->reply, ERR_INDEX_RANGE);
        return;
    }
    ss_dirty(c, 1);
    rw_ok(c->reply);
}

/* LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the
 * pivot, 0 without the key. */
static void cmd_linsert(rt_ctx *c) {
    int after;
    if (arg_is(&c->argv[2], "after"))
        after = 1;
    else if (arg_is(&c->argv[2], "before"))
        after = 0;
    else {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    const rt_arg *pivot = &c->argv[3], *val = &c->argv[4];
    ql_iter it;
    lp_entry e;
    ql_iter_init(&it, list_ql(o), 0, LIST_TAIL);
    while (ql_iter_next(&it, &e)) {
        if (ql_iter_eq(&it, pivot->p, pivot->len)) {
            ql_iter_insert(&it, after, val->p, val->len);
            ss_dirty(c, 1);
            rw_int(c->reply, (long long)list_len(o));
            return;
        }
    }
    rw_int(c->reply, -1);
}

static void cmd_lrange(rt_ctx *c) {
    long long start, end;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &start, NULL) < 0 ||
        arg_ll_or_reply(c->reply, &c->argv[3], &end, NULL) < 0)
        return;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_array(c->reply, 0);
        return;
    }
    reply_range(c->reply, list_ql(o), start, end, 0);
}

static void cmd_ltrim(rt_ctx *c) {
    long long start, end;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &start, NULL) < 0 ||
        arg_ll_or_reply(c->reply, &c->argv[3], &end, NULL) < 0)
        return;
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_ok(c->reply);
        return;
    }
    long long llen = (long long)list_len(o), ltrim, rtrim;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    ql_del_range(list_ql(o), 0, (size_t)ltrim);
    ql_del_range(list_ql(o), -rtrim, (size_t)rtrim);
    ss_dirty(c, (uint64_t)(ltrim + rtrim));
    /* Redis signals the key as modified even when nothing was trimmed. */
    if (ltrim + rtrim == 0) watch_touch_key(c, c->tx ? c->tx->db : c->db, &c->argv[1]);
    del_if_empty(c, &c->argv[1], o);
    rw_ok(c->reply);
}

/* LREM key count element: count > 0 from the head, < 0 from the tail, 0 all. */
static void cmd_lrem(rt_ctx *c) {
    long long toremove, removed = 0;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &toremove, NULL) < 0) return;
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    const rt_arg *val = &c->argv[3];
    ql_iter it;
    lp_entry e;
    if (toremove < 0) {
        /* As unsigned: -LLONG_MIN is not a long long. */
        unsigned long long want = 0ULL - (unsigned long long)toremove;
        ql_iter_init(&it, list_ql(o), -1, LIST_HEAD);
        while (ql_iter_next(&it, &e)) {
            if (!ql_iter_eq(&it, val->p, val->len)) continue;
            ql_iter_del(&it);
            if ((unsigned long long)++removed == want) break;
        }
    } else {
        ql_iter_init(&it, list_ql(o), 0, LIST_TAIL);
        while (ql_iter_next(&it, &e)) {
            if (!ql_iter_eq(&it, val->p, val->len)) continue;
            ql_iter_del(&it);
            if (++removed == toremove) break;
        }
    }
    ss_dirty(c, (uint64_t)removed);
    del_if_empty(c, &c->argv[1], o);
    rw_int(c->reply, removed);
}

/* LPOS key element [RANK rank] [COUNT num] [MAXLEN len]. */
static void cmd_lpos(rt_ctx *c) {
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        int more = j < c->argc - 1;
        if (arg_is(&c->argv[j], "rank") && more) {
            if (arg_ll_or_reply(c->reply, &c->argv[++j], &rank, NULL) < 0) return;
            if (rank == 0) {
                rw_error(c->reply, "ERR RANK can't be zero: use 1 to start from the first match, "
                                   "2 from the second ... or use negative to start from the end "
                                   "of the list");
                return;
            }
        } else if (arg_is(&c->argv[j], "count") && more) {
            if (arg_range_or_reply(c->reply, &c->argv[++j], 0, LLONG_MAX, &count,
                                   "ERR COUNT can't be negative") < 0)
                return;
        } else if (arg_is(&c->argv[j], "maxlen") && more) {
            if (arg_range_or_reply(c->reply, &c->argv[++j], 0, LLONG_MAX, &maxlen,
                                   "ERR MAXLEN can't be negative") < 0)
                return;
        } else {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
    }
    int dir = LIST_TAIL;
    if (rank < 0) {
        dir = LIST_HEAD;
        /* RANK LLONG_MIN stays negative (Redis negates it with wrap-around):
         * then every match qualifies. */
        if (rank != LLONG_MIN) rank = -rank;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_LIST, &o, c->reply) < 0) return;
    if (o == NULL) {
        if (count != -1)
            rw_array(c->reply, 0);
        else
            rw_null(c->reply);
        return;
    }
    const rt_arg *val = &c->argv[2];
    long long llen = (long long)list_len(o), index = 0, matches = 0, found = -1, nfound = 0;
    rbuf hits;
    rb_init(&hits, c->reply->resp);
    ql_iter it;
    lp_entry e;
    ql_iter_init(&it, list_ql(o), dir == LIST_HEAD ? -1 : 0, dir);
    while ((maxlen == 0 || index < maxlen) && ql_iter_next(&it, &e)) {
        if (ql_iter_eq(&it, val->p, val->len)) {
            matches++;
            long long pos = dir == LIST_TAIL ? index : llen - index - 1;
            if (matches >= rank) {
                if (count == -1) {
                    found = pos;
                    break;
                }
                rw_int(&hits, pos);
                nfound++;
                /* matches - rank + 1 in Redis's wrapping arithmetic. */
                long long seen =
                    (long long)((unsigned long long)matches - (unsigned long long)rank + 1ULL);
                if (count && seen >= count) break;
            }
        }
        index++;
    }
    if (count != -1) {
        rw_array(c->reply, nfound);
        rb_append(c->reply, hits.buf, hits.len);
    } else if (found != -1) {
        rw_int(c->reply, found);
    } else {
        rw_null(c->reply);
    }
    rb_free(&hits);
}

/* ---------------------------------------------------------------------- */
/* LMOVE, RPOPLPUSH. */

/* The ends LMOVE (argv[3], argv[4]) or RPOPLPUSH (right, left) moves
 * between. Returns 0, or -1 after a syntax error reply. */
static int move_ends_or_reply(rbuf *r, int argc, const rt_arg *argv, int *from, int *to) {
    if (argc == 3) {
        *from = LIST_TAIL;
        *to = LIST_HEAD;
        return 0;
    }
    if (where_or_reply(r, &argv[3], from) < 0 || where_or_reply(r, &argv[4], to) < 0) return -1;
    return 0;
}

/* Single-shard LMOVE/RPOPLPUSH: pop from argv[1], push to argv[2] (the same
 * key rotates), reply the element; null when the source is absent. The
 * destination's type is checked before anything is popped. */
static void cmd_lmove(rt_ctx *c) {
    int from, to;
    if (move_ends_or_reply(c->reply, c->argc, c->argv, &from, &to) < 0) return;
    obj *src, *dst;
    if (lookup_write(c, &c->argv[1], OBJ_LIST, &src, c->reply) < 0) return;
    if (src == NULL) {
        rw_null(c->reply);
        return;
    }
    if (lookup_write(c, &c->argv[2], OBJ_LIST, &dst, c->reply) < 0) return;
    size_t len;
    char *val = list_pop(src, from, &len);
    if (dst == NULL) dst = list_for_push(c, &c->argv[2], c->reply);
    list_push(dst, to, val, len);
    rw_bulk(c->reply, val, len);
    free(val);
    del_if_empty(c, &c->argv[1], src);
    ss_dirty(c, 1);
}

/* The coordinator's state of a cross-shard LMOVE (tx->state). */
typedef struct lmove_state {
    int from, to;
    int src_part, dst_part;
    char *val; /* the moved element between pop and push, owned here */
    size_t len;
} lmove_state;

/* Part flags of the check step (part.n). */
#define LM_SRC_FOUND 1
#define LM_SRC_WRONGTYPE 2
#define LM_DST_WRONGTYPE 4

/* Step 1, on every part: look at the source and/or destination it holds. */
static void op_lmove_check(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    pt->n = 0;
    for (int k = 0; k < pt->nkeys; k++) {
        int j = pt->keys[k];
        obj *o = db_find(ctx_cdb(c), c->tx->argv[j].p, c->tx->argv[j].len);
        if (o == NULL) continue;
        if (j == 1) pt->n |= o->type == OBJ_LIST ? LM_SRC_FOUND : LM_SRC_WRONGTYPE;
        if (j == 2 && o->type != OBJ_LIST) pt->n |= LM_DST_WRONGTYPE;
    }
}

/* Step 2, on the source's part: pop the element into part.ptr/part.n. */
static void op_lmove_pop(rt_ctx *c) {
    lmove_state *st = c->tx->state;
    rt_part *pt = &c->tx->part[c->part];
    const rt_arg *key = &c->tx->argv[1];
    obj *src = db_find(ctx_cdb(c), key->p, key->len);
    size_t len;
    pt->ptr = list_pop(src, st->from, &len);
    pt->n = (long long)len;
    del_if_empty(c, key, src);
    ss_dirty(c, 1);
}

/* Step 3, on the destination's part: push the element. */
static void op_lmove_push(rt_ctx *c) {
    lmove_state *st = c->tx->state;
    obj *dst = list_for_push(c, &c->tx->argv[2], &c->tx->part[c->part].out);
    list_push(dst, st->to, st->val, st->len);
    /* The write is counted on the source's shard; the destination's
     * watchers must still see it. */
    watch_touch_key(c, c->tx->db, &c->tx->argv[2]);
}

static void lmove_finish(rt_tx *tx) {
    lmove_state *st = tx->state;
    rw_bulk(&tx->reply, st->val, st->len);
    free(st->val);
    free(st);
    tx->state = NULL;
    rt_tx_done(tx);
}

static void lmove_after_pop(rt_tx *tx) {
    lmove_state *st = tx->state;
    rt_part *pt = &tx->part[st->src_part];
    st->val = pt->ptr;
    st->len = (size_t)pt->n;
    pt->ptr = NULL;
    rt_tx_run_one(tx, st->dst_part, op_lmove_push, lmove_finish);
}

/* After the check, with both shards still held: reply as Redis would for
 * the source (null, WRONGTYPE), then for the destination, or move. */
static void lmove_after_check(rt_tx *tx) {
    lmove_state *st = tx->state;
    long long flags = 0;
    for (int p = 0; p < tx->nparts; p++)
        flags |= tx->part[p].n;
    const char *err = NULL;
    if (flags & LM_SRC_WRONGTYPE)
        err = ERR_WRONGTYPE;
    else if (!(flags & LM_SRC_FOUND))
        rw_null(&tx->reply);
    else if (flags & LM_DST_WRONGTYPE)
        err = ERR_WRONGTYPE;
    else {
        rt_tx_run_one(tx, st->src_part, op_lmove_pop, lmove_after_pop);
        return;
    }
    if (err) rw_error(&tx->reply, err);
    free(st);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* LMOVE/RPOPLPUSH with source and destination on different shards: check
 * both, pop on the source's shard, push on the destination's. */
static void cmd_lmove_multi(rt_tx *tx) {
    lmove_state *st = calloc(1, sizeof(*st));
    if (st == NULL) abort();
    if (move_ends_or_reply(&tx->reply, tx->argc, tx->argv, &st->from, &st->to) < 0) {
        free(st);
        rt_tx_done(tx);
        return;
    }
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++) {
            if (tx->part[p].keys[k] == 1) st->src_part = p;
            if (tx->part[p].keys[k] == 2) st->dst_part = p;
        }
    tx->state = st;
    rt_tx_run(tx, op_lmove_check, lmove_after_check);
}

/* ---------------------------------------------------------------------- */
/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]. */

/* The keys of LMPOP: argv[2 .. 2+numkeys) when numkeys is a valid count of
 * the arguments that follow it (as Redis's COMMAND GETKEYS sees them); none
 * otherwise (the command then runs on the home shard and replies the error). */
static int keys_lmpop(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    long long numkeys;
    if (!util_str2ll(argv[1].p, argv[1].len, &numkeys) || numkeys < 1 || numkeys > argc - 2)
        return 0;
    for (int j = 0; j < (int)numkeys; j++)
        keys[j] = 2 + j;
    return (int)numkeys;
}

/* Parse LMPOP's arguments as Redis does, in its order of checks. Returns 0,
 * or -1 after the error reply. */
static int lmpop_parse(rbuf *r, int argc, const rt_arg *argv, int *numkeys, int *where,
                       long long *count) {
    static const char *const bad_numkeys = "ERR numkeys should be greater than 0";
    long long nk;
    if (arg_range_or_reply(r, &argv[1], 1, LLONG_MAX, &nk, bad_numkeys) < 0) return -1;
    if (nk > argc - 3) {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    *numkeys = (int)nk;
    int where_idx = 2 + *numkeys;
    if (where_or_reply(r, &argv[where_idx], where) < 0) return -1;
    *count = -1;
    for (int j = where_idx + 1; j < argc; j++) {
        if (*count == -1 && arg_is(&argv[j], "count") && j < argc - 1) {
            if (arg_range_or_reply(r, &argv[++j], 1, LLONG_MAX, count,
                                   "ERR count should be greater than 0") < 0)
                return -1;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    return 0;
}

/* Pop from the list at argv index j into r: [key, [elements]]. */
static void lmpop_pop(rt_ctx *c, rbuf *r, const rt_arg *argv, int j, obj *o, int where,
                      long long count) {
    rw_array(r, 2);
    rw_bulk(r, argv[j].p, argv[j].len);
    pop_range_reply(c, r, &argv[j], o, where, count);
}

static void cmd_lmpop(rt_ctx *c) {
    int numkeys, where;
    long long count;
    if (lmpop_parse(c->reply, c->argc, c->argv, &numkeys, &where, &count) < 0) return;
    for (int j = 2; j < 2 + numkeys; j++) {
        obj *o;
        if (lookup_write(c, &c->argv[j], OBJ_LIST, &o, c->reply) < 0) return;
        if (o == NULL) continue;
        lmpop_pop(c, c->reply, c->argv, j, o, where, count);
        return;
    }
    rw_null_array(c->reply);
}

/* The coordinator's state of a cross-shard LMPOP (tx->state). */
typedef struct lmpop_state {
    int where;
    long long count;
    int key; /* argv index of the list to pop from */
} lmpop_state;

/* What the check step found at a key (entries of part.ptr). */
enum { LMP_ABSENT = 0, LMP_LIST = 1, LMP_WRONGTYPE = 2 };

/* Step 1, on every part: part.ptr gets one LMP_* per key of the part. */
static void op_lmpop_check(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    unsigned char *found = calloc((size_t)pt->nkeys + 1, 1);
    if (found == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        const rt_arg *key = &c->tx->argv[pt->keys[k]];
        obj *o = db_find(ctx_cdb(c), key->p, key->len);
        if (o) found[k] = o->type == OBJ_LIST ? LMP_LIST : LMP_WRONGTYPE;
    }
    pt->ptr = found;
}

/* Step 2, on the chosen key's part: pop and write the reply to part.out. */
static void op_lmpop_pop(rt_ctx *c) {
    lmpop_state *st = c->tx->state;
    const rt_arg *key = &c->tx->argv[st->key];
    obj *o = db_find(ctx_cdb(c), key->p, key->len);
    lmpop_pop(c, &c->tx->part[c->part].out, c->tx->argv, st->key, o, st->where, st->count);
}

static void lmpop_free(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        free(tx->part[p].ptr);
        tx->part[p].ptr = NULL;
    }
    free(tx->state);
    tx->state = NULL;
}

static void lmpop_finish(rt_tx *tx) {
    lmpop_state *st = tx->state;
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (tx->part[p].keys[k] == st->key)
                rb_append(&tx->reply, tx->part[p].out.buf, tx->part[p].out.len);
    lmpop_free(tx);
    rt_tx_done(tx);
}

/* After the check, with every shard still held: the first key in argument
 * order that holds a list (or the wrong type) decides. */
static void lmpop_after_check(rt_tx *tx) {
    lmpop_state *st = tx->state;
    int best = INT_MAX, best_part = -1, best_state = LMP_ABSENT;
    for (int p = 0; p < tx->nparts; p++) {
        const unsigned char *found = tx->part[p].ptr;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (found[k] != LMP_ABSENT && tx->part[p].keys[k] < best) {
                best = tx->part[p].keys[k];
                best_part = p;
                best_state = found[k];
            }
    }
    if (best_state == LMP_LIST) {
        st->key = best;
        rt_tx_run_one(tx, best_part, op_lmpop_pop, lmpop_finish);
        return;
    }
    if (best_state == LMP_WRONGTYPE)
        rw_error(&tx->reply, ERR_WRONGTYPE);
    else
        rw_null_array(&tx->reply);
    lmpop_free(tx);
    rt_tx_done(tx);
}

/* LMPOP over keys on several shards: find the first list, then pop it. */
static void cmd_lmpop_multi(rt_tx *tx) {
    lmpop_state *st = calloc(1, sizeof(*st));
    if (st == NULL) abort();
    int numkeys;
    if (lmpop_parse(&tx->reply, tx->argc, tx->argv, &numkeys, &st->where, &st->count) < 0) {
        free(st);
        rt_tx_done(tx);
        return;
    }
    tx->state = st;
    rt_tx_run(tx, op_lmpop_check, lmpop_after_check);
}

/* ---------------------------------------------------------------------- */

cmd_def cmd_rows_list[] = {
    KEYS("lpush", -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_lpush, NULL),
    KEYS("rpush", -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_rpush, NULL),
    KEYS("lpushx", -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_lpushx, NULL),
    KEYS("rpushx", -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_rpushx, NULL),
    KEYS("lpop", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_lpop, NULL),
    KEYS("rpop", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_rpop, NULL),
    KEYS("llen", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_llen, NULL),
    KEYS("lindex", 3, CMD_READONLY, 1, 1, 1, cmd_lindex, NULL),
    KEYS("linsert", 5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_linsert, NULL),
    KEYS("lrange", 4, CMD_READONLY, 1, 1, 1, cmd_lrange, NULL),
    KEYS("lset", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_lset, NULL),
    KEYS("lrem", 4, CMD_WRITE, 1, 1, 1, cmd_lrem, NULL),
    KEYS("ltrim", 4, CMD_WRITE, 1, 1, 1, cmd_ltrim, NULL),
    KEYS("lpos", -3, CMD_READONLY, 1, 1, 1, cmd_lpos, NULL),
    KEYS("lmove", 5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, cmd_lmove, cmd_lmove_multi),
    KEYS("rpoplpush", 3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, cmd_lmove, cmd_lmove_multi),
    KEYS_GK("lmpop", -4, CMD_WRITE | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_lmpop, cmd_lmpop_multi,
            keys_lmpop),
    END,
};
