/* resp_parse.c -- the incremental RESP request parser (see resp.h).
 *
 * Pure code: no I/O and no globals. It runs on whichever thread owns the
 * connection buffer, normally the shard thread that owns the connection.
 *
 * The parser reproduces Redis 7.0's request reader, quirks included:
 *   - a request starting with '*' is multibulk, anything else is inline;
 *   - header lines end at the first '\r' (inline lines at the first '\n'),
 *     and the byte after a header's '\r' is skipped without being checked;
 *   - Redis looks for line ends with strchr(), which stops at a NUL byte, so a
 *     NUL before the line end makes the line "not yet complete" until the
 *     buffer passes RESP_INLINE_MAX bytes and the "too big" error fires;
 *   - the two bytes after a bulk payload are skipped without being checked.
 *
 * Progress is kept in the parser so each call only looks at new bytes:
 *   state     which part of the request is being read (enum below);
 *   pos       bytes of the request fully consumed so far;
 *   scan      where the search for the current line end resumes; it only
 *             rests on a NUL byte when that NUL stalls the line (see above);
 *   bulk_len  length of the bulk being read, -1 while its header is next.
 *
 * Memory: `argv` points into one heap block that starts with a small header
 * holding the inline scratch buffer (see resp_inline.h), followed by the span
 * array. The struct in resp.h therefore needs no extra fields.
 */
#include "resp/resp.h"
#include "resp/resp_inline.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    RESP_ST_IDLE = 0,  /* no byte of the next request looked at yet */
    RESP_ST_INLINE,    /* looking for the '\n' of an inline request */
    RESP_ST_MBULK_HDR, /* looking for the '\r' of "*<count>" */
    RESP_ST_BULK,      /* reading "$<len>\r\n<payload>\r\n" elements */
    RESP_ST_ERROR,     /* a protocol error was reported; sticky until reset */
};

#define RESP_DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define RESP_UNAUTH_MAX_MBULK 10
#define RESP_UNAUTH_MAX_BULK 16384
#define RESP_ARGV_FIRST 8     /* first span array size */
#define RESP_ARGV_KEEP 1024   /* span array kept between requests at most */
#define RESP_LONG_STR_SIZE 21 /* Redis's string2ll rejects inputs this long */

/* The heap block behind p->argv: the inline scratch buffer, then spans. */
typedef struct resp_block {
    char *ibuf; /* unescaped inline arguments, owned */
    size_t ibuf_cap;
    resp_span spans[];
} resp_block;

static resp_block *resp_block_of(const resp_parser *p) {
    return p->argv ? (resp_block *)((char *)p->argv - offsetof(resp_block, spans)) : NULL;
}

static void *resp_xrealloc(void *ptr, size_t n) {
    void *q = realloc(ptr, n ? n : 1);
    if (!q) {
        fprintf(stderr, "resp: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return q;
}

/* Resize the span array to exactly `cap` entries (cap >= argc), creating
 * the block if there is none. Aborts on out-of-memory. */
static void resp_argv_resize(resp_parser *p, int cap) {
    resp_block *blk = resp_block_of(p);
    int fresh = blk == NULL;
    blk = resp_xrealloc(blk, sizeof(resp_block) + (size_t)cap * sizeof(resp_span));
    if (fresh) {
        blk->ibuf = NULL;
        blk->ibuf_cap = 0;
    }
    p->argv = blk->spans;
    p->argv_cap = cap;
}

/* Append one span. The array doubles, but never beyond `limit` entries when
 * limit > 0 (the declared multibulk count), so a huge declared count costs
 * memory only as its arguments actually arrive. */
static void resp_argv_push(resp_parser *p, size_t off, size_t len, long long limit) {
    if (p->argc == p->argv_cap || !p->argv) {
        long long cap = p->argv_cap ? 2LL * p->argv_cap : RESP_ARGV_FIRST;
        if (limit > 0 && cap > limit) cap = limit;
        if (cap > INT_MAX) cap = INT_MAX;
        if (cap <= p->argc) cap = (long long)p->argc + 1;
        resp_argv_resize(p, (int)cap);
    }
    p->argv[p->argc].off = off;
    p->argv[p->argc].len = len;
    p->argc++;
}

/* Make the inline scratch buffer hold at least n bytes and return it. */
static char *resp_ibuf_reserve(resp_parser *p, size_t n) {
    if (!p->argv) resp_argv_resize(p, 0);
    resp_block *blk = resp_block_of(p);
    if (blk->ibuf_cap < n) {
        size_t cap = blk->ibuf_cap ? blk->ibuf_cap : 64;
        while (cap < n)
            cap *= 2;
        blk->ibuf = resp_xrealloc(blk->ibuf, cap);
        blk->ibuf_cap = cap;
    }
    return blk->ibuf;
}

void resp_parser_init(resp_parser *p) {
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = RESP_DEFAULT_MAX_BULK;
    p->bulk_len = -1;
}

void resp_parser_free(resp_parser *p) {
    resp_block *blk = resp_block_of(p);
    if (blk) {
        free(blk->ibuf);
        free(blk);
    }
    p->argv = NULL;
    p->argv_cap = 0;
    resp_parser_reset(p);
}

void resp_parser_reset(resp_parser *p) {
    p->state = RESP_ST_IDLE;
    p->argc = 0;
    p->consumed = 0;
    p->err = NULL;
    p->mbulk_left = 0;
    p->bulk_len = -1;
    p->pos = 0;
    p->scan = 0;
    p->inline_req = 0;
}

const char *resp_inline_base(const resp_parser *p) {
    resp_block *blk = resp_block_of(p);
    return blk ? blk->ibuf : NULL;
}

const char *resp_args_base(const resp_parser *p, const char *buf) {
    return p->inline_req ? resp_inline_base(p) : buf;
}

/* Parse a length the way Redis's string2ll does: 1 to 20 bytes, an optional
 * '-', no '+', no spaces, no leading zero except "0" itself, within long
 * long. Returns 1 and sets *out, or 0. */
static int resp_str2ll(const char *s, size_t n, long long *out) {
    size_t i = 0;
    int neg = 0;
    unsigned long long v = 0;

    if (n == 0 || n >= RESP_LONG_STR_SIZE) return 0;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        i++;
        if (i == n) return 0;
    }
    if (s[i] < '1' || s[i] > '9') return 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return 0;
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    }
    return 1;
}

/* Find the first `c` in buf[p->scan, len) as Redis's strchr would: a NUL
 * byte ends the search. Returns the index, or -1 when there is none yet; in
 * that case p->scan is left where the next search must resume (on the NUL if
 * one stalls the line, so later calls stop at once). */
static long long resp_find_eol(resp_parser *p, const char *buf, size_t len, char c) {
    size_t from = p->scan;
    if (from >= len) return -1;
    /* Header lines are short: look at the first bytes one by one before
     * paying for two library scans. */
    size_t lim = len - from < 32 ? len : from + 32;
    for (size_t i = from; i < lim; i++) {
        char ch = buf[i];
        if (ch == c) {
            p->scan = i;
            return (long long)i;
        }
        if (ch == '\0') {
            p->scan = i;
            return -1;
        }
    }
    from = lim;
    if (from >= len) {
        p->scan = len;
        return -1;
    }
    const char *hit = memchr(buf + from, c, len - from);
    size_t end = hit ? (size_t)(hit - buf) : len;
    const char *nul = memchr(buf + from, '\0', end - from);
    if (nul) {
        p->scan = (size_t)(nul - buf);
        return -1;
    }
    p->scan = end;
    return hit ? (long long)end : -1;
}

/* Fast path for a complete header line "<tag><n>\r<any byte>" at buf[at]
 * where n is 1 to 18 digits without a leading zero (no overflow possible).
 * Returns the index of the '\r' and sets *out, or -1 when the line has any
 * other shape or is not complete yet: the general path then handles it with
 * Redis's exact rules, which give the same result for lines this accepts. */
static inline long long resp_fast_hdr(const char *buf, size_t len, size_t at, char tag,
                                      long long *out) {
    const char *q = buf + at;
    size_t avail = len - at;
    if (avail < 4 || q[0] != tag || q[1] < '1' || q[1] > '9') return -1;
    long long v = q[1] - '0';
    size_t i = 2;
    size_t lim = avail < 19 ? avail : 19; /* at most 18 digits */
    while (i < lim && (unsigned)(q[i] - '0') <= 9) {
        v = v * 10 + (q[i] - '0');
        i++;
    }
    if (i + 1 >= avail || q[i] != '\r') return -1;
    *out = v;
    return (long long)(at + i);
}

static int resp_fail(resp_parser *p, const char *msg) {
    p->err = msg;
    p->state = RESP_ST_ERROR;
    return RESP_ERR;
}

/* Finish a request of p->argc arguments that ends at buf + end. */
static int resp_done(resp_parser *p, size_t end) {
    p->consumed = end;
    p->state = RESP_ST_IDLE;
    p->pos = 0;
    p->scan = 0;
    p->bulk_len = -1;
    p->mbulk_left = 0;
    return RESP_OK;
}

static int resp_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int resp_hex_val(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte that a backslash followed by c stands for inside double quotes
 * (\n \r \t \b \a; any other c stands for itself). */
static char resp_unescape(unsigned char c) {
    switch (c) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return (char)c;
    }
}

int resp_split_args(const char *line, size_t n, char *out,
                    void (*emit)(void *ud, size_t off, size_t len), void *ud) {
    size_t i = 0, o = 0;
#define AT(k) ((k) < n ? (unsigned char)line[(k)] : 0u)

    for (;;) {
        while (i < n && resp_is_space(AT(i)))
            i++;
        if (i >= n) return 0;

        int dq = 0, sq = 0, done = 0;
        size_t start = o;
        while (!done) {
            unsigned char c = AT(i);
            if (dq) {
                if (c == '\\' && AT(i + 1) == 'x' && resp_hex_val(AT(i + 2)) >= 0 &&
                    resp_hex_val(AT(i + 3)) >= 0) {
                    out[o++] = (char)(resp_hex_val(AT(i + 2)) * 16 + resp_hex_val(AT(i + 3)));
                    i += 3;
                } else if (c == '\\' && AT(i + 1)) {
                    i++;
                    out[o++] = resp_unescape(AT(i));
                } else if (c == '"') {
                    if (AT(i + 1) && !resp_is_space(AT(i + 1))) return -1;
                    done = 1;
                } else if (!c) {
                    return -1;
                } else {
                    out[o++] = (char)c;
                }
            } else if (sq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    out[o++] = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) && !resp_is_space(AT(i + 1))) return -1;
                    done = 1;
                } else if (!c) {
                    return -1;
                } else {
                    out[o++] = (char)c;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    done = 1;
                    break;
                case '"':
                    dq = 1;
                    break;
                case '\'':
                    sq = 1;
                    break;
                default:
                    out[o++] = (char)c;
                    break;
                }
            }
            if (i < n) i++;
        }
        emit(ud, start, o - start);
    }
#undef AT
}

static void resp_emit_span(void *ud, size_t off, size_t len) {
    resp_argv_push((resp_parser *)ud, off, len, 0);
}

/* Split an inline line into the scratch buffer and one span per argument.
 * Returns 0, or -1 on unbalanced quotes. */
static int resp_split_inline(resp_parser *p, const char *line, size_t n) {
    return resp_split_args(line, n, resp_ibuf_reserve(p, n), resp_emit_span, p);
}

static int resp_parse_inline(resp_parser *p, const char *buf, size_t len) {
    long long nl = resp_find_eol(p, buf, len, '\n');
    if (nl < 0) {
        if (len > RESP_INLINE_MAX)
            return resp_fail(p, "ERR Protocol error: too big inline request");
        return RESP_INCOMPLETE;
    }
    size_t end = (size_t)nl;
    if (end > 0 && buf[end - 1] == '\r') end--;
    if (resp_split_inline(p, buf, end) < 0) {
        p->argc = 0;
        return resp_fail(p, "ERR Protocol error: unbalanced quotes in request");
    }
    return resp_done(p, (size_t)nl + 1);
}

/* Read "*<count>\r?" at the start of the request. */
static int resp_parse_mbulk_hdr(resp_parser *p, const char *buf, size_t len) {
    long long ll;
    long long cr = resp_fast_hdr(buf, len, 0, '*', &ll);
    if (cr >= 0 && ll <= INT_MAX && (ll <= RESP_UNAUTH_MAX_MBULK || !p->unauthenticated)) {
        p->pos = (size_t)cr + 2;
        p->mbulk_left = ll;
        p->bulk_len = -1;
        p->scan = p->pos;
        p->state = RESP_ST_BULK;
        return RESP_INCOMPLETE;
    }
    cr = resp_find_eol(p, buf, len, '\r');
    if (cr < 0) {
        if (len > RESP_INLINE_MAX)
            return resp_fail(p, "ERR Protocol error: too big mbulk count string");
        return RESP_INCOMPLETE;
    }
    if ((size_t)cr + 1 >= len) return RESP_INCOMPLETE; /* the byte after '\r' */
    if (!resp_str2ll(buf + 1, (size_t)cr - 1, &ll) || ll > INT_MAX)
        return resp_fail(p, "ERR Protocol error: invalid multibulk length");
    if (ll > RESP_UNAUTH_MAX_MBULK && p->unauthenticated)
        return resp_fail(p, "ERR Protocol error: unauthenticated multibulk length");
    p->pos = (size_t)cr + 2;
    if (ll <= 0) return resp_done(p, p->pos);
    p->mbulk_left = ll;
    p->bulk_len = -1;
    p->scan = p->pos;
    p->state = RESP_ST_BULK;
    return RESP_INCOMPLETE;
}

/* Read bulk elements until the declared count is complete. */
static int resp_parse_bulks(resp_parser *p, const char *buf, size_t len) {
    long long total = p->argc + p->mbulk_left;

    /* Fast loop over complete elements with a short header while the span
     * array has room, on local copies of the progress (stores through argv
     * would otherwise force reloads). It stops at anything else, leaving
     * the element to the general loop below, which handles it the same way
     * from the same state. */
    if (p->bulk_len < 0 && p->argv) {
        size_t pos = p->pos;
        long long left = p->mbulk_left;
        int argc = p->argc, cap = p->argv_cap;
        resp_span *av = p->argv;
        long long maxb = p->max_bulk_len;
        if (p->unauthenticated && maxb > RESP_UNAUTH_MAX_BULK) maxb = RESP_UNAUTH_MAX_BULK;
        while (left > 0 && argc < cap) {
            long long ll;
            long long cr = resp_fast_hdr(buf, len, pos, '$', &ll);
            if (cr < 0 || ll > maxb) break;
            size_t start = (size_t)cr + 2;
            if ((unsigned long long)(len - start) < (unsigned long long)ll + 2) break;
            av[argc].off = start;
            av[argc].len = (size_t)ll;
            argc++;
            pos = start + (size_t)ll + 2;
            left--;
        }
        if (pos != p->pos) {
            p->pos = pos;
            p->scan = pos;
            p->mbulk_left = left;
            p->argc = argc;
        }
    }

    while (p->mbulk_left > 0) {
        if (p->bulk_len < 0) {
            long long ll;
            long long cr = resp_fast_hdr(buf, len, p->pos, '$', &ll);
            if (cr >= 0 && ll <= p->max_bulk_len &&
                (ll <= RESP_UNAUTH_MAX_BULK || !p->unauthenticated)) {
                p->pos = (size_t)cr + 2;
                p->bulk_len = ll;
                goto payload;
            }
            cr = resp_find_eol(p, buf, len, '\r');

            if (cr < 0) {
                if (len - p->pos > RESP_INLINE_MAX)
                    return resp_fail(p, "ERR Protocol error: too big bulk count string");
                return RESP_INCOMPLETE;
            }
            if ((size_t)cr + 1 >= len) return RESP_INCOMPLETE;
            if (buf[p->pos] != '$') {
                char c = buf[p->pos];
                /* Redis maps CR and LF in error replies to spaces. */
                if (c == '\r' || c == '\n') c = ' ';
                snprintf(p->errbuf, sizeof(p->errbuf), "ERR Protocol error: expected '$', got '%c'",
                         c);
                return resp_fail(p, p->errbuf);
            }
            if (!resp_str2ll(buf + p->pos + 1, (size_t)cr - p->pos - 1, &ll) || ll < 0 ||
                ll > p->max_bulk_len)
                return resp_fail(p, "ERR Protocol error: invalid bulk length");
            if (ll > RESP_UNAUTH_MAX_BULK && p->unauthenticated)
                return resp_fail(p, "ERR Protocol error: unauthenticated bulk length");
            p->pos = (size_t)cr + 2;
            p->bulk_len = ll;
        }
    payload:
        if ((unsigned long long)(len - p->pos) < (unsigned long long)p->bulk_len + 2)
            return RESP_INCOMPLETE;
        resp_argv_push(p, p->pos, (size_t)p->bulk_len, total);
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->mbulk_left--;
        p->scan = p->pos;
    }
    return resp_done(p, p->pos);
}

/* Drop memory kept from an unusually large previous request. */
static void resp_trim(resp_parser *p) {
    resp_block *blk = resp_block_of(p);
    if (!blk) return;
    if (blk->ibuf_cap > RESP_INLINE_MAX) {
        free(blk->ibuf);
        blk->ibuf = NULL;
        blk->ibuf_cap = 0;
    }
    if (p->argv_cap > RESP_ARGV_KEEP) resp_argv_resize(p, RESP_ARGV_KEEP);
}

int resp_parse(resp_parser *p, const char *buf, size_t len) {
    if (p->state == RESP_ST_ERROR) return RESP_ERR;
    if (p->state == RESP_ST_IDLE) {
        if (len == 0) return RESP_INCOMPLETE;
        resp_trim(p);
        p->argc = 0;
        p->consumed = 0;
        p->err = NULL;
        p->pos = 0;
        p->scan = 0;
        p->bulk_len = -1;
        p->mbulk_left = 0;
        p->inline_req = buf[0] != '*';
        p->state = p->inline_req ? RESP_ST_INLINE : RESP_ST_MBULK_HDR;
    }
    switch (p->state) {
    case RESP_ST_INLINE:
        return resp_parse_inline(p, buf, len);
    case RESP_ST_MBULK_HDR: {
        int rc = resp_parse_mbulk_hdr(p, buf, len);
        if (rc != RESP_INCOMPLETE || p->state != RESP_ST_BULK) return rc;
        return resp_parse_bulks(p, buf, len);
    }
    case RESP_ST_BULK:
        return resp_parse_bulks(p, buf, len);
    default:
        return RESP_ERR;
    }
}
