/* conn.c -- connections: accept, read, parse, dispatch, reply ordering,
 * write, limits. Runs on the connection's home shard thread only.
 *
 * A connection moves through these states:
 *   open      reading; every parsed request gets the next sequence number
 *   blocked   parsing stopped: too many unanswered requests, too much
 *             pending output, a multi-shard transaction of this connection
 *             still running (requests after it must not run before it: a
 *             later request on this shard would otherwise run at once
 *             while the transaction is still taking its shards), or CLIENT
 *             PAUSE; the reactor stops reporting input until conn_resume()
 *   closing   (close_after) no more parsing; closes once every reply is
 *             out. A peer's EOF leads here once what it sent is parsed.
 *   closed    fd closed; the struct lives on while requests of it are
 *             still on other shards (inflight > 0) or it sits on the flush
 *             list
 *
 * Reply ordering: request n's reply is written only after replies 0..n-1.
 * A reply that is ready early waits in slots[n & slot_mask]. When a request
 * runs on this shard and is the next one due, its handler writes straight
 * into the output buffer (no copy). While requests of a pipelined batch
 * are still out on other shards, the replies already in order are held back
 * until the next of those replies comes in, so that the batch goes out in
 * one send (conn_hold_output).
 *
 * The io_uring engine (shard->ur) keeps every rule above; only the I/O
 * differs:
 * - Input: a multishot recv into the ring's provided buffers stays armed
 *   while the connection reads. Each completion's bytes are copied into the
 *   query buffer and the buffer goes back to the kernel at once; the
 *   query-buffer limit is checked exactly as after a read(). When parsing
 *   stops (blocked: backpressure, a transaction barrier, a blocking command,
 *   CLIENT PAUSE) the recv is NOT cancelled at once: bytes that arrive are
 *   kept unparsed, as epoll's last read may also have brought later
 *   requests, so nothing behind a blocked request runs. Once RT_URING_HOLD
 *   bytes wait, or on close_after, the recv is cancelled and TCP pushes
 *   back on the client as with epoll (completions the kernel posted before
 *   the cancel is submitted are kept too: at most one turn's, bounded by
 *   the buffer ring). Cancelling on every block would cost
 *   two SQEs per multi-shard command. A recv that ended (no CQE_F_MORE:
 *   ENOBUFS, cancel, overflow) is re-armed when reading is wanted again.
 * - The EOF can arrive while parsing is stopped (epoll would not read it
 *   then); like any EOF it is acted on once parsing resumes (see
 *   conn_peer_eof). A socket error while no recv is armed is seen by a
 *   multishot POLLERR poll armed for that case, and closes the connection
 *   at once, as epoll's EPOLLERR does.
 * - Output: replies gather in `out` during a loop turn; conn_flush_all
 *   swaps `out` into `wbuf` and queues one send, submitted with the wait at
 *   the next ur_wait (one io_uring_enter for all connections). At most one
 *   send per connection is in flight, so bytes go out in order; wbuf is not
 *   touched until its CQE; a short send re-sends the rest.
 * - Closing: the fd stays open, and the struct allocated, until every op of
 *   the connection has completed (uops == 0); conn_close cancels them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../resp/resp_inline.h"
#include "../sys/net.h"
#include "../sys/sysio.h"
#include "rt_int.h"

/* rt_conn.uf bits (io_uring engine). */
#define CU_RECV 1u        /* multishot recv armed */
#define CU_RECV_CANCEL 2u /* ... and its cancel requested */
#define CU_SEND 4u        /* a send in flight (wbuf) */
#define CU_POLL 8u        /* multishot POLLERR poll armed */

static void conn_process_input(rt_conn *c);

/* Tell the command set when the reply written from mark on is an error that
 * no command body wrote (statistics). */
static void conn_note_error(rt_shard *s, const rbuf *rb, size_t mark) {
    if (s->r->ops->error_reply && rb->len > mark && rb->buf[mark] == '-')
        s->r->ops->error_reply(s, rb->buf + mark, rb->len - mark);
}
static int *shard_scratch_keys(rt_shard *s, int n, uint64_t **hashes);

static void conn_mark_flush(rt_conn *c) {
    if (c->in_flush) return;
    c->in_flush = 1;
    c->flush_next = c->shard->flush_list;
    c->shard->flush_list = c;
}

static size_t conn_pending_out(const rt_conn *c) {
    return c->out.len - c->out_sent + (c->wbuf.len - c->wsent);
}

/* io_uring: ask for the armed recv to end, unless that was asked already. */
static void conn_uring_cancel_recv(rt_conn *c) {
    if ((c->uf & (CU_RECV | CU_RECV_CANCEL)) != CU_RECV) return;
    ur_cancel(c->shard->ur, UR_RECV, c);
    c->uf |= CU_RECV_CANCEL;
}

/* io_uring: arm or cancel the connection's recv (and error poll) to match
 * its state; conn_set_events of the epoll engine. */
static void conn_uring_update(rt_conn *c) {
    uring *u = c->shard->ur;
    int want = !c->close_after && !c->eof && (!c->blocked || c->qlen < RT_URING_HOLD);
    if (want && !(c->uf & CU_RECV)) {
        ur_recv(u, c->fd, c);
        c->uops++;
        c->uf |= CU_RECV;
    } else if (!want) {
        conn_uring_cancel_recv(c);
    }
    if (!(c->uf & (CU_RECV | CU_POLL)) && (c->blocked || c->close_after)) {
        ur_poll(u, c->fd, POLLERR, c);
        c->uops++;
        c->uf |= CU_POLL;
    }
}

static void conn_set_events(rt_conn *c) {
    if (c->closed) return;
    if (c->shard->ur) {
        conn_uring_update(c);
        return;
    }
    unsigned want = 0;
    if (!c->blocked && !c->close_after && !c->eof) want |= RX_READ;
    if (conn_pending_out(c) && !c->held) want |= RX_WRITE; /* held: conn_hold_output */
    if (want != c->events) {
        rx_mod(c->shard->rx, c->fd, want, c);
        c->events = want;
    }
}

static void conn_maybe_free(rt_conn *c) {
    if (c->closed && c->inflight == 0 && !c->in_flush && c->uops == 0) free(c);
}

/* io_uring: a closed connection's fd is closed, and the bytes of its last
 * send freed, once no op on the ring refers to them; until then no new
 * socket can take the fd's number. */
static void conn_uring_release(rt_conn *c) {
    if (c->uops > 0 || c->fd < 0) return;
    close(c->fd);
    c->fd = -1;
    rb_free(&c->wbuf);
}

/* Free the slot ring and the reply buffers its slots keep. */
static void conn_free_slots(rt_conn *c) {
    for (uint64_t i = 0; i <= c->slot_mask; i++)
        rb_free(&c->slots[i].rb);
    free(c->slots);
}

void conn_close(rt_conn *c, const char *why) {
    if (c->closed) return;
    rt_shard *s = c->shard;
    if (why)
        log_msg(LL_VERBOSE, "Client id=%llu addr=%s closed: %s", (unsigned long long)c->id, c->peer,
                why);
    c->closed = 1;
    if (s->ur) {
        conn_uring_cancel_recv(c);
        if (c->uf & CU_POLL) ur_cancel(s->ur, UR_POLL, c);
        if (c->uf & CU_SEND) ur_cancel(s->ur, UR_SEND, c);
        conn_uring_release(c);
    } else {
        rx_del(s->rx, c->fd);
        close(c->fd);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    atomic_fetch_sub_explicit(&s->r->nconns, 1, memory_order_relaxed);
    if (s->r->ops->conn_free) s->r->ops->conn_free(c, c->cdata);
    c->cdata = NULL;
    free(c->qbuf);
    c->qbuf = NULL;
    resp_parser_free(&c->parser);
    rb_free(&c->out);
    conn_free_slots(c);
    c->slots = NULL;
    conn_maybe_free(c);
}

void conn_accept(rt_shard *s, int lfd) {
    for (int i = 0; i < 64; i++) {
        int fd = net_accept(lfd);
        if (fd < 0) return;
        conn_accept_fd(s, fd);
    }
}

/* Take on an accepted socket (non-blocking, close-on-exec). */
void conn_accept_fd(rt_shard *s, int fd) {
    rt *r = s->r;
    if (s->stopping) {
        close(fd);
        return;
    }
    net_accepted(fd);
    long n = atomic_fetch_add_explicit(&r->nconns, 1, memory_order_relaxed);
    if (s->cfg.maxclients > 0 && n >= s->cfg.maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        ssize_t w = write(fd, msg, sizeof(msg) - 1);
        (void)w;
        close(fd);
        atomic_fetch_sub_explicit(&r->nconns, 1, memory_order_relaxed);
        s->net.rejected_conns++;
        return;
    }
    rt_conn *c = calloc(1, sizeof(*c));
    c->fd = fd;
    c->shard = s;
    c->id = atomic_fetch_add_explicit(&r->next_conn_id, 1, memory_order_relaxed);
    c->resp = 2;
    resp_parser_init(&c->parser);
    c->parser.max_bulk_len = s->cfg.max_bulk_len;
    rb_init(&c->out, 2);
    c->slot_mask = RT_SLOTS_MIN - 1;
    c->slots = calloc(RT_SLOTS_MIN, sizeof(rt_slot));
    c->created_ms = c->last_ms = util_mstime();
    net_addr(fd, 1, c->peer, sizeof(c->peer));
    net_addr(fd, 0, c->local, sizeof(c->local));
    if (s->cfg.tcp_keepalive > 0) net_keepalive(fd, s->cfg.tcp_keepalive);
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (s->ur) {
        conn_uring_update(c);
    } else {
        c->events = RX_READ;
        rx_add(s->rx, fd, RX_READ, c);
    }
    if (r->ops->conn_init) c->cdata = r->ops->conn_init(c);
    log_msg(LL_VERBOSE, "Accepted %s", c->peer);
}

/* Grow the slot ring so that seq fits (next_seq - flush_seq <= capacity). */
static inline rt_slot *conn_slot(rt_conn *c, uint64_t seq) {
    uint64_t cap = c->slot_mask + 1;
    if (seq - c->flush_seq >= cap) {
        /* Full: every slot holds a pending request, so all of them move. */
        uint64_t ncap = cap * 2;
        rt_slot *ns = calloc(ncap, sizeof(rt_slot));
        for (uint64_t q = c->flush_seq; q < seq; q++)
            ns[q & (ncap - 1)] = c->slots[q & c->slot_mask];
        free(c->slots);
        c->slots = ns;
        c->slot_mask = ncap - 1;
    }
    return &c->slots[seq & c->slot_mask];
}

/* Append ready replies, in order, to the output buffer. */
static void conn_advance(rt_conn *c) {
    while (c->flush_seq < c->next_seq) {
        rt_slot *sl = &c->slots[c->flush_seq & c->slot_mask];
        if (!sl->state) break;
        if (!sl->suppress && sl->rb.len) {
            if (c->out.len == 0 && sl->rb.cap >= c->out.cap) {
                rbuf t = c->out;
                c->out = sl->rb;
                sl->rb = t;
                c->out_sent = 0;
            } else {
                rb_append(&c->out, sl->rb.buf, sl->rb.len);
            }
        }
        sl->rb.len = 0;
        if (sl->rb.cap > RT_MSG_POOL_RBUF) rb_free(&sl->rb);
        sl->state = 0;
        sl->suppress = 0;
        c->flush_seq++;
    }
    conn_mark_flush(c);
}

/* Hand reply rb of request seq to c. The reply's bytes move into c's slot;
 * rb is left holding an empty buffer (the slot's previous one) that the
 * caller may reuse or free. */
void conn_deliver(rt_conn *c, uint64_t seq, rbuf *rb) {
    c->inflight--;
    if (c->closed) {
        rb->len = 0;
        conn_maybe_free(c);
        return;
    }
    rt_slot *sl = &c->slots[seq & c->slot_mask];
    rbuf t = sl->rb;
    sl->rb = *rb;
    *rb = t;
    rb->len = 0;
    sl->state = 1;
    conn_advance(c);
}

/* Hand n reply bytes at p of request seq to c (copied). */
static void conn_deliver_bytes(rt_conn *c, uint64_t seq, const char *p, size_t n) {
    c->inflight--;
    if (c->closed) {
        conn_maybe_free(c);
        return;
    }
    rt_slot *sl = &c->slots[seq & c->slot_mask];
    if (!sl->suppress && n) {
        /* Its turn: straight into the output, which conn_advance would
         * otherwise copy it to. */
        rb_append(seq == c->flush_seq ? &c->out : &sl->rb, p, n);
    }
    sl->state = 1;
    conn_advance(c);
}

/* A free MSG_EXEC message with room for `need` bytes of requests. */
static rt_msg *exec_msg_get(rt_shard *s, size_t need) {
    size_t room = RT_MSG_POOL_SIZE - sizeof(rt_msg);
    rt_msg *m;
    if (need <= room && s->msg_pool) {
        m = s->msg_pool;
        s->msg_pool = m->next;
        s->msg_pool_n--;
        if (m->u.ex.reply.cap > RT_MSG_KEEP_RBUF) s->msg_pool_big--;
    } else {
        int pooled = need <= room;
        if (!pooled) room = need;
        m = malloc(sizeof(rt_msg) + room);
        if (!m) abort();
        m->pooled = (uint32_t)pooled;
        rb_init(&m->u.ex.reply, 2); /* exec_run sets each request's protocol */
        m->u.ex.room = room;
        m->u.ex.ops = (rt_exop *)(m + 1);
    }
    m->next = NULL;
    m->type = MSG_EXEC;
    m->from = s->id;
    m->u.ex.nops = 0;
    m->u.ex.top = m->u.ex.room;
    m->u.ex.reply.len = 0;
    return m;
}

/* Room a request takes in a message: its op and its arguments (rounded up
 * so the next request's argument array stays aligned). */
static size_t exec_op_room(int argc, const rt_arg *argv) {
    size_t n = sizeof(rt_arg) * (size_t)argc + argv_bytes(argc, argv);
    return sizeof(rt_exop) + ((n + 7) & ~(size_t)7);
}

/* Append a request to m, which has room for it (exec_op_room). */
static void exec_msg_add(rt_msg *m, size_t need, rt_conn *c, uint64_t seq, const rt_plan *plan,
                         int argc, rt_arg *argv, int hkey_idx, uint64_t hkey_hash, int onekey) {
    m->u.ex.top -= need - sizeof(rt_exop);
    rt_exop *op = &m->u.ex.ops[m->u.ex.nops++];
    op->conn = c;
    op->seq = seq;
    op->client_id = c->id;
    op->proc = plan->proc;
    op->cmd = plan->cmd;
    op->argv = (rt_arg *)((char *)(m + 1) + m->u.ex.top);
    argv_fill(op->argv, argc, argv);
    op->hkey_hash = hkey_hash;
    op->argc = argc;
    op->db = c->db;
    op->resp = c->resp;
    op->hkey_idx = hkey_idx;
    op->onekey = onekey;
    c->inflight++;
}

rt_msg *exec_msg_new(rt_conn *c, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
                     int hkey_idx, uint64_t hkey_hash, int onekey) {
    size_t need = exec_op_room(argc, argv);
    rt_msg *m = exec_msg_get(c->shard, need);
    exec_msg_add(m, need, c, seq, plan, argc, argv, hkey_idx, hkey_hash, onekey);
    return m;
}

void exec_batch_add(rt_conn *c, int to, uint64_t seq, const rt_plan *plan, int argc, rt_arg *argv,
                    int hkey_idx, uint64_t hkey_hash, int onekey) {
    rt_shard *s = c->shard;
    size_t need = exec_op_room(argc, argv);
    rt_msg *m = s->batch[to];
    if (m && m->u.ex.nops * sizeof(rt_exop) + need > m->u.ex.top) {
        /* Full: it goes, and the other open batches with it, which hold
         * requests dispatched before the ones after it. */
        exec_batch_send_all(s);
        m = NULL;
    }
    if (!m) {
        m = exec_msg_get(s, need);
        if (!s->batch[to]) s->nbatch++;
        s->batch[to] = m;
    }
    exec_msg_add(m, need, c, seq, plan, argc, argv, hkey_idx, hkey_hash, onekey);
}

void exec_batch_send_all(rt_shard *s) {
    for (int j = 0; s->nbatch > 0 && j < s->r->n; j++) {
        if (!s->batch[j]) continue;
        shard_send(s, j, s->batch[j]);
        s->batch[j] = NULL;
        s->nbatch--;
    }
}

void exec_msg_release(rt_shard *s, rt_msg *m) {
    if (m->pooled && s->msg_pool_n < RT_MSG_POOL_MAX) {
        size_t cap = m->u.ex.reply.cap;
        if (cap > RT_MSG_KEEP_RBUF) {
            if (cap <= RT_MSG_KEEP_BIG && s->msg_pool_big < RT_MSG_POOL_BIG)
                s->msg_pool_big++;
            else
                rb_free(&m->u.ex.reply);
        }
        m->next = s->msg_pool;
        s->msg_pool = m;
        s->msg_pool_n++;
        return;
    }
    rb_free(&m->u.ex.reply);
    free(m);
}

void exec_msg_pool_free(rt_shard *s) {
    while (s->msg_pool) {
        rt_msg *m = s->msg_pool;
        s->msg_pool = m->next;
        rb_free(&m->u.ex.reply);
        free(m);
    }
    s->msg_pool_n = 0;
    s->msg_pool_big = 0;
}

void exec_run(rt_shard *s, rt_msg *m) {
    rbuf *rb = &m->u.ex.reply;
    for (int i = 0; i < m->u.ex.nops; i++) {
        rt_exop *op = &m->u.ex.ops[i];
        rt_ctx ctx;
        rb->resp = op->resp;
        rt_ctx_init_fast(&ctx, s, op->argc, op->argv, op->cmd, rb, op->db, op->client_id);
        ctx.hkey_idx = op->hkey_idx;
        ctx.hkey_hash = op->hkey_hash;
        op->proc(&ctx);
        op->rend = rb->len;
    }
    m->type = MSG_REPLY;
    shard_send(s, m->from, m);
}

void exec_reply(rt_shard *s, rt_msg *m) {
    rt_exop *ops = m->u.ex.ops;
    if (m->u.ex.nops == 1) {
        /* The reply buffer itself moves to the slot: no copy of a big reply. */
        conn_deliver(ops[0].conn, ops[0].seq, &m->u.ex.reply);
    } else {
        size_t at = 0;
        for (int i = 0; i < m->u.ex.nops; i++) {
            conn_deliver_bytes(ops[i].conn, ops[i].seq, m->u.ex.reply.buf + at, ops[i].rend - at);
            at = ops[i].rend;
        }
        m->u.ex.reply.len = 0;
    }
    exec_msg_release(s, m);
}

/* Dispatch one parsed request. argv points into the query buffer and is
 * valid only during this call: anything that outlives it copies. */
static void conn_dispatch(rt_conn *c, int argc, rt_arg *argv) {
    rt_shard *s = c->shard;
    rt *r = s->r;
    uint64_t seq = c->next_seq;
    rt_slot *sl = conn_slot(c, seq);
    c->next_seq++;
    c->ncmds++;
    sl->state = 0;
    sl->suppress = c->reply_mode != 0;
    if (c->reply_mode == 2) c->reply_mode = 0;
    int direct = seq == c->flush_seq && !sl->suppress;
    rbuf *rb;
    if (direct) {
        rb = &c->out;
        c->out.resp = c->resp;
    } else {
        rb = &sl->rb;
        rb->resp = c->resp;
        rb->len = 0;
    }
    size_t mark = rb->len;
    rt_plan plan;
    memset(&plan, 0, sizeof(plan));
    r->ops->prepare(c, argc, argv, &plan, rb);
    if (plan.flags & RT_PF_CLOSE) c->close_after = 1;
    int target = s->id;
    int hkey_idx = -1; /* argv index of the key hashed for routing */
    uint64_t hkey_hash = 0;
    switch (plan.kind) {
    case RT_PLAN_DONE:
        conn_note_error(s, rb, mark);
        break;
    case RT_PLAN_LOCAL: {
        rt_ctx ctx;
        rt_ctx_init_fast(&ctx, s, argc, argv, plan.cmd, rb, c->db, c->id);
        ctx.conn = c;
        c->cur_reply = rb;
        c->reply_override = -1;
        plan.proc(&ctx);
        c->cur_reply = NULL;
        if (c->reply_override == 1 && !sl->suppress) {
            /* CLIENT REPLY OFF/SKIP: its own reply is not sent. */
            if (direct)
                rb->len = mark;
            else
                rb_clear(rb);
            sl->suppress = 1;
            direct = 0;
        } else if (c->reply_override == 0 && sl->suppress) {
            /* CLIENT REPLY ON, RESET: their reply is sent. */
            sl->suppress = 0;
        }
        break;
    }
    case RT_PLAN_ALL:
        tx_start(c, seq, &plan, argc, argv, NULL, NULL);
        return;
    case RT_PLAN_KEYS: {
        if (r->n > 1 && plan.nkeys > 0) {
            uint64_t *hash_of;
            int *shard_of = shard_scratch_keys(s, plan.nkeys, &hash_of);
            int multi = 0;
            for (int i = 0; i < plan.nkeys; i++) {
                rt_arg *k = &argv[plan.keys[i]];
                uint64_t h = rt_key_hash(r, k->p, k->len);
                if (i == 0) {
                    hkey_idx = plan.keys[0];
                    hkey_hash = h;
                }
                hash_of[i] = h;
                shard_of[i] = rt_hash_shard(r, h, r->n);
                if (shard_of[i] != shard_of[0]) multi = 1;
            }
            target = shard_of[0];
            if (multi) {
                if (plan.multi) {
                    tx_start(c, seq, &plan, argc, argv, shard_of, hash_of);
                    return;
                }
                /* A command set bug: running it on one shard would touch
                 * keys in a store that does not own them. */
                log_msg(LL_WARNING, "command with keys on several shards has no multi-shard body");
                rw_error(rb, "ERR this command's keys must live on one shard");
                conn_note_error(s, rb, mark);
                break;
            }
        }
        goto single;
    }
    case RT_PLAN_SHARD:
        target = plan.shard;
    single:;
        int onekey = hkey_idx >= 0 && plan.kind == RT_PLAN_KEYS && plan.nkeys == 1;
        /* Here and now, unless a tx holds the shard or this key, or work
         * waits for one (it keeps its place in line). */
        if (target == s->id && !s->deferred.head && tx_may_exec(s, onekey, hkey_hash)) {
            rt_ctx ctx;
            rt_ctx_init_fast(&ctx, s, argc, argv, plan.cmd, rb, c->db, c->id);
            ctx.hkey_idx = hkey_idx;
            ctx.hkey_hash = hkey_hash;
            plan.proc(&ctx);
        } else {
            if (target == s->id)
                mq_push(&s->deferred,
                        exec_msg_new(c, seq, &plan, argc, argv, hkey_idx, hkey_hash, onekey));
            else
                exec_batch_add(c, target, seq, &plan, argc, argv, hkey_idx, hkey_hash, onekey);
            return;
        }
        break;
    }
    /* The reply is complete and was produced here. */
    if (direct) {
        c->flush_seq++;
        conn_mark_flush(c);
    } else {
        sl->state = 1;
        conn_advance(c);
    }
}

/* 1 if the connection must stop parsing for now. */
static int conn_must_block(rt_conn *c) {
    return c->tx_pending || c->next_seq - c->flush_seq >= RT_MAX_INFLIGHT ||
           conn_pending_out(c) > RT_OBUF_PAUSE;
}

/* Room for the shard (returned) and hash (*hashes) of each of n keys of the
 * request being dispatched; valid until the next dispatch. */
static int *shard_scratch_keys(rt_shard *s, int n, uint64_t **hashes) {
    if (n > s->ints_cap) {
        s->ints_cap = n < 64 ? 64 : n;
        free(s->ints_buf);
        free(s->hash_buf);
        s->ints_buf = malloc(sizeof(int) * (size_t)s->ints_cap);
        s->hash_buf = malloc(sizeof(uint64_t) * (size_t)s->ints_cap);
    }
    *hashes = s->hash_buf;
    return s->ints_buf;
}

static rt_arg *shard_argv(rt_shard *s, int argc) {
    if (argc > s->argv_cap) {
        s->argv_cap = argc < 64 ? 64 : argc;
        free(s->argv_buf);
        s->argv_buf = malloc(sizeof(rt_arg) * (size_t)s->argv_cap);
    }
    return s->argv_buf;
}

static void conn_process_input(rt_conn *c) {
    rt_shard *s = c->shard;
    size_t pos = 0;
    while (pos < c->qlen && !c->closed && !c->close_after) {
        if (conn_must_block(c)) {
            c->blocked = 1;
            break;
        }
        if (s->pause_until && !s->pause_writes_only) {
            c->blocked = 1;
            break;
        }
        c->parser.max_bulk_len = s->cfg.max_bulk_len; /* CONFIG SET applies at once */
        int rc = resp_parse(&c->parser, c->qbuf + pos, c->qlen - pos);
        if (rc == RESP_INCOMPLETE) break;
        if (rc == RESP_ERR) {
            /* Redis replies with the error and closes the connection. */
            log_msg(LL_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s", c->parser.err,
                    (unsigned long long)c->id, c->peer);
            uint64_t seq = c->next_seq++;
            rt_slot *sl = conn_slot(c, seq);
            sl->rb.resp = c->resp;
            sl->rb.len = 0;
            rw_error(&sl->rb, c->parser.err);
            conn_note_error(s, &sl->rb, 0);
            sl->state = 1;
            sl->suppress = 0;
            conn_advance(c);
            c->close_after = 1;
            pos = c->qlen;
            resp_parser_reset(&c->parser);
            break;
        }
        int argc = c->parser.argc;
        if (argc > 0) {
            const char *base = c->parser.inline_req ? resp_inline_base(&c->parser) : c->qbuf + pos;
            rt_arg *argv = shard_argv(s, argc);
            for (int i = 0; i < argc; i++) {
                argv[i].p = base + c->parser.argv[i].off;
                argv[i].len = c->parser.argv[i].len;
            }
            if (s->pause_until && s->pause_writes_only && s->r->ops->is_write &&
                s->r->ops->is_write(argc, argv)) {
                /* Parse it again once the pause ends. */
                resp_parser_reset(&c->parser);
                c->blocked = 1;
                break;
            }
            conn_dispatch(c, argc, argv);
        }
        pos += c->parser.consumed;
    }
    if (c->closed) return;
    if (pos) {
        if (c->qlen > pos) memmove(c->qbuf, c->qbuf + pos, c->qlen - pos);
        c->qlen -= pos;
    }
    /* A connection on the flush list gets its interest set after the
     * flush, when it is known whether output is left: setting it here would
     * add RX_WRITE for a reply about to be written, and drop it again after. */
    if (!c->in_flush) conn_set_events(c);
}

/* Make room for at least `need` more bytes in the query buffer. */
static void conn_qbuf_room(rt_conn *c, size_t need) {
    if (c->qcap - c->qlen < need) {
        size_t ncap = c->qcap ? c->qcap * 2 : RT_READ_CHUNK * 2;
        while (ncap - c->qlen < need)
            ncap *= 2;
        c->qbuf = realloc(c->qbuf, ncap);
        c->qcap = ncap;
    }
}

/* n bytes were added to the query buffer: the limit, then parsing (unless
 * parsing is stopped: the bytes wait). */
static void conn_got_input(rt_conn *c, size_t n) {
    rt_shard *s = c->shard;
    s->net.in_bytes += n;
    s->net.reads++;
    c->qlen += n;
    c->last_ms = s->now_us / 1000;
    if (c->held == 2) c->held_input = 1; /* see conn_hold_output */
    if (s->cfg.query_buf_limit > 0 && (long long)c->qlen > s->cfg.query_buf_limit) {
        log_msg(LL_WARNING,
                "Closing client that reached max query buffer length: id=%llu addr=%s qbuf=%zu",
                (unsigned long long)c->id, c->peer, c->qlen);
        conn_close(c, NULL);
        return;
    }
    if (c->qlen > c->qpeak) c->qpeak = c->qlen;
    if (c->blocked) return;
    conn_process_input(c);
}

/* Once a second (conn_cron): a query buffer that big requests grew is kept
 * while they keep coming, so each does not grow it again (copying what it
 * holds at every doubling). When the connection has been idle for 2 s or
 * the last second's requests, with a read's headroom, used less than half
 * of it, it is freed if empty, else cut to what it holds and a read's room
 * (as Redis trims its query buffers). */
static void conn_trim_qbuf(rt_conn *c, int64_t now) {
    if (c->qcap > RT_QBUF_KEEP &&
        (now - c->last_ms > 2000 || c->qpeak + RT_READ_CHUNK < c->qcap / 2)) {
        size_t keep = (c->qpeak > c->qlen ? c->qpeak : c->qlen) + RT_READ_CHUNK;
        if (c->qlen == 0) {
            free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        } else if (keep < c->qcap) {
            c->qbuf = realloc(c->qbuf, keep);
            c->qcap = keep;
        }
    }
    c->qpeak = c->qlen;
}

/* The peer shut down its sending side (EOF read or received). Every request
 * it sent is still answered, as Redis answers all it read before it reads
 * the EOF: requests of this shard are answered within the turn, but others
 * are still on their shards and would be lost by closing now. Nothing more
 * is read; conn_flush_all turns this into close_after once parsing is not
 * stopped (buffered requests are parsed first), so the connection closes
 * when the last reply is out. A blocking command that waits is the
 * exception: Redis frees a waiting client at its EOF, so the connection
 * closes once the replies before it are out (and the wait ends as for any
 * closed connection), also when it starts waiting only after the EOF
 * (conn_set_waiting). */
static void conn_peer_eof(rt_conn *c) {
    log_msg(LL_VERBOSE, "Client id=%llu addr=%s closed: client closed connection",
            (unsigned long long)c->id, c->peer);
    c->eof = 1;
    conn_mark_flush(c);
}

static void conn_read(rt_conn *c) {
    conn_qbuf_room(c, RT_READ_CHUNK);
    ssize_t n = sys_read(c->fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n == 0) {
        conn_peer_eof(c);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        conn_close(c, strerror(errno));
        return;
    }
    conn_got_input(c, (size_t)n);
}

/* io_uring: queue a send of pending output unless one is in flight. The
 * bytes of the last send are left over after a short send; otherwise `out`
 * becomes the send buffer and the emptied previous one collects the next
 * replies. Returns 1 when nothing is pending. */
static int conn_uring_send(rt_conn *c) {
    if (c->uf & CU_SEND) return 0;
    if (c->wsent == c->wbuf.len) {
        c->wbuf.len = c->wsent = 0;
        if (c->out.len == 0) return 1;
        rbuf t = c->wbuf;
        c->wbuf = c->out;
        c->out = t;
    }
    ur_send(c->shard->ur, c->fd, c->wbuf.buf + c->wsent, c->wbuf.len - c->wsent, c);
    c->uops++;
    c->uf |= CU_SEND;
    return 0;
}

/* Write pending output. Returns -1 if the connection was closed. */
static int conn_write(rt_conn *c) {
    /* No reply leaves before the requests batched ahead of it. */
    exec_batch_send(c->shard);
    if (c->shard->ur) {
        if (!conn_uring_send(c)) return 0; /* the send's CQE comes back here */
        /* All sent. The send buffer is a second output buffer (conn_uring_
         * send swaps the two): keep it only while small, or every idle
         * connection that once got big replies would hold two of them. */
        if (c->wbuf.cap > RT_WBUF_KEEP) rb_free(&c->wbuf);
    } else {
        if (conn_pending_out(c)) c->shard->net.writes++;
        while (conn_pending_out(c)) {
            ssize_t n = sys_write(c->fd, c->out.buf + c->out_sent, conn_pending_out(c));
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                conn_close(c, strerror(errno));
                return -1;
            }
            c->out_sent += (size_t)n;
            c->shard->net.out_bytes += (size_t)n;
        }
    }
    if (!conn_pending_out(c)) {
        c->out.len = 0;
        c->out_sent = 0;
        c->obuf_soft_since = 0;
        if (c->out.cap > 256 * 1024) rb_free(&c->out);
        /* Every reply is out (but the one of a command that waits when
         * the peer has hung up: see conn_peer_eof). */
        if (c->close_after && c->next_seq - c->flush_seq == (uint64_t)(c->eof && c->waiting)) {
            conn_close(c, NULL);
            return -1;
        }
    }
    return 0;
}

/* client-output-buffer-limit for normal clients. Returns -1 if closed. */
static int conn_check_obuf(rt_conn *c, int64_t now) {
    rt_config *cfg = &c->shard->cfg;
    size_t pend = conn_pending_out(c);
    if (cfg->obuf_hard > 0 && (long long)pend > cfg->obuf_hard) goto kill;
    if (cfg->obuf_soft > 0 && (long long)pend > cfg->obuf_soft) {
        if (!c->obuf_soft_since)
            c->obuf_soft_since = now;
        else if (now - c->obuf_soft_since >= (int64_t)cfg->obuf_soft_secs * 1000)
            goto kill;
    } else {
        c->obuf_soft_since = 0;
    }
    return 0;
kill:
    log_msg(LL_WARNING,
            "Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output buffer "
            "limits.",
            (unsigned long long)c->id, c->peer);
    conn_close(c, NULL);
    return -1;
}

void conn_set_waiting(rt_conn *c, int on) {
    c->waiting = on;
    /* Held output goes now (conn_hold_output); and a peer that hung up
     * before closes (see conn_peer_eof). */
    if (on) conn_mark_flush(c);
}

void conn_resume(rt_conn *c) {
    c->blocked = 0;
    conn_process_input(c);
    if (!c->closed) conn_mark_flush(c);
}

void conn_on_event(rt_conn *c, unsigned ev) {
    if (c->closed) return;
    if ((ev & RX_ERROR) && (c->blocked || c->close_after)) {
        /* The socket failed (peer reset) while this connection does not
         * read: epoll reports the error on every wait whatever the interest
         * mask, and nothing can reach the peer any more. Close now, as a
         * read would; a blocked command then sees its client gone. */
        conn_close(c, "connection reset while not reading");
        return;
    }
    if (ev & RX_WRITE) {
        if (conn_write(c) < 0) return;
        conn_set_events(c);
    }
    if ((ev & RX_READ) && !c->blocked && !c->close_after) conn_read(c);
}

/* io_uring: a completion of one of c's ops. c holds a reference (uops) for
 * the op until its last completion, dropped at the end of this function. */
void conn_on_completion(rt_conn *c, const ur_event *e) {
    rt_shard *s = c->shard;
    int res = e->res;
    if (!e->more) {
        /* The op has ended: nothing may cancel it any more. */
        if (e->op == UR_RECV) c->uf &= ~(CU_RECV | CU_RECV_CANCEL);
        if (e->op == UR_POLL) c->uf &= ~CU_POLL;
        if (e->op == UR_SEND) c->uf &= ~CU_SEND;
    }
    switch (e->op) {
    case UR_RECV:
        if (e->buf) {
            /* Copy out and give the buffer back before anything else runs:
             * the kernel may need it for the next completion. Input that
             * arrives after close_after is dropped, as epoll never reads it. */
            if (!c->closed && !c->close_after && res > 0) {
                conn_qbuf_room(c, (size_t)res);
                memcpy(c->qbuf + c->qlen, e->buf, (size_t)res);
            }
            ur_recycle(s->ur, e->bid);
        }
        if (c->closed || c->close_after) break;
        if (res > 0) {
            if (e->buf) conn_got_input(c, (size_t)res);
        } else if (res == 0) {
            conn_peer_eof(c);
        } else if (res != -ENOBUFS && res != -ECANCELED && res != -EINTR && res != -EAGAIN) {
            conn_close(c, strerror(-res));
        }
        break;
    case UR_POLL:
        /* Armed only while no recv is: a socket error then closes at once. */
        if (!c->closed && res > 0 && (res & POLLERR))
            conn_close(c, "connection reset while not reading");
        break;
    case UR_SEND:
        if (c->closed) break;
        if (res < 0) {
            if (res == -EINTR || res == -EAGAIN) {
                res = 0; /* sent nothing: the flush sends again */
            } else {
                conn_close(c, strerror(-res));
                break;
            }
        }
        c->wsent += (size_t)res;
        s->net.out_bytes += (size_t)res;
        s->net.writes++;
        conn_mark_flush(c); /* the flush sends the rest, or what came since */
        break;
    }
    if (!e->more) {
        c->uops--;
        if (c->closed) {
            conn_uring_release(c);
            conn_maybe_free(c);
            return;
        }
    }
    /* Re-arm an ended recv, or cancel one that has held back enough input,
     * as the state asks. A connection on the flush list gets this there. */
    if (!c->closed && e->op != UR_SEND && !c->in_flush) conn_set_events(c);
}

/* Replies of a pipelined batch whose keys live on several shards come back
 * in pieces: the local ones at once, the others a turn later. Writing each
 * piece costs a send here and a read in the client, which then waits for
 * the rest anyway. So output is held back in two cases:
 * - while requests of c are out on other shards (plain ones or a
 *   multi-shard transaction), until the next of their replies comes in
 *   (conn_deliver puts c on the flush list again), then written whatever is
 *   ready;
 * - while a multi-shard transaction of c runs and more requests already
 *   read wait behind it (the barrier): the batch goes on being answered
 *   as each transaction ends, so its replies leave together, as one read's
 *   worth of requests would from a single-threaded server.
 * Never held: output that something waiting behind it could delay without
 * bound (a blocking command that waits: conn_set_waiting flushes), a
 * connection that is closing, or enough output to fill a send. Returns 1
 * when held now. */
#define CONN_HOLD_MAX (64 * 1024)
static int conn_hold_output(rt_conn *c) {
    size_t pend = conn_pending_out(c);
    if (pend == 0 || pend >= CONN_HOLD_MAX || c->inflight == 0 || c->waiting || c->close_after) {
        c->held = c->held_input = 0;
        return 0;
    }
    if (c->tx_pending && c->blocked && c->qlen > 0 && !c->held_input) {
        /* Behind the barrier: the next transaction's reply comes, and with
         * it the next turn of this, until the input read so far is done.
         * Input that arrives meanwhile (io_uring keeps receiving while
         * parsing is stopped) ends the hold: a client streaming requests
         * would otherwise see no reply until 64 KB of them piled up. */
        c->held = 2;
        return 1;
    }
    if (c->held == 1 || c->blocked) {
        c->held = c->held_input = 0;
        return 0;
    }
    c->held = 1;
    return 1;
}

void conn_flush_all(rt_shard *s) {
    int64_t now = 0;
    while (s->flush_list) {
        rt_conn *c = s->flush_list;
        s->flush_list = c->flush_next;
        c->in_flush = 0;
        if (c->closed) {
            conn_maybe_free(c);
            continue;
        }
        if (c->blocked && !conn_must_block(c) && !s->pause_until) {
            c->blocked = 0;
            conn_process_input(c);
            if (c->closed) continue;
        }
        if (c->eof && !c->blocked) c->close_after = 1; /* all parsed: see conn_peer_eof */
        if (conn_hold_output(c)) {
            conn_set_events(c); /* held output waits: no write interest */
            continue;
        }
        if (conn_write(c) < 0) continue;
        if (conn_pending_out(c)) {
            if (!now) now = util_mstime();
            if (conn_check_obuf(c, now) < 0) continue;
        }
        conn_set_events(c);
    }
}

void conn_cron(rt_shard *s, int64_t now) {
    if (s->pause_until && now >= s->pause_until) {
        s->pause_until = 0;
        for (rt_conn *c = s->conns; c; c = c->next)
            if (c->blocked) conn_mark_flush(c);
    }
    int timeout = s->cfg.timeout;
    /* A new second starts with an empty slot (seconds skipped, too). */
    int64_t sec = now / 1000;
    for (int64_t t = sec - s->peak_sec > RT_PEAK_SECS ? sec - RT_PEAK_SECS + 1 : s->peak_sec + 1;
         t <= sec; t++) {
        s->peak_in[t % RT_PEAK_SECS] = 0;
        s->peak_out[t % RT_PEAK_SECS] = 0;
    }
    int new_sec = sec != s->peak_sec;
    s->peak_sec = sec;
    uint64_t *pin = &s->peak_in[sec % RT_PEAK_SECS], *pout = &s->peak_out[sec % RT_PEAK_SECS];
    rt_conn *next;
    for (rt_conn *c = s->conns; c; c = next) {
        next = c->next;
        uint64_t out = conn_pending_out(c);
        if (c->qcap > *pin) *pin = c->qcap;
        if (out > *pout) *pout = out;
        if (timeout > 0 && c->inflight == 0 && now - c->last_ms > (int64_t)timeout * 1000) {
            conn_close(c, "timeout");
            continue;
        }
        if (new_sec) conn_trim_qbuf(c, now);
        if (c->slot_mask >= RT_SLOTS_KEEP && c->flush_seq == c->next_seq &&
            now - c->last_ms > 1000) {
            /* Idle for a second with no reply pending: give back the ring
             * (and its reply buffers) a deep pipeline grew. Not at the end
             * of each batch: a client that pipelines deep does it again,
             * and would regrow the ring and reallocate its buffers. */
            conn_free_slots(c);
            c->slot_mask = RT_SLOTS_MIN - 1;
            c->slots = calloc(RT_SLOTS_MIN, sizeof(rt_slot));
        }
    }
}

void conn_free_all(rt_shard *s) {
    while (s->conns)
        conn_close(s->conns, NULL);
    while (s->flush_list) {
        rt_conn *c = s->flush_list;
        s->flush_list = c->flush_next;
        c->in_flush = 0;
        conn_maybe_free(c);
    }
}

/* Accessors for the command set. */
uint64_t rt_conn_id(const rt_conn *c) {
    return c->id;
}
rt_shard *rt_conn_shard(rt_conn *c) {
    return c->shard;
}
void *rt_conn_data(rt_conn *c) {
    return c->cdata;
}
int rt_conn_db(const rt_conn *c) {
    return c->db;
}
void rt_conn_set_db(rt_conn *c, int db) {
    c->db = db;
}
int rt_conn_resp(const rt_conn *c) {
    return c->resp;
}
void rt_conn_set_resp(rt_conn *c, int resp) {
    c->resp = resp;
    if (c->cur_reply) c->cur_reply->resp = resp;
}
void rt_conn_set_authenticated(rt_conn *c, int yes) {
    c->parser.unauthenticated = !yes;
}
const char *rt_conn_peer(const rt_conn *c) {
    return c->peer;
}
const char *rt_conn_local(const rt_conn *c) {
    return c->local;
}
int rt_conn_fd(const rt_conn *c) {
    return c->fd;
}
int64_t rt_conn_created_ms(const rt_conn *c) {
    return c->created_ms;
}
int64_t rt_conn_last_ms(const rt_conn *c) {
    return c->last_ms;
}
size_t rt_conn_qbuf(const rt_conn *c) {
    return c->qlen;
}
size_t rt_conn_qbuf_free(const rt_conn *c) {
    return c->qcap - c->qlen;
}
size_t rt_conn_obuf(const rt_conn *c) {
    return conn_pending_out(c);
}
size_t rt_conn_mem(const rt_conn *c) {
    size_t n = sizeof(*c) + c->qcap + c->out.cap + c->wbuf.cap;
    if (c->slots) {
        n += (c->slot_mask + 1) * sizeof(rt_slot);
        for (uint64_t i = 0; i <= c->slot_mask; i++)
            n += c->slots[i].rb.cap;
    }
    return n;
}
uint64_t rt_conn_cmds(const rt_conn *c) {
    return c->ncmds;
}
void rt_conn_close_after_reply(rt_conn *c) {
    c->close_after = 1;
    conn_mark_flush(c);
}
void rt_conn_set_reply_mode(rt_conn *c, int mode) {
    c->reply_mode = mode;
    if (c->cur_reply) c->reply_override = mode != 0;
}
void rt_shard_foreach_conn(rt_shard *s, void (*fn)(rt_conn *c, void *arg), void *arg) {
    rt_conn *next;
    for (rt_conn *c = s->conns; c; c = next) {
        next = c->next;
        fn(c, arg);
    }
}
void rt_conn_push(rt_conn *c, const void *p, size_t n) {
    if (c->closed) return;
    rb_append(&c->out, p, n);
    conn_mark_flush(c);
}
