/* tx.c -- multi-shard transactions: the coordinator side (the home shard of
 * the requesting connection) and the participant side (every shard that owns
 * one of the keys, or every shard for RT_PLAN_ALL).
 *
 * Protocol, for parts p0 < p1 < ... (sorted by shard id):
 *
 *   coordinator                      participant pi
 *   LOCK -> p0 ... wait LOCKED       if free: holder = tx, answer LOCKED
 *   LOCK -> p1 ... (one at a time)   else: queue behind current work
 *   plan.multi(tx)                   (held: requests touching data wait)
 *     rt_tx_run: OP -> each pi       run op with the tx lent to it, OPDONE
 *     tx->next(tx) when all done
 *   rt_tx_done: reply, UNLOCK -> pi  holder = NULL, run what waited
 *
 * A one-step command (rt_plan.first_op: MSET, MGET, DEL ...) skips the OP
 * round: each LOCK carries the op, which the part runs as soon as it is
 * taken; LOCKED then means "taken and done", and the coordinator goes on
 * with first_done once the last part answers. This is still two-phase
 * locking: no part is let go before every part has been taken and run, so
 * nobody sees a part's effect without the others'.
 *
 * Taking shards one at a time in ascending order means two transactions
 * never wait for each other in a cycle, so there is no deadlock; holding
 * every part from first op to done makes the command atomic as seen by any
 * other client: nobody can read or write a part in between.
 *
 * What a part holds: a command routed by its keys (MSET, RENAME, SUNIONSTORE
 * ...) holds only its keys on that shard, so requests for other keys go on
 * running there; a command that needs the whole shard (EXEC, FLUSHALL, KEYS,
 * blocking commands) holds all of it. A request that must wait, and all
 * work that arrives after it, waits in the shard's deferred queue and runs
 * in arrival order once released. Keys are held by their hash (rt_key_hash),
 * so two keys that share one only wait for each other; the database is not
 * part of it either, for the same reason.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_int.h"

/* The keys a part holds on its shard: their hashes, as routing computed
 * them (tx_start); the part's UNLOCK takes the array along. */
typedef struct part_lock {
    uint64_t *h;
    int n;
} part_lock;

struct rt_tx_priv {
    rt_shard *coord;
    int keylock;      /* parts hold their keys, not their shards */
    part_lock *locks; /* per part, with keylock */
    rt_conn *conn;    /* NULL for a nested tx */
    uint64_t seq;
    void (*multi)(rt_tx *);
    void (*first_op)(rt_ctx *); /* run by each LOCK until all are taken */
    int nlocked;
    int pending;
    /* Nested tx (rt_tx_sub): the parent, where the reply goes, what follows. */
    rt_tx *parent;
    rbuf *out;
    void (*parent_next)(rt_tx *);
};

static int cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static void tx_send(rt_tx *tx, int part, int type, void (*op)(rt_ctx *)) {
    rt_msg *m = calloc(1, sizeof(rt_msg));
    m->type = type;
    m->u.tx.tx = tx;
    m->u.tx.part = part;
    m->u.tx.op = op;
    m->u.tx.keylock = tx->priv->keylock;
    if (type == MSG_TX_UNLOCK && tx->priv->keylock) {
        /* The hashes go with the message: the tx may be gone when it lands. */
        part_lock *pl = &tx->priv->locks[part];
        m->u.tx.lockh = pl->h;
        m->u.tx.nlockh = pl->n;
        pl->h = NULL;
        pl->n = 0;
    }
    shard_send(tx->priv->coord, tx->part[part].shard, m);
}

/* Release every part (the tx keeps going or is done). */
static void tx_unlock_all(rt_tx *tx) {
    for (int i = 0; i < tx->nparts; i++)
        tx_send(tx, i, MSG_TX_UNLOCK, NULL);
}

/* ------------------------------------------------------------------ */
/* Key locks of a shard. */

static klock *klock_find(const klock_tab *t, uint64_t h) {
    if (t->n == 0) return NULL;
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        if (!t->e[i].owner) return NULL;
        if (t->e[i].h == h) return &t->e[i];
    }
}

int rt_shard_key_held(void *s, uint64_t h) {
    return klock_find(&((rt_shard *)s)->klocks, h) != NULL;
}

int tx_may_exec(const rt_shard *s, int onekey, uint64_t h) {
    return !s->holder && (s->klocks.n == 0 || (onekey && !klock_find(&s->klocks, h)));
}

static void klock_grow(klock_tab *t) {
    uint32_t ncap = t->e ? (t->mask + 1) * 2 : 64;
    klock *ne = calloc(ncap, sizeof(klock));
    if (!ne) abort();
    for (uint32_t i = 0; t->e && i <= t->mask; i++) {
        if (!t->e[i].owner) continue;
        uint32_t j = (uint32_t)t->e[i].h & (ncap - 1);
        while (ne[j].owner)
            j = (j + 1) & (ncap - 1);
        ne[j] = t->e[i];
    }
    free(t->e);
    t->e = ne;
    t->mask = ncap - 1;
}

static void klock_add(klock_tab *t, uint64_t h, rt_tx *owner) {
    klock *k = klock_find(t, h);
    if (k) {
        k->count++; /* the same key twice in one part */
        return;
    }
    if (!t->e || (t->n + 1) * 2 > t->mask + 1) klock_grow(t);
    uint32_t i = (uint32_t)h & t->mask;
    while (t->e[i].owner)
        i = (i + 1) & t->mask;
    t->e[i] = (klock){.h = h, .owner = owner, .count = 1};
    t->n++;
}

static void klock_del(klock_tab *t, uint64_t h) {
    klock *k = klock_find(t, h);
    if (!k || --k->count > 0) return;
    /* Backward-shift deletion: later entries of the probe run move up into
     * the hole unless their home slot lies after it. */
    uint32_t i = (uint32_t)(k - t->e), j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (!t->e[j].owner) break;
        uint32_t home = (uint32_t)t->e[j].h & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->e[i] = t->e[j];
            i = j;
        }
    }
    t->e[i].owner = NULL;
    t->n--;
}

void klock_free(rt_shard *s) {
    free(s->klocks.e);
    memset(&s->klocks, 0, sizeof(s->klocks));
}

int tx_may_run(rt_shard *s, rt_msg *m) {
    if (m->type == MSG_EXEC) {
        for (int i = 0; i < m->u.ex.nops; i++)
            if (!tx_may_exec(s, m->u.ex.ops[i].onekey, m->u.ex.ops[i].hkey_hash)) return 0;
        return 1;
    }
    if (s->holder) return 0;
    if (m->type != MSG_TX_LOCK) return 1;
    if (!m->u.tx.keylock) return s->klocks.n == 0;
    rt_tx *tx = m->u.tx.tx;
    /* The part's key hashes, computed by routing (tx_start). */
    const part_lock *pl = &tx->priv->locks[m->u.tx.part];
    /* A waiting LOCK resumes where its last check stopped (nlockh counts
     * the keys found free): it heads the queue, so no lock is taken behind
     * it, and a free key stays free until it runs. A LOCK of many keys
     * then costs each release one lookup, not one per key. */
    for (int k = m->u.tx.nlockh; k < pl->n; k++) {
        klock *kl = klock_find(&s->klocks, pl->h[k]);
        if (kl && kl->owner != tx) {
            m->u.tx.nlockh = k;
            return 0;
        }
    }
    return 1;
}

void tx_start(rt_conn *c, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
              const int *shard_of_key, const uint64_t *hash_of_key) {
    rt_shard *s = c->shard;
    rt *r = s->r;
    rt_tx *tx = calloc(1, sizeof(rt_tx));
    tx->priv = calloc(1, sizeof(struct rt_tx_priv));
    tx->argv = rt_argv_dup(argc, argv); /* own copy of the request */
    tx->argc = argc;
    tx->cmd = plan->cmd;
    tx->db = c->db;
    tx->resp = c->resp;
    tx->client_id = c->id;
    tx->start_us = s->now_us;
    tx->state = plan->state;
    rb_init(&tx->reply, c->resp);
    /* Parts: the distinct shards of the keys, ascending; the plan's shards;
     * or every shard. */
    int *shards = malloc(sizeof(int) * (size_t)(shard_of_key ? plan->nkeys : r->n));
    int ns = 0;
    if (shard_of_key) {
        memcpy(shards, shard_of_key, sizeof(int) * (size_t)plan->nkeys);
        qsort(shards, (size_t)plan->nkeys, sizeof(int), cmp_int);
        for (int i = 0; i < plan->nkeys; i++)
            if (ns == 0 || shards[ns - 1] != shards[i]) shards[ns++] = shards[i];
    } else if (plan->nshards > 0) {
        memcpy(shards, plan->shards, sizeof(int) * (size_t)plan->nshards);
        ns = plan->nshards;
    } else {
        for (int i = 0; i < r->n; i++)
            shards[ns++] = i;
    }
    struct rt_tx_priv *pv = tx->priv;
    tx->nparts = ns;
    tx->part = calloc((size_t)ns, sizeof(rt_part));
    if (shard_of_key) {
        pv->keylock = 1;
        pv->locks = calloc((size_t)ns, sizeof(part_lock));
    }
    for (int i = 0; i < ns; i++) {
        rt_part *pt = &tx->part[i];
        pt->shard = shards[i];
        rb_init(&pt->out, c->resp);
        if (!shard_of_key) continue;
        /* Each part's keys, and their hashes (from routing) for its locks. */
        int n = 0;
        for (int k = 0; k < plan->nkeys; k++)
            n += shard_of_key[k] == pt->shard;
        part_lock *pl = &pv->locks[i];
        pt->keys = malloc(sizeof(int) * (size_t)n);
        pl->h = malloc(sizeof(uint64_t) * (size_t)n);
        if (!pt->keys || !pl->h) abort();
        for (int k = 0; k < plan->nkeys; k++) {
            if (shard_of_key[k] != pt->shard) continue;
            pl->h[pt->nkeys] = hash_of_key[k];
            pt->keys[pt->nkeys++] = plan->keys[k];
        }
        pl->n = pt->nkeys;
    }
    free(shards);
    pv->coord = s;
    pv->conn = c;
    pv->seq = seq;
    pv->multi = plan->multi;
    if (plan->first_op && shard_of_key) {
        pv->first_op = plan->first_op;
        tx->next = plan->first_done;
        tx->now_ms = rt_shard_now_us(s) / 1000;
    }
    c->inflight++;
    c->tx_pending++;
    tx_send(tx, 0, MSG_TX_LOCK, pv->first_op);
}

void rt_tx_run(rt_tx *tx, void (*op)(rt_ctx *c), void (*next)(rt_tx *tx)) {
    tx->next = next;
    tx->priv->pending = tx->nparts;
    for (int i = 0; i < tx->nparts; i++)
        tx_send(tx, i, MSG_TX_OP, op);
}

void rt_tx_run_one(rt_tx *tx, int part, void (*op)(rt_ctx *c), void (*next)(rt_tx *tx)) {
    tx->next = next;
    tx->priv->pending = 1;
    tx_send(tx, part, MSG_TX_OP, op);
}

static void tx_free(rt_tx *tx) {
    for (int i = 0; i < tx->nparts; i++) {
        rb_free(&tx->part[i].out);
        free(tx->part[i].keys);
        if (tx->priv->locks) free(tx->priv->locks[i].h);
    }
    free(tx->priv->locks);
    rb_free(&tx->reply);
    free(tx->part);
    free(tx->argv);
    free(tx->priv);
    free(tx);
}

void rt_tx_done(rt_tx *tx) {
    struct rt_tx_priv *pv = tx->priv;
    if (pv->coord->r->ops->tx_end) pv->coord->r->ops->tx_end(tx);
    if (pv->parent) {
        /* Nested: the parent keeps holding the shards and goes on. */
        rt_tx *parent = pv->parent;
        void (*next)(rt_tx *) = pv->parent_next;
        rb_append(pv->out, tx->reply.buf, tx->reply.len);
        tx_free(tx);
        next(parent);
        return;
    }
    pv->conn->tx_pending--;
    conn_deliver(pv->conn, pv->seq, &tx->reply);
    tx_unlock_all(tx);
    tx_free(tx);
}

void rt_tx_exec(rt_tx *tx, int shard, int argc, rt_arg *argv, int db, const void *cmd,
                void (*proc)(rt_ctx *c), rbuf *out, void (*next)(rt_tx *tx)) {
    tx->next = next;
    tx->priv->pending = 1;
    rt_msg *m = calloc(1, sizeof(rt_msg));
    m->type = MSG_TX_EXEC;
    m->u.tx.tx = tx;
    m->u.tx.op = proc;
    m->u.tx.argc = argc;
    m->u.tx.argv = argv;
    m->u.tx.db = db;
    m->u.tx.cmd = cmd;
    m->u.tx.out = out;
    shard_send(tx->priv->coord, shard, m);
}

void rt_tx_sub(rt_tx *tx, int argc, rt_arg *argv, int db, const void *cmd, const int *keys,
               int nkeys, void (*multi)(rt_tx *sub), rbuf *out, void (*next)(rt_tx *tx)) {
    rt *r = tx->priv->coord->r;
    rt_tx *sub = calloc(1, sizeof(rt_tx));
    sub->priv = calloc(1, sizeof(struct rt_tx_priv));
    sub->priv->coord = tx->priv->coord;
    sub->priv->parent = tx;
    sub->priv->out = out;
    sub->priv->parent_next = next;
    sub->argv = rt_argv_dup(argc, argv);
    sub->argc = argc;
    sub->cmd = cmd;
    sub->db = db;
    sub->resp = tx->resp;
    sub->client_id = tx->client_id;
    sub->now_ms = tx->now_ms;
    sub->start_us = tx->priv->coord->now_us;
    rb_init(&sub->reply, tx->resp);
    /* Parts: the shards of the keys (all held by the parent), ascending. */
    int *shard_of = nkeys > 0 ? malloc(sizeof(int) * (size_t)nkeys) : NULL;
    for (int k = 0; k < nkeys; k++)
        shard_of[k] = rt_key_shard(r, argv[keys[k]].p, argv[keys[k]].len);
    int n = 0;
    sub->part = calloc((size_t)tx->nparts, sizeof(rt_part));
    for (int i = 0; i < tx->nparts; i++) {
        int sh = tx->part[i].shard, used = nkeys < 0;
        for (int k = 0; k < nkeys && !used; k++)
            used = shard_of[k] == sh;
        if (!used) continue;
        rt_part *pt = &sub->part[n++];
        pt->shard = sh;
        rb_init(&pt->out, tx->resp);
        if (nkeys > 0) {
            pt->keys = malloc(sizeof(int) * (size_t)nkeys);
            for (int k = 0; k < nkeys; k++)
                if (shard_of[k] == sh) pt->keys[pt->nkeys++] = keys[k];
        }
    }
    free(shard_of);
    sub->nparts = n;
    multi(sub);
}

rt_conn *rt_tx_conn(rt_tx *tx) {
    rt_conn *c = tx->priv->conn;
    return c && !c->closed ? c : NULL;
}

static void tx_run_exec(rt_shard *s, rt_msg *m) {
    rt_ctx ctx;
    rt_ctx_init_fast(&ctx, s, m->u.tx.argc, m->u.tx.argv, m->u.tx.cmd, m->u.tx.out, m->u.tx.db,
                     m->u.tx.tx->client_id);
    ctx.now_ms = m->u.tx.tx->now_ms;
    m->u.tx.op(&ctx);
}

static void tx_run_op(rt_shard *s, rt_msg *m) {
    rt_tx *tx = m->u.tx.tx;
    int i = m->u.tx.part;
    rt_ctx ctx;
    rt_ctx_init_fast(&ctx, s, tx->argc, tx->argv, tx->cmd, &tx->part[i].out, tx->db, tx->client_id);
    ctx.tx = tx;
    ctx.part = i;
    if (s->r->ops->op_begin) s->r->ops->op_begin(&ctx);
    m->u.tx.op(&ctx);
    if (s->r->ops->op_end) s->r->ops->op_end(&ctx);
}

/* Participant and coordinator handling of MSG_TX_* (shard s's thread). A
 * LOCK reaching a held shard has already been queued by the caller. */
void tx_on_msg(rt_shard *s, rt_msg *m) {
    switch (m->type) {
    case MSG_TX_LOCK:
        /* tx_may_run said yes: none of the part's keys is held. */
        if (m->u.tx.keylock) {
            part_lock *pl = &m->u.tx.tx->priv->locks[m->u.tx.part];
            for (int k = 0; k < pl->n; k++)
                klock_add(&s->klocks, pl->h[k], m->u.tx.tx);
        } else {
            s->holder = m->u.tx.tx;
        }
        if (m->u.tx.op) tx_run_op(s, m); /* the first step (rt_plan.first_op) */
        m->type = MSG_TX_LOCKED;
        shard_send(s, m->from, m);
        return;
    case MSG_TX_LOCKED: {
        rt_tx *tx = m->u.tx.tx;
        free(m);
        struct rt_tx_priv *pv = tx->priv;
        if (++pv->nlocked < tx->nparts) {
            tx_send(tx, pv->nlocked, MSG_TX_LOCK, pv->first_op);
        } else if (pv->first_op) {
            pv->first_op = NULL;
            tx->next(tx);
        } else {
            pv->multi(tx);
        }
        return;
    }
    case MSG_TX_EXEC:
        tx_run_exec(s, m);
        m->type = MSG_TX_OPDONE;
        shard_send(s, m->from, m);
        return;
    case MSG_TX_OP:
        tx_run_op(s, m);
        m->type = MSG_TX_OPDONE;
        shard_send(s, m->from, m);
        return;
    case MSG_TX_OPDONE: {
        rt_tx *tx = m->u.tx.tx;
        free(m);
        if (--tx->priv->pending == 0) tx->next(tx);
        return;
    }
    case MSG_TX_UNLOCK:
        if (m->u.tx.keylock) {
            for (int k = 0; k < m->u.tx.nlockh; k++)
                klock_del(&s->klocks, m->u.tx.lockh[k]);
            free(m->u.tx.lockh);
        } else {
            s->holder = NULL;
        }
        free(m);
        tx_release_held(s);
        return;
    default:
        free(m);
        return;
    }
}

rt_shard *rt_tx_coord(rt_tx *tx) {
    return tx->priv->coord;
}

void rt_tx_release(rt_tx *tx) {
    /* Only a tx holding whole shards (a blocking command) lets go and takes
     * them again (rt_tx_reacquire): a key-locking tx's UNLOCK takes its key
     * hashes along, and nothing would compute them again. */
    if (tx->priv->keylock) abort();
    tx_unlock_all(tx);
    tx->priv->nlocked = 0;
    if (tx->priv->conn && !tx->priv->conn->closed) conn_set_waiting(tx->priv->conn, 1);
}

void rt_tx_abandon(rt_tx *tx) {
    struct rt_tx_priv *pv = tx->priv;
    pv->conn->tx_pending--;
    tx->reply.len = 0;
    conn_deliver(pv->conn, pv->seq, &tx->reply);
    tx_free(tx);
}

void rt_tx_reacquire(rt_tx *tx, void (*next)(rt_tx *tx)) {
    /* The LOCKED handler takes the parts in ascending order, then calls
     * priv->multi: the continuation. */
    tx->priv->multi = next;
    if (tx->priv->conn) conn_set_waiting(tx->priv->conn, 0);
    tx_send(tx, 0, MSG_TX_LOCK, NULL);
}
