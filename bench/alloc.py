"""alloc.py -- percore's memory and throughput under three allocators.

Run through bench/alloc (`make bench-alloc`). The same percore code runs
linked with glibc's malloc (build-libc/), with mimalloc (build/, the
default) and with jemalloc (the glibc build with libjemalloc preloaded).
For each: VmRSS growth per key for the loads of bench.py's memory section
(values read back), and redis-benchmark SET/GET rps at -c 50 -P 16 and
-c 50 -P 1 over a prefilled keyspace, read back after each run (median of
BENCH_ROUNDS, allocators alternating within a round). Each server is checked
to report the allocator it is measured as.
Writes bench/ALLOCATORS.md (BENCH_QUICK=1: bench/out/quick/ALLOCATORS.md).
"""
import os
import statistics
import subprocess
import time

import bench

JEMALLOC = "/lib/x86_64-linux-gnu/libjemalloc.so.2"
# (name, binary, wrapper, what INFO's mem_allocator must start with)
VARIANTS = [("glibc", "build-libc/percore-server", (), "libc"),
            ("mimalloc", "build/percore-server", (), "mimalloc"),
            ("jemalloc", "build-libc/percore-server", ("env", f"LD_PRELOAD={JEMALLOC}"), "jemalloc")]


def start(binary, wrap, alloc):
    """percore from binary, checked to run on the allocator it is measured as
    (a preload that did not take would measure glibc under another name)."""
    bench.PERCORE_BIN = os.path.join(bench.REPO, binary)
    srv = bench.start("percore", wrap=wrap, tag=".alloc")
    got = srv.client.info("memory")["mem_allocator"]
    if not str(got).startswith(alloc):
        srv.stop()
        raise bench.BenchError(f"alloc {binary}: mem_allocator is {got}, expected {alloc}")
    return srv


def memory(binary, wrap, alloc, kind):
    srv = start(binary, wrap, alloc)
    try:
        return bench.measure_memory(srv, kind, f"alloc {binary} {kind}")["bytes_per_key"]
    finally:
        srv.stop()


def rps(binary, wrap, alloc, pipeline):
    """SET and GET rps over a prefilled keyspace (every GET hits), read back
    afterwards."""
    srv = start(binary, wrap, alloc)
    try:
        n = max(1000, int((400000 if pipeline > 1 else 60000) * bench.SCALE))
        bench.prefill(srv, 16, bench.KEYSPACE)
        out = subprocess.run(["redis-benchmark", "-h", bench.HOST, "-p", str(srv.port), "-c", "50",
                              "-P", str(pipeline), "-n", str(n), "-r", str(bench.KEYSPACE),
                              "-d", "16", "-t", "set,get", "--csv"],
                             check=True, capture_output=True, text=True).stdout
        got = {}
        for line in out.splitlines()[1:]:
            cols = [c.strip('"') for c in line.split(",")]
            got[cols[0]] = float(cols[1])
        bench.verify_group(srv, 16, bench.KEYSPACE, {"set": n, "get": n})
        return got
    finally:
        srv.stop()


def main():
    kinds = ("string16", "string100", "hash10")
    mem = {v[0]: {k: memory(v[1], v[2], v[3], k) for k in kinds} for v in VARIANTS}
    thr = {v[0]: {p: {"SET": [], "GET": []} for p in (16, 1)} for v in VARIANTS}
    for r in range(bench.ROUNDS):
        order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]
        for name, binary, wrap, alloc in order:
            for p in (16, 1):
                got = rps(binary, wrap, alloc, p)
                for t in ("SET", "GET"):
                    thr[name][p][t].append(got[t])
        bench.log(f"alloc round {r + 1} done")
    lines = ["# percore under three allocators", "",
             f"Produced by bench/alloc on {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; "
             f"{os.cpu_count()} cores, redis-benchmark on the same cores; percore with its default "
             "threads and io-engine. Memory: VmRSS growth per key after the loads of bench.py's "
             f"memory section ({bench.MEM_KEYS:,} keys, after the same warm-up). Throughput: "
             f"median of {bench.ROUNDS} rounds, -d 16 over a prefilled -r {bench.KEYSPACE} "
             "keyspace, read back after each run.", "",
             "| allocator | string16 B/key | string100 B/key | hash10 B/key "
             "| SET -P 16 | GET -P 16 | SET -P 1 | GET -P 1 |", "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for name, *_ in VARIANTS:
        m, t = mem[name], thr[name]
        lines.append(f"| {name} | {m['string16']:.1f} | {m['string100']:.1f} | {m['hash10']:.1f} | "
                     + " | ".join(f"{statistics.median(t[p][c]):,.0f}"
                                  for p, c in ((16, "SET"), (16, "GET"), (1, "SET"), (1, "GET")))
                     + " |")
    with open(os.path.join(bench.REPORT_DIR, "ALLOCATORS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
