/* watch.c -- WATCH/UNWATCH and the per-shard table of watched keys (see
 * watch.h for the design and the threading rules).
 *
 * The table is a dict keyed by the 4-byte database index followed by the
 * key bytes; each entry's value is a watch_ent (version, references). An
 * entry exists while at least one client watches the key; every watching
 * client holds one reference per WATCH of it.
 */
#include "watch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../ds/dict.h"
#include "cmd_meta.h"

typedef struct watch_ent {
    uint64_t version;
    uint32_t refs;
} watch_ent;

/* The table key of (db, key): in buf when it fits, else malloc'd (the
 * caller frees *heap). */
static char *wt_key(char *buf, size_t cap, int db, const char *k, size_t klen, size_t *len,
                    char **heap) {
    *len = 4 + klen;
    char *p = buf;
    *heap = NULL;
    if (*len > cap) p = *heap = malloc(*len);
    if (!p) abort();
    uint32_t d = (uint32_t)db;
    memcpy(p, &d, 4);
    memcpy(p + 4, k, klen);
    return p;
}

static watch_ent *wt_find(shard_state *ss, int db, const char *k, size_t klen) {
    if (!ss->watched || dict_size(ss->watched) == 0) return NULL;
    char buf[256], *heap;
    size_t len;
    char *tk = wt_key(buf, sizeof(buf), db, k, klen, &len, &heap);
    dict_entry *e = dict_find(ss->watched, tk, len);
    free(heap);
    return e ? e->v.p : NULL;
}

/* Add a reference to (db, key); returns its current version. */
static uint64_t wt_ref(shard_state *ss, int db, const char *k, size_t klen) {
    if (!ss->watched) ss->watched = dict_new();
    char buf[256], *heap;
    size_t len;
    char *tk = wt_key(buf, sizeof(buf), db, k, klen, &len, &heap);
    int added;
    dict_entry *e = dict_add(ss->watched, tk, len, &added);
    free(heap);
    if (added) {
        e->v.p = calloc(1, sizeof(watch_ent));
        if (!e->v.p) abort();
    }
    watch_ent *w = e->v.p;
    w->refs++;
    return w->version;
}

static void wt_unref(shard_state *ss, int db, const char *k, size_t klen) {
    if (!ss->watched) return;
    char buf[256], *heap;
    size_t len;
    char *tk = wt_key(buf, sizeof(buf), db, k, klen, &len, &heap);
    dict_entry *e = dict_find(ss->watched, tk, len);
    if (e && --((watch_ent *)e->v.p)->refs == 0) {
        e = dict_unlink(ss->watched, tk, len);
        free(e->v.p);
        dict_entry_free(e);
        dict_shrink(ss->watched);
    }
    free(heap);
}

static void wt_free_val(dict_entry *e) {
    free(e->v.p);
}

void watch_table_free(shard_state *ss) {
    if (ss->watched) dict_free(ss->watched, wt_free_val);
    ss->watched = NULL;
}

/* Whether key spec ks covers argument position pos of argv. Returns 1 or
 * 0, or -1 when the spec cannot say (its keys are found some other way).
 * Follows the key-spec rules COMMAND GETKEYS documents: begin_search gives
 * the first key, find_keys the last and the step. */
static int wt_spec_covers(const cmd_keyspec *ks, int argc, rt_arg *argv, int pos) {
    int first;
    if (ks->bs_type == CMD_BS_INDEX) {
        first = ks->bs_index;
    } else if (ks->bs_type == CMD_BS_KEYWORD) {
        size_t kwlen = strlen(ks->bs_keyword);
        int from = ks->bs_startfrom, dir = from > 0 ? 1 : -1;
        if (from < 0) from += argc;
        first = -1;
        for (int i = from; i >= 1 && i < argc; i += dir) {
            if (argv[i].len == kwlen && strncasecmp(argv[i].p, ks->bs_keyword, kwlen) == 0) {
                first = i + 1;
                break;
            }
        }
        if (first < 0) return 0;
    } else {
        return -1;
    }
    int last, step;
    if (ks->fk_type == CMD_FK_RANGE) {
        step = ks->fk_b;
        if (ks->fk_a >= 0)
            last = first + ks->fk_a;
        else if (ks->fk_c <= 1)
            last = argc + ks->fk_a;
        else
            last = first + ((argc - first) / ks->fk_c + ks->fk_a);
    } else if (ks->fk_type == CMD_FK_KEYNUM) {
        int idx = first + ks->fk_a;
        if (idx >= argc) return 0;
        long long nk;
        if (!util_str2ll(argv[idx].p, argv[idx].len, &nk) || nk < 0 || nk > argc) return 0;
        step = ks->fk_c;
        first += ks->fk_b;
        last = first + (int)nk * step - 1;
    } else {
        return -1;
    }
    if (step <= 0 || pos < first || pos > last) return 0;
    return (pos - first) % step == 0;
}

/* Whether the command may write the key at argument position pos: a key
 * spec that writes (RW, OW or RM) covers it, or no read-only spec does (the
 * specs cannot tell, as for SORT's STORE key). Keys only read (the sources
 * of SINTERSTORE, COPY, BITOP, SORT ...) are not touched, as in Redis. */
static int wt_pos_written(const cmd_def *cmd, int argc, rt_arg *argv, int pos) {
    const cmd_meta *m = cmd->meta;
    int read_only = 0;
    for (int i = 0; m && i < m->nkeyspecs; i++) {
        const cmd_keyspec *ks = &m->keyspecs[i];
        if (wt_spec_covers(ks, argc, argv, pos) != 1) continue;
        if (ks->flags & (CMD_KS_RW | CMD_KS_OW | CMD_KS_RM)) return 1;
        read_only = 1;
    }
    return !read_only;
}

void watch_after_write(rt_ctx *c, const cmd_def *cmd, int argc, rt_arg *argv, int db,
                       uint64_t dirty_before) {
    shard_state *ss = ctx_ss(c);
    int done = ss->watch_done;
    ss->watch_done = 0;
    if (done || ss->dirty == dirty_before || !ss->watched || dict_size(ss->watched) == 0) return;
    int *keys = malloc(sizeof(int) * (size_t)(argc + 1));
    if (!keys) abort();
    rbuf err;
    rb_init(&err, 2);
    int n = cmd_key_positions(cmd, argc, argv, keys, &err);
    rb_free(&err);
    rt *r = rt_of(c->shard);
    for (int i = 0; i < n; i++) {
        const rt_arg *k = &argv[keys[i]];
        if (rt_key_shard(r, k->p, k->len) != c->shard_id) continue;
        watch_ent *w = wt_find(ss, db, k->p, k->len);
        if (w && wt_pos_written(cmd, argc, argv, keys[i])) w->version++;
    }
    free(keys);
}

void watch_touch_key(rt_ctx *c, int db, const rt_arg *key) {
    shard_state *ss = ctx_ss(c);
    if (!ss->watched || dict_size(ss->watched) == 0) return;
    watch_ent *w = wt_find(ss, db, key->p, key->len);
    if (w) w->version++;
}

void watch_touch_key_only(rt_ctx *c, int db, const rt_arg *key) {
    shard_state *ss = ctx_ss(c);
    watch_touch_key(c, db, key);
    if (ss->watched) ss->watch_done = 1;
}

/* The database of a table entry, and whether its key is live there. */
static int wt_db(const dict_entry *e) {
    uint32_t d;
    memcpy(&d, e->key, 4);
    return (int)d;
}

static int wt_live(shard_state *ss, int db, const dict_entry *e) {
    return db_peek(store_db(ss->st, db), e->key + 4, e->klen - 4) != NULL;
}

void watch_touch_db(shard_state *ss, int db) {
    if (!ss->watched) return;
    dict_iter it;
    dict_iter_init(&it, ss->watched);
    for (dict_entry *e; (e = dict_iter_next(&it)) != NULL;) {
        int d = wt_db(e);
        if ((db < 0 || d == db) && wt_live(ss, d, e)) ((watch_ent *)e->v.p)->version++;
    }
}

void watch_touch_swapdb(shard_state *ss, int a, int b) {
    if (!ss->watched) return;
    dict_iter it;
    dict_iter_init(&it, ss->watched);
    for (dict_entry *e; (e = dict_iter_next(&it)) != NULL;) {
        int d = wt_db(e);
        if ((d == a || d == b) && (wt_live(ss, a, e) || wt_live(ss, b, e)))
            ((watch_ent *)e->v.p)->version++;
    }
}

/* ---------------------------------------------------------------------- */
/* The client's list. */

static void wl_push(watch_list *wl, const watch_key *k) {
    if (wl->n == wl->cap) {
        wl->cap = wl->cap ? wl->cap * 2 : 4;
        wl->k = realloc(wl->k, sizeof(watch_key) * (size_t)wl->cap);
        if (!wl->k) abort();
    }
    wl->k[wl->n++] = *k;
}

void watch_list_free(watch_list *wl) {
    if (!wl) return;
    for (int i = 0; i < wl->n; i++)
        free(wl->k[i].key);
    free(wl->k);
    free(wl);
}

/* Broadcast body: release this shard's keys of the list. */
static void wl_release_on_shard(rt_shard *s, void *arg) {
    const watch_list *wl = arg;
    shard_state *ss = rt_shard_data(s);
    for (int i = 0; i < wl->n; i++)
        if (wl->k[i].shard == ss->id) wt_unref(ss, wl->k[i].db, wl->k[i].key, wl->k[i].klen);
}

static void wl_release_done(rt_shard *s, void *arg) {
    (void)s;
    watch_list_free(arg);
}

/* Release every key of wl on its shard, then free wl. */
static void wl_release(rt_shard *from, watch_list *wl) {
    if (wl->n == 0) {
        watch_list_free(wl);
        return;
    }
    rt_broadcast(from, wl_release_on_shard, wl, wl_release_done);
}

void watch_forget(rt_shard *home, client_state *cs) {
    if (!cs->watch) return;
    watch_list *wl = cs->watch;
    cs->watch = NULL;
    wl_release(home, wl);
}

void watch_exec_check_op(rt_ctx *c, const watch_list *wl) {
    shard_state *ss = ctx_ss(c);
    long long changed = 0;
    for (int i = 0; i < wl->n; i++) {
        const watch_key *k = &wl->k[i];
        if (k->shard != c->shard_id) continue;
        watch_ent *w = wt_find(ss, k->db, k->key, k->klen);
        int live = db_peek(store_db(ss->st, k->db), k->key, k->klen) != NULL;
        if (!w || w->version != k->version || (k->existed && !live)) changed++;
        wt_unref(ss, k->db, k->key, k->klen);
    }
    c->tx->part[c->part].n += changed;
}

/* ---------------------------------------------------------------------- */
/* WATCH key [key ...]: a transaction over every shard; each registers the
 * keys it owns and reports their versions; the coordinator files them in
 * the client's list. */

static void op_watch(rt_ctx *c) {
    rt_tx *tx = c->tx;
    rt_part *p = &tx->part[c->part];
    shard_state *ss = ctx_ss(c);
    rt *r = rt_of(c->shard);
    watch_list *got = calloc(1, sizeof(*got));
    if (!got) abort();
    for (int i = 1; i < tx->argc; i++) {
        const rt_arg *a = &tx->argv[i];
        if (rt_key_shard(r, a->p, a->len) != c->shard_id) continue;
        watch_key k = {tx->db, c->shard_id, 0, 0, (uint32_t)a->len, malloc(a->len + 1)};
        if (!k.key) abort();
        memcpy(k.key, a->p, a->len);
        k.key[a->len] = '\0';
        k.version = wt_ref(ss, tx->db, a->p, a->len);
        k.existed = db_peek(store_db(ss->st, tx->db), a->p, a->len) != NULL;
        wl_push(got, &k);
    }
    p->ptr = got;
}

static void watch_finish(rt_tx *tx) {
    rt_conn *conn = rt_tx_conn(tx);
    client_state *cs = conn ? rt_conn_data(conn) : NULL;
    watch_list *all = calloc(1, sizeof(*all));
    if (!all) abort();
    for (int i = 0; i < tx->nparts; i++) {
        watch_list *got = tx->part[i].ptr;
        for (int j = 0; j < got->n; j++)
            wl_push(all, &got->k[j]);
        free(got->k);
        free(got);
        tx->part[i].ptr = NULL;
    }
    if (!cs) {
        /* The client left while the keys were being registered. */
        wl_release(rt_tx_coord(tx), all);
    } else if (!cs->watch) {
        cs->watch = all;
    } else {
        for (int j = 0; j < all->n; j++)
            wl_push(cs->watch, &all->k[j]);
        free(all->k);
        free(all);
    }
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}

void cmd_watch_multi(rt_tx *tx) {
    rt_tx_run(tx, op_watch, watch_finish);
}

/* UNWATCH: forget every watched key (inside EXEC the list is already gone). */
void cmd_unwatch(rt_ctx *c) {
    watch_forget(c->shard, rt_conn_data(c->conn));
    rw_ok(c->reply);
}
