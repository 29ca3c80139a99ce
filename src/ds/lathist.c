/* lathist.c -- latency histogram with two significant digits.
 *
 * The layout is HdrHistogram's for a lowest value of 1 and two significant
 * digits, the histogram Redis keeps per command: values below 256 have a
 * bucket each; above, every power of two [2^k, 2^(k+1)) is split into 128
 * equal sub-buckets, so a bucket is at most 1/128 of its value wide. Using
 * the same bucket bounds makes the percentiles INFO prints (a bucket's
 * highest value) read as Redis's would for the same durations: 1 us is
 * reported as 1.003 us.
 *
 * Indexing: for a value v, b = (bit length of (v | 255)) - 8 is its power
 * (0 for v < 256) and s = v >> b its sub-bucket in [128, 256) (or [0, 256)
 * when b = 0); the count lives at (b + 1) * 128 + s - 128.
 */
#include "lathist.h"

#include <string.h>

/* The lowest value counted at index i, and the width of its bucket. */
static inline int64_t lh_low(int i, int64_t *width) {
    int b = (i >> LH_HALF_BITS) - 1;
    int s = (i & (LH_HALF - 1)) + LH_HALF;
    if (b < 0) {
        s -= LH_HALF;
        b = 0;
    }
    *width = (int64_t)1 << b;
    return (int64_t)s << b;
}

void lh_merge(lathist *dst, const lathist *src) {
    for (int i = 0; i < LH_COUNTS; i++)
        dst->counts[i] += src->counts[i];
}

uint64_t lh_total(const lathist *h) {
    uint64_t n = 0;
    for (int i = 0; i < LH_COUNTS; i++)
        n += h->counts[i];
    return n;
}

int64_t lh_percentile(const lathist *h, double pct) {
    if (pct > 100.0) pct = 100.0;
    /* The value below which pct% of the counts fall: the first index whose
     * running sum reaches that rank (at least the first count). */
    uint64_t rank = (uint64_t)(pct / 100.0 * (double)lh_total(h) + 0.5);
    if (rank < 1) rank = 1;
    uint64_t run = 0;
    for (int i = 0; i < LH_COUNTS; i++) {
        run += h->counts[i];
        if (run >= rank) {
            int64_t width, low = lh_low(i, &width);
            return pct == 0.0 ? low : low + width - 1;
        }
    }
    return 0;
}
