/* cmd.h -- percore's command set: the command table, the per-shard and
 * per-client state of the command layer, and the helpers command handlers
 * share. This is the layer that knows Redis semantics; the runtime below it
 * (rt.h) only schedules.
 *
 * A handler runs on the shard that owns its keys and never touches a
 * connection (ctx->conn is NULL) unless the command is routed
 * CMD_ROUTE_LOCAL. Handlers are named cmd_<name>; the multi-shard half of a
 * command is cmd_<name>_multi and its per-shard ops op_<name>_<step>.
 */
#ifndef PERCORE_CMD_H
#define PERCORE_CMD_H

#include <stdint.h>
#include <string.h>

#include "../common/util.h"
#include "../resp/resp.h"
#include "../rt/rt.h"
#include "../store/store.h"
#include "config.h"

/* Command flags, as reported by COMMAND INFO. */
#define CMD_WRITE (1ULL << 0)
#define CMD_READONLY (1ULL << 1)
#define CMD_DENYOOM (1ULL << 2)
#define CMD_ADMIN (1ULL << 4)
#define CMD_PUBSUB (1ULL << 5)
#define CMD_NOSCRIPT (1ULL << 6)
#define CMD_BLOCKING (1ULL << 8)
#define CMD_LOADING (1ULL << 9)
#define CMD_STALE (1ULL << 10)
#define CMD_SKIP_MONITOR (1ULL << 11)
#define CMD_SKIP_SLOWLOG (1ULL << 12)
#define CMD_ASKING (1ULL << 13)
#define CMD_FAST (1ULL << 14)
#define CMD_NO_AUTH (1ULL << 15)
#define CMD_MAY_REPLICATE (1ULL << 16)
#define CMD_SENTINEL (1ULL << 17)
#define CMD_ONLY_SENTINEL (1ULL << 18)
#define CMD_NO_MANDATORY_KEYS (1ULL << 19)
#define CMD_PROTECTED (1ULL << 20)
#define CMD_MODULE_GETKEYS (1ULL << 21)
#define CMD_MODULE_NO_CLUSTER (1ULL << 22)
#define CMD_NO_ASYNC_LOADING (1ULL << 23)
#define CMD_NO_MULTI (1ULL << 24)
#define CMD_MOVABLE_KEYS (1ULL << 25)
#define CMD_ALLOW_BUSY (1ULL << 26)
#define CMD_MODULE_GETCHANNELS (1ULL << 27)
#define CMD_TOUCHES_ARBITRARY_KEYS (1ULL << 28)

/* How the runtime is to run a command (see rt_plan). */
enum {
    CMD_ROUTE_KEYS = 0, /* by its key positions; keyless commands run on the home shard */
    CMD_ROUTE_LOCAL,    /* on the connection's shard, with the connection */
    CMD_ROUTE_ALL,      /* a transaction over every shard: `multi` */
    CMD_ROUTE_CUSTOM,   /* `route` picks the shard (SCAN) */
};

struct cmd_meta; /* COMMAND INFO/DOCS facts, see cmd_meta.h */

typedef struct cmd_def cmd_def;
struct cmd_def {
    const char *name;                  /* lower case; a subcommand's own name ("list") */
    int arity;                         /* Redis's: n exact, -n at least n (name included) */
    uint64_t flags;                    /* CMD_* */
    int first_key, last_key, key_step; /* legacy key range; last_key -1 = last argument */
    /* Key positions that depend on the arguments (SORT ... STORE, BITOP, LCS
     * ...). Writes argv indexes into keys (room for argc) and returns how
     * many; returns -1 after writing an error reply into err. NULL: use the
     * range above. */
    int (*getkeys)(int argc, rt_arg *argv, int *keys, rbuf *err);
    int route;                /* CMD_ROUTE_* */
    void (*proc)(rt_ctx *c);  /* single-shard (or local) body */
    void (*multi)(rt_tx *tx); /* multi-shard body; NULL = single-shard only */
    /* CMD_ROUTE_CUSTOM: the shard to run on, or -1 after writing an error. */
    int (*route_fn)(rt_shard *home, int argc, rt_arg *argv, rbuf *err);
    const cmd_def *subs;         /* subcommands, ended by a NULL name; NULL if none */
    const struct cmd_meta *meta; /* COMMAND INFO/DOCS facts */
    int id;                      /* dense index for statistics, set by cmd_table_init */
    const cmd_def *parent;       /* set by cmd_table_init for subcommands */
    /* A multi-shard body of one step (rows built with KEYS1): first_op on
     * every part, then first_done on the coordinator. `multi` is then
     * cmd_first_step_multi, and a transaction the runtime starts runs
     * first_op as it takes each part (rt_plan.first_op). */
    void (*first_op)(rt_ctx *c);
    void (*first_done)(rt_tx *tx);
};

/* rt_tx.stat_flags: how a multi-shard command is counted when it ends. */
#define TX_STAT_FAILED 1u     /* a failed call though its reply is no error */
#define TX_STAT_NO_LATENCY 2u /* no latency sample (a wait that timed out) */

/* The multi body of a KEYS1 row: rt_tx_run(first_op, first_done). */
void cmd_first_step_multi(rt_tx *tx);

/* The command table (cmd_table.c). */
void cmd_table_init(void);
/* The argv indexes of a request's keys (getkeys, else the key range) into
 * keys (room for argc). Returns how many, or -1 after writing getkeys'
 * error into err. */
int cmd_key_positions(const cmd_def *cmd, int argc, rt_arg *argv, int *keys, rbuf *err);
/* Find a command by name (any case). NULL if unknown. */
const cmd_def *cmd_lookup(const char *name, size_t len);
/* Find a subcommand of a container (any case). NULL if unknown. */
const cmd_def *cmd_lookup_sub(const cmd_def *parent, const char *name, size_t len);
/* All top-level commands, ended by NULL, and the number of ids handed out. */
const cmd_def *const *cmd_all(void);
int cmd_count_ids(void);
/* "get", or "client|list" for a subcommand, into buf. */
const char *cmd_fullname(const cmd_def *c, char *buf, size_t cap);

/* Per-command statistics of one shard (INFO commandstats). */
typedef struct cmd_stat {
    uint64_t calls;
    uint64_t usec;
    uint64_t rejected;
    uint64_t failed;
} cmd_stat;

/* Error replies of one code, the first word of the error (INFO errorstats).
 * As in Redis, a code is at most 30 bytes; a longer one counts as ERR. */
#define ERRSTAT_CODE_MAX 30
#define ERRSTAT_CODES_MAX 128 /* codes a shard tells apart (ours: a fixed few) */
typedef struct err_stat {
    char code[ERRSTAT_CODE_MAX + 1];
    uint64_t count;
} err_stat;

/* A rate sampled every 100 ms, averaged over the last INST_SAMPLES samples
 * (INFO's instantaneous_* fields, as Redis computes them). */
#define INST_SAMPLES 16
typedef struct inst_metric {
    int64_t last_ms;
    uint64_t last_count;
    uint64_t samples[INST_SAMPLES]; /* per second */
    int idx;
} inst_metric;
enum { INST_OPS, INST_NET_IN, INST_NET_OUT, INST_COUNT };
/* Take a sample of metric m whose counter reads count now. */
void inst_track(inst_metric *m, uint64_t count, int64_t now_ms);
/* The average of the samples, per second. */
uint64_t inst_rate(const inst_metric *m);
/* Start the metrics over (CONFIG RESETSTAT). */
void inst_reset(inst_metric *m, int n, int64_t now_ms);

/* The command layer's state of one shard (rt's sdata). */
typedef struct shard_state {
    rt_shard *shard;
    int id;
    store *st;
    config cfg;      /* this shard's copy of the configuration */
    cmd_stat *stats; /* [cmd_count_ids()] */
    uint64_t total_commands;
    uint64_t total_errors; /* error replies (total_error_replies) */
    err_stat *errs;        /* [nerrs] by code, in first-seen order */
    int nerrs;
    inst_metric inst[INST_COUNT];
    uint64_t expire_cap_reached; /* active expiry cycles cut short by time */
    uint64_t expire_cycle_us;    /* time spent in active expiry */
    double expire_stale_perc;    /* moving average of expired / sampled */
    int latency_tracking;        /* latency-tracking */
    int active_rehash;           /* activerehashing */
    int rehash_db;               /* where rehash_cron looks first */
    struct lathist **lat;        /* [cmd_count_ids()]: made at a command's first call */
    uint64_t cronloops;
    uint64_t stat_numconnections;
    uint64_t dirty;       /* writes since start (rdb_changes_since_last_save) */
    int monitors;         /* connections of this shard in MONITOR mode */
    struct dict *watched; /* WATCHed keys of this shard (watch.c), NULL if none yet */
    uint64_t watch_mark;  /* dirty before the running tx op (watch.c) */
    int watch_done;       /* the running command touched its written keys itself */
} shard_state;

/* The command layer's state of one connection (rt's conn data). */
typedef struct client_state {
    char *name;     /* CLIENT SETNAME, NULL if none */
    char *lib_name; /* CLIENT SETINFO lib-name */
    char *lib_ver;
    int authenticated;
    int monitor;
    int no_evict;
    const cmd_def *last_cmd;   /* for CLIENT LIST cmd= */
    struct multi_state *multi; /* commands queued since MULTI; NULL outside MULTI */
    int in_exec;               /* a queued command is running inside EXEC */
    struct watch_list *watch;  /* WATCHed keys (watch.c); NULL if none */
} client_state;

/* Count an error reply (INFO errorstats). reply points at the '-' of the
 * error line; len bounds it. */
void count_error(shard_state *ss, const char *reply, size_t len);

/* MULTI/EXEC (dispatch.c). Forget the queued commands of a client (DISCARD,
 * RESET, disconnect). */
void multi_discard(client_state *cs);

/* Process-wide facts fixed at startup (read-only after rt_run starts). */
typedef struct server_info {
    int64_t start_ms;
    char run_id[41];
    char executable[1024];
    char config_file[1024];
    int pid;
    int nshards;
    rt *rt;
} server_info;
extern server_info g_server;
extern config g_config;        /* startup configuration (main thread, before rt_run) */
extern _Atomic int g_monitors; /* MONITOR connections in the process (relaxed) */
extern const rt_ops g_cmd_ops; /* dispatch.c: percore's command set for the runtime */

static inline shard_state *ctx_ss(rt_ctx *c) {
    return (shard_state *)c->sdata;
}
static inline store *ctx_store(rt_ctx *c) {
    return ctx_ss(c)->st;
}
static inline db *ctx_db(rt_ctx *c) {
    return store_db(ctx_ss(c)->st, c->db);
}
/* The database a context works on: the client's, also inside a tx op. */
static inline db *ctx_cdb(rt_ctx *c) {
    return store_db(ctx_ss(c)->st, c->tx ? c->tx->db : c->db);
}
/* Case-insensitive comparison of an argument with a C string. */
static inline int arg_is(const rt_arg *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->p, s, n) == 0;
}

/* Parse helpers: on failure they write Redis's error into r and return -1. */
int arg_ll_or_reply(rbuf *r, const rt_arg *a, long long *out,
                    const char *msg); /* msg NULL: shared "not an integer" */
int arg_double_or_reply(rbuf *r, const rt_arg *a, double *out, const char *msg);
int arg_ld_or_reply(rbuf *r, const rt_arg *a, long double *out, const char *msg);
int arg_range_or_reply(rbuf *r, const rt_arg *a, long long min, long long max, long long *out,
                       const char *msg);

/* A SCAN-family cursor, parsed as Redis does (base 10, whole argument, no
 * leading space, no overflow; "-1" wraps). Returns 0, or -1 after writing
 * "ERR invalid cursor" into err. */
int arg_cursor_or_reply(const rt_arg *a, uint64_t *out, rbuf *err);
/* The options of HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT n],
 * from argv[first] on. pat is NULL for no pattern (or "*"); it borrows argv. */
typedef struct scan_opts {
    long long count;
    const char *pat;
    size_t plen;
} scan_opts;
/* Returns 0, or -1 after writing Redis's error into err. */
int scan_opts_or_reply(int argc, const rt_arg *argv, int first, scan_opts *o, rbuf *err);

/* Key lookups of the type commands (cmd_util.c). Both work on ctx_cdb(c).
 * lookup_read counts a keyspace hit or miss, as Redis's read lookups do;
 * lookup_write does not. Each returns 0 with *o set to the value (owned by
 * the db) or NULL when the key is absent; or -1 after writing WRONGTYPE
 * into r when the key holds another type. */
obj *lookup_read_any(rt_ctx *c, const rt_arg *key);
int lookup_read(rt_ctx *c, const rt_arg *key, int type, obj **o, rbuf *r);
int lookup_write(rt_ctx *c, const rt_arg *key, int type, obj **o, rbuf *r);

/* Redis's shared error replies (without the leading '-'). */
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_NO_KEY "ERR no such key"
#define ERR_INDEX_RANGE "ERR index out of range"
#define ERR_DB_RANGE "ERR DB index is out of range"
#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"
#define ERR_BIT_VALUE "ERR bit is not an integer or out of range"
#define ERR_STRING_TOO_BIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define ERR_NOAUTH "NOAUTH Authentication required."

/* Wrong-arity error for a command: "ERR wrong number of arguments for 'get' command". */
void reply_arity_error(rbuf *r, const cmd_def *c);

/* Apply the shard's configuration to its store (access tracking policy
 * ...); after startup and after every CONFIG SET, on the shard's thread. */
void ss_apply_config(shard_state *ss);
/* Drop the shard's latency histograms (CONFIG RESETSTAT). */
void lat_reset(shard_state *ss);

/* Refresh the shard's cached time; called by the dispatcher before every command body. */
static inline void ss_refresh_time(shard_state *ss) {
    ss->st->now_ms = util_mstime();
}

/* Mark one write (for INFO's rdb_changes_since_last_save). */
static inline void ss_dirty(rt_ctx *c, uint64_t n) {
    ctx_ss(c)->dirty += n;
}

#endif
