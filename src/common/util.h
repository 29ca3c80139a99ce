/* util.h -- small pure helpers shared by every layer: number parsing and
 * formatting with Redis's exact rules, glob matching, hashing, clocks and a
 * small pseudo-random generator.
 *
 * Every function here is thread-safe and allocation-free unless stated.
 */
#ifndef PERCORE_UTIL_H
#define PERCORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parse a signed 64-bit integer with Redis's string2ll rules: optional '-',
 * no '+', no spaces, no leading zeros (except "0" itself), must fit in long
 * long. Returns 1 and stores *out on success, 0 on failure. */
int util_str2ll(const char *s, size_t len, long long *out);

/* Parse a double like Redis's getDoubleFromObject: the whole input must be
 * consumed by strtod, no leading space, not NaN; "inf"/"-inf"/"+inf" are
 * accepted. Returns 1 on success, 0 on failure. */
int util_str2d(const char *s, size_t len, double *out);

/* Parse a long double like Redis's string2ld (used by INCRBYFLOAT and
 * HINCRBYFLOAT): at most 5k chars, no spaces, not NaN. Returns 1 or 0. */
int util_str2ld(const char *s, size_t len, long double *out);

/* Format v in decimal into buf (cap bytes incl. NUL). Returns the length. */
int util_ll2str(char *buf, size_t cap, long long v);

/* Format a double as Redis does in replies (addReplyDouble, RESP2 bulk):
 * "inf", "-inf", integral values without exponent when they fit, else
 * "%.17g". Returns the length. */
int util_d2str(char *buf, size_t cap, double v);

/* Format a long double as Redis's ld2string in LD_STR_HUMAN mode (used by
 * INCRBYFLOAT): "%.17Lf" with trailing zeros and a trailing '.' removed,
 * "-0" turned into "0". Returns the length, or 0 if it does not fit. */
int util_ld2str(char *buf, size_t cap, long double v);

/* Glob-style match with Redis's stringmatchlen semantics: '*', '?',
 * '[...]' with ranges and '^' negation, '\\' escapes. Returns 1 on match. */
int util_globmatch(const char *pat, size_t plen, const char *str, size_t slen, int nocase);

/* Seeded 64-bit hash of a byte string (xxh3 from libxxhash). */
uint64_t util_hash(const void *p, size_t len, uint64_t seed);

/* One step of the shared pseudo-random generator: xorshift64 on *state (a
 * zero state is replaced by a fixed odd constant), output scrambled by a
 * multiply and a 32-bit rotation so that the low bits are as good as the
 * high ones (xorshift64*). Not for anything that must be unguessable. */
uint64_t util_rand_next(uint64_t *state);

/* SCAN's cursor over a power-of-two table (mask = buckets - 1), as Redis's:
 * the cursor that follows bucket `cursor & mask`, counting the masked bits
 * from the top down, so a bucket visited under one mask covers all of its
 * split or merged images under another; 0 after the last bucket. */
uint64_t util_scan_next(uint64_t cursor, uint64_t mask);

/* Wall-clock milliseconds / microseconds since the epoch. */
int64_t util_mstime(void);
int64_t util_ustime(void);
/* Monotonic microseconds, for durations. */
int64_t util_monotonic_us(void);

/* *p = max(*p, v), atomically (relaxed): a statistic's peak. */
static inline void util_atomic_max(unsigned long long *p, unsigned long long v) {
    unsigned long long cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > cur &&
           !__atomic_compare_exchange_n(p, &cur, v, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

#endif
