/* hll.h -- the HyperLogLog representation of Redis, as pure functions over
 * byte buffers: no store, no replies, so they run on any thread and are unit
 * tested alone (tests/unit/test_hll.c). t_hll.c builds PFADD, PFCOUNT and
 * PFMERGE on top of them.
 *
 * A HyperLogLog is a string value whose bytes are exactly Redis's, so that
 * GET/SET/DUMP of one moves between percore and Redis unchanged:
 *
 *   offset 0   "HYLL"                    magic
 *          4   encoding                  0 dense, 1 sparse
 *          5   3 unused bytes            zero
 *          8   cached cardinality        64-bit little endian; the top bit
 *                                        of byte 15 set = cache invalid
 *         16   registers                 16384 registers of 6 bits
 *
 * Dense: 12288 bytes, register i in bits [6i, 6i+6) counted from the least
 * significant bit of byte 0 (a register may straddle two bytes).
 * Sparse: a run-length code over the registers, one opcode after another:
 *
 *   00xxxxxx            ZERO   xxxxxx+1 registers (1..64) are 0
 *   01xxxxxx yyyyyyyy   XZERO  the 14-bit x..y + 1 registers (1..16384) are 0
 *   1vvvvvxx            VAL    xx+1 registers (1..4) hold vvvvv+1 (1..32)
 *
 * A new HLL is sparse (two XZERO opcodes' worth: one XZERO of 16384) and
 * becomes dense when a register needs more than 32 or when the sparse
 * string would outgrow hll-sparse-max-bytes.
 *
 * Buffers: an hll_buf owns a strbuf (store.h) whose bytes p hold len bytes
 * and a NUL at p[len] in room for sb->cap + 1 -- a RAW string value's buffer, so
 * t_hll.c lends a value's string to these functions and takes it back.
 * Functions that grow a buffer may move it.
 */
#ifndef PERCORE_HLL_H
#define PERCORE_HLL_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define HLL_P 14
#define HLL_REGISTERS (1 << HLL_P)                            /* 16384 */
#define HLL_HDR_SIZE 16                                       /* magic .. cached cardinality */
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + HLL_REGISTERS * 6 / 8) /* 12304 */
#define HLL_ENC_DENSE 0
#define HLL_ENC_SPARSE 1

typedef struct hll_buf {
    strbuf *sb; /* owner of p, and of its room (sb->cap); sb->len is stale */
    uint8_t *p; /* sb->b; p[len] == 0 */
    size_t len;
} hll_buf;

/* Redis's 64-bit MurmurHash2 (MurmurHash64A) of key[0..len) with seed,
 * reading 8-byte blocks little endian. */
uint64_t hll_murmur64a(const void *key, size_t len, uint32_t seed);

/* Register index (0..16383) and run length (1..51) of an element: the
 * hash's low 14 bits pick the register, the count is one more than the
 * number of zero bits above them (at most 50 are looked at). */
int hll_pattern(const void *ele, size_t len, long *index);

/* A new empty sparse HLL (18 bytes; cached cardinality 0, valid). */
void hll_new(hll_buf *b);
/* Free b's buffer. */
void hll_free(hll_buf *b);

/* Whether p[0..len) passes Redis's HLL checks (magic, known encoding, a
 * dense one of exactly HLL_DENSE_SIZE bytes). A sparse body is not checked
 * here: corruption there shows up as -1 from the functions below. */
int hll_valid(const uint8_t *p, size_t len);

/* The encoding byte of a valid HLL. */
static inline int hll_encoding(const uint8_t *p) {
    return p[4];
}

/* The cached cardinality: returns 1 and sets *card when the cache is valid. */
int hll_cache_get(const uint8_t *p, uint64_t *card);
void hll_cache_set(uint8_t *p, uint64_t card);
void hll_cache_invalidate(uint8_t *p);

/* Register i of a dense register array (12288 bytes). */
uint8_t hll_dense_get(const uint8_t *regs, long i);

/* Raise register `index` to `count` if it is lower, in either encoding;
 * the sparse form is rewritten in place and may be promoted to dense (when
 * count > 32 or the string would exceed sparse_max bytes). Returns 1 if the
 * register changed, 0 if not, -1 if the sparse body is corrupt. */
int hll_set(hll_buf *b, long index, uint8_t count, long long sparse_max);

/* Add an element: hll_pattern + hll_set. Same return values. */
int hll_add(hll_buf *b, const void *ele, size_t len, long long sparse_max);

/* Convert a sparse HLL to dense in place (a dense one is left alone). The
 * header, cached cardinality included, is kept. Returns 0, or -1 if the
 * sparse body is corrupt (b unchanged). */
int hll_to_dense(hll_buf *b);

/* max[i] = MAX(max[i], register i of the HLL p[0..len)), for a valid HLL.
 * Returns 0, or -1 if its sparse body is corrupt (max partly updated). */
int hll_merge(uint8_t *max, const uint8_t *p, size_t len);

/* The estimated cardinality of a valid HLL (Ertl's improved estimator, as
 * Redis 7 computes it). A corrupt sparse body sets *invalid to 1. */
uint64_t hll_count(const uint8_t *p, size_t len, int *invalid);

/* The estimated cardinality of 16384 registers held one per byte. */
uint64_t hll_count_raw(const uint8_t *regs);

#endif
