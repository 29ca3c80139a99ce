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
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "cmd_meta.h"
#include "handlers.h"

/* Columns: name, arity, flags, first_key, last_key, key_step, getkeys,
 * route, proc, multi, route_fn, subs, meta, id, parent (the last three are
 * filled in by cmd_table_init). */
static cmd_def object_subs[] = {
    {"encoding", 3, CMD_READONLY, 2, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_object_encoding, NULL, NULL, NULL, NULL, 0, NULL},
    {"refcount", 3, CMD_READONLY, 2, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_object_refcount, NULL, NULL, NULL, NULL, 0, NULL},
    {"idletime", 3, CMD_READONLY, 2, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_object_idletime, NULL, NULL, NULL, NULL, 0, NULL},
    {"freq", 3, CMD_READONLY, 2, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_object_freq, NULL, NULL, NULL, NULL, 0, NULL},
    {"help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_object_help, NULL, NULL, NULL, NULL, 0, NULL},
    {NULL},
};

static cmd_def memory_subs[] = {
    {"usage", -3, CMD_READONLY, 2, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_memory_usage, NULL, NULL, NULL, NULL, 0, NULL},
    {"help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_memory_help, NULL, NULL, NULL, NULL, 0, NULL},
    {NULL},
};

static cmd_def client_subs[] = {
    {"id", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_id, NULL, NULL, NULL, NULL, 0, NULL},
    {"setname", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_setname, NULL, NULL, NULL, NULL, 0, NULL},
    {"getname", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_getname, NULL, NULL, NULL, NULL, 0, NULL},
    {"setinfo", 4, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_setinfo, NULL, NULL, NULL, NULL, 0, NULL},
    {"info", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_info, NULL, NULL, NULL, NULL, 0, NULL},
    {"reply", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_reply, NULL, NULL, NULL, NULL, 0, NULL},
    {"no-evict", 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_no_evict, NULL, NULL, NULL, NULL, 0, NULL},
    {"unblock", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_unblock, NULL, NULL, NULL, NULL, 0, NULL},
    {"help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_client_help, NULL, NULL, NULL, NULL, 0, NULL},
    {"list", -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_client_list_multi, NULL, NULL, NULL, 0, NULL},
    {"kill", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_client_kill_multi, NULL, NULL, NULL, 0, NULL},
    {"pause", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_client_pause_multi, NULL, NULL, NULL, 0, NULL},
    {"unpause", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_client_unpause_multi, NULL, NULL, NULL, 0, NULL},
    {NULL},
};

static cmd_def command_subs[] = {
    {"count", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_count, NULL, NULL, NULL, NULL, 0, NULL},
    {"info", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_info, NULL, NULL, NULL, NULL, 0, NULL},
    {"docs", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_docs, NULL, NULL, NULL, NULL, 0, NULL},
    {"list", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_list, NULL, NULL, NULL, NULL, 0, NULL},
    {"getkeys", -4, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_getkeys, NULL, NULL, NULL, NULL, 0, NULL},
    {"help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command_help, NULL, NULL, NULL, NULL, 0, NULL},
    {NULL},
};

static cmd_def config_subs[] = {
    {"get", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_config_get, NULL, NULL, NULL, NULL, 0, NULL},
    {"set", -4, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_config_set, NULL, NULL, NULL, NULL, 0, NULL},
    {"resetstat", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_config_resetstat, NULL, NULL, NULL, NULL, 0, NULL},
    {"rewrite", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_config_rewrite, NULL, NULL, NULL, NULL, 0, NULL},
    {"help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_config_help, NULL, NULL, NULL, NULL, 0, NULL},
    {NULL},
};

static cmd_def cmd_table[] = {
    {"get", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_get, NULL, NULL, NULL, NULL, 0, NULL},
    {"set", -3, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_set, NULL, NULL, NULL, NULL, 0, NULL},
    {"setnx", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_setnx, NULL, NULL, NULL, NULL, 0, NULL},
    {"setex", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_setex, NULL, NULL, NULL, NULL, 0, NULL},
    {"psetex", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_psetex, NULL, NULL, NULL, NULL, 0, NULL},
    {"getex", -2, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getex, NULL, NULL, NULL, NULL, 0, NULL},
    {"getdel", 2, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getdel, NULL, NULL, NULL, NULL, 0, NULL},
    {"getset", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getset, NULL, NULL, NULL, NULL, 0, NULL},
    {"mget", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, NULL, CMD_ROUTE_KEYS, cmd_mget, cmd_mget_multi, NULL, NULL, NULL, 0, NULL},
    {"mset", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, NULL, CMD_ROUTE_KEYS, cmd_mset, cmd_mset_multi, NULL, NULL, NULL, 0, NULL},
    {"msetnx", -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, NULL, CMD_ROUTE_KEYS, cmd_msetnx, cmd_msetnx_multi, NULL, NULL, NULL, 0, NULL},
    {"append", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_append, NULL, NULL, NULL, NULL, 0, NULL},
    {"strlen", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_strlen, NULL, NULL, NULL, NULL, 0, NULL},
    {"getrange", 4, CMD_READONLY, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getrange, NULL, NULL, NULL, NULL, 0, NULL},
    {"substr", 4, CMD_READONLY, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getrange, NULL, NULL, NULL, NULL, 0, NULL},
    {"setrange", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_setrange, NULL, NULL, NULL, NULL, 0, NULL},
    {"incr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_incr, NULL, NULL, NULL, NULL, 0, NULL},
    {"decr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_decr, NULL, NULL, NULL, NULL, 0, NULL},
    {"incrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_incrby, NULL, NULL, NULL, NULL, 0, NULL},
    {"decrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_decrby, NULL, NULL, NULL, NULL, 0, NULL},
    {"incrbyfloat", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_incrbyfloat, NULL, NULL, NULL, NULL, 0, NULL},
    {"lcs", -3, CMD_READONLY, 1, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_lcs, cmd_lcs_multi, NULL, NULL, NULL, 0, NULL},
    {"setbit", 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_setbit, NULL, NULL, NULL, NULL, 0, NULL},
    {"getbit", 3, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_getbit, NULL, NULL, NULL, NULL, 0, NULL},
    {"bitcount", -2, CMD_READONLY, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_bitcount, NULL, NULL, NULL, NULL, 0, NULL},
    {"bitpos", -3, CMD_READONLY, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_bitpos, NULL, NULL, NULL, NULL, 0, NULL},
    {"bitop", -4, CMD_WRITE | CMD_DENYOOM, 2, -1, 1, keys_bitop, CMD_ROUTE_KEYS, cmd_bitop, cmd_bitop_multi, NULL, NULL, NULL, 0, NULL},
    {"bitfield", -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_bitfield, NULL, NULL, NULL, NULL, 0, NULL},
    {"bitfield_ro", -2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_bitfield_ro, NULL, NULL, NULL, NULL, 0, NULL},
    {"del", -2, CMD_WRITE, 1, -1, 1, NULL, CMD_ROUTE_KEYS, cmd_del, cmd_del_multi, NULL, NULL, NULL, 0, NULL},
    {"unlink", -2, CMD_WRITE | CMD_FAST, 1, -1, 1, NULL, CMD_ROUTE_KEYS, cmd_unlink, cmd_unlink_multi, NULL, NULL, NULL, 0, NULL},
    {"exists", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, NULL, CMD_ROUTE_KEYS, cmd_exists, cmd_exists_multi, NULL, NULL, NULL, 0, NULL},
    {"touch", -2, CMD_READONLY | CMD_FAST, 1, -1, 1, NULL, CMD_ROUTE_KEYS, cmd_touch, cmd_touch_multi, NULL, NULL, NULL, 0, NULL},
    {"type", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_type, NULL, NULL, NULL, NULL, 0, NULL},
    {"expire", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_expire, NULL, NULL, NULL, NULL, 0, NULL},
    {"pexpire", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_pexpire, NULL, NULL, NULL, NULL, 0, NULL},
    {"expireat", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_expireat, NULL, NULL, NULL, NULL, 0, NULL},
    {"pexpireat", -3, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_pexpireat, NULL, NULL, NULL, NULL, 0, NULL},
    {"ttl", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_ttl, NULL, NULL, NULL, NULL, 0, NULL},
    {"pttl", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_pttl, NULL, NULL, NULL, NULL, 0, NULL},
    {"expiretime", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_expiretime, NULL, NULL, NULL, NULL, 0, NULL},
    {"pexpiretime", 2, CMD_READONLY | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_pexpiretime, NULL, NULL, NULL, NULL, 0, NULL},
    {"persist", 2, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_persist, NULL, NULL, NULL, NULL, 0, NULL},
    {"keys", 2, CMD_READONLY, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_keys_multi, NULL, NULL, NULL, 0, NULL},
    {"scan", -2, CMD_READONLY, 0, 0, 0, NULL, CMD_ROUTE_CUSTOM, cmd_scan, NULL, route_scan, NULL, NULL, 0, NULL},
    {"randomkey", 1, CMD_READONLY, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_randomkey_multi, NULL, NULL, NULL, 0, NULL},
    {"dbsize", 1, CMD_READONLY | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_dbsize_multi, NULL, NULL, NULL, 0, NULL},
    {"flushdb", -1, CMD_WRITE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_flushdb_multi, NULL, NULL, NULL, 0, NULL},
    {"flushall", -1, CMD_WRITE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_flushall_multi, NULL, NULL, NULL, 0, NULL},
    {"swapdb", 3, CMD_WRITE | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_swapdb_multi, NULL, NULL, NULL, 0, NULL},
    {"rename", 3, CMD_WRITE, 1, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_rename, cmd_rename_multi, NULL, NULL, NULL, 0, NULL},
    {"renamenx", 3, CMD_WRITE | CMD_FAST, 1, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_renamenx, cmd_renamenx_multi, NULL, NULL, NULL, 0, NULL},
    {"copy", -3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, NULL, CMD_ROUTE_KEYS, cmd_copy, cmd_copy_multi, NULL, NULL, NULL, 0, NULL},
    {"move", 3, CMD_WRITE | CMD_FAST, 1, 1, 1, NULL, CMD_ROUTE_KEYS, cmd_move, NULL, NULL, NULL, NULL, 0, NULL},
    {"object", -2, 0, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, NULL, NULL, NULL, object_subs, NULL, 0, NULL},
    {"memory", -2, 0, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, NULL, NULL, NULL, memory_subs, NULL, 0, NULL},
    {"ping", -1, CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_ping, NULL, NULL, NULL, NULL, 0, NULL},
    {"echo", 2, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_echo, NULL, NULL, NULL, NULL, 0, NULL},
    {"quit", -1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_quit, NULL, NULL, NULL, NULL, 0, NULL},
    {"reset", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_reset, NULL, NULL, NULL, NULL, 0, NULL},
    {"hello", -1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_hello, NULL, NULL, NULL, NULL, 0, NULL},
    {"auth", -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_auth, NULL, NULL, NULL, NULL, 0, NULL},
    {"select", 2, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_select, NULL, NULL, NULL, NULL, 0, NULL},
    {"client", -2, 0, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, NULL, NULL, NULL, client_subs, NULL, 0, NULL},
    {"info", -1, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_ALL, NULL, cmd_info_multi, NULL, NULL, NULL, 0, NULL},
    {"time", 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_time, NULL, NULL, NULL, NULL, 0, NULL},
    {"lastsave", 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_lastsave, NULL, NULL, NULL, NULL, 0, NULL},
    {"shutdown", -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_shutdown, NULL, NULL, NULL, NULL, 0, NULL},
    {"monitor", 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_monitor, NULL, NULL, NULL, NULL, 0, NULL},
    {"debug", -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_CUSTOM, cmd_debug, NULL, route_debug, NULL, NULL, 0, NULL},
    {"command", -1, CMD_LOADING | CMD_STALE, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, cmd_command, NULL, NULL, command_subs, NULL, 0, NULL},
    {"config", -2, 0, 0, 0, 0, NULL, CMD_ROUTE_LOCAL, NULL, NULL, NULL, config_subs, NULL, 0, NULL},
    {NULL},
};

/* Lookup index: open addressing over a power-of-two table of pointers into
 * cmd_table, keyed by a case-folded FNV-1a hash of the name. Twice the size
 * of the command count keeps probe chains to one or two slots. */
#define CMD_HASH_SLOTS 256
typedef struct cmd_slot {
    const cmd_def *cmd; /* NULL: empty slot */
    uint32_t hash;      /* full hash of the name, checked before the bytes */
    uint32_t len;       /* strlen(cmd->name) */
} cmd_slot;
static cmd_slot cmd_hash[CMD_HASH_SLOTS];
static const cmd_def *cmd_top[sizeof(cmd_table) / sizeof(cmd_table[0])];
static size_t cmd_name_max;
static int cmd_nids;
static int cmd_ready;

static inline unsigned char cmd_fold(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + 32) : ch;
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

/* Hand out ids, set parents and meta, and build the lookup index. Call once
 * before any other function of this file (later calls do nothing). */
void cmd_table_init(void) {
    if (cmd_ready)
        return;
    int ntop = 0;
    for (cmd_def *c = cmd_table; c->name; c++) {
        c->id = cmd_nids++;
        c->parent = NULL;
        cmd_attach_meta(c);
        cmd_top[ntop++] = c;
        size_t len = strlen(c->name);
        if (len > cmd_name_max)
            cmd_name_max = len;
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
    cmd_ready = 1;
}

const cmd_def *cmd_lookup(const char *name, size_t len) {
    if (len == 0 || len > cmd_name_max)
        return NULL;
    uint32_t h = cmd_hash_name(name, len);
    for (uint32_t slot = h & (CMD_HASH_SLOTS - 1); cmd_hash[slot].cmd;
         slot = (slot + 1) & (CMD_HASH_SLOTS - 1)) {
        const cmd_slot *e = &cmd_hash[slot];
        if (e->hash == h && e->len == len && strncasecmp(e->cmd->name, name, len) == 0)
            return e->cmd;
    }
    return NULL;
}

const cmd_def *cmd_lookup_sub(const cmd_def *parent, const char *name, size_t len) {
    if (!parent || !parent->subs)
        return NULL;
    for (const cmd_def *s = parent->subs; s->name; s++) {
        if (strlen(s->name) == len && strncasecmp(s->name, name, len) == 0)
            return s;
    }
    return NULL;
}

const cmd_def *const *cmd_all(void) { return cmd_top; }

int cmd_count_ids(void) { return cmd_nids; }

/* Writes "name" or "parent|name" into buf (truncated to cap, always
 * NUL-terminated) and returns buf. */
const char *cmd_fullname(const cmd_def *c, char *buf, size_t cap) {
    if (c->parent)
        snprintf(buf, cap, "%s|%s", c->parent->name, c->name);
    else
        snprintf(buf, cap, "%s", c->name);
    return buf;
}
