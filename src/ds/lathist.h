/* lathist.h -- latency histogram of 1 ns .. 1 s with two significant digits
 * (INFO latencystats). One owner thread; no locking. */
#ifndef PERCORE_LATHIST_H
#define PERCORE_LATHIST_H

#include <stdint.h>

/* Buckets: 128 sub-buckets per power of two, 23 powers above the first 256
 * single-nanosecond values. */
#define LH_HALF_BITS 7
#define LH_HALF (1 << LH_HALF_BITS)
#define LH_BUCKETS 23
#define LH_COUNTS ((LH_BUCKETS + 1) * LH_HALF)
#define LH_MIN_NS 1
#define LH_MAX_NS 1000000000LL

/* The number of values is not kept beside the counts: lh_record touches
 * one counter per command, and INFO, the only reader, sums them. */
typedef struct lathist {
    uint64_t counts[LH_COUNTS];
} lathist;

/* The counts index of a value in [LH_MIN_NS, LH_MAX_NS] (see lathist.c). */
static inline int lh_index(int64_t v) {
    int b = 64 - __builtin_clzll((uint64_t)v | 255u) - (LH_HALF_BITS + 1);
    return ((b + 1) << LH_HALF_BITS) + (int)(v >> b) - LH_HALF;
}

/* Count one value (ns), clamped to [LH_MIN_NS, LH_MAX_NS]. Inline: it runs
 * once per command. */
static inline void lh_record(lathist *h, int64_t ns) {
    if (ns < LH_MIN_NS) ns = LH_MIN_NS;
    if (ns > LH_MAX_NS) ns = LH_MAX_NS;
    h->counts[lh_index(ns)]++;
}
/* How many values were counted. */
uint64_t lh_total(const lathist *h);
/* Add every count of src to dst. */
void lh_merge(lathist *dst, const lathist *src);
/* The value at percentile pct (0..100) in ns: the highest value of the
 * bucket it falls in, or the lowest for pct 0. 0 when h is empty. */
int64_t lh_percentile(const lathist *h, double pct);

#endif
