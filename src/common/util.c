/* util.c -- number parsing and formatting with Redis 7.0's exact rules, glob
 * matching, hashing, clocks and the shared pseudo-random step.
 *
 * Pure functions, called from any thread (shard threads mostly). Nothing here
 * keeps state of its own (the random step advances the caller's). The
 * double parsers need a NUL-terminated copy of their input for
 * strtod/strtold: short inputs are copied to the stack, and only inputs
 * longer than UTIL_PARSE_STACK bytes fall back to a heap buffer.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Inputs up to this many bytes are parsed from a stack copy. */
#define UTIL_PARSE_STACK 256
/* string2ld refuses inputs of this many bytes or more, as Redis does. */
#define UTIL_LD_MAX_CHARS (5 * 1024)

int util_str2ll(const char *s, size_t len, long long *out) {
    /* 20 chars hold any long long ("-9223372036854775808"); more is refused. */
    if (len == 0 || len > 20) return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1) return 0;
    }
    /* The first digit must be 1-9: this rules out "-0", "00" and "01". */
    if (s[i] < '1' || s[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > ULLONG_MAX / 10) return 0;
        v *= 10;
        if (v > ULLONG_MAX - d) return 0;
        v += d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    }
    return 1;
}

/* Copy len bytes of s into a NUL-terminated buffer: stack if it fits, else
 * heap. Returns the buffer (== stack or a malloc'd copy the caller frees),
 * or NULL when out of memory. */
static char *util_cstr(const char *s, size_t len, char *stack, size_t cap) {
    char *buf = len < cap ? stack : malloc(len + 1);
    if (buf == NULL) return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

int util_str2d(const char *s, size_t len, double *out) {
    char stack[UTIL_PARSE_STACK];
    if (len == 0 || isspace((unsigned char)s[0])) return 0;
    char *buf = util_cstr(s, len, stack, sizeof(stack));
    if (buf == NULL) return 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    /* An embedded NUL stops strtod early, so the whole-input test refuses it.
     * Overflow and underflow to zero are refused; denormals are kept. */
    int ok = (size_t)(end - buf) == len &&
             !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0.0)) && !isnan(v);
    if (buf != stack) free(buf);
    if (ok) *out = v;
    return ok;
}

int util_str2ld(const char *s, size_t len, long double *out) {
    char stack[UTIL_PARSE_STACK];
    if (len == 0 || len >= UTIL_LD_MAX_CHARS || isspace((unsigned char)s[0])) return 0;
    char *buf = util_cstr(s, len, stack, sizeof(stack));
    if (buf == NULL) return 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    int ok = (size_t)(end - buf) == len &&
             !(errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0.0L)) &&
             errno != EINVAL && !isnan(v);
    if (buf != stack) free(buf);
    if (ok) *out = v;
    return ok;
}

int util_ll2str(char *buf, size_t cap, long long v) {
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[n++] = '-';
    if (cap == 0) return 0;
    if ((size_t)n + 1 > cap) {
        buf[0] = '\0';
        return 0;
    }
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int util_d2str(char *buf, size_t cap, double v) {
    int n;
    if (isinf(v))
        n = snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else if (isnan(v))
        n = snprintf(buf, cap, "nan");
    else
        n = snprintf(buf, cap, "%.17g", v);
    if (n < 0 || (size_t)n >= cap) return cap ? (int)cap - 1 : 0;
    return n;
}

int util_ld2str(char *buf, size_t cap, long double v) {
    int n;
    if (isinf(v)) {
        n = snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
        return (n < 0 || (size_t)n >= cap) ? 0 : n;
    }
    n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n + 1 > cap) return 0;
    if (memchr(buf, '.', (size_t)n) != NULL) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = '\0';
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        buf[1] = '\0';
        n = 1;
    }
    return n;
}

/* ASCII lower-casing as tolower() does in the C locale, on a value that may
 * be a negative (signed char) byte. */
static int util_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int util_fold(int c, int nocase) {
    return nocase ? util_lower((unsigned char)c) : (unsigned char)c;
}

/* Match the bracket class starting just after '[' at *pp against c. Moves *pp
 * and *pl to the closing ']' (or to the last byte when the class is not
 * closed) and returns 1 when c is in the class, honouring '^'. */
static int util_glob_class(const char **pp, size_t *pl, char c, int nocase) {
    const char *p = *pp;
    size_t pl_left = *pl;
    int neg = 0, match = 0;
    if (pl_left > 0 && p[0] == '^') {
        neg = 1;
        p++;
        pl_left--;
    }
    for (;;) {
        if (pl_left == 0) {
            /* Unterminated class: step back so the caller's advance lands
             * exactly at the end of the pattern. */
            p--;
            pl_left++;
            break;
        } else if (p[0] == '\\' && pl_left >= 2) {
            p++;
            pl_left--;
            if (p[0] == c) match = 1;
        } else if (p[0] == ']') {
            break;
        } else if (pl_left >= 3 && p[1] == '-') {
            /* Bytes compare as signed chars here, as in Redis on x86. */
            int lo = (signed char)p[0], hi = (signed char)p[2], x = (signed char)c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = util_lower(lo);
                hi = util_lower(hi);
                x = util_lower(x);
            }
            p += 2;
            pl_left -= 2;
            if (x >= lo && x <= hi) match = 1;
        } else if (util_fold(p[0], nocase) == util_fold(c, nocase)) {
            match = 1;
        }
        p++;
        pl_left--;
    }
    *pp = p;
    *pl = pl_left;
    return neg ? !match : match;
}

/* The matcher proper. *give_up is set when a '*' has tried every suffix of
 * the string without success: then no outer '*' can succeed by trying a
 * shorter prefix, so all callers stop at once. depth bounds the recursion. */
static int util_glob(const char *p, size_t pl, const char *s, size_t sl, int nocase, int *give_up,
                     int depth) {
    if (depth > 1000) return 0;
    while (pl > 0 && sl > 0) {
        switch (p[0]) {
        case '*':
            while (pl > 1 && p[1] == '*') {
                p++;
                pl--;
            }
            if (pl == 1) return 1;
            while (sl > 0) {
                if (util_glob(p + 1, pl - 1, s, sl, nocase, give_up, depth + 1)) return 1;
                if (*give_up) return 0;
                s++;
                sl--;
            }
            *give_up = 1;
            return 0;
        case '?':
            s++;
            sl--;
            break;
        case '[':
            p++;
            pl--;
            if (!util_glob_class(&p, &pl, s[0], nocase)) return 0;
            s++;
            sl--;
            break;
        case '\\':
            if (pl >= 2) {
                p++;
                pl--;
            }
            /* fall through */
        default:
            if (util_fold(p[0], nocase) != util_fold(s[0], nocase)) return 0;
            s++;
            sl--;
            break;
        }
        p++;
        pl--;
        if (sl == 0) {
            while (pl > 0 && p[0] == '*') {
                p++;
                pl--;
            }
            break;
        }
    }
    return pl == 0 && sl == 0;
}

int util_globmatch(const char *pat, size_t plen, const char *str, size_t slen, int nocase) {
    int give_up = 0;
    return util_glob(pat, plen, str, slen, nocase, &give_up, 0);
}

uint64_t util_hash(const void *p, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(p, len, seed);
}

int64_t util_mstime(void) {
    return util_ustime() / 1000;
}

int64_t util_ustime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t util_rev64(uint64_t v) {
    v = (v >> 1 & 0x5555555555555555ULL) | (v & 0x5555555555555555ULL) << 1;
    v = (v >> 2 & 0x3333333333333333ULL) | (v & 0x3333333333333333ULL) << 2;
    v = (v >> 4 & 0x0F0F0F0F0F0F0F0FULL) | (v & 0x0F0F0F0F0F0F0F0FULL) << 4;
    return __builtin_bswap64(v);
}

uint64_t util_scan_next(uint64_t cursor, uint64_t mask) {
    /* Bit-reverse, add one, reverse back; the unmasked bits set first make
     * the carry leave the mask, wrapping to 0 after the last bucket. */
    return util_rev64(util_rev64(cursor | ~mask) + 1);
}

uint64_t util_rand_next(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    /* The raw state's low bits of consecutive steps are correlated: multiply
     * to mix, then rotate so the best-mixed high half comes out low. */
    x *= 0x2545F4914F6CDD1DULL;
    return x >> 32 | x << 32;
}
