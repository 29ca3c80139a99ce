/* t_sort.c -- SORT and SORT_RO, with Redis 7.0's replies, errors, ordering
 * and side effects, and the pure helpers of t_sort.h.
 *
 * SORT reads one list, set or sorted set, may order it by the values of
 * other keys (BY weight_*, BY hash_*->field), may fetch other keys per
 * element (GET) and may store the result as a list (STORE). The keys that
 * patterns name can live on any shard, so both commands run as a
 * transaction over every shard (a CMD_ROUTE_ALL row): every shard is held
 * from the first step to the last, so no other client sees the command half
 * done. The steps:
 *   1. load  (source key's shard): copy the elements to sort into the state
 *            (only the LIMIT window when nothing is sorted), as Redis loads
 *            its sort vector; a small sorted set is converted to a skiplist
 *            on the way, as Redis does;
 *   2. by    (every shard, when sorting by a pattern): each shard reads the
 *            weights whose keys it owns; then the coordinator sorts;
 *   3. get   (every shard, when a GET pattern names keys): each shard reads
 *            the values for the elements of the output window;
 *   4. store (destination's shard): replace the key with the result list,
 *            or delete it when the result is empty.
 * Steps 2-4 are skipped when not needed.
 *
 * Threads: cmd_sort*_multi and the sort_* continuations run on the
 * coordinator (the client's home shard). The load and store ops run alone
 * (rt_tx_run_one), so they may read and write the state; the by/get ops run
 * on all parts at once, only read the state and write only their own part
 * (part->out holds the value bytes, part->ptr their offsets). Bytes that
 * cross threads are malloc'd copies; no pointer into a store leaves its
 * shard.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/hash.h"
#include "../store/list.h"
#include "../store/set.h"
#include "../store/zset.h"
#include "cmd_rows.h"
#include "t_sort.h"

#define SORT_ERR_SCORE "ERR One or more scores can't be converted into double"

/* ---------------------------------------------------------------------- */
/* Pure helpers (contracts in t_sort.h). */

/* Length of the C string Redis would see in p[0..len). */
static size_t sort_clen(const char *p, size_t len) {
    return strnlen(p, len);
}

int sort_parse(int argc, const rt_arg *argv, int readonly, sort_opts *o, rbuf *err) {
    memset(o, 0, sizeof(*o));
    o->lcount = -1;
    const rt_arg *by = NULL;
    for (int j = 2; j < argc; j++) {
        int left = argc - j - 1;
        const rt_arg *a = &argv[j];
        if (arg_is(a, "asc")) {
            o->desc = 0;
        } else if (arg_is(a, "desc")) {
            o->desc = 1;
        } else if (arg_is(a, "alpha")) {
            o->alpha = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (arg_ll_or_reply(err, &argv[j + 1], &o->lstart, NULL) < 0 ||
                arg_ll_or_reply(err, &argv[j + 2], &o->lcount, NULL) < 0)
                return -1;
            j += 2;
        } else if (!readonly && arg_is(a, "store") && left >= 1) {
            o->store = &argv[++j];
        } else if (arg_is(a, "by") && left >= 1) {
            by = &argv[++j];
            /* A pattern without '*' names one constant key: nothing to sort
             * by. Once seen, it holds even if a later BY has a '*'. */
            if (!memchr(by->p, '*', sort_clen(by->p, by->len))) o->dontsort = 1;
        } else if (arg_is(a, "get") && left >= 1) {
            o->gets = realloc(o->gets, sizeof(*o->gets) * (size_t)(o->ngets + 1));
            if (!o->gets) abort();
            o->gets[o->ngets++] = &argv[++j];
        } else {
            rw_error(err, ERR_SYNTAX);
            return -1;
        }
    }
    o->by = o->dontsort ? NULL : by;
    return 0;
}

void sort_opts_free(sort_opts *o) {
    free(o->gets);
    o->gets = NULL;
    o->ngets = 0;
}

int sort_getkeys(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    int n = 0, store = 0;
    keys[n++] = 1;
    for (int i = 2; i < argc; i++) {
        if (arg_is(&argv[i], "limit"))
            i += 2;
        else if (arg_is(&argv[i], "get") || arg_is(&argv[i], "by"))
            i += 1;
        else if (arg_is(&argv[i], "store") && i + 1 < argc)
            store = i + 1; /* the last STORE wins; its key is scanned as an option too */
    }
    if (store) keys[n++] = store;
    return n;
}

void sort_window(long long vlen, long long lstart, long long lcount, long long *start,
                 long long *end) {
    long long s = lstart < 0 ? 0 : lstart;
    if (s > vlen) s = vlen;
    long long cnt = lcount < -1 ? -1 : lcount;
    if (cnt > vlen) cnt = vlen;
    long long e = cnt < 0 ? vlen - 1 : s + cnt - 1;
    if (s >= vlen) {
        s = vlen - 1;
        e = vlen - 2;
    }
    if (e >= vlen) e = vlen - 1;
    *start = s;
    *end = e;
}

void sort_pat_parse(const char *p, size_t len, sort_pat *sp) {
    size_t clen = sort_clen(p, len);
    memset(sp, 0, sizeof(*sp));
    if (clen == 1 && p[0] == '#') {
        sp->kind = SORT_PAT_SELF;
        return;
    }
    const char *star = memchr(p, '*', clen);
    if (!star) {
        sp->kind = SORT_PAT_NONE;
        return;
    }
    sp->kind = SORT_PAT_KEY;
    sp->star = (size_t)(star - p);
    sp->keyend = len;
    /* The first "->" after the '*' splits off a field, unless nothing (in
     * C-string terms) follows it: then it is part of the key name. */
    for (size_t i = sp->star + 1; i + 1 < clen; i++) {
        if (p[i] == '-' && p[i + 1] == '>') {
            if (i + 2 < clen) {
                sp->has_field = 1;
                sp->field = i + 2;
                sp->keyend = i;
            }
            break;
        }
    }
}

void sort_pat_key(const char *p, const sort_pat *sp, const char *el, size_t ellen, rbuf *out) {
    rb_append(out, p, sp->star);
    rb_append(out, el, ellen);
    rb_append(out, p + sp->star + 1, sp->keyend - sp->star - 1);
}

int sort_score(const char *p, size_t len, double *out) {
    char stackbuf[128];
    char *buf = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    if (!buf) abort();
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int ok = *end == '\0' && errno != ERANGE && !isnan(v);
    if (buf != stackbuf) free(buf);
    *out = v;
    return ok ? 0 : -1;
}

/* Byte-wise comparison: memcmp over the shorter length, then the shorter first. */
static int sort_cmp_bin(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* strcoll in the C locale: strcmp over the C strings (up to a NUL). */
static int sort_cmp_coll(const char *a, size_t alen, const char *b, size_t blen) {
    return sort_cmp_bin(a, sort_clen(a, alen), b, sort_clen(b, blen));
}

int sort_el_cmp(const sort_el *a, const sort_el *b, const sort_how *h) {
    int cmp;
    if (!h->alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else
            cmp = sort_cmp_bin(a->p, a->len, b->p, b->len);
    } else if (h->by) {
        if (!a->cmp || !b->cmp)
            cmp = a->cmp == b->cmp ? 0 : a->cmp ? 1 : -1;
        else if (h->store)
            cmp = sort_cmp_bin(a->cmp, a->cmplen, b->cmp, b->cmplen);
        else
            cmp = sort_cmp_coll(a->cmp, a->cmplen, b->cmp, b->cmplen);
    } else if (h->store) {
        cmp = sort_cmp_bin(a->p, a->len, b->p, b->len);
    } else {
        cmp = sort_cmp_coll(a->p, a->len, b->p, b->len);
    }
    if (h->desc) cmp = cmp > 0 ? -1 : cmp < 0;
    return cmp;
}

/* Top-down merge sort of v[0..n) using tmp[0..n); a tie takes the left run
 * first, which keeps the sort stable. */
static void sort_merge(sort_el **v, sort_el **tmp, size_t n, const sort_how *h) {
    if (n < 2) return;
    size_t n1 = n / 2;
    sort_merge(v, tmp, n1, h);
    sort_merge(v + n1, tmp, n - n1, h);
    size_t i = 0, j = n1, k = 0;
    while (i < n1 && j < n)
        tmp[k++] = sort_el_cmp(v[i], v[j], h) <= 0 ? v[i++] : v[j++];
    while (i < n1)
        tmp[k++] = v[i++];
    memcpy(v, tmp, sizeof(*v) * k); /* v[j..n) is already in place */
}

void sort_els(sort_el **v, size_t n, const sort_how *h) {
    if (n < 2) return;
    sort_el **tmp = malloc(sizeof(*tmp) * n);
    if (!tmp) abort();
    sort_merge(v, tmp, n, h);
    free(tmp);
}

/* ---------------------------------------------------------------------- */
/* The transaction. */

/* One key to read on its shard: a string value, or one field of a hash. */
typedef struct sort_req {
    size_t koff, klen; /* the key's bytes in state->kbuf */
    const char *field; /* the field (borrowed from tx->argv) when has_field */
    size_t flen;
    int has_field;
    int part; /* the part whose shard owns the key */
} sort_req;

/* A value read for a request. */
typedef struct sort_val {
    const char *p; /* in state->vbuf; NULL when the key/field is missing or of another type */
    size_t len;
} sort_val;

/* One string of the result (element, GET value, or nil). */
typedef struct sort_out {
    const char *p; /* NULL: nil (an empty string when storing) */
    size_t len;
} sort_out;

typedef struct sort_state {
    sort_opts o;
    int src_part, dst_part;
    int *part_of_shard; /* [nshards]: the part index of each shard, -1 if not held */
    /* Loaded by op_sort_load. */
    int wrongtype;
    rbuf elbuf; /* the elements' bytes */
    size_t nel;
    sort_el *el;          /* el[i].p points into elbuf */
    sort_el **order;      /* the elements in output order */
    long long start, end; /* the output window over order[] */
    /* Lookups of the current step. */
    rbuf kbuf;
    size_t nreq, capreq;
    sort_req *req;
    size_t *bypart; /* request indexes grouped by part */
    size_t *pfirst; /* [nparts + 1]: part p's requests are bypart[pfirst[p]..pfirst[p+1]) */
    int fetched;    /* a fetch ran whose results sort_collect has not taken yet */
    rbuf vbuf;      /* the values read, copied off the parts */
    sort_val *val;  /* [nreq] */
    /* The result, for STORE. */
    size_t nout;
    sort_out *out;
} sort_state;

static void sort_finish(rt_tx *tx) {
    sort_state *s = tx->state;
    for (int i = 0; i < tx->nparts; i++) {
        free(tx->part[i].ptr);
        tx->part[i].ptr = NULL;
    }
    sort_opts_free(&s->o);
    free(s->part_of_shard);
    rb_free(&s->elbuf);
    free(s->el);
    free(s->order);
    rb_free(&s->kbuf);
    free(s->req);
    free(s->bypart);
    free(s->pfirst);
    rb_free(&s->vbuf);
    free(s->val);
    free(s->out);
    free(s);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* The part holding the shard that owns key[0..len). Every shard is held. */
static int sort_part_of_key(rt_tx *tx, const char *key, size_t len) {
    sort_state *s = tx->state;
    int part = s->part_of_shard[rt_key_shard(rt_of(rt_tx_coord(tx)), key, len)];
    if (part < 0) abort(); /* sort_plan_shards took every shard a pattern may read */
    return part;
}

/* --- Step 1: load the elements on the source's shard. */

typedef struct sort_loader {
    sort_state *s;
    size_t *off; /* offsets of the elements in s->elbuf while loading */
} sort_loader;

static void sort_add_el(sort_loader *ld, const char *p, size_t len) {
    sort_state *s = ld->s;
    ld->off[s->nel] = s->elbuf.len;
    s->el[s->nel].len = len;
    s->nel++;
    rb_append(&s->elbuf, p, len);
}

static void sort_zset_visit(void *priv, const char *m, size_t mlen, double score) {
    (void)score;
    sort_add_el(priv, m, mlen);
}

typedef struct sort_zconv {
    obj *to;
    const store_enc *enc;
} sort_zconv;

static void sort_zconv_visit(void *priv, const char *m, size_t mlen, double score) {
    sort_zconv *zc = priv;
    int res;
    zset_add(zc->to, zc->enc, score, m, mlen, 0, &res, NULL);
}

/* Redis converts a listpack sorted set to a skiplist before sorting it
 * (OBJECT ENCODING shows it afterwards). Returns the new value of key. */
static obj *sort_zset_to_skiplist(rt_ctx *c, const rt_arg *key, obj *o) {
    sort_zconv zc = {zset_new_skiplist(), &ctx_store(c)->enc};
    zset_foreach(o, sort_zconv_visit, &zc);
    db_replace(ctx_cdb(c), key->p, key->len, zc.to);
    return zc.to;
}

static size_t sort_value_len(const obj *o) {
    if (o->type == OBJ_LIST) return list_len(o);
    if (o->type == OBJ_SET) return set_len(o);
    return zset_len(o);
}

static void op_sort_load(rt_ctx *c) {
    rt_tx *tx = c->tx;
    sort_state *s = tx->state;
    const rt_arg *key = &tx->argv[1];
    obj *o = lookup_read_any(c, key);
    if (o && o->type != OBJ_LIST && o->type != OBJ_SET && o->type != OBJ_ZSET) {
        s->wrongtype = 1;
        return;
    }
    /* A set has no order of its own: storing it unsorted would store the
     * table order, so Redis sorts it alphabetically instead. */
    if (o && o->type == OBJ_SET && s->o.dontsort && s->o.store) {
        s->o.dontsort = 0;
        s->o.alpha = 1;
        s->o.by = NULL;
    }
    if (o && o->type == OBJ_ZSET && o->enc == OBJ_ENC_LISTPACK)
        o = sort_zset_to_skiplist(c, key, o);
    long long vlen = o ? (long long)sort_value_len(o) : 0;
    sort_window(vlen, s->o.lstart, s->o.lcount, &s->start, &s->end);
    /* Lists and sorted sets left unsorted load just the window, walking
     * from its first element in the DESC/ASC direction. */
    int window = o && s->o.dontsort && o->type != OBJ_SET;
    long long first = 0, n = vlen;
    if (window) {
        first = s->start;
        n = s->end >= s->start ? s->end - s->start + 1 : 0;
        s->start = 0;
        s->end = n - 1;
    }
    s->el = calloc((size_t)n + 1, sizeof(sort_el));
    sort_loader ld = {s, malloc(sizeof(size_t) * ((size_t)n + 1))};
    if (!s->el || !ld.off) abort();
    if (n > 0 && o->type == OBJ_LIST) {
        ql_iter it;
        lp_entry e;
        long long idx = window && s->o.desc ? vlen - first - 1 : first;
        ql_iter_init(&it, list_ql(o), idx, window && s->o.desc ? LIST_HEAD : LIST_TAIL);
        while ((long long)s->nel < n && ql_iter_next(&it, &e))
            sort_add_el(&ld, e.s, e.len);
    } else if (n > 0 && o->type == OBJ_SET) {
        set_iter it;
        set_member m;
        set_iter_init(&it, o);
        while ((long long)s->nel < n && set_iter_next(&it, &m))
            sort_add_el(&ld, m.p, m.len);
    } else if (n > 0 && o->type == OBJ_ZSET) {
        if (window)
            zset_range_rank(o, first, first + n - 1, s->o.desc, sort_zset_visit, &ld);
        else
            zset_foreach(o, sort_zset_visit, &ld);
    }
    for (size_t i = 0; i < s->nel; i++)
        s->el[i].p = s->elbuf.buf + ld.off[i];
    free(ld.off);
}

/* --- Lookups (steps 2 and 3). */

static void sort_req_reset(sort_state *s) {
    rb_clear(&s->kbuf);
    s->nreq = 0;
}

/* Queue a lookup of pattern pat (parsed as sp, SORT_PAT_KEY) for element el. */
static void sort_req_add(rt_tx *tx, const rt_arg *pat, const sort_pat *sp, const sort_el *el) {
    sort_state *s = tx->state;
    if (s->nreq == s->capreq) {
        s->capreq = s->capreq ? s->capreq * 2 : 16;
        s->req = realloc(s->req, sizeof(*s->req) * s->capreq);
        if (!s->req) abort();
    }
    sort_req *r = &s->req[s->nreq++];
    r->koff = s->kbuf.len;
    sort_pat_key(pat->p, sp, el->p, el->len, &s->kbuf);
    r->klen = s->kbuf.len - r->koff;
    r->has_field = sp->has_field;
    r->field = sp->has_field ? pat->p + sp->field : NULL;
    r->flen = sp->has_field ? pat->len - sp->field : 0;
    r->part = sort_part_of_key(tx, s->kbuf.buf + r->koff, r->klen);
}

/* Read the values of this part's requests into part->out (bytes) and
 * part->ptr (per request: offset into out, or -1 when missing, and length). */
static void op_sort_fetch(rt_ctx *c) {
    rt_tx *tx = c->tx;
    const sort_state *s = tx->state;
    rt_part *p = &tx->part[c->part];
    rb_clear(&p->out);
    size_t first = s->pfirst[c->part], n = s->pfirst[c->part + 1] - first;
    long long *res = malloc(sizeof(long long) * 2 * (n ? n : 1));
    if (!res) abort();
    for (size_t k = 0; k < n; k++) {
        const sort_req *r = &s->req[s->bypart[first + k]];
        rt_arg key = {s->kbuf.buf + r->koff, r->klen};
        obj *o = lookup_read_any(c, &key);
        const char *v = NULL;
        size_t vlen = 0;
        char tmp[32];
        if (o && r->has_field && o->type == OBJ_HASH)
            v = hash_get(o, r->field, r->flen, &vlen, tmp);
        else if (o && !r->has_field && o->type == OBJ_STRING)
            v = obj_str(o, tmp, &vlen);
        res[2 * k] = v ? (long long)p->out.len : -1;
        res[2 * k + 1] = (long long)vlen;
        if (v) rb_append(&p->out, v, vlen);
    }
    p->ptr = res;
}

/* Group the queued requests by part and run op_sort_fetch everywhere. */
static void sort_fetch(rt_tx *tx, void (*next)(rt_tx *tx)) {
    sort_state *s = tx->state;
    free(s->pfirst);
    free(s->bypart);
    s->pfirst = calloc((size_t)tx->nparts + 1, sizeof(size_t));
    s->bypart = malloc(sizeof(size_t) * (s->nreq ? s->nreq : 1));
    if (!s->pfirst || !s->bypart) abort();
    for (size_t i = 0; i < s->nreq; i++)
        s->pfirst[s->req[i].part + 1]++;
    for (int p = 0; p < tx->nparts; p++)
        s->pfirst[p + 1] += s->pfirst[p];
    size_t *fill = malloc(sizeof(size_t) * (size_t)tx->nparts);
    if (!fill) abort();
    memcpy(fill, s->pfirst, sizeof(size_t) * (size_t)tx->nparts);
    for (size_t i = 0; i < s->nreq; i++)
        s->bypart[fill[s->req[i].part]++] = i;
    free(fill);
    s->fetched = 1;
    rt_tx_run(tx, op_sort_fetch, next);
}

/* After a fetch: copy the values off the parts into s->vbuf and s->val. */
static void sort_collect(rt_tx *tx) {
    sort_state *s = tx->state;
    s->fetched = 0;
    rb_clear(&s->vbuf);
    free(s->val);
    s->val = calloc(s->nreq ? s->nreq : 1, sizeof(sort_val));
    long long *off = malloc(sizeof(long long) * (s->nreq ? s->nreq : 1));
    if (!s->val || !off) abort();
    for (int p = 0; p < tx->nparts; p++) {
        rt_part *pt = &tx->part[p];
        long long *res = pt->ptr;
        for (size_t k = s->pfirst[p]; k < s->pfirst[p + 1]; k++) {
            size_t r = s->bypart[k], i = k - s->pfirst[p];
            off[r] = -1;
            if (res[2 * i] < 0) continue;
            off[r] = (long long)s->vbuf.len;
            s->val[r].len = (size_t)res[2 * i + 1];
            if (s->val[r].len) rb_append(&s->vbuf, pt->out.buf + res[2 * i], s->val[r].len);
        }
        free(pt->ptr);
        pt->ptr = NULL;
        rb_free(&pt->out);
    }
    for (size_t r = 0; r < s->nreq; r++)
        if (off[r] >= 0) s->val[r].p = s->vbuf.buf + off[r];
    free(off);
}

/* --- Step 4: store. */

static void op_sort_store(rt_ctx *c) {
    rt_tx *tx = c->tx;
    const sort_state *s = tx->state;
    const rt_arg *dst = s->o.store;
    db *d = ctx_cdb(c);
    if (s->nout == 0) {
        if (db_del(d, dst->p, dst->len)) ss_dirty(c, 1);
        return;
    }
    obj *l = list_new(ctx_store(c)->enc.list_max_listpack_size);
    for (size_t i = 0; i < s->nout; i++)
        list_push(l, LIST_TAIL, s->out[i].p ? s->out[i].p : "", s->out[i].len);
    db_set(d, dst->p, dst->len, l, 0);
    ss_dirty(c, s->nout);
}

static void sort_stored(rt_tx *tx) {
    sort_state *s = tx->state;
    rw_int(&tx->reply, (long long)s->nout);
    sort_finish(tx);
}

/* --- Output. */

/* Number of strings the result has: one per element, or one per GET. */
static size_t sort_outlen(const sort_state *s) {
    size_t n = s->end >= s->start ? (size_t)(s->end - s->start + 1) : 0;
    return s->o.ngets ? n * (size_t)s->o.ngets : n;
}

/* With the GET values (if any) read: reply or store. */
static void sort_output(rt_tx *tx) {
    sort_state *s = tx->state;
    if (s->fetched) sort_collect(tx);
    size_t n = sort_outlen(s), k = 0, r = 0;
    s->out = malloc(sizeof(sort_out) * (n ? n : 1));
    if (!s->out) abort();
    for (long long j = s->start; j <= s->end; j++) {
        const sort_el *el = s->order[j];
        if (!s->o.ngets) {
            s->out[k++] = (sort_out){el->p, el->len};
            continue;
        }
        for (int g = 0; g < s->o.ngets; g++) {
            const rt_arg *pat = s->o.gets[g];
            sort_pat sp;
            sort_pat_parse(pat->p, pat->len, &sp);
            if (sp.kind == SORT_PAT_SELF)
                s->out[k++] = (sort_out){el->p, el->len};
            else if (sp.kind == SORT_PAT_NONE)
                s->out[k++] = (sort_out){NULL, 0};
            else {
                s->out[k++] = (sort_out){s->val[r].p, s->val[r].len};
                r++;
            }
        }
    }
    s->nout = n;
    if (s->o.store) {
        rt_tx_run_one(tx, s->dst_part, op_sort_store, sort_stored);
        return;
    }
    rw_array(&tx->reply, (long)n);
    for (size_t i = 0; i < n; i++) {
        if (s->out[i].p)
            rw_bulk(&tx->reply, s->out[i].p, s->out[i].len);
        else
            rw_null(&tx->reply);
    }
    sort_finish(tx);
}

/* Queue the GET lookups of the output window and fetch them. */
static void sort_gets(rt_tx *tx) {
    sort_state *s = tx->state;
    sort_req_reset(s);
    for (long long j = s->start; j <= s->end; j++) {
        for (int g = 0; g < s->o.ngets; g++) {
            sort_pat sp;
            sort_pat_parse(s->o.gets[g]->p, s->o.gets[g]->len, &sp);
            if (sp.kind == SORT_PAT_KEY) sort_req_add(tx, s->o.gets[g], &sp, s->order[j]);
        }
    }
    if (s->nreq == 0)
        sort_output(tx);
    else
        sort_fetch(tx, sort_output);
}

/* With the weights (if any) read: compute the sort keys, sort, go on. */
static void sort_weighed(rt_tx *tx) {
    sort_state *s = tx->state;
    if (s->fetched) sort_collect(tx);
    s->order = malloc(sizeof(sort_el *) * (s->nel ? s->nel : 1));
    if (!s->order) abort();
    for (size_t i = 0; i < s->nel; i++)
        s->order[i] = &s->el[i];
    if (!s->o.dontsort) {
        int bad = 0;
        for (size_t i = 0; i < s->nel; i++) {
            sort_el *el = &s->el[i];
            const char *v = el->p;
            size_t vlen = el->len;
            if (s->o.by) {
                if (!s->val[i].p) continue; /* missing weight: score 0, sorts first in ALPHA */
                v = s->val[i].p;
                vlen = s->val[i].len;
            }
            if (s->o.alpha) {
                if (s->o.by) {
                    el->cmp = v;
                    el->cmplen = vlen;
                }
            } else if (sort_score(v, vlen, &el->score) < 0) {
                bad = 1;
            }
        }
        if (bad) {
            rw_error(&tx->reply, SORT_ERR_SCORE);
            sort_finish(tx);
            return;
        }
        sort_how h = {s->o.alpha, s->o.by != NULL, s->o.store != NULL, s->o.desc};
        sort_els(s->order, s->nel, &h);
        for (size_t i = 0; i < s->nel; i++)
            s->el[i].cmp = NULL; /* the weights' bytes go with the next fetch */
    }
    sort_gets(tx);
}

static void sort_loaded(rt_tx *tx) {
    sort_state *s = tx->state;
    if (s->wrongtype) {
        rw_error(&tx->reply, ERR_WRONGTYPE);
        sort_finish(tx);
        return;
    }
    if (!s->o.by || s->nel == 0) {
        sort_weighed(tx);
        return;
    }
    sort_pat sp;
    sort_pat_parse(s->o.by->p, s->o.by->len, &sp);
    sort_req_reset(s);
    for (size_t i = 0; i < s->nel; i++)
        sort_req_add(tx, s->o.by, &sp, &s->el[i]);
    sort_fetch(tx, sort_weighed);
}

/* Parse, then load the source on its shard. */
static void sort_start(rt_tx *tx, int readonly) {
    sort_state *s = calloc(1, sizeof(*s));
    if (!s) abort();
    tx->state = s;
    /* Give the arenas storage at once, so that even empty elements and
     * keys get a non-NULL address (a NULL element means nil). */
    rb_init(&s->elbuf, 2);
    rb_init(&s->kbuf, 2);
    rb_init(&s->vbuf, 2);
    rb_reserve(&s->elbuf, 64);
    rb_reserve(&s->kbuf, 64);
    rb_reserve(&s->vbuf, 64);
    if (sort_parse(tx->argc, tx->argv, readonly, &s->o, &tx->reply) < 0) {
        sort_finish(tx);
        return;
    }
    int nshards = rt_nshards(rt_of(rt_tx_coord(tx)));
    s->part_of_shard = malloc(sizeof(int) * (size_t)nshards);
    if (!s->part_of_shard) abort();
    for (int i = 0; i < nshards; i++)
        s->part_of_shard[i] = -1;
    for (int i = 0; i < tx->nparts; i++)
        s->part_of_shard[tx->part[i].shard] = i;
    s->src_part = sort_part_of_key(tx, tx->argv[1].p, tx->argv[1].len);
    if (s->o.store) s->dst_part = sort_part_of_key(tx, s->o.store->p, s->o.store->len);
    rt_tx_run_one(tx, s->src_part, op_sort_load, sort_loaded);
}

static void cmd_sort_multi(rt_tx *tx) {
    sort_start(tx, 0);
}

static void cmd_sort_ro_multi(rt_tx *tx) {
    sort_start(tx, 1);
}

/* Whether pattern a (BY or GET) reads other keys. */
static int sort_pat_reads_keys(const rt_arg *a) {
    sort_pat sp;
    sort_pat_parse(a->p, a->len, &sp);
    return sp.kind == SORT_PAT_KEY;
}

int sort_plan_shards(const cmd_def *cmd, rt *r, int argc, rt_arg *argv, int *shards) {
    int readonly = cmd->multi == cmd_sort_ro_multi;
    if (cmd->multi != cmd_sort_multi && !readonly) return 0;
    sort_opts o;
    rbuf err;
    rb_init(&err, 2);
    int n = 0;
    if (sort_parse(argc, argv, readonly, &o, &err) == 0) {
        int reads = o.by && sort_pat_reads_keys(o.by);
        for (int i = 0; i < o.ngets && !reads; i++)
            reads = sort_pat_reads_keys(o.gets[i]);
        if (!reads) {
            int a = rt_key_shard(r, argv[1].p, argv[1].len);
            int b = o.store ? rt_key_shard(r, o.store->p, o.store->len) : a;
            shards[n++] = a < b ? a : b;
            if (a != b) shards[n++] = a < b ? b : a;
        }
    }
    sort_opts_free(&o);
    rb_free(&err);
    return n;
}

/* Both rows are transactions: over every shard when a BY/GET pattern reads
 * other keys, else over the shards of the sorted key and STORE's key
 * (sort_plan_shards, called by the dispatcher). The key range and getkeys
 * serve COMMAND INFO/GETKEYS. */
cmd_def cmd_rows_sort[] = {
    ROW("sort", -2, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1, sort_getkeys,
        CMD_ROUTE_ALL, NULL, cmd_sort_multi, NULL, NULL),
    ROW("sort_ro", -2, CMD_READONLY | CMD_MOVABLE_KEYS, 1, 1, 1, NULL, CMD_ROUTE_ALL, NULL,
        cmd_sort_ro_multi, NULL, NULL),
    END,
};
