#!/bin/bash
# run_unit.sh DIR -- run every unit-test binary in DIR, show its output, and
# end with one line "N passed, N failed" where each binary (one per source
# module) counts as one test: passed when it reports no failed check and
# exits 0. The number of checks each ran is shown beside it. Exits non-zero
# when anything failed.
set -uo pipefail

dir=${1:?usage: run_unit.sh DIR}
passed=0
failed=0

if [ -d "$dir" ]; then
    for t in "$dir"/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        echo "== $t"
        out=$(timeout -k 10 900 "$t" 2>&1) # a hung binary fails, not the run
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
        if [ "$f" -eq 0 ]; then
            passed=$((passed + 1))
            echo "-- $(basename "$t"): ok ($p checks)"
        else
            failed=$((failed + 1))
            echo "-- $(basename "$t"): FAILED ($f of $((p + f)) checks failed)"
        fi
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
