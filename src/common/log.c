/* log.c -- see log.h. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 1;
static _Atomic int log_level = LL_NOTICE; /* relaxed: a level change may take a moment to be seen */

int log_open(const char *path, int level) {
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
    if (!path || !*path) {
        log_fd = 1;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    log_fd = fd;
    return 0;
}

void log_set_level(int level) {
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int log_level_from_name(const char *name) {
    static const char *names[] = {"debug", "verbose", "notice", "warning", "nothing"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0) return i;
    return -1;
}

void log_msg(int level, const char *fmt, ...) {
    if (level < atomic_load_explicit(&log_level, memory_order_relaxed)) return;
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%d:M ", (int)getpid());
    n += (int)strftime(line + n, sizeof(line) - (size_t)n, "%d %b %Y %H:%M:%S.", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%03d %c ", (int)(tv.tv_usec / 1000),
                  ".-*#"[level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n += m < 0
             ? 0
             : (m >= (int)(sizeof(line) - (size_t)n - 1) ? (int)(sizeof(line) - (size_t)n - 2) : m);
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
}
