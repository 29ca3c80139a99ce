/* sysio.h -- read/write/epoll_wait without the pthread cancellation-point
 * wrappers. percore never cancels threads, so the enable/disable of
 * asynchronous cancellation glibc puts around these calls in a threaded
 * process is pure overhead on the hot path (three times per request).
 * Same contracts as the libc functions (-1 and errno on error). Any thread.
 * Sanitizer builds keep the libc calls so their interceptors see the I/O.
 */
#ifndef PERCORE_SYSIO_H
#define PERCORE_SYSIO_H

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SYSIO_LIBC 1
#endif

static inline ssize_t sys_read(int fd, void *buf, size_t n) {
#ifdef SYSIO_LIBC
    return read(fd, buf, n);
#else
    return syscall(SYS_read, fd, buf, n);
#endif
}

static inline ssize_t sys_write(int fd, const void *buf, size_t n) {
#ifdef SYSIO_LIBC
    return write(fd, buf, n);
#else
    return syscall(SYS_write, fd, buf, n);
#endif
}

static inline int sys_epoll_wait(int epfd, struct epoll_event *evs, int maxev, int timeout_ms) {
#ifdef SYSIO_LIBC
    return epoll_wait(epfd, evs, maxev, timeout_ms);
#else
    return (int)syscall(SYS_epoll_wait, epfd, evs, maxev, timeout_ms);
#endif
}

#endif
