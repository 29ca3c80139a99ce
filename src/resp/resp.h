/* resp.h -- the RESP2/RESP3 protocol front end: an incremental request
 * parser and a reply writer. Pure code: no I/O, no shards, no commands.
 * Runs on whichever thread owns the buffer it is given.
 *
 * Parser contract (after picohttpparser): the caller owns one contiguous
 * input buffer holding the unconsumed bytes of a connection. resp_parse()
 * is called each time more bytes arrive, always with the buffer starting at
 * the first byte of the current (not yet complete) request. The parser keeps
 * its progress in `resp_parser`, so a half-received request is never scanned
 * again from its start: a large bulk argument costs O(new bytes) per call.
 * Arguments are returned as offsets into the buffer (the caller may realloc
 * the buffer between calls; offsets stay valid).
 */
#ifndef PERCORE_RESP_H
#define PERCORE_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Redis's protocol limits. */
#define RESP_INLINE_MAX (64 * 1024) /* longest inline request / header line */
#define RESP_MBULK_BIG_ARG (32 * 1024)

/* One argument of a parsed request: bytes [off, off+len) of the buffer. */
typedef struct resp_span {
    size_t off;
    size_t len;
} resp_span;

enum {
    RESP_OK = 0,         /* a whole request is parsed: see argc/argv/consumed */
    RESP_INCOMPLETE = 1, /* need more bytes; progress is remembered */
    RESP_ERR = -1,       /* protocol error: `err` holds Redis's reply text */
};

typedef struct resp_parser {
    /* Limits, set by the owner before use (defaults by resp_parser_init). */
    long long max_bulk_len; /* proto-max-bulk-len (default 512 MB) */
    int unauthenticated;    /* 1: apply Redis's limits for clients that have not
                               authenticated (multibulk <= 10, bulk <= 16384) */

    /* Output of a RESP_OK call: argc spans, and how many bytes the request
     * occupied (the caller drops them before the next call). argc may be 0
     * for an empty request (e.g. "*0\r\n" or a blank inline line); the caller
     * then just consumes the bytes. */
    int argc;
    resp_span *argv; /* owned by the parser, valid until the next call */
    size_t consumed;

    /* Output of a RESP_ERR call: the error reply without "-" and CRLF,
     * exactly as Redis words it, e.g. "ERR Protocol error: invalid bulk length". */
    const char *err;

    /* Private progress state. */
    int state;
    int argv_cap;
    long long mbulk_left; /* arguments still to read */
    long long bulk_len;   /* length of the bulk being read, -1 if its header is next */
    size_t pos;           /* bytes of the current request already consumed by the parser */
    size_t scan;          /* offset from which to look for the next '\n' */
    int inline_req;
    char errbuf[96];
} resp_parser;

/* Initialise with Redis's default limits. */
void resp_parser_init(resp_parser *p);
/* Release the parser's argv array. */
void resp_parser_free(resp_parser *p);
/* Forget a partly parsed request (e.g. on RESET of the connection). */
void resp_parser_reset(resp_parser *p);

/* Parse at most one request from buf[0..len). See the enum for results.
 * After RESP_OK the parser is ready for the next request, which starts at
 * buf + consumed. After RESP_ERR the connection is to be closed after the
 * error is sent, as Redis does. Never reads outside buf[0..len). */
int resp_parse(resp_parser *p, const char *buf, size_t len);

/* Split line[0..n) into arguments with Redis's sdssplitargs rules (spaces
 * separate; "double quotes" with \n \r \t \b \a \\ \" \xHH escapes;
 * 'single quotes' with \'; a closing quote must be followed by a space or the
 * end). The unescaped bytes go to out (room for n bytes) and emit is called
 * with each argument's offset and length in out. Returns 0, or -1 on
 * unbalanced quotes. Used for inline requests and redis.conf lines. */
int resp_split_args(const char *line, size_t n, char *out,
                    void (*emit)(void *ud, size_t off, size_t len), void *ud);

/* ---------------------------------------------------------------------- */
/* Reply writer: a growable byte buffer that knows the protocol version it
 * writes for. Every rw_* function appends one RESP element (or the header
 * of an aggregate). Out-of-memory aborts the process, as Redis does. */

typedef struct rbuf {
    char *buf;
    size_t len;
    size_t cap;
    int resp; /* 2 or 3: chooses the wire form of nulls, maps, doubles ... */
} rbuf;

void rb_init(rbuf *b, int resp);
void rb_free(rbuf *b);               /* frees memory, leaves b empty */
void rb_grow(rbuf *b, size_t extra); /* rb_reserve's slow path */
/* Ensure cap >= len + extra. */
static inline void rb_reserve(rbuf *b, size_t extra) {
    if (b->cap - b->len < extra) rb_grow(b, extra);
}
void rb_append(rbuf *b, const void *p, size_t n);
void rb_clear(rbuf *b); /* len = 0, keeps memory */
/* Append printf-formatted text of any length (no RESP framing). */
void rb_printf(rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void rw_simple(rbuf *b, const char *s); /* +s\r\n */
void rw_simple_len(rbuf *b, const char *s, size_t n);
void rw_ok(rbuf *b); /* +OK\r\n */
/* -msg\r\n. msg carries its own code ("ERR ...", "WRONGTYPE ..."); any CR
 * or LF inside msg is replaced by a space, as Redis does. */
void rw_error(rbuf *b, const char *msg);
void rw_errorf(rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rw_int(rbuf *b, long long v); /* :v\r\n */
void rw_bulk(rbuf *b, const void *p, size_t n);
void rw_bulk_cstr(rbuf *b, const char *s);
void rw_bulk_ll(rbuf *b, long long v); /* integer as a bulk string */
void rw_null(rbuf *b);                 /* RESP2 $-1, RESP3 _ */
void rw_null_array(rbuf *b);           /* RESP2 *-1, RESP3 _ */
void rw_array(rbuf *b, long n);        /* *n */
void rw_map(rbuf *b, long npairs);     /* RESP3 %n, RESP2 *2n */
void rw_set(rbuf *b, long n);          /* RESP3 ~n, RESP2 *n */
void rw_push(rbuf *b, long n);         /* RESP3 >n, RESP2 *n */
void rw_double(rbuf *b, double d);     /* RESP3 ,d ; RESP2 bulk of util_d2str */
void rw_bool(rbuf *b, int v);          /* RESP3 #t/#f ; RESP2 :1/:0 */
/* Verbatim string: RESP3 =len\r\nfmt:text ; RESP2 a plain bulk of text.
 * fmt is the 3-letter format, "txt" or "mkd". */
void rw_verbatim(rbuf *b, const char *fmt, const char *p, size_t n);

#endif
