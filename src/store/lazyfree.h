/* lazyfree.h -- freeing big values off the shard threads.
 *
 * UNLINK and FLUSHDB/FLUSHALL ASYNC promise not to stall the server on a
 * big value: freeing a hash of a million fields means a million free()
 * calls. Such values are handed to one background thread of the process;
 * small ones are freed on the spot, where that is cheaper than the handoff.
 *
 * The handoff is the only shared state: a mutex-protected FIFO of jobs
 * and a condition variable. It is off the hot path (only values above the
 * threshold and whole-database flushes go through it). A job owns what it
 * frees; nothing else may reference it once queued.
 */
#ifndef PERCORE_LAZYFREE_H
#define PERCORE_LAZYFREE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Values with more elements than this are freed in the background. */
#define LAZYFREE_THRESHOLD 64

/* Free o: in the background if it is big, else now. NULL is fine. */
void lazyfree_obj(obj *o);
/* Run fn(arg) on the background thread (any thread may call). */
void lazyfree_job(void (*fn)(void *arg), void *arg, size_t objects);
/* Objects queued and not yet freed; objects freed so far in the background. */
size_t lazyfree_pending(void);
uint64_t lazyfree_freed(void);
/* Wait until every queued job has run (shutdown, tests). */
void lazyfree_drain(void);

#endif
