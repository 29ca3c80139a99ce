/* c_config.c -- the CONFIG command: GET, SET, RESETSTAT, REWRITE, HELP.
 *
 * Runs as a CMD_ROUTE_LOCAL command on the connection's shard. Each shard
 * keeps its own copy of the configuration (shard_state.cfg). CONFIG SET
 * validates and applies every pair on a scratch copy of the local shard's
 * configuration (all or nothing, as Redis 7.0 does), swaps it in, replies
 * +OK at once, and broadcasts the same pairs to the other shards, which
 * apply them on their own threads. The other shards therefore converge a
 * few microseconds after the reply: a command that a client sends to
 * another shard right after +OK may still see the old value. Every shard
 * also copies the settings the runtime enforces into its rt_shard_cfg().
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

/* The pairs of one CONFIG SET, carried to every shard (owned by the
 * broadcast; freed by its done callback on the originating shard). */
typedef struct config_change {
    int origin;
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

/* Broadcast body: apply the pairs to this shard's copy (the origin already
 * has them), then refresh this shard's runtime settings (rt_shard_cfg). */
static void config_set_on_shard(rt_shard *s, void *arg) {
    config_change *ch = arg;
    shard_state *ss = rt_shard_data(s);
    if (ss->id != ch->origin) {
        char err[512];
        for (int i = 0; i < ch->n; i++)
            config_set(&ss->cfg, ch->names[i], ch->values[i], err, sizeof(err));
    }
    config_apply_runtime(&ss->cfg, rt_shard_cfg(s));
    ss_apply_config(ss);
}

static void config_set_done(rt_shard *s, void *arg) {
    (void)s;
    config_change_free(arg);
}

void cmd_config_set(rt_ctx *c) {
    if (c->argc % 2) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    int n = (c->argc - 2) / 2;
    config_change *ch = calloc(1, sizeof(*ch));
    if (!ch) abort();
    ch->origin = c->shard_id;
    ch->n = n;
    ch->names = calloc((size_t)n, sizeof(char *));
    ch->values = calloc((size_t)n, sizeof(char *));
    if (!ch->names || !ch->values) abort();
    for (int i = 0; i < n; i++) {
        ch->names[i] = arg_dup(&c->argv[2 + 2 * i]);
        ch->values[i] = arg_dup(&c->argv[3 + 2 * i]);
    }
    char err[1024];
    /* First pass, as Redis: unknown, immutable, protected, duplicate. */
    for (int i = 0; i < n; i++) {
        int bad = config_check_name(ch->names[i], err, sizeof(err));
        for (int j = 0; j < i && !bad; j++) {
            if (!strcasecmp(ch->names[i], ch->names[j])) {
                snprintf(err, sizeof(err),
                         "ERR CONFIG SET failed (possibly related to argument '%s') - duplicate "
                         "parameter",
                         ch->names[i]);
                bad = 1;
            }
        }
        /* Values are kept as C strings: a NUL byte would silently cut one
         * short (a password "a\0b" would accept "a"), so refuse it. */
        const rt_arg *v = &c->argv[3 + 2 * i];
        if (!bad && memchr(v->p, 0, v->len)) {
            snprintf(err, sizeof(err),
                     "ERR CONFIG SET failed (possibly related to argument '%s') - argument "
                     "must not contain NUL bytes",
                     ch->names[i]);
            bad = 1;
        }
        if (bad) {
            rw_error(c->reply, err);
            config_change_free(ch);
            return;
        }
    }
    /* Second pass: apply everything to a scratch copy; keep it only if all pass. */
    shard_state *ss = ctx_ss(c);
    config scratch;
    config_copy(&scratch, &ss->cfg);
    for (int i = 0; i < n; i++) {
        if (config_set(&scratch, ch->names[i], ch->values[i], err, sizeof(err))) {
            rw_error(c->reply, err);
            config_free(&scratch);
            config_change_free(ch);
            return;
        }
    }
    config_free(&ss->cfg);
    ss->cfg = scratch;
    /* This shard applies the change at once: its later requests run before
     * its own broadcast message is handled. Every other shard receives the
     * broadcast ahead of any later request from this shard (rings are FIFO). */
    config_apply_runtime(&ss->cfg, rt_shard_cfg(c->shard));
    ss_apply_config(ss);
    rw_ok(c->reply);
    rt_broadcast(c->shard, config_set_on_shard, ch, config_set_done);
}

static void resetstat_on_shard(rt_shard *s, void *arg) {
    (void)arg;
    shard_state *ss = rt_shard_data(s);
    if (ss->stats) memset(ss->stats, 0, sizeof(cmd_stat) * (size_t)cmd_count_ids());
    ss->total_commands = 0;
    ss->stat_numconnections = 0;
    ss->stat_rejected_conn = 0;
}

void cmd_config_resetstat(rt_ctx *c) {
    rt_broadcast(c->shard, resetstat_on_shard, NULL, NULL);
    rw_ok(c->reply);
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
