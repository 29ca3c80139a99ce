/* lp.c -- listpack: a compact, contiguous sequence of small strings.
 *
 * Layout of the buffer (all multi-byte numbers little-endian):
 *
 *   +-------------+-------------+---------+---------+-----+---------+------+
 *   | total bytes | entry count | entry 0 | entry 1 | ... | entry n | 0xFF |
 *   |   uint32    |   uint32    |         |         |     |         |      |
 *   +-------------+-------------+---------+---------+-----+---------+------+
 *
 * An entry is [encoding byte(s)] [data] [backlen]. The first byte says what
 * follows (the 0xFF end marker is never a valid first byte):
 *
 *   0xxxxxxx                  integer 0..127 held in the byte itself
 *   10xxxxxx                  string of 0..63 bytes follows
 *   110xxxxx yyyyyyyy         13-bit signed integer (x high bits, y low byte)
 *   1110xxxx yyyyyyyy         string of 64..4095 bytes (12-bit length)
 *   11110000 + uint32         string of any length (32-bit length)
 *   11110001 + 2 bytes        int16
 *   11110010 + 3 bytes        int24
 *   11110011 + 4 bytes        int32
 *   11110100 + 8 bytes        int64
 *
 * backlen is the size of [encoding][data] in 7-bit groups stored so that
 * reading backwards from the entry's last byte gives the low group first; a
 * set high bit means "one more group further left". This lets lp_prev step
 * back from any entry to the one before it.
 *
 * The buffer is reallocated to its exact size on every change (no slack):
 * this is the memory-efficient encoding and changes are O(n) anyway.
 *
 * Owned by one thread; no internal locking. Allocation failure aborts.
 */
#include "lp.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define LP_HDR 8 /* total bytes + entry count */
#define LP_END 0xFF

#define LP_ENC_STR32 0xF0
#define LP_ENC_INT16 0xF1
#define LP_ENC_INT24 0xF2
#define LP_ENC_INT32 0xF3
#define LP_ENC_INT64 0xF4

/* The largest [encoding][data] of an integer entry, plus its backlen. */
#define LP_INT_MAX_ENTRY 11

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void set_bytes(lp *l, size_t n) {
    wr32(l, (uint32_t)n);
}
static void set_count(lp *l, uint32_t n) {
    wr32(l + 4, n);
}

static void *lp_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (q == NULL) abort();
    return q;
}

/* Number of bytes the backlen of an entry whose [encoding][data] is n bytes
 * long takes. */
static size_t backlen_size(size_t n) {
    if (n < (1u << 7)) return 1;
    if (n < (1u << 14)) return 2;
    if (n < (1u << 21)) return 3;
    if (n < (1u << 28)) return 4;
    return 5;
}

/* Write the backlen for n at p (backlen_size(n) bytes). */
static void backlen_write(unsigned char *p, size_t n) {
    size_t k = backlen_size(n);
    for (size_t i = 0; i < k; i++) {
        unsigned char b = (unsigned char)((n >> (7 * i)) & 0x7F);
        if (i + 1 < k) b |= 0x80;
        p[k - 1 - i] = b;
    }
}

/* Read the backlen whose last byte is at end[-1]; *k receives its size. */
static size_t backlen_read(const unsigned char *end, size_t *k) {
    size_t n = 0, i = 0;
    for (;;) {
        unsigned char b = end[-1 - (long)i];
        n |= (size_t)(b & 0x7F) << (7 * i);
        i++;
        if (!(b & 0x80)) break;
    }
    *k = i;
    return n;
}

/* Size of [encoding][data] of the entry starting at p. */
static size_t enc_data_size(const unsigned char *p) {
    unsigned char b = p[0];
    if (b < 0x80) return 1;
    if (b < 0xC0) return 1 + (b & 0x3F);
    if (b < 0xE0) return 2;
    if (b < 0xF0) return 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case LP_ENC_STR32:
        return 5 + rd32(p + 1);
    case LP_ENC_INT16:
        return 3;
    case LP_ENC_INT24:
        return 4;
    case LP_ENC_INT32:
        return 5;
    default:
        return 9; /* LP_ENC_INT64 */
    }
}

/* Full size of the entry starting at p, backlen included. */
static size_t entry_size_at(const unsigned char *p) {
    size_t n = enc_data_size(p);
    return n + backlen_size(n);
}

/* Encode the integer v as an entry at out (at least LP_INT_MAX_ENTRY bytes).
 * Returns the entry's size, backlen included. */
static size_t encode_int(unsigned char *out, long long v) {
    size_t n;
    if (v >= 0 && v <= 127) {
        out[0] = (unsigned char)v;
        n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint16_t u = (uint16_t)v & 0x1FFF;
        out[0] = (unsigned char)(0xC0 | (u >> 8));
        out[1] = (unsigned char)u;
        n = 2;
    } else {
        size_t w;
        if (v >= INT16_MIN && v <= INT16_MAX) {
            out[0] = LP_ENC_INT16;
            w = 2;
        } else if (v >= -(1 << 23) && v < (1 << 23)) {
            out[0] = LP_ENC_INT24;
            w = 3;
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            out[0] = LP_ENC_INT32;
            w = 4;
        } else {
            out[0] = LP_ENC_INT64;
            w = 8;
        }
        uint64_t u = (uint64_t)v;
        for (size_t i = 0; i < w; i++)
            out[1 + i] = (unsigned char)(u >> (8 * i));
        n = 1 + w;
    }
    backlen_write(out + n, n);
    return n + backlen_size(n);
}

/* Size of the encoding prefix of a string of len bytes. */
static size_t str_prefix_size(size_t len) {
    if (len < 64) return 1;
    if (len < 4096) return 2;
    return 5;
}

/* Write the encoding prefix of a string of len bytes at out. */
static void str_prefix_write(unsigned char *out, size_t len) {
    if (len < 64) {
        out[0] = (unsigned char)(0x80 | len);
    } else if (len < 4096) {
        out[0] = (unsigned char)(0xE0 | (len >> 8));
        out[1] = (unsigned char)len;
    } else {
        out[0] = LP_ENC_STR32;
        wr32(out + 1, (uint32_t)len);
    }
}

/* 1 (and *v) if s[0..len) is stored as an integer entry. */
static int as_int(const char *s, size_t len, long long *v) {
    return len <= 20 && util_str2ll(s, len, v);
}

/* An entry ready to be written: integers are fully encoded in ibuf; strings
 * are a prefix followed by the caller's bytes and a backlen. */
typedef struct lp_new_entry {
    size_t size; /* total bytes, backlen included */
    int is_int;
    unsigned char ibuf[LP_INT_MAX_ENTRY];
    const char *s;
    size_t len;
} lp_new_entry;

static void prepare(lp_new_entry *ne, const char *s, size_t len) {
    long long v;
    if (as_int(s, len, &v)) {
        ne->is_int = 1;
        ne->size = encode_int(ne->ibuf, v);
    } else {
        size_t n = str_prefix_size(len) + len;
        ne->is_int = 0;
        ne->s = s;
        ne->len = len;
        ne->size = n + backlen_size(n);
    }
}

/* Write a prepared entry at out (ne->size bytes). */
static void emit(unsigned char *out, const lp_new_entry *ne) {
    if (ne->is_int) {
        memcpy(out, ne->ibuf, ne->size);
        return;
    }
    size_t pre = str_prefix_size(ne->len);
    str_prefix_write(out, ne->len);
    if (ne->len) memcpy(out + pre, ne->s, ne->len);
    backlen_write(out + pre + ne->len, pre + ne->len);
}

size_t lp_entry_size(const char *s, size_t len) {
    lp_new_entry ne;
    prepare(&ne, s, len);
    return ne.size;
}

lp *lp_new(void) {
    lp *l = lp_xrealloc(NULL, LP_HDR + 1);
    set_bytes(l, LP_HDR + 1);
    set_count(l, 0);
    l[LP_HDR] = LP_END;
    return l;
}

void lp_free(lp *l) {
    free(l);
}

lp *lp_dup(const lp *l) {
    size_t n = lp_bytes(l);
    lp *c = lp_xrealloc(NULL, n);
    memcpy(c, l, n);
    return c;
}

size_t lp_bytes(const lp *l) {
    return rd32(l);
}

uint32_t lp_count(const lp *l) {
    return rd32(l + 4);
}

lp_pos lp_first(const lp *l) {
    return l[LP_HDR] == LP_END ? LP_NONE : LP_HDR;
}

lp_pos lp_last(const lp *l) {
    size_t end = lp_bytes(l) - 1;
    if (end == LP_HDR) return LP_NONE;
    size_t k, n = backlen_read(l + end, &k);
    return end - k - n;
}

lp_pos lp_next(const lp *l, lp_pos p) {
    if (p == LP_NONE) return LP_NONE;
    p += entry_size_at(l + p);
    return l[p] == LP_END ? LP_NONE : p;
}

lp_pos lp_prev(const lp *l, lp_pos p) {
    if (p == LP_NONE || p == LP_HDR) return LP_NONE;
    size_t k, n = backlen_read(l + p, &k);
    return p - k - n;
}

lp_pos lp_seek(const lp *l, long i) {
    long n = (long)lp_count(l);
    if (i < 0) i += n;
    if (i < 0 || i >= n) return LP_NONE;
    lp_pos p;
    if (i <= n / 2) {
        p = lp_first(l);
        while (i-- > 0)
            p = lp_next(l, p);
    } else {
        p = lp_last(l);
        for (long j = n - 1; j > i; j--)
            p = lp_prev(l, p);
    }
    return p;
}

/* Decode an integer entry at p (which must be one). */
static long long int_value(const unsigned char *p) {
    unsigned char b = p[0];
    if (b < 0x80) return b;
    if (b < 0xE0) { /* 13-bit */
        int v = (b & 0x1F) << 8 | p[1];
        return v >= 4096 ? v - 8192 : v;
    }
    size_t w = b == LP_ENC_INT16 ? 2 : b == LP_ENC_INT24 ? 3 : b == LP_ENC_INT32 ? 4 : 8;
    uint64_t u = 0;
    for (size_t i = 0; i < w; i++)
        u |= (uint64_t)p[1 + i] << (8 * i);
    if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w); /* sign-extend */
    return (long long)u;
}

/* 1 if the entry at p is an integer; else the string's bytes and length. */
static int decode(const unsigned char *p, const unsigned char **s, size_t *len, long long *v) {
    unsigned char b = p[0];
    if (b < 0x80 || (b >= 0xC0 && b < 0xE0) || (b >= LP_ENC_INT16 && b <= LP_ENC_INT64)) {
        *v = int_value(p);
        return 1;
    }
    if (b < 0xC0) {
        *len = b & 0x3F;
        *s = p + 1;
    } else if (b < 0xF0) {
        *len = (size_t)(b & 0x0F) << 8 | p[1];
        *s = p + 2;
    } else {
        *len = rd32(p + 1);
        *s = p + 5;
    }
    return 0;
}

void lp_get(const lp *l, lp_pos p, lp_entry *e) {
    const unsigned char *s;
    size_t len;
    long long v;
    if (decode(l + p, &s, &len, &v)) {
        e->is_int = 1;
        e->ll = v;
        e->len = (size_t)util_ll2str(e->buf, sizeof(e->buf), v);
        e->s = e->buf;
    } else {
        e->is_int = 0;
        e->ll = 0;
        e->s = (const char *)s;
        e->len = len;
    }
}

/* Compare the entry at p with a needle that was classified once: is_int and
 * v say whether it would be stored as an integer. */
static int eq_classified(const unsigned char *p, const char *s, size_t len, int is_int,
                         long long v) {
    const unsigned char *es;
    size_t elen;
    long long ev;
    if (decode(p, &es, &elen, &ev)) return is_int && ev == v;
    return !is_int && elen == len && (len == 0 || memcmp(es, s, len) == 0);
}

int lp_eq(const lp *l, lp_pos p, const char *s, size_t len) {
    long long v = 0;
    int is_int = as_int(s, len, &v);
    return eq_classified(l + p, s, len, is_int, v);
}

lp_pos lp_find(const lp *l, lp_pos p, const char *s, size_t len, unsigned skip) {
    long long v = 0;
    int is_int = as_int(s, len, &v);
    unsigned left = 0; /* entries still to skip before the next comparison */
    while (p != LP_NONE) {
        if (left == 0) {
            if (eq_classified(l + p, s, len, is_int, v)) return p;
            left = skip;
        } else {
            left--;
        }
        p = lp_next(l, p);
    }
    return LP_NONE;
}

/* Make a private copy of s if it points into l (which is about to move). */
static const char *detach_source(const lp *l, const char *s, size_t len, char **copy) {
    *copy = NULL;
    uintptr_t lo = (uintptr_t)l, hi = lo + lp_bytes(l), a = (uintptr_t)s;
    if (len == 0 || a + len <= lo || a >= hi) return s;
    *copy = lp_xrealloc(NULL, len);
    memcpy(*copy, s, len);
    return *copy;
}

lp *lp_insert(lp *l, lp_pos p, const char *s, size_t len, lp_pos *out) {
    char *copy;
    s = detach_source(l, s, len, &copy);
    lp_new_entry ne;
    prepare(&ne, s, len);
    size_t bytes = lp_bytes(l);
    if (p == LP_NONE) p = bytes - 1; /* the end marker */
    l = lp_xrealloc(l, bytes + ne.size);
    memmove(l + p + ne.size, l + p, bytes - p);
    emit(l + p, &ne);
    set_bytes(l, bytes + ne.size);
    set_count(l, lp_count(l) + 1);
    free(copy);
    if (out) *out = p;
    return l;
}

lp *lp_append(lp *l, const char *s, size_t len) {
    return lp_insert(l, LP_NONE, s, len, NULL);
}

lp *lp_prepend(lp *l, const char *s, size_t len) {
    return lp_insert(l, lp_first(l), s, len, NULL);
}

lp *lp_replace(lp *l, lp_pos p, const char *s, size_t len) {
    char *copy;
    s = detach_source(l, s, len, &copy);
    lp_new_entry ne;
    prepare(&ne, s, len);
    size_t bytes = lp_bytes(l);
    size_t old = entry_size_at(l + p);
    size_t tail = bytes - (p + old);
    if (ne.size > old) {
        l = lp_xrealloc(l, bytes - old + ne.size);
        memmove(l + p + ne.size, l + p + old, tail);
    } else if (ne.size < old) {
        memmove(l + p + ne.size, l + p + old, tail);
        l = lp_xrealloc(l, bytes - old + ne.size);
    }
    emit(l + p, &ne);
    set_bytes(l, bytes - old + ne.size);
    free(copy);
    return l;
}

lp *lp_delete(lp *l, lp_pos *p, uint32_t n) {
    lp_pos start = *p;
    if (start == LP_NONE || n == 0) return l;
    size_t bytes = lp_bytes(l);
    size_t q = start;
    uint32_t k = 0;
    while (k < n && l[q] != LP_END) {
        q += entry_size_at(l + q);
        k++;
    }
    memmove(l + start, l + q, bytes - q);
    bytes -= q - start;
    l = lp_xrealloc(l, bytes);
    set_bytes(l, bytes);
    set_count(l, lp_count(l) - k);
    *p = l[start] == LP_END ? LP_NONE : start;
    return l;
}

lp *lp_delete_range(lp *l, long start, uint32_t n) {
    lp_pos p = lp_seek(l, start);
    if (p == LP_NONE) return l;
    return lp_delete(l, &p, n);
}
