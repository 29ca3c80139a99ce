/* main.c -- percore-server: reads the configuration (redis-server's command
 * line: [config-file] [--directive value ...]), starts the runtime with
 * percore's command set and waits for SHUTDOWN, SIGTERM or SIGINT.
 * Runs on the main thread, which then becomes shard 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../cmd/cmd.h"
#include "../store/lazyfree.h"
#include "../common/log.h"
#include "../sys/reactor_uring.h"
#include "version.h"

static rt *g_rt;

static void usage(FILE *f) {
    fprintf(f, "Usage: ./percore-server [/path/to/redis.conf] [options] [-]\n"
               "       ./percore-server - (read config from stdin)\n"
               "       ./percore-server -v or --version\n"
               "       ./percore-server -h or --help\n\n"
               "Options are redis.conf directives prefixed by --, plus percore's own:\n"
               "       --threads N        shards (one thread each; default: online cores)\n\n"
               "Examples:\n"
               "       ./percore-server (run the server with default config)\n"
               "       ./percore-server /etc/redis/6379.conf\n"
               "       ./percore-server --port 7777 --dir ./data --threads 2\n");
}

static void on_signal(int sig) {
    static const char term[] = "Received SIGTERM scheduling shutdown...\n";
    static const char intr[] = "Received SIGINT scheduling shutdown...\n";
    ssize_t w =
        sig == SIGTERM ? write(2, term, sizeof(term) - 1) : write(2, intr, sizeof(intr) - 1);
    (void)w;
    if (g_rt) rt_stop(g_rt);
}

static void random_bytes(void *buf, size_t n) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, n) != (ssize_t)n) {
        /* Fall back to time and pid; the seed only needs to be unpredictable enough. */
        uint64_t x = (uint64_t)util_ustime() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < n; i++) {
            ((unsigned char *)buf)[i] = (unsigned char)util_rand_next(&x);
        }
    }
    if (fd >= 0) close(fd);
}

/* Let maxclients connections fit under the open-files limit, as Redis does. */
static void raise_fd_limit(int maxclients) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    rlim_t want = (rlim_t)maxclients + 64;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
        log_msg(LL_WARNING,
                "You requested maxclients of %d requiring at least %llu max file descriptors; "
                "the current limit is %llu.",
                maxclients, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv) {
    char err[2048];
    int argi = 1;
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        /* The engine io-engine auto picks on this kernel. */
        char why[256];
        printf("percore server v=%s redis_version=%s bits=%d engine=%s\n", PERCORE_VERSION,
               PERCORE_REDIS_VERSION, (int)(sizeof(long) * 8),
               ur_supported(why, sizeof(why)) ? "io_uring" : "epoll");
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    config_defaults(&g_config);
    if (argc >= 2 && strncmp(argv[1], "--", 2) != 0) {
        if (config_load_file(&g_config, argv[1], err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        if (!realpath(argv[1], g_server.config_file))
            snprintf(g_server.config_file, sizeof(g_server.config_file), "%s", argv[1]);
        argi = 2;
    }
    if (argi < argc &&
        config_load_args(&g_config, argc - argi, argv + argi, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int level = log_level_from_name(g_config.loglevel ? g_config.loglevel : "notice");
    if (log_open(g_config.logfile, level < 0 ? LL_NOTICE : level) < 0) {
        fprintf(stderr, "Can't open the log file: %s\n", strerror(errno));
        return 1;
    }
    if (g_config.dir && g_config.dir[0] && chdir(g_config.dir) < 0) {
        log_msg(LL_WARNING, "Can't chdir to '%s': %s", g_config.dir, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    g_server.start_ms = util_mstime();
    g_server.pid = (int)getpid();
    unsigned char rnd[28];
    random_bytes(rnd, sizeof(rnd));
    for (int i = 0; i < 20; i++)
        snprintf(g_server.run_id + 2 * i, 3, "%02x", rnd[i]);
    uint64_t seed;
    memcpy(&seed, rnd + 20, sizeof(seed));
    ssize_t el = readlink("/proc/self/exe", g_server.executable, sizeof(g_server.executable) - 1);
    if (el > 0) g_server.executable[el] = 0;

    log_msg(LL_NOTICE, "oO0OoO0OoO0Oo percore is starting oO0OoO0OoO0Oo");
    log_msg(LL_NOTICE, "percore version=%s, redis_version=%s, bits=%d, pid=%d, just started",
            PERCORE_VERSION, PERCORE_REDIS_VERSION, (int)(sizeof(long) * 8), g_server.pid);
    if (g_server.config_file[0])
        log_msg(LL_NOTICE, "Configuration loaded");
    else
        log_msg(LL_WARNING,
                "Warning: no config file specified, using the default config. In order to specify "
                "a config file use %s /path/to/redis.conf",
                argv[0]);
    raise_fd_limit(g_config.maxclients);

    cmd_table_init();
    rt_config rc;
    memset(&rc, 0, sizeof(rc));
    for (int i = 0; i < g_config.nbind && i < 16; i++)
        rc.bind[rc.nbind++] = g_config.bind[i];
    rc.port = g_config.port;
    rc.nshards = g_config.threads > 0 ? g_config.threads : 1;
    rc.hz = g_config.hz;
    rc.maxclients = g_config.maxclients;
    rc.max_bulk_len = g_config.proto_max_bulk_len;
    rc.query_buf_limit = g_config.client_query_buffer_limit;
    rc.obuf_hard = g_config.obuf_normal_hard;
    rc.obuf_soft = g_config.obuf_normal_soft;
    rc.obuf_soft_secs = g_config.obuf_normal_soft_secs;
    rc.timeout = g_config.timeout;
    rc.tcp_keepalive = g_config.tcp_keepalive;
    rc.seed = seed;
    rc.io_engine = g_config.io_engine;
    rc.cpulist = g_config.server_cpulist;
    g_rt = rt_new(&rc, &g_cmd_ops, err, sizeof(err));
    if (!g_rt) {
        log_msg(LL_WARNING, "%s", err);
        return 1;
    }
    g_server.rt = g_rt;
    g_server.nshards = rc.nshards;
    log_msg(LL_NOTICE, "Running mode=standalone, port=%d, threads=%d, io=%s.", rc.port, rc.nshards,
            rt_cfg(g_rt)->io_engine);
    log_msg(LL_NOTICE, "Server initialized");
    log_msg(LL_NOTICE, "Ready to accept connections tcp");
    rt_run(g_rt);
    log_msg(LL_WARNING, "User requested shutdown...");
    rt_free(g_rt);
    lazyfree_drain();
    g_rt = NULL;
    config_free(&g_config);
    log_msg(LL_WARNING, "percore is now ready to exit, bye bye...");
    return 0;
}
