/* rt.h -- the thread-per-core runtime, as seen by a command set.
 *
 * The runtime runs one thread per shard. Each thread has its own reactor,
 * its own SO_REUSEPORT listener, its own connections and its own shard state
 * (for percore: a store). Threads share nothing mutable; they talk through
 * lock-free SPSC rings, one per ordered pair of shards.
 *
 * The runtime knows no concrete command. A command set plugs in through
 * `rt_ops`: for every request parsed on a connection the runtime asks
 * ops->prepare() for an `rt_plan` saying where the request runs:
 *
 *   RT_PLAN_DONE   prepare() already wrote the reply (errors, trivial replies).
 *   RT_PLAN_LOCAL  run plan.proc on the connection's own shard, with access
 *                  to the connection (ctx->conn). Must not touch shard data.
 *   RT_PLAN_SHARD  run plan.proc on shard plan.shard (e.g. SCAN's cursor).
 *   RT_PLAN_KEYS   the request's keys are at argv indexes plan.keys[]. If they
 *                  all live on one shard, plan.proc runs there; otherwise
 *                  plan.multi runs a multi-shard transaction (see rt_tx).
 *   RT_PLAN_ALL    plan.multi runs a transaction over every shard.
 *
 * Replies are written into ctx->reply; the runtime returns them to the
 * connection in request order, whatever shard produced them and whenever.
 *
 * Multi-shard transactions (rt_tx) are atomic as seen by other clients: the
 * coordinator (the connection's shard) takes the involved shards in
 * ascending shard order; a taken shard defers every other request that
 * would touch its data until the transaction releases it. Once all are
 * taken, the command runs ops on parts (shards), each op on its own shard's
 * thread, and finally replies. See docs/DESIGN.md.
 */
#ifndef PERCORE_RT_H
#define PERCORE_RT_H

#include <stddef.h>
#include <stdint.h>

#include "../resp/resp.h"

typedef struct rt_arg {
    const char *p;
    size_t len;
} rt_arg;

typedef struct rt rt;
typedef struct rt_shard rt_shard;
typedef struct rt_conn rt_conn;
typedef struct rt_tx rt_tx;
typedef struct rt_ctx rt_ctx;

/* The execution context of one request (or of one tx op on one shard). */
struct rt_ctx {
    rt_shard *shard; /* the shard running this code */
    int shard_id;
    void *sdata; /* that shard's state (from ops->shard_init) */
    int argc;
    rt_arg *argv;    /* borrowed for the duration of the call */
    const void *cmd; /* plan.cmd, as prepare() set it */
    rbuf *reply;     /* append the reply here (its resp = the client's) */
    int db;          /* the client's selected database at dispatch */
    uint64_t client_id;
    rt_conn *conn; /* RT_PLAN_LOCAL only; NULL everywhere else */
    rt_tx *tx;     /* set inside a tx op */
    int part;      /* index of this shard in tx->part[] inside a tx op */
    /* The hash of argv[hkey_idx] (rt_key_hash) when the runtime computed it
     * for routing, so the store need not hash that key again; hkey_idx < 0
     * when there is none. */
    int hkey_idx;
    uint64_t hkey_hash;
    /* A queued command run for a tx (rt_tx_exec): the tx's now_ms, so the
     * whole transaction sees one time; 0 otherwise. */
    int64_t now_ms;
};

enum { RT_PLAN_DONE, RT_PLAN_LOCAL, RT_PLAN_SHARD, RT_PLAN_KEYS, RT_PLAN_ALL };

/* Plan flags. */
#define RT_PF_CLOSE 1u /* close the connection once this reply is written (QUIT) */

typedef struct rt_plan {
    int kind;
    unsigned flags;
    const void *cmd;          /* opaque to the runtime, copied into ctx->cmd */
    void (*proc)(rt_ctx *c);  /* single-shard body */
    void (*multi)(rt_tx *tx); /* multi-shard body (coordinator side) */
    int shard;                /* RT_PLAN_SHARD */
    int nkeys;                /* RT_PLAN_KEYS */
    int *keys;                /* argv indexes; points into rt_plan_keybuf() */
    /* RT_PLAN_ALL only: take just these shards (ascending, borrowed for the
     * call) instead of every shard. nshards 0 = every shard. */
    const int *shards;
    int nshards;
    /* Initial tx->state of a transaction plan; owned by the tx's command. */
    void *state;
    /* Optional, RT_PLAN_KEYS only: the transaction is one step, first_op on
     * every part, then first_done on the coordinator (in place of multi).
     * The runtime runs first_op on each part as soon as it holds that part,
     * in the lock request itself, which saves a round trip per part. It is
     * as atomic as the steps of multi: a part stays held from its op to
     * rt_tx_done, and parts are still taken in ascending order. */
    void (*first_op)(rt_ctx *c);
    void (*first_done)(rt_tx *tx);
} rt_plan;

/* One shard taking part in a transaction. */
typedef struct rt_part {
    int shard;
    int nkeys;
    int *keys;   /* argv indexes of the keys on this shard, in argv order */
    rbuf out;    /* free scratch for the op on that shard (resp = client's) */
    long long n; /* free scratch */
    void *ptr;   /* free scratch; the command frees what it puts here */
} rt_part;

struct rt_tx {
    /* The request, owned by the tx (copied out of the connection). */
    int argc;
    rt_arg *argv;
    const void *cmd;
    int db;
    int resp;
    uint64_t client_id;
    rbuf reply; /* the final reply; rt_tx_done() sends it */
    int nparts;
    rt_part *part; /* sorted by shard id */
    void *state;   /* command-owned scratch; freed by the command */
    /* The command set's clock for this tx (ms), free for it to set; 0 in a
     * new tx, the parent's in a nested one (rt_tx_sub), the coordinator's
     * clock at the start in one with a first_op (rt_plan). */
    int64_t now_ms;
    /* The coordinator's clock when the tx began (us); the command set may
     * move it (a blocked command that retries). For statistics. */
    int64_t start_us;
    /* The command set's, free for it to set (0 in a new tx): how tx_end
     * should count the command. */
    unsigned stat_flags;
    void (*next)(rt_tx *tx); /* continuation run on the coordinator after rt_tx_run */
    /* Runtime-private fields follow. */
    struct rt_tx_priv *priv;
};

/* Run op once on every part's shard (in parallel), each with a ctx whose tx
 * and part are set, then call tx->next on the coordinator shard. Parts'
 * shards are held for the whole tx, so state read in one step is still true
 * in the next. An op must only write its own part (tx->part[ctx->part]). */
void rt_tx_run(rt_tx *tx, void (*op)(rt_ctx *c), void (*next)(rt_tx *tx));
/* As rt_tx_run, but only on part index `part`. */
void rt_tx_run_one(rt_tx *tx, int part, void (*op)(rt_ctx *c), void (*next)(rt_tx *tx));
/* Run proc on shard `shard` (one of tx's parts) with a request of its own:
 * argv/argc/db/cmd as given (borrowed until next runs), the reply appended to
 * out (owned by the caller, lives on the coordinator). Then next(tx) runs on
 * the coordinator. For running queued commands inside EXEC. */
void rt_tx_exec(rt_tx *tx, int shard, int argc, rt_arg *argv, int db, const void *cmd,
                void (*proc)(rt_ctx *c), rbuf *out, void (*next)(rt_tx *tx));
/* Run a multi-shard body as a nested transaction over shards tx already
 * holds: the parts are the shards of keys[] (argv indexes of argv), or all of
 * tx's parts when nkeys < 0. The nested tx's reply is appended to out and
 * next(tx) runs when the nested body calls rt_tx_done. */
void rt_tx_sub(rt_tx *tx, int argc, rt_arg *argv, int db, const void *cmd, const int *keys,
               int nkeys, void (*multi)(rt_tx *sub), rbuf *out, void (*next)(rt_tx *tx));
/* The requesting connection, while it is open; NULL after it closed.
 * Coordinator thread only (it is the connection's home). */
rt_conn *rt_tx_conn(rt_tx *tx);
/* The coordinator shard of tx (the requesting connection's home shard). */
rt_shard *rt_tx_coord(rt_tx *tx);
/* Finish: the runtime sends tx->reply to the client, releases the shards and
 * frees the tx (the command must have freed its own scratch first). */
void rt_tx_done(rt_tx *tx);
/* Blocking commands: give back every part's shard while keeping the tx (and
 * the connection's reply slot and request barrier) pending. Coordinator only,
 * with every part held and no op running. The tx then holds nothing until
 * rt_tx_reacquire. */
void rt_tx_release(rt_tx *tx);
/* Take a released tx's parts again, in ascending shard order, then call
 * next(tx) on the coordinator (which goes on with ops, releases again, or
 * finishes with rt_tx_done). */
void rt_tx_reacquire(rt_tx *tx, void (*next)(rt_tx *tx));
/* Drop a released tx at teardown (its connection is closed): no reply, no
 * shard to give back; frees the tx (the command freed its scratch). */
void rt_tx_abandon(rt_tx *tx);
/* Run fn(shard, arg) once on shard `to`, asynchronously, even while that
 * shard is held by a transaction (fn must not touch data a tx protects).
 * A message dropped at teardown never runs fn: pass a value, not something
 * that must be freed. */
void rt_post(rt_shard *from, int to, void (*fn)(rt_shard *s, void *arg), void *arg);

/* The command set. All callbacks run on shard threads. */
typedef struct rt_ops {
    /* Create/free a shard's state; runs on that shard's thread. */
    void *(*shard_init)(rt_shard *s, int shard_id);
    void (*shard_free)(void *sdata);
    /* Periodic work, `hz` times a second, on each shard (active expiry...). */
    void (*shard_cron)(rt_shard *s, void *sdata);
    /* Per-connection state of the command set (client name, auth ...). */
    void *(*conn_init)(rt_conn *c);
    void (*conn_free)(rt_conn *c, void *cdata);
    /* Decide how to run a request (home shard). May write a reply into
     * `reply` and return RT_PLAN_DONE. argv is borrowed for the call. */
    void (*prepare)(rt_conn *c, int argc, rt_arg *argv, rt_plan *plan, rbuf *reply);
    /* 1 if the request would write (CLIENT PAUSE WRITE holds such requests
     * back before they are prepared). May be NULL: nothing is a write. */
    int (*is_write)(int argc, rt_arg *argv);
    /* Called on a participant shard right before each tx op runs (refresh
     * cached time ...). May be NULL. */
    void (*op_begin)(rt_ctx *c);
    /* Called on a participant shard right after each tx op ran (WATCH's
     * modified-key tracking). May be NULL. */
    void (*op_end)(rt_ctx *c);
    /* Called on the coordinator when a transaction has its reply
     * (rt_tx_done), before the reply goes to the client or, for a nested
     * one (rt_tx_sub), to its parent (statistics). May be NULL. */
    void (*tx_end)(rt_tx *tx);
    /* Called on a connection's shard when an error reply goes out that no
     * command body wrote: one prepare answered with, or the runtime's own
     * (a protocol error). reply: the error as written ("-..."), len bytes
     * (statistics). May be NULL. */
    void (*error_reply)(rt_shard *s, const char *reply, size_t len);
} rt_ops;

typedef struct rt_config {
    const char *bind[16]; /* addresses to listen on */
    int nbind;
    int port;
    int nshards;
    int hz; /* cron frequency */
    int maxclients;
    long long max_bulk_len;    /* proto-max-bulk-len */
    long long query_buf_limit; /* client-query-buffer-limit */
    long long obuf_hard;       /* client-output-buffer-limit normal hard (0 = none) */
    long long obuf_soft;
    int obuf_soft_secs;
    int timeout;       /* idle client timeout in seconds, 0 = never */
    int tcp_keepalive; /* seconds, 0 = off */
    uint64_t seed;     /* keyspace hash seed */
    /* I/O engine: "auto" (or NULL/""), "io_uring" or "epoll". auto takes
     * io_uring when the kernel offers everything it needs, else epoll;
     * io_uring asked for but unavailable makes rt_new fail. In rt_cfg() of
     * a created runtime (and every shard's copy) it names the engine in
     * use: "io_uring" or "epoll". */
    const char *io_engine;
    /* CPUs to bind shard threads to, in redis.conf's cpulist syntax
     * ("0-3", "0,2,4", "0-15:2", combined with commas): shard i runs on the
     * (i mod n)-th CPU listed. NULL or "" leaves threads unbound, to the
     * kernel's scheduler (best when other processes share the cores). */
    const char *cpulist;
} rt_config;

/* Create the runtime: listeners are bound here (errors are returned, not
 * fatal). Returns NULL and fills err on failure. */
rt *rt_new(const rt_config *cfg, const rt_ops *ops, char *err, size_t errlen);
/* Parse a cpulist ("0-7:2,9"; ranges a-b with an optional :step, and
 * single CPUs) into cpus[] in the order written. Returns how many CPUs were
 * listed (at most max are stored), or -1 if the text is not a cpulist. */
int rt_parse_cpulist(const char *s, int *cpus, int max);
/* Run every shard (shard 0 on the calling thread) until rt_stop(). */
int rt_run(rt *r);
/* Ask every shard to stop (any thread, async-signal-safe). */
void rt_stop(rt *r);
void rt_free(rt *r);

int rt_nshards(const rt *r);
/* Owning shard of a key: seeded hash of the key, mod nshards. */
int rt_key_shard(const rt *r, const char *key, size_t len);
/* The seeded key hash rt_key_shard uses (the store's tables use the same). */
uint64_t rt_key_hash(const rt *r, const char *key, size_t len);
/* The shard of a key whose rt_key_hash is h. */
static inline int rt_hash_shard(const rt *r, uint64_t h, int nshards) {
    (void)r;
    return nshards == 1 ? 0 : (int)((h >> 32) % (uint64_t)nshards);
}
rt *rt_of(rt_shard *s);
int rt_shard_id(const rt_shard *s);
/* Whether a multi-shard transaction holds the key whose rt_key_hash is h on
 * shard s (its own thread only). Such a key must not change under the
 * transaction, not even by active expiry. */
int rt_shard_key_held(void *s, uint64_t h);
void *rt_shard_data(rt_shard *s);
/* The shard's cached wall clock (us): read when the shard's loop wakes up
 * and refreshed by rt_shard_clock(), so one clock read serves a command's
 * start and the previous one's end. Shard thread only. */
int64_t rt_shard_now_us(const rt_shard *s);
/* Read the wall clock, make it the shard's cached time and return it. */
int64_t rt_shard_clock(rt_shard *s);
/* The settings the runtime started with (read-only). */
const rt_config *rt_cfg(const rt *r);
/* This shard's own copy of the settings: CONFIG SET updates each shard's copy
 * on that shard's thread (rt_broadcast). Owning thread only. */
rt_config *rt_shard_cfg(rt_shard *s);
/* Scratch array of at least n ints for rt_plan.keys, owned by the shard. */
int *rt_plan_keybuf(rt_shard *s, int n);

/* Initialise a context for running a body on shard s (its thread only),
 * whose id and state are shard_id and sdata; conn, tx and part are cleared.
 * The runtime's own hot paths pass the shard's fields directly. */
static inline void rt_ctx_init_with(rt_ctx *ctx, rt_shard *s, int shard_id, void *sdata, int argc,
                                    rt_arg *argv, const void *cmd, rbuf *reply, int db,
                                    uint64_t client_id) {
    *ctx = (rt_ctx){.shard = s,
                    .shard_id = shard_id,
                    .sdata = sdata,
                    .argc = argc,
                    .argv = argv,
                    .cmd = cmd,
                    .reply = reply,
                    .db = db,
                    .client_id = client_id,
                    .hkey_idx = -1};
}

/* Initialise a context for running a body on shard s (its thread only);
 * conn, tx and part are cleared. */
static inline void rt_ctx_init(rt_ctx *ctx, rt_shard *s, int argc, rt_arg *argv, const void *cmd,
                               rbuf *reply, int db, uint64_t client_id) {
    rt_ctx_init_with(ctx, s, rt_shard_id(s), rt_shard_data(s), argc, argv, cmd, reply, db,
                     client_id);
}

/* Copy a request's arguments into one allocation (the array, then the
 * bytes); the caller frees it with free(). */
rt_arg *rt_argv_dup(int argc, const rt_arg *argv);

/* Run fn(shard, arg) on every shard, asynchronously (each on its own thread);
 * then done(arg) on the calling shard once all have run. done may be NULL.
 * If the runtime is torn down first, done runs at teardown with s NULL. */
void rt_broadcast(rt_shard *from, void (*fn)(rt_shard *s, void *arg), void *arg,
                  void (*done)(rt_shard *s, void *arg));

/* Connections (home-shard thread only). */
uint64_t rt_conn_id(const rt_conn *c);
rt_shard *rt_conn_shard(rt_conn *c);
void *rt_conn_data(rt_conn *c); /* the command set's per-connection state */
int rt_conn_db(const rt_conn *c);
void rt_conn_set_db(rt_conn *c, int db);
int rt_conn_resp(const rt_conn *c);
void rt_conn_set_resp(rt_conn *c, int resp);         /* applies to replies of later requests */
void rt_conn_set_authenticated(rt_conn *c, int yes); /* lifts the parser's pre-auth limits */
const char *rt_conn_peer(const rt_conn *c);          /* "ip:port" */
const char *rt_conn_local(const rt_conn *c);         /* "ip:port" */
int rt_conn_fd(const rt_conn *c);
int64_t rt_conn_created_ms(const rt_conn *c);
int64_t rt_conn_last_ms(const rt_conn *c); /* last interaction */
size_t rt_conn_qbuf(const rt_conn *c);     /* query buffer bytes used / allocated */
size_t rt_conn_qbuf_free(const rt_conn *c);
size_t rt_conn_obuf(const rt_conn *c); /* pending output bytes */
/* Bytes the runtime holds for the connection: its struct, query and output
 * buffers, and the reply slots with the replies waiting in them. */
size_t rt_conn_mem(const rt_conn *c);
uint64_t rt_conn_cmds(const rt_conn *c); /* requests parsed so far */
/* Close the connection after the replies already queued are written. */
void rt_conn_close_after_reply(rt_conn *c);
/* Stop sending replies (CLIENT REPLY OFF/SKIP): mode 0 on, 1 off, 2 skip next. */
void rt_conn_set_reply_mode(rt_conn *c, int mode);
/* Pause reading from every client of this shard until the given time. */
void rt_shard_pause_until(rt_shard *s, int64_t until_ms, int writes_only);
/* Iterate the live connections of a shard (on that shard's thread). */
void rt_shard_foreach_conn(rt_shard *s, void (*fn)(rt_conn *c, void *arg), void *arg);
/* Connections on this shard, and in the whole process (relaxed counters). */
int rt_shard_nconns(const rt_shard *s);
long rt_total_conns(const rt *r);
/* rt_conn_mem summed over the shard's connections (its own thread only). */
size_t rt_shard_conns_mem(const rt_shard *s);
/* Client traffic of a shard since start: bytes read and written, and the
 * reads and writes that moved them. The shard's thread may reset them. */
typedef struct rt_net_stats {
    uint64_t in_bytes, out_bytes;
    uint64_t reads, writes;
    uint64_t rejected_conns; /* turned away at maxclients */
} rt_net_stats;
rt_net_stats *rt_shard_net(rt_shard *s);
/* The largest query buffer (allocated bytes) and pending output (bytes not
 * yet written) any connection of the shard had in the last few seconds, as
 * its cron sampled them. The shard's own thread only. */
void rt_shard_buffer_peaks(const rt_shard *s, uint64_t *in, uint64_t *out);

/* Deliver an out-of-band message to a connection's output in reply order
 * (MONITOR lines, pushes). Home-shard thread only. */
void rt_conn_push(rt_conn *c, const void *p, size_t n);

#endif
