/* test_config.c -- unit tests of config.c: Redis 7.0.15's defaults, the
 * redis.conf parser (comments, quotes, include, save accumulation, errors
 * with line numbers), command-line directives, CONFIG GET/SET round trips
 * with Redis's exact error texts, memory units, CONFIG REWRITE round trip,
 * and copy/free (leak-checked when built with ASan). Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/config.h"
#include "cmd/config_int.h"
#include "resp/resp.h"
#include "unit.h"

/* Parse a RESP2 reply of CONFIG GET into a flat list; returns the count of
 * strings (keys and values) and fills out (caller frees each). */
static int parse_map(const rbuf *r, char **out, int max) {
    const char *p = r->buf;
    if (!p || *p != '*') return -1;
    int n = atoi(p + 1);
    p = strstr(p, "\r\n") + 2;
    for (int i = 0; i < n && i < max; i++) {
        if (*p != '$') return -1;
        int len = atoi(p + 1);
        p = strstr(p, "\r\n") + 2;
        out[i] = malloc((size_t)len + 1);
        memcpy(out[i], p, (size_t)len);
        out[i][len] = '\0';
        p += len + 2;
    }
    return n;
}

/* Value of one parameter via CONFIG GET (caller frees), or NULL. */
static char *get1(const config *c, const char *name) {
    rbuf r;
    rb_init(&r, 2);
    const char *pats[1] = {name};
    size_t lens[1] = {strlen(name)};
    config_get_reply(c, 1, pats, lens, &r);
    char *kv[2] = {0};
    int n = parse_map(&r, kv, 2);
    rb_free(&r);
    if (n != 2) {
        for (int i = 0; i < 2; i++)
            free(kv[i]);
        return NULL;
    }
    free(kv[0]);
    return kv[1];
}

static int get_is(const config *c, const char *name, const char *want) {
    char *v = get1(c, name);
    int ok = v && strcmp(v, want) == 0;
    if (!ok) fprintf(stderr, "  %s: got '%s' want '%s'\n", name, v ? v : "(null)", want);
    free(v);
    return ok;
}

static int set_err(config *c, const char *name, const char *value, const char *want) {
    char err[512] = "";
    int rc = config_check_name(name, err, sizeof(err));
    if (rc == 0) rc = config_set(c, name, value, err, sizeof(err));
    int ok = want ? (rc == -1 && strcmp(err, want) == 0) : rc == 0;
    if (!ok) fprintf(stderr, "  set %s '%s': rc %d err '%s'\n", name, value, rc, err);
    return ok;
}

static void test_defaults(void) {
    config c;
    config_defaults(&c);
    /* Values as redis-server 7.0.15 reports them with no configuration. */
    static const char *const want[][2] = {
        {"port", "6379"},
        {"bind", "* -::*"},
        {"tcp-backlog", "511"},
        {"timeout", "0"},
        {"tcp-keepalive", "300"},
        {"maxclients", "10000"},
        {"hz", "10"},
        {"databases", "16"},
        {"maxmemory", "0"},
        {"maxmemory-policy", "noeviction"},
        {"proto-max-bulk-len", "536870912"},
        {"client-query-buffer-limit", "1073741824"},
        {"client-output-buffer-limit",
         "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
        {"requirepass", ""},
        {"dbfilename", "dump.rdb"},
        {"save", "3600 1 300 100 60 10000"},
        {"appendonly", "no"},
        {"appendfsync", "everysec"},
        {"appendfilename", "appendonly.aof"},
        {"appenddirname", "appendonlydir"},
        {"loglevel", "notice"},
        {"logfile", ""},
        {"daemonize", "no"},
        {"pidfile", ""},
        {"hash-max-listpack-entries", "512"},
        {"hash-max-ziplist-entries", "512"},
        {"zset-max-listpack-value", "64"},
        {"list-max-listpack-size", "-2"},
        {"slaveof", ""},
        {"notify-keyspace-events", ""},
        {"latency-tracking-info-percentiles", "50 99 99.9"},
        {"oom-score-adj-values", "0 200 800"},
        {"shutdown-on-sigint", "default"},
        {"proc-title-template", "{title} {listen-addr} {server-mode}"},
        {"lua-time-limit", "5000"},
        {"busy-reply-threshold", "5000"},
        {"repl-backlog-size", "1048576"},
        {"unixsocketperm", "0"},
        {"active-defrag-ignore-bytes", "104857600"},
        {"tls-auth-clients", "yes"},
        {"syslog-facility", "local0"},
        {"watchdog-period", "0"},
        {"io-engine", "auto"},
        {"loading-process-events-interval-bytes", "2097152"},
        {"maxmemory-clients", "0"},
        {"tracking-table-max-keys", "1000000"},
        {"stream-node-max-bytes", "4096"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(get_is(&c, want[i][0], want[i][1]));
    CHECK(c.port == 6379 && c.nbind == 2 && !strcmp(c.bind[0], "*") && !strcmp(c.bind[1], "-::*"));
    CHECK(c.threads == (int)sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(c.obuf_replica_hard == 268435456 && c.obuf_pubsub_soft_secs == 60);
    CHECK(c.databases == 16 && c.hz == 10 && !c.appendonly && !strcmp(c.appendfsync, "everysec"));
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) && get_is(&c, "dir", cwd));
    CHECK(get1(&c, "no-such-thing") == NULL);
    config_free(&c);
}

static int count_get(const config *c, int n, const char **pats, char **kv, int max) {
    rbuf r;
    rb_init(&r, 2);
    size_t lens[8];
    for (int i = 0; i < n; i++)
        lens[i] = strlen(pats[i]);
    config_get_reply(c, n, pats, lens, &r);
    int k = parse_map(&r, kv, max);
    rb_free(&r);
    return k;
}

static void test_get_patterns(void) {
    config c;
    config_defaults(&c);
    char *kv[512] = {0};
    const char *all[] = {"*"};
    int n = count_get(&c, 1, all, kv, 512);
    CHECK(n == 2 * 192 + 2 * 2); /* Redis's 192 visible names plus threads, io-engine */
    int hidden = 0;
    for (int i = 0; i < n; i += 2)
        hidden += !strcmp(kv[i], "watchdog-period");
    CHECK(hidden == 0);
    for (int i = 0; i < n; i++)
        free(kv[i]);

    const char *dup[] = {"hz", "HZ", "h?"};
    n = count_get(&c, 3, dup, kv, 512);
    CHECK(n == 2 && !strcmp(kv[0], "hz") && !strcmp(kv[1], "10"));
    for (int i = 0; i < n; i++)
        free(kv[i]);

    const char *exact[] = {"Port"};
    n = count_get(&c, 1, exact, kv, 512);
    CHECK(n == 2 && !strcmp(kv[0], "Port") && !strcmp(kv[1], "6379"));
    for (int i = 0; i < n; i++)
        free(kv[i]);

    const char *hash[] = {"hash-max-*"};
    n = count_get(&c, 1, hash, kv, 512);
    CHECK(n == 8);
    for (int i = 0; i < n; i++)
        free(kv[i]);

    const char *al[] = {"slaveof", "replicaof", "nomatch"};
    n = count_get(&c, 3, al, kv, 512);
    CHECK(n == 4);
    for (int i = 0; i < n; i++)
        free(kv[i]);
    config_free(&c);
}

#define PFX "ERR CONFIG SET failed (possibly related to argument '"
static void test_set(void) {
    config c;
    config_defaults(&c);
    CHECK(set_err(&c, "port", "abc", PFX "port') - argument couldn't be parsed into an integer"));
    CHECK(set_err(&c, "PORT", "abc", PFX "port') - argument couldn't be parsed into an integer"));
    CHECK(set_err(&c, "port", "99999",
                  PFX "port') - argument must be between 0 and 65535 inclusive"));
    CHECK(set_err(&c, "port", "007", PFX "port') - argument couldn't be parsed into an integer"));
    CHECK(set_err(&c, "port", "7000", NULL) && c.port == 7000 && get_is(&c, "port", "7000"));
    CHECK(set_err(&c, "maxclients", "0",
                  PFX "maxclients') - argument must be between 1 and 4294967295 inclusive"));
    CHECK(set_err(&c, "key-load-delay", "-5", NULL) && get_is(&c, "key-load-delay", "-5"));
    CHECK(set_err(&c, "foo", "bar",
                  "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
    CHECK(set_err(&c, "DATABASES", "3", PFX "DATABASES') - can't set immutable config"));
    CHECK(set_err(&c, "threads", "3", PFX "threads') - can't set immutable config"));
    CHECK(set_err(&c, "Dir", "/tmp", PFX "Dir') - can't set protected config"));
    CHECK(set_err(&c, "appendonly", "maybe", PFX "appendonly') - argument must be 'yes' or 'no'"));
    CHECK(set_err(&c, "appendonly", "YES", NULL) && c.appendonly == 1 &&
          get_is(&c, "appendonly", "yes"));
    CHECK(set_err(
        &c, "appendfsync", "sometimes",
        PFX "appendfsync') - argument(s) must be one of the following: everysec, always, no"));
    CHECK(set_err(&c, "appendfsync", "ALWAYS", NULL) && !strcmp(c.appendfsync, "always"));
    CHECK(set_err(&c, "maxmemory-policy", "bad",
                  PFX
                  "maxmemory-policy') - argument(s) must be one of the following: volatile-lru, "
                  "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, "
                  "allkeys-random, noeviction"));
    CHECK(set_err(&c, "maxmemory", "abc", PFX "maxmemory') - argument must be a memory value"));
    CHECK(set_err(&c, "maxmemory", "+100", PFX "maxmemory') - argument must be a memory value"));
    CHECK(set_err(&c, "maxmemory", "1.5gb", PFX "maxmemory') - argument must be a memory value"));
    CHECK(set_err(&c, "proto-max-bulk-len", "100",
                  PFX "proto-max-bulk-len') - argument must be between 1048576 and "
                      "9223372036854775807 inclusive"));
    CHECK(set_err(&c, "hash-max-ziplist-entries", "x",
                  PFX "hash-max-ziplist-entries') - argument couldn't be parsed into an integer"));
    CHECK(set_err(&c, "hash-max-ziplist-entries", "7", NULL) &&
          get_is(&c, "hash-max-listpack-entries", "7"));
    CHECK(set_err(&c, "save", "1 2 3", PFX "save') - Invalid save parameters"));
    CHECK(set_err(&c, "save", "0 1", PFX "save') - Invalid save parameters"));
    CHECK(set_err(&c, "save", "100  1", PFX "save') - Invalid save parameters"));
    CHECK(set_err(&c, "save", "+5 1 010 0", NULL) && get_is(&c, "save", "5 1 10 0"));
    CHECK(set_err(&c, "save", "", NULL) && get_is(&c, "save", ""));
    CHECK(set_err(&c, "client-output-buffer-limit", "foo 1 2 3",
                  PFX "client-output-buffer-limit') - Invalid client class specified in buffer "
                      "limit configuration."));
    CHECK(set_err(
        &c, "client-output-buffer-limit", "normal 1 2",
        PFX
        "client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."));
    CHECK(set_err(&c, "client-output-buffer-limit", "normal -1 2 3",
                  PFX "client-output-buffer-limit') - Error in hard, soft or soft_seconds setting "
                      "in buffer limit configuration."));
    CHECK(set_err(&c, "client-output-buffer-limit", "normal 1mb 2k 3", NULL));
    CHECK(get_is(&c, "client-output-buffer-limit",
                 "normal 1048576 2000 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"));
    CHECK(c.obuf_normal_hard == 1048576 && c.obuf_normal_soft == 2000 &&
          c.obuf_normal_soft_secs == 3);
    CHECK(set_err(&c, "client-output-buffer-limit", "replica 1 2 3 pubsub 4 5 6", NULL));
    CHECK(
        get_is(&c, "client-output-buffer-limit", "normal 1048576 2000 3 slave 1 2 3 pubsub 4 5 6"));
    CHECK(set_err(
        &c, "notify-keyspace-events", "Z",
        PFX "notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
    CHECK(set_err(&c, "notify-keyspace-events", "KEA", NULL) &&
          get_is(&c, "notify-keyspace-events", "AKE"));
    CHECK(set_err(&c, "notify-keyspace-events", "Kgn", NULL) &&
          get_is(&c, "notify-keyspace-events", "gnK"));
    CHECK(set_err(&c, "notify-keyspace-events", "KEgl$shzxetdmn", NULL) &&
          get_is(&c, "notify-keyspace-events", "AKEm"));
    CHECK(set_err(&c, "bind", "127.0.0.1 ::1", NULL) && c.nbind == 2 &&
          get_is(&c, "bind", "127.0.0.1 ::1"));
    CHECK(set_err(&c, "bind", "a b c d e f g h i j k l m n o p q",
                  PFX "bind') - Too many bind addresses specified."));
    CHECK(set_err(&c, "oom-score-adj-values", "1 2",
                  PFX "oom-score-adj-values') - wrong number of arguments"));
    CHECK(set_err(&c, "oom-score-adj-values", "0 200 2001",
                  PFX "oom-score-adj-values') - Invalid oom-score-adj-values, elements must be "
                      "between -2000 and 2000."));
    CHECK(set_err(&c, "oom-score-adj", "relative", NULL) && get_is(&c, "oom-score-adj", "yes"));
    CHECK(set_err(&c, "maxmemory-clients", "101%",
                  PFX "maxmemory-clients') - percentage argument must be less or equal to 100"));
    CHECK(set_err(&c, "maxmemory-clients", "10.5%",
                  PFX "maxmemory-clients') - argument must be a memory or percent value"));
    CHECK(set_err(&c, "maxmemory-clients", "50%", NULL) && get_is(&c, "maxmemory-clients", "50%"));
    CHECK(set_err(&c, "maxmemory-clients", "0%", NULL) && get_is(&c, "maxmemory-clients", "0"));
    CHECK(set_err(
        &c, "shutdown-on-sigint", "save nosave",
        PFX
        "shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously"));
    CHECK(set_err(&c, "shutdown-on-sigint", "force now default", NULL) &&
          get_is(&c, "shutdown-on-sigint", "now force"));
    CHECK(set_err(&c, "latency-tracking-info-percentiles", "200",
                  PFX "latency-tracking-info-percentiles') - latency-tracking-info-percentiles "
                      "parameters should sit between [0.0,100.0]"));
    CHECK(set_err(&c, "latency-tracking-info-percentiles", "99.123456789 1e1 50.0", NULL) &&
          get_is(&c, "latency-tracking-info-percentiles", "99.123457 10 50"));
    CHECK(set_err(&c, "hz", "600", NULL) && get_is(&c, "hz", "500"));
    CHECK(set_err(&c, "hz", "0", NULL) && c.hz == 1);
    CHECK(set_err(&c, "repl-backlog-size", "1", NULL) && get_is(&c, "repl-backlog-size", "16384"));
    CHECK(set_err(&c, "requirepass", "a b", NULL) && !strcmp(c.requirepass, "a b"));
    CHECK(set_err(
        &c, "proc-title-template", "{title}",
        PFX "proc-title-template') - template format is invalid or contains unknown variables"));
    CHECK(set_err(&c, "proc-title-template", "{title} x", NULL));
    CHECK(set_err(
        &c, "activedefrag", "yes",
        PFX
        "activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server "
        "compiled with a modified Jemalloc like the one shipped by default with the Redis source "
        "distribution"));
    config_free(&c);
}

static void test_memory_units(void) {
    config c;
    config_defaults(&c);
    static const char *const cases[][2] = {
        {"1GB", "1073741824"},
        {"1k", "1000"},
        {"1kb", "1024"},
        {"1m", "1000000"},
        {"1mB", "1048576"},
        {"1g", "1000000000"},
        {"0100", "100"},
        {"1b", "1"},
        {"1B", "1"},
        {"k", "0"},
        {"", "0"},
        {"18446744073709551615", "18446744073709551615"},
        {"99999999999999999999", "18446744073709551615"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(set_err(&c, "maxmemory", cases[i][0], NULL));
        CHECK(get_is(&c, "maxmemory", cases[i][1]));
    }
    static const char *const bad[] = {" 100", "100 ", "-0", "-1", "1 k", "0x10", "1t", "1tb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(
            set_err(&c, "maxmemory", bad[i], PFX "maxmemory') - argument must be a memory value"));
    CHECK(set_err(&c, "maxmemory", "100mb", NULL) && c.maxmemory == 100LL * 1024 * 1024);
    config_free(&c);
}

static char tmpdir[256];

static char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_file(void) {
    char err[1024];
    config c;
    config_defaults(&c);
    char inc[600];
    snprintf(inc, sizeof(inc), "%s", write_file("inc.conf", "maxclients 77\nsave 50 5\n"));
    char text[2048];
    snprintf(
        text, sizeof(text),
        "# a comment\n\n  PORT 7001  \r\nbind 127.0.0.1 ::1\nrequirepass \"se cr\\x41t\\n\"\n"
        "logfile 'my log'\nsave 900 1\nsave 300 10 60 10000\ninclude %s\n"
        "hash-max-ziplist-entries 99\nlist-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n"
        "client-output-buffer-limit pubsub 1mb 2mb 30\nmaxmemory 2gb\nthreads 3\n",
        inc);
    const char *path = write_file("main.conf", text);
    CHECK(config_load_file(&c, path, err, sizeof(err)) == 0);
    CHECK(c.port == 7001 && c.nbind == 2 && !strcmp(c.bind[1], "::1"));
    CHECK(!strcmp(c.requirepass, "se crAt\n") && !strcmp(c.logfile, "my log"));
    CHECK(get_is(&c, "save", "900 1 300 10 60 10000 50 5"));
    CHECK(c.maxclients == 77 && c.threads == 3 && c.maxmemory == 2147483648LL);
    CHECK(get_is(&c, "hash-max-listpack-entries", "99"));
    CHECK(c.obuf_pubsub_hard == 1048576 && c.obuf_pubsub_soft == 2097152 &&
          c.obuf_pubsub_soft_secs == 30);
    config_free(&c);

    /* save "" clears; later lines append again. */
    config_defaults(&c);
    path = write_file("s.conf", "save \"\"\n");
    CHECK(config_load_file(&c, path, err, sizeof(err)) == 0 && get_is(&c, "save", ""));
    config_free(&c);

    static const char *const bad[][3] = {
        {"# c\nfoo bar\n", "2", "'foo bar'\nBad directive or wrong number of arguments"},
        {"port 1\nport abc\n", "2", "'port abc'\nargument couldn't be parsed into an integer"},
        {"port\n", "1", "'port'\nwrong number of arguments"},
        {"\n\nsave 900 1 300\n", "3", "'save 900 1 300'\nInvalid save parameters"},
        {"hz 5 6\n", "1", "'hz 5 6'\nwrong number of arguments"},
        {"appendonly maybe\n", "1", "'appendonly maybe'\nargument must be 'yes' or 'no'"},
        {"dir \"/tmp\n", "1", "'dir \"/tmp'\nUnbalanced quotes in configuration line"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        path = write_file("bad.conf", bad[i][0]);
        char want[512];
        snprintf(want, sizeof(want),
                 "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, "
                 "at line %s\n>>> %s",
                 bad[i][1], bad[i][2]);
        int rc = config_load_file(&c, path, err, sizeof(err));
        CHECK(rc == -1 && strcmp(err, want) == 0);
        if (rc != -1 || strcmp(err, want)) fprintf(stderr, "  got: %s\n", err);
        config_free(&c);
    }
    config_defaults(&c);
    CHECK(config_load_file(&c, "/nonexistent/x.conf", err, sizeof(err)) == -1);
    config_free(&c);
}

static void test_args(void) {
    char err[1024];
    config c;
    config_defaults(&c);
    char *a1[] = {"--port", "7000",         "--save", "",       "--bind", "127.0.0.1",
                  "::1",    "--appendonly", "yes",    "--save", "100",    "1"};
    CHECK(config_load_args(&c, 12, a1, err, sizeof(err)) == 0);
    CHECK(c.port == 7000 && c.nbind == 2 && c.appendonly == 1 && get_is(&c, "save", "100 1"));
    config_free(&c);

    config_defaults(&c);
    char *a2[] = {"--save", "--port", "7002"};
    CHECK(config_load_args(&c, 3, a2, err, sizeof(err)) == 0 && get_is(&c, "save", "") &&
          c.port == 7002);
    config_free(&c);

    config_defaults(&c);
    char *a3[] = {"--hz", "5", "--save", "", "--databases", "xx"};
    CHECK(config_load_args(&c, 6, a3, err, sizeof(err)) == -1);
    CHECK(!strcmp(err, "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration "
                       "file, at line 4\n"
                       ">>> 'databases \"xx\"'\nargument couldn't be parsed into an integer"));
    config_free(&c);

    config_defaults(&c);
    char *a4[] = {"--hz", "5", "foo"};
    CHECK(config_load_args(&c, 3, a4, err, sizeof(err)) == -1);
    CHECK(!strcmp(err, "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration "
                       "file, at line 2\n"
                       ">>> 'hz \"5\" \"foo\"'\nwrong number of arguments"));
    config_free(&c);
}

static void test_rewrite(void) {
    char err[1024];
    config c, back;
    config_defaults(&c);
    const char *path =
        write_file("rw.conf", "# keep me\nport 7003\nport 7004\nunknown-directive 1\nsave 10 1\n"
                              "hash-max-ziplist-entries 5\n");
    char p[600];
    snprintf(p, sizeof(p), "%s", path);
    CHECK(config_load_file(&c, p, err, sizeof(err)) == -1); /* unknown directive */
    path = write_file("rw.conf", "# keep me\nport 7003\nport 7004\nrename-command X Y\nsave 10 1\n"
                                 "hash-max-ziplist-entries 5\n");
    config_free(&c);
    config_defaults(&c);
    CHECK(config_load_file(&c, p, err, sizeof(err)) == 0);
    CHECK(set_err(&c, "maxmemory", "1mb", NULL));
    CHECK(set_err(&c, "requirepass", "p \"q\"", NULL));
    CHECK(set_err(&c, "save", "", NULL));
    CHECK(set_err(&c, "notify-keyspace-events", "Ex", NULL));
    CHECK(set_err(&c, "client-output-buffer-limit", "normal 1 2 3", NULL));
    CHECK(set_err(&c, "latency-tracking-info-percentiles", "", NULL));
    CHECK(config_rewrite(&c, p, err, sizeof(err)) == 0);
    FILE *f = fopen(p, "r");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK(strstr(buf, "# keep me\n") == buf);
    CHECK(strstr(buf, "port 7004\n") && !strstr(buf, "port 7003"));
    CHECK(strstr(buf, "rename-command X Y\n"));
    CHECK(strstr(buf, "maxmemory 1048576\n"));
    config_defaults(&back);
    CHECK(config_load_file(&back, p, err, sizeof(err)) == 0);
    static const char *const names[] = {"port",
                                        "maxmemory",
                                        "requirepass",
                                        "save",
                                        "notify-keyspace-events",
                                        "client-output-buffer-limit",
                                        "hash-max-listpack-entries",
                                        "latency-tracking-info-percentiles",
                                        "bind"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *a = get1(&c, names[i]), *b = get1(&back, names[i]);
        CHECK(a && b && !strcmp(a, b));
        if (!a || !b || strcmp(a, b)) fprintf(stderr, "  %s: '%s' vs '%s'\n", names[i], a, b);
        free(a);
        free(b);
    }
    /* A second rewrite changes nothing. */
    CHECK(config_rewrite(&back, p, err, sizeof(err)) == 0);
    f = fopen(p, "r");
    char buf2[4096];
    size_t n2 = fread(buf2, 1, sizeof(buf2) - 1, f);
    buf2[n2] = '\0';
    fclose(f);
    CHECK(n == n2 && !strcmp(buf, buf2));
    CHECK(config_rewrite(&c, "/nonexistent-dir/x.conf", err, sizeof(err)) == -1 &&
          !strncmp(err, "ERR Rewriting config file: ", 27));
    config_free(&back);
    config_free(&c);
}

static void test_copy(void) {
    config a, b;
    config_defaults(&a);
    CHECK(set_err(&a, "requirepass", "x", NULL));
    CHECK(set_err(&a, "masterauth", "m", NULL));
    config_copy(&b, &a);
    CHECK(b.requirepass != a.requirepass && !strcmp(b.requirepass, "x"));
    CHECK(b.bind[0] != a.bind[0]);
    CHECK(set_err(&b, "masterauth", "other", NULL));
    CHECK(get_is(&a, "masterauth", "m") && get_is(&b, "masterauth", "other"));
    config_free(&a);
    CHECK(get_is(&b, "requirepass", "x"));
    config_free(&b);
    /* Random set/copy/free sequences against a reference of expected values. */
    srand(7);
    config cur;
    config_defaults(&cur);
    char ref_hz[16] = "10", ref_to[16] = "0";
    for (int i = 0; i < 300; i++) {
        int op = rand() % 3;
        char v[16];
        if (op == 0) {
            snprintf(v, sizeof(v), "%d", 1 + rand() % 500);
            CHECK(set_err(&cur, "hz", v, NULL));
            strcpy(ref_hz, v);
        } else if (op == 1) {
            snprintf(v, sizeof(v), "%d", rand() % 1000);
            CHECK(set_err(&cur, "timeout", v, NULL));
            strcpy(ref_to, v);
        } else {
            config n2;
            config_copy(&n2, &cur);
            config_free(&cur);
            cur = n2;
        }
        CHECK(get_is(&cur, "hz", ref_hz) && get_is(&cur, "timeout", ref_to));
    }
    config_free(&cur);
}

int main(void) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_defaults();
    test_get_patterns();
    test_set();
    test_memory_units();
    test_file();
    test_args();
    test_rewrite();
    test_copy();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    UNIT_DONE();
}
