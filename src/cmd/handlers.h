/* handlers.h -- prototypes of every command handler the command table
 * (cmd_table.c) points at, grouped by the file that defines them.
 *
 * cmd_<name>(ctx) is the single-shard (or connection-local) body and runs
 * on the shard that owns the keys; cmd_<name>_multi(tx) is the multi-shard
 * body and runs on the coordinating shard; keys_<name> computes key
 * positions that depend on the arguments; route_<name> picks the shard of a
 * CMD_ROUTE_CUSTOM command. A subcommand's handler is
 * cmd_<parent>_<sub> with '-' written '_'. SUBSTR shares cmd_getrange.
 */
#ifndef PERCORE_CMD_HANDLERS_H
#define PERCORE_CMD_HANDLERS_H

#include "../resp/resp.h"
#include "../rt/rt.h"

/* Strings (t_string.c). */
void cmd_get(rt_ctx *c);
void cmd_set(rt_ctx *c);
void cmd_setnx(rt_ctx *c);
void cmd_setex(rt_ctx *c);
void cmd_psetex(rt_ctx *c);
void cmd_getex(rt_ctx *c);
void cmd_getdel(rt_ctx *c);
void cmd_getset(rt_ctx *c);
void cmd_mget(rt_ctx *c);
void op_mget_read(rt_ctx *c);
void cmd_mget_done(rt_tx *tx);
void cmd_mset(rt_ctx *c);
void op_mset_pairs(rt_ctx *c);
void cmd_mset_done(rt_tx *tx);
void cmd_msetnx(rt_ctx *c);
void cmd_msetnx_multi(rt_tx *tx);
void cmd_append(rt_ctx *c);
void cmd_strlen(rt_ctx *c);
void cmd_getrange(rt_ctx *c);
void cmd_setrange(rt_ctx *c);
void cmd_incr(rt_ctx *c);
void cmd_decr(rt_ctx *c);
void cmd_incrby(rt_ctx *c);
void cmd_decrby(rt_ctx *c);
void cmd_incrbyfloat(rt_ctx *c);
void cmd_lcs(rt_ctx *c);
void cmd_lcs_multi(rt_tx *tx);
void cmd_setbit(rt_ctx *c);
void cmd_getbit(rt_ctx *c);
void cmd_bitcount(rt_ctx *c);
void cmd_bitpos(rt_ctx *c);
void cmd_bitop(rt_ctx *c);
void cmd_bitop_multi(rt_tx *tx);
int keys_bitop(int argc, rt_arg *argv, int *keys, rbuf *err);
void cmd_bitfield(rt_ctx *c);
void cmd_bitfield_ro(rt_ctx *c);

/* Keyspace (t_keyspace.c). */
void cmd_del(rt_ctx *c);
void op_del(rt_ctx *c);
void cmd_unlink(rt_ctx *c);
void op_unlink(rt_ctx *c);
void cmd_exists(rt_ctx *c);
void op_exists(rt_ctx *c);
void cmd_touch(rt_ctx *c);
void op_touch(rt_ctx *c);
void cmd_count_done(rt_tx *tx);
void cmd_type(rt_ctx *c);
void cmd_expire(rt_ctx *c);
void cmd_pexpire(rt_ctx *c);
void cmd_expireat(rt_ctx *c);
void cmd_pexpireat(rt_ctx *c);
void cmd_ttl(rt_ctx *c);
void cmd_pttl(rt_ctx *c);
void cmd_expiretime(rt_ctx *c);
void cmd_pexpiretime(rt_ctx *c);
void cmd_persist(rt_ctx *c);
void cmd_keys_multi(rt_tx *tx);
void cmd_scan(rt_ctx *c);
int route_scan(rt_shard *home, int argc, rt_arg *argv, rbuf *err);
void cmd_randomkey_multi(rt_tx *tx);
void cmd_dbsize_multi(rt_tx *tx);
void cmd_flushdb_multi(rt_tx *tx);
void cmd_flushall_multi(rt_tx *tx);
void cmd_swapdb_multi(rt_tx *tx);
void cmd_rename(rt_ctx *c);
void cmd_rename_multi(rt_tx *tx);
void cmd_renamenx(rt_ctx *c);
void cmd_renamenx_multi(rt_tx *tx);
void cmd_copy(rt_ctx *c);
void cmd_copy_multi(rt_tx *tx);
void cmd_move(rt_ctx *c);
void cmd_object_encoding(rt_ctx *c);
void cmd_object_freq(rt_ctx *c);
void cmd_object_help(rt_ctx *c);
void cmd_object_idletime(rt_ctx *c);
void cmd_object_refcount(rt_ctx *c);
void cmd_memory_help(rt_ctx *c);
void cmd_memory_usage(rt_ctx *c);
void cmd_memory_malloc_stats(rt_ctx *c);
void cmd_memory_stats_multi(rt_tx *tx);
void cmd_memory_purge_multi(rt_tx *tx);

/* Connection (c_conn.c) and server (c_server.c). */
void cmd_ping(rt_ctx *c);
void cmd_echo(rt_ctx *c);
void cmd_quit(rt_ctx *c);
void cmd_reset(rt_ctx *c);
void cmd_hello(rt_ctx *c);
void cmd_auth(rt_ctx *c);
void cmd_select(rt_ctx *c);
void cmd_client_getname(rt_ctx *c);
void cmd_client_help(rt_ctx *c);
void cmd_client_id(rt_ctx *c);
void cmd_client_info(rt_ctx *c);
void cmd_client_kill_multi(rt_tx *tx);
void cmd_client_list_multi(rt_tx *tx);
void cmd_client_no_evict(rt_ctx *c);
void cmd_client_pause_multi(rt_tx *tx);
void cmd_client_reply(rt_ctx *c);
void cmd_client_setinfo(rt_ctx *c);
void cmd_client_setname(rt_ctx *c);
void cmd_client_unblock_multi(rt_tx *tx);
void cmd_client_unpause_multi(rt_tx *tx);
void cmd_info_multi(rt_tx *tx);
void cmd_time(rt_ctx *c);
void cmd_lastsave(rt_ctx *c);
void cmd_shutdown(rt_ctx *c);
void cmd_monitor(rt_ctx *c);
void cmd_debug(rt_ctx *c);
int route_debug(rt_shard *home, int argc, rt_arg *argv, rbuf *err);

/* COMMAND (c_command.c). */
void cmd_command(rt_ctx *c);
void cmd_command_count(rt_ctx *c);
void cmd_command_docs(rt_ctx *c);
void cmd_command_getkeys(rt_ctx *c);
void cmd_command_help(rt_ctx *c);
void cmd_command_info(rt_ctx *c);
void cmd_command_list(rt_ctx *c);

/* CONFIG (c_config.c). */
void cmd_config_get(rt_ctx *c);
void cmd_config_help(rt_ctx *c);
void cmd_config_resetstat_multi(rt_tx *tx);
void cmd_config_rewrite(rt_ctx *c);
void cmd_config_set_multi(rt_tx *tx);

/* Transactions (dispatch.c). */
void cmd_multi(rt_ctx *c);
void cmd_discard(rt_ctx *c);
void cmd_exec_multi(rt_tx *tx);

#endif
