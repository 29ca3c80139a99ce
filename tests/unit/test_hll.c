/* test_hll.c -- unit tests of the HyperLogLog representation (hll.c):
 * hashing, random register updates of the sparse form checked against a
 * plain register array after every step (including promotion to dense),
 * merging, counting and corruption detection. */
#include <stdlib.h>
#include <string.h>

#include "cmd/hll.h"
#include "unit.h"

/* Register i of an HLL in either encoding, via a merge into zeros. */
static void registers_of(const hll_buf *b, uint8_t *regs) {
    memset(regs, 0, HLL_REGISTERS);
    CHECK(hll_merge(regs, b->p, b->len) == 0);
}

static void test_murmur(void) {
    /* Known element: "86f8de7b" has a run of 36 at register 15571. */
    long idx;
    CHECK(hll_pattern("86f8de7b", 8, &idx) == 36);
    CHECK(idx == 15571);
    CHECK(hll_murmur64a("", 0, 0) == hll_murmur64a("", 0, 0));
    CHECK(hll_murmur64a("a", 1, 1) != hll_murmur64a("a", 1, 2));
}

static void test_random_sets(void) {
    uint8_t *ref = calloc(1, HLL_REGISTERS), *got = malloc(HLL_REGISTERS);
    hll_buf b;
    hll_new(&b);
    CHECK(b.len == 18 && hll_valid(b.p, b.len) && hll_encoding(b.p) == HLL_ENC_SPARSE);
    uint64_t card;
    CHECK(hll_cache_get(b.p, &card) && card == 0);
    srand(1);
    int promoted_at = -1;
    for (int step = 0; step < 4000; step++) {
        long idx = rand() % (step < 2000 ? 300 : HLL_REGISTERS);
        uint8_t cnt = (uint8_t)(1 + rand() % 20);
        int expect = cnt > ref[idx];
        CHECK(hll_set(&b, idx, cnt, 3000) == expect);
        if (expect) ref[idx] = cnt;
        if (promoted_at < 0 && hll_encoding(b.p) == HLL_ENC_DENSE) promoted_at = step;
        if (step % 50 == 0 || step < 200) {
            registers_of(&b, got);
            CHECK(memcmp(ref, got, HLL_REGISTERS) == 0);
        }
        if (hll_encoding(b.p) == HLL_ENC_SPARSE) CHECK(b.len <= 3000);
    }
    CHECK(promoted_at > 0);
    CHECK(b.len == HLL_DENSE_SIZE);
    registers_of(&b, got);
    CHECK(memcmp(ref, got, HLL_REGISTERS) == 0);
    int invalid = 0;
    CHECK(hll_count(b.p, b.len, &invalid) == hll_count_raw(ref) && !invalid);
    hll_free(&b);
    free(ref);
    free(got);
}

static void test_big_register_promotes(void) {
    hll_buf b;
    hll_new(&b);
    CHECK(hll_add(&b, "86f8de7b", 8, 3000) == 1);
    CHECK(hll_encoding(b.p) == HLL_ENC_DENSE && b.len == HLL_DENSE_SIZE);
    CHECK(hll_dense_get(b.p + HLL_HDR_SIZE, 15571) == 36);
    CHECK(hll_add(&b, "86f8de7b", 8, 3000) == 0);
    hll_free(&b);
}

static void test_counts(void) {
    hll_buf b;
    hll_new(&b);
    char ele[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(ele, sizeof(ele), "e%d", i);
        hll_add(&b, ele, (size_t)n, 3000);
    }
    int invalid = 0;
    uint64_t c = hll_count(b.p, b.len, &invalid);
    CHECK(!invalid && c > 950 && c < 1050);
    hll_cache_set(b.p, c);
    uint64_t got;
    CHECK(hll_cache_get(b.p, &got) && got == c);
    hll_cache_invalidate(b.p);
    CHECK(!hll_cache_get(b.p, &got));
    uint8_t zero[HLL_REGISTERS] = {0};
    CHECK(hll_count_raw(zero) == 0);
    hll_free(&b);
}

static void test_corruption(void) {
    hll_buf b;
    hll_new(&b);
    hll_add(&b, "x", 1, 3000);
    CHECK(!hll_valid(b.p, 15));
    uint8_t bad[HLL_DENSE_SIZE];
    memcpy(bad, b.p, b.len);
    bad[4] = 2;
    CHECK(!hll_valid(bad, b.len));
    bad[4] = HLL_ENC_DENSE;
    CHECK(!hll_valid(bad, b.len));
    /* A sparse body covering too many registers. */
    uint8_t longer[64];
    memcpy(longer, b.p, b.len);
    longer[b.len] = 0x00; /* ZERO run of 1 past the end */
    int invalid = 0;
    hll_count(longer, b.len + 1, &invalid);
    CHECK(invalid);
    uint8_t max[HLL_REGISTERS] = {0};
    CHECK(hll_merge(max, longer, b.len + 1) < 0);
    /* Header only: nothing covers the registers. */
    strbuf *hsb = strbuf_new(NULL, 0, HLL_HDR_SIZE + 7);
    hll_buf h = {hsb, (uint8_t *)hsb->b, HLL_HDR_SIZE};
    memcpy(h.p, b.p, HLL_HDR_SIZE);
    h.p[HLL_HDR_SIZE] = 0;
    CHECK(hll_set(&h, 5, 3, 3000) == -1);
    CHECK(hll_to_dense(&h) == -1);
    hll_free(&h);
    hll_free(&b);
}

int main(void) {
    test_murmur();
    test_random_sets();
    test_big_register_promotes();
    test_counts();
    test_corruption();
    UNIT_DONE();
}
