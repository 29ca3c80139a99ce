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

/* Values whose freeing effort exceeds this are freed in the background. */
#define LAZYFREE_THRESHOLD 64

/* The cost of freeing o in allocations, counted as Redis 7.0 counts it (so
 * INFO lazyfreed_objects agrees): a list's quicklist nodes, the elements of
 * a hashtable set or hash or of a skiplist sorted set, and 1 for everything
 * kept in one allocation (strings, listpacks, intsets). */
size_t lazyfree_effort(const obj *o);
/* Free o: in the background if its effort exceeds LAZYFREE_THRESHOLD, else
 * now. NULL is fine. */
void lazyfree_obj(obj *o);
/* Run fn(arg) on the background thread (any thread may call). */
void lazyfree_job(void (*fn)(void *arg), void *arg, size_t objects);
/* Objects queued and not yet freed; objects freed so far in the background. */
size_t lazyfree_pending(void);
uint64_t lazyfree_freed(void);
/* Wait until every queued job has run (shutdown, tests). */
void lazyfree_drain(void);

#endif
