/* info.c -- INFO [section ...]: Redis 7.0's report, gathered from every
 * shard.
 *
 * INFO is a CMD_ROUTE_ALL transaction. The coordinator (the caller's home
 * shard) parses the section names; an op on every shard copies that shard's
 * counters (keys per database, hits, misses, commands, per-command
 * statistics, connections) into its own slot of the request; the
 * coordinator then sums the slots and formats the sections with Redis 7.0's
 * names and order. Process-wide facts (memory, CPU, uptime) are read on the
 * coordinator. percore adds one field, percore_version, to the server
 * section.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/alloc.h"
#include "../server/version.h"
#include "../store/lazyfree.h"
#include "cmd.h"
#include "../ds/lathist.h"
#include "block.h"
#include "handlers.h"

enum {
    SEC_SERVER = 1 << 0,
    SEC_CLIENTS = 1 << 1,
    SEC_MEMORY = 1 << 2,
    SEC_PERSISTENCE = 1 << 3,
    SEC_STATS = 1 << 4,
    SEC_REPLICATION = 1 << 5,
    SEC_CPU = 1 << 6,
    SEC_MODULES = 1 << 7,
    SEC_COMMANDSTATS = 1 << 8,
    SEC_ERRORSTATS = 1 << 9,
    SEC_LATENCYSTATS = 1 << 10,
    SEC_CLUSTER = 1 << 11,
    SEC_KEYSPACE = 1 << 12,
};

#define SEC_DEFAULT                                                                                \
    (SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | SEC_REPLICATION |       \
     SEC_CPU | SEC_MODULES | SEC_ERRORSTATS | SEC_CLUSTER | SEC_KEYSPACE)
#define SEC_ALL (SEC_DEFAULT | SEC_COMMANDSTATS | SEC_LATENCYSTATS)

static const struct {
    const char *name;
    unsigned bit;
} info_sections[] = {
    {"server", SEC_SERVER},
    {"clients", SEC_CLIENTS},
    {"memory", SEC_MEMORY},
    {"persistence", SEC_PERSISTENCE},
    {"stats", SEC_STATS},
    {"replication", SEC_REPLICATION},
    {"cpu", SEC_CPU},
    {"modules", SEC_MODULES},
    {"commandstats", SEC_COMMANDSTATS},
    {"errorstats", SEC_ERRORSTATS},
    {"latencystats", SEC_LATENCYSTATS},
    {"cluster", SEC_CLUSTER},
    {"keyspace", SEC_KEYSPACE},
};

/* One shard's counters, written by the op on that shard only. */
typedef struct info_shard {
    int ndb;
    unsigned long long *keys;    /* [ndb] */
    unsigned long long *expires; /* [ndb] */
    long long *avg_ttl;          /* [ndb] */
    uint64_t expired, hits, misses, commands, numconns, dirty;
    int nconns;
    unsigned long long heap_used;           /* alloc_thread_used on the shard's thread */
    unsigned long long clients_mem;         /* the connections' buffers and state */
    unsigned long long *ovh_main, *ovh_exp; /* [ndb]: db_overhead_main, _expires */
    int nstats;
    cmd_stat *stats; /* copy of the shard's [nstats] */
    uint64_t errors; /* error replies */
    rt_net_stats net;
    uint64_t peak_in, peak_out; /* rt_shard_buffer_peaks */
    uint64_t inst[INST_COUNT];  /* rates per second */
    uint64_t expire_cap, expire_us;
    double expire_stale;
    int nerrs;
    err_stat *errs; /* copy of the shard's [nerrs] */
    lathist **lat;  /* [nstats]: copies of the shard's, or NULL */
} info_shard;

/* The request: owned by the tx (tx->state), freed by info_next. */
typedef struct info_req {
    unsigned sections;
    int memory_stats; /* the reply is MEMORY STATS's, not INFO's text */
    info_shard *sh;   /* [tx->nparts] */
    /* Configuration, copied from part 0's shard (all copies agree). */
    int port, hz, maxclients, appendonly;
    long long maxmemory;
    char policy[32];
    char io_engine[16];
    int latency_tracking;
    char pcts[256]; /* latency-tracking-info-percentiles */
} info_req;

/* The value of a configuration parameter as CONFIG GET reports it, into
 * buf ("" if unknown). Reads the RESP2 map config_get_reply writes. */
static void info_config_value(const config *cfg, const char *name, char *buf, size_t cap) {
    size_t nlen = strlen(name);
    rbuf tmp;
    rb_init(&tmp, 2);
    config_get_reply(cfg, 1, &name, &nlen, &tmp);
    buf[0] = '\0';
    /* *2\r\n$N\r\nname\r\n$M\r\nvalue\r\n: the value is the last bulk. */
    const char *end = tmp.buf + tmp.len;
    const char *p = tmp.len >= 2 ? end - 2 : NULL;
    if (p && tmp.len > 4 && memcmp(tmp.buf, "*2", 2) == 0) {
        const char *s = p;
        while (s > tmp.buf && s[-1] != '\n')
            s--;
        size_t n = (size_t)(p - s);
        if (n >= cap) n = cap - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    rb_free(&tmp);
}

/* Op on every shard: copy its counters into its slot. */
static void info_op(rt_ctx *c) {
    info_req *req = c->tx->state;
    info_shard *sh = &req->sh[c->part];
    shard_state *ss = c->sdata;
    store *st = ss->st;
    sh->ndb = st->ndb;
    sh->keys = calloc((size_t)st->ndb, sizeof(*sh->keys));
    sh->expires = calloc((size_t)st->ndb, sizeof(*sh->expires));
    sh->avg_ttl = calloc((size_t)st->ndb, sizeof(*sh->avg_ttl));
    if (sh->keys == NULL || sh->expires == NULL || sh->avg_ttl == NULL) abort();
    for (int i = 0; i < st->ndb; i++) {
        sh->keys[i] = db_size(store_db(st, i));
        sh->expires[i] = db_expires_size(store_db(st, i));
        sh->avg_ttl[i] = db_avg_ttl(store_db(st, i));
    }
    sh->expired = st->stats.expired_keys;
    sh->hits = st->stats.keyspace_hits;
    sh->misses = st->stats.keyspace_misses;
    sh->commands = ss->total_commands;
    sh->numconns = ss->stat_numconnections;
    sh->dirty = ss->dirty;
    sh->nconns = rt_shard_nconns(c->shard);
    if (req->sections & SEC_MEMORY) {
        sh->heap_used = alloc_thread_used();
        sh->clients_mem =
            rt_shard_conns_mem(c->shard) + (unsigned long long)sh->nconns * sizeof(client_state);
        sh->ovh_main = calloc((size_t)st->ndb, sizeof(*sh->ovh_main));
        sh->ovh_exp = calloc((size_t)st->ndb, sizeof(*sh->ovh_exp));
        if (sh->ovh_main == NULL || sh->ovh_exp == NULL) abort();
        for (int i = 0; i < st->ndb; i++) {
            sh->ovh_main[i] = db_overhead_main(store_db(st, i));
            sh->ovh_exp[i] = db_overhead_expires(store_db(st, i));
        }
    }
    sh->nstats = cmd_count_ids();
    if ((req->sections & SEC_COMMANDSTATS) && ss->stats && sh->nstats > 0) {
        sh->stats = malloc((size_t)sh->nstats * sizeof(cmd_stat));
        if (sh->stats == NULL) abort();
        memcpy(sh->stats, ss->stats, (size_t)sh->nstats * sizeof(cmd_stat));
    }
    sh->errors = ss->total_errors;
    sh->net = *rt_shard_net(c->shard);
    rt_shard_buffer_peaks(c->shard, &sh->peak_in, &sh->peak_out);
    sh->expire_cap = ss->expire_cap_reached;
    sh->expire_us = ss->expire_cycle_us;
    sh->expire_stale = ss->expire_stale_perc;
    for (int i = 0; i < INST_COUNT; i++)
        sh->inst[i] = inst_rate(&ss->inst[i]);
    if ((req->sections & SEC_ERRORSTATS) && ss->nerrs > 0) {
        sh->errs = malloc((size_t)ss->nerrs * sizeof(err_stat));
        if (sh->errs == NULL) abort();
        memcpy(sh->errs, ss->errs, (size_t)ss->nerrs * sizeof(err_stat));
        sh->nerrs = ss->nerrs;
    }
    if ((req->sections & SEC_LATENCYSTATS) && ss->latency_tracking && sh->nstats > 0) {
        sh->lat = calloc((size_t)sh->nstats, sizeof(lathist *));
        if (sh->lat == NULL) abort();
        for (int i = 0; i < sh->nstats; i++) {
            if (ss->lat[i] == NULL) continue;
            if ((sh->lat[i] = malloc(sizeof(lathist))) == NULL) abort();
            memcpy(sh->lat[i], ss->lat[i], sizeof(lathist));
        }
    }
    if (c->part == 0) {
        req->latency_tracking = ss->latency_tracking;
        config_get_text(&ss->cfg, "latency-tracking-info-percentiles", req->pcts,
                        sizeof(req->pcts));
        req->port = ss->cfg.port;
        req->hz = ss->cfg.hz;
        req->maxclients = ss->cfg.maxclients;
        req->appendonly = ss->cfg.appendonly;
        req->maxmemory = ss->cfg.maxmemory;
        info_config_value(&ss->cfg, "maxmemory-policy", req->policy, sizeof(req->policy));
        if (req->policy[0] == '\0') strcpy(req->policy, "noeviction");
        /* The engine in use (auto resolved), not the configured value. */
        const char *eng = rt_cfg(rt_of(c->shard))->io_engine;
        snprintf(req->io_engine, sizeof(req->io_engine), "%s", eng && eng[0] ? eng : "epoll");
    }
}

/* Redis's bytesToHuman: "123B", "1.21M", ... */
static void info_human(char *buf, size_t cap, unsigned long long n) {
    static const char units[] = "KMGTPE";
    if (n < 1024) {
        snprintf(buf, cap, "%lluB", n);
        return;
    }
    double d = (double)n / 1024;
    int u = 0;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.2f%c", d, units[u]);
}

static unsigned long long info_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static unsigned long long info_peak; /* accessed with __atomic builtins, relaxed */

/* A stable 40-hex-digit replication id derived from the run id. */
static void info_replid(char out[41]) {
    for (int i = 0; i < 3; i++) {
        uint64_t h =
            util_hash(g_server.run_id, strlen(g_server.run_id), 0x7265706cULL + (uint64_t)i);
        char tmp[17];
        snprintf(tmp, sizeof(tmp), "%016llx", (unsigned long long)h);
        memcpy(out + i * 16, tmp, i == 2 ? 8 : 16);
    }
    out[40] = '\0';
}

static void info_server(rbuf *o, const info_req *req) {
    struct utsname un;
    if (uname(&un) != 0) memset(&un, 0, sizeof(un));
    int64_t now_us = util_ustime();
    int64_t up = (util_mstime() - g_server.start_ms) / 1000;
    if (up < 0) up = 0;
    rb_printf(o,
              "# Server\r\n"
              "redis_version:" PERCORE_REDIS_VERSION "\r\n"
              "percore_version:" PERCORE_VERSION "\r\n"
              "redis_git_sha1:00000000\r\n"
              "redis_git_dirty:0\r\n"
              "redis_build_id:0000000000000000\r\n"
              "redis_mode:standalone\r\n"
              "os:%s %s %s\r\n"
              "arch_bits:%d\r\n"
              "monotonic_clock:POSIX clock_gettime\r\n"
              "multiplexing_api:%s\r\n"
              "atomicvar_api:c11-builtin\r\n"
              "gcc_version:%d.%d.%d\r\n"
              "process_id:%d\r\n"
              "process_supervised:no\r\n"
              "run_id:%s\r\n"
              "tcp_port:%d\r\n"
              "server_time_usec:%lld\r\n"
              "uptime_in_seconds:%lld\r\n"
              "uptime_in_days:%lld\r\n"
              "hz:%d\r\n"
              "configured_hz:%d\r\n"
              "lru_clock:%lld\r\n"
              "executable:%s\r\n"
              "config_file:%s\r\n"
              "io_threads_active:0\r\n",
              un.sysname, un.release, un.machine, (int)(sizeof(void *) * 8), req->io_engine,
              __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, g_server.pid, g_server.run_id,
              req->port, (long long)now_us, (long long)up, (long long)(up / 86400), req->hz,
              req->hz, (long long)((util_mstime() / 1000) & 0xFFFFFF), g_server.executable,
              g_server.config_file);
}

static void info_clients(rbuf *o, const info_req *req, int nparts, long nconns) {
    unsigned long long in = 0, out = 0;
    for (int i = 0; i < nparts; i++) {
        if (req->sh[i].peak_in > in) in = req->sh[i].peak_in;
        if (req->sh[i].peak_out > out) out = req->sh[i].peak_out;
    }
    rb_printf(o,
              "# Clients\r\n"
              "connected_clients:%ld\r\n"
              "cluster_connections:0\r\n"
              "maxclients:%d\r\n"
              "client_recent_max_input_buffer:%llu\r\n"
              "client_recent_max_output_buffer:%llu\r\n"
              "blocked_clients:%ld\r\n"
              "tracking_clients:0\r\n"
              "clients_in_timeout_table:%ld\r\n",
              nconns, req->maxclients, in, out, block_count(), block_timed_count());
}

typedef struct info_sums {
    uint64_t expired, hits, misses, commands, numconns, dirty, errors;
    rt_net_stats net;
    uint64_t inst[INST_COUNT];
    uint64_t expire_cap, expire_us;
    double expire_stale; /* the shards' average */
    long nconns;
    unsigned long long heap_used, clients_mem, tables_mem;
    unsigned long long keys; /* in every database */
} info_sums;

/* The memory figures INFO's memory section and MEMORY STATS share, as Redis
 * derives them: the overhead is the memory in use at startup, the clients'
 * and the key tables' (db_overhead_*); the dataset is the rest. */
typedef struct info_mem {
    unsigned long long used, active, rss, peak, startup, clients, overhead, dataset;
    unsigned long long net; /* used past startup (at least 1) */
    double dataset_perc, peak_perc;
    double frag, afrag, arss; /* rss / used, active / used, rss / active */
} info_mem;

static void info_mem_read(info_mem *m, const info_sums *s) {
    alloc_usage(s->heap_used, &m->used, &m->active);
    m->used += alloc_mapped(); /* big tables mapped past the allocator */
    m->rss = info_rss();
    util_atomic_max(&info_peak, m->used);
    m->peak = __atomic_load_n(&info_peak, __ATOMIC_RELAXED);
    m->startup = alloc_startup_used();
    m->clients = s->clients_mem;
    m->overhead = m->startup + m->clients + s->tables_mem;
    m->dataset = m->used > m->overhead ? m->used - m->overhead : 0;
    m->net = m->used > m->startup ? m->used - m->startup : 1;
    /* Single precision, as Redis keeps these two. */
    m->dataset_perc = (float)((double)m->dataset * 100 / (double)m->net);
    m->peak_perc = (float)(m->peak ? (double)m->used * 100 / (double)m->peak : 0);
    m->frag = m->used ? (double)m->rss / (double)m->used : 0;
    m->afrag = m->used ? (double)m->active / (double)m->used : 0;
    m->arss = m->active ? (double)m->rss / (double)m->active : 0;
}

static void info_memory(rbuf *o, const info_req *req, const info_sums *s) {
    info_mem m;
    info_mem_read(&m, s);
    unsigned long long used = m.used, active = m.active, rss = m.rss, peak = m.peak;
    unsigned long long total =
        (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE);
    char h_used[32], h_rss[32], h_peak[32], h_total[32], h_max[32];
    info_human(h_used, sizeof(h_used), used);
    info_human(h_rss, sizeof(h_rss), rss);
    info_human(h_peak, sizeof(h_peak), peak);
    info_human(h_total, sizeof(h_total), total);
    info_human(h_max, sizeof(h_max), (unsigned long long)req->maxmemory);
    rb_printf(o,
              "# Memory\r\n"
              "used_memory:%llu\r\n"
              "used_memory_human:%s\r\n"
              "used_memory_rss:%llu\r\n"
              "used_memory_rss_human:%s\r\n"
              "used_memory_peak:%llu\r\n"
              "used_memory_peak_human:%s\r\n"
              "used_memory_peak_perc:%.2f%%\r\n"
              "used_memory_overhead:%llu\r\n"
              "used_memory_startup:%llu\r\n"
              "used_memory_dataset:%llu\r\n"
              "used_memory_dataset_perc:%.2f%%\r\n"
              "allocator_allocated:%llu\r\n"
              "allocator_active:%llu\r\n"
              "allocator_resident:%llu\r\n"
              "total_system_memory:%llu\r\n"
              "total_system_memory_human:%s\r\n"
              "used_memory_lua:0\r\n"
              "used_memory_vm_eval:0\r\n"
              "used_memory_lua_human:0B\r\n"
              "used_memory_scripts_eval:0\r\n"
              "number_of_cached_scripts:0\r\n"
              "number_of_functions:0\r\n"
              "number_of_libraries:0\r\n"
              "used_memory_vm_functions:0\r\n"
              "used_memory_vm_total:0\r\n"
              "used_memory_vm_total_human:0B\r\n"
              "used_memory_functions:0\r\n"
              "used_memory_scripts:0\r\n"
              "used_memory_scripts_human:0B\r\n"
              "maxmemory:%lld\r\n"
              "maxmemory_human:%s\r\n"
              "maxmemory_policy:%s\r\n"
              "allocator_frag_ratio:%.2f\r\n"
              "allocator_frag_bytes:%lld\r\n"
              "allocator_rss_ratio:%.2f\r\n"
              "allocator_rss_bytes:%lld\r\n"
              "rss_overhead_ratio:1.00\r\n"
              "rss_overhead_bytes:0\r\n"
              "mem_fragmentation_ratio:%.2f\r\n"
              "mem_fragmentation_bytes:%lld\r\n"
              "mem_not_counted_for_evict:0\r\n"
              "mem_replication_backlog:0\r\n"
              "mem_total_replication_buffers:0\r\n"
              "mem_clients_slaves:0\r\n"
              "mem_clients_normal:%llu\r\n"
              "mem_cluster_links:0\r\n"
              "mem_aof_buffer:0\r\n"
              "mem_allocator:%s\r\n"
              "active_defrag_running:0\r\n"
              "lazyfree_pending_objects:%zu\r\n"
              "lazyfreed_objects:%llu\r\n",
              used, h_used, rss, h_rss, peak, h_peak, m.peak_perc, m.overhead, m.startup, m.dataset,
              m.dataset_perc, used, active, rss, total, h_total, req->maxmemory, h_max, req->policy,
              m.afrag, (long long)(active - used), m.arss, (long long)(rss - active), m.frag,
              (long long)(rss - used), m.clients, alloc_name(), lazyfree_pending(),
              (unsigned long long)lazyfree_freed());
}

static void info_persistence(rbuf *o, const info_req *req, uint64_t dirty) {
    rb_printf(o,
              "# Persistence\r\n"
              "loading:0\r\n"
              "async_loading:0\r\n"
              "current_cow_peak:0\r\n"
              "current_cow_size:0\r\n"
              "current_cow_size_age:0\r\n"
              "current_fork_perc:0.00\r\n"
              "current_save_keys_processed:0\r\n"
              "current_save_keys_total:0\r\n"
              "rdb_changes_since_last_save:%llu\r\n"
              "rdb_bgsave_in_progress:0\r\n"
              "rdb_last_save_time:%lld\r\n"
              "rdb_last_bgsave_status:ok\r\n"
              "rdb_last_bgsave_time_sec:-1\r\n"
              "rdb_current_bgsave_time_sec:-1\r\n"
              "rdb_saves:0\r\n"
              "rdb_last_cow_size:0\r\n"
              "rdb_last_load_keys_expired:0\r\n"
              "rdb_last_load_keys_loaded:0\r\n"
              "aof_enabled:%d\r\n"
              "aof_rewrite_in_progress:0\r\n"
              "aof_rewrite_scheduled:0\r\n"
              "aof_last_rewrite_time_sec:-1\r\n"
              "aof_current_rewrite_time_sec:-1\r\n"
              "aof_last_bgrewrite_status:ok\r\n"
              "aof_rewrites:0\r\n"
              "aof_rewrites_consecutive_failures:0\r\n"
              "aof_last_write_status:ok\r\n"
              "aof_last_cow_size:0\r\n"
              "module_fork_in_progress:0\r\n"
              "module_fork_last_cow_size:0\r\n",
              (unsigned long long)dirty, (long long)(g_server.start_ms / 1000),
              req->appendonly ? 1 : 0);
}

static void info_stats(rbuf *o, const info_sums *s) {
    rb_printf(o,
              "# Stats\r\n"
              "total_connections_received:%llu\r\n"
              "total_commands_processed:%llu\r\n"
              "instantaneous_ops_per_sec:%llu\r\n"
              "total_net_input_bytes:%llu\r\n"
              "total_net_output_bytes:%llu\r\n"
              "total_net_repl_input_bytes:0\r\n"
              "total_net_repl_output_bytes:0\r\n"
              "instantaneous_input_kbps:%.2f\r\n"
              "instantaneous_output_kbps:%.2f\r\n"
              "instantaneous_input_repl_kbps:0.00\r\n"
              "instantaneous_output_repl_kbps:0.00\r\n"
              "rejected_connections:%llu\r\n"
              "sync_full:0\r\n"
              "sync_partial_ok:0\r\n"
              "sync_partial_err:0\r\n"
              "expired_keys:%llu\r\n"
              "expired_stale_perc:%.2f\r\n"
              "expired_time_cap_reached_count:%llu\r\n"
              "expire_cycle_cpu_milliseconds:%llu\r\n"
              "evicted_keys:0\r\n"
              "evicted_clients:0\r\n"
              "total_eviction_exceeded_time:0\r\n"
              "current_eviction_exceeded_time:0\r\n"
              "keyspace_hits:%llu\r\n"
              "keyspace_misses:%llu\r\n"
              "pubsub_channels:0\r\n"
              "pubsub_patterns:0\r\n"
              "pubsubshard_channels:0\r\n"
              "latest_fork_usec:0\r\n"
              "total_forks:0\r\n"
              "migrate_cached_sockets:0\r\n"
              "slave_expires_tracked_keys:0\r\n"
              "active_defrag_hits:0\r\n"
              "active_defrag_misses:0\r\n"
              "active_defrag_key_hits:0\r\n"
              "active_defrag_key_misses:0\r\n"
              "total_active_defrag_time:0\r\n"
              "current_active_defrag_time:0\r\n"
              "tracking_total_keys:0\r\n"
              "tracking_total_items:0\r\n"
              "tracking_total_prefixes:0\r\n"
              "unexpected_error_replies:0\r\n"
              "total_error_replies:%llu\r\n"
              "dump_payload_sanitizations:0\r\n"
              "total_reads_processed:%llu\r\n"
              "total_writes_processed:%llu\r\n"
              "io_threaded_reads_processed:0\r\n"
              "io_threaded_writes_processed:0\r\n"
              "reply_buffer_shrinks:0\r\n"
              "reply_buffer_expands:0\r\n",
              (unsigned long long)s->numconns, (unsigned long long)s->commands,
              (unsigned long long)s->inst[INST_OPS], (unsigned long long)s->net.in_bytes,
              (unsigned long long)s->net.out_bytes, (double)s->inst[INST_NET_IN] / 1024,
              (double)s->inst[INST_NET_OUT] / 1024, (unsigned long long)s->net.rejected_conns,
              (unsigned long long)s->expired, s->expire_stale * 100,
              (unsigned long long)s->expire_cap, (unsigned long long)(s->expire_us / 1000),
              (unsigned long long)s->hits, (unsigned long long)s->misses,
              (unsigned long long)s->errors, (unsigned long long)s->net.reads,
              (unsigned long long)s->net.writes);
}

static void info_replication(rbuf *o) {
    char replid[41];
    info_replid(replid);
    rb_printf(o,
              "# Replication\r\n"
              "role:master\r\n"
              "connected_slaves:0\r\n"
              "master_failover_state:no-failover\r\n"
              "master_replid:%s\r\n"
              "master_replid2:0000000000000000000000000000000000000000\r\n"
              "master_repl_offset:0\r\n"
              "second_repl_offset:-1\r\n"
              "repl_backlog_active:0\r\n"
              "repl_backlog_size:1048576\r\n"
              "repl_backlog_first_byte_offset:0\r\n"
              "repl_backlog_histlen:0\r\n",
              replid);
}

static void info_cpu(rbuf *o) {
    struct rusage self, children, thread;
    memset(&self, 0, sizeof(self));
    memset(&children, 0, sizeof(children));
    memset(&thread, 0, sizeof(thread));
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &thread);
#define TV(t) (long)(t).tv_sec, (long)(t).tv_usec
    rb_printf(o,
              "# CPU\r\n"
              "used_cpu_sys:%ld.%06ld\r\n"
              "used_cpu_user:%ld.%06ld\r\n"
              "used_cpu_sys_children:%ld.%06ld\r\n"
              "used_cpu_user_children:%ld.%06ld\r\n"
              "used_cpu_sys_main_thread:%ld.%06ld\r\n"
              "used_cpu_user_main_thread:%ld.%06ld\r\n",
              TV(self.ru_stime), TV(self.ru_utime), TV(children.ru_stime), TV(children.ru_utime),
              TV(thread.ru_stime), TV(thread.ru_utime));
#undef TV
}

/* Call line(o, d, arg) for every command: a container, then each of its
 * subcommands (a container has rejected calls of its own: sent without a
 * subcommand). */
static void info_each_cmd(rbuf *o, void (*line)(rbuf *, const cmd_def *, const void *),
                          const void *arg) {
    const cmd_def *const *all = cmd_all();
    for (int i = 0; all && all[i]; i++) {
        line(o, all[i], arg);
        for (const cmd_def *s = all[i]->subs; s && s->name; s++)
            line(o, s, arg);
    }
}

/* The shards' command statistics summed (info_cmdstat_line's arg). */
typedef struct cmd_sums {
    const cmd_stat *sum;
    int nstats;
} cmd_sums;

static void info_cmdstat_line(rbuf *o, const cmd_def *d, const void *arg) {
    const cmd_sums *cs = arg;
    if (d->id < 0 || d->id >= cs->nstats) return;
    const cmd_stat *s = &cs->sum[d->id];
    if (s->calls == 0 && s->failed == 0 && s->rejected == 0) return;
    char name[128];
    cmd_fullname(d, name, sizeof(name));
    rb_printf(o,
              "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_"
              "calls=%llu\r\n",
              name, (unsigned long long)s->calls, (unsigned long long)s->usec,
              s->calls ? (double)s->usec / (double)s->calls : 0.0, (unsigned long long)s->rejected,
              (unsigned long long)s->failed);
}

static int errstat_cmp(const void *a, const void *b) {
    return strcmp(((const err_stat *)a)->code, ((const err_stat *)b)->code);
}

/* Every shard's error codes summed, in byte order of the code as Redis
 * lists them. */
static void info_errorstats(rbuf *o, const info_req *req, int nparts) {
    rb_printf(o, "# Errorstats\r\n");
    int n = 0, cap = 0;
    err_stat *all = NULL;
    for (int i = 0; i < nparts; i++) {
        const info_shard *sh = &req->sh[i];
        for (int k = 0; k < sh->nerrs; k++) {
            int j = 0;
            while (j < n && strcmp(all[j].code, sh->errs[k].code) != 0)
                j++;
            if (j == n) {
                if (n == cap) {
                    cap = cap ? 2 * cap : 16;
                    all = realloc(all, (size_t)cap * sizeof(err_stat));
                    if (all == NULL) abort();
                }
                all[n] = sh->errs[k];
                all[n++].count = 0;
            }
            all[j].count += sh->errs[k].count;
        }
    }
    if (n > 1) qsort(all, (size_t)n, sizeof(err_stat), errstat_cmp);
    for (int j = 0; j < n; j++)
        rb_printf(o, "errorstat_%s:count=%llu\r\n", all[j].code, (unsigned long long)all[j].count);
    free(all);
}

/* The request and its number of parts (info_latency_line's arg). */
typedef struct info_parts {
    const info_req *req;
    int nparts;
} info_parts;

/* One command's line: its histogram summed over the shards, at every
 * percentile of the configuration, in us. */
static void info_latency_line(rbuf *o, const cmd_def *d, const void *arg) {
    const info_req *req = ((const info_parts *)arg)->req;
    int nparts = ((const info_parts *)arg)->nparts;
    lathist *sum = NULL;
    for (int i = 0; i < nparts; i++) {
        const info_shard *sh = &req->sh[i];
        if (sh->lat == NULL || d->id < 0 || d->id >= sh->nstats || sh->lat[d->id] == NULL) continue;
        if (sum == NULL && (sum = calloc(1, sizeof(lathist))) == NULL) abort();
        lh_merge(sum, sh->lat[d->id]);
    }
    if (sum == NULL) return;
    char name[128];
    rb_printf(o, "latency_percentiles_usec_%s:", cmd_fullname(d, name, sizeof(name)));
    /* The percentiles as CONFIG GET shows them, space separated. */
    const char *p = req->pcts;
    for (int n = 0; *p; n++) {
        size_t len = strcspn(p, " ");
        char pct[64];
        snprintf(pct, sizeof(pct), "%.*s", (int)len, p);
        rb_printf(o, "%sp%s=%.3f", n ? "," : "", pct,
                  (double)lh_percentile(sum, strtod(pct, NULL)) / 1000.0);
        p += len;
        p += strspn(p, " ");
    }
    rb_append(o, "\r\n", 2);
    free(sum);
}

static void info_latencystats(rbuf *o, const info_req *req, int nparts) {
    rb_printf(o, "# Latencystats\r\n");
    if (!req->latency_tracking) return;
    info_parts arg = {req, nparts};
    info_each_cmd(o, info_latency_line, &arg);
}

static void info_commandstats(rbuf *o, const cmd_stat *sum, int nstats) {
    rb_printf(o, "# Commandstats\r\n");
    if (sum == NULL) return;
    cmd_sums arg = {sum, nstats};
    info_each_cmd(o, info_cmdstat_line, &arg);
}

static void ms_int(rbuf *r, const char *name, long long v) {
    rw_bulk_cstr(r, name);
    rw_int(r, v);
}

/* A ratio, in single precision as Redis keeps it. */
static void ms_ratio(rbuf *r, const char *name, double v) {
    rw_bulk_cstr(r, name);
    rw_double(r, (float)v);
}

/* MEMORY STATS: the figures of INFO's memory section as a map, with each
 * non-empty database's table overheads. */
static void memory_stats_reply(rbuf *r, const info_req *req, int nparts, const info_sums *s) {
    info_mem m;
    info_mem_read(&m, s);
    int ndb = 0, used_dbs = 0;
    for (int i = 0; i < nparts; i++)
        if (req->sh[i].ndb > ndb) ndb = req->sh[i].ndb;
    unsigned long long *dbk = calloc((size_t)ndb + 1, sizeof(*dbk));
    unsigned long long *dbm = calloc((size_t)ndb + 1, sizeof(*dbm));
    unsigned long long *dbe = calloc((size_t)ndb + 1, sizeof(*dbe));
    if (dbk == NULL || dbm == NULL || dbe == NULL) abort();
    for (int i = 0; i < nparts; i++) {
        const info_shard *sh = &req->sh[i];
        for (int d = 0; d < sh->ndb; d++) {
            dbk[d] += sh->keys[d];
            dbm[d] += sh->ovh_main[d];
            dbe[d] += sh->ovh_exp[d];
        }
    }
    for (int d = 0; d < ndb; d++)
        used_dbs += dbk[d] > 0;
    rw_map(r, 27 + used_dbs);
    ms_int(r, "peak.allocated", (long long)m.peak);
    ms_int(r, "total.allocated", (long long)m.used);
    ms_int(r, "startup.allocated", (long long)m.startup);
    ms_int(r, "replication.backlog", 0);
    ms_int(r, "clients.slaves", 0);
    ms_int(r, "clients.normal", (long long)m.clients);
    ms_int(r, "cluster.links", 0);
    ms_int(r, "aof.buffer", 0);
    ms_int(r, "lua.caches", 0);
    ms_int(r, "functions.caches", 0);
    for (int d = 0; d < ndb; d++) {
        if (dbk[d] == 0) continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", d);
        rw_bulk_cstr(r, name);
        rw_map(r, 3);
        ms_int(r, "overhead.hashtable.main", (long long)dbm[d]);
        ms_int(r, "overhead.hashtable.expires", (long long)dbe[d]);
        ms_int(r, "overhead.hashtable.slot-to-keys", 0);
    }
    free(dbk);
    free(dbm);
    free(dbe);
    ms_int(r, "overhead.total", (long long)m.overhead);
    ms_int(r, "keys.count", (long long)s->keys);
    ms_int(r, "keys.bytes-per-key", s->keys ? (long long)(m.net / s->keys) : 0);
    ms_int(r, "dataset.bytes", (long long)m.dataset);
    ms_ratio(r, "dataset.percentage", m.dataset_perc);
    ms_ratio(r, "peak.percentage", m.peak_perc);
    ms_int(r, "allocator.allocated", (long long)m.used);
    ms_int(r, "allocator.active", (long long)m.active);
    ms_int(r, "allocator.resident", (long long)m.rss);
    ms_ratio(r, "allocator-fragmentation.ratio", m.afrag);
    ms_int(r, "allocator-fragmentation.bytes", (long long)(m.active - m.used));
    ms_ratio(r, "allocator-rss.ratio", m.arss);
    ms_int(r, "allocator-rss.bytes", (long long)(m.rss - m.active));
    ms_ratio(r, "rss-overhead.ratio", 1);
    ms_int(r, "rss-overhead.bytes", 0);
    ms_ratio(r, "fragmentation", m.frag);
    ms_int(r, "fragmentation.bytes", (long long)(m.rss - m.used));
}

/* INFO's text: the sections asked for, from the shards' sums. */
static void info_text(rt_tx *tx, const info_req *req, const info_sums *s, int ndb, int nstats) {
    cmd_stat *stats = nstats ? calloc((size_t)nstats, sizeof(cmd_stat)) : NULL;
    for (int i = 0; i < tx->nparts && stats; i++) {
        info_shard *sh = &req->sh[i];
        for (int k = 0; sh->stats && k < sh->nstats; k++) {
            stats[k].calls += sh->stats[k].calls;
            stats[k].usec += sh->stats[k].usec;
            stats[k].rejected += sh->stats[k].rejected;
            stats[k].failed += sh->stats[k].failed;
        }
    }

    rbuf o;
    rb_init(&o, 2);
    unsigned sec = req->sections;
    int n = 0;
#define SECTION(bit)                                                                               \
    if ((sec & (bit)) && n++) rb_append(&o, "\r\n", 2);                                            \
    if (sec & (bit))
    SECTION(SEC_SERVER) info_server(&o, req);
    SECTION(SEC_CLIENTS) info_clients(&o, req, tx->nparts, s->nconns);
    SECTION(SEC_MEMORY) info_memory(&o, req, s);
    SECTION(SEC_PERSISTENCE) info_persistence(&o, req, s->dirty);
    SECTION(SEC_STATS) info_stats(&o, s);
    SECTION(SEC_REPLICATION) info_replication(&o);
    SECTION(SEC_CPU) info_cpu(&o);
    SECTION(SEC_MODULES) rb_printf(&o, "# Modules\r\n");
    SECTION(SEC_COMMANDSTATS) info_commandstats(&o, stats, nstats);
    SECTION(SEC_ERRORSTATS) info_errorstats(&o, req, tx->nparts);
    SECTION(SEC_LATENCYSTATS) info_latencystats(&o, req, tx->nparts);
    SECTION(SEC_CLUSTER) rb_printf(&o, "# Cluster\r\ncluster_enabled:0\r\n");
    SECTION(SEC_KEYSPACE) {
        rb_printf(&o, "# Keyspace\r\n");
        for (int d = 0; d < ndb; d++) {
            unsigned long long keys = 0, exp = 0;
            /* Each shard's estimate, weighted by its keys with a TTL. */
            double ttl_sum = 0;
            for (int i = 0; i < tx->nparts; i++) {
                if (d < req->sh[i].ndb) {
                    keys += req->sh[i].keys[d];
                    exp += req->sh[i].expires[d];
                    ttl_sum += (double)req->sh[i].avg_ttl[d] * (double)req->sh[i].expires[d];
                }
            }
            long long avg = exp ? (long long)(ttl_sum / (double)exp) : 0;
            if (keys)
                rb_printf(&o, "db%d:keys=%llu,expires=%llu,avg_ttl=%lld\r\n", d, keys, exp, avg);
        }
    }
#undef SECTION
    rw_verbatim(&tx->reply, "txt", o.buf ? o.buf : "", o.len);
    rb_free(&o);
    free(stats);
}

/* Coordinator: sum the shards, reply (INFO or MEMORY STATS), free, finish. */
static void info_next(rt_tx *tx) {
    info_req *req = tx->state;
    info_sums s;
    memset(&s, 0, sizeof(s));
    int ndb = 0, nstats = 0;
    for (int i = 0; i < tx->nparts; i++) {
        info_shard *sh = &req->sh[i];
        s.expired += sh->expired;
        s.hits += sh->hits;
        s.misses += sh->misses;
        s.commands += sh->commands;
        s.numconns += sh->numconns;
        s.dirty += sh->dirty;
        s.errors += sh->errors;
        s.net.in_bytes += sh->net.in_bytes;
        s.net.out_bytes += sh->net.out_bytes;
        s.net.reads += sh->net.reads;
        s.net.writes += sh->net.writes;
        s.net.rejected_conns += sh->net.rejected_conns;
        for (int k = 0; k < INST_COUNT; k++)
            s.inst[k] += sh->inst[k];
        s.expire_cap += sh->expire_cap;
        s.expire_us += sh->expire_us;
        s.expire_stale += sh->expire_stale / tx->nparts;
        s.nconns += sh->nconns;
        s.heap_used += sh->heap_used;
        s.clients_mem += sh->clients_mem;
        /* As Redis: the tables of empty databases are not counted (they
         * are part of what startup held). */
        for (int d = 0; d < sh->ndb; d++) {
            s.keys += sh->keys[d];
            if (sh->ovh_main && sh->keys[d]) s.tables_mem += sh->ovh_main[d] + sh->ovh_exp[d];
        }
        if (sh->ndb > ndb) ndb = sh->ndb;
        if (sh->stats && sh->nstats > nstats) nstats = sh->nstats;
    }
    if (req->memory_stats)
        memory_stats_reply(&tx->reply, req, tx->nparts, &s);
    else
        info_text(tx, req, &s, ndb, nstats);
    for (int i = 0; i < tx->nparts; i++) {
        free(req->sh[i].keys);
        free(req->sh[i].expires);
        free(req->sh[i].avg_ttl);
        free(req->sh[i].ovh_main);
        free(req->sh[i].ovh_exp);
        free(req->sh[i].stats);
        free(req->sh[i].errs);
        for (int k = 0; req->sh[i].lat && k < req->sh[i].nstats; k++)
            free(req->sh[i].lat[k]);
        free(req->sh[i].lat);
    }
    free(req->sh);
    free(req);
    tx->state = NULL;
    rt_tx_done(tx);
}

static void info_start(rt_tx *tx, unsigned sec, int memory_stats);

/* INFO [section ...]: no argument means "default"; "all" adds the command
 * and latency statistics, "everything" is "all" (no module sections).
 * Unknown names are ignored, as in Redis. */
void cmd_info_multi(rt_tx *tx) {
    unsigned sec = 0;
    if (tx->argc == 1) sec = SEC_DEFAULT;
    for (int i = 1; i < tx->argc; i++) {
        const rt_arg *a = &tx->argv[i];
        if (arg_is(a, "default"))
            sec |= SEC_DEFAULT;
        else if (arg_is(a, "all") || arg_is(a, "everything"))
            sec |= SEC_ALL;
        else
            for (size_t k = 0; k < sizeof(info_sections) / sizeof(info_sections[0]); k++)
                if (arg_is(a, info_sections[k].name)) sec |= info_sections[k].bit;
    }
    info_start(tx, sec, 0);
}

/* MEMORY STATS: INFO's memory figures gathered from every shard. */
void cmd_memory_stats_multi(rt_tx *tx) {
    info_start(tx, SEC_MEMORY, 1);
}

static void info_start(rt_tx *tx, unsigned sec, int memory_stats) {
    info_req *req = calloc(1, sizeof(*req));
    if (req == NULL) abort();
    req->sections = sec;
    req->memory_stats = memory_stats;
    req->sh = calloc((size_t)(tx->nparts > 0 ? tx->nparts : 1), sizeof(info_shard));
    if (req->sh == NULL) abort();
    strcpy(req->policy, "noeviction");
    strcpy(req->io_engine, "epoll");
    tx->state = req;
    rt_tx_run(tx, info_op, info_next);
}
