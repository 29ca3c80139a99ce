/* test_string_helpers.c -- unit tests of the pure helpers behind the string
 * commands (src/cmd/t_string_util.h): bit counting and searching, BITFIELD
 * get/set and overflow rules, BITOP and the LCS table. Each helper is
 * checked against a deliberately naive reference on random inputs, plus
 * the fixed cases Redis documents. Single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/t_string_util.h"
#include "unit.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int ref_bit(const unsigned char *p, uint64_t b) {
    return (p[b / 8] >> (7 - b % 8)) & 1;
}

/* Fill p with bytes biased towards 0x00 and 0xff so that runs occur. */
static void fill(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd() % 4;
        p[i] = r == 0 ? 0x00 : r == 1 ? 0xff : (unsigned char)rnd();
    }
}

static void test_counts_and_positions(void) {
    unsigned char buf[300];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rnd() % sizeof(buf);
        fill(buf, n);
        long long all = 0;
        for (uint64_t b = 0; b < n * 8; b++)
            all += ref_bit(buf, b);
        CHECK(tstr_popcount(buf, n) == all);

        uint64_t s = rnd() % (n * 8), e = s + rnd() % (n * 8 - s);
        long long cnt = 0, pos0 = -1, pos1 = -1;
        for (uint64_t b = s; b <= e; b++) {
            int v = ref_bit(buf, b);
            cnt += v;
            if (v && pos1 < 0) pos1 = (long long)b;
            if (!v && pos0 < 0) pos0 = (long long)b;
        }
        CHECK(tstr_bitcount_bits(buf, s, e) == cnt);
        CHECK(tstr_bitpos_bits(buf, s, e, 1) == pos1);
        CHECK(tstr_bitpos_bits(buf, s, e, 0) == pos0);
    }
    /* Long runs exercise the word-skipping path. */
    unsigned char z[256] = {0};
    z[200] = 0x10;
    CHECK(tstr_bitpos_bits(z, 0, 2047, 1) == 200 * 8 + 3);
    CHECK(tstr_bitpos_bits(z, 0, 200 * 8 + 2, 1) == -1);
    memset(z, 0xff, sizeof(z));
    CHECK(tstr_bitpos_bits(z, 3, 2047, 0) == -1);
    z[255] = 0xfe;
    CHECK(tstr_bitpos_bits(z, 3, 2047, 0) == 2047);
    CHECK(tstr_bitcount_bits(z, 0, 2047) == 2047);
}

static void test_bitfield_get_set(void) {
    unsigned char buf[64], ref[64];
    for (int iter = 0; iter < 5000; iter++) {
        fill(buf, sizeof(buf));
        memcpy(ref, buf, sizeof(buf));
        int bits = 1 + (int)(rnd() % 64);
        uint64_t off = rnd() % (sizeof(buf) * 8 - (uint64_t)bits + 1);
        uint64_t want = 0;
        for (int j = 0; j < bits; j++)
            want = (want << 1) | (uint64_t)ref_bit(buf, off + (uint64_t)j);
        CHECK(tstr_bf_get_u(buf, off, bits) == want);
        int64_t swant = (int64_t)want;
        if (bits < 64 && (want >> (bits - 1))) swant = (int64_t)(want | (UINT64_MAX << bits));
        CHECK(tstr_bf_get_s(buf, off, bits) == swant);

        uint64_t v = rnd();
        tstr_bf_set(buf, off, bits, v);
        for (uint64_t b = 0; b < sizeof(buf) * 8; b++) {
            int expect = ref_bit(ref, b);
            if (b >= off && b < off + (uint64_t)bits)
                expect = (int)((v >> (bits - 1 - (int)(b - off))) & 1);
            if (ref_bit(buf, b) != expect) {
                CHECK(!"bf_set wrote the wrong bit");
                break;
            }
        }
    }
}

static void test_bitfield_overflow(void) {
    uint64_t u = 0;
    int64_t s = 0;
    /* Unsigned 2-bit field. */
    CHECK(tstr_bf_overflow_u(0, 3, 2, TSTR_BF_WRAP, &u) == 0);
    CHECK(tstr_bf_overflow_u(0, 5, 2, TSTR_BF_WRAP, &u) == 1 && u == 1);
    CHECK(tstr_bf_overflow_u(0, 5, 2, TSTR_BF_SAT, &u) == 1 && u == 3);
    CHECK(tstr_bf_overflow_u(1, -5, 2, TSTR_BF_WRAP, &u) == -1 && u == 0);
    CHECK(tstr_bf_overflow_u(1, -5, 2, TSTR_BF_SAT, &u) == -1 && u == 0);
    CHECK(tstr_bf_overflow_u(1, -2, 2, TSTR_BF_FAIL, &u) == -1);
    CHECK(tstr_bf_overflow_u(7, 0, 2, TSTR_BF_WRAP, &u) == 1 && u == 3);
    CHECK(tstr_bf_overflow_u(UINT64_MAX, 0, 2, TSTR_BF_SAT, &u) == 1 && u == 3);
    CHECK(tstr_bf_overflow_u(UINT64_MAX, 0, 63, TSTR_BF_WRAP, &u) == 1 && u == (UINT64_MAX >> 1));
    CHECK(tstr_bf_overflow_u((UINT64_MAX >> 1), 1, 63, TSTR_BF_WRAP, &u) == 1 && u == 0);
    /* Signed fields. */
    CHECK(tstr_bf_overflow_s(100, 100, 8, TSTR_BF_WRAP, &s) == 1 && s == -56);
    CHECK(tstr_bf_overflow_s(100, 100, 8, TSTR_BF_SAT, &s) == 1 && s == 127);
    CHECK(tstr_bf_overflow_s(-100, -100, 8, TSTR_BF_WRAP, &s) == -1 && s == 56);
    CHECK(tstr_bf_overflow_s(-100, -100, 8, TSTR_BF_SAT, &s) == -1 && s == -128);
    CHECK(tstr_bf_overflow_s(128, 0, 8, TSTR_BF_WRAP, &s) == 1 && s == -128);
    CHECK(tstr_bf_overflow_s(-129, 0, 8, TSTR_BF_WRAP, &s) == -1 && s == 127);
    CHECK(tstr_bf_overflow_s(-1, 0, 1, TSTR_BF_WRAP, &s) == 0);
    CHECK(tstr_bf_overflow_s(0, 1, 1, TSTR_BF_WRAP, &s) == 1 && s == -1);
    CHECK(tstr_bf_overflow_s(INT64_MAX, 1, 64, TSTR_BF_WRAP, &s) == 1 && s == INT64_MIN);
    CHECK(tstr_bf_overflow_s(INT64_MAX, 1, 64, TSTR_BF_SAT, &s) == 1 && s == INT64_MAX);
    CHECK(tstr_bf_overflow_s(INT64_MIN, -1, 64, TSTR_BF_SAT, &s) == -1 && s == INT64_MIN);
    CHECK(tstr_bf_overflow_s(INT64_MIN, INT64_MAX, 64, TSTR_BF_SAT, &s) == 0);
    /* Random: a result that fits is reported as fitting, and the wrapped
     * value is congruent to the true sum modulo 2^bits. */
    for (int iter = 0; iter < 20000; iter++) {
        int bits = 1 + (int)(rnd() % 64);
        int64_t max = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1, min = -max - 1;
        int64_t v = (int64_t)rnd();
        if (bits < 64) v = min + (int64_t)(rnd() % ((uint64_t)max - (uint64_t)min + 1));
        int64_t inc = (int64_t)rnd();
        inc >>= rnd() % 64;
        __int128 sum = (__int128)v + inc;
        int over = tstr_bf_overflow_s(v, inc, bits, TSTR_BF_WRAP, &s);
        CHECK(over == (sum > max ? 1 : sum < min ? -1 : 0));
        if (over) {
            uint64_t mask = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
            CHECK((((uint64_t)s ^ ((uint64_t)v + (uint64_t)inc)) & mask) == 0);
            CHECK(s >= min && s <= max);
        }
    }
}

static void test_bitop(void) {
    unsigned char a[] = {0xff, 0x0f, 0x00, 0x61}, b[] = {0x0f, 0xf0};
    const unsigned char *src[3] = {a, b, NULL};
    size_t len[3] = {sizeof(a), sizeof(b), 0}, n;
    unsigned char *r = tstr_bitop(TSTR_BITOP_AND, 2, src, len, &n);
    CHECK(n == 4 && r[0] == 0x0f && r[1] == 0x00 && r[2] == 0 && r[3] == 0);
    free(r);
    r = tstr_bitop(TSTR_BITOP_OR, 3, src, len, &n);
    CHECK(n == 4 && r[0] == 0xff && r[1] == 0xff && r[2] == 0 && r[3] == 0x61);
    free(r);
    r = tstr_bitop(TSTR_BITOP_XOR, 2, src, len, &n);
    CHECK(n == 4 && r[0] == 0xf0 && r[1] == 0xff && r[3] == 0x61);
    free(r);
    r = tstr_bitop(TSTR_BITOP_NOT, 1, src, len, &n);
    CHECK(n == 4 && r[0] == 0x00 && r[1] == 0xf0 && r[2] == 0xff && r[3] == 0x9e);
    free(r);
    CHECK(tstr_bitop(TSTR_BITOP_OR, 1, src + 2, len + 2, &n) == NULL && n == 0);
}

/* Longest common subsequence length by exhaustive search (tiny inputs). */
static int ref_lcs(const char *a, int alen, const char *b, int blen) {
    if (alen == 0 || blen == 0) return 0;
    if (a[alen - 1] == b[blen - 1]) return 1 + ref_lcs(a, alen - 1, b, blen - 1);
    int x = ref_lcs(a, alen - 1, b, blen), y = ref_lcs(a, alen, b, blen - 1);
    return x > y ? x : y;
}

static void test_lcs_table(void) {
    uint32_t *t = tstr_lcs_table("ohmytext", 8, "mynewtext", 9);
    CHECK(t != NULL && TSTR_LCS(t, 9, 8, 9) == 6);
    free(t);
    t = tstr_lcs_table("", 0, "abc", 3);
    CHECK(t != NULL && TSTR_LCS(t, 3, 0, 3) == 0);
    free(t);
    char a[9], b[9];
    for (int iter = 0; iter < 500; iter++) {
        int alen = (int)(rnd() % 9), blen = (int)(rnd() % 9);
        for (int i = 0; i < alen; i++)
            a[i] = (char)("ab\0"[rnd() % 3]);
        for (int i = 0; i < blen; i++)
            b[i] = (char)("ab\0"[rnd() % 3]);
        t = tstr_lcs_table(a, (size_t)alen, b, (size_t)blen);
        CHECK(t != NULL);
        for (int i = 0; i <= alen; i++)
            for (int j = 0; j <= blen; j++)
                if ((int)TSTR_LCS(t, blen, i, j) != ref_lcs(a, i, b, j))
                    CHECK(!"lcs cell differs from the exhaustive reference");
        free(t);
    }
}

int main(void) {
    test_counts_and_positions();
    test_bitfield_get_set();
    test_bitfield_overflow();
    test_bitop();
    test_lcs_table();
    UNIT_DONE();
}
