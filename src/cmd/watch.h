/* watch.h -- WATCH/UNWATCH: optimistic locking for MULTI/EXEC across shards.
 *
 * Each shard keeps a table of the keys some client watches (db + key ->
 * version and a reference count). A write that changes a key on the shard
 * bumps the key's version if it is watched. WATCH registers its keys on
 * their shards and keeps, in the client's state on its home shard, the
 * version and existence of each key at that moment. EXEC takes the shards
 * of the watched keys together with those of the queued commands and, with
 * all of them held, compares: a changed version, or a key that existed and
 * is now gone (it expired), aborts the transaction (null reply). EXEC,
 * DISCARD, UNWATCH, RESET and disconnection drop the client's watches.
 *
 * Which writes count: a command (or a transaction op) that changed data on
 * a shard (it raised the shard's dirty counter) touches every key of its
 * arguments that lives there and that it may write (its key specs say which:
 * the sources of SINTERSTORE, COPY ... are only read); FLUSHDB/FLUSHALL/
 * SWAPDB touch the watched keys they affect. As in Redis, a command that
 * changed nothing touches nothing, but for the few writes Redis signals
 * anyway (watch_touch_key).
 *
 * Threading: a shard's table is used only on that shard's thread; a
 * client's list only on its home shard's thread (or by the EXEC transaction
 * that took it over). Registration and release travel as transaction ops
 * or broadcasts, so they are ordered with the client's other requests.
 */
#ifndef PERCORE_WATCH_H
#define PERCORE_WATCH_H

#include <stdint.h>

#include "cmd.h"

/* A client's watched keys (client_state.watch). */
typedef struct watch_key {
    int db;
    int shard;
    uint64_t version; /* the key's version when it was watched */
    int existed;      /* it held a live value then */
    uint32_t klen;
    char *key;
} watch_key;

typedef struct watch_list {
    int n, cap;
    watch_key *k;
} watch_list;

/* After a command body or tx op ran on c's shard: if it changed data
 * (ss->dirty moved past dirty_before), touch its keys that live here and
 * that it may write. */
void watch_after_write(rt_ctx *c, const cmd_def *cmd, int argc, rt_arg *argv, int db,
                       uint64_t dirty_before);
/* Touch key of database db on c's shard whatever the dirty counter did:
 * for the writes Redis signals although they change nothing (LTRIM that
 * trims nothing), whose change is counted on another shard (the push half
 * of a cross-shard LMOVE) or that write another database than the client's
 * (MOVE, COPY ... DB n). */
void watch_touch_key(rt_ctx *c, int db, const rt_arg *key);
/* As watch_touch_key, for a command that writes only that key: the touch
 * after it by its arguments (watch_after_write, which would see the
 * client's database) is skipped. COPY src dst DB n writes dst in db n only. */
void watch_touch_key_only(rt_ctx *c, int db, const rt_arg *key);
/* Touch every watched key of database db (all databases when db < 0) that
 * holds a live value: FLUSHDB/FLUSHALL, before the flush. */
void watch_touch_db(shard_state *ss, int db);
/* SWAPDB a b: touch the watched keys of a and b that are live in either. */
void watch_touch_swapdb(shard_state *ss, int a, int b);
/* Drop the client's watches (home shard thread): released on their shards
 * asynchronously; the list is emptied. */
void watch_forget(rt_shard *home, client_state *cs);
/* Free a shard's table (shard_free). */
void watch_table_free(shard_state *ss);

/* EXEC support. The list moves from the client to the transaction, which
 * runs watch_exec_check_op on each of its shards: it compares and releases
 * that shard's watched keys and adds the number of changed ones to the
 * part's n. watch_list_free frees the list afterwards. */
void watch_exec_check_op(rt_ctx *c, const watch_list *wl);
void watch_list_free(watch_list *wl);

/* The commands. */
void cmd_watch_multi(rt_tx *tx);
void cmd_unwatch(rt_ctx *c);

#endif
