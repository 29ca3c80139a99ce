/* t_string_util.h -- the pure helpers behind the string commands: bit
 * counting and searching, BITFIELD integer extraction/insertion and its
 * overflow rules, BITOP, and the LCS table. No store, no replies: they work
 * on byte buffers the caller owns, so they run on any thread and are unit
 * tested alone (tests/unit/test_string_helpers.c).
 *
 * Bit numbering is Redis's: bit 0 is the most significant bit of byte 0,
 * bit 8 the most significant bit of byte 1, and so on.
 */
#ifndef PERCORE_T_STRING_UTIL_H
#define PERCORE_T_STRING_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Number of set bits in p[0..n). */
long long tstr_popcount(const unsigned char *p, size_t n);

/* Number of set bits among bits [sbit, ebit] (inclusive) of p. The caller
 * guarantees sbit <= ebit and that ebit lies inside the buffer. */
long long tstr_bitcount_bits(const unsigned char *p, uint64_t sbit, uint64_t ebit);

/* Position of the first bit equal to `bit` (0 or 1) among bits [sbit, ebit]
 * (inclusive) of p, or -1 if there is none. Same preconditions as above. */
long long tstr_bitpos_bits(const unsigned char *p, uint64_t sbit, uint64_t ebit, int bit);

/* BITFIELD: read `bits` bits (1..64) starting at bit offset `off` as an
 * unsigned value, or as a two's complement signed value. The buffer must
 * hold every bit read. */
uint64_t tstr_bf_get_u(const unsigned char *p, uint64_t off, int bits);
int64_t tstr_bf_get_s(const unsigned char *p, uint64_t off, int bits);
/* Write the low `bits` bits of v at bit offset off. */
void tstr_bf_set(unsigned char *p, uint64_t off, int bits, uint64_t v);

/* Overflow handling modes of BITFIELD. */
enum { TSTR_BF_WRAP = 0, TSTR_BF_SAT = 1, TSTR_BF_FAIL = 2 };

/* Check whether value + incr fits an unsigned field of `bits` bits (1..63).
 * Returns 0 if it fits; otherwise 1 (too big) or -1 (below zero) and, for
 * WRAP and SAT, stores in *limit the value to write instead (the wrapped
 * sum, or the bound). A value already above the field's maximum counts as
 * too big whatever incr is (BITFIELD SET passes incr 0). */
int tstr_bf_overflow_u(uint64_t value, int64_t incr, int bits, int mode, uint64_t *limit);
/* As above for a signed field of `bits` bits (1..64). */
int tstr_bf_overflow_s(int64_t value, int64_t incr, int bits, int mode, int64_t *limit);

/* BITOP operations. */
enum { TSTR_BITOP_AND = 0, TSTR_BITOP_OR = 1, TSTR_BITOP_XOR = 2, TSTR_BITOP_NOT = 3 };

/* Combine n source strings (src[i] of len[i] bytes; a missing key is a
 * NULL/0 source) as BITOP does: the result is as long as the longest source,
 * shorter sources are padded with zero bytes; NOT uses src[0] only. Returns
 * a malloc'd buffer the caller frees and its length in *outlen, or NULL with
 * *outlen 0 when every source is empty. */
unsigned char *tstr_bitop(int op, int n, const unsigned char *const *src, const size_t *len,
                          size_t *outlen);

/* The LCS dynamic-programming table of a[0..alen) and b[0..blen): a
 * (alen+1) x (blen+1) row-major matrix where cell (i, j) is the length of
 * the longest common subsequence of a[0..i) and b[0..j). Returns a malloc'd
 * table the caller frees, or NULL if it cannot be allocated. */
uint32_t *tstr_lcs_table(const char *a, size_t alen, const char *b, size_t blen);
#define TSTR_LCS(t, blen, i, j) ((t)[(size_t)(i) * ((size_t)(blen) + 1) + (size_t)(j)])

#endif
