/* test_store.c -- obj.c and db.c against a simple reference keyspace.
 *
 * The reference is a flat array indexed by key number, holding the value
 * bytes and the deadline of each key, with the same lazy-expiry rule as the
 * db (a key touched after its deadline is reaped and counted). Random
 * operations run on a two-database store with a fake clock, across table
 * growth and shrinking, and the store is compared with the reference after
 * every step. Single-threaded.
 */
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "store/set.h"
#include "store/store.h"
#include "unit.h"

static uint64_t rng_state = 0x1234567887654321ULL;

static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* ---- obj ---------------------------------------------------------------- */

static int obj_is(const obj *o, const char *s, size_t len) {
    char tmp[24];
    size_t l;
    const char *p = obj_str(o, tmp, &l);
    return l == len && memcmp(p, s, len) == 0 && obj_strlen(o) == len;
}

static void test_obj(void) {
    obj *o = obj_new_string("hello", 5);
    CHECK(o->type == OBJ_STRING && o->enc == OBJ_ENC_EMBSTR);
    CHECK(!strcmp(obj_enc_name(o), "embstr") && !strcmp(obj_type_name(o), "string"));
    CHECK(obj_is(o, "hello", 5));
    CHECK(obj_sbytes(o)[5] == '\0' && sizeof(obj) == 16);
    obj_free(o);

    char big[100];
    memset(big, 'x', sizeof(big));
    o = obj_new_string(big, 44);
    CHECK(o->enc == OBJ_ENC_EMBSTR);
    obj_free(o);
    o = obj_new_string(big, 45);
    CHECK(o->enc == OBJ_ENC_RAW && !strcmp(obj_enc_name(o), "raw"));
    obj_free(o);

    o = obj_new_string_enc("12345", 5);
    CHECK(o->enc == OBJ_ENC_INT && o->v.i == 12345 && obj_is(o, "12345", 5));
    CHECK(!strcmp(obj_enc_name(o), "int"));
    obj_free(o);
    o = obj_new_string_enc("-9223372036854775808", 20);
    CHECK(o->enc == OBJ_ENC_INT && obj_is(o, "-9223372036854775808", 20));
    obj_free(o);
    o = obj_new_string_enc("012", 3);
    CHECK(o->enc == OBJ_ENC_EMBSTR);
    obj_free(o);
    o = obj_new_string_enc("1.5", 3);
    CHECK(o->enc == OBJ_ENC_EMBSTR);
    obj_free(o);
    o = obj_new_string_enc("", 0);
    CHECK(o->enc == OBJ_ENC_EMBSTR && obj_is(o, "", 0));
    obj_free(o);

    /* Binary content survives. */
    o = obj_new_string("a\0b", 3);
    CHECK(obj_is(o, "a\0b", 3));
    obj *c = obj_dup(o);
    CHECK(c != o && obj_is(c, "a\0b", 3) && c->enc == OBJ_ENC_EMBSTR);
    obj_free(c);
    obj_free(o);

    /* make_raw keeps content, converts, and grows greedily. */
    o = obj_new_int(12);
    strbuf *sb = obj_str_make_raw(o, 3);
    CHECK(o->enc == OBJ_ENC_RAW && obj_is(o, "12", 2) && sb->cap >= 3 && sb == o->v.ptr);
    sb->b[2] = '3';
    obj_str_setlen(o, 3);
    CHECK(obj_is(o, "123", 3));
    CHECK(obj_mem_usage(o) == 32); /* Redis: 64 for "12" APPEND "3", minus 32 for key "k" */
    c = obj_dup(o);
    CHECK(c->enc == OBJ_ENC_RAW && obj_is(c, "123", 3));
    obj_free(c);
    obj_free(o);
    o = obj_new_string("hi", 2);
    obj_str_make_raw(o, 2);
    CHECK(o->enc == OBJ_ENC_RAW && obj_is(o, "hi", 2));
    for (int i = 0; i < 1000; i++) {
        size_t l = obj_slen(o);
        sb = obj_str_make_raw(o, l + 1);
        sb->b[l] = (char)('a' + i % 26);
        obj_str_setlen(o, l + 1);
    }
    char *b = obj_sbytes(o);
    CHECK(obj_slen(o) == 1002 && b[2] == 'a' && b[1001] == 'a' + 999 % 26 && b[1002] == '\0');
    obj_free(o);

    /* MEMORY USAGE of the value part, from redis-server 7.0.15 (its totals
     * for key "k" minus 32 for the key and dict entry). */
    static const struct {
        size_t len;
        size_t usage;
    } mu[] = {{1, 32},  {10, 32},   {20, 48},   {30, 64},    {44, 64},
              {45, 80}, {100, 128}, {200, 240}, {1000, 1040}};
    char s[1000];
    memset(s, 'a', sizeof(s));
    for (size_t i = 0; i < sizeof(mu) / sizeof(mu[0]); i++) {
        o = obj_new_string(s, mu[i].len);
        if (obj_mem_usage(o) != mu[i].usage)
            fprintf(stderr, "mem usage len %zu: %zu\n", mu[i].len, obj_mem_usage(o));
        CHECK(obj_mem_usage(o) == mu[i].usage);
        obj_free(o);
    }
    o = obj_new_int(12345);
    CHECK(obj_mem_usage(o) == 16);
    obj_free(o);
    o = obj_new_string(s, 45);
    obj_str_make_raw(o, 46);
    CHECK(obj_mem_usage(o) == 112); /* SET 45 bytes, APPEND 1: 144 - 32 */
    obj_free(o);
    o = obj_new_string("a", 1);
    obj_str_make_raw(o, 2);
    CHECK(obj_mem_usage(o) == 24); /* SET a, APPEND b: 56 - 32 */
    obj_free(o);

    /* Names of the other encodings and types. */
    obj fake = {0};
    const char *encs[] = {"raw",    "int",      "hashtable", "?",         "linkedlist", "?",
                          "intset", "skiplist", "embstr",    "quicklist", "stream",     "listpack"};
    for (int e = 0; e <= 11; e++) {
        fake.enc = (uint8_t)e;
        if (encs[e][0] != '?') CHECK(!strcmp(obj_enc_name(&fake), encs[e]));
    }
    const char *types[] = {"string", "list", "set", "zset", "hash", "?", "stream"};
    for (int t = 0; t <= 6; t++) {
        fake.type = (uint8_t)t;
        if (types[t][0] != '?') CHECK(!strcmp(obj_type_name(&fake), types[t]));
    }
}

/* ---- reference keyspace ------------------------------------------------- */

#define NKEYS 3000
#define VMAX 64

typedef struct ref_key {
    int present;
    int64_t exp; /* -1 for none */
    size_t vlen;
    char v[VMAX];
} ref_key;

typedef struct ref_db {
    ref_key k[NKEYS];
} ref_db;

static ref_db refs[2];
static store *st;
static uint64_t ref_expired;

/* Key number i as binary bytes with NULs inside; key 0 is the empty key. */
static size_t key_of(int i, char *buf) {
    if (i == 0) return 0;
    size_t n = 0;
    buf[n++] = '\0';
    buf[n++] = (char)(i & 0xFF);
    buf[n++] = (char)(i >> 8);
    for (int j = 0; j < i % 4; j++)
        buf[n++] = (char)('a' + j);
    buf[n++] = '\0';
    return n;
}

static int key_index(const char *k, size_t klen) {
    if (klen == 0) return 0;
    if (klen < 4) return -1;
    int i = (unsigned char)k[1] | ((unsigned char)k[2] << 8);
    char buf[16];
    if (i >= NKEYS || key_of(i, buf) != klen || memcmp(buf, k, klen) != 0) return -1;
    return i;
}

static int ref_live(const ref_key *r) {
    return r->present && (r->exp < 0 || st->now_ms <= r->exp);
}

/* The reference side of a lookup: reap key i if it is past its deadline. */
static void ref_touch(ref_db *r, int i) {
    if (r->k[i].present && !ref_live(&r->k[i])) {
        r->k[i].present = 0;
        ref_expired++;
    }
}

static obj *make_val(ref_key *rk) {
    char v[VMAX];
    size_t len;
    switch (rnd() % 3) {
    case 0:
        len = (size_t)util_ll2str(v, sizeof(v), (long long)(rnd() % 100000) - 50000);
        break;
    case 1:
        len = rnd() % 10;
        for (size_t j = 0; j < len; j++)
            v[j] = (char)rnd();
        break;
    default:
        len = 40 + rnd() % 20;
        for (size_t j = 0; j < len; j++)
            v[j] = (char)('a' + rnd() % 26);
        break;
    }
    memcpy(rk->v, v, len);
    rk->vlen = len;
    return obj_new_string_enc(v, len);
}

typedef struct seen {
    int count[NKEYS];
    int bad;
    const ref_db *r;
} seen;

static void check_visit(void *priv, const char *key, size_t klen, obj *val) {
    seen *s = priv;
    int i = key_index(key, klen);
    if (i < 0) {
        s->bad++;
        return;
    }
    s->count[i]++;
    const ref_key *rk = &s->r->k[i];
    if (!ref_live(rk) || !obj_is(val, rk->v, rk->vlen)) s->bad++;
}

/* Compare db number n of the store with its reference, fully. */
static void check_db_full(int n) {
    db *d = store_db(st, n);
    const ref_db *r = &refs[n];
    static seen s;
    memset(&s, 0, sizeof(s));
    s.r = r;
    db_foreach(d, check_visit, &s);
    CHECK(s.bad == 0);
    int mismatch = 0;
    for (int i = 0; i < NKEYS; i++)
        if (s.count[i] != (ref_live(&r->k[i]) ? 1 : 0)) mismatch++;
    CHECK(mismatch == 0);
}

/* Cheap checks after every step: key and TTL counts, expiry stats. */
static void check_counts(int n) {
    size_t present = 0, with_ttl = 0;
    for (int i = 0; i < NKEYS; i++) {
        present += refs[n].k[i].present;
        with_ttl += refs[n].k[i].present && refs[n].k[i].exp >= 0;
    }
    db *d = store_db(st, n);
    if (db_size(d) != present || db_expires_size(d) != with_ttl)
        fprintf(stderr, "counts db%d: size %zu/%zu ttl %zu/%zu\n", n, db_size(d), present,
                db_expires_size(d), with_ttl);
    CHECK(db_size(d) == present);
    CHECK(db_expires_size(d) == with_ttl);
    CHECK(st->stats.expired_keys == ref_expired);
}

/* After an operation that reaps keys we cannot predict (active expiry,
 * random key), bring both sides to the same state: look up every expired
 * reference key so that the db reaps what it still holds. */
static void resync_expired(int n) {
    uint64_t reaped_by_op = 0;
    for (int i = 0; i < NKEYS; i++) {
        ref_key *rk = &refs[n].k[i];
        if (rk->present && !ref_live(rk)) {
            char kb[16];
            size_t kl = key_of(i, kb);
            CHECK(db_find(store_db(st, n), kb, kl) == NULL);
            rk->present = 0;
            reaped_by_op++;
        }
    }
    /* Every expired key was counted exactly once, by the op or by us. */
    ref_expired += reaped_by_op;
}

static void random_step(int phase_keys, int del_bias) {
    int n = (int)(rnd() % 2);
    db *d = store_db(st, n);
    ref_db *r = &refs[n];
    int i = (int)(rnd() % (uint64_t)phase_keys);
    char kb[16];
    size_t kl = key_of(i, kb);
    ref_key *rk = &r->k[i];
    int op = (int)(rnd() % 100);

    if (op < 30 - del_bias) {
        int keep = (int)(rnd() % 3 == 0);
        ref_touch(r, i);
        int was = rk->present;
        int64_t oldexp = rk->exp;
        obj *v = make_val(rk);
        int ret;
        if (rnd() % 2) {
            ret = db_set(d, kb, kl, v, keep);
        } else {
            /* The same value through db_set_str: same encoding, and the
             * value embedded in the key (or overwritten in place). */
            int enc = v->enc;
            obj_free(v);
            ret = db_set_str(d, kb, kl, rk->v, rk->vlen, keep);
            obj *o = db_peek(d, kb, kl);
            CHECK(o && o->enc == enc && obj_is(o, rk->v, rk->vlen));
        }
        CHECK(ret == !was);
        rk->present = 1;
        rk->exp = (was && keep) ? oldexp : -1;
    } else if (op < 45 + del_bias) {
        ref_touch(r, i);
        if (rnd() % 2)
            CHECK(db_del(d, kb, kl) == rk->present);
        else
            CHECK(db_del_lazy(d, kb, kl) == rk->present);
        rk->present = 0;
    } else if (op < 60) {
        ref_touch(r, i);
        obj *o = db_find(d, kb, kl);
        CHECK((o != NULL) == rk->present);
        if (o) CHECK(obj_is(o, rk->v, rk->vlen) && o->lru == store_lru_clock(st));
    } else if (op < 65) {
        ref_touch(r, i);
        int64_t e = 7;
        obj *o = db_find_exp(d, kb, kl, &e);
        CHECK((o != NULL) == rk->present);
        CHECK(e == (rk->present ? rk->exp : -1));
    } else if (op < 75) {
        ref_touch(r, i);
        int64_t when = st->now_ms + (int64_t)(rnd() % 60) - 5;
        int ret = db_set_expire(d, kb, kl, when);
        CHECK(ret == (rk->present ? 0 : -1));
        if (rk->present) rk->exp = when;
    } else if (op < 79) {
        ref_touch(r, i);
        int had = rk->present && rk->exp >= 0;
        CHECK(db_persist(d, kb, kl) == had);
        if (rk->present) rk->exp = -1;
    } else if (op < 83) {
        ref_touch(r, i);
        int64_t e = 7;
        obj *o = db_take(d, kb, kl, &e);
        CHECK((o != NULL) == rk->present);
        if (o) {
            CHECK(obj_is(o, rk->v, rk->vlen) && e == rk->exp);
            CHECK(!(o->flags & OBJ_F_EMBEDDED));
            obj_free(o);
        } else {
            CHECK(e == -1);
        }
        rk->present = 0;
    } else if (op < 86) {
        ref_touch(r, i);
        CHECK(db_get_expire(d, kb, kl) == (rk->present ? rk->exp : -1));
    } else if (op < 89) {
        ref_touch(r, i);
        obj *o = db_find(d, kb, kl);
        if (o != NULL && rnd() % 2) {
            /* Made modifiable (APPEND, SETRANGE): an embedded value turns
             * RAW in place and keeps its bytes. */
            CHECK(rk->present);
            obj_str_make_raw(o, rk->vlen + rnd() % 8);
            CHECK(o->enc == OBJ_ENC_RAW && obj_is(o, rk->v, rk->vlen));
        } else if (o != NULL) {
            CHECK(rk->present);
            db_replace(d, kb, kl, make_val(rk));
        }
    } else if (op < 94) {
        st->now_ms += (int64_t)(rnd() % 8);
    } else if (op < 96) {
        int got = db_active_expire(d, 1 + (int)(rnd() % 30));
        CHECK(got >= 0);
        resync_expired(n);
    } else if (op < 98) {
        const char *k;
        size_t l;
        int ok = db_random_key(d, &k, &l);
        resync_expired(n);
        int any = 0;
        for (int j = 0; j < NKEYS; j++)
            any |= r->k[j].present;
        CHECK(ok == any);
        if (ok) {
            int j = key_index(k, l);
            CHECK(j >= 0 && ref_live(&r->k[j]));
        }
    } else if (op < 99) {
        if (rnd() % 50 == 0) {
            db_flush(d);
            memset(r, 0, sizeof(*r));
        }
    } else {
        store_swapdb(st, 0, 1);
        static ref_db tmp;
        tmp = refs[0];
        refs[0] = refs[1];
        refs[1] = tmp;
    }
}

static void test_random_ops(void) {
    st = store_new(2, 0xabcdef);
    st->now_ms = 1000000;
    memset(refs, 0, sizeof(refs));
    ref_expired = 0;
    struct {
        int keys, del_bias, steps;
    } phases[] = {{20, 0, 5000},
                  {NKEYS, -10, 40000},
                  {NKEYS, 20, 40000},
                  {200, 0, 10000},
                  {NKEYS, 25, 30000}};
    int step = 0;
    for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
        for (int s = 0; s < phases[p].steps; s++, step++) {
            random_step(phases[p].keys, phases[p].del_bias);
            check_counts(0);
            check_counts(1);
            if (phases[p].keys <= 200 || step % 211 == 0) {
                check_db_full(0);
                check_db_full(1);
            }
        }
        check_db_full(0);
        check_db_full(1);
    }
    store_free(st);
    st = NULL;
}

/* ---- scan ----------------------------------------------------------------- */

typedef struct scan_ctx {
    int *visits;
    int nmax;
} scan_ctx;

static void scan_visit(void *priv, const char *key, size_t klen, obj *val) {
    scan_ctx *c = priv;
    (void)val;
    long long v;
    if (util_str2ll(key, klen, &v) && v >= 0 && v < c->nmax) c->visits[v]++;
}

static void put_num(db *d, int i) {
    char kb[24];
    int l = util_ll2str(kb, sizeof(kb), i);
    db_set(d, kb, (size_t)l, obj_new_int(i), 0);
}

static void del_num(db *d, int i) {
    char kb[24];
    int l = util_ll2str(kb, sizeof(kb), i);
    db_del(d, kb, (size_t)l);
}

/* Keys 0..stable-1 stay for the whole scan; others come and go, driving the
 * table through growth (grow=1) or shrinking (grow=0) between steps. */
static void scan_run(int stable, int churn, int grow, size_t count) {
    store *s = store_new(1, rnd());
    s->now_ms = 5000;
    db *d = store_db(s, 0);
    int nmax = stable + churn;
    int *visits = calloc((size_t)nmax, sizeof(int));
    int *in = calloc((size_t)nmax, sizeof(int));
    for (int i = 0; i < stable; i++)
        put_num(d, i);
    if (!grow)
        for (int i = stable; i < nmax; i++) {
            put_num(d, i);
            in[i] = 1;
        }
    scan_ctx c = {visits, nmax};
    uint64_t cur = 0;
    int steps = 0, next = stable;
    do {
        cur = db_scan(d, cur, count, scan_visit, &c);
        steps++;
        for (int k = 0; k < 40; k++) {
            int i = stable + (int)(rnd() % (uint64_t)churn);
            if (grow) {
                if (next < nmax && rnd() % 4) {
                    put_num(d, next);
                    in[next++] = 1;
                } else if (in[i]) {
                    del_num(d, i);
                    in[i] = 0;
                }
            } else if (in[i]) {
                del_num(d, i);
                in[i] = 0;
            }
        }
    } while (cur != 0 && steps < 1000000);
    int missed = 0;
    for (int i = 0; i < stable; i++)
        missed += visits[i] == 0;
    if (missed)
        fprintf(stderr, "scan stable=%d churn=%d grow=%d: %d missed\n", stable, churn, grow,
                missed);
    CHECK(missed == 0);
    CHECK(cur == 0);
    free(visits);
    free(in);
    store_free(s);
}

static void test_scan(void) {
    for (int r = 0; r < 5; r++) {
        scan_run(100, 20000, 1, 10);
        scan_run(100, 20000, 0, 10);
        scan_run(1000, 5000, 1, 1);
        scan_run(1000, 50000, 0, 100);
        scan_run(3, 3000, 1, 1);
    }
    /* A plain scan of a quiet table visits each key exactly once. */
    store *s = store_new(1, 42);
    db *d = store_db(s, 0);
    for (int i = 0; i < 777; i++)
        put_num(d, i);
    int visits[777] = {0};
    scan_ctx c = {visits, 777};
    uint64_t cur = 0;
    do
        cur = db_scan(d, cur, 7, scan_visit, &c);
    while (cur);
    int once = 0;
    for (int i = 0; i < 777; i++)
        once += visits[i] == 1;
    CHECK(once == 777);
    /* Expired keys are skipped and reaped by the scan. */
    s->now_ms = 100;
    for (int i = 0; i < 777; i += 2) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        db_set_expire(d, kb, (size_t)l, 50);
    }
    memset(visits, 0, sizeof(visits));
    cur = 0;
    do
        cur = db_scan(d, cur, 1000, scan_visit, &c);
    while (cur);
    int ok = 1;
    for (int i = 0; i < 777; i++)
        ok &= visits[i] == (i % 2 ? 1 : 0);
    CHECK(ok);
    CHECK(db_size(d) == 388 && db_expires_size(d) == 0 && s->stats.expired_keys == 389);
    /* An empty table scans in one step. */
    db_flush(d);
    CHECK(db_scan(d, 0, 10, scan_visit, &c) == 0);
    store_free(s);
}

/* ---- expiry ---------------------------------------------------------------- */

static void test_expiry(void) {
    store *s = store_new(1, 7);
    db *d = store_db(s, 0);
    s->now_ms = 1000;
    db_set(d, "k", 1, obj_new_string("v", 1), 0);
    CHECK(db_set_expire(d, "k", 1, 1100) == 0);
    CHECK(db_set_expire(d, "nope", 4, 1100) == -1);
    CHECK(db_get_expire(d, "k", 1) == 1100);
    s->now_ms = 1100; /* a deadline equal to now is still alive, as in Redis */
    CHECK(db_find(d, "k", 1) != NULL);
    s->now_ms = 1101;
    CHECK(db_size(d) == 1);
    CHECK(db_find(d, "k", 1) == NULL);
    CHECK(db_size(d) == 0 && db_expires_size(d) == 0);
    CHECK(s->stats.expired_keys == 1);

    /* SET over an expired key creates a new key with no TTL even with KEEPTTL. */
    db_set(d, "k", 1, obj_new_string("v", 1), 0);
    db_set_expire(d, "k", 1, 1200);
    s->now_ms = 1300;
    CHECK(db_set(d, "k", 1, obj_new_string("w", 1), 1) == 1);
    CHECK(db_get_expire(d, "k", 1) == -1);
    CHECK(s->stats.expired_keys == 2);
    /* KEEPTTL on a live key keeps it; plain SET clears it. */
    db_set_expire(d, "k", 1, 2000);
    CHECK(db_set(d, "k", 1, obj_new_string("x", 1), 1) == 0);
    CHECK(db_get_expire(d, "k", 1) == 2000);
    CHECK(db_set(d, "k", 1, obj_new_string("y", 1), 0) == 0);
    CHECK(db_get_expire(d, "k", 1) == -1 && db_expires_size(d) == 0);
    /* DEL of an expired key reports 0; take reports NULL. */
    db_set_expire(d, "k", 1, 1000);
    CHECK(db_del(d, "k", 1) == 0);
    db_set(d, "k", 1, obj_new_string("v", 1), 0);
    db_set_expire(d, "k", 1, 1000);
    int64_t e;
    CHECK(db_take(d, "k", 1, &e) == NULL && e == -1);
    CHECK(db_size(d) == 0 && s->stats.expired_keys == 4);

    /* Active expiry removes exactly the expired keys. */
    for (int i = 0; i < 1000; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        db_set(d, kb, (size_t)l, obj_new_int(i), 0);
        if (i % 3 == 0) db_set_expire(d, kb, (size_t)l, i % 2 ? 1000 : 5000);
    }
    CHECK(db_expires_size(d) == 334);
    int total = 0, rounds = 0;
    while (db_expires_size(d) > 167 && rounds < 100000) {
        total += db_active_expire(d, 20);
        rounds++;
    }
    CHECK(total == 167 && db_size(d) == 833 && db_expires_size(d) == 167);
    /* The keys left have 5000 - 1300 ms to live: the mean TTL estimate,
     * from the live keys the cycle sampled, is exactly that. */
    CHECK(db_avg_ttl(d) == 3700);
    CHECK(db_active_expire(d, 1000) == 0);
    int alive = 1;
    for (int i = 0; i < 1000; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        int want = !(i % 3 == 0 && i % 2 == 1);
        alive &= (db_find(d, kb, (size_t)l) != NULL) == want;
    }
    CHECK(alive);
    CHECK(s->stats.expired_keys == 4 + 167);

    /* Random key skips (and reaps) expired keys; all expired -> none left. */
    s->now_ms = 10000;
    const char *k;
    size_t kl;
    for (int i = 0; i < 50; i++) {
        CHECK(db_random_key(d, &k, &kl) == 1);
        long long v;
        CHECK(util_str2ll(k, kl, &v) && v % 3 != 0);
    }
    db_flush(d);
    CHECK(db_random_key(d, &k, &kl) == 0);
    db_set(d, "a", 1, obj_new_int(1), 0);
    db_set_expire(d, "a", 1, 1);
    CHECK(db_random_key(d, &k, &kl) == 0 && db_size(d) == 0);

    /* lru clock and swapdb. */
    s->now_ms = 123456789;
    CHECK(store_lru_clock(s) == (123456u & 0xFFFFFF));
    store_free(s);

    s = store_new(3, 9);
    db_set(store_db(s, 0), "x", 1, obj_new_int(1), 0);
    db *d0 = store_db(s, 0), *d2 = store_db(s, 2);
    store_swapdb(s, 0, 2);
    CHECK(store_db(s, 0) == d2 && store_db(s, 2) == d0);
    CHECK(db_find(store_db(s, 2), "x", 1) != NULL && db_find(store_db(s, 0), "x", 1) == NULL);
    /* Values of a store that is freed with keys still in it are released. */
    for (int i = 0; i < 100; i++)
        put_num(store_db(s, 1), i);
    store_free(s);
}

/* LFU access tracking: a stored value starts at 5, the first hit always
 * counts, later ones rarely, and the counter decays one per lfu-decay-time
 * minutes; under LRU the field is the seconds clock. */
static void test_lfu(void) {
    store *st = store_new(1, 7);
    db *d = store_db(st, 0);
    st->now_ms = 1700000000000LL;
    st->lfu = 1;
    db_set(d, "k", 1, obj_new_string("v", 1), 0);
    obj *o = db_peek(d, "k", 1);
    CHECK(store_lfu_freq(st, o) == 5);
    db_find(d, "k", 1);
    CHECK(store_lfu_freq(st, o) == 6);
    for (int i = 0; i < 100000; i++)
        db_find(d, "k", 1);
    unsigned f = store_lfu_freq(st, o);
    CHECK(f > 6 && f < 255);
    st->now_ms += 3 * 60000;
    CHECK(store_lfu_freq(st, o) == f - 3);
    st->lfu_decay_time = 0;
    CHECK(store_lfu_freq(st, o) == f);
    /* An overwrite keeps the counter (as Redis's dbOverwrite under LFU),
     * whichever form the new value takes; a counter past the first steps
     * goes up only by chance, so it is f or f + 1 after each write. */
    db_set_str(d, "k", 1, "short", 5, 0);
    unsigned f2 = store_lfu_freq(st, db_peek(d, "k", 1));
    CHECK(f2 == f || f2 == f + 1);
    db_set(d, "k", 1, obj_new_string("value of its own, past the room", 31), 0);
    unsigned f3 = store_lfu_freq(st, db_peek(d, "k", 1));
    CHECK(f3 == f2 || f3 == f2 + 1);
    /* A new key starts at 5; one that moves in keeps its counter. */
    db_set_str(d, "n", 1, "v", 1, 0);
    CHECK(store_lfu_freq(st, db_peek(d, "n", 1)) == 5);
    int64_t exp;
    db_set_carry(d, "m", 1, db_take(d, "k", 1, &exp));
    CHECK(store_lfu_freq(st, db_peek(d, "m", 1)) == f3);
    db_set_str(d, "k", 1, "1", 1, 0);
    CHECK(store_lfu_freq(st, db_peek(d, "k", 1)) == 5);
    db_set_str(d, "k", 1, "2", 1, 0); /* counter 5: the touch always counts */
    CHECK(store_lfu_freq(st, db_peek(d, "k", 1)) == 6);
    /* db_replace after the caller's lookup (INCR) carries that one access:
     * from 6, a second touch would make 7 in one try out of 11. Its
     * deadline stays, a short string goes inline, another type's value
     * stays the caller's to use. */
    for (int i = 0; i < 200; i++) {
        db_set_str(d, "t", 1, "a", 1, 0);
        db_set_expire(d, "t", 1, st->now_ms + 1000);
        db_find(d, "t", 1);
        db_replace(d, "t", 1, i % 2 ? obj_new_int(i) : obj_new_string("xyz", 3));
        obj *now = db_peek(d, "t", 1);
        CHECK(store_lfu_freq(st, now) == 6 && (now->flags & OBJ_F_EMBEDDED));
        CHECK(db_get_expire(d, "t", 1) == st->now_ms + 1000);
        obj *set = set_new();
        db_replace(d, "t", 1, set);
        CHECK(db_peek(d, "t", 1) == set && store_lfu_freq(st, set) == 6);
        CHECK(db_get_expire(d, "t", 1) == st->now_ms + 1000);
        db_del(d, "t", 1);
    }
    o = db_peek(d, "m", 1);
    st->lfu = 0;
    db_find(d, "m", 1);
    CHECK(o->lru == store_lru_clock(st));
    store_free(st);
}

/* ---- entry forms ---------------------------------------------------------- */

/* A value stored inside its entry must survive every change of form: a long
 * key (no room to inline), a string growing past EMBSTR, another type's
 * value replacing it, RAW conversion, and the TTL must follow the key. */
static void test_entry_forms(void) {
    store *s = store_new(1, 99);
    db *d = store_db(s, 0);
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('A' + i % 26);
    for (size_t klen = 250; klen <= 260; klen++) {
        CHECK(db_set_str(d, big, klen, "v1", 2, 0) == 1);
        obj *o = db_find(d, big, klen);
        CHECK(o && obj_is(o, "v1", 2) && o->enc == OBJ_ENC_EMBSTR);
        CHECK(db_set_str(d, big, klen, "12", 2, 1) == 0);
        o = db_find(d, big, klen);
        CHECK(o && o->enc == OBJ_ENC_INT && o->v.i == 12);
    }
    CHECK(db_size(d) == 11);
    /* Inline INT -> EMBSTR (in the INT's 8 bytes) -> longer RAW, with a TTL
     * kept across keep_ttl writes and dropped by a plain one. */
    CHECK(db_set_str(d, "k", 1, "7", 1, 0) == 1);
    CHECK(db_set_expire(d, "k", 1, s->now_ms + 100000) == 0);
    CHECK(db_set_str(d, "k", 1, "abc", 3, 1) == 0);
    obj *o = db_find(d, "k", 1);
    CHECK(obj_is(o, "abc", 3) && db_get_expire(d, "k", 1) == s->now_ms + 100000);
    CHECK(db_set_str(d, "k", 1, big, 100, 1) == 0);
    o = db_find(d, "k", 1);
    CHECK(o->enc == OBJ_ENC_RAW && obj_is(o, big, 100));
    CHECK(db_get_expire(d, "k", 1) == s->now_ms + 100000 && db_expires_size(d) == 1);
    CHECK(db_set_str(d, "k", 1, "x", 1, 0) == 0);
    CHECK(db_get_expire(d, "k", 1) == -1 && db_expires_size(d) == 0);
    /* An inline EMBSTR shrinks in place, then turns RAW and grows. */
    CHECK(db_set_str(d, "e", 1, "hello world", 11, 0) == 1);
    CHECK(db_set_expire(d, "e", 1, s->now_ms + 5000) == 0);
    o = db_find(d, "e", 1);
    CHECK(db_set_str(d, "e", 1, "hi", 2, 1) == 0);
    CHECK(db_find(d, "e", 1) == o && obj_is(o, "hi", 2));
    strbuf *sb = obj_str_make_raw(o, 200);
    memcpy(sb->b + 2, big, 198);
    obj_str_setlen(o, 200);
    CHECK(db_find(d, "e", 1) == o && obj_slen(o) == 200 && !memcmp(obj_sbytes(o) + 2, big, 198));
    int64_t when;
    obj *taken = db_take(d, "e", 1, &when);
    CHECK(taken && taken != o && obj_slen(taken) == 200 && when == s->now_ms + 5000);
    CHECK(!(taken->flags & OBJ_F_EMBEDDED));
    /* Another value (kept by the caller) replaces an inline one. */
    CHECK(db_set_str(d, "e", 1, "5", 1, 0) == 1);
    CHECK(db_set_expire(d, "e", 1, s->now_ms + 7000) == 0);
    CHECK(db_set(d, "e", 1, taken, 1) == 0);
    CHECK(db_find(d, "e", 1) == taken && db_get_expire(d, "e", 1) == s->now_ms + 7000);
    CHECK(db_del(d, "e", 1) == 1 && db_expires_size(d) == 0);
    /* db_set_int (INCR): a new key, then over a pointer-form string with a
     * TTL kept or dropped. */
    CHECK(db_set_int(d, "n", 1, -42, 1) == 1);
    o = db_find(d, "n", 1);
    CHECK(o && o->enc == OBJ_ENC_INT && o->v.i == -42 && obj_is(o, "-42", 3));
    CHECK(db_set_str(d, "n", 1, big, 60, 0) == 0 && db_set_expire(d, "n", 1, s->now_ms + 900) == 0);
    CHECK(db_set_int(d, "n", 1, 7, 1) == 0);
    o = db_find(d, "n", 1);
    CHECK(o && o->enc == OBJ_ENC_INT && o->v.i == 7 && db_get_expire(d, "n", 1) == s->now_ms + 900);
    CHECK(db_set_int(d, "n", 1, 8, 0) == 0 && db_get_expire(d, "n", 1) == -1);
    store_free(s);
}

/* The only key of d must be key[0..klen) holding v[0..vlen). */
static void check_sole(db *d, const char *key, size_t klen, const char *v, size_t vlen) {
    const char *k;
    size_t kl;
    CHECK(db_size(d) == 1 && db_random_key(d, &k, &kl) == 1);
    CHECK(kl == klen && memcmp(k, key, klen) == 0);
    obj *o = db_find(d, key, klen);
    CHECK(o && obj_is(o, v, vlen));
}

/* An inline string's room (its first length, at least 8 bytes) sits between
 * the header and the key: every rewrite in place must leave the key alone,
 * and a short value that outgrows the room regrows the entry. */
static void test_entry_room(void) {
    store *s = store_new(1, 7);
    db *d = store_db(s, 0);
    const char *key = "key:000000000042"; /* 16 bytes, as the benchmark's */
    char v16[17] = "0123456789abcdef", v44[45];
    for (int i = 0; i < 44; i++)
        v44[i] = (char)('a' + i % 26);
    CHECK(db_set_str(d, key, 16, v16, 16, 0) == 1);
    obj *o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_EMBSTR && (o->flags & OBJ_F_EMBEDDED));
    check_sole(d, key, 16, v16, 16);
    CHECK(db_set_str(d, key, 16, "short", 5, 0) == 0);
    CHECK(db_find(d, key, 16) == o && o->enc == OBJ_ENC_EMBSTR);
    check_sole(d, key, 16, "short", 5);
    CHECK(db_set_str(d, key, 16, "-123456789012345", 16, 0) == 0); /* INT in the slot */
    CHECK(db_find(d, key, 16) == o && o->enc == OBJ_ENC_INT && o->v.i == -123456789012345LL);
    check_sole(d, key, 16, "-123456789012345", 16);
    CHECK(db_set_str(d, key, 16, v16, 16, 0) == 0); /* the whole room again */
    CHECK(db_find(d, key, 16) == o && o->enc == OBJ_ENC_EMBSTR);
    check_sole(d, key, 16, v16, 16);
    /* RAW behind the slot (APPEND), then back into the room. */
    strbuf *sb = obj_str_make_raw(o, 40);
    memcpy(sb->b + 16, v44, 24);
    obj_str_setlen(o, 40);
    CHECK(o->enc == OBJ_ENC_RAW && obj_slen(o) == 40 && !memcmp(obj_sbytes(o), v16, 16));
    check_sole(d, key, 16, obj_sbytes(o), 40);
    CHECK(db_set_str(d, key, 16, "xy", 2, 0) == 0);
    CHECK(db_find(d, key, 16) == o && o->enc == OBJ_ENC_EMBSTR);
    check_sole(d, key, 16, "xy", 2);
    /* Past the room: the entry regrows, still inline, and its deadline
     * follows it (or goes, without keep_ttl). */
    CHECK(db_set_expire(d, key, 16, s->now_ms + 100000) == 0);
    CHECK(db_set_str(d, key, 16, v44, 44, 1) == 0);
    o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_EMBSTR && (o->flags & OBJ_F_EMBEDDED));
    CHECK(db_get_expire(d, key, 16) == s->now_ms + 100000 && db_expires_size(d) == 1);
    check_sole(d, key, 16, v44, 44);
    /* 16 bytes or more of the room left unused: a smaller entry. */
    CHECK(db_set_str(d, key, 16, v44, 30, 0) == 0);
    CHECK(db_find(d, key, 16) == o && db_get_expire(d, key, 16) == -1);
    check_sole(d, key, 16, v44, 30);
    CHECK(db_set_str(d, key, 16, "z", 1, 0) == 0);
    obj *small = db_find(d, key, 16);
    CHECK(small != o && (small->flags & OBJ_F_EMBEDDED) && small->room == 8);
    check_sole(d, key, 16, "z", 1);
    /* Past EMBSTR: RAW, its bytes in a buffer behind the entry's slot (the
     * 16-byte entry is reused), then a short string again, with the
     * deadline kept. */
    char big[100];
    memset(big, 'q', sizeof(big));
    CHECK(db_set_str(d, key, 16, big, sizeof(big), 0) == 0);
    o = db_find(d, key, 16);
    CHECK(o == small && o->enc == OBJ_ENC_RAW && (o->flags & OBJ_F_EMBEDDED));
    check_sole(d, key, 16, big, sizeof(big));
    /* A RAW value over a RAW value, from bytes of the old one: rewritten in
     * its buffer when that fits it closely, else in a new one. */
    strbuf *buf = o->v.ptr;
    CHECK(db_set_str(d, key, 16, buf->b + 1, 99, 0) == 0);
    CHECK(db_find(d, key, 16) == o && o->enc == OBJ_ENC_RAW && o->v.ptr == buf);
    check_sole(d, key, 16, big, 99);
    CHECK(db_set_str(d, key, 16, buf->b, 60, 0) == 0);
    CHECK(o->enc == OBJ_ENC_RAW && ((strbuf *)o->v.ptr)->cap == 60);
    check_sole(d, key, 16, big, 60);
    /* A shorter value from the old one's bytes that needs a new entry:
     * copied before the old entry goes. */
    o = db_find(d, key, 16);
    CHECK(db_set_str(d, key, 16, ((strbuf *)o->v.ptr)->b + 2, 30, 0) == 0);
    o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_EMBSTR && o->room == 30);
    check_sole(d, key, 16, big, 30);
    CHECK(db_set_str(d, key, 16, big, sizeof(big), 0) == 0);
    CHECK(db_set_expire(d, key, 16, s->now_ms + 5000) == 0);
    CHECK(db_set_int(d, key, 16, 77, 1) == 0);
    o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_INT && (o->flags & OBJ_F_EMBEDDED) && o->v.i == 77);
    CHECK(db_get_expire(d, key, 16) == s->now_ms + 5000);
    check_sole(d, key, 16, "77", 2);
    /* The sole key with a deadline moves to a bigger entry, keeping it: the
     * mean TTL estimate the active cycle made stays. */
    CHECK(db_active_expire(d, 20) == 0 && db_avg_ttl(d) == 5000);
    CHECK(db_set_str(d, key, 16, v44, 30, 1) == 0 && db_find(d, key, 16) != o);
    CHECK(db_get_expire(d, key, 16) == s->now_ms + 5000 && db_avg_ttl(d) == 5000);
    CHECK(db_set_int(d, key, 16, 77, 1) == 0);
    CHECK(db_persist(d, key, 16) == 1);
    /* A standalone short string handed over (RENAME, COPY, INCRBYFLOAT)
     * goes inline too, keeping its encoding; any other value keeps its own
     * allocation. */
    CHECK(db_set_owned(d, key, 16, obj_new_string("12", 2), 0) == 0);
    o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_EMBSTR && (o->flags & OBJ_F_EMBEDDED));
    check_sole(d, key, 16, "12", 2);
    CHECK(db_set_owned(d, key, 16, obj_new_int(-5), 0) == 0);
    o = db_find(d, key, 16);
    CHECK(o->enc == OBJ_ENC_INT && (o->flags & OBJ_F_EMBEDDED) && o->v.i == -5);
    /* A RAW one's buffer is taken over by the entry. */
    obj *raw = obj_new_string(big, sizeof(big));
    strbuf *rawbuf = raw->v.ptr;
    CHECK(db_set_owned(d, key, 16, raw, 0) == 0);
    o = db_find(d, key, 16);
    CHECK((o->flags & OBJ_F_EMBEDDED) && o->enc == OBJ_ENC_RAW && o->v.ptr == rawbuf);
    check_sole(d, key, 16, big, sizeof(big));
    /* Any other value keeps its own allocation. */
    obj *lst = set_new();
    CHECK(db_set_owned(d, key, 16, lst, 0) == 0 && db_find(d, key, 16) == lst);
    CHECK(db_set_str(d, key, 16, "z", 1, 0) == 0);
    check_sole(d, key, 16, "z", 1);
    /* A short value still gets the 8-byte slot, so an INT fits later. */
    CHECK(db_del(d, key, 16) == 1 && db_set_str(d, key, 16, "a", 1, 0) == 1);
    o = db_find(d, key, 16);
    CHECK(db_set_int(d, key, 16, 1LL << 62, 0) == 0 && db_find(d, key, 16) == o);
    check_sole(d, key, 16, "4611686018427387904", 19);
    /* The same through a rehash: keys move between buckets, not in memory. */
    obj *keep = o;
    char kb[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(kb, sizeof(kb), "k%d", i);
        CHECK(db_set_str(d, kb, (size_t)n, v16, (size_t)(i % 17), 0) == 1);
    }
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(kb, sizeof(kb), "k%d", i);
        o = db_find(d, kb, (size_t)n);
        CHECK(o && obj_is(o, v16, (size_t)(i % 17)));
    }
    CHECK(db_find(d, key, 16) == keep && obj_is(keep, "4611686018427387904", 19));
    store_free(s);
}

/* ---- incremental resize ---------------------------------------------------- */

static int has_num(db *d, int i) {
    char kb[24];
    int l = util_ll2str(kb, sizeof(kb), i);
    obj *o = db_peek(d, kb, (size_t)l);
    return o != NULL && o->enc == OBJ_ENC_INT && o->v.i == i;
}

static int count_visit_n;
static void count_visit(void *priv, const char *key, size_t klen, obj *val) {
    (void)priv;
    (void)key;
    (void)klen;
    (void)val;
    count_visit_n++;
}

/* Every key 0..n-1 (in[i] set) is found, and no other; a full walk and a
 * full scan report each exactly once; random picks are keys that exist. */
static int resize_consistent(db *d, const unsigned char *in, int n) {
    int ok = 1;
    size_t live = 0;
    for (int i = 0; i < n; i++) {
        ok &= has_num(d, i) == in[i];
        live += in[i];
    }
    ok &= db_size(d) == live;
    count_visit_n = 0;
    db_foreach(d, count_visit, NULL);
    ok &= (size_t)count_visit_n == live;
    int *visits = calloc((size_t)n, sizeof(int));
    scan_ctx c = {visits, n};
    uint64_t cur = 0;
    do
        cur = db_scan(d, cur, 10, scan_visit, &c);
    while (cur);
    for (int i = 0; i < n; i++)
        ok &= visits[i] == in[i];
    free(visits);
    for (int k = 0; k < 20 && live > 0; k++) {
        const char *key;
        size_t klen;
        long long v;
        ok &= db_random_key(d, &key, &klen) == 1 && util_str2ll(key, klen, &v) && v >= 0 && v < n &&
              in[v];
    }
    return ok;
}

/* A resize runs a step at a time: keys inserted, deleted and looked up while
 * it runs are all where they should be, walks and scans see each key once,
 * and the cron (db_rehash_for) finishes it. */
static void test_resize(void) {
    enum { N = 40000 };
    store *s = store_new(1, 99);
    db *d = store_db(s, 0);
    unsigned char *in = calloc(N, 1);
    int grows = 0, checks = 0, ok = 1, was = 0, since = 0;
    for (int i = 0; i < N; i++) {
        put_num(d, i);
        in[i] = 1;
        int now = db_rehashing(d);
        if (now && !was) {
            grows++;
            since = 0;
        }
        was = now;
        /* Check inside each resize, early in some and further on in others
         * (the check's own lookups then finish it). */
        if (now && ++since == (grows % 2 ? 2 : 100)) {
            ok &= resize_consistent(d, in, i + 1);
            checks++;
        }
    }
    if (grows < 10 || checks < 8) fprintf(stderr, "resize: grows %d checks %d\n", grows, checks);
    CHECK(ok);
    CHECK(grows >= 10 && checks >= 8);
    /* A resize left running is finished by the cron's budget. */
    for (int k = N; k < 4 * N && !db_rehashing(d); k++)
        put_num(d, k);
    CHECK(db_rehashing(d));
    CHECK(db_rehash_for(d, 1000000) == 1 && !db_rehashing(d));
    CHECK(db_rehash_for(d, 1000) == 0);
    store_free(s);

    /* Shrinking: deletes (and lookups) move a shrink along. */
    s = store_new(1, 5);
    d = store_db(s, 0);
    memset(in, 0, N);
    for (int i = 0; i < N; i++) {
        put_num(d, i);
        in[i] = 1;
    }
    db_rehash_for(d, 1000000);
    int shrinks = 0;
    was = 0;
    checks = 0;
    for (int i = 0; i < N; i++) {
        if (i % 23 == 3) continue; /* keep some */
        del_num(d, i);
        in[i] = 0;
        int now = db_rehashing(d);
        if (now && !was) {
            shrinks++;
            since = 0;
        }
        was = now;
        if (now && ++since == 2) {
            ok &= resize_consistent(d, in, N);
            checks++;
        }
    }
    if (shrinks < 2 || checks < 2)
        fprintf(stderr, "resize: shrinks %d checks %d\n", shrinks, checks);
    CHECK(ok && shrinks >= 2 && checks >= 2);
    ok = 1;
    for (int i = 0; i < N; i++)
        ok &= has_num(d, i) == in[i];
    CHECK(ok);
    /* A flush in the middle of a resize frees both tables (checked by
     * the sanitizers) and leaves a working table. */
    for (int i = 0; i < N && !db_rehashing(d); i++)
        put_num(d, N + i);
    CHECK(db_rehashing(d));
    db_flush(d);
    CHECK(!db_rehashing(d) && db_size(d) == 0);
    put_num(d, 1);
    CHECK(has_num(d, 1));
    free(in);
    store_free(s);
}

/* Every key 0..n-1 has deadline want[i] (-1: none), and the expires table
 * counts exactly those with one. */
static int ttl_consistent(db *d, const int64_t *want, int n) {
    int ok = 1;
    size_t with = 0;
    for (int i = 0; i < n; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        ok &= db_get_expire(d, kb, (size_t)l) == want[i];
        with += want[i] != -1;
    }
    return ok && db_expires_size(d) == with;
}

/* The expires table resizes a few slots per change too: deadlines set,
 * changed and dropped while it runs are all found, and active expiry
 * samples both of its tables. */
static void test_expires_resize(void) {
    enum { N = 30000 };
    store *s = store_new(1, 3);
    db *d = store_db(s, 0);
    s->now_ms = 1000;
    int64_t *want = malloc(N * sizeof(*want));
    for (int i = 0; i < N; i++) {
        put_num(d, i);
        want[i] = -1;
    }
    db_rehash_for(d, 1000000); /* the key table's resizes are over */
    CHECK(!db_rehashing(d));
    int grows = 0, checks = 0, ok = 1, was = 0, since = 0;
    for (int i = 0; i < N; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        want[i] = 5000 + i;
        db_set_expire(d, kb, (size_t)l, want[i]);
        int now = db_rehashing(d);
        if (now && !was) {
            grows++;
            since = 0;
        }
        was = now;
        if (now && ++since == (grows % 2 ? 1 : 40)) {
            /* Change and drop some deadlines inside the resize. */
            for (int j = 0; j <= i; j += 7) {
                l = util_ll2str(kb, sizeof(kb), j);
                if (j % 2) {
                    want[j] = 9000 + j;
                    db_set_expire(d, kb, (size_t)l, want[j]);
                } else if (want[j] != -1) {
                    db_persist(d, kb, (size_t)l);
                    want[j] = -1;
                }
            }
            ok &= ttl_consistent(d, want, N);
            checks++;
        }
    }
    if (grows < 8 || checks < 8)
        fprintf(stderr, "expires resize: grows %d checks %d\n", grows, checks);
    CHECK(ok && grows >= 8 && checks >= 8);
    CHECK(ttl_consistent(d, want, N));
    /* Drop most deadlines: the table shrinks, step by step. */
    int shrinks = 0;
    was = 0;
    for (int i = 0; i < N; i++) {
        if (i % 50 == 1 || want[i] == -1) continue;
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        db_persist(d, kb, (size_t)l);
        want[i] = -1;
        int now = db_rehashing(d);
        if (now && !was) shrinks++;
        if (now && !was && shrinks == 1) ok &= ttl_consistent(d, want, N);
        was = now;
    }
    CHECK(ok && shrinks >= 1);
    CHECK(ttl_consistent(d, want, N));
    /* Active expiry in the middle of a resize: grow the table again with
     * deadlines in the past, stop inside the resize, and reap. */
    size_t before = db_expires_size(d);
    int added = 0;
    for (int i = 0; i < N; i++) {
        if (want[i] != -1) continue;
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        want[i] = 10; /* passed */
        db_set_expire(d, kb, (size_t)l, 10);
        added++;
        if (db_rehashing(d) && added > 100) break;
    }
    CHECK(db_rehashing(d));
    int reaped = 0, rounds = 0;
    while (db_expires_size(d) > before && rounds++ < 1000000)
        reaped += db_active_expire(d, 20);
    CHECK(reaped == added && db_expires_size(d) == before);
    ok = 1;
    for (int i = 0; i < N; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        int gone = want[i] == 10;
        ok &= (db_peek(d, kb, (size_t)l) == NULL) == gone;
    }
    CHECK(ok);
    /* A burst of deletes leaves no big, nearly empty table behind (active
     * expiry's sampling would find next to nothing in one): persist all
     * deadlines but ten, which have passed, with no cron in between; a few
     * cycles of sampling then find all ten. */
    db_flush(d);
    enum { BURST = 300000 };
    for (int i = 0; i < BURST; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        put_num(d, i);
        db_set_expire(d, kb, (size_t)l, i < 10 ? 10 : 50000);
    }
    for (int i = 10; i < BURST; i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        db_persist(d, kb, (size_t)l);
    }
    CHECK(db_expires_size(d) == 10);
    reaped = 0;
    for (int k = 0; k < 5; k++)
        reaped += db_active_expire(d, 20);
    CHECK(reaped == 10 && db_expires_size(d) == 0);
    /* A flush inside a resize frees both expires tables (sanitizers). */
    for (int i = 0; i < N && !db_rehashing(d); i++) {
        char kb[24];
        int l = util_ll2str(kb, sizeof(kb), i);
        db_set_expire(d, kb, (size_t)l, 7000);
    }
    db_flush(d);
    CHECK(db_expires_size(d) == 0 && db_size(d) == 0);
    free(want);
    store_free(s);
}

int main(void) {
    test_lfu();
    test_obj();
    test_expiry();
    test_scan();
    test_random_ops();
    test_entry_forms();
    test_entry_room();
    test_resize();
    test_expires_resize();
    UNIT_DONE();
}
