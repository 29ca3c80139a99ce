/* reactor_uring.h -- the io_uring engine of a shard thread: one ring per
 * shard, never shared. Unlike the epoll reactor (reactor.h) it is
 * completion-based: the caller arms operations (multishot accept, multishot
 * recv into the ring's provided buffers, multishot poll, send) and ur_wait()
 * hands back their completions. SQEs queued between two ur_wait() calls are
 * submitted by the next ur_wait() in the same io_uring_enter as the wait.
 *
 * Every operation carries (op, udata); its completions come back with the
 * same pair. An op is in flight from the call that queued it until its last
 * completion (one with more == 0): whatever udata points to, and the bytes
 * of a send, must stay valid and untouched until then.
 */
#ifndef PERCORE_REACTOR_URING_H
#define PERCORE_REACTOR_URING_H

#include <stddef.h>

/* Operation kinds (ur_event.op). */
enum { UR_POLL = 1, UR_ACCEPT, UR_RECV, UR_SEND };

/* Provided receive buffers per ring, and their size. */
#define UR_NBUFS 256
#define UR_BUFSZ (16 * 1024)

typedef struct uring uring;

typedef struct ur_event {
    void *udata;     /* as passed when the op was queued */
    int op;          /* UR_* */
    int res;         /* the CQE's result: bytes, a new fd, poll bits, or -errno */
    int more;        /* 1: a multishot op that stays armed */
    int bid;         /* UR_RECV with bytes: the provided buffer holding them, else -1 */
    const char *buf; /* ... and its address; give it back with ur_recycle() */
} ur_event;

/* 1 if this kernel (and sandbox) gives everything the engine needs: a ring,
 * a provided-buffer ring, and multishot recv into it. Otherwise 0 and the
 * reason in why. Runs a short self-test on a socketpair; any thread.
 * $PERCORE_DISABLE_IO_URING (non-empty, not "0") makes it answer 0, so the
 * fallback can be tested where io_uring works. */
int ur_supported(char *why, size_t cap);
/* Create a ring (not usable until ur_start). NULL and a message on failure. */
uring *ur_new(char *err, size_t errlen);
/* Make the ring usable from the calling thread (the only one that may use
 * it from now on) and give it its receive buffers. 0 or -errno. */
int ur_start(uring *u);
/* Free the ring. Operations still in flight are dropped by the kernel. */
void ur_free(uring *u);
/* The io_uring_setup flags the ring got (after falling back), as text. */
const char *ur_setup_desc(const uring *u);

void ur_accept(uring *u, int fd, void *udata);              /* multishot accept */
void ur_recv(uring *u, int fd, void *udata);                /* multishot recv, provided buffers */
void ur_poll(uring *u, int fd, unsigned mask, void *udata); /* multishot poll */
void ur_send(uring *u, int fd, const void *buf, size_t len, void *udata);
/* Ask the kernel to end the op (op, udata) early; its last completion still
 * comes (often with -ECANCELED). The cancel request itself reports nothing. */
void ur_cancel(uring *u, int op, void *udata);
/* Give a receive buffer back to the kernel once its bytes were copied. */
void ur_recycle(uring *u, int bid);
/* Submit what was queued, wait up to timeout_ms (-1 forever, 0 not at all)
 * for completions, fill ev (at most maxev) and return the count. */
int ur_wait(uring *u, ur_event *ev, int maxev, int timeout_ms);
/* Ops (and cancel requests) queued whose last completion has not been seen. */
int ur_inflight(const uring *u);

#endif
