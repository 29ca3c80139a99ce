/* test_lazyfree.c -- the background free thread: jobs from several threads
 * all run, in FIFO order per producer, and the counters add up. Also run
 * under TSan (the queue is the only lock-protected shared state). */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "store/lazyfree.h"
#include "store/list.h"
#include "store/set.h"
#include "unit.h"

#define PRODUCERS 4
#define JOBS 2000

static _Atomic int ran;
static int last_seen[PRODUCERS]; /* written by the background thread only */
static _Atomic int order_errors;

typedef struct job_arg {
    int producer;
    int seq;
} job_arg;

static void job(void *p) {
    job_arg *a = p;
    if (a->seq != last_seen[a->producer] + 1) atomic_fetch_add(&order_errors, 1);
    last_seen[a->producer] = a->seq;
    atomic_fetch_add(&ran, 1);
    free(a);
}

static void *producer(void *p) {
    int id = (int)(intptr_t)p;
    for (int i = 1; i <= JOBS; i++) {
        job_arg *a = malloc(sizeof(*a));
        a->producer = id;
        a->seq = i;
        lazyfree_job(job, a, 1);
    }
    return NULL;
}

int main(void) {
    /* Draining an idle (never started) queue returns at once. */
    lazyfree_drain();
    CHECK(lazyfree_pending() == 0);

    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    lazyfree_drain();
    CHECK(atomic_load(&ran) == PRODUCERS * JOBS);
    CHECK(atomic_load(&order_errors) == 0);
    CHECK(lazyfree_pending() == 0);
    CHECK(lazyfree_freed() == (uint64_t)(PRODUCERS * JOBS));

    /* A small value is freed on the spot; a NULL is ignored. */
    uint64_t before = lazyfree_freed();
    lazyfree_obj(obj_new_string("v", 1));
    lazyfree_obj(NULL);
    lazyfree_drain();
    CHECK(lazyfree_freed() == before);

    /* Effort counts allocations as Redis 7.0 does: a one-node list of 200
     * elements and an intset of 200 members are single allocations, freed on
     * the spot; a hashtable set of 200 members goes to the background. */
    obj *l = list_new(-2);
    for (int i = 0; i < 200; i++)
        list_push(l, LIST_TAIL, "e", 1);
    CHECK(list_ql(l)->nnodes == 1);
    CHECK(lazyfree_effort(l) == 1);
    obj *is = set_new();
    obj *ht = set_new();
    char buf[32];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof(buf), "%d", i);
        set_add(is, buf, (size_t)n, 512);
        n = snprintf(buf, sizeof(buf), "m%d", i);
        set_add(ht, buf, (size_t)n, 512);
    }
    CHECK(is->enc == OBJ_ENC_INTSET && lazyfree_effort(is) == 1);
    CHECK(ht->enc == OBJ_ENC_HT && lazyfree_effort(ht) == 200);
    lazyfree_obj(l);
    lazyfree_obj(is);
    lazyfree_drain();
    CHECK(lazyfree_freed() == before);
    lazyfree_obj(ht);
    lazyfree_drain();
    CHECK(lazyfree_freed() == before + 1);
    UNIT_DONE();
}
