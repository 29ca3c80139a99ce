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
#include "expire_cron.h"
#include "monitor.h"

server_info g_server;
config g_config;                 /* the startup configuration, copied into each shard */
_Atomic int g_monitors;          /* MONITOR connections in the process; relaxed: a
                                    late-seen change only delays or adds a line */

static void monitor_feed(rt_conn *c, int argc, rt_arg *argv);

static int monitor_wants(const cmd_def *cmd) {
    return atomic_load_explicit(&g_monitors, memory_order_relaxed) > 0 &&
           !(cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR));
}

/* Single-shard body wrapper: fresh time, statistics. Connection commands
 * feed MONITOR after they ran, so the line shows the database they left the
 * client in (SELECT), as Redis does; the others are fed by prepare(). */
static void exec_proc(rt_ctx *c) {
    const cmd_def *cmd = c->cmd;
    shard_state *ss = ctx_ss(c);
    int64_t t0 = util_ustime();
    ss->st->now_ms = t0 / 1000;
    size_t mark = c->reply->len;
    cmd->proc(c);
    cmd_stat *st = &ss->stats[cmd->id];
    st->calls++;
    st->usec += (uint64_t)(util_ustime() - t0);
    if (c->reply->len > mark && c->reply->buf[mark] == '-') st->failed++;
    ss->total_commands++;
    if (c->conn && monitor_wants(cmd)) monitor_feed(c->conn, c->argc, c->argv);
}

/* Multi-shard body wrapper: statistics on the coordinator. */
static void exec_multi(rt_tx *tx) {
    const cmd_def *cmd = tx->cmd;
    shard_state *ss = rt_shard_data(rt_tx_coord(tx));
    ss->stats[cmd->id].calls++;
    ss->total_commands++;
    ss->st->now_ms = util_mstime();
    cmd->multi(tx);
}

static void op_begin(rt_ctx *c) { ctx_ss(c)->st->now_ms = util_mstime(); }

static void *shard_init(rt_shard *s, int id) {
    shard_state *ss = calloc(1, sizeof(*ss));
    ss->shard = s;
    ss->id = id;
    config_copy(&ss->cfg, &g_config);
    ss->st = store_new(ss->cfg.databases, rt_cfg(rt_of(s))->seed);
    ss->st->now_ms = util_mstime();
    ss->stats = calloc((size_t)cmd_count_ids(), sizeof(cmd_stat));
    return ss;
}

static void shard_free(void *p) {
    shard_state *ss = p;
    store_free(ss->st);
    config_free(&ss->cfg);
    free(ss->stats);
    free(ss);
}

static void shard_cron(rt_shard *s, void *p) {
    (void)s;
    shard_state *ss = p;
    ss->st->now_ms = util_mstime();
    expire_cron(ss);
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
    rw_errorf(r, "ERR wrong number of arguments for '%s' command", cmd_fullname(c, name, sizeof(name)));
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
        return;
    }
    if (cmd->subs) {
        if (argc < 2) {
            reply_arity_error(reply, cmd);
            reject(c, cmd);
            return;
        }
        const cmd_def *sub = cmd_lookup_sub(cmd, argv[1].p, argv[1].len);
        if (!sub) {
            char up[64];
            size_t k = 0;
            for (; cmd->name[k] && k < sizeof(up) - 1; k++) up[k] = (char)toupper((unsigned char)cmd->name[k]);
            up[k] = 0;
            int sl = argv[1].len < 128 ? (int)argv[1].len : 128;
            rw_errorf(reply, "ERR unknown subcommand '%.*s'. Try %s HELP.", sl, argv[1].p, up);
            reject(c, cmd);
            return;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_arity_error(reply, cmd);
        reject(c, cmd);
        return;
    }
    if (!cs->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        rw_error(reply, ERR_NOAUTH);
        reject(c, cmd);
        return;
    }
    if (cmd->route != CMD_ROUTE_LOCAL && monitor_wants(cmd)) monitor_feed(c, argc, argv);
    cs->last_cmd = cmd;
    plan->cmd = cmd;
    plan->proc = exec_proc;
    plan->multi = cmd->multi ? exec_multi : NULL;
    switch (cmd->route) {
    case CMD_ROUTE_LOCAL:
        plan->kind = RT_PLAN_LOCAL;
        return;
    case CMD_ROUTE_ALL:
        plan->kind = RT_PLAN_ALL;
        return;
    case CMD_ROUTE_CUSTOM: {
        int sh = cmd->route_fn(home, argc, argv, reply);
        if (sh < 0) {
            reject(c, cmd);
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
            reject(c, cmd);
            plan->kind = RT_PLAN_DONE;
            return;
        }
    } else if (cmd->first_key > 0) {
        int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
        int step = cmd->key_step > 0 ? cmd->key_step : 1;
        for (int i = cmd->first_key; i <= last && i < argc; i += step) keys[nkeys++] = i;
    }
    if (nkeys == 0) {
        plan->kind = RT_PLAN_SHARD;
        plan->shard = rt_shard_id(home);
        return;
    }
    plan->kind = RT_PLAN_KEYS;
    plan->keys = keys;
    plan->nkeys = nkeys;
    (void)ss;
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
};
