"""report.py -- turns bench.py's results into RESULTS.md and results.png.

Throughput figures are medians over the rounds of each (server, command,
clients, pipeline, size); ratios are percore / redis (above 1 is better for
throughput, below 1 is better for latency, instructions, memory and CPU).
The plot (plot.gp, gnuplot) shows the throughput ratio of every case.
"""

import math
import os
import platform
import statistics
import subprocess

BENCH = os.path.dirname(os.path.abspath(__file__))
CONFIGS = [(1, 1), (50, 1), (50, 16)]
SIZE_NAME = {16: "16 B", 1024: "1 KB", 65536: "64 KB"}
TEST_NAME = {"mset": "MSET (10 keys)"}


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH).stdout.strip()
    except OSError:
        return "?"


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "?")
    commit = sh("git", "rev-parse", "--short", "HEAD")
    if sh("git", "status", "--porcelain", "--", "../src"):
        commit += " + uncommitted changes in src/"
    return dict(nproc=os.sysconf("SC_NPROCESSORS_ONLN"), cpu=model, kernel=platform.release(),
                commit=commit, redis=sh("redis-server", "--version"))


def medians(runs):
    """{(test, clients, pipeline, size): {server: (rps, p50, p99, requests)}}"""
    groups = {}
    for r in runs:
        key = (r["test"], r["clients"], r["pipeline"], r["size"])
        groups.setdefault(key, {}).setdefault(r["server"], []).append(r)
    return {k: {s: (statistics.median(x["rps"] for x in v), statistics.median(x["p50_ms"] for x in v),
                    statistics.median(x["p99_ms"] for x in v), v[0]["requests"])
                for s, v in by.items()} for k, by in groups.items()}


def ratio(a, b):
    ok = a is not None and b and math.isfinite(a) and math.isfinite(b)
    return f"{a / b:.2f}" if ok else "n/a"


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def throughput_section(res, lines):
    med = medians(res["throughput_runs"])
    tests = ["set", "get", "incr", "lpush", "sadd", "zadd", "hset", "mset"]
    plot, geo = [], {}
    lines += ["## Throughput and latency (redis-benchmark, median of "
              f"{res['rounds']} round{'s' if res['rounds'] > 1 else ''})", "",
              "rps: requests per second; p50/p99: latency in ms as redis-benchmark reports it; "
              "ratio: percore / redis. n/a: percore does not have the command yet.", "",
              "| command | value | -c | -P | -n | percore rps | redis rps | rps ratio | percore p50 "
              "| redis p50 | p50 ratio | percore p99 | redis p99 | p99 ratio |",
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for cfg in CONFIGS:
        for size in SIZE_NAME:
            for t in tests:
                m = med.get((t, cfg[0], cfg[1], size))
                if not m:
                    continue
                p, r = m.get("percore", (None,) * 4), m["redis"]
                lines.append(f"| {TEST_NAME.get(t, t.upper())} | {SIZE_NAME[size]} | {cfg[0]} | {cfg[1]} "
                             f"| {r[3]} | {fmt(p[0], ',.0f')} | {r[0]:,.0f} | {ratio(p[0], r[0])} "
                             f"| {fmt(p[1], '.3f')} | {r[1]:.3f} | {ratio(p[1], r[1])} "
                             f"| {fmt(p[2], '.3f')} | {r[2]:.3f} | {ratio(p[2], r[2])} |")
                if ratio(p[0], r[0]) != "n/a" and p[0] > 0:
                    geo.setdefault(cfg, []).append(math.log(p[0] / r[0]))
    for size in SIZE_NAME:
        for t in tests:
            row = [med.get((t, c, p, size), {}) for c, p in CONFIGS]
            if any(row):
                vals = [ratio(x["percore"][0], x["redis"][0]) if "percore" in x else "n/a" for x in row]
                vals = ["NaN" if v == "n/a" else v for v in vals]
                na = " (n/a)" if all(v == "NaN" for v in vals) else ""
                plot.append(f"\"{t.upper()} {SIZE_NAME[size].replace(' ', '')}{na}\" {' '.join(vals)}")
    lines.append("")
    summary = ", ".join(f"-c {c} -P {p}: {math.exp(sum(v) / len(v)):.2f}" for (c, p), v in geo.items())
    return plot, summary


def onecore_section(res, lines, summ):
    """percore --threads 1 vs redis-server, with CPU per request and how
    busy the client was."""
    groups = {}
    for r in res["onecore_runs"]:
        groups.setdefault((r["test"], r["clients"], r["pipeline"]), {}).setdefault(
            r["server"], []).append(r)
    lines += ["## Per core: percore on one thread (--threads 1) vs redis-server", "",
              f"SET and GET, 16 B values, median of {res['rounds']} rounds. CPU µs/request: the "
              "server's CPU time (utime+stime, all threads) over the requests; client busy: "
              "redis-benchmark's CPU time over the run's wall time. A client near 100% busy is the "
              "limit of what this machine can show for any server.", "",
              "| command | -c | -P | percore rps | redis rps | rps ratio | percore CPU µs/req "
              "| redis CPU µs/req | CPU ratio | client busy with percore | client busy with redis |",
              "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for (t, c, p), by in groups.items():
        med = {}
        for srv, v in by.items():
            med[srv] = (statistics.median(x["rps"] for x in v),
                        statistics.median(x["server_cpu_s"] / x["requests"] * 1e6 for x in v),
                        statistics.median(x["client_cpu_s"] / x["wall_s"] * 100 for x in v))
        pc, rd = med.get("percore"), med.get("redis")
        if not pc or not rd:
            continue
        lines.append(f"| {t.upper()} | {c} | {p} | {pc[0]:,.0f} | {rd[0]:,.0f} | {ratio(pc[0], rd[0])} "
                     f"| {pc[1]:.2f} | {rd[1]:.2f} | {ratio(pc[1], rd[1])} | {pc[2]:.0f}% | {rd[2]:.0f}% |")
        summ.append(f"| one thread: {t.upper()} -c {c} -P {p} rps | {pc[0]:,.0f} | {rd[0]:,.0f} "
                    f"| {ratio(pc[0], rd[0])} |")
    lines.append("")


def write(res, dest, raw):
    """Write dest/RESULTS.md (and dest/results.png when there is throughput);
    raw: the directory of the run's raw data (plot data goes there too)."""
    os.makedirs(dest, exist_ok=True)
    m = machine()
    lines = ["# percore vs redis-server: benchmark results", "",
             f"Produced by `make bench` (bench/run) on {res['started']}"
             f"{' in quick mode (BENCH_QUICK=1: tiny counts, not meaningful)' if res['quick'] else ''}; "
             f"took {res['seconds']} s.", "",
             f"- machine: {m['nproc']} online cores, {m['cpu']}, Linux {m['kernel']}; "
             f"load average (1/5/15 min) at start {' '.join(res['loadavg_start'])}, at the end "
             f"{' '.join(res['loadavg_end'])}",
             f"- percore {m['commit']}, {res['threads']} threads; {m['redis']}",
             "- both servers: 127.0.0.1, --save \"\" --appendonly no; redis-benchmark and both servers "
             "share the same cores, so on a small machine the client competes with the server",
             f"- knobs: BENCH_ROUNDS={res['rounds']} BENCH_SCALE={res['scale']} "
             f"BENCH_KEYSPACE={res['keyspace']} BENCH_CG_REQUESTS={res['cg_requests']} "
             f"BENCH_MEM_KEYS={res['mem_keys']} BENCH_IDLE_SECS={res['idle_secs']} "
             "(see bench/bench.py)", ""]
    body, plot, summary = [], [], ""
    if "throughput_runs" in res:
        plot, summary = throughput_section(res, body)
    summ = ["## Summary (percore / redis)", "", "| measure | percore | redis | ratio |",
            "|---|--:|--:|--:|"]
    if summary:
        summ.append(f"| throughput, geometric mean of rps ratios | | | {summary} |")
    if "instructions" in res:
        i = res["instructions"]
        p, r = i["percore"], i["redis"]
        summ.append(f"| user-space instructions / request (SET+GET, 1 client) | {p['ir_per_request']:,.0f} "
                    f"| {r['ir_per_request']:,.0f} | {ratio(p['ir_per_request'], r['ir_per_request'])} |")
        body += ["## Instructions per request (valgrind --tool=callgrind, --hz 1)", "",
                 f"redis-benchmark -c 1 -P 1 -d 16 -r {res['keyspace']} -t set,get -n {res['cg_requests']}"
                 f" ({p['requests']} requests). Ir/request = (Ir of that run - Ir of an idle run "
                 "of the same length: startup, timers, shutdown) / requests; every thread counted. "
                 "percore runs --io-engine epoll here (valgrind does not follow io_uring's shared "
                 "rings); the throughput runs use its default engine.", "",
                 "| server | requests | Ir loaded run | Ir idle run | seconds | Ir / request |",
                 "|---|--:|--:|--:|--:|--:|"]
        body += [f"| {n} | {x['requests']} | {x['load_ir']:,} | {x['idle_ir']:,} | {x['seconds']} "
                 f"| {x['ir_per_request']:,.0f} |" for n, x in i.items()]
        body.append("")
    if "memory" in res:
        body += ["## Memory (VmRSS growth per key, fresh server each)", "",
                 f"{res['mem_keys']:,} distinct keys key:%012d (16 B), loaded pipelined after a "
                 "warm-up of the same load on 64 scratch keys (deleted before the baseline); DBSIZE and "
                 "1,000 sampled values checked. string16: 16 B values; string100: 100 B values; "
                 "hash10: HSET of 10 fields f0..f9 with 16 B values.", "",
                 "| data | percore B/key | redis B/key | ratio | percore RSS before/after kB "
                 "| redis RSS before/after kB |", "|---|--:|--:|--:|--:|--:|"]
        for kind, by in res["memory"].items():
            p, r = by.get("percore"), by["redis"]
            pb = p and p["bytes_per_key"]
            prss = f"{p['rss_before_kb']} / {p['rss_after_kb']}" if p else "n/a"
            body.append(f"| {kind} | {fmt(pb, '.1f')} | {r['bytes_per_key']:.1f} "
                        f"| {ratio(pb, r['bytes_per_key'])} "
                        f"| {prss} "
                        f"| {r['rss_before_kb']} / {r['rss_after_kb']} |")
            summ.append(f"| bytes per key, {kind} | {fmt(pb, '.1f')} | {r['bytes_per_key']:.1f} "
                        f"| {ratio(pb, r['bytes_per_key'])} |")
        body.append("")
    if "idle" in res:
        p, r = res["idle"]["percore"], res["idle"]["redis"]
        body += ["## Idle CPU", "",
                 f"{p['connections']} idle connections, utime+stime over {p['seconds']} s "
                 f"(/proc/PID/stat, all threads; resolution {1000 // os.sysconf('SC_CLK_TCK')} ms); default hz.", "",
                 "| server | CPU seconds | CPU % of one core |", "|---|--:|--:|",
                 f"| percore | {p['cpu_seconds']} | {p['cpu_percent']:.2f} |",
                 f"| redis | {r['cpu_seconds']} | {r['cpu_percent']:.2f} |", ""]
        summ.append(f"| idle CPU % (100 connections) | {p['cpu_percent']:.2f} | {r['cpu_percent']:.2f} "
                    f"| {ratio(p['cpu_percent'], r['cpu_percent'])} |")
    if "onecore_runs" in res:
        onecore_section(res, body, summ)
    if plot:
        png = os.path.join(dest, "results.png")
        dat = os.path.join(raw, "plot.dat")
        with open(dat, "w") as f:
            f.write("# case c1P1 c50P1 c50P16\n" + "\n".join(plot) + "\n")
        subprocess.run(["gnuplot", "-e", f"datafile='{dat}'; outfile='{png}'",
                        os.path.join(BENCH, "plot.gp")], check=True)
        summ += ["", "![throughput ratio per case](results.png)"]
    checks = ["## Checks", "",
              "Every throughput group starts from FLUSHALL plus a prefill of its keyspace and is read back "
              "afterwards: every key:N is read back and holds redis-benchmark's -d value, DBSIZE exact, INCR "
              "counters sum to the INCR requests, LLEN equals the LPUSH requests, set/zset/hash members "
              "well-formed, hash values equal the -d value. Memory loads: DBSIZE equals the key count "
              "on both servers and 1,000 sampled values read back. Raw data: "
              f"{os.path.relpath(raw, os.path.dirname(BENCH))}/results.json and throughput.csv.", ""]
    with open(os.path.join(dest, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines + summ + [""] + body + checks))
