/* test_dict.c -- hash table tests against a reference "present" array over
 * a fixed universe of binary keys: random add/find/unlink/shrink/expand,
 * iteration with deletion, random sampling, and SCAN completeness while the
 * table grows and shrinks between cursor calls. */
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "ds/dict.h"
#include "unit.h"

#define UNIVERSE 3000

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Key number i: binary bytes (NUL, 0xFF) and varied lengths; key 0 is "". */
static size_t key_of(size_t i, char *buf) {
    if (i == 0) return 0;
    size_t len = 0;
    buf[len++] = (char)(i % 3 == 0 ? 0 : 0xFF);
    for (size_t v = i; v; v /= 10)
        buf[len++] = (char)('0' + v % 10);
    for (size_t k = 0; k < i % 5; k++)
        buf[len++] = '\0';
    if (i % 7 == 0) {
        memset(buf + len, 'z', 40);
        len += 40;
    }
    return len;
}

/* Key number of an entry's key, found by decoding the digits. */
static size_t index_of(const dict_entry *e) {
    if (e->klen == 0) return 0;
    size_t v = 0, mul = 1;
    for (size_t k = 1; k < e->klen && e->key[k] >= '0' && e->key[k] <= '9'; k++) {
        v += (size_t)(e->key[k] - '0') * mul;
        mul *= 10;
    }
    return v;
}

static char present[UNIVERSE];
static size_t npresent;

/* Walk the dict with an iterator and check it holds exactly the reference. */
static int same(const dict *d) {
    static char seen[UNIVERSE];
    memset(seen, 0, sizeof(seen));
    dict_iter it;
    dict_iter_init(&it, d);
    size_t n = 0;
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        size_t i = index_of(e);
        char buf[64];
        size_t len = key_of(i, buf);
        if (i >= UNIVERSE || !present[i] || seen[i]) return 0;
        if (len != e->klen || memcmp(buf, e->key, len) != 0 || e->key[len] != '\0') return 0;
        if (e->v.i != (int64_t)i * 3) return 0;
        seen[i] = 1;
        n++;
    }
    return n == npresent && dict_size(d) == npresent;
}

static void test_fuzz(int steps) {
    dict *d = dict_new();
    char buf[64];
    int bad = 0;
    size_t limit = 50; /* the working set drifts between small and large */
    for (int step = 0; step < steps && !bad; step++) {
        if (step % 4000 == 0) limit = 1 + rnd() % UNIVERSE;
        size_t i = rnd() % limit;
        size_t len = key_of(i, buf);
        unsigned op = (unsigned)(rnd() % 100);
        if (op < 45) {
            int added;
            dict_entry *e = dict_add(d, buf, len, &added);
            CHECK(added == !present[i]);
            if (added) {
                CHECK(e->v.i == 0);
                e->v.i = (int64_t)i * 3;
                present[i] = 1;
                npresent++;
            }
            CHECK(e->klen == len && memcmp(e->key, buf, len) == 0);
        } else if (op < 75) {
            dict_entry *e = dict_unlink(d, buf, len);
            CHECK((e != NULL) == present[i]);
            if (e) {
                CHECK(e->klen == len && memcmp(e->key, buf, len) == 0);
                dict_entry_free(e);
                present[i] = 0;
                npresent--;
            }
            CHECK(dict_find(d, buf, len) == NULL);
        } else if (op < 95) {
            dict_entry *e = dict_find(d, buf, len);
            CHECK((e != NULL) == present[i]);
            if (e) CHECK(e->v.i == (int64_t)i * 3);
        } else if (op < 99) {
            dict_shrink(d);
        } else {
            dict_expand(d, rnd() % 5000);
        }
        CHECK(dict_size(d) == npresent);
        if (step % 300 == 0 && !same(d)) {
            fprintf(stderr, "mismatch at step %d\n", step);
            bad = 1;
        }
    }
    CHECK(same(d));
    CHECK(dict_mem(d) > npresent * 16);
    dict_free(d, NULL);
    memset(present, 0, sizeof(present));
    npresent = 0;
}

/* Delete while iterating: the entry just returned may be freed. */
static void test_iter_delete(void) {
    dict *d = dict_new();
    char buf[64];
    for (size_t i = 0; i < 2000; i++) {
        int added;
        size_t len = key_of(i, buf);
        dict_add(d, buf, len, &added)->v.i = (int64_t)i * 3;
        present[i] = 1;
    }
    npresent = 2000;
    static char seen[UNIVERSE];
    memset(seen, 0, sizeof(seen));
    dict_iter it;
    dict_iter_init(&it, d);
    dict_entry *e;
    size_t visits = 0;
    while ((e = dict_iter_next(&it)) != NULL) {
        size_t i = index_of(e);
        CHECK(!seen[i]);
        seen[i] = 1;
        visits++;
        if (i % 2) {
            dict_entry *x = dict_unlink(d, e->key, e->klen);
            CHECK(x == e);
            dict_entry_free(x);
            present[i] = 0;
            npresent--;
        }
    }
    CHECK(visits == 2000);
    CHECK(same(d));
    size_t before = dict_mem(d);
    dict_shrink(d); /* 1000 of 2048 buckets used: no change */
    CHECK(dict_mem(d) == before);
    for (size_t i = 0; i < 2000; i += 2) {
        size_t len = key_of(i, buf);
        if (i >= 200) dict_entry_free(dict_unlink(d, buf, len));
        present[i] = i < 200;
    }
    npresent = 100;
    /* 100 of 2048 buckets: the shrink (to 512) runs a few buckets per call,
     * the table is consistent at every step and small once it is done. (A
     * far sparser table shrinks at once: test_random_after_big_removal.) */
    int calls = 0, ok = 1;
    do {
        dict_shrink(d);
        ok &= same(d);
    } while (dict_mem(d) >= before / 4 && ++calls < 1000);
    CHECK(ok && calls > 1 && calls < 1000);
    CHECK(dict_mem(d) < before / 4 && dict_buckets(d) == 512);
    dict_iter_init(&it, d);
    while ((e = dict_iter_next(&it)) != NULL)
        dict_entry_free(dict_unlink(d, e->key, e->klen));
    CHECK(dict_size(d) == 0);
    dict_shrink(d);
    dict_iter_init(&it, d);
    CHECK(dict_iter_next(&it) == NULL);
    dict_free(d, NULL);
    memset(present, 0, sizeof(present));
    npresent = 0;

    /* An empty, never-filled dict answers everything. */
    uint64_t r = 1;
    d = dict_new();
    CHECK(dict_find(d, "a", 1) == NULL && dict_unlink(d, "a", 1) == NULL);
    CHECK(dict_random(d, &r) == NULL && dict_size(d) == 0);
    dict_iter_init(&it, d);
    CHECK(dict_iter_next(&it) == NULL);
    dict_shrink(d);
    dict_free(d, NULL);
}

static int freed_vals;
static void count_free(dict_entry *e) {
    freed_vals++;
    free(e->v.p);
}

static void test_free_val(void) {
    dict *d = dict_new();
    int added;
    for (int i = 0; i < 100; i++) {
        char k[8];
        int n = snprintf(k, sizeof(k), "%d", i);
        dict_add(d, k, (size_t)n, &added)->v.p = malloc(10);
    }
    dict_free(d, count_free);
    CHECK(freed_vals == 100);
}

static void dup_str_val(dict_entry *dst, const dict_entry *src) {
    dst->v.p = strdup(src->v.p);
}

/* dict_dup copies every key with its value: as it is with no callback, through
 * the callback otherwise; the copy is independent of the original. */
static void test_dup(void) {
    dict *d = dict_new();
    int added;
    for (int i = 0; i < 300; i++) {
        char k[8] = "k";
        int n = 2 + snprintf(k + 2, sizeof(k) - 2, "%d", i); /* binary: "k\0<i>" */
        dict_add(d, k, (size_t)n, &added)->v.p = strdup(k + 2);
    }
    dict *c = dict_dup(d, dup_str_val);
    dict *n = dict_dup(d, NULL);
    CHECK(dict_size(c) == 300 && dict_size(n) == 300);
    dict_iter it;
    dict_iter_init(&it, d);
    int same = 1;
    for (dict_entry *e; (e = dict_iter_next(&it)) != NULL;) {
        dict_entry *ce = dict_find(c, e->key, e->klen), *ne = dict_find(n, e->key, e->klen);
        same &= ce && ne && ce->v.p != e->v.p && strcmp(ce->v.p, e->v.p) == 0 && ne->v.p == e->v.p;
    }
    CHECK(same);
    dict_free(n, NULL);
    dict_free(d, count_free);
    CHECK(dict_size(c) == 300);
    dict_free(c, count_free);
    dict *empty = dict_new(), *ec = dict_dup(empty, NULL);
    CHECK(dict_size(ec) == 0);
    dict_free(empty, NULL);
    dict_free(ec, NULL);
}

/* dict_random returns present keys and reaches all of them. */
static void test_random(void) {
    dict *d = dict_new();
    char buf[64];
    int added;
    for (size_t i = 0; i < 200; i++) {
        size_t len = key_of(i, buf);
        dict_add(d, buf, len, &added);
    }
    for (size_t i = 0; i < 200; i += 4) {
        size_t len = key_of(i, buf);
        dict_entry_free(dict_unlink(d, buf, len));
    }
    static int hits[200];
    uint64_t r = 12345;
    for (int k = 0; k < 60000; k++) {
        dict_entry *e = dict_random(d, &r);
        size_t i = index_of(e);
        CHECK(i < 200 && i % 4 != 0 && dict_find(d, e->key, e->klen) == e);
        hits[i]++;
    }
    int min = 1 << 30, max = 0;
    for (size_t i = 0; i < 200; i++) {
        if (i % 4 == 0) continue;
        if (hits[i] < min) min = hits[i];
        if (hits[i] > max) max = hits[i];
    }
    /* 150 keys, 400 draws each on average. Chi-square with 149 degrees of
     * freedom: about 149 for a uniform pick; 250 is far in the tail. (Picking
     * a bucket, then a chain member, favours short chains and scores in the
     * thousands here.) */
    double chi = 0;
    for (size_t i = 0; i < 200; i++) {
        if (i % 4 == 0) continue;
        double dv = hits[i] - 400.0;
        chi += dv * dv / 400.0;
    }
    CHECK(min > 250 && max < 600);
    CHECK(chi < 250);
    dict_free(d, NULL);
}

static void scan_cb(void *priv, const dict_entry *e) {
    char *seen = priv;
    seen[index_of(e)] = 1;
}

/* SCAN: every key present from start to end is seen, though between calls
 * keys come and go and the table doubles, halves or jumps in size. */
static void test_scan(int rounds) {
    char buf[64];
    static char seen[UNIVERSE], stable[UNIVERSE];
    for (int round = 0; round < rounds; round++) {
        dict *d = dict_new();
        int added;
        size_t base = 1 + rnd() % 1500;
        for (size_t i = 0; i < base; i++) {
            size_t len = key_of(i, buf);
            dict_add(d, buf, len, &added);
            present[i] = 1;
        }
        memcpy(stable, present, sizeof(stable)); /* keys present throughout */
        memset(seen, 0, sizeof(seen));
        uint64_t cursor = 0;
        int calls = 0;
        do {
            cursor = dict_scan(d, cursor, scan_cb, seen);
            calls++;
            /* Mutate between some of the calls. */
            unsigned what = (unsigned)(rnd() % 100);
            if (what < 3) {
                size_t n = rnd() % 200;
                for (size_t k = 0; k < n; k++) {
                    size_t i = rnd() % UNIVERSE;
                    size_t len = key_of(i, buf);
                    dict_add(d, buf, len, &added);
                    present[i] = 1;
                }
            } else if (what < 6) {
                size_t n = rnd() % 200;
                for (size_t k = 0; k < n; k++) {
                    size_t i = rnd() % UNIVERSE;
                    size_t len = key_of(i, buf);
                    dict_entry *e = dict_unlink(d, buf, len);
                    if (e) dict_entry_free(e);
                    present[i] = 0;
                    stable[i] = 0;
                }
                dict_shrink(d);
            } else if (what == 6) {
                dict_expand(d, rnd() % 8000);
            } else if (what == 7) {
                dict_shrink(d);
            }
        } while (cursor != 0 && calls < 100000);
        CHECK(cursor == 0);
        size_t missing = 0;
        for (size_t i = 0; i < UNIVERSE; i++)
            if (stable[i] && !seen[i]) missing++;
        CHECK(missing == 0);
        dict_free(d, NULL);
        memset(present, 0, sizeof(present));
    }
    /* A full scan of a quiet table visits every key exactly as iteration does. */
    dict *d = dict_new();
    int added;
    for (size_t i = 0; i < 777; i++) {
        size_t len = key_of(i, buf);
        dict_add(d, buf, len, &added);
    }
    /* First in the middle of the resize the 513th key started (a step
     * visits a bucket of the 512-bucket table and its two images), then
     * once it is over. */
    for (int round = 0; round < 2; round++) {
        if (round == 1) dict_expand(d, 0); /* finishes a running resize */
        memset(seen, 0, sizeof(seen));
        uint64_t cursor = 0;
        size_t calls = 0;
        do {
            cursor = dict_scan(d, cursor, scan_cb, seen);
            calls++;
        } while (cursor);
        size_t n = 0, once = 0;
        for (size_t i = 0; i < UNIVERSE; i++) {
            n += seen[i];
            once += seen[i] == 1;
        }
        CHECK(n == 777 && once == 777 && calls == (round == 0 ? 512u : 1024u));
    }
    dict_free(d, NULL);
}

/* A big table emptied but for a few entries shrinks to a small one; adds
 * that follow must not pile into the small table's chains while the old
 * one is still being drained: the load stays bounded throughout. */
static void test_shrink_then_add(void) {
    dict *d = dict_new();
    char buf[64];
    int added, bounded = 1;
    size_t n = 1 << 16;
    for (size_t i = 1; i <= n; i++)
        dict_add(d, buf, key_of(i, buf), &added);
    for (size_t i = 2; i <= n; i++)
        dict_entry_free(dict_unlink(d, buf, key_of(i, buf)));
    dict_shrink(d);
    CHECK(dict_size(d) == 1 && dict_buckets(d) < 64);
    for (size_t i = n + 1; i <= 3 * n; i++) {
        dict_add(d, buf, key_of(i, buf), &added);
        bounded &= dict_size(d) <= 2 * dict_buckets(d);
    }
    CHECK(bounded);
    CHECK(dict_size(d) == 2 * n + 1 && dict_find(d, buf, key_of(1, buf)) != NULL);
    dict_free(d, NULL);
}

/* Random picks after a range removal left a few entries of a big table:
 * the shrink that follows runs at once, so a pick takes a few dozen draws,
 * not one per empty bucket of the old table. Draws are counted by stepping
 * a copy of the generator to the state the picks left. */
static void test_random_after_big_removal(void) {
    dict *d = dict_new();
    char buf[64];
    int added;
    size_t n = 1 << 16;
    for (size_t i = 0; i < n; i++)
        dict_add(d, buf, key_of(i, buf), &added);
    for (size_t i = 10; i < n; i++)
        dict_entry_free(dict_unlink(d, buf, key_of(i, buf)));
    dict_shrink(d);
    uint64_t r = 99, r0 = 99;
    int ok = 1;
    for (int k = 0; k < 1000; k++)
        ok &= index_of(dict_random(d, &r)) < 10;
    size_t draws = 0;
    while (r0 != r && draws < 100000000) {
        util_rand_next(&r0);
        draws++;
    }
    CHECK(ok);
    CHECK(draws < 1000 * 500);
    CHECK(dict_size(d) == 10 && dict_buckets(d) <= 128);
    dict_free(d, NULL);
}

int main(void) {
    test_fuzz(200000);
    test_iter_delete();
    test_free_val();
    test_dup();
    test_random();
    test_scan(300);
    test_shrink_then_add();
    test_random_after_big_removal();
    UNIT_DONE();
}
