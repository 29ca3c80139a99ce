/* test_reactor.c -- the io_uring engine's ring (src/sys/reactor_uring.c) on
 * its own, over a socketpair: multishot recv into provided buffers across
 * many buffers, running out of buffers (ENOBUFS ends the multishot recv; a
 * new one after recycling goes on where it stopped, losing nothing), sends
 * larger than the socket buffer (short or pending sends complete as the
 * peer reads), cancellation, and the in-flight count reaching zero. Skipped
 * (with a note) where the kernel has no usable io_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "sys/reactor_uring.h"
#include "unit.h"

#define TOTAL (UR_NBUFS * UR_BUFSZ * 3) /* more than the buffers hold at once */

static unsigned char pattern(size_t i) {
    return (unsigned char)(i * 131 + (i >> 12));
}

static void *writer(void *arg) {
    int fd = *(int *)arg;
    static unsigned char chunk[64 * 1024];
    size_t off = 0;
    while (off < TOTAL) {
        size_t n = TOTAL - off < sizeof(chunk) ? TOTAL - off : sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern(off + i);
        ssize_t w = write(fd, chunk, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += (size_t)w;
    }
    return NULL;
}

static void test_recv(uring *u) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    static int tok;
    ur_recv(u, sv[0], &tok);
    pthread_t th;
    pthread_create(&th, NULL, writer, &sv[1]);
    size_t got = 0;
    int bad = 0, enobufs = 0, rearms = 0;
    int held[UR_NBUFS * 2], nheld = 0;
    ur_event ev[64];
    int64_t deadline = util_monotonic_us() + 30 * 1000000LL;
    while (got < TOTAL && util_monotonic_us() < deadline) {
        int n = ur_wait(u, ev, 64, 100);
        for (int i = 0; i < n; i++) {
            CHECK(ev[i].op == UR_RECV && ev[i].udata == &tok);
            if (ev[i].res > 0) {
                CHECK(ev[i].buf != NULL && ev[i].bid >= 0);
                for (int k = 0; k < ev[i].res; k++)
                    bad += (unsigned char)ev[i].buf[k] != pattern(got + (size_t)k);
                got += (size_t)ev[i].res;
                /* Hold the first buffers back so the ring runs dry. */
                if (got < (size_t)UR_NBUFS * UR_BUFSZ && nheld < UR_NBUFS * 2)
                    held[nheld++] = ev[i].bid;
                else
                    ur_recycle(u, ev[i].bid);
            } else {
                enobufs += ev[i].res == -ENOBUFS;
            }
            if (!ev[i].more) {
                /* Ended (ENOBUFS): give the buffers back and go on. */
                for (int k = 0; k < nheld; k++)
                    ur_recycle(u, held[k]);
                nheld = 0;
                if (got < TOTAL) {
                    ur_recv(u, sv[0], &tok);
                    rearms++;
                }
            }
        }
    }
    pthread_join(th, NULL);
    CHECK(got == TOTAL);
    CHECK(bad == 0);
    CHECK(enobufs >= 1 && rearms >= 1);
    printf("recv: %zu bytes, %d ENOBUFS, %d re-arms\n", got, enobufs, rearms);
    for (int k = 0; k < nheld; k++)
        ur_recycle(u, held[k]);
    /* Cancel the armed recv: its last completion comes, nothing is left. */
    ur_cancel(u, UR_RECV, &tok);
    int ended = 0;
    for (int spins = 0; ur_inflight(u) > 0 && spins < 100; spins++) {
        int n = ur_wait(u, ev, 64, 20);
        for (int i = 0; i < n; i++)
            ended += !ev[i].more;
    }
    CHECK(ended == 1);
    CHECK(ur_inflight(u) == 0);
    close(sv[0]);
    close(sv[1]);
}

static void *reader(void *arg) {
    int fd = *(int *)arg;
    static unsigned char buf[32 * 1024];
    size_t off = 0;
    int bad = 0;
    usleep(100000); /* let the send wait for room first */
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++)
            bad += buf[i] != pattern(off + (size_t)i);
        off += (size_t)n;
    }
    return (void *)(uintptr_t)(bad ? 0 : off);
}

static void test_send(uring *u) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    size_t total = 8 << 20;
    unsigned char *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = pattern(i);
    int rfd = sv[1];
    /* The reader side blocks; the sending side stays non-blocking, as a
     * connection's socket is. */
    int fl = fcntl(rfd, F_GETFL);
    CHECK(fcntl(rfd, F_SETFL, fl & ~O_NONBLOCK) == 0);
    pthread_t th;
    pthread_create(&th, NULL, reader, &rfd);
    static int tok;
    size_t sent = 0;
    int sends = 0;
    ur_send(u, sv[0], data, total, &tok);
    ur_event ev[8];
    int64_t deadline = util_monotonic_us() + 30 * 1000000LL;
    while (sent < total && util_monotonic_us() < deadline) {
        int n = ur_wait(u, ev, 8, 1000);
        for (int i = 0; i < n; i++) {
            CHECK(ev[i].op == UR_SEND && ev[i].udata == &tok && !ev[i].more);
            if (ev[i].res <= 0) {
                CHECK(0);
                sent = total;
                break;
            }
            sent += (size_t)ev[i].res;
            sends++;
            if (sent < total) ur_send(u, sv[0], data + sent, total - sent, &tok);
        }
    }
    CHECK(sent == total);
    close(sv[0]);
    void *ret;
    pthread_join(th, &ret);
    CHECK((size_t)(uintptr_t)ret == total);
    CHECK(ur_inflight(u) == 0);
    printf("send: %zu bytes in %d sends\n", total, sends);
    free(data);
    close(sv[1]);
}

int main(void) {
    char why[256] = "";
    if (!ur_supported(why, sizeof(why))) {
        printf("io_uring not available (%s): skipped\n", why);
        UNIT_DONE();
    }
    char err[256];
    uring *u = ur_new(err, sizeof(err));
    CHECK(u != NULL);
    if (!u) UNIT_DONE();
    CHECK(ur_start(u) == 0);
    test_recv(u);
    test_send(u);
    ur_free(u);
    UNIT_DONE();
}
