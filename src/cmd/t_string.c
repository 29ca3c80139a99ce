/* t_string.c -- the string command family (SET/GET and friends, counters,
 * ranges, bit operations, BITFIELD, LCS), with Redis 7.0's replies and
 * errors, and the pure helpers of t_string_util.h.
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys. MGET, MSET, MSETNX, BITOP and LCS also have a
 * cmd_*_multi body for keys spread over several shards: it runs on the
 * coordinator shard, sends op_* steps to the parts' shards with rt_tx_run
 * (each op touches only its own shard's store and its own tx part), and
 * writes the final reply at the coordinator. No pointer into one shard's
 * store ever reaches another thread: values travel as malloc'd copies.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "handlers.h"
#include "t_string_util.h"

/* ---------------------------------------------------------------------- */
/* Pure helpers (see t_string_util.h for the contracts). */

long long tstr_popcount(const unsigned char *p, size_t n) {
    long long cnt = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        cnt += __builtin_popcountll(w);
    }
    for (; i < n; i++)
        cnt += __builtin_popcount(p[i]);
    return cnt;
}

static int tstr_bit_at(const unsigned char *p, uint64_t b) {
    return (p[b >> 3] >> (7 - (b & 7))) & 1;
}

long long tstr_bitcount_bits(const unsigned char *p, uint64_t sbit, uint64_t ebit) {
    long long cnt = 0;
    uint64_t b = sbit;
    while (b <= ebit && (b & 7) != 0)
        cnt += tstr_bit_at(p, b++);
    if (b > ebit) return cnt;
    uint64_t whole = (ebit + 1 - b) >> 3;
    cnt += tstr_popcount(p + (b >> 3), (size_t)whole);
    for (b += whole << 3; b <= ebit; b++)
        cnt += tstr_bit_at(p, b);
    return cnt;
}

long long tstr_bitpos_bits(const unsigned char *p, uint64_t sbit, uint64_t ebit, int bit) {
    const uint64_t skipword = bit ? 0 : UINT64_MAX;
    const unsigned char skipbyte = bit ? 0x00 : 0xff;
    uint64_t b = sbit;
    while (b <= ebit) {
        if ((b & 63) == 0 && ebit - b >= 63) {
            uint64_t w;
            memcpy(&w, p + (b >> 3), 8);
            if (w == skipword) {
                b += 64;
                continue;
            }
        }
        if ((b & 7) == 0 && ebit - b >= 7 && p[b >> 3] == skipbyte) {
            b += 8;
            continue;
        }
        if (tstr_bit_at(p, b) == bit) return (long long)b;
        b++;
    }
    return -1;
}

uint64_t tstr_bf_get_u(const unsigned char *p, uint64_t off, int bits) {
    uint64_t v = 0;
    for (int j = 0; j < bits; j++)
        v = (v << 1) | (uint64_t)tstr_bit_at(p, off + (uint64_t)j);
    return v;
}

int64_t tstr_bf_get_s(const unsigned char *p, uint64_t off, int bits) {
    uint64_t v = tstr_bf_get_u(p, off, bits);
    if (bits < 64 && ((v >> (bits - 1)) & 1)) v |= UINT64_MAX << bits;
    return (int64_t)v;
}

void tstr_bf_set(unsigned char *p, uint64_t off, int bits, uint64_t v) {
    for (int j = 0; j < bits; j++) {
        uint64_t b = off + (uint64_t)j;
        unsigned mask = 1u << (7 - (b & 7));
        if ((v >> (bits - 1 - j)) & 1)
            p[b >> 3] |= (unsigned char)mask;
        else
            p[b >> 3] &= (unsigned char)~mask;
    }
}

int tstr_bf_overflow_u(uint64_t value, int64_t incr, int bits, int mode, uint64_t *limit) {
    uint64_t max = (bits >= 64) ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int over = 0;
    if (value > max) {
        over = 1;
    } else {
        __int128 sum = (__int128)value + incr;
        if (sum > (__int128)max)
            over = 1;
        else if (sum < 0)
            over = -1;
    }
    if (!over) return 0;
    if (mode == TSTR_BF_WRAP)
        *limit = (value + (uint64_t)incr) & max;
    else if (mode == TSTR_BF_SAT)
        *limit = over > 0 ? max : 0;
    return over;
}

int tstr_bf_overflow_s(int64_t value, int64_t incr, int bits, int mode, int64_t *limit) {
    int64_t max = (bits >= 64) ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
    int64_t min = -max - 1;
    /* Redis's test, including its wrap-around: the room left above and
     * below value is computed in 64 bits, so for a field under 64 bits a
     * value within 127 or so of INT64_MIN counts as too big (SAT answers
     * max), and Redis's replies are what we match. */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int over = 0;
    if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr))
        over = 1;
    else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr))
        over = -1;
    if (!over) return 0;
    if (mode == TSTR_BF_WRAP) {
        uint64_t w = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t high = UINT64_MAX << bits;
            if ((w >> (bits - 1)) & 1)
                w |= high;
            else
                w &= ~high;
        }
        *limit = (int64_t)w;
    } else if (mode == TSTR_BF_SAT) {
        *limit = over > 0 ? max : min;
    }
    return over;
}

unsigned char *tstr_bitop(int op, int n, const unsigned char *const *src, const size_t *len,
                          size_t *outlen) {
    size_t maxlen = 0;
    for (int j = 0; j < n; j++)
        if (len[j] > maxlen) maxlen = len[j];
    *outlen = maxlen;
    if (maxlen == 0) return NULL;
    unsigned char *res = malloc(maxlen);
    if (res == NULL) abort();
    for (size_t i = 0; i < maxlen; i++) {
        unsigned char acc;
        unsigned char first = i < len[0] ? src[0][i] : 0;
        if (op == TSTR_BITOP_NOT) {
            res[i] = (unsigned char)~first;
            continue;
        }
        acc = first;
        for (int j = 1; j < n; j++) {
            unsigned char b = i < len[j] ? src[j][i] : 0;
            if (op == TSTR_BITOP_AND)
                acc &= b;
            else if (op == TSTR_BITOP_OR)
                acc |= b;
            else
                acc ^= b;
        }
        res[i] = acc;
    }
    return res;
}

uint32_t *tstr_lcs_table(const char *a, size_t alen, const char *b, size_t blen) {
    size_t cells;
    if (__builtin_mul_overflow(alen + 1, blen + 1, &cells) || cells > SIZE_MAX / sizeof(uint32_t))
        return NULL;
    uint32_t *t = malloc(cells * sizeof(uint32_t));
    if (t == NULL) return NULL;
    for (size_t i = 0; i <= alen; i++) {
        for (size_t j = 0; j <= blen; j++) {
            uint32_t v;
            if (i == 0 || j == 0) {
                v = 0;
            } else if (a[i - 1] == b[j - 1]) {
                v = TSTR_LCS(t, blen, i - 1, j - 1) + 1;
            } else {
                uint32_t up = TSTR_LCS(t, blen, i - 1, j);
                uint32_t left = TSTR_LCS(t, blen, i, j - 1);
                v = up > left ? up : left;
            }
            TSTR_LCS(t, blen, i, j) = v;
        }
    }
    return t;
}

/* ---------------------------------------------------------------------- */
/* Shared plumbing of the handlers. */

/* Look argv[1] up as a string for reading. Returns the value; or NULL with
 * *absent = 1 when the key is missing (the caller replies), or NULL with
 * *absent = 0 after replying WRONGTYPE. */
static obj *str_read_key(rt_ctx *c, int *absent) {
    obj *o = lookup_read_any(c, &c->argv[1]);
    *absent = o == NULL;
    if (o && o->type != OBJ_STRING) {
        rw_error(c->reply, ERR_WRONGTYPE);
        return NULL;
    }
    return o;
}

/* Reply with the bytes of string value o. */
static void str_reply_value(rbuf *r, const obj *o) {
    char tmp[32];
    size_t len;
    const char *p = obj_str(o, tmp, &len);
    rw_bulk(r, p, len);
}

/* Whether a string of len bytes respects proto-max-bulk-len. */
static int str_len_ok(rt_ctx *c, uint64_t len) {
    return len <= (uint64_t)ctx_ss(c)->cfg.proto_max_bulk_len;
}

/* Grow the string value o (made RAW) to at least newlen bytes, filling new
 * bytes with zeros. Returns 1 if it grew. */
static int str_grow_zero(obj *o, size_t newlen) {
    size_t old = obj_strlen(o);
    strbuf *sb = obj_str_make_raw(o, newlen > old ? newlen : old);
    if (newlen <= old) return 0;
    memset(sb->b + old, 0, newlen - old);
    obj_str_setlen(o, newlen);
    return 1;
}

/* A new RAW string value of len zero bytes, in room for exactly that (as
 * Redis creates a new key's value for SETRANGE and SETBIT; only a value
 * that grows later gets spare room). The caller owns it. */
static obj *str_new_zeroed(size_t len) {
    obj *o = obj_new_string("", 0);
    obj_str_adopt(o, strbuf_new(NULL, len, len));
    return o;
}

/* ---------------------------------------------------------------------- */
/* SET and the GET family. */

enum {
    SF_NX = 1 << 0,
    SF_XX = 1 << 1,
    SF_GET = 1 << 2,
    SF_KEEPTTL = 1 << 3,
    SF_PERSIST = 1 << 4,
    SF_EX = 1 << 5,
    SF_PX = 1 << 6,
    SF_EXAT = 1 << 7,
    SF_PXAT = 1 << 8,
};
#define SF_ANY_EXPIRE (SF_EX | SF_PX | SF_EXAT | SF_PXAT)

/* Parse SET's options (is_set) or GETEX's from argv[first..]. Fills *flags
 * and *exp_idx (the argv index of the expire value, 0 for none). A repeated
 * option is accepted, conflicting ones are a syntax error, as in Redis.
 * Returns 0, or -1 after replying. */
static int str_parse_opts(rbuf *r, int argc, const rt_arg *argv, int first, int is_set, int *flags,
                          int *exp_idx) {
    static const struct {
        const char *name;
        int flag;
        int conflicts;
    } expopts[] = {
        {"ex", SF_EX, SF_KEEPTTL | SF_PERSIST | SF_PX | SF_EXAT | SF_PXAT},
        {"px", SF_PX, SF_KEEPTTL | SF_PERSIST | SF_EX | SF_EXAT | SF_PXAT},
        {"exat", SF_EXAT, SF_KEEPTTL | SF_PERSIST | SF_EX | SF_PX | SF_PXAT},
        {"pxat", SF_PXAT, SF_KEEPTTL | SF_PERSIST | SF_EX | SF_PX | SF_EXAT},
    };
    int f = 0;
    *exp_idx = 0;
    for (int j = first; j < argc; j++) {
        const rt_arg *a = &argv[j];
        int handled = 0;
        if (is_set && arg_is(a, "nx") && !(f & SF_XX)) {
            f |= SF_NX;
            handled = 1;
        } else if (is_set && arg_is(a, "xx") && !(f & SF_NX)) {
            f |= SF_XX;
            handled = 1;
        } else if (is_set && arg_is(a, "get")) {
            f |= SF_GET;
            handled = 1;
        } else if (is_set && arg_is(a, "keepttl") && !(f & (SF_PERSIST | SF_ANY_EXPIRE))) {
            f |= SF_KEEPTTL;
            handled = 1;
        } else if (!is_set && arg_is(a, "persist") && !(f & (SF_KEEPTTL | SF_ANY_EXPIRE))) {
            f |= SF_PERSIST;
            handled = 1;
        } else {
            for (size_t k = 0; k < sizeof(expopts) / sizeof(expopts[0]); k++) {
                if (arg_is(a, expopts[k].name) && !(f & expopts[k].conflicts) && j + 1 < argc) {
                    f |= expopts[k].flag;
                    *exp_idx = ++j;
                    handled = 1;
                    break;
                }
            }
        }
        if (!handled) {
            rw_error(r, ERR_SYNTAX);
            return -1;
        }
    }
    *flags = f;
    return 0;
}

/* Turn an expire argument into an absolute deadline in ms following the
 * unit and base in flags (EX/PX relative to now, EXAT/PXAT absolute). name
 * is the command for the error text. Returns 0, or -1 after replying. */
static int str_expire_ms(rt_ctx *c, const rt_arg *a, int flags, const char *name, int64_t *out) {
    long long v;
    if (arg_ll_or_reply(c->reply, a, &v, ERR_NOT_INT) < 0) return -1;
    int secs = (flags & (SF_EX | SF_EXAT)) != 0;
    if (v <= 0 || (secs && v > LLONG_MAX / 1000)) goto bad;
    if (secs) v *= 1000;
    if ((flags & (SF_EX | SF_PX)) && __builtin_add_overflow(v, (long long)ctx_store(c)->now_ms, &v))
        goto bad;
    if (v <= 0) goto bad;
    *out = v;
    return 0;
bad:
    rw_errorf(c->reply, "ERR invalid expire time in '%s' command", name);
    return -1;
}

/* The body of SET, SETNX, SETEX and PSETEX: store val at key under flags
 * (SF_*), with the expire argument exp (NULL for none). Replies +OK / null
 * (int_reply 0) or :1 / :0 (int_reply 1); with SF_GET the old value. */
static void str_set_generic(rt_ctx *c, int flags, const rt_arg *key, const rt_arg *val,
                            const rt_arg *exp, const char *name, int int_reply) {
    db *d = ctx_cdb(c);
    int64_t when = -1;
    if (exp && str_expire_ms(c, exp, flags, name, &when) < 0) return;
    obj *cur = NULL;
    if (flags & SF_GET) {
        cur = lookup_read_any(c, key);
        if (cur && cur->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            return;
        }
        if (cur)
            str_reply_value(c->reply, cur);
        else
            rw_null(c->reply);
    } else if (flags & (SF_NX | SF_XX)) {
        cur = db_peek(d, key->p, key->len);
    }
    /* Redis then looks the key up for writing: one more access, which
     * db_set_str counts when it writes (a plain SET needs nothing else). */
    if (((flags & SF_NX) && cur) || ((flags & SF_XX) && !cur)) {
        if (cur) store_touch(ctx_store(c), cur);
        if (!(flags & SF_GET)) {
            if (int_reply)
                rw_int(c->reply, 0);
            else
                rw_null(c->reply);
        }
        return;
    }
    /* With a new deadline the old one is kept only to be replaced: the
     * expires table is not emptied and refilled (as Redis's SET passes
     * KEEPTTL when an expire is given). */
    db_set_str(d, key->p, key->len, val->p, val->len, (flags & SF_KEEPTTL) || when >= 0);
    if (when >= 0) db_set_expire(d, key->p, key->len, when);
    ss_dirty(c, 1);
    if (!(flags & SF_GET)) {
        if (int_reply)
            rw_int(c->reply, 1);
        else
            rw_ok(c->reply);
    }
}

void cmd_set(rt_ctx *c) {
    int flags, exp_idx;
    if (str_parse_opts(c->reply, c->argc, c->argv, 3, 1, &flags, &exp_idx) < 0) return;
    str_set_generic(c, flags, &c->argv[1], &c->argv[2], exp_idx ? &c->argv[exp_idx] : NULL, "set",
                    0);
}

void cmd_setnx(rt_ctx *c) {
    str_set_generic(c, SF_NX, &c->argv[1], &c->argv[2], NULL, "setnx", 1);
}

void cmd_setex(rt_ctx *c) {
    str_set_generic(c, SF_EX, &c->argv[1], &c->argv[3], &c->argv[2], "setex", 0);
}

void cmd_psetex(rt_ctx *c) {
    str_set_generic(c, SF_PX, &c->argv[1], &c->argv[3], &c->argv[2], "psetex", 0);
}

void cmd_get(rt_ctx *c) {
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o)
        str_reply_value(c->reply, o);
    else if (absent)
        rw_null(c->reply);
}

void cmd_getex(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1];
    int flags, exp_idx;
    int64_t when = -1;
    if (str_parse_opts(c->reply, c->argc, c->argv, 2, 0, &flags, &exp_idx) < 0) return;
    obj *o = lookup_read_any(c, key);
    if (o == NULL) {
        rw_null(c->reply);
        return;
    }
    if (o->type != OBJ_STRING) {
        rw_error(c->reply, ERR_WRONGTYPE);
        return;
    }
    if (exp_idx && str_expire_ms(c, &c->argv[exp_idx], flags, "getex", &when) < 0) return;
    str_reply_value(c->reply, o);
    if ((flags & (SF_EXAT | SF_PXAT)) && when <= ctx_store(c)->now_ms) {
        db_del(d, key->p, key->len);
        ss_dirty(c, 1);
    } else if (exp_idx) {
        db_set_expire(d, key->p, key->len, when);
        ss_dirty(c, 1);
    } else if ((flags & SF_PERSIST) && db_persist(d, key->p, key->len)) {
        ss_dirty(c, 1);
    }
}

void cmd_getdel(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1];
    obj *o = lookup_read_any(c, key);
    if (o == NULL) {
        rw_null(c->reply);
        return;
    }
    if (o->type != OBJ_STRING) {
        rw_error(c->reply, ERR_WRONGTYPE);
        return;
    }
    str_reply_value(c->reply, o);
    db_del(d, key->p, key->len);
    ss_dirty(c, 1);
}

void cmd_getset(rt_ctx *c) {
    str_set_generic(c, SF_GET, &c->argv[1], &c->argv[2], NULL, "getset", 0);
}

/* ---------------------------------------------------------------------- */
/* MGET, MSET, MSETNX. */

void cmd_mget(rt_ctx *c) {
    rw_array(c->reply, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        obj *o = lookup_read_any(c, &c->argv[j]);
        if (o && o->type == OBJ_STRING)
            str_reply_value(c->reply, o);
        else
            rw_null(c->reply);
    }
}

/* MGET step on one shard: append the reply element of each of the part's
 * keys to part.out and record where each starts in part.ptr (an array of
 * nkeys + 1 offsets, freed by cmd_mget_done). */
void op_mget_read(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    size_t *offs = malloc(sizeof(size_t) * (size_t)(pt->nkeys + 1));
    if (offs == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        offs[k] = pt->out.len;
        obj *o = lookup_read_any(c, &c->tx->argv[pt->keys[k]]);
        if (o && o->type == OBJ_STRING)
            str_reply_value(&pt->out, o);
        else
            rw_null(&pt->out);
    }
    offs[pt->nkeys] = pt->out.len;
    pt->ptr = offs;
}

/* MGET at the coordinator: stitch the parts' elements in argv order. */
void cmd_mget_done(rt_tx *tx) {
    int *part_of = malloc(sizeof(int) * 2 * (size_t)tx->argc);
    if (part_of == NULL) abort();
    int *slot_of = part_of + tx->argc;
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++) {
            part_of[tx->part[p].keys[k]] = p;
            slot_of[tx->part[p].keys[k]] = k;
        }
    rw_array(&tx->reply, tx->argc - 1);
    for (int j = 1; j < tx->argc; j++) {
        rt_part *pt = &tx->part[part_of[j]];
        const size_t *offs = pt->ptr;
        int k = slot_of[j];
        rb_append(&tx->reply, pt->out.buf + offs[k], offs[k + 1] - offs[k]);
    }
    for (int p = 0; p < tx->nparts; p++) {
        free(tx->part[p].ptr);
        tx->part[p].ptr = NULL;
    }
    free(part_of);
    rt_tx_done(tx);
}

/* Whether MSET/MSETNX got key/value pairs; replies the arity error if not. */
static int mset_args_ok(rbuf *r, int argc, const char *name) {
    if (argc % 2 == 1) return 1;
    rw_errorf(r, "ERR wrong number of arguments for '%s' command", name);
    return 0;
}

/* Store each key/value pair of argv whose key index is in keys[0..n). */
static void mset_store(rt_ctx *c, const rt_arg *argv, const int *keys, int n) {
    db *d = ctx_cdb(c);
    for (int k = 0; k < n; k++) {
        const rt_arg *key = &argv[keys[k]], *val = &argv[keys[k] + 1];
        db_set_str(d, key->p, key->len, val->p, val->len, 0);
    }
    ss_dirty(c, (uint64_t)n);
}

void cmd_mset(rt_ctx *c) {
    if (!mset_args_ok(c->reply, c->argc, "mset")) return;
    for (int j = 1; j < c->argc; j += 2)
        mset_store(c, c->argv, &j, 1);
    rw_ok(c->reply);
}

void cmd_msetnx(rt_ctx *c) {
    db *d = ctx_cdb(c);
    if (!mset_args_ok(c->reply, c->argc, "msetnx")) return;
    for (int j = 1; j < c->argc; j += 2) {
        if (db_find(d, c->argv[j].p, c->argv[j].len)) {
            rw_int(c->reply, 0);
            return;
        }
    }
    for (int j = 1; j < c->argc; j += 2)
        mset_store(c, c->argv, &j, 1);
    rw_int(c->reply, 1);
}

/* MSET/MSETNX step: store the part's pairs. */
static void op_mset_store(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    mset_store(c, c->tx->argv, pt->keys, pt->nkeys);
}

/* MSET across shards, one step (cmd_def.first_op): each part stores its
 * pairs, unless the arguments are not pairs, which the coordinator then
 * answers with the arity error (no part stored anything). */
void op_mset_pairs(rt_ctx *c) {
    if (c->tx->argc % 2 == 1) op_mset_store(c);
}

void cmd_mset_done(rt_tx *tx) {
    if (mset_args_ok(&tx->reply, tx->argc, "mset")) rw_ok(&tx->reply);
    rt_tx_done(tx);
}

/* MSETNX step 1: part.n = 1 if any of the part's keys exists. */
static void op_msetnx_check(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    db *d = ctx_cdb(c);
    pt->n = 0;
    for (int k = 0; k < pt->nkeys; k++) {
        const rt_arg *key = &c->tx->argv[pt->keys[k]];
        if (db_find(d, key->p, key->len)) pt->n = 1;
    }
}

static void msetnx_reply_set(rt_tx *tx) {
    rw_int(&tx->reply, 1);
    rt_tx_done(tx);
}

/* MSETNX at the coordinator after the check: the shards are still held, so
 * nothing can have created a key in between. */
static void msetnx_after_check(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        if (tx->part[p].n) {
            rw_int(&tx->reply, 0);
            rt_tx_done(tx);
            return;
        }
    }
    rt_tx_run(tx, op_mset_store, msetnx_reply_set);
}

void cmd_msetnx_multi(rt_tx *tx) {
    if (!mset_args_ok(&tx->reply, tx->argc, "msetnx")) {
        rt_tx_done(tx);
        return;
    }
    rt_tx_run(tx, op_msetnx_check, msetnx_after_check);
}

/* ---------------------------------------------------------------------- */
/* APPEND, STRLEN, GETRANGE, SETRANGE. */

void cmd_append(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1], *val = &c->argv[2];
    size_t total;
    obj *o = db_find(d, key->p, key->len);
    if (o == NULL) {
        db_set_str(d, key->p, key->len, val->p, val->len, 0);
        total = val->len;
    } else {
        if (o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            return;
        }
        size_t old = obj_strlen(o);
        if (!str_len_ok(c, (uint64_t)old + val->len)) {
            rw_error(c->reply, ERR_STRING_TOO_BIG);
            return;
        }
        strbuf *sb = obj_str_make_raw(o, old + val->len);
        memcpy(sb->b + old, val->p, val->len);
        obj_str_setlen(o, old + val->len);
        total = old + val->len;
    }
    ss_dirty(c, 1);
    rw_int(c->reply, (long long)total);
}

void cmd_strlen(rt_ctx *c) {
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o)
        rw_int(c->reply, (long long)obj_strlen(o));
    else if (absent)
        rw_int(c->reply, 0);
}

void cmd_getrange(rt_ctx *c) {
    long long start, end;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &start, ERR_NOT_INT) < 0 ||
        arg_ll_or_reply(c->reply, &c->argv[3], &end, ERR_NOT_INT) < 0)
        return;
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o == NULL) {
        if (absent) rw_bulk(c->reply, "", 0);
        return;
    }
    char tmp[32];
    size_t slen;
    const char *p = obj_str(o, tmp, &slen);
    long long len = (long long)slen;
    if (start < 0 && end < 0 && start > end) {
        rw_bulk(c->reply, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0)
        rw_bulk(c->reply, "", 0);
    else
        rw_bulk(c->reply, p + start, (size_t)(end - start + 1));
}

void cmd_setrange(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1], *val = &c->argv[3];
    long long offset;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &offset, ERR_NOT_INT) < 0) return;
    if (offset < 0) {
        rw_error(c->reply, "ERR offset is out of range");
        return;
    }
    obj *o = db_find(d, key->p, key->len);
    if (o == NULL) {
        if (val->len == 0) {
            rw_int(c->reply, 0);
            return;
        }
        if (!str_len_ok(c, (uint64_t)offset + val->len)) {
            rw_error(c->reply, ERR_STRING_TOO_BIG);
            return;
        }
        o = str_new_zeroed((size_t)offset + val->len);
        db_set(d, key->p, key->len, o, 0);
    } else {
        if (o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            return;
        }
        if (val->len == 0) {
            rw_int(c->reply, (long long)obj_strlen(o));
            return;
        }
        if (!str_len_ok(c, (uint64_t)offset + val->len)) {
            rw_error(c->reply, ERR_STRING_TOO_BIG);
            return;
        }
        str_grow_zero(o, (size_t)offset + val->len);
    }
    memcpy(obj_sbytes(o) + offset, val->p, val->len);
    ss_dirty(c, 1);
    rw_int(c->reply, (long long)obj_slen(o));
}

/* ---------------------------------------------------------------------- */
/* Counters. */

/* INCR/DECR/INCRBY/DECRBY: add incr to the integer at key (0 if absent),
 * keeping its TTL; the result is stored INT-encoded. */
static void str_incr_generic(rt_ctx *c, long long incr) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1];
    obj *o = db_find(d, key->p, key->len);
    long long v = 0;
    if (o) {
        if (o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            return;
        }
        if (o->enc == OBJ_ENC_INT) {
            v = o->v.i;
        } else if (!util_str2ll(obj_sbytes(o), obj_slen(o), &v)) {
            rw_error(c->reply, ERR_NOT_INT);
            return;
        }
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) ||
        (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        rw_error(c->reply, ERR_OVERFLOW);
        return;
    }
    v += incr;
    if (o && o->enc == OBJ_ENC_INT) {
        o->v.i = v; /* in place, as Redis does for an unshared integer */
    } else if (o) {
        db_replace(d, key->p, key->len, obj_new_int(v)); /* keeps TTL and access */
    } else {
        db_set_int(d, key->p, key->len, v, 0);
    }
    ss_dirty(c, 1);
    rw_int(c->reply, v);
}

void cmd_incr(rt_ctx *c) {
    str_incr_generic(c, 1);
}

void cmd_decr(rt_ctx *c) {
    str_incr_generic(c, -1);
}

void cmd_incrby(rt_ctx *c) {
    long long incr;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &incr, ERR_NOT_INT) < 0) return;
    str_incr_generic(c, incr);
}

void cmd_decrby(rt_ctx *c) {
    long long decr;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &decr, ERR_NOT_INT) < 0) return;
    if (decr == LLONG_MIN) {
        rw_error(c->reply, "ERR decrement would overflow");
        return;
    }
    str_incr_generic(c, -decr);
}

void cmd_incrbyfloat(rt_ctx *c) {
    db *d = ctx_cdb(c);
    const rt_arg *key = &c->argv[1];
    obj *o = db_find(d, key->p, key->len);
    long double v = 0, incr;
    if (o) {
        if (o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            return;
        }
        if (o->enc == OBJ_ENC_INT) {
            v = (long double)o->v.i;
        } else if (!util_str2ld(obj_sbytes(o), obj_slen(o), &v)) {
            rw_error(c->reply, ERR_NOT_FLOAT);
            return;
        }
    }
    if (!util_str2ld(c->argv[2].p, c->argv[2].len, &incr)) {
        rw_error(c->reply, ERR_NOT_FLOAT);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        rw_error(c->reply, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5 * 1024 + 64];
    int n = util_ld2str(buf, sizeof(buf), v);
    if (n <= 0) {
        rw_error(c->reply, "ERR increment would produce NaN or Infinity");
        return;
    }
    /* A string, not INT even when it reads as one (Redis's encoding). */
    obj *nv = obj_new_string(buf, (size_t)n);
    if (o)
        db_replace(d, key->p, key->len, nv); /* keeps TTL and access */
    else
        db_set_owned(d, key->p, key->len, nv, 0);
    ss_dirty(c, 1);
    rw_bulk(c->reply, buf, (size_t)n);
}

/* ---------------------------------------------------------------------- */
/* Single bits: GETBIT, SETBIT, BITCOUNT, BITPOS. */

/* Parse a bit offset as SETBIT/GETBIT/BITFIELD do: a non-negative integer
 * whose byte lies below proto-max-bulk-len; with hash_bits > 0 (BITFIELD) a
 * leading '#' multiplies it by the field width. Returns 0, or -1 after
 * replying. */
static int str_bit_offset(rt_ctx *c, const rt_arg *a, int hash_bits, uint64_t *out) {
    const char *p = a->p;
    size_t n = a->len;
    int hash = 0;
    long long v;
    if (hash_bits > 0 && n > 0 && p[0] == '#') {
        hash = 1;
        p++;
        n--;
    }
    if (!util_str2ll(p, n, &v)) goto bad;
    if (hash && __builtin_mul_overflow(v, (long long)hash_bits, &v)) goto bad;
    if (v < 0 || (v >> 3) >= ctx_ss(c)->cfg.proto_max_bulk_len) goto bad;
    *out = (uint64_t)v;
    return 0;
bad:
    rw_error(c->reply, ERR_BIT_OFFSET);
    return -1;
}

/* Find or create the string at key for a write reaching bit maxbit: the
 * value is made RAW and zero-padded to hold that bit. *changed is set when
 * the key was created or grew. Replies WRONGTYPE and returns NULL on a
 * value of another type. The value stays owned by the db. */
static obj *str_lookup_for_bits(rt_ctx *c, db *d, const rt_arg *key, uint64_t maxbit,
                                int *changed) {
    size_t need = (size_t)(maxbit >> 3) + 1;
    obj *o = db_find(d, key->p, key->len);
    if (o && o->type != OBJ_STRING) {
        rw_error(c->reply, ERR_WRONGTYPE);
        return NULL;
    }
    if (o == NULL) {
        o = str_new_zeroed(need);
        db_set(d, key->p, key->len, o, 0);
        *changed = 1;
    } else {
        obj_str_make_raw(o, obj_strlen(o));
        *changed = str_grow_zero(o, need);
    }
    return o;
}

void cmd_setbit(rt_ctx *c) {
    uint64_t off;
    long long on;
    int changed;
    if (str_bit_offset(c, &c->argv[2], 0, &off) < 0) return;
    if (arg_ll_or_reply(c->reply, &c->argv[3], &on, ERR_BIT_VALUE) < 0) return;
    if (on & ~1LL) {
        rw_error(c->reply, ERR_BIT_VALUE);
        return;
    }
    obj *o = str_lookup_for_bits(c, ctx_cdb(c), &c->argv[1], off, &changed);
    if (o == NULL) return;
    unsigned char *p = (unsigned char *)obj_sbytes(o);
    int old = tstr_bit_at(p, off);
    unsigned mask = 1u << (7 - (off & 7));
    if (on)
        p[off >> 3] |= (unsigned char)mask;
    else
        p[off >> 3] &= (unsigned char)~mask;
    if (changed || old != on) ss_dirty(c, 1);
    rw_int(c->reply, old);
}

void cmd_getbit(rt_ctx *c) {
    uint64_t off;
    if (str_bit_offset(c, &c->argv[2], 0, &off) < 0) return;
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o == NULL) {
        if (absent) rw_int(c->reply, 0);
        return;
    }
    char tmp[32];
    size_t len;
    const unsigned char *p = (const unsigned char *)obj_str(o, tmp, &len);
    rw_int(c->reply, (off >> 3) < len ? tstr_bit_at(p, off) : 0);
}

/* Parse the BYTE|BIT unit argument. Returns 1 for BIT, 0 for BYTE, or -1
 * after replying a syntax error. */
static int str_parse_unit(rbuf *r, const rt_arg *a) {
    if (arg_is(a, "bit")) return 1;
    if (arg_is(a, "byte")) return 0;
    rw_error(r, ERR_SYNTAX);
    return -1;
}

/* Clamp [*start, *end] (negative = from the end) to a string of totlen
 * units, the way BITCOUNT/BITPOS/GETRANGE do. */
static void str_clamp_range(long long totlen, long long *start, long long *end) {
    if (*start < 0) *start += totlen;
    if (*end < 0) *end += totlen;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= totlen) *end = totlen - 1;
}

void cmd_bitcount(rt_ctx *c) {
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o == NULL) {
        if (absent) rw_int(c->reply, 0);
        return;
    }
    char tmp[32];
    size_t slen;
    const unsigned char *p = (const unsigned char *)obj_str(o, tmp, &slen);
    long long start, end;
    int isbit = 0;
    if (c->argc == 2) {
        rw_int(c->reply, tstr_popcount(p, slen));
        return;
    }
    if (c->argc != 4 && c->argc != 5) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    if (arg_ll_or_reply(c->reply, &c->argv[2], &start, ERR_NOT_INT) < 0 ||
        arg_ll_or_reply(c->reply, &c->argv[3], &end, ERR_NOT_INT) < 0)
        return;
    /* An empty negative range answers 0 before the unit is looked at. */
    if (start < 0 && end < 0 && start > end) {
        rw_int(c->reply, 0);
        return;
    }
    if (c->argc == 5 && (isbit = str_parse_unit(c->reply, &c->argv[4])) < 0) return;
    long long totlen = isbit ? (long long)slen * 8 : (long long)slen;
    str_clamp_range(totlen, &start, &end);
    if (start > end)
        rw_int(c->reply, 0);
    else if (isbit)
        rw_int(c->reply, tstr_bitcount_bits(p, (uint64_t)start, (uint64_t)end));
    else
        rw_int(c->reply, tstr_popcount(p + start, (size_t)(end - start + 1)));
}

void cmd_bitpos(rt_ctx *c) {
    long long bit, start = 0, end = 0;
    int isbit = 0, end_given = 0;
    if (arg_ll_or_reply(c->reply, &c->argv[2], &bit, ERR_NOT_INT) < 0) return;
    if (bit != 0 && bit != 1) {
        rw_error(c->reply, "ERR The bit argument must be 1 or 0.");
        return;
    }
    int absent;
    obj *o = str_read_key(c, &absent);
    if (o == NULL) {
        if (absent) rw_int(c->reply, bit ? -1 : 0);
        return;
    }
    char tmp[32];
    size_t slen;
    const unsigned char *p = (const unsigned char *)obj_str(o, tmp, &slen);
    if (c->argc == 3) {
        end = (long long)slen - 1;
    } else if (c->argc <= 6) {
        if (arg_ll_or_reply(c->reply, &c->argv[3], &start, ERR_NOT_INT) < 0) return;
        if (c->argc == 6 && (isbit = str_parse_unit(c->reply, &c->argv[5])) < 0) return;
        if (c->argc >= 5) {
            if (arg_ll_or_reply(c->reply, &c->argv[4], &end, ERR_NOT_INT) < 0) return;
            end_given = 1;
        } else {
            end = (long long)slen - 1;
        }
        str_clamp_range(isbit ? (long long)slen * 8 : (long long)slen, &start, &end);
    } else {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    if (start > end) {
        rw_int(c->reply, -1);
        return;
    }
    uint64_t sbit = isbit ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t ebit = isbit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    long long pos = tstr_bitpos_bits(p, sbit, ebit, (int)bit);
    /* Without an explicit end the string is followed by infinite zeros. */
    if (pos < 0 && bit == 0 && !end_given) pos = (long long)ebit + 1;
    rw_int(c->reply, pos);
}

/* ---------------------------------------------------------------------- */
/* BITFIELD and BITFIELD_RO. */

enum { BF_GET, BF_SET, BF_INCRBY };

typedef struct bf_op {
    int opcode;
    int sign;
    int bits;
    int overflow; /* TSTR_BF_* in force when the op was parsed */
    uint64_t offset;
    long long arg; /* SET value or INCRBY increment */
} bf_op;

/* Parse a BITFIELD type ("i8", "u16"...; the letter is case-sensitive).
 * Returns 0, or -1 after replying. */
static int bf_parse_type(rbuf *r, const rt_arg *a, int *sign, int *bits) {
    long long n;
    if (a->len >= 2 && a->p[0] == 'i')
        *sign = 1;
    else if (a->len >= 2 && a->p[0] == 'u')
        *sign = 0;
    else
        goto bad;
    if (!util_str2ll(a->p + 1, a->len - 1, &n) || n < 1 || (*sign && n > 64) || (!*sign && n > 63))
        goto bad;
    *bits = (int)n;
    return 0;
bad:
    rw_error(r, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                "supported but i64 is.");
    return -1;
}

/* Run one SET or INCRBY op on the RAW buffer p, replying the result. */
/* Apply one SET/INCRBY and reply its value. Returns 1 if the stored bits
 * changed, 0 if they did not, -1 if OVERFLOW FAIL skipped the write. */
static int bf_apply_write(rbuf *r, unsigned char *p, const bf_op *op) {
    int over;
    if (op->sign) {
        int64_t oldv = tstr_bf_get_s(p, op->offset, op->bits), newv, lim = 0, ret;
        if (op->opcode == BF_INCRBY) {
            over = tstr_bf_overflow_s(oldv, op->arg, op->bits, op->overflow, &lim);
            newv = over ? lim : (int64_t)((uint64_t)oldv + (uint64_t)op->arg);
            ret = newv;
        } else {
            newv = op->arg;
            over = tstr_bf_overflow_s(newv, 0, op->bits, op->overflow, &lim);
            if (over) newv = lim;
            ret = oldv;
        }
        if (over && op->overflow == TSTR_BF_FAIL) {
            rw_null(r);
            return -1;
        }
        rw_int(r, ret);
        tstr_bf_set(p, op->offset, op->bits, (uint64_t)newv);
        return tstr_bf_get_s(p, op->offset, op->bits) != oldv;
    } else {
        uint64_t oldv = tstr_bf_get_u(p, op->offset, op->bits), newv, lim = 0, ret;
        if (op->opcode == BF_INCRBY) {
            over = tstr_bf_overflow_u(oldv, op->arg, op->bits, op->overflow, &lim);
            newv = over ? lim : oldv + (uint64_t)op->arg;
            ret = newv;
        } else {
            newv = (uint64_t)op->arg;
            over = tstr_bf_overflow_u(newv, 0, op->bits, op->overflow, &lim);
            if (over) newv = lim;
            ret = oldv;
        }
        if (over && op->overflow == TSTR_BF_FAIL) {
            rw_null(r);
            return -1;
        }
        rw_int(r, (long long)ret);
        tstr_bf_set(p, op->offset, op->bits, newv);
        return tstr_bf_get_u(p, op->offset, op->bits) != oldv;
    }
}

/* Run one GET op against the string p of len bytes (NULL: missing key);
 * bits past the end read as zeros. */
static void bf_apply_get(rbuf *r, const unsigned char *p, size_t len, const bf_op *op) {
    unsigned char win[9] = {0};
    uint64_t byte = op->offset >> 3;
    for (uint64_t i = 0; i < 9 && p && byte + i < len; i++)
        win[i] = p[byte + i];
    uint64_t rel = op->offset - byte * 8;
    if (op->sign)
        rw_int(r, tstr_bf_get_s(win, rel, op->bits));
    else
        rw_int(r, (long long)tstr_bf_get_u(win, rel, op->bits));
}

/* The body of BITFIELD (ro 0) and BITFIELD_RO (ro 1): parse every op first,
 * then look the key up (creating it only if an op writes), then run the ops
 * in order. */
static void bf_generic(rt_ctx *c, int ro) {
    bf_op *ops = malloc(sizeof(bf_op) * (size_t)c->argc);
    if (ops == NULL) abort();
    int nops = 0, mode = TSTR_BF_WRAP, readonly = 1;
    uint64_t highest = 0;
    for (int j = 2; j < c->argc; j++) {
        int rem = c->argc - j - 1;
        const rt_arg *a = &c->argv[j];
        bf_op op = {0};
        if (arg_is(a, "get") && rem >= 2) {
            op.opcode = BF_GET;
        } else if (arg_is(a, "set") && rem >= 3) {
            op.opcode = BF_SET;
        } else if (arg_is(a, "incrby") && rem >= 3) {
            op.opcode = BF_INCRBY;
        } else if (arg_is(a, "overflow") && rem >= 1) {
            const rt_arg *m = &c->argv[++j];
            if (arg_is(m, "wrap")) {
                mode = TSTR_BF_WRAP;
            } else if (arg_is(m, "sat")) {
                mode = TSTR_BF_SAT;
            } else if (arg_is(m, "fail")) {
                mode = TSTR_BF_FAIL;
            } else {
                rw_error(c->reply, "ERR Invalid OVERFLOW type specified");
                goto done;
            }
            continue;
        } else {
            rw_error(c->reply, ERR_SYNTAX);
            goto done;
        }
        if (bf_parse_type(c->reply, &c->argv[j + 1], &op.sign, &op.bits) < 0) goto done;
        if (str_bit_offset(c, &c->argv[j + 2], op.bits, &op.offset) < 0) goto done;
        if (op.opcode != BF_GET) {
            readonly = 0;
            if (highest < op.offset + (uint64_t)op.bits - 1)
                highest = op.offset + (uint64_t)op.bits - 1;
            if (arg_ll_or_reply(c->reply, &c->argv[j + 3], &op.arg, ERR_NOT_INT) < 0) goto done;
        }
        op.overflow = mode;
        ops[nops++] = op;
        j += op.opcode == BF_GET ? 2 : 3;
    }

    db *d = ctx_cdb(c);
    obj *o;
    int grown = 0;
    if (readonly) {
        o = lookup_read_any(c, &c->argv[1]);
        if (o && o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            goto done;
        }
    } else {
        int changed;
        if (ro) {
            rw_error(c->reply, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        o = str_lookup_for_bits(c, d, &c->argv[1], highest, &changed);
        if (o == NULL) goto done;
        grown = changed;
    }

    rw_array(c->reply, nops);
    uint64_t changes = 0;
    for (int k = 0; k < nops; k++) {
        if (ops[k].opcode == BF_GET) {
            char tmp[32];
            size_t len = 0;
            const unsigned char *p = o ? (const unsigned char *)obj_str(o, tmp, &len) : NULL;
            bf_apply_get(c->reply, p, len, &ops[k]);
        } else {
            /* As Redis: a write counts when the key was created or grown,
             * or when it changed the stored value. */
            int rc = bf_apply_write(c->reply, (unsigned char *)obj_sbytes(o), &ops[k]);
            if (rc > 0 || (rc == 0 && grown)) changes++;
        }
    }
    if (changes) ss_dirty(c, changes);
done:
    free(ops);
}

void cmd_bitfield(rt_ctx *c) {
    bf_generic(c, 0);
}

void cmd_bitfield_ro(rt_ctx *c) {
    bf_generic(c, 1);
}

/* ---------------------------------------------------------------------- */
/* Copies of values taken out of a shard for BITOP and LCS. */

enum { SC_MISSING = 0, SC_STRING = 1, SC_WRONGTYPE = 2 };

typedef struct str_copy {
    int state; /* SC_* */
    char *p;   /* malloc'd copy of the bytes (SC_STRING), owned by the tx */
    size_t len;
} str_copy;

/* Step on one shard: copy out the values of the part's source keys, for
 * BITOP (sources are argv[3..], the destination argv[2] is skipped) and LCS
 * (argv[1..2]). part.ptr gets an array of nkeys str_copy, freed by
 * copies_free. */
static void op_copy_values(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *pt = &tx->part[c->part];
    int first_src = arg_is(&tx->argv[0], "bitop") ? 3 : 1;
    str_copy *cp = calloc((size_t)pt->nkeys + 1, sizeof(str_copy));
    if (cp == NULL) abort();
    for (int k = 0; k < pt->nkeys; k++) {
        if (pt->keys[k] < first_src) continue;
        obj *o = lookup_read_any(c, &tx->argv[pt->keys[k]]);
        if (o == NULL) continue;
        if (o->type != OBJ_STRING) {
            cp[k].state = SC_WRONGTYPE;
            continue;
        }
        char tmp[32];
        size_t len;
        const char *p = obj_str(o, tmp, &len);
        cp[k].state = SC_STRING;
        cp[k].len = len;
        cp[k].p = malloc(len + 1);
        if (cp[k].p == NULL) abort();
        memcpy(cp[k].p, p, len);
    }
    pt->ptr = cp;
}

/* Index the copies by argv index: a calloc'd array of argc pointers the
 * caller frees (entries borrow from the parts). */
static str_copy **copies_by_arg(rt_tx *tx) {
    str_copy **by = calloc((size_t)tx->argc, sizeof(str_copy *));
    if (by == NULL) abort();
    for (int p = 0; p < tx->nparts; p++) {
        str_copy *cp = tx->part[p].ptr;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            by[tx->part[p].keys[k]] = &cp[k];
    }
    return by;
}

/* Free every part's copies. */
static void copies_free(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        str_copy *cp = tx->part[p].ptr;
        if (cp == NULL) continue;
        for (int k = 0; k < tx->part[p].nkeys; k++)
            free(cp[k].p);
        free(cp);
        tx->part[p].ptr = NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* BITOP. */

int keys_bitop(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)argv;
    (void)err;
    int n = 0;
    for (int j = 2; j < argc; j++)
        keys[n++] = j;
    return n;
}

/* Parse BITOP's operation and check NOT's single source. Returns the
 * TSTR_BITOP_* code, or -1 after replying. */
static int bitop_parse(rbuf *r, int argc, const rt_arg *argv) {
    int op;
    if (arg_is(&argv[1], "and"))
        op = TSTR_BITOP_AND;
    else if (arg_is(&argv[1], "or"))
        op = TSTR_BITOP_OR;
    else if (arg_is(&argv[1], "xor"))
        op = TSTR_BITOP_XOR;
    else if (arg_is(&argv[1], "not"))
        op = TSTR_BITOP_NOT;
    else {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    if (op == TSTR_BITOP_NOT && argc != 4) {
        rw_error(r, "ERR BITOP NOT must be called with a single source key.");
        return -1;
    }
    return op;
}

/* Store BITOP's result res (len bytes, borrowed) at key, or delete key when
 * the result is empty. */
static void bitop_store(rt_ctx *c, const rt_arg *key, const unsigned char *res, size_t len) {
    db *d = ctx_cdb(c);
    if (len > 0) {
        obj *o = obj_new_string(res, len);
        obj_str_make_raw(o, len);
        db_set(d, key->p, key->len, o, 0);
        ss_dirty(c, 1);
    } else if (db_del(d, key->p, key->len)) {
        ss_dirty(c, 1);
    }
}

void cmd_bitop(rt_ctx *c) {
    int op = bitop_parse(c->reply, c->argc, c->argv);
    if (op < 0) return;
    int n = c->argc - 3;
    size_t nalloc = n > 0 ? (unsigned)n : 1u;
    const unsigned char **src = calloc(nalloc, sizeof(*src));
    size_t *len = calloc(nalloc, sizeof(*len));
    char(*tmp)[32] = calloc(nalloc, sizeof(*tmp));
    if (src == NULL || len == NULL || tmp == NULL) abort();
    for (int j = 0; j < n; j++) {
        obj *o = lookup_read_any(c, &c->argv[3 + j]);
        if (o == NULL) continue;
        if (o->type != OBJ_STRING) {
            rw_error(c->reply, ERR_WRONGTYPE);
            goto done;
        }
        src[j] = (const unsigned char *)obj_str(o, tmp[j], &len[j]);
    }
    size_t outlen;
    unsigned char *res = tstr_bitop(op, n, src, len, &outlen);
    bitop_store(c, &c->argv[2], res, outlen);
    free(res);
    rw_int(c->reply, (long long)outlen);
done:
    free(src);
    free(len);
    free(tmp);
}

/* The BITOP result travelling from the coordinator to the destination's
 * shard (tx->state, owned by the coordinator). */
typedef struct bitop_result {
    unsigned char *res;
    size_t len;
    int dest_part;
} bitop_result;

static void op_bitop_store(rt_ctx *c) {
    bitop_result *br = c->tx->state;
    bitop_store(c, &c->tx->argv[2], br->res, br->len);
}

static void bitop_finish(rt_tx *tx) {
    bitop_result *br = tx->state;
    rw_int(&tx->reply, (long long)br->len);
    free(br->res);
    free(br);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* BITOP at the coordinator, once the sources are copied out: compute the
 * result here, then store it on the destination key's shard. */
static void bitop_after_copy(rt_tx *tx) {
    int op = bitop_parse(&tx->reply, tx->argc, tx->argv);
    int n = tx->argc - 3;
    size_t nalloc = n > 0 ? (unsigned)n : 1u;
    str_copy **by = copies_by_arg(tx);
    for (int j = 3; j < tx->argc; j++) {
        if (by[j] && by[j]->state == SC_WRONGTYPE) {
            rw_error(&tx->reply, ERR_WRONGTYPE);
            free(by);
            copies_free(tx);
            rt_tx_done(tx);
            return;
        }
    }
    const unsigned char **src = calloc(nalloc, sizeof(*src));
    size_t *len = calloc(nalloc, sizeof(*len));
    bitop_result *br = calloc(1, sizeof(*br));
    if (src == NULL || len == NULL || br == NULL) abort();
    for (int j = 0; j < n; j++) {
        str_copy *cp = by[3 + j];
        if (cp && cp->state == SC_STRING) {
            src[j] = (const unsigned char *)cp->p;
            len[j] = cp->len;
        }
    }
    br->res = tstr_bitop(op, n, src, len, &br->len);
    free(src);
    free(len);
    free(by);
    copies_free(tx);
    br->dest_part = 0;
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (tx->part[p].keys[k] == 2) br->dest_part = p;
    tx->state = br;
    rt_tx_run_one(tx, br->dest_part, op_bitop_store, bitop_finish);
}

void cmd_bitop_multi(rt_tx *tx) {
    if (bitop_parse(&tx->reply, tx->argc, tx->argv) < 0) {
        rt_tx_done(tx);
        return;
    }
    rt_tx_run(tx, op_copy_values, bitop_after_copy);
}

/* ---------------------------------------------------------------------- */
/* LCS. */

#define ERR_LCS_TYPES "ERR The specified keys must contain string values"

typedef struct lcs_range {
    size_t a0, a1, b0, b1;
} lcs_range;

/* Parse LCS's options and reply for strings a and b (borrowed). Matches
 * are reported from the end of the strings backwards, as Redis does. The
 * table may take at most `limit` bytes (proto-max-bulk-len). */
static void lcs_reply(rbuf *r, int argc, const rt_arg *argv, const char *a, size_t alen,
                      const char *b, size_t blen, long long limit) {
    int getlen = 0, getidx = 0, withlen = 0;
    long long minlen = 0;
    for (int j = 3; j < argc; j++) {
        if (arg_is(&argv[j], "idx")) {
            getidx = 1;
        } else if (arg_is(&argv[j], "len")) {
            getlen = 1;
        } else if (arg_is(&argv[j], "withmatchlen")) {
            withlen = 1;
        } else if (arg_is(&argv[j], "minmatchlen") && j + 1 < argc) {
            if (arg_ll_or_reply(r, &argv[j + 1], &minlen, ERR_NOT_INT) < 0) return;
            if (minlen < 0) minlen = 0;
            j++;
        } else {
            rw_error(r, ERR_SYNTAX);
            return;
        }
    }
    if (getidx && getlen) {
        rw_error(r, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        rw_error(r, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells * sizeof(uint32_t) > (unsigned long long)limit) {
        rw_error(r, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *t = tstr_lcs_table(a, alen, b, blen);
    if (t == NULL) {
        rw_error(r, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    uint32_t total = TSTR_LCS(t, blen, alen, blen);
    if (getlen) {
        rw_int(r, total);
        free(t);
        return;
    }
    char *res = malloc((size_t)total + 1);
    lcs_range *ranges = NULL;
    size_t nranges = 0, cap = 0;
    if (res == NULL) abort();
    size_t i = alen, j = blen, k = total;
    int open = 0;
    lcs_range cur = {0, 0, 0, 0};
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            res[k - 1] = a[i - 1];
            if (!open) {
                open = 1;
                cur.a0 = cur.a1 = i - 1;
                cur.b0 = cur.b1 = j - 1;
            } else if (cur.a0 == i && cur.b0 == j) {
                cur.a0--;
                cur.b0--;
            } else {
                emit = 1;
            }
            if (cur.a0 == 0 || cur.b0 == 0) emit = 1;
            k--;
            i--;
            j--;
        } else {
            if (TSTR_LCS(t, blen, i - 1, j) > TSTR_LCS(t, blen, i, j - 1))
                i--;
            else
                j--;
            if (open) emit = 1;
        }
        if (emit) {
            size_t mlen = cur.a1 - cur.a0 + 1;
            if (getidx && (minlen == 0 || (long long)mlen >= minlen)) {
                if (nranges == cap) {
                    cap = cap ? cap * 2 : 16;
                    ranges = realloc(ranges, cap * sizeof(*ranges));
                    if (ranges == NULL) abort();
                }
                ranges[nranges++] = cur;
            }
            open = 0;
        }
    }
    if (getidx) {
        rw_map(r, 2);
        rw_bulk_cstr(r, "matches");
        rw_array(r, (long)nranges);
        for (size_t m = 0; m < nranges; m++) {
            rw_array(r, 2 + withlen);
            rw_array(r, 2);
            rw_int(r, (long long)ranges[m].a0);
            rw_int(r, (long long)ranges[m].a1);
            rw_array(r, 2);
            rw_int(r, (long long)ranges[m].b0);
            rw_int(r, (long long)ranges[m].b1);
            if (withlen) rw_int(r, (long long)(ranges[m].a1 - ranges[m].a0 + 1));
        }
        rw_bulk_cstr(r, "len");
        rw_int(r, total);
    } else {
        rw_bulk(r, res, total);
    }
    free(ranges);
    free(res);
    free(t);
}

void cmd_lcs(rt_ctx *c) {
    obj *oa = lookup_read_any(c, &c->argv[1]);
    obj *ob = lookup_read_any(c, &c->argv[2]);
    if ((oa && oa->type != OBJ_STRING) || (ob && ob->type != OBJ_STRING)) {
        rw_error(c->reply, ERR_LCS_TYPES);
        return;
    }
    char ta[32], tb[32];
    size_t alen = 0, blen = 0;
    const char *a = oa ? obj_str(oa, ta, &alen) : "";
    const char *b = ob ? obj_str(ob, tb, &blen) : "";
    lcs_reply(c->reply, c->argc, c->argv, a, alen, b, blen, ctx_ss(c)->cfg.proto_max_bulk_len);
}

/* LCS at the coordinator, once both values are copied out. */
static void lcs_after_copy(rt_tx *tx) {
    str_copy **by = copies_by_arg(tx);
    str_copy *ca = by[1], *cb = by[2];
    if ((ca && ca->state == SC_WRONGTYPE) || (cb && cb->state == SC_WRONGTYPE)) {
        rw_error(&tx->reply, ERR_LCS_TYPES);
    } else {
        const char *a = ca && ca->p ? ca->p : "", *b = cb && cb->p ? cb->p : "";
        size_t alen = ca ? ca->len : 0, blen = cb ? cb->len : 0;
        shard_state *coord = rt_shard_data(rt_tx_coord(tx));
        lcs_reply(&tx->reply, tx->argc, tx->argv, a, alen, b, blen, coord->cfg.proto_max_bulk_len);
    }
    free(by);
    copies_free(tx);
    rt_tx_done(tx);
}

void cmd_lcs_multi(rt_tx *tx) {
    rt_tx_run(tx, op_copy_values, lcs_after_copy);
}
