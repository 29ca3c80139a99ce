/* config_int.h -- what the CONFIG command (c_config.c) needs from config.c
 * beyond the public contract in config.h. Same threading as config.h.
 */
#ifndef PERCORE_CONFIG_INT_H
#define PERCORE_CONFIG_INT_H

#include <stddef.h>

#include "../rt/rt.h"
#include "config.h"

/* CONFIG SET's first pass over one name: unknown, immutable and protected
 * parameters are refused with Redis's reply text in err. Returns 0 or -1. */
int config_check_name(const char *name, char *err, size_t errlen);

/* Copy the settings the runtime enforces (hz, maxclients, timeouts, protocol
 * and buffer limits) from c into rc (a shard's rt_shard_cfg(), on that shard's thread). */
void config_apply_runtime(const config *c, rt_config *rc);

#endif
