/* dispatch.c -- the glue between the runtime and percore's commands: the
 * rt_ops callbacks. prepare() runs on the connection's home shard for every
 * request: it finds the command, checks arity and authentication, computes
 * key positions and tells the runtime where to run it. The exec wrappers run
 * wherever the command runs and keep per-shard statistics.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "cmd.h"
#include "../common/alloc.h"
#include "../ds/lathist.h"
#include "expire_cron.h"
#include "handlers.h"
#include "t_sort.h"
#include "watch.h"
#include "block.h"
#include "monitor.h"

server_info g_server;
config g_config;        /* the startup configuration, copied into each shard */
_Atomic int g_monitors; /* MONITOR connections in the process; relaxed: a
                           late-seen change only delays or adds a line */

static void monitor_feed(rt_conn *c, int argc, rt_arg *argv);

static int monitor_wants(const cmd_def *cmd) {
    return atomic_load_explicit(&g_monitors, memory_order_relaxed) > 0 &&
           !(cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR));
}

/* One call of cmd on this shard for INFO commandstats / total_commands
 * (failed: it replied an error), with a latency sample unless no_latency.
 * Counted once the command ran, as Redis counts. */
static void count_call_lat(shard_state *ss, const cmd_def *cmd, int failed, int64_t usec,
                           int no_latency) {
    cmd_stat *st = &ss->stats[cmd->id];
    st->calls++;
    st->failed += failed != 0;
    if (usec < 0) usec = 0;
    st->usec += (uint64_t)usec;
    ss->total_commands++;
    if (ss->latency_tracking && !no_latency) {
        lathist **h = &ss->lat[cmd->id];
        if (*h == NULL && (*h = calloc(1, sizeof(lathist))) == NULL) abort();
        lh_record(*h, usec * 1000);
    }
}

static void count_call(shard_state *ss, const cmd_def *cmd, int failed, int64_t usec) {
    count_call_lat(ss, cmd, failed, usec, 0);
}

void count_error(shard_state *ss, const char *reply, size_t len) {
    /* Redis takes the code from the first 32 bytes of the line, '-' included. */
    const char *cr = memchr(reply, '\r', len);
    size_t line = cr ? (size_t)(cr - reply) : len;
    const char *sp = memchr(reply, ' ', line < 32 ? line : 32);
    const char *code = sp ? reply + 1 : "ERR";
    size_t clen = sp ? (size_t)(sp - reply) - 1 : 3;
    ss->total_errors++;
    for (int i = 0; i < ss->nerrs; i++) {
        err_stat *e = &ss->errs[i];
        if (strlen(e->code) == clen && memcmp(e->code, code, clen) == 0) {
            e->count++;
            return;
        }
    }
    if (ss->nerrs == ERRSTAT_CODES_MAX) return;
    err_stat *grown = realloc(ss->errs, sizeof(err_stat) * (size_t)(ss->nerrs + 1));
    if (grown == NULL) abort();
    ss->errs = grown;
    err_stat *e = &ss->errs[ss->nerrs++];
    memcpy(e->code, code, clen);
    e->code[clen] = '\0';
    e->count = 1;
}

/* The reply from mark on is an error: count it. Returns 1 if it is. */
static int count_if_error(shard_state *ss, const rbuf *reply, size_t mark) {
    if (reply->len <= mark || reply->buf[mark] != '-') return 0;
    count_error(ss, reply->buf + mark, reply->len - mark);
    return 1;
}

/* Single-shard body wrapper: the shard's time, statistics. Connection commands
 * feed MONITOR after they ran, so the line shows the database they left the
 * client in (SELECT), as Redis does; the others are fed by prepare(). */
static void exec_proc(rt_ctx *c) {
    const cmd_def *cmd = c->cmd;
    shard_state *ss = ctx_ss(c);
    /* The shard's cached clock was read at its wake-up or at the end of the
     * command before: one clock read per command. */
    int64_t t0 = rt_shard_now_us(c->shard);
    store *st0 = ss->st;
    /* Inside EXEC every queued command sees the time EXEC started, as in
     * Redis: a key alive for one is alive for all. */
    st0->now_ms = c->now_ms ? c->now_ms : t0 / 1000;
    if (c->hkey_idx >= 0) {
        /* The runtime hashed this key for routing: the store reuses it. */
        st0->hint_key = c->argv[c->hkey_idx].p;
        st0->hint_klen = c->argv[c->hkey_idx].len;
        st0->hint_hash = c->hkey_hash;
    }
    size_t mark = c->reply->len;
    uint64_t dirty = ss->dirty;
    cmd->proc(c);
    st0->hint_key = NULL;
    if (ss->watched) watch_after_write(c, cmd, c->argc, c->argv, c->db, dirty);
    if (block_slots[ss->id].nreg) block_after_write(c, dirty);
    int failed = count_if_error(ss, c->reply, mark);
    count_call(ss, cmd, failed, rt_shard_clock(c->shard) - t0);
    if (c->conn && monitor_wants(cmd)) monitor_feed(c->conn, c->argc, c->argv);
}

/* Multi-shard body wrapper: statistics on the coordinator, and the time
 * the whole tx runs at. Every step of a tx sees that one time, so a key
 * that a step found alive does not expire before the next step (which
 * would find it gone where it expects it: a value it checked, a list it
 * chose to pop). A blocked command takes a new time at each retry. */
static void exec_multi(rt_tx *tx) {
    const cmd_def *cmd = tx->cmd;
    shard_state *ss = rt_shard_data(rt_tx_coord(tx));
    /* Counted when it has its reply, by tx_end (which the runtime calls for
     * a command inside EXEC too). */
    if (tx->now_ms == 0) tx->now_ms = util_mstime();
    ss->st->now_ms = tx->now_ms;
    cmd->multi(tx);
}

/* A one-step body run as a step of its own (inside EXEC, whose shards are
 * held already). */
void cmd_first_step_multi(rt_tx *tx) {
    const cmd_def *cmd = tx->cmd;
    rt_tx_run(tx, cmd->first_op, cmd->first_done);
}

/* A multi-shard command has its reply, a client's own or one run inside
 * EXEC: counted now, as Redis counts a command once it ran (so INFO does
 * not count itself, and CONFIG RESETSTAT counts itself after the reset); an
 * error is a failed call, as in exec_proc. */
static void tx_end(rt_tx *tx) {
    shard_state *ss = rt_shard_data(rt_tx_coord(tx));
    int failed = count_if_error(ss, &tx->reply, 0) || (tx->stat_flags & TX_STAT_FAILED);
    count_call_lat(ss, tx->cmd, failed, rt_shard_clock(rt_tx_coord(tx)) - tx->start_us,
                   tx->stat_flags & TX_STAT_NO_LATENCY);
}

/* An error reply no command body wrote: prepare's (unknown command, arity,
 * EXECABORT ...) or the runtime's (a protocol error). */
static void error_reply(rt_shard *s, const char *reply, size_t len) {
    count_error(rt_shard_data(s), reply, len);
}

static void op_begin(rt_ctx *c) {
    shard_state *ss = ctx_ss(c);
    ss->st->now_ms = c->tx->now_ms; /* set by exec_multi before any op */
    ss->watch_mark = ss->dirty;
}

static void op_end(rt_ctx *c) {
    shard_state *ss = ctx_ss(c);
    if (ss->watched)
        watch_after_write(c, c->tx->cmd, c->tx->argc, c->tx->argv, c->tx->db, ss->watch_mark);
    if (block_slots[ss->id].nreg) block_after_write(c, ss->watch_mark);
}

void lat_reset(shard_state *ss) {
    for (int i = 0; i < cmd_count_ids(); i++) {
        free(ss->lat[i]);
        ss->lat[i] = NULL;
    }
}

void ss_apply_config(shard_state *ss) {
    char v[64];
    config_get_text(&ss->cfg, "latency-tracking", v, sizeof(v));
    ss->latency_tracking = strcmp(v, "yes") == 0;
    config_get_text(&ss->cfg, "activerehashing", v, sizeof(v));
    ss->active_rehash = strcmp(v, "yes") == 0;
    config_get_text(&ss->cfg, "maxmemory-policy", v, sizeof(v));
    ss->st->lfu = strstr(v, "lfu") != NULL;
    config_get_text(&ss->cfg, "lfu-log-factor", v, sizeof(v));
    ss->st->lfu_log_factor = atoi(v);
    config_get_text(&ss->cfg, "lfu-decay-time", v, sizeof(v));
    ss->st->lfu_decay_time = atoi(v);
    store_enc *e = &ss->st->enc;
    config_get_text(&ss->cfg, "hash-max-listpack-entries", v, sizeof(v));
    e->hash_max_listpack_entries = atoll(v);
    config_get_text(&ss->cfg, "hash-max-listpack-value", v, sizeof(v));
    e->hash_max_listpack_value = atoll(v);
    config_get_text(&ss->cfg, "set-max-intset-entries", v, sizeof(v));
    e->set_max_intset_entries = atoll(v);
    config_get_text(&ss->cfg, "zset-max-listpack-entries", v, sizeof(v));
    e->zset_max_listpack_entries = atoll(v);
    config_get_text(&ss->cfg, "zset-max-listpack-value", v, sizeof(v));
    e->zset_max_listpack_value = atoll(v);
    config_get_text(&ss->cfg, "list-max-listpack-size", v, sizeof(v));
    e->list_max_listpack_size = atoi(v);
    config_get_text(&ss->cfg, "list-compress-depth", v, sizeof(v));
    e->list_compress_depth = atoi(v);
}

static void *shard_init(rt_shard *s, int id) {
    shard_state *ss = calloc(1, sizeof(*ss));
    ss->shard = s;
    ss->id = id;
    config_copy(&ss->cfg, &g_config);
    ss->st = store_new(ss->cfg.databases, rt_cfg(rt_of(s))->seed);
    ss->st->now_ms = util_mstime();
    ss->st->key_busy = rt_shard_key_held;
    ss->st->key_busy_arg = s;
    ss_apply_config(ss);
    ss->stats = calloc((size_t)cmd_count_ids(), sizeof(cmd_stat));
    ss->lat = calloc((size_t)cmd_count_ids(), sizeof(lathist *));
    if (ss->stats == NULL || ss->lat == NULL) abort();
    inst_reset(ss->inst, INST_COUNT, util_mstime());
    return ss;
}

static void shard_free(void *p) {
    shard_state *ss = p;
    store_free(ss->st);
    watch_table_free(ss);
    block_shard_free(ss->id);
    config_free(&ss->cfg);
    free(ss->stats);
    free(ss->errs);
    lat_reset(ss);
    free(ss->lat);
    free(ss);
}

void inst_track(inst_metric *m, uint64_t count, int64_t now_ms) {
    int64_t t = now_ms - m->last_ms;
    uint64_t n = count - m->last_count;
    m->samples[m->idx] = t > 0 ? n * 1000 / (uint64_t)t : 0;
    m->idx = (m->idx + 1) % INST_SAMPLES;
    m->last_ms = now_ms;
    m->last_count = count;
}

uint64_t inst_rate(const inst_metric *m) {
    uint64_t sum = 0;
    for (int i = 0; i < INST_SAMPLES; i++)
        sum += m->samples[i];
    return sum / INST_SAMPLES;
}

void inst_reset(inst_metric *m, int n, int64_t now_ms) {
    memset(m, 0, sizeof(*m) * (size_t)n);
    for (int i = 0; i < n; i++)
        m[i].last_ms = now_ms;
}

/* As Redis: running resizes of a database's key and expires tables get
 * 1 ms more per cron; the cron stays on one database until it has none
 * left, then goes on to the next that has one. */
static void rehash_cron(shard_state *ss) {
    store *st = ss->st;
    for (int i = 0; i < st->ndb; i++) {
        ss->rehash_db = (ss->rehash_db + (i > 0)) % st->ndb;
        if (db_rehash_for(store_db(st, ss->rehash_db), 1000)) return;
    }
}

static void shard_cron(rt_shard *s, void *p) {
    shard_state *ss = p;
    int64_t now = util_mstime();
    ss->st->now_ms = now;
    /* Every 100 ms (every cron when hz <= 10), as Redis samples its rates. */
    int period = ss->cfg.hz > 10 ? ss->cfg.hz / 10 : 1;
    /* The first cron comes right after the shard's first turn of its loop:
     * what it then holds is its part of INFO's used_memory_startup. */
    if (ss->cronloops == 0) alloc_note_startup();
    if (ss->cronloops++ % (uint64_t)period == 0) {
        const rt_net_stats *net = rt_shard_net(s);
        inst_track(&ss->inst[INST_OPS], ss->total_commands, now);
        inst_track(&ss->inst[INST_NET_IN], net->in_bytes, now);
        inst_track(&ss->inst[INST_NET_OUT], net->out_bytes, now);
    }
    expire_cron(ss);
    if (ss->active_rehash) rehash_cron(ss);
    block_cron(s);
}

static void *conn_init(rt_conn *c) {
    shard_state *ss = rt_shard_data(rt_conn_shard(c));
    client_state *cs = calloc(1, sizeof(*cs));
    cs->authenticated = !(ss->cfg.requirepass && ss->cfg.requirepass[0]);
    rt_conn_set_authenticated(c, cs->authenticated);
    ss->stat_numconnections++;
    return cs;
}

static void conn_free(rt_conn *c, void *p) {
    client_state *cs = p;
    if (!cs) return;
    if (cs->monitor) {
        shard_state *ss = rt_shard_data(rt_conn_shard(c));
        ss->monitors--;
        atomic_fetch_sub_explicit(&g_monitors, 1, memory_order_relaxed);
    }
    multi_discard(cs);
    watch_forget(rt_conn_shard(c), cs);
    free(cs->name);
    free(cs->lib_name);
    free(cs->lib_ver);
    free(cs);
}

/* MONITOR: deliver one formatted line to every monitor of every shard. */
static void monitor_deliver(rt_conn *c, void *arg) {
    client_state *cs = rt_conn_data(c);
    rbuf *line = arg;
    if (cs && cs->monitor) rt_conn_push(c, line->buf, line->len);
}

static void monitor_on_shard(rt_shard *s, void *arg) {
    shard_state *ss = rt_shard_data(s);
    if (ss->monitors > 0) rt_shard_foreach_conn(s, monitor_deliver, arg);
}

static void monitor_done(rt_shard *s, void *arg) {
    (void)s;
    rbuf *line = arg;
    rb_free(line);
    free(line);
}

static void monitor_feed(rt_conn *c, int argc, rt_arg *argv) {
    rbuf *line = malloc(sizeof(*line));
    rb_init(line, 2);
    monitor_format(line, util_ustime(), rt_conn_db(c), rt_conn_peer(c), argc, argv);
    rt_broadcast(rt_conn_shard(c), monitor_on_shard, line, monitor_done);
}

void reply_arity_error(rbuf *r, const cmd_def *c) {
    char name[128];
    rw_errorf(r, "ERR wrong number of arguments for '%s' command",
              cmd_fullname(c, name, sizeof(name)));
}

/* "ERR unknown command 'x', with args beginning with: 'a' 'b' " as Redis
 * words it (arguments shown until the list reaches 128 characters). */
static void reply_unknown_command(rbuf *r, int argc, rt_arg *argv) {
    char args[256];
    size_t n = 0;
    args[0] = 0;
    for (int i = 1; i < argc && n < 128; i++) {
        int room = 128 - (int)n;
        int w = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
                         (int)(argv[i].len < (size_t)room ? argv[i].len : (size_t)room), argv[i].p);
        if (w > 0) n += (size_t)w;
        if (n >= sizeof(args)) n = sizeof(args) - 1;
    }
    int cl = argv[0].len < 128 ? (int)argv[0].len : 128;
    rw_errorf(r, "ERR unknown command '%.*s', with args beginning with: %s", cl, argv[0].p, args);
}

/* ---------------------------------------------------------------------- */
/* MULTI / EXEC / DISCARD.
 *
 * Between MULTI and EXEC the home shard queues each request (a private copy)
 * and answers +QUEUED; a request that cannot be queued (unknown command,
 * wrong arity, not allowed in a transaction) gets its error and dooms the
 * transaction. EXEC becomes one runtime transaction over every shard the
 * queued commands touch: all are held while the commands run one after the
 * other, each on the shard that owns its keys (multi-shard ones as nested
 * transactions on the already-held shards), so no other client sees any
 * state between them. The replies are gathered in order into EXEC's array.
 */

typedef struct queued_cmd {
    const cmd_def *cmd;
    int argc;
    rt_arg *argv; /* one allocation: the array, then the bytes */
} queued_cmd;

typedef struct multi_state {
    int dirty;         /* an error while queueing: EXEC aborts */
    watch_list *watch; /* the client's WATCHed keys, taken over by EXEC */
    int n, cap;
    queued_cmd *q;
    /* While EXEC runs. */
    int next;
    int db;
    rbuf body; /* replies so far, in order */
} multi_state;

static void multi_free(multi_state *ms) {
    watch_list_free(ms->watch);
    for (int i = 0; i < ms->n; i++)
        free(ms->q[i].argv);
    free(ms->q);
    rb_free(&ms->body);
    free(ms);
}

void multi_discard(client_state *cs) {
    if (cs->multi) multi_free(cs->multi);
    cs->multi = NULL;
}

static void multi_queue(multi_state *ms, const cmd_def *cmd, int argc, rt_arg *argv) {
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 8;
        ms->q = realloc(ms->q, sizeof(queued_cmd) * (size_t)ms->cap);
    }
    queued_cmd *q = &ms->q[ms->n++];
    q->cmd = cmd;
    q->argc = argc;
    q->argv = rt_argv_dup(argc, argv);
}

static void exec_next(rt_tx *tx);

/* Run queued commands until one has to go to another shard (it continues
 * in exec_next when that one is done) or all have run. */
static void exec_next(rt_tx *tx) {
    multi_state *ms = tx->state;
    rt_shard *home = rt_tx_coord(tx);
    rt *r = rt_of(home);
    shard_state *ss = rt_shard_data(home);
    while (ms->next < ms->n) {
        queued_cmd *q = &ms->q[ms->next++];
        const cmd_def *cmd = q->cmd;
        size_t mark = ms->body.len;
        if (cmd->route == CMD_ROUTE_LOCAL) {
            rt_conn *conn = rt_tx_conn(tx);
            if (!conn) {
                rw_null(&ms->body);
                continue;
            }
            rt_ctx ctx;
            rt_ctx_init(&ctx, home, q->argc, q->argv, cmd, &ms->body, ms->db, tx->client_id);
            ctx.conn = conn;
            ctx.now_ms = tx->now_ms;
            client_state *cs = rt_conn_data(conn);
            cs->in_exec = 1;
            exec_proc(&ctx);
            cs->in_exec = 0;
            ms->db = rt_conn_db(conn);
            continue;
        }
        if (cmd->route == CMD_ROUTE_ALL) {
            rt_tx_sub(tx, q->argc, q->argv, ms->db, cmd, NULL, -1, exec_multi, &ms->body,
                      exec_next);
            return;
        }
        int shard = rt_shard_id(home);
        if (cmd->route == CMD_ROUTE_CUSTOM) {
            shard = cmd->route_fn(home, q->argc, q->argv, &ms->body);
            if (shard < 0) {
                count_call(ss, cmd, count_if_error(ss, &ms->body, mark), 0);
                continue;
            }
        } else {
            int *keys = malloc(sizeof(int) * (size_t)q->argc);
            int nkeys = cmd_key_positions(cmd, q->argc, q->argv, keys, &ms->body);
            if (nkeys < 0) {
                free(keys);
                count_call(ss, cmd, count_if_error(ss, &ms->body, mark), 0);
                continue;
            }
            int multi = 0;
            if (nkeys > 0) shard = rt_key_shard(r, q->argv[keys[0]].p, q->argv[keys[0]].len);
            for (int k = 1; k < nkeys; k++)
                if (rt_key_shard(r, q->argv[keys[k]].p, q->argv[keys[k]].len) != shard) multi = 1;
            if (multi && cmd->multi) {
                rt_tx_sub(tx, q->argc, q->argv, ms->db, cmd, keys, nkeys, exec_multi, &ms->body,
                          exec_next);
                free(keys);
                return;
            }
            free(keys);
        }
        rt_tx_exec(tx, shard, q->argc, q->argv, ms->db, cmd, exec_proc, &ms->body, exec_next);
        return;
    }
    rw_array(&tx->reply, ms->n);
    rb_append(&tx->reply, ms->body.buf, ms->body.len);
    multi_free(ms);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* WATCH check, on each shard EXEC holds: compare and release its keys. */
static void op_exec_watch(rt_ctx *c) {
    multi_state *ms = c->tx->state;
    c->tx->part[c->part].n = 0;
    watch_exec_check_op(c, ms->watch);
}

/* Run the queue, or answer null if a watched key changed. */
static void exec_start(rt_tx *tx) {
    multi_state *ms = tx->state;
    long long changed = 0;
    if (ms->watch) {
        for (int i = 0; i < tx->nparts; i++)
            changed += tx->part[i].n;
        watch_list_free(ms->watch);
        ms->watch = NULL;
    }
    if (changed) {
        rw_null_array(&tx->reply);
        multi_free(ms);
        tx->state = NULL;
        rt_tx_done(tx);
        return;
    }
    exec_next(tx);
}

/* EXEC's body, on the coordinator once every shard it needs is held (run
 * by exec_multi; tx_end counts it and each command inside). */
void cmd_exec_multi(rt_tx *tx) {
    multi_state *ms = tx->state;
    ms->next = 0;
    ms->db = tx->db;
    rb_init(&ms->body, tx->resp);
    if (ms->watch)
        rt_tx_run(tx, op_exec_watch, exec_start);
    else
        exec_start(tx);
}

/* Plan EXEC: the shards the queued commands touch (every shard if one of
 * them is not routed by keys). Takes the queue from the client. */
static void plan_exec(rt_conn *c, client_state *cs, rt_plan *plan, rbuf *reply) {
    multi_state *ms = cs->multi;
    rt_shard *home = rt_conn_shard(c);
    rt *r = rt_of(home);
    int n = rt_nshards(r);
    /* EXEC answered here still ran, as far as statistics go. */
    if (ms->dirty) {
        multi_discard(cs);
        watch_forget(home, cs);
        rw_error(reply, "EXECABORT Transaction discarded because of previous errors.");
        count_call(rt_shard_data(home), plan->cmd, 1, 0);
        return;
    }
    if (ms->n == 0 && !cs->watch) {
        multi_discard(cs);
        rw_array(reply, 0);
        count_call(rt_shard_data(home), plan->cmd, 0, 0);
        return;
    }
    ms->watch = cs->watch;
    cs->watch = NULL;
    unsigned char *use = calloc((size_t)n, 1);
    int all = 0;
    rbuf scratch;
    rb_init(&scratch, 2);
    for (int i = 0; i < ms->n && !all; i++) {
        queued_cmd *q = &ms->q[i];
        if (q->cmd->route != CMD_ROUTE_KEYS) {
            all = 1;
            break;
        }
        int *keys = malloc(sizeof(int) * (size_t)q->argc);
        int nkeys = cmd_key_positions(q->cmd, q->argc, q->argv, keys, &scratch);
        if (nkeys <= 0) use[rt_shard_id(home)] = 1;
        for (int k = 0; k < nkeys; k++)
            use[rt_key_shard(r, q->argv[keys[k]].p, q->argv[keys[k]].len)] = 1;
        free(keys);
    }
    rb_free(&scratch);
    for (int i = 0; ms->watch && i < ms->watch->n; i++)
        use[ms->watch->k[i].shard] = 1;
    int *shards = rt_plan_keybuf(home, n);
    int ns = 0;
    for (int i = 0; i < n; i++)
        if (all || use[i]) shards[ns++] = i;
    free(use);
    cs->multi = NULL;
    plan->kind = RT_PLAN_ALL;
    plan->proc = exec_proc;
    plan->multi = exec_multi;
    plan->shards = shards;
    plan->nshards = ns;
    plan->state = ms;
}

/* MULTI: start queueing (the dispatcher queues what follows). */
void cmd_multi(rt_ctx *c) {
    client_state *cs = rt_conn_data(c->conn);
    if (cs->multi) {
        rw_error(c->reply, "ERR MULTI calls can not be nested");
        return;
    }
    cs->multi = calloc(1, sizeof(multi_state));
    rw_ok(c->reply);
}

/* DISCARD: drop the queue. */
void cmd_discard(rt_ctx *c) {
    client_state *cs = rt_conn_data(c->conn);
    if (!cs->multi) {
        rw_error(c->reply, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(cs);
    watch_forget(c->shard, cs);
    rw_ok(c->reply);
}

/* enable-debug-command: no, yes, or local (loopback clients only). */
static int debug_allowed(shard_state *ss, rt_conn *c) {
    char v[16];
    config_get_text(&ss->cfg, "enable-debug-command", v, sizeof(v));
    if (!strcmp(v, "yes")) return 1;
    if (strcmp(v, "local") != 0) return 0;
    const char *peer = rt_conn_peer(c);
    return !strncmp(peer, "127.", 4) || !strncmp(peer, "::1:", 4);
}

static void reject(rt_conn *c, const cmd_def *cmd) {
    if (!cmd) return;
    shard_state *ss = rt_shard_data(rt_conn_shard(c));
    ss->stats[cmd->id].rejected++;
}

static void prepare(rt_conn *c, int argc, rt_arg *argv, rt_plan *plan, rbuf *reply) {
    rt_shard *home = rt_conn_shard(c);
    shard_state *ss = rt_shard_data(home);
    client_state *cs = rt_conn_data(c);
    plan->kind = RT_PLAN_DONE;
    const cmd_def *cmd = cmd_lookup(argv[0].p, argv[0].len);
    if (!cmd) {
        reply_unknown_command(reply, argc, argv);
        if (cs->multi) cs->multi->dirty = 1;
        return;
    }
    if (cmd->subs && (argc >= 2 || !cmd->proc)) {
        if (argc < 2) {
            reply_arity_error(reply, cmd);
            reject(c, cmd);
            if (cs->multi) cs->multi->dirty = 1;
            return;
        }
        const cmd_def *sub = cmd_lookup_sub(cmd, argv[1].p, argv[1].len);
        if (!sub) {
            char up[64];
            size_t k = 0;
            for (; cmd->name[k] && k < sizeof(up) - 1; k++)
                up[k] = (char)toupper((unsigned char)cmd->name[k]);
            up[k] = 0;
            int sl = argv[1].len < 128 ? (int)argv[1].len : 128;
            rw_errorf(reply, "ERR unknown subcommand '%.*s'. Try %s HELP.", sl, argv[1].p, up);
            /* As an unknown command: no command's rejected call. */
            if (cs->multi) cs->multi->dirty = 1;
            return;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reject(c, cmd);
        if (cmd->multi == cmd_exec_multi) {
            /* A rejected EXEC ends the transaction, as in Redis. */
            char name[64];
            rw_errorf(reply,
                      "EXECABORT Transaction discarded because of: wrong number of arguments for "
                      "'%s' command",
                      cmd_fullname(cmd, name, sizeof(name)));
            multi_discard(cs);
            watch_forget(home, cs);
            return;
        }
        reply_arity_error(reply, cmd);
        if (cs->multi) cs->multi->dirty = 1;
        return;
    }
    if (!cs->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        rw_error(reply, ERR_NOAUTH);
        reject(c, cmd);
        if (cs->multi) cs->multi->dirty = 1;
        return;
    }
    const char *top = cmd->parent ? cmd->parent->name : cmd->name;
    if (cmd->route_fn == route_debug && !debug_allowed(ss, c)) {
        rw_error(reply,
                 "ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                 "\"local\", you can run it from a local connection, otherwise you need to set "
                 "this option in the configuration file, and then restart the server.");
        reject(c, cmd);
        if (cs->multi) cs->multi->dirty = 1;
        return;
    }
    if (cmd->multi == cmd_exec_multi) {
        if (!cs->multi) {
            rw_error(reply, "ERR EXEC without MULTI");
            count_call(ss, cmd, 1, 0);
        } else {
            plan->cmd = cmd;
            plan_exec(c, cs, plan, reply);
        }
        return;
    }
    if (cs->multi && cmd->multi == cmd_watch_multi) {
        rw_error(reply, "ERR WATCH inside MULTI is not allowed");
        count_call(ss, cmd, 1, 0);
        return;
    }
    if (cs->multi && cmd->proc != cmd_multi && cmd->proc != cmd_discard &&
        strcmp(top, "quit") != 0 && strcmp(top, "reset") != 0) {
        if (cmd->flags & CMD_NO_MULTI) {
            rw_error(reply, "ERR Command not allowed inside a transaction");
            reject(c, cmd);
            cs->multi->dirty = 1;
            return;
        }
        multi_queue(cs->multi, cmd, argc, argv);
        rw_simple(reply, "QUEUED");
        return;
    }
    if (cmd->route != CMD_ROUTE_LOCAL && monitor_wants(cmd)) monitor_feed(c, argc, argv);
    cs->last_cmd = cmd;
    plan->cmd = cmd;
    plan->proc = exec_proc;
    plan->multi = cmd->multi ? exec_multi : NULL;
    if (cmd->first_op) {
        plan->first_op = cmd->first_op;
        plan->first_done = cmd->first_done;
    }
    switch (cmd->route) {
    case CMD_ROUTE_LOCAL:
        plan->kind = RT_PLAN_LOCAL;
        return;
    case CMD_ROUTE_ALL: {
        plan->kind = RT_PLAN_ALL;
        int *shards = rt_plan_keybuf(home, 2);
        int n = sort_plan_shards(cmd, rt_of(home), argc, argv, shards);
        if (n > 0) {
            plan->shards = shards;
            plan->nshards = n;
        }
        return;
    }
    case CMD_ROUTE_CUSTOM: {
        int sh = cmd->route_fn(home, argc, argv, reply);
        if (sh < 0) {
            /* Bad arguments found while routing: the command ran and failed
             * as far as Redis's statistics go (it finds no keys first). */
            count_call(ss, cmd, 1, 0);
            plan->kind = RT_PLAN_DONE;
            return;
        }
        plan->kind = RT_PLAN_SHARD;
        plan->shard = sh;
        return;
    }
    default:
        break;
    }
    int *keys = rt_plan_keybuf(home, argc);
    int nkeys = 0;
    if (cmd->getkeys) {
        nkeys = cmd->getkeys(argc, argv, keys, reply);
        if (nkeys < 0) {
            count_call(ss, cmd, 1, 0); /* as above */
            plan->kind = RT_PLAN_DONE;
            return;
        }
    } else if (cmd->first_key > 0) {
        int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
        int step = cmd->key_step > 0 ? cmd->key_step : 1;
        for (int i = cmd->first_key; i <= last && i < argc; i += step)
            keys[nkeys++] = i;
    }
    if (nkeys == 0) {
        plan->kind = RT_PLAN_SHARD;
        plan->shard = rt_shard_id(home);
        return;
    }
    if ((cmd->flags & CMD_BLOCKING) && block_plan(home, cmd, argc, argv, keys, nkeys, plan)) return;
    plan->kind = RT_PLAN_KEYS;
    plan->keys = keys;
    plan->nkeys = nkeys;
}

static int is_write(int argc, rt_arg *argv) {
    (void)argc;
    const cmd_def *cmd = cmd_lookup(argv[0].p, argv[0].len);
    return cmd && (cmd->flags & CMD_WRITE);
}

const rt_ops g_cmd_ops = {
    .shard_init = shard_init,
    .shard_free = shard_free,
    .shard_cron = shard_cron,
    .conn_init = conn_init,
    .conn_free = conn_free,
    .prepare = prepare,
    .is_write = is_write,
    .op_begin = op_begin,
    .op_end = op_end,
    .tx_end = tx_end,
    .error_reply = error_reply,
};
