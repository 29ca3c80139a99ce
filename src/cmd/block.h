/* block.h -- the blocking list and sorted-set commands (t_block.c) as seen by
 * the dispatcher: planning, the key-ready hook after writes, timeouts,
 * CLIENT UNBLOCK and INFO's count.
 *
 * Threading: every function runs on a shard thread and touches only that
 * shard's own tables (block_slots[id] is written by shard id only).
 */
#ifndef PERCORE_BLOCK_H
#define PERCORE_BLOCK_H

#include "cmd.h"

#define BLOCK_MAX_SHARDS 1024 /* the `threads` setting's maximum */

/* Per-shard counter of waiter registrations on that shard's keys, padded to
 * a cache line: the write hook tests it on every command. */
typedef struct block_slot {
    long nreg;
    struct bshard *tab; /* t_block.c's tables of this shard, NULL until used */
    char pad[64 - sizeof(long) - sizeof(void *)];
} block_slot;
extern block_slot block_slots[BLOCK_MAX_SHARDS];

/* prepare(): turn a blocking command outside MULTI into a transaction over
 * its keys' shards (even when they are on one shard), so it can wait. keys
 * are argv indexes (borrowed; may share the shard's plan buffer). Returns 1
 * if the plan was set, 0 if cmd is not one of the blocking commands. */
int block_plan(rt_shard *home, const cmd_def *cmd, int argc, const rt_arg *argv, const int *keys,
               int nkeys, rt_plan *plan);

/* After a command body or tx op on c's shard (dirty_before: the shard's
 * dirty counter before it ran); does nothing unless the command is a write
 * or the counter moved. Wakes the first
 * waiter of every key it touched that now holds what its waiters wait for.
 * Call only when block_slots[shard].nreg != 0. */
void block_after_write(rt_ctx *c, uint64_t dirty_before);

/* The shard cron: time out waiters whose deadline passed and clean up the
 * ones whose connection closed. */
void block_cron(rt_shard *s);

/* How block_unblock ends a wait: as a timeout (null reply), with the
 * UNBLOCKED error, or silently (CLIENT KILL: the connection is closing). */
enum { BLOCK_END_TIMEOUT = 1, BLOCK_END_ERROR = 2, BLOCK_END_KILL = 3 };
/* CLIENT UNBLOCK / KILL on shard s: if a client with this id waits in a
 * blocking command whose home is s, end its wait as `how` says. Returns 1
 * if one was found. */
int block_unblock(rt_shard *s, uint64_t client_id, int how);

/* Clients waiting in a blocking command, whole process (relaxed). */
long block_count(void);
/* ... of them with a timeout (INFO clients_in_timeout_table). */
long block_timed_count(void);

/* Free shard id's tables at teardown (after its connections closed). */
void block_shard_free(int shard_id);

#endif
