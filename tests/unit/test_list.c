/* test_list.c -- the quicklist (src/store/list.c) against a plain array of
 * strings: random pushes, pops, inserts, replacements, removals, trims,
 * index reads and ranges, with small node sizes so that many nodes exist,
 * values with NUL and 0xff bytes, integers and values too big for a node.
 * After every step the whole list, its node invariants and its copy are
 * compared with the reference. Single-threaded.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/store/list.h"
#include "unit.h"

/* The reference: an array of owned byte strings. */
typedef struct ref_item {
    char *p;
    size_t len;
} ref_item;

typedef struct ref_list {
    ref_item *v;
    size_t n, cap;
} ref_list;

#define REF_SEED 0x9e3779b97f4a7c15ULL
#include "ref_util.h"

static size_t rnd_below(size_t n) {
    return n ? (size_t)(rnd() % n) : 0;
}

static char *xdup(const char *p, size_t len) {
    char *d = malloc(len + 1);
    if (d == NULL) abort();
    memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

static void ref_insert(ref_list *r, size_t at, const char *p, size_t len) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = realloc(r->v, r->cap * sizeof(ref_item));
        if (r->v == NULL) abort();
    }
    memmove(&r->v[at + 1], &r->v[at], (r->n - at) * sizeof(ref_item));
    r->v[at].p = xdup(p, len);
    r->v[at].len = len;
    r->n++;
}

static void ref_delete(ref_list *r, size_t at, size_t n) {
    for (size_t i = at; i < at + n; i++)
        free(r->v[i].p);
    memmove(&r->v[at], &r->v[at + n], (r->n - at - n) * sizeof(ref_item));
    r->n -= n;
}

static void ref_free(ref_list *r) {
    ref_delete(r, 0, r->n);
    free(r->v);
}

/* A random value: short binary strings, canonical and non-canonical
 * integers, a small alphabet (so that equal values repeat), or a big one. */
static size_t rnd_value(char *buf) {
    switch (rnd_below(10)) {
    case 0: { /* binary with NUL and 0xff */
        size_t len = rnd_below(12);
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(rnd_below(3) == 0 ? 0 : rnd_below(3) == 0 ? 0xff : 'a' + rnd_below(4));
        return len;
    }
    case 1:
    case 2:
        return (size_t)sprintf(buf, "%lld", (long long)(rnd() % 200000) - 100000);
    case 3:
        return (size_t)sprintf(buf, "%lld", (long long)rnd());
    case 4:
        return (size_t)sprintf(buf, "0%d", (int)rnd_below(100));
    case 5: { /* too big for a small node */
        size_t len = 1000 + rnd_below(5000);
        memset(buf, 'A' + (int)rnd_below(3), len);
        return len;
    }
    default:
        buf[0] = (char)('a' + rnd_below(3));
        return 1;
    }
}

/* Whether q holds exactly r, walking both ways, and its nodes obey the
 * layout rules (linked both ways, never empty, counts right, within fill). */
static int same(quicklist *q, const ref_list *r) {
    if (ql_len(q) != r->n) return 0;
    size_t total = 0, nodes = 0;
    const ql_node *prev = NULL;
    for (const ql_node *n = q->head; n; n = n->next) {
        if (n->prev != prev || n->count == 0 || n->count != lp_count(n->lp)) return 0;
        if (n->count > 1 && q->fill >= 0 && n->count > (uint32_t)q->fill) return 0;
        size_t limit = q->fill >= 0 ? 8192 : (size_t)4096 << (-q->fill - 1);
        if (n->count > 1 && lp_bytes(n->lp) > limit) return 0;
        total += n->count;
        nodes++;
        prev = n;
    }
    if (prev != q->tail || total != q->count || nodes != q->nnodes) return 0;
    ql_iter it;
    lp_entry e;
    size_t i = 0;
    ql_iter_init(&it, q, 0, LIST_TAIL);
    while (ql_iter_next(&it, &e)) {
        if (i >= r->n || e.len != r->v[i].len || memcmp(e.s, r->v[i].p, e.len) != 0) return 0;
        i++;
    }
    if (i != r->n) return 0;
    ql_iter_init(&it, q, -1, LIST_HEAD);
    while (ql_iter_next(&it, &e)) {
        if (i == 0) return 0;
        i--;
        if (e.len != r->v[i].len || memcmp(e.s, r->v[i].p, e.len) != 0) return 0;
    }
    return i == 0;
}

/* Normalise a possibly negative index; -1 if out of range. */
static long long norm(long long idx, size_t n) {
    if (idx < 0) idx += (long long)n;
    return idx < 0 || idx >= (long long)n ? -1 : idx;
}

static void random_ops(int fill, int steps) {
    quicklist *q = ql_new(fill);
    ref_list r = {0};
    static char buf[8192];
    int ok = 1;
    size_t max_nodes = 0;
    for (int i = 0; i < 400; i++) { /* start long, so that many nodes exist */
        size_t len = rnd_value(buf);
        ql_push(q, LIST_TAIL, buf, len);
        ref_insert(&r, r.n, buf, len);
    }
    for (int step = 0; step < steps && ok; step++) {
        size_t len = rnd_value(buf);
        long long idx = (long long)rnd_below(r.n + 4) - (long long)rnd_below(r.n + 4);
        int op = (int)rnd_below(14);
        switch (op) {
        case 0:
        case 1: /* push */
        case 2:
        case 12:
        case 13: {
            int where = (int)rnd_below(2);
            ql_push(q, where, buf, len);
            ref_insert(&r, where == LIST_HEAD ? 0 : r.n, buf, len);
            break;
        }
        case 3: { /* pop */
            int where = (int)rnd_below(2);
            size_t plen;
            char *p = ql_pop(q, where, &plen);
            if (r.n == 0) {
                CHECK(p == NULL);
                break;
            }
            size_t at = where == LIST_HEAD ? 0 : r.n - 1;
            CHECK(p && plen == r.v[at].len && memcmp(p, r.v[at].p, plen) == 0);
            free(p);
            ref_delete(&r, at, 1);
            break;
        }
        case 4: { /* insert next to the element at a random index */
            long long at = norm(idx, r.n);
            if (at < 0) break;
            int after = (int)rnd_below(2), dir = (int)rnd_below(2);
            ql_iter it;
            lp_entry e;
            ql_iter_init(&it, q, at, dir);
            CHECK(ql_iter_next(&it, &e));
            ql_iter_insert(&it, after, buf, len);
            ref_insert(&r, (size_t)at + (size_t)after, buf, len);
            break;
        }
        case 5: { /* replace */
            long long at = norm(idx, r.n);
            CHECK(ql_replace(q, idx, buf, len) == (at >= 0));
            if (at >= 0) {
                ref_delete(&r, (size_t)at, 1);
                ref_insert(&r, (size_t)at, buf, len);
            }
            break;
        }
        case 6: { /* delete a range */
            long long at = norm(idx, r.n);
            size_t n = rnd_below(rnd_below(40) == 0 ? r.n + 2 : 6);
            size_t got = ql_del_range(q, idx, n);
            size_t want = at < 0 ? 0 : (n < r.n - (size_t)at ? n : r.n - (size_t)at);
            CHECK(got == want);
            if (want) ref_delete(&r, (size_t)at, want);
            break;
        }
        case 7: { /* index */
            long long at = norm(idx, r.n);
            lp_entry e;
            int found = ql_index(q, idx, &e);
            CHECK(found == (at >= 0));
            if (found) CHECK(e.len == r.v[at].len && memcmp(e.s, r.v[at].p, e.len) == 0);
            break;
        }
        case 8: { /* remove equal elements through the iterator, either way */
            int dir = (int)rnd_below(2);
            size_t limit = rnd_below(3);
            char val[2] = {(char)('a' + rnd_below(3)), 0};
            ql_iter it;
            lp_entry e;
            size_t removed = 0;
            ql_iter_init(&it, q, dir == LIST_TAIL ? 0 : -1, dir);
            while (ql_iter_next(&it, &e)) {
                if (!ql_iter_eq(&it, val, 1)) continue;
                ql_iter_del(&it);
                if (++removed == limit) break;
            }
            size_t ref_removed = 0;
            long long i = dir == LIST_TAIL ? 0 : (long long)r.n - 1;
            while (i >= 0 && i < (long long)r.n && (limit == 0 || ref_removed < limit)) {
                if (r.v[i].len == 1 && r.v[i].p[0] == val[0]) {
                    ref_delete(&r, (size_t)i, 1);
                    ref_removed++;
                    if (dir == LIST_TAIL) continue;
                }
                i += dir == LIST_TAIL ? 1 : -1;
            }
            CHECK(removed == ref_removed);
            break;
        }
        case 9: { /* a range from a random start, either way */
            long long at = norm(idx, r.n);
            int dir = (int)rnd_below(2);
            ql_iter it;
            lp_entry e;
            ql_iter_init(&it, q, idx, dir);
            long long i = at;
            int good = 1;
            while (ql_iter_next(&it, &e)) {
                if (i < 0 || i >= (long long)r.n || e.len != r.v[i].len ||
                    memcmp(e.s, r.v[i].p, e.len) != 0)
                    good = 0;
                i += dir == LIST_TAIL ? 1 : -1;
            }
            CHECK(good && (at < 0 || i == (dir == LIST_TAIL ? (long long)r.n : -1)));
            break;
        }
        case 10: { /* copy */
            quicklist *d = ql_dup(q);
            CHECK(same(d, &r));
            ql_free(d);
            break;
        }
        default: { /* now and then, trim to [a, b] */
            if (rnd_below(20) != 0) break;
            size_t a = rnd_below(r.n + 1), b = rnd_below(r.n + 1);
            if (a > b || a >= r.n) {
                ql_del_range(q, 0, r.n);
                ref_delete(&r, 0, r.n);
            } else {
                if (b >= r.n) b = r.n - 1;
                size_t rtrim = r.n - b - 1;
                ql_del_range(q, 0, a);
                ql_del_range(q, -(long long)rtrim, rtrim);
                ref_delete(&r, 0, a);
                ref_delete(&r, r.n - rtrim, rtrim);
            }
            break;
        }
        }
        if (q->nnodes > max_nodes) max_nodes = q->nnodes;
        ok = same(q, &r);
        CHECK(ok);
        if (!ok) fprintf(stderr, "fill %d: mismatch after step %d (op %d)\n", fill, step, op);
    }
    /* The walk must have exercised many nodes. */
    CHECK(max_nodes >= 20);
    ql_free(q);
    ref_free(&r);
}

/* Integers come back as their canonical digits; other strings as given. */
static void test_integers_and_binary(void) {
    quicklist *q = ql_new(2);
    ql_push(q, LIST_TAIL, "123", 3);
    ql_push(q, LIST_TAIL, "-9223372036854775808", 20);
    ql_push(q, LIST_TAIL, "007", 3);
    ql_push(q, LIST_TAIL, "a\0b\xff", 4);
    lp_entry e;
    CHECK(ql_index(q, 0, &e) && e.len == 3 && memcmp(e.s, "123", 3) == 0);
    CHECK(ql_index(q, 1, &e) && e.len == 20 && memcmp(e.s, "-9223372036854775808", 20) == 0);
    CHECK(ql_index(q, -2, &e) && e.len == 3 && memcmp(e.s, "007", 3) == 0);
    CHECK(ql_index(q, -1, &e) && e.len == 4 && memcmp(e.s, "a\0b\xff", 4) == 0);
    CHECK(!ql_index(q, 4, &e) && !ql_index(q, -5, &e));
    CHECK(q->nnodes == 2);
    ql_free(q);
}

/* Nodes fill up to the configured count or size. */
static void test_node_sizes(void) {
    quicklist *q = ql_new(3);
    for (int i = 0; i < 10; i++)
        ql_push(q, LIST_TAIL, "x", 1);
    CHECK(q->nnodes == 4 && q->head->count == 3 && q->tail->count == 1);
    ql_free(q);
    q = ql_new(-1); /* 4 KiB per node */
    char big[1000];
    memset(big, 'b', sizeof(big));
    for (int i = 0; i < 8; i++)
        ql_push(q, LIST_HEAD, big, sizeof(big));
    CHECK(q->nnodes == 2 && q->head->count == 4);
    ql_free(q);
}

/* The object API other modules use. */
static void test_object(void) {
    obj *o = list_new(-2);
    CHECK(o->type == OBJ_LIST && o->enc == OBJ_ENC_QUICKLIST);
    list_push(o, LIST_TAIL, "b", 1);
    list_push(o, LIST_HEAD, "a", 1);
    CHECK(list_len(o) == 2 && obj_elements(o) == 2);
    CHECK(strcmp(obj_enc_name(o), "quicklist") == 0);
    CHECK(obj_mem_usage(o) >= 16 + 40 + 40);
    obj *d = obj_dup(o);
    size_t len;
    char *p = list_pop(o, LIST_TAIL, &len);
    CHECK(p && len == 1 && p[0] == 'b');
    free(p);
    CHECK(list_len(o) == 1 && list_len(d) == 2);
    p = list_pop(d, LIST_HEAD, &len);
    CHECK(p && len == 1 && p[0] == 'a');
    free(p);
    obj_free(o);
    obj_free(d);
}

int main(void) {
    test_integers_and_binary();
    test_node_sizes();
    test_object();
    static const int fills[] = {1, 2, 3, 5, 0, -1, -2, 128};
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
        random_ops(fills[i], 4000);
    UNIT_DONE();
}
