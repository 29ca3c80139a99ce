/* cmd_table.c -- percore's one command table: every command and
 * subcommand with its arity, flags, legacy key range, routing and handlers,
 * plus the lookup functions the dispatcher calls for each request.
 *
 * The arity, flags and key positions equal those Redis 7.0 reports (the unit
 * test checks them against cmd_meta_refs, generated from a reference
 * server). cmd_table_init() runs once on the main thread before the shard
 * threads start; afterwards the table is read-only and every function here
 * is thread-safe and allocation-free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "cmd_meta.h"
#include "handlers.h"
#include "watch.h"

#include "cmd_rows.h"

static cmd_def object_subs[] = {
    KEYS("encoding", 3, CMD_READONLY, 2, 2, 1, cmd_object_encoding, NULL),
    KEYS("refcount", 3, CMD_READONLY, 2, 2, 1, cmd_object_refcount, NULL),
    KEYS("idletime", 3, CMD_READONLY, 2, 2, 1, cmd_object_idletime, NULL),
    KEYS("freq", 3, CMD_READONLY, 2, 2, 1, cmd_object_freq, NULL),
    LOCAL("help", 2, CMD_LOADING | CMD_STALE, cmd_object_help),
    END,
};

static cmd_def memory_subs[] = {
    KEYS("usage", -3, CMD_READONLY, 2, 2, 1, cmd_memory_usage, NULL),
    ALL("stats", 2, 0, cmd_memory_stats_multi),
    ALL("purge", 2, 0, cmd_memory_purge_multi),
    LOCAL("malloc-stats", 2, 0, cmd_memory_malloc_stats),
    LOCAL("help", 2, CMD_LOADING | CMD_STALE, cmd_memory_help),
    END,
};

static cmd_def client_subs[] = {
    LOCAL("id", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_id),
    LOCAL("setname", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_setname),
    LOCAL("getname", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_getname),
    LOCAL("setinfo", 4, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_setinfo),
    LOCAL("info", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_info),
    LOCAL("reply", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_reply),
    LOCAL("no-evict", 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_no_evict),
    ALL("unblock", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        cmd_client_unblock_multi),
    LOCAL("help", 2, CMD_LOADING | CMD_STALE, cmd_client_help),
    ALL("list", -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_list_multi),
    ALL("kill", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_kill_multi),
    ALL("pause", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_pause_multi),
    ALL("unpause", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_client_unpause_multi),
    END,
};

static cmd_def command_subs[] = {
    LOCAL("count", 2, CMD_LOADING | CMD_STALE, cmd_command_count),
    LOCAL("info", -2, CMD_LOADING | CMD_STALE, cmd_command_info),
    LOCAL("docs", -2, CMD_LOADING | CMD_STALE, cmd_command_docs),
    LOCAL("list", -2, CMD_LOADING | CMD_STALE, cmd_command_list),
    LOCAL("getkeys", -4, CMD_LOADING | CMD_STALE, cmd_command_getkeys),
    LOCAL("help", 2, CMD_LOADING | CMD_STALE, cmd_command_help),
    END,
};

static cmd_def config_subs[] = {
    LOCAL("get", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_config_get),
    ALL("set", -4, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_config_set_multi),
    ALL("resetstat", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        cmd_config_resetstat_multi),
    LOCAL("rewrite", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_config_rewrite),
    LOCAL("help", 2, CMD_LOADING | CMD_STALE, cmd_config_help),
    END,
};

static cmd_def cmd_table[] = {
    KEYS("get", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_get, NULL),
    KEYS("set", -3, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_set, NULL),
    KEYS("setnx", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_setnx, NULL),
    KEYS("setex", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_setex, NULL),
    KEYS("psetex", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_psetex, NULL),
    KEYS("getex", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_getex, NULL),
    KEYS("getdel", 2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_getdel, NULL),
    KEYS("getset", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_getset, NULL),
    KEYS1("mget", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, cmd_mget, op_mget_read, cmd_mget_done),
    KEYS1("mset", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, cmd_mset, op_mset_pairs, cmd_mset_done),
    KEYS("msetnx", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, cmd_msetnx, cmd_msetnx_multi),
    KEYS("append", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_append, NULL),
    KEYS("strlen", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_strlen, NULL),
    KEYS("getrange", 4, CMD_READONLY, 1, 1, 1, cmd_getrange, NULL),
    KEYS("substr", 4, CMD_READONLY, 1, 1, 1, cmd_getrange, NULL),
    KEYS("setrange", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_setrange, NULL),
    KEYS("incr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_incr, NULL),
    KEYS("decr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_decr, NULL),
    KEYS("incrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_incrby, NULL),
    KEYS("decrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_decrby, NULL),
    KEYS("incrbyfloat", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, cmd_incrbyfloat, NULL),
    KEYS("lcs", -3, CMD_READONLY, 1, 2, 1, cmd_lcs, cmd_lcs_multi),
    KEYS("setbit", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_setbit, NULL),
    KEYS("getbit", 3, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_getbit, NULL),
    KEYS("bitcount", -2, CMD_READONLY, 1, 1, 1, cmd_bitcount, NULL),
    KEYS("bitpos", -3, CMD_READONLY, 1, 1, 1, cmd_bitpos, NULL),
    KEYS_GK("bitop", -4, CMD_WRITE | CMD_DENYOOM, 2, -1, 1, cmd_bitop, cmd_bitop_multi, keys_bitop),
    KEYS("bitfield", -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_bitfield, NULL),
    KEYS("bitfield_ro", -2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_bitfield_ro, NULL),
    KEYS1("del", -2, CMD_WRITE, 1, -1, 1, cmd_del, op_del, cmd_count_done),
    KEYS1("unlink", -2, CMD_WRITE | CMD_FAST, 1, -1, 1, cmd_unlink, op_unlink, cmd_count_done),
    KEYS1("exists", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, cmd_exists, op_exists, cmd_count_done),
    KEYS1("touch", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, cmd_touch, op_touch, cmd_count_done),
    KEYS("type", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_type, NULL),
    KEYS("expire", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_expire, NULL),
    KEYS("pexpire", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_pexpire, NULL),
    KEYS("expireat", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_expireat, NULL),
    KEYS("pexpireat", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_pexpireat, NULL),
    KEYS("ttl", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_ttl, NULL),
    KEYS("pttl", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_pttl, NULL),
    KEYS("expiretime", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_expiretime, NULL),
    KEYS("pexpiretime", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, cmd_pexpiretime, NULL),
    KEYS("persist", 2, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_persist, NULL),
    ALL("keys", 2, CMD_READONLY, cmd_keys_multi),
    CUSTOM("scan", -2, CMD_READONLY, route_scan, cmd_scan),
    ALL("randomkey", 1, CMD_READONLY, cmd_randomkey_multi),
    ALL("dbsize", 1, CMD_READONLY | CMD_FAST, cmd_dbsize_multi),
    ALL("flushdb", -1, CMD_WRITE, cmd_flushdb_multi),
    ALL("flushall", -1, CMD_WRITE, cmd_flushall_multi),
    ALL("swapdb", 3, CMD_WRITE | CMD_FAST, cmd_swapdb_multi),
    KEYS("rename", 3, CMD_WRITE, 1, 2, 1, cmd_rename, cmd_rename_multi),
    KEYS("renamenx", 3, CMD_WRITE | CMD_FAST, 1, 2, 1, cmd_renamenx, cmd_renamenx_multi),
    KEYS("copy", -3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, cmd_copy, cmd_copy_multi),
    KEYS("move", 3, CMD_WRITE | CMD_FAST, 1, 1, 1, cmd_move, NULL),
    CONTAINER("object", -2, 0, NULL, object_subs),
    CONTAINER("memory", -2, 0, NULL, memory_subs),
    LOCAL("multi", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
          cmd_multi),
    ROW("watch", -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, 1, -1, 1,
        NULL, CMD_ROUTE_ALL, NULL, cmd_watch_multi, NULL, NULL),
    LOCAL("unwatch", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
          cmd_unwatch),
    ALL("exec", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG, cmd_exec_multi),
    LOCAL("discard", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
          cmd_discard),
    LOCAL("ping", -1, CMD_FAST, cmd_ping),
    LOCAL("echo", 2, CMD_LOADING | CMD_STALE | CMD_FAST, cmd_echo),
    LOCAL("quit", -1,
          CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
          cmd_quit),
    LOCAL("reset", 1,
          CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
          cmd_reset),
    LOCAL("hello", -1,
          CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
          cmd_hello),
    LOCAL("auth", -2,
          CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
          cmd_auth),
    LOCAL("select", 2, CMD_LOADING | CMD_STALE | CMD_FAST, cmd_select),
    CONTAINER("client", -2, 0, NULL, client_subs),
    ALL("info", -1, CMD_LOADING | CMD_STALE, cmd_info_multi),
    LOCAL("time", 1, CMD_LOADING | CMD_STALE | CMD_FAST, cmd_time),
    LOCAL("lastsave", 1, CMD_LOADING | CMD_STALE | CMD_FAST, cmd_lastsave),
    LOCAL("shutdown", -1,
          CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY,
          cmd_shutdown),
    LOCAL("monitor", 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, cmd_monitor),
    CUSTOM("debug", -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, route_debug, cmd_debug),
    CONTAINER("command", -1, CMD_LOADING | CMD_STALE, cmd_command, command_subs),
    CONTAINER("config", -2, 0, NULL, config_subs),
    END,
};

/* Lookup index: open addressing over a power-of-two table of pointers into
 * cmd_table, keyed by a case-folded FNV-1a hash of the name. Twice the size
 * of the command count keeps probe chains to one or two slots. */
#define CMD_HASH_SLOTS 1024
#define CMD_MAX_TOP 480
typedef struct cmd_slot {
    const cmd_def *cmd; /* NULL: empty slot */
    uint32_t hash;      /* full hash of the name, checked before the bytes */
    uint32_t len;       /* strlen(cmd->name) */
} cmd_slot;
static cmd_slot cmd_hash[CMD_HASH_SLOTS];
static const cmd_def *cmd_top[CMD_MAX_TOP + 1];
static size_t cmd_name_max;
static int cmd_nids;
static int cmd_ready;

static inline unsigned char cmd_fold(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + 32) : ch;
}

/* A table name (lower case) equals name[0..len) in any case; the caller
 * has checked the length. */
static inline int cmd_name_eq(const char *lower, const char *name, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (lower[i] != (char)cmd_fold((unsigned char)name[i])) return 0;
    return 1;
}

static inline uint32_t cmd_hash_name(const char *name, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= cmd_fold((unsigned char)name[i]);
        h *= 16777619u;
    }
    return h;
}

/* Attach the generated COMMAND INFO/DOCS facts of c (by full name). */
static void cmd_attach_meta(cmd_def *c) {
    char full[64];
    cmd_fullname(c, full, sizeof(full));
    for (const cmd_meta_ref *r = cmd_meta_refs; r->fullname; r++) {
        if (strcmp(r->fullname, full) == 0) {
            c->meta = r->meta;
            return;
        }
    }
}

/* The core table first, then each type's rows (cmd_rows.h). */
static cmd_def *const cmd_type_tables[] = {
    cmd_table,    cmd_rows_hash, cmd_rows_list, cmd_rows_set,   cmd_rows_zset,
    cmd_rows_hll, cmd_rows_geo,  cmd_rows_sort, cmd_rows_block,
};

/* Hand out ids, set parents and meta, and build the lookup index. Call once
 * before any other function of this file (later calls do nothing). */
void cmd_table_init(void) {
    if (cmd_ready) return;
    int ntop = 0;
    for (size_t t = 0; t < sizeof(cmd_type_tables) / sizeof(cmd_type_tables[0]); t++)
        for (cmd_def *c = cmd_type_tables[t]; c->name; c++) {
            if (ntop == CMD_MAX_TOP) abort();
            c->id = cmd_nids++;
            c->parent = NULL;
            cmd_attach_meta(c);
            cmd_top[ntop++] = c;
            size_t len = strlen(c->name);
            if (len > cmd_name_max) cmd_name_max = len;
            uint32_t h = cmd_hash_name(c->name, len);
            uint32_t slot = h & (CMD_HASH_SLOTS - 1);
            while (cmd_hash[slot].cmd)
                slot = (slot + 1) & (CMD_HASH_SLOTS - 1);
            cmd_hash[slot] = (cmd_slot){c, h, (uint32_t)len};
            for (cmd_def *s = (cmd_def *)c->subs; s && s->name; s++) {
                s->id = cmd_nids++;
                s->parent = c;
                cmd_attach_meta(s);
            }
        }
    cmd_top[ntop] = NULL;
    /* The index must keep free slots for probing to end. */
    if (2 * ntop > CMD_HASH_SLOTS) abort();
    cmd_ready = 1;
}

int cmd_key_positions(const cmd_def *cmd, int argc, rt_arg *argv, int *keys, rbuf *err) {
    if (cmd->getkeys) return cmd->getkeys(argc, argv, keys, err);
    int n = 0;
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    for (int i = cmd->first_key; i <= last && i < argc; i += step)
        keys[n++] = i;
    return n;
}

const cmd_def *cmd_lookup(const char *name, size_t len) {
    if (len == 0 || len > cmd_name_max) return NULL;
    uint32_t h = cmd_hash_name(name, len);
    for (uint32_t slot = h & (CMD_HASH_SLOTS - 1); cmd_hash[slot].cmd;
         slot = (slot + 1) & (CMD_HASH_SLOTS - 1)) {
        const cmd_slot *e = &cmd_hash[slot];
        if (e->hash == h && e->len == len && cmd_name_eq(e->cmd->name, name, len)) return e->cmd;
    }
    return NULL;
}

const cmd_def *cmd_lookup_sub(const cmd_def *parent, const char *name, size_t len) {
    if (!parent || !parent->subs) return NULL;
    for (const cmd_def *s = parent->subs; s->name; s++) {
        if (strlen(s->name) == len && strncasecmp(s->name, name, len) == 0) return s;
    }
    return NULL;
}

const cmd_def *const *cmd_all(void) {
    return cmd_top;
}

int cmd_count_ids(void) {
    return cmd_nids;
}

/* Writes "name" or "parent|name" into buf (truncated to cap, always
 * NUL-terminated) and returns buf. */
const char *cmd_fullname(const cmd_def *c, char *buf, size_t cap) {
    if (c->parent)
        snprintf(buf, cap, "%s|%s", c->parent->name, c->name);
    else
        snprintf(buf, cap, "%s", c->name);
    return buf;
}
