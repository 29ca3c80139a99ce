/* test_ring.c -- the SPSC ring: single-thread edge cases (empty, full,
 * wrap-around) and a two-thread run where the consumer must see every
 * value exactly once and in order. Also built and run under TSan, where
 * the acquire/release pairing is checked. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "rt/ring.h"
#include "unit.h"

#define N 2000000

static spsc_ring g_ring;

static void *producer(void *arg) {
    (void)arg;
    for (uintptr_t i = 1; i <= N; i++)
        while (ring_push(&g_ring, (void *)i) < 0)
            sched_yield();
    return NULL;
}

int main(void) {
    spsc_ring r;
    CHECK(ring_init(&r, 8) == 0);
    CHECK(ring_empty(&r));
    CHECK(ring_pop(&r) == NULL);
    /* Fill exactly to capacity; one more is refused. */
    for (uintptr_t i = 1; i <= 8; i++)
        CHECK(ring_push(&r, (void *)i) == 0);
    CHECK(ring_push(&r, (void *)9) == -1);
    CHECK(!ring_empty(&r));
    /* Wrap around many times, keeping FIFO order. */
    uintptr_t next_out = 1, next_in = 9;
    int order_ok = 1;
    for (int round = 0; round < 1000; round++) {
        for (int k = 0; k < 3; k++) {
            uintptr_t v = (uintptr_t)ring_pop(&r);
            if (v != next_out++) order_ok = 0;
        }
        for (int k = 0; k < 3; k++)
            CHECK(ring_push(&r, (void *)next_in++) == 0);
    }
    CHECK(order_ok);
    while (ring_pop(&r))
        next_out++;
    CHECK(next_out == next_in);
    CHECK(ring_empty(&r));
    ring_deinit(&r);

    /* Two threads: every value once, in order. */
    CHECK(ring_init(&g_ring, 1024) == 0);
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    uintptr_t expect = 1;
    int in_order = 1;
    while (expect <= N) {
        void *v = ring_pop(&g_ring);
        if (!v) continue;
        if ((uintptr_t)v != expect) in_order = 0;
        expect++;
    }
    pthread_join(t, NULL);
    CHECK(in_order);
    CHECK(ring_pop(&g_ring) == NULL);
    ring_deinit(&g_ring);
    UNIT_DONE();
}
