/* config.c -- percore's configuration: the table of every Redis 7.0.15
 * parameter (name, alias, type, limits, default, flags), the redis.conf
 * parser, `--name value` command-line directives, CONFIG GET/SET value
 * handling with Redis's exact texts, and CONFIG REWRITE.
 *
 * Every value passes through one canonical text form (what CONFIG GET
 * shows): parsing a directive produces it, and storing it either fills the
 * matching field of `struct config` or keeps the text in the private
 * `struct config_extra`. Pure code with no shared state: each shard owns its
 * own `config`, and these functions run on whichever thread owns the copy
 * they are given (startup thread, then each shard's thread).
 */
#include "config.h"
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/util.h"

#define CONFIG_VERSION_BANNER "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"

enum { T_BOOL, T_INT, T_MEM, T_ENUM, T_STR, T_SPECIAL };

/* Parameters whose syntax is not one of the standard types. */
enum {
    SP_NONE,
    SP_BIND,      /* up to 16 addresses */
    SP_OBUF,      /* client-output-buffer-limit: class hard soft secs ... */
    SP_PCT,       /* latency-tracking-info-percentiles: doubles in [0,100] */
    SP_MAXMEMCLI, /* maxmemory-clients: memory or N% */
    SP_NOTIFY,    /* notify-keyspace-events flag letters */
    SP_OOMVALS,   /* three ints in [-2000, 2000] */
    SP_REPLICAOF, /* "host port" or "no one" */
    SP_SAVE,      /* seconds/changes pairs */
    SP_UNIXPERM,  /* octal permissions */
    SP_PROCTITLE, /* template with {variables} */
    SP_HOSTNAME,  /* cluster-announce-hostname */
    SP_SHUTDOWN,  /* shutdown-on-sig*: set of default/save/nosave/now/force */
};

#define CF_IMMUTABLE 1 /* CONFIG SET refuses: "can't set immutable config" */
#define CF_PROTECTED 2 /* CONFIG SET refuses: "can't set protected config" */
#define CF_HIDDEN 4    /* only an exact name finds it in CONFIG GET */

typedef struct cfg_def {
    const char *name;
    const char *alias; /* old name accepted everywhere, or NULL */
    int type;          /* T_* */
    int special;       /* SP_* when type is T_SPECIAL */
    int flags;         /* CF_* */
    long long min;     /* T_INT / T_MEM limits */
    unsigned long long max;
    const char *const *enums; /* T_ENUM names, NULL-terminated, in Redis's order */
    const char *def;          /* default, in canonical text form */
} cfg_def;

#define ENUM(...) ((const char *const[]){__VA_ARGS__, NULL})
#define B(n, a, d, f)                                                                              \
    { n, a, T_BOOL, SP_NONE, f, 0, 0, NULL, d }
#define I(n, a, lo, hi, d, f)                                                                      \
    { n, a, T_INT, SP_NONE, f, lo, hi, NULL, d }
#define M(n, a, lo, hi, d, f)                                                                      \
    { n, a, T_MEM, SP_NONE, f, lo, hi, NULL, d }
#define E(n, a, en, d, f)                                                                          \
    { n, a, T_ENUM, SP_NONE, f, 0, 0, en, d }
#define S(n, a, d, f)                                                                              \
    { n, a, T_STR, SP_NONE, f, 0, 0, NULL, d }
#define X(n, a, sp, d, f)                                                                          \
    { n, a, T_SPECIAL, sp, f, 0, 0, NULL, d }

/* The table, produced with tools/gen_config_names.sh against redis-server
 * 7.0.15 and then annotated. threads and io-engine are percore's own. */
static const cfg_def cfg_defs[] = {
    E("acl-pubsub-default", NULL, ENUM("allchannels", "resetchannels"), "resetchannels", 0),
    S("aclfile", NULL, "", CF_IMMUTABLE),
    I("acllog-max-len", NULL, 0, LLONG_MAX, "128", 0),
    I("active-defrag-cycle-max", NULL, 1, 99, "25", 0),
    I("active-defrag-cycle-min", NULL, 1, 99, "1", 0),
    M("active-defrag-ignore-bytes", NULL, 1, LLONG_MAX, "104857600", 0),
    I("active-defrag-max-scan-fields", NULL, 1, LLONG_MAX, "1000", 0),
    I("active-defrag-threshold-lower", NULL, 0, 1000, "10", 0),
    I("active-defrag-threshold-upper", NULL, 0, 1000, "100", 0),
    I("active-expire-effort", NULL, 1, 10, "1", 0),
    B("activedefrag", NULL, "no", 0),
    B("activerehashing", NULL, "yes", 0),
    B("always-show-logo", NULL, "no", CF_IMMUTABLE),
    B("aof-disable-auto-gc", NULL, "no", 0),
    B("aof-load-truncated", NULL, "yes", 0),
    B("aof-rewrite-incremental-fsync", NULL, "yes", 0),
    B("aof-timestamp-enabled", NULL, "no", 0),
    B("aof-use-rdb-preamble", NULL, "yes", 0),
    S("aof_rewrite_cpulist", NULL, "", CF_IMMUTABLE),
    S("appenddirname", NULL, "appendonlydir", CF_IMMUTABLE),
    S("appendfilename", NULL, "appendonly.aof", CF_IMMUTABLE),
    E("appendfsync", NULL, ENUM("everysec", "always", "no"), "everysec", 0),
    B("appendonly", NULL, "no", 0),
    M("auto-aof-rewrite-min-size", NULL, 0, LLONG_MAX, "67108864", 0),
    I("auto-aof-rewrite-percentage", NULL, 0, INT_MAX, "100", 0),
    S("bgsave_cpulist", NULL, "", CF_IMMUTABLE),
    X("bind", NULL, SP_BIND, "* -::*", 0),
    S("bind-source-addr", NULL, "", 0),
    S("bio_cpulist", NULL, "", CF_IMMUTABLE),
    I("busy-reply-threshold", "lua-time-limit", 0, LLONG_MAX, "5000", 0),
    X("client-output-buffer-limit", NULL, SP_OBUF,
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 0),
    M("client-query-buffer-limit", NULL, 1048576, LLONG_MAX, "1073741824", 0),
    B("cluster-allow-pubsubshard-when-down", NULL, "yes", 0),
    B("cluster-allow-reads-when-down", NULL, "no", 0),
    B("cluster-allow-replica-migration", NULL, "yes", 0),
    I("cluster-announce-bus-port", NULL, 0, 65535, "0", 0),
    X("cluster-announce-hostname", NULL, SP_HOSTNAME, "", 0),
    S("cluster-announce-ip", NULL, "", 0),
    I("cluster-announce-port", NULL, 0, 65535, "0", 0),
    I("cluster-announce-tls-port", NULL, 0, 65535, "0", 0),
    S("cluster-config-file", NULL, "nodes.conf", CF_IMMUTABLE),
    B("cluster-enabled", NULL, "no", CF_IMMUTABLE),
    M("cluster-link-sendbuf-limit", NULL, 0, ULLONG_MAX, "0", 0),
    I("cluster-migration-barrier", NULL, 0, INT_MAX, "1", 0),
    I("cluster-node-timeout", NULL, 0, LLONG_MAX, "15000", 0),
    I("cluster-port", NULL, 0, 65535, "0", CF_IMMUTABLE),
    E("cluster-preferred-endpoint-type", NULL, ENUM("ip", "hostname", "unknown-endpoint"), "ip", 0),
    B("cluster-replica-no-failover", "cluster-slave-no-failover", "no", 0),
    I("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, INT_MAX, "10", 0),
    B("cluster-require-full-coverage", NULL, "yes", 0),
    B("crash-log-enabled", NULL, "yes", 0),
    B("crash-memcheck-enabled", NULL, "yes", 0),
    B("daemonize", NULL, "no", CF_IMMUTABLE),
    I("databases", NULL, 1, INT_MAX, "16", CF_IMMUTABLE),
    S("dbfilename", NULL, "dump.rdb", CF_PROTECTED),
    S("dir", NULL, "", CF_PROTECTED),
    B("disable-thp", NULL, "yes", CF_IMMUTABLE),
    B("dynamic-hz", NULL, "yes", 0),
    E("enable-debug-command", NULL, ENUM("no", "yes", "local"), "no", CF_IMMUTABLE),
    E("enable-module-command", NULL, ENUM("no", "yes", "local"), "no", CF_IMMUTABLE),
    E("enable-protected-configs", NULL, ENUM("no", "yes", "local"), "no", CF_IMMUTABLE),
    I("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, LLONG_MAX, "512", 0),
    M("hash-max-listpack-value", "hash-max-ziplist-value", 0, LLONG_MAX, "64", 0),
    M("hll-sparse-max-bytes", NULL, 0, LLONG_MAX, "3000", 0),
    I("hz", NULL, 0, INT_MAX, "10", 0),
    S("ignore-warnings", NULL, "", 0),
    E("io-engine", NULL, ENUM("auto", "io_uring", "epoll"), "auto", CF_IMMUTABLE),
    I("io-threads", NULL, 1, 128, "1", CF_IMMUTABLE),
    B("io-threads-do-reads", NULL, "no", CF_IMMUTABLE),
    B("jemalloc-bg-thread", NULL, "yes", 0),
    I("key-load-delay", NULL, INT_MIN, INT_MAX, "0", CF_HIDDEN),
    I("latency-monitor-threshold", NULL, 0, LLONG_MAX, "0", 0),
    B("latency-tracking", NULL, "yes", 0),
    X("latency-tracking-info-percentiles", NULL, SP_PCT, "50 99 99.9", 0),
    B("lazyfree-lazy-eviction", NULL, "no", 0),
    B("lazyfree-lazy-expire", NULL, "no", 0),
    B("lazyfree-lazy-server-del", NULL, "no", 0),
    B("lazyfree-lazy-user-del", NULL, "no", 0),
    B("lazyfree-lazy-user-flush", NULL, "no", 0),
    I("lfu-decay-time", NULL, 0, INT_MAX, "1", 0),
    I("lfu-log-factor", NULL, 0, INT_MAX, "10", 0),
    I("list-compress-depth", NULL, 0, INT_MAX, "0", 0),
    I("list-max-listpack-size", "list-max-ziplist-size", INT_MIN, INT_MAX, "-2", 0),
    I("loading-process-events-interval-bytes", NULL, 1024, INT_MAX, "2097152", CF_HIDDEN),
    S("logfile", NULL, "", CF_IMMUTABLE),
    E("loglevel", NULL, ENUM("debug", "verbose", "notice", "warning"), "notice", 0),
    B("lua-enable-deprecated-api", NULL, "no", CF_IMMUTABLE | CF_HIDDEN),
    S("masterauth", NULL, "", 0),
    S("masteruser", NULL, "", 0),
    I("maxclients", NULL, 1, UINT_MAX, "10000", 0),
    M("maxmemory", NULL, 0, ULLONG_MAX, "0", 0),
    X("maxmemory-clients", NULL, SP_MAXMEMCLI, "0", 0),
    I("maxmemory-eviction-tenacity", NULL, 0, 100, "10", 0),
    E("maxmemory-policy", NULL,
      ENUM("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
           "allkeys-lfu", "allkeys-random", "noeviction"),
      "noeviction", 0),
    I("maxmemory-samples", NULL, 1, INT_MAX, "5", 0),
    I("min-replicas-max-lag", "min-slaves-max-lag", 0, INT_MAX, "10", 0),
    I("min-replicas-to-write", "min-slaves-to-write", 0, INT_MAX, "0", 0),
    B("no-appendfsync-on-rewrite", NULL, "no", 0),
    X("notify-keyspace-events", NULL, SP_NOTIFY, "", 0),
    E("oom-score-adj", NULL, ENUM("no", "yes", "relative", "absolute"), "no", 0),
    X("oom-score-adj-values", NULL, SP_OOMVALS, "0 200 800", 0),
    S("pidfile", NULL, "", CF_IMMUTABLE),
    I("port", NULL, 0, 65535, "6379", 0),
    X("proc-title-template", NULL, SP_PROCTITLE, "{title} {listen-addr} {server-mode}", 0),
    E("propagation-error-behavior", NULL, ENUM("ignore", "panic", "panic-on-replicas"), "ignore",
      0),
    B("protected-mode", NULL, "yes", 0),
    M("proto-max-bulk-len", NULL, 1048576, LLONG_MAX, "536870912", 0),
    B("rdb-del-sync-files", NULL, "no", 0),
    I("rdb-key-save-delay", NULL, INT_MIN, INT_MAX, "0", CF_HIDDEN),
    B("rdb-save-incremental-fsync", NULL, "yes", 0),
    B("rdbchecksum", NULL, "yes", CF_IMMUTABLE),
    B("rdbcompression", NULL, "yes", 0),
    M("repl-backlog-size", NULL, 1, LLONG_MAX, "1048576", 0),
    I("repl-backlog-ttl", NULL, 0, LLONG_MAX, "3600", 0),
    B("repl-disable-tcp-nodelay", NULL, "no", 0),
    E("repl-diskless-load", NULL, ENUM("disabled", "on-empty-db", "swapdb"), "disabled", 0),
    B("repl-diskless-sync", NULL, "yes", 0),
    I("repl-diskless-sync-delay", NULL, 0, INT_MAX, "5", 0),
    I("repl-diskless-sync-max-replicas", NULL, 0, INT_MAX, "0", 0),
    I("repl-ping-replica-period", "repl-ping-slave-period", 1, INT_MAX, "10", 0),
    I("repl-timeout", NULL, 1, INT_MAX, "60", 0),
    S("replica-announce-ip", "slave-announce-ip", "", 0),
    I("replica-announce-port", "slave-announce-port", 0, 65535, "0", 0),
    B("replica-announced", NULL, "yes", 0),
    B("replica-ignore-disk-write-errors", NULL, "no", 0),
    B("replica-ignore-maxmemory", "slave-ignore-maxmemory", "yes", 0),
    B("replica-lazy-flush", "slave-lazy-flush", "no", 0),
    I("replica-priority", "slave-priority", 0, INT_MAX, "100", 0),
    B("replica-read-only", "slave-read-only", "yes", 0),
    B("replica-serve-stale-data", "slave-serve-stale-data", "yes", 0),
    X("replicaof", "slaveof", SP_REPLICAOF, "", CF_IMMUTABLE),
    S("requirepass", NULL, "", 0),
    E("sanitize-dump-payload", NULL, ENUM("no", "yes", "clients"), "no", 0),
    X("save", NULL, SP_SAVE, "3600 1 300 100 60 10000", 0),
    S("server_cpulist", NULL, "", CF_IMMUTABLE),
    I("set-max-intset-entries", NULL, 0, LLONG_MAX, "512", 0),
    B("set-proc-title", NULL, "yes", CF_IMMUTABLE),
    X("shutdown-on-sigint", NULL, SP_SHUTDOWN, "default", 0),
    X("shutdown-on-sigterm", NULL, SP_SHUTDOWN, "default", 0),
    I("shutdown-timeout", NULL, 0, INT_MAX, "10", 0),
    I("slowlog-log-slower-than", NULL, -1, LLONG_MAX, "10000", 0),
    I("slowlog-max-len", NULL, 0, LLONG_MAX, "128", 0),
    I("socket-mark-id", NULL, 0, UINT_MAX, "0", CF_IMMUTABLE),
    B("stop-writes-on-bgsave-error", NULL, "yes", 0),
    M("stream-node-max-bytes", NULL, 0, LLONG_MAX, "4096", 0),
    I("stream-node-max-entries", NULL, 0, LLONG_MAX, "100", 0),
    E("supervised", NULL, ENUM("upstart", "systemd", "auto", "no"), "no", CF_IMMUTABLE),
    B("syslog-enabled", NULL, "no", CF_IMMUTABLE),
    E("syslog-facility", NULL,
      ENUM("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"),
      "local0", CF_IMMUTABLE),
    S("syslog-ident", NULL, "redis", CF_IMMUTABLE),
    I("tcp-backlog", NULL, 0, INT_MAX, "511", CF_IMMUTABLE),
    I("tcp-keepalive", NULL, 0, INT_MAX, "300", 0),
    I("threads", NULL, 1, 1024, "1", CF_IMMUTABLE),
    I("timeout", NULL, 0, INT_MAX, "0", 0),
    E("tls-auth-clients", NULL, ENUM("no", "yes", "optional"), "yes", 0),
    S("tls-ca-cert-dir", NULL, "", 0),
    S("tls-ca-cert-file", NULL, "", 0),
    S("tls-cert-file", NULL, "", 0),
    S("tls-ciphers", NULL, "", 0),
    S("tls-ciphersuites", NULL, "", 0),
    S("tls-client-cert-file", NULL, "", 0),
    S("tls-client-key-file", NULL, "", 0),
    S("tls-client-key-file-pass", NULL, "", 0),
    B("tls-cluster", NULL, "no", 0),
    S("tls-dh-params-file", NULL, "", 0),
    S("tls-key-file", NULL, "", 0),
    S("tls-key-file-pass", NULL, "", 0),
    I("tls-port", NULL, 0, 65535, "0", 0),
    B("tls-prefer-server-ciphers", NULL, "no", 0),
    S("tls-protocols", NULL, "", 0),
    B("tls-replication", NULL, "no", 0),
    I("tls-session-cache-size", NULL, 0, INT_MAX, "20480", 0),
    I("tls-session-cache-timeout", NULL, 0, INT_MAX, "300", 0),
    B("tls-session-caching", NULL, "yes", 0),
    I("tracking-table-max-keys", NULL, 0, LLONG_MAX, "1000000", 0),
    S("unixsocket", NULL, "", CF_IMMUTABLE),
    X("unixsocketperm", NULL, SP_UNIXPERM, "0", CF_IMMUTABLE),
    B("use-exit-on-panic", NULL, "no", CF_HIDDEN),
    I("watchdog-period", NULL, 0, INT_MAX, "0", CF_HIDDEN),
    I("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, LLONG_MAX, "128", 0),
    M("zset-max-listpack-value", "zset-max-ziplist-value", 0, LLONG_MAX, "64", 0),
};
#define NDEFS ((int)(sizeof(cfg_defs) / sizeof(cfg_defs[0])))

/* Parameters that live in a field of `struct config`. */
enum { FK_INT, FK_LL, FK_BOOL, FK_STR, FK_BIND, FK_OBUF };
static const struct {
    const char *name;
    size_t off;
    int kind;
} cfg_fields[] = {
    {"port", offsetof(config, port), FK_INT},
    {"bind", 0, FK_BIND},
    {"tcp-backlog", offsetof(config, tcp_backlog), FK_INT},
    {"timeout", offsetof(config, timeout), FK_INT},
    {"tcp-keepalive", offsetof(config, tcp_keepalive), FK_INT},
    {"maxclients", offsetof(config, maxclients), FK_INT},
    {"threads", offsetof(config, threads), FK_INT},
    {"hz", offsetof(config, hz), FK_INT},
    {"io-engine", offsetof(config, io_engine), FK_STR},
    {"server_cpulist", offsetof(config, server_cpulist), FK_STR},
    {"databases", offsetof(config, databases), FK_INT},
    {"maxmemory", offsetof(config, maxmemory), FK_LL},
    {"proto-max-bulk-len", offsetof(config, proto_max_bulk_len), FK_LL},
    {"client-query-buffer-limit", offsetof(config, client_query_buffer_limit), FK_LL},
    {"client-output-buffer-limit", 0, FK_OBUF},
    {"requirepass", offsetof(config, requirepass), FK_STR},
    {"dir", offsetof(config, dir), FK_STR},
    {"dbfilename", offsetof(config, dbfilename), FK_STR},
    {"save", offsetof(config, save), FK_STR},
    {"appendonly", offsetof(config, appendonly), FK_BOOL},
    {"appendfsync", offsetof(config, appendfsync), FK_STR},
    {"appendfilename", offsetof(config, appendfilename), FK_STR},
    {"loglevel", offsetof(config, loglevel), FK_STR},
    {"logfile", offsetof(config, logfile), FK_STR},
    {"daemonize", offsetof(config, daemonize), FK_BOOL},
    {"pidfile", offsetof(config, pidfile), FK_STR},
};
#define NFIELDS ((int)(sizeof(cfg_fields) / sizeof(cfg_fields[0])))

/* Everything not in a field: canonical text per table entry (NULL for the
 * entries that have a field). */
struct config_extra {
    char *val[NDEFS];
    int save_seen; /* a `save` directive was loaded: later ones append */
};

static int def_field[NDEFS]; /* index into cfg_fields, or -1 */
static pthread_once_t def_once = PTHREAD_ONCE_INIT;

static void def_init(void) {
    for (int i = 0; i < NDEFS; i++) {
        def_field[i] = -1;
        for (int f = 0; f < NFIELDS; f++)
            if (strcmp(cfg_defs[i].name, cfg_fields[f].name) == 0) def_field[i] = f;
    }
}

static int field_of(int i) {
    pthread_once(&def_once, def_init);
    return def_field[i];
}

static char *xstrdup(const char *s) {
    char *p = strdup(s ? s : "");
    if (!p) abort();
    return p;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

/* Find a parameter by name or alias (any case). Returns its index or -1;
 * *spelling gets the table's spelling of the name that matched. */
static int def_find(const char *name, const char **spelling) {
    for (int i = 0; i < NDEFS; i++) {
        if (strcasecmp(cfg_defs[i].name, name) == 0) {
            if (spelling) *spelling = cfg_defs[i].name;
            return i;
        }
        if (cfg_defs[i].alias && strcasecmp(cfg_defs[i].alias, name) == 0) {
            if (spelling) *spelling = cfg_defs[i].alias;
            return i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Small text helpers. */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) {
    sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...) {
    char *t;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    sb_add(b, t, (size_t)n);
    free(t);
}

/* A detached string (caller frees); "" when nothing was added. */
static char *sb_take(sbuf *b) {
    if (!b->p) return xstrdup("");
    return b->p;
}

/* Quoted form of s, like Redis's sdscatrepr: "..." with \n, \r, \t, \a,
 * \b, \\, \" and \xHH escapes. */
static void sb_repr(sbuf *b, const char *s, size_t n) {
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '\\':
            sb_str(b, "\\\\");
            break;
        case '"':
            sb_str(b, "\\\"");
            break;
        case '\n':
            sb_str(b, "\\n");
            break;
        case '\r':
            sb_str(b, "\\r");
            break;
        case '\t':
            sb_str(b, "\\t");
            break;
        case '\a':
            sb_str(b, "\\a");
            break;
        case '\b':
            sb_str(b, "\\b");
            break;
        default:
            if (isprint(ch))
                sb_add(b, (const char *)&ch, 1);
            else
                sb_fmt(b, "\\x%02x", ch);
        }
    }
    sb_add(b, "\"", 1);
}

/* A list of owned strings. */
typedef struct strv {
    int n, cap;
    char **v;
} strv;

static void sv_push(strv *a, const char *s, size_t n) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->v = realloc(a->v, sizeof(char *) * (size_t)a->cap);
        if (!a->v) abort();
    }
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    a->v[a->n++] = p;
}

static void sv_free(strv *a) {
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* Split on every single space, as Redis does for CONFIG SET of a
 * multi-argument parameter: "" gives no token, "a  b" gives an empty one. */
static void split_spaces(const char *s, strv *out) {
    if (!*s) return;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == ' ' || *p == '\0') {
            sv_push(out, start, (size_t)(p - start));
            if (*p == '\0') break;
            start = p + 1;
        }
    }
}

typedef struct split_ctx {
    char *buf;
    strv *out;
} split_ctx;

/* Split a configuration line into arguments with redis.conf quoting rules
 * (sdssplitargs): blanks separate, "..." takes \-escapes including \xHH,
 * '...' takes only \'. A closing quote must be followed by a blank.
 * Returns 0, or -1 for unbalanced quotes (out is then freed). */
static void split_emit(void *ud, size_t off, size_t len) {
    split_ctx *sc = ud;
    sv_push(sc->out, sc->buf + off, len);
}

static int split_args(const char *line, strv *out) {
    size_t n = strlen(line);
    split_ctx sc = {xmalloc(n + 1), out};
    int rc = resp_split_args(line, n, sc.buf, split_emit, &sc);
    free(sc.buf);
    if (rc < 0) sv_free(out);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Value parsing: each returns 0 and a malloc'ed canonical text in *out, or
 * -1 with Redis's reason (no prefix) in err. */

/* Redis's string2ll rules: no '+', no spaces, no leading zeros. */
static int parse_ll(const char *s, long long *out) {
    return util_str2ll(s, strlen(s), out);
}

/* Redis's memtoull: digits then an optional unit b, k, kb, m, mb, g, gb
 * (any case). "k" alone is 0; overflow saturates like strtoull. */
int config_parse_mem(const char *s, unsigned long long *out) {
    size_t n = strlen(s), digits = 0;
    while (digits < n && isdigit((unsigned char)s[digits]))
        digits++;
    const char *u = s + digits;
    unsigned long long mul;
    if (!*u || !strcasecmp(u, "b"))
        mul = 1;
    else if (!strcasecmp(u, "k"))
        mul = 1000;
    else if (!strcasecmp(u, "kb"))
        mul = 1024;
    else if (!strcasecmp(u, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(u, "g"))
        mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb"))
        mul = 1024ULL * 1024 * 1024;
    else
        return 0;
    unsigned long long v = 0;
    int ovf = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            ovf = 1;
        else
            v = v * 10 + d;
    }
    if (ovf) v = ULLONG_MAX;
    *out = v * mul;
    return 1;
}

static int reason(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reason(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_multi_arg(const cfg_def *d) {
    if (d->type != T_SPECIAL) return 0;
    switch (d->special) {
    case SP_BIND:
    case SP_OBUF:
    case SP_PCT:
    case SP_OOMVALS:
    case SP_REPLICAOF:
    case SP_SAVE:
    case SP_SHUTDOWN:
        return 1;
    default:
        return 0;
    }
}

/* The three client classes of client-output-buffer-limit. */
typedef struct obuf_lim {
    unsigned long long hard, soft;
    long long secs;
} obuf_lim;

static void obuf_from_text(const char *s, obuf_lim lim[3]) {
    memset(lim, 0, sizeof(obuf_lim) * 3);
    strv a = {0};
    split_spaces(s, &a);
    for (int i = 0; i + 3 < a.n; i += 4) {
        int cls = !strcasecmp(a.v[i], "normal") ? 0 : !strcasecmp(a.v[i], "pubsub") ? 2 : 1;
        lim[cls].hard = strtoull(a.v[i + 1], NULL, 10);
        lim[cls].soft = strtoull(a.v[i + 2], NULL, 10);
        lim[cls].secs = strtoll(a.v[i + 3], NULL, 10);
    }
    sv_free(&a);
}

static char *obuf_to_text(const obuf_lim lim[3]) {
    sbuf b = {0};
    sb_fmt(&b, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld", lim[0].hard,
           lim[0].soft, lim[0].secs, lim[1].hard, lim[1].soft, lim[1].secs, lim[2].hard,
           lim[2].soft, lim[2].secs);
    return sb_take(&b);
}

static char *format_value(const config *c, int i);

/* Notify-keyspace-events flag bits, in Redis's output order. */
static const char notify_letters[] = "g$lshzxetd"; /* the set 'A' stands for */

static int parse_notify(const char *s, char **out, char *err, size_t errlen) {
    int all = 0, n = 0, k = 0, e = 0, m = 0;
    unsigned bits = 0;
    for (const char *p = s; *p; p++) {
        const char *pos = *p ? strchr(notify_letters, *p) : NULL;
        if (*p == 'A')
            all = 1;
        else if (pos)
            bits |= 1u << (pos - notify_letters);
        else if (*p == 'n')
            n = 1;
        else if (*p == 'K')
            k = 1;
        else if (*p == 'E')
            e = 1;
        else if (*p == 'm')
            m = 1;
        else
            return reason(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
    if (all) bits = (1u << 10) - 1;
    sbuf b = {0};
    if (bits == (1u << 10) - 1) {
        sb_str(&b, "A");
    } else {
        for (int i = 0; i < 10; i++)
            if (bits & (1u << i)) sb_add(&b, &notify_letters[i], 1);
        if (n) sb_str(&b, "n");
    }
    if (k) sb_str(&b, "K");
    if (e) sb_str(&b, "E");
    if (m) sb_str(&b, "m");
    *out = sb_take(&b);
    return 0;
}

/* proc-title-template: every {variable} must be known, and the template
 * must not expand to blanks when the title itself is empty. */
static int valid_proc_title(const config *c, const char *t) {
    static const char *const vars[] = {"title",    "listen-addr", "server-mode", "port",
                                       "tls-port", "unixsocket",  "config-file", NULL};
    int nonblank = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e) return 0;
            size_t n = (size_t)(e - p - 1);
            int found = -1;
            for (int v = 0; vars[v]; v++)
                if (strlen(vars[v]) == n && !strncmp(vars[v], p + 1, n)) found = v;
            if (found < 0) return 0;
            if (found == 5) {
                int ui = def_find("unixsocket", NULL);
                const char *us = c->extra ? c->extra->val[ui] : "";
                if (us && *us) nonblank = 1;
            } else if (found != 0 && found != 2) {
                nonblank = 1;
            }
            p = e;
        } else if (*p == '}') {
            return 0;
        } else if (*p != ' ') {
            nonblank = 1;
        }
    }
    return nonblank;
}

/* Parse the arguments of parameter i into its canonical text. `loading`
 * is set while reading a file or the command line (save lines append). */
static int parse_value(const config *c, int i, int argc, char **argv, int loading, char **out,
                       char *err, size_t errlen) {
    const cfg_def *d = &cfg_defs[i];
    if (!is_multi_arg(d) && argc != 1) return reason(err, errlen, "wrong number of arguments");
    const char *v = argc ? argv[0] : "";
    switch (d->type) {
    case T_BOOL:
        if (!strcasecmp(v, "yes"))
            *out = xstrdup("yes");
        else if (!strcasecmp(v, "no"))
            *out = xstrdup("no");
        else
            return reason(err, errlen, "argument must be 'yes' or 'no'");
        return 0;
    case T_INT: {
        long long ll;
        if (!parse_ll(v, &ll))
            return reason(err, errlen, "argument couldn't be parsed into an integer");
        if (ll < d->min || (ll >= 0 && (unsigned long long)ll > d->max))
            return reason(err, errlen, "argument must be between %lld and %llu inclusive", d->min,
                          d->max);
        if (!strcmp(d->name, "hz")) ll = ll < 1 ? 1 : ll > 500 ? 500 : ll;
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%lld", ll);
        *out = xstrdup(tmp);
        return 0;
    }
    case T_MEM: {
        unsigned long long u;
        if (!config_parse_mem(v, &u)) return reason(err, errlen, "argument must be a memory value");
        if (u < (unsigned long long)d->min || u > d->max)
            return reason(err, errlen, "argument must be between %lld and %llu inclusive", d->min,
                          d->max);
        if (!strcmp(d->name, "repl-backlog-size") && u < 16384) u = 16384;
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%llu", u);
        *out = xstrdup(tmp);
        return 0;
    }
    case T_ENUM: {
        for (int k = 0; d->enums[k]; k++) {
            if (!strcasecmp(v, d->enums[k])) {
                /* oom-score-adj: "relative" is another name for "yes". */
                *out = xstrdup(!strcmp(d->enums[k], "relative") ? "yes" : d->enums[k]);
                return 0;
            }
        }
        sbuf b = {0};
        for (int k = 0; d->enums[k]; k++) {
            if (k) sb_str(&b, ", ");
            sb_str(&b, d->enums[k]);
        }
        reason(err, errlen, "argument(s) must be one of the following: %s", b.p);
        free(b.p);
        return -1;
    }
    case T_STR:
        *out = xstrdup(v);
        return 0;
    default:
        break;
    }

    sbuf b = {0};
    switch (d->special) {
    case SP_SAVE: {
        if (argc == 1 && !*argv[0]) argc = 0; /* save "" */
        if (argc % 2) return reason(err, errlen, "Invalid save parameters");
        for (int k = 0; k < argc; k++) {
            char *end;
            errno = 0;
            long long x = strtoll(argv[k], &end, 10);
            if (end == argv[k] || *end || (k % 2 == 0 && x < 1) || (k % 2 == 1 && x < 0)) {
                free(b.p);
                return reason(err, errlen, "Invalid save parameters");
            }
            sb_fmt(&b, "%s%lld", k ? " " : "", x);
        }
        if (loading && argc && c->extra && c->extra->save_seen && c->save && *c->save) {
            sbuf all = {0};
            sb_str(&all, c->save);
            sb_str(&all, " ");
            sb_str(&all, b.p);
            free(b.p);
            b = all;
        }
        *out = sb_take(&b);
        return 0;
    }
    case SP_BIND:
        if (argc > CONFIG_MAX_BIND)
            return reason(err, errlen, "Too many bind addresses specified.");
        for (int k = 0; k < argc; k++) {
            if (!*argv[k]) {
                free(b.p);
                return reason(err, errlen, "Failed to bind to specified addresses.");
            }
            if (k) sb_str(&b, " ");
            sb_str(&b, argv[k]);
        }
        *out = sb_take(&b);
        return 0;
    case SP_OBUF: {
        if (argc % 4)
            return reason(err, errlen, "Wrong number of arguments in buffer limit configuration.");
        obuf_lim lim[3];
        lim[0] = (obuf_lim){(unsigned long long)c->obuf_normal_hard,
                            (unsigned long long)c->obuf_normal_soft, c->obuf_normal_soft_secs};
        lim[1] = (obuf_lim){(unsigned long long)c->obuf_replica_hard,
                            (unsigned long long)c->obuf_replica_soft, c->obuf_replica_soft_secs};
        lim[2] = (obuf_lim){(unsigned long long)c->obuf_pubsub_hard,
                            (unsigned long long)c->obuf_pubsub_soft, c->obuf_pubsub_soft_secs};
        for (int k = 0; k < argc; k += 4) {
            int cls;
            if (!strcasecmp(argv[k], "normal"))
                cls = 0;
            else if (!strcasecmp(argv[k], "slave") || !strcasecmp(argv[k], "replica"))
                cls = 1;
            else if (!strcasecmp(argv[k], "pubsub"))
                cls = 2;
            else
                return reason(err, errlen,
                              "Invalid client class specified in buffer limit configuration.");
            unsigned long long h, s;
            char *end;
            long long secs = strtoll(argv[k + 3], &end, 10);
            if (!config_parse_mem(argv[k + 1], &h) || !config_parse_mem(argv[k + 2], &s) ||
                end == argv[k + 3] || *end || secs < 0)
                return reason(
                    err, errlen,
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            lim[cls] = (obuf_lim){h, s, secs};
        }
        *out = obuf_to_text(lim);
        return 0;
    }
    case SP_PCT:
        for (int k = 0; k < argc; k++) {
            char *end;
            double x = strtod(argv[k], &end);
            if (end == argv[k] || *end || isnan(x) || isspace((unsigned char)argv[k][0])) {
                free(b.p);
                return reason(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
            }
            if (x < 0.0 || x > 100.0) {
                free(b.p);
                return reason(
                    err, errlen,
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
            }
            char tmp[400];
            snprintf(tmp, sizeof(tmp), "%f", x);
            char *dot = strchr(tmp, '.');
            if (dot) {
                char *e = tmp + strlen(tmp) - 1;
                while (e > dot && *e == '0')
                    *e-- = '\0';
                if (e == dot) *e = '\0';
            }
            if (k) sb_str(&b, " ");
            sb_str(&b, tmp);
        }
        *out = sb_take(&b);
        return 0;
    case SP_MAXMEMCLI: {
        size_t n = strlen(v);
        if (n && v[n - 1] == '%') {
            char tmp[64];
            long long pct;
            if (n - 1 >= sizeof(tmp))
                return reason(err, errlen, "argument must be a memory or percent value");
            memcpy(tmp, v, n - 1);
            tmp[n - 1] = '\0';
            if (!parse_ll(tmp, &pct) || pct < 0)
                return reason(err, errlen, "argument must be a memory or percent value");
            if (pct > 100)
                return reason(err, errlen, "percentage argument must be less or equal to 100");
            snprintf(tmp, sizeof(tmp), pct ? "%lld%%" : "%lld", pct);
            *out = xstrdup(tmp);
            return 0;
        }
        unsigned long long u;
        if (!config_parse_mem(v, &u) || u > LLONG_MAX)
            return reason(err, errlen, "argument must be a memory or percent value");
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%llu", u);
        *out = xstrdup(tmp);
        return 0;
    }
    case SP_NOTIFY:
        return parse_notify(v, out, err, errlen);
    case SP_OOMVALS:
        if (argc != 3) return reason(err, errlen, "wrong number of arguments");
        for (int k = 0; k < 3; k++) {
            char *end;
            long x = strtol(argv[k], &end, 10);
            if (end == argv[k] || *end || x < -2000 || x > 2000) {
                free(b.p);
                return reason(
                    err, errlen,
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
            }
            sb_fmt(&b, "%s%ld", k ? " " : "", x);
        }
        *out = sb_take(&b);
        return 0;
    case SP_SHUTDOWN: {
        static const char *const names[] = {"save", "nosave", "now", "force"};
        unsigned fl = 0;
        if (argc == 0)
            return reason(
                err, errlen,
                "argument(s) must be one of the following: default, save, nosave, now, force");
        for (int k = 0; k < argc; k++) {
            int found = !strcasecmp(argv[k], "default") ? -1 : -2;
            for (int j = 0; j < 4 && found == -2; j++)
                if (!strcasecmp(argv[k], names[j])) found = j;
            if (found == -2)
                return reason(
                    err, errlen,
                    "argument(s) must be one of the following: default, save, nosave, now, force");
            if (found >= 0) fl |= 1u << found;
        }
        if ((fl & 3) == 3)
            return reason(err, errlen,
                          "shutdown options SAVE and NOSAVE can't be used simultaneously");
        for (int j = 0; j < 4; j++)
            if (fl & (1u << j)) {
                if (b.len) sb_str(&b, " ");
                sb_str(&b, names[j]);
            }
        if (!fl) sb_str(&b, "default");
        *out = sb_take(&b);
        return 0;
    }
    case SP_REPLICAOF: {
        if (argc != 2) return reason(err, errlen, "wrong number of arguments");
        if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one")) {
            *out = xstrdup("");
            return 0;
        }
        long long port;
        if (!parse_ll(argv[1], &port) || port < 0 || port > 65535)
            return reason(err, errlen, "Invalid master port");
        sb_fmt(&b, "%s %lld", argv[0], port);
        *out = sb_take(&b);
        return 0;
    }
    case SP_UNIXPERM: {
        char *end;
        long x = strtol(v, &end, 8);
        if (end == v || *end || x < 0 || x > 0777)
            return reason(err, errlen, "Invalid socket file permissions");
        char tmp[16];
        snprintf(tmp, sizeof(tmp), "%lo", x);
        *out = xstrdup(tmp);
        return 0;
    }
    case SP_PROCTITLE:
        if (!valid_proc_title(c, v))
            return reason(err, errlen, "template format is invalid or contains unknown variables");
        *out = xstrdup(v);
        return 0;
    case SP_HOSTNAME:
        for (const char *p = v; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
                return reason(
                    err, errlen,
                    "Hostnames may only contain alphanumeric characters, hyphens or dots");
        *out = xstrdup(v);
        return 0;
    default:
        break;
    }
    return reason(err, errlen, "unsupported parameter");
}

/* Store canonical text `v` (borrowed) as the value of parameter i. */
static void store_value(config *c, int i, const char *v) {
    int f = field_of(i);
    if (f < 0) {
        free(c->extra->val[i]);
        c->extra->val[i] = xstrdup(v);
        return;
    }
    char *base = (char *)c;
    switch (cfg_fields[f].kind) {
    case FK_INT:
        *(int *)(base + cfg_fields[f].off) = (int)strtoll(v, NULL, 10);
        break;
    case FK_LL:
        *(long long *)(base + cfg_fields[f].off) = (long long)strtoull(v, NULL, 10);
        break;
    case FK_BOOL:
        *(int *)(base + cfg_fields[f].off) = !strcmp(v, "yes");
        break;
    case FK_STR: {
        char **slot = (char **)(base + cfg_fields[f].off);
        free(*slot);
        *slot = xstrdup(v);
        break;
    }
    case FK_BIND: {
        for (int k = 0; k < c->nbind; k++)
            free(c->bind[k]);
        c->nbind = 0;
        strv a = {0};
        split_spaces(v, &a);
        for (int k = 0; k < a.n && k < CONFIG_MAX_BIND; k++)
            c->bind[c->nbind++] = xstrdup(a.v[k]);
        sv_free(&a);
        break;
    }
    case FK_OBUF: {
        obuf_lim lim[3];
        obuf_from_text(v, lim);
        c->obuf_normal_hard = (long long)lim[0].hard;
        c->obuf_normal_soft = (long long)lim[0].soft;
        c->obuf_normal_soft_secs = (int)lim[0].secs;
        c->obuf_replica_hard = (long long)lim[1].hard;
        c->obuf_replica_soft = (long long)lim[1].soft;
        c->obuf_replica_soft_secs = (int)lim[1].secs;
        c->obuf_pubsub_hard = (long long)lim[2].hard;
        c->obuf_pubsub_soft = (long long)lim[2].soft;
        c->obuf_pubsub_soft_secs = (int)lim[2].secs;
        break;
    }
    }
}

/* The canonical text of parameter i's current value (caller frees). */
static char *format_value(const config *c, int i) {
    int f = field_of(i);
    if (f < 0) return xstrdup(c->extra ? c->extra->val[i] : "");
    const char *base = (const char *)c;
    char tmp[32];
    switch (cfg_fields[f].kind) {
    case FK_INT:
        snprintf(tmp, sizeof(tmp), "%d", *(const int *)(base + cfg_fields[f].off));
        return xstrdup(tmp);
    case FK_LL:
        snprintf(tmp, sizeof(tmp), "%llu",
                 (unsigned long long)*(const long long *)(base + cfg_fields[f].off));
        return xstrdup(tmp);
    case FK_BOOL:
        return xstrdup(*(const int *)(base + cfg_fields[f].off) ? "yes" : "no");
    case FK_STR:
        return xstrdup(*(char *const *)(base + cfg_fields[f].off));
    case FK_BIND: {
        sbuf b = {0};
        for (int k = 0; k < c->nbind; k++) {
            if (k) sb_str(&b, " ");
            sb_str(&b, c->bind[k]);
        }
        return sb_take(&b);
    }
    case FK_OBUF: {
        obuf_lim lim[3] = {
            {(unsigned long long)c->obuf_normal_hard, (unsigned long long)c->obuf_normal_soft,
             c->obuf_normal_soft_secs},
            {(unsigned long long)c->obuf_replica_hard, (unsigned long long)c->obuf_replica_soft,
             c->obuf_replica_soft_secs},
            {(unsigned long long)c->obuf_pubsub_hard, (unsigned long long)c->obuf_pubsub_soft,
             c->obuf_pubsub_soft_secs},
        };
        return obuf_to_text(lim);
    }
    }
    return xstrdup("");
}

/* ---------------------------------------------------------------------- */
/* Lifecycle. */

void config_defaults(config *c) {
    memset(c, 0, sizeof(*c));
    c->extra = calloc(1, sizeof(*c->extra));
    if (!c->extra) abort();
    for (int i = 0; i < NDEFS; i++)
        store_value(c, i, cfg_defs[i].def);
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd))) store_value(c, def_find("dir", NULL), cwd);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (int)n : 1;
}

void config_free(config *c) {
    for (int i = 0; i < NFIELDS; i++) {
        if (cfg_fields[i].kind != FK_STR) continue;
        char **slot = (char **)((char *)c + cfg_fields[i].off);
        free(*slot);
        *slot = NULL;
    }
    for (int k = 0; k < c->nbind; k++)
        free(c->bind[k]);
    c->nbind = 0;
    if (c->extra) {
        for (int i = 0; i < NDEFS; i++)
            free(c->extra->val[i]);
        free(c->extra);
        c->extra = NULL;
    }
}

void config_copy(config *dst, const config *src) {
    *dst = *src;
    for (int i = 0; i < NFIELDS; i++) {
        if (cfg_fields[i].kind != FK_STR) continue;
        char **slot = (char **)((char *)dst + cfg_fields[i].off);
        if (*slot) *slot = xstrdup(*slot);
    }
    for (int k = 0; k < src->nbind; k++)
        dst->bind[k] = xstrdup(src->bind[k]);
    dst->extra = calloc(1, sizeof(*dst->extra));
    if (!dst->extra) abort();
    if (src->extra) {
        dst->extra->save_seen = src->extra->save_seen;
        for (int i = 0; i < NDEFS; i++)
            if (src->extra->val[i]) dst->extra->val[i] = xstrdup(src->extra->val[i]);
    }
}

/* ---------------------------------------------------------------------- */
/* Loading. */

static int load_file_depth(config *c, const char *path, int depth, char *err, size_t errlen);

/* Format the fatal loading error for line `lineno` showing `shown`. */
static int load_error(char *err, size_t errlen, int lineno, const char *shown, const char *why) {
    snprintf(err, errlen,
             CONFIG_VERSION_BANNER "\nReading the configuration file, at line %d\n>>> '%s'\n%s",
             lineno, shown, why);
    return -1;
}

/* Apply one directive (argv[0] is its name). Returns 0; -1 with a reason
 * in why; or -2 when err already holds a complete message (include). */
static int apply_directive(config *c, int argc, char **argv, int depth, char *why, size_t whylen,
                           char *err, size_t errlen) {
    const char *name = argv[0];
    if (!strcasecmp(name, "include") && argc == 2) {
        return load_file_depth(c, argv[1], depth + 1, err, errlen) ? -2 : 0;
    }
    /* Accepted and ignored: file-only directives of features percore does
     * not have, and parameters Redis 7.0 still reads but no longer uses. */
    if ((!strcasecmp(name, "rename-command") && argc == 3) ||
        (!strcasecmp(name, "user") && argc >= 2) ||
        (!strcasecmp(name, "loadmodule") && argc >= 2) ||
        ((!strcasecmp(name, "list-max-ziplist-entries") ||
          !strcasecmp(name, "list-max-ziplist-value") ||
          !strcasecmp(name, "lua-replicate-commands")) &&
         argc == 2))
        return 0;
    int i = def_find(name, NULL);
    if (i < 0) return reason(why, whylen, "Bad directive or wrong number of arguments");
    if (argc < 2) return reason(why, whylen, "wrong number of arguments");
    strv split = {0};
    char **vals = argv + 1;
    int nvals = argc - 1;
    if (is_multi_arg(&cfg_defs[i]) && nvals == 1) {
        split_spaces(argv[1], &split);
        vals = split.v;
        nvals = split.n;
    }
    char *canon = NULL;
    int rc = parse_value(c, i, nvals, vals, 1, &canon, why, whylen);
    sv_free(&split);
    if (rc) return -1;
    store_value(c, i, canon);
    free(canon);
    if (cfg_defs[i].special == SP_SAVE && cfg_defs[i].type == T_SPECIAL) c->extra->save_seen = 1;
    return 0;
}

/* Load configuration text; line numbers start at first_line. */
static int load_text(config *c, const char *text, int depth, char *err, size_t errlen) {
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        char *line = xmalloc(n + 1);
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl ? 1 : 0);
        /* Trim blanks at both ends. */
        char *s = line;
        while (*s && strchr(" \t\r\n", *s))
            s++;
        size_t len = strlen(s);
        while (len && strchr(" \t\r\n", s[len - 1]))
            s[--len] = '\0';
        if (!*s || *s == '#') {
            free(line);
            continue;
        }
        strv a = {0};
        char why[256];
        int rc;
        if (split_args(s, &a) < 0) {
            rc = reason(why, sizeof(why), "Unbalanced quotes in configuration line");
        } else if (a.n == 0) {
            rc = 0;
        } else {
            rc = apply_directive(c, a.n, a.v, depth, why, sizeof(why), err, errlen);
        }
        sv_free(&a);
        if (rc == -1) load_error(err, errlen, lineno, s, why);
        free(line);
        if (rc) return -1;
    }
    return 0;
}

static int load_file_depth(config *c, const char *path, int depth, char *err, size_t errlen) {
    if (depth > 16) {
        snprintf(err, errlen, "Fatal error, too many nested includes at '%s'", path);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Fatal error, can't open config file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    sbuf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sb_add(&b, chunk, n);
    fclose(f);
    char *text = sb_take(&b);
    int rc = load_text(c, text, depth, err, errlen);
    free(text);
    return rc;
}

int config_load_file(config *c, const char *path, char *err, size_t errlen) {
    return load_file_depth(c, path, 0, err, errlen);
}

int config_load_args(config *c, int argc, char **argv, char *err, size_t errlen) {
    /* As redis-server does, the directives are numbered from line 2. */
    int lineno = 1;
    int k = 0;
    while (k < argc) {
        lineno++;
        if (strncmp(argv[k], "--", 2) != 0 || !argv[k][2]) {
            return load_error(err, errlen, lineno, argv[k],
                              "Bad directive or wrong number of arguments");
        }
        strv a = {0};
        sv_push(&a, argv[k] + 2, strlen(argv[k] + 2));
        k++;
        while (k < argc && strncmp(argv[k], "--", 2) != 0) {
            sv_push(&a, argv[k], strlen(argv[k]));
            k++;
        }
        /* A bare --save means save "". */
        if (a.n == 1 && !strcasecmp(a.v[0], "save")) sv_push(&a, "", 0);
        sbuf shown = {0};
        sb_str(&shown, a.v[0]);
        for (int j = 1; j < a.n; j++) {
            sb_str(&shown, " ");
            sb_repr(&shown, a.v[j], strlen(a.v[j]));
        }
        char why[256];
        int rc = apply_directive(c, a.n, a.v, 0, why, sizeof(why), err, errlen);
        if (rc == -1) load_error(err, errlen, lineno, shown.p, why);
        free(shown.p);
        sv_free(&a);
        if (rc) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* CONFIG GET / SET. */

typedef struct match {
    const char *key;
    size_t klen;
    int idx;
} match;

static int matched(const match *m, int n, const char *key, size_t klen) {
    for (int i = 0; i < n; i++)
        if (m[i].klen == klen && !strncasecmp(m[i].key, key, klen)) return 1;
    return 0;
}

void config_get_reply(const config *c, int npat, const char **pats, const size_t *patlens,
                      rbuf *r) {
    int cap = 2 * NDEFS + npat + 1, n = 0;
    match *m = xmalloc(sizeof(match) * (size_t)cap);
    for (int p = 0; p < npat; p++) {
        const char *pat = pats[p];
        size_t plen = patlens[p];
        int glob = 0;
        for (size_t k = 0; k < plen; k++)
            if (pat[k] == '*' || pat[k] == '?' || pat[k] == '[') glob = 1;
        if (!glob) {
            char *name = xmalloc(plen + 1);
            memcpy(name, pat, plen);
            name[plen] = '\0';
            int i = (strlen(name) == plen) ? def_find(name, NULL) : -1;
            free(name);
            if (i >= 0 && !matched(m, n, pat, plen)) m[n++] = (match){pat, plen, i};
            continue;
        }
        for (int i = 0; i < NDEFS; i++) {
            if (cfg_defs[i].flags & CF_HIDDEN) continue;
            const char *names[2] = {cfg_defs[i].name, cfg_defs[i].alias};
            for (int k = 0; k < 2; k++) {
                if (!names[k]) continue;
                size_t kl = strlen(names[k]);
                if (matched(m, n, names[k], kl)) continue;
                if (util_globmatch(pat, plen, names[k], kl, 1)) m[n++] = (match){names[k], kl, i};
            }
        }
    }
    rw_map(r, n);
    for (int i = 0; i < n; i++) {
        char *v = format_value(c, m[i].idx);
        rw_bulk(r, m[i].key, m[i].klen);
        rw_bulk_cstr(r, v);
        free(v);
    }
    free(m);
}

int config_check_name(const char *name, char *err, size_t errlen) {
    int i = def_find(name, NULL);
    if (i < 0) {
        snprintf(err, errlen, "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                 name);
        return -1;
    }
    if (cfg_defs[i].flags & (CF_IMMUTABLE | CF_PROTECTED)) {
        snprintf(err, errlen,
                 "ERR CONFIG SET failed (possibly related to argument '%s') - can't set %s config",
                 name, (cfg_defs[i].flags & CF_IMMUTABLE) ? "immutable" : "protected");
        return -1;
    }
    return 0;
}

int config_set(config *c, const char *name, const char *value, char *err, size_t errlen) {
    if (config_check_name(name, err, errlen)) return -1;
    const char *spelling = NULL;
    int i = def_find(name, &spelling);
    const cfg_def *d = &cfg_defs[i];
    strv a = {0};
    char why[256];
    char *canon = NULL;
    int rc;
    if (is_multi_arg(d)) {
        split_spaces(value, &a);
        rc = parse_value(c, i, a.n, a.v, 0, &canon, why, sizeof(why));
    } else {
        char *one[1] = {(char *)value};
        rc = parse_value(c, i, 1, one, 0, &canon, why, sizeof(why));
    }
    sv_free(&a);
    if (rc == 0 && !strcmp(d->name, "activedefrag") && !strcmp(canon, "yes")) {
        rc = reason(why, sizeof(why),
                    "Active defragmentation cannot be enabled: it requires a Redis server "
                    "compiled with a modified Jemalloc like the one shipped by default with the "
                    "Redis source "
                    "distribution");
        free(canon);
    }
    if (rc) {
        snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                 spelling, why);
        return -1;
    }
    store_value(c, i, canon);
    free(canon);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* CONFIG REWRITE: the old file's lines are kept, except that the first line
 * of each known parameter is replaced by its current value and its later
 * lines are dropped; parameters that differ from the default and were not
 * in the file are appended below a marker line. The new file replaces the
 * old one by rename(), so a crash leaves one or the other. */

/* Append the directive lines that express parameter i's current value. */
static void rewrite_lines(const config *c, int i, sbuf *out) {
    const cfg_def *d = &cfg_defs[i];
    char *v = format_value(c, i);
    strv a = {0};
    if (d->type == T_SPECIAL && d->special == SP_SAVE) {
        split_spaces(v, &a);
        if (a.n == 0) sb_str(out, "save \"\"\n");
        for (int k = 0; k + 1 < a.n; k += 2)
            sb_fmt(out, "save %s %s\n", a.v[k], a.v[k + 1]);
    } else if (d->type == T_SPECIAL && d->special == SP_OBUF) {
        split_spaces(v, &a);
        for (int k = 0; k + 3 < a.n; k += 4)
            sb_fmt(out, "%s %s %s %s %s\n", d->name, a.v[k], a.v[k + 1], a.v[k + 2], a.v[k + 3]);
    } else if (d->type == T_STR || (d->type == T_SPECIAL && !is_multi_arg(d)) || !*v) {
        sb_str(out, d->name);
        sb_str(out, " ");
        sb_repr(out, v, strlen(v));
        sb_str(out, "\n");
    } else {
        sb_fmt(out, "%s %s\n", d->name, v);
    }
    sv_free(&a);
    free(v);
}

#define REWRITE_MARK "# Generated by CONFIG REWRITE"

int config_rewrite(const config *c, const char *path, char *err, size_t errlen) {
    sbuf in = {0}, out = {0};
    FILE *f = fopen(path, "r");
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            sb_add(&in, chunk, n);
        fclose(f);
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "ERR Rewriting config file: %s", strerror(errno));
        return -1;
    }
    char done[NDEFS];
    memset(done, 0, sizeof(done));
    int marked = 0; /* the file already has the marker: append below it */
    const char *p = in.p ? in.p : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xmalloc(n + 1);
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl ? 1 : 0);
        char *s = line;
        while (*s && strchr(" \t\r", *s))
            s++;
        strv a = {0};
        int i = -1;
        if (!strncmp(s, REWRITE_MARK, strlen(REWRITE_MARK))) marked = 1;
        if (*s && *s != '#' && split_args(s, &a) == 0 && a.n > 0) i = def_find(a.v[0], NULL);
        sv_free(&a);
        if (i < 0) {
            sb_str(&out, line);
            sb_str(&out, "\n");
        } else if (!done[i]) {
            rewrite_lines(c, i, &out);
            done[i] = 1;
        }
        free(line);
    }
    config defaults;
    config_defaults(&defaults);
    for (int i = 0; i < NDEFS; i++) {
        if (done[i]) continue;
        char *cur = format_value(c, i), *def = format_value(&defaults, i);
        if (strcmp(cur, def) != 0) {
            if (!marked) {
                sb_str(&out, REWRITE_MARK "\n");
                marked = 1;
            }
            rewrite_lines(c, i, &out);
        }
        free(cur);
        free(def);
    }
    config_free(&defaults);
    free(in.p);

    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
    FILE *w = fopen(tmp, "w");
    int ok = w != NULL;
    if (ok && out.len && fwrite(out.p, 1, out.len, w) != out.len) ok = 0;
    if (w && fflush(w) != 0) ok = 0;
    if (w && fsync(fileno(w)) != 0) ok = 0;
    if (w && fclose(w) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    int e = errno;
    free(out.p);
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "ERR Rewriting config file: %s", strerror(e));
        return -1;
    }
    return 0;
}

int config_get_text(const config *c, const char *name, char *buf, size_t cap) {
    int i = def_find(name, NULL);
    if (i < 0) {
        if (cap) buf[0] = 0;
        return -1;
    }
    char *v = format_value(c, i);
    snprintf(buf, cap, "%s", v);
    free(v);
    return 0;
}
