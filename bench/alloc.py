"""alloc.py -- percore's memory and throughput under three allocators.

Run through bench/alloc (`make bench-alloc`). The same percore code runs
linked with glibc's malloc (build-libc/), with mimalloc (build/, the
default) and with jemalloc (the glibc build with libjemalloc preloaded).
For each: VmRSS growth per key for the loads of bench.py's memory section
(values read back), and redis-benchmark SET/GET rps at -c 50 -P 16 and
-c 50 -P 1 (median of BENCH_ROUNDS, allocators alternating within a round).
Writes bench/ALLOCATORS.md (BENCH_QUICK=1: bench/out/quick/ALLOCATORS.md).
"""
import os
import statistics
import subprocess
import time

import bench

JEMALLOC = "/lib/x86_64-linux-gnu/libjemalloc.so.2"
VARIANTS = [("glibc", "build-libc/percore-server", ()),
            ("mimalloc", "build/percore-server", ()),
            ("jemalloc", "build-libc/percore-server", ("env", f"LD_PRELOAD={JEMALLOC}"))]


def start(binary, wrap):
    bench.PERCORE_BIN = os.path.join(bench.REPO, binary)
    return bench.start("percore", wrap=wrap, tag=".alloc")


def memory(binary, wrap, kind):
    srv = start(binary, wrap)
    try:
        return bench.measure_memory(srv, kind, f"alloc {binary} {kind}")["bytes_per_key"]
    finally:
        srv.stop()


def rps(binary, wrap, pipeline):
    srv = start(binary, wrap)
    try:
        n = 400000 if pipeline > 1 else 60000
        out = subprocess.run(["redis-benchmark", "-h", bench.HOST, "-p", str(srv.port), "-c", "50",
                              "-P", str(pipeline), "-n", str(n), "-r", "100000", "-t", "set,get",
                              "--csv"], check=True, capture_output=True, text=True).stdout
        got = {}
        for line in out.splitlines()[1:]:
            cols = [c.strip('"') for c in line.split(",")]
            got[cols[0]] = float(cols[1])
        if srv.client.dbsize() == 0:
            raise bench.BenchError(f"alloc {binary}: the SET run wrote nothing")
        return got
    finally:
        srv.stop()


def main():
    kinds = ("string16", "string100", "hash10")
    mem = {v[0]: {k: memory(v[1], v[2], k) for k in kinds} for v in VARIANTS}
    thr = {v[0]: {p: {"SET": [], "GET": []} for p in (16, 1)} for v in VARIANTS}
    for r in range(bench.ROUNDS):
        order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]
        for name, binary, wrap in order:
            for p in (16, 1):
                got = rps(binary, wrap, p)
                for t in ("SET", "GET"):
                    thr[name][p][t].append(got[t])
        bench.log(f"alloc round {r + 1} done")
    lines = ["# percore under three allocators", "",
             f"Produced by bench/alloc on {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; "
             f"{os.cpu_count()} cores, redis-benchmark on the same cores; percore with its default "
             "threads and io-engine. Memory: VmRSS growth per key after the loads of bench.py's "
             f"memory section ({bench.MEM_KEYS:,} keys, after the same warm-up). Throughput: "
             f"median of {bench.ROUNDS} rounds, -r 100000.", "",
             "| allocator | string16 B/key | string100 B/key | hash10 B/key "
             "| SET -P 16 | GET -P 16 | SET -P 1 | GET -P 1 |", "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for name, _, _ in VARIANTS:
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
