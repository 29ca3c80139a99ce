/* t_hll.c -- the HyperLogLog commands PFADD, PFCOUNT and PFMERGE, with
 * Redis 7.0's replies and errors. A HyperLogLog is a string value holding
 * Redis's exact bytes (see hll.h, which does the representation work).
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys. PFCOUNT and PFMERGE over keys of several shards run as a
 * transaction: op_pf_gather runs on each part's shard and folds that shard's
 * HLLs into a register array it owns (tx part.ptr); the coordinator folds
 * the arrays together and replies (PFCOUNT), or hands the result to the
 * destination's shard (op_pfmerge_store) before replying (PFMERGE). Only
 * malloc'd register arrays cross shards, never a pointer into a store.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd_rows.h"
#include "hll.h"

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_HLL_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

/* Why folding a set of keys stopped. */
enum { PF_OK = 0, PF_WRONGTYPE, PF_NOT_HLL, PF_CORRUPT };

static void pf_reply_error(rbuf *r, int err) {
    if (err == PF_WRONGTYPE)
        rw_error(r, ERR_WRONGTYPE);
    else if (err == PF_NOT_HLL)
        rw_error(r, ERR_NOT_HLL);
    else
        rw_error(r, ERR_HLL_CORRUPT);
}

/* hll-sparse-max-bytes of this shard's configuration. */
static long long pf_sparse_max(rt_ctx *c) {
    char buf[32];
    if (config_get_text(&ctx_ss(c)->cfg, "hll-sparse-max-bytes", buf, sizeof(buf)) < 0) return 3000;
    return strtoll(buf, NULL, 10);
}

/* Whether string value o holds a valid HLL header (Redis's checks: an
 * INT-encoded value never does). */
static int pf_is_hll(const obj *o) {
    if (o->enc == OBJ_ENC_INT) return 0;
    return hll_valid((const uint8_t *)obj_sbytes(o), obj_slen(o));
}

/* Lend the bytes of string value o to an hll_buf (made RAW first, as
 * Redis unshares a value before changing it); pf_give_back returns them. */
static void pf_borrow(obj *o, hll_buf *b) {
    b->sb = obj_str_make_raw(o, obj_strlen(o));
    b->p = (uint8_t *)b->sb->b;
    b->len = b->sb->len;
}

static void pf_give_back(obj *o, hll_buf *b) {
    b->sb->len = b->len;
    obj_str_adopt(o, b->sb);
}

/* A new key holding an empty (sparse) HLL, as a RAW string like Redis's. */
static obj *pf_create(db *d, const rt_arg *key) {
    hll_buf b;
    hll_new(&b);
    obj *o = obj_new_string(b.p, b.len);
    obj_str_make_raw(o, b.len);
    hll_free(&b);
    db_set(d, key->p, key->len, o, 0);
    return o;
}

/* Fold the HLLs at argv indexes idx[0..n) (in that order; absent keys count
 * as empty) into max[HLL_REGISTERS]. Stops at the first bad key: returns
 * its PF_* error and sets *bad to its argv index. *dense is set to 1 when a
 * folded HLL is dense. */
static int pf_gather(rt_ctx *c, const rt_arg *argv, const int *idx, int n, uint8_t *max, int *dense,
                     int *bad) {
    for (int k = 0; k < n; k++) {
        obj *o = lookup_read_any(c, &argv[idx[k]]);
        if (o == NULL) continue;
        int err = PF_OK;
        if (o->type != OBJ_STRING)
            err = PF_WRONGTYPE;
        else if (!pf_is_hll(o))
            err = PF_NOT_HLL;
        else {
            const uint8_t *p = (const uint8_t *)obj_sbytes(o);
            if (hll_encoding(p) == HLL_ENC_DENSE) *dense = 1;
            if (hll_merge(max, p, obj_slen(o)) < 0) err = PF_CORRUPT;
        }
        if (err != PF_OK) {
            *bad = idx[k];
            return err;
        }
    }
    return PF_OK;
}

/* Write the registers max into the HLL at key (created when absent; made
 * dense first if `dense`), as PFMERGE's destination. */
static void pf_store(rt_ctx *c, const rt_arg *key, const uint8_t *max, int dense, rbuf *r) {
    db *d = ctx_cdb(c);
    obj *o = db_find(d, key->p, key->len);
    if (o == NULL) o = pf_create(d, key);
    hll_buf b;
    pf_borrow(o, &b);
    if (dense && hll_to_dense(&b) < 0) {
        pf_give_back(o, &b);
        rw_error(r, ERR_HLL_CORRUPT);
        return;
    }
    long long smax = pf_sparse_max(c);
    for (long j = 0; j < HLL_REGISTERS; j++)
        if (max[j]) hll_set(&b, j, max[j], smax);
    hll_cache_invalidate(b.p);
    pf_give_back(o, &b);
    ss_dirty(c, 1);
    rw_ok(r);
}

/* ---------------------------------------------------------------------- */
/* PFADD key [element ...] */

static void cmd_pfadd(rt_ctx *c) {
    obj *o;
    if (lookup_write(c, &c->argv[1], OBJ_STRING, &o, c->reply) < 0) return;
    int updated = 0;
    if (o == NULL) {
        o = pf_create(ctx_cdb(c), &c->argv[1]);
        updated++;
    } else if (!pf_is_hll(o)) {
        rw_error(c->reply, ERR_NOT_HLL);
        return;
    }
    hll_buf b;
    pf_borrow(o, &b);
    long long smax = pf_sparse_max(c);
    for (int j = 2; j < c->argc; j++) {
        int ret = hll_add(&b, c->argv[j].p, c->argv[j].len, smax);
        if (ret < 0) {
            pf_give_back(o, &b);
            rw_error(c->reply, ERR_HLL_CORRUPT);
            return;
        }
        updated += ret;
    }
    if (updated) {
        hll_cache_invalidate(b.p);
        ss_dirty(c, (uint64_t)updated);
    }
    pf_give_back(o, &b);
    rw_int(c->reply, updated ? 1 : 0);
}

/* ---------------------------------------------------------------------- */
/* PFCOUNT key [key ...] */

/* PFCOUNT of one key: the cached cardinality, or a fresh estimate that is
 * then cached in the value (a write, as in Redis). */
static void pfcount_one(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_STRING, &o, c->reply) < 0) return;
    if (o == NULL) {
        rw_int(c->reply, 0);
        return;
    }
    if (!pf_is_hll(o)) {
        rw_error(c->reply, ERR_NOT_HLL);
        return;
    }
    obj_str_make_raw(o, obj_strlen(o));
    uint8_t *p = (uint8_t *)obj_sbytes(o);
    uint64_t card;
    if (!hll_cache_get(p, &card)) {
        int invalid = 0;
        card = hll_count(p, obj_slen(o), &invalid);
        if (invalid) {
            rw_error(c->reply, ERR_HLL_CORRUPT);
            return;
        }
        hll_cache_set(p, card);
        ss_dirty(c, 1);
    }
    rw_int(c->reply, (long long)card);
}

/* Fold the registers of every key argv[1..] (all on this shard) into
 * *max, a new HLL_REGISTERS array the caller frees; *dense: whether any of
 * them was dense. Returns PF_OK, or the error of the first bad key. */
static int pf_gather_local(rt_ctx *c, uint8_t **max, int *dense) {
    *max = calloc(1, HLL_REGISTERS);
    int *idx = malloc(sizeof(int) * (size_t)c->argc);
    if (*max == NULL || idx == NULL) abort();
    for (int j = 1; j < c->argc; j++)
        idx[j - 1] = j;
    int bad = 0;
    *dense = 0;
    int err = pf_gather(c, c->argv, idx, c->argc - 1, *max, dense, &bad);
    free(idx);
    return err;
}

static void cmd_pfcount(rt_ctx *c) {
    if (c->argc == 2) {
        pfcount_one(c);
        return;
    }
    uint8_t *max;
    int dense;
    int err = pf_gather_local(c, &max, &dense);
    if (err != PF_OK)
        pf_reply_error(c->reply, err);
    else
        rw_int(c->reply, (long long)hll_count_raw(max));
    free(max);
}

/* One part's fold (tx part.ptr), owned by the tx until pf_parts_free. */
typedef struct pf_part {
    uint8_t max[HLL_REGISTERS];
    int dense;
    int err; /* PF_* */
    int bad; /* argv index of the key that failed */
} pf_part;

static void op_pf_gather(rt_ctx *c) {
    rt_part *pt = &c->tx->part[c->part];
    pf_part *pp = calloc(1, sizeof(*pp));
    if (pp == NULL) abort();
    pp->err = pf_gather(c, c->tx->argv, pt->keys, pt->nkeys, pp->max, &pp->dense, &pp->bad);
    pt->ptr = pp;
}

/* Fold every part's registers into parts[0]'s. Returns the error of the
 * first bad key in argv order (every key before it was good, so this is
 * the error Redis's single pass reports), or PF_OK. */
static int pf_parts_fold(rt_tx *tx, pf_part **out) {
    pf_part *acc = tx->part[0].ptr;
    int err = PF_OK, bad = tx->argc;
    for (int p = 0; p < tx->nparts; p++) {
        pf_part *pp = tx->part[p].ptr;
        if (pp->err != PF_OK && pp->bad < bad) {
            err = pp->err;
            bad = pp->bad;
        }
        if (p == 0) continue;
        for (long j = 0; j < HLL_REGISTERS; j++)
            if (pp->max[j] > acc->max[j]) acc->max[j] = pp->max[j];
        acc->dense |= pp->dense;
    }
    *out = acc;
    return err;
}

static void pf_parts_free(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++) {
        free(tx->part[p].ptr);
        tx->part[p].ptr = NULL;
    }
}

static void pfcount_reply(rt_tx *tx) {
    pf_part *acc;
    int err = pf_parts_fold(tx, &acc);
    if (err != PF_OK)
        pf_reply_error(&tx->reply, err);
    else
        rw_int(&tx->reply, (long long)hll_count_raw(acc->max));
    pf_parts_free(tx);
    rt_tx_done(tx);
}

static void cmd_pfcount_multi(rt_tx *tx) {
    rt_tx_run(tx, op_pf_gather, pfcount_reply);
}

/* ---------------------------------------------------------------------- */
/* PFMERGE destkey [sourcekey ...] (the destination is a source too) */

static void cmd_pfmerge(rt_ctx *c) {
    uint8_t *max;
    int dense;
    int err = pf_gather_local(c, &max, &dense);
    if (err != PF_OK)
        pf_reply_error(c->reply, err);
    else
        pf_store(c, &c->argv[1], max, dense, c->reply);
    free(max);
}

/* The destination's step: part 0's folded registers (tx->state) are stored. */
static void op_pfmerge_store(rt_ctx *c) {
    pf_part *acc = c->tx->state;
    rt_part *pt = &c->tx->part[c->part];
    pf_store(c, &c->tx->argv[1], acc->max, acc->dense, &pt->out);
}

static void pfmerge_finish(rt_tx *tx) {
    for (int p = 0; p < tx->nparts; p++)
        if (tx->part[p].out.len) rb_append(&tx->reply, tx->part[p].out.buf, tx->part[p].out.len);
    tx->state = NULL;
    pf_parts_free(tx);
    rt_tx_done(tx);
}

static void pfmerge_after_gather(rt_tx *tx) {
    pf_part *acc;
    int err = pf_parts_fold(tx, &acc);
    if (err != PF_OK) {
        pf_reply_error(&tx->reply, err);
        pf_parts_free(tx);
        rt_tx_done(tx);
        return;
    }
    int dest = 0;
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (tx->part[p].keys[k] == 1) dest = p;
    tx->state = acc;
    rt_tx_run_one(tx, dest, op_pfmerge_store, pfmerge_finish);
}

static void cmd_pfmerge_multi(rt_tx *tx) {
    rt_tx_run(tx, op_pf_gather, pfmerge_after_gather);
}

cmd_def cmd_rows_hll[] = {
    KEYS("pfadd", -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_pfadd, NULL),
    KEYS("pfcount", -2, CMD_READONLY, 1, -1, 1, cmd_pfcount, cmd_pfcount_multi),
    KEYS("pfmerge", -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, cmd_pfmerge, cmd_pfmerge_multi),
    END,
};
