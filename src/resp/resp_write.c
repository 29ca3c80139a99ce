/* resp_write.c -- the RESP2/RESP3 reply writer (see resp.h).
 *
 * Pure code: appends protocol bytes to a growable buffer and never does I/O.
 * It runs on whichever thread owns the rbuf, normally the thread that owns
 * the client connection. Every wire form matches what Redis 7.0.15 sends,
 * including the protocol-dependent forms of nulls, maps, sets, doubles,
 * booleans and verbatim strings. Out-of-memory aborts, as Redis does.
 */
#include "resp/resp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rb_init(rbuf *b, int resp) {
    b->buf = NULL;
    b->len = 0;
    b->cap = 0;
    b->resp = resp;
}

void rb_free(rbuf *b) {
    free(b->buf);
    b->buf = NULL;
    b->len = 0;
    b->cap = 0;
}

void rb_grow(rbuf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t need = b->len + extra;
    if (need < b->len) {
        fprintf(stderr, "rbuf: size overflow\n");
        abort();
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->buf, cap);
    if (!p) {
        fprintf(stderr, "rbuf: out of memory allocating %zu bytes\n", cap);
        abort();
    }
    b->buf = p;
    b->cap = cap;
}

void rb_append(rbuf *b, const void *p, size_t n) {
    if (n == 0) return;
    rb_reserve(b, n);
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void rb_clear(rbuf *b) {
    b->len = 0;
}

/* Write the decimal digits of v ending just before `end`; returns the first
 * digit's address. The caller's buffer holds at least 20 bytes before end. */
static char *rw_utoa_back(char *end, unsigned long long v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Append "<prefix><v>\r\n", the form of every length header and integer. */
static void rw_prefixed_ll(rbuf *b, char prefix, long long v) {
    char tmp[32];
    char *end = tmp + sizeof(tmp);
    *--end = '\n';
    *--end = '\r';
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = rw_utoa_back(end, u);
    if (v < 0) *--p = '-';
    *--p = prefix;
    rb_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void rw_simple(rbuf *b, const char *s) {
    rw_simple_len(b, s, strlen(s));
}

void rw_simple_len(rbuf *b, const char *s, size_t n) {
    rb_reserve(b, n + 3);
    b->buf[b->len++] = '+';
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len++] = '\r';
    b->buf[b->len++] = '\n';
}

void rw_ok(rbuf *b) {
    rb_append(b, "+OK\r\n", 5);
}

/* Append "-" msg "\r\n" with CR and LF inside msg turned into spaces. */
static void rw_error_len(rbuf *b, const char *msg, size_t n) {
    rb_reserve(b, n + 3);
    b->buf[b->len++] = '-';
    for (size_t i = 0; i < n; i++) {
        char c = msg[i];
        b->buf[b->len++] = (c == '\r' || c == '\n') ? ' ' : c;
    }
    b->buf[b->len++] = '\r';
    b->buf[b->len++] = '\n';
}

void rw_error(rbuf *b, const char *msg) {
    rw_error_len(b, msg, strlen(msg));
}

/* Like Redis's addReplyErrorFormat: CR/LF at either end of the formatted
 * text are trimmed, those inside become spaces. */
void rw_errorf(rbuf *b, const char *fmt, ...) {
    char small[256];
    char *s = small;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof(small)) {
        s = malloc((size_t)n + 1);
        if (!s) abort();
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    size_t lo = 0, hi = (size_t)n;
    while (lo < hi && (s[lo] == '\r' || s[lo] == '\n'))
        lo++;
    while (hi > lo && (s[hi - 1] == '\r' || s[hi - 1] == '\n'))
        hi--;
    rw_error_len(b, s + lo, hi - lo);
    if (s != small) free(s);
}

void rw_int(rbuf *b, long long v) {
    rw_prefixed_ll(b, ':', v);
}

void rw_bulk(rbuf *b, const void *p, size_t n) {
    char tmp[32];
    char *end = tmp + sizeof(tmp);
    *--end = '\n';
    *--end = '\r';
    char *h = rw_utoa_back(end, n);
    *--h = '$';
    size_t hl = (size_t)(tmp + sizeof(tmp) - h);
    rb_reserve(b, hl + n + 2);
    char *w = b->buf + b->len;
    memcpy(w, h, hl);
    w += hl;
    if (n) memcpy(w, p, n);
    w += n;
    w[0] = '\r';
    w[1] = '\n';
    b->len += hl + n + 2;
}

void rw_bulk_cstr(rbuf *b, const char *s) {
    rw_bulk(b, s, strlen(s));
}

void rw_bulk_ll(rbuf *b, long long v) {
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = rw_utoa_back(end, u);
    if (v < 0) *--p = '-';
    rw_bulk(b, p, (size_t)(end - p));
}

void rw_null(rbuf *b) {
    if (b->resp >= 3)
        rb_append(b, "_\r\n", 3);
    else
        rb_append(b, "$-1\r\n", 5);
}

void rw_null_array(rbuf *b) {
    if (b->resp >= 3)
        rb_append(b, "_\r\n", 3);
    else
        rb_append(b, "*-1\r\n", 5);
}

void rw_array(rbuf *b, long n) {
    rw_prefixed_ll(b, '*', n);
}

void rw_map(rbuf *b, long npairs) {
    if (b->resp >= 3)
        rw_prefixed_ll(b, '%', npairs);
    else
        rw_prefixed_ll(b, '*', 2LL * npairs);
}

void rw_set(rbuf *b, long n) {
    rw_prefixed_ll(b, b->resp >= 3 ? '~' : '*', n);
}

void rw_push(rbuf *b, long n) {
    rw_prefixed_ll(b, b->resp >= 3 ? '>' : '*', n);
}

/* Format d as Redis 7.0's addReplyDouble does: "inf"/"-inf" spelled out,
 * everything else (NaN included) with "%.17g". Returns the length. */
static int rw_fmt_double(char *buf, size_t cap, double d) {
    if (isinf(d)) return snprintf(buf, cap, "%s", d > 0 ? "inf" : "-inf");
    return snprintf(buf, cap, "%.17g", d);
}

void rw_double(rbuf *b, double d) {
    char tmp[64];
    int n = rw_fmt_double(tmp, sizeof(tmp), d);
    if (b->resp >= 3) {
        rb_reserve(b, (size_t)n + 3);
        b->buf[b->len++] = ',';
        memcpy(b->buf + b->len, tmp, (size_t)n);
        b->len += (size_t)n;
        b->buf[b->len++] = '\r';
        b->buf[b->len++] = '\n';
    } else {
        rw_bulk(b, tmp, (size_t)n);
    }
}

void rw_bool(rbuf *b, int v) {
    if (b->resp >= 3)
        rb_append(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        rb_append(b, v ? ":1\r\n" : ":0\r\n", 4);
}

void rw_verbatim(rbuf *b, const char *fmt, const char *p, size_t n) {
    if (b->resp < 3) {
        rw_bulk(b, p, n);
        return;
    }
    char tmp[40];
    int h = snprintf(tmp, sizeof(tmp), "=%zu\r\n%.3s:", n + 4, fmt);
    rb_reserve(b, (size_t)h + n + 2);
    memcpy(b->buf + b->len, tmp, (size_t)h);
    b->len += (size_t)h;
    if (n) memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len++] = '\r';
    b->buf[b->len++] = '\n';
}

/* Append printf-formatted text to b (any length). */
void rb_printf(rbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(tmp)) {
        rb_append(b, tmp, (size_t)n);
        return;
    }
    rb_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
