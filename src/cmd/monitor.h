/* monitor.h -- the MONITOR feed line, as Redis 7.0 writes it. The command
 * layer's dispatcher formats one line per executed command and pushes it to
 * every connection in MONITOR mode (rt_conn_push); the formatter itself is
 * pure and lives in c_server.c.
 */
#ifndef PERCORE_MONITOR_H
#define PERCORE_MONITOR_H

#include <stdint.h>

#include "../resp/resp.h"
#include "../rt/rt.h"

/* Append one monitor line to out:
 *   +1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"\r\n
 * now_us is the wall-clock time in microseconds, db the client's database,
 * peer its "ip:port"; every argument is quoted with Redis's escaping
 * (\\ \" \n \r \t \a \b, other non-printable bytes as \xHH). argv is
 * borrowed. */
void monitor_format(rbuf *out, int64_t now_us, int db, const char *peer, int argc,
                    const rt_arg *argv);

#endif
