/* c_conn.c -- the connection commands: PING, ECHO, QUIT, RESET, HELLO,
 * AUTH, SELECT and the CLIENT container.
 *
 * Most of these are CMD_ROUTE_LOCAL: they run on the connection's home shard
 * with ctx->conn set and touch only that connection's state (client_state,
 * reached through rt_conn_data) and the runtime's per-connection settings.
 * CLIENT LIST, KILL, PAUSE and UNPAUSE are CMD_ROUTE_ALL transactions: the
 * coordinator (the caller's home shard) parses the arguments, an op on every
 * shard visits that shard's own connections, and the coordinator assembles
 * the reply. Replies follow Redis 7.0.15 byte for byte.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "handlers.h"
#include "watch.h"
#include "block.h"

/* ------------------------------------------------------------------ */
/* Shared helpers                                                     */

static client_state *conn_cs(rt_ctx *c) {
    return c->conn ? (client_state *)rt_conn_data(c->conn) : NULL;
}

/* 1 if the shard's configuration asks for a password (requirepass set). */
static int conn_auth_required(const shard_state *ss) {
    return ss->cfg.requirepass != NULL && ss->cfg.requirepass[0] != '\0';
}

/* 1 if the client may run commands: no password configured, or it has
 * authenticated. */
static int conn_is_authed(rt_ctx *c, const client_state *cs) {
    return !conn_auth_required(ctx_ss(c)) || (cs != NULL && cs->authenticated);
}

/* Check a username/password pair against the only user percore has,
 * "default" (nopass unless requirepass is set). user NULL means "default".
 * Returns 1 on success. */
static int conn_check_pass(const shard_state *ss, const rt_arg *user, const rt_arg *pass) {
    if (user != NULL && !(user->len == 7 && memcmp(user->p, "default", 7) == 0)) return 0;
    if (!conn_auth_required(ss)) return 1;
    size_t n = strlen(ss->cfg.requirepass);
    return pass->len == n && memcmp(pass->p, ss->cfg.requirepass, n) == 0;
}

static void conn_mark_authed(rt_ctx *c, client_state *cs) {
    if (cs) cs->authenticated = 1;
    rt_conn_set_authenticated(c->conn, 1);
}

/* Redis's reply for a subcommand that is unknown or got the wrong number of
 * arguments: the subcommand as typed, the command upper-cased. */
static void reply_subcmd_syntax(rbuf *r, const rt_arg *cmd, const rt_arg *sub) {
    char up[32];
    size_t n = cmd->len < sizeof(up) - 1 ? cmd->len : sizeof(up) - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)toupper((unsigned char)cmd->p[i]);
    up[n] = '\0';
    int sl = sub->len > 128 ? 128 : (int)sub->len;
    rw_errorf(r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.", sl,
              sub->p, up);
}

/* Client names may hold only the printable, non-space ASCII range. */
static int conn_name_valid(const rt_arg *a) {
    for (size_t i = 0; i < a->len; i++) {
        unsigned char ch = (unsigned char)a->p[i];
        if (ch < '!' || ch > '~') return 0;
    }
    return 1;
}

/* Set the client's name from a (empty clears it), or reply Redis's error
 * and return -1. */
static int conn_setname_or_reply(rbuf *r, client_state *cs, const rt_arg *a) {
    if (!conn_name_valid(a)) {
        rw_error(r, "ERR Client names cannot contain spaces, newlines or special characters.");
        return -1;
    }
    if (cs == NULL) return 0;
    free(cs->name);
    cs->name = NULL;
    if (a->len > 0) {
        cs->name = malloc(a->len + 1);
        if (cs->name == NULL) abort();
        memcpy(cs->name, a->p, a->len);
        cs->name[a->len] = '\0';
    }
    return 0;
}

static void write_help(rbuf *r, const char *const *lines) {
    long n = 0;
    while (lines[n])
        n++;
    rw_array(r, n);
    for (long i = 0; i < n; i++)
        rw_simple(r, lines[i]);
}

/* ------------------------------------------------------------------ */
/* PING ECHO QUIT SELECT                                              */

void cmd_ping(rt_ctx *c) {
    if (c->argc > 2) {
        rw_error(c->reply, "ERR wrong number of arguments for 'ping' command");
        return;
    }
    if (c->argc == 2)
        rw_bulk(c->reply, c->argv[1].p, c->argv[1].len);
    else
        rw_simple(c->reply, "PONG");
}

void cmd_echo(rt_ctx *c) {
    rw_bulk(c->reply, c->argv[1].p, c->argv[1].len);
}

void cmd_quit(rt_ctx *c) {
    rw_ok(c->reply);
    if (c->conn) rt_conn_close_after_reply(c->conn);
}

void cmd_select(rt_ctx *c) {
    long long id;
    if (!util_str2ll(c->argv[1].p, c->argv[1].len, &id)) {
        rw_error(c->reply, ERR_NOT_INT);
        return;
    }
    if (id < -2147483648LL || id > 2147483647LL) {
        rw_error(c->reply,
                 "ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (id < 0 || id >= ctx_ss(c)->cfg.databases) {
        rw_error(c->reply, ERR_DB_RANGE);
        return;
    }
    rt_conn_set_db(c->conn, (int)id);
    rw_ok(c->reply);
}

/* ------------------------------------------------------------------ */
/* RESET                                                              */

void cmd_reset(rt_ctx *c) {
    client_state *cs = conn_cs(c);
    shard_state *ss = ctx_ss(c);
    if (cs) {
        multi_discard(cs);
        watch_forget(c->shard, cs);
        free(cs->name);
        cs->name = NULL;
        if (cs->monitor) {
            cs->monitor = 0;
            if (ss->monitors > 0) ss->monitors--;
            atomic_fetch_sub_explicit(&g_monitors, 1, memory_order_relaxed);
        }
        if (conn_auth_required(ss)) cs->authenticated = 0;
    }
    rt_conn_set_db(c->conn, 0);
    rt_conn_set_resp(c->conn, 2);
    rt_conn_set_reply_mode(c->conn, 0);
    if (conn_auth_required(ss)) rt_conn_set_authenticated(c->conn, 0);
    rw_simple(c->reply, "RESET");
}

/* ------------------------------------------------------------------ */
/* AUTH and HELLO                                                     */

#define ERR_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."

void cmd_auth(rt_ctx *c) {
    shard_state *ss = ctx_ss(c);
    if (c->argc > 3) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    const rt_arg *user = c->argc == 3 ? &c->argv[1] : NULL;
    const rt_arg *pass = &c->argv[c->argc - 1];
    if (user == NULL && !conn_auth_required(ss)) {
        rw_error(c->reply, "ERR AUTH <password> called without any password configured for the "
                           "default user. Are you sure your configuration is correct?");
        return;
    }
    if (!conn_check_pass(ss, user, pass)) {
        rw_error(c->reply, ERR_WRONGPASS);
        return;
    }
    conn_mark_authed(c, conn_cs(c));
    rw_ok(c->reply);
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]. As in Redis 7.0.15 the
 * options take effect one by one in the order given (a SETNAME before a
 * failing AUTH sticks); the protocol switches only once all succeeded, and
 * the reply map is written in the new protocol. */
void cmd_hello(rt_ctx *c) {
    client_state *cs = conn_cs(c);
    long long ver = 0;
    if (c->argc >= 2) {
        if (!util_str2ll(c->argv[1].p, c->argv[1].len, &ver)) {
            rw_error(c->reply, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            rw_error(c->reply, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (int j = 2; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const rt_arg *opt = &c->argv[j];
        if (arg_is(opt, "auth") && more >= 2) {
            if (!conn_check_pass(ctx_ss(c), &c->argv[j + 1], &c->argv[j + 2])) {
                rw_error(c->reply, ERR_WRONGPASS);
                return;
            }
            conn_mark_authed(c, cs);
            j += 2;
        } else if (arg_is(opt, "setname") && more >= 1) {
            if (conn_setname_or_reply(c->reply, cs, &c->argv[j + 1]) < 0) return;
            j++;
        } else {
            int n = opt->len > 128 ? 128 : (int)opt->len;
            rw_errorf(c->reply, "ERR Syntax error in HELLO option '%.*s'", n, opt->p);
            return;
        }
    }
    if (!conn_is_authed(c, cs)) {
        rw_error(c->reply, "NOAUTH HELLO must be called with the client already authenticated, "
                           "otherwise the HELLO AUTH <user> <pass> option can be used to "
                           "authenticate the client and select the RESP protocol version at the "
                           "same time");
        return;
    }
    int proto = ver ? (int)ver : rt_conn_resp(c->conn);
    if (ver) rt_conn_set_resp(c->conn, proto);
    int saved = c->reply->resp;
    c->reply->resp = proto;
    rw_map(c->reply, 7);
    rw_bulk_cstr(c->reply, "server");
    rw_bulk_cstr(c->reply, "redis");
    rw_bulk_cstr(c->reply, "version");
    rw_bulk_cstr(c->reply, "7.0.15");
    rw_bulk_cstr(c->reply, "proto");
    rw_int(c->reply, proto);
    rw_bulk_cstr(c->reply, "id");
    rw_int(c->reply, (long long)rt_conn_id(c->conn));
    rw_bulk_cstr(c->reply, "mode");
    rw_bulk_cstr(c->reply, "standalone");
    rw_bulk_cstr(c->reply, "role");
    rw_bulk_cstr(c->reply, "master");
    rw_bulk_cstr(c->reply, "modules");
    rw_array(c->reply, 0);
    c->reply->resp = saved;
}

/* ------------------------------------------------------------------ */
/* The CLIENT LIST / CLIENT INFO line                                 */

/* Append Redis 7.0's CLIENT LIST line of conn (with the trailing '\n') to
 * out. Runs on conn's home shard. cur, if not NULL, is the command being
 * run by this very connection (it is reported as cmd=), and argv_mem the
 * bytes of its arguments; otherwise the last command recorded in the
 * connection's client_state is reported. */
static void client_format_line(rbuf *out, rt_conn *conn, const cmd_def *cur, size_t argv_mem,
                               int64_t now_ms) {
    client_state *cs = (client_state *)rt_conn_data(conn);
    char flags[8];
    int nf = 0;
    if (cs && cs->monitor) flags[nf++] = 'O';
    if (cs && cs->no_evict) flags[nf++] = 'e';
    if (nf == 0) flags[nf++] = 'N';
    flags[nf] = '\0';

    const cmd_def *last = cur ? cur : (cs ? cs->last_cmd : NULL);
    char cmdname[128];
    if (last)
        cmd_fullname(last, cmdname, sizeof(cmdname));
    else
        strcpy(cmdname, "NULL");

    int64_t age = (now_ms - rt_conn_created_ms(conn)) / 1000;
    int64_t idle = (now_ms - rt_conn_last_ms(conn)) / 1000;
    if (age < 0) age = 0;
    if (idle < 0) idle = 0;
    size_t qbuf = rt_conn_qbuf(conn), qfree = rt_conn_qbuf_free(conn), obl = rt_conn_obuf(conn);
    /* rbs and rbp: percore has no per-client reply buffer of Redis's kind
     * (whose size Redis adapts, from 1 KiB); its 16 KiB top size is shown.
     * tot-mem: what this connection really holds (rt_conn_mem) with its
     * state and arguments. */
    size_t rbs = 16384;
    size_t tot = rt_conn_mem(conn) + sizeof(client_state) + argv_mem;

    rb_printf(out, "id=%llu addr=%s laddr=%s fd=%d name=", (unsigned long long)rt_conn_id(conn),
              rt_conn_peer(conn), rt_conn_local(conn), rt_conn_fd(conn));
    if (cs && cs->name) rb_append(out, cs->name, strlen(cs->name));
    rb_printf(out,
              " age=%lld idle=%lld flags=%s db=%d sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu "
              "qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=0 omem=0 "
              "tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d\n",
              (long long)age, (long long)idle, flags, rt_conn_db(conn), qbuf, qfree, argv_mem, rbs,
              rbs, obl, tot, obl > 0 ? "rw" : "r", cmdname, rt_conn_resp(conn));
}

static size_t args_mem(int argc, const rt_arg *argv) {
    size_t n = 0;
    for (int i = 0; i < argc; i++)
        n += argv[i].len;
    return n;
}

/* ------------------------------------------------------------------ */
/* CLIENT: the local subcommands                                      */

void cmd_client_id(rt_ctx *c) {
    rw_int(c->reply, (long long)rt_conn_id(c->conn));
}

void cmd_client_setname(rt_ctx *c) {
    if (conn_setname_or_reply(c->reply, conn_cs(c), &c->argv[2]) == 0) rw_ok(c->reply);
}

void cmd_client_getname(rt_ctx *c) {
    client_state *cs = conn_cs(c);
    if (cs && cs->name)
        rw_bulk_cstr(c->reply, cs->name);
    else
        rw_null(c->reply);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value: the client library's name and
 * version, as Redis 7.2 introduced it (clients send it during their
 * handshake). Redis 7.0.15 does not know the subcommand; percore accepts it
 * so the handshake succeeds, with 7.2's validation and replies. */
void cmd_client_setinfo(rt_ctx *c) {
    client_state *cs = conn_cs(c);
    const rt_arg *attr = &c->argv[2], *val = &c->argv[3];
    char **slot;
    const char *what;
    if (arg_is(attr, "lib-name"))
        slot = &cs->lib_name, what = "lib-name";
    else if (arg_is(attr, "lib-ver"))
        slot = &cs->lib_ver, what = "lib-ver";
    else {
        int al = attr->len > 128 ? 128 : (int)attr->len;
        rw_errorf(c->reply, "ERR Unrecognized option '%.*s'", al, attr->p);
        return;
    }
    for (size_t i = 0; i < val->len; i++) {
        unsigned char ch = (unsigned char)val->p[i];
        if (ch < '!' || ch > '~') {
            rw_errorf(c->reply, "ERR %s cannot contain spaces, newlines or special characters.",
                      what);
            return;
        }
    }
    free(*slot);
    *slot = val->len ? strndup(val->p, val->len) : NULL;
    rw_ok(c->reply);
}

void cmd_client_info(rt_ctx *c) {
    rbuf line;
    rb_init(&line, 2);
    client_format_line(&line, c->conn, (const cmd_def *)c->cmd, args_mem(c->argc, c->argv),
                       util_mstime());
    rw_verbatim(c->reply, "txt", line.buf, line.len);
    rb_free(&line);
}

void cmd_client_reply(rt_ctx *c) {
    const rt_arg *a = &c->argv[2];
    if (arg_is(a, "on")) {
        rt_conn_set_reply_mode(c->conn, 0);
        rw_ok(c->reply);
    } else if (arg_is(a, "off")) {
        rt_conn_set_reply_mode(c->conn, 1);
    } else if (arg_is(a, "skip")) {
        rt_conn_set_reply_mode(c->conn, 2);
    } else {
        rw_error(c->reply, ERR_SYNTAX);
    }
}

void cmd_client_no_evict(rt_ctx *c) {
    client_state *cs = conn_cs(c);
    const rt_arg *a = &c->argv[2];
    int on;
    if (arg_is(a, "on"))
        on = 1;
    else if (arg_is(a, "off"))
        on = 0;
    else {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    if (cs) cs->no_evict = on;
    rw_ok(c->reply);
}

/* Op on every shard: end the wait of the client (whose home is that shard)
 * if it is blocked; part.n = 1 if it was. */
static void client_unblock_op(rt_ctx *c) {
    rt_tx *tx = c->tx;
    long long *id = tx->state;
    int how = tx->argc == 4 && arg_is(&tx->argv[3], "error") ? BLOCK_END_ERROR : BLOCK_END_TIMEOUT;
    tx->part[c->part].n = block_unblock(c->shard, (uint64_t)*id, how);
}

static void client_unblock_next(rt_tx *tx) {
    long long n = 0;
    for (int i = 0; i < tx->nparts; i++)
        n += tx->part[i].n;
    rw_int(&tx->reply, n);
    /* Redis counts the error the ended wait replies within this call: a
     * CLIENT UNBLOCK ... ERROR that ended one is a failed call. */
    if (n && tx->argc == 4 && arg_is(&tx->argv[3], "error")) tx->stat_flags |= TX_STAT_FAILED;
    free(tx->state);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: 1 if that client was blocked. */
void cmd_client_unblock_multi(rt_tx *tx) {
    rbuf *r = &tx->reply;
    if (tx->argc != 3 && tx->argc != 4) {
        reply_subcmd_syntax(r, &tx->argv[0], &tx->argv[1]);
        rt_tx_done(tx);
        return;
    }
    if (tx->argc == 4 && !arg_is(&tx->argv[3], "timeout") && !arg_is(&tx->argv[3], "error")) {
        rw_error(r, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        rt_tx_done(tx);
        return;
    }
    long long *id = malloc(sizeof(*id));
    if (id == NULL) abort();
    if (!util_str2ll(tx->argv[2].p, tx->argv[2].len, id)) {
        free(id);
        rw_error(r, ERR_NOT_INT);
        rt_tx_done(tx);
        return;
    }
    tx->state = id;
    rt_tx_run(tx, client_unblock_op, client_unblock_next);
}

static const char *const client_help_lines[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
    NULL,
};

void cmd_client_help(rt_ctx *c) {
    write_help(c->reply, client_help_lines);
}

/* ------------------------------------------------------------------ */
/* CLIENT LIST and CLIENT KILL: transactions over every shard         */

enum { CT_ANY = -1, CT_NORMAL = 0, CT_SLAVE, CT_PUBSUB, CT_MASTER };

/* Client type by name (any case), or -2 if unknown. */
static int client_type_by_name(const rt_arg *a) {
    if (arg_is(a, "normal")) return CT_NORMAL;
    if (arg_is(a, "slave") || arg_is(a, "replica")) return CT_SLAVE;
    if (arg_is(a, "pubsub")) return CT_PUBSUB;
    if (arg_is(a, "master")) return CT_MASTER;
    return -2;
}

/* The filter of a CLIENT LIST or CLIENT KILL, built on the coordinator and
 * read (only) by the ops on every shard. */
typedef struct client_filter {
    int type;       /* CT_*: every connection of percore is NORMAL */
    long long *ids; /* LIST ID ... / KILL ID: NULL = any */
    int nids;
    const rt_arg *addr; /* KILL ADDR / old form */
    const rt_arg *laddr;
    int skipme;   /* skip the calling connection */
    int old_form; /* CLIENT KILL addr */
} client_filter;

static void client_filter_free(client_filter *f) {
    if (f == NULL) return;
    free(f->ids);
    free(f);
}

static int str_eq_arg(const char *s, const rt_arg *a) {
    return strlen(s) == a->len && memcmp(s, a->p, a->len) == 0;
}

/* 1 if conn passes the filter (on conn's home shard). */
static int client_filter_match(const client_filter *f, rt_conn *conn, uint64_t self_id) {
    uint64_t id = rt_conn_id(conn);
    if (f->type != CT_ANY && f->type != CT_NORMAL) return 0;
    if (f->skipme && id == self_id) return 0;
    if (f->ids) {
        int hit = 0;
        for (int i = 0; i < f->nids && !hit; i++)
            hit = (uint64_t)f->ids[i] == id;
        if (!hit) return 0;
    }
    if (f->addr && !str_eq_arg(rt_conn_peer(conn), f->addr)) return 0;
    if (f->laddr && !str_eq_arg(rt_conn_local(conn), f->laddr)) return 0;
    return 1;
}

typedef struct list_visit {
    rt_tx *tx;
    rt_part *part;
    const client_filter *f;
    int64_t now_ms;
} list_visit;

static void client_list_visit(rt_conn *conn, void *arg) {
    list_visit *v = arg;
    if (!client_filter_match(v->f, conn, 0)) return;
    int self = rt_conn_id(conn) == v->tx->client_id;
    client_format_line(&v->part->out, conn, self ? (const cmd_def *)v->tx->cmd : NULL,
                       self ? args_mem(v->tx->argc, v->tx->argv) : 0, v->now_ms);
}

/* Op on every shard: append that shard's matching lines to part.out. */
static void client_list_op(rt_ctx *c) {
    rt_tx *tx = c->tx;
    list_visit v = {tx, &tx->part[c->part], tx->state, util_mstime()};
    rt_shard_foreach_conn(c->shard, client_list_visit, &v);
}

typedef struct list_line {
    unsigned long long id;
    const char *p;
    size_t len;
} list_line;

static int list_line_cmp(const void *a, const void *b) {
    const list_line *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Coordinator: merge the shards' lines (ordered by id, or in the order of
 * the ID arguments), reply, finish. */
static void client_list_next(rt_tx *tx) {
    client_filter *f = tx->state;
    size_t cap = 16, n = 0;
    list_line *lines = malloc(cap * sizeof(*lines));
    if (lines == NULL) abort();
    for (int i = 0; i < tx->nparts; i++) {
        rbuf *o = &tx->part[i].out;
        size_t pos = 0;
        while (pos < o->len) {
            const char *s = o->buf + pos;
            const char *nl = memchr(s, '\n', o->len - pos);
            size_t len = nl ? (size_t)(nl - s) + 1 : o->len - pos;
            if (n == cap) {
                cap *= 2;
                lines = realloc(lines, cap * sizeof(*lines));
                if (lines == NULL) abort();
            }
            lines[n].id = strtoull(s + 3, NULL, 10);
            lines[n].p = s;
            lines[n].len = len;
            n++;
            pos += len;
        }
    }
    qsort(lines, n, sizeof(*lines), list_line_cmp);
    rbuf all;
    rb_init(&all, 2);
    if (f->ids) {
        for (int k = 0; k < f->nids; k++)
            for (size_t i = 0; i < n; i++)
                if (lines[i].id == (unsigned long long)f->ids[k]) {
                    rb_append(&all, lines[i].p, lines[i].len);
                    break;
                }
    } else {
        for (size_t i = 0; i < n; i++)
            rb_append(&all, lines[i].p, lines[i].len);
    }
    rw_verbatim(&tx->reply, "txt", all.buf ? all.buf : "", all.len);
    rb_free(&all);
    free(lines);
    for (int i = 0; i < tx->nparts; i++)
        rb_free(&tx->part[i].out);
    client_filter_free(f);
    tx->state = NULL;
    rt_tx_done(tx);
}

static client_filter *client_filter_new(void) {
    client_filter *f = calloc(1, sizeof(*f));
    if (f == NULL) abort();
    f->type = CT_ANY;
    return f;
}

/* Reply an error on the tx and finish it (nothing ran on the shards). */
static void tx_fail(rt_tx *tx, client_filter *f) {
    client_filter_free(f);
    rt_tx_done(tx);
}

/* CLIENT LIST [TYPE type] | [ID id ...]. */
void cmd_client_list_multi(rt_tx *tx) {
    client_filter *f = client_filter_new();
    if (tx->argc == 4 && arg_is(&tx->argv[2], "type")) {
        f->type = client_type_by_name(&tx->argv[3]);
        if (f->type == -2) {
            int n = tx->argv[3].len > 128 ? 128 : (int)tx->argv[3].len;
            rw_errorf(&tx->reply, "ERR Unknown client type '%.*s'", n, tx->argv[3].p);
            return tx_fail(tx, f);
        }
    } else if (tx->argc > 3 && arg_is(&tx->argv[2], "id")) {
        f->nids = tx->argc - 3;
        f->ids = malloc((size_t)f->nids * sizeof(long long));
        if (f->ids == NULL) abort();
        for (int j = 3; j < tx->argc; j++) {
            if (!util_str2ll(tx->argv[j].p, tx->argv[j].len, &f->ids[j - 3])) {
                rw_error(&tx->reply, "ERR Invalid client ID");
                return tx_fail(tx, f);
            }
        }
    } else if (tx->argc != 2) {
        rw_error(&tx->reply, ERR_SYNTAX);
        return tx_fail(tx, f);
    }
    tx->state = f;
    rt_tx_run(tx, client_list_op, client_list_next);
}

typedef struct kill_visit {
    const client_filter *f;
    uint64_t self_id;
    long long killed;
} kill_visit;

static void client_kill_visit(rt_conn *conn, void *arg) {
    kill_visit *v = arg;
    if (!client_filter_match(v->f, conn, v->self_id)) return;
    rt_conn_close_after_reply(conn);
    block_unblock(rt_conn_shard(conn), rt_conn_id(conn), BLOCK_END_KILL);
    v->killed++;
}

/* Op on every shard: close the matching connections, count them in part.n. */
static void client_kill_op(rt_ctx *c) {
    rt_tx *tx = c->tx;
    kill_visit v = {tx->state, tx->client_id, 0};
    rt_shard_foreach_conn(c->shard, client_kill_visit, &v);
    tx->part[c->part].n = v.killed;
}

static void client_kill_next(rt_tx *tx) {
    client_filter *f = tx->state;
    long long killed = 0;
    for (int i = 0; i < tx->nparts; i++)
        killed += tx->part[i].n;
    if (f->old_form) {
        if (killed == 0)
            rw_error(&tx->reply, "ERR No such client");
        else
            rw_ok(&tx->reply);
    } else {
        rw_int(&tx->reply, killed);
    }
    client_filter_free(f);
    tx->state = NULL;
    rt_tx_done(tx);
}

/* CLIENT KILL addr (old form) or CLIENT KILL <filter> <value> ... */
void cmd_client_kill_multi(rt_tx *tx) {
    client_filter *f = client_filter_new();
    if (tx->argc == 3) {
        f->old_form = 1;
        f->addr = &tx->argv[2];
    } else {
        f->skipme = 1;
        for (int i = 2; i < tx->argc; i += 2) {
            const rt_arg *opt = &tx->argv[i];
            if (i + 1 >= tx->argc) {
                rw_error(&tx->reply, ERR_SYNTAX);
                return tx_fail(tx, f);
            }
            const rt_arg *val = &tx->argv[i + 1];
            if (arg_is(opt, "id")) {
                long long id;
                if (!util_str2ll(val->p, val->len, &id) || id <= 0) {
                    rw_error(&tx->reply, "ERR client-id should be greater than 0");
                    return tx_fail(tx, f);
                }
                free(f->ids);
                f->ids = malloc(sizeof(long long));
                if (f->ids == NULL) abort();
                f->ids[0] = id;
                f->nids = 1;
            } else if (arg_is(opt, "type")) {
                f->type = client_type_by_name(val);
                if (f->type == -2) {
                    int n = val->len > 128 ? 128 : (int)val->len;
                    rw_errorf(&tx->reply, "ERR Unknown client type '%.*s'", n, val->p);
                    return tx_fail(tx, f);
                }
            } else if (arg_is(opt, "addr")) {
                f->addr = val;
            } else if (arg_is(opt, "laddr")) {
                f->laddr = val;
            } else if (arg_is(opt, "user")) {
                if (!(val->len == 7 && memcmp(val->p, "default", 7) == 0)) {
                    int n = val->len > 128 ? 128 : (int)val->len;
                    rw_errorf(&tx->reply, "ERR No such user '%.*s'", n, val->p);
                    return tx_fail(tx, f);
                }
            } else if (arg_is(opt, "skipme")) {
                if (arg_is(val, "yes"))
                    f->skipme = 1;
                else if (arg_is(val, "no"))
                    f->skipme = 0;
                else {
                    rw_error(&tx->reply, ERR_SYNTAX);
                    return tx_fail(tx, f);
                }
            } else {
                rw_error(&tx->reply, ERR_SYNTAX);
                return tx_fail(tx, f);
            }
        }
    }
    tx->state = f;
    rt_tx_run(tx, client_kill_op, client_kill_next);
}

/* ------------------------------------------------------------------ */
/* CLIENT PAUSE / UNPAUSE                                             */

typedef struct pause_req {
    int64_t until_ms;
    int writes_only;
} pause_req;

static void client_pause_op(rt_ctx *c) {
    const pause_req *p = c->tx->state;
    rt_shard_pause_until(c->shard, p->until_ms, p->writes_only);
}

static void client_pause_next(rt_tx *tx) {
    free(tx->state);
    tx->state = NULL;
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}

/* CLIENT PAUSE timeout [WRITE|ALL]: every shard stops serving its clients
 * (or only their writes) until now + timeout ms. */
void cmd_client_pause_multi(rt_tx *tx) {
    if (tx->argc != 3 && tx->argc != 4) {
        reply_subcmd_syntax(&tx->reply, &tx->argv[0], &tx->argv[1]);
        rt_tx_done(tx);
        return;
    }
    int writes_only = 0;
    if (tx->argc == 4) {
        if (arg_is(&tx->argv[3], "write"))
            writes_only = 1;
        else if (!arg_is(&tx->argv[3], "all")) {
            rw_error(&tx->reply, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            rt_tx_done(tx);
            return;
        }
    }
    long long ms;
    if (!util_str2ll(tx->argv[2].p, tx->argv[2].len, &ms)) {
        rw_error(&tx->reply, "ERR timeout is not an integer or out of range");
        rt_tx_done(tx);
        return;
    }
    if (ms < 0) {
        rw_error(&tx->reply, "ERR timeout is negative");
        rt_tx_done(tx);
        return;
    }
    int64_t now = util_mstime();
    if (ms > INT64_MAX - now) {
        rw_error(&tx->reply, "ERR timeout is out of range");
        rt_tx_done(tx);
        return;
    }
    pause_req *p = malloc(sizeof(*p));
    if (p == NULL) abort();
    p->until_ms = now + ms;
    p->writes_only = writes_only;
    tx->state = p;
    rt_tx_run(tx, client_pause_op, client_pause_next);
}

/* CLIENT UNPAUSE: lift any pause on every shard. */
void cmd_client_unpause_multi(rt_tx *tx) {
    pause_req *p = calloc(1, sizeof(*p));
    if (p == NULL) abort();
    tx->state = p;
    rt_tx_run(tx, client_pause_op, client_pause_next);
}
