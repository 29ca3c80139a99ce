/* test_set.c -- intset.c and the set value (store/set.c) against simple
 * references.
 *
 * intset: random adds and removes over values from every width class
 * (int16, int32, int64 and their edges) are mirrored in a plain sorted
 * array; after every step the lengths, the order, the membership of probe
 * values and the width rule (the smallest width that held every value ever
 * added, never shrinking) are compared.
 *
 * set value: random SADD/SREM-like operations over a universe of canonical
 * integers, non-canonical integer strings and binary strings are mirrored
 * in an array of present flags; after every step the size, membership,
 * iteration (each member exactly once; ascending for intsets) and the
 * encoding (intset until a non-integer arrives or the limit is passed,
 * never back) are compared. dup, random sampling and the obj hooks are
 * checked too. Single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ds/intset.h"
#include "store/set.h"
#include "unit.h"

#define REF_SEED 0x9E3779B97F4A7C15ULL
#include "ref_util.h"

/* ---- intset -------------------------------------------------------------- */

/* A value from one of the width classes, edges included. */
static int64_t pick_value(void) {
    static const int64_t edges[] = {0,         1,         -1,        INT16_MAX,   INT16_MIN,
                                    32768,     -32769,    INT32_MAX, INT32_MIN,   2147483648LL,
                                    INT64_MAX, INT64_MIN, 1LL << 40, -(1LL << 40)};
    switch (rnd() % 4) {
    case 0:
        return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
    case 1:
        return (int64_t)(rnd() % 200) - 100;
    case 2:
        return (int64_t)(int32_t)rnd();
    default:
        return (int64_t)rnd();
    }
}

static uint32_t width_of(int64_t v) {
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

/* The reference: a sorted array. */
typedef struct ref_is {
    int64_t v[4096];
    uint32_t n;
    uint32_t width; /* widest ever added */
} ref_is;

static int ref_pos(const ref_is *r, int64_t v, uint32_t *pos) {
    uint32_t i = 0;
    while (i < r->n && r->v[i] < v)
        i++;
    *pos = i;
    return i < r->n && r->v[i] == v;
}

static int intset_matches(const intset *is, const ref_is *r) {
    if (intset_len(is) != r->n || is->width != r->width) return 0;
    if (intset_bytes(is) != sizeof(intset) + (size_t)r->n * r->width) return 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (intset_get(is, i) != r->v[i]) return 0;
    return 1;
}

static void test_intset_basic(void) {
    intset *is = intset_new();
    int added, removed;
    CHECK(intset_len(is) == 0 && is->width == 2 && !intset_find(is, 0));
    is = intset_add(is, 5, &added);
    CHECK(added == 1 && intset_find(is, 5) && is->width == 2);
    is = intset_add(is, 5, &added);
    CHECK(added == 0 && intset_len(is) == 1);
    /* Upgrade appending at the end, then prepending at the front. */
    is = intset_add(is, 70000, &added);
    CHECK(added && is->width == 4 && intset_get(is, 0) == 5 && intset_get(is, 1) == 70000);
    is = intset_add(is, INT64_MIN, &added);
    CHECK(added && is->width == 8 && intset_get(is, 0) == INT64_MIN && intset_get(is, 1) == 5 &&
          intset_get(is, 2) == 70000);
    /* A value wider than the set is never found, nor removed. */
    intset *small = intset_new();
    small = intset_add(small, 1, &added);
    CHECK(!intset_find(small, 1LL << 40));
    small = intset_remove(small, 1LL << 40, &removed);
    CHECK(removed == 0 && intset_len(small) == 1);
    small = intset_remove(small, 1, &removed);
    CHECK(removed == 1 && intset_len(small) == 0 && small->width == 2);
    free(small);
    /* The width never shrinks. */
    is = intset_remove(is, INT64_MIN, &removed);
    CHECK(removed && is->width == 8 && intset_len(is) == 2);
    intset *c = intset_dup(is);
    CHECK(c != is && c->width == 8 && intset_len(c) == 2 && intset_get(c, 1) == 70000);
    free(c);
    free(is);
}

static void test_intset_random(void) {
    static ref_is ref;
    for (int round = 0; round < 20; round++) {
        intset *is = intset_new();
        memset(&ref, 0, sizeof(ref));
        ref.width = 2;
        int ok = 1;
        for (int step = 0; step < 600; step++) {
            int64_t v = pick_value();
            uint32_t pos;
            int present = ref_pos(&ref, v, &pos);
            if (rnd() % 3 != 0 && ref.n < 4096) {
                int added;
                is = intset_add(is, v, &added);
                if (added != !present) ok = 0;
                if (!present) {
                    memmove(&ref.v[pos + 1], &ref.v[pos], (ref.n - pos) * sizeof(int64_t));
                    ref.v[pos] = v;
                    ref.n++;
                    if (width_of(v) > ref.width) ref.width = width_of(v);
                }
            } else {
                /* Remove a present value half the time. */
                if (ref.n && rnd() % 2) {
                    pos = (uint32_t)(rnd() % ref.n);
                    v = ref.v[pos];
                    present = 1;
                }
                int removed;
                is = intset_remove(is, v, &removed);
                if (removed != present) ok = 0;
                if (present) {
                    memmove(&ref.v[pos], &ref.v[pos + 1], (ref.n - pos - 1) * sizeof(int64_t));
                    ref.n--;
                }
            }
            if (!intset_matches(is, &ref)) ok = 0;
            int64_t probe = pick_value();
            if (intset_find(is, probe) != ref_pos(&ref, probe, &pos)) ok = 0;
        }
        CHECK(ok);
        free(is);
    }
}

/* ---- set value ----------------------------------------------------------- */

#define UNIVERSE 64

/* Member i of the test universe: canonical integers, strings that look like
 * integers but are not canonical, plain and binary strings. */
static size_t member(int i, char *buf) {
    static const char *const odd[] = {"01",
                                      "-0",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "abc",
                                      "",
                                      "1.5",
                                      "1e3",
                                      "x",
                                      "0x1",
                                      "-",
                                      "99999999999999999999",
                                      "-9223372036854775809"};
    int nodd = (int)(sizeof(odd) / sizeof(odd[0]));
    if (i < 40) {
        static const long long ints[] = {0,
                                         1,
                                         -1,
                                         2,
                                         3,
                                         100,
                                         -100,
                                         32767,
                                         -32768,
                                         2147483647,
                                         -2147483648LL,
                                         9223372036854775807LL,
                                         (-9223372036854775807LL - 1)};
        int nints = (int)(sizeof(ints) / sizeof(ints[0]));
        long long v = i < nints ? ints[i] : (long long)(i * 1000 + 7);
        return (size_t)snprintf(buf, 32, "%lld", v);
    }
    if (i - 40 < nodd) {
        size_t n = strlen(odd[i - 40]);
        memcpy(buf, odd[i - 40], n);
        return n;
    }
    /* Binary members with a NUL and a 0xff byte. */
    buf[0] = 'b';
    buf[1] = '\0';
    buf[2] = (char)0xff;
    buf[3] = (char)('a' + i % 26);
    return 4;
}

static int member_is_int(int i) {
    return i < 40;
}

/* Find the universe index of bytes p, or -1. */
static int member_index(const char *p, size_t len) {
    char buf[32];
    for (int i = 0; i < UNIVERSE; i++) {
        size_t n = member(i, buf);
        if (n == len && memcmp(buf, p, n) == 0) return i;
    }
    return -1;
}

/* Compare the set with the present[] reference; ascending order for intsets. */
static int set_matches(const obj *o, const int *present) {
    size_t n = 0;
    int seen[UNIVERSE] = {0};
    char buf[32];
    for (int i = 0; i < UNIVERSE; i++) {
        n += (size_t)present[i];
        size_t l = member(i, buf);
        if (set_contains(o, buf, l) != present[i]) return 0;
    }
    if (set_len(o) != n || obj_elements(o) != n) return 0;
    set_iter it;
    set_member m;
    set_iter_init(&it, o);
    size_t got = 0;
    int64_t last = INT64_MIN;
    while (set_iter_next(&it, &m)) {
        int idx = member_index(m.p, m.len);
        if (idx < 0 || !present[idx] || seen[idx]) return 0;
        seen[idx] = 1;
        if (o->enc == OBJ_ENC_INTSET) {
            if (!m.is_int || (got > 0 && m.ll <= last)) return 0;
            last = m.ll;
        }
        got++;
    }
    return got == n;
}

static void test_set_random(void) {
    char buf[32];
    for (int round = 0; round < 40; round++) {
        long long max = round % 4 == 0 ? 0 : (long long)(rnd() % 30) + 1;
        int ints_only = round % 2 == 0;
        int present[UNIVERSE] = {0};
        int first = (int)(rnd() % (ints_only ? 40 : UNIVERSE));
        size_t l = member(first, buf);
        obj *o = set_new_for(buf, l);
        CHECK(o->type == OBJ_SET && o->enc == (member_is_int(first) ? OBJ_ENC_INTSET : OBJ_ENC_HT));
        int ht = o->enc == OBJ_ENC_HT, ok = 1;
        for (int step = 0; step < 300; step++) {
            int i = (int)(rnd() % (ints_only ? 40 : UNIVERSE));
            l = member(i, buf);
            if (rnd() % 3) {
                int added = set_add(o, buf, l, max);
                if (added != !present[i]) ok = 0;
                present[i] = 1;
                size_t n = 0;
                for (int k = 0; k < UNIVERSE; k++)
                    n += (size_t)present[k];
                if (!member_is_int(i) || (long long)n > max) ht = 1;
            } else {
                int removed = set_remove(o, buf, l);
                if (removed != present[i]) ok = 0;
                present[i] = 0;
            }
            if (o->enc != (ht ? OBJ_ENC_HT : OBJ_ENC_INTSET)) ok = 0;
            if (!set_matches(o, present)) ok = 0;
            if (set_len(o) > 0) {
                uint64_t r = rnd() | 1;
                set_member m;
                set_random(o, &r, &m);
                int idx = member_index(m.p, m.len);
                if (idx < 0 || !present[idx]) ok = 0;
            }
        }
        CHECK(ok);
        /* A duplicate keeps the encoding and the members, and is independent. */
        obj *d = obj_dup(o);
        CHECK(d->type == OBJ_SET && d->enc == o->enc && set_matches(d, present));
        l = member(45, buf);
        set_add(d, buf, l, max);
        CHECK(set_matches(o, present));
        CHECK(obj_mem_usage(o) >= 16 && obj_mem_usage(d) >= 16);
        obj_free(d);
        obj_free(o);
    }
}

static void test_set_edges(void) {
    char buf[32];
    /* An intset converts when it passes the limit, not when it reaches it. */
    obj *o = set_new();
    for (int i = 0; i < 3; i++) {
        size_t l = (size_t)snprintf(buf, sizeof(buf), "%d", i);
        set_add(o, buf, l, 3);
    }
    CHECK(o->enc == OBJ_ENC_INTSET && set_len(o) == 3);
    CHECK(set_add(o, "2", 1, 3) == 0 && o->enc == OBJ_ENC_INTSET);
    CHECK(set_add(o, "3", 1, 3) == 1 && o->enc == OBJ_ENC_HT && set_len(o) == 4);
    /* Removing never converts back. */
    CHECK(set_remove(o, "3", 1) == 1 && o->enc == OBJ_ENC_HT && set_contains(o, "0", 1));
    obj_free(o);
    /* Non-canonical integers are strings: they convert and stay distinct. */
    o = set_new();
    set_add(o, "1", 1, 512);
    CHECK(set_remove(o, "01", 2) == 0 && !set_contains(o, "01", 2));
    CHECK(set_add(o, "01", 2, 512) == 1 && o->enc == OBJ_ENC_HT);
    CHECK(set_contains(o, "1", 1) && set_contains(o, "01", 2) && set_len(o) == 2);
    obj_free(o);
    /* set_to_ht keeps the members; MEMORY USAGE counts an intset's blob. */
    o = set_new();
    set_add(o, "5", 1, 512);
    set_add(o, "70000", 5, 512);
    CHECK(obj_mem_usage(o) == 16 + obj_jemalloc_size(8 + 2 * 4));
    set_to_ht(o);
    CHECK(o->enc == OBJ_ENC_HT && set_contains(o, "70000", 5) && set_len(o) == 2);
    set_member m;
    set_iter it;
    set_iter_init(&it, o);
    CHECK(set_iter_next(&it, &m) && !m.is_int);
    obj_free(o);
    /* Members with NUL bytes. */
    o = set_new_for("a\0b", 3);
    CHECK(o->enc == OBJ_ENC_HT);
    CHECK(set_add(o, "a\0b", 3, 512) == 1 && set_add(o, "a\0c", 3, 512) == 1);
    CHECK(set_contains(o, "a\0b", 3) && !set_contains(o, "a", 1) && set_len(o) == 2);
    obj_free(o);
    /* The hard cap on the intset limit. */
    o = set_new();
    CHECK(set_add(o, "1", 1, 1LL << 40) == 1 && o->enc == OBJ_ENC_INTSET);
    obj_free(o);
}

int main(void) {
    test_intset_basic();
    test_intset_random();
    test_set_random();
    test_set_edges();
    UNIT_DONE();
}
