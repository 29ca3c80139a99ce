/* test_rt.c -- the runtime driven by a toy command set, as a command set
 * sees it: no percore command is involved. Four shards serve a toy
 * protocol (SET/GET/INCR/SUM/XFER/PING, and SUM1/XFER1 whose one step runs
 * as each part is taken) on a loopback port; client threads
 * check reply order under deep pipelines that mix local, remote and
 * multi-shard requests, that a multi-shard transfer is atomic to a
 * concurrent multi-shard reader (the sum of two accounts never changes),
 * and that an idle connection gives back the reply slots a deep pipeline
 * grew (SLOTS looks at the runtime's private connection state).
 *
 * Everything runs once per I/O engine: epoll, then io_uring where the
 * kernel offers it. $RT_TEST_ENGINE (epoll, io_uring or auto) runs just one.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rt/rt.h"
#include "rt/rt_int.h" /* SLOTS reads a connection's reply-slot ring */
#include "unit.h"

#define NSHARDS 4
#define TOYKEYS 4096

/* Per-shard toy store: key -> integer, linear probing on a fixed table. */
typedef struct toy_store {
    char key[TOYKEYS][32];
    long long val[TOYKEYS];
    int used[TOYKEYS];
} toy_store;

static long long *toy_slot(toy_store *t, const rt_arg *k, int create) {
    unsigned h = 5381;
    for (size_t i = 0; i < k->len; i++)
        h = h * 33 + (unsigned char)k->p[i];
    for (unsigned i = 0; i < TOYKEYS; i++) {
        unsigned j = (h + i) % TOYKEYS;
        if (!t->used[j]) {
            if (!create) return NULL;
            t->used[j] = 1;
            memcpy(t->key[j], k->p, k->len < 31 ? k->len : 31);
            t->val[j] = 0;
            return &t->val[j];
        }
        if (strlen(t->key[j]) == k->len && memcmp(t->key[j], k->p, k->len) == 0) return &t->val[j];
    }
    return NULL;
}

static toy_store *ts(rt_ctx *c) {
    return c->sdata;
}

static void toy_set(rt_ctx *c) {
    *toy_slot(ts(c), &c->argv[1], 1) = strtoll(c->argv[2].p, NULL, 10);
    rw_ok(c->reply);
}
static void toy_get(rt_ctx *c) {
    long long *v = toy_slot(ts(c), &c->argv[1], 0);
    if (v)
        rw_int(c->reply, *v);
    else
        rw_null(c->reply);
}
static void toy_incr(rt_ctx *c) {
    rw_int(c->reply, ++*toy_slot(ts(c), &c->argv[1], 1));
}
static void toy_ping(rt_ctx *c) {
    rw_simple(c->reply, c->conn ? "PONG" : "NOCONN");
}

/* SUM k1 k2 ...: single shard or fan-out + reduce. */
static void toy_sum(rt_ctx *c) {
    long long s = 0;
    for (int i = 1; i < c->argc; i++) {
        long long *v = toy_slot(ts(c), &c->argv[i], 0);
        s += v ? *v : 0;
    }
    rw_int(c->reply, s);
}
static void op_sum(rt_ctx *c) {
    rt_part *p = &c->tx->part[c->part];
    for (int i = 0; i < p->nkeys; i++) {
        long long *v = toy_slot(ts(c), &c->argv[p->keys[i]], 0);
        p->n += v ? *v : 0;
    }
}
static void sum_done(rt_tx *tx) {
    long long s = 0;
    for (int i = 0; i < tx->nparts; i++)
        s += tx->part[i].n;
    rw_int(&tx->reply, s);
    rt_tx_done(tx);
}
static void toy_sum_multi(rt_tx *tx) {
    rt_tx_run(tx, op_sum, sum_done);
}

/* XFER a b: a -= 1, b += 1, in two steps on two shards (atomic as a whole). */
static void toy_xfer(rt_ctx *c) {
    --*toy_slot(ts(c), &c->argv[1], 1);
    ++*toy_slot(ts(c), &c->argv[2], 1);
    rw_ok(c->reply);
}
static int part_of(rt_tx *tx, int argi) {
    for (int i = 0; i < tx->nparts; i++)
        for (int k = 0; k < tx->part[i].nkeys; k++)
            if (tx->part[i].keys[k] == argi) return i;
    return -1;
}
static void op_dec(rt_ctx *c) {
    --*toy_slot(ts(c), &c->argv[1], 1);
}
static void op_inc(rt_ctx *c) {
    ++*toy_slot(ts(c), &c->argv[2], 1);
}
static void xfer_done(rt_tx *tx) {
    rw_ok(&tx->reply);
    rt_tx_done(tx);
}
static void xfer_step2(rt_tx *tx) {
    rt_tx_run_one(tx, part_of(tx, 2), op_inc, xfer_done);
}
static void toy_xfer_multi(rt_tx *tx) {
    rt_tx_run_one(tx, part_of(tx, 1), op_dec, xfer_step2);
}

/* XFER1 a b: XFER as one step that the runtime runs on each part as it
 * takes that part (rt_plan.first_op); SUM1 likewise for SUM. */
static void op_xfer1(rt_ctx *c) {
    rt_part *p = &c->tx->part[c->part];
    for (int k = 0; k < p->nkeys; k++)
        *toy_slot(ts(c), &c->argv[p->keys[k]], 1) += p->keys[k] == 1 ? -1 : 1;
}

/* SLOTS (local): the size of the connection's reply-slot ring. */
static void toy_slots(rt_ctx *c) {
    rw_int(c->reply, (long long)(c->conn->slot_mask + 1));
}

static void *toy_shard_init(rt_shard *s, int id) {
    (void)s, (void)id;
    return calloc(1, sizeof(toy_store));
}

static int arg_eq(const rt_arg *a, const char *s) {
    return a->len == strlen(s) && !strncasecmp(a->p, s, a->len);
}

static void toy_prepare(rt_conn *c, int argc, rt_arg *argv, rt_plan *plan, rbuf *reply) {
    (void)c;
    int *keys = rt_plan_keybuf(rt_conn_shard(c), argc);
    plan->kind = RT_PLAN_KEYS;
    plan->keys = keys;
    if (arg_eq(&argv[0], "PING")) {
        plan->kind = RT_PLAN_LOCAL;
        plan->proc = toy_ping;
    } else if (arg_eq(&argv[0], "SLOTS")) {
        plan->kind = RT_PLAN_LOCAL;
        plan->proc = toy_slots;
    } else if (arg_eq(&argv[0], "SET") && argc == 3) {
        plan->proc = toy_set;
    } else if (arg_eq(&argv[0], "GET") && argc == 2) {
        plan->proc = toy_get;
    } else if (arg_eq(&argv[0], "INCR") && argc == 2) {
        plan->proc = toy_incr;
    } else if ((arg_eq(&argv[0], "SUM") || arg_eq(&argv[0], "SUM1")) && argc >= 2) {
        plan->proc = toy_sum;
        plan->multi = toy_sum_multi;
        if (argv[0].len == 4) {
            plan->first_op = op_sum;
            plan->first_done = sum_done;
        }
        for (int i = 1; i < argc; i++)
            keys[plan->nkeys++] = i;
        return;
    } else if (arg_eq(&argv[0], "NOMULTI") && argc == 3) {
        /* Two keys but no multi-shard body: refused when they span shards. */
        plan->proc = toy_sum;
        keys[0] = 1, keys[1] = 2;
        plan->nkeys = 2;
        return;
    } else if ((arg_eq(&argv[0], "XFER") || arg_eq(&argv[0], "XFER1")) && argc == 3) {
        plan->proc = toy_xfer;
        plan->multi = toy_xfer_multi;
        if (argv[0].len == 5) {
            plan->first_op = op_xfer1;
            plan->first_done = xfer_done;
        }
        keys[0] = 1, keys[1] = 2;
        plan->nkeys = 2;
        return;
    } else {
        plan->kind = RT_PLAN_DONE;
        rw_error(reply, "ERR unknown");
        return;
    }
    if (plan->kind == RT_PLAN_KEYS) {
        keys[0] = 1;
        plan->nkeys = 1;
    }
}

static const rt_ops toy_ops = {
    .shard_init = toy_shard_init,
    .shard_free = free,
    .prepare = toy_prepare,
};

static int g_port;

static int client_connect(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w, n -= (size_t)w;
    }
}

/* Read one line reply ("+OK", ":5", "$-1") into line; returns its length. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t len, pos;
} reader;

static int read_line(reader *r, char *line, size_t cap) {
    size_t n = 0;
    for (;;) {
        if (r->pos == r->len) {
            ssize_t k = read(r->fd, r->buf, sizeof(r->buf));
            if (k <= 0) return -1;
            r->len = (size_t)k, r->pos = 0;
        }
        char ch = r->buf[r->pos++];
        if (ch == '\n') break;
        if (ch != '\r' && n + 1 < cap) line[n++] = ch;
    }
    line[n] = 0;
    return (int)n;
}

static void cmd3(char *out, size_t cap, const char *a, const char *b, const char *c) {
    if (c)
        snprintf(out, cap, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(a), a,
                 strlen(b), b, strlen(c), c);
    else if (b)
        snprintf(out, cap, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(a), a, strlen(b), b);
    else
        snprintf(out, cap, "*1\r\n$%zu\r\n%s\r\n", strlen(a), a);
}

/* Pipeline: per key k_i, INCR it n times interleaved with PINGs and SUMs;
 * every reply must be the exact expected value in order. */
typedef struct pipe_arg {
    int id;
    int errors;
} pipe_arg;

static void *pipeline_client(void *p) {
    pipe_arg *a = p;
    int fd = client_connect();
    if (fd < 0) {
        a->errors++;
        return NULL;
    }
    enum { N = 3000, K = 16 };
    static __thread char big[N * 128];
    size_t len = 0;
    long long expect[N];
    int kind[N];
    long long counts[K] = {0};
    for (int i = 0; i < N; i++) {
        char key[32], key2[32], one[256];
        int k = (i * 7 + a->id) % K;
        snprintf(key, sizeof(key), "c%d:k%d", a->id, k);
        snprintf(key2, sizeof(key2), "c%d:k%d", a->id, (k + 5) % K);
        if (i % 10 == 3) {
            cmd3(one, sizeof(one), "PING", NULL, NULL);
            kind[i] = 1;
        } else if (i % 10 == 7) {
            cmd3(one, sizeof(one), "SUM", key, key2);
            expect[i] = counts[k] + (k != (k + 5) % K ? counts[(k + 5) % K] : 0);
            kind[i] = 0;
        } else {
            cmd3(one, sizeof(one), "INCR", key, NULL);
            expect[i] = ++counts[k];
            kind[i] = 0;
        }
        size_t l = strlen(one);
        memcpy(big + len, one, l);
        len += l;
    }
    send_all(fd, big, len);
    reader r = {.fd = fd};
    for (int i = 0; i < N; i++) {
        char line[128];
        if (read_line(&r, line, sizeof(line)) < 0) {
            a->errors++;
            break;
        }
        if (kind[i] == 1) {
            if (strcmp(line, "+PONG") != 0) a->errors++;
        } else if (line[0] != ':' || atoll(line + 1) != expect[i]) {
            if (a->errors++ == 0)
                fprintf(stderr, "client %d reply %d: got '%s', want :%lld\n", a->id, i, line,
                        expect[i]);
        }
    }
    close(fd);
    return NULL;
}

static _Atomic int g_xfer_stop;

static void *xfer_client(void *p) {
    int *errors = p;
    int fd = client_connect();
    reader r = {.fd = fd};
    char buf[256], line[128];
    for (int i = 0; i < 2000; i++) {
        cmd3(buf, sizeof(buf), i % 2 ? "XFER1" : "XFER", "acct:a", "acct:b");
        send_all(fd, buf, strlen(buf));
        if (read_line(&r, line, sizeof(line)) < 0 || strcmp(line, "+OK")) (*errors)++;
    }
    g_xfer_stop = 1;
    close(fd);
    return NULL;
}

static void *sum_client(void *p) {
    int *errors = p;
    int fd = client_connect();
    reader r = {.fd = fd};
    char buf[256], line[128];
    int reads = 0;
    while (!g_xfer_stop || reads < 10) {
        cmd3(buf, sizeof(buf), reads % 2 ? "SUM1" : "SUM", "acct:a", "acct:b");
        send_all(fd, buf, strlen(buf));
        if (read_line(&r, line, sizeof(line)) < 0 || strcmp(line, ":0")) (*errors)++;
        reads++;
    }
    close(fd);
    return NULL;
}

static void *run_rt(void *p) {
    rt_run(p);
    return NULL;
}

static void run_engine(const char *engine, const char *expect) {
    printf("-- engine %s\n", engine);
    rt_config cfg = {0};
    cfg.io_engine = engine;
    cfg.bind[0] = "127.0.0.1";
    cfg.nbind = 1;
    cfg.nshards = NSHARDS;
    cfg.hz = 10;
    cfg.max_bulk_len = 512 << 20;
    cfg.seed = 42;
    char err[256];
    rt *r = NULL;
    for (int attempt = 0; attempt < 20 && !r; attempt++) {
        g_port = 20000 + (getpid() * 7 + attempt * 131) % 30000;
        cfg.port = g_port;
        r = rt_new(&cfg, &toy_ops, err, sizeof(err));
    }
    CHECK(r != NULL);
    if (!r) {
        printf("rt_new: %s\n", err);
        return;
    }
    CHECK(strcmp(rt_cfg(r)->io_engine, expect) == 0);
    /* The keys of the atomicity test must live on different shards. */
    CHECK(rt_key_shard(r, "acct:a", 6) != rt_key_shard(r, "acct:b", 6));
    pthread_t rtt;
    pthread_create(&rtt, NULL, run_rt, r);
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = client_connect();
        if (fd < 0) usleep(10000);
    }
    CHECK(fd >= 0);
    close(fd);

    /* Deep mixed pipelines from several connections at once. */
    enum { NC = 8 };
    pthread_t th[NC];
    pipe_arg pa[NC];
    for (int i = 0; i < NC; i++) {
        pa[i].id = i, pa[i].errors = 0;
        pthread_create(&th[i], NULL, pipeline_client, &pa[i]);
    }
    for (int i = 0; i < NC; i++) {
        pthread_join(th[i], NULL);
        CHECK(pa[i].errors == 0);
    }

    /* Atomic multi-shard transfer vs a multi-shard reader. */
    int xerr = 0, serr = 0;
    pthread_t tx1, tx2;
    pthread_create(&tx1, NULL, xfer_client, &xerr);
    pthread_create(&tx2, NULL, sum_client, &serr);
    pthread_join(tx1, NULL);
    pthread_join(tx2, NULL);
    CHECK(xerr == 0);
    CHECK(serr == 0);

    /* Final values read back: a = -2000, b = 2000. */
    fd = client_connect();
    reader rd = {.fd = fd};
    char buf[128], line[128];
    cmd3(buf, sizeof(buf), "GET", "acct:a", NULL);
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(strcmp(line, ":-2000") == 0);
    cmd3(buf, sizeof(buf), "GET", "acct:b", NULL);
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(strcmp(line, ":2000") == 0);
    cmd3(buf, sizeof(buf), "NOMULTI", "acct:a", "acct:b");
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(strcmp(line, "-ERR this command's keys must live on one shard") == 0);
    cmd3(buf, sizeof(buf), "NOMULTI", "acct:a", "acct:a");
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(strcmp(line, ":-4000") == 0);
    cmd3(buf, sizeof(buf), "NOPE", NULL, NULL);
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(strcmp(line, "-ERR unknown") == 0);
    close(fd);

    /* A deep pipeline of mostly remote requests grows the connection's
     * reply-slot ring. It stays grown right after the batch (the next deep
     * batch reuses it) and shrinks back once the connection has been idle
     * for a second with every reply out. */
    fd = client_connect();
    rd = (reader){.fd = fd};
    enum { DEEP = 600 };
    static char deep[DEEP * 40];
    size_t dlen = 0;
    for (int i = 0; i < DEEP; i++) {
        char key[16];
        snprintf(key, sizeof(key), "deep:%d", i);
        cmd3(deep + dlen, sizeof(deep) - dlen, "GET", key, NULL);
        dlen += strlen(deep + dlen);
    }
    send_all(fd, deep, dlen);
    int deep_ok = 1;
    for (int i = 0; i < DEEP; i++)
        deep_ok &= read_line(&rd, line, sizeof(line)) >= 0 && strcmp(line, "$-1") == 0;
    CHECK(deep_ok);
    cmd3(buf, sizeof(buf), "SLOTS", NULL, NULL);
    send_all(fd, buf, strlen(buf));
    read_line(&rd, line, sizeof(line));
    CHECK(line[0] == ':' && atoi(line + 1) >= 256);
    int shrunk = 0;
    for (int tries = 0; tries < 4 && !shrunk; tries++) {
        usleep(1500 * 1000); /* idle: each SLOTS restarts the second */
        send_all(fd, buf, strlen(buf));
        read_line(&rd, line, sizeof(line));
        shrunk = strcmp(line, ":16") == 0;
    }
    CHECK(shrunk);
    close(fd);

    rt_stop(r);
    pthread_join(rtt, NULL);
    rt_free(r);
}

/* rt_new that fails (here: a shard cannot listen) frees what it made and
 * nothing else: the shards not set up yet must not close fd 0. */
static void test_new_failure_keeps_fds(void) {
    if (fcntl(0, F_GETFD) < 0) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd > 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
    rt_config cfg = {.nshards = NSHARDS, .io_engine = "epoll", .nbind = 1, .port = 1};
    cfg.bind[0] = "192.0.2.1"; /* TEST-NET-1: not an address of this host */
    char err[256];
    CHECK(rt_new(&cfg, &toy_ops, err, sizeof(err)) == NULL);
    CHECK(fcntl(0, F_GETFD) >= 0);
}

/* redis.conf's cpulist syntax: CPUs in the order written. */
static void test_parse_cpulist(void) {
    int c[8];
    CHECK(rt_parse_cpulist("", c, 8) == 0);
    CHECK(rt_parse_cpulist(NULL, c, 8) == 0);
    CHECK(rt_parse_cpulist("3", c, 8) == 1 && c[0] == 3);
    CHECK(rt_parse_cpulist("0-3", c, 8) == 4 && c[0] == 0 && c[3] == 3);
    CHECK(rt_parse_cpulist("0-7:2", c, 8) == 4 && c[1] == 2 && c[3] == 6);
    CHECK(rt_parse_cpulist("5,1-2,9", c, 8) == 4 && c[0] == 5 && c[1] == 1 && c[2] == 2 &&
          c[3] == 9);
    CHECK(rt_parse_cpulist("0-15", c, 8) == 16 && c[7] == 7); /* counted past max */
    const char *bad[] = {"x", "1-", "3-1", "0-4:0", "0-4:", ",", "0,,1", "1,", "-1", "2 ", "99999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(rt_parse_cpulist(bad[i], c, 8) == -1);
}

int main(void) {
    test_parse_cpulist();
    test_new_failure_keeps_fds();
    char why[256] = "";
    int have_uring = ur_supported(why, sizeof(why));
    if (!have_uring) printf("io_uring not available: %s\n", why);
    const char *only = getenv("RT_TEST_ENGINE");
    if (only && *only) {
        if (!strcmp(only, "io_uring") && !have_uring) {
            /* Asked for explicitly: rt_new must refuse. */
            rt_config cfg = {.nshards = 1, .io_engine = "io_uring"};
            char err[256];
            CHECK(rt_new(&cfg, &toy_ops, err, sizeof(err)) == NULL);
        } else {
            run_engine(only, !strcmp(only, "epoll") || !have_uring ? "epoll" : "io_uring");
        }
        UNIT_DONE();
    }
    /* A bad engine name is refused. */
    rt_config bad = {.nshards = 1, .io_engine = "kqueue"};
    char err[256];
    CHECK(rt_new(&bad, &toy_ops, err, sizeof(err)) == NULL);
    run_engine("epoll", "epoll");
    if (have_uring) run_engine("io_uring", "io_uring");
    UNIT_DONE();
}
