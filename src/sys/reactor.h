/* reactor.h -- the readiness-notification interface of the epoll engine.
 * One reactor per shard thread; never shared. The backend lives in
 * reactor_epoll.c. The io_uring engine is completion-based and has its own
 * interface (reactor_uring.h); a shard uses one or the other (io-engine).
 */
#ifndef PERCORE_REACTOR_H
#define PERCORE_REACTOR_H

#include <stdint.h>

#define RX_READ 1u
#define RX_WRITE 2u
#define RX_ERROR 4u
/* rx_add only: report each new readiness once (edge-triggered), for
 * wake-up fds that are never read. */
#define RX_EDGE 8u

typedef struct reactor reactor;

typedef struct rx_event {
    void *udata;     /* what was registered with the fd */
    unsigned events; /* RX_* */
} rx_event;

reactor *rx_new(int maxevents);
void rx_free(reactor *r);
/* Register fd with interest mask (RX_READ|RX_WRITE) and udata. 0 or -errno. */
int rx_add(reactor *r, int fd, unsigned mask, void *udata);
int rx_mod(reactor *r, int fd, unsigned mask, void *udata);
int rx_del(reactor *r, int fd);
/* Wait up to timeout_ms (-1 forever, 0 poll). Fills ev, returns the count. */
int rx_wait(reactor *r, rx_event *ev, int maxev, int timeout_ms);

#endif
