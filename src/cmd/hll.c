/* hll.c -- Redis's HyperLogLog representation and estimator over byte
 * buffers (see hll.h for the layout and the buffer contract). Pure code:
 * no store, no replies, no shared state; safe on any thread.
 */
#include "hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLL_Q (64 - HLL_P) /* hash bits above the register index */
#define HLL_SEED 0xadc83b19u
#define HLL_REG_MAX 63
#define SPARSE_VAL_MAX 32     /* largest register value a VAL opcode holds */
#define SPARSE_VAL_MAXLEN 4   /* registers per VAL opcode */
#define SPARSE_ZERO_MAXLEN 64 /* registers per ZERO opcode */
#define SPARSE_XZERO_MAXLEN 16384

/* Opcode decoding; p points at the opcode's first byte. An XZERO's second
 * byte is read even at the very end of the buffer: p[len] is the NUL. */
static inline int op_is_zero(const uint8_t *p) {
    return (*p & 0xc0) == 0;
}
static inline int op_is_xzero(const uint8_t *p) {
    return (*p & 0xc0) == 0x40;
}
static inline int op_is_val(const uint8_t *p) {
    return (*p & 0x80) != 0;
}
static inline long op_zero_len(const uint8_t *p) {
    return (*p & 0x3f) + 1;
}
static inline long op_xzero_len(const uint8_t *p) {
    return (((long)(p[0] & 0x3f) << 8) | p[1]) + 1;
}
static inline int op_val_value(const uint8_t *p) {
    return ((*p >> 2) & 0x1f) + 1;
}
static inline long op_val_len(const uint8_t *p) {
    return (*p & 0x3) + 1;
}
static inline void op_put_val(uint8_t *p, int val, long len) {
    *p = (uint8_t)(0x80 | ((val - 1) << 2) | (len - 1));
}
static inline void op_put_zero(uint8_t *p, long len) {
    *p = (uint8_t)(len - 1);
}
static inline void op_put_xzero(uint8_t *p, long len) {
    p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    p[1] = (uint8_t)((len - 1) & 0xff);
}

/* ---------------------------------------------------------------------- */
/* Hashing. */

uint64_t hll_murmur64a(const void *key, size_t len, uint32_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const uint8_t *d = key;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t blocks = len / 8;
    for (size_t i = 0; i < blocks; i++, d += 8) {
        uint64_t k = 0;
        for (int b = 7; b >= 0; b--)
            k = (k << 8) | d[b];
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t rest = len & 7;
    if (rest) {
        for (size_t b = rest; b-- > 0;)
            h ^= (uint64_t)d[b] << (8 * b);
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

int hll_pattern(const void *ele, size_t len, long *index) {
    uint64_t h = hll_murmur64a(ele, len, HLL_SEED);
    *index = (long)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= (uint64_t)1 << HLL_Q; /* the count stops at Q+1 */
    return __builtin_ctzll(h) + 1;
}

/* ---------------------------------------------------------------------- */
/* Header. */

/* Grow b so that it can hold at least need bytes (plus the NUL). */
static void buf_reserve(hll_buf *b, size_t need) {
    if (b->sb->cap >= need) return;
    b->sb = strbuf_grow(b->sb, need < 1024 ? need * 2 : need + need / 2);
    b->p = (uint8_t *)b->sb->b;
}

void hll_new(hll_buf *b) {
    b->len = HLL_HDR_SIZE + 2;
    b->sb = strbuf_new(NULL, b->len, b->len);
    b->p = (uint8_t *)b->sb->b;
    memcpy(b->p, "HYLL", 4);
    b->p[4] = HLL_ENC_SPARSE;
    op_put_xzero(b->p + HLL_HDR_SIZE, HLL_REGISTERS);
}

int hll_valid(const uint8_t *p, size_t len) {
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0) return 0;
    if (p[4] > HLL_ENC_SPARSE) return 0;
    if (p[4] == HLL_ENC_DENSE && len != HLL_DENSE_SIZE) return 0;
    return 1;
}

int hll_cache_get(const uint8_t *p, uint64_t *card) {
    if (p[15] & 0x80) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[8 + i];
    *card = v;
    return 1;
}

void hll_cache_set(uint8_t *p, uint64_t card) {
    for (int i = 0; i < 8; i++)
        p[8 + i] = (uint8_t)(card >> (8 * i));
}

void hll_cache_invalidate(uint8_t *p) {
    p[15] |= 0x80;
}

/* ---------------------------------------------------------------------- */
/* Dense registers. */

uint8_t hll_dense_get(const uint8_t *regs, long i) {
    unsigned long bit = (unsigned long)i * 6, byte = bit >> 3, shift = bit & 7;
    unsigned v = regs[byte] >> shift;
    if (shift > 2) v |= (unsigned)regs[byte + 1] << (8 - shift);
    return (uint8_t)(v & HLL_REG_MAX);
}

static void dense_put(uint8_t *regs, long i, uint8_t val) {
    unsigned long bit = (unsigned long)i * 6, byte = bit >> 3, shift = bit & 7;
    regs[byte] = (uint8_t)((regs[byte] & ~(HLL_REG_MAX << shift)) | (val << shift));
    if (shift > 2) {
        unsigned hi = 8 - shift; /* bits of the register in the first byte */
        regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(HLL_REG_MAX >> hi)) | ((unsigned)val >> hi));
    }
}

/* Raise a dense register; 1 if it changed. */
static int dense_set(uint8_t *regs, long i, uint8_t count) {
    if (hll_dense_get(regs, i) >= count) return 0;
    dense_put(regs, i, count);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Sparse form. */

/* Walk the sparse body, calling fn(arg, first, len, value) for every run
 * (value 0 for ZERO and XZERO runs). Returns 0 if the runs cover exactly
 * HLL_REGISTERS; -1 (stopping there) at a run that would pass the last
 * register or if they cover fewer. */
typedef void (*run_fn)(void *arg, long first, long len, int value);
static int sparse_walk(const uint8_t *p, const uint8_t *end, run_fn fn, void *arg) {
    long idx = 0;
    while (p < end) {
        long n;
        int value = 0;
        if (op_is_zero(p)) {
            n = op_zero_len(p);
        } else if (op_is_xzero(p)) {
            n = op_xzero_len(p);
        } else {
            n = op_val_len(p);
            value = op_val_value(p);
        }
        if (idx + n > HLL_REGISTERS) return -1;
        fn(arg, idx, n, value);
        idx += n;
        p += op_is_xzero(p) ? 2 : 1;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

static void run_to_dense(void *arg, long first, long len, int value) {
    if (value == 0) return;
    for (long i = first; i < first + len; i++)
        dense_put(arg, i, (uint8_t)value);
}

void hll_free(hll_buf *b) {
    free(b->sb);
    b->sb = NULL;
    b->p = NULL;
}

int hll_to_dense(hll_buf *b) {
    if (b->p[4] == HLL_ENC_DENSE) return 0;
    strbuf *dsb = strbuf_new(NULL, HLL_DENSE_SIZE, HLL_DENSE_SIZE);
    uint8_t *d = (uint8_t *)dsb->b;
    memcpy(d, b->p, HLL_HDR_SIZE);
    d[4] = HLL_ENC_DENSE;
    if (sparse_walk(b->p + HLL_HDR_SIZE, b->p + b->len, run_to_dense, d + HLL_HDR_SIZE) < 0) {
        free(dsb);
        return -1;
    }
    free(b->sb);
    b->sb = dsb;
    b->p = d;
    b->len = HLL_DENSE_SIZE;
    return 0;
}

/* Merge runs of equal VAL opcodes in the few opcodes from `from` on (the
 * neighbourhood of an edit), shrinking the body. `end` is updated. */
static void sparse_coalesce(hll_buf *b, uint8_t *from, uint8_t **end) {
    uint8_t *p = from;
    int budget = 5;
    while (p < *end && budget-- > 0) {
        if (op_is_xzero(p)) {
            p += 2;
            continue;
        }
        if (op_is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < *end && op_is_val(p + 1) && op_val_value(p) == op_val_value(p + 1)) {
            long n = op_val_len(p) + op_val_len(p + 1);
            if (n <= SPARSE_VAL_MAXLEN) {
                op_put_val(p + 1, op_val_value(p), n);
                memmove(p, p + 1, (size_t)(*end - p));
                b->len--;
                (*end)--;
                b->p[b->len] = 0;
                continue; /* the merged opcode may merge again */
            }
        }
        p++;
    }
}

/* Promote to dense and set the register there. */
static int sparse_promote(hll_buf *b, long index, uint8_t count) {
    if (hll_to_dense(b) < 0) return -1;
    dense_set(b->p + HLL_HDR_SIZE, index, count);
    return 1;
}

/* Write a zero run of len registers at n; returns the bytes written. */
static int put_zero_run(uint8_t *n, long len) {
    if (len > SPARSE_ZERO_MAXLEN) {
        op_put_xzero(n, len);
        return 2;
    }
    op_put_zero(n, len);
    return 1;
}

/* Raise a register of a sparse HLL (see hll_set). */
static int sparse_set(hll_buf *b, long index, uint8_t count, long long sparse_max) {
    if (count > SPARSE_VAL_MAX) return sparse_promote(b, index, count);
    buf_reserve(b, b->len + 8); /* the split below grows the body by <= 4 bytes */

    /* Find the opcode covering the register. */
    uint8_t *body = b->p + HLL_HDR_SIZE, *end = b->p + b->len;
    uint8_t *p = body, *prev = NULL;
    long first = 0, span = 0;
    while (p < end) {
        int oplen = 1;
        if (op_is_zero(p))
            span = op_zero_len(p);
        else if (op_is_val(p))
            span = op_val_len(p);
        else {
            span = op_xzero_len(p);
            oplen = 2;
        }
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;

    int is_xzero = op_is_xzero(p), is_zero = op_is_zero(p);
    uint8_t *next = p + (is_xzero ? 2 : 1);
    if (next >= end) next = NULL;

    if (!is_zero && !is_xzero) {
        if (op_val_value(p) >= count) return 0;
        if (span == 1) {
            op_put_val(p, count, 1);
            goto done;
        }
    }
    if (is_zero && span == 1) {
        op_put_val(p, count, 1);
        goto done;
    }

    /* Split the opcode into [left run] VAL(count) [right run]. */
    uint8_t seq[5];
    int n = 0;
    long last = first + span - 1;
    if (is_zero || is_xzero) {
        if (index != first) n += put_zero_run(seq + n, index - first);
        op_put_val(seq + n++, count, 1);
        if (index != last) n += put_zero_run(seq + n, last - index);
    } else {
        int cur = op_val_value(p);
        if (index != first) op_put_val(seq + n++, cur, index - first);
        op_put_val(seq + n++, count, 1);
        if (index != last) op_put_val(seq + n++, cur, last - index);
    }
    long delta = n - (is_xzero ? 2 : 1);
    if (delta > 0 && (long long)(b->len + (size_t)delta) > sparse_max)
        return sparse_promote(b, index, count);
    if (delta && next) memmove(next + delta, next, (size_t)(end - next));
    b->len = (size_t)((long)b->len + delta);
    memcpy(p, seq, (size_t)n);
    b->p[b->len] = 0;
    end += delta;

done:
    sparse_coalesce(b, prev ? prev : body, &end);
    hll_cache_invalidate(b->p);
    return 1;
}

int hll_set(hll_buf *b, long index, uint8_t count, long long sparse_max) {
    if (b->p[4] == HLL_ENC_DENSE) return dense_set(b->p + HLL_HDR_SIZE, index, count);
    if (b->p[4] == HLL_ENC_SPARSE) return sparse_set(b, index, count, sparse_max);
    return -1;
}

int hll_add(hll_buf *b, const void *ele, size_t len, long long sparse_max) {
    long index;
    int count = hll_pattern(ele, len, &index);
    return hll_set(b, index, (uint8_t)count, sparse_max);
}

/* ---------------------------------------------------------------------- */
/* Merging and counting. */

static void run_to_max(void *arg, long first, long len, int value) {
    uint8_t *max = arg;
    if (value == 0) return;
    for (long i = first; i < first + len; i++)
        if (value > max[i]) max[i] = (uint8_t)value;
}

int hll_merge(uint8_t *max, const uint8_t *p, size_t len) {
    if (p[4] == HLL_ENC_DENSE) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            uint8_t v = hll_dense_get(p + HLL_HDR_SIZE, i);
            if (v > max[i]) max[i] = v;
        }
        return 0;
    }
    return sparse_walk(p + HLL_HDR_SIZE, p + len, run_to_max, max);
}

/* Ertl's sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), summed until it stops changing. */
static double est_sigma(double x) {
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

/* Ertl's tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3. */
static double est_tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1.0 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* The estimate from a histogram of register values (hist[v] = registers
 * holding v), in exactly Redis's order of floating-point operations. */
static uint64_t estimate(const int *hist) {
    const double m = HLL_REGISTERS;
    double z = m * est_tau((m - hist[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; j--) {
        z += hist[j];
        z *= 0.5;
    }
    z += m * est_sigma(hist[0] / m);
    return (uint64_t)llroundl(0.721347520444481703680 * m * m / z);
}

static void run_to_hist(void *arg, long first, long len, int value) {
    (void)first;
    ((int *)arg)[value] += (int)len;
}

uint64_t hll_count(const uint8_t *p, size_t len, int *invalid) {
    int hist[64] = {0};
    if (p[4] == HLL_ENC_DENSE) {
        for (long i = 0; i < HLL_REGISTERS; i++)
            hist[hll_dense_get(p + HLL_HDR_SIZE, i)]++;
    } else if (sparse_walk(p + HLL_HDR_SIZE, p + len, run_to_hist, hist) < 0) {
        *invalid = 1;
    }
    return estimate(hist);
}

uint64_t hll_count_raw(const uint8_t *regs) {
    int hist[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++)
        hist[regs[i] & 63]++;
    return estimate(hist);
}
