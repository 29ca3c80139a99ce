/* config.h -- the configuration: every Redis 7.0 parameter name, read from a
 * redis.conf-syntax file and `--name value` arguments, and changed at run time
 * by CONFIG SET. percore's own additions: `threads`, `io-engine`.
 *
 * Threading: each shard keeps its own copy (shard_state.cfg), so reads need
 * no synchronisation; CONFIG SET validates on the calling shard, then applies
 * the change to every shard's copy on that shard's thread (rt_broadcast).
 * Copies never share heap memory: config_copy() duplicates strings.
 */
#ifndef PERCORE_CONFIG_H
#define PERCORE_CONFIG_H

#include <stddef.h>

#include "../resp/resp.h"

#define CONFIG_MAX_BIND 16

typedef struct config {
    /* Network. */
    int port;
    char *bind[CONFIG_MAX_BIND];
    int nbind;
    int tcp_backlog;
    int timeout;
    int tcp_keepalive;
    int maxclients;
    /* Runtime. */
    int threads; /* shards; default: online cores */
    int hz;
    char *io_engine; /* as configured: "auto", "io_uring" or "epoll" (rt_cfg() names the one in use)
                      */
    char *server_cpulist; /* CPUs the shard threads are bound to; "" = not bound */
    /* Keyspace. */
    int databases;
    long long maxmemory;
    /* Protocol limits. */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    long long obuf_normal_hard, obuf_normal_soft;
    int obuf_normal_soft_secs;
    long long obuf_pubsub_hard, obuf_pubsub_soft;
    int obuf_pubsub_soft_secs;
    long long obuf_replica_hard, obuf_replica_soft;
    int obuf_replica_soft_secs;
    /* Security. */
    char *requirepass; /* NULL or "" = none */
    /* Persistence names (accepted and reported). */
    char *dir;
    char *dbfilename;
    char *save; /* "3600 1 300 100 60 10000" or "" */
    int appendonly;
    char *appendfsync; /* always / everysec / no */
    char *appendfilename;
    /* Logging. */
    char *loglevel; /* debug verbose notice warning nothing */
    char *logfile;  /* "" = stdout */
    int daemonize;
    char *pidfile;
    /* Every other parameter: name -> current value, kept as text so CONFIG
     * GET/SET/REWRITE round-trip them. Private to config.c. */
    struct config_extra *extra;
} config;

/* Fill c with Redis 7.0's defaults (threads = online cores, dir = "./data"
 * is NOT set here: the default is Redis's, the directory the server runs in). */
void config_defaults(config *c);
void config_free(config *c);
/* Deep copy src into dst (dst must be uninitialised or freed). */
void config_copy(config *dst, const config *src);

/* Load a redis.conf-syntax file. Returns 0, or -1 with a message naming the
 * line and directive in err. */
int config_load_file(config *c, const char *path, char *err, size_t errlen);
/* Apply command-line directives: argv holds "--name", "value"... pairs (a
 * directive may take several values: --save "900 1"). Returns 0 or -1. */
int config_load_args(config *c, int argc, char **argv, char *err, size_t errlen);

/* CONFIG GET pattern [pattern ...]: appends the map reply. */
void config_get_reply(const config *c, int npat, const char **pats, const size_t *patlens, rbuf *r);
/* Validate and apply name=value (CONFIG SET semantics, Redis's error text
 * in err on failure: "ERR Invalid argument 'x' for CONFIG SET 'port' - ...").
 * Returns 0 or -1. */
int config_set(config *c, const char *name, const char *value, char *err, size_t errlen);
/* The current value of any parameter as CONFIG GET shows it, copied into
 * buf (truncated to cap). Returns 0, or -1 if the name is unknown. */
int config_get_text(const config *c, const char *name, char *buf, size_t cap);
/* Rewrite the file the server was started with. Returns 0 or -1. */
/* A memory amount as redis.conf writes it (digits, then b, k, kb, m, mb, g
 * or gb in any case). Returns 1 and sets *out, or 0 if malformed. */
int config_parse_mem(const char *s, unsigned long long *out);
int config_rewrite(const config *c, const char *path, char *err, size_t errlen);

#endif
