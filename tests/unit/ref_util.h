/* ref_util.h -- the random source of the reference-model unit tests
 * (test_hash, test_set, test_list, test_zset): a xorshift64 generator,
 * deterministic so a failure replays. A test defines REF_SEED (nonzero)
 * before including this header; each test binary has its own state.
 * Single-threaded. */
#ifndef PERCORE_REF_UTIL_H
#define PERCORE_REF_UTIL_H

#include <stdint.h>

#ifndef REF_SEED
#error "define REF_SEED before including ref_util.h"
#endif

static uint64_t rng_state = REF_SEED;

/* The next value of the sequence. */
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#endif
