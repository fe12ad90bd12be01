#!/usr/bin/env bash
# test/run.sh: runs every test of `make test` and prints one summary line.
#   clang-format check, unit tests (release and ASan+UBSan builds), integration tests (test/integration/*,
#   each bounded in time), then a short libFuzzer pass over each target's seed corpus (FUZZ_JOBS
#   targets at once: they are CPU-bound and independent; the integration tests run one at a time).
# Usage: test/run.sh [--unit-only] BUILD_DIR
set -u
unit_only=0
if [ "${1:-}" = "--unit-only" ]; then unit_only=1; shift; fi
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export RINGCAST_BUILD="$build" RINGCAST_BIN="$build/bin" RINGCAST_TOP="$top"
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-3}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-300}

logdir=$(mktemp -d /tmp/ringcast-test.XXXXXX)
results=$logdir/results # a line per test, "PASS name" or "FAIL name": also from background runs

run_one() { # name, timeout, command...
    local name=$1 limit=$2; shift 2
    local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
    local t0=$(date +%s%N)
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    local dt="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
    if [ $rc -eq 0 ]; then
        echo "PASS $name" >>"$results"; printf 'PASS  %-52s %6ss\n' "$name" "$dt"
    else
        echo "FAIL $name" >>"$results"
        # One write, so that runs in parallel do not interleave their reports.
        printf 'FAIL  %-52s %6ss (exit %d)\n%s\n' "$name" "$dt" "$rc" \
            "$(tail -n 40 "$log" | sed 's/^/      | /')"
    fi
}

echo "== style"
run_one "format/clang-format" 120 make -s check-format

echo "== unit tests"
for t in "$build"/test/test_*; do
    [ -x "$t" ] && run_one "unit/$(basename "$t")" 600 "$t"
done
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
for t in "$build"/asan/test/test_*; do
    [ -x "$t" ] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        run_one "asan/$(basename "$t")" 900 "$t"
done

if [ $unit_only -eq 0 ]; then
    echo "== integration tests"
    for t in test/integration/test_*; do
        [ -x "$t" ] || continue
        run_one "integration/$(basename "$t")" "$INTEGRATION_TIMEOUT" "$t"
    done
    echo "== fuzz targets, ${FUZZ_SMOKE_SECONDS}s each on the seed corpus, $FUZZ_JOBS at once"
    fuzz_one() { # target
        local f=$1 name work
        name=$(basename "$f"); corpus="test/fuzz/corpus/${name#fuzz_}"
        work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
        run_one "fuzz/$name" 120 "$f" -max_total_time="$FUZZ_SMOKE_SECONDS" -rss_limit_mb=2048 \
            -artifact_prefix="$logdir/$name-" "$work"
        rm -rf "$work"
    }
    for f in "$build"/fuzz-build/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
        fuzz_one "$f" &
    done
    wait
fi

pass=$(grep -c '^PASS ' "$results"); fail=$(grep -c '^FAIL ' "$results")
echo "== $pass passed, $fail failed (logs in $logdir)"
[ "$fail" -eq 0 ] || { sed -n 's/^FAIL /   failed: /p' "$results"; exit 1; }
