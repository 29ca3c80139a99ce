/* test_resp.c -- unit tests for the RESP parser and reply writer.
 *
 * Single-threaded. The parser is checked for every protocol error Redis 7.0
 * sends (texts taken from a live redis-server 7.0.15), for identical results
 * under every way of splitting the input into reads, against a reference
 * encoder with random requests, for over-reads with input placed right
 * before a PROT_NONE page, and with random garbage. The writer is checked
 * byte for byte in RESP2 and RESP3.
 */
#include "resp/resp.h"
#include "resp/resp_inline.h"
#include "unit.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* Helpers. */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rnd_n(size_t n) {
    return n ? (size_t)(rnd() % n) : 0;
}

/* Append a readable record of the parsed request in p to trace. */
static void trace_request(rbuf *trace, const resp_parser *p, const char *buf, size_t len) {
    const char *base = resp_args_base(p, buf);
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "[%d %zu", p->argc, p->consumed);
    rb_append(trace, tmp, (size_t)n);
    for (int i = 0; i < p->argc; i++) {
        if (!p->inline_req && p->argv[i].off + p->argv[i].len > len) {
            rb_append(trace, " OUT-OF-BOUNDS", 14);
            continue;
        }
        n = snprintf(tmp, sizeof(tmp), " %zu:", p->argv[i].len);
        rb_append(trace, tmp, (size_t)n);
        rb_append(trace, base + p->argv[i].off, p->argv[i].len);
    }
    rb_append(trace, "]", 1);
}

/* Feed data[0..n) to a fresh parser as a connection would, delivering the
 * bytes in reads that end at cuts[0..ncuts) and then at n. The unconsumed
 * bytes always live in an exact-size heap copy (moved on every call) so that
 * ASan sees any over-read and offsets must not depend on the address. The
 * trace records each request, then "E:<err>" or "R<leftover bytes>". */
static void stream(const char *data, size_t n, const size_t *cuts, int ncuts, int unauth,
                   rbuf *trace) {
    resp_parser p;
    resp_parser_init(&p);
    p.unauthenticated = unauth;
    char *conn = NULL;
    size_t clen = 0, delivered = 0;
    char tmp[128];

    for (int c = 0; c <= ncuts; c++) {
        size_t upto = c < ncuts ? cuts[c] : n;
        if (upto < delivered) upto = delivered;
        char *nb = malloc(clen + (upto - delivered) + 1);
        if (clen) memcpy(nb, conn, clen);
        memcpy(nb + clen, data + delivered, upto - delivered);
        free(conn);
        conn = nb;
        clen += upto - delivered;
        delivered = upto;
        for (;;) {
            /* Exact-size copy: a read past clen is a heap overflow. */
            char *exact = malloc(clen ? clen : 1);
            memcpy(exact, conn, clen);
            int rc = resp_parse(&p, exact, clen);
            if (rc == RESP_INCOMPLETE) {
                free(exact);
                break;
            }
            if (rc == RESP_ERR) {
                int k = snprintf(tmp, sizeof(tmp), "E:%s", p.err);
                rb_append(trace, tmp, (size_t)k);
                free(exact);
                goto out;
            }
            CHECK(rc == RESP_OK);
            CHECK(p.consumed > 0 && p.consumed <= clen);
            trace_request(trace, &p, exact, clen);
            memmove(conn, conn + p.consumed, clen - p.consumed);
            clen -= p.consumed;
            free(exact);
        }
    }
    {
        int k = snprintf(tmp, sizeof(tmp), "R%zu", clen);
        rb_append(trace, tmp, (size_t)k);
    }
out:
    free(conn);
    resp_parser_free(&p);
}

static int trace_eq(const rbuf *a, const rbuf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

/* Check that every way of delivering data gives the same trace as one read:
 * one byte at a time, every two-part split, and random splits. */
static void check_splits(const char *data, size_t n, int unauth) {
    rbuf whole, t;
    rb_init(&whole, 2);
    rb_init(&t, 2);
    stream(data, n, NULL, 0, unauth, &whole);

    size_t *cuts = malloc((n + 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    rb_clear(&t);
    stream(data, n, cuts, (int)n, unauth, &t);
    CHECK(trace_eq(&whole, &t));

    int bad = 0;
    for (size_t k = 0; k <= n; k++) {
        rb_clear(&t);
        stream(data, n, &k, 1, unauth, &t);
        bad += !trace_eq(&whole, &t);
    }
    CHECK(bad == 0);

    for (int r = 0; r < 20; r++) {
        int nc = 0;
        size_t at = 0;
        while (at < n) {
            at += 1 + rnd_n(8);
            cuts[nc++] = at < n ? at : n;
        }
        rb_clear(&t);
        stream(data, n, cuts, nc, unauth, &t);
        bad += !trace_eq(&whole, &t);
    }
    CHECK(bad == 0);
    free(cuts);
    rb_free(&whole);
    rb_free(&t);
}

/* Parse one buffer with a fresh parser; returns the result code. */
static int parse1(resp_parser *p, const char *s, size_t n, int unauth) {
    resp_parser_init(p);
    p->unauthenticated = unauth;
    return resp_parse(p, s, n);
}

static int err_is(const char *s, size_t n, int unauth, const char *want) {
    resp_parser p;
    int rc = parse1(&p, s, n, unauth);
    int ok = rc == RESP_ERR && p.err && strcmp(p.err, want) == 0;
    if (!ok) fprintf(stderr, "  got rc=%d err=%s want %s\n", rc, p.err ? p.err : "(null)", want);
    resp_parser_free(&p);
    return ok;
}

static int incomplete(const char *s, size_t n, int unauth) {
    resp_parser p;
    int rc = parse1(&p, s, n, unauth);
    resp_parser_free(&p);
    return rc == RESP_INCOMPLETE;
}

#define ERR_IS(lit, want) err_is(lit, sizeof(lit) - 1, 0, want)
#define INC(lit) incomplete(lit, sizeof(lit) - 1, 0)

/* Check that s parses to exactly the expected NULL-terminated argv. */
static int args_are(const char *s, size_t n, size_t consumed, const char *const *want) {
    resp_parser p;
    int rc = parse1(&p, s, n, 0);
    int ok = rc == RESP_OK && p.consumed == consumed;
    const char *base = resp_args_base(&p, s);
    int i = 0;
    for (; ok && want[i]; i++) {
        size_t wl = strlen(want[i]);
        ok = i < p.argc && p.argv[i].len == wl && memcmp(base + p.argv[i].off, want[i], wl) == 0;
    }
    ok = ok && i == p.argc;
    if (!ok) fprintf(stderr, "  args mismatch for %.*s (rc=%d argc=%d)\n", (int)n, s, rc, p.argc);
    resp_parser_free(&p);
    return ok;
}

#define ARGS(lit, ...)                                                                             \
    args_are(lit, sizeof(lit) - 1, sizeof(lit) - 1, (const char *const[]){__VA_ARGS__, NULL})
#define NOARGS(lit) args_are(lit, sizeof(lit) - 1, sizeof(lit) - 1, (const char *const[]){NULL})

/* ---------------------------------------------------------------------- */
/* Parser: error texts and limits. */

static void test_errors(void) {
    char *big = malloc(2 * RESP_INLINE_MAX + 16);

    /* Inline: no newline within RESP_INLINE_MAX bytes. */
    memset(big, 'x', RESP_INLINE_MAX + 1);
    CHECK(incomplete(big, RESP_INLINE_MAX, 0));
    CHECK(err_is(big, RESP_INLINE_MAX + 1, 0, "ERR Protocol error: too big inline request"));

    CHECK(ERR_IS("echo \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"));
    CHECK(ERR_IS("echo \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request"));
    CHECK(ERR_IS("echo 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request"));
    CHECK(ERR_IS("echo 'abc\n", "ERR Protocol error: unbalanced quotes in request"));
    CHECK(ERR_IS("echo \"abc\\\"\n", "ERR Protocol error: unbalanced quotes in request"));
    CHECK(ERR_IS("a\"b\"c\n", "ERR Protocol error: unbalanced quotes in request"));

    /* Multibulk count line. */
    big[0] = '*';
    memset(big + 1, '1', RESP_INLINE_MAX + 1);
    CHECK(incomplete(big, RESP_INLINE_MAX, 0));
    CHECK(err_is(big, RESP_INLINE_MAX + 1, 0, "ERR Protocol error: too big mbulk count string"));
    CHECK(ERR_IS("*x\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*2147483648\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*01\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*+1\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("* 1\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*1 \r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*-0\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*-\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*99999999999999999999\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(ERR_IS("*000000000000000000001\r\n", "ERR Protocol error: invalid multibulk length"));
    CHECK(INC("*2147483647\r\n"));
    CHECK(INC("*1\r")); /* the byte after '\r' has not arrived */
    CHECK(INC("*x\r")); /* not even validated before that byte */

    CHECK(incomplete("*10\r\n", 5, 1));
    CHECK(err_is("*11\r\n", 5, 1, "ERR Protocol error: unauthenticated multibulk length"));
    CHECK(err_is("*2147483648\r\n", 13, 1, "ERR Protocol error: invalid multibulk length"));
    CHECK(incomplete("*11\r\n", 5, 0));

    /* Bulk header. */
    CHECK(ERR_IS("*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'"));
    CHECK(ERR_IS("*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '"));
    CHECK(ERR_IS("*1\r\n\n\r\n", "ERR Protocol error: expected '$', got ' '"));
    CHECK(ERR_IS("*1\r\n\xff\r\n", "ERR Protocol error: expected '$', got '\xff'"));
    CHECK(ERR_IS("*2\r\n$1\r\na\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"));
    CHECK(INC("*1\r\nx"));
    CHECK(INC("*1\r\nx\r"));
    CHECK(ERR_IS("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$01\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$\xff\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(ERR_IS("*1\r\n$9223372036854775808\r\n", "ERR Protocol error: invalid bulk length"));
    CHECK(INC("*1\r\n$536870912\r\n"));
    CHECK(INC("*1\r\n$-0\r")); /* incomplete before it is judged */
    {
        resp_parser p;
        resp_parser_init(&p);
        p.max_bulk_len = 10;
        CHECK(resp_parse(&p, "*1\r\n$10\r\n", 9) == RESP_INCOMPLETE);
        resp_parser_reset(&p);
        CHECK(resp_parse(&p, "*1\r\n$11\r\n", 9) == RESP_ERR);
        CHECK(p.err && strcmp(p.err, "ERR Protocol error: invalid bulk length") == 0);
        /* Errors are sticky until reset. */
        CHECK(resp_parse(&p, "PING\r\n", 6) == RESP_ERR);
        resp_parser_reset(&p);
        CHECK(resp_parse(&p, "PING\r\n", 6) == RESP_OK && p.argc == 1);
        resp_parser_free(&p);
    }
    CHECK(incomplete("*1\r\n$16384\r\n", 12, 1));
    CHECK(err_is("*1\r\n$16385\r\n", 12, 1, "ERR Protocol error: unauthenticated bulk length"));
    CHECK(err_is("*1\r\n$536870913\r\n", 16, 1, "ERR Protocol error: invalid bulk length"));
    CHECK(incomplete("*1\r\n$16385\r\n", 12, 0));

    /* Too big bulk count string: counted from the start of the bulk header. */
    memcpy(big, "*1\r\n$", 5);
    memset(big + 5, '1', RESP_INLINE_MAX + 1);
    CHECK(incomplete(big, 4 + RESP_INLINE_MAX, 0));
    CHECK(err_is(big, 5 + RESP_INLINE_MAX, 0, "ERR Protocol error: too big bulk count string"));
    memcpy(big, "*2\r\n$1\r\na\r\n$", 12);
    memset(big + 12, '1', RESP_INLINE_MAX + 1);
    CHECK(incomplete(big, 11 + RESP_INLINE_MAX, 0));
    CHECK(err_is(big, 12 + RESP_INLINE_MAX, 0, "ERR Protocol error: too big bulk count string"));

    /* Redis finds line ends with strchr(): a NUL before the end stalls the
     * request until the buffer grows past the limit. */
    CHECK(incomplete("GET a\0\nPING\r\n", 13, 0));
    CHECK(incomplete("\0\r\n", 3, 0));
    CHECK(incomplete("*1\0\r\n$4\r\nPING\r\n", 15, 0));
    CHECK(incomplete("*1\r\n$4\0\r\nPING\r\n", 15, 0));
    memcpy(big, "GET a\0\n", 7);
    memset(big + 7, 'x', RESP_INLINE_MAX);
    CHECK(incomplete(big, RESP_INLINE_MAX, 0));
    CHECK(err_is(big, RESP_INLINE_MAX + 1, 0, "ERR Protocol error: too big inline request"));
    memcpy(big, "*1\r\n$\0\r\n", 8);
    memset(big + 8, 'x', RESP_INLINE_MAX);
    CHECK(incomplete(big, 4 + RESP_INLINE_MAX, 0));
    CHECK(err_is(big, 5 + RESP_INLINE_MAX, 0, "ERR Protocol error: too big bulk count string"));
    /* ...but a NUL after the line end is fine. */
    {
        resp_parser p;
        CHECK(parse1(&p, "*1\r\n$1\r\n\0\r\n", 11, 0) == RESP_OK && p.argc == 1 &&
              p.argv[0].len == 1 && p.argv[0].off == 8);
        resp_parser_free(&p);
    }
    /* A stalled line stays cheap: later calls do not rescan it. */
    {
        resp_parser p;
        resp_parser_init(&p);
        CHECK(resp_parse(&p, "ab\0cd", 5) == RESP_INCOMPLETE);
        CHECK(p.scan == 2);
        CHECK(resp_parse(&p, "ab\0cd\r\n", 7) == RESP_INCOMPLETE);
        CHECK(p.scan == 2);
        resp_parser_free(&p);
    }
    free(big);
}

/* ---------------------------------------------------------------------- */
/* Parser: accepted forms. */

static void test_accept(void) {
    CHECK(ARGS("*1\r\n$4\r\nPING\r\n", "PING"));
    CHECK(ARGS("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", "SET", "k", ""));
    CHECK(NOARGS("*0\r\n"));
    CHECK(NOARGS("*-1\r\n"));
    CHECK(NOARGS("*-2147483649\r\n")); /* any count <= 0 is an empty request */
    /* Redis skips the byte after a header's '\r' and the two bytes after a
     * payload without looking at them. */
    CHECK(ARGS("*1\rX$4\rYPINGZZ", "PING"));
    CHECK(ARGS("*2\r\n$1\r\n\r\r\n$2\r\n\r\n\r\n", "\r", "\r\n"));

    CHECK(ARGS("PING\r\n", "PING"));
    CHECK(ARGS("PING\n", "PING"));
    CHECK(ARGS("PING\r\r\n", "PING"));
    CHECK(NOARGS("\r\n"));
    CHECK(NOARGS("\n"));
    CHECK(NOARGS(" \t \r\n"));
    CHECK(NOARGS("\r\r\n"));
    CHECK(ARGS("  set  a\tb  \n", "set", "a", "b"));
    CHECK(ARGS("echo \"a b\" 'c d'\r\n", "echo", "a b", "c d"));
    CHECK(ARGS("echo \"\\x41\\x4a\\x4\\xzz\"\r\n", "echo", "AJx4xzz"));
    CHECK(ARGS("echo \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n", "echo", "\n\r\t\b\a\\\"q"));
    CHECK(ARGS("echo 'it\\'s' 'a\\nb' 'x\"y'\n", "echo", "it's", "a\\nb", "x\"y"));
    CHECK(ARGS("echo \"\" ''\n", "echo", "", ""));
    CHECK(ARGS("a\"b c\"\n", "ab c"));
    CHECK(ARGS("a'b c'\n", "ab c"));
    CHECK(ARGS("a\vb\n", "a\vb")); /* \v separates only leading space */
    CHECK(ARGS("\va\fb\n", "a\fb"));
    CHECK(ARGS("\"a\"\v\n", "a")); /* ...but may follow a closing quote */
    CHECK(ARGS("a\rb\n", "a", "b"));
    CHECK(ARGS("\"a\r\"\n", "a\r"));
    CHECK(ARGS("x\x80\xff\n", "x\x80\xff"));

    /* Pipelined requests: each call parses one and reports its size. */
    {
        static const char in[] = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\nGET k\n*0\r\n";
        resp_parser p;
        resp_parser_init(&p);
        size_t off = 0, n = sizeof(in) - 1;
        int argcs[5], k = 0;
        while (k < 5 && resp_parse(&p, in + off, n - off) == RESP_OK) {
            argcs[k++] = p.argc;
            off += p.consumed;
        }
        CHECK(k == 5 && off == n);
        CHECK(argcs[0] == 1 && argcs[1] == 2 && argcs[2] == 0 && argcs[3] == 2 && argcs[4] == 0);
        CHECK(resp_parse(&p, in + off, 0) == RESP_INCOMPLETE);
        resp_parser_free(&p);
    }
    /* Offsets of multibulk args point into the caller's buffer. */
    {
        resp_parser p;
        static const char in[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
        CHECK(parse1(&p, in, sizeof(in) - 1, 0) == RESP_OK);
        CHECK(!p.inline_req && p.argv[0].off == 8 && p.argv[1].off == 17);
        CHECK(resp_args_base(&p, in) == in);
        resp_parser_free(&p);
        CHECK(parse1(&p, "GET key\n", 8, 0) == RESP_OK);
        CHECK(p.inline_req && resp_inline_base(&p) &&
              resp_args_base(&p, "x") == resp_inline_base(&p));
        resp_parser_free(&p);
    }
    /* argv grows with the arguments and is trimmed after a huge request. */
    {
        rbuf b;
        rb_init(&b, 2);
        rw_array(&b, 3000);
        for (int i = 0; i < 3000; i++)
            rw_bulk_ll(&b, i);
        resp_parser p;
        CHECK(parse1(&p, b.buf, b.len, 0) == RESP_OK && p.argc == 3000 && p.consumed == b.len);
        int good = 1;
        for (int i = 0; i < 3000; i++) {
            char tmp[16];
            int n = snprintf(tmp, sizeof(tmp), "%d", i);
            good &=
                p.argv[i].len == (size_t)n && memcmp(b.buf + p.argv[i].off, tmp, (size_t)n) == 0;
        }
        CHECK(good);
        CHECK(resp_parse(&p, "*1\r\n$1\r\na\r\n", 11) == RESP_OK && p.argc == 1);
        CHECK(p.argv_cap <= 1024);
        resp_parser_free(&p);
        rb_free(&b);
    }
}

/* A line longer than RESP_INLINE_MAX is accepted when its newline is already
 * in the buffer (Redis only complains while the newline is missing), and the
 * large scratch buffer it needed is released by the next request. */
static void test_long_inline(void) {
    size_t n = 3 * RESP_INLINE_MAX;
    char *line = malloc(n);
    for (size_t i = 0; i < n - 1; i++)
        line[i] = (i % 2) ? ' ' : 'a';
    line[n - 1] = '\n';
    resp_parser p;
    CHECK(parse1(&p, line, n, 0) == RESP_OK && p.consumed == n && p.argc == (int)(n / 2));
    CHECK(p.inline_req && p.argv[p.argc - 1].len == 1 &&
          resp_inline_base(&p)[p.argv[p.argc - 1].off] == 'a');
    CHECK(resp_parse(&p, "PING\n", 5) == RESP_OK && p.argc == 1 && p.argv_cap <= 1024);
    CHECK(memcmp(resp_inline_base(&p) + p.argv[0].off, "PING", 4) == 0);
    resp_parser_free(&p);
    free(line);
}

/* Huge declared sizes cost nothing until the bytes arrive. */
static void test_huge_declared(void) {
    resp_parser p;
    CHECK(parse1(&p, "*2147483647\r\n$1\r\na\r\n", 20, 0) == RESP_INCOMPLETE);
    CHECK(p.argc == 1 && p.argv_cap <= 16);
    resp_parser_free(&p);

    CHECK(parse1(&p, "*1\r\n$536870912\r\nabc", 19, 0) == RESP_INCOMPLETE);
    CHECK(p.argv_cap <= 16);
    resp_parser_free(&p);

    resp_parser_init(&p);
    p.max_bulk_len = LLONG_MAX;
    static const char in[] = "*1\r\n$9223372036854775807\r\nabc";
    CHECK(resp_parse(&p, in, sizeof(in) - 1) == RESP_INCOMPLETE);
    CHECK(p.argv_cap <= 16);
    resp_parser_free(&p);
}

/* ---------------------------------------------------------------------- */
/* Parser: every split gives the same result. */

static void test_splits(void) {
    static const char f1[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
    static const char f2[] = "*1\r\n$0\r\n\r\n*0\r\n*-1\r\n\r\n\n";
    static const char f3[] = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\n"
                             "set a \"b\\x41\\n\" 'c\\'d'\n*0\r\n*1\rX$4\rYPINGZZ";
    static const char f4[] = "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0\rb\r\n*1\r\n$3\r\nabc";
    static const char f5[] = "*2\r\n$3\r\nGET\r\nx\r\n";
    static const char f6[] = "echo \"abc\r\nPING\r\n";
    static const char f7[] = "GET a\0\nPING\r\n";
    static const char f8[] = "*12\r\n$1\r\na\r\n";
    check_splits(f1, sizeof(f1) - 1, 0);
    check_splits(f2, sizeof(f2) - 1, 0);
    check_splits(f3, sizeof(f3) - 1, 0);
    check_splits(f4, sizeof(f4) - 1, 0);
    check_splits(f5, sizeof(f5) - 1, 0);
    check_splits(f6, sizeof(f6) - 1, 0);
    check_splits(f7, sizeof(f7) - 1, 0);
    check_splits(f8, sizeof(f8) - 1, 1);
    check_splits(f8, sizeof(f8) - 1, 0);

    /* Spot-check the traces themselves. */
    rbuf t;
    rb_init(&t, 2);
    stream(f3, sizeof(f3) - 1, NULL, 0, 0, &t);
    static const char want3[] = "[1 6 4:PING][2 22 4:ECHO 2:hi][0 2][4 23 3:set 1:a 3:bA\n 3:c'd]"
                                "[0 4][1 14 4:PING]R0";
    CHECK(t.len == sizeof(want3) - 1 && memcmp(t.buf, want3, t.len) == 0);
    rb_clear(&t);
    stream(f4, sizeof(f4) - 1, NULL, 0, 0, &t);
    static const char want4[] = "[2 26 4:ECHO 6:a\r\n\0\rb]R11";
    CHECK(t.len == sizeof(want4) - 1 && memcmp(t.buf, want4, t.len) == 0);
    rb_clear(&t);
    stream(f8, sizeof(f8) - 1, NULL, 0, 1, &t);
    static const char want8[] = "E:ERR Protocol error: unauthenticated multibulk length";
    CHECK(t.len == sizeof(want8) - 1 && memcmp(t.buf, want8, t.len) == 0);
    rb_free(&t);
}

/* ---------------------------------------------------------------------- */
/* Parser against a reference encoder: random requests, random reads. */

static void test_reference(void) {
    for (int round = 0; round < 300; round++) {
        rbuf in, want, got;
        rb_init(&in, 2);
        rb_init(&want, 2);
        rb_init(&got, 2);
        int nreq = 1 + (int)rnd_n(6);
        for (int r = 0; r < nreq; r++) {
            int inl = rnd_n(3) == 0;
            int argc = inl ? 1 + (int)rnd_n(5) : (int)rnd_n(7);
            char tmp[64];
            size_t start = in.len;
            if (!inl) rw_array(&in, argc);
            rbuf rec;
            rb_init(&rec, 2);
            for (int a = 0; a < argc; a++) {
                char arg[40];
                size_t al = rnd_n(sizeof(arg));
                for (size_t i = 0; i < al; i++)
                    arg[i] = (char)rnd();
                int k = snprintf(tmp, sizeof(tmp), " %zu:", al);
                rb_append(&rec, tmp, (size_t)k);
                rb_append(&rec, arg, al);
                if (!inl) {
                    rw_bulk(&in, arg, al);
                } else {
                    /* Encode with "\xHH" escapes, sometimes 'single quotes'. */
                    if (a) {
                        const char *sep = rnd_n(2) ? " " : "\t ";
                        rb_append(&in, sep, strlen(sep));
                    }
                    rb_append(&in, "\"", 1);
                    for (size_t i = 0; i < al; i++) {
                        k = snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned char)arg[i]);
                        rb_append(&in, tmp, (size_t)k);
                    }
                    rb_append(&in, "\"", 1);
                }
            }
            if (inl) {
                if (rnd_n(2))
                    rb_append(&in, "\r\n", 2);
                else
                    rb_append(&in, "\n", 1);
            }
            int k = snprintf(tmp, sizeof(tmp), "[%d %zu", argc, in.len - start);
            rb_append(&want, tmp, (size_t)k);
            rb_append(&want, rec.buf ? rec.buf : "", rec.len);
            rb_append(&want, "]", 1);
            rb_free(&rec);
        }
        rb_append(&want, "R0", 2);

        size_t cuts[64];
        int nc = 0;
        size_t at = 0;
        while (nc < 64 && at < in.len) {
            at += 1 + rnd_n(in.len / 4 + 1);
            cuts[nc++] = at < in.len ? at : in.len;
        }
        stream(in.buf, in.len, cuts, nc, 0, &got);
        CHECK(trace_eq(&want, &got));
        if (!trace_eq(&want, &got)) {
            fprintf(stderr, "  want %.*s\n  got  %.*s\n", (int)want.len, want.buf, (int)got.len,
                    got.buf);
            FILE *f = fopen("/tmp/resp_fail.bin", "wb");
            fwrite(in.buf, 1, in.len, f);
            fclose(f);
            for (int i = 0; i < nc; i++)
                fprintf(stderr, "%zu ", cuts[i]);
            fprintf(stderr, "\n");
            exit(1);
        }
        rb_free(&in);
        rb_free(&want);
        rb_free(&got);
    }
}

/* ---------------------------------------------------------------------- */
/* Parser: over-reads crash against a PROT_NONE page. */

static const char *guard_frames[] = {
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n",
    "PING\r\n",
    "echo \"a\\x41\\\" b\" 'c\\'\n",
    "echo \"a\\x4",
    "echo \"a\\",
    "echo 'a\\",
    "*1\r\n$4\r\nPING\r",
    "*1\r\n$4\r\nPING",
    "*1\r\n$4\r",
    "*1\r\n$",
    "*1\r",
    "*",
    "x",
    "\r",
    "*1\r\nx\r",
    "\"",
    "'",
};

static void test_guard_page(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char *map =
        mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED) return;
    CHECK(mprotect(map + pg, (size_t)pg, PROT_NONE) == 0);
    char *end = map + pg;
    int ran = 0;

    for (size_t f = 0; f < sizeof(guard_frames) / sizeof(guard_frames[0]); f++) {
        const char *fr = guard_frames[f];
        size_t n = strlen(fr);
        /* Every prefix, fresh parser, placed flush against the guard. */
        for (size_t k = 0; k <= n; k++) {
            resp_parser p;
            memcpy(end - k, fr, k);
            int rc = parse1(&p, end - k, k, 0);
            CHECK(rc == RESP_OK || rc == RESP_INCOMPLETE || rc == RESP_ERR);
            resp_parser_free(&p);
            ran++;
        }
        /* The same parser fed growing prefixes, each moved to the guard. */
        resp_parser p;
        resp_parser_init(&p);
        for (size_t k = 0; k <= n; k++) {
            memcpy(end - k, fr, k);
            int rc = resp_parse(&p, end - k, k);
            if (rc != RESP_INCOMPLETE) break;
        }
        resp_parser_free(&p);
    }
    CHECK(ran > 100);
    /* A long inline line with quotes that hits the end of the buffer. */
    memset(map, 'a', (size_t)pg);
    map[0] = '"';
    {
        resp_parser p;
        CHECK(parse1(&p, map, (size_t)pg, 0) == RESP_INCOMPLETE);
        resp_parser_free(&p);
    }
    munmap(map, 2 * (size_t)pg);
}

/* ---------------------------------------------------------------------- */
/* Parser: random garbage never crashes and behaves the same under splits. */

static void test_garbage(void) {
    static const char alpha[] = "*$\r\n0123456789-+\"'\\x :abc\t\v";
    char buf[160];
    for (int round = 0; round < 3000; round++) {
        size_t n = rnd_n(sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            unsigned r = (unsigned)rnd_n(100);
            buf[i] = r < 90 ? alpha[rnd_n(sizeof(alpha) - 1)] : r < 95 ? '\0' : (char)rnd();
        }
        /* Make headers plausible sometimes. */
        if (n > 4 && rnd_n(2)) memcpy(buf, "*2\r\n", 4);
        int unauth = (int)rnd_n(2);
        rbuf whole, t;
        rb_init(&whole, 2);
        rb_init(&t, 2);
        stream(buf, n, NULL, 0, unauth, &whole);
        size_t cuts[32];
        int nc = 0;
        size_t at = 0;
        while (nc < 32 && at < n) {
            at += 1 + rnd_n(12);
            cuts[nc++] = at < n ? at : n;
        }
        stream(buf, n, cuts, nc, unauth, &t);
        CHECK(trace_eq(&whole, &t));
        rb_free(&whole);
        rb_free(&t);
    }
}

/* ---------------------------------------------------------------------- */
/* Writer. */

static int out_is(rbuf *b, const char *want, size_t n) {
    int ok = b->len == n && memcmp(b->buf, want, n) == 0;
    if (!ok)
        fprintf(stderr, "  writer got [%.*s] want [%.*s]\n", (int)b->len, b->buf, (int)n, want);
    rb_clear(b);
    return ok;
}

#define OUT(b, lit) out_is(b, lit, sizeof(lit) - 1)

static void test_writer(void) {
    rbuf b2, b3;
    rb_init(&b2, 2);
    rb_init(&b3, 3);
    rbuf *both[2] = {&b2, &b3};

    for (int i = 0; i < 2; i++) {
        rbuf *b = both[i];
        rw_simple(b, "PONG");
        CHECK(OUT(b, "+PONG\r\n"));
        rw_simple_len(b, "OKAY", 2);
        CHECK(OUT(b, "+OK\r\n"));
        rw_ok(b);
        CHECK(OUT(b, "+OK\r\n"));
        rw_error(b, "ERR bad\r\nthing\n");
        CHECK(OUT(b, "-ERR bad  thing \r\n"));
        rw_error(b, "WRONGTYPE Operation against a key holding the wrong kind of value");
        CHECK(OUT(b, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"));
        rw_errorf(b, "ERR unknown command '%s', with args beginning with: %s", "fo\ro", "");
        CHECK(OUT(b, "-ERR unknown command 'fo o', with args beginning with: \r\n"));
        rw_errorf(b, "ERR %s", "trailing\r\n");
        CHECK(OUT(b, "-ERR trailing\r\n"));
        rw_int(b, 0);
        rw_int(b, -42);
        rw_int(b, LLONG_MIN);
        CHECK(OUT(b, ":0\r\n:-42\r\n:-9223372036854775808\r\n"));
        rw_bulk(b, "a\r\nb", 4);
        rw_bulk(b, "", 0);
        rw_bulk_cstr(b, "hello");
        rw_bulk_ll(b, -7);
        rw_bulk_ll(b, LLONG_MAX);
        CHECK(OUT(
            b,
            "$4\r\na\r\nb\r\n$0\r\n\r\n$5\r\nhello\r\n$2\r\n-7\r\n$19\r\n9223372036854775807\r\n"));
        rw_array(b, 3);
        rw_array(b, 0);
        rw_array(b, -1);
        CHECK(OUT(b, "*3\r\n*0\r\n*-1\r\n"));
    }

    rw_null(&b2);
    CHECK(OUT(&b2, "$-1\r\n"));
    rw_null(&b3);
    CHECK(OUT(&b3, "_\r\n"));
    rw_null_array(&b2);
    CHECK(OUT(&b2, "*-1\r\n"));
    rw_null_array(&b3);
    CHECK(OUT(&b3, "_\r\n"));
    rw_map(&b2, 3);
    CHECK(OUT(&b2, "*6\r\n"));
    rw_map(&b3, 3);
    CHECK(OUT(&b3, "%3\r\n"));
    rw_set(&b2, 2);
    CHECK(OUT(&b2, "*2\r\n"));
    rw_set(&b3, 2);
    CHECK(OUT(&b3, "~2\r\n"));
    rw_push(&b2, 3);
    CHECK(OUT(&b2, "*3\r\n"));
    rw_push(&b3, 3);
    CHECK(OUT(&b3, ">3\r\n"));
    rw_bool(&b2, 1);
    rw_bool(&b2, 0);
    CHECK(OUT(&b2, ":1\r\n:0\r\n"));
    rw_bool(&b3, 5);
    rw_bool(&b3, 0);
    CHECK(OUT(&b3, "#t\r\n#f\r\n"));
    rw_verbatim(&b2, "txt", "hi\r\nx", 5);
    CHECK(OUT(&b2, "$5\r\nhi\r\nx\r\n"));
    rw_verbatim(&b3, "txt", "hi\r\nx", 5);
    CHECK(OUT(&b3, "=9\r\ntxt:hi\r\nx\r\n"));
    rw_verbatim(&b3, "mkd", "", 0);
    CHECK(OUT(&b3, "=4\r\nmkd:\r\n"));

    /* Doubles as redis-server 7.0.15 sends ZSCORE replies. */
    static const struct {
        double d;
        const char *s;
    } dbl[] = {
        {1.1, "1.1000000000000001"},
        {3, "3"},
        {1e20, "1e+20"},
        {0.1, "0.10000000000000001"},
        {-0.0, "-0"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {1e300, "1.0000000000000001e+300"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {5e-324, "4.9406564584124654e-324"},
    };
    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
        char want[80];
        int n = snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", strlen(dbl[i].s), dbl[i].s);
        rw_double(&b2, dbl[i].d);
        CHECK(out_is(&b2, want, (size_t)n));
        n = snprintf(want, sizeof(want), ",%s\r\n", dbl[i].s);
        rw_double(&b3, dbl[i].d);
        CHECK(out_is(&b3, want, (size_t)n));
    }

    /* Buffer management. */
    rbuf b;
    rb_init(&b, 2);
    CHECK(b.len == 0 && b.resp == 2);
    for (int i = 0; i < 10000; i++)
        rb_append(&b, "abc", 3);
    CHECK(b.len == 30000 && b.cap >= b.len && memcmp(b.buf + 29997, "abc", 3) == 0);
    size_t cap = b.cap;
    rb_clear(&b);
    CHECK(b.len == 0 && b.cap == cap);
    rb_reserve(&b, cap + 1);
    CHECK(b.cap >= cap + 1);
    rb_free(&b);
    CHECK(b.buf == NULL && b.len == 0 && b.cap == 0);
    rw_bulk(&b, "x", 1); /* usable again after rb_free */
    CHECK(OUT(&b, "$1\r\nx\r\n"));
    rb_free(&b);
    {
        char long_msg[600];
        memset(long_msg, 'z', sizeof(long_msg));
        rw_errorf(&b2, "ERR %.*s\n", (int)sizeof(long_msg), long_msg);
        CHECK(b2.len == 4 + sizeof(long_msg) + 3 && b2.buf[b2.len - 3] == 'z');
        rb_clear(&b2);
    }
    rb_free(&b2);
    rb_free(&b3);
}

int main(void) {
    test_errors();
    test_accept();
    test_long_inline();
    test_huge_declared();
    test_splits();
    test_reference();
    test_guard_page();
    test_garbage();
    test_writer();
    UNIT_DONE();
}
