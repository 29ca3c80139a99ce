/* log.h -- Redis-style log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm * msg".
 * Thread-safe: each line is formatted into a local buffer and written with a
 * single write(2) to the log fd, so lines never interleave.
 */
#ifndef PERCORE_LOG_H
#define PERCORE_LOG_H

enum { LL_DEBUG = 0, LL_VERBOSE, LL_NOTICE, LL_WARNING, LL_NOTHING };

/* Set where lines go ("" or NULL = stdout) and the minimum level. Call before
 * threads start. Returns 0 or -1 if the file cannot be opened. */
int log_open(const char *path, int level);
void log_set_level(int level);
/* Parse a Redis loglevel name; -1 if unknown. */
int log_level_from_name(const char *name);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
