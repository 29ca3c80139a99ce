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

typedef struct lathist {
    uint64_t total;
    uint64_t counts[LH_COUNTS];
} lathist;

/* Count one value (ns), clamped to [LH_MIN_NS, LH_MAX_NS]. */
void lh_record(lathist *h, int64_t ns);
/* Add every count of src to dst. */
void lh_merge(lathist *dst, const lathist *src);
/* The value at percentile pct (0..100) in ns: the highest value of the
 * bucket it falls in, or the lowest for pct 0. 0 when h is empty. */
int64_t lh_percentile(const lathist *h, double pct);

#endif
