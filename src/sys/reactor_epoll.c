/* reactor_epoll.c -- the epoll backend of reactor.h. Level-triggered (an fd
 * added with RX_EDGE is edge-triggered): a connection that stops reading
 * drops RX_READ from its interest mask. Used only by the shard thread that
 * created it.
 */
#include "reactor.h"
#include "sysio.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct reactor {
    int epfd;
    int maxevents;
    struct epoll_event *evs;
};

reactor *rx_new(int maxevents) {
    reactor *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->maxevents = maxevents;
    r->evs = calloc((size_t)maxevents, sizeof(*r->evs));
    if (r->epfd < 0 || !r->evs) {
        rx_free(r);
        return NULL;
    }
    return r;
}

void rx_free(reactor *r) {
    if (!r) return;
    if (r->epfd >= 0) close(r->epfd);
    free(r->evs);
    free(r);
}

static uint32_t rx_mask(unsigned mask) {
    uint32_t e = 0;
    if (mask & RX_READ) e |= EPOLLIN;
    if (mask & RX_WRITE) e |= EPOLLOUT;
    if (mask & RX_EDGE) e |= EPOLLET;
    return e;
}

int rx_add(reactor *r, int fd, unsigned mask, void *udata) {
    struct epoll_event ev = {.events = rx_mask(mask), .data.ptr = udata};
    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int rx_mod(reactor *r, int fd, unsigned mask, void *udata) {
    struct epoll_event ev = {.events = rx_mask(mask), .data.ptr = udata};
    return epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int rx_del(reactor *r, int fd) {
    return epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int rx_wait(reactor *r, rx_event *ev, int maxev, int timeout_ms) {
    if (maxev > r->maxevents) maxev = r->maxevents;
    int n = sys_epoll_wait(r->epfd, r->evs, maxev, timeout_ms);
    if (n < 0) return 0; /* EINTR: the loop simply goes round again */
    for (int i = 0; i < n; i++) {
        unsigned m = 0;
        if (r->evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) m |= RX_READ;
        if (r->evs[i].events & EPOLLOUT) m |= RX_WRITE;
        if (r->evs[i].events & EPOLLERR) m |= RX_ERROR | RX_READ;
        ev[i].udata = r->evs[i].data.ptr;
        ev[i].events = m;
    }
    return n;
}
