/* expire_cron.h -- the per-shard active expiry cycle (expire_cron.c). */
#ifndef PERCORE_EXPIRE_CRON_H
#define PERCORE_EXPIRE_CRON_H

#include "cmd.h"

/* Run one active-expiry cycle on this shard's store: adaptive sampling of
 * keys with a TTL in every database within 25% of the cron period. Does
 * nothing while st->active_expire is 0. Call from the shard's own thread,
 * `hz` times a second (rt_ops.shard_cron). */
void expire_cron(shard_state *ss);

#endif
