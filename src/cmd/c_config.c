/* c_config.c -- the CONFIG command: GET, SET, RESETSTAT, REWRITE, HELP.
 *
 * Each shard keeps its own copy of the configuration (shard_state.cfg).
 * CONFIG GET reads the connection's shard. CONFIG SET and RESETSTAT are
 * transactions over every shard: SET validates every pair on a scratch copy
 * of the coordinator's configuration (all or nothing, as Redis 7.0 does),
 * then each shard applies the pairs on its own thread, and +OK is sent only
 * once all have. A client that sees +OK therefore finds the new value on
 * every shard (a new connection accepted by another shard right after
 * CONFIG SET requirepass must be asked for the password). Every shard also
 * copies the settings the runtime enforces into its rt_shard_cfg().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "config_int.h"
#include "handlers.h"

void config_apply_runtime(const config *c, rt_config *rc) {
    rc->hz = c->hz;
    rc->maxclients = c->maxclients;
    rc->max_bulk_len = c->proto_max_bulk_len;
    rc->query_buf_limit = c->client_query_buffer_limit;
    rc->obuf_hard = c->obuf_normal_hard;
    rc->obuf_soft = c->obuf_normal_soft;
    rc->obuf_soft_secs = c->obuf_normal_soft_secs;
    rc->timeout = c->timeout;
    rc->tcp_keepalive = c->tcp_keepalive;
}

/* A NUL-terminated copy of an argument (caller frees). */
static char *arg_dup(const rt_arg *a) {
    char *s = malloc(a->len + 1);
    if (!s) abort();
    memcpy(s, a->p, a->len);
    s[a->len] = '\0';
    return s;
}

void cmd_config_get(rt_ctx *c) {
    int npat = c->argc - 2;
    const char **pats = malloc(sizeof(char *) * (size_t)npat);
    size_t *lens = malloc(sizeof(size_t) * (size_t)npat);
    if (!pats || !lens) abort();
    for (int i = 0; i < npat; i++) {
        pats[i] = c->argv[2 + i].p;
        lens[i] = c->argv[2 + i].len;
    }
    config_get_reply(&ctx_ss(c)->cfg, npat, pats, lens, c->reply);
    free(pats);
    free(lens);
}

/* The pairs of one CONFIG SET, NUL-terminated copies (tx->state). */
typedef struct config_change {
    int n;
    char **names;
    char **values;
} config_change;

static void config_change_free(config_change *ch) {
    for (int i = 0; i < ch->n; i++) {
        free(ch->names[i]);
        free(ch->values[i]);
    }
    free(ch->names);
    free(ch->values);
    free(ch);
}

/* Validation, on the coordinator. Returns 0, or -1 with the error in err.
 * First pass, as Redis: unknown, immutable, protected, duplicate, NUL bytes;
 * second pass: every value parses and is in range (on a scratch copy). */
static int config_change_check(const config *cur, const config_change *ch, const rt_arg *vals,
                               char *err, size_t errlen) {
    for (int i = 0; i < ch->n; i++) {
        if (config_check_name(ch->names[i], err, errlen)) return -1;
        for (int j = 0; j < i; j++) {
            if (!strcasecmp(ch->names[i], ch->names[j])) {
                snprintf(err, errlen,
                         "ERR CONFIG SET failed (possibly related to argument '%s') - duplicate "
                         "parameter",
                         ch->names[i]);
                return -1;
            }
        }
        /* Values are kept as C strings: a NUL byte would silently cut one
         * short (a password "a\0b" would accept "a"), so refuse it. */
        if (memchr(vals[2 * i].p, 0, vals[2 * i].len)) {
            snprintf(err, errlen,
                     "ERR CONFIG SET failed (possibly related to argument '%s') - argument "
                     "must not contain NUL bytes",
                     ch->names[i]);
            return -1;
        }
    }
    config scratch;
    config_copy(&scratch, cur);
    int rc = 0;
    for (int i = 0; i < ch->n && !rc; i++)
        rc = config_set(&scratch, ch->names[i], ch->values[i], err, errlen);
    config_free(&scratch);
    return rc ? -1 : 0;
}

/* Tx op: apply the (validated) pairs to this shard's copy, then refresh its
 * runtime settings. */
static void op_config_set(rt_ctx *c) {
    const config_change *ch = c->tx->state;
    shard_state *ss = ctx_ss(c);
    char err[512];
    for (int i = 0; i < ch->n; i++)
        config_set(&ss->cfg, ch->names[i], ch->values[i], err, sizeof(err));
    config_apply_runtime(&ss->cfg, rt_shard_cfg(c->shard));
    ss_apply_config(ss);
}

static void config_set_finish(rt_tx *tx) {
    config_change_free(tx->state);
    tx->state = NULL;
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}

void cmd_config_set_multi(rt_tx *tx) {
    if (tx->argc % 2) {
        rw_error(&tx->reply, ERR_SYNTAX);
        rt_tx_done(tx);
        return;
    }
    int n = (tx->argc - 2) / 2;
    config_change *ch = calloc(1, sizeof(*ch));
    if (!ch) abort();
    ch->n = n;
    ch->names = calloc((size_t)n, sizeof(char *));
    ch->values = calloc((size_t)n, sizeof(char *));
    if (!ch->names || !ch->values) abort();
    for (int i = 0; i < n; i++) {
        ch->names[i] = arg_dup(&tx->argv[2 + 2 * i]);
        ch->values[i] = arg_dup(&tx->argv[3 + 2 * i]);
    }
    char err[1024];
    shard_state *coord = rt_shard_data(rt_tx_coord(tx));
    if (config_change_check(&coord->cfg, ch, &tx->argv[3], err, sizeof(err))) {
        config_change_free(ch);
        rw_error(&tx->reply, err);
        rt_tx_done(tx);
        return;
    }
    tx->state = ch;
    rt_tx_run(tx, op_config_set, config_set_finish);
}

static void op_resetstat(rt_ctx *c) {
    shard_state *ss = ctx_ss(c);
    if (ss->stats) memset(ss->stats, 0, sizeof(cmd_stat) * (size_t)cmd_count_ids());
    ss->total_commands = 0;
    ss->total_errors = 0;
    ss->nerrs = 0;
    lat_reset(ss);
    ss->expire_cap_reached = 0;
    ss->expire_cycle_us = 0;
    ss->expire_stale_perc = 0;
    memset(rt_shard_net(c->shard), 0, sizeof(rt_net_stats));
    inst_reset(ss->inst, INST_COUNT, util_mstime());
    ss->stat_numconnections = 0;
    memset(&ss->st->stats, 0, sizeof(ss->st->stats));
}

static void resetstat_finish(rt_tx *tx) {
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}

void cmd_config_resetstat_multi(rt_tx *tx) {
    rt_tx_run(tx, op_resetstat, resetstat_finish);
}

void cmd_config_rewrite(rt_ctx *c) {
    if (!g_server.config_file[0]) {
        rw_error(c->reply, "ERR The server is running without a config file");
        return;
    }
    char err[1024];
    if (config_rewrite(&ctx_ss(c)->cfg, g_server.config_file, err, sizeof(err))) {
        rw_error(c->reply, err);
        return;
    }
    rw_ok(c->reply);
}

void cmd_config_help(rt_ctx *c) {
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    };
    int n = (int)(sizeof(lines) / sizeof(lines[0]));
    rw_array(c->reply, n);
    for (int i = 0; i < n; i++)
        rw_simple(c->reply, lines[i]);
}
