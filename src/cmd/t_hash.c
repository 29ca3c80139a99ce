/* t_hash.c -- the hash command family (HSET, HGET, HINCRBY*, HGETALL,
 * HSCAN, HRANDFIELD ...) with Redis 7.0's replies and errors, over the hash
 * values of store/hash.h.
 *
 * Threading: every command here has exactly one key, so each cmd_* proc
 * runs on the shard thread that owns it, against that shard's store; no
 * command needs a multi-shard body. Replies go to c->reply only.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/hash.h"
#include "cmd_rows.h"

/* The hash at argv[1] for a write. Returns 0 with *o set to the existing
 * hash, or to a new empty one (not yet in the db: *created is 1; the caller
 * stores or frees it); -1 after replying WRONGTYPE. */
static int hash_for_write(rt_ctx *c, obj **o, int *created) {
    *created = 0;
    if (lookup_write(c, &c->argv[1], OBJ_HASH, o, c->reply) < 0) return -1;
    if (*o == NULL) {
        *o = hash_new();
        *created = 1;
    }
    return 0;
}

/* Finish a write begun by hash_for_write: a new hash goes into the db. */
static void hash_store_new(rt_ctx *c, obj *o, int created) {
    if (created) db_set(ctx_cdb(c), c->argv[1].p, c->argv[1].len, o, 0);
}

/* Reply with the value of field a of hash o (NULL: absent key), or a null. */
static void reply_field(rbuf *r, const obj *o, const rt_arg *a) {
    char tmp[24];
    size_t vlen;
    const char *v = o ? hash_get(o, a->p, a->len, &vlen, tmp) : NULL;
    if (v)
        rw_bulk(r, v, vlen);
    else
        rw_null(r);
}

/* HSET key field value [field value ...] and HMSET (same, replies +OK):
 * an odd number of field/value arguments is an arity error. */
static void hset_generic(rt_ctx *c, int hmset) {
    if (c->argc % 2 == 1) {
        reply_arity_error(c->reply, c->cmd);
        return;
    }
    obj *o;
    int created;
    if (hash_for_write(c, &o, &created) < 0) return;
    size_t maxlen = 0, total = 0;
    for (int i = 2; i < c->argc; i++) {
        if (c->argv[i].len > maxlen) maxlen = c->argv[i].len;
        total += c->argv[i].len;
    }
    const store_enc *enc = &ctx_store(c)->enc;
    hash_convert_for_args(o, maxlen, total, enc);
    long long added = 0;
    for (int i = 2; i < c->argc; i += 2)
        added +=
            hash_set(o, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p, c->argv[i + 1].len, enc);
    hash_store_new(c, o, created);
    ss_dirty(c, (uint64_t)(c->argc - 2) / 2);
    if (hmset)
        rw_ok(c->reply);
    else
        rw_int(c->reply, added);
}

static void cmd_hset(rt_ctx *c) {
    hset_generic(c, 0);
}

static void cmd_hmset(rt_ctx *c) {
    hset_generic(c, 1);
}

/* HSETNX key field value */
static void cmd_hsetnx(rt_ctx *c) {
    obj *o;
    int created;
    if (hash_for_write(c, &o, &created) < 0) return;
    const rt_arg *f = &c->argv[2], *v = &c->argv[3];
    if (!created && hash_exists(o, f->p, f->len)) {
        rw_int(c->reply, 0);
        return;
    }
    const store_enc *enc = &ctx_store(c)->enc;
    hash_convert_for_args(o, f->len > v->len ? f->len : v->len, f->len + v->len, enc);
    hash_set(o, f->p, f->len, v->p, v->len, enc);
    hash_store_new(c, o, created);
    ss_dirty(c, 1);
    rw_int(c->reply, 1);
}

/* HGET key field */
static void cmd_hget(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    reply_field(c->reply, o, &c->argv[2]);
}

/* HMGET key field [field ...]: an absent key is an empty hash. */
static void cmd_hmget(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    rw_array(c->reply, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_field(c->reply, o, &c->argv[i]);
}

/* HDEL key field [field ...]: the key goes when its last field does. */
static void cmd_hdel(rt_ctx *c) {
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    long long deleted = 0;
    if (o) {
        for (int i = 2; i < c->argc; i++) {
            if (!hash_del(o, c->argv[i].p, c->argv[i].len)) continue;
            deleted++;
            if (hash_len(o) == 0) {
                db_del(ctx_cdb(c), c->argv[1].p, c->argv[1].len);
                break;
            }
        }
    }
    ss_dirty(c, (uint64_t)deleted);
    rw_int(c->reply, deleted);
}

/* HLEN key */
static void cmd_hlen(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    rw_int(c->reply, o ? (long long)hash_len(o) : 0);
}

/* HSTRLEN key field: 0 for an absent key or field. */
static void cmd_hstrlen(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    char tmp[24];
    size_t vlen = 0;
    if (o && !hash_get(o, c->argv[2].p, c->argv[2].len, &vlen, tmp)) vlen = 0;
    rw_int(c->reply, (long long)vlen);
}

/* HEXISTS key field */
static void cmd_hexists(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    rw_int(c->reply, o && hash_exists(o, c->argv[2].p, c->argv[2].len));
}

/* An HINCRBY/HINCRBYFLOAT write in progress: the hash (created: new, not
 * yet in the db) and the field's current value (v NULL if absent; it may
 * point into tmp). */
typedef struct hincr {
    obj *o;
    int created;
    const char *v;
    size_t vlen;
    char tmp[24];
} hincr;

/* The first half: the hash for a write (as hash_for_write) and the value
 * of field argv[2]. Returns -1 after replying. */
static int hincr_begin(rt_ctx *c, hincr *h) {
    if (hash_for_write(c, &h->o, &h->created) < 0) return -1;
    h->v = hash_get(h->o, c->argv[2].p, c->argv[2].len, &h->vlen, h->tmp);
    return 0;
}

/* The second half: field argv[2] becomes val[0..n). */
static void hincr_finish(rt_ctx *c, hincr *h, const char *val, int n) {
    hash_set(h->o, c->argv[2].p, c->argv[2].len, val, (size_t)n, &ctx_store(c)->enc);
    hash_store_new(c, h->o, h->created);
    ss_dirty(c, 1);
}

/* HINCRBY key field increment */
static void cmd_hincrby(rt_ctx *c) {
    long long incr, cur = 0;
    if (arg_ll_or_reply(c->reply, &c->argv[3], &incr, NULL) < 0) return;
    hincr h;
    if (hincr_begin(c, &h) < 0) return;
    if (h.v && !util_str2ll(h.v, h.vlen, &cur)) {
        rw_error(c->reply, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && cur < 0 && incr < LLONG_MIN - cur) ||
        (incr > 0 && cur > 0 && incr > LLONG_MAX - cur)) {
        rw_error(c->reply, ERR_OVERFLOW);
        return;
    }
    cur += incr;
    char buf[24];
    hincr_finish(c, &h, buf, util_ll2str(buf, sizeof(buf), cur));
    rw_int(c->reply, cur);
}

/* HINCRBYFLOAT key field increment: long double arithmetic, the result
 * stored and replied in Redis's human format (util_ld2str). */
static void cmd_hincrbyfloat(rt_ctx *c) {
    long double incr, cur = 0;
    if (arg_ld_or_reply(c->reply, &c->argv[3], &incr, NULL) < 0) return;
    if (isnan(incr) || isinf(incr)) {
        rw_error(c->reply, "ERR value is NaN or Infinity");
        return;
    }
    hincr h;
    if (hincr_begin(c, &h) < 0) return;
    if (h.v && !util_str2ld(h.v, h.vlen, &cur)) {
        rw_error(c->reply, "ERR hash value is not a float");
        return;
    }
    cur += incr;
    if (isnan(cur) || isinf(cur)) {
        rw_error(c->reply, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5 * 1024 + 64];
    int n = util_ld2str(buf, sizeof(buf), cur);
    hincr_finish(c, &h, buf, n);
    rw_bulk(c->reply, buf, (size_t)n);
}

enum { HGA_KEYS = 1, HGA_VALS = 2 };

/* HKEYS, HVALS and HGETALL: every field and/or value in encoding order;
 * HGETALL replies with a map (RESP3), the others with an array. */
static void hgetall_generic(rt_ctx *c, int what) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    long n = o ? (long)hash_len(o) : 0;
    if (what == (HGA_KEYS | HGA_VALS))
        rw_map(c->reply, n);
    else
        rw_array(c->reply, n);
    if (o == NULL) return;
    hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    hash_iter_init(&it, o);
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        if (what & HGA_KEYS) rw_bulk(c->reply, f, flen);
        if (what & HGA_VALS) rw_bulk(c->reply, v, vlen);
    }
}

static void cmd_hkeys(rt_ctx *c) {
    hgetall_generic(c, HGA_KEYS);
}

static void cmd_hvals(rt_ctx *c) {
    hgetall_generic(c, HGA_VALS);
}

static void cmd_hgetall(rt_ctx *c) {
    hgetall_generic(c, HGA_KEYS | HGA_VALS);
}

/* What one HSCAN call collects: the matching pairs as reply bulks in out,
 * and how many strings (fields and values) it visited, matching or not. */
typedef struct hscan_acc {
    rbuf out;
    long n;
    size_t visited;
    const scan_opts *opts;
} hscan_acc;

static void hscan_visit(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    hscan_acc *a = priv;
    a->visited += 2;
    if (a->opts->pat && !util_globmatch(a->opts->pat, a->opts->plen, f, flen, 0)) return;
    rw_bulk(&a->out, f, flen);
    rw_bulk(&a->out, v, vlen);
    a->n += 2;
}

/* HSCAN key cursor [MATCH pattern] [COUNT count]: a listpack hash is
 * returned whole with cursor 0; a hashtable is scanned like Redis: steps
 * until about COUNT strings (fields plus values) were visited, at most
 * 10*COUNT steps, the pattern applied to fields afterwards. */
static void cmd_hscan(rt_ctx *c) {
    uint64_t cursor;
    if (arg_cursor_or_reply(&c->argv[2], &cursor, c->reply) < 0) return;
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_array(c->reply, 2);
        rw_bulk(c->reply, "0", 1);
        rw_array(c->reply, 0);
        return;
    }
    scan_opts opts;
    if (scan_opts_or_reply(c->argc, c->argv, 3, &opts, c->reply) < 0) return;
    hscan_acc a = {.n = 0, .visited = 0, .opts = &opts};
    rb_init(&a.out, c->reply->resp);
    long long steps = opts.count * 10;
    do {
        cursor = hash_scan(o, cursor, hscan_visit, &a);
    } while (cursor && steps-- && a.visited < (unsigned long long)opts.count);
    char num[24];
    int len = snprintf(num, sizeof(num), "%llu", (unsigned long long)cursor);
    rw_array(c->reply, 2);
    rw_bulk(c->reply, num, (size_t)len);
    rw_array(c->reply, a.n);
    rb_append(c->reply, a.out.buf, a.out.len);
    rb_free(&a.out);
}

/* One HRANDFIELD element: the field, or with values the field and value
 * (a nested pair in RESP3, flat in RESP2). */
static void hrand_emit(rbuf *r, int withvalues, const char *f, size_t flen, const char *v,
                       size_t vlen) {
    if (withvalues && r->resp > 2) rw_array(r, 2);
    rw_bulk(r, f, flen);
    if (withvalues) rw_bulk(r, v, vlen);
}

/* Mark a uniformly random subset of count of the indexes [0, size) in sel
 * (size bytes): sel[i] is 1 when index i is chosen. Needs count <= size.
 * Rejection sampling over the smaller of the subset and its complement, so
 * each draw succeeds with probability at least 1/2. */
static void hrand_subset(unsigned char *sel, size_t size, size_t count, uint64_t *rng) {
    unsigned char mark = 1;
    size_t want = count;
    memset(sel, 0, size);
    if (count > size / 2) {
        memset(sel, 1, size);
        mark = 0;
        want = size - count;
    }
    for (size_t got = 0; got < want;) {
        size_t i = (size_t)(util_rand_next(rng) % size);
        if (sel[i] != mark) {
            sel[i] = mark;
            got++;
        }
    }
}

/* HRANDFIELD key count [WITHVALUES] (Redis's cases): 0 -> empty; negative
 * -> |count| independent picks; count >= size -> the whole hash; otherwise
 * count distinct fields, chosen as a random subset (listpack, or a count
 * close to the size) or by random picks without repeats (big hashtable). */
static void hrandfield_count(rt_ctx *c, long long l, int withvalues) {
    obj *o;
    rbuf *r = c->reply;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, r) < 0) return;
    if (o == NULL || l == 0) {
        rw_array(r, 0);
        return;
    }
    uint64_t *rng = &ctx_store(c)->rng;
    size_t size = hash_len(o);
    const char *f, *v;
    size_t flen, vlen;
    int flat = withvalues && r->resp == 2;
    if (l < 0 || l == 1) {
        unsigned long long count = l < 0 ? 0ULL - (unsigned long long)l : 1;
        rw_array(r, (long)(flat ? count * 2 : count));
        hash_sampler s;
        hash_sampler_init(&s, o);
        while (count--) {
            hash_sampler_pick(&s, rng, &f, &flen, &v, &vlen);
            hrand_emit(r, withvalues, f, flen, v, vlen);
        }
        hash_sampler_free(&s);
        return;
    }
    size_t count = (unsigned long long)l < size ? (size_t)l : size;
    rw_array(r, (long)(flat ? count * 2 : count));
    hash_iter it;
    if (count == size) {
        hash_iter_init(&it, o);
        while (hash_iter_next(&it, &f, &flen, &v, &vlen))
            hrand_emit(r, withvalues, f, flen, v, vlen);
        return;
    }
    if (o->enc == OBJ_ENC_LISTPACK || count * 3 > size) {
        unsigned char *sel = malloc(size);
        if (sel == NULL) abort();
        hrand_subset(sel, size, count, rng);
        hash_iter_init(&it, o);
        for (size_t i = 0; hash_iter_next(&it, &f, &flen, &v, &vlen); i++)
            if (sel[i]) hrand_emit(r, withvalues, f, flen, v, vlen);
        free(sel);
        return;
    }
    dict *seen = dict_new();
    dict_expand(seen, count);
    hash_sampler s;
    hash_sampler_init(&s, o);
    for (size_t added = 0; added < count;) {
        int isnew;
        hash_sampler_pick(&s, rng, &f, &flen, &v, &vlen);
        dict_add(seen, f, flen, &isnew);
        if (!isnew) continue;
        added++;
        hrand_emit(r, withvalues, f, flen, v, vlen);
    }
    hash_sampler_free(&s);
    dict_free(seen, NULL);
}

/* HRANDFIELD key [count [WITHVALUES]] */
static void cmd_hrandfield(rt_ctx *c) {
    if (c->argc >= 3) {
        long long l;
        if (arg_range_or_reply(c->reply, &c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) < 0) return;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withvalues"))) {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
        int withvalues = c->argc == 4;
        if (withvalues && (l < -LONG_MAX / 2 || l > LONG_MAX / 2)) {
            rw_error(c->reply, "ERR value is out of range");
            return;
        }
        hrandfield_count(c, l, withvalues);
        return;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_HASH, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_null(c->reply);
        return;
    }
    hash_sampler s;
    const char *f, *v;
    size_t flen, vlen;
    hash_sampler_init(&s, o);
    hash_sampler_pick(&s, &ctx_store(c)->rng, &f, &flen, &v, &vlen);
    rw_bulk(c->reply, f, flen);
    hash_sampler_free(&s);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define DO CMD_DENYOOM
#define F CMD_FAST

cmd_def cmd_rows_hash[] = {
    KEYS("hset", -4, W | DO | F, 1, 1, 1, cmd_hset, NULL),
    KEYS("hsetnx", 4, W | DO | F, 1, 1, 1, cmd_hsetnx, NULL),
    KEYS("hmset", -4, W | DO | F, 1, 1, 1, cmd_hmset, NULL),
    KEYS("hget", 3, R | F, 1, 1, 1, cmd_hget, NULL),
    KEYS("hmget", -3, R | F, 1, 1, 1, cmd_hmget, NULL),
    KEYS("hdel", -3, W | F, 1, 1, 1, cmd_hdel, NULL),
    KEYS("hlen", 2, R | F, 1, 1, 1, cmd_hlen, NULL),
    KEYS("hstrlen", 3, R | F, 1, 1, 1, cmd_hstrlen, NULL),
    KEYS("hexists", 3, R | F, 1, 1, 1, cmd_hexists, NULL),
    KEYS("hincrby", 4, W | DO | F, 1, 1, 1, cmd_hincrby, NULL),
    KEYS("hincrbyfloat", 4, W | DO | F, 1, 1, 1, cmd_hincrbyfloat, NULL),
    KEYS("hkeys", 2, R, 1, 1, 1, cmd_hkeys, NULL),
    KEYS("hvals", 2, R, 1, 1, 1, cmd_hvals, NULL),
    KEYS("hgetall", 2, R, 1, 1, 1, cmd_hgetall, NULL),
    KEYS("hscan", -3, R, 1, 1, 1, cmd_hscan, NULL),
    KEYS("hrandfield", -2, R, 1, 1, 1, cmd_hrandfield, NULL),
    END,
};

#undef W
#undef R
#undef DO
#undef F
