"""bench.py -- percore vs. the real redis-server, measured in one run.

Run through bench/run (`make bench`). Both servers start on free ports with
--save "" --appendonly no; percore uses its default thread count (online
cores) unless BENCH_THREADS is set. Sections (BENCH_ONLY=a,b selects some):

  throughput    redis-benchmark --csv (rps, p50, p99) for SET GET INCR LPUSH
                SADD ZADD HSET MSET(10 keys) at -c1 -P1, -c50 -P1, -c50 -P16
                and -d 16 B / 1 KB / 64 KB (INCR, SADD, ZADD ignore -d: 16 B
                only). Each (config, size) group starts with FLUSHALL and a
                prefill of the whole -r keyspace, so GET always hits. The
                servers alternate group by group, the order flips every round;
                the report keeps the median of BENCH_ROUNDS rounds. After each
                group the data is checked (see verify_group). A command
                percore answers "-ERR unknown command" to is reported n/a.
  instructions  valgrind --tool=callgrind, server started with --hz 1: total
                Ir (percore on its epoll engine, which valgrind can follow)
                of a run serving BENCH_CG_REQUESTS SET + as many GET (one
                client, no pipeline) minus the Ir of an idle run of the same
                length (startup, shutdown, timers), divided by the requests.
  memory        VmRSS growth per key of a fresh server after a pipelined load
                (measured from after a warm-up of the same load on 64 scratch
                keys, deleted again, so that buffers the load itself grows
                are not charged to the keys)
                of BENCH_MEM_KEYS distinct 16 B keys with 16 B values, with
                100 B values, and of 10-field hashes (16 B fields values);
                DBSIZE must equal the key count and sampled values must read
                back.
  idle          CPU time (utime+stime from /proc/PID/stat) of each server
                holding 100 idle connections for BENCH_IDLE_SECS seconds.
  onecore       per core: percore on one shard thread (--threads 1) against
                redis-server (one thread too) for SET and GET, 16 B, at
                -c50 -P1 and -c50 -P16, alternating, BENCH_ROUNDS rounds,
                with the CPU seconds each run cost the server and the client
                (getrusage of redis-benchmark): a client busy for nearly all
                of a run's wall time is the ceiling any server can show on
                this machine. Prefilled and read back as the throughput
                groups are.

Outputs: results.json, throughput.csv (every run), logs/ and callgrind files
under bench/out/ and the report (report.py) bench/RESULTS.md + results.png;
with BENCH_QUICK=1 all of it goes to bench/out/quick/, with BENCH_ONLY to
bench/out/partial/.
"""

import csv
import io
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import time

from lib import (HOST, BenchError, Server, bench_key, bench_value, send_expect,
                 is_unknown_command)
import report

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)


def env(name, default, conv=int):
    v = os.environ.get(name, "")
    return conv(v) if v != "" else default


QUICK = env("BENCH_QUICK", 0) == 1
ROUNDS = env("BENCH_ROUNDS", 1 if QUICK else 3)
SCALE = env("BENCH_SCALE", 0.02 if QUICK else 1.0, float)  # multiplies request counts
KEYSPACE = env("BENCH_KEYSPACE", 1000 if QUICK else 100000)  # -r for 16 B values
CG_REQUESTS = env("BENCH_CG_REQUESTS", 500 if QUICK else 20000)
MEM_KEYS = env("BENCH_MEM_KEYS", 10000 if QUICK else 1000000)
IDLE_SECS = env("BENCH_IDLE_SECS", 1.0 if QUICK else 5.0, float)
IDLE_CONNS = env("BENCH_IDLE_CONNS", 100)
THREADS = os.environ.get("BENCH_THREADS", "")
SECTIONS = {"throughput", "instructions", "memory", "idle", "onecore"}
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(","))) or SECTIONS
# Raw data and logs; only a full default-mode run writes bench/RESULTS.md.
OUT = os.path.join(BENCH, "out", *(["quick"] if QUICK else ["partial"] if ONLY != SECTIONS else []))
REPORT_DIR = OUT if QUICK or ONLY != SECTIONS else BENCH
PERCORE_BIN = os.path.join(REPO, os.environ.get("PERCORE_BIN", "build/percore-server"))
REDIS_BIN = "/usr/bin/redis-server"

CONFIGS = [(1, 1), (50, 1), (50, 16)]  # (clients, pipeline)
SIZES = [16, 1024, 65536]
TESTS = ["set", "get", "incr", "lpush", "sadd", "zadd", "hset", "mset"]
SIZED = {"set", "get", "lpush", "hset", "mset"}  # the tests whose value is -d bytes
# Requests per test at SCALE 1, sized for ~0.3-1 s per run on 2 cores.
BASE_N = {(1, 1): {16: 10000, 1024: 8000, 65536: 2000},
          (50, 1): {16: 50000, 1024: 40000, 65536: 4000},
          (50, 16): {16: 320000, 1024: 128000, 65536: 6400}}
# Commands a test needs (its own and those verify_group reads back with).
NEEDS = {"lpush": [("LPUSH", "bench:probe", "x"), ("LLEN", "bench:probe"),
                   ("LINDEX", "bench:probe", "0")],
         "sadd": [("SADD", "bench:probe", "x"), ("SCARD", "bench:probe"),
                  ("SMEMBERS", "bench:probe")],
         "zadd": [("ZADD", "bench:probe", "1", "x"), ("ZCARD", "bench:probe"),
                  ("ZRANGE", "bench:probe", "0", "-1", "WITHSCORES")],
         "hset": [("HSET", "bench:probe", "f", "v"), ("HLEN", "bench:probe"),
                  ("HKEYS", "bench:probe"), ("HGET", "bench:probe", "f")]}
COLLECTION = {"lpush": b"mylist", "sadd": b"myset", "zadd": b"myzset", "hset": b"myhash"}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def keyspace(size):
    """-r for a value size: KEYSPACE keys, capped to ~64 MiB of values."""
    return max(min(KEYSPACE, (64 << 20) // size), 100)


def requests(test, cfg, size):
    """-n for one run: BASE_N scaled, a tenth for MSET (10 keys each), at
    least 200, a multiple of the pipeline depth so that exactly n commands
    are sent."""
    n = max(200, int(BASE_N[cfg][size] * SCALE / (10 if test == "mset" else 1)))
    p = cfg[1]
    return (n + p - 1) // p * p


def start(name, extra=(), wrap=(), tag="", timeout=10.0, threads=None):
    """A running, PING-answering percore or redis-server (see lib.Server);
    threads: percore's --threads (default BENCH_THREADS, else its own)."""
    if name == "percore":
        threads = threads or THREADS
        threads = ("--threads", threads) if threads else ()
        return Server(name, PERCORE_BIN, os.path.join(OUT, "logs"), (*threads, *extra), wrap,
                      tag).wait_ready(timeout)
    return Server(name, REDIS_BIN, os.path.join(OUT, "logs"), extra, wrap, tag).wait_ready(timeout)


def available(srv):
    """The tests this server can run: those whose commands (NEEDS, sent on
    the scratch key bench:probe) are not answered "unknown command"."""
    ok = []
    for t in TESTS:
        if not any(is_unknown_command(srv.client, *a) for a in NEEDS.get(t, [])):
            ok.append(t)
        srv.client.delete("bench:probe")
    return ok


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def redis_benchmark(port, test, cfg, size, n, r, cpu=None):
    """One redis-benchmark run; returns (rps, p50_ms, p99_ms, wall seconds).
    cpu, a dict, gets the client's CPU seconds for the run ("client")."""
    cmd = ["redis-benchmark", "-h", HOST, "-p", str(port), "-c", str(cfg[0]), "-P", str(cfg[1]),
           "-n", str(n), "-d", str(size), "-r", str(r), "-t", test, "--csv"]
    c0 = children_cpu()
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = round(time.monotonic() - t0, 3)
    if cpu is not None:
        cpu["client"] = children_cpu() - c0
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    if p.returncode != 0 or len(rows) != 1:
        raise BenchError(f"{' '.join(cmd)} failed (rc {p.returncode}): {p.stdout}{p.stderr}")
    row = rows[0]
    return float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"]), wall


def prefill(srv, size, r):
    """Write every key of the -r keyspace with redis-benchmark's value."""
    v = bench_value(size)
    send_expect(srv.port, ((b"SET", bench_key(i), v) for i in range(r)), b"+OK\r\n",
                chunk=max(1, min(10000, (8 << 20) // size)))


def verify_group(srv, size, r, ran):
    """Read back what a group wrote; raise BenchError on any loss.

    ran: {test: requests}. Every key:N (N < r) must hold the -d value and
    DBSIZE must count exactly the keys written; INCR counters must
    sum to the INCR requests; LLEN mylist equals the LPUSH requests; set,
    sorted set and hash members have redis-benchmark's shape and hash
    values equal the -d value."""
    c, v, who = srv.client, bench_value(size), f"{srv.name} (-d {size})"
    try:
        send_expect(srv.port, ((b"GET", bench_key(i)) for i in range(r)), b"$%d\r\n%s\r\n" % (size, v),
                    chunk=max(1, min(10000, (8 << 20) // size)))
    except BenchError as e:
        raise BenchError(f"{who}: GET key:N, N = 0..{r - 1}: {e}") from None
    counters = 0
    if "incr" in ran:
        keys = list(c.scan_iter(match=b"counter:*", count=10000))
        total = sum(int(x) for i in range(0, len(keys), 1000) for x in c.mget(keys[i:i + 1000]))
        if total != ran["incr"]:
            raise BenchError(f"{who}: INCR counters sum to {total}, expected {ran['incr']}")
        counters = len(keys)
    member = re.compile(rb"element:\d{12}\Z")
    if "lpush" in ran:
        if c.llen("mylist") != ran["lpush"] or c.lindex("mylist", 0) != v or c.lindex("mylist", -1) != v:
            raise BenchError(f"{who}: mylist has {c.llen('mylist')} elements, expected {ran['lpush']}")
    if "sadd" in ran:
        m = c.smembers("myset")
        if not 0 < len(m) <= ran["sadd"] or c.scard("myset") != len(m) or not all(map(member.match, m)):
            raise BenchError(f"{who}: myset has {len(m)} members after {ran['sadd']} SADD")
    if "zadd" in ran:
        z = c.zrange("myzset", 0, -1, withscores=True)
        if not 0 < len(z) <= ran["zadd"] or c.zcard("myzset") != len(z) or \
                not all(member.match(m) and 0 <= s < r for m, s in z):
            raise BenchError(f"{who}: myzset has {len(z)} members after {ran['zadd']} ZADD")
    if "hset" in ran:
        f = c.hkeys("myhash")
        if not 0 < len(f) <= ran["hset"] or c.hlen("myhash") != len(f) or not all(map(member.match, f)):
            raise BenchError(f"{who}: myhash has {len(f)} fields after {ran['hset']} HSET")
        if any(c.hget("myhash", x) != v for x in random.sample(f, min(20, len(f)))):
            raise BenchError(f"{who}: a myhash field lost its value")
    want = r + counters + sum(t in ran for t in COLLECTION)
    if c.dbsize() != want:
        raise BenchError(f"{who}: DBSIZE {c.dbsize()}, expected {want}")


def run_group(srv, tests, cfg, size, r, rnd, cpu=False):
    """One group on srv: FLUSHALL, prefill, a redis-benchmark run per test,
    then everything read back. Returns the runs (dicts); cpu adds the CPU
    seconds each run cost the server and the client."""
    srv.client.flushall()
    prefill(srv, size, r)
    runs, ran = [], {}
    for t in tests:
        n = requests(t, cfg, size)
        used = {} if cpu else None
        s0 = srv.cpu_seconds() if cpu else 0
        rps, p50, p99, wall = redis_benchmark(srv.port, t, cfg, size, n, r, used)
        run = dict(round=rnd + 1, server=srv.name, test=t, clients=cfg[0], pipeline=cfg[1],
                   size=size, requests=n, keyspace=r, rps=rps, p50_ms=p50, p99_ms=p99, wall_s=wall)
        if cpu:
            run.update(server_cpu_s=round(srv.cpu_seconds() - s0, 3),
                       client_cpu_s=round(used["client"], 3))
        runs.append(run)
        ran[t] = n
    srv.alive()
    verify_group(srv, size, r, ran)
    return runs


def throughput(res):
    """All throughput rounds on one percore and one redis-server; fills
    res["available"] and res["throughput_runs"] (one dict per run)."""
    servers = [start("percore"), start("redis")]
    try:
        avail = {s.name: available(s) for s in servers}
        res["available"] = avail
        missing = sorted(set(TESTS) - set(avail["percore"]))
        if missing:
            log(f"percore lacks {', '.join(missing)}: reported n/a")
        if set(avail["redis"]) != set(TESTS):
            raise BenchError(f"redis-server lacks {set(TESTS) - set(avail['redis'])}")
        runs = []
        for rnd in range(ROUNDS):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for cfg in CONFIGS:
                for size in SIZES:
                    r = keyspace(size)
                    for srv in order:
                        tests = [t for t in avail[srv.name] if size == 16 or t in SIZED]
                        runs += run_group(srv, tests, cfg, size, r, rnd)
                    log(f"round {rnd + 1}/{ROUNDS}: -c {cfg[0]} -P {cfg[1]} -d {size} done, verified")
        res["throughput_runs"] = runs
        with open(os.path.join(OUT, "throughput.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(runs[0]))
            w.writeheader()
            w.writerows(runs)
    finally:
        for s in servers:
            s.stop()


def callgrind_ir(path):
    """Total Ir (all threads) from a callgrind output file."""
    if not os.path.exists(path):
        raise BenchError(f"valgrind wrote no profile {path}")
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise BenchError(f"no summary line in {path}")


def instructions(res):
    """Ir per request from a loaded and an idle callgrind run per server."""
    out = {}
    for name in ("percore", "redis"):
        ir, dur = {}, 0.0
        for kind in ("load", "idle"):
            cg = os.path.join(OUT, f"callgrind.{name}.{kind}.out")
            if os.path.exists(cg):  # a valgrind killed before writing must not leave an old profile
                os.remove(cg)
            wrap = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}")
            # valgrind cannot follow io_uring (the kernel fills ring memory
            # it does not see), so percore runs its epoll engine under it.
            extra = ("--hz", "1", "--io-engine", "epoll") if name == "percore" else ("--hz", "1")
            srv = start(name, extra, wrap, f".callgrind.{kind}", timeout=120)
            t0 = time.monotonic()
            if kind == "load":
                cmd = ["redis-benchmark", "-h", HOST, "-p", str(srv.port), "-c", "1", "-P", "1",
                       "-n", str(CG_REQUESTS), "-d", "16", "-r", str(KEYSPACE), "-t", "set,get", "-q"]
                subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
                if srv.client.dbsize() == 0:
                    raise BenchError(f"{name}: nothing written by the callgrind SET run")
                dur = time.monotonic() - t0
            else:
                time.sleep(dur)
            srv.stop(timeout=300)
            ir[kind] = callgrind_ir(cg)
        reqs = 2 * CG_REQUESTS
        out[name] = dict(requests=reqs, load_ir=ir["load"], idle_ir=ir["idle"], seconds=round(dur, 2),
                         ir_per_request=(ir["load"] - ir["idle"]) / reqs)
        log(f"instructions {name}: {out[name]['ir_per_request']:.0f} Ir/request")
    res["instructions"] = out


def mem_commands(kind, n):
    """The load for a memory kind: distinct 16 B keys key:%012d."""
    if kind == "hash10":
        return ((b"HSET", bench_key(i), *[x for j in range(10) for x in (b"f%d" % j, hash_value(i, j))])
                for i in range(n)), b":10\r\n"
    size = 16 if kind == "string16" else 100
    return ((b"SET", bench_key(i), str_value(i, size)) for i in range(n)), b"+OK\r\n"


def str_value(i, size):
    """Value i of a string memory load: distinct, `size` bytes."""
    return (b"%016d" % i).ljust(size, b"v")


def hash_value(i, j):
    """Value of field j of hash i in the hash memory load: 16 bytes."""
    return b"%014d-%d" % (i, j)


def warm_up(srv, kind):
    """Drive the same pipelined load through 64 scratch keys, then delete
    them: what a server grows once for the load itself (input, reply and
    message buffers) is then in the baseline, and the growth measured after
    is what the keys cost. (HMSET for the hash load: it answers +OK whether
    the fields are new or not.)"""
    n = min(MEM_KEYS, 200000)
    load, _ = mem_commands(kind, n)
    cmds = ((b"HMSET" if kind == "hash10" else c[0], b"bench:warm:%02d" % (i % 64), *c[2:])
            for i, c in enumerate(load))
    send_expect(srv.port, cmds, b"+OK\r\n")
    srv.client.delete(*[b"bench:warm:%02d" % i for i in range(64)])
    if srv.client.dbsize() != 0:
        raise BenchError(f"memory warm-up {srv.name}: scratch keys left behind")


def measure_memory(srv, kind, who):
    """Load MEM_KEYS keys of `kind` into srv (flushed and warmed up first),
    check them, and return RSS before/after and the growth per key."""
    srv.client.flushall()
    warm_up(srv, kind)
    time.sleep(0.2)
    before = srv.rss_kb()
    cmds, reply = mem_commands(kind, MEM_KEYS)
    send_expect(srv.port, cmds, reply)
    c = srv.client
    if c.dbsize() != MEM_KEYS:
        raise BenchError(f"{who}: DBSIZE {c.dbsize()} != {MEM_KEYS}")
    sample = random.sample(range(MEM_KEYS), min(1000, MEM_KEYS))
    if kind == "hash10":
        pipe = c.pipeline(transaction=False)
        for i in sample:
            pipe.hget(bench_key(i), b"f%d" % (i % 10))
            pipe.hlen(bench_key(i))
        got = pipe.execute()
        want = [x for i in sample for x in (hash_value(i, i % 10), 10)]
    else:
        got = c.mget([bench_key(i) for i in sample])
        want = [str_value(i, 16 if kind == "string16" else 100) for i in sample]
    if got != want:
        raise BenchError(f"{who}: values read back differ from those written")
    after = srv.rss_kb()
    return dict(keys=MEM_KEYS, rss_before_kb=before, rss_after_kb=after,
                bytes_per_key=(after - before) * 1024 / MEM_KEYS)


def memory(res):
    """RSS growth per key for each kind on a fresh server of each kind."""
    out = {}
    for kind in ("string16", "string100", "hash10"):
        out[kind] = {}
        for name in ("percore", "redis"):
            srv = start(name, tag=f".mem.{kind}")
            try:
                if kind == "hash10" and any(is_unknown_command(srv.client, *a) for a in NEEDS["hset"]):
                    log(f"memory {kind}: {name} lacks hashes: n/a")
                    out[kind][name] = None
                    continue
                out[kind][name] = measure_memory(srv, kind, f"memory {kind} {name}")
                log(f"memory {kind} {name}: {out[kind][name]['bytes_per_key']:.1f} B/key, verified")
            finally:
                srv.stop()
    res["memory"] = out


def idle(res):
    """CPU used by each server holding IDLE_CONNS idle connections."""
    servers = [start("percore", tag=".idle"), start("redis", tag=".idle")]
    socks = []
    try:
        for s in servers:
            for _ in range(IDLE_CONNS):
                k = socket.create_connection((HOST, s.port))
                k.sendall(b"PING\r\n")
                if k.recv(16) != b"+PONG\r\n":
                    raise BenchError(f"{s.name}: no PONG on an idle connection")
                socks.append(k)
        time.sleep(1)
        t0 = [s.cpu_seconds() for s in servers]
        time.sleep(IDLE_SECS)
        t1 = [s.cpu_seconds() for s in servers]
        res["idle"] = {s.name: dict(connections=IDLE_CONNS, seconds=IDLE_SECS,
                                    cpu_seconds=round(b - a, 3), cpu_percent=(b - a) / IDLE_SECS * 100)
                       for s, a, b in zip(servers, t0, t1)}
        log("idle: " + ", ".join(f"{k} {v['cpu_percent']:.2f}% CPU" for k, v in res["idle"].items()))
    finally:
        for k in socks:
            k.close()
        for s in servers:
            s.stop()


ONECORE_TESTS = ["set", "get"]
ONECORE_CONFIGS = [(50, 1), (50, 16)]


def onecore(res):
    """Per core: percore --threads 1 against redis-server; fills
    res["onecore_runs"]."""
    servers = [start("percore", tag=".1t", threads="1"), start("redis", tag=".1t")]
    try:
        runs = []
        size, r = 16, keyspace(16)
        for rnd in range(ROUNDS):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for cfg in ONECORE_CONFIGS:
                for srv in order:
                    runs += run_group(srv, ONECORE_TESTS, cfg, size, r, rnd, cpu=True)
            log(f"onecore round {rnd + 1}/{ROUNDS} done, verified")
        res["onecore_runs"] = runs
    finally:
        for s in servers:
            s.stop()


def main():
    os.makedirs(OUT, exist_ok=True)
    started = time.time()
    res = dict(quick=QUICK, rounds=ROUNDS, scale=SCALE, keyspace=KEYSPACE, cg_requests=CG_REQUESTS,
               mem_keys=MEM_KEYS, idle_secs=IDLE_SECS,
               threads=THREADS or str(os.sysconf("SC_NPROCESSORS_ONLN")),
               sections=sorted(ONLY), started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               loadavg_start=open("/proc/loadavg").read().split()[:3])
    for name, fn in (("throughput", throughput), ("instructions", instructions),
                     ("memory", memory), ("idle", idle), ("onecore", onecore)):
        if name in ONLY:
            log(f"{name} ...")
            fn(res)
    res["seconds"] = round(time.time() - started, 1)
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    report.write(res, REPORT_DIR, OUT)
    log(f"done in {res['seconds']} s: {os.path.join(REPORT_DIR, 'RESULTS.md')}")


if __name__ == "__main__":
    try:
        main()
    except (BenchError, subprocess.SubprocessError) as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
