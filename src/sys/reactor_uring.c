/* reactor_uring.c -- the io_uring engine (see reactor_uring.h), on liburing.
 *
 * user_data of every SQE: the op kind in the top byte, the caller's pointer
 * in the low 56 bits (user-space addresses fit), so a completion names both
 * without a lookup table. Cancel requests carry op 0 and are swallowed here.
 *
 * Setup flags are probed by trying: SINGLE_ISSUER + DEFER_TASKRUN (task work
 * runs only when this thread enters the kernel to wait, i.e. batched), then
 * SINGLE_ISSUER + COOP_TASKRUN, then COOP_TASKRUN, then none. Rings with
 * SINGLE_ISSUER are created disabled, because rt_new runs on the main
 * thread; ur_start enables them on the shard thread, which becomes the one
 * issuer.
 */
#include "reactor_uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

#define UR_SQ_ENTRIES 1024
#define UR_CQ_ENTRIES 16384 /* multishot ops of many connections complete in bursts */
#define UR_BGID 1
#define UR_PTR_MASK ((UINT64_C(1) << 56) - 1)

struct uring {
    struct io_uring ring;
    int ring_ok;
    unsigned flags;
    struct io_uring_buf_ring *br; /* registered by ur_start */
    char *bufs;                   /* UR_NBUFS * UR_BUFSZ bytes */
    int inflight;
};

static uint64_t ur_tag(int op, void *udata) {
    return ((uint64_t)op << 56) | ((uint64_t)(uintptr_t)udata & UR_PTR_MASK);
}

uring *ur_new(char *err, size_t errlen) {
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    uring *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "io_uring: out of memory");
        return NULL;
    }
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        p.flags = tries[i] | IORING_SETUP_CQSIZE;
        p.cq_entries = UR_CQ_ENTRIES;
        rc = io_uring_queue_init_params(UR_SQ_ENTRIES, &u->ring, &p);
        if (rc == 0) {
            u->flags = tries[i];
            u->ring_ok = 1;
            break;
        }
        if (rc != -EINVAL) break; /* not a flag problem: ENOSYS, EPERM, ENOMEM ... */
    }
    if (!u->ring_ok) {
        snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-rc));
        free(u);
        return NULL;
    }
    if (posix_memalign((void **)&u->bufs, 4096, (size_t)UR_NBUFS * UR_BUFSZ) != 0 ||
        posix_memalign((void **)&u->br, 4096, UR_NBUFS * sizeof(struct io_uring_buf)) != 0) {
        snprintf(err, errlen, "io_uring: out of memory for receive buffers");
        ur_free(u);
        return NULL;
    }
    return u;
}

int ur_start(uring *u) {
    if (u->flags & IORING_SETUP_R_DISABLED) {
        /* io_uring_enable_rings is declared but not exported by liburing 2.3. */
        if (syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
                    0) < 0)
            return -errno;
    }
    memset(u->br, 0, UR_NBUFS * sizeof(struct io_uring_buf));
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (uint64_t)(uintptr_t)u->br;
    reg.ring_entries = UR_NBUFS;
    reg.bgid = UR_BGID;
    int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0) return rc;
    io_uring_buf_ring_init(u->br);
    int mask = io_uring_buf_ring_mask(UR_NBUFS);
    for (int i = 0; i < UR_NBUFS; i++)
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * UR_BUFSZ, UR_BUFSZ, (unsigned short)i,
                              mask, i);
    io_uring_buf_ring_advance(u->br, UR_NBUFS);
    return 0;
}

void ur_free(uring *u) {
    if (!u) return;
    /* Closing the ring cancels whatever is still armed; the buffer ring is
     * dropped with it (unregistering would have to run on the issuer). */
    if (u->ring_ok) io_uring_queue_exit(&u->ring);
    free(u->br);
    free(u->bufs);
    free(u);
}

const char *ur_setup_desc(const uring *u) {
    if (u->flags & IORING_SETUP_DEFER_TASKRUN) return "single-issuer,defer-taskrun";
    if (u->flags & IORING_SETUP_SINGLE_ISSUER) return "single-issuer,coop-taskrun";
    if (u->flags & IORING_SETUP_COOP_TASKRUN) return "coop-taskrun";
    return "plain";
}

/* The next free SQE; when the SQ ring is full, what is queued is submitted
 * first (it runs a little earlier than the batch would have; order between
 * SQEs is kept). */
static struct io_uring_sqe *ur_sqe(uring *u) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    for (int tries = 0; !sqe && tries < 100; tries++) {
        int rc = io_uring_submit(&u->ring);
        if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) break;
        if (rc <= 0) io_uring_get_events(&u->ring); /* let a full CQ make room */
        sqe = io_uring_get_sqe(&u->ring);
    }
    if (!sqe) {
        /* Nothing sensible can continue without the ring. */
        fprintf(stderr, "io_uring: no submission queue entry available\n");
        abort();
    }
    u->inflight++;
    return sqe;
}

void ur_accept(uring *u, int fd, void *udata) {
    struct io_uring_sqe *sqe = ur_sqe(u);
    io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ur_tag(UR_ACCEPT, udata));
}

void ur_recv(uring *u, int fd, void *udata) {
    struct io_uring_sqe *sqe = ur_sqe(u);
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = UR_BGID;
    io_uring_sqe_set_data64(sqe, ur_tag(UR_RECV, udata));
}

void ur_poll(uring *u, int fd, unsigned mask, void *udata) {
    struct io_uring_sqe *sqe = ur_sqe(u);
    io_uring_prep_poll_multishot(sqe, fd, mask);
    io_uring_sqe_set_data64(sqe, ur_tag(UR_POLL, udata));
}

void ur_send(uring *u, int fd, const void *buf, size_t len, void *udata) {
    struct io_uring_sqe *sqe = ur_sqe(u);
    io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, ur_tag(UR_SEND, udata));
}

void ur_cancel(uring *u, int op, void *udata) {
    struct io_uring_sqe *sqe = ur_sqe(u);
    io_uring_prep_cancel64(sqe, ur_tag(op, udata), 0);
    io_uring_sqe_set_data64(sqe, 0);
}

void ur_recycle(uring *u, int bid) {
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * UR_BUFSZ, UR_BUFSZ, (unsigned short)bid,
                          io_uring_buf_ring_mask(UR_NBUFS), 0);
    io_uring_buf_ring_advance(u->br, 1);
}

int ur_wait(uring *u, ur_event *ev, int maxev, int timeout_ms) {
    struct io_uring_cqe *cqe;
    if (timeout_ms == 0) {
        /* Without deferred task work, completions are already in the CQ
         * ring: enter only to submit. With it, entering runs them. */
        if (io_uring_sq_ready(&u->ring) || (u->flags & IORING_SETUP_DEFER_TASKRUN))
            io_uring_submit_and_get_events(&u->ring);
    } else if (timeout_ms < 0) {
        io_uring_submit_and_wait(&u->ring, 1);
    } else {
        struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                       .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
        io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
    }
    unsigned head, seen = 0;
    int n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
        if (n == maxev) break;
        seen++;
        int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
        if (!more) u->inflight--;
        int op = (int)(cqe->user_data >> 56);
        if (op == 0) continue; /* a cancel request's own result */
        ur_event *e = &ev[n++];
        e->udata = (void *)(uintptr_t)(cqe->user_data & UR_PTR_MASK);
        e->op = op;
        e->res = cqe->res;
        e->more = more;
        e->bid = -1;
        e->buf = NULL;
        if (cqe->flags & IORING_CQE_F_BUFFER) {
            e->bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
            e->buf = u->bufs + (size_t)e->bid * UR_BUFSZ;
        }
    }
    io_uring_cq_advance(&u->ring, seen);
    return n;
}

int ur_inflight(const uring *u) {
    return u->inflight;
}

int ur_supported(char *why, size_t cap) {
    /* For tests of the fallback on kernels that do have io_uring. */
    const char *off = getenv("PERCORE_DISABLE_IO_URING");
    if (off && *off && strcmp(off, "0") != 0) {
        snprintf(why, cap, "disabled by PERCORE_DISABLE_IO_URING");
        return 0;
    }
    uring *u = ur_new(why, cap);
    if (!u) return 0;
    int ok = 0, sv[2] = {-1, -1};
    int rc = ur_start(u);
    if (rc < 0) {
        snprintf(why, cap, "io_uring provided-buffer ring: %s", strerror(-rc));
        goto out;
    }
    struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);
    static const int need[] = {IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_POLL_ADD,
                               IORING_OP_ASYNC_CANCEL};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        if (!probe || !io_uring_opcode_supported(probe, need[i])) {
            snprintf(why, cap, "io_uring lacks opcode %d", need[i]);
            if (probe) io_uring_free_probe(probe);
            goto out;
        }
    }
    io_uring_free_probe(probe);
    /* Multishot recv into a provided buffer, and its cancellation. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(why, cap, "socketpair: %s", strerror(errno));
        goto out;
    }
    static int token;
    ur_recv(u, sv[0], &token);
    if (write(sv[1], "x", 1) != 1) {
        snprintf(why, cap, "socketpair write: %s", strerror(errno));
        goto out;
    }
    ur_event ev[4];
    int got = 0;
    for (int i = 0; i < 20 && !got; i++) {
        int n = ur_wait(u, ev, 4, 50);
        for (int k = 0; k < n; k++) {
            if (ev[k].op == UR_RECV && ev[k].udata == &token) {
                if (ev[k].res == 1 && ev[k].more && ev[k].buf && ev[k].buf[0] == 'x') {
                    got = 1;
                    ur_recycle(u, ev[k].bid);
                } else {
                    snprintf(why, cap, "multishot recv unsupported (res %d, more %d)", ev[k].res,
                             ev[k].more);
                    goto out;
                }
            }
        }
    }
    if (!got) {
        snprintf(why, cap, "multishot recv: no completion");
        goto out;
    }
    ur_cancel(u, UR_RECV, &token);
    for (int i = 0; i < 20 && ur_inflight(u) > 0; i++)
        ur_wait(u, ev, 4, 50);
    ok = ur_inflight(u) == 0;
    if (!ok) snprintf(why, cap, "io_uring cancel did not complete");
out:
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    ur_free(u);
    return ok;
}
