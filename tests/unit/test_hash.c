/* test_hash.c -- store/hash.c against a simple reference map.
 *
 * The reference is an array of (field, value) pairs kept in insertion order,
 * updated in place, with deletes closing the gap: exactly the order a
 * listpack hash keeps. Random sets, deletes and lookups run on hashes under
 * several encoding thresholds (so some stay listpack, some convert at a
 * length or an entry count, some start converting at once), and after every
 * step the hash is compared with the reference: length, lookups, iteration
 * (in order while listpack, as a set once hashtable), a full HSCAN, a deep
 * copy, random picks. Single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/hash.h"
#include "unit.h"

#define REF_SEED 0x2545F4914F6CDD1DULL
#include "ref_util.h"

#define MAXS 300

typedef struct str {
    char b[MAXS];
    size_t len;
} str;

typedef struct ref {
    str f[1024], v[1024];
    size_t n;
} ref;

static long ref_find(const ref *r, const char *f, size_t flen) {
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].len == flen && memcmp(r->f[i].b, f, flen) == 0) return (long)i;
    return -1;
}

/* A random string: small integers (listpack integer entries), short words,
 * binary bytes with NUL and 0xFF, or a long run (over the value limit). */
static void rand_str(str *s, int field) {
    unsigned kind = (unsigned)(rnd() % 10);
    if (kind < 3) {
        long long v = (long long)(rnd() % (field ? 300 : 100000)) - (field ? 0 : 50000);
        s->len = (size_t)snprintf(s->b, sizeof(s->b), "%lld", v);
    } else if (kind < 8) {
        s->len = (size_t)snprintf(s->b, sizeof(s->b), "f%u", (unsigned)(rnd() % 400));
    } else if (kind < 9) {
        s->len = 1 + rnd() % 12;
        for (size_t i = 0; i < s->len; i++)
            s->b[i] = (char)(rnd() % 4 == 0 ? 0 : rnd() % 4 == 0 ? 0xFF : 'a' + rnd() % 3);
    } else {
        s->len = 60 + rnd() % 200;
        memset(s->b, 'x', s->len);
        s->b[0] = (char)('a' + rnd() % 26);
    }
}

static int same(const char *a, size_t alen, const str *b) {
    return alen == b->len && memcmp(a, b->b, alen) == 0;
}

typedef struct seen {
    const ref *r;
    unsigned char *hit;
    int bad;
} seen;

static void scan_cb(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    seen *s = priv;
    long i = ref_find(s->r, f, flen);
    if (i < 0 || !same(v, vlen, &s->r->v[i]))
        s->bad = 1;
    else
        s->hit[i] = 1;
}

/* Compare every observable of hash o with the reference. */
static void compare(const obj *o, const ref *r) {
    CHECK(hash_len(o) == r->n);
    CHECK(obj_elements(o) == r->n);
    char tmp[24];
    for (size_t i = 0; i < r->n; i++) {
        size_t vlen;
        const char *v = hash_get(o, r->f[i].b, r->f[i].len, &vlen, tmp);
        CHECK(v && same(v, vlen, &r->v[i]));
        CHECK(hash_exists(o, r->f[i].b, r->f[i].len));
    }
    size_t vlen;
    CHECK(hash_get(o, "nope-not-here", 13, &vlen, tmp) == NULL);

    unsigned char hit[1024];
    memset(hit, 0, sizeof(hit));
    hash_iter it;
    const char *f, *v;
    size_t flen, n = 0;
    int ok = 1;
    hash_iter_init(&it, o);
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        long i = ref_find(r, f, flen);
        if (i < 0 || hit[i] || !same(v, vlen, &r->v[i])) ok = 0;
        if (o->enc == OBJ_ENC_LISTPACK && i != (long)n) ok = 0;
        if (i >= 0) hit[i] = 1;
        n++;
    }
    CHECK(ok && n == r->n);

    seen s = {r, hit, 0};
    memset(hit, 0, sizeof(hit));
    uint64_t cur = 0;
    do {
        cur = hash_scan(o, cur, scan_cb, &s);
    } while (cur);
    size_t nhit = 0;
    for (size_t i = 0; i < r->n; i++)
        nhit += hit[i];
    CHECK(!s.bad && nhit == r->n);
    CHECK(obj_mem_usage(o) > 16);
}

static void check_dup(const obj *o, const ref *r) {
    obj *c = obj_dup(o);
    CHECK(c->type == OBJ_HASH && c->enc == o->enc);
    compare(c, r);
    obj_free(c);
}

static void check_random(const obj *o, const ref *r) {
    if (r->n == 0) return;
    hash_sampler s;
    uint64_t state = rnd() | 1;
    hash_sampler_init(&s, o);
    int ok = 1;
    for (int k = 0; k < 20; k++) {
        const char *f, *v;
        size_t flen, vlen;
        hash_sampler_pick(&s, &state, &f, &flen, &v, &vlen);
        long i = ref_find(r, f, flen);
        if (i < 0 || !same(v, vlen, &r->v[i])) ok = 0;
    }
    hash_sampler_free(&s);
    CHECK(ok);
}

/* Random operations under the thresholds (entries, value) and the
 * invariants of the encoding: listpack only while within both limits, and
 * never back from hashtable. */
static void run(long long max_entries, long long max_value, int steps) {
    store_enc enc = {.hash_max_listpack_entries = max_entries,
                     .hash_max_listpack_value = max_value};
    static ref r;
    r.n = 0;
    obj *o = hash_new();
    CHECK(o->type == OBJ_HASH && o->enc == OBJ_ENC_LISTPACK);
    int was_ht = 0, enc_ok = 1, ret_ok = 1;
    for (int step = 0; step < steps; step++) {
        unsigned op = (unsigned)(rnd() % 10);
        str f, v;
        rand_str(&f, 1);
        if (op < 6 && r.n < 1000) {
            rand_str(&v, 0);
            long i = ref_find(&r, f.b, f.len);
            size_t mx = f.len > v.len ? f.len : v.len;
            if (rnd() % 2) hash_convert_for_args(o, mx, f.len + v.len, &enc);
            int added = hash_set(o, f.b, f.len, v.b, v.len, &enc);
            if (added != (i < 0)) ret_ok = 0;
            if (i < 0) {
                r.f[r.n] = f;
                r.v[r.n++] = v;
            } else {
                r.v[i] = v;
            }
            if (o->enc == OBJ_ENC_LISTPACK &&
                ((long long)f.len > max_value || (long long)v.len > max_value))
                enc_ok = 0;
        } else if (op < 9) {
            if (r.n && rnd() % 4) f = r.f[rnd() % r.n];
            long i = ref_find(&r, f.b, f.len);
            if (hash_del(o, f.b, f.len) != (i >= 0)) ret_ok = 0;
            if (i >= 0) {
                memmove(&r.f[i], &r.f[i + 1], (r.n - (size_t)i - 1) * sizeof(str));
                memmove(&r.v[i], &r.v[i + 1], (r.n - (size_t)i - 1) * sizeof(str));
                r.n--;
            }
        } else {
            check_dup(o, &r);
            check_random(o, &r);
        }
        if (o->enc == OBJ_ENC_LISTPACK && (long long)r.n > max_entries) enc_ok = 0;
        if (was_ht && o->enc != OBJ_ENC_HT) enc_ok = 0;
        if (o->enc == OBJ_ENC_HT) was_ht = 1;
        if (step % 7 == 0 || r.n < 5) compare(o, &r);
    }
    CHECK(enc_ok);
    CHECK(ret_ok);
    compare(o, &r);
    check_dup(o, &r);
    obj_free(o);
}

/* Conversion at exactly the thresholds, as HSET sees them. */
static void test_thresholds(void) {
    store_enc enc = {.hash_max_listpack_entries = 4, .hash_max_listpack_value = 8};
    obj *o = hash_new();
    char f[8];
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        hash_set(o, f, strlen(f), "12345678", 8, &enc);
    }
    CHECK(o->enc == OBJ_ENC_LISTPACK && hash_len(o) == 4);
    hash_set(o, "f0", 2, "x", 1, &enc); /* an update does not count */
    CHECK(o->enc == OBJ_ENC_LISTPACK);
    hash_set(o, "f4", 2, "x", 1, &enc);
    CHECK(o->enc == OBJ_ENC_HT && hash_len(o) == 5);
    obj_free(o);

    o = hash_new();
    hash_convert_for_args(o, 8, 16, &enc);
    CHECK(o->enc == OBJ_ENC_LISTPACK);
    hash_convert_for_args(o, 9, 18, &enc);
    CHECK(o->enc == OBJ_ENC_HT && hash_len(o) == 0);
    obj_free(o);

    o = hash_new();
    hash_set(o, "123456789", 9, "v", 1, &enc); /* a long field converts too */
    CHECK(o->enc == OBJ_ENC_HT);
    char tmp[24];
    size_t vlen;
    const char *v = hash_get(o, "123456789", 9, &vlen, tmp);
    CHECK(v && vlen == 1 && v[0] == 'v');
    obj_free(o);

    /* Integer-looking values come back as the same digits in both encodings. */
    o = hash_new();
    hash_set(o, "n", 1, "-9223372036854775808", 20, &enc);
    hash_set(o, "m", 1, "007", 3, &enc);
    v = hash_get(o, "n", 1, &vlen, tmp);
    CHECK(v && vlen == 20 && memcmp(v, "-9223372036854775808", 20) == 0);
    v = hash_get(o, "m", 1, &vlen, tmp);
    CHECK(v && vlen == 3 && memcmp(v, "007", 3) == 0);
    hash_convert(o);
    v = hash_get(o, "n", 1, &vlen, tmp);
    CHECK(v && vlen == 20 && memcmp(v, "-9223372036854775808", 20) == 0);
    obj_free(o);
}

/* A value of 255 bytes or more takes the long length prefix. */
static void test_long_values(void) {
    store_enc enc = {.hash_max_listpack_entries = 128, .hash_max_listpack_value = 64};
    obj *o = hash_new();
    static char big[70000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    size_t lens[] = {0, 1, 254, 255, 256, 65535, 70000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char f[8];
        snprintf(f, sizeof(f), "L%zu", i);
        hash_set(o, f, strlen(f), big, lens[i], &enc);
    }
    CHECK(o->enc == OBJ_ENC_HT);
    obj *c = obj_dup(o);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char f[8], tmp[24];
        size_t vlen;
        snprintf(f, sizeof(f), "L%zu", i);
        const char *v = hash_get(c, f, strlen(f), &vlen, tmp);
        CHECK(v && vlen == lens[i] && memcmp(v, big, vlen) == 0);
    }
    CHECK(obj_mem_usage(o) > 70000);
    obj_free(o);
    obj_free(c);
}

int main(void) {
    test_thresholds();
    test_long_values();
    run(128, 64, 3000);     /* Redis's defaults: converts by length early */
    run(1000, 1000, 3000);  /* stays listpack */
    run(16, 1000, 3000);    /* converts by count */
    run(0, 0, 500);         /* converts on the first set */
    run(100000, 1000, 200); /* small, listpack throughout */
    UNIT_DONE();
}
