/* test_lp.c -- listpack tests: fixed cases for the encodings (integer
 * widths, string length classes, backlen sizes) and a random-operation fuzz
 * against a plain array of strings, compared after every step. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "ds/lp.h"
#include "unit.h"

/* --- the reference: an array of byte strings ------------------------------ */

typedef struct ref_str {
    char *s;
    size_t len;
} ref_str;

typedef struct ref {
    ref_str *v;
    size_t n, cap;
} ref;

static void ref_insert(ref *r, size_t i, const char *s, size_t len) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = realloc(r->v, r->cap * sizeof(*r->v));
    }
    memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof(*r->v));
    r->v[i].s = malloc(len ? len : 1);
    memcpy(r->v[i].s, s, len);
    r->v[i].len = len;
    r->n++;
}

static void ref_delete(ref *r, size_t i, size_t n) {
    if (i + n > r->n) n = r->n - i;
    for (size_t k = i; k < i + n; k++)
        free(r->v[k].s);
    memmove(r->v + i, r->v + i + n, (r->n - i - n) * sizeof(*r->v));
    r->n -= n;
}

static void ref_free(ref *r) {
    ref_delete(r, 0, r->n);
    free(r->v);
}

/* --- helpers ---------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int entry_is(const lp *l, lp_pos p, const char *s, size_t len) {
    lp_entry e;
    lp_get(l, p, &e);
    return e.len == len && (len == 0 || memcmp(e.s, s, len) == 0);
}

/* Compare l with r entirely: count, bytes, forward and backward walks,
 * lp_seek on a few indexes. Returns 1 when equal. */
static int same(const lp *l, const ref *r) {
    if (lp_count(l) != r->n) return 0;
    size_t bytes = 9;
    for (size_t i = 0; i < r->n; i++)
        bytes += lp_entry_size(r->v[i].s, r->v[i].len);
    if (lp_bytes(l) != bytes) return 0;
    lp_pos p = lp_first(l);
    for (size_t i = 0; i < r->n; i++) {
        if (p == LP_NONE || !entry_is(l, p, r->v[i].s, r->v[i].len)) return 0;
        if (!lp_eq(l, p, r->v[i].s, r->v[i].len)) return 0;
        p = lp_next(l, p);
    }
    if (p != LP_NONE) return 0;
    p = lp_last(l);
    for (size_t i = r->n; i-- > 0;) {
        if (p == LP_NONE || !entry_is(l, p, r->v[i].s, r->v[i].len)) return 0;
        p = lp_prev(l, p);
    }
    if (p != LP_NONE) return 0;
    if (r->n) {
        size_t i = rnd() % r->n;
        p = lp_seek(l, (long)i);
        if (p == LP_NONE || !entry_is(l, p, r->v[i].s, r->v[i].len)) return 0;
        p = lp_seek(l, (long)i - (long)r->n);
        if (p == LP_NONE || !entry_is(l, p, r->v[i].s, r->v[i].len)) return 0;
    }
    if (lp_seek(l, (long)r->n) != LP_NONE || lp_seek(l, -(long)r->n - 1) != LP_NONE) return 0;
    return 1;
}

/* A random test string in buf (big enough for 20000 bytes): integers at every
 * width boundary, almost-integers, binary data, lengths around the encoding
 * class limits. */
static size_t rand_str(char *buf) {
    static const long long ints[] = {0,
                                     1,
                                     127,
                                     128,
                                     -1,
                                     -4096,
                                     4095,
                                     -4097,
                                     4096,
                                     INT16_MIN,
                                     INT16_MAX,
                                     INT16_MIN - 1,
                                     INT16_MAX + 1,
                                     -(1 << 23),
                                     (1 << 23) - 1,
                                     -(1 << 23) - 1,
                                     1 << 23,
                                     INT32_MIN,
                                     INT32_MAX,
                                     (long long)INT32_MIN - 1,
                                     (long long)INT32_MAX + 1,
                                     LLONG_MIN,
                                     LLONG_MAX};
    static const char *odd[] = {"-0",
                                "00",
                                "01",
                                "+1",
                                " 1",
                                "1 ",
                                "-",
                                "9223372036854775808",
                                "1.5",
                                "0x1",
                                "-9223372036854775809",
                                "123456789012345678901"};
    static const size_t lens[] = {0,   1,    62,   63,   64,    65,    114,   115,
                                  116, 4094, 4095, 4096, 16378, 16379, 16380, 16381};
    switch (rnd() % 8) {
    case 0:
        return (size_t)util_ll2str(buf, 24, ints[rnd() % (sizeof(ints) / sizeof(*ints))]);
    case 1:
        return (size_t)util_ll2str(buf, 24, (long long)(rnd() % 20000) - 10000);
    case 2:
        return (size_t)util_ll2str(buf, 24, (long long)rnd() >> (rnd() % 64));
    case 3: {
        const char *s = odd[rnd() % (sizeof(odd) / sizeof(*odd))];
        memcpy(buf, s, strlen(s));
        return strlen(s);
    }
    case 4: {
        size_t len = lens[rnd() % (sizeof(lens) / sizeof(*lens))];
        if (len > 200 && rnd() % 4) len = rnd() % 70; /* keep big ones rarer */
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)('a' + i % 26);
        if (len) buf[rnd() % len] = (char)(rnd() % 2 ? 0 : 0xFF);
        return len;
    }
    default: {
        size_t len = rnd() % 12;
        for (size_t i = 0; i < len; i++)
            buf[i] = rnd() % 4 == 0 ? "\0\xff-9"[rnd() % 4] : (char)('a' + rnd() % 4);
        return len;
    }
    }
}

/* --- fixed cases -------------------------------------------------------------- */

static void test_encodings(void) {
    /* Entry sizes: [encoding][data] plus a 1..5 byte backlen. */
    CHECK(lp_entry_size("", 0) == 2);
    CHECK(lp_entry_size("0", 1) == 2);
    CHECK(lp_entry_size("127", 3) == 2);
    CHECK(lp_entry_size("128", 3) == 3);
    CHECK(lp_entry_size("-4096", 5) == 3);
    CHECK(lp_entry_size("4096", 4) == 4);
    CHECK(lp_entry_size("-32768", 6) == 4);
    CHECK(lp_entry_size("32768", 5) == 5);
    CHECK(lp_entry_size("8388607", 7) == 5);
    CHECK(lp_entry_size("8388608", 7) == 6);
    CHECK(lp_entry_size("2147483648", 10) == 10);
    CHECK(lp_entry_size("-9223372036854775808", 20) == 10);
    CHECK(lp_entry_size("01", 2) == 4);
    CHECK(lp_entry_size("-0", 2) == 4);
    static char big[3 << 20];
    memset(big, 'x', sizeof(big));
    CHECK(lp_entry_size(big, 63) == 65);
    CHECK(lp_entry_size(big, 64) == 67);   /* 2-byte prefix */
    CHECK(lp_entry_size(big, 125) == 128); /* 127 + 1: one byte backlen */
    CHECK(lp_entry_size(big, 126) == 130); /* 128: two byte backlen */
    CHECK(lp_entry_size(big, 4095) == 4099);
    CHECK(lp_entry_size(big, 4096) == 4103); /* 5-byte prefix */

    /* Every integer width round-trips, with its digits and value. */
    static const long long vals[] = {0,       127,       128,       -1,        -4096,
                                     4095,    -4097,     4096,      -32768,    32767,
                                     -32769,  32768,     -8388608,  8388607,   -8388609,
                                     8388608, INT32_MIN, INT32_MAX, LLONG_MIN, LLONG_MAX};
    lp *l = lp_new();
    size_t nv = sizeof(vals) / sizeof(*vals);
    for (size_t i = 0; i < nv; i++) {
        char b[24];
        int n = util_ll2str(b, sizeof(b), vals[i]);
        l = lp_append(l, b, (size_t)n);
    }
    CHECK(lp_count(l) == nv);
    lp_pos p = lp_first(l);
    for (size_t i = 0; i < nv; i++) {
        lp_entry e;
        char b[24];
        int n = util_ll2str(b, sizeof(b), vals[i]);
        lp_get(l, p, &e);
        CHECK(e.is_int && e.ll == vals[i]);
        CHECK(e.len == (size_t)n && memcmp(e.s, b, e.len) == 0);
        CHECK(lp_find(l, lp_first(l), b, (size_t)n, 0) == p);
        p = lp_next(l, p);
    }
    CHECK(p == LP_NONE);
    lp_free(l);

    /* Strings that look numeric but are not canonical stay strings. */
    l = lp_new();
    l = lp_append(l, "007", 3);
    l = lp_append(l, "7", 1);
    lp_entry e;
    lp_get(l, lp_first(l), &e);
    CHECK(!e.is_int && e.len == 3 && memcmp(e.s, "007", 3) == 0);
    CHECK(lp_find(l, lp_first(l), "7", 1, 0) == lp_last(l));
    CHECK(lp_find(l, lp_first(l), "07", 2, 0) == LP_NONE);
    lp_free(l);

    /* Entries of megabytes: 3- and 4-byte backlens, 32-bit lengths. */
    l = lp_new();
    big[5] = '\0';
    l = lp_append(l, "a", 1);
    l = lp_append(l, big, (1 << 21) - 10);
    l = lp_append(l, big, sizeof(big));
    l = lp_append(l, "12", 2);
    CHECK(lp_count(l) == 4);
    p = lp_last(l);
    CHECK(entry_is(l, p, "12", 2));
    p = lp_prev(l, p);
    CHECK(entry_is(l, p, big, sizeof(big)));
    p = lp_prev(l, p);
    CHECK(entry_is(l, p, big, (1 << 21) - 10));
    p = lp_prev(l, p);
    CHECK(entry_is(l, p, "a", 1) && p == lp_first(l) && lp_prev(l, p) == LP_NONE);
    CHECK(lp_bytes(l) == 9 + lp_entry_size("a", 1) + lp_entry_size(big, (1 << 21) - 10) +
                             lp_entry_size(big, sizeof(big)) + lp_entry_size("12", 2));
    p = lp_seek(l, 1);
    l = lp_replace(l, p, "x", 1);
    CHECK(lp_bytes(l) ==
          9 + 2 * lp_entry_size("a", 1) + lp_entry_size(big, sizeof(big)) + lp_entry_size("12", 2));
    lp_free(l);

    /* Skip: search only the keys of key/value pairs. */
    l = lp_new();
    l = lp_append(l, "k1", 2);
    l = lp_append(l, "v", 1);
    l = lp_append(l, "v", 1);
    l = lp_append(l, "k1", 2);
    l = lp_append(l, "k2", 2);
    l = lp_append(l, "5", 1);
    CHECK(lp_find(l, lp_first(l), "v", 1, 1) == lp_seek(l, 2));
    CHECK(lp_find(l, lp_first(l), "k2", 2, 1) == lp_seek(l, 4));
    CHECK(lp_find(l, lp_first(l), "5", 1, 1) == LP_NONE);
    CHECK(lp_find(l, lp_seek(l, 1), "5", 1, 1) == lp_seek(l, 5));
    CHECK(lp_find(l, LP_NONE, "5", 1, 0) == LP_NONE);

    /* Inserting an entry's own bytes back into the same listpack. */
    lp_get(l, lp_seek(l, 4), &e);
    l = lp_insert(l, lp_first(l), e.s, e.len, &p);
    CHECK(p == lp_first(l) && entry_is(l, p, "k2", 2));
    lp_get(l, lp_seek(l, 1), &e);
    l = lp_replace(l, lp_seek(l, 2), e.s, e.len);
    CHECK(entry_is(l, lp_seek(l, 2), "k1", 2));

    /* lp_delete reports the entry after the deleted ones, or LP_NONE. */
    p = lp_seek(l, 1);
    l = lp_delete(l, &p, 2);
    CHECK(p == lp_seek(l, 1) && entry_is(l, p, "v", 1));
    p = lp_seek(l, -2);
    l = lp_delete(l, &p, 100);
    CHECK(p == LP_NONE && lp_count(l) == 3);
    l = lp_delete_range(l, -3, 3);
    CHECK(lp_count(l) == 0 && lp_bytes(l) == 9 && lp_first(l) == LP_NONE && lp_last(l) == LP_NONE &&
          lp_seek(l, 0) == LP_NONE);
    l = lp_prepend(l, "", 0);
    CHECK(lp_count(l) == 1 && entry_is(l, lp_first(l), "", 0));
    lp_free(l);
}

/* --- random operations against the reference -------------------------------- */

static void test_fuzz(int steps) {
    static char buf[20000];
    ref r = {0};
    lp *l = lp_new();
    int bad = 0;
    for (int step = 0; step < steps && !bad; step++) {
        size_t len = rand_str(buf);
        unsigned op = (unsigned)(rnd() % 100);
        /* Grow while small, drift around ~150 entries, shrink when large. */
        if (r.n > 300 && op < 50) op += 50;
        if (op < 15) {
            l = lp_append(l, buf, len);
            ref_insert(&r, r.n, buf, len);
        } else if (op < 25) {
            l = lp_prepend(l, buf, len);
            ref_insert(&r, 0, buf, len);
        } else if (op < 50) {
            size_t i = rnd() % (r.n + 1);
            lp_pos at = i == r.n ? LP_NONE : lp_seek(l, (long)i), out;
            l = lp_insert(l, at, buf, len, &out);
            ref_insert(&r, i, buf, len);
            CHECK(out == lp_seek(l, (long)i));
        } else if (op < 65) {
            if (r.n == 0) continue;
            size_t i = rnd() % r.n;
            lp_pos at = lp_seek(l, (long)i);
            l = lp_replace(l, at, buf, len);
            ref_delete(&r, i, 1);
            ref_insert(&r, i, buf, len);
            CHECK(lp_seek(l, (long)i) == at);
        } else if (op < 78) {
            if (r.n == 0) continue;
            size_t i = rnd() % r.n, n = rnd() % 4;
            lp_pos at = lp_seek(l, (long)i);
            l = lp_delete(l, &at, (uint32_t)n);
            ref_delete(&r, i, n);
            CHECK(at == (i < r.n ? lp_seek(l, (long)i) : LP_NONE));
        } else if (op < 88) {
            long start = (long)(rnd() % (r.n + 3)) - (long)(r.n + 1); /* may be out of range */
            if (rnd() % 2) start = -start;
            uint32_t n = (uint32_t)(rnd() % 6);
            l = lp_delete_range(l, start, n);
            long s = start < 0 ? start + (long)r.n : start;
            if (s >= 0 && s < (long)r.n) ref_delete(&r, (size_t)s, n);
        } else {
            /* lp_find with skip 0/1 against a linear search of the reference. */
            unsigned skip = (unsigned)(rnd() % 2);
            size_t from = r.n ? rnd() % r.n : 0;
            if (r.n && rnd() % 2) { /* half the time, look for an element that exists */
                size_t j = rnd() % r.n;
                len = r.v[j].len;
                memcpy(buf, r.v[j].s, len);
            }
            size_t want = r.n;
            for (size_t i = from; i < r.n; i += skip + 1) {
                if (r.v[i].len == len && memcmp(r.v[i].s, buf, len) == 0) {
                    want = i;
                    break;
                }
            }
            lp_pos got = lp_find(l, r.n ? lp_seek(l, (long)from) : LP_NONE, buf, len, skip);
            CHECK(got == (want < r.n ? lp_seek(l, (long)want) : LP_NONE));
        }
        if (!same(l, &r)) {
            fprintf(stderr, "mismatch at step %d (op %u)\n", step, op);
            bad = 1;
        }
        CHECK(!bad);
    }
    lp_free(l);
    ref_free(&r);
}

/* lp_dup makes an equal, independent copy. */
static void test_dup(void) {
    lp *l = lp_new();
    l = lp_append(l, "a\0b", 3);
    l = lp_append(l, "12345", 5);
    lp *c = lp_dup(l);
    CHECK(c != l && lp_bytes(c) == lp_bytes(l) && memcmp(c, l, lp_bytes(l)) == 0);
    l = lp_append(l, "x", 1);
    CHECK(lp_count(c) == 2 && lp_count(l) == 3);
    lp_free(l);
    lp_free(c);
}

int main(void) {
    test_encodings();
    test_dup();
    test_fuzz(30000);
    UNIT_DONE();
}
