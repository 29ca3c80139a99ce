/* net.h -- socket helpers: listeners with SO_REUSEPORT, accept, addresses.
 * Pure wrappers over the socket API; callable from any thread.
 */
#ifndef PERCORE_NET_H
#define PERCORE_NET_H

#include <stddef.h>

/* Create a non-blocking listening TCP socket on addr:port with SO_REUSEPORT
 * (and IPV6_V6ONLY for IPv6). addr "*" means 0.0.0.0, "::*" means ::.
 * Returns the fd, or -1 with a message in err. */
int net_listen(const char *addr, int port, int backlog, char *err, size_t errlen);
/* Accept one connection, non-blocking, close-on-exec.
 * Returns the fd, or -1 (errno EAGAIN when none is pending). */
int net_accept(int lfd);
/* Socket options of an accepted connection (TCP_NODELAY), however it was
 * accepted (accept4 or an io_uring accept). */
void net_accepted(int fd);
/* Enable TCP keepalive with the given interval (seconds). */
void net_keepalive(int fd, int secs);
/* "ip:port" of the peer (peer=1) or local end of fd, into buf. */
void net_addr(int fd, int peer, char *buf, size_t cap);

#endif
