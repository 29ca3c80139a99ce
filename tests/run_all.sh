#!/bin/bash
# run_all.sh -- everything `make test` runs, in order:
#   1. tests/deps.sh (packages; quick when already installed)
#   2. plain build: server, unit tests, the integration suite once per I/O
#      engine: `integ` with the default (auto: io_uring where the kernel has
#      it) and `integ-epoll` with PERCORE_ARGS="--io-engine epoll"
#   3. ASan+UBSan build (build-asan/): unit tests and the integration suite,
#      again once per engine
#   4. TSan build (build-tsan/): the ring, lazy-free, io_uring-ring and runtime unit
#      tests (the latter with a toy command set, on each engine) and the cross-shard
#      pipeline stress and key-lock modules on each engine
#   5. the benchmark suite in quick mode (it must run; numbers unchecked)
# Each stage's counts are added up; the last line printed is the total as
# "N passed, N failed". A build that fails, or a test program that dies
# without reporting, counts as one failure. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
JOBS=${JOBS:-2}
TMP=$(mktemp -d /tmp/percore-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

total_pass=0
total_fail=0
summary=()

add() { # stage passed failed
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    summary+=("$(printf '%-28s %6d passed, %d failed' "$1" "$2" "$3")")
}

banner() { printf '\n======== %s ========\n' "$*"; }

# build STAGE MAKE-ARGS...: run make; on failure count one failure.
build() {
    local stage=$1
    shift
    banner "$stage: make $*"
    if make "$@"; then
        return 0
    fi
    add "$stage" 0 1
    return 1
}

# unit STAGE DIR: run the unit-test binaries in DIR.
unit() {
    local stage=$1 dir=$2 log="$TMP/unit.log" line p f
    banner "$stage: unit tests in $dir"
    tests/run_unit.sh "$dir" 2>&1 | tee "$log"
    line=$(tail -n 1 "$log")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]}
        f=${BASH_REMATCH[2]}
    else
        p=0
        f=1
    fi
    add "$stage" "$p" "$f"
}

# integ STAGE BIN PYTEST-ARGS...: run pytest against percore binary BIN.
integ() {
    local stage=$1 bin=$2 xml="$TMP/junit-$1.xml" rc counts p f
    shift 2
    banner "$stage: pytest $* (PERCORE_BIN=$bin)"
    rm -f "$xml"
    PERCORE_BIN=$bin timeout -k 30 2400 "$PY" -m pytest -q -p no:cacheprovider \
        --junitxml="$xml" "$@"
    rc=$?
    if counts=$("$PY" - "$xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
cases = [c for s in suites for c in s.iter("testcase")]
bad = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
skipped = sum(1 for c in cases if c.find("skipped") is not None and c.find("failure") is None
              and c.find("error") is None)
errors_outside = sum(int(s.get("errors", 0)) for s in suites) if not cases else 0
print(len(cases) - bad - skipped, bad + errors_outside)
PYEOF
    ); then
        p=${counts% *}
        f=${counts#* }
    else
        p=0
        f=1
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "!! pytest exited with status $rc"
        f=1
    fi
    add "$stage" "$p" "$f"
}

start=$(date +%s)

banner "dependencies"
if ! tests/deps.sh; then
    add deps 0 1
fi

# 1. Plain build.
if build build -j"$JOBS" all; then
    if build build-unit -j"$JOBS" unit-bins; then
        unit unit build/tests
    fi
    integ integ build/percore-server tests/integ
    PERCORE_ARGS="--io-engine epoll" integ integ-epoll build/percore-server tests/integ
fi

# 2. AddressSanitizer + UndefinedBehaviorSanitizer.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build asan -j"$JOBS" SAN=asan all unit-bins; then
    unit unit-asan build-asan/tests
    integ integ-asan build-asan/percore-server tests/integ
    PERCORE_ARGS="--io-engine epoll" integ integ-asan-epoll build-asan/percore-server tests/integ
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# 3. ThreadSanitizer: the cross-shard stress and key-lock tests only. ASLR is turned off
# for the server where allowed: TSan's fixed shadow layout can collide with
# high-entropy mmap randomisation on recent kernels.
export TSAN_OPTIONS=halt_on_error=1
if setarch "$(uname -m)" -R true 2>/dev/null; then
    export PERCORE_PREFIX="setarch $(uname -m) -R"
fi
if build tsan -j"$JOBS" SAN=tsan all build-tsan/tests/test_rt build-tsan/tests/test_ring build-tsan/tests/test_lazyfree build-tsan/tests/test_reactor; then
    mkdir -p "$TMP/tsan-unit"
    cp build-tsan/tests/test_rt build-tsan/tests/test_ring build-tsan/tests/test_lazyfree \
        build-tsan/tests/test_reactor "$TMP/tsan-unit/"
    unit unit-tsan "$TMP/tsan-unit"
    integ integ-tsan build-tsan/percore-server tests/integ/test_pipeline_stress.py \
        tests/integ/test_keylocks.py
    PERCORE_ARGS="--io-engine epoll" integ integ-tsan-epoll build-tsan/percore-server \
        tests/integ/test_pipeline_stress.py tests/integ/test_keylocks.py
fi
unset TSAN_OPTIONS PERCORE_PREFIX

# 4. The benchmark suite in its quick mode: it must run and read back
# everything it wrote (its numbers are not checked; bench/RESULTS.md is
# made by a full `make bench`).
banner "bench-quick: BENCH_QUICK=1 bench/run"
if BENCH_QUICK=1 bench/run; then
    add bench-quick 1 0
else
    add bench-quick 0 1
fi

banner "summary ($(( $(date +%s) - start )) s)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
