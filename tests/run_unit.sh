#!/bin/bash
# run_unit.sh DIR -- run every unit-test binary in DIR, show its output, and
# end with one line "N passed, N failed" summing their own summary lines.
# A binary that crashes or exits non-zero without reporting a failure counts
# as one failure. Exits non-zero when anything failed.
set -uo pipefail

dir=${1:?usage: run_unit.sh DIR}
passed=0
failed=0

if [ -d "$dir" ]; then
    for t in "$dir"/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        echo "== $t"
        out=$("$t" 2>&1)
        rc=$?
        printf '%s\n' "$out"
        line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
        if [ -n "$line" ]; then
            p=${line%% passed*}
            f=${line#*passed, }
            f=${f%% failed*}
        else
            p=0
            f=0
        fi
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "!! $t exited with status $rc"
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
