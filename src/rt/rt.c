/* rt.c -- the runtime: shard threads, the per-shard event loop, and message
 * passing between shards.
 *
 * Every shard thread runs shard_loop(): wait on its reactor, serve its
 * listeners and connections, drain the rings from other shards (at most
 * RT_DRAIN_CAP messages per ring per turn, so one busy peer cannot starve
 * local clients), run cron at `hz`, write pending output, then push what it
 * produced for other shards and wake those that sleep.
 *
 * Wake-up protocol (no lost wake-ups). A consumer going to sleep does
 *     parked = 1; fence(seq_cst); if any ring non-empty: parked = 0, don't sleep
 * and a producer, after its ring pushes of the turn, does
 *     fence(seq_cst); if parked: exchange(parked, 0) == 1 -> write(eventfd)
 * With a full fence on both sides, either the consumer sees the new ring
 * tail, or the producer sees parked == 1 and wakes it: never neither.
 * Only a parked target costs a syscall; a busy one finds the message on its
 * next turn.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../sys/net.h"
#include "../sys/sysio.h"
#include "rt_int.h"

/* A full (StoreLoad) fence. ThreadSanitizer does not model standalone
 * fences, so its builds use a seq_cst read-modify-write of a private
 * variable instead, which x86 also executes as a full barrier. */
#if defined(__SANITIZE_THREAD__)
static _Atomic int rt_fence_word;
#define rt_full_fence() atomic_fetch_add_explicit(&rt_fence_word, 0, memory_order_seq_cst)
#else
#define rt_full_fence() atomic_thread_fence(memory_order_seq_cst)
#endif

/* Queue m for shard `to`. Order per (from, to) pair is FIFO: once a backlog
 * exists, new messages go behind it even if the ring has room again. */
void shard_send(rt_shard *s, int to, rt_msg *m) {
    /* Requests still gathered in batches were dispatched before whatever
     * led to this message: they go first, so no shard sees the effect of
     * this one before theirs. */
    if (m->type != MSG_EXEC) exec_batch_send(s);
    m->from = s->id;
    if (to == s->id) {
        mq_push(&s->selfq, m);
        return;
    }
    rt_shard *t = &s->r->shards[to];
    if (s->backlog[to].head || ring_push(&t->in[s->id], m) < 0) mq_push(&s->backlog[to], m);
    if (!s->touched[to]) {
        s->touched[to] = 1;
        s->ntouched++;
    }
}

/* Move backlogs into rings and wake parked targets touched this turn. */
static void shard_flush_outbound(rt_shard *s) {
    rt *r = s->r;
    exec_batch_send(s);
    if (s->ntouched == 0) return;
    int any = 0;
    for (int j = 0; j < r->n; j++) {
        if (!s->touched[j]) continue;
        rt_shard *t = &r->shards[j];
        while (s->backlog[j].head) {
            /* Unlink before the push: once pushed, the message belongs to
             * shard j, which may already be reusing its next field. */
            rt_msg *m = s->backlog[j].head;
            rt_msg *next = m->next;
            if (ring_push(&t->in[s->id], m) < 0) break;
            s->backlog[j].head = next;
            if (!next) s->backlog[j].tail = NULL;
        }
        if (s->backlog[j].head) s->more = 1; /* retry next turn */
        any = 1;
    }
    if (!any) return;
    rt_full_fence();
    for (int j = 0; j < r->n; j++) {
        if (!s->touched[j]) continue;
        rt_shard *t = &r->shards[j];
        if (!s->backlog[j].head) {
            s->touched[j] = 0;
            s->ntouched--;
        }
        if (atomic_load_explicit(&t->parked, memory_order_relaxed) &&
            atomic_exchange_explicit(&t->parked, 0, memory_order_seq_cst)) {
            uint64_t one = 1;
            ssize_t w = sys_write(t->efd, &one, sizeof(one));
            (void)w;
        }
    }
}

/* Free a message that will not be handled (teardown). A dropped broadcast
 * still runs its done callback once (with no shard) so its argument is
 * freed. */
static void msg_free(rt_msg *m) {
    if (m->type == MSG_EXEC || m->type == MSG_REPLY) rb_free(&m->u.ex.reply);
    if (m->type == MSG_TX_UNLOCK) free(m->u.tx.lockh);
    if ((m->type == MSG_CALL || m->type == MSG_CALLDONE) && --*m->u.call.pending == 0) {
        if (m->u.call.done) m->u.call.done(NULL, m->u.call.arg);
        free(m->u.call.pending);
    }
    free(m);
}

/* Handle one message now (the held check has been made by the caller). */
static void shard_handle_now(rt_shard *s, rt_msg *m) {
    switch (m->type) {
    case MSG_EXEC:
        exec_run(s, m);
        break;
    case MSG_REPLY:
        exec_reply(s, m);
        break;
    case MSG_CALL:
        m->u.call.fn(s, m->u.call.arg);
        m->type = MSG_CALLDONE;
        shard_send(s, m->from, m);
        break;
    case MSG_CALLDONE:
        if (--*m->u.call.pending == 0) {
            if (m->u.call.done) m->u.call.done(s, m->u.call.arg);
            free(m->u.call.pending);
        }
        free(m);
        break;
    case MSG_STOP:
        free(m);
        break;
    default:
        tx_on_msg(s, m);
        break;
    }
}

/* Handle one incoming message: work that touches shard data waits while a
 * transaction holds what it needs, and behind work already waiting, so it
 * all runs in arrival order. */
static void shard_handle(rt_shard *s, rt_msg *m) {
    if ((m->type == MSG_EXEC || m->type == MSG_TX_LOCK) &&
        (s->deferred.head || !tx_may_run(s, m))) {
        mq_push(&s->deferred, m);
        return;
    }
    shard_handle_now(s, m);
}

/* Run deferred work after a tx released the shard or some keys, until the
 * queue is empty or its first request must wait again. */
void tx_release_held(rt_shard *s) {
    while (s->deferred.head && tx_may_run(s, s->deferred.head))
        shard_handle_now(s, mq_pop(&s->deferred));
}

static void shard_drain(rt_shard *s) {
    rt *r = s->r;
    for (int j = 0; j < r->n; j++) {
        if (j == s->id) continue;
        int k = 0;
        rt_msg *m;
        while (k < RT_DRAIN_CAP && (m = ring_pop(&s->in[j])) != NULL) {
            shard_handle(s, m);
            k++;
        }
        if (k == RT_DRAIN_CAP) s->more = 1;
    }
    /* Messages to itself; handling may queue more, so bound the turn. */
    for (int k = 0; k < RT_DRAIN_CAP * 4 && s->selfq.head; k++)
        shard_handle(s, mq_pop(&s->selfq));
    if (s->selfq.head) s->more = 1;
}

static int shard_inbox_empty(rt_shard *s) {
    for (int j = 0; j < s->r->n; j++)
        if (j != s->id && !ring_empty(&s->in[j])) return 0;
    return 1;
}

static void shard_cron(rt_shard *s, int64_t now) {
    int hz = s->cfg.hz > 0 ? s->cfg.hz : 10;
    s->next_cron_ms = now + 1000 / hz;
    if (!s->holder && s->r->ops->shard_cron) s->r->ops->shard_cron(s, s->sdata);
    /* A key-lock table a burst of big multi-key commands grew goes back
     * when it is empty at a tick (not at every release: a client sending
     * big MSETs one after another would regrow it for each). */
    if (s->klocks.n == 0 && s->klocks.mask >= 4096) klock_free(s);
    conn_cron(s, now);
}

/* epoll: handle one readiness event. */
static void shard_rx_event(rt_shard *s, const rx_event *e) {
    void *u = e->udata;
    if (u == &s->efd) {
        /* A wake-up: the eventfd is edge-triggered, so its counter is never
         * read (2^64 wake-ups would be needed to fill it); the rings are
         * drained after the events in any case. */
    } else if ((int *)u >= s->lfds && (int *)u < s->lfds + s->nlfds) {
        conn_accept(s, *(int *)u);
    } else {
        conn_on_event((rt_conn *)u, e->events);
    }
}

/* io_uring: handle one completion. */
static void shard_uring_event(rt_shard *s, const ur_event *e) {
    void *u = e->udata;
    if (u == &s->efd) {
        /* A wake-up (the counter is never read, as with epoll); a poll that
         * ended (CQ overflow) is armed again. */
        if (!e->more && !s->stopping) ur_poll(s->ur, s->efd, POLLIN, &s->efd);
    } else if (e->op == UR_ACCEPT) {
        int *lfd = u;
        if (e->res >= 0)
            conn_accept_fd(s, e->res);
        else if (e->res != -ECANCELED && e->res != -EAGAIN && e->res != -EINTR)
            log_msg(LL_VERBOSE, "Accepting client connection: %s", strerror(-e->res));
        if (!e->more && !s->stopping) ur_accept(s->ur, *lfd, lfd);
    } else {
        conn_on_completion((rt_conn *)u, e);
    }
}

/* io_uring: close every connection and wait until the ring has nothing in
 * flight, so no op refers to a freed connection or buffer when the ring is
 * freed (on another thread). Bounded: a kernel that never completes a
 * cancel leaves that connection allocated. */
static void shard_uring_teardown(rt_shard *s) {
    s->stopping = 1;
    conn_free_all(s);
    for (int i = 0; i < s->nlfds; i++)
        ur_cancel(s->ur, UR_ACCEPT, &s->lfds[i]);
    ur_cancel(s->ur, UR_POLL, &s->efd);
    ur_event evs[256];
    int64_t deadline = util_mstime() + 2000;
    while (ur_inflight(s->ur) > 0 && util_mstime() < deadline) {
        int n = ur_wait(s->ur, evs, 256, 10);
        for (int i = 0; i < n; i++)
            shard_uring_event(s, &evs[i]);
    }
}

static void shard_loop(rt_shard *s) {
    rt *r = s->r;
    rx_event evs[256];
    ur_event uevs[256];
    s->now_us = util_ustime();
    s->next_cron_ms = s->now_us / 1000;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        /* The cached clock: read after the last wake-up and refreshed by
         * every command since, so at most one flush behind. */
        int64_t now = s->now_us / 1000;
        int timeout = (int)(s->next_cron_ms - now);
        if (timeout < 0) timeout = 0;
        if (s->more || s->selfq.head) timeout = 0;
        s->more = 0;
        if (timeout > 0) {
            atomic_store_explicit(&s->parked, 1, memory_order_seq_cst);
            rt_full_fence();
            if (!shard_inbox_empty(s)) {
                atomic_store_explicit(&s->parked, 0, memory_order_relaxed);
                timeout = 0;
            }
        }
        int n = s->ur ? ur_wait(s->ur, uevs, 256, timeout) : rx_wait(s->rx, evs, 256, timeout);
        if (timeout > 0) atomic_store_explicit(&s->parked, 0, memory_order_relaxed);
        s->now_us = util_ustime();
        if (s->ur) {
            for (int i = 0; i < n; i++)
                shard_uring_event(s, &uevs[i]);
            if (n == 256) s->more = 1; /* more completions may be waiting */
        } else {
            for (int i = 0; i < n; i++)
                shard_rx_event(s, &evs[i]);
        }
        shard_drain(s);
        now = s->now_us / 1000;
        if (now >= s->next_cron_ms) shard_cron(s, now);
        conn_flush_all(s);
        shard_flush_outbound(s);
    }
}

static void *shard_thread(void *arg) {
    rt_shard *s = arg;
    if (s->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(s->cpu, &set);
        int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        if (rc != 0)
            log_msg(LL_WARNING, "Cannot bind shard %d to CPU %d: %s", s->id, s->cpu, strerror(rc));
    }
    if (s->r->ops->shard_init) s->sdata = s->r->ops->shard_init(s, s->id);
    if (s->ur) {
        /* rt_new's probe ran the same steps on this kernel: failing here
         * leaves no engine to serve this shard's clients. */
        int rc = ur_start(s->ur);
        if (rc < 0) {
            log_msg(LL_WARNING, "io_uring: cannot start shard %d's ring: %s", s->id, strerror(-rc));
            abort();
        }
        for (int i = 0; i < s->nlfds; i++)
            ur_accept(s->ur, s->lfds[i], &s->lfds[i]);
        ur_poll(s->ur, s->efd, POLLIN, &s->efd);
    } else {
        for (int i = 0; i < s->nlfds; i++)
            rx_add(s->rx, s->lfds[i], RX_READ, &s->lfds[i]);
        rx_add(s->rx, s->efd, RX_READ | RX_EDGE, &s->efd);
    }
    shard_loop(s);
    if (s->ur) shard_uring_teardown(s);
    return NULL;
}

/* Read a decimal number at *p (advanced past it); -1 if there is none. */
static long cpulist_num(const char **p) {
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9') return -1;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > CPU_SETSIZE) return -1;
    }
    *p = s;
    return v;
}

int rt_parse_cpulist(const char *s, int *cpus, int max) {
    int n = 0;
    if (!s || !*s) return 0;
    for (;;) {
        long a = cpulist_num(&s), b = a, step = 1;
        if (a < 0) return -1;
        if (*s == '-') {
            s++;
            if ((b = cpulist_num(&s)) < a) return -1;
            if (*s == ':') {
                s++;
                if ((step = cpulist_num(&s)) < 1) return -1;
            }
        }
        for (long c = a; c <= b; c += step) {
            if (c >= CPU_SETSIZE) return -1;
            if (n < max) cpus[n] = (int)c;
            n++;
        }
        if (*s == '\0') return n;
        if (*s++ != ',') return -1;
    }
}

/* Choose the CPU of every shard from cfg->cpulist (none: unbound). */
static void rt_bind_plan(rt *r) {
    int cpus[CPU_SETSIZE];
    int n = rt_parse_cpulist(r->cfg.cpulist, cpus, CPU_SETSIZE);
    if (n < 0)
        log_msg(LL_WARNING, "Invalid server_cpulist '%s'; shard threads are not bound",
                r->cfg.cpulist);
    if (n > CPU_SETSIZE) n = CPU_SETSIZE; /* CPUs listed more than once */
    for (int i = 0; i < r->n; i++)
        r->shards[i].cpu = n > 0 ? cpus[i % n] : -1;
}

/* Choose the I/O engine: 1 io_uring, 0 epoll, -1 error (in err). */
static int rt_pick_engine(const char *want, char *err, size_t errlen) {
    if (!want || !*want) want = "auto";
    if (!strcmp(want, "epoll")) return 0;
    int explicit_uring = !strcmp(want, "io_uring");
    if (!explicit_uring && strcmp(want, "auto") != 0) {
        snprintf(err, errlen, "Unknown io-engine '%s' (auto, io_uring or epoll)", want);
        return -1;
    }
    char why[256] = "";
    if (ur_supported(why, sizeof(why))) return 1;
    if (explicit_uring) {
        snprintf(err, errlen, "io-engine io_uring is not available here: %s", why);
        return -1;
    }
    log_msg(LL_NOTICE, "io_uring is not available (%s); using epoll", why);
    return 0;
}

rt *rt_new(const rt_config *cfg, const rt_ops *ops, char *err, size_t errlen) {
    int use_uring = rt_pick_engine(cfg->io_engine, err, errlen);
    if (use_uring < 0) return NULL;
    rt *r = calloc(1, sizeof(*r));
    r->cfg = *cfg;
    r->cfg.io_engine = use_uring ? "io_uring" : "epoll";
    r->ops = ops;
    r->n = cfg->nshards > 0 ? cfg->nshards : 1;
    atomic_init(&r->stop, 0);
    atomic_init(&r->nconns, 0);
    atomic_init(&r->next_conn_id, 1);
    r->shards = calloc((size_t)r->n, sizeof(rt_shard));
    for (int i = 0; i < r->n; i++)
        r->shards[i].efd = -1; /* rt_free after a failure closes only those made */
    rt_bind_plan(r);
    for (int i = 0; i < r->n; i++) {
        rt_shard *s = &r->shards[i];
        s->r = r;
        s->id = i;
        s->cfg = r->cfg;
        if (use_uring) {
            s->ur = ur_new(err, errlen);
            if (!s->ur) {
                rt_free(r);
                return NULL;
            }
        } else {
            s->rx = rx_new(256);
        }
        s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        atomic_init(&s->parked, 0);
        s->in = calloc((size_t)r->n, sizeof(spsc_ring));
        s->backlog = calloc((size_t)r->n, sizeof(msg_queue));
        s->touched = calloc((size_t)r->n, 1);
        s->batch = calloc((size_t)r->n, sizeof(rt_msg *));
        for (int j = 0; j < r->n; j++)
            if (j != i) ring_init(&s->in[j], RT_RING_SIZE);
        s->lfds = calloc((size_t)(cfg->nbind > 0 ? cfg->nbind : 1), sizeof(int));
        for (int b = 0; b < cfg->nbind; b++) {
            const char *addr = cfg->bind[b];
            int optional = addr[0] == '-';
            if (optional) addr++;
            int fd = net_listen(addr, cfg->port, 511, err, errlen);
            if (fd < 0) {
                if (optional) continue;
                rt_free(r);
                return NULL;
            }
            s->lfds[s->nlfds++] = fd;
        }
        if (s->nlfds == 0 && cfg->nbind > 0) {
            snprintf(err, errlen, "Failed listening on port %d (tcp), aborting.", cfg->port);
            rt_free(r);
            return NULL;
        }
    }
    if (use_uring)
        log_msg(LL_NOTICE, "I/O engine io_uring (%s), %d shards", ur_setup_desc(r->shards[0].ur),
                r->n);
    else
        log_msg(LL_NOTICE, "I/O engine epoll, %d shards", r->n);
    return r;
}

int rt_run(rt *r) {
    for (int i = 1; i < r->n; i++)
        pthread_create(&r->shards[i].thread, NULL, shard_thread, &r->shards[i]);
    shard_thread(&r->shards[0]);
    for (int i = 1; i < r->n; i++)
        pthread_join(r->shards[i].thread, NULL);
    return 0;
}

void rt_stop(rt *r) {
    atomic_store(&r->stop, 1);
    for (int i = 0; i < r->n; i++) {
        uint64_t one = 1;
        ssize_t w = write(r->shards[i].efd, &one, sizeof(one));
        (void)w;
    }
}

/* Free everything. Only after rt_run returned (all threads joined) or
 * before it ran. Messages still in flight are dropped. */
void rt_free(rt *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        rt_shard *s = &r->shards[i];
        conn_free_all(s);
    }
    for (int i = 0; i < r->n; i++) {
        rt_shard *s = &r->shards[i];
        rt_msg *m;
        for (int j = 0; j < r->n; j++) {
            if (j != i && s->in && s->in[j].slots) {
                while ((m = ring_pop(&s->in[j])) != NULL)
                    msg_free(m);
                ring_deinit(&s->in[j]);
            }
            if (s->backlog)
                while ((m = mq_pop(&s->backlog[j])) != NULL)
                    msg_free(m);
            if (s->batch && s->batch[j]) msg_free(s->batch[j]);
        }
        while ((m = mq_pop(&s->selfq)) != NULL)
            msg_free(m);
        while ((m = mq_pop(&s->deferred)) != NULL)
            msg_free(m);
        klock_free(s);
        exec_msg_pool_free(s);
        if (s->sdata && r->ops->shard_free) r->ops->shard_free(s->sdata);
        for (int k = 0; k < s->nlfds; k++)
            close(s->lfds[k]);
        free(s->lfds);
        if (s->efd >= 0) close(s->efd);
        if (s->rx) rx_free(s->rx);
        ur_free(s->ur);
        free(s->in);
        free(s->backlog);
        free(s->touched);
        free(s->batch);
        free(s->keybuf);
        free(s->argv_buf);
        free(s->ints_buf);
        free(s->hash_buf);
    }
    free(r->shards);
    free(r);
}

/* Send shard `to` a MSG_CALL running fn(arg), then done(arg) on the sender
 * once *pending (shared by the calls of one broadcast) counts down to 0. */
static void call_send(rt_shard *from, int to, void (*fn)(rt_shard *s, void *arg), void *arg,
                      void (*done)(rt_shard *s, void *arg), int *pending) {
    rt_msg *m = calloc(1, sizeof(rt_msg));
    m->type = MSG_CALL;
    m->u.call.fn = fn;
    m->u.call.done = done;
    m->u.call.arg = arg;
    m->u.call.pending = pending;
    shard_send(from, to, m);
}

void rt_broadcast(rt_shard *from, void (*fn)(rt_shard *s, void *arg), void *arg,
                  void (*done)(rt_shard *s, void *arg)) {
    int *pending = malloc(sizeof(int));
    *pending = from->r->n;
    for (int j = 0; j < from->r->n; j++)
        call_send(from, j, fn, arg, done, pending);
}

void rt_post(rt_shard *from, int to, void (*fn)(rt_shard *s, void *arg), void *arg) {
    int *pending = malloc(sizeof(int));
    *pending = 1;
    call_send(from, to, fn, arg, NULL, pending);
}

size_t argv_bytes(int argc, const rt_arg *argv) {
    size_t n = 0;
    for (int i = 0; i < argc; i++)
        n += argv[i].len;
    return n;
}

void argv_fill(rt_arg *dst, int argc, const rt_arg *src) {
    char *p = (char *)(dst + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, src[i].p, src[i].len);
        dst[i].p = p;
        dst[i].len = src[i].len;
        p += src[i].len;
    }
}

rt_arg *rt_argv_dup(int argc, const rt_arg *argv) {
    rt_arg *a = malloc(sizeof(rt_arg) * (size_t)argc + argv_bytes(argc, argv) + 1);
    argv_fill(a, argc, argv);
    return a;
}

int rt_nshards(const rt *r) {
    return r->n;
}

int rt_key_shard(const rt *r, const char *key, size_t len) {
    if (r->n == 1) return 0;
    return rt_hash_shard(r, rt_key_hash(r, key, len), r->n);
}

uint64_t rt_key_hash(const rt *r, const char *key, size_t len) {
    return util_hash(key, len, r->cfg.seed);
}

int64_t rt_shard_now_us(const rt_shard *s) {
    return s->now_us;
}

int64_t rt_shard_clock(rt_shard *s) {
    s->now_us = util_ustime();
    return s->now_us;
}

rt *rt_of(rt_shard *s) {
    return s->r;
}
int rt_shard_id(const rt_shard *s) {
    return s->id;
}
void *rt_shard_data(rt_shard *s) {
    return s->sdata;
}
const rt_config *rt_cfg(const rt *r) {
    return &r->cfg;
}
rt_config *rt_shard_cfg(rt_shard *s) {
    return &s->cfg;
}

int *rt_plan_keybuf(rt_shard *s, int n) {
    if (n > s->keybuf_cap) {
        s->keybuf_cap = n < 64 ? 64 : n;
        free(s->keybuf);
        s->keybuf = malloc(sizeof(int) * (size_t)s->keybuf_cap);
    }
    return s->keybuf;
}

void rt_shard_pause_until(rt_shard *s, int64_t until_ms, int writes_only) {
    s->pause_until = until_ms;
    s->pause_writes_only = writes_only;
    if (until_ms == 0) {
        for (rt_conn *c = s->conns; c; c = c->next)
            if (c->blocked) conn_resume(c);
    }
}

int rt_shard_nconns(const rt_shard *s) {
    return s->nconns;
}
size_t rt_shard_conns_mem(const rt_shard *s) {
    size_t n = 0;
    for (const rt_conn *c = s->conns; c; c = c->next)
        n += rt_conn_mem(c);
    return n;
}
void rt_shard_buffer_peaks(const rt_shard *s, uint64_t *in, uint64_t *out) {
    *in = *out = 0;
    for (int i = 0; i < RT_PEAK_SECS; i++) {
        if (s->peak_in[i] > *in) *in = s->peak_in[i];
        if (s->peak_out[i] > *out) *out = s->peak_out[i];
    }
}

rt_net_stats *rt_shard_net(rt_shard *s) {
    return &s->net;
}
long rt_total_conns(const rt *r) {
    return atomic_load_explicit(&((rt *)r)->nconns, memory_order_relaxed);
}
