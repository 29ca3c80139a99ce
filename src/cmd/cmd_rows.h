/* cmd_rows.h -- the row builders of the command table. cmd_table.c holds
 * the core commands; each data type's module (t_hash.c, t_list.c ...) keeps
 * its own rows in a `cmd_def cmd_rows_<type>[]` array ended by END, which
 * cmd_table_init() merges into the one table (see cmd_type_tables in
 * cmd_table.c). Rows are read-only after cmd_table_init().
 */
#ifndef PERCORE_CMD_ROWS_H
#define PERCORE_CMD_ROWS_H

#include "cmd.h"

/* Row builders, one per route. The fields meta, id and parent of cmd_def
 * are filled in by cmd_table_init. */
#define ROWX(name, arity, flags, fk, lk, step, getkeys, route, proc, multi, route_fn, subs,        \
             first_op, first_done)                                                                 \
    {                                                                                              \
        name, arity, flags, fk, lk, step, getkeys, route, proc, multi, route_fn, subs, NULL, 0,    \
            NULL, first_op, first_done                                                             \
    }
#define ROW(name, arity, flags, fk, lk, step, getkeys, route, proc, multi, route_fn, subs)         \
    ROWX(name, arity, flags, fk, lk, step, getkeys, route, proc, multi, route_fn, subs, NULL, NULL)
/* Runs where its keys live (first/last/step); multi when they span shards. */
#define KEYS(name, arity, flags, fk, lk, step, proc, multi)                                        \
    ROW(name, arity, flags, fk, lk, step, NULL, CMD_ROUTE_KEYS, proc, multi, NULL, NULL)
/* As KEYS, with a one-step multi-shard body: first_op on every part, then
 * first_done on the coordinator (see cmd_def). */
#define KEYS1(name, arity, flags, fk, lk, step, proc, first_op, first_done)                        \
    ROWX(name, arity, flags, fk, lk, step, NULL, CMD_ROUTE_KEYS, proc, cmd_first_step_multi, NULL, \
         NULL, first_op, first_done)
/* As KEYS, with a function computing the key positions. */
#define KEYS_GK(name, arity, flags, fk, lk, step, proc, multi, getkeys)                            \
    ROW(name, arity, flags, fk, lk, step, getkeys, CMD_ROUTE_KEYS, proc, multi, NULL, NULL)
/* Runs on the connection's shard, with the connection. */
#define LOCAL(name, arity, flags, proc)                                                            \
    ROW(name, arity, flags, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, proc, NULL, NULL, NULL)
/* A transaction over every shard. */
#define ALL(name, arity, flags, multi)                                                             \
    ROW(name, arity, flags, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, multi, NULL, NULL)
/* route_fn picks the shard, proc runs there. */
#define CUSTOM(name, arity, flags, route_fn, proc)                                                 \
    ROW(name, arity, flags, 0, 0, 0, NULL, CMD_ROUTE_CUSTOM, proc, NULL, route_fn, NULL)
/* A command with subcommands; proc (if any) serves the bare command. */
#define CONTAINER(name, arity, flags, proc, subs)                                                  \
    ROW(name, arity, flags, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, proc, NULL, NULL, subs)
#define END ROW(NULL, 0, 0, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL)

/* The per-type tables (cmd_table.c lists them in cmd_type_tables). */
extern cmd_def cmd_rows_hash[], cmd_rows_list[], cmd_rows_set[], cmd_rows_zset[], cmd_rows_hll[],
    cmd_rows_geo[], cmd_rows_sort[], cmd_rows_block[];

#endif
