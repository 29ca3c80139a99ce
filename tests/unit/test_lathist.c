/* test_lathist.c -- the latency histogram: bucket bounds at known values
 * (those Redis prints for the same durations), clamping, merging, and
 * percentiles of random samples checked against the exact order statistic
 * of the sorted samples (which must lie inside the bucket reported). */
#include <stdint.h>
#include <stdlib.h>

#include "ds/lathist.h"
#include "unit.h"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The bucket of v: [low, high]. */
static void bounds(int64_t v, int64_t *low, int64_t *high) {
    lathist *h = calloc(1, sizeof(*h));
    lh_record(h, v);
    *low = lh_percentile(h, 0.0);
    *high = lh_percentile(h, 100.0);
    free(h);
}

int main(void) {
    lathist *h = calloc(1, sizeof(*h));
    CHECK(lh_percentile(h, 50.0) == 0);
    int64_t lo, hi;
    /* Exact below 256; then 1/128 of the power of two. */
    bounds(1, &lo, &hi);
    CHECK(lo == 1 && hi == 1);
    bounds(255, &lo, &hi);
    CHECK(lo == 255 && hi == 255);
    bounds(256, &lo, &hi);
    CHECK(lo == 256 && hi == 257);
    bounds(1000, &lo, &hi);
    CHECK(lo == 1000 && hi == 1003);
    bounds(4000, &lo, &hi);
    CHECK(lo == 4000 && hi == 4015);
    bounds(63000, &lo, &hi);
    CHECK(lo == 62976 && hi == 63231);
    /* Clamped into [1 ns, 1 s]. */
    bounds(0, &lo, &hi);
    CHECK(lo == 1 && hi == 1);
    bounds(-5, &lo, &hi);
    CHECK(lo == 1);
    bounds(5000000000LL, &lo, &hi);
    CHECK(lo <= LH_MAX_NS && hi >= LH_MAX_NS && hi - lo < LH_MAX_NS / 100);

    /* Percentiles: 3 values of 1 us and one of 3 us. */
    for (int i = 0; i < 3; i++)
        lh_record(h, 1000);
    lh_record(h, 3000);
    CHECK(lh_total(h) == 4);
    CHECK(lh_percentile(h, 50.0) == 1003);
    CHECK(lh_percentile(h, 75.0) == 1003);
    CHECK(lh_percentile(h, 99.0) == 3007);
    CHECK(lh_percentile(h, 0.0) == 1000);
    CHECK(lh_percentile(h, 150.0) == 3007);

    /* Merge adds counts. */
    lathist *g = calloc(1, sizeof(*g));
    lh_record(g, 3000);
    lh_merge(g, h);
    CHECK(lh_total(g) == 5 && lh_percentile(g, 50.0) == 1003 && lh_percentile(g, 70.0) == 3007);

    /* Random samples over six decades: the exact order statistic at each
     * percentile's rank lies in the reported bucket, whose width is at most
     * 1/128 of its value. */
    srand(7);
    enum { N = 20000 };
    int64_t *v = malloc(sizeof(int64_t) * N);
    lathist *r = calloc(1, sizeof(*r));
    for (int i = 0; i < N; i++) {
        int64_t x = 1;
        int digits = rand() % 9;
        for (int d = 0; d < digits; d++)
            x *= 10;
        v[i] = x + rand() % (x * 9 + 1);
        lh_record(r, v[i]);
    }
    qsort(v, N, sizeof(int64_t), cmp_i64);
    const double pcts[] = {0.0001, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
        long rank = (long)(pcts[k] / 100.0 * N + 0.5);
        if (rank < 1) rank = 1;
        int64_t exact = v[rank - 1];
        int64_t got = lh_percentile(r, pcts[k]);
        CHECK(got >= exact && got - exact <= exact / 128 + 1);
    }
    free(v);
    free(r);
    free(g);
    free(h);
    UNIT_DONE();
}
