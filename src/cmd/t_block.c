/* t_block.c -- the blocking commands BLPOP, BRPOP, BRPOPLPUSH, BLMOVE,
 * BLMPOP, BZPOPMIN, BZPOPMAX and BZMPOP, with Redis 7.0's replies, and the
 * machinery that makes a client wait for a key on any shard.
 *
 * Design (shared-nothing):
 *
 * - Outside MULTI a blocking command always runs as a transaction over its
 *   keys' shards (block_plan turns even a one-shard request into one). The
 *   body checks every key while all shards are held and serves the first
 *   non-empty one in argument order, as the non-blocking form would.
 * - If nothing can be served, each key's shard gets a registration
 *   (waiter id, home shard) appended to that key's FIFO in the shard's
 *   table, the home shard files the waiter (its tx state) under its id, and
 *   the tx gives its shards back with rt_tx_release. The tx stays pending,
 *   so the connection's reply slot is kept and its later requests wait.
 * - After any write on a shard with registrations (block_after_write, called
 *   by the dispatcher after command bodies and tx ops), each key named by
 *   the command that now holds a value of the awaited type wakes the first
 *   registration of its FIFO (one at a time per key and db, which keeps
 *   FIFO order among waiters): an rt_post to the waiter's home shard.
 * - The woken waiter takes its shards again (rt_tx_reacquire) and retries,
 *   serving the key that woke it first. If it is served its registrations
 *   are removed on every shard (which wakes the next waiter of each key that
 *   is still ready); if not (another client was faster) it re-arms and gives
 *   its shards back again.
 * - Timeouts and closed connections are found by the home shard's cron (hz,
 *   the precision Redis has), a hang-up also by a woken waiter before it
 *   pops; CLIENT UNBLOCK and CLIENT KILL mark the waiter. All of them end
 *   the same way: take the shards, remove the registrations, reply (null
 *   array, or the UNBLOCKED error), finish.
 * - Inside MULTI/EXEC (the single-shard proc, or a nested tx, which has no
 *   connection) the commands never block: they answer null at once.
 *
 * Threading: the registration tables of shard i (block_slots[i].tab) are
 * touched only by shard i's thread: key registrations inside tx ops on it,
 * its own waiters on it as their home. A waiter is found by id, never by a
 * pointer held on another shard.
 */
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../ds/dict.h"
#include "../store/list.h"
#include "../store/zset.h"
#include "block.h"
#include "cmd_rows.h"
#include "type_util.h"

block_slot block_slots[BLOCK_MAX_SHARDS];
static _Atomic long blocked_clients; /* relaxed: INFO only */
static _Atomic long timed_clients;   /* ... of them with a timeout; relaxed: INFO only */

enum {
    BK_BLPOP,
    BK_BRPOP,
    BK_BLMOVE,
    BK_BRPOPLPUSH,
    BK_BLMPOP,
    BK_BZPOPMIN,
    BK_BZPOPMAX,
    BK_BZMPOP
};
enum { AB_NONE, AB_TIMEOUT, AB_ERROR, AB_CLOSED };
enum { KS_ABSENT, KS_READY, KS_WRONG }; /* what a check found at a key */

/* One registration: a waiter waits on a key of this shard. */
typedef struct breg {
    struct breg *next;
    uint64_t wid; /* the waiter's id on its home shard */
    int home;
    int db;
    int type; /* OBJ_LIST or OBJ_ZSET */
    int argidx;
    int notified; /* woken, its retry not yet done */
} breg;

/* The FIFO of registrations of one key name (all dbs), dict value. */
typedef struct bkey {
    breg *head, *tail;
} bkey;

/* A blocking command in progress: the tx's state, and while it waits the
 * home shard's record of it. */
typedef struct bstate {
    int kind, type;
    int first, nkeys;   /* keys are argv[first .. first+nkeys) */
    int dst;            /* BLMOVE/BRPOPLPUSH destination's argv index, else 0 */
    int from, to;       /* list ends; for zsets from = 1 pops the max */
    long long count;    /* -1: the single-element form */
    int64_t deadline;   /* ms, 0 = none */
    int64_t gone_check; /* ms: when block_cron next asks whether the client hung up */
    int *part_of;       /* [argc] part of each key argument, -1 otherwise */
    int can_block;
    int registered;
    int retry;     /* woken before: only ready keys count, wrong types wait */
    int pref;      /* argv index of the key that woke us, 0 none */
    int abort;     /* AB_* */
    int unblocked; /* the abort came from CLIENT UNBLOCK */
    int serve;     /* argv index chosen to pop */
    char *val;     /* BLMOVE: the element between pop and push */
    size_t vlen;
    /* Home side. */
    rt_tx *tx;
    uint64_t wid;
    uint64_t client_id;
    int filed;   /* in the home table */
    int waiting; /* released, nothing under way */
    struct bstate *prev, *next;
} bstate;

/* The tables of one shard. */
typedef struct bshard {
    dict *keys;    /* key name -> bkey* (registrations on this shard) */
    dict *waiters; /* wid (8 bytes) -> bstate* (waiters whose home is this shard) */
    bstate *wlist;
    uint64_t next_wid;
} bshard;

static bshard *bs_get(int id) {
    bshard *b = block_slots[id].tab;
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL) abort();
        b->keys = dict_new();
        b->waiters = dict_new();
        block_slots[id].tab = b;
    }
    return b;
}

/* ---------------------------------------------------------------------- */
/* Parsing. */

static const char *const err_timeout_float = "ERR timeout is not a float or out of range";

/* The timeout argument as Redis reads it: seconds as a float, rounded up
 * to ms; 0 = forever. Returns 0 with *deadline (absolute ms or 0), or -1
 * after the error reply. */
static int timeout_or_reply(rbuf *r, const rt_arg *a, int64_t *deadline) {
    long double ld;
    if (arg_ld_or_reply(r, a, &ld, err_timeout_float) < 0) return -1;
    long long ms = (long long)ceill(ld * 1000.0L);
    if (ms < 0) {
        rw_error(r, "ERR timeout is negative");
        return -1;
    }
    *deadline = ms > 0 ? util_mstime() + ms : 0;
    return 0;
}

/* BLMPOP / BZMPOP: timeout numkeys key... end [COUNT n], checked in Redis's
 * order (the timeout last). */
static int mpop_parse(rbuf *r, int argc, const rt_arg *argv, bstate *st) {
    long long nk;
    if (arg_range_or_reply(r, &argv[2], 1, LONG_MAX, &nk, "ERR numkeys should be greater than 0") <
        0)
        return -1;
    if (nk > argc - 4) {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    int wi = 3 + (int)nk;
    if (st->type == OBJ_LIST) {
        if (where_or_reply(r, &argv[wi], &st->from) < 0) return -1;
    } else if (arg_is(&argv[wi], "min")) {
        st->from = 0;
    } else if (arg_is(&argv[wi], "max")) {
        st->from = 1;
    } else {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    st->count = -1;
    for (int j = wi + 1; j < argc; j++) {
        if (st->count == -1 && arg_is(&argv[j], "count") && j < argc - 1) {
            if (arg_range_or_reply(r, &argv[++j], 1, LONG_MAX, &st->count,
                                   "ERR count should be greater than 0") < 0)
                return -1;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    if (st->count == -1) st->count = 1;
    st->first = 3;
    st->nkeys = (int)nk;
    return timeout_or_reply(r, &argv[1], &st->deadline);
}

static int kind_of(const cmd_def *cmd) {
    const char *n = cmd->name;
    if (!strcmp(n, "blpop")) return BK_BLPOP;
    if (!strcmp(n, "brpop")) return BK_BRPOP;
    if (!strcmp(n, "blmove")) return BK_BLMOVE;
    if (!strcmp(n, "brpoplpush")) return BK_BRPOPLPUSH;
    if (!strcmp(n, "blmpop")) return BK_BLMPOP;
    if (!strcmp(n, "bzpopmin")) return BK_BZPOPMIN;
    if (!strcmp(n, "bzpopmax")) return BK_BZPOPMAX;
    return BK_BZMPOP;
}

/* Parse a request into st. Returns 0, or -1 after the error reply. */
static int block_parse(rbuf *r, const cmd_def *cmd, int argc, const rt_arg *argv, bstate *st) {
    st->kind = kind_of(cmd);
    st->count = -1;
    st->type = st->kind >= BK_BZPOPMIN ? OBJ_ZSET : OBJ_LIST;
    switch (st->kind) {
    case BK_BLPOP:
    case BK_BRPOP:
    case BK_BZPOPMIN:
    case BK_BZPOPMAX:
        /* LIST_TAIL for BRPOP, 1 = max for BZPOPMAX. */
        st->from = st->kind == BK_BRPOP ? LIST_TAIL : st->kind == BK_BZPOPMAX ? 1 : LIST_HEAD;
        st->first = 1;
        st->nkeys = argc - 2;
        return timeout_or_reply(r, &argv[argc - 1], &st->deadline);
    case BK_BRPOPLPUSH:
        st->from = LIST_TAIL;
        st->to = LIST_HEAD;
        st->first = 1;
        st->nkeys = 1;
        st->dst = 2;
        return timeout_or_reply(r, &argv[3], &st->deadline);
    case BK_BLMOVE:
        if (where_or_reply(r, &argv[3], &st->from) < 0 || where_or_reply(r, &argv[4], &st->to) < 0)
            return -1;
        st->first = 1;
        st->nkeys = 1;
        st->dst = 2;
        return timeout_or_reply(r, &argv[5], &st->deadline);
    default:
        return mpop_parse(r, argc, argv, st);
    }
}

/* The reply of a request that may not block and found nothing. */
static void reply_nothing(rbuf *r, const bstate *st) {
    if (st->dst)
        rw_null(r);
    else
        rw_null_array(r);
}

/* ---------------------------------------------------------------------- */
/* Popping, on the shard that owns the key (c's). */

/* Pop from the value o at argv[j] and write the command's reply into r
 * (every form but the moves). Deletes the key when it empties. */
static void pop_reply(rt_ctx *c, rbuf *r, const bstate *st, const rt_arg *argv, int j, obj *o) {
    const rt_arg *key = &argv[j];
    long long n = 0;
    if (st->type == OBJ_LIST) {
        long long len = (long long)list_len(o);
        n = st->count < 0 ? 1 : (st->count > len ? len : st->count);
        rw_array(r, 2);
        rw_bulk(r, key->p, key->len);
        if (st->count >= 0) rw_array(r, n);
        for (long long i = 0; i < n; i++) {
            size_t vl;
            char *v = list_pop(o, st->from, &vl);
            rw_bulk(r, v, vl);
            free(v);
        }
        if (list_len(o) == 0) db_del(ctx_cdb(c), key->p, key->len);
    } else {
        long long len = (long long)zset_len(o);
        n = st->count < 0 ? 1 : (st->count > len ? len : st->count);
        if (st->count < 0) {
            rw_array(r, 3);
            rw_bulk(r, key->p, key->len);
        } else {
            rw_array(r, 2);
            rw_bulk(r, key->p, key->len);
            rw_array(r, n);
        }
        for (long long i = 0; i < n; i++) {
            member_copy mc;
            long at = st->from ? (long)zset_len(o) - 1 : 0;
            zset_range_rank(o, at, at, 0, member_copy_visit, &mc);
            zset_del(o, mc.m, mc.ml);
            if (st->count >= 0) rw_array(r, 2);
            rw_bulk(r, mc.m, mc.ml);
            rw_double(r, mc.score);
            free(mc.m);
        }
        if (zset_len(o) == 0) db_del(ctx_cdb(c), key->p, key->len);
    }
    ss_dirty(c, (uint64_t)n);
}

/* Push val at the `to` end of the list at key, creating it. */
static void push_one(rt_ctx *c, const rt_arg *key, int to, const char *val, size_t len) {
    obj *o = db_find(ctx_cdb(c), key->p, key->len);
    if (o == NULL) {
        o = list_new(ctx_store(c)->enc.list_max_listpack_size);
        db_set(ctx_cdb(c), key->p, key->len, o, 0);
    }
    list_push(o, to, val, len);
    ss_dirty(c, 1);
}

/* The single-shard body: runs only inside MULTI/EXEC (outside, block_plan
 * makes every request a transaction), so it never blocks. */
static void cmd_block(rt_ctx *c) {
    bstate st = {0};
    if (block_parse(c->reply, c->cmd, c->argc, c->argv, &st) < 0) return;
    for (int j = st.first; j < st.first + st.nkeys; j++) {
        obj *o;
        if (lookup_write(c, &c->argv[j], st.type, &o, c->reply) < 0) return;
        if (o == NULL) continue;
        if (!st.dst) {
            pop_reply(c, c->reply, &st, c->argv, j, o);
            return;
        }
        obj *d;
        if (lookup_write(c, &c->argv[st.dst], OBJ_LIST, &d, c->reply) < 0) return;
        size_t vl;
        char *v = list_pop(o, st.from, &vl);
        if (list_len(o) == 0) db_del(ctx_cdb(c), c->argv[j].p, c->argv[j].len);
        ss_dirty(c, 1);
        push_one(c, &c->argv[st.dst], st.to, v, vl);
        rw_bulk(c->reply, v, vl);
        free(v);
        return;
    }
    reply_nothing(c->reply, &st);
}

/* ---------------------------------------------------------------------- */
/* Registrations (on the key's shard, inside tx ops). */

static void reg_free_key(dict_entry *e) {
    bkey *k = e->v.p;
    for (breg *r = k->head, *n; r; r = n) {
        n = r->next;
        free(r);
    }
    free(k);
}

/* 1 if db `db` of the shard holds a value of `type` at key. */
static int key_ready(shard_state *ss, int db, int type, const char *key, size_t klen) {
    obj *o = db_find(store_db(ss->st, db), key, klen);
    return o != NULL && o->type == type;
}

static void wake_on_home(rt_shard *s, void *arg);

/* Wake, for each db, the first registration of key whose value is ready,
 * unless it is already woken (then its retry will wake the next). */
static void kick_key(rt_shard *s, shard_state *ss, const char *key, size_t klen, bkey *k) {
    int done[16], ndone = 0;
    for (breg *r = k->head; r; r = r->next) {
        int seen = 0;
        for (int i = 0; i < ndone && !seen; i++)
            seen = done[i] == r->db;
        if (seen || !key_ready(ss, r->db, r->type, key, klen)) continue;
        if (ndone < 16) done[ndone++] = r->db;
        if (r->notified) continue;
        r->notified = 1;
        uintptr_t v = (uintptr_t)(r->wid << 16) | (uintptr_t)(r->argidx < 65536 ? r->argidx : 0);
        rt_post(s, r->home, wake_on_home, (void *)v);
    }
}

/* The keys of st that live on this op's part, each name once. Calls fn. */
typedef void (*key_fn)(rt_ctx *c, bstate *st, int j);
static void foreach_part_key(rt_ctx *c, bstate *st, key_fn fn) {
    const rt_arg *argv = c->tx->argv;
    for (int j = st->first; j < st->first + st->nkeys; j++) {
        if (st->part_of[j] != c->part) continue;
        int dup = 0;
        for (int i = st->first; i < j && !dup; i++)
            dup = argv[i].len == argv[j].len && !memcmp(argv[i].p, argv[j].p, argv[j].len);
        if (!dup) fn(c, st, j);
    }
}

static void reg_add(rt_ctx *c, bstate *st, int j) {
    bshard *b = bs_get(c->shard_id);
    const rt_arg *key = &c->tx->argv[j];
    int added;
    dict_entry *e = dict_add(b->keys, key->p, key->len, &added);
    if (added) {
        e->v.p = calloc(1, sizeof(bkey));
        if (e->v.p == NULL) abort();
    }
    bkey *k = e->v.p;
    breg *r = calloc(1, sizeof(*r));
    if (r == NULL) abort();
    r->wid = st->wid;
    r->home = rt_shard_id(rt_tx_coord(c->tx));
    r->db = c->tx->db;
    r->type = st->type;
    r->argidx = j;
    if (k->tail)
        k->tail->next = r;
    else
        k->head = r;
    k->tail = r;
    block_slots[c->shard_id].nreg++;
}

static void reg_rearm(rt_ctx *c, bstate *st, int j) {
    bshard *b = bs_get(c->shard_id);
    const rt_arg *key = &c->tx->argv[j];
    dict_entry *e = dict_find(b->keys, key->p, key->len);
    if (e == NULL) return;
    for (breg *r = ((bkey *)e->v.p)->head; r; r = r->next)
        if (r->wid == st->wid && r->home == rt_shard_id(rt_tx_coord(c->tx))) r->notified = 0;
}

static void reg_del(rt_ctx *c, bstate *st, int j) {
    bshard *b = bs_get(c->shard_id);
    const rt_arg *key = &c->tx->argv[j];
    dict_entry *e = dict_find(b->keys, key->p, key->len);
    if (e == NULL) return;
    bkey *k = e->v.p;
    int home = rt_shard_id(rt_tx_coord(c->tx));
    breg **pp = &k->head, *prev = NULL;
    while (*pp) {
        breg *r = *pp;
        if (r->wid == st->wid && r->home == home) {
            *pp = r->next;
            if (k->tail == r) k->tail = prev;
            free(r);
            block_slots[c->shard_id].nreg--;
        } else {
            prev = r;
            pp = &r->next;
        }
    }
    if (k->head == NULL) {
        dict_entry *u = dict_unlink(b->keys, key->p, key->len);
        free(u->v.p);
        dict_entry_free(u);
        dict_shrink(b->keys);
        return;
    }
    kick_key(c->shard, ctx_ss(c), key->p, key->len, k);
}

static void op_reg(rt_ctx *c) {
    foreach_part_key(c, c->tx->state, reg_add);
}
static void op_rearm(rt_ctx *c) {
    foreach_part_key(c, c->tx->state, reg_rearm);
}
static void op_unreg(rt_ctx *c) {
    foreach_part_key(c, c->tx->state, reg_del);
}

void block_after_write(rt_ctx *c, uint64_t dirty_before) {
    shard_state *ss = ctx_ss(c);
    const cmd_def *cmd = c->tx ? c->tx->cmd : c->cmd; /* a command's body or a step of it */
    /* Write commands count, even where a step did not count a change (the
     * push half of a cross-shard LMOVE). */
    if (ss->dirty == dirty_before && !(cmd->flags & CMD_WRITE)) return;
    bshard *b = block_slots[c->shard_id].tab;
    if (cmd->route == CMD_ROUTE_ALL) {
        /* FLUSHALL, SWAPDB ...: no key names; look at every waited key. */
        dict_iter it;
        dict_iter_init(&it, b->keys);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL)
            kick_key(c->shard, ss, e->key, e->klen, e->v.p);
        return;
    }
    int argc = c->tx ? c->tx->argc : c->argc;
    rt_arg *argv = c->tx ? c->tx->argv : c->argv;
    /* The command's key positions: a value or an option that happens to
     * name a waited key is no key (and is not worth a lookup). */
    int stack[16];
    int *keys = argc <= 16 ? stack : malloc(sizeof(int) * (size_t)argc);
    if (!keys) abort();
    rbuf err;
    rb_init(&err, 2);
    int n = cmd_key_positions(cmd, argc, argv, keys, &err);
    rb_free(&err);
    for (int i = 0; i < n; i++) {
        const rt_arg *k = &argv[keys[i]];
        dict_entry *e = dict_find(b->keys, k->p, k->len);
        if (e) kick_key(c->shard, ss, k->p, k->len, e->v.p);
    }
    if (keys != stack) free(keys);
}

/* ---------------------------------------------------------------------- */
/* The transaction body (coordinator), its ops and the home-side waiting. */

static void attempt(rt_tx *tx);
static void block_retry(rt_tx *tx);
static int client_gone(rt_tx *tx);

/* Step: every part notes what each of its keys (and BLMOVE's destination)
 * holds, one KS_* per argv index, in its part.ptr. */
static void op_check(rt_ctx *c) {
    bstate *st = c->tx->state;
    rt_part *pt = &c->tx->part[c->part];
    unsigned char *ks = pt->ptr;
    const rt_arg *argv = c->tx->argv;
    for (int j = 0; j < c->tx->argc; j++) {
        if (st->part_of[j] != c->part) continue;
        obj *o = db_find(ctx_cdb(c), argv[j].p, argv[j].len);
        int type = j == st->dst ? OBJ_LIST : st->type;
        ks[j] = o == NULL ? KS_ABSENT : o->type == type ? KS_READY : KS_WRONG;
    }
}

/* Step on the chosen key's part: pop into part.out (or st->val for moves). */
static void op_pop(rt_ctx *c) {
    bstate *st = c->tx->state;
    const rt_arg *key = &c->tx->argv[st->serve];
    obj *o = db_find(ctx_cdb(c), key->p, key->len);
    if (!st->dst) {
        pop_reply(c, &c->tx->part[c->part].out, st, c->tx->argv, st->serve, o);
        return;
    }
    st->val = list_pop(o, st->from, &st->vlen);
    if (list_len(o) == 0) db_del(ctx_cdb(c), key->p, key->len);
    ss_dirty(c, 1);
}

static void op_push(rt_ctx *c) {
    bstate *st = c->tx->state;
    push_one(c, &c->tx->argv[st->dst], st->to, st->val, st->vlen);
}

static void unfile(bstate *st) {
    if (!st->filed) return;
    bshard *b = bs_get(rt_shard_id(rt_tx_coord(st->tx)));
    dict_entry *u = dict_unlink(b->waiters, (const char *)&st->wid, sizeof(st->wid));
    dict_entry_free(u);
    dict_shrink(b->waiters);
    if (st->prev)
        st->prev->next = st->next;
    else
        b->wlist = st->next;
    if (st->next) st->next->prev = st->prev;
    st->filed = 0;
    atomic_fetch_sub_explicit(&blocked_clients, 1, memory_order_relaxed);
    if (st->deadline) atomic_fetch_sub_explicit(&timed_clients, 1, memory_order_relaxed);
}

static void state_free(rt_tx *tx) {
    bstate *st = tx->state;
    unfile(st);
    for (int p = 0; p < tx->nparts; p++) {
        free(tx->part[p].ptr);
        tx->part[p].ptr = NULL;
    }
    free(st->part_of);
    free(st->val);
    free(st);
    tx->state = NULL;
}

static void finish(rt_tx *tx) {
    /* As Redis counts them: a wait that timed out, or whose client was
     * killed or hung up, is a call with no latency sample; one that CLIENT
     * UNBLOCK ended (TIMEOUT or ERROR) is a failed call, with its sample. */
    bstate *st = tx->state;
    if (st->unblocked)
        tx->stat_flags |= TX_STAT_FAILED;
    else if (st->abort == AB_TIMEOUT || st->abort == AB_CLOSED)
        tx->stat_flags |= TX_STAT_NO_LATENCY;
    state_free(tx);
    rt_tx_done(tx);
}

/* The reply is in tx->reply: drop the registrations, then finish. */
static void end(rt_tx *tx) {
    bstate *st = tx->state;
    if (st->registered)
        rt_tx_run(tx, op_unreg, finish);
    else
        finish(tx);
}

static void after_push(rt_tx *tx) {
    bstate *st = tx->state;
    rw_bulk(&tx->reply, st->val, st->vlen);
    end(tx);
}

static void after_pop(rt_tx *tx) {
    bstate *st = tx->state;
    if (st->dst) {
        rt_tx_run_one(tx, st->part_of[st->dst], op_push, after_push);
        return;
    }
    rt_part *pt = &tx->part[st->part_of[st->serve]];
    rb_append(&tx->reply, pt->out.buf, pt->out.len);
    end(tx);
}

/* Released: file the waiter on its home shard (once) and give the shards
 * back until a wake-up, the timeout, CLIENT UNBLOCK or a disconnect. */
static void after_reg(rt_tx *tx) {
    bstate *st = tx->state;
    st->registered = 1;
    st->retry = 1;
    st->pref = 0;
    if (!st->filed) {
        bshard *b = bs_get(rt_shard_id(rt_tx_coord(tx)));
        int added;
        dict_entry *e = dict_add(b->waiters, (const char *)&st->wid, sizeof(st->wid), &added);
        e->v.p = st;
        st->prev = NULL;
        st->next = b->wlist;
        if (b->wlist) b->wlist->prev = st;
        b->wlist = st;
        st->filed = 1;
        atomic_fetch_add_explicit(&blocked_clients, 1, memory_order_relaxed);
        if (st->deadline) atomic_fetch_add_explicit(&timed_clients, 1, memory_order_relaxed);
    }
    st->waiting = 1;
    rt_tx_release(tx);
}

/* The merged check: the key to serve, or none. First attempt: the first key
 * in argument order that exists decides (WRONGTYPE if it holds another
 * type). Retries: the key that woke us, else the first ready one; other
 * types are ignored as Redis ignores them for a blocked client. */
static void after_check(rt_tx *tx) {
    bstate *st = tx->state;
    unsigned char *ks = calloc((size_t)tx->argc, 1);
    if (ks == NULL) abort();
    for (int j = 0; j < tx->argc; j++)
        if (st->part_of[j] >= 0) ks[j] = ((unsigned char *)tx->part[st->part_of[j]].ptr)[j];
    int pick = 0, wrong = 0;
    if (st->retry && st->pref && ks[st->pref] == KS_READY) pick = st->pref;
    for (int j = st->first; !pick && !wrong && j < st->first + st->nkeys; j++) {
        if (ks[j] == KS_READY)
            pick = j;
        else if (ks[j] == KS_WRONG && !st->retry)
            wrong = 1;
    }
    if (pick && st->dst && ks[st->dst] == KS_WRONG) wrong = 1;
    free(ks);
    if (wrong) {
        rw_error(&tx->reply, ERR_WRONGTYPE);
        end(tx);
        return;
    }
    if (pick) {
        st->serve = pick;
        rt_tx_run_one(tx, st->part_of[pick], op_pop, after_pop);
        return;
    }
    if (!st->can_block) {
        reply_nothing(&tx->reply, st);
        end(tx);
        return;
    }
    rt_tx_run(tx, st->registered ? op_rearm : op_reg, after_reg);
}

/* With every shard held: end an aborted wait, or look at the keys. */
static void attempt(rt_tx *tx) {
    bstate *st = tx->state;
    if (st->abort) {
        if (st->abort == AB_ERROR)
            rw_error(&tx->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else if (st->abort == AB_TIMEOUT)
            rw_null_array(&tx->reply);
        else if (st->abort == AB_CLOSED && rt_tx_conn(tx))
            /* It hung up: what it sent after the blocking command must not
             * run (a queued BLPOP would take a later push for nobody). */
            rt_conn_close_after_reply(rt_tx_conn(tx));
        end(tx);
        return;
    }
    rt_tx_run(tx, op_check, after_check);
}

/* 1 if the client hung up. A waiting connection whose later requests are
 * queued is not read by the runtime, so its EOF may not have been seen yet;
 * the socket tells (as Redis, which keeps reading, would have noticed). */
static int client_gone(rt_tx *tx) {
    rt_conn *conn = rt_tx_conn(tx);
    if (conn == NULL) return 1;
    struct pollfd p = {.fd = rt_conn_fd(conn), .events = POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void block_retry(rt_tx *tx) {
    bstate *st = tx->state;
    tx->now_ms = util_mstime(); /* time has passed while it waited */
    /* Its latency is that of the attempt that answers, as Redis leaves
     * the time blocked out. */
    tx->start_us = rt_shard_clock(rt_tx_coord(tx));
    if (!st->abort && client_gone(tx)) st->abort = AB_CLOSED;
    attempt(tx);
}

/* Take the shards again and retry (or end the wait, per st->abort). */
static void wake(bstate *st) {
    st->waiting = 0;
    rt_tx_reacquire(st->tx, block_retry);
}

static bstate *find_waiter(bshard *b, uint64_t wid) {
    dict_entry *e = dict_find(b->waiters, (const char *)&wid, sizeof(wid));
    return e ? e->v.p : NULL;
}

/* On the home shard: a key this waiter waits on became ready. */
static void wake_on_home(rt_shard *s, void *arg) {
    uintptr_t v = (uintptr_t)arg;
    bstate *st = find_waiter(bs_get(rt_shard_id(s)), (uint64_t)(v >> 16));
    if (st == NULL || !st->waiting) return;
    st->pref = (int)(v & 0xffff);
    wake(st);
}

/* The multi-shard body (coordinator; all parts held). */
static void cmd_block_multi(rt_tx *tx) {
    bstate *st = calloc(1, sizeof(*st));
    if (st == NULL) abort();
    if (block_parse(&tx->reply, tx->cmd, tx->argc, tx->argv, st) < 0) {
        free(st);
        rt_tx_done(tx);
        return;
    }
    rt_shard *home = rt_tx_coord(tx);
    rt *r = rt_of(home);
    st->tx = tx;
    st->client_id = tx->client_id;
    st->can_block = rt_tx_conn(tx) != NULL;
    st->wid = ++bs_get(rt_shard_id(home))->next_wid;
    st->part_of = malloc(sizeof(int) * (size_t)tx->argc);
    if (st->part_of == NULL) abort();
    for (int j = 0; j < tx->argc; j++) {
        st->part_of[j] = -1;
        if ((j < st->first || j >= st->first + st->nkeys) && (j != st->dst || !st->dst)) continue;
        int sh = rt_key_shard(r, tx->argv[j].p, tx->argv[j].len);
        for (int p = 0; p < tx->nparts; p++)
            if (tx->part[p].shard == sh) st->part_of[j] = p;
    }
    for (int p = 0; p < tx->nparts; p++) {
        tx->part[p].ptr = calloc((size_t)tx->argc, 1);
        if (tx->part[p].ptr == NULL) abort();
    }
    tx->state = st;
    attempt(tx);
}

/* ---------------------------------------------------------------------- */
/* Dispatcher hooks. */

int block_plan(rt_shard *home, const cmd_def *cmd, int argc, const rt_arg *argv, const int *keys,
               int nkeys, rt_plan *plan) {
    (void)argc;
    if (cmd->multi != cmd_block_multi) return 0;
    rt *r = rt_of(home);
    int n = rt_nshards(r);
    unsigned char used[BLOCK_MAX_SHARDS] = {0};
    for (int k = 0; k < nkeys; k++)
        used[rt_key_shard(r, argv[keys[k]].p, argv[keys[k]].len)] = 1;
    int *shards = rt_plan_keybuf(home, n);
    int ns = 0;
    for (int i = 0; i < n; i++)
        if (used[i]) shards[ns++] = i;
    plan->kind = RT_PLAN_ALL;
    plan->shards = shards;
    plan->nshards = ns;
    return 1;
}

void block_cron(rt_shard *s) {
    bshard *b = block_slots[rt_shard_id(s)].tab;
    if (b == NULL || b->wlist == NULL) return;
    int64_t now = util_mstime();
    for (bstate *st = b->wlist; st; st = st->next) {
        if (!st->waiting) continue;
        /* A hang-up is seen at once when the runtime closed the connection
         * (reset), else by a poll of its socket (a FIN: a waiting client's
         * input is not read), at most once a second per client. */
        if (!rt_tx_conn(st->tx))
            st->abort = AB_CLOSED;
        else if (now >= st->gone_check && (st->gone_check = now + 1000, client_gone(st->tx)))
            st->abort = AB_CLOSED;
        else if (st->deadline && now >= st->deadline)
            st->abort = AB_TIMEOUT;
        if (st->abort) wake(st);
    }
}

int block_unblock(rt_shard *s, uint64_t client_id, int how) {
    bshard *b = block_slots[rt_shard_id(s)].tab;
    for (bstate *st = b ? b->wlist : NULL; st; st = st->next) {
        if (st->client_id != client_id || st->abort) continue;
        st->abort = how == BLOCK_END_ERROR  ? AB_ERROR
                    : how == BLOCK_END_KILL ? AB_CLOSED
                                            : AB_TIMEOUT;
        st->unblocked = how != BLOCK_END_KILL;
        if (st->waiting) wake(st);
        return 1;
    }
    return 0;
}

long block_count(void) {
    return atomic_load_explicit(&blocked_clients, memory_order_relaxed);
}

long block_timed_count(void) {
    return atomic_load_explicit(&timed_clients, memory_order_relaxed);
}

void block_shard_free(int shard_id) {
    bshard *b = block_slots[shard_id].tab;
    if (b == NULL) return;
    while (b->wlist) {
        rt_tx *tx = b->wlist->tx;
        state_free(tx); /* unfiles it */
        rt_tx_abandon(tx);
    }
    dict_free(b->keys, reg_free_key);
    dict_free(b->waiters, NULL);
    free(b);
    block_slots[shard_id].tab = NULL;
    block_slots[shard_id].nreg = 0;
}

/* ---------------------------------------------------------------------- */

#define BLK(name, arity, flags, fk, lk)                                                            \
    KEYS(name, arity, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | (flags), fk, lk, 1, cmd_block,     \
         cmd_block_multi)

/* BLMPOP/BZMPOP: argv[3 .. 3+numkeys) when numkeys fits the arguments. */
static int keys_bmpop(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    long long nk;
    if (!util_str2ll(argv[2].p, argv[2].len, &nk) || nk < 1 || nk > argc - 3) return 0;
    for (int j = 0; j < (int)nk; j++)
        keys[j] = 3 + j;
    return (int)nk;
}

cmd_def cmd_rows_block[] = {
    BLK("blpop", -3, 0, 1, -2),
    BLK("brpop", -3, 0, 1, -2),
    BLK("brpoplpush", 4, CMD_DENYOOM, 1, 2),
    BLK("blmove", 6, CMD_DENYOOM, 1, 2),
    BLK("bzpopmin", -3, CMD_FAST, 1, -2),
    BLK("bzpopmax", -3, CMD_FAST, 1, -2),
    KEYS_GK("blmpop", -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_block,
            cmd_block_multi, keys_bmpop),
    KEYS_GK("bzmpop", -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, 0, 0, 0, cmd_block,
            cmd_block_multi, keys_bmpop),
    END,
};
