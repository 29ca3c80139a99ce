/* rt_int.h -- the runtime's private structures, shared by rt.c (threads,
 * shard loop, messaging), conn.c (connections, reply ordering) and tx.c
 * (multi-shard transactions). Nothing outside src/rt includes this.
 *
 * Ownership rules (the whole runtime in one block):
 * - A shard thread owns its reactor, listeners, connections, deferred queue,
 *   outbound backlogs and its command-set state. No other thread touches them.
 * - A message (rt_msg) is owned by whoever holds it: the sender until
 *   ring_push succeeds, then the receiver. Replies travel back in the same
 *   allocation. A message may carry pointers to objects owned by its sender
 *   (rt_conn, rt_tx); the receiver only hands them back, never dereferences
 *   them -- except rt_tx, which the coordinator lends to an op for the
 *   duration of that op (the ring hand-off orders the accesses).
 * - A connection is freed only when it is closed AND no request of it is in
 *   flight (inflight == 0), so a late reply always finds its rt_conn, AND
 *   (io_uring) no op on the ring names it (uops == 0), so a late completion
 *   does too; its fd is closed only then.
 */
#ifndef PERCORE_RT_INT_H
#define PERCORE_RT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../sys/reactor.h"
#include "../sys/reactor_uring.h"
#include "ring.h"
#include "rt.h"

#define RT_RING_SIZE 4096        /* slots per SPSC ring */
#define RT_DRAIN_CAP 512         /* messages taken from one ring per loop turn */
#define RT_MAX_INFLIGHT 8192     /* unanswered requests per connection before it stops parsing */
#define RT_OBUF_PAUSE (64 << 20) /* pending output above which a connection stops parsing */
#define RT_READ_CHUNK (16 * 1024)
/* io_uring: a connection that stopped parsing keeps receiving (unparsed)
 * until this much input waits, then its multishot recv is cancelled. */
#define RT_URING_HOLD (64 * 1024)
#define RT_WBUF_KEEP (64 * 1024)         /* io_uring: largest send buffer kept after its send */
#define RT_QBUF_KEEP (2 * RT_READ_CHUNK) /* a larger query buffer is trimmed (conn_trim_qbuf) */
/* A pooled MSG_EXEC message takes this many bytes in all (header, requests
 * and their arguments); a request too big for one gets a message of its own. */
#define RT_MSG_POOL_SIZE 2048
#define RT_MSG_POOL_MAX 256 /* pooled messages kept per shard at most */
/* Reply buffers above this are not kept by a connection's reply slot. */
#define RT_MSG_POOL_RBUF 4096
/* ... nor above this by a pooled message, whose buffer holds the replies of
 * every request of a batch; up to RT_MSG_KEEP_BIG by RT_MSG_POOL_BIG of
 * them, so batches of big replies do not regrow their buffer each time. */
#define RT_MSG_KEEP_RBUF (16 * 1024)
#define RT_MSG_KEEP_BIG (128 * 1024)
#define RT_MSG_POOL_BIG 8
#define RT_SLOTS_MIN 16   /* reply slots of a new connection */
#define RT_SLOTS_KEEP 256 /* a larger slot ring shrinks back to RT_SLOTS_MIN once idle */
#define RT_PEAK_SECS 8    /* seconds of buffer peaks kept (as Redis's clients cron) */

enum {
    MSG_EXEC = 1, /* run a request on the receiving shard; comes back as MSG_REPLY */
    MSG_REPLY,    /* reply of a MSG_EXEC for a connection of the receiver */
    MSG_TX_LOCK,  /* take the receiver for a tx; comes back as MSG_TX_LOCKED */
    MSG_TX_LOCKED,
    MSG_TX_OP, /* run a tx op on the receiver; comes back as MSG_TX_OPDONE */
    MSG_TX_OPDONE,
    MSG_TX_UNLOCK, /* release the receiver; freed by the receiver */
    MSG_TX_EXEC,   /* run a request of its own within a tx; comes back as MSG_TX_OPDONE */
    MSG_CALL,      /* rt_broadcast: run fn; comes back as MSG_CALLDONE */
    MSG_CALLDONE,
    MSG_STOP, /* wake up and notice the stop flag */
};

/* One request of a MSG_EXEC batch. */
typedef struct rt_exop {
    rt_conn *conn; /* owned by shard `from` */
    uint64_t seq;
    uint64_t client_id;
    void (*proc)(rt_ctx *);
    const void *cmd;
    rt_arg *argv;       /* points into the message */
    uint64_t hkey_hash; /* as rt_ctx.hkey_idx / hkey_hash */
    size_t rend;        /* MSG_REPLY: where its reply ends in the message's reply buffer */
    int argc, db, resp;
    int hkey_idx;
    int onekey; /* the request has one key, whose hash is hkey_hash */
} rt_exop;

typedef struct rt_msg {
    struct rt_msg *next; /* deferred queue / backlog link */
    int type;
    int from;        /* sending shard (where the answer goes) */
    uint32_t pooled; /* MSG_EXEC/REPLY: 1 for a pooled message */
    union {
        /* MSG_EXEC / MSG_REPLY: requests of connections of shard `from`
         * for the receiver, run in order; their replies follow one another
         * in `reply`. The space after the header holds ops[] from its start
         * and the requests' arguments from its end down to `top`. */
        struct {
            int nops;
            rt_exop *ops;
            size_t room; /* bytes after the header */
            size_t top;
            rbuf reply;
        } ex;
        struct { /* MSG_TX_* */
            rt_tx *tx;
            int part;
            /* LOCK/UNLOCK: 1 to lock the part's keys, 0 the whole shard.
             * UNLOCK of keys carries their hashes (lockh, owned by the
             * message: the tx may be freed by then). A waiting LOCK keeps
             * in nlockh how many of its keys were found free. */
            int keylock;
            uint64_t *lockh;
            int nlockh;
            void (*op)(rt_ctx *);
            /* MSG_TX_EXEC: the request, borrowed from the coordinator. */
            int argc;
            rt_arg *argv;
            int db;
            const void *cmd;
            rbuf *out;
        } tx;
        struct { /* MSG_CALL / MSG_CALLDONE */
            void (*fn)(rt_shard *, void *);
            void (*done)(rt_shard *, void *);
            void *arg;
            int *pending; /* owned by the caller shard */
        } call;
    } u;
} rt_msg;

/* A FIFO of messages linked through ->next. */
typedef struct msg_queue {
    rt_msg *head, *tail;
} msg_queue;

static inline void mq_push(msg_queue *q, rt_msg *m) {
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
}

static inline rt_msg *mq_pop(msg_queue *q) {
    rt_msg *m = q->head;
    if (m) {
        q->head = m->next;
        if (!q->head) q->tail = NULL;
    }
    return m;
}

/* Keys held by multi-shard transactions on one shard, by rt_key_hash: an
 * open-addressing table (linear probing, backward-shift deletion). Two keys
 * with one hash share an entry, which only makes one wait for the other. */
typedef struct klock {
    uint64_t h;
    rt_tx *owner; /* NULL: free slot */
    uint32_t count;
} klock;
typedef struct klock_tab {
    klock *e;
    uint32_t mask; /* capacity - 1; capacity 0 before the first lock */
    uint32_t n;
} klock_tab;

/* One reply waiting for its turn (seq ring of a connection). */
typedef struct rt_slot {
    int state;    /* 0 free/waiting, 1 ready */
    int suppress; /* CLIENT REPLY OFF/SKIP: drop when its turn comes */
    rbuf rb;
} rt_slot;

struct rt_conn {
    int fd;
    rt_shard *shard;
    uint64_t id;
    struct rt_conn *prev, *next; /* the shard's connection list */
    struct rt_conn *flush_next;  /* the shard's "has output" list */
    /* Input. */
    char *qbuf;
    size_t qlen, qcap;
    size_t qpeak; /* the most qlen held since the last conn_trim_qbuf */
    resp_parser parser;
    /* Output and ordering. */
    rbuf out;
    size_t out_sent;    /* bytes of out already written */
    uint64_t next_seq;  /* seq of the next parsed request */
    uint64_t flush_seq; /* seq of the next reply to output */
    rt_slot *slots;     /* ring indexed by seq & slot_mask */
    uint64_t slot_mask;
    int inflight;   /* requests out on other shards / deferred / in tx */
    int tx_pending; /* multi-shard transactions not yet done: a barrier,
                       later requests wait so none overtakes one */
    /* State. */
    int db, resp;
    int reply_mode;     /* 0 on, 1 off, 2 skip the next */
    int reply_override; /* set by rt_conn_set_reply_mode during a LOCAL request:
                           -1 none, 0 send this reply, 1 drop it */
    rbuf *cur_reply;    /* the reply being written by a LOCAL proc */
    unsigned events;    /* current reactor interest */
    int in_flush;       /* on the flush list */
    int close_after;    /* close once all replies are out */
    int closed;         /* closed, waiting for inflight == 0 (and uops == 0) */
    int blocked;        /* parsing stopped (backpressure or pause) */
    int eof;            /* the peer shut down its sending side: nothing more is read */
    int waiting;        /* its blocking command waits (tx released, see rt_tx_release) */
    int held;           /* the last flush held the output back: 1 for one turn, 2 behind a tx
                           (conn_hold_output) */
    int held_input;     /* input came in during a hold behind a tx: that hold ends */
    /* io_uring engine only (see conn.c, "The io_uring engine"). */
    rbuf wbuf;    /* bytes of the send in flight, swapped out of `out`; untouched until its CQE */
    size_t wsent; /* bytes of wbuf already sent */
    int uops;     /* ops on the ring (recv, poll, send): fd open and struct alive until 0 */
    unsigned uf;  /* CU_* */
    int64_t created_ms, last_ms, obuf_soft_since;
    uint64_t ncmds;
    void *cdata;
    char peer[64], local[64];
};

struct rt_shard {
    rt *r;
    rt_config cfg; /* this shard's copy of the settings */
    int id;
    pthread_t thread;
    reactor *rx;  /* epoll engine; NULL with io_uring */
    uring *ur;    /* io_uring engine; NULL with epoll */
    int stopping; /* io_uring teardown: accepted sockets are closed at once */
    int *lfds;    /* listeners (nlfds) */
    int nlfds;
    int efd;                /* eventfd: wakes this shard when parked */
    int cpu;                /* CPU the thread is bound to, or -1 */
    _Atomic int parked;     /* 1 while in (or about to enter) rx_wait with a timeout */
    spsc_ring *in;          /* in[j]: ring from shard j to this shard */
    msg_queue *backlog;     /* backlog[j]: messages for shard j that did not fit */
    unsigned char *touched; /* touched[j]: pushed to j this turn, wake it at the end */
    int ntouched;           /* how many touched[j] are set */
    msg_queue selfq;        /* messages to itself */
    msg_queue deferred;     /* work waiting for a tx's lock, in arrival order */
    rt_tx *holder;          /* the tx holding this whole shard, or NULL */
    klock_tab klocks;       /* keys held by txs (by key hash) */
    void *sdata;
    rt_conn *conns;
    int nconns;
    rt_conn *flush_list;
    int *keybuf;
    int keybuf_cap;
    rt_arg *argv_buf;   /* argv of the request being dispatched */
    int *ints_buf;      /* owner shard of each key of that request */
    uint64_t *hash_buf; /* ... and each key's rt_key_hash */
    int ints_cap;
    int argv_cap;
    /* Free MSG_EXEC messages of RT_MSG_POOL_SIZE bytes, with their reply
     * buffers kept: a forwarded request comes back to its home shard as a
     * reply, which returns it here, so steady cross-shard traffic allocates
     * nothing. Owned by this shard only. */
    rt_msg *msg_pool;
    int msg_pool_n;
    int msg_pool_big; /* pooled messages whose reply buffer is over RT_MSG_KEEP_RBUF */
    /* batch[j]: requests for shard j gathered this turn, not yet sent
     * (exec_batch_add); nbatch: how many are open. */
    rt_msg **batch;
    int nbatch;
    int64_t pause_until; /* CLIENT PAUSE */
    int pause_writes_only;
    int64_t next_cron_ms;
    int64_t now_us; /* cached wall clock: read after each wake-up and by rt_shard_clock() */
    rt_net_stats net;
    /* The largest query buffer and pending output of any connection, per
     * second over the last RT_PEAK_SECS seconds (slot: second % that),
     * sampled by conn_cron (INFO client_recent_max_*). */
    uint64_t peak_in[RT_PEAK_SECS], peak_out[RT_PEAK_SECS];
    int64_t peak_sec; /* the second the current slot is for */
    int more;         /* work left over: do not sleep this turn */
};

struct rt {
    rt_config cfg;
    const rt_ops *ops;
    int n;
    rt_shard *shards;
    _Atomic int stop;
    _Atomic long nconns;           /* relaxed: only for maxclients and INFO */
    _Atomic uint64_t next_conn_id; /* relaxed: uniqueness only */
};

/* rt_ctx_init for the runtime's own hot paths, which read the shard's
 * fields directly instead of through the public accessors. */
static inline void rt_ctx_init_fast(rt_ctx *ctx, rt_shard *s, int argc, rt_arg *argv,
                                    const void *cmd, rbuf *reply, int db, uint64_t client_id) {
    rt_ctx_init_with(ctx, s, s->id, s->sdata, argc, argv, cmd, reply, db, client_id);
}

/* rt.c */
void shard_send(rt_shard *s, int to, rt_msg *m);
/* tx.c: whether work for shard data may run now (else it waits in
 * s->deferred), and the key lock table. */
int tx_may_run(rt_shard *s, rt_msg *m);
/* Whether a request for shard data may run now, given whether it has one
 * key (whose hash is h): nothing holds the shard, and no key or not its. */
int tx_may_exec(const rt_shard *s, int onekey, uint64_t h);
void klock_free(rt_shard *s);
/* Bytes of all arguments, and a copy of them into dst: argc rt_arg slots
 * followed by room for argv_bytes() bytes. */
size_t argv_bytes(int argc, const rt_arg *argv);
void argv_fill(rt_arg *dst, int argc, const rt_arg *src);

/* conn.c */
void conn_accept(rt_shard *s, int lfd);
void conn_accept_fd(rt_shard *s, int fd);
void conn_on_event(rt_conn *c, unsigned events);
/* io_uring: a completion of an op of connection c. */
void conn_on_completion(rt_conn *c, const ur_event *e);
void conn_deliver(rt_conn *c, uint64_t seq, rbuf *rb);
void conn_flush_all(rt_shard *s);
void conn_cron(rt_shard *s, int64_t now_ms);
void conn_close(rt_conn *c, const char *why);
void conn_free_all(rt_shard *s);
void conn_resume(rt_conn *c);
/* A blocking command of c starts (1) or stops (0) waiting. */
void conn_set_waiting(rt_conn *c, int on);
/* A MSG_EXEC message holding request seq of c, for c's own shard (it
 * waits there behind a tx). */
rt_msg *exec_msg_new(rt_conn *c, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
                     int hkey_idx, uint64_t hkey_hash, int onekey);
/* Add request seq of c to the batch for shard `to` (another shard). Open
 * batches all go out when one is full, before any other message s sends
 * (shard_send), before any reply is written (conn_write) and at the end of
 * the turn. */
void exec_batch_add(rt_conn *c, int to, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
                    int hkey_idx, uint64_t hkey_hash, int onekey);
/* Send every open batch of s: anything sent after them arrives after. */
void exec_batch_send_all(rt_shard *s);
static inline void exec_batch_send(rt_shard *s) {
    if (s->nbatch) exec_batch_send_all(s);
}
/* Free a MSG_EXEC/MSG_REPLY message back on its home shard s (pooled ones
 * go back to s's pool, keeping their reply buffer). */
void exec_msg_release(rt_shard *s, rt_msg *m);
/* Free every pooled message of s. */
void exec_msg_pool_free(rt_shard *s);
/* Run the requests of a MSG_EXEC and send it back as MSG_REPLY. */
void exec_run(rt_shard *s, rt_msg *m);
/* Hand the replies of a MSG_REPLY to their connections; releases m. */
void exec_reply(rt_shard *s, rt_msg *m);

/* tx.c */
void tx_start(rt_conn *c, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
              const int *shard_of_key, const uint64_t *hash_of_key);
void tx_on_msg(rt_shard *s, rt_msg *m);
void tx_release_held(rt_shard *s);

#endif
