/* test_sort.c -- unit tests of SORT's pure helpers (src/cmd/t_sort.h):
 * option parsing, getkeys, the LIMIT window, pattern substitution, score
 * parsing, and the stable sort checked against a simple insertion sort on
 * random inputs. Single-threaded.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/t_sort.h"
#include "unit.h"

static rt_arg A(const char *s) {
    return (rt_arg){s, strlen(s)};
}

static int parse_args(int argc, const char **args, int readonly, sort_opts *o, rbuf *err) {
    rt_arg argv[32];
    for (int i = 0; i < argc; i++)
        argv[i] = A(args[i]);
    rb_clear(err);
    /* o borrows argv, which dies here: callers only test its pointers for NULL. */
    return sort_parse(argc, argv, readonly, o, err);
}

static void test_parse(void) {
    rbuf err;
    rb_init(&err, 2);
    sort_opts o;
    const char *a1[] = {"sort", "k", "desc", "alpha", "limit", "2", "-1", "get", "#", "get", "x_*"};
    CHECK(parse_args(11, a1, 0, &o, &err) == 0);
    CHECK(o.desc == 1 && o.alpha == 1 && o.lstart == 2 && o.lcount == -1 && o.ngets == 2);
    CHECK(o.by == NULL && o.store == NULL && !o.dontsort);
    sort_opts_free(&o);
    const char *a2[] = {"sort", "k", "by", "nosort", "by", "w_*"};
    CHECK(parse_args(6, a2, 0, &o, &err) == 0);
    CHECK(o.dontsort == 1 && o.by == NULL);
    sort_opts_free(&o);
    const char *a3[] = {"sort", "k", "store", "d"};
    CHECK(parse_args(4, a3, 0, &o, &err) == 0);
    CHECK(o.store != NULL);
    sort_opts_free(&o);
    CHECK(parse_args(4, a3, 1, &o, &err) == -1);
    CHECK(err.len > 0 && strstr(err.buf, "syntax error") != NULL);
    sort_opts_free(&o);
    const char *a4[] = {"sort", "k", "limit", "x", "1"};
    CHECK(parse_args(5, a4, 0, &o, &err) == -1);
    CHECK(strstr(err.buf, "not an integer") != NULL);
    sort_opts_free(&o);
    const char *a5[] = {"sort", "k", "limit", "1"};
    CHECK(parse_args(4, a5, 0, &o, &err) == -1);
    CHECK(strstr(err.buf, "syntax error") != NULL);
    sort_opts_free(&o);
    rb_free(&err);
}

static int getkeys(int argc, const char **args, int *keys) {
    rt_arg argv[32];
    for (int i = 0; i < argc; i++)
        argv[i] = A(args[i]);
    return sort_getkeys(argc, argv, keys, NULL);
}

static void test_getkeys(void) {
    int keys[32];
    const char *a1[] = {"sort", "a",     "store", "b",   "limit", "0",
                        "1",    "store", "c",     "get", "x",     "store"};
    CHECK(getkeys(12, a1, keys) == 2 && keys[0] == 1 && keys[1] == 8);
    const char *a2[] = {"sort", "a", "limit", "store", "x"};
    CHECK(getkeys(5, a2, keys) == 1 && keys[0] == 1);
    const char *a3[] = {"sort", "a", "store", "limit", "x", "y"};
    CHECK(getkeys(6, a3, keys) == 2 && keys[1] == 3);
    const char *a4[] = {"sort", "a"};
    CHECK(getkeys(2, a4, keys) == 1);
}

static void test_window(void) {
    long long s, e;
    sort_window(10, 0, -1, &s, &e);
    CHECK(s == 0 && e == 9);
    sort_window(10, 2, 3, &s, &e);
    CHECK(s == 2 && e == 4);
    sort_window(10, 20, 3, &s, &e);
    CHECK(s == 9 && e == 8);
    sort_window(0, 0, -1, &s, &e);
    CHECK(s == -1 && e == -2);
    sort_window(10, 5, 0, &s, &e);
    CHECK(e - s + 1 == 0);
    sort_window(10, LLONG_MAX, LLONG_MAX, &s, &e);
    CHECK(s == 9 && e == 8);
    sort_window(10, LLONG_MIN, LLONG_MIN, &s, &e);
    CHECK(s == 0 && e == 9);
    /* Exact windows are compared with redis-server by test_sort_diff.py's
     * LIMIT grid; here, over a wider grid, that a window is never negative
     * in size, stays inside the list, and takes what LIMIT asks for when it
     * fits. */
    for (long long vlen = 0; vlen < 20; vlen++)
        for (long long ls = -5; ls < 25; ls++)
            for (long long lc = -5; lc < 25; lc++) {
                sort_window(vlen, ls, lc, &s, &e);
                CHECK(e - s + 1 >= 0 && e < vlen && s >= (vlen ? 0 : -1));
                if (ls >= 0 && ls < vlen && lc >= 0 && ls + lc <= vlen)
                    CHECK(s == ls && e - s + 1 == lc);
            }
}

/* The key a pattern gives for an element, as a C string ("" if none). */
static const char *key_of(const char *pat, size_t plen, const char *el, sort_pat *sp) {
    static rbuf out;
    static int init;
    if (!init) rb_init(&out, 2), init = 1;
    rb_clear(&out);
    sort_pat_parse(pat, plen, sp);
    if (sp->kind == SORT_PAT_KEY) sort_pat_key(pat, sp, el, strlen(el), &out);
    rb_append(&out, "", 1);
    return out.buf;
}

static void test_patterns(void) {
    sort_pat sp;
    CHECK(strcmp(key_of("w_*", 3, "x", &sp), "w_x") == 0 && !sp.has_field);
    CHECK(strcmp(key_of("a*b*c", 5, "X", &sp), "aXb*c") == 0);
    CHECK(strcmp(key_of("h_*->f", 6, "1", &sp), "h_1") == 0 && sp.has_field && sp.field == 5);
    CHECK(strcmp(key_of("h_*->", 5, "1", &sp), "h_1->") == 0 && !sp.has_field);
    CHECK(strcmp(key_of("h_*->a->b", 9, "1", &sp), "h_1") == 0 && sp.field == 5);
    CHECK(strcmp(key_of("->*x", 4, "1", &sp), "->1x") == 0 && !sp.has_field);
    key_of("#", 1, "1", &sp);
    CHECK(sp.kind == SORT_PAT_SELF);
    key_of("#\0x", 3, "1", &sp);
    CHECK(sp.kind == SORT_PAT_SELF);
    key_of("##", 2, "1", &sp);
    CHECK(sp.kind == SORT_PAT_NONE);
    key_of("a\0*", 3, "1", &sp);
    CHECK(sp.kind == SORT_PAT_NONE);
    /* "->" hidden behind a NUL: the whole rest is the key. */
    key_of("h*\0->f", 6, "1", &sp);
    CHECK(sp.kind == SORT_PAT_KEY && !sp.has_field && sp.keyend == 6);
    /* A field with a NUL in it runs to the end. */
    key_of("h*->f\0g", 7, "1", &sp);
    CHECK(sp.has_field && sp.field == 4 && sp.keyend == 2);
    key_of("h*->\0g", 6, "1", &sp);
    CHECK(!sp.has_field && sp.keyend == 6);
}

static void test_score(void) {
    double d;
    CHECK(sort_score("1.5", 3, &d) == 0 && d == 1.5);
    CHECK(sort_score("", 0, &d) == 0 && d == 0);
    CHECK(sort_score(" 7", 2, &d) == 0 && d == 7);
    CHECK(sort_score("7 ", 2, &d) == -1);
    CHECK(sort_score("0x10", 4, &d) == 0 && d == 16);
    CHECK(sort_score("inf", 3, &d) == 0 && isinf(d));
    CHECK(sort_score("nan", 3, &d) == -1);
    CHECK(sort_score("1e400", 5, &d) == -1);
    CHECK(sort_score("1e-400", 6, &d) == -1);
    CHECK(sort_score("5\0x", 3, &d) == 0 && d == 5);
    CHECK(sort_score("abc", 3, &d) == -1);
    char big[300];
    memset(big, '1', sizeof(big));
    CHECK(sort_score(big, 200, &d) == 0 && d > 1e199);
}

/* Reference: stable insertion sort under the same comparison. */
static void ref_sort(sort_el **v, size_t n, const sort_how *h) {
    for (size_t i = 1; i < n; i++) {
        sort_el *x = v[i];
        size_t j = i;
        while (j > 0 && sort_el_cmp(v[j - 1], x, h) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void test_compare_and_sort(void) {
    sort_how num = {0, 0, 0, 0}, coll = {1, 0, 0, 0}, bin = {1, 0, 1, 0}, by = {1, 1, 0, 1};
    sort_el a = {"a\0b", 3, 1, NULL, 0}, b = {"a\0c", 3, 1, NULL, 0}, c = {"a", 1, 2, NULL, 0};
    CHECK(sort_el_cmp(&a, &b, &coll) == 0);
    CHECK(sort_el_cmp(&a, &c, &coll) == 0);
    CHECK(sort_el_cmp(&a, &b, &bin) < 0);
    CHECK(sort_el_cmp(&c, &a, &bin) < 0);
    CHECK(sort_el_cmp(&a, &b, &num) < 0); /* equal scores: element bytes */
    CHECK(sort_el_cmp(&c, &a, &num) > 0);
    a.cmp = "x";
    a.cmplen = 1;
    CHECK(sort_el_cmp(&a, &b, &by) < 0); /* DESC: the missing weight goes last */
    CHECK(sort_el_cmp(&b, &c, &by) == 0);
    static const char *words[] = {"", "a", "b", "a\0z", "ab", "\xff", "\x01", "b\0"};
    srand(5);
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(rand() % 40);
        sort_el els[40];
        sort_el *v1[40], *v2[40];
        for (size_t i = 0; i < n; i++) {
            const char *w = words[rand() % 8];
            size_t wl = strlen(w) + (w[0] && strlen(w) < 3 && rand() % 2 ? 1 : 0);
            els[i] = (sort_el){w, wl, (double)(rand() % 4), NULL, 0};
            if (rand() % 3) {
                els[i].cmp = words[rand() % 8];
                els[i].cmplen = strlen(els[i].cmp);
            }
            v1[i] = v2[i] = &els[i];
        }
        sort_how h = {rand() % 2, rand() % 2, rand() % 2, rand() % 2};
        sort_els(v1, n, &h);
        ref_sort(v2, n, &h);
        int same = 1;
        for (size_t i = 0; i < n; i++)
            same &= v1[i] == v2[i];
        CHECK(same);
    }
}

int main(void) {
    test_parse();
    test_getkeys();
    test_window();
    test_patterns();
    test_score();
    test_compare_and_sort();
    UNIT_DONE();
}
