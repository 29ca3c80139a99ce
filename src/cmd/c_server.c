/* c_server.c -- the server commands TIME, LASTSAVE, SHUTDOWN, MONITOR and
 * DEBUG, and the MONITOR line formatter (monitor.h). INFO is in info.c.
 *
 * TIME, LASTSAVE, SHUTDOWN and MONITOR are CMD_ROUTE_LOCAL and run on the
 * connection's home shard. DEBUG is CMD_ROUTE_CUSTOM: route_debug (on the
 * home shard) sends DEBUG OBJECT to the shard owning the key and everything
 * else to the home shard; cmd_debug then runs there without a connection.
 * Replies follow Redis 7.0.15 byte for byte.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../store/list.h"
#include "cmd.h"
#include "handlers.h"
#include "monitor.h"

/* ------------------------------------------------------------------ */
/* TIME LASTSAVE                                                      */

void cmd_time(rt_ctx *c) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    rw_array(c->reply, 2);
    rw_bulk_ll(c->reply, (long long)tv.tv_sec);
    rw_bulk_ll(c->reply, (long long)tv.tv_usec);
}

/* percore does not save snapshots yet: the last "save" is the start. */
void cmd_lastsave(rt_ctx *c) {
    rw_int(c->reply, g_server.start_ms / 1000);
}

/* ------------------------------------------------------------------ */
/* SHUTDOWN                                                           */

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. On success nothing is
 * replied: the server stops and the connection closes, as in Redis. */
void cmd_shutdown(rt_ctx *c) {
    int nosave = 0, save = 0, abort_ = 0, other = 0;
    for (int i = 1; i < c->argc; i++) {
        const rt_arg *a = &c->argv[i];
        if (arg_is(a, "nosave"))
            nosave = 1;
        else if (arg_is(a, "save"))
            save = 1;
        else if (arg_is(a, "now") || arg_is(a, "force"))
            other = 1;
        else if (arg_is(a, "abort"))
            abort_ = 1;
        else {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
    }
    if ((nosave && save) || (abort_ && (nosave || save || other))) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    if (abort_) {
        rw_error(c->reply, "ERR No shutdown in progress.");
        return;
    }
    rt_stop(g_server.rt);
}

/* ------------------------------------------------------------------ */
/* MONITOR                                                            */

/* Turn the connection into a monitor. A connection already monitoring gets
 * no reply at all, as in Redis. The dispatcher feeds the lines. */
void cmd_monitor(rt_ctx *c) {
    client_state *cs = (client_state *)rt_conn_data(c->conn);
    if (cs == NULL || cs->monitor) return;
    if (cs->in_exec) {
        /* As Redis: a transaction may not block or turn into a monitor. */
        rw_error(c->reply, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    cs->monitor = 1;
    ctx_ss(c)->monitors++;
    atomic_fetch_add_explicit(&g_monitors, 1, memory_order_relaxed);
    rw_ok(c->reply);
}

/* Append a with Redis's repr quoting ("..." with escapes) to out. */
static void monitor_repr(rbuf *out, const char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    rb_reserve(out, n + 2);
    rb_append(out, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char esc[4];
        switch (ch) {
        case '\\':
            rb_append(out, "\\\\", 2);
            break;
        case '"':
            rb_append(out, "\\\"", 2);
            break;
        case '\n':
            rb_append(out, "\\n", 2);
            break;
        case '\r':
            rb_append(out, "\\r", 2);
            break;
        case '\t':
            rb_append(out, "\\t", 2);
            break;
        case '\a':
            rb_append(out, "\\a", 2);
            break;
        case '\b':
            rb_append(out, "\\b", 2);
            break;
        default:
            if (isprint(ch)) {
                rb_append(out, (const char *)&ch, 1);
            } else {
                esc[0] = '\\';
                esc[1] = 'x';
                esc[2] = hex[ch >> 4];
                esc[3] = hex[ch & 15];
                rb_append(out, esc, 4);
            }
        }
    }
    rb_append(out, "\"", 1);
}

void monitor_format(rbuf *out, int64_t now_us, int db, const char *peer, int argc,
                    const rt_arg *argv) {
    char head[128];
    int n = snprintf(head, sizeof(head), "+%lld.%06lld [%d %s]", (long long)(now_us / 1000000),
                     (long long)(now_us % 1000000), db, peer);
    if (n < 0) return;
    if ((size_t)n >= sizeof(head)) n = (int)sizeof(head) - 1;
    rb_append(out, head, (size_t)n);
    for (int i = 0; i < argc; i++) {
        rb_append(out, " ", 1);
        monitor_repr(out, argv[i].p, argv[i].len);
    }
    rb_append(out, "\r\n", 2);
}

/* ------------------------------------------------------------------ */
/* DEBUG                                                              */

int route_debug(rt_shard *home, int argc, rt_arg *argv, rbuf *err) {
    (void)err;
    if (argc == 3 && arg_is(&argv[1], "object"))
        return rt_key_shard(rt_of(home), argv[2].p, argv[2].len);
    return rt_shard_id(home);
}

static void debug_set_active_expire(rt_shard *s, void *arg) {
    shard_state *ss = rt_shard_data(s);
    if (ss && ss->st) ss->st->active_expire = (int)(intptr_t)arg;
}

/* Bytes of Redis's RDB length prefix for n. */
static size_t rdb_len_size(size_t n) {
    if (n < 64) return 1;
    if (n < 16384) return 2;
    if (n <= 0xFFFFFFFFu) return 5;
    return 9;
}

/* Approximate serialized length of a value in an RDB file (DEBUG OBJECT).
 * Exact for integers and short strings; long strings are not compressed
 * here, and other types are estimated from their memory usage. */
static size_t debug_serialized_len(const obj *o) {
    if (o->type != OBJ_STRING) return obj_mem_usage(o);
    char tmp[32];
    size_t len;
    const char *p = obj_str(o, tmp, &len);
    long long v;
    if (len <= 11 && util_str2ll(p, len, &v)) {
        if (v >= -128 && v <= 127) return 2;
        if (v >= -32768 && v <= 32767) return 3;
        if (v >= -2147483648LL && v <= 2147483647LL) return 5;
    }
    return rdb_len_size(len) + len;
}

static void debug_object(rt_ctx *c) {
    obj *o = db_find(ctx_db(c), c->argv[2].p, c->argv[2].len);
    if (o == NULL) {
        rw_error(c->reply, ERR_NO_KEY);
        return;
    }
    int refcount = 1;
    if (o->type == OBJ_STRING && o->enc == OBJ_ENC_INT && o->v.i >= 0 && o->v.i < 10000 &&
        ctx_ss(c)->cfg.maxmemory == 0)
        refcount = 2147483647;
    uint32_t now = store_lru_clock(ctx_store(c));
    uint32_t lru = o->lru & 0xFFFFFF;
    unsigned long long idle = now >= lru ? now - lru : now + (0xFFFFFFu - lru);
    char line[256];
    snprintf(
        line, sizeof(line),
        "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%llu",
        (void *)o, refcount, obj_enc_name(o), debug_serialized_len(o), lru, idle);
    rw_simple(c->reply, line);
}

static const char *const debug_help_lines[] = {
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
    NULL,
};

/* Copy an argument into a NUL-terminated buffer (truncating). */
static void arg_cstr(const rt_arg *a, char *buf, size_t cap) {
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    memcpy(buf, a->p, n);
    buf[n] = '\0';
}

/* DEBUG OBJECT key | SLEEP seconds | SET-ACTIVE-EXPIRE 0|1 | HELP. Numbers
 * are read leniently (strtod/atoi), as Redis reads them. */
void cmd_debug(rt_ctx *c) {
    const rt_arg *sub = &c->argv[1];
    char num[64];
    if (c->argc == 2 && arg_is(sub, "help")) {
        long n = 0;
        while (debug_help_lines[n])
            n++;
        rw_array(c->reply, n);
        for (long i = 0; i < n; i++)
            rw_simple(c->reply, debug_help_lines[i]);
    } else if (c->argc == 3 && arg_is(sub, "object")) {
        debug_object(c);
    } else if (c->argc == 3 && arg_is(sub, "sleep")) {
        arg_cstr(&c->argv[2], num, sizeof(num));
        double secs = strtod(num, NULL);
        if (secs > 0 && isfinite(secs)) {
            struct timespec ts;
            ts.tv_sec = (time_t)secs;
            ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
            if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
        rw_ok(c->reply);
    } else if (c->argc == 3 && arg_is(sub, "log")) {
        /* A marker in the server log (test suites bracket each test with one). */
        log_msg(LL_WARNING, "DEBUG LOG: %.*s", (int)(c->argv[2].len > 900 ? 900 : c->argv[2].len),
                c->argv[2].p);
        rw_ok(c->reply);
    } else if (c->argc == 3 && arg_is(sub, "quicklist-packed-threshold")) {
        unsigned long long sz;
        arg_cstr(&c->argv[2], num, sizeof(num));
        if (c->argv[2].len >= sizeof(num) || !config_parse_mem(num, &sz) ||
            !list_set_packed_threshold(sz))
            rw_error(c->reply,
                     "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        else
            rw_ok(c->reply);
    } else if (c->argc == 3 && arg_is(sub, "set-active-expire")) {
        arg_cstr(&c->argv[2], num, sizeof(num));
        int on = atoi(num);
        rt_broadcast(c->shard, debug_set_active_expire, (void *)(intptr_t)on, NULL);
        rw_ok(c->reply);
    } else {
        int n = sub->len > 128 ? 128 : (int)sub->len;
        rw_errorf(c->reply,
                  "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                  n, sub->p);
    }
}
