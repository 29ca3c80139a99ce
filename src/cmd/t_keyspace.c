/* t_keyspace.c -- the generic keyspace commands: DEL UNLINK EXISTS TOUCH
 * TYPE, the EXPIRE and TTL families, PERSIST, KEYS SCAN RANDOMKEY DBSIZE,
 * FLUSHDB FLUSHALL SWAPDB, RENAME RENAMENX COPY MOVE, OBJECT and MEMORY.
 *
 * Threads: every cmd_<name> proc runs on the shard that owns all of the
 * command's keys. A cmd_<name>_multi body runs on the coordinator (the
 * client's home shard) and drives ops (op_<name>...) that each run on one
 * participating shard's thread; an op only writes its own tx part, except
 * the single op of an rt_tx_run_one step, which may fill tx->state because
 * nothing else runs at that moment. SCAN's route_scan runs on the home shard.
 *
 * Replies follow Redis 7.0 byte for byte, errors included.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/alloc.h"
#include "cmd.h"
#include "watch.h"

/* Redis replies this refcount for its shared small integers. */
#define KS_SHARED_REFCOUNT 2147483647LL
#define KS_SHARED_INTEGERS 10000
/* Redis's sizeof(dictEntry), counted by MEMORY USAGE. */
#define KS_DICT_ENTRY_SIZE 24
/* Redis's initial LFU counter (OBJECT FREQ of a key never read). */

#define KS_ERR_SAMEOBJ "ERR source and destination objects are the same"
#define KS_ERR_INT_RANGE "ERR value is out of range, value must between -2147483648 and 2147483647"

/* ---------------------------------------------------------------------- */
/* Small helpers. */

/* Parse an int argument as Redis's getIntFromObjectOrReply does: a bad
 * integer replies msg (or the shared not-an-integer error), one outside the
 * int range replies msg (or the out-of-range text). Returns 0 or -1. */
static int ks_int_arg(rbuf *r, const rt_arg *a, int *out, const char *msg) {
    long long v;
    if (!util_str2ll(a->p, a->len, &v)) {
        rw_error(r, msg ? msg : ERR_NOT_INT);
        return -1;
    }
    if (v < INT_MIN || v > INT_MAX) {
        rw_error(r, msg ? msg : KS_ERR_INT_RANGE);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* A database index given by the user, as SELECT-style commands check it.
 * Returns 0 if 0 <= id < ndb, else replies "DB index is out of range". */
static int ks_db_index_ok(rbuf *r, const store *st, int id) {
    if (id < 0 || id >= st->ndb) {
        rw_error(r, ERR_DB_RANGE);
        return -1;
    }
    return 0;
}

/* Look a key up for reading, counting keyspace hits and misses as Redis's
 * read lookups do. The value stays owned by the db. */
static obj *ks_lookup_read(store *st, db *d, const rt_arg *k) {
    obj *o = db_find(d, k->p, k->len);
    if (o)
        st->stats.keyspace_hits++;
    else
        st->stats.keyspace_misses++;
    return o;
}

/* The tx part holding argv index `idx`, or -1. */
static int ks_part_of(const rt_tx *tx, int idx) {
    for (int i = 0; i < tx->nparts; i++)
        for (int j = 0; j < tx->part[i].nkeys; j++)
            if (tx->part[i].keys[j] == idx) return i;
    return -1;
}

/* A per-thread generator (RANDOMKEY's choice of shard). */
static uint64_t ks_rand(void) {
    static __thread uint64_t s;
    if (s == 0) s = (uint64_t)util_ustime() * 2654435761ULL | 1;
    return util_rand_next(&s);
}

/* Whether the maxmemory-policy of this shard's configuration is an LFU
 * (want_lfu) or an LRU one. The policy lives in the config's text table, so
 * it is read back through CONFIG GET's writer. */
static int ks_policy_is(shard_state *ss, const char *kind) {
    char policy[64];
    config_get_text(&ss->cfg, "maxmemory-policy", policy, sizeof(policy));
    return strstr(policy, kind) != NULL;
}

/* ---------------------------------------------------------------------- */
/* DEL UNLINK EXISTS TOUCH: one integer per key, summed over shards. */

typedef int (*ks_key_fn)(rt_ctx *c, store *st, db *d, const rt_arg *k);

static int ks_del_one(rt_ctx *c, store *st, db *d, const rt_arg *k) {
    (void)st;
    int n = db_del(d, k->p, k->len);
    if (n) ss_dirty(c, 1);
    return n;
}

static int ks_unlink_one(rt_ctx *c, store *st, db *d, const rt_arg *k) {
    (void)st;
    int n = db_del_lazy(d, k->p, k->len);
    if (n) ss_dirty(c, 1);
    return n;
}

static int ks_exists_one(rt_ctx *c, store *st, db *d, const rt_arg *k) {
    (void)c;
    return ks_lookup_read(st, d, k) != NULL;
}

static int ks_touch_one(rt_ctx *c, store *st, db *d, const rt_arg *k) {
    (void)c;
    obj *o = ks_lookup_read(st, d, k);
    if (!o) return 0;
    (void)st; /* the lookup recorded the access */
    return 1;
}

/* Apply fn to the keys argv[idx[0..n)] (or argv[1..argc) when idx is NULL)
 * in the client's db of this shard. Returns the sum of fn's results. */
static long long ks_count_keys(rt_ctx *c, rt_arg *argv, int argc, const int *idx, int n, int dbi,
                               ks_key_fn fn) {
    store *st = ctx_store(c);
    db *d = store_db(st, dbi);
    long long sum = 0;
    if (idx) {
        for (int i = 0; i < n; i++)
            sum += fn(c, st, d, &argv[idx[i]]);
    } else {
        for (int i = 1; i < argc; i++)
            sum += fn(c, st, d, &argv[i]);
    }
    return sum;
}

static void ks_count_proc(rt_ctx *c, ks_key_fn fn) {
    rw_int(c->reply, ks_count_keys(c, c->argv, c->argc, NULL, 0, c->db, fn));
}

static void ks_count_op(rt_ctx *c, ks_key_fn fn) {
    rt_tx *tx = c->tx;
    rt_part *p = &tx->part[c->part];
    p->n = ks_count_keys(c, tx->argv, tx->argc, p->keys, p->nkeys, tx->db, fn);
}

/* Coordinator: reply the sum of every part's n. */
void cmd_count_done(rt_tx *tx) {
    long long sum = 0;
    for (int i = 0; i < tx->nparts; i++)
        sum += tx->part[i].n;
    rw_int(&tx->reply, sum);
    rt_tx_done(tx);
}

/* DEL, UNLINK, EXISTS, TOUCH across shards: each counts its part's keys
 * (one step, cmd_def.first_op), the coordinator sums. */
void op_del(rt_ctx *c) {
    ks_count_op(c, ks_del_one);
}
void op_exists(rt_ctx *c) {
    ks_count_op(c, ks_exists_one);
}
void op_touch(rt_ctx *c) {
    ks_count_op(c, ks_touch_one);
}
void op_unlink(rt_ctx *c) {
    ks_count_op(c, ks_unlink_one);
}

/* DEL frees values at once; UNLINK hands big ones to the background thread. */
void cmd_del(rt_ctx *c) {
    ks_count_proc(c, ks_del_one);
}
void cmd_unlink(rt_ctx *c) {
    ks_count_proc(c, ks_unlink_one);
}
void cmd_exists(rt_ctx *c) {
    ks_count_proc(c, ks_exists_one);
}
void cmd_touch(rt_ctx *c) {
    ks_count_proc(c, ks_touch_one);
}

/* TYPE key: a simple string, "none" for a missing key. */
void cmd_type(rt_ctx *c) {
    obj *o = ks_lookup_read(ctx_store(c), ctx_db(c), &c->argv[1]);
    rw_simple(c->reply, o ? obj_type_name(o) : "none");
}

/* ---------------------------------------------------------------------- */
/* EXPIRE family. */

#define KS_EXP_NX 1
#define KS_EXP_XX 2
#define KS_EXP_GT 4
#define KS_EXP_LT 8

/* Parse the NX/XX/GT/LT options from argv[3..]. Returns the flags, or -1
 * after replying Redis's error. */
static int ks_expire_flags(rt_ctx *c) {
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const rt_arg *a = &c->argv[j];
        if (arg_is(a, "nx"))
            flags |= KS_EXP_NX;
        else if (arg_is(a, "xx"))
            flags |= KS_EXP_XX;
        else if (arg_is(a, "gt"))
            flags |= KS_EXP_GT;
        else if (arg_is(a, "lt"))
            flags |= KS_EXP_LT;
        else {
            /* Redis prints the option as a C string: it stops at a NUL. */
            rw_errorf(c->reply, "ERR Unsupported option %.*s", (int)strnlen(a->p, a->len), a->p);
            return -1;
        }
    }
    if ((flags & KS_EXP_NX) && (flags & (KS_EXP_XX | KS_EXP_GT | KS_EXP_LT))) {
        rw_error(c->reply, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((flags & KS_EXP_GT) && (flags & KS_EXP_LT)) {
        rw_error(c->reply, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return flags;
}

/* The body of EXPIRE PEXPIRE EXPIREAT PEXPIREAT. basetime is added to the
 * argument (now for the relative forms, 0 for the absolute ones); unit is
 * 1000 when the argument is in seconds; name goes into the overflow error.
 * A deadline not after now deletes the key, as Redis does. */
static void ks_expire_generic(rt_ctx *c, long long basetime, int unit, const char *name) {
    int flags = ks_expire_flags(c);
    if (flags < 0) return;
    long long when;
    if (!util_str2ll(c->argv[2].p, c->argv[2].len, &when)) {
        rw_error(c->reply, ERR_NOT_INT);
        return;
    }
    if (unit == 1000) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            rw_errorf(c->reply, "ERR invalid expire time in '%s' command", name);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        rw_errorf(c->reply, "ERR invalid expire time in '%s' command", name);
        return;
    }
    when += basetime;

    store *st = ctx_store(c);
    db *d = ctx_db(c);
    const rt_arg *k = &c->argv[1];
    int64_t cur;
    if (db_find_exp(d, k->p, k->len, &cur) == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    if (((flags & KS_EXP_NX) && cur != -1) || ((flags & KS_EXP_XX) && cur == -1) ||
        ((flags & KS_EXP_GT) && (cur == -1 || when <= cur)) ||
        ((flags & KS_EXP_LT) && cur != -1 && when >= cur)) {
        rw_int(c->reply, 0);
        return;
    }
    if (when <= st->now_ms)
        db_del(d, k->p, k->len);
    else
        db_set_expire(d, k->p, k->len, when);
    ss_dirty(c, 1);
    rw_int(c->reply, 1);
}

void cmd_expire(rt_ctx *c) {
    ks_expire_generic(c, ctx_store(c)->now_ms, 1000, "expire");
}
void cmd_pexpire(rt_ctx *c) {
    ks_expire_generic(c, ctx_store(c)->now_ms, 1, "pexpire");
}
void cmd_expireat(rt_ctx *c) {
    ks_expire_generic(c, 0, 1000, "expireat");
}
void cmd_pexpireat(rt_ctx *c) {
    ks_expire_generic(c, 0, 1, "pexpireat");
}

/* TTL PTTL EXPIRETIME PEXPIRETIME: -2 for a missing key, -1 without a TTL;
 * otherwise the remaining (or absolute) time, never negative, in ms or in
 * seconds rounded to nearest as Redis rounds. */
static void ks_ttl_generic(rt_ctx *c, int ms, int absolute) {
    store *st = ctx_store(c);
    int64_t exp;
    obj *o = db_find_exp(ctx_db(c), c->argv[1].p, c->argv[1].len, &exp);
    if (o)
        st->stats.keyspace_hits++;
    else
        st->stats.keyspace_misses++;
    if (!o) {
        rw_int(c->reply, -2);
        return;
    }
    if (exp == -1) {
        rw_int(c->reply, -1);
        return;
    }
    /* The live clock, as Redis 7.0 reads it here: inside EXEC the key is
     * alive at the transaction's time, and its TTL may still be 0. */
    long long t = absolute ? exp : exp - util_mstime();
    if (t < 0) t = 0;
    /* Rounded to the nearest second without overflowing near LLONG_MAX. */
    rw_int(c->reply, ms ? t : t / 1000 + (t % 1000 >= 500));
}

void cmd_ttl(rt_ctx *c) {
    ks_ttl_generic(c, 0, 0);
}
void cmd_pttl(rt_ctx *c) {
    ks_ttl_generic(c, 1, 0);
}
void cmd_expiretime(rt_ctx *c) {
    ks_ttl_generic(c, 0, 1);
}
void cmd_pexpiretime(rt_ctx *c) {
    ks_ttl_generic(c, 1, 1);
}

/* PERSIST key: 1 if a TTL was removed. */
void cmd_persist(rt_ctx *c) {
    db *d = ctx_db(c);
    const rt_arg *k = &c->argv[1];
    int n = 0;
    if (db_find(d, k->p, k->len) != NULL) n = db_persist(d, k->p, k->len);
    if (n) ss_dirty(c, 1);
    rw_int(c->reply, n);
}

/* ---------------------------------------------------------------------- */
/* KEYS pattern (every shard). */

typedef struct ks_keys_acc {
    const char *pat;
    size_t plen;
    int all; /* pattern is "*" */
    rbuf *out;
    long long n;
} ks_keys_acc;

static void ks_keys_visit(void *priv, const char *key, size_t klen, obj *val) {
    (void)val;
    ks_keys_acc *a = priv;
    if (a->all || util_globmatch(a->pat, a->plen, key, klen, 0)) {
        rw_bulk(a->out, key, klen);
        a->n++;
    }
}

static void op_keys(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *p = &tx->part[c->part];
    ks_keys_acc a = {tx->argv[1].p, tx->argv[1].len, 0, &p->out, 0};
    a.all = a.plen == 1 && a.pat[0] == '*';
    db_foreach(store_db(ctx_store(c), tx->db), ks_keys_visit, &a);
    p->n = a.n;
}

/* Coordinator: one array made of every part's bulks. */
static void ks_concat_reply(rt_tx *tx) {
    long long total = 0;
    for (int i = 0; i < tx->nparts; i++)
        total += tx->part[i].n;
    rw_array(&tx->reply, total);
    for (int i = 0; i < tx->nparts; i++)
        rb_append(&tx->reply, tx->part[i].out.buf, tx->part[i].out.len);
    rt_tx_done(tx);
}

void cmd_keys_multi(rt_tx *tx) {
    rt_tx_run(tx, op_keys, ks_concat_reply);
}

/* ---------------------------------------------------------------------- */
/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
 *
 * A percore cursor is (position << bits) | shard, bits = ceil(log2(nshards)):
 * position is the shard's own db_scan cursor. When a shard's scan ends the
 * cursor moves to the next shard at position 0; after the last shard it is 0.
 * With one shard the cursor is exactly Redis's. */

/* Bits used by the shard index in a cursor. */
static int ks_scan_bits(int nshards) {
    int b = 0;
    while ((1 << b) < nshards)
        b++;
    return b;
}

int route_scan(rt_shard *home, int argc, rt_arg *argv, rbuf *err) {
    (void)argc;
    uint64_t cur;
    if (arg_cursor_or_reply(&argv[1], &cur, err) < 0) return -1;
    int ns = rt_nshards(rt_of(home));
    int bits = ks_scan_bits(ns);
    uint64_t shard = bits ? cur & ((1ULL << bits) - 1) : 0;
    /* A cursor naming no shard finishes at once on the home shard. */
    if (shard >= (uint64_t)ns) return rt_shard_id(home);
    return (int)shard;
}

typedef struct ks_scan_acc {
    const char *pat;
    size_t plen;
    const char *type;
    size_t tlen;
    rbuf out;
    long long n;
} ks_scan_acc;

static void ks_scan_visit(void *priv, const char *key, size_t klen, obj *val) {
    ks_scan_acc *a = priv;
    if (a->pat && !util_globmatch(a->pat, a->plen, key, klen, 0)) return;
    if (a->type) {
        const char *tn = obj_type_name(val);
        if (strlen(tn) != a->tlen || strncasecmp(tn, a->type, a->tlen) != 0) return;
    }
    rw_bulk(&a->out, key, klen);
    a->n++;
}

void cmd_scan(rt_ctx *c) {
    uint64_t cur;
    if (arg_cursor_or_reply(&c->argv[1], &cur, c->reply) < 0) return;
    long long count = 10;
    ks_scan_acc a = {0};
    for (int i = 2; i < c->argc;) {
        int left = c->argc - i;
        if (arg_is(&c->argv[i], "count") && left >= 2) {
            if (!util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &count)) {
                rw_error(c->reply, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                rw_error(c->reply, ERR_SYNTAX);
                return;
            }
        } else if (arg_is(&c->argv[i], "match") && left >= 2) {
            a.pat = c->argv[i + 1].p;
            a.plen = c->argv[i + 1].len;
            if (a.plen == 1 && a.pat[0] == '*') a.pat = NULL;
        } else if (arg_is(&c->argv[i], "type") && left >= 2) {
            /* TYPE stops at a NUL like Redis's C-string compare. */
            a.type = c->argv[i + 1].p;
            a.tlen = strnlen(a.type, c->argv[i + 1].len);
        } else {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
        i += 2;
    }

    int ns = rt_nshards(rt_of(c->shard));
    int bits = ks_scan_bits(ns);
    uint64_t shard = bits ? cur & ((1ULL << bits) - 1) : 0;
    uint64_t pos = cur >> bits;
    uint64_t next = 0;
    rb_init(&a.out, c->reply->resp);
    if (shard == (uint64_t)c->shard_id) {
        pos = db_scan(ctx_db(c), pos, (size_t)count, ks_scan_visit, &a);
        if (pos != 0)
            next = (pos << bits) | shard;
        else if (shard + 1 < (uint64_t)ns)
            next = shard + 1;
    }
    rw_array(c->reply, 2);
    rw_bulk_ll(c->reply, (long long)next);
    rw_array(c->reply, a.n);
    rb_append(c->reply, a.out.buf, a.out.len);
    rb_free(&a.out);
}

/* ---------------------------------------------------------------------- */
/* RANDOMKEY: a shard chosen with probability proportional to its size. */

static void op_randomkey_size(rt_ctx *c) {
    rt_tx *tx = c->tx;
    tx->part[c->part].n = (long long)db_size(store_db(ctx_store(c), tx->db));
}

static void op_randomkey_pick(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *p = &tx->part[c->part];
    const char *k;
    size_t kl;
    rb_clear(&p->out);
    if (db_random_key(store_db(ctx_store(c), tx->db), &k, &kl)) rw_bulk(&p->out, k, kl);
}

static void ks_randomkey_next(rt_tx *tx);

/* Coordinator: choose a part by weight and ask it for a key; a part that
 * turns out empty (all of its keys had expired) is dropped and the draw
 * repeated. tx->state holds the chosen part index (as a pointer-sized int). */
static void ks_randomkey_choose(rt_tx *tx) {
    long long total = 0;
    for (int i = 0; i < tx->nparts; i++)
        total += tx->part[i].n;
    if (total <= 0) {
        rw_null(&tx->reply);
        rt_tx_done(tx);
        return;
    }
    long long r = (long long)(ks_rand() % (uint64_t)total);
    int chosen = 0;
    for (int i = 0; i < tx->nparts; i++) {
        if (r < tx->part[i].n) {
            chosen = i;
            break;
        }
        r -= tx->part[i].n;
    }
    tx->state = (void *)(intptr_t)chosen;
    rt_tx_run_one(tx, chosen, op_randomkey_pick, ks_randomkey_next);
}

static void ks_randomkey_next(rt_tx *tx) {
    int chosen = (int)(intptr_t)tx->state;
    tx->state = NULL;
    rt_part *p = &tx->part[chosen];
    if (p->out.len == 0) {
        p->n = 0;
        ks_randomkey_choose(tx);
        return;
    }
    rb_append(&tx->reply, p->out.buf, p->out.len);
    rt_tx_done(tx);
}

void cmd_randomkey_multi(rt_tx *tx) {
    rt_tx_run(tx, op_randomkey_size, ks_randomkey_choose);
}

/* ---------------------------------------------------------------------- */
/* DBSIZE FLUSHDB FLUSHALL SWAPDB. */

void cmd_dbsize_multi(rt_tx *tx) {
    rt_tx_run(tx, op_randomkey_size, cmd_count_done);
}

/* FLUSHDB/FLUSHALL take no argument or one of ASYNC/SYNC. Returns 0, or -1
 * after replying the syntax error. */
static int ks_flush_args_ok(rt_tx *tx) {
    if (tx->argc == 1 ||
        (tx->argc == 2 && (arg_is(&tx->argv[1], "async") || arg_is(&tx->argv[1], "sync"))))
        return 0;
    rw_error(&tx->reply, ERR_SYNTAX);
    rt_tx_done(tx);
    return -1;
}

static void ks_ok_reply(rt_tx *tx) {
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}

/* Whether this flush frees in the background: ASYNC, or no argument with
 * lazyfree-lazy-user-flush set (as Redis decides). */
static int ks_flush_lazy(rt_ctx *c) {
    rt_tx *tx = c->tx;
    if (tx->argc == 2) return arg_is(&tx->argv[1], "async");
    char v[8];
    config_get_text(&ctx_ss(c)->cfg, "lazyfree-lazy-user-flush", v, sizeof(v));
    return strcmp(v, "yes") == 0;
}

static void op_flushdb(rt_ctx *c) {
    db *d = store_db(ctx_store(c), c->tx->db);
    ss_dirty(c, db_size(d));
    watch_touch_db(ctx_ss(c), c->tx->db);
    db_flush_lazy(d, ks_flush_lazy(c));
}

static void op_flushall(rt_ctx *c) {
    store *st = ctx_store(c);
    int lazy = ks_flush_lazy(c);
    watch_touch_db(ctx_ss(c), -1);
    for (int i = 0; i < st->ndb; i++) {
        ss_dirty(c, db_size(store_db(st, i)));
        db_flush_lazy(store_db(st, i), lazy);
    }
}

void cmd_flushdb_multi(rt_tx *tx) {
    if (ks_flush_args_ok(tx) == 0) rt_tx_run(tx, op_flushdb, ks_ok_reply);
}

void cmd_flushall_multi(rt_tx *tx) {
    if (ks_flush_args_ok(tx) == 0) rt_tx_run(tx, op_flushall, ks_ok_reply);
}

/* The two indexes of SWAPDB travel to the ops in tx->state. Every shard
 * has the same number of dbs, so either every op swaps or none does. */
typedef struct ks_swap {
    int a, b;
} ks_swap;

static void op_swapdb(rt_ctx *c) {
    const ks_swap *s = c->tx->state;
    store *st = ctx_store(c);
    rt_part *p = &c->tx->part[c->part];
    if (s->a < 0 || s->a >= st->ndb || s->b < 0 || s->b >= st->ndb) {
        p->n = -1;
        return;
    }
    p->n = 0;
    if (s->a != s->b) watch_touch_swapdb(ctx_ss(c), s->a, s->b);
    store_swapdb(st, s->a, s->b);
}

static void ks_swapdb_done(rt_tx *tx) {
    free(tx->state);
    tx->state = NULL;
    int bad = 0;
    for (int i = 0; i < tx->nparts; i++)
        bad |= tx->part[i].n < 0;
    if (bad)
        rw_error(&tx->reply, ERR_DB_RANGE);
    else
        rw_ok(&tx->reply);
    rt_tx_done(tx);
}

void cmd_swapdb_multi(rt_tx *tx) {
    int a, b;
    if (ks_int_arg(&tx->reply, &tx->argv[1], &a, "ERR invalid first DB index") < 0 ||
        ks_int_arg(&tx->reply, &tx->argv[2], &b, "ERR invalid second DB index") < 0) {
        rt_tx_done(tx);
        return;
    }
    ks_swap *s = malloc(sizeof(*s));
    if (!s) abort();
    s->a = a;
    s->b = b;
    tx->state = s;
    rt_tx_run(tx, op_swapdb, ks_swapdb_done);
}

/* ---------------------------------------------------------------------- */
/* RENAME RENAMENX COPY (and MOVE, which never leaves its shard). */

enum { KS_RENAME, KS_RENAMENX, KS_COPY };

/* COPY's options: DB n and REPLACE. Returns 0, or -1 after replying. */
static int ks_copy_args(rbuf *r, int argc, rt_arg *argv, int ndb, int *dst_db, int *replace) {
    for (int j = 3; j < argc; j++) {
        if (arg_is(&argv[j], "replace")) {
            *replace = 1;
        } else if (arg_is(&argv[j], "db") && j + 1 < argc) {
            int id;
            if (ks_int_arg(r, &argv[j + 1], &id, NULL) < 0) return -1;
            if (id < 0 || id >= ndb) {
                rw_error(r, ERR_DB_RANGE);
                return -1;
            }
            *dst_db = id;
            j++;
        } else {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

static int ks_same_key(const rt_arg *a, const rt_arg *b) {
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* RENAME/RENAMENX on one shard. */
static void ks_rename_local(rt_ctx *c, int nx) {
    db *d = ctx_db(c);
    const rt_arg *s = &c->argv[1], *t = &c->argv[2];
    if (db_find(d, s->p, s->len) == NULL) {
        rw_error(c->reply, ERR_NO_KEY);
        return;
    }
    if (ks_same_key(s, t)) {
        if (nx)
            rw_int(c->reply, 0);
        else
            rw_ok(c->reply);
        return;
    }
    if (nx && db_find(d, t->p, t->len) != NULL) {
        rw_int(c->reply, 0);
        return;
    }
    int64_t exp;
    obj *o = db_take(d, s->p, s->len, &exp);
    db_set_carry(d, t->p, t->len, o);
    if (exp != -1) db_set_expire(d, t->p, t->len, exp);
    ss_dirty(c, 1);
    if (nx)
        rw_int(c->reply, 1);
    else
        rw_ok(c->reply);
}

void cmd_rename(rt_ctx *c) {
    ks_rename_local(c, 0);
}
void cmd_renamenx(rt_ctx *c) {
    ks_rename_local(c, 1);
}

/* COPY within one shard (source and destination db may differ). */
void cmd_copy(rt_ctx *c) {
    store *st = ctx_store(c);
    int dst_db = c->db, replace = 0;
    if (ks_copy_args(c->reply, c->argc, c->argv, st->ndb, &dst_db, &replace) < 0) return;
    const rt_arg *s = &c->argv[1], *t = &c->argv[2];
    if (dst_db == c->db && ks_same_key(s, t)) {
        rw_error(c->reply, KS_ERR_SAMEOBJ);
        return;
    }
    int64_t exp;
    obj *o = db_find_exp(ctx_db(c), s->p, s->len, &exp);
    if (o)
        st->stats.keyspace_hits++;
    else
        st->stats.keyspace_misses++;
    if (!o) {
        rw_int(c->reply, 0);
        return;
    }
    db *dd = store_db(st, dst_db);
    if (!replace && db_find(dd, t->p, t->len) != NULL) {
        rw_int(c->reply, 0);
        return;
    }
    /* A new key, as in Redis: no access history taken over from the old. */
    db_del(dd, t->p, t->len);
    db_set_owned(dd, t->p, t->len, obj_dup(o), 0);
    if (exp != -1) db_set_expire(dd, t->p, t->len, exp);
    ss_dirty(c, 1);
    watch_touch_key_only(c, dst_db, t);
    rw_int(c->reply, 1);
}

/* MOVE key db: the key stays on its shard, only its db changes. */
void cmd_move(rt_ctx *c) {
    store *st = ctx_store(c);
    int id;
    if (ks_int_arg(c->reply, &c->argv[2], &id, NULL) < 0 || ks_db_index_ok(c->reply, st, id) < 0)
        return;
    if (id == c->db) {
        rw_error(c->reply, KS_ERR_SAMEOBJ);
        return;
    }
    const rt_arg *k = &c->argv[1];
    db *src = ctx_db(c), *dst = store_db(st, id);
    if (db_find(src, k->p, k->len) == NULL || db_find(dst, k->p, k->len) != NULL) {
        rw_int(c->reply, 0);
        return;
    }
    int64_t exp;
    obj *o = db_take(src, k->p, k->len, &exp);
    db_set_carry(dst, k->p, k->len, o);
    if (exp != -1) db_set_expire(dst, k->p, k->len, exp);
    ss_dirty(c, 1);
    watch_touch_key(c, id, k); /* the dirty-driven touch sees c->db only */
    rw_int(c->reply, 1);
}

/* The cross-shard form of RENAME/RENAMENX/COPY. Three steps, all under the
 * tx's hold: probe (source exists? destination exists?), take the value off
 * the source shard (detach or deep copy) into this state, store it on the
 * destination shard. The value is owned by the state between the last two
 * steps and by the destination db after. */
typedef struct ks_xmove {
    int kind;
    int src_part, dst_part;
    int dst_db, replace;
    obj *val;
    int64_t exp;
} ks_xmove;

static void ks_xmove_finish(rt_tx *tx, ks_xmove *m) {
    obj_free(m->val);
    free(m);
    tx->state = NULL;
    rt_tx_done(tx);
}

static void op_xmove_probe(rt_ctx *c) {
    rt_tx *tx = c->tx;
    const ks_xmove *m = tx->state;
    store *st = ctx_store(c);
    rt_part *p = &tx->part[c->part];
    if (c->part == m->src_part) {
        if (m->kind == KS_COPY) {
            int dst_db = tx->db, replace = 0;
            rb_clear(&p->out);
            if (ks_copy_args(&p->out, tx->argc, tx->argv, st->ndb, &dst_db, &replace) < 0) {
                p->n = -1;
                return;
            }
            p->n = ks_lookup_read(st, store_db(st, tx->db), &tx->argv[1]) != NULL;
        } else
            p->n = db_find(store_db(st, tx->db), tx->argv[1].p, tx->argv[1].len) != NULL;
    } else if (c->part == m->dst_part) {
        if (m->dst_db < 0 || m->dst_db >= st->ndb) {
            p->n = 0; /* the source's probe reports the bad DB option */
            return;
        }
        p->n = db_find(store_db(st, m->dst_db), tx->argv[2].p, tx->argv[2].len) != NULL;
    }
}

static void op_xmove_take(rt_ctx *c) {
    rt_tx *tx = c->tx;
    ks_xmove *m = tx->state;
    store *st = ctx_store(c);
    db *d = store_db(st, tx->db);
    const rt_arg *s = &tx->argv[1];
    if (m->kind == KS_COPY) {
        /* The probe's lookup counted the access. */
        obj *o = db_peek_exp(d, s->p, s->len, &m->exp);
        m->val = o ? obj_dup(o) : NULL;
    } else {
        m->val = db_take(d, s->p, s->len, &m->exp);
        if (m->val) ss_dirty(c, 1);
    }
}

static void op_xmove_store(rt_ctx *c) {
    rt_tx *tx = c->tx;
    ks_xmove *m = tx->state;
    db *d = store_db(ctx_store(c), m->dst_db);
    const rt_arg *t = &tx->argv[2];
    if (m->kind == KS_COPY) {
        db_del(d, t->p, t->len); /* a new key, as in cmd_copy */
        db_set_owned(d, t->p, t->len, m->val, 0);
    } else {
        db_set_carry(d, t->p, t->len, m->val);
    }
    m->val = NULL;
    if (m->exp != -1) db_set_expire(d, t->p, t->len, m->exp);
    ss_dirty(c, 1);
    if (m->kind == KS_COPY)
        watch_touch_key_only(c, m->dst_db, t);
    else
        watch_touch_key(c, m->dst_db, t); /* MOVE: the source's touch follows */
}

static void ks_xmove_stored(rt_tx *tx) {
    ks_xmove *m = tx->state;
    if (m->kind == KS_RENAME)
        rw_ok(&tx->reply);
    else
        rw_int(&tx->reply, 1);
    ks_xmove_finish(tx, m);
}

/* Reply for a source found missing (at probe or, if it expired meanwhile,
 * at take). */
static void ks_xmove_nosrc(rt_tx *tx, ks_xmove *m) {
    if (m->kind == KS_COPY)
        rw_int(&tx->reply, 0);
    else
        rw_error(&tx->reply, ERR_NO_KEY);
    ks_xmove_finish(tx, m);
}

static void ks_xmove_taken(rt_tx *tx) {
    ks_xmove *m = tx->state;
    if (m->val == NULL) {
        ks_xmove_nosrc(tx, m);
        return;
    }
    rt_tx_run_one(tx, m->dst_part, op_xmove_store, ks_xmove_stored);
}

static void ks_xmove_probed(rt_tx *tx) {
    ks_xmove *m = tx->state;
    rt_part *sp = &tx->part[m->src_part];
    if (sp->n < 0) {
        rb_append(&tx->reply, sp->out.buf, sp->out.len);
        ks_xmove_finish(tx, m);
        return;
    }
    if (!sp->n) {
        ks_xmove_nosrc(tx, m);
        return;
    }
    if (tx->part[m->dst_part].n &&
        (m->kind == KS_RENAMENX || (m->kind == KS_COPY && !m->replace))) {
        rw_int(&tx->reply, 0);
        ks_xmove_finish(tx, m);
        return;
    }
    rt_tx_run_one(tx, m->src_part, op_xmove_take, ks_xmove_taken);
}

/* Coordinator entry of the cross-shard forms. COPY's options are parsed
 * here only to learn the target db; the source shard's probe parses them
 * again against its real db count and owns the error reply. */
static void ks_xmove_start(rt_tx *tx, int kind) {
    ks_xmove *m = calloc(1, sizeof(*m));
    if (!m) abort();
    m->kind = kind;
    m->dst_db = tx->db;
    m->exp = -1;
    m->src_part = ks_part_of(tx, 1);
    m->dst_part = ks_part_of(tx, 2);
    tx->state = m;
    if (kind == KS_COPY) {
        rbuf scratch;
        rb_init(&scratch, tx->resp);
        ks_copy_args(&scratch, tx->argc, tx->argv, INT_MAX, &m->dst_db, &m->replace);
        rb_free(&scratch);
    }
    rt_tx_run(tx, op_xmove_probe, ks_xmove_probed);
}

void cmd_rename_multi(rt_tx *tx) {
    ks_xmove_start(tx, KS_RENAME);
}
void cmd_renamenx_multi(rt_tx *tx) {
    ks_xmove_start(tx, KS_RENAMENX);
}
void cmd_copy_multi(rt_tx *tx) {
    ks_xmove_start(tx, KS_COPY);
}

/* ---------------------------------------------------------------------- */
/* OBJECT and MEMORY. */

/* Lookup for OBJECT/MEMORY: the value or NULL after replying null. Does not
 * touch the access time, as Redis's OBJECT does not. */
static obj *ks_object_lookup(rt_ctx *c) {
    obj *o = db_peek(ctx_db(c), c->argv[2].p, c->argv[2].len);
    if (!o) rw_null(c->reply);
    return o;
}

void cmd_object_encoding(rt_ctx *c) {
    obj *o = ks_object_lookup(c);
    if (o) rw_bulk_cstr(c->reply, obj_enc_name(o));
}

/* Redis shares the integers 0..9999 (refcount INT_MAX) unless maxmemory is
 * set with an LRU or LFU policy; every other value has one reference. */
void cmd_object_refcount(rt_ctx *c) {
    obj *o = ks_object_lookup(c);
    if (!o) return;
    shard_state *ss = ctx_ss(c);
    int shared =
        o->type == OBJ_STRING && o->enc == OBJ_ENC_INT && o->v.i >= 0 &&
        o->v.i < KS_SHARED_INTEGERS &&
        !(ss->cfg.maxmemory != 0 && (ks_policy_is(ss, "-lru") || ks_policy_is(ss, "-lfu")));
    rw_int(c->reply, shared ? KS_SHARED_REFCOUNT : 1);
}

/* Seconds since the value was last accessed, from the 24-bit LRU clock. */
void cmd_object_idletime(rt_ctx *c) {
    obj *o = ks_object_lookup(c);
    if (!o) return;
    if (ctx_store(c)->lfu) {
        rw_error(c->reply, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                           "note that when switching between policies at runtime LRU and LFU data "
                           "will take some time to adjust.");
        return;
    }
    uint32_t now = store_lru_clock(ctx_store(c));
    uint32_t lru = o->lru & 0xFFFFFF;
    long long idle = now >= lru ? now - lru : now + (0xFFFFFF - lru);
    rw_int(c->reply, idle);
}

/* Frequencies are not tracked: with an LFU policy every key reports the
 * initial counter; without one, Redis's error. */
void cmd_object_freq(rt_ctx *c) {
    obj *o = ks_object_lookup(c);
    if (!o) return;
    if (!ctx_store(c)->lfu) {
        rw_error(c->reply, "ERR An LFU maxmemory policy is not selected, access frequency not "
                           "tracked. Please note that when switching between policies at runtime "
                           "LRU and LFU data will take some time to adjust.");
        return;
    }
    rw_int(c->reply, store_lfu_freq(ctx_store(c), o));
}

/* Write a HELP reply: one status line per entry. */
static void ks_help(rbuf *r, const char *const *lines, int n) {
    rw_array(r, n);
    for (int i = 0; i < n; i++)
        rw_simple(r, lines[i]);
}

void cmd_object_help(rt_ctx *c) {
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    ks_help(c->reply, lines, (int)(sizeof(lines) / sizeof(lines[0])));
}

/* MEMORY MALLOC-STATS: the allocator's report (verbatim text), or, as a
 * plain bulk, Redis's words when the allocator keeps none. */
void cmd_memory_malloc_stats(rt_ctx *c) {
    alloc_text t;
    if (alloc_stats(&t)) {
        rw_verbatim(c->reply, "txt", t.buf, t.len);
        free(t.buf);
    } else {
        static const char none[] = "Stats not supported for the current allocator";
        rw_bulk(c->reply, none, sizeof(none) - 1);
    }
}

static void op_memory_purge(rt_ctx *c) {
    (void)c;
    alloc_purge();
}

/* MEMORY PURGE: every shard's thread gives back its heap's free pages. */
void cmd_memory_purge_multi(rt_tx *tx) {
    rt_tx_run(tx, op_memory_purge, ks_ok_reply);
}

void cmd_memory_help(rt_ctx *c) {
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    };
    ks_help(c->reply, lines, (int)(sizeof(lines) / sizeof(lines[0])));
}

/* jemalloc's size class for a request of n bytes: 8, then multiples of 16
 * up to 128, then four classes per power of two. */
static size_t ks_jemalloc_size(size_t n) {
    if (n <= 8) return 8;
    if (n <= 128) return (n + 15) & ~(size_t)15;
    int k = 63 - __builtin_clzll((unsigned long long)(n - 1));
    size_t step = (size_t)1 << (k - 2);
    return (n + step - 1) & ~(step - 1);
}

/* Bytes Redis allocates for a key of klen bytes (an sds of the smallest
 * header type that holds it). */
static size_t ks_key_size(size_t klen) {
    size_t hdr = klen < 32 ? 1 : klen < 256 ? 3 : klen < 65536 ? 5 : klen < 4294967296ULL ? 9 : 17;
    return ks_jemalloc_size(hdr + klen + 1);
}

/* MEMORY USAGE key [SAMPLES n]: the value's size plus its key and table
 * entry, as Redis counts them. SAMPLES is validated and otherwise ignored
 * (sizes are computed exactly). */
void cmd_memory_usage(rt_ctx *c) {
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "samples") && j + 1 < c->argc) {
            long long samples;
            if (!util_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &samples)) {
                rw_error(c->reply, ERR_NOT_INT);
                return;
            }
            if (samples < 0) {
                rw_error(c->reply, ERR_SYNTAX);
                return;
            }
            j++;
        } else {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
    }
    obj *o = ks_object_lookup(c);
    if (!o) return;
    size_t usage = obj_mem_usage(o) + ks_key_size(c->argv[2].len) + KS_DICT_ENTRY_SIZE;
    rw_int(c->reply, (long long)usage);
}
