/* lazyfree.c -- the background free thread (see lazyfree.h).
 *
 * The thread is started on first use and lives until the process exits.
 * Jobs run in FIFO order. Counters are atomics so INFO can read them from
 * any shard without taking the lock.
 */
#include "lazyfree.h"

#include "list.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct lf_job {
    struct lf_job *next;
    void (*fn)(void *arg);
    void *arg;
    size_t objects;
} lf_job;

static pthread_mutex_t lf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lf_wake = PTHREAD_COND_INITIALIZER; /* a job was queued */
static pthread_cond_t lf_idle = PTHREAD_COND_INITIALIZER; /* the queue ran dry */
static lf_job *lf_head, *lf_tail;
static int lf_running; /* a job is being run (lf_lock) */
static pthread_once_t lf_once = PTHREAD_ONCE_INIT;
static _Atomic size_t lf_pending;
static _Atomic uint64_t lf_freed;

static void *lf_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lf_lock);
    for (;;) {
        while (!lf_head) {
            lf_running = 0;
            pthread_cond_broadcast(&lf_idle);
            pthread_cond_wait(&lf_wake, &lf_lock);
        }
        lf_job *j = lf_head;
        lf_head = j->next;
        if (!lf_head) lf_tail = NULL;
        lf_running = 1;
        pthread_mutex_unlock(&lf_lock);
        j->fn(j->arg);
        atomic_fetch_sub_explicit(&lf_pending, j->objects, memory_order_relaxed);
        atomic_fetch_add_explicit(&lf_freed, j->objects, memory_order_relaxed);
        free(j);
        pthread_mutex_lock(&lf_lock);
    }
    return NULL;
}

static void lf_start(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, lf_main, NULL) != 0) abort();
    pthread_detach(t);
}

void lazyfree_job(void (*fn)(void *arg), void *arg, size_t objects) {
    pthread_once(&lf_once, lf_start);
    lf_job *j = malloc(sizeof(*j));
    if (!j) abort();
    *j = (lf_job){NULL, fn, arg, objects};
    atomic_fetch_add_explicit(&lf_pending, objects, memory_order_relaxed);
    pthread_mutex_lock(&lf_lock);
    if (lf_tail)
        lf_tail->next = j;
    else
        lf_head = j;
    lf_tail = j;
    pthread_cond_signal(&lf_wake);
    pthread_mutex_unlock(&lf_lock);
}

static void lf_free_obj(void *o) {
    obj_free(o);
}

size_t lazyfree_effort(const obj *o) {
    switch (o->type) {
    case OBJ_LIST:
        return list_ql(o)->nnodes;
    case OBJ_SET:
    case OBJ_HASH:
        return o->enc == OBJ_ENC_HT ? obj_elements(o) : 1;
    case OBJ_ZSET:
        return o->enc == OBJ_ENC_SKIPLIST ? obj_elements(o) : 1;
    default:
        return 1;
    }
}

void lazyfree_obj(obj *o) {
    if (o == NULL) return;
    if (lazyfree_effort(o) > LAZYFREE_THRESHOLD)
        lazyfree_job(lf_free_obj, o, 1);
    else
        obj_free(o);
}

size_t lazyfree_pending(void) {
    return atomic_load_explicit(&lf_pending, memory_order_relaxed);
}

uint64_t lazyfree_freed(void) {
    return atomic_load_explicit(&lf_freed, memory_order_relaxed);
}

void lazyfree_drain(void) {
    pthread_mutex_lock(&lf_lock);
    while (lf_head || lf_running)
        pthread_cond_wait(&lf_idle, &lf_lock);
    pthread_mutex_unlock(&lf_lock);
}
